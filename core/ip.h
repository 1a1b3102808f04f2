/* Network layer: IPv4 and IPv6 (RFC 791, RFC 8200) and the TCP header
 * (RFC 9293) on top of them.
 *
 * ip_decode reads the bytes in *l3, fills p's addresses and, for TCP, the
 * segment fields (ports, seq, ack, flags, payload). The IP payload length
 * comes from the IP header clamped to the captured bytes, so link padding
 * never enters a stream; an IPv4 total length of 0 (segmentation offload)
 * means "what was captured". Returns DECODE_OK for a TCP segment or a
 * negative enum decode_result. */
#ifndef TCPFLOW_IP_H
#define TCPFLOW_IP_H

#include "packet.h"

int ip_decode(struct pkt *p, const struct l3_view *l3);

/* Parse a TCP header at data/len into p (ports, seq, ack, flags, payload). */
int tcp_parse_header(struct pkt *p, const uint8_t *data, uint32_t len);

/* Text form of an address: IPv4 dotted (zero-padded to 3 digits per octet
 * when pad is set), IPv6 per RFC 5952. buf must hold 46 bytes. */
void ip_addr_text(const struct tf_addr *a, int pad, char *buf, size_t len);

#endif
