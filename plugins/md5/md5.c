/* md5: the MD5 (and optionally more digests) of every flow and every derived
 * object, as <hashdigest type='MD5'>hex</hashdigest> in its <fileobject>.
 *
 * Flows are hashed as they stream (data events; a hole announced by a gap
 * event hashes as the zeros the file holds there), so the file is never read
 * again. When the host says at close that the events did not describe the
 * file byte for byte (TF_FLOW_REWRITTEN: late bytes filled a hole, bytes were
 * placed in front, -b cut the file, a write failed), or the bytes hashed do
 * not add up to the file size, the streamed digest is discarded and the
 * closed file is hashed instead: the digest always equals md5sum of the file.
 * With -FX there is no file; such a flow then gets no digest (and a note
 * with -v) rather than a wrong one.
 *
 * A flow's bytes go to a background thread (hasher.c), which digests them
 * while the packet loop goes on, and at its close the flow's report entry
 * is held open (ABI 1.4) until the digest is in. An object of
 * MD5_OBJECT_BACKGROUND bytes or more goes to a second thread, or to the
 * flows' one when that is further ahead (object_lane), and its entry is
 * held the same way (ABI 1.3). A held entry is finished: the
 * oldest once more than MD5_HELD_MAX are held, or once MD5_HELD_CLOSES
 * flows have closed or MD5_HELD_OBJECTS objects have come since it was held
 * (every entry after a held one waits for it), all at on_idle (ABI 1.4: a
 * live capture, at least once a second), and all at shutdown. Those points depend only on the
 * input, and the host keeps the order of the entries, so the report does
 * not depend on the threads' timing; an md5 <hashdigest> comes after the
 * elements of scanners dispatched after md5. Without a report the host
 * holds no entry, and a flow's close waits for its digest instead: then
 * only a flow's bytes past its first MD5_BACKGROUND_AFTER go to the
 * thread, as handing a few KB over and waiting for them costs more than
 * hashing them here.
 *
 * Parameters: md5_also=sha256[,sha1,...] adds digests (libcrypto names).
 * Built like any third-party scanner: only <tcpflow/scanner.h>. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include <tcpflow/scanner.h>

#include "hasher.h"

#define MD5_MAX_DIGESTS 8
#define MD5_CHUNK 65536
#define MD5_BACKGROUND_AFTER (128u * 1024u)
/* at most 32 chunks of MD5_CHUNK (2 MiB) wait for each hasher (a longer
 * queue for the objects' measured no faster on bulk) */
#define MD5_QUEUED 32u
/* Two threads, one for flows and one mainly for objects (the bodies of a
 * bulk transfer are as many bytes again): a flow's bytes always go to the
 * flows' thread, in order. */
#define MD5_LANES 2
enum { LANE_FLOWS, LANE_OBJECTS };
/* Objects from this size on are hashed on the objects' thread. Measured on
 * many short HTTP exchanges: from 16 down to 2 KiB the packet loop ran 8%
 * fewer instructions; further down the hand-over ate what it saved. */
#define MD5_OBJECT_BACKGROUND (2u * 1024u)
/* Flows are held as well as big objects, and this bounds them all: 1024
 * held entries keep about a MB of report elements waiting (64 measured no
 * different on many short exchanges). */
#define MD5_HELD_MAX 1024u
#define MD5_HELD_CLOSES 64u
#define MD5_HELD_OBJECTS 1024u

static const struct tf_host *host;

struct md5_state {
	size_t n;
	const EVP_MD *md[MD5_MAX_DIGESTS];
	char label[MD5_MAX_DIGESTS][32];   /* type='...' */
	uint8_t *buf;                      /* for reading files */
	struct hasher *hasher[MD5_LANES];  /* started at the first big stream */
	unsigned nlanes;                   /* how many of them started */
	int no_hasher;                     /* none could be started */
	struct md5_flow *held_head, *held_tail;   /* objects with a held entry, oldest first */
	unsigned nheld;
	uint64_t closes;                   /* flows closed so far */
	uint64_t objects;                  /* objects seen so far */
	int no_hold;                       /* the host holds no entry (no report) */
	uint64_t bg_objects, bg_object_bytes;
};

/* A flow direction being hashed, or an object whose entry is held. */
struct md5_flow {
	uint64_t hashed;                   /* stream bytes fed so far */
	int broken;                        /* events out of order or a digest error */
	EVP_MD_CTX *c[MD5_MAX_DIGESTS];
	const struct md5_state *st;
	struct hasher *hz;                 /* its hasher, once it has one */
	struct hasher_stream bg;           /* bytes handed to it */
	uint64_t bg_bytes;
	/* a held object */
	struct tf_entry *entry;
	uint64_t held_at;                  /* closes when it was held */
	uint64_t held_obj;                 /* objects then */
	char *type;                        /* its type, for a warning */
	struct md5_flow *next;
};

static const uint8_t md5_zeros[MD5_CHUNK];

static const struct tf_param md5_params[] = {
	{ "md5_also", "", "also compute these digests: libcrypto names, comma-separated "
	  "(sha1, sha256, sha512, sha3-256, ...)" },
	{ NULL, NULL, NULL },
};

/* The digest named name, or NULL. With OpenSSL 3 it is fetched once here:
 * a digest looked up by name is fetched again at every EVP_DigestInit_ex,
 * which cost more than hashing a small object. Free with md_free. */
static const EVP_MD *md_get(const char *name)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	return EVP_MD_fetch(NULL, name, NULL);
#else
	return EVP_get_digestbyname(name);
#endif
}

static void md_free(const EVP_MD *md)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free((EVP_MD *)md);
#else
	(void)md;
#endif
}

static void mds_free(struct md5_state *st)
{
	for (size_t i = 0; i < st->n; i++)
		md_free(st->md[i]);
	st->n = 0;
}

static int add_digest(struct md5_state *st, struct tf_ctx *ctx, const char *name)
{
	const EVP_MD *md = md_get(name);
	if (!md) {
		tf_logf(host, ctx, TF_LOG_ERROR, "md5_also: unknown digest '%s' (libcrypto names: "
			"sha1, sha224, sha256, sha384, sha512, sha3-256, ...)", name);
		return -EINVAL;
	}
	char label[32];
	const char *sn = OBJ_nid2sn(EVP_MD_type(md));
	size_t i;
	for (i = 0; sn && sn[i] && i + 1 < sizeof label; i++)
		label[i] = (sn[i] >= 'a' && sn[i] <= 'z') ? (char)(sn[i] - 'a' + 'A') : sn[i];
	label[i] = '\0';
	for (size_t j = 0; j < st->n; j++)
		if (!strcmp(st->label[j], label)) {
			md_free(md);
			return 0;   /* asked for twice (or md5 itself) */
		}
	if (st->n == MD5_MAX_DIGESTS) {
		md_free(md);
		tf_logf(host, ctx, TF_LOG_ERROR, "md5_also: at most %d digests",
			MD5_MAX_DIGESTS - 1);
		return -E2BIG;
	}
	st->md[st->n] = md;
	memcpy(st->label[st->n], label, sizeof label);
	st->n++;
	return 0;
}

static int md5_init(struct tf_ctx *ctx, void **state)
{
	struct md5_state *st = calloc(1, sizeof *st);
	if (!st || !(st->buf = malloc(MD5_CHUNK))) {
		free(st);
		tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	int rc = add_digest(st, ctx, "md5");
	const char *also = host->get_param(ctx, "md5_also");
	/* split on commas (and spaces) without modifying the value */
	for (const char *p = also ? also : ""; rc == 0 && *p;) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t n = strcspn(p, ", ");
		if (n) {
			char name[64];
			if (n >= sizeof name) {
				tf_logf(host, ctx, TF_LOG_ERROR, "md5_also: digest name too long");
				rc = -EINVAL;
				break;
			}
			memcpy(name, p, n);
			name[n] = '\0';
			rc = add_digest(st, ctx, name);
		}
		p += n;
	}
	if (rc < 0) {
		mds_free(st);
		free(st->buf);
		free(st);
		return rc;
	}
	if (TF_HAS(host, struct tf_host, files_later))
		host->files_later(ctx);   /* a file it hashes is synced first */
	*state = st;
	return 0;
}

static void held_finish(struct md5_state *st, struct tf_ctx *ctx);
static int held_add(struct md5_state *st, struct tf_ctx *ctx, struct md5_flow *f,
		    struct tf_entry *entry);

static void md5_shutdown(struct tf_ctx *ctx, void *state)
{
	struct md5_state *st = state;
	if (st) {
		while (st->held_head)
			held_finish(st, ctx);
		if (st->bg_objects)
			tf_logf(host, ctx, TF_LOG_DEBUG, "%llu objects (%llu bytes) hashed in the "
				"background", (unsigned long long)st->bg_objects,
				(unsigned long long)st->bg_object_bytes);
		for (unsigned i = 0; i < st->nlanes; i++)
			hasher_free(st->hasher[i]);
		mds_free(st);
		free(st->buf);
		free(st);
	}
}

/* Write one <hashdigest> per digest into entry. */
static void emit_digests(struct md5_state *st, struct tf_ctx *ctx, struct tf_entry *entry,
			 EVP_MD_CTX **c)
{
	for (size_t i = 0; i < st->n; i++) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		if (!EVP_DigestFinal_ex(c[i], d, &dl)) {
			tf_logf(host, ctx, TF_LOG_WARN, "%s digest failed", st->label[i]);
			continue;
		}
		for (unsigned int k = 0; k < dl; k++) {
			hex[2 * k] = "0123456789abcdef"[d[k] >> 4];
			hex[2 * k + 1] = "0123456789abcdef"[d[k] & 15];
		}
		hex[2 * dl] = '\0';
		host->report_start(ctx, entry, "hashdigest");
		host->report_attr(ctx, entry, "type", st->label[i]);
		host->report_text(ctx, entry, hex);
		host->report_end(ctx, entry);
	}
}

static int digests_begin(struct md5_state *st, EVP_MD_CTX **c)
{
	for (size_t i = 0; i < st->n; i++) {
		if (!c[i] && !(c[i] = EVP_MD_CTX_new()))
			return -1;
		if (!EVP_DigestInit_ex(c[i], st->md[i], NULL))
			return -1;
	}
	return 0;
}

static int digests_update(const struct md5_state *st, EVP_MD_CTX **c, const void *p, size_t len)
{
	for (size_t i = 0; i < st->n; i++)
		if (!EVP_DigestUpdate(c[i], p, len))
			return -1;
	return 0;
}

static int feed_zeros(const struct md5_state *st, EVP_MD_CTX **c, uint64_t len)
{
	while (len) {
		size_t n = len > MD5_CHUNK ? MD5_CHUNK : (size_t)len;
		if (digests_update(st, c, md5_zeros, n) < 0)
			return -1;
		len -= n;
	}
	return 0;
}

/* The hasher's function: on its thread, for one chunk of a flow. */
static int bg_update(void *arg, const uint8_t *p, size_t len)
{
	struct md5_flow *f = arg;
	return p ? digests_update(f->st, f->c, p, len) : feed_zeros(f->st, f->c, len);
}

/* Wait until the hasher has digested all f handed it: f->c is then the
 * packet loop's again. */
static void bg_settle(struct md5_flow *f)
{
	if (f->bg.added && hasher_wait(f->hz, &f->bg) < 0)
		f->broken = 1;
}

/* Give f a hasher, the lane's (or the one that started), starting them at
 * the first need: 0, or -1 when none could be started. */
static int lane_take(struct md5_state *st, struct md5_flow *f, unsigned lane)
{
	if (f->hz)
		return 0;
	if (!st->nlanes && !st->no_hasher) {
		while (st->nlanes < MD5_LANES &&
		       (st->hasher[st->nlanes] = hasher_new(bg_update, MD5_CHUNK, MD5_QUEUED)))
			st->nlanes++;
		st->no_hasher = !st->nlanes;
	}
	if (!st->nlanes)
		return -1;
	f->hz = st->hasher[lane < st->nlanes ? lane : 0];
	return 0;
}

/* Digest len bytes of f: on the hasher's thread (it keeps the order of f's
 * bytes), else here. 0 or -1. */
static int flow_update(struct md5_state *st, struct md5_flow *f, const uint8_t *p, size_t len)
{
	size_t taken = 0;
	if (st->no_hold && f->hashed + len <= MD5_BACKGROUND_AFTER)
		return digests_update(st, f->c, p, len);   /* the close would wait for it */
	if (lane_take(st, f, LANE_FLOWS) == 0) {
		taken = hasher_add(f->hz, &f->bg, p, len);
		f->bg_bytes += taken;
		if (taken < len && f->bg.failed)
			return -1;
	}
	return taken < len ? digests_update(st, f->c, p + taken, len - taken) : 0;
}

/* Digest n zero bytes of f (a hole): after its bytes on the hasher's thread
 * when it has handed some over, else here. 0 or -1. */
static int flow_zeros(struct md5_state *st, struct md5_flow *f, uint64_t n)
{
	if (f->bg.added && hasher_add_zeros(f->hz, &f->bg, n) == 0)
		return 0;
	bg_settle(f);   /* no memory for it: what is handed over first */
	return f->broken ? -1 : feed_zeros(st, f->c, n);
}

static void digests_free(struct md5_state *st, EVP_MD_CTX **c)
{
	for (size_t i = 0; i < st->n; i++) {
		EVP_MD_CTX_free(c[i]);
		c[i] = NULL;
	}
}

/* Hash the closed file at path from its first byte. */
static int hash_file(struct md5_state *st, EVP_MD_CTX **c, const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	int rc = digests_begin(st, c) < 0 ? -EIO : 0;
	while (rc == 0) {
		ssize_t n = read(fd, st->buf, MD5_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else if (n == 0)
			break;
		else if (digests_update(st, c, st->buf, (size_t)n) < 0)
			rc = -EIO;
	}
	close(fd);
	return rc;
}

static void md5_flow_open(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
			  void **flow_state)
{
	struct md5_state *st = state;
	struct md5_flow *f = calloc(1, sizeof *f);
	(void)flow;
	if (!f) {
		tf_logf(host, ctx, TF_LOG_WARN, "out of memory");
		return;
	}
	if (digests_begin(st, f->c) < 0)
		f->broken = 1;
	f->st = st;
	f->bg.arg = f;
	*flow_state = f;
}

static void md5_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
		     void **flow_state, uint64_t offset, const uint8_t *data, size_t len)
{
	struct md5_state *st = state;
	struct md5_flow *f = *flow_state;
	(void)ctx;
	(void)flow;
	if (!f || f->broken)
		return;
	if (offset < f->hashed) {
		f->broken = 1;   /* cannot happen with the host's events; the file decides */
		return;
	}
	if (offset > f->hashed) {
		if (flow_zeros(st, f, offset - f->hashed) < 0) {
			f->broken = 1;
			return;
		}
		f->hashed = offset;
	}
	if (flow_update(st, f, data, len) < 0) {
		f->broken = 1;
		return;
	}
	f->hashed = offset + len;
}

static void md5_gap(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
		    void **flow_state, uint64_t offset, uint64_t len)
{
	struct md5_state *st = state;
	struct md5_flow *f = *flow_state;
	(void)ctx;
	(void)flow;
	if (!f || f->broken)
		return;
	if (offset < f->hashed || flow_zeros(st, f, offset + len - f->hashed) < 0) {
		f->broken = 1;
		return;
	}
	f->hashed = offset + len;
}

static void md5_flow_close(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
			   void **flow_state)
{
	struct md5_state *st = state;
	struct md5_flow *f = *flow_state;
	st->closes++;
	while (st->held_head && st->closes - st->held_head->held_at >= MD5_HELD_CLOSES)
		held_finish(st, ctx);
	if (!f)
		return;
	if (f->bg_bytes)
		tf_logf(host, ctx, TF_LOG_DEBUG, "flow %llu: %llu bytes hashed in the background",
			(unsigned long long)flow->id, (unsigned long long)f->bg_bytes);
	int streamed_ok = !f->broken && !(flow->flags & TF_FLOW_REWRITTEN) &&
			  f->hashed == flow->file_size;
	if (streamed_ok && f->bg.added && held_add(st, ctx, f, flow->entry) == 0) {
		*flow_state = NULL;
		return;
	}
	bg_settle(f);
	streamed_ok = streamed_ok && !f->broken;
	if (streamed_ok) {
		emit_digests(st, ctx, flow->entry, f->c);
	} else if (flow->path) {
		tf_logf(host, ctx, TF_LOG_DEBUG, "%s: hashing the file (%s)", flow->path,
			(flow->flags & TF_FLOW_REWRITTEN) ? "the stream was rewritten"
							  : "the stream did not add up");
		if (TF_HAS(host, struct tf_host, files_sync))
			host->files_sync(ctx);   /* the file may still be on its way (files_later) */
		int rc = hash_file(st, f->c, flow->path);
		if (rc == 0)
			emit_digests(st, ctx, flow->entry, f->c);
		else
			tf_logf(host, ctx, TF_LOG_WARN, "cannot hash %s: %s", flow->path,
				strerror(-rc));
	} else {
		tf_logf(host, ctx, TF_LOG_INFO, "flow %llu: stream rewritten and no flow file: "
			"no digest", (unsigned long long)flow->id);
	}
	digests_free(st, f->c);
	free(f);
	*flow_state = NULL;
}

/* An object's (or with type NULL a held flow's) digests into its entry
 * when ok, else a warning; then c's contexts are freed. */
static void object_digests(struct md5_state *st, struct tf_ctx *ctx, struct tf_entry *entry,
			   EVP_MD_CTX **c, int ok, const char *type)
{
	if (ok)
		emit_digests(st, ctx, entry, c);
	else if (type)
		tf_logf(host, ctx, TF_LOG_WARN, "cannot hash object %s", type);
	else
		tf_logf(host, ctx, TF_LOG_WARN, "cannot hash a flow: digest error");
	digests_free(st, c);
}

/* Wait for the oldest held object's digest, write it into its entry and
 * let the entry go. */
static void held_finish(struct md5_state *st, struct tf_ctx *ctx)
{
	struct md5_flow *f = st->held_head;
	st->held_head = f->next;
	if (!st->held_head)
		st->held_tail = NULL;
	st->nheld--;
	bg_settle(f);
	object_digests(st, ctx, f->entry, f->c, !f->broken, f->type);
	host->entry_release(ctx, f->entry);
	free(f->type);
	free(f);
}

/* Hold entry (an object's in on_object, a flow's in on_flow_close) and
 * queue f, whose digests go into it, for held_finish; the oldest is
 * finished once too many are held. 0, or -1 when the host holds no entry
 * (without a report: never again). */
static int held_add(struct md5_state *st, struct tf_ctx *ctx, struct md5_flow *f,
		    struct tf_entry *entry)
{
	if (st->no_hold || !TF_HAS(host, struct tf_host, entry_release))
		return -1;
	int rc = host->entry_hold(ctx, entry);
	if (rc < 0) {
		st->no_hold = rc == -ENOTSUP;
		return -1;
	}
	f->entry = entry;
	f->held_at = st->closes;
	f->held_obj = st->objects;
	if (st->held_tail)
		st->held_tail->next = f;
	else
		st->held_head = f;
	st->held_tail = f;
	if (++st->nheld > MD5_HELD_MAX)
		held_finish(st, ctx);
	return 0;
}

/* The lane for an object: the objects' thread, unless the flows' thread
 * is further ahead. Bodies come whole at their end, often many at once (the
 * last responses of a bulk capture): queued on one thread, they would be
 * digested one after the other while the other thread has nothing left. A
 * flow's close does not wait for objects queued before it on its thread:
 * its entry is held, as the object's is. */
static unsigned object_lane(struct md5_state *st)
{
	if (st->nlanes < MD5_LANES)
		return LANE_OBJECTS;
	return hasher_backlog(st->hasher[LANE_FLOWS]) < hasher_backlog(st->hasher[LANE_OBJECTS])
	       ? LANE_FLOWS : LANE_OBJECTS;
}

/* Hand a big object to a hasher and hold its entry until its digest is in:
 * 0, or -1 when it is to be hashed here. */
static int held_start(struct md5_state *st, struct tf_ctx *ctx, const struct tf_object *obj)
{
	if (st->no_hold || obj->len > SIZE_MAX)
		return -1;
	struct md5_flow *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->st = st;
	f->bg.arg = f;
	if (lane_take(st, f, object_lane(st)) < 0 || digests_begin(st, f->c) < 0 ||
	    !(f->type = strdup(obj->type ? obj->type : "")) ||
	    held_add(st, ctx, f, obj->entry) < 0) {
		digests_free(st, f->c);
		free(f->type);
		free(f);
		return -1;
	}
	size_t len = (size_t)obj->len;
	size_t taken = hasher_add(f->hz, &f->bg, obj->data, len);
	if (taken < len && (f->bg.failed ||
			    digests_update(st, f->c, obj->data + taken, len - taken) < 0))
		f->broken = 1;      /* no memory for the rest: here, after the rest */
	st->bg_objects++;
	st->bg_object_bytes += taken;
	return 0;
}

static void md5_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	struct md5_state *st = state;
	st->objects++;
	while (st->held_head && st->objects - st->held_head->held_obj > MD5_HELD_OBJECTS)
		held_finish(st, ctx);
	if (obj->len >= MD5_OBJECT_BACKGROUND && held_start(st, ctx, obj) == 0)
		return;
	EVP_MD_CTX *c[MD5_MAX_DIGESTS] = { NULL };
	int ok = digests_begin(st, c) == 0 &&
		 (obj->len == 0 || digests_update(st, c, obj->data, (size_t)obj->len) == 0);
	object_digests(st, ctx, obj->entry, c, ok, obj->type);
}

/* on_idle (a live capture): every held entry gets its digest now. */
static void md5_idle(struct tf_ctx *ctx, void *state)
{
	struct md5_state *st = state;
	while (st->held_head)
		held_finish(st, ctx);
}

static const struct tf_scanner md5_scanner = {
	.size = sizeof(struct tf_scanner),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.name = "md5",
	.version = "1.0",
	.description = "MD5 of every flow and every derived object (<hashdigest> in the report); "
		       "md5_also adds more digests",
	.params = md5_params,
	.init = md5_init,
	.shutdown = md5_shutdown,
	.on_flow_open = md5_flow_open,
	.on_data = md5_data,
	.on_gap = md5_gap,
	.on_flow_close = md5_flow_close,
	.on_object = md5_object,
	.on_idle = md5_idle,
};

TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *h)
{
	if (!h || h->abi_major != TF_ABI_MAJOR)
		return NULL;
	host = h;
	return &md5_scanner;
}
