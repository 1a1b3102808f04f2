/* Reading the ordinary records of an uncompressed pcap file in place (see
 * pcapmap.h). The whole file is mapped once; pages are brought in a window
 * ahead of the reader (MADV_POPULATE_READ: one call instead of a page fault
 * per 64 KiB) and released behind it (MADV_DONTNEED: the page cache keeps
 * them, our resident set does not), so memory stays at about two windows
 * whatever the file size. */
#include "pcapmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PCAPMAP_HEADER_LEN 24u
#define PCAPMAP_RECORD_LEN 16u
#define PCAPMAP_WINDOW     (4u * 1024u * 1024u)
/* libpcap's usual largest snapshot (MAXIMUM_SNAPLEN); larger records go to
 * libpcap, which knows the per-link-type exceptions. */
#define PCAPMAP_MAX_CAPLEN 262144u

struct pcapmap {
	const uint8_t *base;
	uint64_t size;          /* bytes mapped */
	uint64_t off;           /* next record */
	uint64_t ready;         /* populated up to here */
	uint64_t released;      /* released below here */
	uint32_t max_caplen;
	uint32_t frac_limit;    /* 10^6 (microseconds) or 10^9 (nanoseconds) */
	int swapped;            /* file byte order is not ours */
	int nano;
	int dlt;
	int stopped;            /* a record or the mapping was refused: stay stopped */
};

static uint32_t rd32(const uint8_t *b, int swapped)
{
	uint32_t v;

	memcpy(&v, b, 4);
	return swapped ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const uint8_t *b, int swapped)
{
	uint16_t v;

	memcpy(&v, b, 2);
	return swapped ? __builtin_bswap16(v) : v;
}

struct pcapmap *pcapmap_open(int fd, uint64_t size, uint32_t snapshot, int dlt)
{
	struct pcapmap *m;
	const uint8_t *base;
	uint32_t magic;
	int swapped, nano;

	if (size <= PCAPMAP_HEADER_LEN || size > (uint64_t)SIZE_MAX)
		return NULL;
	base = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED)
		return NULL;
	magic = rd32(base, 0);
	swapped = magic == 0xD4C3B2A1u || magic == 0x4D3CB2A1u;
	nano = magic == 0xA1B23C4Du || magic == 0x4D3CB2A1u;
	if ((!swapped && magic != 0xA1B2C3D4u && magic != 0xA1B23C4Du) ||
	    rd16(base + 4, swapped) != 2 || rd16(base + 6, swapped) != 4) {
		munmap((void *)base, (size_t)size);
		return NULL;
	}
	m = calloc(1, sizeof *m);
	if (!m) {
		munmap((void *)base, (size_t)size);
		return NULL;
	}
	m->base = base;
	m->size = size;
	m->off = m->ready = m->released = PCAPMAP_HEADER_LEN;
	m->max_caplen = snapshot < PCAPMAP_MAX_CAPLEN ? snapshot : PCAPMAP_MAX_CAPLEN;
	m->swapped = swapped;
	m->nano = nano;
	m->frac_limit = nano ? 1000000000u : 1000000u;
	m->dlt = dlt;
	madvise((void *)base, (size_t)size, MADV_SEQUENTIAL);
	return m;
}

/* Make [m->off, end) resident ahead of the reader and let go of what lies
 * a window behind it. 0, or -1 when the pages cannot be had (the file was
 * cut short under us): the rest goes to libpcap, which reports it. */
static int pcapmap_window(struct pcapmap *m, uint64_t end)
{
	const uint64_t page = 4096;

	if (end > m->ready) {
		uint64_t from = m->ready & ~(page - 1);
		uint64_t to = end + PCAPMAP_WINDOW;

		if (to > m->size)
			to = m->size;
#ifdef MADV_POPULATE_READ
		if (madvise((void *)(m->base + from), (size_t)(to - from), MADV_POPULATE_READ) != 0 &&
		    errno != EINVAL)
			return -1;
#endif
		m->ready = to;
	}
	if (m->off > m->released + 2 * (uint64_t)PCAPMAP_WINDOW) {
		uint64_t to = (m->off - PCAPMAP_WINDOW) & ~(page - 1);
		uint64_t from = m->released & ~(page - 1);

		madvise((void *)(m->base + from), (size_t)(to - from), MADV_DONTNEED);
		m->released = to;
	}
	return 0;
}

int pcapmap_next(struct pcapmap *m, struct pkt *p)
{
	const uint8_t *r;
	uint32_t sec, frac, caplen;

	if (m->stopped || m->size - m->off < PCAPMAP_RECORD_LEN)
		return 0;
	if (pcapmap_window(m, m->off + PCAPMAP_RECORD_LEN) < 0)
		goto stop;
	r = m->base + m->off;
	sec = rd32(r, m->swapped);
	frac = rd32(r + 4, m->swapped);
	caplen = rd32(r + 8, m->swapped);
	if (frac >= m->frac_limit || caplen > m->max_caplen ||
	    caplen > m->size - m->off - PCAPMAP_RECORD_LEN)
		goto stop;
	if (pcapmap_window(m, m->off + PCAPMAP_RECORD_LEN + caplen) < 0)
		goto stop;
	p->ts_sec = sec;
	p->ts_usec = m->nano ? frac / 1000u : frac;
	p->caplen = caplen;
	p->wirelen = rd32(r + 12, m->swapped);
	p->frame = r + PCAPMAP_RECORD_LEN;
	p->dlt = m->dlt;
	m->off += PCAPMAP_RECORD_LEN + caplen;
	return 1;
stop:
	m->stopped = 1;
	return 0;
}

uint64_t pcapmap_offset(const struct pcapmap *m)
{
	return m->off;
}

void pcapmap_close(struct pcapmap *m)
{
	if (!m)
		return;
	munmap((void *)m->base, (size_t)m->size);
	free(m);
}
