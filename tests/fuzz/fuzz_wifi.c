/* Fuzz target: the wifi-stats scanner (plugins/wifi/wifi.c) on 802.11 frames.
 *
 * The input is a classic pcap file (any of the four magics; pcapng and
 * anything else is ignored): its link type (radiotap 127, Prism 119, AVS
 * 163, PPI 192, plain 802.11 105, or any other, which the scanner only
 * counts) and its records. Every record's captured bytes are copied into a
 * buffer of exactly that size, so AddressSanitizer sees any read past the
 * frame, and handed to the scanner's on_packet as tcpflow does (caplen,
 * wirelen, timestamp, link type). A record cut short by the end of the input
 * is delivered with the bytes that are there (caplen shortened, wirelen
 * kept): every packet at every length is one input away.
 *
 * The scanner is built from its own source, exactly as the plugin, and
 * driven through a stub host table (sdk/tcpflow/scanner.h): report calls
 * check their arguments and the element nesting, files go to memory.
 * Each input runs twice: check_fcs=YES with the default device limit, and
 * check_fcs=NO with wifi_max_devices=4 (the limit reached).
 *
 * Invariants (abort() when broken): every report element started is ended
 * by the scanner, no report call is misused, init succeeds, the text file
 * is written once at most. The seeds are tests/data (make check runs
 * tests/fuzz/replay_wifi on it; the wifi-stats e2e test replays a pcap
 * holding every packet of its capture at every length). */
#include "fuzz.h"

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "tcpflow/scanner.h"

static struct {
	int check_fcs;
	const char *max_devices;
	int depth;               /* report elements open */
	int attrs_ok;
	int files;
	int in_init;
} fz;

struct tf_file {
	size_t len;
};

static volatile unsigned fz_sink;

static void fz_log(struct tf_ctx *ctx, int level, const char *msg)
{
	(void)ctx;
	if (!msg)
		abort();
	if (level == TF_LOG_ERROR || getenv("TCPFLOW_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_wifi: log %d: %s\n", level, msg);
}

static const char *fz_get_param(struct tf_ctx *ctx, const char *name)
{
	(void)ctx;
	if (!strcmp(name, "check_fcs"))
		return fz.check_fcs ? "YES" : "NO";
	if (!strcmp(name, "wifi_max_devices"))
		return fz.max_devices;
	if (!strcmp(name, "outdir"))
		return ".";
	return NULL;
}

static int name_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static int fz_report_start(struct tf_ctx *ctx, struct tf_entry *e, const char *name)
{
	(void)ctx;
	if (e || !name_ok(name))
		abort();
	fz.depth++;
	fz.attrs_ok = 1;
	return 0;
}

static int fz_report_attr(struct tf_ctx *ctx, struct tf_entry *e, const char *name,
			  const char *value)
{
	(void)ctx;
	if (e || !name_ok(name) || !value || !fz.attrs_ok || fz.depth <= 0)
		abort();
	(void)strlen(value);
	return 0;
}

static int fz_report_text(struct tf_ctx *ctx, struct tf_entry *e, const char *text)
{
	(void)ctx;
	if (e || !text || fz.depth <= 0)
		abort();
	fz.attrs_ok = 0;
	return 0;
}

static int fz_report_end(struct tf_ctx *ctx, struct tf_entry *e)
{
	(void)ctx;
	if (e || fz.depth <= 0)
		abort();
	fz.depth--;
	fz.attrs_ok = 0;
	return 0;
}

static int fz_report_element(struct tf_ctx *ctx, struct tf_entry *e, const char *name,
			     const char *text)
{
	(void)ctx;
	if (e || !name_ok(name))
		abort();
	(void)text;
	fz.attrs_ok = 0;
	return 0;
}

static struct tf_file *fz_file_open(struct tf_ctx *ctx, struct tf_entry *beside,
				    const char *suffix)
{
	(void)ctx;
	if (beside || !name_ok(suffix) || strcmp(suffix, "wifi-stats.txt") || fz.files++)
		abort();
	return calloc(1, sizeof(struct tf_file));
}

static int fz_file_write(struct tf_ctx *ctx, struct tf_file *f, const void *data, size_t len)
{
	(void)ctx;
	if (!f || (len && !data))
		abort();
	/* touch every byte, so ASan checks the whole buffer */
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		fz_sink += p[i];
	f->len += len;
	return 0;
}

static const char *fz_file_path(struct tf_ctx *ctx, struct tf_file *f)
{
	(void)ctx;
	(void)f;
	return NULL;
}

static int fz_file_close(struct tf_ctx *ctx, struct tf_file *f)
{
	(void)ctx;
	if (!f)
		abort();
	free(f);
	return 0;
}

static int fz_emit(struct tf_ctx *ctx, struct tf_entry *parent, const struct tf_object_desc *d)
{
	(void)ctx;
	(void)parent;
	(void)d;
	abort();   /* wifi-stats emits no objects */
}

static const char *fz_input_name(struct tf_ctx *ctx, uint32_t index)
{
	(void)ctx;
	return index == 0 ? "fuzz-input.pcap" : NULL;
}

static int fz_entry_hold(struct tf_ctx *ctx, struct tf_entry *entry)
{
	(void)ctx;
	(void)entry;
	abort();   /* nor does it see an entry to hold */
}

static int fz_entry_release(struct tf_ctx *ctx, struct tf_entry *entry)
{
	(void)ctx;
	(void)entry;
	abort();
}

/* files_later from init only; its one file is in memory, always "on disk" */
static int fz_files_later(struct tf_ctx *ctx)
{
	(void)ctx;
	if (!fz.in_init)
		abort();
	return 0;
}

static int fz_files_sync(struct tf_ctx *ctx)
{
	(void)ctx;
	return 0;
}

/* The host of this ABI, whole. */
static const struct tf_host fz_host = {
	.size = sizeof(struct tf_host),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.tcpflow_version = "fuzz",
	.log = fz_log,
	.get_param = fz_get_param,
	.report_start = fz_report_start,
	.report_attr = fz_report_attr,
	.report_text = fz_report_text,
	.report_end = fz_report_end,
	.report_element = fz_report_element,
	.file_open = fz_file_open,
	.file_write = fz_file_write,
	.file_path = fz_file_path,
	.file_close = fz_file_close,
	.emit_object = fz_emit,
	.input_name = fz_input_name,
	.entry_hold = fz_entry_hold,
	.entry_release = fz_entry_release,
	.files_later = fz_files_later,
	.files_sync = fz_files_sync,
};

static uint32_t rd32(const uint8_t *p, int swap)
{
	uint32_t v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
		     ((uint32_t)p[3] << 24);
	if (swap)
		v = (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
	return v;
}

static void run(const uint8_t *data, size_t size, int check_fcs, const char *max_devices)
{
	const struct tf_scanner *sc = TF_ENTRY(&fz_host);
	void *state = NULL;
	if (!sc || !sc->init || !sc->on_packet || !sc->shutdown)
		abort();
	memset(&fz, 0, sizeof fz);
	fz.check_fcs = check_fcs;
	fz.max_devices = max_devices;
	fz.in_init = 1;
	if (sc->init((struct tf_ctx *)&fz, &state) != 0)
		abort();
	fz.in_init = 0;
	uint32_t magic = rd32(data, 0);
	int swap = magic == 0xD4C3B2A1u || magic == 0x4D3CB2A1u;
	int nano = magic == 0xA1B23C4Du || magic == 0x4D3CB2A1u;
	int32_t linktype = (int32_t)(rd32(data + 20, swap) & 0x0FFFFFFFu);
	size_t off = 24;
	while (off + 16 <= size) {
		struct tf_packet p;
		memset(&p, 0, sizeof p);
		p.size = sizeof p;
		p.linktype = linktype;
		p.ts_sec = rd32(data + off, swap);
		p.ts_usec = rd32(data + off + 4, swap);
		if (nano)
			p.ts_usec /= 1000;
		uint32_t caplen = rd32(data + off + 8, swap);
		p.wirelen = rd32(data + off + 12, swap);
		off += 16;
		if (caplen > 262144)
			break;                     /* as libpcap: a bogus record ends the file */
		if (caplen > size - off)
			caplen = (uint32_t)(size - off);
		uint8_t *frame = malloc(caplen ? caplen : 1);
		if (!frame)
			abort();
		memcpy(frame, data + off, caplen);
		p.frame = frame;
		p.caplen = caplen;
		sc->on_packet((struct tf_ctx *)&fz, state, &p);
		free(frame);
		off += caplen;
	}
	sc->shutdown((struct tf_ctx *)&fz, state);
	if (fz.depth != 0)
		abort();                           /* an element left open */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 24)
		return 0;
	uint32_t magic = rd32(data, 0);
	if (magic != 0xA1B2C3D4u && magic != 0xD4C3B2A1u && magic != 0xA1B23C4Du &&
	    magic != 0x4D3CB2A1u)
		return 0;
	run(data, size, 1, "100000");
	run(data, size, 0, "4");
	return 0;
}
