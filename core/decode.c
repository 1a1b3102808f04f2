/* One packet through the decoding stages: link -> ip -> defrag -> tcp header. */
#include "decode.h"

#include <stdlib.h>

#include "defrag.h"
#include "ip.h"
#include "link.h"
#include "stats.h"

/* Reassembled datagrams re-entering ip for one packet, at most (a datagram
 * can only complete another through nested fragmentation). */
#define DECODE_MAX_PASSES 8

struct decoder {
	struct decode_config cfg;
	struct link_config link;
	struct defrag *defrag;
};

void decode_config_default(struct decode_config *cfg)
{
	cfg->check_fcs = 1;
	cfg->frag_timeout = DEFRAG_DEFAULT_TIMEOUT;
	cfg->frag_max_bytes = DEFRAG_DEFAULT_MAX_BYTES;
	cfg->frag_max_datagrams = DEFRAG_DEFAULT_MAX_DATAGRAMS;
	cfg->max_tunnel_depth = DECODE_DEFAULT_TUNNEL_DEPTH;
}

struct decoder *decoder_new(const struct decode_config *cfg)
{
	struct decoder *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	if (cfg)
		d->cfg = *cfg;
	else
		decode_config_default(&d->cfg);
	d->link.check_fcs = d->cfg.check_fcs;
	struct defrag_config dc = {
		.timeout = d->cfg.frag_timeout,
		.max_bytes = d->cfg.frag_max_bytes,
		.max_datagrams = d->cfg.frag_max_datagrams,
	};
	d->defrag = defrag_new(&dc);
	if (!d->defrag) {
		free(d);
		return NULL;
	}
	return d;
}

static struct decoder *default_decoder;

void decode_default_free(void)
{
	decoder_free(default_decoder);
	default_decoder = NULL;
}

int decode_packet(struct pkt *p)
{
	if (!default_decoder)
		default_decoder = decoder_new(NULL);
	if (!default_decoder) {
		tf_stats.unsupported_encap++;   /* out of memory: nothing decoded */
		return DECODE_UNSUPPORTED;
	}
	return decoder_packet(default_decoder, p);
}

void decoder_free(struct decoder *d)
{
	if (!d)
		return;
	defrag_free(d->defrag);
	free(d);
}

/* Count a link decoder's refusal. */
static int link_failed(const struct pkt *p, int rc, int inner)
{
	switch (rc) {
	case DECODE_NOT_IP: tf_stats.not_ip++; break;
	case DECODE_MALFORMED: tf_stats.malformed_link++; break;
	default:
		if (inner || link_is_supported(p->dlt))
			tf_stats.unsupported_encap++;
		else
			tf_stats.unsupported_link++;
		break;
	}
	return rc;
}

int decoder_packet(struct decoder *d, struct pkt *p)
{
	defrag_release(d->defrag);     /* the previous packet is done with */
	p->has_mac = 0;
	p->has_vlan = 0;
	p->vlan = 0;
	p->ip_proto = 0;
	p->sport = p->dport = 0;
	p->payload = NULL;
	p->payload_len = 0;

	struct l3_view l3;
	int rc = link_decode_with(p, &d->link, &l3);
	if (rc != DECODE_OK)
		return link_failed(p, rc, 0);

	unsigned depth = 0, passes = 0;
	for (;;) {
		if (l3.ethertype != ETHERTYPE_IPV4 && l3.ethertype != ETHERTYPE_IPV6) {
			/* a tunnel's payload with a link header of its own */
			struct l3_view in = l3;
			rc = link_decode_inner(p, &d->link, &in, &l3);
			if (rc != DECODE_OK)
				return link_failed(p, rc, 1);
		}
		struct ip_next next;
		rc = ip_decode_next(p, &l3, &next);
		if (rc == DECODE_TUNNEL) {
			if (++depth > d->cfg.max_tunnel_depth) {
				tf_stats.tunnel_depth_exceeded++;
				tf_stats.unsupported_encap++;
				return DECODE_UNSUPPORTED;
			}
			l3 = next.inner;
			continue;
		}
		if (rc == DECODE_FRAGMENT) {
			/* fragments of one datagram meet only on the same VLAN */
			next.frag.zone = p->has_vlan ? 0x10000u | p->vlan : 0;
			if (++passes > DECODE_MAX_PASSES) {
				tf_stats.frag_invalid++;
				return DECODE_FRAGMENT;
			}
			if (defrag_add(d->defrag, &next.frag, p->ts_sec, &l3) != 1)
				return DECODE_FRAGMENT;
			continue;   /* the whole datagram, from its IP header on */
		}
		if (rc == DECODE_OK)
			tf_stats.tcp_segments++;
		return rc;
	}
}
