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
	LT_C_HDLC = 104,
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

/* State shared by the decoders of one frame: the settings, and how deep
 * frames have nested inside frames so far (Ethernet in an MPLS pseudowire,
 * 802.11 in PPI, a tunnel's Ethernet payload). */
struct link_ctx {
	const struct link_config *cfg;
	unsigned depth;
};

/* Nesting stops here: every level costs stack, and no network nests this deep. */
#define LINK_MAX_DEPTH 8

typedef int (*link_decoder_fn)(struct pkt *p, struct cursor *c, struct l3_view *out,
			       struct link_ctx *lc);

static int decode_en10mb(struct pkt *p, struct cursor *c, struct l3_view *out,
			 struct link_ctx *lc);
static int mpls_decode(struct pkt *p, struct cursor *c, struct l3_view *out,
		       struct link_ctx *lc);
static int pppoe_session(struct pkt *p, struct cursor *c, struct l3_view *out,
			 struct link_ctx *lc);
static link_decoder_fn link_decoder_for(int dlt);

static const struct link_config default_config = { .check_fcs = 1 };

static void set_view(struct l3_view *out, uint16_t ethertype, const struct cursor *c)
{
	out->ethertype = ethertype;
	out->data = c->p;
	out->len = (uint32_t)c->left;
}

/* Enter one more level of nesting; 0 (and counted) when that is too deep. */
static int nest_enter(struct link_ctx *lc)
{
	if (lc->depth >= LINK_MAX_DEPTH) {
		tf_stats.tunnel_depth_exceeded++;
		return 0;
	}
	lc->depth++;
	return 1;
}

/* The point every link decoder reaches once it knows an ethertype: strips
 * VLAN tags, then hands over IP or says why not. Encapsulation decoders
 * (MPLS, PPPoE) get a case here and may call back into it. */
static int ether_dispatch(struct pkt *p, struct cursor *c, uint16_t type, struct l3_view *out,
			  struct link_ctx *lc)
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
			return mpls_decode(p, c, out, lc);
		case ETHERTYPE_PPPOE_SESS:
			return pppoe_session(p, c, out, lc);
		default:
			/* ARP, LLDP, PPPoE discovery, ... */
			set_view(out, type, c);
			return DECODE_NOT_IP;
		}
	}
}

/* Is t an ethertype this file follows (so a frame with it is plausible)? */
static int known_type(int t)
{
	switch (t) {
	case ETHERTYPE_IPV4: case ETHERTYPE_IPV6: case ETHERTYPE_8021Q: case ETHERTYPE_8021AD:
	case ETHERTYPE_QINQ_LEGACY: case ETHERTYPE_MPLS_UC: case ETHERTYPE_MPLS_MC:
	case ETHERTYPE_PPPOE_SESS:
		return 1;
	default:
		return 0;
	}
}

static int peek_be16(const struct cursor *c, size_t off)
{
	int a = cur_peek(c, off), b = cur_peek(c, off + 1);
	return a < 0 || b < 0 ? -1 : (a << 8) | b;
}

/* RFC 3032 section 2.1: label stack entries of label(20) TC(3) S(1) TTL(8),
 * down to the one with S (bottom of stack) set. What follows carries no type:
 * an IP version nibble of 4 or 6 is IP, 1 an associated channel (RFC 4385
 * section 5: not data), anything else an Ethernet pseudowire (RFC 4448),
 * with the control word of RFC 4385 section 3 (first nibble 0) when that
 * gives the more plausible Ethernet header: a destination MAC may start with
 * a 0 nibble too. */
static int mpls_decode(struct pkt *p, struct cursor *c, struct l3_view *out,
		       struct link_ctx *lc)
{
	for (;;) {
		uint32_t entry = cur_be32(c);
		if (c->bad)
			return DECODE_MALFORMED;
		if (entry & 0x100)
			break;
	}
	tf_stats.mpls_stacks++;
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
	case 1:
		set_view(out, 0, c);
		return DECODE_NOT_IP;
	case 0:
		if (known_type(peek_be16(c, 4 + 12)) || !known_type(peek_be16(c, 12))) {
			if (!cur_skip(c, 4))
				return DECODE_MALFORMED;
		}
		break;
	default:
		break;
	}
	if (!nest_enter(lc))
		return DECODE_UNSUPPORTED;
	return decode_en10mb(p, c, out, lc);
}

/* The PPP Protocol field (RFC 1661 section 2), which Protocol-Field-
 * Compression (RFC 1661 section 6.5) may shorten to one byte: a first byte
 * with its low bit set is the whole field. Numbers from the IANA PPP DLL
 * protocol registry. */
static int ppp_protocol(struct pkt *p, struct cursor *c, struct l3_view *out,
			struct link_ctx *lc)
{
	uint16_t proto = cur_u8(c);
	if (!(proto & 1))
		proto = (uint16_t)((proto << 8) | cur_u8(c));
	if (c->bad)
		return DECODE_MALFORMED;
	switch (proto) {
	case 0x0021:   /* Internet Protocol version 4 */
		set_view(out, ETHERTYPE_IPV4, c);
		return DECODE_OK;
	case 0x0057:   /* Internet Protocol version 6 */
		set_view(out, ETHERTYPE_IPV6, c);
		return DECODE_OK;
	case 0x0281:   /* MPLS unicast (RFC 3032 section 4.3) */
	case 0x0283:   /* MPLS multicast */
		return mpls_decode(p, c, out, lc);
	case 0x002D:   /* Van Jacobson compressed TCP/IP (RFC 1144): needs */
	case 0x002F:   /* the connection's state, which a capture may lack */
		set_view(out, 0, c);
		return DECODE_UNSUPPORTED;
	default:       /* LCP, IPCP, CHAP, ... */
		set_view(out, 0, c);
		return DECODE_NOT_IP;
	}
}

/* A PPP frame that may start with RFC 1662 section 3.1 HDLC-like framing
 * (address 0xFF, control 0x03) or, on serial links, with a Cisco HDLC header
 * (address 0x0F unicast / 0x8F broadcast, control 0, then an ethertype). */
static int ppp_frame(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc,
		     int cisco_ok)
{
	int a = cur_peek(c, 0);
	int b = cur_peek(c, 1);
	if (a == 0xFF && b == 0x03) {
		cur_skip(c, 2);
	} else if (cisco_ok && (a == 0x0F || a == 0x8F)) {
		cur_skip(c, 2);
		uint16_t type = cur_be16(c);
		if (c->bad)
			return DECODE_MALFORMED;
		return ether_dispatch(p, c, type, out, lc);
	}
	return ppp_protocol(p, c, out, lc);
}

/* LINKTYPE_PPP: PPP (RFC 1661), with or without HDLC-like framing. */
static int decode_ppp(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	return ppp_frame(p, c, out, lc, 0);
}

/* LINKTYPE_PPP_HDLC: RFC 1662 framing or Cisco HDLC. */
static int decode_ppp_hdlc(struct pkt *p, struct cursor *c, struct l3_view *out,
			   struct link_ctx *lc)
{
	return ppp_frame(p, c, out, lc, 1);
}

/* LINKTYPE_PPP_PPPD: as PPP_HDLC, except that pppd puts the direction (0x00
 * in, 0x01 out) where the 0xFF address byte would be. */
static int decode_ppp_pppd(struct pkt *p, struct cursor *c, struct l3_view *out,
			   struct link_ctx *lc)
{
	int a = cur_peek(c, 0);
	if ((a == 0x00 || a == 0x01) && cur_peek(c, 1) == 0x03) {
		cur_skip(c, 2);
		return ppp_protocol(p, c, out, lc);
	}
	return ppp_frame(p, c, out, lc, 1);
}

/* LINKTYPE_PPP_WITH_DIR: one direction byte (0 received, 1 sent), then PPP. */
static int decode_ppp_with_dir(struct pkt *p, struct cursor *c, struct l3_view *out,
			       struct link_ctx *lc)
{
	if (!cur_skip(c, 1))
		return DECODE_MALFORMED;
	return ppp_frame(p, c, out, lc, 0);
}

/* LINKTYPE_C_HDLC: Cisco HDLC, address(1) control(1) ethertype(2). */
static int decode_c_hdlc(struct pkt *p, struct cursor *c, struct l3_view *out,
			 struct link_ctx *lc)
{
	if (!cur_skip(c, 2))
		return DECODE_MALFORMED;
	uint16_t type = cur_be16(c);
	if (c->bad)
		return DECODE_MALFORMED;
	return ether_dispatch(p, c, type, out, lc);
}

/* RFC 2516 section 4: VER(4)=1 TYPE(4)=1 CODE(8) SESSION_ID(16) LENGTH(16),
 * then, in the session stage (CODE 0), LENGTH bytes that begin with the PPP
 * Protocol field (section 5). Discovery packets carry no IP. */
static int pppoe_session(struct pkt *p, struct cursor *c, struct l3_view *out,
			 struct link_ctx *lc)
{
	uint8_t vt = cur_u8(c);
	uint8_t code = cur_u8(c);
	cur_skip(c, 2);
	uint16_t len = cur_be16(c);
	if (c->bad || vt != 0x11)
		return DECODE_MALFORMED;
	if (code != 0) {
		set_view(out, 0, c);
		return DECODE_NOT_IP;
	}
	if (c->left > len)
		c->left = len;      /* what follows is link padding */
	tf_stats.pppoe_sessions++;
	return ppp_protocol(p, c, out, lc);
}

/* LINKTYPE_PPP_ETHER: a PPPoE header without the Ethernet header. */
static int decode_ppp_ether(struct pkt *p, struct cursor *c, struct l3_view *out,
			    struct link_ctx *lc)
{
	return pppoe_session(p, c, out, lc);
}

/* IEEE 802.2 LLC header; only SNAP (RFC 1042: DSAP = SSAP = 0xAA, control
 * 0x03 UI, then a 3-byte OUI and a 2-byte ethertype) can carry IP. */
static int decode_llc(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
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
	return ether_dispatch(p, c, type, out, lc);
}

/* Ethernet II or IEEE 802.3 (length + LLC). */
static int decode_en10mb(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
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
		return decode_llc(p, c, out, lc);
	}
	return ether_dispatch(p, c, type, out, lc);
}

/* ---- IEEE 802.11 ----------------------------------------------------------- */

/* What the radio header says about the 802.11 frame after it. Without
 * RADIO_FCS_KNOWN the FCS is present only if it verifies (check_fcs). */
#define RADIO_FCS_KNOWN 0x1    /* the header tells whether an FCS is present */
#define RADIO_FCS 0x2          /* ... and it is: the last 4 bytes */
#define RADIO_FCS_FAILED 0x4   /* the receiver found the FCS wrong */
#define RADIO_DATAPAD 0x8      /* 802.11 header padded to 4 bytes (radiotap) */

/* CRC-32 of IEEE 802.3 clause 3.2.9 (reflected polynomial 0xEDB88320), which
 * 802.11 uses for its FCS (IEEE 802.11-2020 9.2.4.8). */
static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static int ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t r = i;
			for (int k = 0; k < 8; k++)
				r = (r & 1) ? (r >> 1) ^ 0xEDB88320u : r >> 1;
			table[i] = r;
		}
		ready = 1;
	}
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++)
		crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
	return crc ^ 0xFFFFFFFFu;
}

/* Does the frame in c end with its own FCS (sent least significant byte first)? */
static int fcs_matches(const struct cursor *c)
{
	if (c->bad || c->left < 4)
		return 0;
	const uint8_t *t = c->p + c->left - 4;
	uint32_t fcs = (uint32_t)t[0] | ((uint32_t)t[1] << 8) | ((uint32_t)t[2] << 16) |
		       ((uint32_t)t[3] << 24);
	return crc32_ieee(c->p, c->left - 4) == fcs;
}

/* IEEE 802.11-2020 9.3.2.1: a data frame. Header: Frame Control(2)
 * Duration(2) Address 1..3 (6 each) Sequence Control(2), Address 4 when both
 * To DS and From DS are set, QoS Control(2) in QoS subtypes, HT Control(4)
 * when a QoS frame has the +HTC/Order bit; then (radiotap "data pad") padding
 * to 4 bytes, then the body, an LLC/SNAP header and the packet. */
static int decode_80211(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc,
			unsigned radio)
{
	const uint8_t *start = c->p;
	/* The FCS, if any, is at the end of what was captured only when the
	 * whole frame was captured. */
	int whole = p->caplen >= p->wirelen;
	int fcs = (radio & RADIO_FCS) != 0;
	if (!(radio & RADIO_FCS_KNOWN))
		fcs = lc->cfg->check_fcs && whole && fcs_matches(c);
	if (lc->cfg->check_fcs && ((radio & RADIO_FCS_FAILED) ||
				   (fcs && whole && !fcs_matches(c)))) {
		tf_stats.wifi_bad_fcs++;
		return DECODE_MALFORMED;
	}
	if (fcs && whole && c->left >= 4) {
		c->left -= 4;
		tf_stats.wifi_fcs_stripped++;
	}

	uint8_t fc0 = cur_u8(c);
	uint8_t fc1 = cur_u8(c);
	if (c->bad)
		return DECODE_MALFORMED;
	unsigned version = fc0 & 3, type = (fc0 >> 2) & 3, subtype = fc0 >> 4;
	if (version != 0) {
		set_view(out, 0, c);
		return DECODE_UNSUPPORTED;   /* 802.11ah PV1 and reserved versions */
	}
	if (type != 2 || (subtype & 0x4)) {
		/* management, control, extension; data subtypes with bit 2 set
		 * carry no body (Null, QoS Null, CF-Ack/Poll alone) */
		tf_stats.wifi_other_frames++;
		set_view(out, 0, c);
		return DECODE_NOT_IP;
	}
	int to_ds = fc1 & 0x01, from_ds = fc1 & 0x02;
	uint8_t a1[6], a2[6], a3[6], a4[6];
	cur_skip(c, 2);                       /* duration / ID */
	cur_copy(c, a1, 6);
	cur_copy(c, a2, 6);
	cur_copy(c, a3, 6);
	uint16_t seqctl = cur_le16(c);
	if (to_ds && from_ds)
		cur_copy(c, a4, 6);
	uint16_t qos = 0;
	if (subtype & 0x8) {
		qos = cur_le16(c);
		if (fc1 & 0x80)
			cur_skip(c, 4);               /* HT Control (9.2.4.7) */
	}
	if (c->bad)
		return DECODE_MALFORMED;
	if (radio & RADIO_DATAPAD) {
		size_t hl = (size_t)(c->p - start);
		if (!cur_skip(c, (4 - (hl & 3)) & 3))
			return DECODE_MALFORMED;
	}

	/* 9.2.4.1.4 and Table 9-26: DA and SA by the To DS / From DS bits. */
	const uint8_t *da = to_ds ? a3 : a1;
	const uint8_t *sa = from_ds ? (to_ds ? a4 : a3) : a2;
	memcpy(p->dst_mac, da, 6);
	memcpy(p->src_mac, sa, 6);
	p->has_mac = 1;
	tf_stats.wifi_data_frames++;

	if (fc1 & 0x40) {                     /* Protected Frame: encrypted body */
		tf_stats.wifi_protected++;
		set_view(out, 0, c);
		return DECODE_UNSUPPORTED;
	}
	if ((fc1 & 0x04) || (seqctl & 0x000F)) {   /* More Fragments, fragment number */
		tf_stats.wifi_fragmented++;
		set_view(out, 0, c);
		return DECODE_UNSUPPORTED;
	}
	if (qos & 0x0080) {                   /* A-MSDU Present (9.2.4.5.9) */
		tf_stats.wifi_amsdu++;
		set_view(out, 0, c);
		return DECODE_UNSUPPORTED;
	}
	return decode_llc(p, c, out, lc);
}

/* LINKTYPE_IEEE802_11: the 802.11 frame alone; FCS presence unknown. */
static int decode_ieee802_11(struct pkt *p, struct cursor *c, struct l3_view *out,
			     struct link_ctx *lc)
{
	return decode_80211(p, c, out, lc, 0);
}

/* LINKTYPE_IEEE802_11_RADIOTAP (radiotap.org, "Radiotap header"): version(1)
 * = 0, pad(1), length(2, little-endian, whole header), present bitmaps (4
 * each; bit 31 chains another), then the fields, each aligned to its size
 * from the header start. Only TSFT (bit 0: u64) and Flags (bit 1: u8) come
 * before what is needed: Flags 0x10 = FCS at end, 0x20 = data pad, 0x40 =
 * FCS failed. */
static int decode_radiotap(struct pkt *p, struct cursor *c, struct l3_view *out,
			   struct link_ctx *lc)
{
	struct cursor h = *c;
	uint8_t version = cur_u8(&h);
	cur_skip(&h, 1);
	uint16_t len = cur_le16(&h);
	if (h.bad || version != 0 || len < 8 || len > c->left)
		return DECODE_MALFORMED;
	h = cur_make(c->p, len);
	cur_skip(&h, 4);
	uint32_t present = cur_le32(&h);
	uint32_t word = present;
	while (!h.bad && (word & 0x80000000u))
		word = cur_le32(&h);
	if (h.bad)
		return DECODE_MALFORMED;
	unsigned radio = 0;
	if (present & 0x2) {
		size_t off = len - h.left;    /* fields start after the bitmaps */
		if (present & 0x1)
			off = ((off + 7) & ~(size_t)7) + 8;
		struct cursor all = cur_make(c->p, len);
		int flags = cur_peek(&all, off);
		if (flags < 0)
			return DECODE_MALFORMED;
		radio = RADIO_FCS_KNOWN;
		if (flags & 0x10)
			radio |= RADIO_FCS;
		if (flags & 0x20)
			radio |= RADIO_DATAPAD;
		if (flags & 0x40)
			radio |= RADIO_FCS_FAILED;
	}
	cur_skip(c, len);
	return decode_80211(p, c, out, lc, radio);
}

/* AVS capture header (LINKTYPE_IEEE802_11_AVS): version 0x8021100x and the
 * header length, both big-endian, then 802.11. Also what some "Prism" captures
 * really hold. */
static int avs_header(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	cur_skip(c, 4);
	uint32_t len = cur_be32(c);
	if (c->bad || len < 8 || !cur_skip(c, len - 8))
		return DECODE_MALFORMED;
	return decode_80211(p, c, out, lc, 0);
}

static int decode_avs(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	return avs_header(p, c, out, lc);
}

/* LINKTYPE_PRISM_HEADER (wlan-ng): msgcode(4) msglen(4) devname(16), then
 * DID items, all in the capturing host's byte order; msglen (144 for the
 * usual ten items) is the header length. It says nothing about an FCS. */
static int decode_prism(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	struct cursor h = *c;
	uint32_t code = cur_be32(&h);
	uint8_t b[4];
	cur_copy(&h, b, sizeof b);
	if (h.bad)
		return DECODE_MALFORMED;
	if ((code & 0xFFFFFFF0u) == 0x80211000u)
		return avs_header(p, c, out, lc);
	uint32_t le = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) |
		      ((uint32_t)b[3] << 24);
	uint32_t be = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) |
		      (uint32_t)b[3];
	uint32_t len = (le >= 8 && le <= c->left) ? le : (be >= 8 && be <= c->left) ? be : 144;
	if (!cur_skip(c, len))
		return DECODE_MALFORMED;
	return decode_80211(p, c, out, lc, 0);
}

/* LINKTYPE_PPI (the Per-Packet Information header specification, CACE
 * Technologies 2007): version(1) flags(1) length(2) DLT(4), little-endian,
 * then TLV fields type(2) length(2). Field 2, 802.11-Common, has TSF(8) then
 * flags(2): 0x1 FCS present, 0x4 FCS invalid. */
static int decode_ppi(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	struct cursor h = *c;
	uint8_t version = cur_u8(&h);
	uint8_t pflags = cur_u8(&h);
	uint16_t len = cur_le16(&h);
	uint32_t dlt = cur_le32(&h);
	if (h.bad || version != 0 || len < 8 || len > c->left)
		return DECODE_MALFORMED;
	h = cur_make(c->p + 8, (size_t)len - 8);
	unsigned radio = 0;
	while (h.left >= 4) {
		uint16_t ftype = cur_le16(&h);
		uint16_t flen = cur_le16(&h);
		struct cursor f = cur_make(h.p, flen <= h.left ? flen : 0);
		if (!cur_skip(&h, flen))
			return DECODE_MALFORMED;
		if (pflags & 0x1) {           /* fields aligned to 32 bits */
			size_t pad = (4 - (flen & 3)) & 3;
			cur_skip(&h, pad < h.left ? pad : h.left);
		}
		if (ftype == 2) {
			cur_skip(&f, 8);
			uint16_t flags = cur_le16(&f);
			if (f.bad)
				return DECODE_MALFORMED;
			radio = RADIO_FCS_KNOWN;
			if (flags & 0x1)
				radio |= RADIO_FCS;
			if (flags & 0x4)
				radio |= RADIO_FCS_FAILED;
		}
	}
	cur_skip(c, len);
	if (dlt == LT_IEEE802_11)
		return decode_80211(p, c, out, lc, radio);
	link_decoder_fn inner = dlt == LT_PPI ? NULL : link_decoder_for((int)dlt);
	if (!inner) {
		set_view(out, 0, c);
		return DECODE_UNSUPPORTED;
	}
	if (!nest_enter(lc))
		return DECODE_UNSUPPORTED;
	return inner(p, c, out, lc);
}

/* ---- the other link types ------------------------------------------------- */

/* LINKTYPE_RAW (and DLT_RAW 12/14): no header, the IP version nibble decides. */
static int decode_raw(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	(void)p;
	(void)lc;
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
static int decode_ipv4(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	(void)p;
	(void)lc;
	set_view(out, ETHERTYPE_IPV4, c);
	return DECODE_OK;
}

static int decode_ipv6(struct pkt *p, struct cursor *c, struct l3_view *out, struct link_ctx *lc)
{
	(void)p;
	(void)lc;
	set_view(out, ETHERTYPE_IPV6, c);
	return DECODE_OK;
}

/* LINKTYPE_NULL (host byte order of the capturing machine) and LINKTYPE_LOOP
 * (network byte order, but not every writer obeys): a 4-byte address family.
 * AF values are small, so the order in which the value is below 2^16 is the
 * one it was written in. */
static int decode_null_loop(struct pkt *p, struct cursor *c, struct l3_view *out,
			    struct link_ctx *lc)
{
	(void)p;
	(void)lc;
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
static int sll_protocol(struct pkt *p, struct cursor *c, uint16_t proto, struct l3_view *out,
			struct link_ctx *lc)
{
	if (proto >= ETHER_MIN_TYPE)
		return ether_dispatch(p, c, proto, out, lc);
	if (proto == 0x0004)   /* ETH_P_802_2: an 802.2 LLC header follows */
		return decode_llc(p, c, out, lc);
	set_view(out, 0, c);   /* ETH_P_802_3 (Novell), CAN, netlink family, ... */
	return DECODE_NOT_IP;
}

/* LINKTYPE_LINUX_SLL: packet type(2) ARPHRD(2) addr len(2) addr(8)
 * protocol(2). The address is only the sender's and not always a MAC, so no
 * MACs are reported. */
static int decode_linux_sll(struct pkt *p, struct cursor *c, struct l3_view *out,
			    struct link_ctx *lc)
{
	if (!cur_skip(c, 14))
		return DECODE_MALFORMED;
	uint16_t proto = cur_be16(c);
	if (c->bad)
		return DECODE_MALFORMED;
	return sll_protocol(p, c, proto, out, lc);
}

/* LINKTYPE_LINUX_SLL2: protocol(2) reserved(2) ifindex(4) ARPHRD(2)
 * packet type(1) addr len(1) addr(8). */
static int decode_linux_sll2(struct pkt *p, struct cursor *c, struct l3_view *out,
			     struct link_ctx *lc)
{
	uint16_t proto = cur_be16(c);
	if (!cur_skip(c, 18))
		return DECODE_MALFORMED;
	return sll_protocol(p, c, proto, out, lc);
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
static int decode_nflog(struct pkt *p, struct cursor *c, struct l3_view *out,
			struct link_ctx *lc)
{
	(void)p;
	(void)lc;
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
	case LT_IEEE802_11:
		return decode_ieee802_11;
	case LT_IEEE802_11_RADIO:
		return decode_radiotap;
	case LT_IEEE802_11_RADIO_AVS:
		return decode_avs;
	case LT_PRISM:
		return decode_prism;
	case LT_PPI:
		return decode_ppi;
	case LT_PPP:
		return decode_ppp;
	case LT_PPP_HDLC:
		return decode_ppp_hdlc;
	case LT_PPP_PPPD:
		return decode_ppp_pppd;
	case LT_PPP_WITH_DIR:
		return decode_ppp_with_dir;
	case LT_PPP_ETHER:
		return decode_ppp_ether;
	case LT_C_HDLC:
		return decode_c_hdlc;
	default:
		return NULL;
	}
}

static void reset_link_fields(struct pkt *p, struct l3_view *out)
{
	p->has_mac = 0;
	memset(p->src_mac, 0, sizeof p->src_mac);
	memset(p->dst_mac, 0, sizeof p->dst_mac);
	p->has_vlan = 0;
	p->vlan = 0;
	out->ethertype = 0;
	out->data = NULL;
	out->len = 0;
}

int link_decode_with(struct pkt *p, const struct link_config *cfg, struct l3_view *out)
{
	reset_link_fields(p, out);
	link_decoder_fn decode = link_decoder_for(p->dlt);
	if (!decode)
		return DECODE_UNSUPPORTED;
	if (!p->frame && p->caplen)
		return DECODE_MALFORMED;
	struct link_ctx lc = { cfg ? cfg : &default_config, 0 };
	struct cursor c = cur_make(p->frame, p->caplen);
	return decode(p, &c, out, &lc);
}

int link_decode(struct pkt *p, struct l3_view *out)
{
	return link_decode_with(p, NULL, out);
}

int link_decode_inner(struct pkt *p, const struct link_config *cfg, const struct l3_view *in,
		      struct l3_view *out)
{
	out->ethertype = 0;
	out->data = NULL;
	out->len = 0;
	if (!in->data && in->len)
		return DECODE_MALFORMED;
	struct link_ctx lc = { cfg ? cfg : &default_config, 0 };
	struct cursor c = cur_make(in->data, in->len);
	switch (in->ethertype) {
	case ETHERTYPE_TEB:
		return decode_en10mb(p, &c, out, &lc);
	case ETHERTYPE_PPP:
		return ppp_frame(p, &c, out, &lc, 0);
	default:
		return ether_dispatch(p, &c, in->ethertype, out, &lc);
	}
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
