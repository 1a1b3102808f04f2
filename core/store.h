/* Flow files on disk: names from the template, a write buffer per flow so
 * bytes reach the disk in large blocks (never a system call per packet), a
 * cap on open descriptors with least-recently-used reuse, and a cap on the
 * bytes buffered across all flows. With background writes, full buffers are
 * written (and new files created, with create_ahead) by the writer threads
 * (writer.h).
 *
 * A struct store_file lives inside its flow; the store only links it into
 * its lists. store_file_close must be called before the flow is freed. */
#ifndef TCPFLOW_STORE_H
#define TCPFLOW_STORE_H

#include <stdint.h>
#include <stddef.h>
#include "packet.h"
#include "writer.h"

struct bg_create;
struct late_file;

/* What a flow file's name is made of. */
struct flow_ident {
	struct tf_addr src, dst;
	uint16_t sport, dport;
	uint8_t has_mac;
	uint8_t src_mac[6], dst_mac[6];
	uint8_t has_vlan;
	uint16_t vlan;
	int64_t first_sec;
	uint32_t first_usec;
	uint64_t session_id;
	uint64_t flow_number;    /* order of creation of flow directions, from 0 */
};

struct store_file {
	struct flow_ident id;
	char *path;               /* full path, set when the file is created or named */
	const char *name;         /* path without the output directory prefix */
	uint32_t connection_count;/* the cNNNN number given to the name */
	int fd;                   /* -1 when not open */
	uint8_t *buf;             /* bytes for [buf_off, buf_off + buf_len) */
	uint32_t buf_len, buf_cap;
	uint64_t buf_off;
	uint64_t size;            /* file size once everything is flushed */
	uint64_t disk_end;        /* end of the furthest byte written to the file */
	uint8_t failed;           /* a write error happened; further writes are skipped */
	uint8_t reserved;         /* path is given (reserve mode), the file not created yet */
	struct writer_file wf;    /* writes of full buffers still in the background */
	struct bg_create *creating; /* the file is being created in the background */
	struct late_file *late;   /* written after its close: the outcome (reserve mode) */
	struct store_file *fd_prev, *fd_next;     /* open-descriptor LRU list */
	struct store_file *dirty_prev, *dirty_next; /* files with buffered bytes */
	uint8_t in_dirty;
};

struct store_config {
	const char *outdir;       /* "." by default */
	const char *template_str; /* default "%A.%a-%B.%b%V%v%C%c" */
	int no_files;             /* -FX */
	int max_fds;              /* descriptor cap; 0 = from RLIMIT_NOFILE */
	uint64_t max_buffered;    /* bytes buffered across all flows before flushing */
	int background_writes;    /* full buffers are written by the writer threads */
	/* With background_writes: a flow's file is created by the writer
	 * threads when its first bytes arrive (most of a short flow's cost).
	 * Pointless when the name is wanted at once anyway (scanners name
	 * derived files after it as soon as they see the first bytes). */
	int create_ahead;
	/* With background_writes and no side files ("reserve mode"): names
	 * come from the set of names this run gave, and from what is on disk
	 * when the output directory was not empty at the start; and a file
	 * that a flow's close finds not yet created (all of it still
	 * buffered) is created, written and closed by the writer threads after
	 * the close, so it reaches the disk later (store_sync waits for it).
	 * Only for runs where nothing reads a file at once when it is closed. */
	int defer_files;
	int counter_always;       /* -Fc: %C%c give "c0000" for the first connection too */
	/* Suffixes of side files (".findx", ".pcap"), NULL-terminated, or NULL:
	 * a name is taken only when NAME and every NAME+suffix are free, so a
	 * later connection never lands on an earlier one's side file. */
	const char *const *side_suffixes;
	/* Called when a flow file is created (not side files), e.g. for
	 * tcp_alert_fd, or in reserve mode named; may be NULL. */
	void (*on_create)(void *arg, const struct store_file *f);
	void *on_create_arg;
};

struct store;

/* Create the output directory (with parents). NULL + reason on failure. */
struct store *store_new(const struct store_config *cfg, char *err, size_t errlen);
void store_free(struct store *s);

/* The store's writer threads (background_writes), for other work that need
 * not hold up the packet loop; NULL without them. Valid until store_free. */
struct writer *store_writer(const struct store *s);

void store_file_init(struct store_file *f);

/* Place len bytes at file offset off (any offset: appends are buffered,
 * others go through the buffer or straight to the file). 0 or -errno. */
int store_write(struct store *s, struct store_file *f, uint64_t off,
		const uint8_t *data, uint32_t len);

/* Move everything already stored `shift` bytes later in the file (data that
 * belongs in front arrived late) and zero the freed front. 0 or -errno. */
int store_shift(struct store *s, struct store_file *f, uint64_t shift);

/* Copy len stored bytes at off into dst, from the write buffer or the file,
 * so a retransmission can be compared with what was kept. 0, or -1 when
 * they are not available (no files, not yet stored, read error). */
int store_read(struct store *s, struct store_file *f, uint64_t off, uint8_t *dst, uint32_t len);

/* Create f's file now (it is otherwise created on the first flush), so its
 * name is final: scanners derive file names from it while the flow is still
 * open. Nothing is written; buffered bytes stay buffered. 0 (also with -FX,
 * where nothing is created) or -errno. */
int store_file_create(struct store *s, struct store_file *f);

/* Make the file at least size bytes long (a trailing hole). */
void store_extend(struct store_file *f, uint64_t size);

/* Flush, close, set the file times to the first packet's time.
 * f->path and f->size stay valid until store_file_release. 0 or -errno. */
int store_file_close(struct store *s, struct store_file *f);

/* Reserve mode: take path (outdir/...) for a file other than a flow's,
 * e.g. one a scanner writes beside a flow. 0 when it is now this run's,
 * 1 when this run gave it already, -1 when not in reserve mode (create the
 * file with O_EXCL to find out). */
int store_reserve_path(struct store *s, const char *path);

/* Create path (reserved with store_reserve_path) now, with the template's
 * directories: the descriptor, or -1 with errno (as open). */
int store_create_file(struct store *s, const char *path);

/* 1 when a file closed now may be written later (reserve mode, and no such
 * writing has failed yet), else 0: write it at its close. */
int store_writes_later(struct store *s);

/* Reserve mode: create path (reserved with store_reserve_path) holding the
 * len bytes of buf (malloc'd) later, on the writer threads; with late,
 * *late gets a reference to the outcome (store_late_outcome). 0 (buf
 * taken), or -errno (buf still the caller's: write the file now). */
int store_write_file_later(struct store *s, const char *path, uint8_t *buf, size_t len,
			   void **late);

/* Take in the failures of files written later: they count as write errors
 * and the first one's message becomes store_last_error. */
void store_poll_errors(struct store *s);

/* Wait until every file written later is on disk, then store_poll_errors. */
void store_sync(struct store *s);

/* A closed file that is written later (reserve mode): a reference to the
 * outcome of its writing for store_late_outcome, else NULL. */
void *store_file_late(struct store_file *f);

/* Wait until the file of late (store_file_late) is written, set *size to
 * its size on disk then, and drop the reference. 0, or -1 when the file
 * could not be created. Any thread, also after store_free. */
int store_late_outcome(void *late, uint64_t *size);

/* Free what store_file_close left (the path, the outcome's reference). */
void store_file_release(struct store_file *f);

/* A side file beside flow's file: NAME + suffix (".findx", ".pcap"). The
 * flow's file is created first when it does not exist yet, so its name is
 * final. side (store_file_init'ed by the caller) is then a file like any
 * other: append with store_write at side->size, close with store_file_close
 * and store_file_release before it is freed; it shares the descriptor cap
 * and the write buffers. Without files (-FX, console modes) nothing is
 * created and writes are dropped. 0 or -errno. */
int store_side_create(struct store *s, struct store_file *flow, struct store_file *side,
		      const char *suffix);

/* When no files are written (-FX, console modes): give f the path its file
 * would have had (f->path, f->name), the connection counter chosen among the
 * names given out so far in this run (the last 2^20 or more). Returns
 * f->name, or NULL when the name cannot be made. With files, f->path is
 * returned as store_file_create leaves it. */
const char *store_file_assign_name(struct store *s, struct store_file *f);

/* Expand the name template for f into buf (no output dir). Exposed for tests. */
int store_expand_name(const char *tmpl, const struct flow_ident *id,
		      uint32_t connection_count, char *buf, size_t len);

/* The last error message of the store (for reporting write failures once). */
const char *store_last_error(const struct store *s);

#endif
