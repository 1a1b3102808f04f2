/* Side files beside each flow file:
 *
 *   -I  NAME.findx: one line "offset|sec.usec|len" per run of bytes written
 *       to the flow file (offset in the file, capture time of the packet that
 *       carried them), sorted by offset when the flow closes;
 *   -K  NAME.pcap: every packet of the flow direction (handshake and pure
 *       ACKs included), in a pcap file of the input's link type.
 *
 * Side files are store files (store_side_create): they share the descriptor
 * cap and the write buffers with the flow files, so -f and ulimit -n hold.
 * A flow direction that carried no payload gets its .pcap but no flow file.
 *
 * Lifetime: per-flow state hangs off tcp_flow.side and is freed by
 * sidefiles_flow_free, which must run for every flow (tcp flow_free). */
#ifndef TCPFLOW_SIDEFILES_H
#define TCPFLOW_SIDEFILES_H

#include <stdint.h>

#include "packet.h"
#include "store.h"
#include "tcp.h"

#define SIDEFILES_FINDX ".findx"
#define SIDEFILES_PCAP ".pcap"

struct sidefiles;

/* store is borrowed. findx: -I, pcap: -K. NULL on out of memory. */
struct sidefiles *sidefiles_new(struct store *store, int findx, int pcap);
void sidefiles_free(struct sidefiles *sf);

/* tcp_events hooks (see tcp.h). */
void sidefiles_packet(struct sidefiles *sf, struct tcp_flow *f, const struct pkt *p);
void sidefiles_stored(struct sidefiles *sf, struct tcp_flow *f, uint64_t off, uint32_t len,
		      int64_t sec, uint32_t usec);
void sidefiles_shift(struct sidefiles *sf, struct tcp_flow *f, uint64_t shift);

/* The flow closed (its file is closed, f->file.path still set): finish and
 * close its side files, sort the .findx, remove a flow file that was
 * created only to give the side files their name. The .pcap keeps taking
 * the connection's last packets (reopened and closed for each). */
void sidefiles_flow_close(struct sidefiles *sf, struct tcp_flow *f);

/* The flow goes away (tcp flow_free): free what was kept. */
void sidefiles_flow_free(struct sidefiles *sf, struct tcp_flow *f);

/* Packets of a flow whose link type differed from its first packet's (they
 * cannot go into the same pcap file). */
uint64_t sidefiles_skipped(const struct sidefiles *sf);

#endif
