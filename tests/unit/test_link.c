/* Unit tests for core/link.c: every frame is built byte by byte here and
 * decoded from a malloc'd copy of exactly caplen bytes, so AddressSanitizer
 * catches any read outside the frame. */
#include "link.h"
#include "stats.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- frame builder ------------------------------------------------------ */

struct fb {
	uint8_t b[256];
	size_t n;
};

static void fb_u8(struct fb *f, uint8_t v)
{
	ck_assert_uint_lt(f->n, sizeof f->b);
	f->b[f->n++] = v;
}

static void fb_be16(struct fb *f, uint16_t v)
{
	fb_u8(f, (uint8_t)(v >> 8));
	fb_u8(f, (uint8_t)v);
}

static void fb_le16(struct fb *f, uint16_t v)
{
	fb_u8(f, (uint8_t)v);
	fb_u8(f, (uint8_t)(v >> 8));
}

static void fb_be32(struct fb *f, uint32_t v)
{
	fb_be16(f, (uint16_t)(v >> 16));
	fb_be16(f, (uint16_t)v);
}

static void fb_le32(struct fb *f, uint32_t v)
{
	fb_le16(f, (uint16_t)v);
	fb_le16(f, (uint16_t)(v >> 16));
}

static void fb_bytes(struct fb *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fb_u8(f, p[i]);
}

static void fb_fill(struct fb *f, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fb_u8(f, v);
}

/* A 20-byte IPv4 header (content beyond the version nibble is irrelevant here). */
static void fb_ipv4(struct fb *f)
{
	fb_u8(f, 0x45);
	fb_u8(f, 0x00);
	fb_be16(f, 20);
	for (size_t i = 4; i < 20; i++)
		fb_u8(f, (uint8_t)(0xA0 + i));
}

/* A 40-byte IPv6 header. */
static void fb_ipv6(struct fb *f)
{
	fb_u8(f, 0x60);
	for (size_t i = 1; i < 40; i++)
		fb_u8(f, (uint8_t)(0xB0 + i));
}

static const uint8_t mac_dst[6] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t mac_src[6] = { 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB };

static void fb_eth(struct fb *f, uint16_t type)
{
	fb_bytes(f, mac_dst, 6);
	fb_bytes(f, mac_src, 6);
	fb_be16(f, type);
}

/* 802.1Q tag body after its TPID: TCI, then the next Length/Type. */
static void fb_tag(struct fb *f, uint16_t tci, uint16_t next)
{
	fb_be16(f, tci);
	fb_be16(f, next);
}

/* ---- decoding helper ---------------------------------------------------- */

struct result {
	int rc;
	long off;            /* out.data - frame, or -1 when out.data is NULL */
	uint32_t len;
	uint16_t ethertype;
	struct pkt p;
};

/* Decode the first caplen bytes of frame from a buffer of exactly that size.
 * p starts poisoned so stale link fields would show. */
static struct result run_len(int dlt, const uint8_t *frame, size_t caplen)
{
	struct result r;
	memset(&r, 0, sizeof r);
	/* For caplen 0, point one past a 1-byte block: any read is an overflow. */
	uint8_t *block = malloc(caplen ? caplen : 1);
	ck_assert_ptr_nonnull(block);
	const uint8_t *start = caplen ? block : block + 1;
	if (caplen)
		memcpy(block, frame, caplen);

	r.p.dlt = dlt;
	r.p.frame = start;
	r.p.caplen = (uint32_t)caplen;
	r.p.wirelen = (uint32_t)caplen;
	r.p.has_mac = 1;
	memset(r.p.src_mac, 0xEE, 6);
	memset(r.p.dst_mac, 0xEE, 6);
	r.p.has_vlan = 1;
	r.p.vlan = 0xFFFF;

	struct l3_view v = { 0xEEEE, NULL, 0xEEEEEEEE };
	r.rc = link_decode(&r.p, &v);
	r.ethertype = v.ethertype;
	r.len = v.len;
	r.off = v.data ? (long)(v.data - start) : -1;
	if (r.rc == DECODE_OK) {
		ck_assert_ptr_nonnull(v.data);
		ck_assert_int_ge(r.off, 0);
		ck_assert_uint_le((size_t)r.off + v.len, caplen);
	}
	r.p.frame = NULL;   /* the block is gone after this */
	free(block);
	return r;
}

static struct result run(int dlt, const struct fb *f)
{
	return run_len(dlt, f->b, f->n);
}

static void assert_ok(const struct result *r, uint16_t ethertype, long off, uint32_t len)
{
	ck_assert_int_eq(r->rc, DECODE_OK);
	ck_assert_uint_eq(r->ethertype, ethertype);
	ck_assert_int_eq(r->off, off);
	ck_assert_uint_eq(r->len, len);
}

static void assert_no_mac(const struct result *r)
{
	static const uint8_t zero[6];
	ck_assert_int_eq(r->p.has_mac, 0);
	ck_assert_mem_eq(r->p.src_mac, zero, 6);
	ck_assert_mem_eq(r->p.dst_mac, zero, 6);
}

static void assert_no_vlan(const struct result *r)
{
	ck_assert_int_eq(r->p.has_vlan, 0);
	ck_assert_uint_eq(r->p.vlan, 0);
}

static void assert_vlan(const struct result *r, uint16_t vid)
{
	ck_assert_int_eq(r->p.has_vlan, 1);
	ck_assert_uint_eq(r->p.vlan, vid);
}

/* ---- Ethernet ----------------------------------------------------------- */

START_TEST(eth_ipv4)
{
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x0800);
	fb_ipv4(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 14, 20);
	ck_assert_int_eq(r.p.has_mac, 1);
	ck_assert_mem_eq(r.p.dst_mac, mac_dst, 6);
	ck_assert_mem_eq(r.p.src_mac, mac_src, 6);
	assert_no_vlan(&r);
}
END_TEST

START_TEST(eth_ipv6)
{
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x86DD);
	fb_ipv6(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 14, 40);
	ck_assert_int_eq(r.p.has_mac, 1);
	ck_assert_mem_eq(r.p.dst_mac, mac_dst, 6);
	ck_assert_mem_eq(r.p.src_mac, mac_src, 6);
	assert_no_vlan(&r);
}
END_TEST

START_TEST(eth_vlan_masks_priority_and_dei)
{
	uint64_t before = tf_stats.vlan_tags;
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x8100);
	fb_tag(&f, 0xF0C8, 0x0800);   /* PCP 7, DEI 1, VID 200 */
	fb_ipv4(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 18, 20);
	assert_vlan(&r, 200);
	ck_assert_int_eq(r.p.has_mac, 1);
	ck_assert_uint_eq(tf_stats.vlan_tags - before, 1);

	struct fb g = { .n = 0 };
	fb_eth(&g, 0x8100);
	fb_tag(&g, 0xFFFF, 0x86DD);   /* every bit set: VID 4095 */
	fb_ipv6(&g);
	r = run(1, &g);
	assert_ok(&r, ETHERTYPE_IPV6, 18, 40);
	assert_vlan(&r, 0x0FFF);
}
END_TEST

START_TEST(eth_qinq)
{
	uint64_t before = tf_stats.vlan_tags;
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x88A8);
	fb_tag(&f, 0x200A, 0x8100);   /* S-tag PCP 1, VID 10 */
	fb_tag(&f, 0xA014, 0x0800);   /* C-tag PCP 5, VID 20 */
	fb_ipv4(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 22, 20);
	assert_vlan(&r, 20);
	ck_assert_uint_eq(tf_stats.vlan_tags - before, 2);
}
END_TEST

START_TEST(eth_triple_stack)
{
	uint64_t before = tf_stats.vlan_tags;
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x9100);
	fb_tag(&f, 0x0003, 0x88A8);   /* VID 3 */
	fb_tag(&f, 0x1002, 0x8100);   /* DEI, VID 2 */
	fb_tag(&f, 0xC123, 0x86DD);   /* PCP 6, VID 0x123 */
	fb_ipv6(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 26, 40);
	assert_vlan(&r, 0x123);
	ck_assert_uint_eq(tf_stats.vlan_tags - before, 3);
}
END_TEST

START_TEST(eth_not_ip)
{
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x0806);           /* ARP */
	fb_fill(&f, 0x01, 28);
	struct result r = run(1, &f);
	ck_assert_int_eq(r.rc, DECODE_NOT_IP);
	ck_assert_uint_eq(r.ethertype, 0x0806);
	ck_assert_int_eq(r.p.has_mac, 1);
	assert_no_vlan(&r);

	struct fb g = { .n = 0 };
	fb_eth(&g, 0x88CC);           /* LLDP */
	fb_fill(&g, 0x02, 20);
	r = run(1, &g);
	ck_assert_int_eq(r.rc, DECODE_NOT_IP);
	ck_assert_uint_eq(r.ethertype, 0x88CC);

	struct fb h = { .n = 0 };
	fb_eth(&h, 0x8100);
	fb_tag(&h, 0x0007, 0x0806);   /* ARP in VLAN 7 */
	fb_fill(&h, 0x01, 28);
	r = run(1, &h);
	ck_assert_int_eq(r.rc, DECODE_NOT_IP);
	assert_vlan(&r, 7);
}
END_TEST

/* One MPLS label stack entry (RFC 3032 section 2.1). */
static void fb_label(struct fb *f, uint32_t label, int bottom)
{
	fb_be32(f, (label << 12) | (bottom ? 0x100u : 0) | 64);
}

START_TEST(mpls_label_stacks)
{
	uint64_t n0 = tf_stats.mpls_stacks;
	/* one label, IPv4 */
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x8847);
	fb_label(&f, 16, 1);
	fb_ipv4(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 18, 20);
	/* three labels (multicast ethertype), IPv6 */
	f.n = 0;
	fb_eth(&f, 0x8848);
	fb_label(&f, 100, 0);
	fb_label(&f, 200, 0);
	fb_label(&f, 300, 1);
	fb_ipv6(&f);
	r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 26, 40);
	/* inside a VLAN tag */
	f.n = 0;
	fb_eth(&f, 0x8100);
	fb_tag(&f, 0x0123, 0x8847);
	fb_label(&f, 5, 1);
	fb_ipv4(&f);
	r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 22, 20);
	assert_vlan(&r, 0x123);
	ck_assert_uint_eq(tf_stats.mpls_stacks, n0 + 3);
	/* no bottom of stack before the end */
	f.n = 0;
	fb_eth(&f, 0x8847);
	fb_label(&f, 1, 0);
	fb_label(&f, 2, 0);
	ck_assert_int_eq(run(1, &f).rc, DECODE_MALFORMED);
	/* an associated channel (first nibble 1) is no data */
	f.n = 0;
	fb_eth(&f, 0x8847);
	fb_label(&f, 13, 1);
	fb_be32(&f, 0x10000021);
	fb_fill(&f, 0, 8);
	ck_assert_int_eq(run(1, &f).rc, DECODE_NOT_IP);
}
END_TEST

static const uint8_t mac_in_dst[6] = { 0x00, 0x50, 0x56, 0x01, 0x02, 0x03 };
static const uint8_t mac_in_src[6] = { 0xa0, 0x36, 0x9f, 0x04, 0x05, 0x06 };

START_TEST(mpls_ethernet_pseudowire)
{
	/* RFC 4448 with the RFC 4385 control word; the inner frame's MACs and
	 * VLAN tag are the ones reported */
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x8847);
	fb_label(&f, 77, 1);
	fb_be32(&f, 0x00000005);           /* control word, sequence 5 */
	fb_bytes(&f, mac_in_dst, 6);
	fb_bytes(&f, mac_in_src, 6);
	fb_be16(&f, 0x8100);
	fb_tag(&f, 0x0042, 0x0800);
	fb_ipv4(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 14 + 4 + 4 + 18, 20);
	ck_assert_mem_eq(r.p.dst_mac, mac_in_dst, 6);
	ck_assert_mem_eq(r.p.src_mac, mac_in_src, 6);
	assert_vlan(&r, 0x42);
	/* without the control word: a destination MAC starting with a 0 nibble */
	f.n = 0;
	fb_eth(&f, 0x8847);
	fb_label(&f, 77, 1);
	fb_bytes(&f, mac_in_dst, 6);
	fb_bytes(&f, mac_in_src, 6);
	fb_be16(&f, 0x86DD);
	fb_ipv6(&f);
	r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 14 + 4 + 14, 40);
	ck_assert_mem_eq(r.p.src_mac, mac_in_src, 6);
	/* ... and one starting with another nibble */
	f.n = 0;
	fb_eth(&f, 0x8847);
	fb_label(&f, 77, 1);
	fb_bytes(&f, mac_in_src, 6);
	fb_bytes(&f, mac_in_dst, 6);
	fb_be16(&f, 0x0800);
	fb_ipv4(&f);
	r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 14 + 4 + 14, 20);
	ck_assert_mem_eq(r.p.dst_mac, mac_in_src, 6);
	/* MPLS in the pseudowire in MPLS ... nests only so deep */
	f.n = 0;
	fb_eth(&f, 0x8847);
	for (int i = 0; i < 10; i++) {
		fb_label(&f, 9, 1);
		fb_bytes(&f, mac_in_dst, 6);
		fb_bytes(&f, mac_in_src, 6);
		fb_be16(&f, 0x8847);
	}
	fb_label(&f, 9, 1);
	fb_ipv4(&f);
	uint64_t ex = tf_stats.tunnel_depth_exceeded;
	r = run(1, &f);
	ck_assert_int_eq(r.rc, DECODE_UNSUPPORTED);
	ck_assert_uint_eq(tf_stats.tunnel_depth_exceeded, ex + 1);
}
END_TEST

/* PPPoE session header (RFC 2516 section 4) with a PPP protocol field. */
static void fb_pppoe(struct fb *f, uint8_t code, uint16_t len)
{
	fb_u8(f, 0x11);
	fb_u8(f, code);
	fb_be16(f, 0x1234);                /* session id */
	fb_be16(f, len);
}

START_TEST(pppoe_sessions)
{
	uint64_t n0 = tf_stats.pppoe_sessions;
	/* IPv4, with Ethernet padding after the PPPoE length */
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x8864);
	fb_pppoe(&f, 0, 2 + 20);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	fb_fill(&f, 0, 6);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 22, 20);
	/* IPv6 with a compressed (one-byte) protocol field, behind a tag */
	f.n = 0;
	fb_eth(&f, 0x8100);
	fb_tag(&f, 0x0009, 0x8864);
	fb_pppoe(&f, 0, 1 + 40);
	fb_u8(&f, 0x57);
	fb_ipv6(&f);
	r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 14 + 4 + 6 + 1, 40);
	assert_vlan(&r, 9);
	ck_assert_uint_eq(tf_stats.pppoe_sessions, n0 + 2);
	/* MPLS over PPP */
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_pppoe(&f, 0, 2 + 4 + 20);
	fb_be16(&f, 0x0281);
	fb_label(&f, 3, 1);
	fb_ipv4(&f);
	r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 14 + 6 + 2 + 4, 20);
	/* LCP, a discovery code, discovery ethertype: no IP */
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_pppoe(&f, 0, 6);
	fb_be16(&f, 0xC021);
	fb_fill(&f, 1, 4);
	ck_assert_int_eq(run(1, &f).rc, DECODE_NOT_IP);
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_pppoe(&f, 0x09, 0);              /* PADI */
	ck_assert_int_eq(run(1, &f).rc, DECODE_NOT_IP);
	f.n = 0;
	fb_eth(&f, 0x8863);
	fb_pppoe(&f, 0x09, 0);
	ck_assert_int_eq(run(1, &f).rc, DECODE_NOT_IP);
	/* Van Jacobson compression cannot be followed */
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_pppoe(&f, 0, 22);
	fb_be16(&f, 0x002D);
	fb_fill(&f, 0x45, 20);
	ck_assert_int_eq(run(1, &f).rc, DECODE_UNSUPPORTED);
	/* wrong version/type, and a length shorter than the protocol field */
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_u8(&f, 0x21);
	fb_u8(&f, 0);
	fb_be16(&f, 1);
	fb_be16(&f, 22);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	ck_assert_int_eq(run(1, &f).rc, DECODE_MALFORMED);
	f.n = 0;
	fb_eth(&f, 0x8864);
	fb_pppoe(&f, 0, 1);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	ck_assert_int_eq(run(1, &f).rc, DECODE_MALFORMED);
}
END_TEST

START_TEST(eth_cut_tag_is_malformed)
{
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x8100);
	fb_be16(&f, 0x0005);          /* TCI but no inner type */
	struct result r = run(1, &f);
	ck_assert_int_eq(r.rc, DECODE_MALFORMED);

	struct fb g = { .n = 0 };
	fb_fill(&g, 0x00, 13);        /* one byte short of a header */
	r = run(1, &g);
	ck_assert_int_eq(r.rc, DECODE_MALFORMED);
	assert_no_mac(&r);
}
END_TEST

/* ---- 802.3 + LLC/SNAP (RFC 1042) -------------------------------------- */

START_TEST(snap_rfc1042)
{
	struct fb f = { .n = 0 };
	fb_eth(&f, 8 + 20);           /* 802.3 length: LLC/SNAP + IPv4 */
	fb_u8(&f, 0xAA);
	fb_u8(&f, 0xAA);
	fb_u8(&f, 0x03);
	fb_u8(&f, 0x00);
	fb_u8(&f, 0x00);
	fb_u8(&f, 0x00);
	fb_be16(&f, 0x0800);
	fb_ipv4(&f);
	fb_fill(&f, 0x00, 6);         /* padding to 60 bytes: not network data */
	ck_assert_uint_eq(f.n, 48);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 22, 20);
	ck_assert_int_eq(r.p.has_mac, 1);
	ck_assert_mem_eq(r.p.src_mac, mac_src, 6);
}
END_TEST

START_TEST(snap_8021h_and_others)
{
	/* IEEE 802.1H bridge tunnel OUI 00-00-F8 */
	struct fb f = { .n = 0 };
	fb_eth(&f, 8 + 40);
	fb_u8(&f, 0xAA);
	fb_u8(&f, 0xAA);
	fb_u8(&f, 0x03);
	fb_u8(&f, 0x00);
	fb_u8(&f, 0x00);
	fb_u8(&f, 0xF8);
	fb_be16(&f, 0x86DD);
	fb_ipv6(&f);
	struct result r = run(1, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 22, 40);

	/* Cisco OUI (CDP): not IP */
	struct fb g = { .n = 0 };
	fb_eth(&g, 8 + 20);
	fb_u8(&g, 0xAA);
	fb_u8(&g, 0xAA);
	fb_u8(&g, 0x03);
	fb_u8(&g, 0x00);
	fb_u8(&g, 0x00);
	fb_u8(&g, 0x0C);
	fb_be16(&g, 0x2000);
	fb_fill(&g, 0x00, 20);
	r = run(1, &g);
	ck_assert_int_eq(r.rc, DECODE_NOT_IP);

	/* Spanning tree LLC (not SNAP) */
	struct fb h = { .n = 0 };
	fb_eth(&h, 38);
	fb_u8(&h, 0x42);
	fb_u8(&h, 0x42);
	fb_u8(&h, 0x03);
	fb_fill(&h, 0x00, 35);
	r = run(1, &h);
	ck_assert_int_eq(r.rc, DECODE_NOT_IP);

	/* a length field shorter than the LLC header lies */
	struct fb k = { .n = 0 };
	fb_eth(&k, 2);
	fb_u8(&k, 0xAA);
	fb_u8(&k, 0xAA);
	fb_u8(&k, 0x03);
	fb_fill(&k, 0x00, 40);
	r = run(1, &k);
	ck_assert_int_eq(r.rc, DECODE_MALFORMED);
}
END_TEST

/* ---- headerless IP ------------------------------------------------------ */

START_TEST(raw_version_nibble)
{
	static const int dlts[] = { 12, 14, 101 };
	for (size_t i = 0; i < sizeof dlts / sizeof dlts[0]; i++) {
		struct fb f = { .n = 0 };
		fb_ipv4(&f);
		struct result r = run(dlts[i], &f);
		assert_ok(&r, ETHERTYPE_IPV4, 0, 20);
		assert_no_mac(&r);
		assert_no_vlan(&r);

		struct fb g = { .n = 0 };
		fb_ipv6(&g);
		r = run(dlts[i], &g);
		assert_ok(&r, ETHERTYPE_IPV6, 0, 40);

		struct fb h = { .n = 0 };
		fb_u8(&h, 0x55);
		fb_fill(&h, 0x00, 19);
		r = run(dlts[i], &h);
		ck_assert_int_eq(r.rc, DECODE_MALFORMED);

		r = run_len(dlts[i], f.b, 0);
		ck_assert_int_eq(r.rc, DECODE_MALFORMED);
		ck_assert_int_eq(link_is_supported(dlts[i]), 1);
	}
}
END_TEST

START_TEST(ipv4_ipv6_fixed)
{
	struct fb f = { .n = 0 };
	fb_ipv4(&f);
	struct result r = run(228, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 0, 20);
	assert_no_mac(&r);

	struct fb g = { .n = 0 };
	fb_ipv6(&g);
	r = run(229, &g);
	assert_ok(&r, ETHERTYPE_IPV6, 0, 40);
	assert_no_mac(&r);

	/* the link type decides, not the bytes: the IP layer judges them */
	r = run(228, &g);
	assert_ok(&r, ETHERTYPE_IPV4, 0, 40);
}
END_TEST

/* ---- NULL / LOOP -------------------------------------------------------- */

static const struct {
	uint32_t af;
	uint16_t ethertype;
} af_cases[] = {
	{ 2, ETHERTYPE_IPV4 },
	{ 10, ETHERTYPE_IPV6 },    /* Linux */
	{ 24, ETHERTYPE_IPV6 },    /* NetBSD/OpenBSD */
	{ 28, ETHERTYPE_IPV6 },    /* FreeBSD */
	{ 30, ETHERTYPE_IPV6 },    /* Darwin */
};

static void check_af(int dlt)
{
	for (size_t i = 0; i < sizeof af_cases / sizeof af_cases[0]; i++) {
		for (int big = 0; big <= 1; big++) {
			struct fb f = { .n = 0 };
			if (big)
				fb_be32(&f, af_cases[i].af);
			else
				fb_le32(&f, af_cases[i].af);
			if (af_cases[i].ethertype == ETHERTYPE_IPV4)
				fb_ipv4(&f);
			else
				fb_ipv6(&f);
			struct result r = run(dlt, &f);
			assert_ok(&r, af_cases[i].ethertype, 4, (uint32_t)f.n - 4);
			assert_no_mac(&r);
			assert_no_vlan(&r);
		}
	}
	/* AF_APPLETALK-ish and garbage: not IP, either order */
	struct fb g = { .n = 0 };
	fb_le32(&g, 16);
	fb_fill(&g, 0x00, 20);
	ck_assert_int_eq(run(dlt, &g).rc, DECODE_NOT_IP);
	struct fb h = { .n = 0 };
	fb_be32(&h, 0x12345678);
	fb_ipv4(&h);
	ck_assert_int_eq(run(dlt, &h).rc, DECODE_NOT_IP);
	struct fb k = { .n = 0 };
	fb_u8(&k, 2);
	fb_u8(&k, 0);
	fb_u8(&k, 0);
	ck_assert_int_eq(run(dlt, &k).rc, DECODE_MALFORMED);
}

START_TEST(null_both_orders)
{
	check_af(0);
}
END_TEST

START_TEST(loop_both_orders)
{
	check_af(108);
}
END_TEST

/* ---- Linux cooked captures --------------------------------------------- */

static void fb_sll(struct fb *f, uint16_t proto)
{
	fb_be16(f, 0);                /* packet type: to us */
	fb_be16(f, 1);                /* ARPHRD_ETHER */
	fb_be16(f, 6);                /* address length */
	fb_bytes(f, mac_src, 6);
	fb_be16(f, 0);                /* address padding */
	fb_be16(f, proto);
}

static void fb_sll2(struct fb *f, uint16_t proto)
{
	fb_be16(f, proto);
	fb_be16(f, 0);                /* reserved */
	fb_be32(f, 3);                /* interface index */
	fb_be16(f, 1);                /* ARPHRD_ETHER */
	fb_u8(f, 4);                  /* packet type: outgoing */
	fb_u8(f, 6);                  /* address length */
	fb_bytes(f, mac_src, 6);
	fb_be16(f, 0);
}

START_TEST(sll_ipv4)
{
	struct fb f = { .n = 0 };
	fb_sll(&f, 0x0800);
	fb_ipv4(&f);
	struct result r = run(113, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 16, 20);
	assert_no_mac(&r);           /* a sender address is not a MAC pair */
	assert_no_vlan(&r);
}
END_TEST

START_TEST(sll_vlan)
{
	uint64_t before = tf_stats.vlan_tags;
	struct fb f = { .n = 0 };
	fb_sll(&f, 0x8100);
	fb_tag(&f, 0x6005, 0x86DD);   /* PCP 3, VID 5 */
	fb_ipv6(&f);
	struct result r = run(113, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 20, 40);
	assert_vlan(&r, 5);
	assert_no_mac(&r);
	ck_assert_uint_eq(tf_stats.vlan_tags - before, 1);
}
END_TEST

START_TEST(sll_not_ip_and_llc)
{
	struct fb f = { .n = 0 };
	fb_sll(&f, 0x0806);
	fb_fill(&f, 0x01, 28);
	ck_assert_int_eq(run(113, &f).rc, DECODE_NOT_IP);

	struct fb g = { .n = 0 };
	fb_sll(&g, 0x0001);           /* ETH_P_802_3: Novell raw */
	fb_fill(&g, 0xFF, 30);
	ck_assert_int_eq(run(113, &g).rc, DECODE_NOT_IP);

	struct fb h = { .n = 0 };
	fb_sll(&h, 0x0004);           /* ETH_P_802_2: LLC follows */
	fb_u8(&h, 0xAA);
	fb_u8(&h, 0xAA);
	fb_u8(&h, 0x03);
	fb_u8(&h, 0x00);
	fb_u8(&h, 0x00);
	fb_u8(&h, 0x00);
	fb_be16(&h, 0x0800);
	fb_ipv4(&h);
	struct result r = run(113, &h);
	assert_ok(&r, ETHERTYPE_IPV4, 24, 20);

	struct fb k = { .n = 0 };
	fb_fill(&k, 0x00, 15);
	ck_assert_int_eq(run(113, &k).rc, DECODE_MALFORMED);
}
END_TEST

START_TEST(sll2_ipv6_and_vlan)
{
	struct fb f = { .n = 0 };
	fb_sll2(&f, 0x86DD);
	fb_ipv6(&f);
	struct result r = run(276, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 20, 40);
	assert_no_mac(&r);
	assert_no_vlan(&r);

	struct fb g = { .n = 0 };
	fb_sll2(&g, 0x8100);
	fb_tag(&g, 0x2064, 0x0800);   /* PCP 1, VID 100 */
	fb_ipv4(&g);
	r = run(276, &g);
	assert_ok(&r, ETHERTYPE_IPV4, 24, 20);
	assert_vlan(&r, 100);

	struct fb h = { .n = 0 };
	fb_fill(&h, 0x00, 19);
	ck_assert_int_eq(run(276, &h).rc, DECODE_MALFORMED);
}
END_TEST

/* ---- NFLOG -------------------------------------------------------------- */

typedef void (*fb16_fn)(struct fb *f, uint16_t v);

/* family, version 0, resource id 1 (big-endian); then, in the TLV byte order
 * given: NFULA_PACKET_HDR (8 bytes), NFULA_PREFIX "abcd\0" (9 bytes, padded
 * to 12), NFULA_PAYLOAD. Payload starts at 4 + 8 + 12 + 4 = 28. */
static void fb_nflog(struct fb *f, uint8_t family, fb16_fn put16)
{
	fb_u8(f, family);
	fb_u8(f, 0);
	fb_be16(f, 1);
	put16(f, 8);
	put16(f, 1);                  /* NFULA_PACKET_HDR */
	fb_be16(f, 0x0800);           /* hw_protocol */
	fb_u8(f, 3);                  /* hook */
	fb_u8(f, 0);
	put16(f, 9);
	put16(f, 10);                 /* NFULA_PREFIX */
	fb_bytes(f, (const uint8_t *)"abcd", 5);
	fb_fill(f, 0, 3);
	put16(f, (uint16_t)(4 + (family == 10 ? 40 : 20)));
	put16(f, 9);                  /* NFULA_PAYLOAD */
	if (family == 10)
		fb_ipv6(f);
	else
		fb_ipv4(f);
}

START_TEST(nflog_ipv4_after_tlvs)
{
	struct fb f = { .n = 0 };
	fb_nflog(&f, 2, fb_le16);
	struct result r = run(239, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 28, 20);
	assert_no_mac(&r);
	assert_no_vlan(&r);
}
END_TEST

START_TEST(nflog_ipv6)
{
	struct fb f = { .n = 0 };
	fb_nflog(&f, 10, fb_le16);
	struct result r = run(239, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 28, 40);

	/* payload as the only TLV */
	struct fb g = { .n = 0 };
	fb_u8(&g, 10);
	fb_u8(&g, 0);
	fb_be16(&g, 0);
	fb_le16(&g, 44);
	fb_le16(&g, 9);
	fb_ipv6(&g);
	r = run(239, &g);
	assert_ok(&r, ETHERTYPE_IPV6, 8, 40);
}
END_TEST

START_TEST(nflog_other_byte_order)
{
	struct fb f = { .n = 0 };
	fb_nflog(&f, 2, fb_be16);
	struct result r = run(239, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 28, 20);
}
END_TEST

START_TEST(nflog_payload_then_more_tlvs)
{
	struct fb f = { .n = 0 };
	fb_nflog(&f, 2, fb_le16);
	fb_le16(&f, 8);
	fb_le16(&f, 11);              /* NFULA_UID after the payload */
	fb_be32(&f, 1000);
	struct result r = run(239, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 28, 20);
}
END_TEST

START_TEST(nflog_not_ip_and_malformed)
{
	struct fb f = { .n = 0 };
	fb_nflog(&f, 7, fb_le16);     /* AF_BRIDGE */
	ck_assert_int_eq(run(239, &f).rc, DECODE_NOT_IP);

	/* metadata only, no payload TLV */
	struct fb g = { .n = 0 };
	fb_u8(&g, 2);
	fb_u8(&g, 0);
	fb_be16(&g, 0);
	fb_le16(&g, 8);
	fb_le16(&g, 1);
	fb_be32(&g, 0x08000300);
	ck_assert_int_eq(run(239, &g).rc, DECODE_NOT_IP);

	/* a TLV length below its own header */
	struct fb h = { .n = 0 };
	fb_u8(&h, 2);
	fb_u8(&h, 0);
	fb_be16(&h, 0);
	fb_le16(&h, 2);
	fb_le16(&h, 9);
	fb_ipv4(&h);
	ck_assert_int_eq(run(239, &h).rc, DECODE_MALFORMED);

	/* a TLV running past the capture */
	struct fb k = { .n = 0 };
	fb_u8(&k, 2);
	fb_u8(&k, 0);
	fb_be16(&k, 0);
	fb_le16(&k, 200);
	fb_le16(&k, 10);
	fb_fill(&k, 0x41, 20);
	ck_assert_int_eq(run(239, &k).rc, DECODE_MALFORMED);
}
END_TEST

/* ---- PPP family ----------------------------------------------------------- */

START_TEST(ppp_link_types)
{
	/* LINKTYPE_PPP: with RFC 1662 address/control, without, compressed protocol */
	struct fb f = { .n = 0 };
	fb_u8(&f, 0xFF);
	fb_u8(&f, 0x03);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	struct result r = run(9, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 4, 20);
	assert_no_mac(&r);
	f.n = 0;
	fb_be16(&f, 0x0057);
	fb_ipv6(&f);
	assert_ok((r = run(9, &f), &r), ETHERTYPE_IPV6, 2, 40);
	f.n = 0;
	fb_u8(&f, 0x21);
	fb_ipv4(&f);
	assert_ok((r = run(9, &f), &r), ETHERTYPE_IPV4, 1, 20);
	/* LCP: no IP */
	f.n = 0;
	fb_u8(&f, 0xFF);
	fb_u8(&f, 0x03);
	fb_be16(&f, 0xC021);
	fb_fill(&f, 0, 8);
	ck_assert_int_eq(run(9, &f).rc, DECODE_NOT_IP);
	/* LINKTYPE_PPP_WITH_DIR: a direction byte first */
	f.n = 0;
	fb_u8(&f, 1);
	fb_u8(&f, 0xFF);
	fb_u8(&f, 0x03);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	assert_ok((r = run(204, &f), &r), ETHERTYPE_IPV4, 5, 20);
	/* LINKTYPE_PPP_HDLC / PPP_PPPD: RFC 1662, or Cisco HDLC */
	f.n = 0;
	fb_u8(&f, 0x0F);
	fb_u8(&f, 0x00);
	fb_be16(&f, 0x86DD);
	fb_ipv6(&f);
	assert_ok((r = run(50, &f), &r), ETHERTYPE_IPV6, 4, 40);
	assert_ok((r = run(166, &f), &r), ETHERTYPE_IPV6, 4, 40);
	f.n = 0;
	fb_u8(&f, 0xFF);
	fb_u8(&f, 0x03);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	assert_ok((r = run(50, &f), &r), ETHERTYPE_IPV4, 4, 20);
	/* LINKTYPE_PPP_PPPD: a direction byte in place of the address */
	f.n = 0;
	fb_u8(&f, 0x01);
	fb_u8(&f, 0x03);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	assert_ok((r = run(166, &f), &r), ETHERTYPE_IPV4, 4, 20);
	/* LINKTYPE_C_HDLC */
	f.n = 0;
	fb_u8(&f, 0x8F);
	fb_u8(&f, 0x00);
	fb_be16(&f, 0x0800);
	fb_ipv4(&f);
	assert_ok((r = run(104, &f), &r), ETHERTYPE_IPV4, 4, 20);
	/* LINKTYPE_PPP_ETHER: a PPPoE header, then PPP */
	f.n = 0;
	fb_pppoe(&f, 0, 22);
	fb_be16(&f, 0x0021);
	fb_ipv4(&f);
	assert_ok((r = run(51, &f), &r), ETHERTYPE_IPV4, 8, 20);
	assert_no_mac(&r);
	f.n = 0;
	fb_pppoe(&f, 0x07, 0);              /* PADO */
	ck_assert_int_eq(run(51, &f).rc, DECODE_NOT_IP);
	/* cut short */
	f.n = 0;
	fb_u8(&f, 0xFF);
	fb_u8(&f, 0x03);
	fb_u8(&f, 0x00);
	ck_assert_int_eq(run(9, &f).rc, DECODE_MALFORMED);
	ck_assert_int_eq(run_len(204, f.b, 0).rc, DECODE_MALFORMED);
}
END_TEST

/* ---- IEEE 802.11 ------------------------------------------------------------ */

static const uint8_t wa1[6] = { 0x02, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1 };
static const uint8_t wa2[6] = { 0x02, 0xa2, 0xa2, 0xa2, 0xa2, 0xa2 };
static const uint8_t wa3[6] = { 0x02, 0xa3, 0xa3, 0xa3, 0xa3, 0xa3 };
static const uint8_t wa4[6] = { 0x02, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4 };

#define WF_TODS 0x01
#define WF_FROMDS 0x02
#define WF_MOREFRAG 0x04
#define WF_PROTECTED 0x40
#define WF_ORDER 0x80

/* An 802.11 frame: header for type/subtype and flags, then (data frames)
 * LLC/SNAP and an IP header of the given ethertype. Returns the header
 * length (where LLC starts). */
static size_t fb_80211(struct fb *f, unsigned type, unsigned subtype, uint8_t flags,
		       uint16_t qos, uint16_t seqctl, uint16_t ethertype)
{
	size_t start = f->n;
	fb_u8(f, (uint8_t)((subtype << 4) | (type << 2)));
	fb_u8(f, flags);
	fb_le16(f, 0x002c);                 /* duration */
	fb_bytes(f, wa1, 6);
	fb_bytes(f, wa2, 6);
	fb_bytes(f, wa3, 6);
	fb_le16(f, seqctl);
	if ((flags & (WF_TODS | WF_FROMDS)) == (WF_TODS | WF_FROMDS))
		fb_bytes(f, wa4, 6);
	if (type == 2 && (subtype & 0x8)) {
		fb_le16(f, qos);
		if (flags & WF_ORDER)
			fb_be32(f, 0x11223344); /* HT Control */
	}
	size_t hl = f->n - start;
	if (type == 2 && !(subtype & 0x4) && ethertype) {
		static const uint8_t snap[6] = { 0xAA, 0xAA, 0x03, 0, 0, 0 };
		fb_bytes(f, snap, 6);
		fb_be16(f, ethertype);
		if (ethertype == 0x86DD)
			fb_ipv6(f);
		else
			fb_ipv4(f);
	}
	return hl;
}

/* Append the FCS of bytes [from, n) (IEEE 802.3 CRC-32, least significant
 * byte first), computed here bit by bit, independently of link.c's table. */
static void fb_fcs(struct fb *f, size_t from)
{
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = from; i < f->n; i++) {
		crc ^= f->b[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
	}
	fb_le32(f, ~crc);
}

START_TEST(wifi_data_frames)
{
	struct fb f = { .n = 0 };
	uint64_t d0 = tf_stats.wifi_data_frames;
	/* To DS: BSSID A1, SA A2, DA A3 */
	size_t hl = fb_80211(&f, 2, 0, WF_TODS, 0, 0x1230, 0x0800);
	ck_assert_uint_eq(hl, 24);
	struct result r = run(105, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 24 + 8, 20);
	ck_assert_int_eq(r.p.has_mac, 1);
	ck_assert_mem_eq(r.p.src_mac, wa2, 6);
	ck_assert_mem_eq(r.p.dst_mac, wa3, 6);
	/* QoS data From DS: DA A1, SA A3 */
	f.n = 0;
	hl = fb_80211(&f, 2, 8, WF_FROMDS, 0x0005, 0, 0x86DD);
	ck_assert_uint_eq(hl, 26);
	r = run(105, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 26 + 8, 40);
	ck_assert_mem_eq(r.p.src_mac, wa3, 6);
	ck_assert_mem_eq(r.p.dst_mac, wa1, 6);
	/* 4 addresses, QoS, +HTC: DA A3, SA A4 */
	f.n = 0;
	hl = fb_80211(&f, 2, 8, WF_TODS | WF_FROMDS | WF_ORDER, 0, 0, 0x0800);
	ck_assert_uint_eq(hl, 36);
	r = run(105, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 36 + 8, 20);
	ck_assert_mem_eq(r.p.src_mac, wa4, 6);
	ck_assert_mem_eq(r.p.dst_mac, wa3, 6);
	/* ad hoc (no DS bits): DA A1, SA A2; a VLAN tag after SNAP */
	f.n = 0;
	fb_80211(&f, 2, 0, 0, 0, 0, 0);
	static const uint8_t snap[6] = { 0xAA, 0xAA, 0x03, 0, 0, 0 };
	fb_bytes(&f, snap, 6);
	fb_be16(&f, 0x8100);
	fb_tag(&f, 0x0007, 0x0800);
	fb_ipv4(&f);
	r = run(105, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 24 + 8 + 4, 20);
	ck_assert_mem_eq(r.p.src_mac, wa2, 6);
	ck_assert_mem_eq(r.p.dst_mac, wa1, 6);
	assert_vlan(&r, 7);
	ck_assert_uint_eq(tf_stats.wifi_data_frames, d0 + 4);
}
END_TEST

START_TEST(wifi_skipped_frames)
{
	struct fb f = { .n = 0 };
	uint64_t other = tf_stats.wifi_other_frames, prot = tf_stats.wifi_protected,
		 frag = tf_stats.wifi_fragmented, amsdu = tf_stats.wifi_amsdu;
	/* a beacon, an ACK-sized control frame, Null and QoS Null data */
	fb_80211(&f, 0, 8, 0, 0, 0, 0);
	fb_fill(&f, 0, 12);
	ck_assert_int_eq(run(105, &f).rc, DECODE_NOT_IP);
	f.n = 0;
	fb_u8(&f, 0xD4);
	fb_u8(&f, 0);
	fb_le16(&f, 0);
	fb_bytes(&f, wa1, 6);
	ck_assert_int_eq(run(105, &f).rc, DECODE_NOT_IP);
	f.n = 0;
	fb_80211(&f, 2, 4, WF_TODS, 0, 0, 0);
	ck_assert_int_eq(run(105, &f).rc, DECODE_NOT_IP);
	f.n = 0;
	fb_80211(&f, 2, 12, WF_TODS, 0, 0, 0);
	ck_assert_int_eq(run(105, &f).rc, DECODE_NOT_IP);
	ck_assert_uint_eq(tf_stats.wifi_other_frames, other + 4);
	/* protected (encrypted) */
	f.n = 0;
	fb_80211(&f, 2, 8, WF_TODS | WF_PROTECTED, 0, 0, 0x0800);
	ck_assert_int_eq(run(105, &f).rc, DECODE_UNSUPPORTED);
	ck_assert_uint_eq(tf_stats.wifi_protected, prot + 1);
	/* MAC-level fragments: More Fragments, or a fragment number */
	f.n = 0;
	fb_80211(&f, 2, 0, WF_TODS | WF_MOREFRAG, 0, 0x0010, 0x0800);
	ck_assert_int_eq(run(105, &f).rc, DECODE_UNSUPPORTED);
	f.n = 0;
	fb_80211(&f, 2, 0, WF_TODS, 0, 0x0011, 0x0800);
	ck_assert_int_eq(run(105, &f).rc, DECODE_UNSUPPORTED);
	ck_assert_uint_eq(tf_stats.wifi_fragmented, frag + 2);
	/* A-MSDU */
	f.n = 0;
	fb_80211(&f, 2, 8, WF_FROMDS, 0x0080, 0, 0x0800);
	ck_assert_int_eq(run(105, &f).rc, DECODE_UNSUPPORTED);
	ck_assert_uint_eq(tf_stats.wifi_amsdu, amsdu + 1);
	/* not SNAP; protocol version 1; cut in the header */
	f.n = 0;
	fb_80211(&f, 2, 0, WF_TODS, 0, 0, 0);
	fb_u8(&f, 0x42);
	fb_u8(&f, 0x42);
	fb_u8(&f, 0x03);
	fb_fill(&f, 0, 30);
	ck_assert_int_eq(run(105, &f).rc, DECODE_NOT_IP);
	f.n = 0;
	fb_80211(&f, 2, 0, WF_TODS, 0, 0, 0x0800);
	f.b[0] |= 1;
	ck_assert_int_eq(run(105, &f).rc, DECODE_UNSUPPORTED);
	f.n = 0;
	fb_80211(&f, 2, 8, WF_TODS | WF_FROMDS, 0, 0, 0x0800);
	ck_assert_int_eq(run_len(105, f.b, 31).rc, DECODE_MALFORMED);
}
END_TEST

/* Decode with an explicit check_fcs setting. */
static struct result run_fcs(int dlt, const struct fb *f, int check_fcs)
{
	struct link_config cfg = { .check_fcs = check_fcs };
	struct result r;
	memset(&r, 0, sizeof r);
	uint8_t *block = malloc(f->n);
	ck_assert_ptr_nonnull(block);
	memcpy(block, f->b, f->n);
	r.p.dlt = dlt;
	r.p.frame = block;
	r.p.caplen = r.p.wirelen = (uint32_t)f->n;
	struct l3_view v = { 0, NULL, 0 };
	r.rc = link_decode_with(&r.p, &cfg, &v);
	r.ethertype = v.ethertype;
	r.len = v.len;
	r.off = v.data ? (long)(v.data - block) : -1;
	r.p.frame = NULL;
	free(block);
	return r;
}

START_TEST(wifi_fcs_plain_80211)
{
	/* DLT 105 says nothing: with check_fcs, a trailer that verifies is the
	 * FCS; without, nothing is assumed */
	struct fb f = { .n = 0 };
	fb_80211(&f, 2, 0, WF_TODS, 0, 0, 0x0800);
	size_t body = f.n;
	fb_fcs(&f, 0);
	uint64_t st = tf_stats.wifi_fcs_stripped;
	struct result r = run_fcs(105, &f, 1);
	assert_ok(&r, ETHERTYPE_IPV4, 32, 20);
	ck_assert_uint_eq(tf_stats.wifi_fcs_stripped, st + 1);
	r = run_fcs(105, &f, 0);
	assert_ok(&r, ETHERTYPE_IPV4, 32, 24);
	/* no FCS: nothing is cut off either way */
	f.n = body;
	r = run_fcs(105, &f, 1);
	assert_ok(&r, ETHERTYPE_IPV4, 32, 20);
	/* a damaged FCS is not recognised as one */
	f.n = body;
	fb_fcs(&f, 0);
	f.b[f.n - 1] ^= 1;
	r = run_fcs(105, &f, 1);
	assert_ok(&r, ETHERTYPE_IPV4, 32, 24);
}
END_TEST

/* A radiotap header: present bitmap(s) as given, then TSFT (aligned to 8)
 * when bit 0, Flags when bit 1, then an antenna signal byte. */
static void fb_radiotap(struct fb *f, uint32_t present, int ext, uint8_t flags)
{
	size_t start = f->n;
	fb_u8(f, 0);
	fb_u8(f, 0);
	size_t len_at = f->n;
	fb_le16(f, 0);
	fb_le32(f, present | (ext ? 0x80000000u : 0) | 0x20);   /* + antenna signal */
	if (ext)
		fb_le32(f, 0x00000001);     /* a second bitmap word */
	if (present & 1) {
		while ((f->n - start) % 8)
			fb_u8(f, 0);
		fb_be32(f, 0x01020304);
		fb_be32(f, 0x05060708);
	}
	if (present & 2)
		fb_u8(f, flags);
	fb_u8(f, 0xC4);                     /* antenna signal -60 dBm */
	size_t len = f->n - start;
	f->b[len_at] = (uint8_t)len;
	f->b[len_at + 1] = (uint8_t)(len >> 8);
}

START_TEST(wifi_radiotap)
{
	uint64_t bad = tf_stats.wifi_bad_fcs;
	/* Flags without FCS: a trailer that happens to verify stays (not an FCS) */
	struct fb f = { .n = 0 };
	fb_radiotap(&f, 0x2, 0, 0x00);
	size_t rl = f.n;
	ck_assert_uint_eq(rl, 10);
	size_t w = f.n;
	fb_80211(&f, 2, 8, WF_TODS, 0, 0, 0x0800);
	struct result r = run(127, &f);
	assert_ok(&r, ETHERTYPE_IPV4, (long)rl + 26 + 8, 20);
	ck_assert_mem_eq(r.p.src_mac, wa2, 6);
	fb_fcs(&f, w);
	r = run(127, &f);
	assert_ok(&r, ETHERTYPE_IPV4, (long)rl + 26 + 8, 24);
	/* Flags with FCS: stripped; wrong: skipped with check_fcs, kept without */
	f.n = 0;
	fb_radiotap(&f, 0x3, 0, 0x10);      /* TSFT + Flags */
	rl = f.n;
	ck_assert_uint_eq(rl, 18);
	w = f.n;
	fb_80211(&f, 2, 0, WF_FROMDS, 0, 0, 0x86DD);
	fb_fcs(&f, w);
	r = run(127, &f);
	assert_ok(&r, ETHERTYPE_IPV6, (long)rl + 24 + 8, 40);
	f.b[f.n - 2] ^= 0x80;
	r = run_fcs(127, &f, 1);
	ck_assert_int_eq(r.rc, DECODE_MALFORMED);
	ck_assert_uint_eq(tf_stats.wifi_bad_fcs, bad + 1);
	r = run_fcs(127, &f, 0);
	assert_ok(&r, ETHERTYPE_IPV6, (long)rl + 24 + 8, 40);
	/* the driver's "FCS failed" flag */
	f.b[rl - 2] = 0x50;
	r = run_fcs(127, &f, 1);
	ck_assert_int_eq(r.rc, DECODE_MALFORMED);
	ck_assert_uint_eq(tf_stats.wifi_bad_fcs, bad + 2);
	/* an extended bitmap moves the fields; data pad aligns the body */
	f.n = 0;
	fb_radiotap(&f, 0x3, 1, 0x20);
	rl = f.n;
	ck_assert_uint_eq(rl, 26);
	fb_80211(&f, 2, 8, WF_TODS, 0, 0, 0);   /* 26-byte header + 2 pad */
	fb_u8(&f, 0);
	fb_u8(&f, 0);
	static const uint8_t snap[8] = { 0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00 };
	fb_bytes(&f, snap, 8);
	fb_ipv4(&f);
	r = run(127, &f);
	assert_ok(&r, ETHERTYPE_IPV4, (long)rl + 28 + 8, 20);
	/* a header without Flags: FCS by verification only */
	f.n = 0;
	fb_u8(&f, 0);
	fb_u8(&f, 0);
	fb_le16(&f, 8);
	fb_le32(&f, 0);
	w = f.n;
	fb_80211(&f, 2, 0, WF_TODS, 0, 0, 0x0800);
	fb_fcs(&f, w);
	r = run(127, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 8 + 24 + 8, 20);
	/* bad headers: version, a length past the frame or inside the bitmap */
	f.b[0] = 1;
	ck_assert_int_eq(run(127, &f).rc, DECODE_MALFORMED);
	f.b[0] = 0;
	f.b[2] = 0xff;
	ck_assert_int_eq(run(127, &f).rc, DECODE_MALFORMED);
	f.b[2] = 4;
	ck_assert_int_eq(run(127, &f).rc, DECODE_MALFORMED);
	/* Flags promised by the bitmap but past the header length */
	f.n = 0;
	fb_u8(&f, 0);
	fb_u8(&f, 0);
	fb_le16(&f, 8);
	fb_le32(&f, 0x2);
	fb_80211(&f, 2, 0, WF_TODS, 0, 0, 0x0800);
	ck_assert_int_eq(run(127, &f).rc, DECODE_MALFORMED);
}
END_TEST

/* A wlan-ng Prism header: msgcode, msglen 144 (little-endian), device name,
 * ten DID items. */
static void fb_prism(struct fb *f)
{
	fb_le32(f, 0x00000044);
	fb_le32(f, 144);
	fb_bytes(f, (const uint8_t *)"wlan0\0\0\0\0\0\0\0\0\0\0\0", 16);
	for (uint32_t i = 1; i <= 10; i++) {
		fb_le32(f, (i << 12) | 0x44);
		fb_le16(f, 0);
		fb_le16(f, 4);
		fb_le32(f, i);
	}
}

START_TEST(wifi_prism_avs)
{
	struct fb f = { .n = 0 };
	fb_prism(&f);
	ck_assert_uint_eq(f.n, 144);
	size_t w = f.n;
	fb_80211(&f, 2, 0, WF_FROMDS, 0, 0, 0x0800);
	struct result r = run(119, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 144 + 24 + 8, 20);
	ck_assert_mem_eq(r.p.src_mac, wa3, 6);
	/* with an FCS (verified: stripped) */
	fb_fcs(&f, w);
	r = run(119, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 144 + 24 + 8, 20);
	/* an AVS header: in DLT 163, and where DLT 119 captures really have one */
	f.n = 0;
	fb_be32(&f, 0x80211001);
	fb_be32(&f, 64);
	fb_fill(&f, 0, 56);
	fb_80211(&f, 2, 0, WF_TODS, 0, 0, 0x86DD);
	r = run(163, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 64 + 24 + 8, 40);
	r = run(119, &f);
	assert_ok(&r, ETHERTYPE_IPV6, 64 + 24 + 8, 40);
	/* AVS length shorter than itself, or past the frame */
	f.b[7] = 4;
	ck_assert_int_eq(run(163, &f).rc, DECODE_MALFORMED);
	f.b[6] = 0xff;
	ck_assert_int_eq(run(163, &f).rc, DECODE_MALFORMED);
	/* Prism with an implausible length falls back to 144; cut before it */
	f.n = 0;
	fb_prism(&f);
	f.b[4] = 0xff;
	f.b[5] = 0xff;
	fb_80211(&f, 2, 0, WF_FROMDS, 0, 0, 0x0800);
	r = run(119, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 144 + 24 + 8, 20);
	ck_assert_int_eq(run_len(119, f.b, 143).rc, DECODE_MALFORMED);
}
END_TEST

/* PPI header with an 802.11-Common field (flags given) and the DLT. */
static void fb_ppi(struct fb *f, uint32_t dlt, int common, uint16_t flags)
{
	fb_u8(f, 0);
	fb_u8(f, 0);
	fb_le16(f, (uint16_t)(8 + (common ? 24 : 0)));
	fb_le32(f, dlt);
	if (common) {
		fb_le16(f, 2);
		fb_le16(f, 20);
		fb_le32(f, 1);
		fb_le32(f, 0);              /* TSF */
		fb_le16(f, flags);
		fb_le16(f, 108);            /* rate */
		fb_le16(f, 2437);           /* channel */
		fb_le16(f, 0x00a0);
		fb_fill(f, 0, 4);
	}
}

START_TEST(wifi_ppi)
{
	struct fb f = { .n = 0 };
	fb_ppi(&f, 105, 1, 0x0001);
	size_t w = f.n;
	fb_80211(&f, 2, 8, WF_TODS, 0, 0, 0x0800);
	fb_fcs(&f, w);
	struct result r = run(192, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 32 + 26 + 8, 20);
	/* FCS invalid per the flags */
	f.b[8 + 4 + 8] = 0x05;
	ck_assert_int_eq(run(192, &f).rc, DECODE_MALFORMED);
	/* no common field; Ethernet inside */
	f.n = 0;
	fb_ppi(&f, 1, 0, 0);
	fb_eth(&f, 0x0800);
	fb_ipv4(&f);
	r = run(192, &f);
	assert_ok(&r, ETHERTYPE_IPV4, 8 + 14, 20);
	ck_assert_mem_eq(r.p.src_mac, mac_src, 6);
	/* a DLT PPI cannot carry (itself, or unknown) */
	f.n = 0;
	fb_ppi(&f, 192, 0, 0);
	fb_ppi(&f, 105, 0, 0);
	ck_assert_int_eq(run(192, &f).rc, DECODE_UNSUPPORTED);
	f.n = 0;
	fb_ppi(&f, 147, 0, 0);
	fb_ipv4(&f);
	ck_assert_int_eq(run(192, &f).rc, DECODE_UNSUPPORTED);
	/* a field longer than the header */
	f.n = 0;
	fb_ppi(&f, 105, 1, 0);
	f.b[10] = 200;
	fb_80211(&f, 2, 0, WF_TODS, 0, 0, 0x0800);
	ck_assert_int_eq(run(192, &f).rc, DECODE_MALFORMED);
}
END_TEST

/* ---- link types and names ----------------------------------------------- */

START_TEST(unsupported_link_types)
{
	/* ARCNET, FDDI, Token Ring, PFLOG, USER0, junk */
	static const int dlts[] = { 7, 10, 6, 117, 129, 147, 9999, -1 };
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x0800);
	fb_ipv4(&f);
	for (size_t i = 0; i < sizeof dlts / sizeof dlts[0]; i++) {
		ck_assert_int_eq(link_is_supported(dlts[i]), 0);
		struct result r = run(dlts[i], &f);
		ck_assert_int_eq(r.rc, DECODE_UNSUPPORTED);
		ck_assert_int_eq(r.off, -1);
		ck_assert_uint_eq(r.len, 0);
		assert_no_mac(&r);
		assert_no_vlan(&r);
	}
}
END_TEST

START_TEST(supported_link_types)
{
	static const int dlts[] = { 0, 1, 9, 12, 14, 50, 51, 101, 104, 105, 108, 113, 119, 127,
				    163, 166, 192, 204, 228, 229, 239, 276 };
	for (size_t i = 0; i < sizeof dlts / sizeof dlts[0]; i++)
		ck_assert_int_eq(link_is_supported(dlts[i]), 1);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(link_name(0), "NULL");
	ck_assert_str_eq(link_name(1), "EN10MB");
	ck_assert_str_eq(link_name(9), "PPP");
	ck_assert_str_eq(link_name(12), "RAW");
	ck_assert_str_eq(link_name(14), "RAW");
	ck_assert_str_eq(link_name(101), "RAW");
	ck_assert_str_eq(link_name(105), "IEEE802_11");
	ck_assert_str_eq(link_name(108), "LOOP");
	ck_assert_str_eq(link_name(113), "LINUX_SLL");
	ck_assert_str_eq(link_name(119), "PRISM");
	ck_assert_str_eq(link_name(127), "IEEE802_11_RADIO");
	ck_assert_str_eq(link_name(129), "ARCNET_LINUX");
	ck_assert_str_eq(link_name(192), "PPI");
	ck_assert_str_eq(link_name(228), "IPV4");
	ck_assert_str_eq(link_name(229), "IPV6");
	ck_assert_str_eq(link_name(239), "NFLOG");
	ck_assert_str_eq(link_name(276), "LINUX_SLL2");
	ck_assert_str_eq(link_name(9999), "unknown");
	ck_assert_str_eq(link_name(-1), "unknown");
}
END_TEST

START_TEST(fields_reset_between_packets)
{
	/* decode a tagged Ethernet frame, then a NULL frame into the same pkt */
	struct fb f = { .n = 0 };
	fb_eth(&f, 0x8100);
	fb_tag(&f, 0x0042, 0x0800);
	fb_ipv4(&f);
	struct fb g = { .n = 0 };
	fb_le32(&g, 2);
	fb_ipv4(&g);

	struct pkt p;
	memset(&p, 0, sizeof p);
	struct l3_view v;
	p.dlt = 1;
	p.frame = f.b;
	p.caplen = (uint32_t)f.n;
	ck_assert_int_eq(link_decode(&p, &v), DECODE_OK);
	ck_assert_int_eq(p.has_mac, 1);
	ck_assert_uint_eq(p.vlan, 0x42);
	p.dlt = 0;
	p.frame = g.b;
	p.caplen = (uint32_t)g.n;
	ck_assert_int_eq(link_decode(&p, &v), DECODE_OK);
	ck_assert_int_eq(p.has_mac, 0);
	ck_assert_int_eq(p.has_vlan, 0);
	ck_assert_uint_eq(p.vlan, 0);
}
END_TEST

/* ---- truncation sweep and mutation ---------------------------------------- */

struct sweep_case {
	const char *what;
	int dlt;
	struct fb f;
	size_t hdr;        /* bytes needed before anything but an error may come out */
	int rc;            /* outcome once hdr bytes are there */
	long off;          /* for DECODE_OK: where the network layer starts */
	uint32_t len;      /* for DECODE_OK: its length in the full frame */
};

static size_t build_sweep_cases(struct sweep_case *cs, size_t max)
{
	size_t n = 0;
#define ADD(WHAT, DLT, HDR, RC, OFF, LEN) do { \
		ck_assert_uint_lt(n, max); \
		cs[n].what = WHAT; cs[n].dlt = DLT; cs[n].hdr = HDR; \
		cs[n].rc = RC; cs[n].off = OFF; cs[n].len = LEN; n++; \
	} while (0)
	struct fb *f;

	f = &cs[n].f; f->n = 0; fb_eth(f, 0x0800); fb_ipv4(f);
	ADD("eth", 1, 14, DECODE_OK, 14, 20);
	f = &cs[n].f; f->n = 0; fb_eth(f, 0x88A8); fb_tag(f, 0x200A, 0x8100); fb_tag(f, 0xA014, 0x0800); fb_ipv4(f);
	ADD("qinq", 1, 22, DECODE_OK, 22, 20);
	f = &cs[n].f; f->n = 0; fb_eth(f, 0x9100); fb_tag(f, 3, 0x88A8); fb_tag(f, 2, 0x8100); fb_tag(f, 0xC123, 0x86DD); fb_ipv6(f);
	ADD("triple", 1, 26, DECODE_OK, 26, 40);
	f = &cs[n].f; f->n = 0; fb_eth(f, 0x8100); fb_tag(f, 7, 0x0806); fb_fill(f, 1, 28);
	ADD("vlan arp", 1, 18, DECODE_NOT_IP, 0, 0);
	f = &cs[n].f; f->n = 0; fb_eth(f, 28); fb_u8(f, 0xAA); fb_u8(f, 0xAA); fb_u8(f, 3);
	fb_u8(f, 0); fb_u8(f, 0); fb_u8(f, 0); fb_be16(f, 0x0800); fb_ipv4(f); fb_fill(f, 0, 6);
	ADD("snap", 1, 22, DECODE_OK, 22, 20);
	f = &cs[n].f; f->n = 0; fb_ipv4(f);
	ADD("raw 12", 12, 1, DECODE_OK, 0, 20);
	f = &cs[n].f; f->n = 0; fb_ipv6(f);
	ADD("raw 101", 101, 1, DECODE_OK, 0, 40);
	f = &cs[n].f; f->n = 0; fb_ipv4(f);
	ADD("ipv4", 228, 0, DECODE_OK, 0, 20);
	f = &cs[n].f; f->n = 0; fb_ipv6(f);
	ADD("ipv6", 229, 0, DECODE_OK, 0, 40);
	f = &cs[n].f; f->n = 0; fb_le32(f, 30); fb_ipv6(f);
	ADD("null le", 0, 4, DECODE_OK, 4, 40);
	f = &cs[n].f; f->n = 0; fb_be32(f, 24); fb_ipv6(f);
	ADD("loop", 108, 4, DECODE_OK, 4, 40);
	f = &cs[n].f; f->n = 0; fb_sll(f, 0x8100); fb_tag(f, 0x6005, 0x86DD); fb_ipv6(f);
	ADD("sll vlan", 113, 20, DECODE_OK, 20, 40);
	f = &cs[n].f; f->n = 0; fb_sll2(f, 0x0800); fb_ipv4(f);
	ADD("sll2", 276, 20, DECODE_OK, 20, 20);
	f = &cs[n].f; f->n = 0; fb_nflog(f, 2, fb_le16);
	ADD("nflog le", 239, 28, DECODE_OK, 28, 20);
	f = &cs[n].f; f->n = 0; fb_nflog(f, 10, fb_be16);
	ADD("nflog be", 239, 28, DECODE_OK, 28, 40);
	f = &cs[n].f; f->n = 0; fb_eth(f, 0x8847); fb_label(f, 16, 1); fb_ipv4(f);
	ADD("mpls", 1, 19, DECODE_OK, 18, 20);
	f = &cs[n].f; f->n = 0; fb_eth(f, 0x8847); fb_label(f, 16, 0); fb_label(f, 17, 1);
	fb_be32(f, 0); fb_bytes(f, mac_in_dst, 6); fb_bytes(f, mac_in_src, 6); fb_be16(f, 0x0800);
	fb_ipv4(f);
	ADD("mpls pw", 1, 40, DECODE_OK, 40, 20);
	f = &cs[n].f; f->n = 0; fb_sll(f, 0x8847); fb_label(f, 16, 1); fb_ipv6(f);
	ADD("sll mpls", 113, 21, DECODE_OK, 20, 40);
	f = &cs[n].f; f->n = 0; fb_eth(f, 0x8864); fb_pppoe(f, 0, 22); fb_be16(f, 0x0021); fb_ipv4(f);
	ADD("pppoe", 1, 22, DECODE_OK, 22, 20);
	f = &cs[n].f; f->n = 0; fb_u8(f, 0xFF); fb_u8(f, 0x03); fb_be16(f, 0x0057); fb_ipv6(f);
	ADD("ppp", 9, 4, DECODE_OK, 4, 40);
	f = &cs[n].f; f->n = 0; fb_pppoe(f, 0, 22); fb_be16(f, 0x0021); fb_ipv4(f);
	ADD("ppp ether", 51, 8, DECODE_OK, 8, 20);
	f = &cs[n].f; f->n = 0; fb_u8(f, 0x0F); fb_u8(f, 0); fb_be16(f, 0x0800); fb_ipv4(f);
	ADD("c hdlc", 104, 4, DECODE_OK, 4, 20);
	f = &cs[n].f; f->n = 0; fb_80211(f, 2, 8, WF_TODS, 0, 0, 0x0800);
	ADD("802.11", 105, 34, DECODE_OK, 34, 20);
	f = &cs[n].f; f->n = 0; fb_radiotap(f, 0x3, 1, 0x00); fb_80211(f, 2, 0, WF_FROMDS, 0, 0, 0x86DD);
	ADD("radiotap", 127, 26 + 32, DECODE_OK, 26 + 32, 40);
	f = &cs[n].f; f->n = 0; fb_prism(f); fb_80211(f, 2, 0, WF_TODS, 0, 0, 0x0800);
	ADD("prism", 119, 176, DECODE_OK, 176, 20);
	f = &cs[n].f; f->n = 0; fb_be32(f, 0x80211001); fb_be32(f, 64); fb_fill(f, 0, 56);
	fb_80211(f, 2, 0, WF_TODS, 0, 0, 0x0800);
	ADD("avs", 163, 96, DECODE_OK, 96, 20);
	f = &cs[n].f; f->n = 0; fb_ppi(f, 105, 1, 0); fb_80211(f, 2, 0, WF_TODS, 0, 0, 0x0800);
	ADD("ppi", 192, 64, DECODE_OK, 64, 20);
#undef ADD
	return n;
}

START_TEST(truncation_sweep)
{
	static struct sweep_case cs[32];
	size_t n = build_sweep_cases(cs, sizeof cs / sizeof cs[0]);
	for (size_t i = 0; i < n; i++) {
		const struct sweep_case *c = &cs[i];
		for (size_t caplen = 0; caplen <= c->f.n; caplen++) {
			struct result r = run_len(c->dlt, c->f.b, caplen);
			ck_assert_msg(r.rc <= 0 && r.rc >= DECODE_FRAGMENT,
				      "%s caplen %zu: rc %d", c->what, caplen, r.rc);
			if (caplen < c->hdr) {
				ck_assert_msg(r.rc != DECODE_OK, "%s: OK with the link header cut at %zu",
					      c->what, caplen);
				continue;
			}
			ck_assert_msg(r.rc == c->rc, "%s caplen %zu: rc %d, want %d",
				      c->what, caplen, r.rc, c->rc);
			if (c->rc != DECODE_OK)
				continue;
			uint32_t want = (uint32_t)(caplen - (size_t)c->off);
			if (want > c->len)
				want = c->len;
			ck_assert_msg(r.off == c->off && r.len == want,
				      "%s caplen %zu: data at %ld len %u, want %ld len %u",
				      c->what, caplen, r.off, r.len, c->off, want);
		}
	}
}
END_TEST

static uint32_t rng_next(uint32_t *s)
{
	/* xorshift32: deterministic, so a failure reproduces */
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

START_TEST(mutation_stays_in_bounds)
{
	static struct sweep_case cs[32];
	size_t n = build_sweep_cases(cs, sizeof cs / sizeof cs[0]);
	uint32_t seed = 0x1234567u;
	for (int iter = 0; iter < 20000; iter++) {
		const struct sweep_case *c = &cs[rng_next(&seed) % n];
		uint8_t buf[sizeof c->f.b];
		memcpy(buf, c->f.b, c->f.n);
		int flips = 1 + (int)(rng_next(&seed) % 4);
		for (int k = 0; k < flips; k++)
			buf[rng_next(&seed) % c->f.n] = (uint8_t)rng_next(&seed);
		size_t caplen = rng_next(&seed) % (c->f.n + 1);
		/* run_len asserts any DECODE_OK view lies inside the frame */
		struct result r = run_len(c->dlt, buf, caplen);
		ck_assert(r.rc <= 0 && r.rc >= DECODE_FRAGMENT);
		if (r.p.has_vlan)
			ck_assert_uint_le(r.p.vlan, 0x0FFF);
		/* links with no MAC anywhere (not even an Ethernet pseudowire
		 * inside MPLS) never report one */
		if (r.p.has_mac)
			ck_assert(c->dlt != 0 && c->dlt != 12 && c->dlt != 101 && c->dlt != 108 &&
				  c->dlt != 228 && c->dlt != 229 && c->dlt != 239);
	}
}
END_TEST

static Suite *link_suite(void)
{
	Suite *s = suite_create("link");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, eth_ipv4);
	tcase_add_test(tc, eth_ipv6);
	tcase_add_test(tc, eth_vlan_masks_priority_and_dei);
	tcase_add_test(tc, eth_qinq);
	tcase_add_test(tc, eth_triple_stack);
	tcase_add_test(tc, eth_not_ip);
	tcase_add_test(tc, mpls_label_stacks);
	tcase_add_test(tc, mpls_ethernet_pseudowire);
	tcase_add_test(tc, pppoe_sessions);
	tcase_add_test(tc, eth_cut_tag_is_malformed);
	tcase_add_test(tc, snap_rfc1042);
	tcase_add_test(tc, snap_8021h_and_others);
	tcase_add_test(tc, raw_version_nibble);
	tcase_add_test(tc, ipv4_ipv6_fixed);
	tcase_add_test(tc, null_both_orders);
	tcase_add_test(tc, loop_both_orders);
	tcase_add_test(tc, sll_ipv4);
	tcase_add_test(tc, sll_vlan);
	tcase_add_test(tc, sll_not_ip_and_llc);
	tcase_add_test(tc, sll2_ipv6_and_vlan);
	tcase_add_test(tc, nflog_ipv4_after_tlvs);
	tcase_add_test(tc, nflog_ipv6);
	tcase_add_test(tc, nflog_other_byte_order);
	tcase_add_test(tc, nflog_payload_then_more_tlvs);
	tcase_add_test(tc, nflog_not_ip_and_malformed);
	tcase_add_test(tc, ppp_link_types);
	tcase_add_test(tc, wifi_data_frames);
	tcase_add_test(tc, wifi_skipped_frames);
	tcase_add_test(tc, wifi_fcs_plain_80211);
	tcase_add_test(tc, wifi_radiotap);
	tcase_add_test(tc, wifi_prism_avs);
	tcase_add_test(tc, wifi_ppi);
	tcase_add_test(tc, unsupported_link_types);
	tcase_add_test(tc, supported_link_types);
	tcase_add_test(tc, names);
	tcase_add_test(tc, fields_reset_between_packets);
	tcase_add_test(tc, truncation_sweep);
	tcase_add_test(tc, mutation_stays_in_bounds);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(link_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
