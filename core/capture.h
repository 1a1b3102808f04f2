/* Packet inputs: capture files (pcap through libpcap, pcapng through a block
 * reader that keeps each interface's own link type), `-` for stdin, files
 * compressed with gzip (read through zlib, detected by content), and a BPF
 * filter compiled for each link type the input carries.
 *
 * Ownership: capture_open returns an input the caller frees with
 * capture_close. The packet bytes filled in by capture_next belong to the
 * input and stay valid until the next capture_next or capture_close. */
#ifndef TCPFLOW_CAPTURE_H
#define TCPFLOW_CAPTURE_H

#include <stddef.h>
#include "packet.h"

struct capture_input;

/* Open path ("-" = stdin) with an optional BPF expression (NULL or "" = none).
 * On failure returns NULL and writes a one-line reason (without the path) to
 * err, e.g. "not a pcap or pcapng file" or "bad filter: syntax error". */
struct capture_input *capture_open(const char *path, const char *filter,
				   char *err, size_t errlen);

/* Read the next packet that passes the filter into p's capture fields
 * (ts_sec, ts_usec, caplen, wirelen, frame, dlt).
 * Returns 1 for a packet, 0 at a clean end of input, -1 when the input is
 * damaged or unreadable from here on (err says why: "truncated record at
 * byte 1234"); the packets before it were delivered and stay valid data. */
int capture_next(struct capture_input *in, struct pkt *p, char *err, size_t errlen);

/* Link type of the first interface (pcap: the file's link type). */
int capture_first_dlt(const struct capture_input *in);

/* Packets rejected by the filter so far. */
unsigned long capture_filtered(const struct capture_input *in);

void capture_close(struct capture_input *in);

#endif
