/* A progress line on stderr while a large capture file is read: bytes done,
 * rate, flows open, redrawn about once a second. Only when stderr is a
 * terminal and the file is larger than PROGRESS_MIN_SIZE; silent otherwise.
 * The line is erased when the file is done. */
#ifndef TCPFLOW_PROGRESS_H
#define TCPFLOW_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

#define PROGRESS_MIN_SIZE (100ull * 1000 * 1000)

struct progress;

/* NULL when no progress is to be shown (small file, not a terminal, -q).
 * label is borrowed for the life of the progress. */
struct progress *progress_new(FILE *out, const char *label, uint64_t total, int quiet);

/* Cheap to call often: looks at the clock every PROGRESS_EVERY calls. */
#define PROGRESS_EVERY 4096
void progress_update(struct progress *pg, uint64_t done, uint64_t flows_open);

/* Erase the line, free. NULL is fine. */
void progress_end(struct progress *pg);

#endif
