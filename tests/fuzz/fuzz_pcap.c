/* Fuzz target: one capture file through the whole core path.
 *
 * The input is a capture file as tcpflow reads it with -r: pcap (any magic),
 * pcapng (several interfaces, any link types), either of them gzip-compressed.
 * It is written to a memfd (or, without memfd/procfs, a temporary file) and
 * read back through capture_open() with the same code -r uses, so no
 * in-memory entry point is needed in core/capture.c. Every packet then goes
 * the way core/pipeline.c sends it: link_is_supported -> decoder_packet
 * (link, ip, tunnels, defragmentation; a decoder of its own per input, as
 * a run has) -> tcp_process, then decoder_free, tcp_close_all and
 * tcp_release_all. Flows are stored in a temporary directory with -I and -K
 * side files (.findx, .pcap), or with -FX semantics when
 * TCPFLOW_FUZZ_NO_FILES=1 is set in the environment (faster, but the
 * store's file paths are not exercised), and reported to a DFXML report as
 * the pipeline does.
 *
 * The temporary directory is made in $TMPDIR, else /dev/shm, else /tmp.
 *
 * Limits are set small so that small inputs reach the code behind them:
 * 4 open descriptors (LRU eviction and reopening), 64 KiB of write buffers
 * (pressure flushes), 256 KiB / 1 MiB of reorder buffers, a 30 s
 * tcp_timeout and fragment timeout, 64 datagrams / 1 MiB of fragments.
 *
 * Invariants checked after every input (a failure aborts: libFuzzer keeps
 * the input as a crash, the replay driver names the file):
 *   - report.xml is well-formed XML (libxml2 parses it);
 *   - every flow opened was closed, and no counter wrapped below zero;
 *   - a flow file that had no write error is exactly as long as the store
 *     says (report <filesize>).
 *
 * State: tf_stats is zeroed before each input; everything else (store,
 * flow table, decoder, side files, report, capture) is created and freed
 * per input. Keep this in step with core/pipeline.c's pipeline_run when a
 * stage gains state or the run gains a step. */
#include "fuzz.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <libxml/parser.h>

#include "capture.h"
#include "decode.h"
#include "flowtable.h"
#include "link.h"
#include "report.h"
#include "sidefiles.h"
#include "stats.h"
#include "store.h"
#include "tcp.h"

static struct {
	int ready;
	int no_files;
	int in_fd;                 /* memfd holding the input, or -1 */
	char dir[PATH_MAX - 32];   /* private temporary directory (room for the names below) */
	char out[PATH_MAX];        /* dir/out: the store's output directory */
	char report[PATH_MAX];     /* dir/report.xml */
	char input[PATH_MAX];      /* path capture_open reads */
} fz = { .in_fd = -1 };

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_pcap: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	abort();
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0 && remove(path) < 0)
		die("cannot remove", path);
	return 0;
}

/* Empty a directory tree, keeping its root. */
static void empty_dir(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		die("cannot empty", path);
}

static void cleanup(void)
{
	if (!fz.ready)
		return;
	empty_dir(fz.dir);
	rmdir(fz.dir);
	if (fz.in_fd >= 0)
		close(fz.in_fd);
	fz.ready = 0;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	const char *nf = getenv("TCPFLOW_FUZZ_NO_FILES");
	if (!tmp || !*tmp)   /* memory-backed when there is one: several times faster */
		tmp = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
	fz.no_files = nf && *nf && strcmp(nf, "0") != 0;
	if ((size_t)snprintf(fz.dir, sizeof fz.dir, "%s/tcpflow-fuzz.XXXXXX", tmp) >= sizeof fz.dir ||
	    !mkdtemp(fz.dir))
		die("cannot create a temporary directory in", tmp);
	snprintf(fz.out, sizeof fz.out, "%s/out", fz.dir);
	snprintf(fz.report, sizeof fz.report, "%s/report.xml", fz.dir);
	if (mkdir(fz.out, 0755) < 0)
		die("cannot create", fz.out);
	/* The input lives in a memfd; capture_open reopens it by its /proc path. */
	fz.in_fd = memfd_create("tcpflow-fuzz-input", MFD_CLOEXEC);
	if (fz.in_fd >= 0) {
		snprintf(fz.input, sizeof fz.input, "/proc/self/fd/%d", fz.in_fd);
		int probe = open(fz.input, O_RDONLY | O_CLOEXEC);
		if (probe < 0) {
			close(fz.in_fd);
			fz.in_fd = -1;
		} else {
			close(probe);
		}
	}
	if (fz.in_fd < 0)
		snprintf(fz.input, sizeof fz.input, "%s/input", fz.dir);
	fz.ready = 1;
	atexit(cleanup);
}

static void put_input(const uint8_t *data, size_t size)
{
	int fd = fz.in_fd;
	if (fd >= 0) {
		if (ftruncate(fd, 0) < 0)
			die("cannot truncate the input memfd", strerror(errno));
	} else {
		fd = open(fz.input, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			die("cannot create", fz.input);
	}
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("cannot write the input", strerror(errno));
		done += (size_t)n;
	}
	if (fd != fz.in_fd)
		close(fd);
}

struct run {
	struct report *report;
	struct sidefiles *side;    /* -I -K; NULL with no files */
	int no_files;
};

static void on_packet(void *arg, struct conn *c, int dir, const struct pkt *p)
{
	struct run *r = arg;
	sidefiles_packet(r->side, &c->dir[dir], p);
}

static void on_stored(void *arg, struct tcp_flow *f, uint64_t off, uint32_t len,
		      int64_t sec, uint32_t usec)
{
	struct run *r = arg;
	sidefiles_stored(r->side, f, off, len, sec, usec);
}

static void on_shift(void *arg, struct tcp_flow *f, uint64_t shift)
{
	struct run *r = arg;
	sidefiles_shift(r->side, f, shift);
}

static void on_flow_free(void *arg, struct tcp_flow *f)
{
	struct run *r = arg;
	sidefiles_flow_free(r->side, f);
}

/* As core/pipeline.c's on_flow_close: one fileobject per flow with payload. */
static void on_flow_close(void *arg, struct conn *c, int dir)
{
	struct run *r = arg;
	struct tcp_flow *f = &c->dir[dir];
	const struct store_file *sf = &f->file;
	sidefiles_flow_close(r->side, f);
	if (f->next_off == 0 && sf->size == 0)
		return;
	if (!r->no_files && sf->path && !sf->failed) {
		struct stat st;
		if (stat(sf->path, &st) < 0)
			die("flow file missing after close", sf->path);
		if ((uint64_t)st.st_size != sf->size) {
			fprintf(stderr, "fuzz_pcap: %s: %llu bytes on disk, store says %llu\n", sf->path,
				(unsigned long long)st.st_size, (unsigned long long)sf->size);
			die("flow file size differs from the store's", NULL);
		}
	}
	struct report_flow rf;
	memset(&rf, 0, sizeof rf);
	rf.filename = sf->path ? sf->path : "";
	rf.filesize = r->no_files ? 0 : sf->size;
	rf.start_sec = sf->id.first_sec;
	rf.start_usec = sf->id.first_usec;
	rf.end_sec = f->last_sec;
	rf.end_usec = f->last_usec;
	rf.src = sf->id.src;
	rf.dst = sf->id.dst;
	rf.sport = sf->id.sport;
	rf.dport = sf->id.dport;
	rf.has_mac = sf->id.has_mac;
	memcpy(rf.src_mac, sf->id.src_mac, 6);
	memcpy(rf.dst_mac, sf->id.dst_mac, 6);
	rf.has_vlan = sf->id.has_vlan;
	rf.vlan = sf->id.vlan;
	rf.packets = f->packets;
	rf.len = f->next_off;
	rf.caplen = f->not_stored;
	rf.out_of_order_count = f->out_of_order_count;
	rf.violations = f->violations;
	rf.session_id = sf->id.session_id;
	rf.connection_count = sf->connection_count;
	struct report_gap *gaps = NULL;
	if (f->nholes) {
		gaps = calloc(f->nholes, sizeof *gaps);
		if (!gaps)
			die("out of memory", NULL);
		for (uint32_t i = 0; i < f->nholes; i++) {
			gaps[i].offset = f->holes[i].off;
			gaps[i].len = f->holes[i].len;
		}
		rf.gaps = gaps;
		rf.ngaps = f->nholes;
	}
	report_flow(r->report, &rf);
	free(gaps);
}

static void check_counters(void)
{
	if (tf_stats.flows_opened != tf_stats.flows_closed) {
		fprintf(stderr, "fuzz_pcap: %llu flows opened, %llu closed\n",
			(unsigned long long)tf_stats.flows_opened,
			(unsigned long long)tf_stats.flows_closed);
		die("a flow was left open after tcp_close_all", NULL);
	}
#define FUZZ_CHECK_WRAP(name) \
	if (tf_stats.name > (UINT64_MAX >> 1)) die("counter wrapped below zero", #name);
	TF_COUNTERS(FUZZ_CHECK_WRAP)
#undef FUZZ_CHECK_WRAP
}

static void check_report(void)
{
	xmlDocPtr doc = xmlReadFile(fz.report, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING | XML_PARSE_HUGE);
	if (!doc)
		die("report.xml is not well-formed XML", fz.report);
	xmlFreeDoc(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "fuzz_pcap";
	char *argv[] = { prog, NULL };
	char err[512];

	if (!fz.ready)
		setup();
	memset(&tf_stats, 0, sizeof tf_stats);
	put_input(data, size);

	static const char *const side_suffixes[] = { SIDEFILES_FINDX, SIDEFILES_PCAP, NULL };
	struct run r = { .no_files = fz.no_files };
	struct store_config sc = {
		.outdir = fz.out,
		.template_str = NULL,
		.no_files = fz.no_files,
		.max_fds = 4,
		.max_buffered = 64u << 10,
		.side_suffixes = fz.no_files ? NULL : side_suffixes,
	};
	struct store *store = store_new(&sc, err, sizeof err);
	if (!store)
		die("store_new", err);
	r.report = report_open(fz.report, 1, argv, err, sizeof err);
	if (!r.report)
		die("report_open", err);
	struct flowtable *ft = flowtable_new();
	if (!ft)
		die("flowtable_new", "out of memory");
	struct decode_config dc;
	decode_config_default(&dc);
	dc.frag_timeout = 30;
	dc.frag_max_bytes = 1u << 20;
	dc.frag_max_datagrams = 64;
	struct decoder *dec = decoder_new(&dc);
	if (!dec)
		die("decoder_new", "out of memory");
	if (!fz.no_files) {
		r.side = sidefiles_new(store, 1, 1);
		if (!r.side)
			die("sidefiles_new", "out of memory");
	}
	struct tcp_config tc = {
		.reorder_flow_cap = 256u << 10,
		.reorder_total_cap = 1u << 20,
		.tcp_timeout = 30,
	};
	struct tcp_events ev = { .arg = &r, .flow_close = on_flow_close };
	if (r.side) {
		ev.packet = on_packet;
		ev.stored = on_stored;
		ev.shift = on_shift;
		ev.flow_free = on_flow_free;
	}
	struct tcp_ctx tcp;
	tcp_ctx_init(&tcp, &tc, ft, store, &ev);

	struct capture_input *in = capture_open(fz.input, NULL, err, sizeof err);
	if (in) {
		struct pkt p;
		memset(&p, 0, sizeof p);
		int rc;
		while ((rc = capture_next(in, &p, err, sizeof err)) >= 1) {
			if (rc == 2)   /* live inputs only: nothing to read yet */
				continue;
			tf_stats.packets++;
			tf_stats.bytes += p.caplen;
			if (!link_is_supported(p.dlt)) {
				tf_stats.unsupported_link++;
				continue;
			}
			if (decoder_packet(dec, &p) == DECODE_OK)
				tcp_process(&tcp, &p);
		}
		tf_stats.filtered_out += capture_filtered(in);
		capture_close(in);
	}
	decoder_free(dec);
	tcp_close_all(&tcp);
	tcp_release_all(&tcp);
	check_counters();
	if (report_close(r.report) < 0)
		die("report_close failed", fz.report);
	sidefiles_free(r.side);
	flowtable_free(ft);
	store_free(store);
	check_report();
	empty_dir(fz.out);
	return 0;
}
