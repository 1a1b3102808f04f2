/* Fuzz targets: the libFuzzer entry point every tests/fuzz/fuzz_*.c defines.
 *
 * Each target is built two ways (see Makefile.am):
 *   - with clang -fsanitize=fuzzer,... into tests/fuzz/NAME.fuzzer, which
 *     `make fuzz-smoke` runs for a fixed time on seeds from tests/data;
 *   - with tests/fuzz/replay.c (a plain main(), any compiler) into
 *     tests/fuzz/replay_NAME, which `make check` runs on tests/data and which
 *     replays any files or directories given on its command line.
 *
 * A target must be deterministic, free everything it allocates (LeakSanitizer
 * runs per input under libFuzzer), reset every piece of global state it
 * touches before each input, and abort() when an invariant it checks does
 * not hold, so the fuzzer records the input as a crash. */
#ifndef TCPFLOW_FUZZ_H
#define TCPFLOW_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* One input. Always returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
