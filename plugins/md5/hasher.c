/* Hashing on a background thread for the md5 scanner (see hasher.h). */
#define _POSIX_C_SOURCE 200809L
#include "hasher.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Pieces per chunk: a piece is usually one packet's payload (1 to 1.5 KB),
 * so a 64 KiB chunk fills its data before its pieces. */
#define HASHER_PIECES 128

struct hasher_piece {
	struct hasher_stream *s;
	uint32_t off, len;
	int zeros;                   /* len zero bytes, not in the chunk's data */
};

struct hasher_chunk {
	struct hasher_chunk *next;
	size_t used;
	unsigned npieces;
	struct hasher_piece piece[HASHER_PIECES];
	uint8_t data[];
};

struct hasher {
	hasher_fn fn;
	size_t chunk_size;
	unsigned max_queued;
	struct hasher_chunk *fill;   /* being filled (caller's thread only) */
	uint64_t fill_no;            /* its number (caller's thread only) */
	pthread_t thread;
	pthread_mutex_t lock;        /* what follows, and every stream's digested */
	pthread_cond_t work;         /* a chunk was queued, or stop */
	pthread_cond_t done;         /* a chunk was digested */
	struct hasher_chunk *head, *tail;
	unsigned queued;             /* on the queue or being digested */
	struct hasher_chunk *spare;  /* digested chunks kept for reuse */
	unsigned nspare;
	int stop;
};

/* Digest chunk c's pieces, then count them done. A stream may be freed as
 * soon as its last piece is counted, so nothing touches a stream after the
 * lock is let go. */
static void digest_chunk(struct hasher *h, struct hasher_chunk *c)
{
	for (unsigned i = 0; i < c->npieces; i++) {
		struct hasher_piece *pc = &c->piece[i];
		if (!pc->s->failed &&
		    h->fn(pc->s->arg, pc->zeros ? NULL : c->data + pc->off, pc->len) < 0)
			pc->s->failed = 1;
	}
	pthread_mutex_lock(&h->lock);
	for (unsigned i = 0; i < c->npieces; i++)
		c->piece[i].s->digested++;
}

static void *hasher_main(void *arg)
{
	struct hasher *h = arg;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->head && !h->stop)
			pthread_cond_wait(&h->work, &h->lock);
		struct hasher_chunk *c = h->head;
		if (!c)
			break;                       /* stop, and nothing left */
		h->head = c->next;
		if (!h->head)
			h->tail = NULL;
		pthread_mutex_unlock(&h->lock);

		digest_chunk(h, c);              /* returns with the lock held */
		h->queued--;
		if (h->nspare < 4) {
			c->next = h->spare;
			h->spare = c;
			h->nspare++;
		} else {
			free(c);
		}
		pthread_cond_broadcast(&h->done);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct hasher *hasher_new(hasher_fn fn, size_t chunk_size, unsigned max_queued)
{
	struct hasher *h = calloc(1, sizeof *h);
	sigset_t all, old;

	if (!h || !fn || !chunk_size || chunk_size > UINT32_MAX || !max_queued) {
		free(h);
		return NULL;
	}
	h->fn = fn;
	h->chunk_size = chunk_size;
	h->max_queued = max_queued;
	h->fill_no = 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->work, NULL);
	pthread_cond_init(&h->done, NULL);
	/* every signal blocked: SIGINT, SIGTERM and SIGCHLD keep going to
	 * tcpflow's packet loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&h->thread, NULL, hasher_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&h->done);
		pthread_cond_destroy(&h->work);
		pthread_mutex_destroy(&h->lock);
		free(h);
		return NULL;
	}
	return h;
}

/* A chunk to fill, from the spares or new; NULL without memory. */
static struct hasher_chunk *chunk_get(struct hasher *h)
{
	struct hasher_chunk *c;

	pthread_mutex_lock(&h->lock);
	c = h->spare;
	if (c) {
		h->spare = c->next;
		h->nspare--;
	}
	pthread_mutex_unlock(&h->lock);
	if (!c && !(c = malloc(sizeof *c + h->chunk_size)))
		return NULL;
	c->used = 0;
	c->npieces = 0;
	return c;
}

unsigned hasher_backlog(struct hasher *h)
{
	pthread_mutex_lock(&h->lock);
	unsigned n = h->queued;
	pthread_mutex_unlock(&h->lock);
	return n + (h->fill && h->fill->used ? 1u : 0u);
}

/* Queue the fill chunk, waiting while max_queued chunks are queued. */
static void submit_fill(struct hasher *h)
{
	struct hasher_chunk *c = h->fill;

	h->fill = NULL;
	h->fill_no++;
	c->next = NULL;
	pthread_mutex_lock(&h->lock);
	while (h->queued >= h->max_queued)
		pthread_cond_wait(&h->done, &h->lock);
	if (h->tail)
		h->tail->next = c;
	else
		h->head = c;
	h->tail = c;
	h->queued++;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
}

size_t hasher_add(struct hasher *h, struct hasher_stream *s, const uint8_t *p, size_t len)
{
	size_t taken = 0;

	while (taken < len) {
		if (!h->fill && !(h->fill = chunk_get(h))) {
			/* no memory: what is handed over is digested, the rest by the caller */
			hasher_wait(h, s);
			break;
		}
		struct hasher_chunk *c = h->fill;
		size_t n = h->chunk_size - c->used;
		if (n > len - taken)
			n = len - taken;
		memcpy(c->data + c->used, p + taken, n);
		struct hasher_piece *last = c->npieces ? &c->piece[c->npieces - 1] : NULL;
		if (last && last->s == s && !last->zeros && last->off + last->len == c->used) {
			last->len += (uint32_t)n;        /* the same stream again: one piece */
		} else {
			c->piece[c->npieces++] = (struct hasher_piece){ s, (uint32_t)c->used,
									(uint32_t)n, 0 };
			s->added++;
		}
		s->chunk = h->fill_no;
		c->used += n;
		taken += n;
		if (c->used == h->chunk_size || c->npieces == HASHER_PIECES)
			submit_fill(h);
	}
	return taken;
}

int hasher_add_zeros(struct hasher *h, struct hasher_stream *s, uint64_t len)
{
	while (len) {
		if (!h->fill && !(h->fill = chunk_get(h)))
			return -1;
		uint32_t n = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
		h->fill->piece[h->fill->npieces++] = (struct hasher_piece){ s, 0, n, 1 };
		s->added++;
		s->chunk = h->fill_no;
		len -= n;
		if (h->fill->npieces == HASHER_PIECES)
			submit_fill(h);
	}
	return 0;
}

int hasher_wait(struct hasher *h, struct hasher_stream *s)
{
	if (!s->added)
		return s->failed ? -1 : 0;
	if (h->fill && s->chunk == h->fill_no)
		submit_fill(h);                  /* s has pieces in it */
	pthread_mutex_lock(&h->lock);
	while (s->digested != s->added)
		pthread_cond_wait(&h->done, &h->lock);
	int failed = s->failed;
	pthread_mutex_unlock(&h->lock);
	return failed ? -1 : 0;
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	/* pieces still being filled belong to streams nobody waits for */
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_signal(&h->work);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	free(h->fill);
	while (h->spare) {
		struct hasher_chunk *c = h->spare;
		h->spare = c->next;
		free(c);
	}
	pthread_cond_destroy(&h->done);
	pthread_cond_destroy(&h->work);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
