/* Packet inputs: a live interface (libpcap, pollable so a signal ends the
 * capture promptly), capture files (pcap through libpcap, pcapng through a block
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
#include <stdint.h>
#include "packet.h"

struct capture_input;

/* Open path ("-" = stdin) with an optional BPF expression (NULL or "" = none).
 * On failure returns NULL and writes a one-line reason (without the path) to
 * err, e.g. "not a pcap or pcapng file" or "bad filter: syntax error". */
struct capture_input *capture_open(const char *path, const char *filter,
				   char *err, size_t errlen);

/* Live capture settings. */
struct capture_live_opts {
	int promisc;          /* 1 = promiscuous mode (-p turns it off) */
	int snaplen;          /* bytes kept per packet, 0 = 262144 */
	int buffer_timeout;   /* ms libpcap may hold packets (packet-buffer-timeout);
	                       * 0 = immediate mode */
	int poll_ms;          /* longest wait in capture_next before it returns 2 */
};

/* Open an interface for live capture (device NULL = the first one libpcap
 * lists, as tcpdump does) with an optional BPF expression, compiled for the
 * interface's link type and run in the kernel. NULL + reason on failure
 * ("eth9: No such device exists", "bad filter ..."). */
struct capture_input *capture_open_live(const char *device, const struct capture_live_opts *o,
					const char *filter, char *err, size_t errlen);

/* Read the next packet that passes the filter into p's capture fields
 * (ts_sec, ts_usec, caplen, wirelen, frame, dlt).
 * Returns 1 for a packet, 0 at a clean end of input, -1 when the input is
 * damaged or unreadable from here on (err says why: "truncated record at
 * byte 1234"); the packets before it were delivered and stay valid data.
 * A live input also returns 2 when no packet came within poll_ms or a signal
 * interrupted the wait: the caller checks its flags and calls again. */
int capture_next(struct capture_input *in, struct pkt *p, char *err, size_t errlen);

/* 1 while the records of a pcap file are read in place (pcapmap.h), 0
 * once libpcap reads them (or for any other input). */
int capture_in_place(const struct capture_input *in);

/* Link type of the first interface (pcap: the file's link type). */
int capture_first_dlt(const struct capture_input *in);

/* Packets rejected by the filter so far. */
unsigned long capture_filtered(const struct capture_input *in);

/* The device of a live input ("eth0"), or NULL for a file. */
const char *capture_device(const struct capture_input *in);

/* Live input: packets the kernel or the interface dropped (pcap_stats). */
unsigned long capture_dropped(const struct capture_input *in);

/* Bytes read from the file so far (compressed bytes for .gz), and its size
 * (0 when not a regular file): for a progress line. */
uint64_t capture_position(const struct capture_input *in);
uint64_t capture_size(const struct capture_input *in);

/* ---- writing pcap files (-w, -K) ---------------------------------------- */

#define CAPTURE_PCAP_HEADER_LEN 24
#define CAPTURE_PCAP_RECORD_LEN 16
#define CAPTURE_WRITE_SNAPLEN 262144

/* The LINKTYPE_ number a pcap file gives for a libpcap DLT_ value (they
 * differ for a few, e.g. DLT_RAW is 12 on Linux but LINKTYPE_RAW is 101). */
int capture_dlt_to_linktype(int dlt);

/* A pcap file header (microsecond magic, host byte order, as libpcap
 * writes) and a record header. */
void capture_pcap_header(uint8_t out[CAPTURE_PCAP_HEADER_LEN], int dlt, uint32_t snaplen);
void capture_pcap_record(uint8_t out[CAPTURE_PCAP_RECORD_LEN], int64_t sec, uint32_t usec,
			 uint32_t caplen, uint32_t wirelen);

/* A pcap file of one link type ("-" = standard output). */
struct capture_writer;
struct capture_writer *capture_writer_open(const char *path, int dlt, char *err, size_t errlen);
/* Append p's frame with its capture time. 0, 1 when its link type is not the
 * file's (not written), -1 on a write error (errno). */
int capture_writer_write(struct capture_writer *w, const struct pkt *p);
int capture_writer_dlt(const struct capture_writer *w);
/* Flush and close; 0 or -1 (errno) when something could not be written. */
int capture_writer_close(struct capture_writer *w);

void capture_close(struct capture_input *in);

#endif
