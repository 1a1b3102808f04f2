/* Console output (-c -C -0 -s -B -D -J -g): the reassembled stream of every
 * flow printed on standard output instead of flow files, chunk by chunk as
 * the bytes become contiguous, so each flow reads in order.
 *
 * Formats, as tcpflow 1.6 prints them:
 *   text  "NAME: " (not with -C), the bytes with non-printables as '.'
 *         (-s; the default unless -B), a newline (not with -0);
 *   -D    "NAME: " and a newline, then hex lines of 32 bytes
 *         ("0000: 4745 5420 ...  GET ...", offsets within the chunk);
 *   -J    one JSON object per chunk: addresses in their text form (IPv4 or
 *         IPv6), ports, the stream offset and length, and the bytes as
 *         "payload" (a JSON string, when they are UTF-8 text) or
 *         "payload_base64";
 *   -g    direction 0 (the side that sent the first packet) in blue, the
 *         other in red (ANSI colours), text and hex only.
 *
 * Not thread-safe; the stream is written with stdio. */
#ifndef TCPFLOW_CONSOLE_H
#define TCPFLOW_CONSOLE_H

#include <stdint.h>
#include <stdio.h>

#include "tcp.h"

struct console_opts {
	int header;          /* -c: "NAME: " before each chunk (-C: none) */
	int no_newline;      /* -0 */
	int strip;           /* non-printables as '.' */
	int hex;             /* -D */
	int json;            /* -J */
	int color;           /* -g */
	int flush_each;      /* flush after every chunk (live capture, a terminal) */
	const char *lock;    /* -L: a POSIX named semaphore held while a chunk is
	                      * printed, so several tcpflows can share a terminal */
	uint64_t max_bytes;  /* -b: print at most this many bytes per flow, 0 = all */
};

struct console;

/* out is borrowed (normally stdout). NULL with a reason in err (out of
 * memory, the -L semaphore cannot be opened). */
struct console *console_new(const struct console_opts *o, FILE *out, char *err, size_t errlen);

/* Print len bytes of flow f (direction dir of its connection) at stream
 * offset off. label is the flow's name as 1.6 shows it (the path without a
 * leading "./"). */
void console_data(struct console *con, const struct tcp_flow *f, int dir, const char *label,
		  uint64_t off, const uint8_t *data, uint32_t len);

/* 0, or the errno of the first failed write (EPIPE: the reader went away). */
int console_error(const struct console *con);

/* Flush and free. Returns 0, or -1 when writing to out failed (errno). */
int console_free(struct console *con);

#endif
