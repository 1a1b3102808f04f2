/* Hashing on a background thread for the md5 scanner.
 *
 * Digesting a big flow costs more than everything else tcpflow does with its
 * bytes (MD5 runs at about 0.5 GB/s a core), and the packet loop calls
 * scanners on one thread. Bytes handed to the hasher are copied into a
 * chunk shared by all streams, in the order they come; one background
 * thread digests full chunks, so each stream's bytes are digested in order
 * while the packet loop goes on. Memory is at most max_queued + 1 chunks
 * (plus a few spares), however many streams there are.
 *
 * A stream's digest state belongs to the hasher function from its first
 * hasher_add until hasher_wait returns; the function runs on the background
 * thread, one piece at a time. Only one thread may call hasher_add and
 * hasher_wait. */
#ifndef TCPFLOW_MD5_HASHER_H
#define TCPFLOW_MD5_HASHER_H

#include <stddef.h>
#include <stdint.h>

/* Digest len bytes at p into arg's state (len zero bytes when p is NULL):
 * 0, or -1 on a digest error. */
typedef int (*hasher_fn)(void *arg, const uint8_t *p, size_t len);

/* One stream (a flow direction). Zero it before first use; `arg` is what
 * the hasher function gets for its bytes. */
struct hasher_stream {
	void *arg;
	uint64_t added;              /* pieces handed over (caller's thread only) */
	uint64_t digested;           /* pieces done (under the hasher's lock) */
	uint64_t chunk;              /* number of the chunk holding its last piece */
	int failed;                  /* the function failed on a piece */
};

/* Chunks of chunk_size bytes; at most max_queued wait for the thread (the
 * caller waits beyond that). NULL without memory or a thread. */
struct hasher *hasher_new(hasher_fn fn, size_t chunk_size, unsigned max_queued);

/* Hand len bytes of s to the thread (copied); returns how many it took.
 * Fewer than len only without memory: s then has nothing pending, and the
 * caller digests the rest itself. */
size_t hasher_add(struct hasher *h, struct hasher_stream *s, const uint8_t *p, size_t len);

/* Hand len zero bytes of s to the thread (a hole in a flow), after the
 * bytes handed over before: 0, or -1 without memory (the caller waits for
 * s and digests them itself). */
int hasher_add_zeros(struct hasher *h, struct hasher_stream *s, uint64_t len);

/* Wait until every byte handed over for s is digested. 0, or -1 when the
 * function failed on one of them. */
int hasher_wait(struct hasher *h, struct hasher_stream *s);

/* Chunks handed over and not yet digested: how far behind the thread is. */
unsigned hasher_backlog(struct hasher *h);

/* Stop the thread (after the chunks queued) and free everything. */
void hasher_free(struct hasher *h);

#endif
