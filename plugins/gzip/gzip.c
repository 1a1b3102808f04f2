/* gzip: decodes derived objects whose content is gzip- or deflate-encoded
 * (an HTTP body with Content-Encoding: gzip, x-gzip or deflate) and emits
 * the decoded bytes as a derived object of their own, written beside the
 * encoded one as "<its file>-GZIP" (X-HTTPBODY-GZIP, X-HTTPBODY-002-GZIP),
 * so md5 hashes it and any scanner can take it further.
 *
 * Which objects: any object whose metadata has a content_encoding whose last
 * coding (RFC 9110 8.4: codings are listed in the order they were applied)
 * is gzip, x-gzip or deflate. The decoded object keeps the parent's
 * metadata, with content_encoding reduced to the codings still applied
 * ("gzip, gzip" decodes twice, one object per layer) and decoding's outcome
 * added: decoded_from (the coding decoded), decoded_format (what the bytes
 * were: gzip, zlib or raw deflate — taken from the data, servers send
 * deflate both with and without the zlib header), decode_status.
 *
 * Decompression bombs: decoding stops at gzip_max_size output bytes, or,
 * past the first MiB, at gzip_max_ratio times the encoded bytes read; the
 * bytes decoded so far are kept, the status says why it stopped, a warning
 * is logged and the report has it. -Z turns this scanner off (the host
 * does; it also answers get_param("decompress") = "no").
 *
 * Report: each encoded object's <fileobject> gets <gzip encoding= format=
 * status= input_bytes= output_bytes=/>, the run a <gzip_summary .../>.
 * Built like any third-party scanner: only <tcpflow/scanner.h> and zlib. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpflow/scanner.h>

#include "gz_inflate.h"

#define GZIP_MAX_WARNINGS 10

static const struct tf_host *host;

struct gzip_state {
	uint64_t max_out, max_ratio;
	int off;                       /* -Z */
	/* counters for the summary */
	uint64_t objects, decoded, complete, stopped, corrupt, truncated, failed;
	uint64_t bytes_in, bytes_out;
	unsigned warnings;
};

/* Where decoded bytes go: a file through the host, or memory. */
struct gzip_sink {
	struct tf_ctx *ctx;
	const struct tf_object *obj;
	int use_file;
	struct tf_file *file;
	int open_failed;
	uint8_t *mem;
	size_t len, cap;
};

static const struct tf_param gzip_params[] = {
	{ "gzip_max_size", "268435456",
	  "Stop decoding an object when its decoded size would pass this many bytes "
	  "(suffixes k, m, g; 0 = no limit). The bytes decoded up to there are kept, "
	  "and the object's report entry and a warning say that decoding stopped." },
	{ "gzip_max_ratio", "100",
	  "Once an object's decoded bytes pass 1 MiB, stop decoding when they are more "
	  "than this many times the encoded bytes read so far: a decompression bomb "
	  "(one gzip layer expands at most about 1030 times; text is 3 to 20). 0 = no "
	  "limit." },
	{ NULL, NULL, NULL },
};

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int gzip_init(struct tf_ctx *ctx, void **state)
{
	struct gzip_state *st = calloc(1, sizeof *st);
	if (!st) {
		tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	const char *v = host->get_param(ctx, "gzip_max_size");
	if (parse_size(v, &st->max_out) < 0) {
		tf_logf(host, ctx, TF_LOG_ERROR, "gzip_max_size=%s: not a number of bytes", v);
		free(st);
		return -EINVAL;
	}
	v = host->get_param(ctx, "gzip_max_ratio");
	if (parse_size(v, &st->max_ratio) < 0) {
		tf_logf(host, ctx, TF_LOG_ERROR, "gzip_max_ratio=%s: not a number", v);
		free(st);
		return -EINVAL;
	}
	v = host->get_param(ctx, "decompress");
	st->off = v && !strcmp(v, "no");
	if (TF_HAS(host, struct tf_host, files_later))
		host->files_later(ctx);   /* reads no file of this run */
	*state = st;
	return 0;
}

static void report_u64(struct tf_ctx *ctx, struct tf_entry *e, const char *name, uint64_t v)
{
	char num[32];
	snprintf(num, sizeof num, "%llu", (unsigned long long)v);
	host->report_attr(ctx, e, name, num);
}

static void gzip_shutdown(struct tf_ctx *ctx, void *state)
{
	struct gzip_state *st = state;
	if (!st)
		return;
	if (st->objects) {
		host->report_start(ctx, NULL, "gzip_summary");
		report_u64(ctx, NULL, "objects", st->objects);
		report_u64(ctx, NULL, "decoded", st->decoded);
		report_u64(ctx, NULL, "complete", st->complete);
		report_u64(ctx, NULL, "stopped", st->stopped);
		report_u64(ctx, NULL, "corrupt", st->corrupt);
		report_u64(ctx, NULL, "truncated", st->truncated);
		report_u64(ctx, NULL, "failed", st->failed);
		report_u64(ctx, NULL, "bytes_in", st->bytes_in);
		report_u64(ctx, NULL, "bytes_out", st->bytes_out);
		host->report_end(ctx, NULL);
	}
	free(st);
}

static int sink_write(void *arg, const uint8_t *data, size_t len)
{
	struct gzip_sink *s = arg;
	if (s->use_file) {
		if (!s->file && !s->open_failed) {
			s->file = host->file_open(s->ctx, s->obj->entry, "-GZIP");
			if (!s->file)
				s->open_failed = 1;
		}
		if (!s->file)
			return -1;
		return host->file_write(s->ctx, s->file, data, len) < 0 ? -1 : 0;
	}
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		while (cap < s->len + len)
			cap *= 2;
		uint8_t *m = realloc(s->mem, cap);
		if (!m)
			return -1;
		s->mem = m;
		s->cap = cap;
	}
	memcpy(s->mem + s->len, data, len);
	s->len += len;
	return 0;
}

static const char *meta_get(const struct tf_object *obj, const char *key)
{
	for (size_t i = 0; i < obj->nmeta; i++)
		if (!strcmp(obj->meta[i].key, key))
			return obj->meta[i].value;
	return NULL;
}

static void gzip_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	struct gzip_state *st = state;
	const char *ce = meta_get(obj, "content_encoding");
	const char *last;
	size_t restlen, lastlen;
	if (st->off || !ce || !gz_coding_last(ce, &restlen, &last, &lastlen) ||
	    !gz_coding_known(last, lastlen) || obj->len == 0)
		return;
	st->objects++;
	st->bytes_in += obj->len;

	struct gz_inflate g;
	struct gzip_sink sink = {
		.ctx = ctx,
		.obj = obj,
		/* a file beside the object's; in memory for an object that lives
		 * only in memory while flow files are written */
		.use_file = obj->path != NULL || !(obj->flow && obj->flow->path),
	};
	char status[160], coding[16];
	snprintf(coding, sizeof coding, "%.*s", (int)(lastlen < 15 ? lastlen : 15), last);
	for (char *c = coding; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (gz_inflate_init(&g, st->max_out, st->max_ratio, GZ_RATIO_FLOOR) < 0) {
		st->failed++;
		tf_logf(host, ctx, TF_LOG_WARN, "out of memory");
		gz_inflate_free(&g);
		return;
	}
	gz_inflate_feed(&g, obj->data, (size_t)obj->len, sink_write, &sink);
	enum gz_status rc = gz_inflate_end(&g);
	gz_status_text(&g, status, sizeof status);
	const char *name = obj->path ? obj->path : obj->type;

	switch (rc) {
	case GZ_DONE: st->complete++; break;
	case GZ_LIMIT_SIZE:
	case GZ_LIMIT_RATIO:
		st->stopped++;
		if (st->warnings++ < GZIP_MAX_WARNINGS)
			tf_logf(host, ctx, TF_LOG_WARN, "%s: decoding %s", name, status);
		else if (st->warnings == GZIP_MAX_WARNINGS + 1)
			tf_logf(host, ctx, TF_LOG_WARN, "more decodings stopped (not listed; see the "
				"report)");
		break;
	case GZ_CORRUPT: st->corrupt++; break;
	case GZ_TRUNCATED: st->truncated++; break;
	default: st->failed++; break;
	}
	if (rc == GZ_CORRUPT || rc == GZ_TRUNCATED)
		tf_logf(host, ctx, TF_LOG_INFO, "%s: %s", name, status);

	/* the parent's entry says what decoding it gave */
	host->report_start(ctx, obj->entry, "gzip");
	host->report_attr(ctx, obj->entry, "encoding", coding);
	host->report_attr(ctx, obj->entry, "format", gz_format_name(g.fmt));
	host->report_attr(ctx, obj->entry, "status", status);
	report_u64(ctx, obj->entry, "input_bytes", g.in);
	report_u64(ctx, obj->entry, "output_bytes", g.out);
	if (TF_HAS(obj, struct tf_object, ngaps) && obj->ngaps)
		report_u64(ctx, obj->entry, "input_gaps", obj->ngaps);
	host->report_end(ctx, obj->entry);

	if (g.out > 0 && (sink.file || sink.mem)) {
		/* the decoded object: the parent's metadata, the codings left, the outcome */
		struct tf_kv *meta = calloc(obj->nmeta + 4, sizeof *meta);
		char rest[512];
		size_t n = 0;
		if (!meta) {
			st->failed++;
			tf_logf(host, ctx, TF_LOG_WARN, "out of memory");
			if (sink.file)
				host->file_close(ctx, sink.file);
			goto out;
		}
		snprintf(rest, sizeof rest, "%.*s",
			 (int)(restlen < sizeof rest ? restlen : sizeof rest - 1), ce);
		for (size_t i = 0; i < obj->nmeta; i++) {
			if (!strcmp(obj->meta[i].key, "content_encoding") ||
			    !strcmp(obj->meta[i].key, "decoded_from") ||
			    !strcmp(obj->meta[i].key, "decoded_format") ||
			    !strcmp(obj->meta[i].key, "decode_status"))
				continue;
			meta[n++] = obj->meta[i];
		}
		if (rest[0])
			meta[n++] = (struct tf_kv){ "content_encoding", rest };
		meta[n++] = (struct tf_kv){ "decoded_from", coding };
		meta[n++] = (struct tf_kv){ "decoded_format", gz_format_name(g.fmt) };
		meta[n++] = (struct tf_kv){ "decode_status", status };
		struct tf_object_desc d = {
			.size = sizeof d,
			.type = "gzip-decoded",
			.meta = meta,
			.nmeta = n,
			.data = sink.mem,
			.len = sink.len,
			.suffix = sink.file ? NULL : "-GZIP",
			.file = sink.file,
		};
		int erc = host->emit_object(ctx, obj->entry, &d);
		if (erc < 0 && erc != -ELOOP)
			tf_logf(host, ctx, TF_LOG_WARN, "%s: decoded object not emitted: %s", name,
				strerror(-erc));
		free(meta);
		st->decoded++;
		st->bytes_out += g.out;
	} else if (sink.file) {
		host->file_close(ctx, sink.file);
	}
out:
	free(sink.mem);
	gz_inflate_free(&g);
}

static const struct tf_scanner gzip_scanner = {
	.size = sizeof(struct tf_scanner),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.name = "gzip",
	.version = "1.0",
	.description = "Decodes objects with gzip or deflate content encoding (HTTP bodies): "
		       "the decoded bytes go to <object's file>-GZIP (X-HTTPBODY-GZIP, "
		       "X-HTTPBODY-002-GZIP), a derived object of its own (md5 hashes it) "
		       "carrying the parent's metadata; gzip, zlib and raw deflate are told "
		       "apart by the data, several gzip members are decoded in turn, and "
		       "\"gzip, gzip\" is decoded layer by layer. Decompression bombs are "
		       "stopped by gzip_max_size and gzip_max_ratio, with a warning and "
		       "<gzip status='stopped: ...'> in the report. -Z turns it off.",
	.params = gzip_params,
	.init = gzip_init,
	.shutdown = gzip_shutdown,
	.on_object = gzip_object,
};

TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *h)
{
	if (!h || h->abi_major != TF_ABI_MAJOR)
		return NULL;
	host = h;
	return &gzip_scanner;
}
