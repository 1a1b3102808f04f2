/* Unit tests for core/ip.c. Every packet is built byte by byte here and
 * decoded from a malloc'd buffer of exactly the captured length, so a read
 * past the end is caught by the sanitizers. */
#include "ip.h"
#include "stats.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- byte builder --------------------------------------------------------- */

struct bb {
	uint8_t b[2048];
	size_t n;
};

static void bb_u8(struct bb *f, uint8_t v)
{
	ck_assert_uint_lt(f->n, sizeof f->b);
	f->b[f->n++] = v;
}

static void bb_be16(struct bb *f, uint16_t v)
{
	bb_u8(f, (uint8_t)(v >> 8));
	bb_u8(f, (uint8_t)v);
}

static void bb_be32(struct bb *f, uint32_t v)
{
	bb_be16(f, (uint16_t)(v >> 16));
	bb_be16(f, (uint16_t)v);
}

static void bb_mem(struct bb *f, const void *p, size_t n)
{
	ck_assert_uint_le(f->n + n, sizeof f->b);
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void bb_fill(struct bb *f, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bb_u8(f, v);
}

static void put_be16(uint8_t *at, uint16_t v)
{
	at[0] = (uint8_t)(v >> 8);
	at[1] = (uint8_t)v;
}

/* TCP header: data offset in 32-bit words (options filled with NOPs). */
static void bb_tcp(struct bb *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		   unsigned doff, uint8_t flags)
{
	bb_be16(f, sport);
	bb_be16(f, dport);
	bb_be32(f, seq);
	bb_be32(f, ack);
	bb_u8(f, (uint8_t)(doff << 4));
	bb_u8(f, flags);
	bb_be16(f, 65535);     /* window */
	bb_be16(f, 0xbeef);    /* checksum (not checked) */
	bb_be16(f, 0);         /* urgent */
	for (unsigned i = 5; i < doff; i++)
		bb_be32(f, 0x01010101);
}

static const uint8_t v4src[4] = { 10, 0, 0, 1 };
static const uint8_t v4dst[4] = { 192, 168, 200, 254 };
static const uint8_t v6src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t v6dst[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0,
				   0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55 };

/* IPv4 header: ihl in words (options filled with NOP 0x01), total as given. */
static void bb_ipv4(struct bb *f, unsigned ihl, uint16_t total, uint16_t frag, uint8_t proto)
{
	bb_u8(f, (uint8_t)(0x40 | ihl));
	bb_u8(f, 0);
	bb_be16(f, total);
	bb_be16(f, 0x1234);    /* id */
	bb_be16(f, frag);
	bb_u8(f, 64);
	bb_u8(f, proto);
	bb_be16(f, 0);
	bb_mem(f, v4src, 4);
	bb_mem(f, v4dst, 4);
	for (unsigned i = 5; i < ihl; i++)
		bb_be32(f, 0x01010101);
}

static void bb_ipv6(struct bb *f, uint16_t plen, uint8_t next)
{
	bb_be32(f, 0x60012345);
	bb_be16(f, plen);
	bb_u8(f, next);
	bb_u8(f, 64);
	bb_mem(f, v6src, 16);
	bb_mem(f, v6dst, 16);
}

static const char payload[] = "GET / HTTP/1.1\r\n\r\n";
#define PLEN ((uint32_t)(sizeof payload - 1))

/* A complete IPv4/TCP packet with the payload; total length correct. */
static void build_v4(struct bb *f, uint16_t frag, uint8_t flags)
{
	f->n = 0;
	bb_ipv4(f, 5, (uint16_t)(20 + 20 + PLEN), frag, 6);
	bb_tcp(f, 2345, 80, 0x01020304, 0xa0b0c0d0, 5, flags);
	bb_mem(f, payload, PLEN);
}

/* Decode from an exactly-sized heap copy. buf_out receives the copy (caller
 * frees) so payload pointers can be checked against it. */
static int decode_exact(struct pkt *p, uint16_t ethertype, const uint8_t *bytes, size_t n,
			uint8_t **buf_out)
{
	uint8_t *b = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(b);
	if (n)
		memcpy(b, bytes, n);
	memset(p, 0, sizeof *p);
	struct l3_view l3 = { ethertype, b, (uint32_t)n };
	int rc = ip_decode(p, &l3);
	if (buf_out)
		*buf_out = b;
	else
		free(b);
	return rc;
}

/* ---- IPv4 ----------------------------------------------------------------- */

START_TEST(v4_basic)
{
	struct bb f;
	build_v4(&f, 0x4000 /* DF */, TH_PUSH | TH_ACK);
	struct pkt p;
	uint8_t *b;
	uint64_t before = tf_stats.ip_fragments;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_OK);
	ck_assert_uint_eq(p.src.family, 4);
	ck_assert_uint_eq(p.dst.family, 4);
	ck_assert_mem_eq(p.src.bytes, v4src, 4);
	ck_assert_mem_eq(p.dst.bytes, v4dst, 4);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert_uint_eq(p.sport, 2345);
	ck_assert_uint_eq(p.dport, 80);
	ck_assert_uint_eq(p.seq, 0x01020304u);
	ck_assert_uint_eq(p.ack, 0xa0b0c0d0u);
	ck_assert_uint_eq(p.tcp_flags, TH_PUSH | TH_ACK);
	ck_assert_ptr_eq(p.payload, b + 40);
	ck_assert_uint_eq(p.payload_len, PLEN);
	ck_assert_mem_eq(p.payload, payload, PLEN);
	ck_assert_uint_eq(tf_stats.ip_fragments, before);   /* DF is not a fragment */
	free(b);
}
END_TEST

START_TEST(v4_all_flags_and_high_values)
{
	struct bb f;
	f.n = 0;
	bb_ipv4(&f, 5, 40, 0, 6);
	bb_tcp(&f, 65535, 1, 0xffffffffu, 0x80000000u, 5, 0xff);
	struct pkt p;
	uint8_t *b;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_OK);
	ck_assert_uint_eq(p.sport, 65535);
	ck_assert_uint_eq(p.dport, 1);
	ck_assert_uint_eq(p.seq, 0xffffffffu);
	ck_assert_uint_eq(p.ack, 0x80000000u);
	ck_assert_uint_eq(p.tcp_flags, 0xff);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_ptr_eq(p.payload, b + 40);
	free(b);
}
END_TEST

START_TEST(v4_ethernet_padding_excluded)
{
	/* A 40-byte packet with 1 payload byte is padded to 46 bytes by Ethernet. */
	struct bb f;
	f.n = 0;
	bb_ipv4(&f, 5, 41, 0, 6);
	bb_tcp(&f, 1000, 2000, 7, 0, 5, TH_ACK);
	bb_u8(&f, 'x');
	bb_fill(&f, 0, 5);
	ck_assert_uint_eq(f.n, 46);
	struct pkt p;
	uint8_t *b;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 1);
	ck_assert_ptr_eq(p.payload, b + 40);
	ck_assert_uint_eq(p.payload[0], 'x');
	free(b);

	/* No payload at all, 6 bytes of padding: nothing enters the stream. */
	f.n = 0;
	bb_ipv4(&f, 5, 40, 0, 6);
	bb_tcp(&f, 1000, 2000, 7, 0, 5, TH_ACK);
	bb_fill(&f, 0xaa, 6);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 0);
}
END_TEST

START_TEST(v4_total_length_zero_means_captured)
{
	struct bb f;
	build_v4(&f, 0, TH_ACK);
	put_be16(f.b + 2, 0);
	struct pkt p;
	uint8_t *b;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, PLEN);
	ck_assert_ptr_eq(p.payload, b + 40);
	free(b);

	/* with 3000 bytes of TSO payload */
	f.n = 0;
	bb_ipv4(&f, 5, 0, 0, 6);
	bb_tcp(&f, 1, 2, 3, 4, 5, TH_ACK);
	bb_fill(&f, 'z', 1500);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 1500);
}
END_TEST

START_TEST(v4_total_length_past_capture_clamped)
{
	struct bb f;
	build_v4(&f, 0, TH_ACK);
	put_be16(f.b + 2, 1500);          /* snaplen cut the packet */
	struct pkt p;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, PLEN);
}
END_TEST

START_TEST(v4_options)
{
	struct bb f;
	f.n = 0;
	bb_ipv4(&f, 7, (uint16_t)(28 + 32 + 4), 0, 6);
	bb_tcp(&f, 443, 51000, 100, 200, 8, TH_ACK);
	bb_mem(&f, "abcd", 4);
	struct pkt p;
	uint8_t *b;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_OK);
	ck_assert_uint_eq(p.sport, 443);
	ck_assert_uint_eq(p.dport, 51000);
	ck_assert_uint_eq(p.seq, 100);
	ck_assert_uint_eq(p.ack, 200);
	ck_assert_ptr_eq(p.payload, b + 28 + 32);
	ck_assert_uint_eq(p.payload_len, 4);
	ck_assert_mem_eq(p.payload, "abcd", 4);
	free(b);
}
END_TEST

START_TEST(v4_bad_headers)
{
	struct bb f;
	struct pkt p;
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		build_v4(&f, 0, TH_ACK);
		f.b[0] = (uint8_t)(0x40 | ihl);
		uint64_t m = tf_stats.malformed_ip;
		ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
		ck_assert_uint_eq(tf_stats.malformed_ip, m + 1);
	}
	/* IHL 15 = 60 bytes: more than captured (a 40-byte packet) */
	f.n = 0;
	bb_ipv4(&f, 5, 40, 0, 6);
	bb_tcp(&f, 1, 2, 3, 4, 5, 0);
	f.b[0] = 0x4f;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	/* version 6 inside an IPv4 ethertype */
	build_v4(&f, 0, TH_ACK);
	f.b[0] = 0x65;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	/* total length shorter than the header */
	build_v4(&f, 0, TH_ACK);
	put_be16(f.b + 2, 19);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	/* total length covers the IP header but cuts the TCP header */
	build_v4(&f, 0, TH_ACK);
	put_be16(f.b + 2, 39);
	uint64_t mt = tf_stats.malformed_tcp;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	ck_assert_uint_eq(tf_stats.malformed_tcp, mt + 1);
	/* total length exactly the headers: no payload, the rest is padding */
	build_v4(&f, 0, TH_ACK);
	put_be16(f.b + 2, 40);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 0);
}
END_TEST

START_TEST(v4_fragments)
{
	struct bb f;
	struct pkt p;
	static const uint16_t frags[] = { 0x2000 /* MF */, 0x0001 /* offset 8 */,
					  0x2010, 0x1fff, 0x6000 /* DF|MF */ };
	for (size_t i = 0; i < sizeof frags / sizeof frags[0]; i++) {
		build_v4(&f, frags[i], TH_ACK);
		uint64_t n = tf_stats.ip_fragments;
		ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_FRAGMENT);
		ck_assert_uint_eq(tf_stats.ip_fragments, n + 1);
	}
	/* the reserved bit and DF alone are not fragmentation */
	build_v4(&f, 0x8000, TH_ACK);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
	build_v4(&f, 0x4000, TH_ACK);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
}
END_TEST

START_TEST(v4_not_tcp)
{
	struct bb f;
	struct pkt p;
	f.n = 0;
	bb_ipv4(&f, 5, 28, 0, 17);
	bb_be16(&f, 53);
	bb_be16(&f, 5353);
	bb_be16(&f, 8);
	bb_be16(&f, 0);
	uint64_t n = tf_stats.not_tcp;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_NOT_TCP);
	ck_assert_uint_eq(tf_stats.not_tcp, n + 1);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert_uint_eq(p.src.family, 4);
	ck_assert_mem_eq(p.src.bytes, v4src, 4);

	f.b[9] = 1;  /* ICMP */
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_NOT_TCP);
	ck_assert_uint_eq(p.ip_proto, 1);
	f.b[9] = 4;  /* IP-in-IP: the inner packet is handed back (ip_decode_next) */
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_TUNNEL);

	/* not IP at all */
	n = tf_stats.not_ip;
	ck_assert_int_eq(decode_exact(&p, 0x0806, f.b, f.n, NULL), DECODE_NOT_IP);
	ck_assert_uint_eq(tf_stats.not_ip, n + 1);
}
END_TEST

START_TEST(tcp_data_offset)
{
	struct bb f;
	struct pkt p;
	/* data offset 0..4: shorter than the fixed header */
	for (unsigned doff = 0; doff < 5; doff++) {
		build_v4(&f, 0, TH_ACK);
		f.b[20 + 12] = (uint8_t)(doff << 4);
		uint64_t m = tf_stats.malformed_tcp;
		ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
		ck_assert_uint_eq(tf_stats.malformed_tcp, m + 1);
	}
	/* data offset past the segment: 15 words = 60 bytes, segment is 20 + PLEN */
	build_v4(&f, 0, TH_ACK);
	f.b[20 + 12] = 0xf0;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	/* data offset exactly the segment: no payload */
	f.n = 0;
	bb_ipv4(&f, 5, 20 + 24, 0, 6);
	bb_tcp(&f, 1, 2, 3, 4, 6, TH_ACK);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 0);
	/* one byte short of the options */
	put_be16(f.b + 2, 20 + 23);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	/* the low nibble (reserved bits) does not change the offset */
	build_v4(&f, 0, TH_ACK);
	f.b[20 + 12] = 0x5f;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, PLEN);
}
END_TEST

START_TEST(tcp_parse_header_direct)
{
	struct bb f;
	f.n = 0;
	bb_tcp(&f, 7, 8, 9, 10, 5, TH_SYN);
	bb_mem(&f, "xy", 2);
	uint8_t *b = malloc(f.n);
	ck_assert_ptr_nonnull(b);
	memcpy(b, f.b, f.n);
	struct pkt p;
	memset(&p, 0, sizeof p);
	ck_assert_int_eq(tcp_parse_header(&p, b, (uint32_t)f.n), DECODE_OK);
	ck_assert_uint_eq(p.sport, 7);
	ck_assert_uint_eq(p.dport, 8);
	ck_assert_uint_eq(p.tcp_flags, TH_SYN);
	ck_assert_ptr_eq(p.payload, b + 20);
	ck_assert_uint_eq(p.payload_len, 2);
	for (uint32_t len = 0; len < 20; len++)
		ck_assert_int_eq(tcp_parse_header(&p, b, len), DECODE_MALFORMED);
	ck_assert_int_eq(tcp_parse_header(&p, b, 20), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 0);
	free(b);
}
END_TEST

/* ---- IPv6 ----------------------------------------------------------------- */

static void build_v6(struct bb *f)
{
	f->n = 0;
	bb_ipv6(f, (uint16_t)(20 + PLEN), 6);
	bb_tcp(f, 33000, 443, 0xfffffff0u, 0x11223344u, 5, TH_ACK | TH_FIN);
	bb_mem(f, payload, PLEN);
}

START_TEST(v6_basic)
{
	struct bb f;
	build_v6(&f);
	struct pkt p;
	uint8_t *b;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, &b), DECODE_OK);
	ck_assert_uint_eq(p.src.family, 6);
	ck_assert_uint_eq(p.dst.family, 6);
	ck_assert_mem_eq(p.src.bytes, v6src, 16);
	ck_assert_mem_eq(p.dst.bytes, v6dst, 16);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert_uint_eq(p.sport, 33000);
	ck_assert_uint_eq(p.dport, 443);
	ck_assert_uint_eq(p.seq, 0xfffffff0u);
	ck_assert_uint_eq(p.ack, 0x11223344u);
	ck_assert_uint_eq(p.tcp_flags, TH_ACK | TH_FIN);
	ck_assert_ptr_eq(p.payload, b + 60);
	ck_assert_uint_eq(p.payload_len, PLEN);
	ck_assert_mem_eq(p.payload, payload, PLEN);
	free(b);
}
END_TEST

START_TEST(v6_payload_length)
{
	struct bb f;
	struct pkt p;
	/* larger than captured: clamped (1.6 trusted it) */
	build_v6(&f);
	put_be16(f.b + 4, 9000);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, PLEN);
	/* shorter than captured: the trailing bytes are link padding */
	build_v6(&f);
	bb_fill(&f, 0x55, 7);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, PLEN);
	/* 0 (jumbogram / offload): what was captured */
	build_v6(&f);
	put_be16(f.b + 4, 0);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, PLEN);
	/* covering 3 payload bytes only */
	build_v6(&f);
	put_be16(f.b + 4, 23);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 3);
	/* cutting the TCP header */
	build_v6(&f);
	put_be16(f.b + 4, 19);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_MALFORMED);
}
END_TEST

/* IPv6 with hop-by-hop (8 bytes), destination options (16 bytes) and an
 * atomic fragment header (8 bytes), then TCP. */
static void build_v6_ext(struct bb *f, uint16_t frag_field)
{
	f->n = 0;
	bb_ipv6(f, (uint16_t)(8 + 16 + 8 + 20 + PLEN), 0);
	/* hop-by-hop: next = 60, len 0 (8 bytes): PadN option */
	bb_u8(f, 60);
	bb_u8(f, 0);
	bb_u8(f, 1);
	bb_u8(f, 4);
	bb_fill(f, 0, 4);
	/* destination options: next = 44, len 1 (16 bytes) */
	bb_u8(f, 44);
	bb_u8(f, 1);
	bb_u8(f, 1);
	bb_u8(f, 12);
	bb_fill(f, 0, 12);
	/* fragment: next = 6 */
	bb_u8(f, 6);
	bb_u8(f, 0);
	bb_be16(f, frag_field);
	bb_be32(f, 0xdeadbeef);
	bb_tcp(f, 4000, 5000, 1, 2, 5, TH_ACK);
	bb_mem(f, payload, PLEN);
}

START_TEST(v6_extension_chain)
{
	struct bb f;
	build_v6_ext(&f, 0);
	struct pkt p;
	uint8_t *b;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, &b), DECODE_OK);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert_uint_eq(p.sport, 4000);
	ck_assert_uint_eq(p.dport, 5000);
	ck_assert_ptr_eq(p.payload, b + 40 + 32 + 20);
	ck_assert_uint_eq(p.payload_len, PLEN);
	ck_assert_mem_eq(p.payload, payload, PLEN);
	free(b);
	/* the reserved bits of the fragment field are not fragmentation */
	build_v6_ext(&f, 0x0006);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_OK);
}
END_TEST

START_TEST(v6_real_fragments)
{
	struct bb f;
	struct pkt p;
	static const uint16_t fields[] = { 0x0001 /* M */, 0x0008 /* offset 1 */,
					   0x05a9 /* offset + M */, 0xfff8 };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		build_v6_ext(&f, fields[i]);
		uint64_t n = tf_stats.ip_fragments;
		ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_FRAGMENT);
		ck_assert_uint_eq(tf_stats.ip_fragments, n + 1);
	}
	/* fragment header directly after the fixed header */
	f.n = 0;
	bb_ipv6(&f, 8 + 20, 44);
	bb_u8(&f, 6);
	bb_u8(&f, 0);
	bb_be16(&f, 0x0010);
	bb_be32(&f, 1);
	bb_tcp(&f, 1, 2, 3, 4, 5, 0);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_FRAGMENT);
}
END_TEST

START_TEST(v6_routing_and_ah)
{
	struct bb f;
	f.n = 0;
	bb_ipv6(&f, (uint16_t)(24 + 16 + 20 + 2), 43);
	/* routing header, len 2 = 24 bytes, next = AH */
	bb_u8(&f, 51);
	bb_u8(&f, 2);
	bb_fill(&f, 0, 22);
	/* AH: payload len 2 -> (2 + 2) * 4 = 16 bytes, next = TCP */
	bb_u8(&f, 6);
	bb_u8(&f, 2);
	bb_fill(&f, 0, 14);
	bb_tcp(&f, 10, 20, 30, 40, 5, TH_ACK);
	bb_mem(&f, "hi", 2);
	struct pkt p;
	uint8_t *b;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, &b), DECODE_OK);
	ck_assert_ptr_eq(p.payload, b + 40 + 24 + 16 + 20);
	ck_assert_uint_eq(p.payload_len, 2);
	ck_assert_uint_eq(p.sport, 10);
	free(b);
}
END_TEST

START_TEST(v6_not_tcp_and_bad)
{
	struct bb f;
	struct pkt p;
	/* UDP */
	f.n = 0;
	bb_ipv6(&f, 8, 17);
	bb_fill(&f, 0, 8);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_NOT_TCP);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert_mem_eq(p.dst.bytes, v6dst, 16);
	/* ICMPv6 after hop-by-hop */
	f.n = 0;
	bb_ipv6(&f, 16, 0);
	bb_u8(&f, 58);
	bb_u8(&f, 0);
	bb_fill(&f, 0, 6);
	bb_fill(&f, 0, 8);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_NOT_TCP);
	ck_assert_uint_eq(p.ip_proto, 58);
	/* no next header */
	f.n = 0;
	bb_ipv6(&f, 0, 59);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_NOT_TCP);
	/* version 4 in the IPv6 ethertype */
	build_v6(&f);
	f.b[0] = 0x45;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_MALFORMED);
	/* hop-by-hop claiming 16 bytes where 8 remain */
	f.n = 0;
	bb_ipv6(&f, 8, 0);
	bb_u8(&f, 6);
	bb_u8(&f, 1);
	bb_fill(&f, 0, 6);
	uint64_t m = tf_stats.malformed_ip;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_MALFORMED);
	ck_assert_uint_eq(tf_stats.malformed_ip, m + 1);
	/* the payload length cuts the extension header even though bytes follow */
	f.n = 0;
	bb_ipv6(&f, 4, 60);
	bb_u8(&f, 6);
	bb_u8(&f, 0);
	bb_fill(&f, 0, 6);
	bb_tcp(&f, 1, 2, 3, 4, 5, 0);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_MALFORMED);
	/* a chain of 17 destination options headers is more than is walked */
	f.n = 0;
	bb_ipv6(&f, 17 * 8 + 20, 60);
	for (int i = 0; i < 17; i++) {
		bb_u8(&f, i == 16 ? 6 : 60);
		bb_u8(&f, 0);
		bb_fill(&f, 0, 6);
	}
	bb_tcp(&f, 1, 2, 3, 4, 5, 0);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_MALFORMED);
	/* 15 of them still decode */
	f.n = 0;
	bb_ipv6(&f, 15 * 8 + 20, 60);
	for (int i = 0; i < 15; i++) {
		bb_u8(&f, i == 14 ? 6 : 60);
		bb_u8(&f, 0);
		bb_fill(&f, 0, 6);
	}
	bb_tcp(&f, 1, 2, 3, 4, 5, 0);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_OK);
	ck_assert_uint_eq(p.payload_len, 0);
}
END_TEST

/* ---- truncation ------------------------------------------------------------ */

START_TEST(truncation_sweep_v4)
{
	struct bb f;
	build_v4(&f, 0, TH_ACK);
	for (size_t len = 0; len <= f.n; len++) {
		struct pkt p;
		uint8_t *b;
		int rc = decode_exact(&p, ETHERTYPE_IPV4, f.b, len, &b);
		if (len < 40) {
			ck_assert_msg(rc == DECODE_MALFORMED, "len %zu rc %d", len, rc);
		} else {
			ck_assert_int_eq(rc, DECODE_OK);
			ck_assert_ptr_eq(p.payload, b + 40);
			ck_assert_uint_eq(p.payload_len, len - 40);
		}
		free(b);
	}
}
END_TEST

START_TEST(truncation_sweep_v6)
{
	struct bb f;
	build_v6_ext(&f, 0);
	size_t hdrs = 40 + 32 + 20;
	for (size_t len = 0; len <= f.n; len++) {
		struct pkt p;
		uint8_t *b;
		int rc = decode_exact(&p, ETHERTYPE_IPV6, f.b, len, &b);
		if (len < hdrs) {
			ck_assert_msg(rc == DECODE_MALFORMED, "len %zu rc %d", len, rc);
		} else {
			ck_assert_int_eq(rc, DECODE_OK);
			ck_assert_ptr_eq(p.payload, b + hdrs);
			ck_assert_uint_eq(p.payload_len, len - hdrs);
		}
		free(b);
	}
}
END_TEST

START_TEST(mutation_stays_in_bounds)
{
	/* Every single-byte change of both packets, decoded from exact buffers:
	 * whatever the result, a payload lies inside the buffer. */
	struct bb v4, v6;
	build_v4(&v4, 0, TH_ACK);
	build_v6_ext(&v6, 0);
	struct bb *pk[2] = { &v4, &v6 };
	uint16_t et[2] = { ETHERTYPE_IPV4, ETHERTYPE_IPV6 };
	static const uint8_t vals[] = { 0x00, 0x01, 0x05, 0x06, 0x0f, 0x2c, 0x3b, 0x3c,
					0x45, 0x4f, 0x60, 0x7f, 0x80, 0xf0, 0xff };
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < pk[k]->n; i++) {
			for (size_t v = 0; v < sizeof vals; v++) {
				struct bb m = *pk[k];
				m.b[i] = vals[v];
				struct pkt p;
				uint8_t *b;
				int rc = decode_exact(&p, et[k], m.b, m.n, &b);
				if (rc == DECODE_OK) {
					ck_assert(p.payload >= b);
					ck_assert(p.payload + p.payload_len <= b + m.n);
				}
				free(b);
			}
		}
	}
}
END_TEST

/* ---- address text ------------------------------------------------------------ */

static void addr6(struct tf_addr *a, const char *hex32)
{
	a->family = 6;
	for (int i = 0; i < 16; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char ch = hex32[2 * i + j];
			v = v * 16 + (unsigned)(ch <= '9' ? ch - '0' : ch - 'a' + 10);
		}
		a->bytes[i] = (uint8_t)v;
	}
}

START_TEST(addr_text_v4)
{
	struct tf_addr a;
	memset(&a, 0, sizeof a);
	a.family = 4;
	memcpy(a.bytes, v4src, 4);
	char buf[46];
	ip_addr_text(&a, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "010.000.000.001");
	ip_addr_text(&a, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "10.0.0.1");
	memcpy(a.bytes, v4dst, 4);
	ip_addr_text(&a, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "192.168.200.254");
	ip_addr_text(&a, 0, buf, sizeof buf);
	ck_assert_str_eq(buf, "192.168.200.254");
	static const uint8_t z[4] = { 0, 0, 0, 0 };
	memcpy(a.bytes, z, 4);
	ip_addr_text(&a, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "000.000.000.000");
	/* a short buffer is truncated, always terminated */
	memset(buf, 'x', sizeof buf);
	memcpy(a.bytes, v4dst, 4);
	ip_addr_text(&a, 1, buf, 8);
	ck_assert_str_eq(buf, "192.168");
	a.family = 0;
	ip_addr_text(&a, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "?");
}
END_TEST

START_TEST(addr_text_v6_rfc5952)
{
	struct tf_addr a;
	char buf[46];
	static const struct {
		const char *hex, *text;
	} cases[] = {
		{ "20010db8000000000000000000000001", "2001:db8::1" },
		{ "00000000000000000000000000000001", "::1" },
		{ "00000000000000000000000000000000", "::" },
		{ "20010db8000000010001000100010001", "2001:db8:0:1:1:1:1:1" },   /* one 0 group: not :: */
		{ "20010db8000000000001000000000001", "2001:db8::1:0:0:1" },      /* first of equal runs */
		{ "20010db8000000010000000000000001", "2001:db8:0:1::1" },        /* longest run */
		{ "20010db8abcdef000000000000000000", "2001:db8:abcd:ef00::" },   /* lower case, trailing */
		{ "00000000000000000000ffff01020304", "::ffff:1.2.3.4" },         /* mapped IPv4 */
		{ "ffffffffffffffffffffffffffffffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		addr6(&a, cases[i].hex);
		for (int pad = 0; pad < 2; pad++) {   /* padding applies to IPv4 only */
			ip_addr_text(&a, pad, buf, sizeof buf);
			ck_assert_str_eq(buf, cases[i].text);
		}
	}
	a.family = 6;
	memcpy(a.bytes, v6dst, 16);
	ip_addr_text(&a, 1, buf, sizeof buf);
	ck_assert_str_eq(buf, "fe80::211:22ff:fe33:4455");
}
END_TEST

/* ---- tunnels and fragments (ip_decode_next) ---------------------------------- */

/* Decode from an exact heap copy with ip_decode_next; *buf_out as in decode_exact. */
static int next_exact(struct pkt *p, struct ip_next *nx, uint16_t ethertype, const uint8_t *bytes,
		      size_t n, uint8_t **buf_out)
{
	uint8_t *b = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(b);
	if (n)
		memcpy(b, bytes, n);
	memset(p, 0, sizeof *p);
	memset(nx, 0, sizeof *nx);
	struct l3_view l3 = { ethertype, b, (uint32_t)n };
	int rc = ip_decode_next(p, &l3, nx);
	if (rc == DECODE_TUNNEL) {
		ck_assert(nx->inner.data >= b);
		ck_assert(nx->inner.data + nx->inner.len <= b + n);
	}
	if (buf_out)
		*buf_out = b;
	else
		free(b);
	return rc;
}

/* An inner IPv4/TCP packet (40 + PLEN bytes) appended to f. */
static void bb_inner_v4(struct bb *f)
{
	bb_ipv4(f, 5, (uint16_t)(20 + 20 + PLEN), 0, 6);
	bb_tcp(f, 1111, 2222, 5, 6, 5, TH_ACK);
	bb_mem(f, payload, PLEN);
}

/* Check a DECODE_TUNNEL result: inner ethertype, offset and length. */
static void assert_inner(const struct ip_next *nx, const uint8_t *b, uint16_t ethertype,
			 size_t off, size_t len)
{
	ck_assert_uint_eq(nx->inner.ethertype, ethertype);
	ck_assert_ptr_eq(nx->inner.data, b + off);
	ck_assert_uint_eq(nx->inner.len, len);
}

START_TEST(tunnel_ip_in_ip)
{
	struct bb f;
	struct pkt p;
	struct ip_next nx;
	uint8_t *b;
	uint64_t n0 = tf_stats.tunnel_ip_in_ip;
	/* 4in4 (RFC 2003) */
	f.n = 0;
	bb_ipv4(&f, 5, (uint16_t)(20 + 40 + PLEN), 0, 4);
	bb_inner_v4(&f);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_IPV4, 20, 40 + PLEN);
	ck_assert_uint_eq(p.ip_proto, 4);
	free(b);
	/* 6in4 (RFC 4213), outer padding excluded */
	f.n = 0;
	bb_ipv4(&f, 5, (uint16_t)(20 + 60 + PLEN), 0, 41);
	bb_ipv6(&f, (uint16_t)(20 + PLEN), 6);
	bb_tcp(&f, 1, 2, 3, 4, 5, TH_ACK);
	bb_mem(&f, payload, PLEN);
	bb_fill(&f, 0, 6);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_IPV6, 20, 60 + PLEN);
	free(b);
	/* 4in6 and 6in6 (RFC 2473), behind a destination options header */
	for (int inner6 = 0; inner6 < 2; inner6++) {
		f.n = 0;
		size_t in_len = inner6 ? 60 + PLEN : 40 + PLEN;
		bb_ipv6(&f, (uint16_t)(8 + in_len), 60);
		bb_u8(&f, inner6 ? 41 : 4);
		bb_u8(&f, 0);
		bb_fill(&f, 0, 6);
		if (inner6) {
			bb_ipv6(&f, (uint16_t)(20 + PLEN), 6);
			bb_tcp(&f, 1, 2, 3, 4, 5, TH_ACK);
			bb_mem(&f, payload, PLEN);
		} else {
			bb_inner_v4(&f);
		}
		ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV6, f.b, f.n, &b), DECODE_TUNNEL);
		assert_inner(&nx, b, inner6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, 48, in_len);
		free(b);
	}
	ck_assert_uint_eq(tf_stats.tunnel_ip_in_ip, n0 + 4);
	/* ip_decode alone says there is a tunnel */
	f.n = 0;
	bb_ipv4(&f, 5, (uint16_t)(20 + 40 + PLEN), 0, 4);
	bb_inner_v4(&f);
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_TUNNEL);
}
END_TEST

/* IPv4 + GRE header with the given flags (optional fields filled in). */
static size_t bb_gre(struct bb *f, uint16_t flags, uint16_t ptype, size_t inner_len)
{
	size_t h = 4;
	if (flags & 0xC000)
		h += 4;
	if (flags & 0x2000)
		h += 4;
	if (flags & 0x1000)
		h += 4;
	if ((flags & 7) == 1 && (flags & 0x0080))
		h += 4;
	bb_ipv4(f, 5, (uint16_t)(20 + h + inner_len), 0, 47);
	bb_be16(f, flags);
	bb_be16(f, ptype);
	for (size_t i = 4; i < h; i++)
		bb_u8(f, (uint8_t)(0x80 + i));
	return 20 + h;
}

START_TEST(tunnel_gre_variants)
{
	static const uint16_t flag_sets[] = { 0x0000, 0x8000, 0x2000, 0x1000, 0xB000, 0x3000 };
	struct bb f;
	struct pkt p;
	struct ip_next nx;
	uint8_t *b;
	uint64_t g0 = tf_stats.tunnel_gre;
	for (size_t i = 0; i < sizeof flag_sets / sizeof flag_sets[0]; i++) {
		f.n = 0;
		size_t off = bb_gre(&f, flag_sets[i], 0x0800, 40 + PLEN);
		bb_inner_v4(&f);
		ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
		assert_inner(&nx, b, ETHERTYPE_IPV4, off, 40 + PLEN);
		free(b);
	}
	ck_assert_uint_eq(tf_stats.tunnel_gre, g0 + 6);
	/* RFC 1701 routing: two SREs then the NULL SRE */
	f.n = 0;
	bb_ipv4(&f, 5, 0, 0, 47);
	bb_be16(&f, 0x4000);
	bb_be16(&f, 0x86DD);
	bb_be32(&f, 0);                     /* checksum + offset */
	bb_be16(&f, 0x0800); bb_u8(&f, 0); bb_u8(&f, 8); bb_fill(&f, 1, 8);
	bb_be16(&f, 0xC000); bb_u8(&f, 0); bb_u8(&f, 4); bb_fill(&f, 2, 4);
	bb_be32(&f, 0);
	size_t off = f.n;
	bb_ipv6(&f, 20, 6);
	bb_tcp(&f, 1, 2, 3, 4, 5, 0);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_IPV6, off, 60);
	free(b);
	/* transparent Ethernet bridging, MPLS: handed back for the link layer */
	f.n = 0;
	off = bb_gre(&f, 0x2000, 0x6558, 14);
	bb_fill(&f, 0xee, 14);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_TEB, off, 14);
	free(b);
	f.n = 0;
	off = bb_gre(&f, 0, 0x8847, 4);
	bb_be32(&f, 0x00010140);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_MPLS, off, 4);
	free(b);
	/* PPTP (version 1): key, sequence and acknowledgment, PPP inside */
	f.n = 0;
	off = bb_gre(&f, 0x3081, 0x880B, 4);
	bb_be32(&f, 0xff030021);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_PPP, off, 4);
	free(b);
	/* version 1 without its key, an unknown version, an unknown type */
	f.n = 0;
	bb_gre(&f, 0x0001, 0x880B, 0);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	f.n = 0;
	bb_gre(&f, 0x0002, 0x0800, 0);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_UNSUPPORTED);
	f.n = 0;
	bb_gre(&f, 0, 0x883E, 4);
	bb_be32(&f, 0);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_NOT_TCP);
	/* optional fields promised but cut */
	f.n = 0;
	bb_ipv4(&f, 5, 0, 0, 47);
	bb_be16(&f, 0xB000);
	bb_be16(&f, 0x0800);
	bb_be32(&f, 1);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
}
END_TEST

START_TEST(tunnel_erspan)
{
	struct bb f;
	struct pkt p;
	struct ip_next nx;
	uint8_t *b;
	/* type I: no S bit, no ERSPAN header */
	f.n = 0;
	size_t off = bb_gre(&f, 0, 0x88BE, 14);
	bb_fill(&f, 0xee, 14);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_TEB, off, 14);
	free(b);
	/* type II: sequence number, 8-byte header of version 1 */
	f.n = 0;
	off = bb_gre(&f, 0x1000, 0x88BE, 8 + 14);
	bb_be32(&f, 0x10640001);
	bb_be32(&f, 0);
	bb_fill(&f, 0xee, 14);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_TEB, off + 8, 14);
	free(b);
	f.b[off] = 0x20;                    /* version 2 under type II's type */
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_UNSUPPORTED);
	/* type III: 12 bytes, and 8 more with the O bit */
	for (int o = 0; o < 2; o++) {
		f.n = 0;
		off = bb_gre(&f, 0x1000, 0x22EB, 12 + (o ? 8 : 0) + 14);
		bb_be32(&f, 0x20640001);
		bb_be32(&f, 0x12345678);
		bb_be16(&f, 0);
		bb_be16(&f, o ? 1 : 0);
		if (o)
			bb_fill(&f, 0x33, 8);
		bb_fill(&f, 0xee, 14);
		ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
		assert_inner(&nx, b, ETHERTYPE_TEB, off + 12 + (o ? 8 : 0), 14);
		free(b);
	}
	/* the type II header cut */
	f.n = 0;
	bb_gre(&f, 0x1000, 0x88BE, 4);
	bb_be32(&f, 0x10640001);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
}
END_TEST

/* IPv4 + UDP to dport with an 8-byte UDP header; returns the payload offset. */
static size_t bb_udp(struct bb *f, uint16_t dport, size_t plen)
{
	bb_ipv4(f, 5, (uint16_t)(20 + 8 + plen), 0, 17);
	bb_be16(f, 54321);
	bb_be16(f, dport);
	bb_be16(f, (uint16_t)(8 + plen));
	bb_be16(f, 0);
	return 28;
}

START_TEST(tunnel_udp)
{
	struct bb f;
	struct pkt p;
	struct ip_next nx;
	uint8_t *b;
	uint64_t v0 = tf_stats.tunnel_vxlan, nt = tf_stats.not_tcp;
	/* VXLAN (RFC 7348): I flag, VNI; an Ethernet frame follows */
	f.n = 0;
	size_t off = bb_udp(&f, 4789, 8 + 14);
	bb_be32(&f, 0x08000000);
	bb_be32(&f, 0x00123400);
	bb_fill(&f, 0xee, 14);
	bb_fill(&f, 0, 4);                  /* padding after the UDP length */
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_TEB, off + 8, 14);
	free(b);
	f.b[off] = 0;                       /* I flag clear: not VXLAN */
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_NOT_TCP);
	/* VXLAN-GPE: next protocol IPv4 */
	f.n = 0;
	off = bb_udp(&f, 4790, 8 + 40 + PLEN);
	bb_be32(&f, 0x0C000001);
	bb_be32(&f, 0x00000100);
	bb_inner_v4(&f);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_IPV4, off + 8, 40 + PLEN);
	free(b);
	/* Geneve (RFC 8926) with 8 bytes of options, Ethernet inside */
	f.n = 0;
	off = bb_udp(&f, 6081, 8 + 8 + 14);
	bb_u8(&f, 0x02);
	bb_u8(&f, 0);
	bb_be16(&f, 0x6558);
	bb_be32(&f, 0x00000a00);
	bb_fill(&f, 0x77, 8);
	bb_fill(&f, 0xee, 14);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_TUNNEL);
	assert_inner(&nx, b, ETHERTYPE_TEB, off + 16, 14);
	free(b);
	ck_assert_uint_eq(tf_stats.tunnel_vxlan, v0 + 3);
	/* options longer than the packet */
	f.b[off] = 0x3f;
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
	/* DNS is only UDP; a UDP header cut short is malformed */
	f.n = 0;
	bb_udp(&f, 53, 12);
	bb_fill(&f, 0, 12);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_NOT_TCP);
	ck_assert_uint_eq(p.dport, 53);
	ck_assert_uint_eq(tf_stats.not_tcp, nt + 2);
	f.n = 0;
	bb_ipv4(&f, 5, 26, 0, 17);
	bb_be32(&f, 1);
	bb_be16(&f, 2);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, NULL), DECODE_MALFORMED);
}
END_TEST

START_TEST(fragment_descriptors)
{
	struct bb f;
	struct pkt p;
	struct ip_next nx;
	uint8_t *b;
	/* IPv4: offset 185 * 8, MF; header with options */
	f.n = 0;
	bb_ipv4(&f, 6, (uint16_t)(24 + 16), 0x2000 | 185, 6);
	bb_fill(&f, 0x5a, 16);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV4, f.b, f.n, &b), DECODE_FRAGMENT);
	ck_assert_uint_eq(nx.frag.family, 4);
	ck_assert_uint_eq(nx.frag.proto, 6);
	ck_assert_uint_eq(nx.frag.id, 0x1234);
	ck_assert_uint_eq(nx.frag.offset, 1480);
	ck_assert_int_eq(nx.frag.more, 1);
	ck_assert_ptr_eq(nx.frag.hdr, b);
	ck_assert_uint_eq(nx.frag.hdr_len, 24);
	ck_assert_ptr_eq(nx.frag.data, b + 24);
	ck_assert_uint_eq(nx.frag.len, 16);
	ck_assert_mem_eq(nx.frag.src.bytes, v4src, 4);
	free(b);
	/* IPv6: hop-by-hop, then the Fragment header; padding excluded */
	f.n = 0;
	bb_ipv6(&f, 8 + 8 + 24, 0);
	bb_u8(&f, 44);
	bb_u8(&f, 0);
	bb_fill(&f, 0, 6);
	bb_u8(&f, 17);
	bb_u8(&f, 0);
	bb_be16(&f, 0x0100);                /* offset 256, last */
	bb_be32(&f, 0xcafef00d);
	bb_fill(&f, 0x11, 24);
	bb_fill(&f, 0, 3);
	ck_assert_int_eq(next_exact(&p, &nx, ETHERTYPE_IPV6, f.b, f.n, &b), DECODE_FRAGMENT);
	ck_assert_uint_eq(nx.frag.family, 6);
	ck_assert_uint_eq(nx.frag.proto, 17);
	ck_assert_uint_eq(nx.frag.id, 0xcafef00du);
	ck_assert_uint_eq(nx.frag.offset, 256);
	ck_assert_int_eq(nx.frag.more, 0);
	ck_assert_uint_eq(nx.frag.hdr_len, 48);
	ck_assert_ptr_eq(nx.frag.data, b + 56);
	ck_assert_uint_eq(nx.frag.len, 24);
	ck_assert_mem_eq(nx.frag.dst.bytes, v6dst, 16);
	free(b);
}
END_TEST

START_TEST(v6_more_extension_headers)
{
	struct bb f;
	struct pkt p;
	/* mobility (135), HIP (139) and shim6 (140) are walked like options */
	static const uint8_t kinds[] = { 135, 139, 140 };
	for (size_t i = 0; i < sizeof kinds; i++) {
		f.n = 0;
		bb_ipv6(&f, 16 + 20, kinds[i]);
		bb_u8(&f, 6);
		bb_u8(&f, 1);
		bb_fill(&f, 0, 14);
		bb_tcp(&f, 1, 2, 3, 4, 5, 0);
		uint64_t u = tf_stats.ipv6_unknown_ext;
		ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_OK);
		ck_assert_uint_eq(tf_stats.ipv6_unknown_ext, u);
	}
	/* an unknown next header is counted (and is not TCP) */
	f.n = 0;
	bb_ipv6(&f, 8, 253);
	bb_fill(&f, 0, 8);
	uint64_t u = tf_stats.ipv6_unknown_ext;
	ck_assert_int_eq(decode_exact(&p, ETHERTYPE_IPV6, f.b, f.n, NULL), DECODE_NOT_TCP);
	ck_assert_uint_eq(tf_stats.ipv6_unknown_ext, u + 1);
}
END_TEST

START_TEST(truncation_sweep_tunnels)
{
	/* every tunnel packet cut at every length: a tunnel's inner view stays
	 * inside the buffer (next_exact checks), a TCP payload too */
	struct bb cases[6];
	size_t ncases = 0;
	struct bb *f = &cases[ncases++];
	f->n = 0;
	bb_gre(f, 0xB000, 0x0800, 40 + PLEN);
	bb_inner_v4(f);
	f = &cases[ncases++];
	f->n = 0;
	bb_gre(f, 0x1000, 0x22EB, 20 + 14);
	bb_be32(f, 0x20640001); bb_be32(f, 0); bb_be16(f, 0); bb_be16(f, 1);
	bb_fill(f, 0x33, 8);
	bb_fill(f, 0xee, 14);
	f = &cases[ncases++];
	f->n = 0;
	bb_udp(f, 4789, 8 + 14);
	bb_be32(f, 0x08000000); bb_be32(f, 0x100);
	bb_fill(f, 0xee, 14);
	f = &cases[ncases++];
	f->n = 0;
	bb_udp(f, 6081, 8 + 4 + 14);
	bb_u8(f, 1); bb_u8(f, 0); bb_be16(f, 0x6558); bb_be32(f, 0); bb_fill(f, 1, 4);
	bb_fill(f, 0xee, 14);
	f = &cases[ncases++];
	f->n = 0;
	bb_ipv6(f, 8 + 40 + PLEN, 60);
	bb_u8(f, 4); bb_u8(f, 0); bb_fill(f, 0, 6);
	bb_inner_v4(f);
	f = &cases[ncases++];
	f->n = 0;
	bb_ipv6(f, 8 + 8 + 16, 0);
	bb_u8(f, 44); bb_u8(f, 0); bb_fill(f, 0, 6);
	bb_u8(f, 6); bb_u8(f, 0); bb_be16(f, 0x0009); bb_be32(f, 7);
	bb_fill(f, 0x42, 16);
	for (size_t k = 0; k < ncases; k++) {
		for (size_t len = 0; len <= cases[k].n; len++) {
			struct pkt p;
			struct ip_next nx;
			uint8_t *b;
			uint16_t et = (cases[k].b[0] >> 4) == 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
			int rc = next_exact(&p, &nx, et, cases[k].b, len, &b);
			ck_assert(rc <= 0 && rc >= DECODE_TUNNEL);
			if (rc == DECODE_FRAGMENT) {
				ck_assert(nx.frag.data >= b && nx.frag.hdr == b);
				ck_assert(nx.frag.data + nx.frag.len <= b + len);
			}
			if (rc == DECODE_OK)
				ck_assert(p.payload >= b && p.payload + p.payload_len <= b + len);
			free(b);
		}
	}
}
END_TEST

static Suite *ip_suite(void)
{
	Suite *s = suite_create("ip");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, v4_basic);
	tcase_add_test(tc, v4_all_flags_and_high_values);
	tcase_add_test(tc, v4_ethernet_padding_excluded);
	tcase_add_test(tc, v4_total_length_zero_means_captured);
	tcase_add_test(tc, v4_total_length_past_capture_clamped);
	tcase_add_test(tc, v4_options);
	tcase_add_test(tc, v4_bad_headers);
	tcase_add_test(tc, v4_fragments);
	tcase_add_test(tc, v4_not_tcp);
	tcase_add_test(tc, tcp_data_offset);
	tcase_add_test(tc, tcp_parse_header_direct);
	tcase_add_test(tc, v6_basic);
	tcase_add_test(tc, v6_payload_length);
	tcase_add_test(tc, v6_extension_chain);
	tcase_add_test(tc, v6_real_fragments);
	tcase_add_test(tc, v6_routing_and_ah);
	tcase_add_test(tc, v6_not_tcp_and_bad);
	tcase_add_test(tc, truncation_sweep_v4);
	tcase_add_test(tc, truncation_sweep_v6);
	tcase_add_test(tc, mutation_stays_in_bounds);
	tcase_add_test(tc, addr_text_v4);
	tcase_add_test(tc, addr_text_v6_rfc5952);
	tcase_add_test(tc, tunnel_ip_in_ip);
	tcase_add_test(tc, tunnel_gre_variants);
	tcase_add_test(tc, tunnel_erspan);
	tcase_add_test(tc, tunnel_udp);
	tcase_add_test(tc, fragment_descriptors);
	tcase_add_test(tc, v6_more_extension_headers);
	tcase_add_test(tc, truncation_sweep_tunnels);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ip_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
