/* The stub host of the scanner fuzz targets (see fuzz_host.h). */
#include "fuzz_host.h"

#include <errno.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define FZH_MAX_ENTRIES 4096
#define FZH_MAX_DEPTH 8

struct tf_ctx {
	int dummy;
};

struct tf_file {
	uint8_t *buf;
	size_t len, cap;
	char path[160];
	struct tf_file *next;       /* open files */
};

struct tf_entry {
	int is_flow;
	uint32_t depth;              /* 0 for a flow */
	const uint8_t *stream;       /* flow bytes, when given */
	size_t stream_len;
	char path[160];              /* object: its (fake) file name */
	int open_elems;
	int attrs_ok;
	int held;                    /* entry_hold'd, not yet released */
	const struct tf_object *obj; /* while being dispatched */
};

static struct {
	const char *const *params;
	const struct tf_scanner *sc;
	void *state;
	struct tf_ctx ctx;
	struct tf_entry *entries[FZH_MAX_ENTRIES];
	size_t nentries;
	struct tf_file *open_files;
	size_t emitted;
	struct tf_entry top;
	int serial;
	int in_init;                 /* from fzh_begin until fzh_set_state */
} fz;

void fzh_die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_host: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static int name_ok(const char *s, int xml)
{
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		char c = *p;
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9');
		if (xml && p == s && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
			return 0;
		if (!alnum && c != '_' && c != '-' && c != '.')
			return 0;
	}
	return 1;
}

static struct tf_entry *new_entry(void)
{
	if (fz.nentries == FZH_MAX_ENTRIES)
		fzh_die("too many entries", NULL);
	struct tf_entry *e = calloc(1, sizeof *e);
	if (!e)
		fzh_die("out of memory", NULL);
	fz.entries[fz.nentries++] = e;
	return e;
}

static void host_log(struct tf_ctx *ctx, int level, const char *msg)
{
	if (ctx != &fz.ctx || !msg || level < 0)
		fzh_die("log: bad arguments", NULL);
}

static const char *host_get_param(struct tf_ctx *ctx, const char *name)
{
	if (ctx != &fz.ctx || !name)
		fzh_die("get_param: bad arguments", NULL);
	for (size_t i = 0; fz.params && fz.params[i]; i += 2)
		if (!strcmp(fz.params[i], name))
			return fz.params[i + 1];
	if (fz.sc && fz.sc->params)
		for (const struct tf_param *p = fz.sc->params; p->name; p++)
			if (!strcmp(p->name, name))
				return p->default_value ? p->default_value : "";
	return NULL;
}

static struct tf_entry *entry_of(struct tf_entry *e)
{
	return e ? e : &fz.top;
}

static int host_report_start(struct tf_ctx *ctx, struct tf_entry *e, const char *name)
{
	if (ctx != &fz.ctx || !name_ok(name, 1))
		fzh_die("report_start: bad arguments", name);
	e = entry_of(e);
	e->open_elems++;
	e->attrs_ok = 1;
	return 0;
}

static int host_report_attr(struct tf_ctx *ctx, struct tf_entry *e, const char *name,
			    const char *value)
{
	if (ctx != &fz.ctx || !name_ok(name, 1))
		fzh_die("report_attr: bad arguments", name);
	e = entry_of(e);
	if (!e->attrs_ok || !e->open_elems)
		fzh_die("report_attr: not right after report_start", name);
	(void)value;
	return 0;
}

static int host_report_text(struct tf_ctx *ctx, struct tf_entry *e, const char *text)
{
	if (ctx != &fz.ctx)
		fzh_die("report_text: bad arguments", NULL);
	e = entry_of(e);
	if (!e->open_elems)
		fzh_die("report_text: no element open", NULL);
	e->attrs_ok = 0;
	(void)text;
	return 0;
}

static int host_report_end(struct tf_ctx *ctx, struct tf_entry *e)
{
	if (ctx != &fz.ctx)
		fzh_die("report_end: bad arguments", NULL);
	e = entry_of(e);
	if (!e->open_elems)
		fzh_die("report_end: no element open", NULL);
	e->open_elems--;
	e->attrs_ok = 0;
	return 0;
}

static int host_report_element(struct tf_ctx *ctx, struct tf_entry *e, const char *name,
			       const char *text)
{
	host_report_start(ctx, e, name);
	if (text && *text)
		host_report_text(ctx, e, text);
	return host_report_end(ctx, e);
}

static struct tf_file *host_file_open(struct tf_ctx *ctx, struct tf_entry *beside,
				      const char *suffix)
{
	if (ctx != &fz.ctx || !name_ok(suffix, 0))
		fzh_die("file_open: bad arguments", suffix);
	struct tf_file *f = calloc(1, sizeof *f);
	if (!f)
		fzh_die("out of memory", NULL);
	snprintf(f->path, sizeof f->path, "%s%s", beside ? beside->path : "out/", suffix);
	f->next = fz.open_files;
	fz.open_files = f;
	return f;
}

static void unlink_file(struct tf_file *f)
{
	struct tf_file **pp = &fz.open_files;
	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (!*pp)
		fzh_die("a file that is not open", NULL);
	*pp = f->next;
}

static int host_file_write(struct tf_ctx *ctx, struct tf_file *f, const void *data, size_t len)
{
	if (ctx != &fz.ctx || !f || (len && !data))
		fzh_die("file_write: bad arguments", NULL);
	if (f->len + len > f->cap) {
		size_t cap = f->cap ? f->cap : 4096;
		while (cap < f->len + len)
			cap *= 2;
		uint8_t *b = realloc(f->buf, cap);
		if (!b)
			fzh_die("out of memory", NULL);
		f->buf = b;
		f->cap = cap;
	}
	if (len)
		memcpy(f->buf + f->len, data, len);
	f->len += len;
	return 0;
}

static const char *host_file_path(struct tf_ctx *ctx, struct tf_file *f)
{
	if (ctx != &fz.ctx || !f)
		fzh_die("file_path: bad arguments", NULL);
	return f->path;
}

static int host_file_close(struct tf_ctx *ctx, struct tf_file *f)
{
	if (ctx != &fz.ctx || !f)
		fzh_die("file_close: bad arguments", NULL);
	unlink_file(f);
	free(f->buf);
	free(f);
	return 0;
}

/* Runs and gaps: inside [0, len), in order, not overlapping; against the
 * parent flow's bytes when known. */
static void check_ranges(const struct tf_object_desc *d, const uint8_t *data, uint64_t len,
			 const struct tf_entry *parent)
{
	uint64_t end = 0;
	if (d->nruns > TF_MAX_RUNS || d->ngaps > TF_MAX_RUNS ||
	    (d->nruns && !d->runs) || (d->ngaps && !d->gaps))
		fzh_die("emit_object: bad runs or gaps", d->type);
	for (size_t i = 0; i < d->nruns; i++) {
		const struct tf_run *r = &d->runs[i];
		if (r->offset < end || r->len > len || r->offset > len - r->len)
			fzh_die("emit_object: a run outside the content or out of order", d->type);
		end = r->offset + r->len;
		if (parent && parent->stream) {
			if (r->parent_offset > parent->stream_len ||
			    r->len > parent->stream_len - r->parent_offset)
				fzh_die("emit_object: a run outside the flow", d->type);
			if (memcmp(data + r->offset, parent->stream + r->parent_offset, (size_t)r->len))
				fzh_die("emit_object: a run whose bytes differ from the flow's", d->type);
		}
	}
	end = 0;
	for (size_t i = 0; i < d->ngaps; i++) {
		const struct tf_gap *g = &d->gaps[i];
		if (g->offset < end || g->len > len || g->offset > len - g->len)
			fzh_die("emit_object: a gap outside the content or out of order", d->type);
		end = g->offset + g->len;
		for (uint64_t k = 0; k < g->len; k++)
			if (data[g->offset + k])
				fzh_die("emit_object: a gap that is not zeros", d->type);
	}
}

static int host_emit(struct tf_ctx *ctx, struct tf_entry *parent, const struct tf_object_desc *d)
{
	if (ctx != &fz.ctx || !d || d->size < offsetof(struct tf_object_desc, file) + sizeof d->file)
		fzh_die("emit_object: bad arguments", NULL);
	struct tf_file *file = d->file;
	if (file)
		unlink_file(file);   /* taken, whatever happens */
	if (!name_ok(d->type, 0) || (d->nmeta && !d->meta) || (!file && d->len && !d->data))
		fzh_die("emit_object: bad descriptor", d->type);
	for (size_t i = 0; i < d->nmeta; i++)
		if (!name_ok(d->meta[i].key, 1) || !d->meta[i].value)
			fzh_die("emit_object: bad metadata", d->meta[i].key);
	if (!file && d->suffix && !name_ok(d->suffix, 0))
		fzh_die("emit_object: bad suffix", d->suffix);
	uint32_t depth = parent ? parent->depth + 1 : 1;
	const uint8_t *data = file ? file->buf : d->data;
	uint64_t len = file ? file->len : d->len;
	int rc = 0;
	if (depth > FZH_MAX_DEPTH) {
		rc = -ELOOP;
		goto out;
	}
	if (TF_HAS(d, struct tf_object_desc, ngaps))
		check_ranges(d, data, len, parent && parent->is_flow ? parent : NULL);
	struct tf_entry *e = new_entry();
	e->depth = depth;
	snprintf(e->path, sizeof e->path, "%s", file ? file->path : "");
	if (!file && d->suffix)
		snprintf(e->path, sizeof e->path, "%s%s", parent ? parent->path : "out/", d->suffix);
	struct tf_object obj = {
		.size = sizeof obj,
		.depth = depth,
		.type = d->type,
		.meta = d->meta,
		.nmeta = d->nmeta,
		.data = len ? data : NULL,
		.len = len,
		.path = e->path[0] ? e->path : NULL,
		.producer = fz.sc ? fz.sc->name : "fuzz",
		.flow = NULL,
		.parent = parent && !parent->is_flow ? parent->obj : NULL,
		.entry = e,
		.runs = TF_HAS(d, struct tf_object_desc, ngaps) ? d->runs : NULL,
		.nruns = TF_HAS(d, struct tf_object_desc, ngaps) ? d->nruns : 0,
		.gaps = TF_HAS(d, struct tf_object_desc, ngaps) ? d->gaps : NULL,
		.ngaps = TF_HAS(d, struct tf_object_desc, ngaps) ? d->ngaps : 0,
	};
	e->obj = &obj;
	fz.emitted++;
	if (fz.sc && fz.sc->on_object)
		fz.sc->on_object(&fz.ctx, fz.state, &obj);
	e->obj = NULL;
out:
	if (file) {
		free(file->buf);
		free(file);
	}
	return rc;
}

static const char *host_input_name(struct tf_ctx *ctx, uint32_t index)
{
	(void)ctx;
	return index == 0 ? "fuzz.pcap" : NULL;
}

/* ABI 1.3: an object's entry while it is dispatched, or a flow's. */
static int host_entry_hold(struct tf_ctx *ctx, struct tf_entry *e)
{
	if (ctx != &fz.ctx || !e || e == &fz.top)
		fzh_die("entry_hold without an entry", NULL);
	if (e->held || (!e->is_flow && !e->obj))
		return -EINVAL;
	e->held = 1;
	return 0;
}

static int host_entry_release(struct tf_ctx *ctx, struct tf_entry *e)
{
	if (ctx != &fz.ctx || !e)
		fzh_die("entry_release without an entry", NULL);
	if (!e->held)
		fzh_die("entry_release of an entry not held", e->path);
	e->held = 0;
	return 0;
}

/* ABI 1.5: files are in memory here, so they are always "on disk"; what
 * is checked is that files_later comes from init only. */
static int host_files_later(struct tf_ctx *ctx)
{
	if (ctx != &fz.ctx || !fz.in_init)
		fzh_die("files_later outside init", NULL);
	return 0;
}

static int host_files_sync(struct tf_ctx *ctx)
{
	if (ctx != &fz.ctx || fz.in_init)
		fzh_die("files_sync from init", NULL);
	return 0;
}

/* The host of this ABI, whole. */
static const struct tf_host fzh_table = {
	.size = sizeof(struct tf_host),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.tcpflow_version = "fuzz",
	.log = host_log,
	.get_param = host_get_param,
	.report_start = host_report_start,
	.report_attr = host_report_attr,
	.report_text = host_report_text,
	.report_end = host_report_end,
	.report_element = host_report_element,
	.file_open = host_file_open,
	.file_write = host_file_write,
	.file_path = host_file_path,
	.file_close = host_file_close,
	.emit_object = host_emit,
	.input_name = host_input_name,
	.entry_hold = host_entry_hold,
	.entry_release = host_entry_release,
	.files_later = host_files_later,
	.files_sync = host_files_sync,
};

void fzh_begin(const char *const *params, const struct tf_scanner *sc, void *state)
{
	fz.params = params;
	fz.sc = sc;
	fz.state = state;
	fz.emitted = 0;
	fz.in_init = 1;
	memset(&fz.top, 0, sizeof fz.top);
}

void fzh_set_state(void *state)
{
	fz.state = state;
	fz.in_init = 0;
}

const struct tf_host *fzh_host(void)
{
	return &fzh_table;
}

struct tf_ctx *fzh_ctx(void)
{
	return &fz.ctx;
}

struct tf_entry *fzh_flow_entry(const uint8_t *stream, size_t len)
{
	struct tf_entry *e = new_entry();
	e->is_flow = 1;
	e->stream = stream;
	e->stream_len = len;
	snprintf(e->path, sizeof e->path, "out/flow%d", fz.serial++);
	return e;
}

size_t fzh_end(void)
{
	if (fz.open_files)
		fzh_die("a file was neither closed nor emitted", fz.open_files->path);
	for (size_t i = 0; i < fz.nentries; i++)
		free(fz.entries[i]);
	fz.nentries = 0;
	fz.serial = 0;
	return fz.emitted;
}
