/* The decoded view of one packet, filled stage by stage.
 *
 * capture fills the frame fields; link fills the link-layer fields and hands
 * back a network-layer view (struct l3_view); ip fills addresses and the TCP
 * segment. Every pointer borrows from the capture buffer (or, for a datagram
 * rebuilt from IP fragments, from the reassembly buffer) and is valid only
 * until the next packet is read. */
#ifndef TCPFLOW_PACKET_H
#define TCPFLOW_PACKET_H

#include <stdint.h>
#include <stddef.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
/* Encapsulated payloads a tunnel hands back (struct l3_view.ethertype):
 * a whole Ethernet frame (RFC 1701 "transparent Ethernet bridging"), an
 * MPLS label stack (RFC 3032) or a PPP frame (RFC 2637, PPTP's GRE). */
#define ETHERTYPE_TEB 0x6558
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_PPP 0x880B

struct tf_addr {
	uint8_t family;      /* 4 or 6 (IP version), 0 = unset */
	uint8_t bytes[16];   /* IPv4 uses the first 4 */
};

/* TCP flag bits as on the wire. */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PUSH 0x08
#define TH_ACK 0x10

struct pkt {
	/* capture */
	int64_t ts_sec;
	uint32_t ts_usec;
	uint32_t caplen;
	uint32_t wirelen;
	const uint8_t *frame;
	int dlt;                 /* link type of this packet (per interface in pcapng) */
	uint32_t input_index;    /* which -r input it came from */

	/* link */
	uint8_t has_mac;
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint8_t has_vlan;
	uint16_t vlan;           /* innermost VLAN id, 12 bits */

	/* ip */
	struct tf_addr src;
	struct tf_addr dst;
	uint8_t ip_proto;        /* transport protocol of the innermost IP header */

	/* tcp segment */
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;
	uint32_t ack;
	uint8_t tcp_flags;
	const uint8_t *payload;
	uint32_t payload_len;
};

/* What a link decoder hands to the network layer. */
struct l3_view {
	uint16_t ethertype;      /* ETHERTYPE_IPV4 / ETHERTYPE_IPV6 / other */
	const uint8_t *data;
	uint32_t len;
};

/* Decoder outcomes: 0 is a TCP segment ready for reassembly, negatives say why not. */
enum decode_result {
	DECODE_OK = 0,
	DECODE_NOT_IP = -1,          /* ARP, LLDP, ... : counted, not an error */
	DECODE_NOT_TCP = -2,         /* UDP, ICMP, ... */
	DECODE_MALFORMED = -3,       /* a header that lies or is cut short */
	DECODE_UNSUPPORTED = -4,     /* a link type or encapsulation not handled */
	DECODE_FRAGMENT = -5,        /* an IP fragment (held for reassembly) */
	DECODE_TUNNEL = -6,          /* ip only: an encapsulated packet follows (decode.c
	                              * decodes it); never the result of a whole packet */
};

#endif
