/* Reading the ordinary records of an uncompressed pcap file in place (see
 * pcapmap.h). The whole file is mapped once; pages are brought in a window
 * ahead of the reader (MADV_POPULATE_READ: one call instead of a page fault
 * per 64 KiB) and released behind it (MADV_DONTNEED: the page cache keeps
 * them, our resident set does not), so memory stays at about two windows
 * whatever the file size.
 *
 * Mapping the pages in is a quarter of the packet loop's time on a big
 * capture with nothing else to do, so for a file of more than a few windows a
 * thread of its own does it (and the releasing), a window or two ahead of the
 * reader; the reader maps in what it needs itself only when that thread is
 * behind (or failed: the reader then meets the failure itself). */
#include "pcapmap.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define PCAPMAP_HEADER_LEN 24u
#define PCAPMAP_RECORD_LEN 16u
#define PCAPMAP_WINDOW     (4u * 1024u * 1024u)
/* the thread keeps this many windows mapped in ahead of the reader */
#define PCAPMAP_AHEAD      3u
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
	/* the page-in thread, when there is one */
	int has_thread;
	uint64_t told;          /* window of off the thread was last told about */
	pthread_t thread;
	pthread_mutex_t lock;   /* what follows */
	pthread_cond_t wake;    /* the reader moved on, or quit */
	uint64_t want;          /* map in up to here */
	uint64_t reader;        /* the reader's offset (release behind it) */
	uint64_t ahead;         /* mapped in by the thread up to here */
	int quit;
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

static const uint64_t page_size = 4096;

/* Map in [from, to) now. 0, or -1 when the pages cannot be had. */
static int populate(const struct pcapmap *m, uint64_t from, uint64_t to)
{
#ifdef MADV_POPULATE_READ
	from &= ~(page_size - 1);
	if (to > from &&
	    madvise((void *)(m->base + from), (size_t)(to - from), MADV_POPULATE_READ) != 0 &&
	    errno != EINVAL)
		return -1;
#else
	(void)m;
	(void)from;
	(void)to;
#endif
	return 0;
}

/* Let go of [from, to) (page-aligned down). */
static void release(const struct pcapmap *m, uint64_t from, uint64_t to)
{
	from &= ~(page_size - 1);
	to &= ~(page_size - 1);
	if (to > from)
		madvise((void *)(m->base + from), (size_t)(to - from), MADV_DONTNEED);
}

static void *pcapmap_main(void *arg)
{
	struct pcapmap *m = arg;
	uint64_t released = PCAPMAP_HEADER_LEN;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (!m->quit && m->ahead >= m->want)
			pthread_cond_wait(&m->wake, &m->lock);
		if (m->quit)
			break;
		uint64_t from = m->ahead, to = m->want, reader = m->reader;
		pthread_mutex_unlock(&m->lock);
		/* a window at a time, so the reader sees progress early */
		int failed = 0;
		uint64_t done = from;
		while (done < to && !failed) {
			uint64_t next = done + PCAPMAP_WINDOW < to ? done + PCAPMAP_WINDOW : to;
			failed = populate(m, done, next) < 0;
			if (!failed) {
				done = next;
				pthread_mutex_lock(&m->lock);
				m->ahead = done;
				pthread_mutex_unlock(&m->lock);
			}
		}
		if (reader > released + 2 * (uint64_t)PCAPMAP_WINDOW) {
			release(m, released, reader - PCAPMAP_WINDOW);
			released = (reader - PCAPMAP_WINDOW) & ~(page_size - 1);
		}
		pthread_mutex_lock(&m->lock);
		if (failed)
			break;          /* the reader meets it when it maps in itself */
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Start the page-in thread for a file of more than a few windows (for a
 * small one it would cost more than it saves). Without it, the reader does
 * everything itself. */
static void pcapmap_start_thread(struct pcapmap *m)
{
	sigset_t all, old;

	if (m->size < 4 * (uint64_t)PCAPMAP_WINDOW)
		return;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	m->ahead = m->reader = PCAPMAP_HEADER_LEN;
	m->want = m->size < PCAPMAP_AHEAD * (uint64_t)PCAPMAP_WINDOW ? m->size
		: PCAPMAP_AHEAD * (uint64_t)PCAPMAP_WINDOW;
	/* signals stay with the packet loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	m->has_thread = pthread_create(&m->thread, NULL, pcapmap_main, m) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->has_thread) {
		pthread_cond_destroy(&m->wake);
		pthread_mutex_destroy(&m->lock);
	}
}

/* The reader entered another window: tell the thread how far to go, and
 * learn how far it got. */
static void pcapmap_tell(struct pcapmap *m)
{
	uint64_t w = m->off / PCAPMAP_WINDOW;

	if (w == m->told)
		return;
	m->told = w;
	uint64_t want = (w + 1 + PCAPMAP_AHEAD) * (uint64_t)PCAPMAP_WINDOW;
	pthread_mutex_lock(&m->lock);
	m->reader = m->off;
	m->want = want < m->size ? want : m->size;
	if (m->ahead > m->ready)
		m->ready = m->ahead;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
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
	pcapmap_start_thread(m);
	return m;
}

/* Make [m->off, end) resident ahead of the reader and let go of what lies
 * a window behind it. 0, or -1 when the pages cannot be had (the file was
 * cut short under us): the rest goes to libpcap, which reports it. */
static int pcapmap_window(struct pcapmap *m, uint64_t end)
{
	if (m->has_thread) {
		pcapmap_tell(m);
		if (end > m->ready) {
			/* the thread is behind: learn where it is, map in the rest here */
			pthread_mutex_lock(&m->lock);
			if (m->ahead > m->ready)
				m->ready = m->ahead;
			pthread_mutex_unlock(&m->lock);
		}
	}
	if (end > m->ready) {
		uint64_t to = end + PCAPMAP_WINDOW;

		if (to > m->size)
			to = m->size;
		if (populate(m, m->ready, to) < 0)
			return -1;
		m->ready = to;
	}
	if (!m->has_thread && m->off > m->released + 2 * (uint64_t)PCAPMAP_WINDOW) {
		uint64_t to = (m->off - PCAPMAP_WINDOW) & ~(page_size - 1);

		release(m, m->released, to);
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
	if (m->has_thread) {
		pthread_mutex_lock(&m->lock);
		m->quit = 1;
		pthread_cond_signal(&m->wake);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
		pthread_cond_destroy(&m->wake);
		pthread_mutex_destroy(&m->lock);
	}
	munmap((void *)m->base, (size_t)m->size);
	free(m);
}
