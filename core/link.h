/* Link-layer decoders: one per link type (DLT), each stripping its header
 * (and any VLAN tags) and handing back the network-layer bytes.
 *
 * link_decode reads p->frame/p->caplen/p->dlt, fills p's link fields (MACs
 * only where the link really has them, VLAN id) and *out. Returns DECODE_OK
 * or a negative enum decode_result; never reads outside the frame. */
#ifndef TCPFLOW_LINK_H
#define TCPFLOW_LINK_H

#include "packet.h"

/* Settings of the link decoders. */
struct link_config {
	/* 802.11: verify the FCS where the radio header says one is present
	 * (frames that fail are skipped and counted), and where nothing says
	 * (plain 802.11, Prism, AVS) treat the last 4 bytes as an FCS only if
	 * they verify. Off: trust the radio header, assume no FCS otherwise. */
	int check_fcs;
};

/* link_decode_with and a NULL cfg (or link_decode): check_fcs on. */
int link_decode(struct pkt *p, struct l3_view *out);
int link_decode_with(struct pkt *p, const struct link_config *cfg, struct l3_view *out);

/* A tunnel's payload that is not IP (struct l3_view from ip_decode_next):
 * ETHERTYPE_TEB an Ethernet frame, ETHERTYPE_PPP a PPP frame, any other
 * ethertype (MPLS, VLAN, PPPoE, ...) the bytes after such a type field.
 * Fills what the frame has (MACs, VLAN: the inner ones win, the outer stay
 * otherwise) and *out as link_decode does. */
int link_decode_inner(struct pkt *p, const struct link_config *cfg, const struct l3_view *in,
		      struct l3_view *out);

/* 1 if tcpflow can decode this link type. */
int link_is_supported(int dlt);

/* Short name of a link type ("EN10MB", "LINUX_SLL2", ...) or "unknown". */
const char *link_name(int dlt);

#endif
