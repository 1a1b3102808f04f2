/* A stub of tcpflow's host table (struct tf_host) for the scanner fuzz
 * targets (fuzz_http.c, fuzz_gzip.c): a scanner plugin's sources are built
 * into the target and driven exactly as tcpflow drives them, with this host
 * behind it. The stub keeps files in memory, and checks what the plugin
 * hands it the way core/scanner_host.c would, aborting when the plugin
 * breaks a rule of sdk/tcpflow/scanner.h:
 *   - report elements: valid names, attributes only right after their
 *     element's start, no end without a start;
 *   - files: writes only to open files, every file closed or emitted before
 *     the input ends (no leak), suffixes valid;
 *   - emitted objects: a valid type and metadata, runs and gaps inside the
 *     content, in order, not overlapping (ABI 1.2), and, for objects derived
 *     from a flow whose bytes the target registered, runs that hold exactly
 *     the flow's bytes and gaps that are zeros.
 * Emitted objects are dispatched to the on_object callback the target gives
 * (the emitter's own, as the host does), depth-limited like the host. */
#ifndef TCPFLOW_FUZZ_HOST_H
#define TCPFLOW_FUZZ_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "tcpflow/scanner.h"

/* name/value pairs returned by get_param, NULL-terminated; borrowed. */
void fzh_begin(const char *const *params, const struct tf_scanner *sc, void *state);

/* The table and the ctx to pass to the scanner. */
const struct tf_host *fzh_host(void);
struct tf_ctx *fzh_ctx(void);

/* Set the state passed to on_object, right after init returns (until then
 * the host takes files_later, afterwards files_sync). */
void fzh_set_state(void *state);

/* A report entry for a flow; its stream bytes (borrowed until fzh_end) let
 * emit_object check the runs of objects derived from it. */
struct tf_entry *fzh_flow_entry(const uint8_t *stream, size_t len);

/* The input is over: every file must be closed or emitted (else abort);
 * frees what the stub holds. Returns the number of objects emitted. */
size_t fzh_end(void);

/* Abort with a message (the fuzzer records the input). */
void fzh_die(const char *what, const char *detail);

#endif
