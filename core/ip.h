/* Network layer: IPv4 and IPv6 (RFC 791, RFC 8200) and the TCP header
 * (RFC 9293) on top of them.
 *
 * ip_decode reads the bytes in *l3, fills p's addresses and, for TCP, the
 * segment fields (ports, seq, ack, flags, payload). The IP payload length
 * comes from the IP header clamped to the captured bytes, so link padding
 * never enters a stream; an IPv4 total length of 0 (segmentation offload)
 * means "what was captured". Returns DECODE_OK for a TCP segment or a
 * negative enum decode_result (DECODE_TUNNEL for an encapsulated packet,
 * DECODE_FRAGMENT for a fragment: see ip_decode_next to get at them). */
#ifndef TCPFLOW_IP_H
#define TCPFLOW_IP_H

#include "packet.h"

int ip_decode(struct pkt *p, const struct l3_view *l3);

/* One IP fragment (RFC 791 section 3.2, RFC 8200 section 4.5), as
 * ip_decode_next hands it on for reassembly (defrag.h). Pointers borrow the
 * packet's bytes. */
struct ip_fragment {
	uint8_t family;          /* 4 or 6 */
	uint8_t proto;           /* IPv4 protocol; IPv6 next header after the Fragment header */
	uint32_t id;             /* IPv4 Identification (16 bits), IPv6 Identification */
	uint32_t zone;           /* set by the caller: keeps equal keys apart (VLAN) */
	struct tf_addr src;
	struct tf_addr dst;
	uint32_t offset;         /* of data in the datagram's payload, in bytes */
	int more;                /* More Fragments */
	const uint8_t *hdr;      /* IPv4 header; IPv6 header and the extension */
	uint32_t hdr_len;        /* headers before the Fragment header */
	const uint8_t *data;     /* this fragment's part of the payload */
	uint32_t len;
};

/* What ip_decode_next found beyond one IP header. */
struct ip_next {
	struct l3_view inner;    /* DECODE_TUNNEL: the encapsulated packet (IP, or a
				  * frame for link_decode_inner: ETHERTYPE_TEB,
				  * ETHERTYPE_MPLS, ETHERTYPE_PPP) */
	struct ip_fragment frag; /* DECODE_FRAGMENT */
};

/* Decode one IP header (and its extension headers) in *l3. As ip_decode,
 * except that a tunnel (IP-in-IP, 6in4, 4in6, IPv6-in-IPv6, GRE, VXLAN,
 * Geneve) returns DECODE_TUNNEL with the inner packet in next->inner, and a
 * fragment returns DECODE_FRAGMENT described in next->frag. p's addresses
 * are those of this header (an inner header overwrites them). Counts its
 * outcomes (malformed_ip, not_tcp, ip_fragments, tunnel_*) in tf_stats. */
int ip_decode_next(struct pkt *p, const struct l3_view *l3, struct ip_next *next);

/* Parse a TCP header at data/len into p (ports, seq, ack, flags, payload). */
int tcp_parse_header(struct pkt *p, const uint8_t *data, uint32_t len);

/* Text form of an address: IPv4 dotted (zero-padded to 3 digits per octet
 * when pad is set), IPv6 per RFC 5952. buf must hold 46 bytes. */
void ip_addr_text(const struct tf_addr *a, int pad, char *buf, size_t len);

#endif
