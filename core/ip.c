/* Network layer: IPv4 (RFC 791), IPv6 (RFC 8200) with its extension headers,
 * and the TCP header (RFC 9293 section 3.1). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "ip.h"
#include "stats.h"

#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17

/* IANA protocol numbers of the encapsulations decoded here. */
#define IPPROTO_NUM_IPIP 4     /* IPv4 in IP (RFC 2003, RFC 2473 for 4in6) */
#define IPPROTO_NUM_IPV6 41    /* IPv6 in IP (RFC 4213 6in4, RFC 2473 6in6) */
#define IPPROTO_NUM_GRE 47

/* UDP ports of UDP tunnels (IANA service names registry). */
#define UDP_PORT_VXLAN 4789    /* RFC 7348 */
#define UDP_PORT_VXLAN_GPE 4790 /* draft-ietf-nvo3-vxlan-gpe */
#define UDP_PORT_GENEVE 6081   /* RFC 8926 */

/* GRE protocol types (ethertypes) that carry a mirrored Ethernet frame. */
#define GRE_ERSPAN_II 0x88BE   /* ERSPAN type I (no S bit) and II */
#define GRE_ERSPAN_III 0x22EB

/* One byte in decimal at o (three digits with pad); returns the end. */
static char *dec_byte(char *o, unsigned v, int pad)
{
	if (pad || v >= 100)
		*o++ = (char)('0' + v / 100);
	if (pad || v >= 10)
		*o++ = (char)('0' + v / 10 % 10);
	*o++ = (char)('0' + v % 10);
	return o;
}

void ip_addr_text(const struct tf_addr *a, int pad, char *buf, size_t len)
{
	if (a->family == 4) {
		/* by hand: this runs for every flow file name and report entry */
		char tmp[16], *o = tmp;
		for (int i = 0; i < 4; i++) {
			if (i)
				*o++ = '.';
			o = dec_byte(o, a->bytes[i], pad);
		}
		*o = '\0';
		size_t n = (size_t)(o - tmp);
		if (!len)
			return;
		if (n >= len)
			n = len - 1;            /* truncated, always terminated */
		memcpy(buf, tmp, n);
		buf[n] = '\0';
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

static void set_inner(struct ip_next *next, uint16_t ethertype, const struct cursor *c)
{
	next->inner.ethertype = ethertype;
	next->inner.data = c->p;
	next->inner.len = (uint32_t)c->left;
}

/* A GRE header (RFC 2784 section 2, with RFC 2890 key and sequence number,
 * RFC 1701 routing) or PPTP's enhanced GRE (RFC 2637 section 4.1), then the
 * payload its Protocol Type names. ERSPAN (draft-foschiano-erspan-03): type
 * I is the frame right after GRE, type II (S bit set) has an 8-byte header
 * of version 1, type III a 12-byte header of version 2 with an optional
 * 8-byte platform subheader (O bit). */
static int gre_decode(struct pkt *p, const uint8_t *data, uint32_t len, struct ip_next *next)
{
	(void)p;
	struct cursor c = cur_make(data, len);
	uint16_t flags = cur_be16(&c);
	uint16_t ptype = cur_be16(&c);
	if (c.bad)
		goto malformed;
	switch (flags & 0x7) {
	case 0:
		if (flags & 0xC000)        /* C or R: checksum and offset */
			cur_skip(&c, 4);
		if (flags & 0x2000)        /* K: key */
			cur_skip(&c, 4);
		if (flags & 0x1000)        /* S: sequence number */
			cur_skip(&c, 4);
		if (flags & 0x4000) {      /* R: source route entries, up to a NULL one */
			for (;;) {
				uint16_t af = cur_be16(&c);
				cur_skip(&c, 1);
				uint8_t sre_len = cur_u8(&c);
				if (c.bad || (af == 0 && sre_len == 0))
					break;
				cur_skip(&c, sre_len);
			}
		}
		break;
	case 1:
		/* K is mandatory (payload length and call ID), then S, then A
		 * (acknowledgment number, bit 0x0080). */
		if (!(flags & 0x2000))
			goto malformed;
		cur_skip(&c, 4);
		if (flags & 0x1000)
			cur_skip(&c, 4);
		if (flags & 0x0080)
			cur_skip(&c, 4);
		break;
	default:
		tf_stats.unsupported_encap++;
		return DECODE_UNSUPPORTED;
	}
	if (c.bad)
		goto malformed;
	switch (ptype) {
	case ETHERTYPE_IPV4:
	case ETHERTYPE_IPV6:
	case ETHERTYPE_TEB:
	case ETHERTYPE_MPLS:
	case 0x8848:                       /* MPLS multicast */
	case ETHERTYPE_PPP:
		break;
	case GRE_ERSPAN_II:
		if (flags & 0x1000) {
			int v = cur_peek(&c, 0);
			if (v < 0 || !cur_skip(&c, 8))
				goto malformed;
			if ((v >> 4) != 1) {
				tf_stats.unsupported_encap++;
				return DECODE_UNSUPPORTED;
			}
		}
		ptype = ETHERTYPE_TEB;
		break;
	case GRE_ERSPAN_III: {
		int v = cur_peek(&c, 0);
		int o = cur_peek(&c, 11);
		if (v < 0 || o < 0 || !cur_skip(&c, 12))
			goto malformed;
		if ((v >> 4) != 2) {
			tf_stats.unsupported_encap++;
			return DECODE_UNSUPPORTED;
		}
		if ((o & 0x01) && !cur_skip(&c, 8))
			goto malformed;
		ptype = ETHERTYPE_TEB;
		break;
	}
	default:
		/* keepalives, WCCP, NSH, ...: nothing this tool follows */
		tf_stats.not_tcp++;
		return DECODE_NOT_TCP;
	}
	tf_stats.tunnel_gre++;
	set_inner(next, ptype, &c);
	return DECODE_TUNNEL;
malformed:
	tf_stats.malformed_ip++;
	return DECODE_MALFORMED;
}

/* UDP (RFC 768): the tunnels among UDP, by destination port; everything
 * else is simply not TCP. */
static int udp_decode(struct pkt *p, const uint8_t *data, uint32_t len, struct ip_next *next)
{
	struct cursor c = cur_make(data, len);
	p->sport = cur_be16(&c);
	p->dport = cur_be16(&c);
	uint16_t ulen = cur_be16(&c);
	cur_skip(&c, 2);
	if (c.bad) {
		tf_stats.malformed_ip++;
		return DECODE_MALFORMED;
	}
	/* the UDP length bounds the payload (0: jumbogram, RFC 2675 section 4) */
	if (ulen >= 8 && (size_t)ulen - 8 < c.left)
		c.left = (size_t)ulen - 8;
	uint16_t type;
	switch (p->dport) {
	case UDP_PORT_VXLAN: {
		/* RFC 7348 section 5: flags(8) with I (0x08) set, reserved(24),
		 * VNI(24), reserved(8), then an Ethernet frame. */
		uint8_t flags = cur_u8(&c);
		if (!cur_skip(&c, 7))
			goto malformed;
		if (!(flags & 0x08))
			goto not_tunnel;
		type = ETHERTYPE_TEB;
		break;
	}
	case UDP_PORT_VXLAN_GPE: {
		/* flags(8) with P (0x04): next protocol present, reserved(16),
		 * next protocol(8): 1 IPv4, 2 IPv6, 3 Ethernet, 5 MPLS; VNI, reserved */
		uint8_t flags = cur_u8(&c);
		cur_skip(&c, 2);
		uint8_t np = cur_u8(&c);
		if (!cur_skip(&c, 4))
			goto malformed;
		if (!(flags & 0x04))
			type = ETHERTYPE_TEB;
		else if (np == 1)
			type = ETHERTYPE_IPV4;
		else if (np == 2)
			type = ETHERTYPE_IPV6;
		else if (np == 3)
			type = ETHERTYPE_TEB;
		else if (np == 5)
			type = ETHERTYPE_MPLS;
		else
			goto not_tunnel;
		break;
	}
	case UDP_PORT_GENEVE: {
		/* RFC 8926 section 3.4: Ver(2) Opt Len(6, 4-byte words) O C
		 * Rsvd(6) Protocol Type(16) VNI(24) Reserved(8), options */
		uint8_t vo = cur_u8(&c);
		cur_skip(&c, 1);
		type = cur_be16(&c);
		if (!cur_skip(&c, 4) || !cur_skip(&c, (size_t)(vo & 0x3F) * 4))
			goto malformed;
		if ((vo >> 6) != 0)
			goto not_tunnel;
		if (type != ETHERTYPE_TEB && type != ETHERTYPE_IPV4 && type != ETHERTYPE_IPV6)
			goto not_tunnel;
		break;
	}
	default:
		goto not_tunnel;
	}
	tf_stats.tunnel_vxlan++;
	set_inner(next, type, &c);
	return DECODE_TUNNEL;
malformed:
	tf_stats.malformed_ip++;
	return DECODE_MALFORMED;
not_tunnel:
	tf_stats.not_tcp++;
	return DECODE_NOT_TCP;
}

/* Hand the transport payload of an IP header on: TCP is parsed, tunnels
 * hand their inner packet back, the rest is counted. */
static int ip_transport(struct pkt *p, uint8_t proto, const uint8_t *data, uint32_t len,
			struct ip_next *next)
{
	p->ip_proto = proto;
	struct cursor c = cur_make(data, len);
	switch (proto) {
	case IPPROTO_NUM_TCP:
		return tcp_parse_header(p, data, len);
	case IPPROTO_NUM_IPIP:
		tf_stats.tunnel_ip_in_ip++;
		set_inner(next, ETHERTYPE_IPV4, &c);
		return DECODE_TUNNEL;
	case IPPROTO_NUM_IPV6:
		tf_stats.tunnel_ip_in_ip++;
		set_inner(next, ETHERTYPE_IPV6, &c);
		return DECODE_TUNNEL;
	case IPPROTO_NUM_GRE:
		return gre_decode(p, data, len, next);
	case IPPROTO_NUM_UDP:
		return udp_decode(p, data, len, next);
	default:
		tf_stats.not_tcp++;
		return DECODE_NOT_TCP;
	}
}

/* RFC 791 section 3.1. */
static int ipv4_decode(struct pkt *p, const uint8_t *data, uint32_t caplen, struct ip_next *next)
{
	struct cursor c = cur_make(data, caplen);
	uint8_t vihl = cur_u8(&c);
	cur_skip(&c, 1);                       /* type of service */
	uint32_t total = cur_be16(&c);
	uint16_t id = cur_be16(&c);
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
		p->ip_proto = proto;
		struct ip_fragment *f = &next->frag;
		memset(f, 0, sizeof *f);
		f->family = 4;
		f->proto = proto;
		f->id = id;
		f->src = p->src;
		f->dst = p->dst;
		f->offset = (uint32_t)(frag & 0x1fff) * 8;
		f->more = (frag & 0x2000) != 0;
		f->hdr = data;
		f->hdr_len = hlen;
		f->data = data + hlen;
		f->len = total - hlen;
		return DECODE_FRAGMENT;
	}
	return ip_transport(p, proto, data + hlen, total - hlen, next);
}

/* RFC 8200 sections 3 and 4: walk the extension header chain. */
static int ipv6_decode(struct pkt *p, const uint8_t *data, uint32_t caplen, struct ip_next *next)
{
	struct cursor c = cur_make(data, caplen);
	uint8_t v = cur_u8(&c);
	cur_skip(&c, 3);                       /* traffic class, flow label */
	uint32_t plen = cur_be16(&c);
	uint8_t nh = cur_u8(&c);
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
		switch (nh) {
		case 0:    /* hop-by-hop options (4.3) */
		case 43:   /* routing (4.4) */
		case 60:   /* destination options (4.6) */
		case 135:  /* mobility (RFC 6275 section 6.1) */
		case 139:  /* HIP (RFC 7401 section 5.1) */
		case 140: { /* shim6 (RFC 5533 section 5.1): all in the RFC 6564 format */
			struct cursor h = e;
			uint8_t n2 = cur_u8(&h);
			uint32_t elen = ((uint32_t)cur_u8(&h) + 1) * 8;
			if (h.bad || !cur_skip(&e, elen)) {
				tf_stats.malformed_ip++;
				return DECODE_MALFORMED;
			}
			nh = n2;
			break;
		}
		case 44: { /* fragment (4.5) */
			const uint8_t *fh = e.p;
			uint8_t n2 = cur_u8(&e);
			cur_skip(&e, 1);
			uint16_t fo = cur_be16(&e);
			uint32_t id = cur_be32(&e);
			if (e.bad) {
				tf_stats.malformed_ip++;
				return DECODE_MALFORMED;
			}
			if ((fo & 0xfff9) != 0) {  /* offset or M flag: a real fragment */
				tf_stats.ip_fragments++;
				p->ip_proto = n2;
				struct ip_fragment *f = &next->frag;
				memset(f, 0, sizeof *f);
				f->family = 6;
				f->proto = n2;
				f->id = id;
				f->src = p->src;
				f->dst = p->dst;
				f->offset = (uint32_t)(fo & 0xfff8);
				f->more = fo & 1;
				f->hdr = data;
				f->hdr_len = (uint32_t)(fh - data);
				f->data = e.p;
				f->len = (uint32_t)e.left;
				return DECODE_FRAGMENT;
			}
			nh = n2;                   /* atomic fragment (RFC 6946) */
			break;
		}
		case 51: { /* authentication header (RFC 4302): length in 4-octet units minus 2 */
			struct cursor h = e;
			uint8_t n2 = cur_u8(&h);
			uint32_t alen = ((uint32_t)cur_u8(&h) + 2) * 4;
			if (h.bad || !cur_skip(&e, alen)) {
				tf_stats.malformed_ip++;
				return DECODE_MALFORMED;
			}
			nh = n2;
			break;
		}
		case 59:   /* no next header */
			tf_stats.not_tcp++;
			return DECODE_NOT_TCP;
		case IPPROTO_NUM_TCP:
		case IPPROTO_NUM_IPIP: case IPPROTO_NUM_IPV6: case IPPROTO_NUM_GRE:
		case IPPROTO_NUM_UDP: case 58: case 50: case 132: case 1: case 2: case 136:
			return ip_transport(p, nh, e.p, (uint32_t)e.left, next);
		default:
			tf_stats.ipv6_unknown_ext++;
			return ip_transport(p, nh, e.p, (uint32_t)e.left, next);
		}
	}
	tf_stats.malformed_ip++;
	return DECODE_MALFORMED;
}

int ip_decode_next(struct pkt *p, const struct l3_view *l3, struct ip_next *next)
{
	switch (l3->ethertype) {
	case ETHERTYPE_IPV4:
		return ipv4_decode(p, l3->data, l3->len, next);
	case ETHERTYPE_IPV6:
		return ipv6_decode(p, l3->data, l3->len, next);
	default:
		tf_stats.not_ip++;
		return DECODE_NOT_IP;
	}
}

int ip_decode(struct pkt *p, const struct l3_view *l3)
{
	struct ip_next next;
	return ip_decode_next(p, l3, &next);
}
