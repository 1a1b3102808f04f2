/* TCP reassembly, one direction of one connection at a time (RFC 9293
 * section 3.4 sequence numbers, compared modulo 2^32).
 *
 * Bytes are placed by sequence number into a stream whose offset 0 is the
 * byte after the SYN (or the lowest sequence number seen when the capture
 * starts mid-connection). In-order bytes go straight to the store;
 * out-of-order ones wait, copied, in a bounded per-flow queue. Where bytes
 * never arrive the stream keeps a hole (zeros on disk), recorded with its
 * offset and length. Overlapping data: the first copy wins, differing bytes
 * are counted as conflicts. */
#ifndef TCPFLOW_TCP_H
#define TCPFLOW_TCP_H

#include <stdint.h>
#include "packet.h"
#include "store.h"

struct tcp_seg;                /* queued out-of-order bytes */

struct tcp_hole {
	uint64_t off;
	uint64_t len;
};

/* One direction of a connection: a flow. */
struct tcp_flow {
	struct store_file file;
	uint8_t active;            /* has seen a packet */
	uint8_t syn_seen;
	uint8_t have_base;         /* next_seq is meaningful */
	uint8_t fin_seen;
	uint8_t closed;            /* finished: file closed, reported */
	uint32_t isn;              /* sequence number of the SYN */
	uint32_t next_seq;         /* sequence number of the byte at next_off */
	uint64_t next_off;         /* every byte before it is placed or a hole */
	uint64_t fin_off;          /* stream offset of the FIN */
	struct tcp_seg *ooo, *ooo_tail;  /* waiting bytes, sorted by offset */
	uint64_t ooo_bytes;
	struct tcp_hole *holes;    /* sorted by offset */
	uint32_t nholes, holes_cap;
	uint64_t packets;
	int64_t last_sec;
	uint32_t last_usec;
	uint64_t out_of_order_count;
	uint64_t violations;       /* overlap conflicts */
	uint64_t not_stored;       /* bytes past -b */
	void *side;                /* -I/-K side files of this flow (sidefiles.c), or NULL */
};

struct conn;
struct flowtable;

/* What happens to a flow, for the report and the scanners. Borrowed pointers. */
struct tcp_events {
	void *arg;
	/* contiguous in-order bytes at stream offset off */
	void (*data)(void *arg, struct conn *c, int dir, uint64_t off,
		     const uint8_t *bytes, uint32_t len);
	/* a hole declared at off (bytes that did not arrive in time) */
	void (*gap)(void *arg, struct conn *c, int dir, uint64_t off, uint64_t len);
	/* the flow is finished and its file closed; f->file.path/size are final */
	void (*flow_close)(void *arg, struct conn *c, int dir);
	/* a packet of flow direction dir: after its bytes are placed, and also
	 * for a direction already finished (last ACKs, retransmissions) while
	 * the connection is still in the table */
	void (*packet)(void *arg, struct conn *c, int dir, const struct pkt *p);
	/* len bytes were written to f's file at off (after -b), carried by a
	 * packet of capture time sec.usec */
	void (*stored)(void *arg, struct tcp_flow *f, uint64_t off, uint32_t len,
		       int64_t sec, uint32_t usec);
	/* everything stored so far in f moved shift bytes later (earlier bytes of
	 * a flow picked up mid-stream arrived) */
	void (*shift)(void *arg, struct tcp_flow *f, uint64_t shift);
	/* f goes away (its connection leaves the table, or -m restarts it):
	 * release what was kept for it after flow_close */
	void (*flow_free)(void *arg, struct tcp_flow *f);
};

struct tcp_config {
	uint64_t max_bytes;        /* -b: bytes stored per flow, 0 = all */
	uint64_t max_seq_jump;     /* -m: a jump further than this starts a new file */
	uint64_t reorder_flow_cap; /* out-of-order bytes waiting per flow */
	uint64_t reorder_total_cap;/* ... and across all flows */
	int64_t tcp_timeout;       /* seconds of capture-time idleness, 0 = none */
	int64_t linger;            /* seconds a finished connection absorbs stragglers */
	int no_new;                /* -R: packets of connections not open are ignored */
};

struct tcp_ctx {
	struct tcp_config cfg;
	struct flowtable *ft;
	struct store *store;
	struct tcp_events ev;
	uint64_t ooo_total;
	uint64_t flow_counter;
	int64_t cur_sec;           /* capture time of the bytes being placed */
	uint32_t cur_usec;
};

void tcp_ctx_init(struct tcp_ctx *t, const struct tcp_config *cfg,
		  struct flowtable *ft, struct store *store, const struct tcp_events *ev);

/* Handle one decoded TCP segment. */
void tcp_process(struct tcp_ctx *t, const struct pkt *p);

/* Finish every open flow (end of input, or a signal), in session order. */
void tcp_close_all(struct tcp_ctx *t);

/* After tcp_close_all: forget every connection (flow_free for each flow), so
 * nothing kept for stragglers outlives the run. */
void tcp_release_all(struct tcp_ctx *t);

/* Run the timers at capture time now without a packet (a live capture that
 * is idle): connections idle past tcp_timeout are closed. */
void tcp_expire(struct tcp_ctx *t, int64_t now);

/* Offsets of a flow's holes still open (for the report). */
static inline const struct tcp_hole *tcp_flow_holes(const struct tcp_flow *f, uint32_t *n)
{
	*n = f->nholes;
	return f->holes;
}

#endif
