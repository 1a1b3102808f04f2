/* netviz: a one-page picture of the capture (report.pdf, or .png / .svg).
 *
 * From the per-packet events it keeps, in memory bounded whatever the
 * capture size:
 *   - totals: packets, bytes on the wire, first and last time, packets by
 *     transport (TCP, UDP, ICMP, other IP, non-IP) and by IP version;
 *   - bandwidth over time: a fixed number of bins (NV_BINS) whose width is
 *     a step of a chain of durations, each a multiple of the one before
 *     (1 us, 10 us, ... 10 s, 1 min, 10 min, 1 h, 6 h, 1 d, 7 d, 28 d, ...):
 *     when the capture outgrows the bins, they are merged into the next
 *     width. Each bin counts its bytes by service port (the lower of the two
 *     ports) in a few slots (space-saving: a new port takes the smallest
 *     slot, so a port that dominates a bin is always in it);
 *   - top source and destination addresses and ports by bytes: weighted
 *     Misra-Gries summaries (Misra, Gries 1982; batched) of up to twice
 *     netviz_histogram_size entries: exact while there are fewer distinct
 *     items than that, afterwards every item with more than 1/size of the
 *     bytes is kept, its count low by at most that much.
 * At shutdown it draws, with cairo, a letter-size page: a header (program,
 * version, inputs, date range, packets and bytes, transport shares), the
 * bandwidth as bars stacked by port with the cumulative share as a line
 * and a time scale chosen to give at most NV_MAX_BARS bars, and four panels
 * of top source / destination addresses / ports (bars and a numbered
 * top-3 list). Labels are measured before they are placed: ones that would
 * overlap are thinned out or shortened with an ellipsis.
 *
 * Parameters: netviz_format=pdf|png|svg (a comma list writes several),
 * netviz_histogram_size=1000.
 *
 * Built like any third-party scanner: only <tcpflow/scanner.h> (and cairo). */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>

#include <tcpflow/scanner.h>

#define NV_BINS 1024            /* internal time bins */
#define NV_BIN_PORTS 8          /* port slots per bin */
#define NV_MAX_BARS 60          /* bars drawn at most */
#define NV_MIN_BARS 10          /* ... and at least (empty ones after the data) */
#define NV_STACK 5              /* ports with a colour of their own */
#define NV_TOP_ROWS 8           /* bars per top panel */
#define NV_MAX_TS 100000000000LL /* |seconds| beyond this are clamped */

static const struct tf_host *host;

static const struct tf_param nv_params[] = {
	{ "netviz_format", "pdf", "page format: pdf (report.pdf), png (report.png) or svg "
	  "(report.svg); a comma list writes several" },
	{ "netviz_histogram_size", "1000", "entries kept per top-address and top-port "
	  "summary (memory stays bounded whatever the capture size)" },
	{ NULL, NULL, NULL },
};

/* ---- heavy hitters: weighted Misra-Gries, batched --------------------------------- */

/* An address (kind 4 or 6, 16 bytes) or a port (kind = IP protocol, the
 * port in b[0..1]). */
struct nv_key {
	uint8_t kind;
	uint8_t b[16];
};

struct tk_ent {
	struct nv_key k;
	uint32_t hash;
	uint64_t count;            /* bytes (a lower bound once the table was reduced) */
	uint64_t packets;          /* packets since the entry was made */
};

/* Up to 2 * cap entries in a hash table. When it is full, the (cap+1)-th
 * largest count d is subtracted from every entry and those left at zero
 * are dropped (at most cap stay): amortised O(1) per item. Every count is
 * exact until the first reduction, then low by at most total / (cap + 1),
 * so anything with more than that share of the bytes is always listed. */
struct topk {
	size_t cap, n;
	struct tk_ent *e;          /* 2 * cap */
	uint32_t *slot;            /* entry index + 1, linear probing */
	uint64_t *tmp;             /* 2 * cap counts, for the selection */
	size_t mask;
	uint64_t total;            /* weight of everything added */
	uint64_t reduced;          /* sum of the amounts subtracted */
};

static uint32_t key_hash(const struct nv_key *k)
{
	uint64_t a, b;
	memcpy(&a, k->b, 8);
	memcpy(&b, k->b + 8, 8);
	uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull) ^ k->kind) * 0xBF58476D1CE4E5B9ull;
	h ^= h >> 31;
	h *= 0x94D049BB133111EBull;
	return (uint32_t)(h ^ (h >> 29));
}

static int key_eq(const struct nv_key *a, const struct nv_key *b)
{
	return a->kind == b->kind && !memcmp(a->b, b->b, 16);
}

static int topk_init(struct topk *t, size_t cap)
{
	size_t ns = 16;
	while (ns < cap * 4)
		ns *= 2;
	memset(t, 0, sizeof *t);
	t->cap = cap;
	t->e = calloc(cap * 2, sizeof *t->e);
	t->tmp = calloc(cap * 2, sizeof *t->tmp);
	t->slot = calloc(ns, sizeof *t->slot);
	t->mask = ns - 1;
	return t->e && t->tmp && t->slot ? 0 : -ENOMEM;
}

static void topk_free(struct topk *t)
{
	free(t->e);
	free(t->tmp);
	free(t->slot);
	memset(t, 0, sizeof *t);
}

/* Slot of key (hash h), or of the empty slot where it would go. */
static size_t slot_of(const struct topk *t, const struct nv_key *k, uint32_t h)
{
	size_t i = h & t->mask;
	for (;;) {
		uint32_t s = t->slot[i];
		if (!s)
			return i;
		const struct tk_ent *e = &t->e[s - 1];
		if (e->hash == h && key_eq(&e->k, k))
			return i;
		i = (i + 1) & t->mask;
	}
}

/* The k-th largest (k from 0) of a[0..n), reordering a (Hoare selection,
 * middle pivot: deterministic). */
static uint64_t select_kth_largest(uint64_t *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;
	while (lo < hi) {
		uint64_t pivot = a[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] > pivot)
				i++;
			while (a[j] < pivot)
				j--;
			if (i <= j) {
				uint64_t x = a[i];
				a[i] = a[j];
				a[j] = x;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return a[k];
	}
	return a[k];
}

static void topk_reduce(struct topk *t)
{
	for (size_t i = 0; i < t->n; i++)
		t->tmp[i] = t->e[i].count;
	uint64_t d = select_kth_largest(t->tmp, t->n, t->cap);
	size_t m = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->e[i].count <= d)
			continue;
		t->e[m] = t->e[i];
		t->e[m].count -= d;
		m++;
	}
	t->n = m;
	t->reduced += d;
	memset(t->slot, 0, (t->mask + 1) * sizeof *t->slot);
	for (size_t i = 0; i < m; i++)
		t->slot[slot_of(t, &t->e[i].k, t->e[i].hash)] = (uint32_t)(i + 1);
}

static void topk_add(struct topk *t, const struct nv_key *k, uint64_t w)
{
	uint32_t h = key_hash(k);
	t->total += w;
	size_t s = slot_of(t, k, h);
	if (t->slot[s]) {
		struct tk_ent *e = &t->e[t->slot[s] - 1];
		e->count += w;
		e->packets++;
		return;
	}
	if (t->n == 2 * t->cap) {
		topk_reduce(t);
		s = slot_of(t, k, h);
	}
	struct tk_ent *e = &t->e[t->n];
	e->k = *k;
	e->hash = h;
	e->count = w;
	e->packets = 1;
	t->slot[s] = (uint32_t)++t->n;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct tk_ent *x = a, *y = b;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->k.kind != y->k.kind)
		return x->k.kind < y->k.kind ? -1 : 1;
	return memcmp(x->k.b, y->k.b, 16);
}

/* The n largest entries, largest first (ties by key), into out. */
static size_t topk_top(const struct topk *t, struct tk_ent *out, size_t n)
{
	struct tk_ent *all = malloc((t->n ? t->n : 1) * sizeof *all);
	if (!all)
		return 0;
	memcpy(all, t->e, t->n * sizeof *all);
	qsort(all, t->n, sizeof *all, ent_cmp);
	if (n > t->n)
		n = t->n;
	memcpy(out, all, n * sizeof *out);
	free(all);
	return n;
}

/* ---- bandwidth over time -------------------------------------------------------------------- */

struct bin {
	uint64_t bytes, packets;
	uint32_t nport;
	uint32_t port[NV_BIN_PORTS];       /* proto << 16 | port */
	uint64_t pbytes[NV_BIN_PORTS];
};

/* Each width is a multiple of the one before (merging bins is exact). */
static const int64_t nv_chain[] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 60000000, 600000000,
	3600000000LL, 21600000000LL, 86400000000LL, 604800000000LL, 2419200000000LL,
	24192000000000LL, 241920000000000LL, 2419200000000000LL, 24192000000000000LL,
	241920000000000000LL,
};
#define NV_CHAIN (sizeof nv_chain / sizeof nv_chain[0])

/* Bar widths to draw; one is chosen among the multiples of the bin width. */
static const int64_t nv_nice[] = {
	1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000,
	200000, 500000, 1000000, 2000000, 5000000, 10000000, 15000000, 30000000, 60000000,
	120000000, 300000000, 600000000, 900000000, 1800000000, 3600000000LL, 7200000000LL,
	10800000000LL, 21600000000LL, 43200000000LL, 86400000000LL, 172800000000LL,
	604800000000LL, 1209600000000LL, 2419200000000LL, 4838400000000LL, 12096000000000LL,
	24192000000000LL, 48384000000000LL, 120960000000000LL, 241920000000000LL,
	2419200000000000LL, 24192000000000000LL, 241920000000000000LL,
};
#define NV_NICE (sizeof nv_nice / sizeof nv_nice[0])

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	if ((a % b) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static void bin_port_add(struct bin *b, uint32_t port, uint64_t bytes)
{
	size_t min = 0;
	for (size_t i = 0; i < b->nport; i++) {
		if (b->port[i] == port) {
			b->pbytes[i] += bytes;
			return;
		}
		if (b->pbytes[i] < b->pbytes[min])
			min = i;
	}
	if (b->nport < NV_BIN_PORTS) {
		b->port[b->nport] = port;
		b->pbytes[b->nport++] = bytes;
		return;
	}
	b->port[min] = port;               /* space-saving within the bin */
	b->pbytes[min] += bytes;
}

static void bin_merge(struct bin *to, const struct bin *from)
{
	to->bytes += from->bytes;
	to->packets += from->packets;
	for (size_t i = 0; i < from->nport; i++)
		bin_port_add(to, from->port[i], from->pbytes[i]);
}

/* ---- state ------------------------------------------------------------------------------ */

enum { TR_TCP, TR_UDP, TR_ICMP, TR_OTHER_IP, TR_NON_IP, TR_N };

#define FMT_PDF 1u
#define FMT_PNG 2u
#define FMT_SVG 4u

struct nv {
	unsigned formats;
	uint64_t packets, bytes;
	uint64_t tr_packets[TR_N];
	uint64_t v4, v6;
	int64_t first_us, last_us;
	uint32_t ninputs_seen;
	/* time bins */
	struct bin *bins, *spare;
	size_t chain;                      /* index into nv_chain */
	int64_t base, hi;                  /* bin numbers (time / width) of bins[0], the last */
	int used;
	/* tops */
	struct topk src, dst, sport, dport, svc;
};

/* "non-IP" also counts packets whose IP header is malformed */
static const char *const tr_names[TR_N] = { "TCP", "UDP", "ICMP", "other IP",
					    "non-IP/undecoded" };

/* Merge the bins into the next width of the chain. */
static void coarsen(struct nv *v)
{
	int64_t w = nv_chain[v->chain], nw = nv_chain[v->chain + 1];
	int64_t nbase = floor_div(v->base * w, nw);
	memset(v->spare, 0, NV_BINS * sizeof *v->spare);
	for (int64_t i = 0; i <= v->hi - v->base; i++) {
		if (!v->bins[i].packets)
			continue;
		int64_t ni = floor_div((v->base + i) * w, nw) - nbase;
		bin_merge(&v->spare[ni], &v->bins[i]);
	}
	v->hi = floor_div(v->hi * w, nw);
	v->base = nbase;
	v->chain++;
	struct bin *x = v->bins;
	v->bins = v->spare;
	v->spare = x;
}

static void time_add(struct nv *v, int64_t t, uint32_t port, uint64_t bytes)
{
	int64_t idx = floor_div(t, nv_chain[v->chain]);
	if (!v->used) {
		v->used = 1;
		v->base = v->hi = idx;
	}
	while ((idx > v->hi ? idx : v->hi) - (idx < v->base ? idx : v->base) + 1 > NV_BINS &&
	       v->chain + 1 < NV_CHAIN) {
		coarsen(v);
		idx = floor_div(t, nv_chain[v->chain]);
	}
	if ((idx > v->hi ? idx : v->hi) - (idx < v->base ? idx : v->base) + 1 > NV_BINS)
		return;                    /* cannot happen with clamped times */
	if (idx < v->base) {               /* earlier than anything so far */
		int64_t d = v->base - idx;
		memmove(v->bins + d, v->bins, (size_t)(v->hi - v->base + 1) * sizeof *v->bins);
		memset(v->bins, 0, (size_t)d * sizeof *v->bins);
		v->base = idx;
	}
	if (idx > v->hi)
		v->hi = idx;
	struct bin *b = &v->bins[idx - v->base];
	b->bytes += bytes;
	b->packets++;
	if (port)
		bin_port_add(b, port, bytes);
}

static void nv_packet(struct tf_ctx *ctx, void *state, const struct tf_packet *pkt)
{
	struct nv *v = state;
	(void)ctx;
	if (!v)
		return;
	uint64_t len = pkt->wirelen ? pkt->wirelen : pkt->caplen;
	int64_t sec = pkt->ts_sec;
	if (sec > NV_MAX_TS)
		sec = NV_MAX_TS;
	if (sec < -NV_MAX_TS)
		sec = -NV_MAX_TS;
	int64_t t = sec * 1000000 + (int64_t)(pkt->ts_usec % 1000000);
	if (!v->packets || t < v->first_us)
		v->first_us = t;
	if (!v->packets || t > v->last_us)
		v->last_us = t;
	if (pkt->input_index + 1 > v->ninputs_seen)
		v->ninputs_seen = pkt->input_index + 1;
	v->packets++;
	v->bytes += len;

	int tr = TR_NON_IP;
	uint32_t svc = 0;
	if (pkt->flags & TF_PACKET_IP) {
		struct nv_key k;
		int v6 = pkt->src.family == 6;
		if (v6)
			v->v6++;
		else
			v->v4++;
		tr = pkt->ip_proto == 6 ? TR_TCP : pkt->ip_proto == 17 ? TR_UDP
		     : (pkt->ip_proto == 1 || pkt->ip_proto == 58) ? TR_ICMP : TR_OTHER_IP;
		memset(&k, 0, sizeof k);
		k.kind = v6 ? 6 : 4;
		memcpy(k.b, pkt->src.bytes, v6 ? 16 : 4);
		topk_add(&v->src, &k, len);
		memset(k.b, 0, sizeof k.b);
		memcpy(k.b, pkt->dst.bytes, v6 ? 16 : 4);
		topk_add(&v->dst, &k, len);
		if (pkt->flags & (TF_PACKET_PORTS | TF_PACKET_TCP)) {
			memset(&k, 0, sizeof k);
			k.kind = pkt->ip_proto;
			k.b[0] = (uint8_t)(pkt->sport >> 8);
			k.b[1] = (uint8_t)pkt->sport;
			topk_add(&v->sport, &k, len);
			k.b[0] = (uint8_t)(pkt->dport >> 8);
			k.b[1] = (uint8_t)pkt->dport;
			topk_add(&v->dport, &k, len);
			/* the service: the lower port (well-known ports are low) */
			uint16_t p = pkt->sport < pkt->dport ? pkt->sport : pkt->dport;
			k.b[0] = (uint8_t)(p >> 8);
			k.b[1] = (uint8_t)p;
			topk_add(&v->svc, &k, len);
			svc = ((uint32_t)pkt->ip_proto << 16) | p;
			if (!svc)
				svc = 1u << 24;    /* port 0 of protocol 0: keep it non-zero */
		}
	}
	v->tr_packets[tr]++;
	time_add(v, t, svc, len);
}

/* ---- text helpers ------------------------------------------------------------------------ */

/* Group thousands: 1234567 -> "1,234,567". */
static void fmt_count(char *out, size_t len, uint64_t n)
{
	char d[32];
	int k = snprintf(d, sizeof d, "%" PRIu64, n);
	size_t o = 0;
	for (int i = 0; i < k && o + 2 < len; i++) {
		if (i && (k - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = d[i];
	}
	out[o] = '\0';
}

/* Decimal units, three significant digits: "5.51 MB". */
static void fmt_bytes(char *out, size_t len, double b)
{
	static const char *const units[] = { "B", "KB", "MB", "GB", "TB", "PB", "EB" };
	size_t u = 0;
	while (b >= 999.5 && u + 1 < sizeof units / sizeof units[0]) {
		b /= 1000.0;
		u++;
	}
	if (u == 0)
		snprintf(out, len, "%.0f B", b);
	else
		snprintf(out, len, b < 9.995 ? "%.2f %s" : b < 99.95 ? "%.1f %s" : "%.0f %s", b,
			 units[u]);
}

static void fmt_pct(char *out, size_t len, uint64_t part, uint64_t whole)
{
	double p = whole ? 100.0 * (double)part / (double)whole : 0.0;
	if (p > 0 && p < 0.1)
		snprintf(out, len, "<0.1%%");
	else
		snprintf(out, len, p < 9.95 ? "%.1f%%" : "%.0f%%", p);
}

/* A duration in the largest unit that keeps it readable. */
static void fmt_duration(char *out, size_t len, int64_t us)
{
	if (us < 1000)
		snprintf(out, len, "%" PRId64 " \xc2\xb5s", us);
	else if (us < 1000000)
		snprintf(out, len, "%.3g ms", (double)us / 1e3);
	else if (us < 60000000)
		snprintf(out, len, "%.3g s", (double)us / 1e6);
	else if (us < 3600000000LL)
		snprintf(out, len, "%.3g min", (double)us / 6e7);
	else if (us < 86400000000LL)
		snprintf(out, len, "%.3g h", (double)us / 3.6e9);
	else
		snprintf(out, len, "%.4g days", (double)us / 8.64e10);
}

static int utc(int64_t us, struct tm *tm)
{
	time_t t = (time_t)floor_div(us, 1000000);
	return gmtime_r(&t, tm) != NULL;
}

/* "2023-11-14 22:13:20.123" (milliseconds when ms). */
static void fmt_time(char *out, size_t len, int64_t us, int ms)
{
	struct tm tm;
	if (!utc(us, &tm)) {
		snprintf(out, len, "%" PRId64 " us", us);
		return;
	}
	int n = snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (ms && n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, ".%03d", (int)(floor_div(us, 1000) % 1000 + 1000) % 1000);
}

/* A copy of s that is valid UTF-8 (cairo refuses anything else): invalid
 * bytes and control characters become '?'. */
static void clean_utf8(char *out, size_t len, const char *s)
{
	size_t o = 0;
	const uint8_t *p = (const uint8_t *)s;
	while (*p && o + 5 < len) {
		size_t k = 0;
		if (*p >= 0x20 && *p < 0x7F)
			k = 1;
		else if ((*p & 0xE0) == 0xC0 && *p >= 0xC2)
			k = 2;
		else if ((*p & 0xF0) == 0xE0)
			k = 3;
		else if ((*p & 0xF8) == 0xF0 && *p <= 0xF4)
			k = 4;
		for (size_t i = 1; i < k; i++)
			if ((p[i] & 0xC0) != 0x80)
				k = 0;
		if (k == 3 && ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0)))
			k = 0;             /* overlong, surrogates */
		if (k == 4 && ((p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90)))
			k = 0;
		if (!k) {
			out[o++] = '?';
			p++;
			continue;
		}
		memcpy(out + o, p, k);
		o += k;
		p += k;
	}
	out[o] = '\0';
}

static void key_label(char *out, size_t len, const struct nv_key *k, int port)
{
	if (port) {
		unsigned p = ((unsigned)k->b[0] << 8) | k->b[1];
		const char *proto = k->kind == 6 ? "tcp" : k->kind == 17 ? "udp" : "ip";
		snprintf(out, len, "%u/%s", p, proto);
		return;
	}
	if (!inet_ntop(k->kind == 6 ? AF_INET6 : AF_INET, k->b, out, (socklen_t)len))
		snprintf(out, len, "?");
}

/* ---- drawing ------------------------------------------------------------------------------ */

#define PAGE_W 612.0           /* US letter, points */
#define PAGE_H 792.0
#define MARGIN 40.0

struct rgb {
	double r, g, b;
};

/* Okabe-Ito colours (readable with colour blindness), then grey for the rest. */
static const struct rgb palette[NV_STACK] = {
	{ 0.902, 0.624, 0.000 }, { 0.337, 0.706, 0.914 }, { 0.000, 0.620, 0.451 },
	{ 0.835, 0.369, 0.000 }, { 0.800, 0.475, 0.655 },
};
static const struct rgb grey = { 0.70, 0.70, 0.70 };
static const struct rgb ink = { 0.10, 0.10, 0.10 };
static const struct rgb soft = { 0.40, 0.40, 0.40 };
static const struct rgb bar_blue = { 0.000, 0.447, 0.698 };

static void colour(cairo_t *cr, struct rgb c)
{
	cairo_set_source_rgb(cr, c.r, c.g, c.b);
}

static void font(cairo_t *cr, double size, int bold)
{
	cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

static double text_w(cairo_t *cr, const char *s)
{
	cairo_text_extents_t e;
	cairo_text_extents(cr, s, &e);
	return e.x_advance;
}

/* Draw s with its baseline at y: align 0 left, 1 centre, 2 right of x. */
static void text_at(cairo_t *cr, double x, double y, const char *s, int align)
{
	double w = align ? text_w(cr, s) : 0;
	cairo_move_to(cr, align == 1 ? x - w / 2 : align == 2 ? x - w : x, y);
	cairo_show_text(cr, s);
}

/* Shorten s (valid UTF-8, in a buffer of size bytes) in place with a
 * trailing ellipsis until it fits in maxw. */
static void fit(cairo_t *cr, char *s, size_t size, double maxw)
{
	size_t n = strlen(s);
	char buf[1100];
	if (text_w(cr, s) <= maxw || size < 4)
		return;
	if (n >= sizeof buf - 4)
		n = sizeof buf - 4;
	buf[0] = '\0';
	while (n > 0) {
		n--;
		while (n > 0 && ((uint8_t)s[n] & 0xC0) == 0x80)
			n--;               /* whole characters only */
		snprintf(buf, sizeof buf, "%.*s\xe2\x80\xa6", (int)n, s);
		if ((text_w(cr, buf) <= maxw && n + 4 <= size) || n == 0)
			break;
	}
	snprintf(s, size, "%s", n + 4 <= size ? buf : "");
}

/* Shorten an ASCII s in place by an ellipsis in its middle until it fits in
 * maxw: the two ends of an address tell addresses apart. */
static void fit_middle(cairo_t *cr, char *s, size_t size, double maxw)
{
	size_t n = strlen(s);
	char buf[256];
	if (text_w(cr, s) <= maxw || n >= sizeof buf - 4)
		return;
	for (size_t k = n - 1; k > 0; k--) {
		size_t head = (k + 1) / 2, tail = k / 2;
		snprintf(buf, sizeof buf, "%.*s\xe2\x80\xa6%s", (int)head, s, s + n - tail);
		if (text_w(cr, buf) <= maxw || k == 1)
			break;
	}
	size_t blen = strlen(buf);
	if (blen < size)
		memcpy(s, buf, blen + 1);
}

/* An axis for values up to v: a round tick step (1, 2, 2.5 or 5 x 10^k)
 * and the number of steps (3 to 5) whose multiple reaches v. */
static double nice_axis(double v, int *nsteps)
{
	if (v <= 0) {
		*nsteps = 4;
		return 1;
	}
	double p = pow(10, floor(log10(v / 5)));
	static const double m[] = { 1, 2, 2.5, 5, 10, 20 };
	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		double n = ceil(v / (m[i] * p) - 1e-9);
		if (n <= 5) {
			*nsteps = n < 1 ? 1 : (int)n;
			return m[i] * p;
		}
	}
	*nsteps = 5;
	return v / 5;
}

static void draw_header(cairo_t *cr, const struct nv *v, struct tf_ctx *ctx, double *y)
{
	char line[1024], a[64], b[64], c[64];
	double maxw = PAGE_W - 2 * MARGIN;
	colour(cr, ink);
	font(cr, 16, 1);
	snprintf(line, sizeof line, "tcpflow %s", host->tcpflow_version);
	text_at(cr, MARGIN, *y, line, 0);
	double tw = text_w(cr, line);
	font(cr, 11, 0);
	colour(cr, soft);
	text_at(cr, MARGIN + tw + 8, *y, "network summary (netviz)", 0);
	*y += 18;
	colour(cr, ink);
	font(cr, 9, 0);

	/* inputs: full paths when they fit, else base names (the report keeps
	 * the paths), and an ellipsis for what still does not fit */
	char clean[1024];
	for (int base = 0; base < 2; base++) {
		size_t o = (size_t)snprintf(line, sizeof line, "Input%s: ", v->ninputs_seen > 1 ? "s" : "");
		uint32_t n = 0;
		if (TF_HAS(host, struct tf_host, input_name)) {
			const char *name;
			for (uint32_t i = 0; (name = host->input_name(ctx, i)) && o < sizeof line; i++, n++) {
				const char *slash = base ? strrchr(name, '/') : NULL;
				o += (size_t)snprintf(line + o, sizeof line - o, "%s%s", i ? ", " : "",
						      slash && slash[1] ? slash + 1 : name);
			}
		}
		if (!n)
			snprintf(line + o, sizeof line - o, "(not known)");
		clean_utf8(clean, sizeof clean, line);
		if (text_w(cr, clean) <= maxw)
			break;
	}
	fit(cr, clean, sizeof clean, maxw);
	text_at(cr, MARGIN, *y, clean, 0);
	*y += 13;

	if (v->packets) {
		fmt_time(a, sizeof a, v->first_us, 1);
		fmt_time(b, sizeof b, v->last_us, 1);
		fmt_duration(c, sizeof c, v->last_us - v->first_us);
		snprintf(line, sizeof line, "Date range: %s  to  %s UTC  (%s)", a, b, c);
	} else {
		snprintf(line, sizeof line, "Date range: no packets");
	}
	clean_utf8(clean, sizeof clean, line);
	text_at(cr, MARGIN, *y, clean, 0);
	*y += 13;

	fmt_count(a, sizeof a, v->packets);
	fmt_bytes(b, sizeof b, (double)v->bytes);
	fmt_count(c, sizeof c, v->bytes);
	snprintf(line, sizeof line, "Packets: %s     Bytes: %s (%s bytes on the wire)", a, b, c);
	text_at(cr, MARGIN, *y, line, 0);
	*y += 13;

	size_t o = (size_t)snprintf(line, sizeof line, "Transports (share of packets):");
	int any = 0;
	for (int i = 0; i < TR_N; i++) {
		if (!v->tr_packets[i])
			continue;
		fmt_pct(a, sizeof a, v->tr_packets[i], v->packets);
		o += (size_t)snprintf(line + o, sizeof line - o, "%s %s %s", any ? "," : "",
				      tr_names[i], a);
		any = 1;
	}
	if (!any)
		snprintf(line + o, sizeof line - o, " none");
	if (v->v4 + v->v6) {
		size_t k = strlen(line);
		fmt_pct(a, sizeof a, v->v4, v->packets);
		fmt_pct(b, sizeof b, v->v6, v->packets);
		if (v->v4 && v->v6)
			snprintf(line + k, sizeof line - k, "      Network: IPv4 %s, IPv6 %s", a, b);
		else
			snprintf(line + k, sizeof line - k, "      Network: %s %s",
				 v->v4 ? "IPv4" : "IPv6", v->v4 ? a : b);
	}
	fit(cr, line, sizeof line, maxw);
	text_at(cr, MARGIN, *y, line, 0);
	*y += 8;
	cairo_set_line_width(cr, 0.6);
	colour(cr, grey);
	cairo_move_to(cr, MARGIN, *y);
	cairo_line_to(cr, PAGE_W - MARGIN, *y);
	cairo_stroke(cr);
	*y += 20;
}

/* Time label of a bar starting at us, for bars of width dw over a chart
 * of span microseconds from origin. */
static void bar_label(char *out, size_t len, int64_t us, int64_t dw, int64_t origin,
		      int64_t span)
{
	struct tm tm;
	if (dw < 1000000) {                /* sub-second bars: offset from the start */
		double off = (double)(us - origin);
		if (span <= 1000)
			snprintf(out, len, "+%.0f \xc2\xb5s", off);
		else if (span <= 1000000)
			snprintf(out, len, "+%.4g ms", off / 1e3);
		else
			snprintf(out, len, "+%.4g s", off / 1e6);
		return;
	}
	if (!utc(us, &tm)) {
		snprintf(out, len, "?");
		return;
	}
	if (dw >= 86400000000LL)
		snprintf(out, len, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	else if (dw % 60000000 == 0)
		snprintf(out, len, "%02d:%02d", tm.tm_hour, tm.tm_min);
	else
		snprintf(out, len, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void draw_bandwidth(cairo_t *cr, const struct nv *v, double ytop, double bottom)
{
	char s[320], s2[128], s3[64];
	const double left = MARGIN + 50, right = PAGE_W - MARGIN - 34;
	double pw = right - left;
	colour(cr, ink);
	font(cr, 11, 1);
	text_at(cr, MARGIN, ytop, "Bandwidth over time", 0);
	font(cr, 8, 0);
	colour(cr, soft);
	text_at(cr, right + 34, ytop, "bars: bytes per interval, stacked by port; line: cumulative share",
		2);
	double y0 = ytop + 14, y1 = bottom - 52;    /* plot area */
	if (!v->packets) {
		font(cr, 10, 0);
		text_at(cr, (left + right) / 2, (y0 + y1) / 2, "no packets", 1);
		return;
	}

	/* the bar width: the smallest nice multiple of the bin width that
	 * needs at most NV_MAX_BARS bars */
	int64_t w = nv_chain[v->chain];
	int64_t t0 = v->base * w, t1 = (v->hi + 1) * w - 1;
	int64_t dw = w;
	for (size_t i = 0; i < NV_NICE; i++) {
		if (nv_nice[i] < w || nv_nice[i] % w)
			continue;
		dw = nv_nice[i];
		if (floor_div(t1, dw) - floor_div(t0, dw) + 1 <= NV_MAX_BARS)
			break;
	}
	int64_t d0 = floor_div(t0, dw);
	size_t nb = (size_t)(floor_div(t1, dw) - d0 + 1);
	if (nb > NV_BINS)
		nb = NV_BINS;
	if (nb < NV_MIN_BARS)
		nb = NV_MIN_BARS;          /* a short capture: empty bars after it */

	/* the ports with a colour: the top services overall */
	struct tk_ent top[NV_STACK];
	size_t ntop = topk_top(&v->svc, top, NV_STACK);
	uint32_t tport[NV_STACK];
	for (size_t i = 0; i < ntop; i++) {
		tport[i] = ((uint32_t)top[i].k.kind << 16) | ((uint32_t)top[i].k.b[0] << 8) |
			   top[i].k.b[1];
		if (!tport[i])
			tport[i] = 1u << 24;
	}

	/* bars: total and per coloured port */
	double (*stack)[NV_STACK + 1] = calloc(nb, sizeof *stack);
	double *total = calloc(nb, sizeof *total);
	if (!stack || !total) {
		free(stack);
		free(total);
		return;
	}
	for (int64_t i = 0; i <= v->hi - v->base; i++) {
		const struct bin *b = &v->bins[i];
		if (!b->packets)
			continue;
		size_t j = (size_t)(floor_div((v->base + i) * w, dw) - d0);
		if (j >= nb)
			continue;
		total[j] += (double)b->bytes;
		double colored = 0;
		for (size_t p = 0; p < b->nport; p++)
			for (size_t q = 0; q < ntop; q++)
				if (b->port[p] == tport[q]) {
					stack[j][q] += (double)b->pbytes[p];
					colored += (double)b->pbytes[p];
				}
		stack[j][NV_STACK] += (double)b->bytes - colored;
	}
	double maxv = 0;
	for (size_t j = 0; j < nb; j++)
		if (total[j] > maxv)
			maxv = total[j];
	int nsteps;
	double step = nice_axis(maxv, &nsteps), ymax = step * nsteps;

	/* axes and grid */
	font(cr, 7.5, 0);
	cairo_set_line_width(cr, 0.4);
	for (int k = 0; k <= nsteps; k++) {
		double val = step * k, y = y1 - (y1 - y0) * val / ymax;
		colour(cr, (struct rgb){ 0.85, 0.85, 0.85 });
		cairo_move_to(cr, left, y);
		cairo_line_to(cr, right, y);
		cairo_stroke(cr);
		colour(cr, soft);
		fmt_bytes(s, sizeof s, val);
		text_at(cr, left - 4, y + 2.5, s, 2);
	}
	for (int k = 0; k <= 4; k++) {     /* the cumulative line's axis */
		double y = y1 - (y1 - y0) * k / 4.0;
		colour(cr, soft);
		cairo_move_to(cr, right, y);
		cairo_line_to(cr, right + 3, y);
		cairo_stroke(cr);
		snprintf(s, sizeof s, "%d%%", k * 25);
		text_at(cr, right + 5, y + 2.5, s, 0);
	}

	/* bars */
	double bw = pw / (double)nb;
	double gap = bw > 4 ? bw * 0.15 : 0;
	for (size_t j = 0; j < nb; j++) {
		double y = y1;
		for (size_t q = 0; q <= NV_STACK; q++) {
			double val = stack[j][q];
			if (val <= 0)
				continue;
			double h = (y1 - y0) * val / ymax;
			colour(cr, q < NV_STACK ? palette[q] : grey);
			cairo_rectangle(cr, left + bw * (double)j + gap / 2, y - h, bw - gap, h);
			cairo_fill(cr);
			y -= h;
		}
	}

	/* cumulative share */
	double cum = 0, all = 0;
	for (size_t j = 0; j < nb; j++)
		all += total[j];
	cairo_set_line_width(cr, 1.3);
	colour(cr, ink);
	cairo_move_to(cr, left, y1);
	for (size_t j = 0; j < nb; j++) {
		cum += total[j];
		cairo_line_to(cr, left + bw * (double)(j + 1), y1 - (y1 - y0) * (all > 0 ? cum / all : 0));
	}
	cairo_stroke(cr);

	/* frame */
	cairo_set_line_width(cr, 0.7);
	colour(cr, soft);
	cairo_move_to(cr, left, y0);
	cairo_line_to(cr, left, y1);
	cairo_line_to(cr, right, y1);
	cairo_line_to(cr, right, y0);
	cairo_stroke(cr);

	/* time labels: every k-th bar boundary, k so that labels do not touch */
	font(cr, 7.5, 0);
	double lw = 0;
	for (size_t j = 0; j < nb; j++) {
		bar_label(s, sizeof s, (d0 + (int64_t)j) * dw, dw, d0 * dw, (int64_t)nb * dw);
		double x = text_w(cr, s);
		if (x > lw)
			lw = x;
	}
	size_t k = (size_t)ceil((lw + 8) / bw);
	static const size_t kn[] = { 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60 };
	for (size_t i = 0; i < sizeof kn / sizeof kn[0]; i++)
		if (kn[i] >= k) {
			k = kn[i];
			break;
		}
	colour(cr, soft);
	cairo_set_line_width(cr, 0.5);
	for (size_t j = 0; j <= nb; j += k) {
		double x = left + bw * (double)j;
		cairo_move_to(cr, x, y1);
		cairo_line_to(cr, x, y1 + 3);
		cairo_stroke(cr);
		if (j == nb && nb > 1)
			break;             /* the end of the axis has no bar to name */
		bar_label(s, sizeof s, (d0 + (int64_t)j) * dw, dw, d0 * dw, (int64_t)nb * dw);
		double tw = text_w(cr, s);
		double tx = x - tw / 2;
		if (tx < left - 30)
			tx = left - 30;
		if (tx + tw > right + 30)
			tx = right + 30 - tw;
		cairo_move_to(cr, tx, y1 + 12);
		cairo_show_text(cr, s);
	}

	/* scale caption */
	fmt_duration(s2, sizeof s2, dw);
	fmt_time(s3, sizeof s3, d0 * dw, dw < 1000000);
	snprintf(s, sizeof s, "one bar = %s;  times in UTC from %s", s2, s3);
	font(cr, 8, 0);
	colour(cr, ink);
	char clean[400];
	clean_utf8(clean, sizeof clean, s);
	text_at(cr, (left + right) / 2, y1 + 25, clean, 1);

	/* legend */
	double lx[NV_STACK + 1], total_w = 0;
	char names[NV_STACK + 1][32];
	size_t nl = 0;
	for (size_t q = 0; q < ntop; q++) {
		key_label(names[nl], sizeof names[nl], &top[q].k, 1);
		nl++;
	}
	snprintf(names[nl++], sizeof names[0], ntop ? "other" : "no ports (non-TCP/UDP)");
	font(cr, 8, 0);
	for (size_t q = 0; q < nl; q++) {
		lx[q] = 12 + text_w(cr, names[q]) + 14;
		total_w += lx[q];
	}
	double x = (left + right) / 2 - total_w / 2, ly = y1 + 40;
	for (size_t q = 0; q < nl; q++) {
		colour(cr, q < ntop ? palette[q] : grey);
		cairo_rectangle(cr, x, ly - 7, 8, 8);
		cairo_fill(cr);
		colour(cr, ink);
		text_at(cr, x + 12, ly, names[q], 0);
		x += lx[q];
	}
	free(stack);
	free(total);
}

/* One top-N panel: rows of rank, label and bar, then a numbered top-3
 * list with the full label, bytes, share and packets. */
/* "1) LABEL  -  STATS" of entry i of a top list (label and stats apart too). */
static void top_line(const struct topk *t, const struct tk_ent *e, size_t i, int port,
		     char *lab, size_t lablen, char *stats, size_t statslen, char *line,
		     size_t linelen)
{
	char s[64], s2[64], pk[32];
	key_label(lab, lablen, &e->k, port);
	fmt_bytes(s, sizeof s, (double)e->count);
	fmt_pct(s2, sizeof s2, e->count, t->total);
	fmt_count(pk, sizeof pk, e->packets);
	snprintf(stats, statslen, "%s (%s), %s packet%s", s, s2, pk, e->packets == 1 ? "" : "s");
	snprintf(line, linelen, "%zu) %s  \xe2\x80\x93  %s", i + 1, lab, stats);
}

/* One top-N panel in the box (x, y) - (x + w, y + h): rows of rank, label
 * and bar, then a numbered top-3 list with the full label, bytes, share and
 * packets (on two lines when one is too narrow, e.g. for IPv6 addresses);
 * fewer bar rows when the list needs the room. */
static void draw_top(cairo_t *cr, const struct topk *t, const char *title, int port, double x,
		     double y, double w, double h)
{
	char lab[128], s[64], line[400];
	struct tk_ent top[NV_TOP_ROWS];
	size_t n = topk_top(t, top, NV_TOP_ROWS);
	colour(cr, ink);
	font(cr, 10.5, 1);
	text_at(cr, x, y, title, 0);
	double tw = text_w(cr, title);
	font(cr, 8, 0);
	colour(cr, soft);
	const char *sub = port ? "by bytes; % of TCP/UDP bytes" : "by bytes; % of IP bytes";
	if (tw + 6 + text_w(cr, sub) > w)
		sub = "by bytes";
	text_at(cr, x + tw + 6, y, sub, 0);
	y += 8;
	if (!n) {
		font(cr, 9, 0);
		colour(cr, soft);
		text_at(cr, x, y + 14, port ? "no TCP or UDP packets" : "no IP packets", 0);
		return;
	}
	const double row = 11.5, line_h = 11.5;
	double list_h = 0;
	font(cr, 8.5, 0);
	for (size_t i = 0; i < n && i < 3; i++) {
		char stats[200];
		top_line(t, &top[i], i, port, lab, sizeof lab, stats, sizeof stats, line, sizeof line);
		list_h += text_w(cr, line) <= w ? line_h : 2 * line_h;
	}
	double room = h - 8 - 14 - list_h;
	if (room < row * (double)n)
		n = room > row ? (size_t)(room / row) : 1;
	font(cr, 8, 0);
	double labw = 0;
	for (size_t i = 0; i < n; i++) {
		key_label(lab, sizeof lab, &top[i].k, port);
		double lw = text_w(cr, lab);
		if (lw > labw)
			labw = lw;
	}
	double numw = text_w(cr, "8.");
	if (labw > w * 0.45)
		labw = w * 0.45;
	double bx = x + numw + 4 + labw + 6;
	double pctw = text_w(cr, "100%") + 4;
	double bmax = x + w - pctw - bx;
	for (size_t i = 0; i < n; i++) {
		double ry = y + row * (double)(i + 1);
		snprintf(s, sizeof s, "%zu.", i + 1);
		colour(cr, soft);
		text_at(cr, x + numw, ry, s, 2);
		key_label(lab, sizeof lab, &top[i].k, port);
		fit_middle(cr, lab, sizeof lab, labw);
		colour(cr, ink);
		text_at(cr, x + numw + 4, ry, lab, 0);
		double bl = top[0].count ? bmax * (double)top[i].count / (double)top[0].count : 0;
		if (bl < 0.8)
			bl = 0.8;
		colour(cr, bar_blue);
		cairo_rectangle(cr, bx, ry - 7.5, bl, 8.5);
		cairo_fill(cr);
		fmt_pct(s, sizeof s, top[i].count, t->total);
		colour(cr, soft);
		text_at(cr, bx + bl + 3, ry, s, 0);
	}
	y += row * (double)n + 14;
	font(cr, 8.5, 0);
	for (size_t i = 0; i < n && i < 3; i++) {
		char stats[200];
		top_line(t, &top[i], i, port, lab, sizeof lab, stats, sizeof stats, line,
			 sizeof line);
		colour(cr, ink);
		if (text_w(cr, line) <= w) {
			text_at(cr, x, y, line, 0);
			y += 11.5;
			continue;
		}
		/* too long (an IPv6 address): the numbers go on a line of their own */
		snprintf(line, sizeof line, "%zu) %s", i + 1, lab);
		fit(cr, line, sizeof line, w);
		text_at(cr, x, y, line, 0);
		y += 11.5;
		fit(cr, stats, sizeof stats, w - 12);
		text_at(cr, x + 12, y, stats, 0);
		y += 11.5;
	}
}

static void draw_page(cairo_t *cr, const struct nv *v, struct tf_ctx *ctx)
{
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	double y = MARGIN + 12;
	draw_header(cr, v, ctx, &y);
	draw_bandwidth(cr, v, y, y + 240);
	y += 258;
	double colw = (PAGE_W - 2 * MARGIN - 24) / 2;
	double x2 = MARGIN + colw + 24;
	const double panel_h = 182;        /* two rows end at most at PAGE_H - 30 */
	draw_top(cr, &v->src, "Top source addresses", 0, MARGIN, y, colw, panel_h - 12);
	draw_top(cr, &v->dst, "Top destination addresses", 0, x2, y, colw, panel_h - 12);
	y += panel_h;
	draw_top(cr, &v->sport, "Top source ports", 1, MARGIN, y, colw, panel_h - 12);
	draw_top(cr, &v->dport, "Top destination ports", 1, x2, y, colw, panel_h - 12);
}

/* ---- output ------------------------------------------------------------------------------ */

struct sink {
	struct tf_ctx *ctx;
	struct tf_file *f;
	int failed;
};

static cairo_status_t sink_write(void *closure, const unsigned char *data, unsigned int len)
{
	struct sink *s = closure;
	if (s->failed || host->file_write(s->ctx, s->f, data, len) < 0) {
		s->failed = 1;
		return CAIRO_STATUS_WRITE_ERROR;
	}
	return CAIRO_STATUS_SUCCESS;
}

static void write_page(struct nv *v, struct tf_ctx *ctx, unsigned fmt)
{
	const char *name = fmt == FMT_PDF ? "report.pdf" : fmt == FMT_PNG ? "report.png"
			   : "report.svg";
	struct sink s = { ctx, host->file_open(ctx, NULL, name), 0 };
	if (!s.f)
		return;                    /* the host said why */
	cairo_surface_t *surf;
	if (fmt == FMT_PDF) {
		surf = cairo_pdf_surface_create_for_stream(sink_write, &s, PAGE_W, PAGE_H);
#if CAIRO_VERSION >= CAIRO_VERSION_ENCODE(1, 16, 0)
		cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_TITLE,
					       "tcpflow network summary");
		cairo_pdf_surface_set_metadata(surf, CAIRO_PDF_METADATA_CREATOR, "tcpflow netviz");
#endif
	} else if (fmt == FMT_SVG) {
		surf = cairo_svg_surface_create_for_stream(sink_write, &s, PAGE_W, PAGE_H);
	} else {
		surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(PAGE_W * 2),
						  (int)(PAGE_H * 2));
	}
	cairo_t *cr = cairo_create(surf);
	if (fmt == FMT_PNG)
		cairo_scale(cr, 2, 2);    /* 144 dpi */
	draw_page(cr, v, ctx);
	cairo_status_t st = cairo_status(cr);
	cairo_show_page(cr);
	cairo_destroy(cr);
	if (fmt == FMT_PNG && st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_write_to_png_stream(surf, sink_write, &s);
	cairo_surface_finish(surf);
	if (st == CAIRO_STATUS_SUCCESS)
		st = cairo_surface_status(surf);
	cairo_surface_destroy(surf);
	if (st != CAIRO_STATUS_SUCCESS || s.failed)
		tf_logf(host, ctx, TF_LOG_WARN, "%s: %s", name,
			s.failed ? "write failed" : cairo_status_to_string(st));
	host->file_close(ctx, s.f);
	host->report_start(ctx, NULL, "netviz");
	host->report_attr(ctx, NULL, "format", fmt == FMT_PDF ? "pdf" : fmt == FMT_PNG ? "png"
					       : "svg");
	host->report_attr(ctx, NULL, "file", name);
	host->report_end(ctx, NULL);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static int parse_formats(struct tf_ctx *ctx, const char *val, unsigned *out)
{
	*out = 0;
	for (const char *p = val ? val : ""; *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t n = strcspn(p, ", ");
		if (!n)
			break;
		if (n == 3 && !strncmp(p, "pdf", 3))
			*out |= FMT_PDF;
		else if (n == 3 && !strncmp(p, "png", 3))
			*out |= FMT_PNG;
		else if (n == 3 && !strncmp(p, "svg", 3))
			*out |= FMT_SVG;
		else {
			tf_logf(host, ctx, TF_LOG_ERROR, "netviz_format: '%.*s' is not pdf, png "
				"or svg", (int)n, p);
			return -EINVAL;
		}
		p += n;
	}
	if (!*out) {
		tf_logf(host, ctx, TF_LOG_ERROR, "netviz_format: empty (pdf, png or svg)");
		return -EINVAL;
	}
	return 0;
}

/* In a build with AddressSanitizer, free what cairo and fontconfig keep
 * for the life of the process (font caches, fontconfig's parsed
 * configuration), so the leak check at exit sees only real leaks. Not in
 * normal builds: both calls act on process-wide state. fontconfig is
 * cairo's dependency, not linked here: FcFini is looked up. */
#if defined(__SANITIZE_ADDRESS__)
#define NV_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NV_LEAK_CHECKED 1
#endif
#endif

static void release_font_caches(void)
{
#ifdef NV_LEAK_CHECKED
	cairo_debug_reset_static_data();
	void *fc = dlopen("libfontconfig.so.1", RTLD_NOW | RTLD_LOCAL);
	if (fc) {
		void (*fini)(void) = NULL;
		void *sym = dlsym(fc, "FcFini");
		if (sym) {
			memcpy(&fini, &sym, sizeof fini);
			fini();
		}
		dlclose(fc);
	}
#endif
}

static void nv_free(struct nv *v)
{
	if (!v)
		return;
	free(v->bins);
	free(v->spare);
	topk_free(&v->src);
	topk_free(&v->dst);
	topk_free(&v->sport);
	topk_free(&v->dport);
	topk_free(&v->svc);
	free(v);
}

static int nv_init(struct tf_ctx *ctx, void **state)
{
	struct nv *v = calloc(1, sizeof *v);
	if (!v) {
		tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	int rc = parse_formats(ctx, host->get_param(ctx, "netviz_format"), &v->formats);
	if (rc < 0) {
		free(v);
		return rc;
	}
	const char *hs = host->get_param(ctx, "netviz_histogram_size");
	char *end = NULL;
	unsigned long long size = hs ? strtoull(hs, &end, 10) : 0;
	if (!hs || !*hs || *end || size < 10 || size > 10000000ULL) {
		tf_logf(host, ctx, TF_LOG_ERROR, "netviz_histogram_size: '%s' is not a number "
			"from 10 to 10000000", hs ? hs : "");
		free(v);
		return -EINVAL;
	}
	v->bins = calloc(NV_BINS, sizeof *v->bins);
	v->spare = calloc(NV_BINS, sizeof *v->spare);
	if (!v->bins || !v->spare || topk_init(&v->src, (size_t)size) < 0 ||
	    topk_init(&v->dst, (size_t)size) < 0 || topk_init(&v->sport, (size_t)size) < 0 ||
	    topk_init(&v->dport, (size_t)size) < 0 || topk_init(&v->svc, (size_t)size) < 0) {
		nv_free(v);
		tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	if (TF_HAS(host, struct tf_host, files_later))
		host->files_later(ctx);   /* reads no file of this run */
	*state = v;
	return 0;
}

static void nv_shutdown(struct tf_ctx *ctx, void *state)
{
	struct nv *v = state;
	if (!v)
		return;
	if (v->formats & FMT_PDF)
		write_page(v, ctx, FMT_PDF);
	if (v->formats & FMT_PNG)
		write_page(v, ctx, FMT_PNG);
	if (v->formats & FMT_SVG)
		write_page(v, ctx, FMT_SVG);
	nv_free(v);
	release_font_caches();
}

static const struct tf_scanner nv_scanner = {
	.size = sizeof(struct tf_scanner),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.name = "netviz",
	.version = "1.0",
	.description = "one-page picture of the capture (report.pdf; netviz_format=png|svg): "
		       "bandwidth over time by port, top addresses and ports",
	.params = nv_params,
	.init = nv_init,
	.shutdown = nv_shutdown,
	.on_packet = nv_packet,
};

TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *h)
{
	if (!h || h->abi_major != TF_ABI_MAJOR)
		return NULL;
	host = h;
	return &nv_scanner;
}
