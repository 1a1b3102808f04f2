/* Fuzz target: the gzip scanner (plugins/gzip) decoding one object, behind
 * the stub host of fuzz_host.c, and its decoder (gz_inflate.c) fed the same
 * bytes in pieces, as the http scanner's 1.6 mode feeds it.
 *
 * Input:
 *   byte 0   the object's Content-Encoding: bits 0-2 pick gzip, x-gzip,
 *            deflate, "gzip, gzip", "deflate, gzip", br, "GZIP, identity",
 *            or nothing
 *   byte 1   the caps: bits 0-1 gzip_max_size (0 = none, 1 KiB, 64 KiB,
 *            1 MiB), bits 2-3 gzip_max_ratio (0 = none, 2, 100, 1000); the
 *            rest seeds the piece sizes
 *   the rest the encoded body
 * Checks (abort): whatever the pieces, the decoder gives the same number
 * of bytes and the same outcome as in one piece, never more than the size
 * cap, and the scanner's objects are valid (fuzz_host.c). Seeds:
 * tests/fuzz/gzip/. */
#include "fuzz.h"
#include "fuzz_host.h"
#include "gz_inflate.h"

#include <stdio.h>
#include <string.h>

static int count_sink(void *arg, const uint8_t *data, size_t len)
{
	(void)data;
	*(uint64_t *)arg += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const codings[] = {
		"gzip", "x-gzip", "deflate", "gzip, gzip", "deflate, gzip", "br", "GZIP, identity", "",
	};
	static const char *const sizes[] = { "0", "1k", "64k", "1m" };
	static const char *const ratios[] = { "0", "2", "100", "1000" };
	static const uint64_t size_v[] = { 0, 1024, 65536, 1 << 20 };
	static const uint64_t ratio_v[] = { 0, 2, 100, 1000 };
	if (size < 2)
		return 0;
	const char *coding = codings[data[0] & 7];
	unsigned cap = data[1];
	data += 2;
	size -= 2;
	const char *const params[] = {
		"gzip_max_size", sizes[cap & 3],
		"gzip_max_ratio", ratios[(cap >> 2) & 3],
		NULL,
	};

	/* the scanner, one object */
	const struct tf_scanner *sc = TF_ENTRY(fzh_host());
	if (!sc || !sc->init || !sc->on_object)
		fzh_die("the gzip scanner has no on_object", NULL);
	fzh_begin(params, sc, NULL);
	void *state = NULL;
	if (sc->init(fzh_ctx(), &state) != 0)
		fzh_die("init failed", NULL);
	fzh_set_state(state);
	const struct tf_kv meta[] = {
		{ "content_type", "text/html" },
		{ "content_encoding", coding },
	};
	struct tf_entry *parent = fzh_flow_entry(NULL, 0);
	struct tf_object_desc d = {
		.size = sizeof d,
		.type = "http-body",
		.meta = meta,
		.nmeta = coding[0] ? 2 : 1,
		.data = data,
		.len = size,
		.suffix = "-HTTPBODY",
	};
	fzh_host()->emit_object(fzh_ctx(), parent, &d);
	sc->shutdown(fzh_ctx(), state);
	fzh_end();

	/* the decoder: one piece, then pieces */
	uint64_t max_out = size_v[cap & 3], ratio = ratio_v[(cap >> 2) & 3];
	struct gz_inflate a, b;
	uint64_t out_a = 0, out_b = 0;
	if (gz_inflate_init(&a, max_out, ratio, 1024) < 0 ||
	    gz_inflate_init(&b, max_out, ratio, 1024) < 0) {
		gz_inflate_free(&a);
		gz_inflate_free(&b);
		return 0;
	}
	gz_inflate_feed(&a, data, size, count_sink, &out_a);
	enum gz_status sa = gz_inflate_end(&a);
	uint32_t seed = 2463534242u ^ (uint32_t)cap;
	for (size_t off = 0; off < size;) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		size_t n = 1 + seed % 700;
		if (n > size - off)
			n = size - off;
		gz_inflate_feed(&b, data + off, n, count_sink, &out_b);
		off += n;
	}
	enum gz_status sb = gz_inflate_end(&b);
	/* The ratio cap looks at the input consumed so far, which depends on
	 * the pieces: only without it must the outcomes agree exactly. */
	if (!ratio && (sa != sb || out_a != out_b)) {
		char why[160];
		snprintf(why, sizeof why, "one piece: status %d, %llu bytes; pieces: status %d, "
			 "%llu bytes", (int)sa, (unsigned long long)out_a, (int)sb,
			 (unsigned long long)out_b);
		fzh_die("decoding depends on how the input is cut", why);
	}
	if ((max_out && (out_a > max_out || out_b > max_out)) || a.out != out_a || b.out != out_b)
		fzh_die("the size cap was passed", NULL);
	gz_inflate_free(&a);
	gz_inflate_free(&b);
	return 0;
}
