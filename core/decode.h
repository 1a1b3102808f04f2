/* One packet through the decoders: link -> ip (tunnels back through link
 * and ip, nesting capped) -> defrag (a completed datagram back through ip)
 * -> the TCP header. Counts every outcome in tf_stats.
 *
 * A decoder holds what lives longer than one packet: the settings and the
 * fragments waiting for reassembly. What decode_packet leaves in p (payload
 * pointers into a reassembled datagram included) stays valid until the next
 * decode_packet or decoder_free. */
#ifndef TCPFLOW_DECODE_H
#define TCPFLOW_DECODE_H

#include <stdint.h>

#include "packet.h"

struct decode_config {
	int check_fcs;                /* see struct link_config */
	int64_t frag_timeout;         /* see struct defrag_config */
	uint64_t frag_max_bytes;
	uint64_t frag_max_datagrams;
	unsigned max_tunnel_depth;    /* tunnels inside tunnels, at most; default 8 */
};

#define DECODE_DEFAULT_TUNNEL_DEPTH 8

/* The defaults (check_fcs on, the DEFRAG_DEFAULT_* limits). */
void decode_config_default(struct decode_config *cfg);

struct decoder;

/* NULL on out of memory. cfg is copied; NULL means the defaults. */
struct decoder *decoder_new(const struct decode_config *cfg);

/* Datagrams still incomplete are counted (frag_incomplete). NULL is fine. */
void decoder_free(struct decoder *d);

/* Decode p (frame, caplen, wirelen, dlt and ts_sec set by capture).
 * Returns DECODE_OK when p holds a TCP segment, else why not: DECODE_FRAGMENT
 * for a fragment held for reassembly, DECODE_NOT_IP, DECODE_NOT_TCP,
 * DECODE_MALFORMED or DECODE_UNSUPPORTED (never DECODE_TUNNEL). */
int decoder_packet(struct decoder *d, struct pkt *p);

/* decoder_packet with one process-wide decoder of default settings, made on
 * first use; decode_default_free frees it (counting what is incomplete). */
int decode_packet(struct pkt *p);
void decode_default_free(void);

#endif
