/* Side files: NAME.findx (-I) and NAME.pcap (-K). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "sidefiles.h"

#define READ_CHUNK (1u << 20)

struct shift_mark {
	uint64_t lines;           /* lines written before the shift */
	uint64_t shift;
};

struct flow_side {
	struct store_file findx;
	struct store_file pcap;
	uint8_t findx_made, pcap_made;
	uint8_t unsorted;         /* an entry went before the previous one */
	uint8_t named_flow;       /* the flow file was created for the side files */
	uint8_t closed;           /* the flow closed; the .pcap takes stragglers */
	int pcap_dlt;
	uint64_t last_off;
	uint64_t lines;
	struct shift_mark *shifts;
	size_t nshifts, shifts_cap;
};

struct sidefiles {
	struct store *store;
	int findx;
	int pcap;
	uint64_t skipped;
};

struct findx_entry {
	uint64_t off;
	int64_t sec;
	uint32_t usec;
	uint32_t len;
	uint64_t index;           /* order written: ties keep it */
};

struct sidefiles *sidefiles_new(struct store *store, int findx, int pcap)
{
	struct sidefiles *sf = calloc(1, sizeof *sf);
	if (!sf)
		return NULL;
	sf->store = store;
	sf->findx = findx;
	sf->pcap = pcap;
	return sf;
}

void sidefiles_free(struct sidefiles *sf)
{
	free(sf);
}

uint64_t sidefiles_skipped(const struct sidefiles *sf)
{
	return sf ? sf->skipped : 0;
}

static struct flow_side *side_of(struct tcp_flow *f)
{
	if (!f->side) {
		struct flow_side *fs = calloc(1, sizeof *fs);
		if (!fs)
			return NULL;
		store_file_init(&fs->findx);
		store_file_init(&fs->pcap);
		f->side = fs;
	}
	return f->side;
}

/* Create a side file once; 0 when it can be written. */
static int make(struct sidefiles *sf, struct tcp_flow *f, struct flow_side *fs,
		struct store_file *side, uint8_t *made, const char *suffix)
{
	if (*made)
		return side->failed ? -1 : 0;
	*made = 1;
	if (!f->file.path)
		fs->named_flow = 1;
	if (store_side_create(sf->store, &f->file, side, suffix) < 0) {
		side->failed = 1;
		return -1;
	}
	return 0;
}

void sidefiles_packet(struct sidefiles *sf, struct tcp_flow *f, const struct pkt *p)
{
	if (!sf || !sf->pcap)
		return;
	struct flow_side *fs = f->side;
	if (fs && fs->closed) {
		/* A last ACK or a retransmission after the flow closed. */
		if (!fs->pcap_made || !fs->pcap.path || fs->pcap.failed || p->dlt != fs->pcap_dlt)
			return;
		uint8_t rec[CAPTURE_PCAP_RECORD_LEN];
		capture_pcap_record(rec, p->ts_sec, p->ts_usec, p->caplen, p->wirelen);
		store_write(sf->store, &fs->pcap, fs->pcap.size, rec, sizeof rec);
		store_write(sf->store, &fs->pcap, fs->pcap.size, p->frame, p->caplen);
		store_file_close(sf->store, &fs->pcap);
		return;
	}
	if (!f->active || f->closed)
		return;
	fs = side_of(f);
	if (!fs)
		return;
	if (!fs->pcap_made) {
		if (make(sf, f, fs, &fs->pcap, &fs->pcap_made, SIDEFILES_PCAP) < 0)
			return;
		uint8_t hdr[CAPTURE_PCAP_HEADER_LEN];
		fs->pcap_dlt = p->dlt;
		capture_pcap_header(hdr, p->dlt, CAPTURE_WRITE_SNAPLEN);
		store_write(sf->store, &fs->pcap, 0, hdr, sizeof hdr);
	} else if (fs->pcap.failed) {
		return;
	}
	if (p->dlt != fs->pcap_dlt) {
		sf->skipped++;
		return;
	}
	uint8_t rec[CAPTURE_PCAP_RECORD_LEN];
	capture_pcap_record(rec, p->ts_sec, p->ts_usec, p->caplen, p->wirelen);
	store_write(sf->store, &fs->pcap, fs->pcap.size, rec, sizeof rec);
	store_write(sf->store, &fs->pcap, fs->pcap.size, p->frame, p->caplen);
}

static int format_entry(char *buf, size_t len, uint64_t off, int64_t sec, uint32_t usec,
			uint32_t n)
{
	return snprintf(buf, len, "%" PRIu64 "|%" PRId64 ".%06" PRIu32 "|%" PRIu32 "\n",
			off, sec, usec, n);
}

void sidefiles_stored(struct sidefiles *sf, struct tcp_flow *f, uint64_t off, uint32_t len,
		      int64_t sec, uint32_t usec)
{
	if (!sf || !sf->findx)
		return;
	struct flow_side *fs = side_of(f);
	if (!fs || make(sf, f, fs, &fs->findx, &fs->findx_made, SIDEFILES_FINDX) < 0)
		return;
	char line[96];
	int n = format_entry(line, sizeof line, off, sec, usec, len);
	if (fs->lines && off < fs->last_off)
		fs->unsorted = 1;
	fs->last_off = off;
	fs->lines++;
	store_write(sf->store, &fs->findx, fs->findx.size, (const uint8_t *)line, (uint32_t)n);
}

void sidefiles_shift(struct sidefiles *sf, struct tcp_flow *f, uint64_t shift)
{
	if (!sf || !sf->findx || !f->side)
		return;
	struct flow_side *fs = f->side;
	if (!fs->lines)
		return;   /* nothing written yet moves */
	if (fs->nshifts == fs->shifts_cap) {
		size_t cap = fs->shifts_cap ? fs->shifts_cap * 2 : 4;
		struct shift_mark *v = realloc(fs->shifts, cap * sizeof *v);
		if (!v) {
			fs->findx.failed = 1;   /* offsets would be wrong: stop */
			return;
		}
		fs->shifts = v;
		fs->shifts_cap = cap;
	}
	fs->shifts[fs->nshifts++] = (struct shift_mark){ fs->lines, shift };
	fs->unsorted = 1;
}

static int by_offset(const void *a, const void *b)
{
	const struct findx_entry *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Parse "off|sec.usec|len\n" lines. Returns the count, or -1. */
static long parse_entries(const char *text, size_t size, struct findx_entry *v, size_t max)
{
	size_t n = 0;
	const char *p = text, *end = text + size;
	while (p < end && n < max) {
		char *q;
		struct findx_entry e;
		e.off = strtoull(p, &q, 10);
		if (*q != '|')
			return -1;
		e.sec = strtoll(q + 1, &q, 10);
		if (*q != '.')
			return -1;
		e.usec = (uint32_t)strtoul(q + 1, &q, 10);
		if (*q != '|')
			return -1;
		e.len = (uint32_t)strtoul(q + 1, &q, 10);
		if (*q != '\n')
			return -1;
		e.index = n;
		v[n++] = e;
		p = q + 1;
	}
	return (long)n;
}

/* Rewrite the .findx with final offsets, sorted. Offsets only grow (shifts
 * move bytes later), so the new text is never shorter than the old. */
static void findx_sort(struct sidefiles *sf, struct flow_side *fs)
{
	struct store_file *x = &fs->findx;
	size_t size = (size_t)x->size;
	char *text = malloc(size + 1);
	struct findx_entry *v = calloc(fs->lines ? fs->lines : 1, sizeof *v);
	if (!text || !v)
		goto out;
	for (size_t done = 0; done < size;) {
		uint32_t n = size - done > READ_CHUNK ? READ_CHUNK : (uint32_t)(size - done);
		if (store_read(sf->store, x, done, (uint8_t *)text + done, n) < 0)
			goto out;
		done += n;
	}
	text[size] = '\0';
	long n = parse_entries(text, size, v, fs->lines);
	if (n < 0)
		goto out;
	/* Entries written before a shift move by it (and by every later one). */
	uint64_t add = 0;
	size_t k = fs->nshifts;
	for (long i = n - 1; i >= 0; i--) {
		while (k > 0 && fs->shifts[k - 1].lines > (uint64_t)i) {
			add += fs->shifts[k - 1].shift;
			k--;
		}
		v[i].off += add;
	}
	qsort(v, (size_t)n, sizeof *v, by_offset);
	char out[64 * 1024];
	size_t used = 0;
	uint64_t pos = 0;
	for (long i = 0; i < n; i++) {
		if (used + 96 > sizeof out) {
			store_write(sf->store, x, pos, (const uint8_t *)out, (uint32_t)used);
			pos += used;
			used = 0;
		}
		used += (size_t)format_entry(out + used, sizeof out - used, v[i].off, v[i].sec,
					     v[i].usec, v[i].len);
	}
	store_write(sf->store, x, pos, (const uint8_t *)out, (uint32_t)used);
out:
	free(text);
	free(v);
}

void sidefiles_flow_close(struct sidefiles *sf, struct tcp_flow *f)
{
	struct flow_side *fs = f->side;
	if (!fs || fs->closed)
		return;
	if (sf && fs->findx_made && fs->findx.path && !fs->findx.failed &&
	    (fs->unsorted || fs->nshifts))
		findx_sort(sf, fs);
	if (sf) {
		if (fs->findx_made)
			store_file_close(sf->store, &fs->findx);
		if (fs->pcap_made)
			store_file_close(sf->store, &fs->pcap);
	}
	store_file_release(&fs->findx);
	free(fs->shifts);
	fs->shifts = NULL;
	/* A direction without payload has no flow file; its name was only
	 * needed for the side files. */
	if (fs->named_flow && f->file.path && f->next_off == 0 && f->file.size == 0)
		unlink(f->file.path);
	/* The .pcap stays known (closed, no descriptor) for the last packets. */
	fs->closed = 1;
}

void sidefiles_flow_free(struct sidefiles *sf, struct tcp_flow *f)
{
	struct flow_side *fs = f->side;
	if (!fs)
		return;
	if (!fs->closed)
		sidefiles_flow_close(sf, f);
	f->side = NULL;
	store_file_release(&fs->pcap);
	free(fs);
}
