/* Link-layer decoders: one function per link type, chosen by link_decoder_for().
 *
 * Link-type numbers follow the tcpdump.org LINKTYPE list
 * (https://www.tcpdump.org/linktypes.html). p->dlt may hold either a DLT_
 * value (live capture, pcap_datalink) or a LINKTYPE_ value (savefile); where
 * the two differ both are listed. Every packet byte is read through a cursor
 * (cursor.h), so nothing outside [frame, frame + caplen) is ever touched. */
#include "link.h"

#include <string.h>

#include "cursor.h"
#include "stats.h"

/* Link-type numbers (LINKTYPE_ values; DLT_ aliases noted). */
enum {
	LT_NULL = 0,
	LT_EN10MB = 1,
	LT_PPP = 9,
	LT_DLT_RAW = 12,        /* DLT_RAW on most platforms */
	LT_DLT_RAW_OPENBSD = 14, /* DLT_RAW on OpenBSD */
	LT_PPP_HDLC = 50,      /* DLT_PPP_SERIAL */
	LT_PPP_ETHER = 51,
	LT_RAW = 101,           /* LINKTYPE_RAW */
	LT_IEEE802_11 = 105,
	LT_LOOP = 108,
	LT_LINUX_SLL = 113,
	LT_PRISM = 119,
	LT_IEEE802_11_RADIO = 127,
	LT_IEEE802_11_RADIO_AVS = 163,
	LT_PPP_PPPD = 166,
	LT_PPI = 192,
	LT_PPP_WITH_DIR = 204,
	LT_IPV4 = 228,
	LT_IPV6 = 229,
	LT_NFLOG = 239,
	LT_LINUX_SLL2 = 276,
};

/* Ethertypes this file dispatches on (IEEE Registration Authority list). */
#define ETHERTYPE_8021Q 0x8100       /* IEEE 802.1Q C-tag */
#define ETHERTYPE_8021AD 0x88A8      /* IEEE 802.1Q (ex-802.1ad) S-tag */
#define ETHERTYPE_QINQ_LEGACY 0x9100 /* pre-802.1ad vendor S-tag */
#define ETHERTYPE_MPLS_UC 0x8847
#define ETHERTYPE_MPLS_MC 0x8848
#define ETHERTYPE_PPPOE_SESS 0x8864

/* IEEE 802.3 clause 3.2.6: Length/Type <= 1500 is a length, >= 0x0600 a type. */
#define ETHER_MAX_LENGTH_FIELD 1500
#define ETHER_MIN_TYPE 0x0600

typedef int (*link_decoder_fn)(struct pkt *p, struct cursor *c, struct l3_view *out);

static void set_view(struct l3_view *out, uint16_t ethertype, const struct cursor *c)
{
	out->ethertype = ethertype;
	out->data = c->p;
	out->len = (uint32_t)c->left;
}

/* The point every link decoder reaches once it knows an ethertype: strips
 * VLAN tags, then hands over IP or says why not. Encapsulation decoders
 * (MPLS, PPPoE) get a case here and may call back into it. */
static int ether_dispatch(struct pkt *p, struct cursor *c, uint16_t type, struct l3_view *out)
{
	for (;;) {
		switch (type) {
		case ETHERTYPE_8021Q:
		case ETHERTYPE_8021AD:
		case ETHERTYPE_QINQ_LEGACY: {
			/* IEEE 802.1Q-2018 9.6: TCI = PCP(3) DEI(1) VID(12), then
			 * the next Length/Type. Keep only the VID; the innermost
			 * tag (the last one read) wins. */
			uint16_t tci = cur_be16(c);
			uint16_t next = cur_be16(c);
			if (c->bad)
				return DECODE_MALFORMED;
			p->has_vlan = 1;
			p->vlan = (uint16_t)(tci & 0x0FFF);
			tf_stats.vlan_tags++;
			type = next;
			continue;
		}
		case ETHERTYPE_IPV4:
		case ETHERTYPE_IPV6:
			set_view(out, type, c);
			return DECODE_OK;
		case ETHERTYPE_MPLS_UC:
		case ETHERTYPE_MPLS_MC:
			/* MPLS label stack (RFC 3032): decoded by a later change. */
			set_view(out, type, c);
			return DECODE_UNSUPPORTED;
		case ETHERTYPE_PPPOE_SESS:
			/* PPPoE session (RFC 2516): decoded by a later change. */
			set_view(out, type, c);
			return DECODE_UNSUPPORTED;
		default:
			/* ARP, LLDP, PPPoE discovery, ... */
			set_view(out, type, c);
			return DECODE_NOT_IP;
		}
	}
}

/* IEEE 802.2 LLC header; only SNAP (RFC 1042: DSAP = SSAP = 0xAA, control
 * 0x03 UI, then a 3-byte OUI and a 2-byte ethertype) can carry IP. */
static int decode_llc(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	uint8_t dsap = cur_u8(c);
	uint8_t ssap = cur_u8(c);
	uint8_t ctrl = cur_u8(c);
	if (c->bad)
		return DECODE_MALFORMED;
	if (dsap != 0xAA || ssap != 0xAA || ctrl != 0x03)
		return DECODE_NOT_IP;   /* STP, NetBIOS, IPX, ... */

	uint8_t oui[3];
	cur_copy(c, oui, sizeof oui);
	uint16_t type = cur_be16(c);
	if (c->bad)
		return DECODE_MALFORMED;
	/* OUI 0 is RFC 1042 encapsulation, 00-00-F8 the IEEE 802.1H bridge
	 * tunnel; with any other OUI the "type" is that organisation's own. */
	if (oui[0] != 0 || oui[1] != 0 || (oui[2] != 0 && oui[2] != 0xF8))
		return DECODE_NOT_IP;
	return ether_dispatch(p, c, type, out);
}

/* Ethernet II or IEEE 802.3 (length + LLC). */
static int decode_en10mb(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	if (!cur_need(c, 14))
		return DECODE_MALFORMED;
	cur_copy(c, p->dst_mac, 6);
	cur_copy(c, p->src_mac, 6);
	p->has_mac = 1;
	uint16_t type = cur_be16(c);

	if (type <= ETHER_MAX_LENGTH_FIELD) {
		/* 802.3 length covers LLC + data: what follows is padding or FCS,
		 * so keep it out of the network-layer view. */
		if (c->left > type)
			c->left = type;
		return decode_llc(p, c, out);
	}
	return ether_dispatch(p, c, type, out);
}

/* LINKTYPE_RAW (and DLT_RAW 12/14): no header, the IP version nibble decides. */
static int decode_raw(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	(void)p;
	int b = cur_peek(c, 0);
	if (b < 0)
		return DECODE_MALFORMED;
	switch (b >> 4) {
	case 4:
		set_view(out, ETHERTYPE_IPV4, c);
		return DECODE_OK;
	case 6:
		set_view(out, ETHERTYPE_IPV6, c);
		return DECODE_OK;
	default:
		return DECODE_MALFORMED;   /* this link type promises IP */
	}
}

/* LINKTYPE_IPV4 / LINKTYPE_IPV6: no header; the IP layer judges the bytes. */
static int decode_ipv4(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	(void)p;
	set_view(out, ETHERTYPE_IPV4, c);
	return DECODE_OK;
}

static int decode_ipv6(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	(void)p;
	set_view(out, ETHERTYPE_IPV6, c);
	return DECODE_OK;
}

/* LINKTYPE_NULL (host byte order of the capturing machine) and LINKTYPE_LOOP
 * (network byte order, but not every writer obeys): a 4-byte address family.
 * AF values are small, so the order in which the value is below 2^16 is the
 * one it was written in. */
static int decode_null_loop(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	(void)p;
	uint8_t b[4];
	if (!cur_copy(c, b, sizeof b))
		return DECODE_MALFORMED;
	uint32_t be = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
	uint32_t le = ((uint32_t)b[3] << 24) | ((uint32_t)b[2] << 16) | ((uint32_t)b[1] << 8) | b[0];
	uint32_t af = be <= 0xFFFF ? be : le;

	switch (af) {
	case 2:    /* AF_INET everywhere */
		set_view(out, ETHERTYPE_IPV4, c);
		return DECODE_OK;
	case 10:   /* AF_INET6: Linux */
	case 24:   /* NetBSD, OpenBSD (and BSD/OS) */
	case 28:   /* FreeBSD, DragonFly */
	case 30:   /* macOS / Darwin */
		set_view(out, ETHERTYPE_IPV6, c);
		return DECODE_OK;
	default:
		set_view(out, 0, c);
		return DECODE_NOT_IP;
	}
}

/* The protocol field of a Linux cooked header: an ethertype, except that
 * values below 0x0600 are Linux ETH_P_ codes (LINKTYPE_LINUX_SLL page). */
static int sll_protocol(struct pkt *p, struct cursor *c, uint16_t proto, struct l3_view *out)
{
	if (proto >= ETHER_MIN_TYPE)
		return ether_dispatch(p, c, proto, out);
	if (proto == 0x0004)   /* ETH_P_802_2: an 802.2 LLC header follows */
		return decode_llc(p, c, out);
	set_view(out, 0, c);   /* ETH_P_802_3 (Novell), CAN, netlink family, ... */
	return DECODE_NOT_IP;
}

/* LINKTYPE_LINUX_SLL: packet type(2) ARPHRD(2) addr len(2) addr(8)
 * protocol(2). The address is only the sender's and not always a MAC, so no
 * MACs are reported. */
static int decode_linux_sll(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	if (!cur_skip(c, 14))
		return DECODE_MALFORMED;
	uint16_t proto = cur_be16(c);
	if (c->bad)
		return DECODE_MALFORMED;
	return sll_protocol(p, c, proto, out);
}

/* LINKTYPE_LINUX_SLL2: protocol(2) reserved(2) ifindex(4) ARPHRD(2)
 * packet type(1) addr len(1) addr(8). */
static int decode_linux_sll2(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	uint16_t proto = cur_be16(c);
	if (!cur_skip(c, 18))
		return DECODE_MALFORMED;
	return sll_protocol(p, c, proto, out);
}

#define NFULA_PAYLOAD 9
#define NLA_TYPE_MASK 0x3FFF   /* netlink attribute type without flag bits */

static int host_is_little_endian(void)
{
	const uint16_t one = 1;
	uint8_t first;
	memcpy(&first, &one, 1);
	return first == 1;
}

/* Walk NFLOG TLVs (LINKTYPE_NFLOG page: 16-bit length and type, length
 * includes the 4-byte TLV header, each TLV padded to 4 bytes) looking for
 * NFULA_PAYLOAD. c is a copy, so a failed walk leaves the caller's cursor. */
static int nflog_walk(struct cursor c, int little, uint16_t ethertype, struct l3_view *out)
{
	while (c.left > 0) {
		uint16_t len = little ? cur_le16(&c) : cur_be16(&c);
		uint16_t type = little ? cur_le16(&c) : cur_be16(&c);
		if (c.bad || len < 4)
			return DECODE_MALFORMED;
		size_t body = (size_t)len - 4;
		if ((type & NLA_TYPE_MASK) == NFULA_PAYLOAD) {
			/* The snapshot length may cut the packet itself: hand over
			 * what was captured, as for any other link type. */
			if (c.left > body)
				c.left = body;
			set_view(out, ethertype, &c);
			return DECODE_OK;
		}
		if (!cur_skip(&c, body))
			return DECODE_MALFORMED;
		size_t pad = (4 - (len & 3)) & 3;
		cur_skip(&c, pad < c.left ? pad : c.left);   /* last TLV may be unpadded */
	}
	return DECODE_NOT_IP;   /* no payload TLV: a metadata-only log message */
}

/* LINKTYPE_NFLOG: family(1) version(1) resource id(2, big-endian), then TLVs
 * in the byte order of the host that captured them. libpcap converts that to
 * the reading host's order, so try ours first and the other one if the walk
 * fails (a capture read without libpcap's help). */
static int decode_nflog(struct pkt *p, struct cursor *c, struct l3_view *out)
{
	(void)p;
	uint8_t family = cur_u8(c);
	if (!cur_skip(c, 3))
		return DECODE_MALFORMED;

	uint16_t ethertype;
	if (family == 2)
		ethertype = ETHERTYPE_IPV4;
	else if (family == 10)
		ethertype = ETHERTYPE_IPV6;
	else {
		set_view(out, 0, c);
		return DECODE_NOT_IP;   /* bridge, ARP, ... */
	}

	int little = host_is_little_endian();
	int rc = nflog_walk(*c, little, ethertype, out);
	if (rc == DECODE_MALFORMED && nflog_walk(*c, !little, ethertype, out) == DECODE_OK)
		rc = DECODE_OK;
	return rc;
}

/* The decoder of a link type, or NULL when tcpflow cannot decode it. */
static link_decoder_fn link_decoder_for(int dlt)
{
	switch (dlt) {
	case LT_EN10MB:
		return decode_en10mb;
	case LT_DLT_RAW:
	case LT_DLT_RAW_OPENBSD:
	case LT_RAW:
		return decode_raw;
	case LT_IPV4:
		return decode_ipv4;
	case LT_IPV6:
		return decode_ipv6;
	case LT_NULL:
	case LT_LOOP:
		return decode_null_loop;
	case LT_LINUX_SLL:
		return decode_linux_sll;
	case LT_LINUX_SLL2:
		return decode_linux_sll2;
	case LT_NFLOG:
		return decode_nflog;

	/* ---- decoded by a later change: 802.11, radiotap, Prism, PPI, PPP ----
	 * Add each decoder here; link_is_supported follows automatically. */
	case LT_IEEE802_11:
	case LT_IEEE802_11_RADIO:
	case LT_IEEE802_11_RADIO_AVS:
	case LT_PRISM:
	case LT_PPI:
	case LT_PPP:
	case LT_PPP_HDLC:
	case LT_PPP_ETHER:
	case LT_PPP_PPPD:
	case LT_PPP_WITH_DIR:
		return NULL;

	default:
		return NULL;
	}
}

int link_decode(struct pkt *p, struct l3_view *out)
{
	p->has_mac = 0;
	memset(p->src_mac, 0, sizeof p->src_mac);
	memset(p->dst_mac, 0, sizeof p->dst_mac);
	p->has_vlan = 0;
	p->vlan = 0;
	out->ethertype = 0;
	out->data = NULL;
	out->len = 0;

	link_decoder_fn decode = link_decoder_for(p->dlt);
	if (!decode)
		return DECODE_UNSUPPORTED;
	if (!p->frame && p->caplen)
		return DECODE_MALFORMED;
	struct cursor c = cur_make(p->frame, p->caplen);
	return decode(p, &c, out);
}

int link_is_supported(int dlt)
{
	return link_decoder_for(dlt) != NULL;
}

/* Names as in the tcpdump.org LINKTYPE list (without the prefix); DLT_
 * values that differ from their LINKTYPE_ value are listed as well. */
static const struct {
	int dlt;
	const char *name;
} link_names[] = {
	{ 0, "NULL" },
	{ 1, "EN10MB" },
	{ 3, "AX25" },
	{ 6, "IEEE802" },
	{ 7, "ARCNET" },
	{ 8, "SLIP" },
	{ 9, "PPP" },
	{ 10, "FDDI" },
	{ 11, "ATM_RFC1483" },          /* DLT_ value */
	{ 12, "RAW" },                  /* DLT_ value */
	{ 14, "RAW" },                  /* DLT_ value on OpenBSD */
	{ 15, "SLIP_BSDOS" },
	{ 16, "PPP_BSDOS" },
	{ 50, "PPP_HDLC" },
	{ 51, "PPP_ETHER" },
	{ 100, "ATM_RFC1483" },
	{ 101, "RAW" },
	{ 104, "C_HDLC" },
	{ 105, "IEEE802_11" },
	{ 107, "FRELAY" },
	{ 108, "LOOP" },
	{ 113, "LINUX_SLL" },
	{ 114, "LTALK" },
	{ 117, "PFLOG" },
	{ 119, "PRISM" },
	{ 122, "IP_OVER_FC" },
	{ 123, "SUNATM" },
	{ 127, "IEEE802_11_RADIO" },
	{ 129, "ARCNET_LINUX" },
	{ 138, "APPLE_IP_OVER_IEEE1394" },
	{ 143, "DOCSIS" },
	{ 144, "LINUX_IRDA" },
	{ 163, "IEEE802_11_RADIO_AVS" },
	{ 166, "PPP_PPPD" },
	{ 187, "BLUETOOTH_HCI_H4" },
	{ 189, "USB_LINUX" },
	{ 192, "PPI" },
	{ 195, "IEEE802_15_4_WITHFCS" },
	{ 197, "ERF" },
	{ 201, "BLUETOOTH_HCI_H4_WITH_PHDR" },
	{ 204, "PPP_WITH_DIR" },
	{ 220, "USB_LINUX_MMAPPED" },
	{ 227, "CAN_SOCKETCAN" },
	{ 228, "IPV4" },
	{ 229, "IPV6" },
	{ 239, "NFLOG" },
	{ 249, "USBPCAP" },
	{ 253, "NETLINK" },
	{ 254, "BLUETOOTH_LINUX_MONITOR" },
	{ 276, "LINUX_SLL2" },
};

const char *link_name(int dlt)
{
	for (size_t i = 0; i < sizeof link_names / sizeof link_names[0]; i++)
		if (link_names[i].dlt == dlt)
			return link_names[i].name;
	return "unknown";
}
