/* Flow files: naming, buffered writes, the descriptor cache. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ip.h"
#include "stats.h"
#include "store.h"

#define BUF_MIN (16u * 1024)
#define BUF_MAX (64u * 1024)
#define RESERVED_FDS 16          /* stdio, the report, inputs, scanners */
#define MAX_NAME 4096
#define CREATE_AHEAD 64          /* files being created in the background at most */
/* Names kept in the set (about 16 MB); then it starts over without files,
 * and reserve mode ends with files (memory stays bounded either way). */
#define NAMES_MAX (1u << 20)

struct store {
	struct store_config cfg;
	int max_fds;
	int open_fds;
	struct store_file *fd_head, *fd_tail;       /* least recently used first */
	struct store_file *dirty_head, *dirty_tail; /* oldest buffer first */
	uint64_t buffered;                          /* bytes allocated to buffers */
	struct writer *writer;                      /* NULL: every write is synchronous */
	struct store_file *creating[CREATE_AHEAD];  /* oldest first (start_create) */
	int n_creating;
	char errmsg[512];
	/* Names given out without files (store_file_assign_name), or every
	 * name given out in reserve mode: hashes of the names, open
	 * addressing, 0 = empty slot. */
	uint64_t *names;
	size_t names_cap, names_count;
	/* Reserve mode (see store_config.defer_files): names are decided from
	 * the set above, files are created when a write needs them or by a
	 * detached job at their close. */
	int reserve;
	int look_first;           /* the directory had files: a name must be free there too */
	int names_frozen;         /* reserve mode ended with the set full (names_test_and_add) */
	/* Failures of detached jobs, for the packet loop to take in
	 * (store_poll_errors): count, and the message of the first one since
	 * the last poll. */
	pthread_mutex_t late_lock;
	atomic_uint late_errors;
	unsigned late_seen;
	char late_msg[512];
};

/* ---- small list helpers ------------------------------------------------ */

#define LIST_UNLINK(s, f, head, tail, prev, next) do {                 \
	if ((f)->prev) (f)->prev->next = (f)->next; else (s)->head = (f)->next; \
	if ((f)->next) (f)->next->prev = (f)->prev; else (s)->tail = (f)->prev; \
	(f)->prev = (f)->next = NULL;                                   \
} while (0)

#define LIST_APPEND(s, f, head, tail, prev, next) do {                 \
	(f)->prev = (s)->tail; (f)->next = NULL;                        \
	if ((s)->tail) (s)->tail->next = (f); else (s)->head = (f);     \
	(s)->tail = (f);                                                \
} while (0)

const char *store_last_error(const struct store *s)
{
	return s->errmsg;
}

static int mkdir_parents(const char *path, int include_last)
{
	char buf[MAX_NAME];
	size_t n = strlen(path);
	if (n >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || (include_last && buf[i] == '\0')) {
			if (buf[i] == '\0' && !include_last)
				break;
			char saved = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			buf[i] = saved;
		}
	}
	return 0;
}

/* 1 when dir has no entries: every name in it is then one this run gave. */
static int dir_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	int empty = 1;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

struct store *store_new(const struct store_config *cfg, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	if (!s->cfg.outdir || !*s->cfg.outdir)
		s->cfg.outdir = ".";
	if (!s->cfg.template_str)
		s->cfg.template_str = "%A.%a-%B.%b%V%v%C%c";
	if (!s->cfg.max_buffered)
		s->cfg.max_buffered = 64ull << 20;
	s->max_fds = cfg->max_fds;
	if (s->max_fds <= 0) {
		struct rlimit rl;
		long lim = 1024;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			lim = (long)rl.rlim_cur;
		s->max_fds = lim > RESERVED_FDS + 4 ? (int)(lim - RESERVED_FDS) : 4;
	}
	int rc = mkdir_parents(s->cfg.outdir, 1);
	struct stat st;
	if (rc == 0 && (stat(s->cfg.outdir, &st) < 0 || !S_ISDIR(st.st_mode)))
		rc = -ENOTDIR;
	if (rc == 0 && !s->cfg.no_files && access(s->cfg.outdir, W_OK | X_OK) < 0)
		rc = -errno;
	if (rc < 0) {
		snprintf(err, errlen, "cannot use output directory: %s", strerror(-rc));
		free(s);
		return NULL;
	}
	if (s->cfg.background_writes && !s->cfg.no_files) {
		/* In flight at most 32 full buffers, and a quarter of the cap. */
		uint64_t in_flight = s->cfg.max_buffered / 4;
		if (in_flight > 32ull * BUF_MAX)
			in_flight = 32ull * BUF_MAX;
		if (in_flight < BUF_MAX)
			in_flight = BUF_MAX;
		s->writer = writer_new((size_t)in_flight, BUF_MAX);
	}
	pthread_mutex_init(&s->late_lock, NULL);
	s->reserve = s->writer && s->cfg.defer_files && !s->cfg.side_suffixes;
	s->look_first = s->reserve && !dir_is_empty(s->cfg.outdir);
	if (s->reserve && s->max_fds > 4)
		s->max_fds--;   /* the detached jobs' thread has one open at a time */
	return s;
}

void store_file_init(struct store_file *f)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
}

/* ---- names ---------------------------------------------------------------- */

struct outbuf {
	char *p;
	size_t left;
	int overflow;
};

static void out_str(struct outbuf *o, const char *s)
{
	size_t n = strlen(s);
	if (n >= o->left) {
		o->overflow = 1;
		n = o->left ? o->left - 1 : 0;
	}
	memcpy(o->p, s, n);
	o->p += n;
	o->left -= n;
	if (o->left)
		*o->p = '\0';
}

static void out_fmt_u(struct outbuf *o, const char *fmt, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof tmp, fmt, v);
	out_str(o, tmp);
}

static void mac_text(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* always: -Fc, the counter on the first connection's name too. */
static int expand_name(const char *tmpl, const struct flow_ident *id,
		       uint32_t connection_count, int always, char *buf, size_t len)
{
	struct outbuf o = { buf, len, 0 };
	char tmp[64];
	if (len)
		buf[0] = '\0';
	for (const char *t = tmpl; *t; t++) {
		if (*t != '%' || !t[1]) {
			char one[2] = { *t, 0 };
			out_str(&o, one);
			continue;
		}
		t++;
		switch (*t) {
		case 'A': ip_addr_text(&id->src, 1, tmp, sizeof tmp); out_str(&o, tmp); break;
		case 'B': ip_addr_text(&id->dst, 1, tmp, sizeof tmp); out_str(&o, tmp); break;
		case 'a': out_fmt_u(&o, "%05llu", id->sport); break;
		case 'b': out_fmt_u(&o, "%05llu", id->dport); break;
		case 'E':
		case 'e':
			if (id->has_mac) {
				mac_text(*t == 'E' ? id->src_mac : id->dst_mac, tmp, sizeof tmp);
				out_str(&o, tmp);
			}
			break;
		case 'V': if (id->has_vlan) out_str(&o, "--"); break;
		case 'v': if (id->has_vlan) out_fmt_u(&o, "%llu", id->vlan); break;
		case 'C': if (connection_count || always) out_str(&o, "c"); break;
		case 'c':
			if (connection_count || always)
				out_fmt_u(&o, "%04llu", connection_count);
			break;
		case '#': out_fmt_u(&o, "%llu", connection_count); break;
		case 't': out_fmt_u(&o, "%llu", (unsigned long long)id->first_sec); break;
		case 'T': {
			time_t tt = (time_t)id->first_sec;
			struct tm tm;
			gmtime_r(&tt, &tm);
			strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%SZ", &tm);
			out_str(&o, tmp);
			break;
		}
		case 'S': out_fmt_u(&o, "%llu", id->session_id); break;
		case 'N': out_fmt_u(&o, "%03llu", id->flow_number % 1000); break;
		case 'K': out_fmt_u(&o, "%03llu", (id->flow_number / 1000) % 1000); break;
		case 'M': out_fmt_u(&o, "%03llu", (id->flow_number / 1000000) % 1000); break;
		case 'G': out_fmt_u(&o, "%03llu", (id->flow_number / 1000000000) % 1000); break;
		case '%': out_str(&o, "%"); break;
		default: {
			char two[3] = { '%', *t, 0 };
			out_str(&o, two);
			break;
		}
		}
	}
	if (o.overflow)
		return -ENAMETOOLONG;
	/* Names never leave the output directory: no absolute paths, no "..",
	 * no empty or "." components, no control bytes. */
	char *w = buf;
	const char *r = buf;
	while (*r == '/')
		r++;
	while (*r) {
		const char *end = strchr(r, '/');
		size_t n = end ? (size_t)(end - r) : strlen(r);
		int skip = n == 0 || (n == 1 && r[0] == '.') ;
		int dots = n == 2 && r[0] == '.' && r[1] == '.';
		if (!skip) {
			if (w != buf)
				*w++ = '/';
			for (size_t i = 0; i < n; i++) {
				unsigned char ch = (unsigned char)r[i];
				*w++ = (dots || ch < 0x20 || ch == 0x7f) ? '_' : (char)ch;
			}
		}
		r += n;
		while (*r == '/')
			r++;
	}
	*w = '\0';
	if (w == buf)
		return -EINVAL;
	return 0;
}

int store_expand_name(const char *tmpl, const struct flow_ident *id,
		      uint32_t connection_count, char *buf, size_t len)
{
	return expand_name(tmpl, id, connection_count, 0, buf, len);
}

/* ---- descriptors ------------------------------------------------------- */

static int set_error(struct store *s, const char *what, const char *path, int e);
static int reserve_name(struct store *s, struct store_file *f);
static uint64_t name_hash(const char *name);
static int names_test(const struct store *s, uint64_t h);

/* Reserve mode ends when the set of names is full (its memory stays
 * bounded; a forgotten name could be given twice): from then on names come
 * from creating the files, and the set only says which names were given
 * (their files may not exist yet). Checked before naming, never during. */
static void reserve_check(struct store *s)
{
	if (s->reserve && s->names_count >= NAMES_MAX) {
		s->reserve = 0;
		s->names_frozen = 1;
	}
}
static void adopt_create(struct store *s, struct store_file *f);

/* Wait for f's writes in the background; a failure among them fails f. 0 or
 * -errno. Called before anything else is done with f's file. */
static int settle(struct store *s, struct store_file *f)
{
	if (!s->writer)
		return 0;
	int e = writer_wait(s->writer, &f->wf);
	if (!e)
		return 0;
	if (!f->failed) {
		f->failed = 1;
		tf_stats.write_errors++;
	}
	return set_error(s, "cannot write", f->path ? f->path : "(unnamed)", e);
}

static void fd_close(struct store *s, struct store_file *f)
{
	if (f->fd < 0)
		return;
	settle(s, f);
	close(f->fd);
	f->fd = -1;
	s->open_fds--;
	LIST_UNLINK(s, f, fd_head, fd_tail, fd_prev, fd_next);
}

static int evict_one(struct store *s)
{
	if (!s->fd_head && s->n_creating) {
		/* only files being created hold descriptors: finish the oldest */
		adopt_create(s, s->creating[0]);
		if (!s->fd_head)
			return 0;       /* it failed, its descriptor is free again */
	}
	if (!s->fd_head)
		return -1;
	fd_close(s, s->fd_head);
	tf_stats.fd_evictions++;
	return 0;
}

static int set_error(struct store *s, const char *what, const char *path, int e)
{
	snprintf(s->errmsg, sizeof s->errmsg, "%s %s: %s", what, path, strerror(e));
	return -e;
}

/* Does NAME+suffix exist for one of the side-file suffixes? */
static int side_taken(const struct store *s, const char *path)
{
	if (!s->cfg.side_suffixes)
		return 0;
	for (const char *const *sfx = s->cfg.side_suffixes; *sfx; sfx++) {
		char side[MAX_NAME + 16];
		struct stat st;
		if ((size_t)snprintf(side, sizeof side, "%s%s", path, *sfx) >= sizeof side)
			return 1;
		if (lstat(side, &st) == 0 || errno != ENOENT)
			return 1;
	}
	return 0;
}

/* outdir/name, malloc'd; NULL when out of memory. */
static char *outdir_path(const struct store *s, const char *name)
{
	size_t need = strlen(s->cfg.outdir) + 1 + strlen(name) + 1;
	char *path = malloc(need);
	if (path)
		snprintf(path, need, "%s/%s", s->cfg.outdir, name);
	return path;
}

/* f's file is at path (malloc'd, outdir_path), which f keeps. */
static void take_path(const struct store *s, struct store_file *f, char *path)
{
	f->path = path;
	f->name = path + strlen(s->cfg.outdir) + 1;
}

/* Create path as a new file, with the template's directories. When an
 * earlier connection's side file has the name, the name counts as taken.
 * The descriptor, or -1 with errno (EEXIST: the name is taken). */
static int create_new(const struct store *s, const char *path)
{
	if (strchr(path + strlen(s->cfg.outdir) + 1, '/'))
		mkdir_parents(path, 0);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0 && side_taken(s, path)) {
		close(fd);
		unlink(path);
		errno = EEXIST;
		return -1;
	}
	return fd;
}

/* ---- creating files in the background -------------------------------------
 *
 * Creating a file is most of what a short flow costs (the directory lookup
 * and insertion, a new inode: 40 % of a run of 40 000 small connections), and
 * it need not hold up the packet loop. When a flow's first bytes arrive, its
 * file is created by the writer threads under the name ensure_open would try
 * first; ensure_open later takes the descriptor over. If that creation
 * failed (the name is taken, say), ensure_open goes its usual way from the
 * same name, so names and errors are those of creating the file then. */

struct bg_create {
	const struct store *s;
	char *path;
	int fd;                 /* the new file, or -1 */
};

static void bg_create_run(void *arg)
{
	struct bg_create *c = arg;
	c->fd = create_new(c->s, c->path);
}

/* Start creating f's file (it has bytes to hold and no file yet). The
 * descriptor counts against the cap from here on. */
static void start_create(struct store *s, struct store_file *f)
{
	char name[MAX_NAME];
	if (expand_name(s->cfg.template_str, &f->id, f->connection_count, s->cfg.counter_always,
			name, sizeof name) < 0)
		return;                 /* ensure_open will say why */
	if (s->n_creating == CREATE_AHEAD)
		adopt_create(s, s->creating[0]);
	while (s->open_fds >= s->max_fds && evict_one(s) == 0)
		;
	if (s->open_fds >= s->max_fds)
		return;
	struct bg_create *c = malloc(sizeof *c);
	char *path = outdir_path(s, name);
	if (!c || !path) {
		free(c);
		free(path);
		return;
	}
	c->s = s;
	c->path = path;
	c->fd = -1;
	f->creating = c;
	s->creating[s->n_creating++] = f;
	s->open_fds++;
	writer_call(s->writer, &f->wf, bg_create_run, c);
}

/* Wait for f's creation in the background and take its descriptor, or
 * forget it when it failed. */
static void adopt_create(struct store *s, struct store_file *f)
{
	struct bg_create *c = f->creating;
	writer_wait(s->writer, &f->wf);
	for (int i = 0; i < s->n_creating; i++) {
		if (s->creating[i] == f) {
			memmove(&s->creating[i], &s->creating[i + 1],
				(size_t)(s->n_creating - i - 1) * sizeof s->creating[0]);
			s->n_creating--;
			break;
		}
	}
	f->creating = NULL;
	if (c->fd < 0) {
		s->open_fds--;
		free(c->path);
		free(c);
		return;
	}
	take_path(s, f, c->path);
	f->fd = c->fd;
	free(c);
	LIST_APPEND(s, f, fd_head, fd_tail, fd_prev, fd_next);
	if (s->cfg.on_create)
		s->cfg.on_create(s->cfg.on_create_arg, f);
}

/* Open (creating on first use) f's file; the name gets the first free
 * connection counter, so an earlier connection's file is never overwritten. */
static int ensure_open(struct store *s, struct store_file *f)
{
	if (f->creating)
		adopt_create(s, f);
	if (f->fd >= 0) {
		if (s->fd_tail != f) {
			LIST_UNLINK(s, f, fd_head, fd_tail, fd_prev, fd_next);
			LIST_APPEND(s, f, fd_head, fd_tail, fd_prev, fd_next);
		}
		return 0;
	}
	while (s->open_fds >= s->max_fds && evict_one(s) == 0)
		;
	int fd = -1;
	reserve_check(s);
	if (f->reserved || (s->reserve && !f->path)) {
		if (!f->path) {
			int rc = reserve_name(s, f);
			if (rc < 0)
				return rc;
		}
		/* the name is this run's alone: the file must not exist */
		while ((fd = create_new(s, f->path)) < 0 && errno == EMFILE && evict_one(s) == 0)
			;
		if (fd < 0)
			return set_error(s, "cannot create", f->path, errno);
		f->reserved = 0;
	} else if (f->path) {
		while ((fd = open(f->path, O_RDWR | O_CLOEXEC)) < 0 && errno == EMFILE &&
		       evict_one(s) == 0)
			;
		if (fd < 0)
			return set_error(s, "cannot open", f->path, errno);
	} else {
		char name[MAX_NAME];
		for (uint32_t cc = f->connection_count;; cc++) {
			int rc = expand_name(s->cfg.template_str, &f->id, cc, s->cfg.counter_always,
					     name, sizeof name);
			if (rc < 0)
				return set_error(s, "cannot name flow file", s->cfg.template_str, -rc);
			if (s->names_frozen && names_test(s, name_hash(name)))
				continue;       /* reserved, maybe not created yet */
			char *path = outdir_path(s, name);
			if (!path)
				return -ENOMEM;
			fd = create_new(s, path);
			if (fd < 0 && errno == EMFILE && evict_one(s) == 0) {
				free(path);
				cc--;
				continue;
			}
			if (fd >= 0) {
				take_path(s, f, path);
				f->connection_count = cc;
				if (s->cfg.on_create)
					s->cfg.on_create(s->cfg.on_create_arg, f);
				break;
			}
			int e = errno;
			if (e != EEXIST || cc == UINT32_MAX) {
				set_error(s, "cannot create", path, e);
				free(path);
				return -e;
			}
			free(path);
		}
	}
	f->fd = fd;
	s->open_fds++;
	LIST_APPEND(s, f, fd_head, fd_tail, fd_prev, fd_next);
	return 0;
}

static int write_at(struct store *s, struct store_file *f, uint64_t off,
		    const uint8_t *data, size_t len)
{
	if (f->failed)
		return -EIO;
	int rc = settle(s, f);
	if (rc < 0)
		return rc;
	rc = ensure_open(s, f);
	if (rc < 0)
		goto fail;
	int e = writer_pwrite_all(f->fd, data, len, off);
	if (e) {
		rc = set_error(s, "cannot write", f->path, e);
		goto fail;
	}
	if (off + len > f->disk_end)
		f->disk_end = off + len;
	return 0;
fail:
	f->failed = 1;
	tf_stats.write_errors++;
	return rc;
}

static void buf_free(struct store *s, struct store_file *f)
{
	if (f->in_dirty) {
		LIST_UNLINK(s, f, dirty_head, dirty_tail, dirty_prev, dirty_next);
		f->in_dirty = 0;
	}
	s->buffered -= f->buf_cap;
	free(f->buf);
	f->buf = NULL;
	f->buf_cap = 0;
	f->buf_len = 0;
}

static int flush(struct store *s, struct store_file *f)
{
	int rc = 0;
	if (f->buf_len) {
		rc = write_at(s, f, f->buf_off, f->buf, f->buf_len);
		f->buf_off += f->buf_len;
		f->buf_len = 0;
	}
	return rc;
}

/* Open (or create) f's file; a failure fails f. 0 or -errno. */
static int open_or_fail(struct store *s, struct store_file *f)
{
	if (f->failed)
		return -EIO;
	int rc = ensure_open(s, f);
	if (rc < 0) {
		f->failed = 1;
		tf_stats.write_errors++;
	}
	return rc;
}

/* Hand f's buffered bytes to the writer threads (f's file is open); they
 * own f->buf from here on, the caller gives f another or none. */
static void submit_buffer(struct store *s, struct store_file *f)
{
	writer_submit(s->writer, &f->wf, f->fd, f->buf_off, f->buf, f->buf_len, f->buf_cap);
	f->buf_off += f->buf_len;
	if (f->buf_off > f->disk_end)
		f->disk_end = f->buf_off;
	f->buf_len = 0;
}

/* A full buffer: hand it to the writer threads and go on with a new one of
 * the same size (this flow is a big one). Without the thread, write it now. */
static int flush_full(struct store *s, struct store_file *f)
{
	if (!s->writer)
		return flush(s, f);
	int rc = open_or_fail(s, f);
	if (rc < 0)
		return rc;
	uint8_t *nb = f->buf_cap == BUF_MAX ? writer_buffer(s->writer) : malloc(f->buf_cap);
	if (!nb)
		return flush(s, f);
	submit_buffer(s, f);
	f->buf = nb;
	return 0;
}

/* Give up f's buffer: its bytes are written (by the writer threads when
 * there are some, which then free or reuse it) and the memory no longer
 * counts against the cap. */
static void buf_release(struct store *s, struct store_file *f)
{
	if (s->writer && f->buf_len && !f->failed && ensure_open(s, f) == 0) {
		submit_buffer(s, f);
		f->buf = NULL;       /* the writer frees it */
	} else {
		flush(s, f);
	}
	buf_free(s, f);
}

/* Keep the memory held by buffers under the cap: let go of the oldest ones. */
static void relieve_pressure(struct store *s, struct store_file *keep)
{
	while (s->buffered > s->cfg.max_buffered / 2 && s->dirty_head) {
		struct store_file *f = s->dirty_head;
		if (f == keep) {
			if (!f->dirty_next)
				break;
			f = f->dirty_next;
		}
		buf_release(s, f);
	}
}

static int buf_reserve(struct store *s, struct store_file *f, uint32_t need)
{
	if (need <= f->buf_cap)
		return 0;
	uint32_t cap = f->buf_cap ? f->buf_cap : BUF_MIN;
	while (cap < need)
		cap *= 2;
	uint8_t *nb = realloc(f->buf, cap);
	if (!nb)
		return -ENOMEM;
	s->buffered += cap - f->buf_cap;
	TF_STATS_PEAK(peak_write_buffer_bytes, s->buffered);
	f->buf = nb;
	f->buf_cap = cap;
	if (!f->in_dirty) {
		LIST_APPEND(s, f, dirty_head, dirty_tail, dirty_prev, dirty_next);
		f->in_dirty = 1;
	}
	if (s->buffered > s->cfg.max_buffered)
		relieve_pressure(s, f);
	return 0;
}

int store_write(struct store *s, struct store_file *f, uint64_t off,
		const uint8_t *data, uint32_t len)
{
	if (!len)
		return 0;
	int first = f->size == 0;
	if (off + len > f->size)
		f->size = off + len;
	if (s->cfg.no_files)
		return 0;
	if (f->failed)
		return -EIO;
	/* at the first bytes only: a creation that could not start (no name, no
	 * memory) is not tried again for every packet */
	if (first && !f->path && s->writer && s->cfg.create_ahead && !s->reserve &&
	    !s->names_frozen)   /* it would not skip the names given in reserve mode */
		start_create(s, f);
	if (f->buf_len == 0)
		f->buf_off = off;
	if (off != f->buf_off + f->buf_len) {
		/* Not an append (a late byte for a hole, or data after a gap):
		 * flush what is buffered and place these bytes directly. */
		int rc = flush(s, f);
		if (rc < 0)
			return rc;
		if (len >= BUF_MAX / 4)
			return write_at(s, f, off, data, len);
		f->buf_off = off;
	}
	while (len) {
		if (f->buf_len == BUF_MAX) {
			int rc = flush_full(s, f);
			if (rc < 0)
				return rc;
		}
		uint32_t room = BUF_MAX - f->buf_len;
		uint32_t n = len < room ? len : room;
		if (buf_reserve(s, f, f->buf_len + n) < 0) {
			int rc = flush(s, f);
			if (rc < 0)
				return rc;
			return write_at(s, f, off, data, len);
		}
		memcpy(f->buf + f->buf_len, data, n);
		f->buf_len += n;
		data += n;
		len -= n;
		off += n;
	}
	return 0;
}

int store_read(struct store *s, struct store_file *f, uint64_t off, uint8_t *dst, uint32_t len)
{
	if (s->cfg.no_files || f->failed || off + len > f->size)
		return -1;
	if (f->buf_len && off >= f->buf_off && off + len <= f->buf_off + f->buf_len) {
		memcpy(dst, f->buf + (off - f->buf_off), len);
		return 0;
	}
	if ((!f->path && !f->creating) || f->reserved)
		return -1;
	/* A read that fails is no write error: a message for one that was not
	 * counted (reopening a file deleted under us) must not stay behind,
	 * or the run would later tell it for another file's failure. */
	uint64_t counted = tf_stats.write_errors;
	char before[sizeof s->errmsg];
	memcpy(before, s->errmsg, sizeof before);
	if (flush(s, f) < 0 || settle(s, f) < 0 || ensure_open(s, f) < 0) {
		if (tf_stats.write_errors == counted)
			memcpy(s->errmsg, before, sizeof before);
		return -1;
	}
	return pread(f->fd, dst, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

int store_file_create(struct store *s, struct store_file *f)
{
	if (s->cfg.no_files || f->path)
		return 0;
	reserve_check(s);
	if (s->reserve && !f->failed) {
		int rc = reserve_name(s, f);
		if (rc < 0) {
			f->failed = 1;
			tf_stats.write_errors++;
		}
		return rc;
	}
	return open_or_fail(s, f);
}

void store_extend(struct store_file *f, uint64_t size)
{
	if (size > f->size)
		f->size = size;
}

int store_shift(struct store *s, struct store_file *f, uint64_t shift)
{
	if (!shift)
		return 0;
	uint64_t old = f->size;
	f->size += shift;
	if (s->cfg.no_files)
		return 0;
	if (!f->path || f->reserved) {
		/* Nothing on disk yet: only the buffer's position moves. */
		f->buf_off += shift;
		return 0;
	}
	int rc = flush(s, f);
	if (rc == 0)
		rc = settle(s, f);
	if (rc < 0)
		return rc;
	rc = ensure_open(s, f);
	if (rc < 0)
		return rc;
	/* Copy from the end backwards so nothing is overwritten before it is read. */
	enum { CHUNK = 1 << 16 };
	uint8_t *tmp = malloc(CHUNK);
	if (!tmp)
		return -ENOMEM;
	uint64_t pos = old;
	while (pos > 0 && rc == 0) {
		size_t n = pos > CHUNK ? CHUNK : (size_t)pos;
		pos -= n;
		ssize_t r = pread(f->fd, tmp, n, (off_t)pos);
		if (r != (ssize_t)n) {
			rc = set_error(s, "cannot read back", f->path, r < 0 ? errno : EIO);
			f->failed = 1;
			tf_stats.write_errors++;
		} else {
			rc = write_at(s, f, pos + shift, tmp, n);
		}
	}
	memset(tmp, 0, CHUNK);
	for (uint64_t z = 0; z < shift && z < old && rc == 0;) {
		size_t n = (shift < old ? shift : old) - z > CHUNK ? CHUNK
			 : (size_t)((shift < old ? shift : old) - z);
		rc = write_at(s, f, z, tmp, n);
		z += n;
	}
	free(tmp);
	return rc;
}

/* ---- files written in one go by a detached job (reserve mode) ------------
 *
 * A file that was never created by its close (a short flow, an HTTP header
 * block or body) is created, written, given its times and closed by one
 * job on the writer threads: the packet loop makes no system call for it.
 * Its name is one this run gave and nothing on disk had (only another
 * program writing into the directory meanwhile can take it: O_EXCL then
 * fails the file, never overwrites). What fails (a full disk, a file size
 * limit) is counted and told by store_poll_errors, and the outcome tells
 * the report entry what reached the disk. */

/* A flow file's access and modification times: its first packet's. */
static void first_packet_times(const struct flow_ident *id, struct timespec ts[2])
{
	ts[0].tv_sec = (time_t)id->first_sec;
	ts[0].tv_nsec = (long)id->first_usec * 1000;
	ts[1] = ts[0];
}

struct late_file {
	struct store *s;
	char *path;
	uint8_t *buf;            /* len bytes for offset off; may be NULL */
	size_t len;
	uint64_t off, size;      /* size: the file's length (a trailing hole) */
	struct timespec ts[2];
	int set_times;
	/* The outcome, for the flow's report entry (store_late_outcome): the
	 * job, the store_file and the report each hold a reference. */
	atomic_int refs;
	atomic_int done;
	int exists;              /* the file was created */
	uint64_t disk;           /* its size on disk */
};

/* Outcomes are waited for on the report's thread, maybe after the store is
 * gone: one lock for all. */
static pthread_mutex_t late_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t late_cv = PTHREAD_COND_INITIALIZER;

static void late_put(struct late_file *j)
{
	if (atomic_fetch_sub(&j->refs, 1) == 1)
		free(j);
}

static void late_fail(struct store *s, const char *what, const char *path, int e)
{
	pthread_mutex_lock(&s->late_lock);
	if (atomic_load(&s->late_errors) == s->late_seen)
		snprintf(s->late_msg, sizeof s->late_msg, "%s %s: %s", what, path, strerror(e));
	atomic_fetch_add(&s->late_errors, 1);
	pthread_mutex_unlock(&s->late_lock);
}

static void late_file_run(void *arg)
{
	struct late_file *j = arg;
	int fd = create_new(j->s, j->path);
	if (fd < 0) {
		late_fail(j->s, "cannot create", j->path, errno);
	} else {
		j->exists = 1;
		j->disk = j->size;
		int e = j->len ? writer_pwrite_all(fd, j->buf, j->len, j->off) : 0;
		if (e)
			late_fail(j->s, "cannot write", j->path, e);
		else if (j->size > j->off + j->len && ftruncate(fd, (off_t)j->size) < 0)
			late_fail(j->s, "cannot extend", j->path, e = errno);
		struct stat st;
		if (e)          /* what reached the disk */
			j->disk = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (j->set_times)
			futimens(fd, j->ts);
		close(fd);
	}
	free(j->buf);
	free(j->path);
	j->buf = NULL;
	j->path = NULL;
	pthread_mutex_lock(&late_mu);
	atomic_store(&j->done, 1);
	pthread_cond_broadcast(&late_cv);
	pthread_mutex_unlock(&late_mu);
	late_put(j);
}

int store_late_outcome(void *late, uint64_t *size)
{
	struct late_file *j = late;
	if (!atomic_load(&j->done)) {
		pthread_mutex_lock(&late_mu);
		while (!atomic_load(&j->done))
			pthread_cond_wait(&late_cv, &late_mu);
		pthread_mutex_unlock(&late_mu);
	}
	int exists = j->exists;
	*size = j->disk;
	late_put(j);
	return exists ? 0 : -1;
}

void *store_file_late(struct store_file *f)
{
	struct late_file *j = f->late;
	if (j)
		atomic_fetch_add(&j->refs, 1);
	return j;
}

/* Hand path (a copy is made) and buf (cap bytes of memory) to a detached
 * job; with late, *late gets a reference to its outcome. 0 (buf taken), or
 * -ENOMEM (buf still the caller's: write it now). */
static int write_later(struct store *s, const char *path, uint8_t *buf, size_t cap,
		       uint64_t off, size_t len, uint64_t size, const struct flow_ident *times,
		       struct late_file **late)
{
	struct late_file *j = calloc(1, sizeof *j);
	char *p = path ? strdup(path) : NULL;
	if (!j || !p) {
		free(j);
		free(p);
		return -ENOMEM;
	}
	j->s = s;
	j->path = p;
	j->buf = buf;
	j->len = len;
	j->off = off;
	j->size = size;
	atomic_init(&j->refs, late ? 2 : 1);
	atomic_init(&j->done, 0);
	if (late)
		*late = j;
	if (times) {
		first_packet_times(times, j->ts);
		j->set_times = 1;
	}
	writer_detach(s->writer, cap + sizeof *j, late_file_run, j);
	return 0;
}

int store_create_file(struct store *s, const char *path)
{
	return create_new(s, path);
}

int store_writes_later(struct store *s)
{
	/* After a failure there (a full disk, say), files are written at their
	 * close again: errors are then told as they happen, and the report's
	 * sizes of later flows are what is on disk. */
	return s->reserve && !atomic_load(&s->late_errors);
}

int store_write_file_later(struct store *s, const char *path, uint8_t *buf, size_t len,
			   void **late)
{
	if (!s->reserve)
		return -EINVAL;
	struct late_file *j = NULL;
	int rc = write_later(s, path, buf, len, 0, len, len, NULL, late ? &j : NULL);
	if (late)
		*late = j;
	return rc;
}

void store_poll_errors(struct store *s)
{
	if (!s)
		return;
	unsigned n = atomic_load(&s->late_errors);
	if (n == s->late_seen)
		return;
	pthread_mutex_lock(&s->late_lock);
	n = atomic_load(&s->late_errors);
	memcpy(s->errmsg, s->late_msg, sizeof s->errmsg);
	tf_stats.write_errors += n - s->late_seen;
	s->late_seen = n;
	pthread_mutex_unlock(&s->late_lock);
}

void store_sync(struct store *s)
{
	if (s && s->writer)
		writer_drain(s->writer);
	store_poll_errors(s);
}

/* Reserve mode: close f, never created, through a detached job. 0 when
 * that was done (or there is nothing to write), 1 when f has to be closed
 * the usual way. */
static int close_later(struct store *s, struct store_file *f)
{
	reserve_check(s);
	if (!store_writes_later(s) || f->failed || f->fd >= 0 || f->creating ||
	    (f->path && !f->reserved))
		return 1;   /* not in reserve mode, or on disk already */
	if (!f->path) {
		if (!f->size)
			return 0;   /* nothing was stored: no file, as without reserve mode */
		if (reserve_name(s, f) < 0)
			return 1;   /* the usual way says why */
	}
	if (write_later(s, f->path, f->buf, f->buf_cap, f->buf_off, f->buf_len, f->size, &f->id,
			&f->late) < 0)
		return 1;       /* no memory for the job: now, the usual way */
	f->buf = NULL;          /* the job's; buf_free does the accounting */
	buf_free(s, f);
	f->reserved = 0;
	return 0;
}

int store_file_close(struct store *s, struct store_file *f)
{
	if (close_later(s, f) == 0)
		return 0;
	if (f->creating)
		adopt_create(s, f);
	int rc = settle(s, f);
	if (rc == 0 && !s->cfg.no_files && !f->failed) {
		if (f->buf_len)
			rc = flush(s, f);
		else if ((f->size && !f->path) || f->reserved)
			rc = open_or_fail(s, f);   /* only a hole, or named: create it */
	}
	/* A trailing hole (only holes after the last byte): extend the file.
	 * disk_end is known, so no stat is needed on the common path. */
	if (rc == 0 && !s->cfg.no_files && f->path && !f->failed && f->disk_end < f->size) {
		rc = ensure_open(s, f);
		if (rc == 0 && ftruncate(f->fd, (off_t)f->size) < 0)
			rc = set_error(s, "cannot extend", f->path, errno);
	}
	struct timespec ts[2];
	first_packet_times(&f->id, ts);
	int timed = 0;
	if (f->fd >= 0 && !s->cfg.no_files)
		timed = futimens(f->fd, ts) == 0;
	fd_close(s, f);
	if (f->buf)
		buf_free(s, f);
	if (f->reserved) {
		/* named, but not created (it failed): there is no file to name */
		store_file_release(f);
		f->reserved = 0;
	} else if (f->path && !s->cfg.no_files && !timed) {
		utimensat(AT_FDCWD, f->path, ts, 0);
	}
	return rc;
}

void store_file_release(struct store_file *f)
{
	if (f->late)
		late_put(f->late);
	f->late = NULL;
	free(f->path);
	f->path = NULL;
	f->name = NULL;
}

struct writer *store_writer(const struct store *s)
{
	return s->writer;
}

void store_free(struct store *s)
{
	if (s) {
		writer_free(s->writer);
		pthread_mutex_destroy(&s->late_lock);
		free(s->names);
	}
	free(s);
}

int store_side_create(struct store *s, struct store_file *flow, struct store_file *side,
		      const char *suffix)
{
	if (s->cfg.no_files)
		return 0;
	if (side->path)
		return side->failed ? -EIO : 0;
	int rc = store_file_create(s, flow);
	if (rc == 0 && flow->reserved)
		rc = open_or_fail(s, flow);   /* the side file's name comes from a real file */
	if (rc < 0)
		return rc;
	if (!flow->path)
		return -EIO;
	size_t need = strlen(flow->path) + strlen(suffix) + 1;
	char *path = malloc(need);
	if (!path)
		return -ENOMEM;
	snprintf(path, need, "%s%s", flow->path, suffix);
	side->id = flow->id;                 /* the file times are the flow's */
	side->connection_count = flow->connection_count;
	while (s->open_fds >= s->max_fds && evict_one(s) == 0)
		;
	int fd;
	while ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 &&
	       errno == EMFILE && evict_one(s) == 0)
		;
	if (fd < 0) {
		rc = set_error(s, "cannot create", path, errno);
		free(path);
		side->failed = 1;
		tf_stats.write_errors++;
		return rc;
	}
	take_path(s, side, path);
	side->fd = fd;
	s->open_fds++;
	LIST_APPEND(s, side, fd_head, fd_tail, fd_prev, fd_next);
	return 0;
}

/* ---- names without files ------------------------------------------------- */


static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;      /* FNV-1a, 64 bits */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

/* 1 if h is in the set. */
static int names_test(const struct store *s, uint64_t h)
{
	if (!s->names_cap)
		return 0;
	for (size_t j = h & (s->names_cap - 1); s->names[j]; j = (j + 1) & (s->names_cap - 1))
		if (s->names[j] == h)
			return 1;
	return 0;
}

/* 1 if h was already in the set, else adds it and returns 0 (or -1: no memory). */
static int names_test_and_add(struct store *s, uint64_t h)
{
	if (s->names_frozen)
		return names_test(s, h);
	if (s->names_count >= NAMES_MAX && !s->reserve) {
		memset(s->names, 0, s->names_cap * sizeof *s->names);
		s->names_count = 0;
	}
	if ((s->names_count + 1) * 2 > s->names_cap) {
		size_t cap = s->names_cap ? s->names_cap * 2 : 1024;
		uint64_t *nv = calloc(cap, sizeof *nv);
		if (!nv)
			return -1;
		for (size_t i = 0; i < s->names_cap; i++) {
			if (!s->names[i])
				continue;
			size_t j = s->names[i] & (cap - 1);
			while (nv[j])
				j = (j + 1) & (cap - 1);
			nv[j] = s->names[i];
		}
		free(s->names);
		s->names = nv;
		s->names_cap = cap;
	}
	size_t j = h & (s->names_cap - 1);
	while (s->names[j]) {
		if (s->names[j] == h)
			return 1;
		j = (j + 1) & (s->names_cap - 1);
	}
	s->names[j] = h;
	s->names_count++;
	return 0;
}

/* Something (a file of an earlier run) has the name path. When that cannot
 * be known (a regular file where a directory should be), no: creating the
 * file then fails and says why. */
static int on_disk(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Give f the first name with a free connection counter in the set of names
 * given out (without files, or in reserve mode). 0 or -errno. */
static int name_from_set(struct store *s, struct store_file *f)
{
	char name[MAX_NAME];
	for (uint32_t cc = f->connection_count; cc < UINT32_MAX; cc++) {
		int rc = expand_name(s->cfg.template_str, &f->id, cc, s->cfg.counter_always,
				     name, sizeof name);
		if (rc < 0)
			return set_error(s, "cannot name flow file", s->cfg.template_str, -rc);
		int taken = names_test_and_add(s, name_hash(name));
		if (taken < 0)
			return -ENOMEM;
		if (taken)
			continue;
		char *path = outdir_path(s, name);
		if (!path)
			return -ENOMEM;
		if (s->look_first && on_disk(path)) {
			free(path);
			continue;
		}
		take_path(s, f, path);
		f->connection_count = cc;
		return 0;
	}
	return set_error(s, "cannot name flow file", s->cfg.template_str, EEXIST);
}

/* Reserve mode: name f (no file yet). 0 or -errno. */
static int reserve_name(struct store *s, struct store_file *f)
{
	int rc = name_from_set(s, f);
	if (rc < 0)
		return rc;
	f->reserved = 1;
	if (s->cfg.on_create)
		s->cfg.on_create(s->cfg.on_create_arg, f);
	return 0;
}

int store_reserve_path(struct store *s, const char *path)
{
	size_t n = strlen(s->cfg.outdir);
	const char *rel = path;
	if (!strncmp(path, s->cfg.outdir, n) && path[n] == '/')
		rel += n + 1;        /* as the names of flow files are kept */
	reserve_check(s);
	if (!s->reserve)
		return s->names_frozen && names_test(s, name_hash(rel)) ? 1 : -1;
	int taken = names_test_and_add(s, name_hash(rel));
	if (taken < 0)
		taken = 0;      /* no memory: try the name, O_EXCL decides */
	return !taken && s->look_first && on_disk(path) ? 1 : taken;
}

const char *store_file_assign_name(struct store *s, struct store_file *f)
{
	if (f->path)
		return f->name;
	if (!s->cfg.no_files)
		return store_file_create(s, f) == 0 ? f->name : NULL;
	return name_from_set(s, f) == 0 ? f->name : NULL;
}
