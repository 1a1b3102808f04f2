/* Fuzz target: the http scanner (plugins/http), its parsing of both
 * directions of one connection and the objects it derives, behind the stub
 * host of fuzz_host.c (which checks every object: valid descriptor, runs
 * that hold exactly the flow's bytes, gaps of zeros, no file leaked).
 *
 * Input:
 *   byte 0      options: bit 0 -S http_names=1.6, bit 1 -Z, bit 2 close the
 *               response direction first, bits 3-7 seed of the piece sizes
 *   bytes 1-2   length L of the request direction (big-endian, clamped)
 *   L bytes     the request direction (client to server)
 *   the rest    the response direction
 * The two directions are delivered alternately in pieces of 1 to 2048
 * bytes (sizes from a xorshift generator seeded by the input); about one
 * piece in 24 is not delivered but announced as a gap, as tcpflow does
 * when a segment never arrives. Seeds: tests/fuzz/http/ (the streams of
 * the HTTP test captures in this format). */
#include "fuzz.h"
#include "fuzz_host.h"

#include <stdlib.h>
#include <string.h>

struct dir {
	struct tf_flow flow;
	const uint8_t *data;
	size_t len, off;
	void *fstate;
};

static uint32_t rnd(uint32_t *s)
{
	/* xorshift32 */
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

static void step(const struct tf_scanner *sc, void *state, struct dir *d, uint32_t *seed)
{
	if (d->off >= d->len)
		return;
	uint32_t r = rnd(seed);
	size_t n = 1 + (r >> 8) % 2048;
	if (n > d->len - d->off)
		n = d->len - d->off;
	d->flow.length = d->off + n;
	d->flow.packets++;
	if ((r & 0xff) < 11 && d->off > 0) {
		if (sc->on_gap)
			sc->on_gap(fzh_ctx(), state, &d->flow, &d->fstate, d->off, n);
	} else {
		sc->on_data(fzh_ctx(), state, &d->flow, &d->fstate, d->off, d->data + d->off, n);
	}
	d->off += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	uint8_t opt = data[0];
	size_t l = ((size_t)data[1] << 8) | data[2];
	data += 3;
	size -= 3;
	if (l > size)
		l = size;
	const char *const params[] = {
		"http_names", (opt & 1) ? "1.6" : "",
		"decompress", (opt & 2) ? "no" : "yes",
		NULL,
	};
	const struct tf_scanner *sc = TF_ENTRY(fzh_host());
	if (!sc || !sc->init || !sc->on_data || !sc->on_flow_open || !sc->on_flow_close)
		fzh_die("the http scanner has no stream callbacks", NULL);
	fzh_begin(params, sc, NULL);
	void *state = NULL;
	if (sc->init(fzh_ctx(), &state) != 0)
		fzh_die("init failed", NULL);
	fzh_set_state(state);

	struct dir dirs[2];
	memset(dirs, 0, sizeof dirs);
	dirs[0].data = data;
	dirs[0].len = l;
	dirs[1].data = data + l;
	dirs[1].len = size - l;
	for (int i = 0; i < 2; i++) {
		struct tf_flow *f = &dirs[i].flow;
		f->size = sizeof *f;
		f->id = (uint64_t)i;
		f->session_id = 1;
		f->src.family = f->dst.family = 4;
		f->sport = i ? 80 : 40000;
		f->dport = i ? 40000 : 80;
		f->path = i ? "out/server" : "out/client";
		f->entry = fzh_flow_entry(dirs[i].data, dirs[i].len);
		if (dirs[i].len)
			sc->on_flow_open(fzh_ctx(), state, f, &dirs[i].fstate);
	}
	uint32_t seed = 0x9E3779B9u ^ ((uint32_t)opt << 24) ^ (uint32_t)size;
	while (dirs[0].off < dirs[0].len || dirs[1].off < dirs[1].len) {
		step(sc, state, &dirs[0], &seed);
		step(sc, state, &dirs[1], &seed);
	}
	int first = (opt & 4) ? 1 : 0;
	for (int k = 0; k < 2; k++) {
		struct dir *d = &dirs[k ? 1 - first : first];
		if (!d->len)
			continue;
		d->flow.file_size = d->len;
		sc->on_flow_close(fzh_ctx(), state, &d->flow, &d->fstate);
		if (d->fstate)
			fzh_die("on_flow_close left its flow state", NULL);
	}
	if (sc->shutdown)
		sc->shutdown(fzh_ctx(), state);
	fzh_end();
	return 0;
}
