/* Link-layer decoders: one per link type (DLT), each stripping its header
 * (and any VLAN tags) and handing back the network-layer bytes.
 *
 * link_decode reads p->frame/p->caplen/p->dlt, fills p's link fields (MACs
 * only where the link really has them, VLAN id) and *out. Returns DECODE_OK
 * or a negative enum decode_result; never reads outside the frame. */
#ifndef TCPFLOW_LINK_H
#define TCPFLOW_LINK_H

#include "packet.h"

int link_decode(struct pkt *p, struct l3_view *out);

/* 1 if tcpflow can decode this link type. */
int link_is_supported(int dlt);

/* Short name of a link type ("EN10MB", "LINUX_SLL2", ...) or "unknown". */
const char *link_name(int dlt);

#endif
