/* Reading the ordinary records of an uncompressed pcap file in place.
 *
 * libpcap's offline reader copies every packet twice (read() into a stdio
 * buffer, fread() into its own buffer); on big captures those copies cost
 * half of tcpflow's reading time. For a regular file this module maps the
 * file and hands out frames that point into the mapping.
 *
 * It only takes records whose meaning is beyond doubt (format 2.4, complete,
 * caplen within the snapshot length libpcap computed for the file, a
 * timestamp fraction below one second). At the first record that is not, or
 * at the end of the mapped size, it stops and capture.c hands the rest of the
 * file, from that record on, to libpcap, so damaged or unusual files get
 * libpcap's exact behaviour and messages, and a file that grows while it is
 * read is read to its new end. */
#ifndef TCPFLOW_PCAPMAP_H
#define TCPFLOW_PCAPMAP_H

#include <stdint.h>
#include "packet.h"

struct pcapmap;

/* Map fd (a regular file of size bytes whose 24-byte pcap header says
 * format 2.4 with the microsecond or nanosecond magic) for reading from the
 * first record on. snapshot is libpcap's pcap_snapshot() for the file; dlt
 * the link type every packet gets. NULL when the file cannot be mapped or is
 * not such a file: the caller reads it through libpcap. */
struct pcapmap *pcapmap_open(int fd, uint64_t size, uint32_t snapshot, int dlt);

/* The next record into p's capture fields; p->frame stays valid until the
 * next call. 1 = a packet, 0 = stop here: the rest of the file, from
 * pcapmap_offset() on, is for libpcap (a record this reader does not take,
 * or the end of the mapped size). */
int pcapmap_next(struct pcapmap *m, struct pkt *p);

/* File offset of the first record not handed out. */
uint64_t pcapmap_offset(const struct pcapmap *m);

void pcapmap_close(struct pcapmap *m);

#endif
