/* http: every object of every HTTP/1.x connection (RFC 9112), from the
 * partial-stream events, parsed with llhttp (compiled from the system's
 * node-llhttp sources, see llhttp_*.c here).
 *
 * Each flow direction is parsed as it becomes contiguous; the stream is
 * never read back from its file. For flow file X, message n of that
 * direction gives
 *   X-HTTP (n = 1) or X-HTTP-00n      the header block: start line through
 *                                     the empty line, as sent;
 *   X-HTTPBODY or X-HTTPBODY-00n      the body after transfer decoding
 *                                     (chunked removed, RFC 9112 7.1), its
 *                                     content coding kept (gzip decodes it);
 * both derived objects ("http-header", "http-body") whose metadata says
 * what they are (direction, message, method, url, host, status, reason,
 * content_type, content_encoding, ...) and whose report entries carry
 * their <byte_runs> in the flow and, for a body with holes, its <gaps>.
 * Requests and responses are paired in order per connection (pipelining,
 * RFC 9112 9.3.2), so a response's objects carry its request's method,
 * URL and host. Message bodies follow RFC 9112 6.3: HEAD responses, 1xx,
 * 204 and 304 have none; Transfer-Encoding chunked wins over
 * Content-Length; otherwise Content-Length; a response without either runs
 * to the end of the connection. 101 (and 2xx to CONNECT) ends HTTP on the
 * connection (RFC 9110 7.8); a request asking to upgrade holds its
 * direction until the response says whether it did.
 *
 * -S http_names=1.6 gives tcpflow 1.6's names instead: bodies only, as
 * X-HTTPBODY-00n.EXT (n from 001, EXT from the Content-Type), gzip and
 * deflate bodies decoded in place unless -Z (get_param "decompress").
 *
 * Damage: a hole inside a body is filled with zeros (recorded as a gap of
 * the body) when its length is known, else the message ends there,
 * incomplete. After a parse error or a hole that hides message
 * boundaries, parsing resumes at the next line that starts like a message
 * ("HTTP/1." for responses, "METHOD target HTTP/1.x" for requests). Errors
 * are counted per flow (<http> in its <fileobject>) and in <http_summary>.
 *
 * http_cmd and http_alert_fd work as in tcpflow 1.6 for every body file.
 *
 * Built like any third-party scanner: only <tcpflow/scanner.h>, llhttp,
 * and plugins/gzip/gz_inflate.c for the 1.6 mode. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llhttp.h>

#include <tcpflow/scanner.h>

#include "gz_inflate.h"
#include "http_mime.h"

#define HTTP_MAX_HEADER   (256u << 10)  /* header block bytes kept (larger: an error) */
#define HTTP_MAX_URL      8192u
#define HTTP_MAX_VALUE    4096u         /* of a header value we keep */
#define HTTP_MAX_FIELD    64u
#define HTTP_MAX_REASON   256u
#define HTTP_BODY_MEM     (64u << 10)   /* a body stays in memory up to this, then a file */
#define HTTP_MAX_RUNS     4096u         /* byte runs and gaps recorded per body */
#define HTTP_MAX_ERRORS   16u           /* errors listed per flow */
#define HTTP_MAX_QUEUE    1024u         /* requests waiting for their response */
#define HTTP_MAX_HOLD     (256u << 10)  /* request bytes held while an upgrade is pending */
#define HTTP_MAX_FILL     (64ull << 20) /* zeros put into a body for one hole at most */
#define HTTP_MAX_LINE     8192u         /* a start line looked at when resynchronizing */
#define HTTP_MAX_CHILDREN 8
#define HTTP_ZEROS        65536u

static const struct tf_host *host;
static const uint8_t http_zeros[HTTP_ZEROS];

enum { ROLE_UNKNOWN, ROLE_REQUEST, ROLE_RESPONSE };
enum { MODE_PARSE, MODE_RESYNC, MODE_HOLD, MODE_STOP };
enum { PAUSE_NONE, PAUSE_BEGIN, PAUSE_HEADERS };
enum { F_NONE, F_CTYPE, F_CENC, F_TENC, F_CLEN, F_HOST };
/* what a problem in a flow counts as: a parse error, a hole in the capture
 * that hid HTTP structure, a message cut off by the end of the flow */
enum { PROBLEM_ERROR, PROBLEM_HOLE, PROBLEM_CUT };

/* A string that grows up to a limit (the rest is dropped, trunc is set). */
struct http_str {
	char *p;
	size_t len, cap;
	int trunc;
};

/* A request, waiting for its response. */
struct http_req {
	char *method, *url, *host;
	uint64_t number;             /* message number in the request's flow */
	int upgrade;                 /* asked to upgrade (Upgrade, or CONNECT) */
	int head, connect;
};

/* Both directions of one connection (tf_flow.session_id). */
struct http_conn {
	struct http_conn *next;
	uint64_t session_id;
	int refs;
	struct http_req *q;          /* ring of requests not yet answered */
	size_t qhead, qlen, qcap;
	int upgraded;                /* HTTP ended: 101 or 2xx to CONNECT */
	uint64_t refused_upto;       /* upgrade requests up to this number were refused */
};

struct http_err {
	int kind;                    /* PROBLEM_* */
	uint64_t offset;
	char code[40];
	char reason[120];
};

/* The message being parsed. */
struct http_msg {
	int active;                  /* begun, not finished */
	int headers_done;
	int capturing;               /* the header block is being collected */
	uint64_t start;              /* stream offset of its first byte */
	uint64_t number;             /* message number in this flow (from 1) */
	struct http_str hdr;         /* the header block */
	struct http_str field, value;
	int field_id;
	struct http_str url, reason, ctype, cenc, tenc, clen, host;
	struct http_req req;         /* own (request) or paired (response) */
	int have_req;
	int status;
	/* the body */
	int body;                    /* a body is expected */
	int eof_body;                /* it runs to the end of the flow */
	int chunked;
	uint64_t left;               /* bytes to come of the current chunk or body */
	uint64_t wire;               /* body bytes after transfer decoding */
	uint64_t declared;           /* Content-Length, when given */
	uint8_t *mem;                /* the object, while small */
	size_t memlen, memcap;
	struct tf_file *file;
	int file_failed;
	uint64_t out;                /* object bytes (written or decoded) */
	struct tf_run *runs;
	size_t nruns, runcap;
	int runs_lost;
	struct tf_gap *gaps;
	size_t ngaps, gapcap;
	int gaps_lost;
	uint64_t missing;
	struct gz_inflate *gz;       /* 1.6 mode: decoding in place */
	uint8_t *raw;                /* 1.6 mode: encoded bytes until the first decoded ones */
	size_t rawlen;
	int gz_failed;               /* decoding failed: the body is kept encoded */
	char suffix[80];
	char incomplete[160];
};

struct http_state;

/* One flow direction. */
struct http_flow {
	struct http_state *st;
	const struct tf_flow *flow;
	struct tf_ctx *ctx;
	struct http_conn *conn;
	llhttp_t parser;
	int parser_ready;
	int role, mode;
	int pause;
	/* the buffer being parsed: stream offset of buf[0]; zeros when filling */
	const uint8_t *buf;
	uint64_t buf_off;
	int filling;
	struct http_msg m;
	uint64_t next_off;           /* stream offset the next event should have */
	uint64_t messages, requests, responses, bodies, incomplete, skipped;
	int spoke_http;              /* a start line parsed (even if the message failed) */
	uint64_t nerrors, nholes;
	struct http_err *err;        /* HTTP_MAX_ERRORS of them, from the first one on:
	                              * with 200 000 flows open, room for errors in
	                              * every flow would cost gigabytes */
	size_t nerr;
	/* resynchronizing */
	int line_start;
	uint8_t *carry;              /* a start line begun in the last data */
	size_t ncarry;
	uint64_t carry_off;
	/* held while an upgrade request waits for its response */
	uint8_t *hold;
	size_t nhold, holdcap;
	uint64_t hold_off;
	uint64_t hold_req;
	int hold_broken;
};

struct http_state {
	int names16;                 /* -S http_names=1.6 */
	int decompress;              /* not -Z */
	char *script;                /* http_cmd: "CMD \"$1\"" */
	int alert_fd;
	int alert_failed;
	pid_t kids[HTTP_MAX_CHILDREN];
	int running;
	/* sessions */
	struct http_conn **buckets;
	size_t nbuckets, nconns;
	/* the path of the object being emitted (from our own on_object) */
	int emitting;
	char *emitted_path;
	/* counters */
	uint64_t flows, http_flows, messages, requests, responses, headers, bodies, body_bytes;
	uint64_t incomplete, errors, skipped, unpaired, upgrades, gaps_filled, cmd_failures;
	uint64_t write_failures;
};

static const struct tf_param http_params[] = {
	{ "http_names", "",
	  "File names of the extracted objects. Empty (the default): X-HTTP and "
	  "X-HTTPBODY for message 1 of flow file X, X-HTTP-00n and X-HTTPBODY-00n for "
	  "message n, header blocks and bodies of requests and responses, bodies with "
	  "their content coding kept (the gzip scanner writes X-HTTPBODY-GZIP). '1.6': "
	  "tcpflow 1.6's names, X-HTTPBODY-00n.EXT with n from 001 and EXT from the "
	  "Content-Type, bodies only, gzip and deflate decoded in place (not with -Z)." },
	{ "http_cmd", "",
	  "Run 'CMD PATH' (through /bin/sh, PATH one argument) for every body file "
	  "once it is complete, at most 8 at a time, as tcpflow 1.6 did." },
	{ "http_alert_fd", "-1",
	  "Write 'open<TAB>PATH' when a body file is created and 'close<TAB>PATH' when "
	  "it is complete to this file descriptor (opened by the caller, e.g. "
	  "3>alerts.txt), as tcpflow 1.6 did." },
	{ NULL, NULL, NULL },
};

/* ---- small helpers --------------------------------------------------------------- */

static int str_add(struct http_str *s, const char *p, size_t n, size_t max)
{
	if (s->len + n > max) {
		s->trunc = 1;
		n = max > s->len ? max - s->len : 0;
	}
	if (!n)
		return 0;
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 64;
		while (cap < s->len + n + 1)
			cap *= 2;
		char *q = realloc(s->p, cap);
		if (!q)
			return -1;
		s->p = q;
		s->cap = cap;
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
	return 0;
}

static const char *str_c(const struct http_str *s)
{
	return s->len ? s->p : "";
}

static void str_clear(struct http_str *s)
{
	s->len = 0;
	s->trunc = 0;
	if (s->p)
		s->p[0] = '\0';
}

static void str_free(struct http_str *s)
{
	free(s->p);
	memset(s, 0, sizeof *s);
}

static char *dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static void req_free(struct http_req *r)
{
	free(r->method);
	free(r->url);
	free(r->host);
	memset(r, 0, sizeof *r);
}

static int req_copy(struct http_req *d, const struct http_req *s)
{
	*d = *s;
	d->method = s->method ? strdup(s->method) : NULL;
	d->url = s->url ? strdup(s->url) : NULL;
	d->host = s->host ? strdup(s->host) : NULL;
	if ((s->method && !d->method) || (s->url && !d->url) || (s->host && !d->host)) {
		req_free(d);
		return -1;
	}
	return 0;
}

/* v in decimal into buf (len >= 21 holds any); several per message, so
 * not through snprintf, which costs more than the rest of an attribute. */
static void u64s(char *buf, size_t len, uint64_t v)
{
	char tmp[24], *o = tmp + sizeof tmp;
	*--o = '\0';
	do
		*--o = (char)('0' + v % 10);
	while (v /= 10);
	size_t n = (size_t)(tmp + sizeof tmp - o);
	if (n <= len)
		memcpy(buf, o, n);
	else if (len)
		buf[0] = '\0';
}

static void report_u64(struct tf_ctx *ctx, struct tf_entry *e, const char *name, uint64_t v)
{
	char num[32];
	u64s(num, sizeof num, v);
	host->report_attr(ctx, e, name, num);
}

/* ---- http_cmd and http_alert_fd (as tcpflow 1.6) ---------------------------------- */

static void alert(struct http_state *st, struct tf_ctx *ctx, const char *what, const char *path)
{
	if (st->alert_fd < 0 || st->alert_failed || !path)
		return;
	char line[4200];
	int n = snprintf(line, sizeof line, "%s\t%s\n", what, path);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	for (size_t done = 0; done < (size_t)n;) {
		ssize_t w = write(st->alert_fd, line + done, (size_t)n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			tf_logf(host, ctx, TF_LOG_WARN, "http_alert_fd=%d: %s; no more alerts",
				st->alert_fd, strerror(errno));
			st->alert_failed = 1;
			return;
		}
		done += (size_t)w;
	}
}

/* Collect our finished commands; with block, wait for the oldest. */
static void reap(struct http_state *st, int block)
{
	for (int i = 0; i < st->running;) {
		int ws;
		pid_t pid = waitpid(st->kids[i], &ws, block && i == 0 ? 0 : WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid == 0) {
			i++;
			continue;
		}
		if (pid > 0 && (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0))
			st->cmd_failures++;
		memmove(st->kids + i, st->kids + i + 1,
			(size_t)(st->running - i - 1) * sizeof *st->kids);
		st->running--;
		block = 0;
	}
}

static void run_cmd(struct http_state *st, const char *path)
{
	if (!st->script || !path)
		return;
	reap(st, 0);
	while (st->running >= HTTP_MAX_CHILDREN)
		reap(st, 1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		st->cmd_failures++;
		return;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", st->script, "sh", path, (char *)NULL);
		_exit(127);
	}
	st->kids[st->running++] = pid;
}

/* ---- connections ------------------------------------------------------------------- */

static size_t conn_bucket(const struct http_state *st, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (st->nbuckets - 1);
}

static struct http_conn *conn_get(struct http_state *st, uint64_t id)
{
	if (st->nbuckets) {
		for (struct http_conn *c = st->buckets[conn_bucket(st, id)]; c; c = c->next)
			if (c->session_id == id)
				return c;
	}
	if (st->nconns >= st->nbuckets) {
		size_t n = st->nbuckets ? st->nbuckets * 2 : 256;
		struct http_conn **nb = calloc(n, sizeof *nb);
		if (!nb)
			return NULL;
		for (size_t i = 0; i < st->nbuckets; i++) {
			while (st->buckets[i]) {
				struct http_conn *c = st->buckets[i];
				st->buckets[i] = c->next;
				size_t b = (size_t)((c->session_id * 0x9E3779B97F4A7C15ull) >> 32) & (n - 1);
				c->next = nb[b];
				nb[b] = c;
			}
		}
		free(st->buckets);
		st->buckets = nb;
		st->nbuckets = n;
	}
	struct http_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->session_id = id;
	size_t b = conn_bucket(st, id);
	c->next = st->buckets[b];
	st->buckets[b] = c;
	st->nconns++;
	return c;
}

static void conn_release(struct http_state *st, struct http_conn *c)
{
	if (!c || --c->refs > 0)
		return;
	struct http_conn **pp = &st->buckets[conn_bucket(st, c->session_id)];
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	st->nconns--;
	for (size_t i = 0; i < c->qlen; i++)
		req_free(&c->q[(c->qhead + i) % c->qcap]);
	free(c->q);
	free(c);
}

/* A request was parsed: queue a copy for its response. */
static void conn_push(struct http_conn *c, const struct http_req *r)
{
	if (!c)
		return;
	if (c->qlen == HTTP_MAX_QUEUE) {
		/* nobody answers: forget the oldest */
		req_free(&c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
	}
	if (c->qlen == c->qcap) {
		size_t cap = c->qcap ? c->qcap * 2 : 8;
		struct http_req *q = calloc(cap, sizeof *q);
		if (!q)
			return;
		for (size_t i = 0; i < c->qlen; i++)
			q[i] = c->q[(c->qhead + i) % c->qcap];
		free(c->q);
		c->q = q;
		c->qcap = cap;
		c->qhead = 0;
	}
	struct http_req *slot = &c->q[(c->qhead + c->qlen) % c->qcap];
	if (req_copy(slot, r) == 0)
		c->qlen++;
}

/* ---- errors ------------------------------------------------------------------------ */

/* Something went wrong at stream offset off; kind: what it counts as. */

static void flow_problem(struct http_flow *hf, int kind, uint64_t off, const char *code,
			 const char *reason)
{
	if (kind == PROBLEM_ERROR)
		hf->nerrors++;
	else if (kind == PROBLEM_HOLE)
		hf->nholes++;
	if (!hf->err)
		hf->err = calloc(HTTP_MAX_ERRORS, sizeof *hf->err);
	if (hf->err && hf->nerr < HTTP_MAX_ERRORS) {
		struct http_err *e = &hf->err[hf->nerr++];
		e->kind = kind;
		e->offset = off;
		/* cut to their fields */
		snprintf(e->code, sizeof e->code, "%.*s", (int)sizeof e->code - 1, code);
		snprintf(e->reason, sizeof e->reason, "%.*s", (int)sizeof e->reason - 1,
			 reason ? reason : "");
	}
	tf_logf(host, hf->ctx, TF_LOG_DEBUG, "flow %llu offset %llu: %s: %s",
		(unsigned long long)hf->flow->id, (unsigned long long)off, code, reason ? reason : "");
}

/* ---- the body ---------------------------------------------------------------------- */

static void add_run(struct http_msg *m, uint64_t at, uint64_t from, uint64_t len)
{
	if (m->nruns) {
		struct tf_run *r = &m->runs[m->nruns - 1];
		if (r->offset + r->len == at && r->parent_offset + r->len == from) {
			r->len += len;
			return;
		}
	}
	if (m->nruns == HTTP_MAX_RUNS) {
		m->runs_lost = 1;
		return;
	}
	if (m->nruns == m->runcap) {
		size_t cap = m->runcap ? m->runcap * 2 : 4;
		struct tf_run *v = realloc(m->runs, cap * sizeof *v);
		if (!v) {
			m->runs_lost = 1;
			return;
		}
		m->runs = v;
		m->runcap = cap;
	}
	m->runs[m->nruns++] = (struct tf_run){ .offset = at, .parent_offset = from, .len = len };
}

static void add_gap(struct http_msg *m, uint64_t at, uint64_t len)
{
	m->missing += len;
	if (m->ngaps && m->gaps[m->ngaps - 1].offset + m->gaps[m->ngaps - 1].len == at) {
		m->gaps[m->ngaps - 1].len += len;
		return;
	}
	if (m->ngaps == HTTP_MAX_RUNS) {
		m->gaps_lost = 1;
		return;
	}
	if (m->ngaps == m->gapcap) {
		size_t cap = m->gapcap ? m->gapcap * 2 : 4;
		struct tf_gap *v = realloc(m->gaps, cap * sizeof *v);
		if (!v) {
			m->gaps_lost = 1;
			return;
		}
		m->gaps = v;
		m->gapcap = cap;
	}
	m->gaps[m->ngaps++] = (struct tf_gap){ .offset = at, .len = len };
}

/* Object bytes: in memory while small, then in a file beside the flow. */
static int body_out(void *arg, const uint8_t *p, size_t n)
{
	struct http_flow *hf = arg;
	struct http_msg *m = &hf->m;
	if (m->file_failed || !n)
		return 0;
	/* A body known to be big goes to its file at once; one known to be
	 * small gets its size at once (growing 4, 8, ... 64 KiB copied as much
	 * again as the body). Decoded bodies (1.6 names) have no known size. */
	uint64_t known = m->gz ? 0 : m->declared;
	if (!m->file && m->memlen + n <= HTTP_BODY_MEM && known <= HTTP_BODY_MEM) {
		if (m->memlen + n > m->memcap) {
			size_t cap = m->memcap ? m->memcap : known > 4096 ? (size_t)known : 4096;
			while (cap < m->memlen + n)
				cap *= 2;
			uint8_t *v = realloc(m->mem, cap);
			if (!v) {
				m->file_failed = 1;
				hf->st->write_failures++;
				return 0;
			}
			m->mem = v;
			m->memcap = cap;
		}
		memcpy(m->mem + m->memlen, p, n);
		m->memlen += n;
		m->out += n;
		return 0;
	}
	if (!m->file) {
		m->file = host->file_open(hf->ctx, hf->flow->entry, m->suffix);
		if (!m->file) {
			m->file_failed = 1;
			hf->st->write_failures++;
			free(m->mem);
			m->mem = NULL;
			m->memlen = m->memcap = 0;
			m->out = 0;
			return 0;
		}
		alert(hf->st, hf->ctx, "open", host->file_path(hf->ctx, m->file));
		if (m->memlen && host->file_write(hf->ctx, m->file, m->mem, m->memlen) < 0)
			m->file_failed = 1;
		free(m->mem);
		m->mem = NULL;
		m->memlen = m->memcap = 0;
	}
	if (!m->file_failed && host->file_write(hf->ctx, m->file, p, n) < 0) {
		m->file_failed = 1;
		hf->st->write_failures++;
	}
	m->out += n;
	return 0;
}

/* 1.6 mode: decoding failed before any byte came out: keep the body encoded. */
static void gz_give_up(struct http_flow *hf)
{
	struct http_msg *m = &hf->m;
	m->gz_failed = 1;
	if (m->raw && m->out == 0)
		body_out(hf, m->raw, m->rawlen);
	free(m->raw);
	m->raw = NULL;
	m->rawlen = 0;
}

/* Body bytes after transfer decoding, at stream offset soff (zeros for a
 * hole when missing). */
static void body_bytes(struct http_flow *hf, uint64_t soff, const uint8_t *p, size_t n, int missing)
{
	struct http_msg *m = &hf->m;
	if (!n)
		return;
	if (missing)
		add_gap(m, m->wire, n);
	else
		add_run(m, m->wire, soff, n);
	m->wire += n;
	if (m->gz && !m->gz_failed) {
		if (m->out == 0 && m->raw) {
			/* keep the encoded bytes until decoding has shown it works */
			if (m->rawlen + n <= HTTP_BODY_MEM) {
				memcpy(m->raw + m->rawlen, p, n);
				m->rawlen += n;
			} else {
				free(m->raw);
				m->raw = NULL;
			}
		}
		enum gz_status rc = gz_inflate_feed(m->gz, p, n, body_out, hf);
		if (rc != GZ_MORE && rc != GZ_DONE && m->out == 0 && m->raw) {
			gz_give_up(hf);
			return;
		}
		if (m->out) {
			free(m->raw);
			m->raw = NULL;
		}
		return;
	}
	body_out(hf, p, n);
}

/* ---- objects ------------------------------------------------------------------------ */

struct meta_buf {
	struct tf_kv kv[24];
	size_t n;
	char num[4][24];
	char ver[8];
	char rest[256];
	char coding[16];
};

static void meta_add(struct meta_buf *mb, const char *k, const char *v)
{
	if (v && *v && mb->n < sizeof mb->kv / sizeof mb->kv[0])
		mb->kv[mb->n++] = (struct tf_kv){ k, v };
}

static void build_meta(struct http_flow *hf, struct meta_buf *mb, int body)
{
	struct http_msg *m = &hf->m;
	mb->n = 0;
	meta_add(mb, "direction", hf->role == ROLE_REQUEST ? "request" : "response");
	u64s(mb->num[0], sizeof mb->num[0], m->number);
	meta_add(mb, "message", mb->num[0]);
	/* llhttp takes one digit each */
	mb->ver[0] = (char)('0' + hf->parser.http_major % 10);
	mb->ver[1] = '.';
	mb->ver[2] = (char)('0' + hf->parser.http_minor % 10);
	mb->ver[3] = '\0';
	meta_add(mb, "http_version", mb->ver);
	if (m->have_req) {
		meta_add(mb, "method", m->req.method);
		meta_add(mb, "url", m->req.url);
		meta_add(mb, "host", m->req.host);
		if (hf->role == ROLE_RESPONSE) {
			u64s(mb->num[1], sizeof mb->num[1], m->req.number);
			meta_add(mb, "request_message", mb->num[1]);
		}
	}
	if (hf->role == ROLE_RESPONSE) {
		u64s(mb->num[2], sizeof mb->num[2], (uint64_t)m->status);
		meta_add(mb, "status", mb->num[2]);
		meta_add(mb, "reason", str_c(&m->reason));
	}
	/* The content_* keys describe the object's bytes (the gzip scanner
	 * decodes what claims a content_encoding): bodies only. */
	if (!body)
		return;
	meta_add(mb, "content_type", str_c(&m->ctype));
	meta_add(mb, "content_length", str_c(&m->clen));
	meta_add(mb, "transfer_encoding", str_c(&m->tenc));
	if (!m->gz || m->gz_failed) {
		meta_add(mb, "content_encoding", str_c(&m->cenc));
	} else {
		/* 1.6 mode, decoded in place: the codings still applied, if any */
		const char *last = "";
		size_t restlen = 0, lastlen = 0;
		gz_coding_last(str_c(&m->cenc), &restlen, &last, &lastlen);
		snprintf(mb->rest, sizeof mb->rest, "%.*s",
			 (int)(restlen < sizeof mb->rest ? restlen : sizeof mb->rest - 1),
			 str_c(&m->cenc));
		meta_add(mb, "content_encoding", mb->rest);
		snprintf(mb->coding, sizeof mb->coding, "%.*s", (int)(lastlen < 15 ? lastlen : 15), last);
		for (char *c = mb->coding; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		meta_add(mb, "decoded_from", mb->coding);
		meta_add(mb, "decoded_format", gz_format_name(m->gz->fmt));
	}
	meta_add(mb, "incomplete", m->incomplete);
}

/* Emit an object of this flow; returns the path it got (owned by the state
 * until the next emission), or NULL. */
static const char *emit(struct http_flow *hf, struct tf_object_desc *d)
{
	struct http_state *st = hf->st;
	free(st->emitted_path);
	st->emitted_path = NULL;
	st->emitting = 1;
	int rc = host->emit_object(hf->ctx, hf->flow->entry, d);
	st->emitting = 0;
	if (rc < 0 && rc != -ELOOP)
		tf_logf(host, hf->ctx, TF_LOG_WARN, "%s: object not emitted: %s",
			hf->flow->path ? hf->flow->path : "flow", strerror(-rc));
	return rc == 0 ? st->emitted_path : NULL;
}

/* The header block of the message whose headers just ended. */
static void emit_header(struct http_flow *hf)
{
	struct http_msg *m = &hf->m;
	struct meta_buf mb;
	char suffix[48];
	if (hf->st->names16 || !m->hdr.len)
		return;
	build_meta(hf, &mb, 0);
	if (m->number == 1)
		snprintf(suffix, sizeof suffix, "-HTTP");
	else
		snprintf(suffix, sizeof suffix, "-HTTP-%03llu", (unsigned long long)m->number);
	struct tf_run run = { .offset = 0, .parent_offset = m->start, .len = m->hdr.len };
	struct tf_object_desc d = {
		.size = sizeof d,
		.type = "http-header",
		.meta = mb.kv,
		.nmeta = mb.n,
		.data = (const uint8_t *)m->hdr.p,
		.len = m->hdr.len,
		.suffix = suffix,
		.runs = &run,
		.nruns = 1,
	};
	emit(hf, &d);
	hf->st->headers++;
}

/* The body of the message that ends now (complete or not). */
static void emit_body(struct http_flow *hf)
{
	struct http_state *st = hf->st;
	struct http_msg *m = &hf->m;
	struct meta_buf mb;
	if (m->gz && !m->gz_failed) {
		enum gz_status rc = gz_inflate_end(m->gz);
		if (rc != GZ_DONE && m->out == 0 && m->raw)
			gz_give_up(hf);
	}
	if (m->out == 0 && !m->file)
		return;
	build_meta(hf, &mb, 1);
	char status[200], why[160];
	if (m->gz) {
		if (m->gz_failed)
			snprintf(status, sizeof status, "kept encoded: %s",
				 gz_status_text(m->gz, why, sizeof why));
		else
			gz_status_text(m->gz, status, sizeof status);
		meta_add(&mb, "decode_status", status);
	}
	/* runs and gaps describe the bytes after transfer decoding: given only
	 * when those are exactly the object's bytes */
	int exact = !(m->gz && !m->gz_failed) && !m->file_failed && m->out == m->wire;
	/* more runs or gaps than kept: the first ones, and the totals */
	if (exact && m->runs_lost)
		meta_add(&mb, "byte_runs", "only the first 4096 are listed");
	if (m->missing) {
		u64s(mb.num[3], sizeof mb.num[3], m->missing);
		meta_add(&mb, "missing_bytes", mb.num[3]);
	}
	struct tf_object_desc d = {
		.size = sizeof d,
		.type = "http-body",
		.meta = mb.kv,
		.nmeta = mb.n,
		.runs = exact ? m->runs : NULL,
		.nruns = exact ? m->nruns : 0,
		.gaps = exact ? m->gaps : NULL,
		.ngaps = exact ? m->ngaps : 0,
	};
	char *path = NULL;
	if (m->file) {
		const char *p = host->file_path(hf->ctx, m->file);
		path = p ? strdup(p) : NULL;
		d.file = m->file;
		m->file = NULL;
		emit(hf, &d);
	} else {
		d.data = m->mem;
		d.len = m->memlen;
		d.suffix = m->suffix;
		const char *p = emit(hf, &d);
		path = p ? strdup(p) : NULL;
		alert(st, hf->ctx, "open", path);
	}
	alert(st, hf->ctx, "close", path);
	run_cmd(st, path);
	free(path);
	st->bodies++;
	st->body_bytes += m->out;
	hf->bodies++;
}

static void msg_reset(struct http_msg *m)
{
	struct http_str keep[] = { m->hdr, m->field, m->value, m->url, m->reason,
				   m->ctype, m->cenc, m->tenc, m->clen, m->host };
	struct tf_run *runs = m->runs;
	size_t runcap = m->runcap;
	struct tf_gap *gaps = m->gaps;
	size_t gapcap = m->gapcap;
	req_free(&m->req);
	free(m->mem);
	free(m->raw);
	if (m->gz) {
		gz_inflate_free(m->gz);
		free(m->gz);
	}
	memset(m, 0, sizeof *m);
	/* keep the buffers for the next message */
	m->hdr = keep[0]; m->field = keep[1]; m->value = keep[2]; m->url = keep[3];
	m->reason = keep[4]; m->ctype = keep[5]; m->cenc = keep[6]; m->tenc = keep[7];
	m->clen = keep[8]; m->host = keep[9];
	str_clear(&m->hdr); str_clear(&m->field); str_clear(&m->value); str_clear(&m->url);
	str_clear(&m->reason); str_clear(&m->ctype); str_clear(&m->cenc); str_clear(&m->tenc);
	str_clear(&m->clen); str_clear(&m->host);
	m->runs = runs;
	m->runcap = runcap;
	m->gaps = gaps;
	m->gapcap = gapcap;
}

static void msg_free(struct http_msg *m)
{
	msg_reset(m);
	str_free(&m->hdr); str_free(&m->field); str_free(&m->value); str_free(&m->url);
	str_free(&m->reason); str_free(&m->ctype); str_free(&m->cenc); str_free(&m->tenc);
	str_free(&m->clen); str_free(&m->host);
	free(m->runs);
	free(m->gaps);
	memset(m, 0, sizeof *m);
}

/* The message ends: why (NULL when complete). */
static void finish_message(struct http_flow *hf, const char *why)
{
	struct http_msg *m = &hf->m;
	if (!m->active)
		return;
	if (why && m->headers_done) {
		snprintf(m->incomplete, sizeof m->incomplete, "%s", why);
		hf->incomplete++;
		hf->st->incomplete++;
	}
	if (m->headers_done) {
		emit_body(hf);
	} else if (m->file) {
		host->file_close(hf->ctx, m->file);
		m->file = NULL;
	}
	msg_reset(m);
}

/* ---- llhttp callbacks ---------------------------------------------------------------- */

static struct http_flow *flow_of(llhttp_t *p)
{
	return p->data;
}

static int cb_message_begin(llhttp_t *p)
{
	flow_of(p)->pause = PAUSE_BEGIN;
	return HPE_PAUSED;
}

static int cb_url(llhttp_t *p, const char *at, size_t n)
{
	str_add(&flow_of(p)->m.url, at, n, HTTP_MAX_URL);
	return 0;
}

static int cb_status(llhttp_t *p, const char *at, size_t n)
{
	str_add(&flow_of(p)->m.reason, at, n, HTTP_MAX_REASON);
	return 0;
}

static int cb_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct http_msg *m = &flow_of(p)->m;
	str_add(&m->field, at, n, HTTP_MAX_FIELD);
	return 0;
}

static int cb_header_field_complete(llhttp_t *p)
{
	struct http_msg *m = &flow_of(p)->m;
	static const struct { const char *name; int id; } known[] = {
		{ "content-type", F_CTYPE }, { "content-encoding", F_CENC },
		{ "transfer-encoding", F_TENC }, { "content-length", F_CLEN }, { "host", F_HOST },
	};
	m->field_id = F_NONE;
	for (size_t i = 0; !m->field.trunc && i < sizeof known / sizeof known[0]; i++)
		if (m->field.len == strlen(known[i].name) &&
		    !strncasecmp(m->field.p, known[i].name, m->field.len))
			m->field_id = known[i].id;
	str_clear(&m->field);
	str_clear(&m->value);
	return 0;
}

static int cb_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct http_msg *m = &flow_of(p)->m;
	if (m->field_id != F_NONE)
		str_add(&m->value, at, n, HTTP_MAX_VALUE);
	return 0;
}

static int cb_header_value_complete(llhttp_t *p)
{
	struct http_msg *m = &flow_of(p)->m;
	struct http_str *to = NULL;
	switch (m->field_id) {
	case F_CTYPE: to = &m->ctype; break;
	case F_CENC: to = &m->cenc; break;
	case F_TENC: to = &m->tenc; break;
	case F_CLEN: to = &m->clen; break;
	case F_HOST: to = &m->host; break;
	default: break;
	}
	if (to) {
		/* a field given twice is one list (RFC 9110 5.3) */
		if (to->len)
			str_add(to, ", ", 2, HTTP_MAX_VALUE);
		str_add(to, str_c(&m->value), m->value.len, HTTP_MAX_VALUE);
	}
	m->field_id = F_NONE;
	str_clear(&m->value);
	return 0;
}

/* The start line parsed: this flow speaks HTTP, whatever follows. */
static int cb_version_complete(llhttp_t *p)
{
	flow_of(p)->spoke_http = 1;
	return 0;
}

static int cb_headers_complete(llhttp_t *p)
{
	flow_of(p)->pause = PAUSE_HEADERS;
	return HPE_PAUSED;
}

static int cb_chunk_header(llhttp_t *p)
{
	flow_of(p)->m.left = p->content_length;
	return 0;
}

static int cb_body(llhttp_t *p, const char *at, size_t n)
{
	struct http_flow *hf = flow_of(p);
	struct http_msg *m = &hf->m;
	const uint8_t *u = (const uint8_t *)at;
	if (m->left != UINT64_MAX)
		m->left = n < m->left ? m->left - n : 0;
	body_bytes(hf, hf->buf_off + (uint64_t)(u - hf->buf), u, n, hf->filling);
	return 0;
}

static int cb_message_complete(llhttp_t *p)
{
	struct http_flow *hf = flow_of(p);
	hf->m.left = 0;
	finish_message(hf, NULL);
	return 0;
}

static const llhttp_settings_t http_settings = {
	.on_message_begin = cb_message_begin,
	.on_url = cb_url,
	.on_status = cb_status,
	.on_header_field = cb_header_field,
	.on_header_value = cb_header_value,
	.on_headers_complete = cb_headers_complete,
	.on_body = cb_body,
	.on_message_complete = cb_message_complete,
	.on_header_field_complete = cb_header_field_complete,
	.on_header_value_complete = cb_header_value_complete,
	.on_chunk_header = cb_chunk_header,
	.on_version_complete = cb_version_complete,
};

static void parser_reset(struct http_flow *hf)
{
	llhttp_init(&hf->parser, hf->role == ROLE_REQUEST ? HTTP_REQUEST
				 : hf->role == ROLE_RESPONSE ? HTTP_RESPONSE : HTTP_BOTH,
		    &http_settings);
	hf->parser.data = hf;
	/* A capture shows what was sent, whatever a strict peer would have
	 * refused: keep parsing after Connection: close, take chunked over
	 * Content-Length (RFC 9112 6.3 item 3), accept unusual header value
	 * bytes. Not lenient about Transfer-Encoding: a request whose final
	 * coding is not chunked has no length (RFC 9112 6.3 item 4) and is an
	 * error, and llhttp 8's lenient mode misparses values such as
	 * ", chunked," (swallowing the next request as header lines). */
	llhttp_set_lenient_keep_alive(&hf->parser, 1);
	llhttp_set_lenient_chunked_length(&hf->parser, 1);
	llhttp_set_lenient_headers(&hf->parser, 1);
	hf->parser_ready = 1;
}

/* ---- the headers are complete (parser paused) ---------------------------------------- */

static void headers_done(struct http_flow *hf)
{
	struct http_state *st = hf->st;
	struct http_msg *m = &hf->m;
	llhttp_t *p = &hf->parser;
	m->headers_done = 1;
	m->capturing = 0;
	if (hf->role == ROLE_UNKNOWN) {
		hf->role = p->type == HTTP_REQUEST ? ROLE_REQUEST : ROLE_RESPONSE;
		if (!hf->messages)
			st->http_flows++;
	}
	m->number = ++hf->messages;
	st->messages++;
	int skip = 0, upgrade = 0;
	if (hf->role == ROLE_REQUEST) {
		hf->requests++;
		st->requests++;
		const char *meth = llhttp_method_name((llhttp_method_t)p->method);
		m->req.method = strdup(meth ? meth : "");
		m->req.url = dup_n(str_c(&m->url), m->url.len);
		m->req.host = dup_n(str_c(&m->host), m->host.len);
		m->req.number = m->number;
		m->req.head = p->method == HTTP_HEAD;
		m->req.connect = p->method == HTTP_CONNECT;
		m->req.upgrade = p->upgrade || m->req.connect;
		m->have_req = 1;
		conn_push(hf->conn, &m->req);
	} else {
		hf->responses++;
		st->responses++;
		m->status = p->status_code;
		struct http_conn *c = hf->conn;
		int interim = m->status >= 100 && m->status < 200 && m->status != 101;
		if (c && c->qlen) {
			struct http_req *r = &c->q[c->qhead];
			if (interim) {
				m->have_req = req_copy(&m->req, r) == 0;
			} else {
				m->req = *r;              /* taken */
				memset(r, 0, sizeof *r);
				c->qhead = (c->qhead + 1) % c->qcap;
				c->qlen--;
				m->have_req = 1;
			}
		} else {
			st->unpaired++;
		}
		/* RFC 9112 6.3: no body for HEAD responses, 1xx, 204, 304 */
		if ((m->have_req && m->req.head) || (m->status >= 100 && m->status < 200) ||
		    m->status == 204 || m->status == 304)
			skip = 1;
		/* RFC 9110 7.8 / 9.3.6: the connection is not HTTP any more */
		if (m->status == 101 ||
		    (m->have_req && m->req.connect && m->status >= 200 && m->status < 300)) {
			upgrade = 1;
			skip = 1;
		} else if (c && m->have_req && m->req.upgrade && !interim &&
			   m->req.number > c->refused_upto) {
			c->refused_upto = m->req.number;
		}
		if (upgrade && c)
			c->upgraded = 1;
	}
	/* What llhttp's on_headers_complete return values 1 and 2 do, set
	 * while paused (the position of the end of the headers needs the
	 * pause): no body, or no body and the rest is another protocol. */
	if (skip)
		p->flags |= F_SKIPBODY;
	if (upgrade)
		p->upgrade = 1;
	/* the body's framing (RFC 9112 6.3), as llhttp will follow it */
	if (!skip) {
		if (p->flags & F_CHUNKED) {
			m->body = m->chunked = 1;
			m->left = 0;
		} else if (p->flags & F_TRANSFER_ENCODING) {
			m->body = m->eof_body = 1;
			m->left = UINT64_MAX;
		} else if (p->flags & F_CONTENT_LENGTH) {
			m->declared = p->content_length;
			m->body = p->content_length > 0;
			m->left = p->content_length;
		} else if (hf->role == ROLE_RESPONSE && llhttp_message_needs_eof(p)) {
			m->body = m->eof_body = 1;
			m->left = UINT64_MAX;
		}
	}
	/* names */
	if (st->names16) {
		const char *ext = http_mime_ext(str_c(&m->ctype), m->ctype.len);
		snprintf(m->suffix, sizeof m->suffix, "-HTTPBODY-%03llu%s%s",
			 (unsigned long long)m->number, ext ? "." : "", ext ? ext : "");
		const char *last;
		size_t restlen, lastlen;
		if (st->decompress && m->body && gz_coding_last(str_c(&m->cenc), &restlen, &last, &lastlen) &&
		    gz_coding_known(last, lastlen)) {
			m->gz = calloc(1, sizeof *m->gz);
			m->raw = malloc(HTTP_BODY_MEM);
			if (!m->gz || !m->raw ||
			    gz_inflate_init(m->gz, GZ_DEFAULT_MAX_OUT, GZ_DEFAULT_MAX_RATIO,
					    GZ_RATIO_FLOOR) < 0) {
				if (m->gz)
					gz_inflate_free(m->gz);
				free(m->gz);
				free(m->raw);
				m->gz = NULL;
				m->raw = NULL;
			}
		}
	} else if (m->number == 1) {
		snprintf(m->suffix, sizeof m->suffix, "-HTTPBODY");
	} else {
		snprintf(m->suffix, sizeof m->suffix, "-HTTPBODY-%03llu",
			 (unsigned long long)m->number);
	}
	emit_header(hf);
}

/* ---- resynchronizing ------------------------------------------------------------------ */

/* Does s[0..n) begin like a message of this flow's role? 1 yes, 0 no, -1
 * cannot tell yet (the line goes on past n). */
static int looks_like_start(const struct http_flow *hf, const uint8_t *s, size_t n)
{
	static const char resp[] = "HTTP/1.";
	int more = 0;
	if (hf->role != ROLE_REQUEST) {
		/* RFC 9112 4: HTTP-version SP status-code */
		size_t k = n < 8 ? n : 8;
		if (!memcmp(s, resp, k < 7 ? k : 7)) {
			if (n < 8)
				more = 1;
			else if (s[7] >= '0' && s[7] <= '9')
				return 1;
		}
	}
	if (hf->role != ROLE_RESPONSE) {
		/* RFC 9112 3: method SP request-target SP HTTP-version CRLF */
		size_t i = 0;
		while (i < n && i < 24 && ((s[i] >= 'A' && s[i] <= 'Z') || s[i] == '-' || s[i] == '_'))
			i++;
		if (i == n && i < 24) {
			more = 1;
		} else if (i >= 3 && i < 24 && s[i] == ' ') {
			const uint8_t *nl = memchr(s + i, '\n', n - i);
			if (!nl) {
				if (n < HTTP_MAX_LINE)
					more = 1;
			} else {
				size_t e = (size_t)(nl - s);
				if (e > i && s[e - 1] == '\r')
					e--;
				if (e >= i + 10 && !memcmp(s + e - 9, " HTTP/1.", 8) &&
				    s[e - 1] >= '0' && s[e - 1] <= '9')
					return 1;
			}
		}
	}
	return more ? -1 : 0;
}

/* Look for a message start in p[0..n) at line starts. Returns its index,
 * or n when there is none (a line left open at the end goes to carry). */
static size_t resync_scan(struct http_flow *hf, uint64_t off, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (hf->line_start) {
			int r = looks_like_start(hf, p + i, n - i);
			if (r == 1)
				return i;
			if (r < 0) {
				/* keep the open line for the next data */
				uint8_t *c = malloc(n - i);
				if (c) {
					memcpy(c, p + i, n - i);
					free(hf->carry);
					hf->carry = c;
					hf->ncarry = n - i;
					hf->carry_off = off + i;
				}
				hf->skipped += i;
				return n;
			}
		}
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		if (!nl) {
			hf->line_start = 0;
			break;
		}
		i = (size_t)(nl - p) + 1;
		hf->line_start = 1;
	}
	hf->skipped += n;
	return n;
}

static void drop_carry(struct http_flow *hf)
{
	hf->skipped += hf->ncarry;
	free(hf->carry);
	hf->carry = NULL;
	hf->ncarry = 0;
}

/* ---- parsing ------------------------------------------------------------------------- */

static void parse(struct http_flow *hf, uint64_t off, const uint8_t *p, size_t n);

static void hold_add(struct http_flow *hf, uint64_t off, const uint8_t *p, size_t n)
{
	if (hf->hold_broken || !n)
		return;
	if (!hf->nhold)
		hf->hold_off = off;
	if (hf->hold_off + hf->nhold != off || hf->nhold + n > HTTP_MAX_HOLD) {
		hf->hold_broken = 1;
		return;
	}
	if (hf->nhold + n > hf->holdcap) {
		size_t cap = hf->holdcap ? hf->holdcap : 4096;
		while (cap < hf->nhold + n)
			cap *= 2;
		uint8_t *v = realloc(hf->hold, cap);
		if (!v) {
			hf->hold_broken = 1;
			return;
		}
		hf->hold = v;
		hf->holdcap = cap;
	}
	memcpy(hf->hold + hf->nhold, p, n);
	hf->nhold += n;
}

/* A request flow waiting for its upgrade's answer: is there one now? */
static void hold_check(struct http_flow *hf)
{
	struct http_conn *c = hf->conn;
	if (hf->mode != MODE_HOLD || !c)
		return;
	if (c->upgraded) {
		hf->mode = MODE_STOP;
		hf->st->upgrades++;
	} else if (c->refused_upto >= hf->hold_req) {
		/* the server refused: HTTP goes on with what was held */
		uint8_t *h = hf->hold;
		size_t nh = hf->nhold;
		uint64_t ho = hf->hold_off;
		int broken = hf->hold_broken;
		hf->hold = NULL;
		hf->nhold = hf->holdcap = 0;
		hf->hold_broken = 0;
		hf->mode = MODE_PARSE;
		hf->parser_ready = 0;
		if (nh)
			parse(hf, ho, h, nh);
		free(h);
		if (broken && hf->mode == MODE_PARSE) {
			finish_message(hf, "bytes were lost while an upgrade was pending");
			hf->mode = MODE_RESYNC;
			hf->line_start = 0;
		}
		return;
	} else {
		return;
	}
	free(hf->hold);
	hf->hold = NULL;
	hf->nhold = hf->holdcap = 0;
}

/* llhttp failed at pos: record it, end the message, look for the next one. */
static void parse_failed(struct http_flow *hf, uint64_t pos_off, llhttp_errno_t e)
{
	const char *reason = llhttp_get_error_reason(&hf->parser);
	flow_problem(hf, PROBLEM_ERROR, pos_off, llhttp_errno_name(e), reason);
	finish_message(hf, "a parse error ends the message");
	hf->mode = MODE_RESYNC;
	hf->parser_ready = 0;
}

static void parse(struct http_flow *hf, uint64_t off, const uint8_t *p, size_t n)
{
	uint8_t *owned = NULL;   /* a failed header block and what followed it */
	/* After a pause the parser may have work that needs no input (a
	 * message without body completes right after its headers): run it
	 * once more even when every byte is consumed. */
	int again = 0;
	while (n || again) {
		again = 0;
		if (hf->mode == MODE_STOP)
			break;
		if (!n && hf->mode != MODE_PARSE)
			break;
		if (hf->mode == MODE_HOLD) {
			hold_add(hf, off, p, n);
			break;
		}
		if (hf->mode == MODE_RESYNC) {
			size_t k = resync_scan(hf, off, p, n);
			if (k == n)
				break;
			hf->skipped += k;
			off += k;
			p += k;
			n -= k;
			hf->mode = MODE_PARSE;
			hf->parser_ready = 0;
		}
		if (!hf->parser_ready)
			parser_reset(hf);
		hf->buf = p;
		hf->buf_off = off;
		hf->pause = PAUSE_NONE;
		llhttp_errno_t e = llhttp_execute(&hf->parser, (const char *)p, n);
		const uint8_t *pos = e == HPE_OK ? p + n : (const uint8_t *)llhttp_get_error_pos(&hf->parser);
		if (!pos || pos < p || pos > p + n)
			pos = e == HPE_OK ? p + n : p;
		size_t used = (size_t)(pos - p);
		struct http_msg *m = &hf->m;
		if (m->capturing && m->active) {
			str_add(&m->hdr, (const char *)p, used, HTTP_MAX_HEADER + 1);
			if (m->hdr.len > HTTP_MAX_HEADER) {
				char why[64];
				snprintf(why, sizeof why, "header block longer than %u bytes",
					 HTTP_MAX_HEADER);
				flow_problem(hf, PROBLEM_ERROR, off + used, "HEADERS_TOO_LONG", why);
				finish_message(hf, why);
				hf->mode = MODE_RESYNC;
				hf->parser_ready = 0;
				hf->line_start = 0;
				off += used;
				p = pos;
				n -= used;
				continue;
			}
		}
		off += used;
		p = pos;
		n -= used;
		if (e == HPE_OK)
			break;
		if (e == HPE_PAUSED) {
			llhttp_resume(&hf->parser);
			if (hf->pause == PAUSE_BEGIN) {
				msg_reset(m);
				m->active = 1;
				m->capturing = 1;
				m->start = off;
			} else if (hf->pause == PAUSE_HEADERS) {
				headers_done(hf);
			}
			again = 1;
			continue;
		}
		if (e == HPE_PAUSED_UPGRADE) {
			/* the message that asked for (or granted) another protocol is done */
			if (hf->role == ROLE_REQUEST && hf->conn && !hf->conn->upgraded) {
				hf->mode = MODE_HOLD;
				hf->hold_req = hf->messages;
				hf->nhold = 0;
				hf->hold_broken = 0;
				hold_add(hf, off, p, n);
				hold_check(hf);
			} else {
				hf->mode = MODE_STOP;
				hf->st->upgrades++;
			}
			break;
		}
		/* When a header block failed, look for the next message from its
		 * second byte on (the block holds every byte since its start): a
		 * message cut short is often followed by a good one it swallowed.
		 * Inside a body, go on after the failure (a body may hold
		 * anything). Each retry starts past a message start, so it ends. */
		if (m->active && !m->headers_done && !m->hdr.trunc && m->hdr.len > 1 &&
		    m->start + m->hdr.len == off) {
			size_t hl = m->hdr.len - 1;
			uint8_t *nb = malloc(hl + n);
			if (nb) {
				memcpy(nb, m->hdr.p + 1, hl);
				if (n)
					memcpy(nb + hl, p, n);
				uint64_t noff = m->start + 1;
				parse_failed(hf, off, e);
				free(owned);
				owned = nb;
				p = nb;
				n += hl;
				off = noff;
				hf->line_start = 0;
				continue;
			}
		}
		parse_failed(hf, off, e);
		if (n) {
			hf->line_start = *p == '\n';
			hf->skipped++;
			off++;
			p++;
			n--;
		}
	}
	free(owned);
}

/* In-order bytes, with a line left over from the last data when
 * resynchronizing. */
static void feed(struct http_flow *hf, uint64_t off, const uint8_t *p, size_t n)
{
	if (hf->mode == MODE_RESYNC && hf->ncarry) {
		if (hf->carry_off + hf->ncarry != off) {
			drop_carry(hf);
		} else {
			size_t take = n < HTTP_MAX_LINE ? n : HTTP_MAX_LINE;
			uint8_t *c = realloc(hf->carry, hf->ncarry + take);
			if (!c) {
				drop_carry(hf);
			} else {
				hf->carry = c;
				memcpy(c + hf->ncarry, p, take);
				int r = looks_like_start(hf, c, hf->ncarry + take);
				if (r == 1) {
					uint8_t *line = hf->carry;
					size_t nl = hf->ncarry;
					uint64_t lo = hf->carry_off;
					hf->carry = NULL;
					hf->ncarry = 0;
					hf->mode = MODE_PARSE;
					hf->parser_ready = 0;
					parse(hf, lo, line, nl);
					free(line);
				} else if (r < 0 && take == n && hf->ncarry + n < HTTP_MAX_LINE) {
					hf->ncarry += n;   /* the line goes on still */
					return;
				} else {
					drop_carry(hf);
					hf->line_start = 0;
				}
			}
		}
	}
	parse(hf, off, p, n);
}

/* ---- stream events ------------------------------------------------------------------- */

static void hole(struct http_flow *hf, uint64_t off, uint64_t len)
{
	struct http_msg *m = &hf->m;
	if (hf->mode == MODE_HOLD) {
		hf->hold_broken = 1;
		return;
	}
	if (hf->mode == MODE_STOP)
		return;
	if (hf->mode == MODE_RESYNC) {
		drop_carry(hf);
		hf->line_start = 1;
		return;
	}
	if (!m->active) {
		/* between messages: what follows may start anywhere */
		if (hf->messages || hf->spoke_http) {
			char why[160];
			snprintf(why, sizeof why, "a hole of %llu bytes at offset %llu between "
				 "messages: what it hid is lost", (unsigned long long)len,
				 (unsigned long long)off);
			flow_problem(hf, PROBLEM_HOLE, off, "HOLE", why);
		}
		hf->mode = MODE_RESYNC;
		hf->line_start = 1;
		return;
	}
	if (m->headers_done && m->body && m->left > 0) {
		/* inside body bytes of known extent (or running to the end):
		 * zeros stand for what is missing */
		uint64_t fill = len < m->left ? len : m->left;
		if (fill > HTTP_MAX_FILL)
			fill = 0;
		uint64_t done = 0;
		hf->filling = 1;
		while (done < fill && hf->mode == MODE_PARSE && m->active) {
			size_t k = fill - done < HTTP_ZEROS ? (size_t)(fill - done) : HTTP_ZEROS;
			parse(hf, off + done, http_zeros, k);
			done += k;
		}
		hf->filling = 0;
		if (fill)
			hf->st->gaps_filled++;
		if (done == len && hf->mode == MODE_PARSE)
			return;   /* the hole was all body: the message goes on */
		if (m->active) {
			char why[160];
			snprintf(why, sizeof why, "a hole of %llu bytes at offset %llu hides the rest "
				 "of the message", (unsigned long long)len, (unsigned long long)off);
			flow_problem(hf, PROBLEM_HOLE, off, "HOLE", why);
			finish_message(hf, why);
		}
	} else {
		char why[160];
		snprintf(why, sizeof why, "a hole of %llu bytes at offset %llu hides %s",
			 (unsigned long long)len, (unsigned long long)off,
			 m->headers_done ? "the chunk framing" : "the end of the headers");
		flow_problem(hf, PROBLEM_HOLE, off, "HOLE", why);
		finish_message(hf, why);
	}
	hf->mode = MODE_RESYNC;
	hf->parser_ready = 0;
	hf->line_start = 1;
}

static void catch_up(struct http_flow *hf, uint64_t off)
{
	if (off > hf->next_off)
		hole(hf, hf->next_off, off - hf->next_off);   /* never expected: defensive */
}

static void http_flow_open(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
			   void **flow_state)
{
	struct http_state *st = state;
	struct http_flow *hf = calloc(1, sizeof *hf);
	if (!hf) {
		tf_logf(host, ctx, TF_LOG_WARN, "out of memory");
		return;
	}
	hf->st = st;
	hf->flow = flow;
	hf->ctx = ctx;
	hf->line_start = 1;
	hf->conn = conn_get(st, flow->session_id);
	if (hf->conn)
		hf->conn->refs++;
	st->flows++;
	*flow_state = hf;
}

static void http_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
		      void **flow_state, uint64_t offset, const uint8_t *data, size_t len)
{
	struct http_flow *hf = *flow_state;
	(void)state;
	if (!hf || !len)
		return;
	hf->ctx = ctx;
	hf->flow = flow;
	catch_up(hf, offset);
	hf->next_off = offset + len;
	hold_check(hf);
	if (hf->conn && hf->conn->upgraded && hf->mode == MODE_PARSE && !hf->m.active &&
	    hf->role == ROLE_REQUEST) {
		hf->mode = MODE_STOP;   /* the answer switched protocols */
		hf->st->upgrades++;
	}
	feed(hf, offset, data, len);
}

static void http_gap(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
		     void **flow_state, uint64_t offset, uint64_t len)
{
	struct http_flow *hf = *flow_state;
	(void)state;
	if (!hf || !len)
		return;
	hf->ctx = ctx;
	hf->flow = flow;
	catch_up(hf, offset);
	hf->next_off = offset + len;
	hold_check(hf);
	hole(hf, offset, len);
}

static void report_flow(struct http_flow *hf)
{
	struct tf_ctx *ctx = hf->ctx;
	struct tf_entry *e = hf->flow->entry;
	host->report_start(ctx, e, "http");
	host->report_attr(ctx, e, "role", hf->role == ROLE_REQUEST ? "requests" :
			  hf->role == ROLE_RESPONSE ? "responses" : "unknown");
	report_u64(ctx, e, "messages", hf->messages);
	report_u64(ctx, e, "bodies", hf->bodies);
	if (hf->incomplete)
		report_u64(ctx, e, "incomplete", hf->incomplete);
	if (hf->nerrors)
		report_u64(ctx, e, "errors", hf->nerrors);
	if (hf->nholes)
		report_u64(ctx, e, "holes", hf->nholes);
	if (hf->skipped)
		report_u64(ctx, e, "skipped_bytes", hf->skipped);
	if (hf->mode == MODE_STOP)
		host->report_attr(ctx, e, "upgraded", "yes");
	if (hf->flow->flags & TF_FLOW_REWRITTEN)
		host->report_attr(ctx, e, "stream_rewritten", "yes");
	for (size_t i = 0; i < hf->nerr; i++) {
		static const char *const what[] = { "error", "hole", "incomplete" };
		host->report_start(ctx, e, what[hf->err[i].kind]);
		report_u64(ctx, e, "offset", hf->err[i].offset);
		host->report_attr(ctx, e, "code", hf->err[i].code);
		host->report_attr(ctx, e, "reason", hf->err[i].reason);
		host->report_end(ctx, e);
	}
	host->report_end(ctx, e);
}

static void http_flow_close(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
			    void **flow_state)
{
	struct http_state *st = state;
	struct http_flow *hf = *flow_state;
	if (!hf)
		return;
	hf->ctx = ctx;
	hf->flow = flow;
	if (flow->length > hf->next_off)
		catch_up(hf, flow->length);
	hold_check(hf);
	if (hf->mode == MODE_HOLD)
		hf->mode = MODE_STOP;   /* no answer came: the held bytes stay unparsed */
	struct http_msg *m = &hf->m;
	if (hf->mode == MODE_PARSE && m->active) {
		if (m->headers_done && m->eof_body) {
			/* RFC 9112 6.3 item 8: the body ends with the connection */
			hf->buf = NULL;
			llhttp_finish(&hf->parser);
			finish_message(hf, NULL);
		} else if (m->headers_done) {
			char why[160];
			if (m->body && m->declared)
				snprintf(why, sizeof why, "the flow ends inside the body (%llu of %llu "
					 "bytes)", (unsigned long long)m->wire,
					 (unsigned long long)m->declared);
			else
				snprintf(why, sizeof why, "the flow ends inside the body (%llu bytes)",
					 (unsigned long long)m->wire);
			flow_problem(hf, PROBLEM_CUT, flow->length, "TRUNCATED_BODY", why);
			finish_message(hf, why);
		} else {
			flow_problem(hf, PROBLEM_ERROR, m->start, "TRUNCATED_HEADERS",
				   "the flow ends inside the header block");
			finish_message(hf, "the flow ends inside the header block");
		}
	}
	drop_carry(hf);
	if (hf->messages || hf->spoke_http)
		report_flow(hf);
	/* a flow where no message was found is not HTTP: its bytes are not
	 * counted as errors */
	if (hf->messages || hf->spoke_http) {
		st->skipped += hf->skipped;
		st->errors += hf->nerrors;
		if (!hf->messages)
			st->http_flows++;
	}
	msg_free(&hf->m);
	free(hf->hold);
	free(hf->err);
	conn_release(st, hf->conn);
	free(hf);
	*flow_state = NULL;
}

/* Our own objects come back through on_object while emit_object runs:
 * that is where the host tells their file name. */
static void http_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	struct http_state *st = state;
	(void)ctx;
	if (st->emitting && !st->emitted_path && obj->depth == 1 && obj->path &&
	    !strcmp(obj->producer, "http"))
		st->emitted_path = strdup(obj->path);
}

/* ---- init and shutdown ----------------------------------------------------------------- */

static int http_init(struct tf_ctx *ctx, void **state)
{
	struct http_state *st = calloc(1, sizeof *st);
	if (!st) {
		tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	st->alert_fd = -1;
	const char *v = host->get_param(ctx, "http_names");
	if (v && !strcmp(v, "1.6")) {
		st->names16 = 1;
	} else if (v && *v) {
		tf_logf(host, ctx, TF_LOG_ERROR, "http_names=%s: use '1.6' or nothing", v);
		goto fail;
	}
	v = host->get_param(ctx, "decompress");
	st->decompress = !(v && !strcmp(v, "no"));
	v = host->get_param(ctx, "http_alert_fd");
	if (v && *v && strcmp(v, "-1")) {
		char *end;
		errno = 0;
		long fd = strtol(v, &end, 10);
		if (errno || *end || fd < 0 || fd > 1000000) {
			tf_logf(host, ctx, TF_LOG_ERROR, "http_alert_fd=%s: not a file descriptor", v);
			goto fail;
		}
		if (fcntl((int)fd, F_GETFD) < 0) {
			tf_logf(host, ctx, TF_LOG_ERROR, "http_alert_fd=%ld: %s", fd, strerror(errno));
			goto fail;
		}
		st->alert_fd = (int)fd;
	}
	v = host->get_param(ctx, "http_cmd");
	if (v && *v) {
		size_t n = strlen(v) + sizeof " \"$1\"";
		if (!(st->script = malloc(n))) {
			tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
			goto fail;
		}
		snprintf(st->script, n, "%s \"$1\"", v);
	}
	/* http_cmd and http_alert_fd hand a body's path on as its file is
	 * opened and closed: then files are written at once */
	if (!st->script && st->alert_fd < 0 && TF_HAS(host, struct tf_host, files_later))
		host->files_later(ctx);
	*state = st;
	return 0;
fail:
	free(st->script);
	free(st);
	return -EINVAL;
}

static void http_shutdown(struct tf_ctx *ctx, void *state)
{
	struct http_state *st = state;
	if (!st)
		return;
	while (st->running > 0)
		reap(st, 1);
	if (st->http_flows || st->messages) {
		host->report_start(ctx, NULL, "http_summary");
		report_u64(ctx, NULL, "flows", st->flows);
		report_u64(ctx, NULL, "http_flows", st->http_flows);
		report_u64(ctx, NULL, "messages", st->messages);
		report_u64(ctx, NULL, "requests", st->requests);
		report_u64(ctx, NULL, "responses", st->responses);
		report_u64(ctx, NULL, "header_blocks", st->headers);
		report_u64(ctx, NULL, "bodies", st->bodies);
		report_u64(ctx, NULL, "body_bytes", st->body_bytes);
		report_u64(ctx, NULL, "incomplete", st->incomplete);
		report_u64(ctx, NULL, "errors", st->errors);
		report_u64(ctx, NULL, "skipped_bytes", st->skipped);
		report_u64(ctx, NULL, "unpaired_responses", st->unpaired);
		report_u64(ctx, NULL, "upgrades", st->upgrades);
		report_u64(ctx, NULL, "holes_filled", st->gaps_filled);
		if (st->write_failures)
			report_u64(ctx, NULL, "write_failures", st->write_failures);
		if (st->script)
			report_u64(ctx, NULL, "cmd_failures", st->cmd_failures);
		host->report_end(ctx, NULL);
	}
	for (size_t i = 0; i < st->nbuckets; i++) {
		while (st->buckets[i]) {
			struct http_conn *c = st->buckets[i];
			c->refs = 1;
			conn_release(st, c);
		}
	}
	free(st->buckets);
	free(st->emitted_path);
	free(st->script);
	free(st);
}

static const struct tf_scanner http_scanner = {
	.size = sizeof(struct tf_scanner),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.name = "http",
	.version = "1.0",
	.description = "Every HTTP/1.x object of every connection (llhttp): for flow file X, "
		       "message n gives X-HTTP and X-HTTPBODY (n = 1) or X-HTTP-00n and "
		       "X-HTTPBODY-00n: the header block and the body after transfer decoding "
		       "(content coding kept), from requests (uploads) and responses alike. "
		       "Keep-alive, pipelining (responses paired with requests in order), "
		       "chunked, Content-Length and close-delimited bodies, HEAD/1xx/204/304 "
		       "without bodies; 101 and CONNECT end parsing. Each object is a derived "
		       "object (method, url, host, status, content_type, content_encoding in "
		       "its metadata; <byte_runs> in the flow; <gaps> for missing bytes, which "
		       "are zeros in the file). Parse errors resynchronize at the next message "
		       "and are counted in <http> per flow and <http_summary>.",
	.params = http_params,
	.init = http_init,
	.shutdown = http_shutdown,
	.on_flow_open = http_flow_open,
	.on_data = http_data,
	.on_gap = http_gap,
	.on_flow_close = http_flow_close,
	.on_object = http_object,
};

TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *h)
{
	if (!h || h->abi_major != TF_ABI_MAJOR)
		return NULL;
	host = h;
	return &http_scanner;
}
