/* IP fragment reassembly (RFC 791 section 3.2, RFC 8200 section 4.5). */
#include "defrag.h"

#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* A datagram held in this many separate pieces is an attack or a mess. */
#define DEFRAG_MAX_RANGES 128

/* Largest IP packet: total length (IPv4) or 40 + payload length (IPv6). */
#define IP_MAX_TOTAL 65535u

struct frag_range {
	uint32_t start, end;          /* [start, end) of the payload, held */
};

struct dgram {
	struct dgram *hnext;          /* hash chain */
	struct dgram *older, *newer;  /* age list, oldest first */
	uint32_t hash;
	/* key */
	uint8_t family;
	uint8_t proto;                /* IPv4: part of the key */
	uint32_t id;
	uint32_t zone;
	uint8_t src[16], dst[16];
	/* state */
	int64_t first_ts;             /* capture time of the first fragment */
	uint8_t *hdr;                 /* the offset-0 fragment's header, or NULL */
	uint32_t hdr_len;
	uint8_t first_proto;          /* IPv6: next header of the offset-0 fragment */
	uint8_t *buf;                 /* payload bytes by offset */
	uint32_t cap;
	int have_last;
	uint32_t total;               /* payload length, once the last fragment came */
	struct frag_range *ranges;    /* sorted, disjoint, never adjacent */
	size_t nranges, rcap;
	uint64_t mem;                 /* what this datagram counts against max_bytes */
};

struct defrag {
	struct defrag_config cfg;
	struct dgram **buckets;
	size_t nbuckets;              /* a power of two */
	struct dgram *oldest, *newest;
	size_t count;
	uint64_t mem;
	uint8_t **done;               /* completed datagrams not yet released */
	size_t ndone, done_cap;
};

struct defrag *defrag_new(const struct defrag_config *cfg)
{
	struct defrag *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->cfg = *cfg;
	size_t n = 64;
	while (n < d->cfg.max_datagrams && n < (1u << 16))
		n <<= 1;
	d->buckets = calloc(n, sizeof *d->buckets);
	if (!d->buckets) {
		free(d);
		return NULL;
	}
	d->nbuckets = n;
	return d;
}

/* FNV-1a over the key. */
static uint32_t key_hash(const struct ip_fragment *f)
{
	uint32_t h = 2166136261u;
	size_t alen = f->family == 4 ? 4 : 16;
#define MIX(b) do { h ^= (uint8_t)(b); h *= 16777619u; } while (0)
	MIX(f->family);
	MIX(f->family == 4 ? f->proto : 0);
	for (int i = 0; i < 4; i++)
		MIX(f->id >> (8 * i));
	for (int i = 0; i < 4; i++)
		MIX(f->zone >> (8 * i));
	for (size_t i = 0; i < alen; i++)
		MIX(f->src.bytes[i]);
	for (size_t i = 0; i < alen; i++)
		MIX(f->dst.bytes[i]);
#undef MIX
	return h;
}

static int key_equal(const struct dgram *g, const struct ip_fragment *f, uint32_t hash)
{
	size_t alen = f->family == 4 ? 4 : 16;
	return g->hash == hash && g->family == f->family && g->id == f->id &&
	       g->zone == f->zone && (f->family != 4 || g->proto == f->proto) &&
	       !memcmp(g->src, f->src.bytes, alen) && !memcmp(g->dst, f->dst.bytes, alen);
}

static struct dgram *lookup(const struct defrag *d, const struct ip_fragment *f, uint32_t hash)
{
	for (struct dgram *g = d->buckets[hash & (d->nbuckets - 1)]; g; g = g->hnext)
		if (key_equal(g, f, hash))
			return g;
	return NULL;
}

/* Unlink and free one datagram. */
static void drop(struct defrag *d, struct dgram *g)
{
	struct dgram **pp = &d->buckets[g->hash & (d->nbuckets - 1)];
	while (*pp && *pp != g)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = g->hnext;
	if (g->older)
		g->older->newer = g->newer;
	else
		d->oldest = g->newer;
	if (g->newer)
		g->newer->older = g->older;
	else
		d->newest = g->older;
	d->count--;
	d->mem -= g->mem;
	free(g->hdr);
	free(g->buf);
	free(g->ranges);
	free(g);
}

void defrag_expire(struct defrag *d, int64_t now)
{
	while (d->oldest && now - d->oldest->first_ts > d->cfg.timeout) {
		tf_stats.frag_timeouts++;
		drop(d, d->oldest);
	}
}

/* Make room for `more` bytes (and, when `adding`, one more datagram) by
 * dropping the oldest datagrams other than keep. 0 when it fits. */
static int make_room(struct defrag *d, uint64_t more, int adding, const struct dgram *keep)
{
	for (;;) {
		int over_bytes = d->mem + more > d->cfg.max_bytes;
		int over_count = adding && d->count + 1 > d->cfg.max_datagrams;
		if (!over_bytes && !over_count)
			return 0;
		struct dgram *victim = d->oldest;
		if (victim && victim == keep)
			victim = victim->newer;
		if (!victim)
			return -1;
		tf_stats.frag_evicted++;
		drop(d, victim);
	}
}

static struct dgram *create(struct defrag *d, const struct ip_fragment *f, uint32_t hash,
			    int64_t now)
{
	if (make_room(d, sizeof(struct dgram), 1, NULL) < 0)
		return NULL;
	struct dgram *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->hash = hash;
	g->family = f->family;
	g->proto = f->family == 4 ? f->proto : 0;
	g->id = f->id;
	g->zone = f->zone;
	memcpy(g->src, f->src.bytes, f->family == 4 ? 4 : 16);
	memcpy(g->dst, f->dst.bytes, f->family == 4 ? 4 : 16);
	g->first_ts = now;
	g->mem = sizeof *g;
	size_t b = hash & (d->nbuckets - 1);
	g->hnext = d->buckets[b];
	d->buckets[b] = g;
	g->older = d->newest;
	if (d->newest)
		d->newest->newer = g;
	else
		d->oldest = g;
	d->newest = g;
	d->count++;
	d->mem += g->mem;
	TF_STATS_PEAK(peak_fragment_bytes, d->mem);
	return g;
}

/* Grow g's buffer to hold `end` payload bytes (within the memory cap). */
static int grow(struct defrag *d, struct dgram *g, uint32_t end)
{
	if (end <= g->cap)
		return 0;
	uint32_t ncap = g->cap ? g->cap * 2 : 2048;
	if (ncap < end)
		ncap = end;
	if (ncap > IP_MAX_TOTAL)
		ncap = IP_MAX_TOTAL;
	if (ncap < end)
		ncap = end;
	if (make_room(d, ncap - g->cap, 0, g) < 0)
		return -1;
	uint8_t *nb = realloc(g->buf, ncap);
	if (!nb)
		return -1;
	memset(nb + g->cap, 0, ncap - g->cap);
	g->buf = nb;
	g->mem += ncap - g->cap;
	d->mem += ncap - g->cap;
	TF_STATS_PEAK(peak_fragment_bytes, d->mem);
	g->cap = ncap;
	return 0;
}

/* Put [s, e) of data (bytes for the payload at s) where no bytes are held
 * yet. Sets *overlap / *conflict when some were held (differing). */
static void place(struct dgram *g, uint32_t s, uint32_t e, const uint8_t *data, int *overlap,
		  int *conflict)
{
	uint32_t pos = s;
	for (size_t i = 0; i < g->nranges && pos < e; i++) {
		const struct frag_range *r = &g->ranges[i];
		if (r->end <= pos)
			continue;
		if (r->start >= e)
			break;
		if (r->start > pos)
			memcpy(g->buf + pos, data + (pos - s), r->start - pos);
		uint32_t os = r->start > pos ? r->start : pos;
		uint32_t oe = r->end < e ? r->end : e;
		*overlap = 1;
		if (memcmp(g->buf + os, data + (os - s), oe - os) != 0)
			*conflict = 1;
		pos = oe;
	}
	if (pos < e)
		memcpy(g->buf + pos, data + (pos - s), e - pos);
}

/* Add [s, e) to the held ranges, merging. -1 when there would be too many. */
static int add_range(struct dgram *g, uint32_t s, uint32_t e)
{
	size_t i = 0;
	while (i < g->nranges && g->ranges[i].end < s)
		i++;
	size_t j = i;
	while (j < g->nranges && g->ranges[j].start <= e) {
		if (g->ranges[j].start < s)
			s = g->ranges[j].start;
		if (g->ranges[j].end > e)
			e = g->ranges[j].end;
		j++;
	}
	/* ranges [i, j) merge into one */
	if (i == j) {
		if (g->nranges >= DEFRAG_MAX_RANGES)
			return -1;
		if (g->nranges == g->rcap) {
			size_t nc = g->rcap ? g->rcap * 2 : 4;
			struct frag_range *nr = realloc(g->ranges, nc * sizeof *nr);
			if (!nr)
				return -1;
			g->ranges = nr;
			g->rcap = nc;
		}
		memmove(g->ranges + i + 1, g->ranges + i, (g->nranges - i) * sizeof *g->ranges);
		g->nranges++;
	} else if (j - i > 1) {
		memmove(g->ranges + i + 1, g->ranges + j, (g->nranges - j) * sizeof *g->ranges);
		g->nranges -= j - i - 1;
	}
	g->ranges[i].start = s;
	g->ranges[i].end = e;
	return 0;
}

static uint16_t ipv4_checksum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xFFFF) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Build the whole packet of a complete datagram; it goes to d->done. */
static int complete(struct defrag *d, struct dgram *g, struct l3_view *out)
{
	if (d->ndone == d->done_cap) {
		size_t nc = d->done_cap ? d->done_cap * 2 : 4;
		uint8_t **nd = realloc(d->done, nc * sizeof *nd);
		if (!nd)
			return -1;
		d->done = nd;
		d->done_cap = nc;
	}
	size_t extra = g->family == 6 ? 8 : 0;
	size_t n = g->hdr_len + extra + g->total;
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return -1;
	memcpy(b, g->hdr, g->hdr_len);
	if (g->family == 4) {
		/* RFC 791 section 3.2, reassembly: the first fragment's header,
		 * total length and fragment fields from the whole. */
		b[2] = (uint8_t)(n >> 8);
		b[3] = (uint8_t)n;
		b[6] = b[7] = 0;
		b[10] = b[11] = 0;
		uint16_t ck = ipv4_checksum(b, g->hdr_len);
		b[10] = (uint8_t)(ck >> 8);
		b[11] = (uint8_t)ck;
		out->ethertype = ETHERTYPE_IPV4;
	} else {
		/* RFC 8200 section 4.5: the unfragmentable part of the first
		 * fragment; the payload length from the whole. The Fragment
		 * header stays, as an atomic fragment (RFC 6946). */
		size_t plen = n - 40;
		b[4] = (uint8_t)(plen >> 8);
		b[5] = (uint8_t)plen;
		uint8_t *fh = b + g->hdr_len;
		fh[0] = g->first_proto;
		fh[1] = 0;
		fh[2] = fh[3] = 0;
		fh[4] = (uint8_t)(g->id >> 24);
		fh[5] = (uint8_t)(g->id >> 16);
		fh[6] = (uint8_t)(g->id >> 8);
		fh[7] = (uint8_t)g->id;
		out->ethertype = ETHERTYPE_IPV6;
	}
	if (g->total)
		memcpy(b + g->hdr_len + extra, g->buf, g->total);
	d->done[d->ndone++] = b;
	out->data = b;
	out->len = (uint32_t)n;
	tf_stats.frag_reassembled++;
	drop(d, g);
	return 1;
}

int defrag_add(struct defrag *d, const struct ip_fragment *f, int64_t now, struct l3_view *out)
{
	defrag_expire(d, now);
	if ((f->family != 4 && f->family != 6) || (f->family == 4 && f->hdr_len < 20) ||
	    (f->family == 6 && f->hdr_len < 40) || (!f->data && f->len)) {
		tf_stats.frag_invalid++;
		return -1;
	}
	/* The whole packet must fit its 16-bit length field: no "ping of death". */
	uint64_t end64 = (uint64_t)f->offset + f->len;
	uint64_t room = f->family == 4 ? IP_MAX_TOTAL - f->hdr_len :
		        IP_MAX_TOTAL - (f->hdr_len - 40) - 8;
	if (f->hdr_len > IP_MAX_TOTAL - 8 || end64 > room || (f->len == 0 && f->more)) {
		tf_stats.frag_invalid++;
		return -1;
	}
	uint32_t s = f->offset, e = (uint32_t)end64;

	uint32_t hash = key_hash(f);
	struct dgram *g = lookup(d, f, hash);
	if (!g) {
		g = create(d, f, hash, now);
		if (!g) {
			tf_stats.frag_evicted++;
			return -1;
		}
	}
	/* The first last fragment fixes the length; what contradicts it is dropped. */
	if (g->have_last && (e > g->total || (!f->more && e != g->total))) {
		tf_stats.frag_invalid++;
		return -1;
	}
	if (!f->more && g->nranges && g->ranges[g->nranges - 1].end > e) {
		tf_stats.frag_invalid++;
		return -1;
	}
	if (grow(d, g, e) < 0) {
		tf_stats.frag_evicted++;
		drop(d, g);
		return -1;
	}
	if (s == 0 && !g->hdr) {
		if (make_room(d, f->hdr_len, 0, g) < 0) {
			tf_stats.frag_evicted++;
			drop(d, g);
			return -1;
		}
		g->hdr = malloc(f->hdr_len);
		if (!g->hdr) {
			drop(d, g);
			return -1;
		}
		memcpy(g->hdr, f->hdr, f->hdr_len);
		g->hdr_len = f->hdr_len;
		g->first_proto = f->proto;
		g->mem += f->hdr_len;
		d->mem += f->hdr_len;
		TF_STATS_PEAK(peak_fragment_bytes, d->mem);
	}
	int overlap = 0, conflict = 0;
	if (e > s) {
		place(g, s, e, f->data, &overlap, &conflict);
		if (add_range(g, s, e) < 0) {
			tf_stats.frag_invalid++;
			drop(d, g);
			return -1;
		}
	}
	if (overlap)
		tf_stats.frag_overlaps++;
	if (conflict)
		tf_stats.frag_overlap_conflicts++;
	if (!f->more) {
		g->have_last = 1;
		g->total = e;
	}
	if (g->have_last && g->hdr &&
	    (g->total == 0 || (g->nranges == 1 && g->ranges[0].start == 0 &&
			       g->ranges[0].end == g->total))) {
		if (complete(d, g, out) < 0) {
			drop(d, g);
			return -1;
		}
		return 1;
	}
	return 0;
}

void defrag_release(struct defrag *d)
{
	for (size_t i = 0; i < d->ndone; i++)
		free(d->done[i]);
	d->ndone = 0;
}

size_t defrag_pending(const struct defrag *d)
{
	return d->count;
}

uint64_t defrag_bytes(const struct defrag *d)
{
	return d->mem;
}

void defrag_free(struct defrag *d)
{
	if (!d)
		return;
	tf_stats.frag_incomplete += d->count;
	while (d->oldest)
		drop(d, d->oldest);
	defrag_release(d);
	free(d->done);
	free(d->buckets);
	free(d);
}
