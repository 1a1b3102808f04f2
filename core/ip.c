/* Network layer: IPv4 (RFC 791), IPv6 (RFC 8200) with its extension headers,
 * and the TCP header (RFC 9293 section 3.1). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "ip.h"
#include "stats.h"

#define IPPROTO_NUM_TCP 6

void ip_addr_text(const struct tf_addr *a, int pad, char *buf, size_t len)
{
	if (a->family == 4) {
		if (pad)
			snprintf(buf, len, "%03u.%03u.%03u.%03u", a->bytes[0], a->bytes[1],
				 a->bytes[2], a->bytes[3]);
		else
			snprintf(buf, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1],
				 a->bytes[2], a->bytes[3]);
	} else if (a->family == 6) {
		if (!inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len))
			snprintf(buf, len, "?");
	} else {
		snprintf(buf, len, "?");
	}
}

int tcp_parse_header(struct pkt *p, const uint8_t *data, uint32_t len)
{
	struct cursor c = cur_make(data, len);
	p->sport = cur_be16(&c);
	p->dport = cur_be16(&c);
	p->seq = cur_be32(&c);
	p->ack = cur_be32(&c);
	uint8_t off_byte = cur_u8(&c);
	p->tcp_flags = cur_u8(&c);
	if (c.bad) {
		tf_stats.malformed_tcp++;
		return DECODE_MALFORMED;
	}
	uint32_t hlen = (uint32_t)(off_byte >> 4) * 4;
	if (hlen < 20 || hlen > len) {
		tf_stats.malformed_tcp++;
		return DECODE_MALFORMED;
	}
	p->payload = data + hlen;
	p->payload_len = len - hlen;
	return DECODE_OK;
}

/* Hand the transport payload of the innermost IP header on. */
static int ip_transport(struct pkt *p, uint8_t proto, const uint8_t *data, uint32_t len)
{
	p->ip_proto = proto;
	switch (proto) {
	case IPPROTO_NUM_TCP:
		return tcp_parse_header(p, data, len);
	case 4:   /* IP-in-IP (RFC 2003) */
	case 41:  /* IPv6 in IP (RFC 4213) */
	case 47:  /* GRE (RFC 2784) */
		/* Tunnels are decapsulated by a later stage; counted until then. */
		tf_stats.unsupported_encap++;
		return DECODE_UNSUPPORTED;
	default:
		tf_stats.not_tcp++;
		return DECODE_NOT_TCP;
	}
}

/* RFC 791 section 3.1. */
static int ipv4_decode(struct pkt *p, const uint8_t *data, uint32_t caplen)
{
	struct cursor c = cur_make(data, caplen);
	uint8_t vihl = cur_u8(&c);
	cur_skip(&c, 1);                       /* type of service */
	uint32_t total = cur_be16(&c);
	cur_skip(&c, 2);                       /* identification */
	uint16_t frag = cur_be16(&c);
	cur_skip(&c, 1);                       /* ttl */
	uint8_t proto = cur_u8(&c);
	cur_skip(&c, 2);                       /* header checksum */
	p->src.family = p->dst.family = 4;
	cur_copy(&c, p->src.bytes, 4);
	cur_copy(&c, p->dst.bytes, 4);
	uint32_t hlen = (uint32_t)(vihl & 0x0f) * 4;
	if (c.bad || (vihl >> 4) != 4 || hlen < 20 || hlen > caplen) {
		tf_stats.malformed_ip++;
		return DECODE_MALFORMED;
	}
	/* Total length 0 comes from segmentation offload: use what was captured.
	 * Otherwise the header decides, clamped to the captured bytes so link
	 * padding never becomes stream data. */
	if (total == 0 || total > caplen)
		total = caplen;
	if (total < hlen) {
		tf_stats.malformed_ip++;
		return DECODE_MALFORMED;
	}
	if ((frag & 0x3fff) != 0) {            /* MF set or offset non-zero */
		tf_stats.ip_fragments++;
		return DECODE_FRAGMENT;
	}
	return ip_transport(p, proto, data + hlen, total - hlen);
}

/* RFC 8200 sections 3 and 4: walk the extension header chain. */
static int ipv6_decode(struct pkt *p, const uint8_t *data, uint32_t caplen)
{
	struct cursor c = cur_make(data, caplen);
	uint8_t v = cur_u8(&c);
	cur_skip(&c, 3);                       /* traffic class, flow label */
	uint32_t plen = cur_be16(&c);
	uint8_t next = cur_u8(&c);
	cur_skip(&c, 1);                       /* hop limit */
	p->src.family = p->dst.family = 6;
	cur_copy(&c, p->src.bytes, 16);
	cur_copy(&c, p->dst.bytes, 16);
	if (c.bad || (v >> 4) != 6) {
		tf_stats.malformed_ip++;
		return DECODE_MALFORMED;
	}
	/* Payload length 0 is a jumbogram (RFC 2675) or offload: use the captured
	 * bytes; a length past the capture is clamped to it. */
	uint32_t avail = caplen - 40;
	if (plen == 0 || plen > avail)
		plen = avail;
	struct cursor e = cur_make(data + 40, plen);
	for (int depth = 0; depth < 16; depth++) {
		switch (next) {
		case 0:    /* hop-by-hop options */
		case 43:   /* routing */
		case 60: { /* destination options */
			struct cursor h = e;
			uint8_t nh = cur_u8(&h);
			uint32_t elen = ((uint32_t)cur_u8(&h) + 1) * 8;
			if (h.bad || !cur_skip(&e, elen)) {
				tf_stats.malformed_ip++;
				return DECODE_MALFORMED;
			}
			next = nh;
			break;
		}
		case 44: { /* fragment (RFC 8200 section 4.5) */
			uint8_t nh = cur_u8(&e);
			cur_skip(&e, 1);
			uint16_t fo = cur_be16(&e);
			cur_skip(&e, 4);
			if (e.bad) {
				tf_stats.malformed_ip++;
				return DECODE_MALFORMED;
			}
			if ((fo & 0xfff9) != 0) {  /* offset or M flag: a real fragment */
				tf_stats.ip_fragments++;
				return DECODE_FRAGMENT;
			}
			next = nh;                 /* atomic fragment (RFC 6946) */
			break;
		}
		case 51: { /* authentication header (RFC 4302): length in 4-octet units minus 2 */
			struct cursor h = e;
			uint8_t nh = cur_u8(&h);
			uint32_t alen = ((uint32_t)cur_u8(&h) + 2) * 4;
			if (h.bad || !cur_skip(&e, alen)) {
				tf_stats.malformed_ip++;
				return DECODE_MALFORMED;
			}
			next = nh;
			break;
		}
		case 59:   /* no next header */
			tf_stats.not_tcp++;
			return DECODE_NOT_TCP;
		case IPPROTO_NUM_TCP:
		case 4: case 41: case 47:
		case 17: case 58: case 50: case 132: case 1: case 2:
			return ip_transport(p, next, e.p, (uint32_t)e.left);
		default:
			tf_stats.ipv6_unknown_ext++;
			return ip_transport(p, next, e.p, (uint32_t)e.left);
		}
	}
	tf_stats.malformed_ip++;
	return DECODE_MALFORMED;
}

int ip_decode(struct pkt *p, const struct l3_view *l3)
{
	switch (l3->ethertype) {
	case ETHERTYPE_IPV4:
		return ipv4_decode(p, l3->data, l3->len);
	case ETHERTYPE_IPV6:
		return ipv6_decode(p, l3->data, l3->len);
	default:
		tf_stats.not_ip++;
		return DECODE_NOT_IP;
	}
}
