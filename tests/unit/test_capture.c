/* Unit tests for core/capture.c. Every capture is built byte by byte here
 * (pcap and pcapng, both byte orders, gzip through zlib) in a temporary
 * directory, then read back and checked exactly. */
#include "capture.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[256];

/* ---- byte builder --------------------------------------------------------- */

struct bb {
	uint8_t *b;
	size_t n, cap;
	int be;            /* multi-byte values big-endian */
};

static void bb_u8(struct bb *f, uint8_t v)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->b = realloc(f->b, f->cap);
		ck_assert_ptr_nonnull(f->b);
	}
	f->b[f->n++] = v;
}

static void bb_u16(struct bb *f, uint16_t v)
{
	if (f->be) {
		bb_u8(f, (uint8_t)(v >> 8));
		bb_u8(f, (uint8_t)v);
	} else {
		bb_u8(f, (uint8_t)v);
		bb_u8(f, (uint8_t)(v >> 8));
	}
}

static void bb_u32(struct bb *f, uint32_t v)
{
	if (f->be) {
		bb_u16(f, (uint16_t)(v >> 16));
		bb_u16(f, (uint16_t)v);
	} else {
		bb_u16(f, (uint16_t)v);
		bb_u16(f, (uint16_t)(v >> 16));
	}
}

static void bb_bytes(struct bb *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bb_u8(f, p[i]);
}

static void bb_pad4(struct bb *f)
{
	while (f->n % 4)
		bb_u8(f, 0);
}

/* Overwrite a 32-bit value already written at off. */
static void bb_put32(struct bb *f, size_t off, uint32_t v)
{
	struct bb t = { f->b, off, f->cap, f->be };

	bb_u32(&t, v);
}

/* ---- frames ---------------------------------------------------------------- */

/* IPv4 + TCP (or UDP) header, 40 bytes, with the given ports. */
static void ipv4_l4(struct bb *f, uint8_t proto, uint16_t sport, uint16_t dport)
{
	static const uint8_t ip[] = {
		0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
		10, 0, 0, 1, 10, 0, 0, 2,
	};
	int save = f->be;

	f->be = 1;
	bb_bytes(f, ip, 9);
	bb_u8(f, proto);
	bb_bytes(f, ip + 10, sizeof ip - 10);
	bb_u16(f, sport);
	bb_u16(f, dport);
	if (proto == 6) {
		bb_u32(f, 1000);
		bb_u32(f, 0);
		bb_u16(f, 0x5010);
		bb_u16(f, 8192);
		bb_u32(f, 0);
	} else {
		bb_u16(f, 20);
		bb_u16(f, 0);
		for (int i = 0; i < 12; i++)
			bb_u8(f, 0);
	}
	f->be = save;
}

/* An Ethernet frame carrying ipv4_l4: 54 bytes. */
static struct bb eth_frame(uint8_t proto, uint16_t sport, uint16_t dport)
{
	static const uint8_t macs[] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00 };
	struct bb f = { 0 };

	bb_bytes(&f, macs, sizeof macs);
	ipv4_l4(&f, proto, sport, dport);
	return f;
}

static struct bb raw_frame(uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct bb f = { 0 };

	ipv4_l4(&f, proto, sport, dport);
	return f;
}

/* ---- pcap ------------------------------------------------------------------ */

static void pcap_hdr(struct bb *f, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
	bb_u32(f, magic);
	bb_u16(f, 2);
	bb_u16(f, 4);
	bb_u32(f, 0);
	bb_u32(f, 0);
	bb_u32(f, snaplen);
	bb_u32(f, linktype);
}

static void pcap_rec(struct bb *f, uint32_t sec, uint32_t frac, const struct bb *frame,
		     uint32_t wirelen)
{
	bb_u32(f, sec);
	bb_u32(f, frac);
	bb_u32(f, (uint32_t)frame->n);
	bb_u32(f, wirelen);
	bb_bytes(f, frame->b, frame->n);
}

/* The standard test pcap: three Ethernet packets, TCP 80, TCP 443, UDP 80. */
static struct bb std_pcap(int be, int nsec)
{
	struct bb f = { 0 };
	struct bb a = eth_frame(6, 40000, 80);
	struct bb b = eth_frame(6, 40001, 443);
	struct bb c = eth_frame(17, 40002, 80);

	f.be = be;
	pcap_hdr(&f, nsec ? 0xA1B23C4Du : 0xA1B2C3D4u, 65535, 1);
	pcap_rec(&f, 1000000000u, nsec ? 123456789u : 123456u, &a, 60);
	pcap_rec(&f, 1000000001u, nsec ? 999999999u : 999999u, &b, (uint32_t)b.n);
	pcap_rec(&f, 1000000002u, 0, &c, (uint32_t)c.n);
	free(a.b);
	free(b.b);
	free(c.b);
	return f;
}

/* ---- pcapng ----------------------------------------------------------------- */

/* Start a block: type and a placeholder length; returns its offset. */
static size_t ng_begin(struct bb *f, uint32_t type)
{
	size_t at = f->n;

	bb_u32(f, type);
	bb_u32(f, 0);
	return at;
}

static void ng_end(struct bb *f, size_t at)
{
	uint32_t len;

	bb_pad4(f);
	len = (uint32_t)(f->n - at + 4);
	bb_put32(f, at + 4, len);
	bb_u32(f, len);
}

static void ng_shb(struct bb *f, uint16_t major)
{
	size_t at = ng_begin(f, 0x0A0D0D0Au);

	bb_u32(f, 0x1A2B3C4Du);
	bb_u16(f, major);
	bb_u16(f, 0);
	bb_u32(f, 0xFFFFFFFFu);
	bb_u32(f, 0xFFFFFFFFu);
	ng_end(f, at);
}

/* tsresol < 0: no option. tsoffset 0: no option. */
static void ng_idb(struct bb *f, uint16_t linktype, uint32_t snaplen, int tsresol,
		   uint32_t tsoffset)
{
	size_t at = ng_begin(f, 1);

	bb_u16(f, linktype);
	bb_u16(f, 0);
	bb_u32(f, snaplen);
	/* an if_name option, to be skipped */
	bb_u16(f, 2);
	bb_u16(f, 5);
	bb_bytes(f, (const uint8_t *)"eth0x", 5);
	bb_pad4(f);
	if (tsresol >= 0) {
		bb_u16(f, 9);
		bb_u16(f, 1);
		bb_u8(f, (uint8_t)tsresol);
		bb_pad4(f);
	}
	if (tsoffset) {
		uint64_t v = tsoffset;

		bb_u16(f, 14);
		bb_u16(f, 8);
		if (f->be) {
			bb_u32(f, (uint32_t)(v >> 32));
			bb_u32(f, (uint32_t)v);
		} else {
			bb_u32(f, (uint32_t)v);
			bb_u32(f, (uint32_t)(v >> 32));
		}
	}
	bb_u16(f, 0);
	bb_u16(f, 0);
	ng_end(f, at);
}

static void ng_epb(struct bb *f, uint32_t ifid, uint64_t ts, const struct bb *frame,
		   uint32_t wirelen)
{
	size_t at = ng_begin(f, 6);

	bb_u32(f, ifid);
	bb_u32(f, (uint32_t)(ts >> 32));
	bb_u32(f, (uint32_t)ts);
	bb_u32(f, (uint32_t)frame->n);
	bb_u32(f, wirelen);
	bb_bytes(f, frame->b, frame->n);
	bb_pad4(f);
	/* an opt_comment, to be skipped */
	bb_u16(f, 1);
	bb_u16(f, 3);
	bb_bytes(f, (const uint8_t *)"hey", 3);
	bb_pad4(f);
	bb_u16(f, 0);
	bb_u16(f, 0);
	ng_end(f, at);
}

static void ng_spb(struct bb *f, const struct bb *frame, uint32_t wirelen)
{
	size_t at = ng_begin(f, 3);

	bb_u32(f, wirelen);
	bb_bytes(f, frame->b, frame->n);
	ng_end(f, at);
}

static void ng_obsolete_pb(struct bb *f, uint16_t ifid, uint64_t ts, const struct bb *frame)
{
	size_t at = ng_begin(f, 2);

	bb_u16(f, ifid);
	bb_u16(f, 0);
	bb_u32(f, (uint32_t)(ts >> 32));
	bb_u32(f, (uint32_t)ts);
	bb_u32(f, (uint32_t)frame->n);
	bb_u32(f, (uint32_t)frame->n);
	bb_bytes(f, frame->b, frame->n);
	ng_end(f, at);
}

/* An unknown block type (a Name Resolution Block), to be skipped. */
static void ng_other(struct bb *f)
{
	size_t at = ng_begin(f, 4);

	bb_u32(f, 0);
	ng_end(f, at);
}

/* Two interfaces: 0 = Ethernet, microseconds; 1 = RAW (101), nanoseconds,
 * if_tsoffset 100 s. Packets: eth TCP 80 on 0, raw TCP 80 on 1, raw TCP 443
 * on 1, eth UDP 80 on 0. Returns the offset of each packet block in offs. */
static struct bb std_pcapng(int be, size_t offs[4])
{
	struct bb f = { 0 };
	struct bb e80 = eth_frame(6, 40000, 80);
	struct bb r80 = raw_frame(6, 40001, 80);
	struct bb r443 = raw_frame(6, 40002, 443);
	struct bb u80 = eth_frame(17, 40003, 80);

	f.be = be;
	ng_shb(&f, 1);
	ng_idb(&f, 1, 65535, -1, 0);
	ng_other(&f);
	ng_idb(&f, 101, 0, 9, 100);
	offs[0] = f.n;
	ng_epb(&f, 0, UINT64_C(1500000000123456), &e80, 60);
	offs[1] = f.n;
	ng_epb(&f, 1, UINT64_C(1500000001987654321), &r80, (uint32_t)r80.n);
	offs[2] = f.n;
	ng_epb(&f, 1, UINT64_C(1500000002000000999), &r443, (uint32_t)r443.n);
	offs[3] = f.n;
	ng_epb(&f, 0, UINT64_C(1500000003000001), &u80, (uint32_t)u80.n);
	free(e80.b);
	free(r80.b);
	free(r443.b);
	free(u80.b);
	return f;
}

/* ---- files ---------------------------------------------------------------- */

static const char *tpath(const char *name)
{
	static char path[512];

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	return path;
}

static const char *write_file(const char *name, const void *data, size_t n)
{
	const char *path = tpath(name);
	FILE *fp = fopen(path, "wb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

static const char *write_gz(const char *name, const void *data, size_t n)
{
	const char *path = tpath(name);
	gzFile gz = gzopen(path, "wb");

	ck_assert_ptr_nonnull(gz);
	ck_assert_int_eq(gzwrite(gz, data, (unsigned)n), (int)n);
	ck_assert_int_eq(gzclose(gz), Z_OK);
	return path;
}

static struct capture_input *must_open(const char *path, const char *filter)
{
	char err[256] = "";
	struct capture_input *in = capture_open(path, filter, err, sizeof err);

	ck_assert_msg(in != NULL, "open %s: %s", path, err);
	return in;
}

static void open_fails(const char *path, const char *filter, const char *want)
{
	char err[256] = "";
	struct capture_input *in = capture_open(path, filter, err, sizeof err);

	ck_assert_ptr_null(in);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

/* Read everything; returns the count and stores the final status. */
static int read_all(struct capture_input *in, int *status, char *err, size_t errlen)
{
	struct pkt p;
	int n = 0, r;

	while ((r = capture_next(in, &p, err, errlen)) == 1)
		n++;
	*status = r;
	return n;
}

static void expect_pkt(struct capture_input *in, int64_t sec, uint32_t usec, uint32_t caplen,
		       uint32_t wirelen, int dlt)
{
	char err[256] = "";
	struct pkt p;

	memset(&p, 0, sizeof p);
	ck_assert_msg(capture_next(in, &p, err, sizeof err) == 1, "no packet: %s", err);
	ck_assert_int_eq(p.ts_sec, sec);
	ck_assert_uint_eq(p.ts_usec, usec);
	ck_assert_uint_eq(p.caplen, caplen);
	ck_assert_uint_eq(p.wirelen, wirelen);
	ck_assert_int_eq(p.dlt, dlt);
	ck_assert_ptr_nonnull(p.frame);
}

static void expect_end(struct capture_input *in)
{
	char err[256] = "";
	struct pkt p;

	ck_assert_msg(capture_next(in, &p, err, sizeof err) == 0, "not a clean end: %s", err);
	/* and it stays ended */
	ck_assert_int_eq(capture_next(in, &p, err, sizeof err), 0);
}

static void expect_fail(struct capture_input *in, const char *want)
{
	char err[256] = "";
	struct pkt p;

	ck_assert_int_eq(capture_next(in, &p, err, sizeof err), -1);
	ck_assert_msg(strcmp(err, want) == 0, "error '%s', want '%s'", err, want);
	err[0] = '\0';
	ck_assert_int_eq(capture_next(in, &p, err, sizeof err), -1);
	ck_assert_str_eq(err, want);
}

/* ---- pcap tests --------------------------------------------------------------- */

static void check_std_pcap(struct capture_input *in)
{
	ck_assert_int_eq(capture_first_dlt(in), DLT_EN10MB);
	expect_pkt(in, 1000000000, 123456, 54, 60, DLT_EN10MB);
	expect_pkt(in, 1000000001, 999999, 54, 54, DLT_EN10MB);
	expect_pkt(in, 1000000002, 0, 54, 54, DLT_EN10MB);
	expect_end(in);
	ck_assert_uint_eq(capture_filtered(in), 0);
}

START_TEST(pcap_little_endian)
{
	struct bb f = std_pcap(0, 0);
	struct capture_input *in = must_open(write_file("le.pcap", f.b, f.n), NULL);

	check_std_pcap(in);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcap_big_endian_nanoseconds)
{
	struct bb f = std_pcap(1, 1);
	struct capture_input *in = must_open(write_file("be-ns.pcap", f.b, f.n), "");

	/* 123456789 ns -> 123456 us, 999999999 ns -> 999999 us */
	check_std_pcap(in);
	capture_close(in);
	free(f.b);
}
END_TEST

/* Two reads of the same packet agree on every capture field and byte. */
static void same_packet(const struct pkt *pa, const struct pkt *pb)
{
	ck_assert_int_eq(pa->ts_sec, pb->ts_sec);
	ck_assert_uint_eq(pa->ts_usec, pb->ts_usec);
	ck_assert_uint_eq(pa->caplen, pb->caplen);
	ck_assert_uint_eq(pa->wirelen, pb->wirelen);
	ck_assert_int_eq(pa->dlt, pb->dlt);
	ck_assert_mem_eq(pa->frame, pb->frame, pa->caplen);
}

START_TEST(pcap_gzip_same_packets)
{
	struct bb f = std_pcap(0, 1);
	struct capture_input *a = must_open(write_file("plain.pcap", f.b, f.n), NULL);
	struct capture_input *b = must_open(write_gz("packed.pcap.gz", f.b, f.n), NULL);
	char err[256];
	int n = 0, ra, rb;

	for (;;) {
		struct pkt pa, pb;

		ra = capture_next(a, &pa, err, sizeof err);
		rb = capture_next(b, &pb, err, sizeof err);
		ck_assert_int_eq(ra, rb);
		if (ra != 1)
			break;
		n++;
		same_packet(&pa, &pb);
	}
	ck_assert_int_eq(ra, 0);
	ck_assert_int_eq(n, 3);
	capture_close(a);
	capture_close(b);
	free(f.b);
}
END_TEST

START_TEST(pcap_from_stdin_gzip)
{
	struct bb f = std_pcap(0, 0);
	const char *path = write_gz("stdin.pcap.gz", f.b, f.n);
	int fd = open(path, O_RDONLY);
	struct capture_input *in;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	in = must_open("-", NULL);
	check_std_pcap(in);
	capture_close(in);
	/* our stdin is still open: the input read from a copy */
	ck_assert_int_ne(fcntl(STDIN_FILENO, F_GETFD), -1);
	free(f.b);
}
END_TEST

START_TEST(pcap_header_only)
{
	struct bb f = { 0 };
	struct capture_input *in;

	pcap_hdr(&f, 0xA1B2C3D4u, 65535, 1);
	in = must_open(write_file("hdr.pcap", f.b, f.n), "tcp");
	ck_assert_int_eq(capture_first_dlt(in), 1);
	expect_end(in);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcap_truncated_last_record)
{
	struct bb f = std_pcap(0, 0);
	struct capture_input *in;

	/* cut 20 bytes into the last record's 54 data bytes */
	in = must_open(write_file("cut.pcap", f.b, f.n - 34), NULL);
	expect_pkt(in, 1000000000, 123456, 54, 60, 1);
	expect_pkt(in, 1000000001, 999999, 54, 54, 1);
	expect_fail(in, "truncated dump file; tried to read 54 captured bytes, only got 20");
	capture_close(in);

	/* cut inside a record header */
	in = must_open(write_file("cut2.pcap", f.b, 24 + 70 + 5), NULL);
	expect_pkt(in, 1000000000, 123456, 54, 60, 1);
	expect_fail(in, "truncated dump file; tried to read 16 header bytes, only got 5");
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcap_gzip_truncated_stream)
{
	struct bb f = std_pcap(0, 0);
	const char *path = write_gz("cut.pcap.gz", f.b, f.n);
	struct stat st;
	uint8_t buf[4096];
	FILE *fp;
	size_t n;
	struct capture_input *in;
	char err[256] = "";
	int status;

	/* drop the gzip trailer and some deflate data */
	fp = fopen(path, "rb");
	ck_assert_ptr_nonnull(fp);
	n = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_gt(n, 40);
	in = must_open(write_file("cut.pcap.gz", buf, n - 20), NULL);
	ck_assert_int_lt(read_all(in, &status, err, sizeof err), 3);
	ck_assert_int_eq(status, -1);
	ck_assert_msg(strstr(err, "gzip") != NULL || strstr(err, "truncated") != NULL, "%s", err);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcap_linktype_fcs_bits_masked)
{
	struct bb f = { 0 };
	struct bb e = eth_frame(6, 1, 2);
	struct capture_input *in;

	pcap_hdr(&f, 0xA1B2C3D4u, 65535, 0x30000001u);
	pcap_rec(&f, 5, 6, &e, (uint32_t)e.n);
	in = must_open(write_file("fcs.pcap", f.b, f.n), NULL);
	ck_assert_int_eq(capture_first_dlt(in), 1);
	expect_pkt(in, 5, 6, 54, 54, 1);
	expect_end(in);
	capture_close(in);
	free(f.b);
	free(e.b);
}
END_TEST

START_TEST(pcap_modified_magic)
{
	struct bb f = { 0 };
	struct bb e = eth_frame(6, 1, 2);
	struct capture_input *in;

	pcap_hdr(&f, 0xA1B2CD34u, 65535, 1);
	/* records carry 8 more header bytes: ifindex, protocol, pkt_type, pad */
	bb_u32(&f, 7);
	bb_u32(&f, 8);
	bb_u32(&f, (uint32_t)e.n);
	bb_u32(&f, (uint32_t)e.n);
	bb_u32(&f, 2);
	bb_u16(&f, 0x0800);
	bb_u8(&f, 0);
	bb_u8(&f, 0);
	bb_bytes(&f, e.b, e.n);
	in = must_open(write_file("modified.pcap", f.b, f.n), NULL);
	expect_pkt(in, 7, 8, 54, 54, 1);
	expect_end(in);
	capture_close(in);
	free(f.b);
	free(e.b);
}
END_TEST

START_TEST(pcap_usec_overflow_normalised)
{
	struct bb f = { 0 };
	struct bb e = eth_frame(6, 1, 2);
	struct capture_input *in;

	pcap_hdr(&f, 0xA1B2C3D4u, 65535, 1);
	pcap_rec(&f, 10, 2500000, &e, (uint32_t)e.n);
	pcap_rec(&f, 0xFFFFFFF0u, 1, &e, (uint32_t)e.n);
	in = must_open(write_file("usec.pcap", f.b, f.n), NULL);
	expect_pkt(in, 12, 500000, 54, 54, 1);
	expect_pkt(in, INT64_C(0xFFFFFFF0), 1, 54, 54, 1);
	expect_end(in);
	capture_close(in);
	free(f.b);
	free(e.b);
}
END_TEST

START_TEST(pcap_bad_header)
{
	struct bb f = { 0 };

	pcap_hdr(&f, 0xA1B2C3D4u, 65535, 1);
	f.b[4] = 9;     /* major version 9 */
	open_fails(write_file("badver.pcap", f.b, f.n), NULL, "version");
	/* a header cut short */
	open_fails(write_file("shorthdr.pcap", f.b, 10), NULL, "truncated dump file");
	free(f.b);
}
END_TEST

/* ---- pcapng tests ------------------------------------------------------------- */

static void check_std_pcapng(struct capture_input *in)
{
	ck_assert_int_eq(capture_first_dlt(in), DLT_EN10MB);
	expect_pkt(in, 1500000000, 123456, 54, 60, DLT_EN10MB);
	/* nanoseconds, plus if_tsoffset 100 s */
	expect_pkt(in, 1500000001 + 100, 987654, 40, 40, DLT_RAW);
	expect_pkt(in, 1500000002 + 100, 0, 40, 40, DLT_RAW);
	expect_pkt(in, 1500000003, 1, 54, 54, DLT_EN10MB);
	expect_end(in);
}

/* ---- reading in place (pcapmap.c) ------------------------------------------- */

/* A pcap of n packets of varied sizes (60..1513 bytes, content from i), in
 * the given byte order and resolution. */
static struct bb many_pcap(int be, int nsec, unsigned n)
{
	struct bb f = { 0 };

	f.be = be;
	pcap_hdr(&f, nsec ? 0xA1B23C4Du : 0xA1B2C3D4u, 65535, 1);
	for (unsigned i = 0; i < n; i++) {
		struct bb e = eth_frame(6, (uint16_t)(1024 + i % 5000), 80);
		size_t len = 60 + (i * 7919u) % 1454;
		while (e.n < len)
			bb_u8(&e, (uint8_t)(i * 31 + e.n));
		pcap_rec(&f, 1600000000u + i / 100, nsec ? (i % 1000) * 1000003u : (i % 1000) * 997u,
			 &e, (uint32_t)e.n + (i % 3));
		free(e.b);
	}
	return f;
}

/* The same file read by path (in place) and through stdin (libpcap only):
 * the same packets, byte for byte, and the same end. */
static void same_as_stream(const char *name, const struct bb *f, int expect_in_place)
{
	const char *path = write_file(name, f->b, f->n);
	int fd = open(path, O_RDONLY);
	struct capture_input *a, *b;
	char erra[256] = "", errb[256] = "";
	int ra, rb, n = 0, in_place_seen = 0;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	a = must_open(path, NULL);
	b = must_open("-", NULL);
	ck_assert_int_eq(capture_in_place(b), 0);
	for (;;) {
		struct pkt pa, pb;

		ra = capture_next(a, &pa, erra, sizeof erra);
		in_place_seen |= capture_in_place(a);
		rb = capture_next(b, &pb, errb, sizeof errb);
		ck_assert_int_eq(ra, rb);
		if (ra != 1)
			break;
		n++;
		same_packet(&pa, &pb);
	}
	ck_assert_str_eq(erra, errb);
	ck_assert_int_eq(in_place_seen, expect_in_place);
	if (ra == 0)
		ck_assert_uint_eq(capture_position(a), f->n);
	capture_close(a);
	capture_close(b);
}

START_TEST(pcap_in_place_same_as_stream)
{
	/* 9000 packets, about 7 MB: more than one read-ahead window, so pages
	 * are released behind the reader while it goes on */
	for (int be = 0; be < 2; be++) {
		for (int nsec = 0; nsec < 2; nsec++) {
			struct bb f = many_pcap(be, nsec, 9000);
			same_as_stream("many.pcap", &f, 1);
			free(f.b);
		}
	}
	/* about 21 MB: pages mapped in and released over five windows; then
	 * the same with a record libpcap has to judge deep inside (record
	 * 25000 claims more than any snapshot length) */
	struct bb g = many_pcap(0, 0, 27000);
	ck_assert_uint_gt(g.n, 16u << 20);
	same_as_stream("big.pcap", &g, 1);
	size_t off = 24;
	for (int i = 0; i < 25000; i++)
		off += 16 + g.b[off + 8] + ((size_t)g.b[off + 9] << 8);
	bb_put32(&g, off + 8, 300000);
	same_as_stream("big-bad.pcap", &g, 1);
	free(g.b);
}
END_TEST

START_TEST(pcap_in_place_hands_over)
{
	struct bb f = many_pcap(0, 0, 50);
	struct bb g = many_pcap(0, 0, 50);
	struct bb h = many_pcap(1, 1, 50);
	struct capture_input *in;
	size_t off = 24;

	/* record 10 claims more than any snapshot length: libpcap's own error
	 * after nine packets read in place */
	for (int i = 0; i < 10; i++)
		off += 16 + f.b[off + 8] + ((size_t)f.b[off + 9] << 8);
	bb_put32(&f, off + 8, 300000);
	same_as_stream("bad-caplen.pcap", &f, 1);
	in = must_open(tpath("bad-caplen.pcap"), NULL);
	for (int i = 0; i < 10; i++) {
		struct pkt p;
		char err[256];
		ck_assert_int_eq(capture_next(in, &p, err, sizeof err), 1);
		ck_assert_int_eq(capture_in_place(in), 1);
	}
	expect_fail(in, "invalid packet capture length 300000, bigger than snaplen of 65535");
	ck_assert_int_eq(capture_in_place(in), 0);
	capture_close(in);

	/* a fraction of a second of 10^6 microseconds or more: libpcap reads on
	 * from that record, every packet arrives */
	off = 24;
	for (int i = 0; i < 20; i++)
		off += 16 + g.b[off + 8] + ((size_t)g.b[off + 9] << 8);
	bb_put32(&g, off + 4, 1500000);
	same_as_stream("usec.pcap", &g, 1);

	/* cut inside a record (big-endian, nanoseconds): the same message */
	h.n -= 20;
	same_as_stream("cut.pcap", &h, 1);
	/* format 2.2 is not read in place, and reads the same */
	h.b[7] = 2;
	same_as_stream("v22.pcap", &h, 0);
	free(f.b);
	free(g.b);
	free(h.b);
}
END_TEST

START_TEST(pcap_in_place_file_grows)
{
	struct bb f = many_pcap(0, 0, 40);
	const char *path = write_file("grow.pcap", f.b, 24 + 16 + 60);
	struct capture_input *in = must_open(path, NULL);
	struct pkt p;
	char err[256];
	FILE *fp;
	int n = 0;

	ck_assert_int_eq(capture_next(in, &p, err, sizeof err), 1);
	/* the rest of the records arrive after the file was opened */
	fp = fopen(path, "ab");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(f.b + 24 + 16 + 60, 1, f.n - 24 - 16 - 60, fp), f.n - 24 - 16 - 60);
	fclose(fp);
	while (capture_next(in, &p, err, sizeof err) == 1)
		n++;
	ck_assert_int_eq(n, 39);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcapng_two_interfaces_little_endian)
{
	size_t offs[4];
	struct bb f = std_pcapng(0, offs);
	struct capture_input *in = must_open(write_file("le.pcapng", f.b, f.n), NULL);

	check_std_pcapng(in);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcapng_two_interfaces_big_endian)
{
	size_t offs[4];
	struct bb f = std_pcapng(1, offs);
	struct capture_input *in = must_open(write_file("be.pcapng", f.b, f.n), NULL);

	check_std_pcapng(in);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcapng_gzip)
{
	size_t offs[4];
	struct bb f = std_pcapng(1, offs);
	struct capture_input *in = must_open(write_gz("be.pcapng.gz", f.b, f.n), NULL);

	check_std_pcapng(in);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcapng_linktype_matches_pcap_numbering)
{
	/* LINKTYPE_RAW (101) in a pcap file, as libpcap reports it, is what the
	 * pcapng reader reports for the same link type. */
	struct bb f = { 0 };
	struct capture_input *in;

	pcap_hdr(&f, 0xA1B2C3D4u, 65535, 101);
	in = must_open(write_file("raw.pcap", f.b, f.n), NULL);
	ck_assert_int_eq(capture_first_dlt(in), DLT_RAW);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcapng_sections_reset_interfaces)
{
	struct bb f = { 0 };
	struct bb e = eth_frame(6, 1, 80);
	struct bb r = raw_frame(6, 1, 80);
	struct capture_input *in;

	ng_shb(&f, 1);
	ng_idb(&f, 1, 0, -1, 0);
	ng_epb(&f, 0, 3000001, &e, (uint32_t)e.n);
	f.be = 1;               /* second section is big-endian */
	ng_shb(&f, 1);
	ng_idb(&f, 228, 0, 0x80 | 10, 0);   /* IPv4, 1/1024 s */
	ng_epb(&f, 0, 5 * 1024 + 512, &r, (uint32_t)r.n);
	ng_epb(&f, 1, 0, &r, (uint32_t)r.n);   /* interface 1 does not exist here */
	in = must_open(write_file("sections.pcapng", f.b, f.n), NULL);
	expect_pkt(in, 3, 1, 54, 54, 1);
	expect_pkt(in, 5, 500000, 40, 40, 228);
	{
		char err[256];
		struct pkt p;

		ck_assert_int_eq(capture_next(in, &p, err, sizeof err), -1);
		ck_assert_msg(strstr(err, "interface id 1 out of range") != NULL, "%s", err);
	}
	capture_close(in);
	free(f.b);
	free(e.b);
	free(r.b);
}
END_TEST

START_TEST(pcapng_simple_and_obsolete_blocks)
{
	struct bb f = { 0 };
	struct bb e = eth_frame(6, 1, 80);
	struct capture_input *in;

	ng_shb(&f, 1);
	ng_idb(&f, 1, 50, 3, 0);            /* snaplen 50, milliseconds */
	ng_spb(&f, &e, 1000);               /* min(1000, 50, 56) = 50 */
	ng_spb(&f, &e, 20);                 /* original length 20 */
	ng_obsolete_pb(&f, 0, 12345, &e);   /* 12.345 s */
	in = must_open(write_file("spb.pcapng", f.b, f.n), NULL);
	expect_pkt(in, 0, 0, 50, 1000, 1);
	expect_pkt(in, 0, 0, 20, 20, 1);
	expect_pkt(in, 12, 345000, 54, 54, 1);
	expect_end(in);
	capture_close(in);
	free(f.b);
	free(e.b);
}
END_TEST

START_TEST(pcapng_timestamp_resolutions)
{
	struct bb f = { 0 };
	struct bb e = eth_frame(6, 1, 80);
	struct capture_input *in;

	ng_shb(&f, 1);
	ng_idb(&f, 1, 0, 0, 0);             /* seconds */
	ng_idb(&f, 1, 0, 0x80 | 60, 0);     /* 2^-60 s */
	ng_idb(&f, 1, 0, 19, 0);            /* 10^-19 s */
	ng_epb(&f, 0, 1234, &e, (uint32_t)e.n);
	ng_epb(&f, 1, (UINT64_C(7) << 60) | (UINT64_C(1) << 59), &e, (uint32_t)e.n);
	ng_epb(&f, 2, UINT64_C(12345678901234567890), &e, (uint32_t)e.n);
	ng_epb(&f, 0, UINT64_MAX, &e, (uint32_t)e.n);
	in = must_open(write_file("tsresol.pcapng", f.b, f.n), NULL);
	expect_pkt(in, 1234, 0, 54, 54, 1);
	expect_pkt(in, 7, 500000, 54, 54, 1);
	expect_pkt(in, 1, 234567, 54, 54, 1);
	expect_pkt(in, INT64_MAX, 0, 54, 54, 1);
	expect_end(in);
	capture_close(in);
	free(f.b);
	free(e.b);
}
END_TEST

START_TEST(pcapng_bad_tsresol)
{
	struct bb f = { 0 };
	struct capture_input *in;
	char want[128];
	size_t at;

	ng_shb(&f, 1);
	ng_idb(&f, 1, 0, 20, 0);
	open_fails(write_file("tsresol20.pcapng", f.b, f.n), NULL,
		   "unsupported timestamp resolution 10^-20 at byte 28");

	/* the first interface is fine, a later one is not */
	f.n = 0;
	ng_shb(&f, 1);
	ng_idb(&f, 1, 0, -1, 0);
	at = f.n;
	ng_idb(&f, 1, 0, 0x80 | 64, 0);
	in = must_open(write_file("tsresol64.pcapng", f.b, f.n), NULL);
	snprintf(want, sizeof want, "unsupported timestamp resolution 2^-64 at byte %zu", at);
	expect_fail(in, want);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcapng_no_interfaces_and_empty_section)
{
	struct bb f = { 0 };
	struct capture_input *in;

	ng_shb(&f, 1);
	in = must_open(write_file("shbonly.pcapng", f.b, f.n), "tcp port 80");
	ck_assert_int_eq(capture_first_dlt(in), -1);
	expect_end(in);
	capture_close(in);
	/* the expression is still checked */
	open_fails(tpath("shbonly.pcapng"), "tcp port", "bad filter '");
	free(f.b);
}
END_TEST

START_TEST(pcapng_truncated_block)
{
	size_t offs[4];
	struct bb f = std_pcapng(0, offs);
	char want[128];
	struct capture_input *in;

	/* cut in the middle of the third packet block */
	in = must_open(write_file("cut.pcapng", f.b, offs[2] + 30), NULL);
	expect_pkt(in, 1500000000, 123456, 54, 60, 1);
	expect_pkt(in, 1500000101, 987654, 40, 40, DLT_RAW);
	snprintf(want, sizeof want, "truncated block at byte %zu", offs[2]);
	expect_fail(in, want);
	capture_close(in);

	/* cut inside the block header */
	in = must_open(write_file("cut2.pcapng", f.b, offs[3] + 5), NULL);
	expect_pkt(in, 1500000000, 123456, 54, 60, 1);
	expect_pkt(in, 1500000101, 987654, 40, 40, DLT_RAW);
	expect_pkt(in, 1500000102, 0, 40, 40, DLT_RAW);
	snprintf(want, sizeof want, "truncated block at byte %zu", offs[3]);
	expect_fail(in, want);
	capture_close(in);

	/* cut inside the first interface block: nothing to read, open fails */
	open_fails(write_file("cut3.pcapng", f.b, 40), NULL, "truncated block at byte 28");
	free(f.b);
}
END_TEST

START_TEST(pcapng_bad_block_length)
{
	size_t offs[4];
	struct bb f = std_pcapng(0, offs);
	char want[128];
	struct capture_input *in;

	bb_put32(&f, offs[1] + 4, 7);
	in = must_open(write_file("badlen.pcapng", f.b, f.n), NULL);
	expect_pkt(in, 1500000000, 123456, 54, 60, 1);
	snprintf(want, sizeof want, "bad block length 7 at byte %zu", offs[1]);
	expect_fail(in, want);
	capture_close(in);
	free(f.b);

	/* trailing length disagrees with the leading one */
	f = std_pcapng(1, offs);
	f.b[offs[2] - 1] ^= 4;  /* last byte of packet block 1's trailer (big-endian) */
	in = must_open(write_file("badtrail.pcapng", f.b, f.n), NULL);
	expect_pkt(in, 1500000000, 123456, 54, 60, 1);
	{
		char err[256];
		struct pkt p;

		snprintf(want, sizeof want, "bad block length %zu at byte %zu",
			 offs[2] - offs[1], offs[1]);
		ck_assert_int_eq(capture_next(in, &p, err, sizeof err), -1);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	}
	capture_close(in);
	free(f.b);

	/* absurdly large */
	f = std_pcapng(0, offs);
	bb_put32(&f, offs[0] + 4, 0x7FFFFFF0u);
	in = must_open(write_file("huge.pcapng", f.b, f.n), NULL);
	snprintf(want, sizeof want, "bad block length 2147483632 at byte %zu", offs[0]);
	expect_fail(in, want);
	capture_close(in);

	/* captured length beyond its block */
	bb_put32(&f, offs[0] + 4, offs[1] - offs[0]);
	bb_put32(&f, offs[0] + 20, 500);
	in = must_open(write_file("caplen.pcapng", f.b, f.n), NULL);
	snprintf(want, sizeof want, "captured length 500 larger than its block at byte %zu",
		 offs[0]);
	expect_fail(in, want);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(pcapng_bad_version_and_options)
{
	struct bb f = { 0 };

	ng_shb(&f, 2);
	ng_idb(&f, 1, 0, -1, 0);
	open_fails(write_file("v2.pcapng", f.b, f.n), NULL, "unsupported pcapng version 2.0");
	free(f.b);

	/* an IDB option running past its block */
	f = (struct bb){ 0 };
	ng_shb(&f, 1);
	ng_idb(&f, 1, 0, -1, 0);
	f.b[28 + 16 + 2] = 200;    /* if_name length */
	open_fails(write_file("optlen.pcapng", f.b, f.n), NULL,
		   "bad option length 200 in block at byte 28");
	free(f.b);

	/* bad byte-order magic */
	f = (struct bb){ 0 };
	ng_shb(&f, 1);
	f.b[8] = 0x11;
	open_fails(write_file("bom.pcapng", f.b, f.n), NULL, "bad byte-order magic");
	free(f.b);
}
END_TEST

/* ---- filters -------------------------------------------------------------------- */

START_TEST(filter_pcap)
{
	struct bb f = std_pcap(0, 0);
	struct capture_input *in = must_open(write_file("f.pcap", f.b, f.n), "tcp port 80");

	expect_pkt(in, 1000000000, 123456, 54, 60, 1);
	expect_end(in);
	ck_assert_uint_eq(capture_filtered(in), 2);
	capture_close(in);

	in = must_open(tpath("f.pcap"), "udp");
	expect_pkt(in, 1000000002, 0, 54, 54, 1);
	expect_end(in);
	ck_assert_uint_eq(capture_filtered(in), 2);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(filter_pcapng_per_link_type)
{
	size_t offs[4];
	struct bb f = std_pcapng(0, offs);
	struct capture_input *in = must_open(write_file("f.pcapng", f.b, f.n), "tcp port 80");

	/* the same expression selects by the right offsets on Ethernet and RAW */
	expect_pkt(in, 1500000000, 123456, 54, 60, DLT_EN10MB);
	expect_pkt(in, 1500000101, 987654, 40, 40, DLT_RAW);
	expect_end(in);
	ck_assert_uint_eq(capture_filtered(in), 2);
	capture_close(in);
	free(f.b);
}
END_TEST

START_TEST(filter_bad_expression)
{
	struct bb f = std_pcap(0, 0);
	const char *path = write_file("bf.pcap", f.b, f.n);

	open_fails(path, "tcp port", "bad filter '");
	open_fails(path, "no such thing ((", "bad filter '");
	free(f.b);
}
END_TEST

START_TEST(filter_later_link_type_fails)
{
	struct bb f = { 0 };
	struct bb e = eth_frame(6, 1, 80);
	struct capture_input *in;

	ng_shb(&f, 1);
	ng_idb(&f, 1, 0, -1, 0);
	ng_idb(&f, 147, 0, -1, 0);          /* DLT_USER0: no "ether" there */
	ng_epb(&f, 0, 1, &e, (uint32_t)e.n);
	ng_epb(&f, 1, 2, &e, (uint32_t)e.n);
	in = must_open(write_file("user0.pcapng", f.b, f.n), "ether host 2:0:0:0:0:2");
	expect_pkt(in, 0, 1, 54, 54, 1);
	{
		char err[256];
		struct pkt p;

		ck_assert_int_eq(capture_next(in, &p, err, sizeof err), -1);
		ck_assert_msg(strstr(err, "bad filter 'ether host 2:0:0:0:0:2' for link type 147: ") == err,
			      "%s", err);
	}
	capture_close(in);
	free(f.b);
	free(e.b);
}
END_TEST

/* ---- open errors -------------------------------------------------------------------- */

START_TEST(open_errors)
{
	static const char text[] = "GET / HTTP/1.1\r\n\r\n";

	open_fails(tpath("does-not-exist.pcap"), NULL, strerror(ENOENT));
	open_fails(tmpdir, NULL, strerror(EISDIR));
	open_fails(write_file("empty.pcap", "", 0), NULL, "empty file");
	open_fails(write_gz("empty.pcap.gz", "", 0), NULL, "empty file");
	open_fails(write_file("text.txt", text, sizeof text - 1), NULL,
		   "not a pcap or pcapng capture file");
	open_fails(write_file("short.bin", "\xd4\xc3", 2), NULL,
		   "not a pcap or pcapng capture file");
	if (geteuid() != 0) {
		const char *path = write_file("noperm.pcap", "x", 1);

		ck_assert_int_eq(chmod(path, 0), 0);
		open_fails(path, NULL, strerror(EACCES));
	}
}
END_TEST

/* ---- shared corpus -------------------------------------------------------------- */

static const char *corpus_dir(void)
{
	static char dir[512];
	const char *env = getenv("CORPUS");
	struct stat st;

	snprintf(dir, sizeof dir, "%s", env && env[0] ? env : "/work/shared/corpus");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return dir;
}

START_TEST(corpus_many_interfaces)
{
	/* 11 interfaces with link types 1, 0 and 12 (LINKTYPE 12 = DLT_RAW on
	 * Linux); its 64 packets are on interface 0 (Ethernet, 62) and
	 * interface 10 (NULL, 2), as tshark also reports. */
	const char *dir = corpus_dir();
	char path[1024];
	struct capture_input *in;
	struct pkt p;
	char err[256];
	int n = 0, r, eth = 0, null = 0, other = 0;

	if (!dir)
		return;
	snprintf(path, sizeof path, "%s/pcapng/pcapplusplus-many_interfaces-1.pcapng", dir);
	if (access(path, R_OK) != 0)
		return;
	in = must_open(path, NULL);
	ck_assert_int_eq(capture_first_dlt(in), DLT_EN10MB);
	while ((r = capture_next(in, &p, err, sizeof err)) == 1) {
		n++;
		ck_assert_uint_le(p.caplen, p.wirelen);
		if (p.dlt == DLT_EN10MB)
			eth++;
		else if (p.dlt == DLT_NULL)
			null++;
		else
			other++;
	}
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_int_eq(n, 64);
	ck_assert_int_eq(eth, 62);
	ck_assert_int_eq(null, 2);
	ck_assert_int_eq(other, 0);
	capture_close(in);
}
END_TEST

START_TEST(corpus_malformed_no_crash)
{
	const char *dir = corpus_dir();
	char path[1024];
	DIR *d;
	struct dirent *de;
	int files = 0;

	if (!dir)
		return;
	snprintf(path, sizeof path, "%s/malformed", dir);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char err[256] = "";
		struct capture_input *in;

		if (!strstr(de->d_name, ".pcap"))
			continue;
		snprintf(path, sizeof path, "%s/malformed/%s", dir, de->d_name);
		for (int filtered = 0; filtered < 2; filtered++) {
			in = capture_open(path, filtered ? "tcp" : NULL, err, sizeof err);
			if (in) {
				int status;

				read_all(in, &status, err, sizeof err);
				capture_close(in);
			} else {
				ck_assert_msg(err[0] != '\0', "%s: no reason given", de->d_name);
			}
		}
		files++;
	}
	closedir(d);
	ck_assert_int_gt(files, 0);
}
END_TEST

START_TEST(corpus_every_capture_reads)
{
	/* Every capture in the corpus opens and reads to an end without crashing;
	 * the pcapng files other than the malformed ones read cleanly. */
	const char *dir = corpus_dir();
	static const char *const clean[] = {
		"pcapng/pcapplusplus-pcapng-example.pcapng",
		"pcapng/zeek-pcapng-multi-interface.pcapng",
		"fileformat/pcapplusplus-nanosecs_big_endian.pcap",
		"fileformat/tcpdump-tcp-handshake-nano.pcap",
		"malformed/tcpdump-empty.pcapng",
	};
	static const int counts[] = { 159, 6, -1, -1, 0 };

	if (!dir)
		return;
	for (size_t i = 0; i < sizeof clean / sizeof clean[0]; i++) {
		char path[1024], err[256] = "";
		struct capture_input *in;
		int status, n;

		snprintf(path, sizeof path, "%s/%s", dir, clean[i]);
		if (access(path, R_OK) != 0)
			continue;
		in = must_open(path, NULL);
		n = read_all(in, &status, err, sizeof err);
		ck_assert_msg(status == 0, "%s: %s", clean[i], err);
		if (counts[i] >= 0)
			ck_assert_int_eq(n, counts[i]);
		else
			ck_assert_int_gt(n, 0);
		capture_close(in);
	}
}
END_TEST

/* ---- runner --------------------------------------------------------------------- */

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[768];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", tmpdir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	const char *base = getenv("TMPDIR");
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	snprintf(tmpdir, sizeof tmpdir, "%s/tf-capture-XXXXXX", base && base[0] ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pcap_little_endian);
	tcase_add_test(tc, pcap_big_endian_nanoseconds);
	tcase_add_test(tc, pcap_gzip_same_packets);
	tcase_add_test(tc, pcap_from_stdin_gzip);
	tcase_add_test(tc, pcap_header_only);
	tcase_add_test(tc, pcap_truncated_last_record);
	tcase_add_test(tc, pcap_gzip_truncated_stream);
	tcase_add_test(tc, pcap_linktype_fcs_bits_masked);
	tcase_add_test(tc, pcap_modified_magic);
	tcase_add_test(tc, pcap_usec_overflow_normalised);
	tcase_add_test(tc, pcap_bad_header);
	tcase_add_test(tc, pcap_in_place_same_as_stream);
	tcase_add_test(tc, pcap_in_place_hands_over);
	tcase_add_test(tc, pcap_in_place_file_grows);
	tcase_add_test(tc, pcapng_two_interfaces_little_endian);
	tcase_add_test(tc, pcapng_two_interfaces_big_endian);
	tcase_add_test(tc, pcapng_gzip);
	tcase_add_test(tc, pcapng_linktype_matches_pcap_numbering);
	tcase_add_test(tc, pcapng_sections_reset_interfaces);
	tcase_add_test(tc, pcapng_simple_and_obsolete_blocks);
	tcase_add_test(tc, pcapng_timestamp_resolutions);
	tcase_add_test(tc, pcapng_bad_tsresol);
	tcase_add_test(tc, pcapng_no_interfaces_and_empty_section);
	tcase_add_test(tc, pcapng_truncated_block);
	tcase_add_test(tc, pcapng_bad_block_length);
	tcase_add_test(tc, pcapng_bad_version_and_options);
	tcase_add_test(tc, filter_pcap);
	tcase_add_test(tc, filter_pcapng_per_link_type);
	tcase_add_test(tc, filter_bad_expression);
	tcase_add_test(tc, filter_later_link_type_fails);
	tcase_add_test(tc, open_errors);
	tcase_add_test(tc, corpus_many_interfaces);
	tcase_add_test(tc, corpus_malformed_no_crash);
	tcase_add_test(tc, corpus_every_capture_reads);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_tmpdir();
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
