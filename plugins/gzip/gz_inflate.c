/* gz_inflate: streaming gzip / zlib / raw deflate decoding with caps
 * (see gz_inflate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gz_inflate.h"

#define GZ_BUF 65536

enum { PH_HEAD, PH_INFLATE, PH_END };

static int get_phase(const struct gz_inflate *g)
{
	return g->phase;
}

static void set_phase(struct gz_inflate *g, int ph)
{
	g->phase = ph;
}

int gz_inflate_init(struct gz_inflate *g, uint64_t max_out, uint64_t max_ratio,
		    uint64_t ratio_floor)
{
	memset(g, 0, sizeof *g);
	g->status = GZ_MORE;
	g->max_out = max_out;
	g->max_ratio = max_ratio;
	g->ratio_floor = ratio_floor;
	g->buf = malloc(GZ_BUF);
	if (!g->buf) {
		g->status = GZ_NOMEM;
		return -1;
	}
	set_phase(g, PH_HEAD);
	return 0;
}

void gz_inflate_free(struct gz_inflate *g)
{
	if (g->zinit)
		inflateEnd(&g->zs);
	free(g->buf);
	g->buf = NULL;
	g->zinit = 0;
}

const char *gz_format_name(enum gz_format f)
{
	switch (f) {
	case GZ_FMT_GZIP: return "gzip";
	case GZ_FMT_ZLIB: return "zlib";
	case GZ_FMT_RAW: return "deflate";
	default: return "unknown";
	}
}

/* RFC 1950 2.2: CM = 8, CINFO <= 7, (CMF * 256 + FLG) a multiple of 31. */
static int zlib_header(const uint8_t *h)
{
	return (h[0] & 0x0f) == 8 && (h[0] >> 4) <= 7 && ((h[0] << 8) | h[1]) % 31 == 0;
}

/* Begin a stream (or the next gzip member) with its first two bytes. */
static int start_stream(struct gz_inflate *g)
{
	int wbits;
	if (g->fmt == GZ_FMT_UNKNOWN) {
		if (g->head[0] == 0x1f && g->head[1] == 0x8b)
			g->fmt = GZ_FMT_GZIP;            /* RFC 1952 2.3.1: ID1 ID2 */
		else if (zlib_header(g->head))
			g->fmt = GZ_FMT_ZLIB;
		else
			g->fmt = GZ_FMT_RAW;
	}
	wbits = g->fmt == GZ_FMT_GZIP ? 16 + MAX_WBITS : g->fmt == GZ_FMT_ZLIB ? MAX_WBITS
									   : -MAX_WBITS;
	if (g->zinit) {
		if (inflateReset(&g->zs) != Z_OK)
			return -1;
	} else {
		memset(&g->zs, 0, sizeof g->zs);
		if (inflateInit2(&g->zs, wbits) != Z_OK)
			return -1;
		g->zinit = 1;
	}
	set_phase(g, PH_INFLATE);
	return 0;
}

/* Hand n decoded bytes to the sink, within the caps. 0 to go on. */
static int deliver(struct gz_inflate *g, const uint8_t *p, size_t n, gz_sink_fn sink, void *arg)
{
	uint64_t allowed = UINT64_MAX;
	enum gz_status why = GZ_MORE;
	if (g->max_out) {
		allowed = g->max_out;
		why = GZ_LIMIT_SIZE;
	}
	if (g->max_ratio) {
		uint64_t r = g->in > UINT64_MAX / g->max_ratio ? UINT64_MAX : g->in * g->max_ratio;
		if (r < g->ratio_floor)
			r = g->ratio_floor;
		if (r < allowed) {
			allowed = r;
			why = GZ_LIMIT_RATIO;
		}
	}
	size_t give = n;
	if (g->out + n > allowed)
		give = allowed > g->out ? (size_t)(allowed - g->out) : 0;
	if (give && sink && sink(arg, p, give) != 0) {
		g->status = GZ_SINK_FAILED;
		return -1;
	}
	g->out += give;
	if (give < n) {
		g->status = why;
		return -1;
	}
	return 0;
}

/* Inflate n bytes at p (the phase is PH_INFLATE). Returns how many input
 * bytes are left over after the end of a stream (to be looked at by the
 * caller), with g->status set when decoding stopped. */
static size_t run(struct gz_inflate *g, const uint8_t *p, size_t n, gz_sink_fn sink, void *arg)
{
	g->zs.next_in = (Bytef *)(uintptr_t)p;
	g->zs.avail_in = (uInt)n;
	for (;;) {
		g->zs.next_out = g->buf;
		g->zs.avail_out = GZ_BUF;
		uInt before = g->zs.avail_in;
		int rc = inflate(&g->zs, Z_NO_FLUSH);
		g->in += before - g->zs.avail_in;
		size_t produced = GZ_BUF - g->zs.avail_out;
		if (produced && deliver(g, g->buf, produced, sink, arg) < 0)
			return 0;
		if (rc == Z_STREAM_END) {
			if (g->fmt == GZ_FMT_GZIP)
				g->members++;
			set_phase(g, g->fmt == GZ_FMT_GZIP ? PH_HEAD : PH_END);
			if (g->fmt != GZ_FMT_GZIP)
				g->status = GZ_DONE;
			return g->zs.avail_in;
		}
		if (rc == Z_MEM_ERROR) {
			g->status = GZ_NOMEM;
			return 0;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			/* Z_DATA_ERROR, Z_NEED_DICT (a preset dictionary we cannot have) */
			snprintf(g->msg, sizeof g->msg, "%s",
				 rc == Z_NEED_DICT ? "needs a preset dictionary"
						   : (g->zs.msg ? g->zs.msg : "invalid data"));
			g->error_at = g->in;
			g->status = GZ_CORRUPT;
			return 0;
		}
		/* more output may be pending while the buffer came back full */
		if (g->zs.avail_in == 0 && g->zs.avail_out != 0)
			return 0;
		if (produced == 0 && before == g->zs.avail_in)
			return 0;   /* no progress (Z_BUF_ERROR): wait for input */
	}
}

enum gz_status gz_inflate_feed(struct gz_inflate *g, const uint8_t *in, size_t len,
			       gz_sink_fn sink, void *arg)
{
	while (len && g->status == GZ_MORE) {
		int ph = get_phase(g);
		if (ph == PH_END) {
			g->status = GZ_DONE;
			break;
		}
		if (ph == PH_HEAD) {
			while (g->nhead < 2 && len) {
				g->head[g->nhead++] = *in++;
				len--;
			}
			if (g->nhead < 2)
				break;
			if (g->members && !(g->head[0] == 0x1f && g->head[1] == 0x8b)) {
				/* not another gzip member: the rest is trailing data */
				g->trailing += g->nhead;
				g->nhead = 0;
				set_phase(g, PH_END);
				g->status = GZ_DONE;
				break;
			}
			if (start_stream(g) < 0) {
				g->status = GZ_NOMEM;
				break;
			}
			uint8_t head[2] = { g->head[0], g->head[1] };
			g->nhead = 0;
			size_t left = run(g, head, 2, sink, arg);
			if (left) {
				/* a stream ended within its first two bytes: impossible for
				 * valid data; count the byte as trailing */
				g->trailing += left;
			}
			continue;
		}
		size_t left = run(g, in, len, sink, arg);
		in += len - left;
		len = left;
	}
	if (len && (g->status == GZ_DONE || get_phase(g) == PH_END))
		g->trailing += len;
	return g->status;
}

enum gz_status gz_inflate_end(struct gz_inflate *g)
{
	if (g->status != GZ_MORE)
		return g->status;
	int ph = get_phase(g);
	if (ph == PH_END || (ph == PH_HEAD && g->members > 0)) {
		g->trailing += g->nhead;
		g->nhead = 0;
		g->status = GZ_DONE;
	} else {
		g->status = GZ_TRUNCATED;
	}
	return g->status;
}

const char *gz_status_text(const struct gz_inflate *g, char *buf, size_t len)
{
	switch (g->status) {
	case GZ_DONE:
		if (g->trailing)
			snprintf(buf, len, "complete (%llu bytes after the end of the stream ignored)",
				 (unsigned long long)g->trailing);
		else
			snprintf(buf, len, "complete");
		break;
	case GZ_MORE:
		snprintf(buf, len, "incomplete");
		break;
	case GZ_CORRUPT:
		snprintf(buf, len, "error: %s at input byte %llu", g->msg,
			 (unsigned long long)g->error_at);
		break;
	case GZ_TRUNCATED:
		snprintf(buf, len, "truncated: the input ends inside the %s stream",
			 gz_format_name(g->fmt));
		break;
	case GZ_LIMIT_SIZE:
		snprintf(buf, len, "stopped: output limit of %llu bytes reached (decompression "
			 "bomb?)", (unsigned long long)g->max_out);
		break;
	case GZ_LIMIT_RATIO:
		snprintf(buf, len, "stopped: expansion ratio above %llu after %llu input bytes "
			 "(decompression bomb?)", (unsigned long long)g->max_ratio,
			 (unsigned long long)g->in);
		break;
	case GZ_SINK_FAILED:
		snprintf(buf, len, "stopped: the output could not be written");
		break;
	default:
		snprintf(buf, len, "stopped: out of memory");
		break;
	}
	return buf;
}

int gz_coding_known(const char *name, size_t n)
{
	return (n == 4 && !strncasecmp(name, "gzip", 4)) ||
	       (n == 6 && !strncasecmp(name, "x-gzip", 6)) ||
	       (n == 7 && !strncasecmp(name, "deflate", 7));
}

int gz_coding_last(const char *value, size_t *restlen, const char **last, size_t *lastlen)
{
	size_t end = strlen(value);
	for (;;) {
		/* trim the end: spaces, tabs, commas */
		while (end && (value[end - 1] == ' ' || value[end - 1] == '\t' ||
			       value[end - 1] == ','))
			end--;
		if (!end)
			return 0;
		size_t start = end;
		while (start && value[start - 1] != ',')
			start--;
		size_t s = start;
		while (s < end && (value[s] == ' ' || value[s] == '\t'))
			s++;
		if (end - s == 8 && !strncasecmp(value + s, "identity", 8)) {
			end = start;   /* identity changes nothing: look further left */
			continue;
		}
		*last = value + s;
		*lastlen = end - s;
		size_t r = start;
		while (r && (value[r - 1] == ' ' || value[r - 1] == '\t' || value[r - 1] == ','))
			r--;
		*restlen = r;
		return 1;
	}
}
