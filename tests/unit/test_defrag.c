/* Unit tests for core/defrag.c, and for fragments through core/decode.c.
 * Every fragment is handed over from a malloc'd buffer of exactly its size,
 * freed right after defrag_add, so the sanitizers catch a reassembler that
 * keeps pointers into a packet. */
#include "capture.h"
#include "decode.h"
#include "defrag.h"
#include "ip.h"
#include "stats.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- building datagrams and fragments -------------------------------------- */

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b + 2, (uint16_t)v);
}

static const uint8_t v4a[4] = { 192, 0, 2, 1 }, v4b[4] = { 198, 51, 100, 7 };
static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x11 };
static const uint8_t v6b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x22 };

/* A TCP segment (20-byte header) with n payload bytes of pattern seed. */
static size_t tcp_segment(uint8_t *b, size_t n, uint8_t seed)
{
	memset(b, 0, 20);
	put16(b, 40000);
	put16(b + 2, 80);
	put32(b + 4, 0x10203040);
	put32(b + 8, 0x50607080);
	b[12] = 0x50;
	b[13] = 0x18;
	put16(b + 14, 65535);
	for (size_t i = 0; i < n; i++)
		b[20 + i] = (uint8_t)(seed + i * 7);
	return 20 + n;
}

static size_t ipv4_header(uint8_t *b, uint16_t total, uint16_t id, uint16_t frag, uint8_t proto)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	put16(b + 2, total);
	put16(b + 4, id);
	put16(b + 6, frag);
	b[8] = 64;
	b[9] = proto;
	memcpy(b + 12, v4a, 4);
	memcpy(b + 16, v4b, 4);
	return 20;
}

/* Fragment descriptor: payload [off, off + len) and the MF flag. */
struct piece {
	uint32_t off, len;
	int more;
};

/* An IPv4 fragment packet of the payload pl (whole transport payload). */
static size_t v4_fragment(uint8_t *out, const uint8_t *pl, const struct piece *pc, uint16_t id,
			  uint8_t proto)
{
	uint16_t frag = (uint16_t)((pc->off / 8) | (pc->more ? 0x2000 : 0));
	size_t h = ipv4_header(out, (uint16_t)(20 + pc->len), id, frag, proto);
	memcpy(out + h, pl + pc->off, pc->len);
	return h + pc->len;
}

/* An IPv6 fragment packet: fixed header, [a hop-by-hop header], Fragment header. */
static size_t v6_fragment(uint8_t *out, const uint8_t *pl, const struct piece *pc, uint32_t id,
			  uint8_t proto, int hbh)
{
	size_t n = 0;
	put32(out, 0x60000000);
	out[6] = hbh ? 0 : 44;
	out[7] = 64;
	memcpy(out + 8, v6a, 16);
	memcpy(out + 24, v6b, 16);
	n = 40;
	if (hbh) {
		memset(out + n, 0, 8);
		out[n] = 44;
		out[n + 2] = 1;     /* PadN, 4 bytes */
		out[n + 3] = 4;
		n += 8;
	}
	out[n] = proto;
	out[n + 1] = 0;
	put16(out + n + 2, (uint16_t)(pc->off | (pc->more ? 1 : 0)));
	put32(out + n + 4, id);
	n += 8;
	memcpy(out + n, pl + pc->off, pc->len);
	n += pc->len;
	put16(out + 4, (uint16_t)(n - 40));
	return n;
}

/* Decode the fragment packet b (copied to an exact heap buffer) with ip and
 * hand it to defrag. Returns defrag_add's result. */
static int feed(struct defrag *d, uint16_t ethertype, const uint8_t *b, size_t n, int64_t now,
		struct l3_view *out)
{
	uint8_t *copy = malloc(n);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, b, n);
	struct pkt p;
	memset(&p, 0, sizeof p);
	struct ip_next next;
	struct l3_view l3 = { ethertype, copy, (uint32_t)n };
	int rc = ip_decode_next(&p, &l3, &next);
	ck_assert_int_eq(rc, DECODE_FRAGMENT);
	int got = defrag_add(d, &next.frag, now, out);
	free(copy);
	return got;
}

static struct defrag *new_defrag(int64_t timeout, uint64_t max_bytes, uint64_t max_dgrams)
{
	struct defrag_config c = { timeout, max_bytes, max_dgrams };
	struct defrag *d = defrag_new(&c);
	ck_assert_ptr_nonnull(d);
	return d;
}

/* The reassembled packet decodes as TCP carrying seg's payload. */
static void assert_tcp(const struct l3_view *v, const uint8_t *seg, size_t seglen)
{
	struct pkt p;
	memset(&p, 0, sizeof p);
	ck_assert_int_eq(ip_decode(&p, v), DECODE_OK);
	ck_assert_uint_eq(p.sport, 40000);
	ck_assert_uint_eq(p.dport, 80);
	ck_assert_uint_eq(p.seq, 0x10203040u);
	ck_assert_uint_eq(p.payload_len, seglen - 20);
	ck_assert_mem_eq(p.payload, seg + 20, seglen - 20);
}

static uint16_t sum16(const uint8_t *h, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

/* ---- IPv4 ------------------------------------------------------------------- */

START_TEST(v4_in_order)
{
	uint8_t seg[1200], b[1500];
	size_t sl = tcp_segment(seg, 1000, 3);
	struct piece pcs[] = { { 0, 400, 1 }, { 400, 400, 1 }, { 800, (uint32_t)sl - 800, 0 } };
	struct defrag *d = new_defrag(60, 1 << 20, 64);
	struct l3_view out;
	uint64_t r0 = tf_stats.frag_reassembled;
	for (int i = 0; i < 3; i++) {
		size_t n = v4_fragment(b, seg, &pcs[i], 0x4242, 6);
		ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 100, &out), i == 2 ? 1 : 0);
	}
	ck_assert_uint_eq(tf_stats.frag_reassembled, r0 + 1);
	ck_assert_uint_eq(out.ethertype, ETHERTYPE_IPV4);
	ck_assert_uint_eq(out.len, 20 + sl);
	/* total length, no fragment bits, a valid checksum */
	ck_assert_uint_eq((unsigned)(out.data[2] << 8 | out.data[3]), 20 + sl);
	ck_assert_uint_eq(out.data[6], 0);
	ck_assert_uint_eq(out.data[7], 0);
	ck_assert_uint_eq(sum16(out.data, 20), 0xFFFF);
	ck_assert_mem_eq(out.data + 20, seg, sl);
	assert_tcp(&out, seg, sl);
	ck_assert_uint_eq(defrag_pending(d), 0);
	defrag_release(d);
	defrag_free(d);
}
END_TEST

START_TEST(v4_every_order)
{
	/* all 120 orders of 5 fragments, the TCP header split over two */
	uint8_t seg[400], b[600];
	size_t sl = tcp_segment(seg, 300, 9);
	struct piece pcs[] = { { 0, 16, 1 }, { 16, 64, 1 }, { 80, 120, 1 }, { 200, 8, 1 },
			       { 208, (uint32_t)sl - 208, 0 } };
	int perm[5] = { 0, 1, 2, 3, 4 };
	int count = 0;
	struct defrag *d = new_defrag(60, 1 << 20, 64);
	for (;;) {
		struct l3_view out;
		for (int i = 0; i < 5; i++) {
			size_t n = v4_fragment(b, seg, &pcs[perm[i]], (uint16_t)count, 6);
			ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), i == 4 ? 1 : 0);
		}
		assert_tcp(&out, seg, sl);
		defrag_release(d);
		count++;
		/* next permutation */
		int i = 3;
		while (i >= 0 && perm[i] > perm[i + 1])
			i--;
		if (i < 0)
			break;
		int j = 4;
		while (perm[j] < perm[i])
			j--;
		int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
		for (int a = i + 1, z = 4; a < z; a++, z--) {
			t = perm[a]; perm[a] = perm[z]; perm[z] = t;
		}
	}
	ck_assert_int_eq(count, 120);
	ck_assert_uint_eq(defrag_pending(d), 0);
	defrag_free(d);
}
END_TEST

START_TEST(v4_tiny_fragments_split_tcp_header)
{
	/* RFC 1858 section 3: 8-byte fragments cut the TCP header in three */
	uint8_t seg[64], b[128];
	size_t sl = tcp_segment(seg, 20, 1);
	struct defrag *d = new_defrag(60, 1 << 20, 64);
	struct l3_view out;
	int got = 0;
	for (uint32_t off = sl - (sl % 8 ? sl % 8 : 8);; off -= 8) {   /* last first */
		uint32_t len = off + 8 <= sl ? 8 : (uint32_t)sl - off;
		struct piece pc = { off, len, off + len < sl };
		size_t n = v4_fragment(b, seg, &pc, 77, 6);
		got = feed(d, ETHERTYPE_IPV4, b, n, 5, &out);
		if (off == 0)
			break;
		ck_assert_int_eq(got, 0);
	}
	ck_assert_int_eq(got, 1);
	assert_tcp(&out, seg, sl);
	defrag_free(d);
}
END_TEST

START_TEST(v4_overlap_first_wins)
{
	uint8_t seg[200], other[200], b[300];
	size_t sl = tcp_segment(seg, 140, 5);
	for (size_t i = 0; i < sl; i++)
		other[i] = (uint8_t)~seg[i];
	struct defrag *d = new_defrag(60, 1 << 20, 64);
	struct l3_view out;
	uint64_t ov = tf_stats.frag_overlaps, cf = tf_stats.frag_overlap_conflicts;
	/* [40,120) true bytes, then a different copy of [24,104), then the rest */
	struct piece a = { 40, 80, 1 }, bad = { 24, 80, 1 }, head = { 0, 48, 1 },
		     tail = { 120, (uint32_t)sl - 120, 0 };
	size_t n = v4_fragment(b, seg, &a, 9, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, other, &bad, 9, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	ck_assert_uint_eq(tf_stats.frag_overlaps, ov + 1);
	ck_assert_uint_eq(tf_stats.frag_overlap_conflicts, cf + 1);
	/* the head overlaps the bad copy's [24,40) too: it lost there */
	n = v4_fragment(b, seg, &head, 9, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, seg, &tail, 9, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 1);
	ck_assert_uint_eq(tf_stats.frag_overlaps, ov + 2);
	uint8_t want[200];
	memcpy(want, seg, sl);
	memcpy(want + 24, other + 24, 16);   /* [24,40) came first from the bad copy */
	ck_assert_mem_eq(out.data + 20, want, sl);
	defrag_free(d);

	/* an identical duplicate overlaps without conflict */
	d = new_defrag(60, 1 << 20, 64);
	cf = tf_stats.frag_overlap_conflicts;
	ov = tf_stats.frag_overlaps;
	struct piece p0 = { 0, 64, 1 }, p1 = { 64, (uint32_t)sl - 64, 0 };
	n = v4_fragment(b, seg, &p0, 10, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, seg, &p1, 10, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 1);
	ck_assert_uint_eq(tf_stats.frag_overlaps, ov + 1);
	ck_assert_uint_eq(tf_stats.frag_overlap_conflicts, cf);
	ck_assert_mem_eq(out.data + 20, seg, sl);
	defrag_free(d);
}
END_TEST

START_TEST(v4_keys_kept_apart)
{
	uint8_t seg[100], b[200];
	size_t sl = tcp_segment(seg, 60, 2);
	struct defrag *d = new_defrag(60, 1 << 20, 64);
	struct l3_view out;
	struct piece p0 = { 0, 40, 1 }, p1 = { 40, (uint32_t)sl - 40, 0 };
	/* different id, protocol and source: three datagrams, none complete */
	size_t n = v4_fragment(b, seg, &p0, 1, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, seg, &p1, 2, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, seg, &p1, 1, 17);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, seg, &p1, 1, 6);
	b[12] = 10;
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	ck_assert_uint_eq(defrag_pending(d), 4);
	/* the zone (VLAN) separates too */
	n = v4_fragment(b, seg, &p1, 1, 6);
	struct pkt p;
	memset(&p, 0, sizeof p);
	struct ip_next nx;
	struct l3_view l3 = { ETHERTYPE_IPV4, b, (uint32_t)n };
	ck_assert_int_eq(ip_decode_next(&p, &l3, &nx), DECODE_FRAGMENT);
	nx.frag.zone = 0x10005;
	ck_assert_int_eq(defrag_add(d, &nx.frag, 1, &out), 0);
	nx.frag.zone = 0;
	ck_assert_int_eq(defrag_add(d, &nx.frag, 1, &out), 1);
	assert_tcp(&out, seg, sl);
	uint64_t inc = tf_stats.frag_incomplete;
	ck_assert_uint_eq(defrag_pending(d), 4);
	defrag_free(d);
	ck_assert_uint_eq(tf_stats.frag_incomplete, inc + 4);
}
END_TEST

START_TEST(v4_invalid)
{
	uint8_t seg[100] = { 0 }, b[200];   /* bytes 80.. are read by a piece past the end */
	size_t sl = tcp_segment(seg, 60, 2);
	struct defrag *d = new_defrag(60, 1 << 20, 64);
	struct l3_view out;
	uint64_t inv = tf_stats.frag_invalid;
	/* past 65535 bytes ("ping of death") */
	size_t n = v4_fragment(b, seg, &(struct piece){ 0, 40, 1 }, 3, 6);
	put16(b + 6, 0x2000 | 8189);   /* offset 65512 + 40 bytes */
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), -1);
	ck_assert_uint_eq(tf_stats.frag_invalid, inv + 1);
	/* 65512 + 3 is fine as a last fragment (20 + 65515 = 65535) */
	n = v4_fragment(b, seg, &(struct piece){ 0, 3, 0 }, 3, 6);
	put16(b + 6, 8189);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	/* zero-length with More Fragments */
	n = v4_fragment(b, seg, &(struct piece){ 8, 0, 1 }, 4, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), -1);
	ck_assert_uint_eq(tf_stats.frag_invalid, inv + 2);
	/* a last fragment, then data past its end, then another last one */
	n = v4_fragment(b, seg, &(struct piece){ 40, (uint32_t)sl - 40, 0 }, 5, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, seg, &(struct piece){ 80, 8, 1 }, 5, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), -1);
	n = v4_fragment(b, seg, &(struct piece){ 8, 40, 0 }, 5, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), -1);
	ck_assert_uint_eq(tf_stats.frag_invalid, inv + 4);
	/* ... and the datagram still completes with the true first fragment */
	n = v4_fragment(b, seg, &(struct piece){ 0, 40, 1 }, 5, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 1);
	assert_tcp(&out, seg, sl);
	/* a last fragment shorter than data already held */
	n = v4_fragment(b, seg, &(struct piece){ 40, 16, 1 }, 6, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
	n = v4_fragment(b, seg, &(struct piece){ 8, 24, 0 }, 6, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), -1);
	defrag_free(d);
}
END_TEST

START_TEST(timeout_on_capture_time)
{
	uint8_t seg[100], b[200];
	size_t sl = tcp_segment(seg, 60, 2);
	struct defrag *d = new_defrag(30, 1 << 20, 64);
	struct l3_view out;
	struct piece p0 = { 0, 40, 1 }, p1 = { 40, (uint32_t)sl - 40, 0 };
	uint64_t to = tf_stats.frag_timeouts;
	size_t n = v4_fragment(b, seg, &p0, 1, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1000, &out), 0);
	/* 30 s later it still completes */
	n = v4_fragment(b, seg, &p1, 1, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1030, &out), 1);
	/* 31 s later the first fragment is gone */
	n = v4_fragment(b, seg, &p0, 2, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 2000, &out), 0);
	n = v4_fragment(b, seg, &p1, 2, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 2031, &out), 0);
	ck_assert_uint_eq(tf_stats.frag_timeouts, to + 1);
	ck_assert_uint_eq(defrag_pending(d), 1);
	defrag_expire(d, 2062);
	ck_assert_uint_eq(tf_stats.frag_timeouts, to + 2);
	ck_assert_uint_eq(defrag_pending(d), 0);
	ck_assert_uint_eq(defrag_bytes(d), 0);
	defrag_free(d);
}
END_TEST

START_TEST(memory_caps)
{
	uint8_t seg[3000], b[3200];
	size_t sl = tcp_segment(seg, 2900, 4);
	struct l3_view out;
	/* room for about two datagrams' buffers */
	struct defrag *d = new_defrag(60, 5000, 64);
	uint64_t ev = tf_stats.frag_evicted;
	for (uint16_t id = 1; id <= 3; id++) {
		size_t n = v4_fragment(b, seg, &(struct piece){ 0, 1480, 1 }, id, 6);
		ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
		ck_assert_uint_le(defrag_bytes(d), 5000);
	}
	ck_assert_uint_eq(tf_stats.frag_evicted, ev + 1);   /* id 1, the oldest */
	ck_assert_uint_eq(defrag_pending(d), 2);
	size_t n = v4_fragment(b, seg, &(struct piece){ 1480, (uint32_t)sl - 1480, 0 }, 3, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 1);
	assert_tcp(&out, seg, sl);
	n = v4_fragment(b, seg, &(struct piece){ 1480, (uint32_t)sl - 1480, 0 }, 1, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);    /* id 1 starts over */
	defrag_free(d);

	/* a datagram count cap */
	d = new_defrag(60, 1 << 20, 2);
	ev = tf_stats.frag_evicted;
	for (uint16_t id = 1; id <= 5; id++) {
		n = v4_fragment(b, seg, &(struct piece){ 0, 8, 1 }, id, 6);
		ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), 0);
		ck_assert_uint_le(defrag_pending(d), 2);
	}
	ck_assert_uint_eq(tf_stats.frag_evicted, ev + 3);
	defrag_free(d);

	/* a cap too small for anything: every fragment is refused, counted */
	d = new_defrag(60, 16, 8);
	ev = tf_stats.frag_evicted;
	n = v4_fragment(b, seg, &(struct piece){ 0, 8, 1 }, 1, 6);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV4, b, n, 1, &out), -1);
	ck_assert_uint_eq(tf_stats.frag_evicted, ev + 1);
	ck_assert_uint_eq(defrag_pending(d), 0);
	defrag_free(d);
}
END_TEST

START_TEST(too_many_pieces)
{
	uint8_t seg[4000], b[200];
	size_t sl = tcp_segment(seg, 3000, 4);
	(void)sl;
	struct defrag *d = new_defrag(60, 1 << 20, 8);
	struct l3_view out;
	uint64_t inv = tf_stats.frag_invalid;
	int rc = 0;
	/* every other 8-byte piece: holes everywhere */
	for (uint32_t off = 0; off < 2900 && rc >= 0; off += 16) {
		size_t n = v4_fragment(b, seg, &(struct piece){ off, 8, 1 }, 1, 6);
		rc = feed(d, ETHERTYPE_IPV4, b, n, 1, &out);
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_uint_eq(tf_stats.frag_invalid, inv + 1);
	ck_assert_uint_eq(defrag_pending(d), 0);
	defrag_free(d);
}
END_TEST

/* ---- IPv6 ------------------------------------------------------------------- */

START_TEST(v6_reassembly)
{
	for (int hbh = 0; hbh < 2; hbh++) {
		uint8_t seg[1200], b[1500];
		size_t sl = tcp_segment(seg, 1100, 8);
		struct piece pcs[] = { { 504, 504, 1 }, { 1008, (uint32_t)sl - 1008, 0 },
				       { 0, 504, 1 } };
		struct defrag *d = new_defrag(60, 1 << 20, 64);
		struct l3_view out;
		for (int i = 0; i < 3; i++) {
			size_t n = v6_fragment(b, seg, &pcs[i], 0xabcdef01u, 6, hbh);
			ck_assert_int_eq(feed(d, ETHERTYPE_IPV6, b, n, 7, &out), i == 2 ? 1 : 0);
		}
		size_t hl = 40 + (hbh ? 8 : 0);
		ck_assert_uint_eq(out.ethertype, ETHERTYPE_IPV6);
		ck_assert_uint_eq(out.len, hl + 8 + sl);
		ck_assert_uint_eq((unsigned)(out.data[4] << 8 | out.data[5]), hl - 40 + 8 + sl);
		/* the Fragment header stays, atomic, with the first fragment's next header */
		ck_assert_uint_eq(out.data[hl], 6);
		ck_assert_uint_eq(out.data[hl + 2], 0);
		ck_assert_uint_eq(out.data[hl + 3], 0);
		ck_assert_mem_eq(out.data + hl + 8, seg, sl);
		struct pkt p;
		memset(&p, 0, sizeof p);
		ck_assert_int_eq(ip_decode(&p, &out), DECODE_OK);
		ck_assert_mem_eq(p.src.bytes, v6a, 16);
		ck_assert_mem_eq(p.dst.bytes, v6b, 16);
		assert_tcp(&out, seg, sl);
		defrag_free(d);
	}
}
END_TEST

START_TEST(v6_limits)
{
	uint8_t seg[100], b[300];
	tcp_segment(seg, 60, 8);
	struct defrag *d = new_defrag(60, 1 << 20, 64);
	struct l3_view out;
	uint64_t inv = tf_stats.frag_invalid;
	/* 65535 - 8 (Fragment header) = 65527 payload bytes at most */
	size_t n = v6_fragment(b, seg, &(struct piece){ 0, 15, 0 }, 1, 6, 0);
	put16(b + 42, 65512);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV6, b, n, 1, &out), 0);
	n = v6_fragment(b, seg, &(struct piece){ 0, 16, 0 }, 2, 6, 0);
	put16(b + 42, 65512);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV6, b, n, 1, &out), -1);
	ck_assert_uint_eq(tf_stats.frag_invalid, inv + 1);
	/* with a hop-by-hop header in front, 8 bytes less */
	n = v6_fragment(b, seg, &(struct piece){ 0, 8, 0 }, 3, 6, 1);
	put16(b + 50, 65512);
	ck_assert_int_eq(feed(d, ETHERTYPE_IPV6, b, n, 1, &out), -1);
	ck_assert_uint_eq(tf_stats.frag_invalid, inv + 2);
	defrag_free(d);
}
END_TEST

/* ---- through the decoder -------------------------------------------------- */

static size_t eth_frame(uint8_t *f, uint16_t type, const uint8_t *ip, size_t n)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	memcpy(f, macs, 12);
	put16(f + 12, type);
	memcpy(f + 14, ip, n);
	return 14 + n;
}

static int decode_frame(struct decoder *dec, const uint8_t *f, size_t n, int64_t ts,
			struct pkt *p, uint8_t **keep)
{
	uint8_t *copy = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, f, n);
	memset(p, 0, sizeof *p);
	p->dlt = 1;
	p->frame = copy;
	p->caplen = p->wirelen = (uint32_t)n;
	p->ts_sec = ts;
	int rc = decoder_packet(dec, p);
	*keep = copy;
	return rc;
}

START_TEST(decoder_reassembles_out_of_order)
{
	uint8_t seg[3000], ipb[1600], fr[1700];
	size_t sl = tcp_segment(seg, 2800, 6);
	struct decoder *dec = decoder_new(NULL);
	ck_assert_ptr_nonnull(dec);
	struct piece pcs[] = { { 2000, 0, 0 }, { 1000, 1000, 1 }, { 0, 1000, 1 } };
	pcs[0].len = (uint32_t)sl - 2000;
	uint64_t segs = tf_stats.tcp_segments;
	for (int i = 0; i < 3; i++) {
		size_t n = v4_fragment(ipb, seg, &pcs[i], 0x777, 6);
		size_t fl = eth_frame(fr, 0x0800, ipb, n);
		struct pkt p;
		uint8_t *keep;
		int rc = decode_frame(dec, fr, fl, 50, &p, &keep);
		if (i < 2) {
			ck_assert_int_eq(rc, DECODE_FRAGMENT);
		} else {
			ck_assert_int_eq(rc, DECODE_OK);
			free(keep);   /* the payload lives in the reassembly buffer */
			ck_assert_uint_eq(p.payload_len, sl - 20);
			ck_assert_mem_eq(p.payload, seg + 20, sl - 20);
			ck_assert_int_eq(p.has_mac, 1);
			continue;
		}
		free(keep);
	}
	ck_assert_uint_eq(tf_stats.tcp_segments, segs + 1);
	decoder_free(dec);
}
END_TEST

/* GRE over IPv4: outer header, 4-byte GRE header, inner packet. */
static size_t gre_packet(uint8_t *out, const uint8_t *inner, size_t n, uint16_t id,
			 uint16_t frag, uint16_t total)
{
	size_t h = ipv4_header(out, total ? total : (uint16_t)(20 + 4 + n), id, frag, 47);
	out[12] = 203; out[13] = 0; out[14] = 113; out[15] = 1;
	out[16] = 203; out[17] = 0; out[18] = 113; out[19] = 2;
	put16(out + h, 0);
	put16(out + h + 2, 0x0800);
	memcpy(out + h + 4, inner, n);
	return h + 4 + n;
}

START_TEST(decoder_fragments_and_tunnels)
{
	uint8_t seg[1200], inner[1300], gre[1400], fr[1500];
	size_t sl = tcp_segment(seg, 1000, 12);
	struct decoder *dec = decoder_new(NULL);
	ck_assert_ptr_nonnull(dec);
	struct pkt p;
	uint8_t *keep;

	/* inner fragments inside GRE: the inner addresses name the flow */
	struct piece pcs[] = { { 600, (uint32_t)sl - 600, 0 }, { 0, 600, 1 } };
	for (int i = 0; i < 2; i++) {
		size_t n = v4_fragment(inner, seg, &pcs[i], 0x99, 6);
		size_t g = gre_packet(gre, inner, n, (uint16_t)(100 + i), 0, 0);
		size_t fl = eth_frame(fr, 0x0800, gre, g);
		int rc = decode_frame(dec, fr, fl, 1, &p, &keep);
		ck_assert_int_eq(rc, i == 0 ? DECODE_FRAGMENT : DECODE_OK);
		free(keep);
	}
	ck_assert_mem_eq(p.src.bytes, v4a, 4);
	ck_assert_mem_eq(p.payload, seg + 20, sl - 20);

	/* the GRE packet itself fragmented by the outer IP */
	uint8_t whole[1400];
	size_t ilen = ipv4_header(inner, (uint16_t)(20 + sl), 0x55, 0, 6);
	memcpy(inner + ilen, seg, sl);
	ilen += sl;
	size_t g = gre_packet(whole, inner, ilen, 0x1234, 0, 0);
	const uint8_t *outer_pl = whole + 20;
	size_t opl = g - 20;
	struct piece op[] = { { 512, (uint32_t)opl - 512, 0 }, { 0, 512, 1 } };
	for (int i = 0; i < 2; i++) {
		size_t n = ipv4_header(gre, (uint16_t)(20 + op[i].len), 0x1234,
				       (uint16_t)((op[i].off / 8) | (op[i].more ? 0x2000 : 0)), 47);
		memcpy(gre + 12, whole + 12, 8);     /* the outer addresses */
		memcpy(gre + n, outer_pl + op[i].off, op[i].len);
		n += op[i].len;
		size_t fl = eth_frame(fr, 0x0800, gre, n);
		int rc = decode_frame(dec, fr, fl, 2, &p, &keep);
		ck_assert_int_eq(rc, i == 0 ? DECODE_FRAGMENT : DECODE_OK);
		free(keep);
	}
	ck_assert_mem_eq(p.src.bytes, v4a, 4);
	ck_assert_mem_eq(p.dst.bytes, v4b, 4);
	ck_assert_uint_eq(p.payload_len, sl - 20);
	ck_assert_mem_eq(p.payload, seg + 20, sl - 20);
	decoder_free(dec);
}
END_TEST

START_TEST(decoder_tunnel_depth_cap)
{
	/* IP-in-IP nested 12 deep around a TCP segment */
	uint8_t seg[100], a[400], b[400];
	size_t sl = tcp_segment(seg, 20, 1);
	size_t n = ipv4_header(a, (uint16_t)(20 + sl), 1, 0, 6);
	memcpy(a + n, seg, sl);
	n += sl;
	for (int i = 0; i < 12; i++) {
		size_t h = ipv4_header(b, (uint16_t)(20 + n), 1, 0, 4);
		memcpy(b + h, a, n);
		n += h;
		memcpy(a, b, n);
	}
	uint8_t fr[500];
	size_t fl = eth_frame(fr, 0x0800, a, n);
	struct decode_config cfg;
	decode_config_default(&cfg);
	for (unsigned depth = 10; depth <= 12; depth++) {
		cfg.max_tunnel_depth = depth;
		struct decoder *dec = decoder_new(&cfg);
		struct pkt p;
		uint8_t *keep;
		uint64_t ex = tf_stats.tunnel_depth_exceeded;
		int rc = decode_frame(dec, fr, fl, 1, &p, &keep);
		free(keep);
		ck_assert_int_eq(rc, depth < 12 ? DECODE_UNSUPPORTED : DECODE_OK);
		ck_assert_uint_eq(tf_stats.tunnel_depth_exceeded, ex + (depth < 12));
		decoder_free(dec);
	}
}
END_TEST

START_TEST(decoder_truncation_sweep)
{
	/* every fragment frame cut at every length, fed to one decoder */
	uint8_t seg[600], ipb[700], fr[800];
	size_t sl = tcp_segment(seg, 500, 6);
	struct decoder *dec = decoder_new(NULL);
	struct piece pcs[] = { { 256, (uint32_t)sl - 256, 0 }, { 0, 256, 1 } };
	for (int v6 = 0; v6 < 2; v6++) {
		for (int i = 0; i < 2; i++) {
			size_t n = v6 ? v6_fragment(ipb, seg, &pcs[i], 5, 6, 1) :
					v4_fragment(ipb, seg, &pcs[i], 5, 6);
			size_t fl = eth_frame(fr, v6 ? 0x86DD : 0x0800, ipb, n);
			for (size_t cut = 0; cut <= fl; cut++) {
				struct pkt p;
				uint8_t *keep;
				int rc = decode_frame(dec, fr, cut, 1, &p, &keep);
				if (rc == DECODE_OK) {
					ck_assert_uint_le(p.payload_len, sl - 20);
				}
				free(keep);
			}
		}
	}
	decoder_free(dec);
}
END_TEST

/* Every frame of the decapsulation captures in tests/data (made by
 * tests/gen_captures.py), cut at every byte offset and decoded from an
 * exactly-sized buffer, through one decoder (fragments held across frames):
 * with the wire length kept (a short capture) and with the cut as the wire
 * length (a short frame: the FCS logic looks at the end). Under the
 * sanitizer build any read outside a frame fails the test. */
static const char *const sweep_files[] = {
	"ipfrag4.pcap", "ipfrag6.pcap", "tunnel-frag.pcap", "mpls.pcap", "mpls-sll.pcap",
	"gre.pcap", "vxlan.pcap", "ipip.pcap", "6in4.pcap", "pppoe.pcap", "ppp.pcap",
	"ppp-ether.pcap", "radiotap.pcap", "radiotap-fcs.pcap", "prism.pcap", "wlan.pcap",
	"qinq.pcap", "sll2.pcap",
};

START_TEST(capture_truncation_sweep)
{
	const char *name = sweep_files[_i];
	char path[1024];
	char err[256];
	snprintf(path, sizeof path, "%s/%s", TEST_DATA_DIR, name);
	struct capture_input *in = capture_open(path, NULL, err, sizeof err);
	ck_assert_msg(in != NULL, "%s: %s", path, err);
	struct decoder *dec = decoder_new(NULL);
	ck_assert_ptr_nonnull(dec);
	struct pkt src;
	memset(&src, 0, sizeof src);
	size_t frames = 0, whole_ok = 0;
	while (capture_next(in, &src, err, sizeof err) == 1) {
		frames++;
		for (uint32_t cut = 0; cut <= src.caplen; cut++) {
			for (int shortframe = 0; shortframe < 2; shortframe++) {
				uint8_t *b = malloc(cut ? cut : 1);
				ck_assert_ptr_nonnull(b);
				memcpy(b, src.frame, cut);
				struct pkt p;
				memset(&p, 0, sizeof p);
				p.dlt = src.dlt;
				p.ts_sec = src.ts_sec;
				p.frame = cut ? b : b + 1;
				p.caplen = cut;
				p.wirelen = shortframe ? cut : src.wirelen;
				int rc = decoder_packet(dec, &p);
				ck_assert_msg(rc <= 0 && rc > DECODE_TUNNEL, "%s frame %zu cut %u: rc %d",
					      name, frames, cut, rc);
				if (rc == DECODE_OK) {
					ck_assert_uint_le(p.payload_len, 65535);   /* reassembled: more than a frame */
					if (cut == src.caplen && !shortframe)
						whole_ok++;
				}
				free(b);
			}
		}
	}
	ck_assert_uint_gt(frames, 10);
	ck_assert_uint_gt(whole_ok, 0);
	decoder_free(dec);
	capture_close(in);
}
END_TEST

static Suite *defrag_suite(void)
{
	Suite *s = suite_create("defrag");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, v4_in_order);
	tcase_add_test(tc, v4_every_order);
	tcase_add_test(tc, v4_tiny_fragments_split_tcp_header);
	tcase_add_test(tc, v4_overlap_first_wins);
	tcase_add_test(tc, v4_keys_kept_apart);
	tcase_add_test(tc, v4_invalid);
	tcase_add_test(tc, timeout_on_capture_time);
	tcase_add_test(tc, memory_caps);
	tcase_add_test(tc, too_many_pieces);
	tcase_add_test(tc, v6_reassembly);
	tcase_add_test(tc, v6_limits);
	tcase_add_test(tc, decoder_reassembles_out_of_order);
	tcase_add_test(tc, decoder_fragments_and_tunnels);
	tcase_add_test(tc, decoder_tunnel_depth_cap);
	tcase_add_test(tc, decoder_truncation_sweep);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	TCase *sw = tcase_create("sweep");
	tcase_add_loop_test(sw, capture_truncation_sweep, 0,
			    (int)(sizeof sweep_files / sizeof sweep_files[0]));
	tcase_set_timeout(sw, 300);
	suite_add_tcase(s, sw);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(defrag_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
