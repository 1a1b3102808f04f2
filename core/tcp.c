/* TCP reassembly: sequence placement, out-of-order queue, holes,
 * connection life cycle (SYN, FIN, RST, reuse, timeouts). */
#include <stdlib.h>
#include <string.h>

#include "flowtable.h"
#include "stats.h"
#include "tcp.h"

struct tcp_seg {
	struct tcp_seg *next;
	uint64_t off;
	uint32_t len;
	uint32_t usec;             /* capture time of the packet that carried it */
	int64_t sec;
	uint8_t data[];
};

void tcp_ctx_init(struct tcp_ctx *t, const struct tcp_config *cfg,
		  struct flowtable *ft, struct store *store, const struct tcp_events *ev)
{
	memset(t, 0, sizeof *t);
	t->cfg = *cfg;
	if (!t->cfg.max_seq_jump)
		t->cfg.max_seq_jump = 16u << 20;
	if (!t->cfg.reorder_flow_cap)
		t->cfg.reorder_flow_cap = 4u << 20;
	if (!t->cfg.reorder_total_cap)
		t->cfg.reorder_total_cap = 32u << 20;
	if (!t->cfg.linger)
		t->cfg.linger = 30;
	t->ft = ft;
	t->store = store;
	if (ev)
		t->ev = *ev;
}

/* ---- holes ----------------------------------------------------------- */

static void hole_add(struct tcp_flow *f, uint64_t off, uint64_t len)
{
	if (!len)
		return;
	if (f->nholes && f->holes[f->nholes - 1].off + f->holes[f->nholes - 1].len == off) {
		f->holes[f->nholes - 1].len += len;
		return;
	}
	if (f->nholes == f->holes_cap) {
		uint32_t cap = f->holes_cap ? f->holes_cap * 2 : 4;
		struct tcp_hole *h = realloc(f->holes, cap * sizeof *h);
		if (!h)
			return;   /* the hole stays zeros on disk; only its record is lost */
		f->holes = h;
		f->holes_cap = cap;
	}
	/* Holes are declared at the frontier, so appending keeps them sorted;
	 * a front shift adds one at 0, handled by insertion. */
	uint32_t i = f->nholes;
	while (i > 0 && f->holes[i - 1].off > off) {
		f->holes[i] = f->holes[i - 1];
		i--;
	}
	f->holes[i].off = off;
	f->holes[i].len = len;
	f->nholes++;
}

/* ---- writing --------------------------------------------------------- */

/* Store bytes at off, honouring -b. */
static void put_bytes(struct tcp_ctx *t, struct tcp_flow *f, uint64_t off,
		      const uint8_t *data, uint32_t len)
{
	if (t->cfg.max_bytes) {
		if (off >= t->cfg.max_bytes) {
			f->not_stored += len;
			tf_stats.bytes_beyond_max += len;
			return;
		}
		if (off + len > t->cfg.max_bytes) {
			uint32_t keep = (uint32_t)(t->cfg.max_bytes - off);
			f->not_stored += len - keep;
			tf_stats.bytes_beyond_max += len - keep;
			len = keep;
		}
	}
	if (store_write(t->store, &f->file, off, data, len) == 0) {
		tf_stats.stream_bytes += len;
		if (t->ev.stored && len)
			t->ev.stored(t->ev.arg, f, off, len, t->cur_sec, t->cur_usec);
	}
}

/* Bytes at the frontier: store them and tell the scanners. */
static void deliver(struct tcp_ctx *t, struct conn *c, int dir,
		    const uint8_t *data, uint32_t len)
{
	struct tcp_flow *f = &c->dir[dir];
	uint64_t off = f->next_off;
	put_bytes(t, f, off, data, len);
	f->next_off += len;
	f->next_seq += len;
	if (t->ev.data)
		t->ev.data(t->ev.arg, c, dir, off, data, len);
}

/* Compare a retransmission with the bytes kept (first copy wins). */
static void check_retransmission(struct tcp_ctx *t, struct tcp_flow *f, uint64_t off,
				 const uint8_t *data, uint64_t len)
{
	static uint8_t kept[1 << 16];
	tf_stats.retransmitted_bytes += len;
	if (t->cfg.max_bytes && off + len > t->cfg.max_bytes)
		len = off < t->cfg.max_bytes ? t->cfg.max_bytes - off : 0;
	while (len) {
		uint32_t n = len > sizeof kept ? (uint32_t)sizeof kept : (uint32_t)len;
		if (store_read(t->store, &f->file, off, kept, n) < 0)
			return;
		if (memcmp(kept, data, n) != 0) {
			f->violations++;
			tf_stats.overlap_conflicts++;
			return;
		}
		off += n;
		data += n;
		len -= n;
	}
}

/* Bytes that land before the frontier: they fill holes where there are
 * holes; elsewhere they are retransmissions of bytes already kept. */
static void place_behind(struct tcp_ctx *t, struct tcp_flow *f, uint64_t off,
			 const uint8_t *data, uint64_t len)
{
	uint64_t end = off + len;
	uint64_t pos = off;
	for (uint32_t i = 0; i < f->nholes && pos < end; i++) {
		struct tcp_hole *h = &f->holes[i];
		uint64_t hs = h->off, he = h->off + h->len;
		if (he <= pos)
			continue;
		if (hs >= end)
			break;
		if (pos < hs) {
			check_retransmission(t, f, pos, data + (pos - off), hs - pos);
			pos = hs;
		}
		uint64_t e = end < he ? end : he;
		put_bytes(t, f, pos, data + (pos - off), (uint32_t)(e - pos));
		tf_stats.gap_bytes -= e - pos;
		if (pos == hs && e == he) {
			memmove(h, h + 1, (f->nholes - i - 1) * sizeof *h);
			f->nholes--;
			tf_stats.gaps--;
			i--;
		} else if (pos == hs) {
			h->off = e;
			h->len = he - e;
		} else if (e == he) {
			h->len = pos - hs;
		} else {
			h->len = pos - hs;
			hole_add(f, e, he - e);
			tf_stats.gaps++;
		}
		pos = e;
	}
	if (pos < end)
		check_retransmission(t, f, pos, data + (pos - off), end - pos);
}

/* ---- out-of-order queue -------------------------------------------------- */

static void count_conflicts(struct tcp_flow *f, const uint8_t *a, const uint8_t *b, uint64_t n)
{
	if (memcmp(a, b, n) != 0) {
		f->violations++;
		tf_stats.overlap_conflicts++;
	}
}

static void seg_free(struct tcp_ctx *t, struct tcp_flow *f, struct tcp_seg *s)
{
	f->ooo_bytes -= s->len;
	t->ooo_total -= s->len;
	free(s);
}

/* Queue [off, off+len) ahead of the frontier, keeping only bytes not
 * already queued (first copy wins). */
static void ooo_insert(struct tcp_ctx *t, struct tcp_flow *f, uint64_t off,
		       const uint8_t *data, uint64_t len)
{
	struct tcp_seg **pp = &f->ooo;
	if (f->ooo_tail && f->ooo_tail->off + f->ooo_tail->len <= off)
		pp = &f->ooo_tail->next;     /* the usual case: beyond everything queued */
	while (len) {
		struct tcp_seg *cur = *pp;
		if (cur && cur->off + cur->len <= off) {
			pp = &cur->next;
			continue;
		}
		uint64_t piece = len;
		if (cur && cur->off <= off) {
			/* overlaps the start of what we have: compare, skip */
			uint64_t n = cur->off + cur->len - off;
			if (n > len)
				n = len;
			count_conflicts(f, cur->data + (off - cur->off), data, n);
			tf_stats.retransmitted_bytes += n;
			off += n;
			data += n;
			len -= n;
			pp = &cur->next;
			continue;
		}
		if (cur && cur->off < off + len)
			piece = cur->off - off;
		struct tcp_seg *s = malloc(sizeof *s + piece);
		if (!s)
			return;
		s->off = off;
		s->len = (uint32_t)piece;
		s->sec = t->cur_sec;
		s->usec = t->cur_usec;
		memcpy(s->data, data, piece);
		s->next = cur;
		*pp = s;
		if (!cur)
			f->ooo_tail = s;
		f->ooo_bytes += piece;
		t->ooo_total += piece;
		TF_STATS_PEAK(peak_reorder_bytes, t->ooo_total);
		pp = &s->next;
		off += piece;
		data += piece;
		len -= piece;
	}
}

/* Hand over queued bytes that the frontier has reached. */
static void ooo_drain(struct tcp_ctx *t, struct conn *c, int dir)
{
	struct tcp_flow *f = &c->dir[dir];
	while (f->ooo && f->ooo->off <= f->next_off) {
		struct tcp_seg *s = f->ooo;
		f->ooo = s->next;
		if (!f->ooo)
			f->ooo_tail = NULL;
		uint64_t skip = f->next_off - s->off;
		if (skip < s->len) {
			/* The bytes keep the time of the packet that brought them. */
			int64_t sec = t->cur_sec;
			uint32_t usec = t->cur_usec;
			t->cur_sec = s->sec;
			t->cur_usec = s->usec;
			deliver(t, c, dir, s->data + skip, (uint32_t)(s->len - skip));
			t->cur_sec = sec;
			t->cur_usec = usec;
		}
		seg_free(t, f, s);
	}
}

/* Give up waiting for [next_off, off): record a hole and move on. */
static void declare_gap(struct tcp_ctx *t, struct conn *c, int dir, uint64_t off)
{
	struct tcp_flow *f = &c->dir[dir];
	uint64_t len = off - f->next_off;
	hole_add(f, f->next_off, len);
	tf_stats.gaps++;
	tf_stats.gap_bytes += len;
	if (t->ev.gap)
		t->ev.gap(t->ev.arg, c, dir, f->next_off, len);
	f->next_off = off;
	f->next_seq += (uint32_t)len;
	ooo_drain(t, c, dir);
}

/* ---- flow life cycle ------------------------------------------------------ */

static void flow_start(struct tcp_ctx *t, struct conn *c, int dir, const struct pkt *p)
{
	struct tcp_flow *f = &c->dir[dir];
	store_file_init(&f->file);
	struct flow_ident *id = &f->file.id;
	id->src = p->src;
	id->dst = p->dst;
	id->sport = p->sport;
	id->dport = p->dport;
	id->has_mac = p->has_mac;
	memcpy(id->src_mac, p->src_mac, 6);
	memcpy(id->dst_mac, p->dst_mac, 6);
	id->has_vlan = p->has_vlan;
	id->vlan = p->vlan;
	id->first_sec = p->ts_sec;
	id->first_usec = p->ts_usec;
	id->session_id = c->session_id;
	id->flow_number = t->flow_counter++;
	f->active = 1;
	tf_stats.flows_opened++;
	TF_STATS_PEAK(peak_open_flows, tf_stats.flows_opened - tf_stats.flows_closed);
}

/* Finish one direction: flush what waits (holes where bytes are missing),
 * close the file, report it. */
static void flow_finish(struct tcp_ctx *t, struct conn *c, int dir)
{
	struct tcp_flow *f = &c->dir[dir];
	if (!f->active || f->closed)
		return;
	while (f->ooo)
		declare_gap(t, c, dir, f->ooo->off);
	store_file_close(t->store, &f->file);
	f->closed = 1;
	tf_stats.flows_closed++;
	if (t->ev.flow_close)
		t->ev.flow_close(t->ev.arg, c, dir);
	store_file_release(&f->file);
	free(f->holes);
	f->holes = NULL;
	f->nholes = f->holes_cap = 0;
}

static int conn_done(const struct conn *c)
{
	return (!c->dir[0].active || c->dir[0].closed) && (!c->dir[1].active || c->dir[1].closed);
}

static void conn_finish(struct tcp_ctx *t, struct conn *c)
{
	flow_finish(t, c, 0);
	flow_finish(t, c, 1);
	flowtable_retire(t->ft, c);
}

/* Take c out of the table; its flows' owners release what they kept. */
static void conn_remove(struct tcp_ctx *t, struct conn *c)
{
	if (t->ev.flow_free) {
		t->ev.flow_free(t->ev.arg, &c->dir[0]);
		t->ev.flow_free(t->ev.arg, &c->dir[1]);
	}
	flowtable_remove(t->ft, c);
}

/* A jump past -m: this flow's file ends and a new one starts at seq. */
static void flow_restart(struct tcp_ctx *t, struct conn *c, int dir, const struct pkt *p)
{
	struct tcp_flow *f = &c->dir[dir];
	tf_stats.seq_jumps++;
	flow_finish(t, c, dir);
	if (t->ev.flow_free)
		t->ev.flow_free(t->ev.arg, f);
	memset(f, 0, sizeof *f);
	flow_start(t, c, dir, p);
}

/* ---- placing a segment ---------------------------------------------------- */

static void place(struct tcp_ctx *t, struct conn *c, int dir, const struct pkt *p,
		  uint32_t seq, const uint8_t *data, uint32_t len)
{
	struct tcp_flow *f = &c->dir[dir];
	if (!f->have_base) {
		f->have_base = 1;
		f->next_seq = seq;
		f->next_off = 0;
	}
	int64_t off = (int64_t)f->next_off + (int32_t)(seq - f->next_seq);
	if (off < 0) {
		uint64_t before = (uint64_t)-off;
		if (f->syn_seen || before > t->cfg.max_seq_jump) {
			/* Bytes before the SYN, or absurdly far back: not stream data. */
			if (before >= len)
				return;
			data += before;
			len -= (uint32_t)before;
			off = 0;
		} else {
			/* Picked up mid-stream and earlier bytes arrive now: everything
			 * moves back, and the new front is a hole until filled. */
			store_shift(t->store, &f->file, before);
			if (t->ev.shift)
				t->ev.shift(t->ev.arg, f, before);
			f->next_off += before;
			f->fin_off += before;
			for (struct tcp_seg *s = f->ooo; s; s = s->next)
				s->off += before;
			for (uint32_t i = 0; i < f->nholes; i++)
				f->holes[i].off += before;
			hole_add(f, 0, before);
			tf_stats.gaps++;
			tf_stats.gap_bytes += before;
			off = 0;
		}
	}
	uint64_t uoff = (uint64_t)off;
	/* A jump is measured from the furthest byte seen, not from the frontier:
	 * segments queued behind a hole are no jump. */
	uint64_t reach = f->next_off;
	if (f->ooo_tail && f->ooo_tail->off + f->ooo_tail->len > reach)
		reach = f->ooo_tail->off + f->ooo_tail->len;
	if (uoff > reach + t->cfg.max_seq_jump) {
		flow_restart(t, c, dir, p);
		f->have_base = 1;
		f->next_seq = seq;
		uoff = 0;
	}
	if (uoff < f->next_off) {
		uint64_t n = f->next_off - uoff;
		if (n > len)
			n = len;
		place_behind(t, f, uoff, data, n);
		uoff += n;
		data += n;
		len -= (uint32_t)n;
		if (!len)
			return;
	}
	if (uoff == f->next_off) {
		if (f->ooo && f->ooo->off < uoff + len)
			/* Queued bytes arrived first and overlap this segment: they
			 * win (conflicts counted); the rest joins them in the queue. */
			ooo_insert(t, f, uoff, data, len);
		else
			deliver(t, c, dir, data, len);
		ooo_drain(t, c, dir);
		return;
	}
	f->out_of_order_count++;
	tf_stats.out_of_order_segments++;
	ooo_insert(t, f, uoff, data, len);
	if (f->ooo_bytes > t->cfg.reorder_flow_cap) {
		tf_stats.reorder_cap_flow_hits++;
		declare_gap(t, c, dir, f->ooo->off);
	} else if (t->ooo_total > t->cfg.reorder_total_cap) {
		tf_stats.reorder_cap_total_hits++;
		declare_gap(t, c, dir, f->ooo->off);
	}
}

/* ---- the connection state machine ------------------------------------------ */

/* Close connections idle past tcp_timeout and forget retired ones past linger. */
static void expire(struct tcp_ctx *t, int64_t now)
{
	struct conn *c;
	while ((c = flowtable_oldest_retired(t->ft)) &&
	       (c->last_sec + t->cfg.linger < now))
		conn_remove(t, c);
	if (t->cfg.tcp_timeout > 0) {
		while ((c = flowtable_oldest(t->ft)) && c->last_sec + t->cfg.tcp_timeout < now) {
			tf_stats.tcp_timeouts++;
			conn_finish(t, c);
			/* Not kept to absorb stragglers: after the idle time, a packet
			 * of this 4-tuple is new activity and starts a new flow. */
			conn_remove(t, c);
		}
	}
}

/* A SYN that cannot belong to the connection we have: a new one on the same 4-tuple. */
static int is_new_connection(const struct conn *c, int dir, const struct pkt *p)
{
	if (!(p->tcp_flags & TH_SYN))
		return 0;
	const struct tcp_flow *f = &c->dir[dir];
	if (f->syn_seen)
		return p->seq != f->isn;
	if (c->closed)
		return 1;
	return f->have_base && f->next_off > 0 && !(p->tcp_flags & TH_ACK);
}

void tcp_process(struct tcp_ctx *t, const struct pkt *p)
{
	struct flow_key k;
	int dir = 0;
	flow_key_from_pkt(&k, p);
	expire(t, p->ts_sec);
	t->cur_sec = p->ts_sec;
	t->cur_usec = p->ts_usec;
	struct conn *c = flowtable_find(t->ft, &k, &dir);
	if (c && is_new_connection(c, dir, p)) {
		tf_stats.connections_reused++;
		conn_finish(t, c);
		conn_remove(t, c);
		c = NULL;
	}
	if (c && c->closed) {
		/* A straggler (retransmission, last ACK) of a finished connection. */
		tf_stats.retransmitted_bytes += p->payload_len;
		if (t->ev.packet && c->dir[dir].active)
			t->ev.packet(t->ev.arg, c, dir, p);
		return;
	}
	if (!c) {
		/* Only a SYN or data starts a connection; a stray ACK or RST does not. */
		if (!(p->tcp_flags & TH_SYN) && p->payload_len == 0)
			return;
		if (t->cfg.no_new)
			return;   /* -R: only connections already open go on */
		c = flowtable_insert(t->ft, &k);
		if (!c)
			return;
		dir = 0;
	}
	flowtable_touch(t->ft, c, p->ts_sec);
	struct tcp_flow *f = &c->dir[dir];
	if (!f->active)
		flow_start(t, c, dir, p);
	if (f->closed) {
		tf_stats.retransmitted_bytes += p->payload_len;
		if (t->ev.packet)
			t->ev.packet(t->ev.arg, c, dir, p);
		return;
	}
	uint32_t seq = p->seq;
	if (p->tcp_flags & TH_SYN) {
		if (!f->syn_seen && (!f->have_base || f->next_off == 0)) {
			f->syn_seen = 1;
			f->isn = p->seq;
			f->have_base = 1;
			f->next_seq = p->seq + 1;
			f->next_off = 0;
		}
		seq++;   /* the SYN occupies one sequence number; data (TFO) follows it */
	}
	if (p->payload_len)
		place(t, c, dir, p, seq, p->payload, p->payload_len);
	f = &c->dir[dir];   /* place may restart the flow */
	/* Counted after place, so a packet that restarts the flow (-m) counts
	 * for the new file, not the one it ended. */
	f->packets++;
	f->last_sec = p->ts_sec;
	f->last_usec = p->ts_usec;
	if (t->ev.packet)
		t->ev.packet(t->ev.arg, c, dir, p);
	if ((p->tcp_flags & TH_FIN) && !f->fin_seen && f->have_base) {
		int64_t off = (int64_t)f->next_off + (int32_t)(seq + p->payload_len - f->next_seq);
		f->fin_seen = 1;
		f->fin_off = off > 0 ? (uint64_t)off : 0;
	}
	if (p->tcp_flags & TH_RST) {
		conn_finish(t, c);
		return;
	}
	if (f->fin_seen && f->next_off >= f->fin_off && !f->ooo)
		flow_finish(t, c, dir);
	if (conn_done(c))
		flowtable_retire(t->ft, c);
}

void tcp_release_all(struct tcp_ctx *t)
{
	struct conn *c;
	while ((c = flowtable_oldest_retired(t->ft)))
		conn_remove(t, c);
}

void tcp_expire(struct tcp_ctx *t, int64_t now)
{
	expire(t, now);
}

void tcp_close_all(struct tcp_ctx *t)
{
	size_t n = 0;
	struct conn **v = flowtable_snapshot(t->ft, &n);
	for (size_t i = 0; i < n; i++)
		conn_finish(t, v[i]);
	free(v);
}
