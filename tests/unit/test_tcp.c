/* Unit tests for core/tcp.c: hand-made segments go through a real flow table
 * and a store writing into a temporary directory; every closed flow is
 * recorded by the flow_close event and checked exactly (file bytes, names,
 * holes, counters). */
#include "flowtable.h"
#include "stats.h"
#include "store.h"
#include "tcp.h"

#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char basedir[256];
static unsigned subdir_seq;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void base_setup(void)
{
	snprintf(basedir, sizeof basedir, "/tmp/tf-tcp-XXXXXX");
	if (!mkdtemp(basedir))
		abort();
}

static void base_teardown(void)
{
	nftw(basedir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- the harness ---------------------------------------------------------------- */

#define MAX_RECS 64
#define MAX_HOLES 8

struct rec {
	char name[256];
	int has_path;
	int dir;
	uint64_t session_id;
	uint32_t connection_count;
	uint64_t size, len, packets, ooo, violations, not_stored;
	uint32_t nholes;
	struct tcp_hole holes[MAX_HOLES];
	int64_t first_sec, last_sec;
};

struct gap_ev {
	int dir;
	uint64_t off, len;
};

struct h {
	char dir[300];
	struct store *store;
	struct flowtable *ft;
	struct tcp_ctx t;
	struct rec recs[MAX_RECS];
	int nrec;
	struct gap_ev gaps[16];
	int ngaps;
	uint64_t data_bytes[2];    /* bytes handed to the data event, per direction */
	int data_order_bad;
	struct tf_stats st0;       /* counters at the start */
	int64_t sec;
	uint32_t usec;
};

static void on_close(void *arg, struct conn *c, int dir)
{
	struct h *h = arg;
	if (h->nrec >= MAX_RECS) {       /* counted only */
		h->nrec++;
		return;
	}
	struct rec *r = &h->recs[h->nrec++];
	const struct tcp_flow *f = &c->dir[dir];
	memset(r, 0, sizeof *r);
	r->has_path = f->file.path != NULL;
	if (f->file.name)
		snprintf(r->name, sizeof r->name, "%s", f->file.name);
	r->dir = dir;
	r->session_id = c->session_id;
	r->connection_count = f->file.connection_count;
	r->size = f->file.size;
	r->len = f->next_off;
	r->packets = f->packets;
	r->ooo = f->out_of_order_count;
	r->violations = f->violations;
	r->not_stored = f->not_stored;
	uint32_t n;
	const struct tcp_hole *holes = tcp_flow_holes(f, &n);
	r->nholes = n;
	for (uint32_t i = 0; i < n && i < MAX_HOLES; i++)
		r->holes[i] = holes[i];
	r->first_sec = f->file.id.first_sec;
	r->last_sec = f->last_sec;
}

static void on_gap(void *arg, struct conn *c, int dir, uint64_t off, uint64_t len)
{
	(void)c;
	struct h *h = arg;
	if (h->ngaps < 16) {
		h->gaps[h->ngaps].dir = dir;
		h->gaps[h->ngaps].off = off;
		h->gaps[h->ngaps].len = len;
		h->ngaps++;
	}
}

static void on_data(void *arg, struct conn *c, int dir, uint64_t off, const uint8_t *b, uint32_t len)
{
	(void)c;
	(void)b;
	struct h *h = arg;
	/* in-order data comes contiguously (after gaps, from their end) */
	if (off < h->data_bytes[dir])
		h->data_order_bad = 1;
	h->data_bytes[dir] = off + len;
}

static struct h *h_new(const struct tcp_config *cfg_in, int no_files)
{
	struct h *h = calloc(1, sizeof *h);
	ck_assert_ptr_nonnull(h);
	snprintf(h->dir, sizeof h->dir, "%s/t%u-%ld", basedir, subdir_seq++, (long)getpid());
	struct store_config sc = { .outdir = h->dir, .no_files = no_files };
	char err[256];
	h->store = store_new(&sc, err, sizeof err);
	ck_assert_msg(h->store != NULL, "%s", err);
	h->ft = flowtable_new();
	ck_assert_ptr_nonnull(h->ft);
	struct tcp_config cfg;
	memset(&cfg, 0, sizeof cfg);
	if (cfg_in)
		cfg = *cfg_in;
	struct tcp_events ev = { .arg = h, .data = on_data, .gap = on_gap, .flow_close = on_close };
	tcp_ctx_init(&h->t, &cfg, h->ft, h->store, &ev);
	h->st0 = tf_stats;
	h->sec = 1500000000;
	return h;
}

static void h_free(struct h *h)
{
	tcp_close_all(&h->t);
	flowtable_free(h->ft);
	store_free(h->store);
	free(h);
}

#define DELTA(h, name) (tf_stats.name - (h)->st0.name)

/* Endpoints: client 10.0.0.1:40000, server 10.0.0.2:80 (or given ports). */
struct ep {
	uint8_t family;
	uint8_t addr[16];
	uint16_t port;
};

static struct ep client = { 4, { 10, 0, 0, 1 }, 40000 };
static struct ep server = { 4, { 10, 0, 0, 2 }, 80 };
#define C2S "010.000.000.001.40000-010.000.000.002.00080"
#define S2C "010.000.000.002.00080-010.000.000.001.40000"

static void h_seg_ep(struct h *h, const struct ep *from, const struct ep *to, uint32_t seq,
		     uint8_t flags, const void *data, size_t len)
{
	struct pkt p;
	memset(&p, 0, sizeof p);
	h->usec += 1;
	if (h->usec >= 1000000) {
		h->usec -= 1000000;
		h->sec++;
	}
	p.ts_sec = h->sec;
	p.ts_usec = h->usec;
	p.src.family = p.dst.family = from->family;
	memcpy(p.src.bytes, from->addr, 16);
	memcpy(p.dst.bytes, to->addr, 16);
	p.sport = from->port;
	p.dport = to->port;
	p.ip_proto = 6;
	p.seq = seq;
	p.ack = 0;
	p.tcp_flags = flags;
	p.payload = data;
	p.payload_len = (uint32_t)len;
	tcp_process(&h->t, &p);
}

/* client -> server (c2s = 1) or server -> client */
static void h_seg(struct h *h, int c2s, uint32_t seq, uint8_t flags, const char *data)
{
	size_t n = data ? strlen(data) : 0;
	if (c2s)
		h_seg_ep(h, &client, &server, seq, flags, data, n);
	else
		h_seg_ep(h, &server, &client, seq, flags, data, n);
}

static const struct rec *h_rec(struct h *h, const char *name)
{
	for (int i = 0; i < h->nrec; i++)
		if (strcmp(h->recs[i].name, name) == 0)
			return &h->recs[i];
	ck_abort_msg("no closed flow named %s (%d closed)", name, h->nrec);
	return NULL;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	uint8_t *b = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			b = realloc(b, cap);
			ck_assert_ptr_nonnull(b);
		}
		size_t r = fread(b + n, 1, cap - n, fp);
		if (!r)
			break;
		n += r;
	}
	fclose(fp);
	*len = n;
	return b;
}

static void check_bytes(struct h *h, const char *name, const void *want, size_t wantlen)
{
	char path[600];
	snprintf(path, sizeof path, "%s/%s", h->dir, name);
	size_t n;
	uint8_t *got = slurp(path, &n);
	ck_assert_msg(n == wantlen, "%s: %zu bytes, want %zu", name, n, wantlen);
	const uint8_t *w = want;
	if (n && memcmp(got, w, n) != 0) {
		size_t i = 0;
		while (got[i] == w[i])
			i++;
		ck_abort_msg("%s: byte %zu is 0x%02x, want 0x%02x", name, i, got[i], w[i]);
	}
	free(got);
}

static void check_file(struct h *h, const char *name, const char *want)
{
	check_bytes(h, name, want, strlen(want));
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void fill_pat(uint8_t *b, unsigned k, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(1 + ((off + i) * 13 + k * 7 + ((off + i) >> 9)) % 251);
}

/* A connection from the handshake on: client ISN 1000, server ISN 5000. */
#define CISN 1000u
#define SISN 5000u

static void handshake(struct h *h)
{
	h_seg(h, 1, CISN, TH_SYN, NULL);
	h_seg(h, 0, SISN, TH_SYN | TH_ACK, NULL);
	h_seg(h, 1, CISN + 1, TH_ACK, NULL);
}

/* ---- tests -------------------------------------------------------------------------- */

START_TEST(in_order_both_directions)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	const char *resp1 = "HTTP/1.1 200 OK\r\n";
	const char *resp2 = "Content-Length: 2\r\n\r\nhi";
	uint32_t rl = (uint32_t)strlen(req), l1 = (uint32_t)strlen(resp1), l2 = (uint32_t)strlen(resp2);
	h_seg(h, 1, CISN + 1, TH_ACK | TH_PUSH, req);
	h_seg(h, 0, SISN + 1, TH_ACK, resp1);
	h_seg(h, 0, SISN + 1 + l1, TH_ACK | TH_PUSH, resp2);
	h_seg(h, 0, SISN + 1 + l1 + l2, TH_ACK | TH_FIN, NULL);
	ck_assert_int_eq(h->nrec, 1);                   /* server direction done */
	ck_assert_str_eq(h->recs[0].name, S2C);
	h_seg(h, 1, CISN + 1 + rl, TH_ACK | TH_FIN, NULL);
	ck_assert_int_eq(h->nrec, 2);                   /* both done before the end */
	h_seg(h, 0, SISN + 2 + l1 + l2, TH_ACK, NULL);  /* last ACK: absorbed */
	ck_assert_uint_eq(flowtable_retired_count(h->ft), 1);

	const struct rec *c = h_rec(h, C2S), *s = h_rec(h, S2C);
	ck_assert_int_eq(c->dir, 0);
	ck_assert_int_eq(s->dir, 1);
	ck_assert_uint_eq(c->session_id, s->session_id);
	ck_assert_uint_eq(c->size, rl);
	ck_assert_uint_eq(c->len, rl);
	ck_assert_uint_eq(c->packets, 4);   /* SYN, ACK, data, FIN */
	ck_assert_uint_eq(s->packets, 4);   /* SYN-ACK, 2 data, FIN */
	ck_assert_uint_eq(s->size, l1 + l2);
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(s->nholes, 0);
	ck_assert_uint_eq(c->ooo, 0);
	ck_assert_uint_eq(c->violations, 0);
	ck_assert_uint_eq(c->connection_count, 0);
	ck_assert_int_eq(c->first_sec, 1500000000);
	check_file(h, C2S, req);
	char both[128];
	snprintf(both, sizeof both, "%s%s", resp1, resp2);
	check_file(h, S2C, both);
	ck_assert_int_eq(count_files(h->dir), 2);
	ck_assert_uint_eq(h->data_bytes[0], rl);
	ck_assert_uint_eq(h->data_bytes[1], l1 + l2);
	ck_assert_int_eq(h->data_order_bad, 0);
	ck_assert_uint_eq(DELTA(h, flows_opened), 2);
	ck_assert_uint_eq(DELTA(h, flows_closed), 2);
	ck_assert_uint_eq(DELTA(h, stream_bytes), rl + l1 + l2);
	h_free(h);
}
END_TEST

START_TEST(out_of_order)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b + 15, TH_ACK, "DDDDD");
	h_seg(h, 1, b + 5, TH_ACK, "BBBBB");
	h_seg(h, 1, b + 20, TH_ACK | TH_FIN, "EEE");
	h_seg(h, 1, b + 10, TH_ACK, "CCCCC");
	ck_assert_int_eq(h->nrec, 0);
	ck_assert_uint_eq(h->data_bytes[0], 0);        /* nothing contiguous yet */
	h_seg(h, 1, b, TH_ACK, "AAAAA");                /* arrives after four later ones */
	ck_assert_int_eq(h->nrec, 1);                   /* FIN is now reached */
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->ooo, 4);
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(c->violations, 0);
	ck_assert_uint_eq(c->packets, 7);
	check_file(h, C2S, "AAAAABBBBBCCCCCDDDDDEEE");
	ck_assert_uint_eq(h->data_bytes[0], 23);
	ck_assert_int_eq(h->data_order_bad, 0);
	ck_assert_uint_eq(DELTA(h, out_of_order_segments), 4);
	ck_assert_uint_eq(h->t.ooo_total, 0);
	h_free(h);
}
END_TEST

START_TEST(identical_retransmission)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "0123456789");
	h_seg(h, 1, b + 10, TH_ACK, "abcdefghij");
	h_seg(h, 1, b, TH_ACK, "0123456789");
	h_seg(h, 1, b + 5, TH_ACK, "56789abcde");
	h_seg(h, 1, b + 10, TH_ACK, "abcdefghijKLM");    /* partly new */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "0123456789abcdefghijKLM");
	ck_assert_uint_eq(c->violations, 0);
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(c->len, 23);
	ck_assert_uint_eq(DELTA(h, retransmitted_bytes), 30);
	ck_assert_uint_eq(DELTA(h, overlap_conflicts), 0);
	h_free(h);
}
END_TEST

START_TEST(conflicting_retransmission)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "AAAAAAAAAA");
	h_seg(h, 1, b + 5, TH_ACK, "BBBBBCCCCC");       /* [5,10) differs: first copy wins */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "AAAAAAAAAACCCCC");
	ck_assert_uint_eq(c->violations, 1);
	ck_assert_uint_eq(DELTA(h, overlap_conflicts), 1);
	ck_assert_uint_eq(DELTA(h, retransmitted_bytes), 5);
	h_free(h);
}
END_TEST

START_TEST(conflicting_retransmission_on_disk)
{
	/* the original bytes were flushed to the file before the conflict comes */
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	size_t n = 400000;
	uint8_t *d = malloc(n);
	ck_assert_ptr_nonnull(d);
	fill_pat(d, 1, 0, n);
	for (size_t off = 0; off < n; off += 1000)
		h_seg_ep(h, &client, &server, b + (uint32_t)off, TH_ACK, d + off, 1000);
	uint8_t alt[1000];
	memcpy(alt, d + 1000, 1000);
	h_seg_ep(h, &client, &server, b + 1000, TH_ACK, alt, 1000);    /* identical */
	alt[500] ^= 0xff;
	h_seg_ep(h, &client, &server, b + 1000, TH_ACK, alt, 1000);    /* one byte differs */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->violations, 1);
	check_bytes(h, C2S, d, n);
	free(d);
	h_free(h);
}
END_TEST

START_TEST(overlap_in_queue)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b + 10, TH_ACK, "xxxxxxxxxx");      /* queued [10,20) */
	h_seg(h, 1, b + 15, TH_ACK, "yyyyyzzzzz");      /* [15,20) differs, [20,25) new */
	h_seg(h, 1, b + 30, TH_ACK, "wwwww");           /* queued [30,35) */
	h_seg(h, 1, b + 8, TH_ACK, "vvvvvvvvvvvvvvvvvvvvvvvvv");  /* spans all: fills the queue's holes */
	ck_assert_uint_eq(h->data_bytes[0], 0);
	h_seg(h, 1, b, TH_ACK, "01234567");
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "01234567vvxxxxxxxxxxzzzzzvvvvvwwwww");
	ck_assert_uint_eq(c->violations, 4);   /* y vs x, then v vs x, z and w */
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(c->ooo, 4);
	h_free(h);
}
END_TEST

START_TEST(in_order_segment_overlapping_queue)
{
	/* queued bytes came first; an in-order segment overlapping them must not
	 * replace them (first copy wins) and the difference is a conflict */
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b + 10, TH_ACK, "bbbbbbbbbb");      /* queued [10,20) */
	h_seg(h, 1, b, TH_ACK, "aaaaaaaaaaXXXXX");      /* [0,15): [10,15) differs */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "aaaaaaaaaabbbbbbbbbb");
	ck_assert_uint_eq(c->violations, 1);
	ck_assert_uint_eq(c->nholes, 0);
	h_free(h);
}
END_TEST

START_TEST(lost_segment_is_hole)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "0123456789");
	h_seg(h, 1, b + 17, TH_ACK, "HIJ");
	h_seg(h, 1, b + 20, TH_ACK | TH_FIN, "abc");
	ck_assert_int_eq(h->nrec, 0);                   /* FIN not reached: bytes missing */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->nholes, 1);
	ck_assert_uint_eq(c->holes[0].off, 10);
	ck_assert_uint_eq(c->holes[0].len, 7);
	ck_assert_uint_eq(c->size, 23);
	ck_assert_uint_eq(c->len, 23);
	check_bytes(h, C2S, "0123456789\0\0\0\0\0\0\0HIJabc", 23);
	ck_assert_int_eq(h->ngaps, 1);
	ck_assert_uint_eq(h->gaps[0].off, 10);
	ck_assert_uint_eq(h->gaps[0].len, 7);
	ck_assert_uint_eq(DELTA(h, gaps), 1);
	ck_assert_uint_eq(DELTA(h, gap_bytes), 7);
	ck_assert_int_eq(h->data_order_bad, 0);
	ck_assert_uint_eq(h->data_bytes[0], 23);
	h_free(h);
}
END_TEST

START_TEST(two_holes)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "aa");
	h_seg(h, 1, b + 4, TH_ACK, "bb");
	h_seg(h, 1, b + 10, TH_ACK, "cc");
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->nholes, 2);
	ck_assert_uint_eq(c->holes[0].off, 2);
	ck_assert_uint_eq(c->holes[0].len, 2);
	ck_assert_uint_eq(c->holes[1].off, 6);
	ck_assert_uint_eq(c->holes[1].len, 4);
	check_bytes(h, C2S, "aa\0\0bb\0\0\0\0cc", 12);
	h_free(h);
}
END_TEST

START_TEST(hole_filled_after_reorder_cap)
{
	struct tcp_config cfg = { .reorder_flow_cap = 100 };
	struct h *h = h_new(&cfg, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	uint8_t d[300];
	fill_pat(d, 2, 0, sizeof d);
	h_seg_ep(h, &client, &server, b, TH_ACK, d, 10);
	h_seg_ep(h, &client, &server, b + 20, TH_ACK, d + 20, 60);
	ck_assert_int_eq(h->ngaps, 0);
	h_seg_ep(h, &client, &server, b + 80, TH_ACK, d + 80, 60);   /* 120 queued > 100 */
	ck_assert_int_eq(h->ngaps, 1);
	ck_assert_uint_eq(h->gaps[0].off, 10);
	ck_assert_uint_eq(h->gaps[0].len, 10);
	ck_assert_uint_eq(DELTA(h, reorder_cap_flow_hits), 1);
	ck_assert_uint_eq(h->t.ooo_total, 0);
	/* the late retransmission fills the declared hole, in two pieces */
	h_seg_ep(h, &client, &server, b + 14, TH_ACK, d + 14, 3);
	h_seg_ep(h, &client, &server, b + 8, TH_ACK, d + 8, 20);
	h_seg_ep(h, &client, &server, b + 140, TH_ACK, d + 140, 160);
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(DELTA(h, gaps), 0);
	ck_assert_uint_eq(DELTA(h, gap_bytes), 0);
	check_bytes(h, C2S, d, sizeof d);
	h_free(h);
}
END_TEST

START_TEST(hole_partly_filled)
{
	struct tcp_config cfg = { .reorder_flow_cap = 10 };
	struct h *h = h_new(&cfg, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "0123");
	h_seg(h, 1, b + 20, TH_ACK, "KLMNOPQRSTU");     /* 11 > 10: gap [4,20) declared */
	ck_assert_int_eq(h->ngaps, 1);
	h_seg(h, 1, b + 8, TH_ACK, "89ab");             /* middle: splits the hole */
	h_seg(h, 1, b + 4, TH_ACK, "45");               /* front of the first part */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->nholes, 2);
	ck_assert_uint_eq(c->holes[0].off, 6);
	ck_assert_uint_eq(c->holes[0].len, 2);
	ck_assert_uint_eq(c->holes[1].off, 12);
	ck_assert_uint_eq(c->holes[1].len, 8);
	check_bytes(h, C2S, "012345\0\089ab\0\0\0\0\0\0\0\0KLMNOPQRSTU", 31);
	ck_assert_uint_eq(DELTA(h, gaps), 2);
	ck_assert_uint_eq(DELTA(h, gap_bytes), 10);
	h_free(h);
}
END_TEST

START_TEST(midstream_earlier_data_later)
{
	struct h *h = h_new(NULL, 0);
	uint32_t s = 777777;
	h_seg(h, 1, s + 10, TH_ACK, "second part");       /* no SYN: starts here */
	h_seg(h, 1, s + 21, TH_ACK, "!");
	h_seg(h, 1, s, TH_ACK, "first part");             /* 10 bytes that belong in front */
	h_seg(h, 1, s + 22, TH_ACK | TH_FIN, NULL);
	ck_assert_int_eq(h->nrec, 1);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "first partsecond part!");
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(c->len, 22);
	ck_assert_uint_eq(DELTA(h, gaps), 0);
	h_free(h);
}
END_TEST

START_TEST(midstream_earlier_data_partly)
{
	/* earlier bytes arrive, but not all of them: the rest stays a hole at the front */
	struct h *h = h_new(NULL, 0);
	uint32_t s = 100;
	h_seg(h, 1, s + 10, TH_ACK, "tail");
	h_seg(h, 1, s + 4, TH_ACK, "mid");
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	check_bytes(h, C2S, "mid\0\0\0tail", 10);
	ck_assert_uint_eq(c->nholes, 1);
	ck_assert_uint_eq(c->holes[0].off, 3);
	ck_assert_uint_eq(c->holes[0].len, 3);
	h_free(h);
}
END_TEST

START_TEST(midstream_shift_on_disk)
{
	/* enough data that it is on disk before the earlier bytes come */
	struct h *h = h_new(NULL, 0);
	uint32_t s = 0x10000000;
	size_t n = 600000, front = 3000;
	uint8_t *d = malloc(n);
	ck_assert_ptr_nonnull(d);
	fill_pat(d, 3, 0, n);
	for (size_t off = front; off < n; off += 1500) {
		size_t len = n - off < 1500 ? n - off : 1500;
		h_seg_ep(h, &client, &server, s + (uint32_t)off, TH_ACK, d + off, len);
	}
	h_seg_ep(h, &client, &server, s + 1500, TH_ACK, d + 1500, 1500);
	h_seg_ep(h, &client, &server, s, TH_ACK, d, 1500);
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(c->len, n);
	check_bytes(h, C2S, d, n);
	ck_assert_uint_eq(DELTA(h, write_errors), 0);
	free(d);
	h_free(h);
}
END_TEST

START_TEST(sequence_wraparound)
{
	struct h *h = h_new(NULL, 0);
	uint32_t isn = 0xfffffff0u;
	h_seg(h, 1, isn, TH_SYN, NULL);
	h_seg(h, 0, 42, TH_SYN | TH_ACK, NULL);
	uint32_t b = isn + 1;                    /* 0xfffffff1 */
	h_seg(h, 1, b, TH_ACK, "0123456789");      /* up to 0xfffffffb */
	h_seg(h, 1, b + 20, TH_ACK, "KLMNOPQRST"); /* past 2^32, out of order */
	h_seg(h, 1, b + 10, TH_ACK, "abcdefghij"); /* crosses 2^32 */
	h_seg(h, 1, b + 30, TH_ACK | TH_FIN, "end");
	ck_assert_uint_eq(b + 30, 15);
	ck_assert_int_eq(h->nrec, 1);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "0123456789abcdefghijKLMNOPQRSTend");
	ck_assert_uint_eq(c->nholes, 0);
	ck_assert_uint_eq(c->ooo, 1);
	h_free(h);
}
END_TEST

START_TEST(syn_with_data)
{
	struct h *h = h_new(NULL, 0);
	h_seg(h, 1, CISN, TH_SYN, "hello");          /* TCP Fast Open */
	h_seg(h, 0, SISN, TH_SYN | TH_ACK, NULL);
	h_seg(h, 1, CISN + 6, TH_ACK, " world");
	h_seg(h, 1, CISN, TH_SYN, "hello");          /* SYN retransmitted: same ISN */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "hello world");
	ck_assert_uint_eq(c->violations, 0);
	ck_assert_uint_eq(c->connection_count, 0);
	ck_assert_int_eq(count_files(h->dir), 1);
	h_free(h);
}
END_TEST

START_TEST(rst_closes_both)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	h_seg(h, 1, CISN + 1, TH_ACK, "req");
	h_seg(h, 0, SISN + 1, TH_ACK, "resp");
	h_seg(h, 1, CISN + 10, TH_ACK, "late");        /* queued behind a hole */
	ck_assert_int_eq(h->nrec, 0);
	h_seg(h, 0, SISN + 5, TH_RST | TH_ACK, NULL);
	ck_assert_int_eq(h->nrec, 2);
	ck_assert_uint_eq(flowtable_retired_count(h->ft), 1);
	const struct rec *c = h_rec(h, C2S);
	check_bytes(h, C2S, "req\0\0\0\0\0\0late", 13);
	ck_assert_uint_eq(c->nholes, 1);
	check_file(h, S2C, "resp");
	/* stragglers change nothing, open nothing */
	h_seg(h, 0, SISN + 1, TH_ACK, "resp");
	h_seg(h, 1, CISN + 4, TH_ACK, "MISSING");
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 2);
	ck_assert_int_eq(count_files(h->dir), 2);
	check_file(h, S2C, "resp");
	h_free(h);
}
END_TEST

START_TEST(fin_waits_for_missing_bytes)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "0123456789");
	h_seg(h, 1, b + 20, TH_ACK | TH_FIN, "KLMNO");    /* FIN after a missing segment */
	ck_assert_int_eq(h->nrec, 0);
	h_seg(h, 1, b + 25, TH_ACK, NULL);                /* pure ACK after the FIN */
	ck_assert_int_eq(h->nrec, 0);
	h_seg(h, 1, b + 10, TH_ACK, "abcdefghij");        /* now every byte is present */
	ck_assert_int_eq(h->nrec, 1);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->nholes, 0);
	check_file(h, C2S, "0123456789abcdefghijKLMNO");
	/* a pure FIN (no data) out of order too */
	h_seg(h, 0, SISN + 1 + 4, TH_ACK | TH_FIN, NULL);
	ck_assert_int_eq(h->nrec, 1);
	h_seg(h, 0, SISN + 1, TH_ACK, "resp");
	ck_assert_int_eq(h->nrec, 2);
	check_file(h, S2C, "resp");
	ck_assert_uint_eq(flowtable_retired_count(h->ft), 1);
	h_free(h);
}
END_TEST

START_TEST(new_syn_reuses_tuple)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	h_seg(h, 1, CISN + 1, TH_ACK, "first connection");
	h_seg(h, 0, SISN + 1, TH_ACK, "reply one");
	/* no FIN: a new SYN with another ISN on the same 4-tuple */
	h_seg(h, 1, 90000, TH_SYN, NULL);
	ck_assert_int_eq(h->nrec, 2);                   /* the first connection is closed */
	h_seg(h, 0, 70000, TH_SYN | TH_ACK, NULL);
	h_seg(h, 1, 90001, TH_ACK, "second connection");
	h_seg(h, 0, 70001, TH_ACK, "reply two");
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 4);
	ck_assert_uint_eq(DELTA(h, connections_reused), 1);
	check_file(h, C2S, "first connection");
	check_file(h, S2C, "reply one");
	check_file(h, C2S "c0001", "second connection");
	check_file(h, S2C "c0001", "reply two");
	ck_assert_uint_eq(h_rec(h, C2S "c0001")->connection_count, 1);
	ck_assert_uint_ne(h_rec(h, C2S "c0001")->session_id, h_rec(h, C2S)->session_id);
	ck_assert_int_eq(count_files(h->dir), 4);
	h_free(h);
}
END_TEST

START_TEST(new_syn_after_close)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	h_seg(h, 1, CISN + 1, TH_ACK | TH_FIN, "one");
	h_seg(h, 0, SISN + 1, TH_ACK | TH_FIN, "1");
	ck_assert_int_eq(h->nrec, 2);
	h_seg(h, 1, 123456, TH_SYN, NULL);              /* port reused while lingering */
	h_seg(h, 0, 654321, TH_SYN | TH_ACK, NULL);
	h_seg(h, 1, 123457, TH_ACK | TH_FIN, "two");
	tcp_close_all(&h->t);
	check_file(h, C2S, "one");
	check_file(h, C2S "c0001", "two");
	h_free(h);
}
END_TEST

START_TEST(retransmission_after_close)
{
	struct h *h = h_new(NULL, 0);
	handshake(h);
	h_seg(h, 1, CISN + 1, TH_ACK, "data");
	h_seg(h, 1, CISN + 5, TH_ACK | TH_FIN, NULL);
	h_seg(h, 0, SISN + 1, TH_ACK | TH_FIN, NULL);
	ck_assert_int_eq(h->nrec, 2);
	uint64_t rb = DELTA(h, retransmitted_bytes);
	h_seg(h, 1, CISN + 1, TH_ACK, "data");
	h_seg(h, 1, CISN + 1, TH_ACK | TH_PUSH, "data");
	h_seg(h, 1, CISN, TH_SYN, NULL);                /* the old SYN again */
	ck_assert_uint_eq(DELTA(h, retransmitted_bytes), rb + 8);
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 2);
	ck_assert_int_eq(count_files(h->dir), 1);       /* the server sent no bytes */
	check_file(h, C2S, "data");
	ck_assert_uint_eq(DELTA(h, flows_opened), 2);
	h_free(h);
}
END_TEST

START_TEST(max_bytes)
{
	struct tcp_config cfg = { .max_bytes = 10 };
	struct h *h = h_new(&cfg, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "01234567");
	h_seg(h, 1, b + 8, TH_ACK, "89abcdef");
	h_seg(h, 1, b + 16, TH_ACK, "ghijklmno");
	h_seg(h, 1, b + 4, TH_ACK, "456789ZZ");          /* differs only past the limit */
	tcp_close_all(&h->t);
	const struct rec *c = h_rec(h, C2S);
	check_file(h, C2S, "0123456789");
	ck_assert_uint_eq(c->size, 10);
	ck_assert_uint_eq(c->len, 25);
	ck_assert_uint_eq(c->not_stored, 15);
	ck_assert_uint_eq(c->violations, 0);
	ck_assert_uint_eq(DELTA(h, bytes_beyond_max), 15);
	h_free(h);
}
END_TEST

START_TEST(seq_jump_starts_new_file)
{
	struct tcp_config cfg = { .max_seq_jump = 1000 };
	struct h *h = h_new(&cfg, 0);
	handshake(h);
	uint32_t b = CISN + 1;
	h_seg(h, 1, b, TH_ACK, "before");
	h_seg(h, 1, b + 6 + 1000, TH_ACK, "within");     /* exactly the limit: a hole */
	ck_assert_int_eq(h->nrec, 0);
	h_seg(h, 1, b + 6 + 1000 + 6 + 5000, TH_ACK, "after");
	ck_assert_int_eq(h->nrec, 1);
	const struct rec *c = h_rec(h, C2S);
	ck_assert_uint_eq(c->len, 1012);
	ck_assert_uint_eq(c->packets, 4);              /* SYN, ACK, before, within */
	ck_assert_uint_eq(c->nholes, 1);
	ck_assert_uint_eq(c->holes[0].off, 6);
	ck_assert_uint_eq(c->holes[0].len, 1000);
	h_seg(h, 1, b + 6 + 1000 + 6 + 5000 + 5, TH_ACK, "more");
	tcp_close_all(&h->t);
	ck_assert_uint_eq(DELTA(h, seq_jumps), 1);
	const struct rec *n = h_rec(h, C2S "c0001");
	check_file(h, C2S "c0001", "aftermore");
	ck_assert_uint_eq(n->connection_count, 1);
	ck_assert_uint_eq(n->packets, 2);
	ck_assert_uint_eq(n->nholes, 0);
	ck_assert_int_ne(n->last_sec, 0);
	h_free(h);
}
END_TEST

START_TEST(reorder_total_cap)
{
	struct tcp_config cfg = { .reorder_total_cap = 100 };
	tf_stats.peak_reorder_bytes = 0;
	tf_stats.peak_open_flows = 0;
	struct h *h = h_new(&cfg, 0);
	struct ep c2 = client;
	c2.port = 40001;
	h_seg(h, 1, 1000, TH_ACK, "a");                 /* flow 1 mid-stream */
	h_seg_ep(h, &c2, &server, 2000, TH_ACK, "b", 1);  /* flow 2 mid-stream */
	uint8_t d[60];
	memset(d, 'x', sizeof d);
	h_seg_ep(h, &client, &server, 1011, TH_ACK, d, 60);   /* 60 queued */
	ck_assert_uint_eq(h->t.ooo_total, 60);
	memset(d, 'y', sizeof d);
	h_seg_ep(h, &c2, &server, 2021, TH_ACK, d, 60);       /* 120 > 100: flow 2 gives up */
	ck_assert_uint_eq(DELTA(h, reorder_cap_total_hits), 1);
	ck_assert_uint_eq(h->t.ooo_total, 60);
	/* the peaks: 120 bytes held before the cap made flow 2 give up, and
	 * every flow direction opened so far still open */
	ck_assert_uint_eq(tf_stats.peak_reorder_bytes, 120);
	ck_assert_uint_eq(tf_stats.peak_open_flows, DELTA(h, flows_opened));
	ck_assert_uint_ge(tf_stats.peak_open_flows, 2);
	ck_assert_int_eq(h->ngaps, 1);
	ck_assert_uint_eq(h->gaps[0].off, 1);
	ck_assert_uint_eq(h->gaps[0].len, 20);
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->ngaps, 2);
	ck_assert_uint_eq(h->t.ooo_total, 0);
	const struct rec *r1 = h_rec(h, C2S);
	ck_assert_uint_eq(r1->nholes, 1);
	ck_assert_uint_eq(r1->holes[0].off, 1);
	ck_assert_uint_eq(r1->holes[0].len, 10);
	ck_assert_uint_eq(r1->len, 71);
	h_free(h);
}
END_TEST

START_TEST(timeout_closes_idle)
{
	struct tcp_config cfg = { .tcp_timeout = 60 };
	struct h *h = h_new(&cfg, 0);
	handshake(h);
	h_seg(h, 1, CISN + 1, TH_ACK, "idle soon");
	int64_t t0 = h->sec;
	h->sec = t0 + 60;                               /* exactly the timeout: still open */
	struct ep c2 = client;
	c2.port = 40001;
	h_seg_ep(h, &c2, &server, 1, TH_ACK, "other", 5);
	ck_assert_int_eq(h->nrec, 0);
	h->sec = t0 + 61;                               /* past it: closed by another's packet */
	h_seg_ep(h, &c2, &server, 6, TH_ACK, "other", 5);
	ck_assert_int_eq(h->nrec, 2);
	ck_assert_uint_eq(DELTA(h, tcp_timeouts), 1);
	check_file(h, C2S, "idle soon");
	/* the idle connection speaks again: its bytes are kept in a new file */
	h_seg(h, 1, CISN + 10, TH_ACK, "awake");
	tcp_close_all(&h->t);
	check_file(h, C2S "c0001", "awake");
	h_free(h);
}
END_TEST

START_TEST(timeout_then_same_connection)
{
	/* the idle connection's own next packet is the one that finds it timed out */
	struct tcp_config cfg = { .tcp_timeout = 10 };
	struct h *h = h_new(&cfg, 0);
	h_seg(h, 1, 500, TH_ACK, "one");
	h->sec += 11;
	h_seg(h, 1, 503, TH_ACK, "two");
	ck_assert_uint_eq(DELTA(h, tcp_timeouts), 1);
	ck_assert_int_eq(h->nrec, 1);
	check_file(h, C2S, "one");
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 2);
	check_file(h, C2S "c0001", "two");
	h_free(h);
}
END_TEST

START_TEST(timeout_many_connections)
{
	/* 2000 connections, each idle; one later packet closes exactly the idle ones */
	struct tcp_config cfg = { .tcp_timeout = 10 };
	struct h *h = h_new(&cfg, 1);
	enum { N = 2000 };
	for (uint32_t i = 0; i < N; i++) {
		struct ep c = client;
		c.port = (uint16_t)(10000 + i);
		if (i == N / 2)
			h->sec += 5;
		h_seg_ep(h, &c, &server, 1, TH_ACK, "x", 1);
	}
	int64_t t = h->sec;
	h->sec = t + 6;
	h_seg_ep(h, &client, &server, 1, TH_ACK, "y", 1);
	ck_assert_int_eq(h->nrec, N / 2);               /* the first half only */
	ck_assert_uint_eq(DELTA(h, tcp_timeouts), N / 2);
	h->nrec = 0;
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, N / 2 + 1);
	h_free(h);
}
END_TEST

START_TEST(close_all_in_session_order)
{
	struct h *h = h_new(NULL, 0);
	struct ep cs[5];
	for (int i = 0; i < 5; i++) {
		cs[i] = client;
		cs[i].port = (uint16_t)(41000 + i);
		h_seg_ep(h, &cs[i], &server, 100, TH_ACK, "req", 3);
	}
	/* answers and more data in another order */
	static const int order[] = { 3, 1, 4, 0, 2 };
	for (int k = 0; k < 5; k++) {
		int i = order[k];
		h_seg_ep(h, &server, &cs[i], 900, TH_ACK, "resp", 4);
		h_seg_ep(h, &cs[i], &server, 103, TH_ACK, "!", 1);
	}
	ck_assert_int_eq(h->nrec, 0);
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 10);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(h->recs[2 * i].session_id, (uint64_t)i + 1);
		ck_assert_int_eq(h->recs[2 * i].dir, 0);
		ck_assert_uint_eq(h->recs[2 * i + 1].session_id, (uint64_t)i + 1);
		ck_assert_int_eq(h->recs[2 * i + 1].dir, 1);
		char name[128];
		snprintf(name, sizeof name, "010.000.000.001.%05d-010.000.000.002.00080", 41000 + i);
		ck_assert_str_eq(h->recs[2 * i].name, name);
		check_file(h, name, "req!");
	}
	ck_assert_uint_eq(flowtable_retired_count(h->ft), 5);
	/* a second close changes nothing */
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 10);
	h_free(h);
}
END_TEST

START_TEST(stray_packets_open_nothing)
{
	struct h *h = h_new(NULL, 0);
	h_seg(h, 1, 5, TH_ACK, NULL);
	h_seg(h, 1, 5, TH_RST, NULL);
	h_seg(h, 1, 5, TH_FIN | TH_ACK, NULL);
	ck_assert_uint_eq(flowtable_count(h->ft), 0);
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 0);
	ck_assert_int_eq(count_files(h->dir), 0);
	ck_assert_uint_eq(DELTA(h, flows_opened), 0);
	h_free(h);
}
END_TEST

START_TEST(ipv6_vlan_names)
{
	struct h *h = h_new(NULL, 0);
	struct ep a = { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 443 };
	struct ep b = { 6, { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, 50000 };
	struct pkt p;
	memset(&p, 0, sizeof p);
	p.ts_sec = 10;
	p.src.family = p.dst.family = 6;
	memcpy(p.src.bytes, b.addr, 16);
	memcpy(p.dst.bytes, a.addr, 16);
	p.sport = b.port;
	p.dport = a.port;
	p.has_vlan = 1;
	p.vlan = 100;
	p.tcp_flags = TH_ACK;
	p.seq = 1;
	p.payload = (const uint8_t *)"v6";
	p.payload_len = 2;
	tcp_process(&h->t, &p);
	p.has_vlan = 0;                       /* same addresses, no VLAN: another flow */
	p.payload = (const uint8_t *)"novlan";
	p.payload_len = 6;
	tcp_process(&h->t, &p);
	tcp_close_all(&h->t);
	ck_assert_int_eq(h->nrec, 2);
	check_file(h, "2001:db8::2.50000-2001:db8::1.00443--100", "v6");
	check_file(h, "2001:db8::2.50000-2001:db8::1.00443", "novlan");
	h_free(h);
}
END_TEST

START_TEST(no_files_mode)
{
	struct h *h = h_new(NULL, 1);
	handshake(h);
	h_seg(h, 1, CISN + 1, TH_ACK, "abc");
	h_seg(h, 1, CISN + 10, TH_ACK, "xyz");
	tcp_close_all(&h->t);
	const struct rec *c = &h->recs[0];
	ck_assert_int_eq(c->has_path, 0);
	ck_assert_uint_eq(c->len, 12);
	ck_assert_uint_eq(c->size, 12);
	ck_assert_uint_eq(c->nholes, 1);
	ck_assert_int_eq(count_files(h->dir), 0);
	h_free(h);
}
END_TEST

static Suite *tcp_suite(void)
{
	Suite *s = suite_create("tcp");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, in_order_both_directions);
	tcase_add_test(tc, out_of_order);
	tcase_add_test(tc, identical_retransmission);
	tcase_add_test(tc, conflicting_retransmission);
	tcase_add_test(tc, conflicting_retransmission_on_disk);
	tcase_add_test(tc, overlap_in_queue);
	tcase_add_test(tc, in_order_segment_overlapping_queue);
	tcase_add_test(tc, lost_segment_is_hole);
	tcase_add_test(tc, two_holes);
	tcase_add_test(tc, hole_filled_after_reorder_cap);
	tcase_add_test(tc, hole_partly_filled);
	tcase_add_test(tc, midstream_earlier_data_later);
	tcase_add_test(tc, midstream_earlier_data_partly);
	tcase_add_test(tc, midstream_shift_on_disk);
	tcase_add_test(tc, sequence_wraparound);
	tcase_add_test(tc, syn_with_data);
	tcase_add_test(tc, rst_closes_both);
	tcase_add_test(tc, fin_waits_for_missing_bytes);
	tcase_add_test(tc, new_syn_reuses_tuple);
	tcase_add_test(tc, new_syn_after_close);
	tcase_add_test(tc, retransmission_after_close);
	tcase_add_test(tc, max_bytes);
	tcase_add_test(tc, seq_jump_starts_new_file);
	tcase_add_test(tc, reorder_total_cap);
	tcase_add_test(tc, timeout_closes_idle);
	tcase_add_test(tc, timeout_then_same_connection);
	tcase_add_test(tc, timeout_many_connections);
	tcase_add_test(tc, close_all_in_session_order);
	tcase_add_test(tc, stray_packets_open_nothing);
	tcase_add_test(tc, ipv6_vlan_names);
	tcase_add_test(tc, no_files_mode);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tcp_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
