/* gz_inflate: a streaming decoder for the three formats HTTP calls gzip and
 * deflate, with caps against decompression bombs.
 *
 * The format is taken from the data, not from the label, because servers
 * label all three both ways: 1f 8b starts a gzip member (RFC 1952 2.3.1),
 * a valid zlib header (CM 8, CINFO <= 7, FCHECK, RFC 1950 2.2) starts a zlib
 * stream, anything else is raw deflate (RFC 1951) — what many servers send
 * as "Content-Encoding: deflate" (RFC 9110 8.4.1.2 says zlib). A gzip stream
 * may hold several members (RFC 1952 2.2); each is decoded in turn.
 *
 * Caps: decoding stops when the output would pass max_out bytes, or, once
 * it has passed ratio_floor bytes, max_ratio times the input consumed so
 * far (0 turns either off). What was decoded up to the cap is delivered.
 *
 * Shared by the gzip scanner (plugins/gzip/gzip.c) and the http scanner's
 * 1.6 mode (decoding in place); built into each, no tcpflow symbol used. */
#ifndef TCPFLOW_GZ_INFLATE_H
#define TCPFLOW_GZ_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

/* Defaults of the caps (the gzip scanner's gzip_max_size, gzip_max_ratio). */
#define GZ_DEFAULT_MAX_OUT   (256ull << 20)
#define GZ_DEFAULT_MAX_RATIO 100u
#define GZ_RATIO_FLOOR       (1ull << 20)

enum gz_format { GZ_FMT_UNKNOWN, GZ_FMT_GZIP, GZ_FMT_ZLIB, GZ_FMT_RAW };

enum gz_status {
	GZ_MORE,          /* fine so far: give more input (or end it) */
	GZ_DONE,          /* the stream ended (after gz_inflate_end: properly) */
	GZ_CORRUPT,       /* not decodable from some input byte on */
	GZ_TRUNCATED,     /* the input ended inside the stream */
	GZ_LIMIT_SIZE,    /* stopped at max_out */
	GZ_LIMIT_RATIO,   /* stopped at max_ratio */
	GZ_SINK_FAILED,   /* the sink returned non-zero */
	GZ_NOMEM,
};

/* Where decoded bytes go; non-zero stops decoding (GZ_SINK_FAILED). */
typedef int (*gz_sink_fn)(void *arg, const uint8_t *data, size_t len);

struct gz_inflate {
	z_stream zs;
	int zinit;                /* inflateInit2 done */
	int phase;                /* before a stream or member, inflating, ended */
	enum gz_format fmt;
	enum gz_status status;
	uint64_t max_out, max_ratio, ratio_floor;
	uint64_t in;              /* input bytes consumed */
	uint64_t out;             /* output bytes delivered */
	uint64_t trailing;        /* input bytes after the end of the stream */
	uint64_t error_at;        /* input offset where decoding failed */
	uint32_t members;         /* gzip members completed */
	uint8_t head[2];          /* first input bytes, for the format */
	size_t nhead;
	uint8_t *buf;             /* output buffer */
	char msg[96];             /* zlib's reason for GZ_CORRUPT */
};

/* Start a decoder. 0, or -1 when out of memory. */
int gz_inflate_init(struct gz_inflate *g, uint64_t max_out, uint64_t max_ratio,
		    uint64_t ratio_floor);

/* Decode len more input bytes, handing output to sink. Returns GZ_MORE while
 * more input is welcome, GZ_DONE once the stream ended (later input counts
 * as trailing bytes), or the reason decoding stopped (sticky). */
enum gz_status gz_inflate_feed(struct gz_inflate *g, const uint8_t *in, size_t len,
			       gz_sink_fn sink, void *arg);

/* No more input: GZ_TRUNCATED when the stream had not ended, else the
 * status so far. */
enum gz_status gz_inflate_end(struct gz_inflate *g);

void gz_inflate_free(struct gz_inflate *g);

/* "gzip", "zlib", "deflate" (raw), "unknown". */
const char *gz_format_name(enum gz_format f);

/* One phrase for a status: "complete", "stopped: output above ..." etc.,
 * into buf. */
const char *gz_status_text(const struct gz_inflate *g, char *buf, size_t len);

/* Is this Content-Encoding coding one gz_inflate decodes (gzip, x-gzip,
 * deflate; RFC 9110 8.4.1)? The name is n bytes, compared without case. */
int gz_coding_known(const char *name, size_t n);

/* Split a Content-Encoding value: the last coding applied (RFC 9110 8.4:
 * listed in the order applied) is [*last, *last + *lastlen); what stays
 * encoded after decoding it is value[0, *restlen) (trailing ", " dropped).
 * Returns 0 when value names no coding (empty, or only "identity"). */
int gz_coding_last(const char *value, size_t *restlen, const char **last, size_t *lastlen);

#endif
