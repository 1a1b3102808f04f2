/* The run: inputs -> decode -> tcp -> store, with the report alongside. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "console.h"
#include "decode.h"
#include "flowcmd.h"
#include "flowtable.h"
#include "link.h"
#include "pipeline.h"
#include "privs.h"
#include "progress.h"
#include "report.h"
#include "scanner_host.h"
#include "sidefiles.h"
#include "stats.h"
#include "store.h"
#include "tcp.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct run {
	const struct tf_config *cfg;
	struct report *report;
	struct scanner_host *host;    /* NULL when no scanner is enabled */
	struct store *store;
	struct flowtable *ft;
	struct decoder *dec;          /* link -> ip -> defrag, with fragments held */
	struct tcp_ctx tcp;
	uint64_t write_errors_seen;
	int store_error_told;
	struct report_gap *gapbuf;
	size_t gapcap;
	int streams_to_host;          /* the scanners asked for data and gap events */
	struct console *console;      /* -c -C -D -J: print instead of files */
	struct sidefiles *side;       /* -I -K */
	struct flowcmd *flowcmd;      /* tcp_cmd, tcp_alert_fd */
	struct capture_input *live;   /* -i or the default device */
	struct capture_writer *unconsumed;  /* -w */
	uint64_t unconsumed_skipped;  /* -w: packets of another link type */
	int first_dlt;                /* link type of the first input, -1 before */
	time_t last_idle;             /* live: coarse monotonic second of the last idle() */
};

/* Bytes of a closed flow's file on disk: the store's size, or after a write
 * error what really reached the disk, so the report never claims more. */
static uint64_t flow_file_size(const struct tf_config *cfg, const struct store_file *sf)
{
	struct stat st;
	if (cfg->no_files)
		return 0;
	if (!sf->failed)
		return sf->size;
	return sf->path && stat(sf->path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static void on_flow_close(void *arg, struct conn *c, int dir)
{
	struct run *r = arg;
	struct tcp_flow *f = &c->dir[dir];
	sidefiles_flow_close(r->side, f);
	if (r->flowcmd && f->file.path && !r->cfg->no_files && !r->cfg->console &&
	    !(f->next_off == 0 && f->file.size == 0))
		flowcmd_closed(r->flowcmd, f->file.path);
	if (f->next_off == 0 && f->file.size == 0) {
		if (r->host)   /* no payload: no file, nothing to report */
			scanner_host_flow_close(r->host, f, NULL);
		return;
	}
	if (!r->report && !r->host)
		return;
	const struct store_file *sf = &f->file;
	struct report_flow rf;
	memset(&rf, 0, sizeof rf);
	rf.filename = sf->path ? sf->path : "";
	rf.filesize = flow_file_size(r->cfg, sf);
	if (r->report && (rf.late = store_file_late(&f->file)))
		rf.late_size = store_late_outcome;   /* written after the close */
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
	if (f->nholes > r->gapcap) {
		struct report_gap *g = realloc(r->gapbuf, f->nholes * sizeof *g);
		if (g) {
			r->gapbuf = g;
			r->gapcap = f->nholes;
		}
	}
	rf.ngaps = f->nholes <= r->gapcap ? f->nholes : 0;
	for (size_t i = 0; i < rf.ngaps; i++) {
		r->gapbuf[i].offset = f->holes[i].off;
		r->gapbuf[i].len = f->holes[i].len;
	}
	rf.gaps = r->gapbuf;
	if (r->host)   /* the scanners' elements go inside the fileobject */
		scanner_host_flow_close(r->host, f, r->report ? &rf : NULL);
	else
		report_flow(r->report, &rf);
}

static void on_data(void *arg, struct conn *c, int dir, uint64_t off,
		    const uint8_t *bytes, uint32_t len)
{
	struct run *r = arg;
	struct tcp_flow *f = &c->dir[dir];
	if (r->console) {
		/* The name its file would have; 1.6 shows it without "./". */
		const char *name = store_file_assign_name(r->store, &f->file);
		const char *label = !name ? "?" : strcmp(r->cfg->outdir, ".") ? f->file.path : name;
		console_data(r->console, f, dir, label, off, bytes, len);
		if (console_error(r->console) == EPIPE)
			stop_signal = SIGPIPE;   /* nobody reads any more: finish quietly */
	} else if (r->flowcmd && !f->file.path) {
		store_file_create(r->store, &f->file);   /* "open" when the bytes start */
	}
	if (r->streams_to_host)
		scanner_host_data(r->host, f, off, bytes, len);
}

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

static void on_file_created(void *arg, const struct store_file *f)
{
	struct run *r = arg;
	flowcmd_opened(r->flowcmd, f->path);
}

static void on_gap(void *arg, struct conn *c, int dir, uint64_t off, uint64_t len)
{
	struct run *r = arg;
	scanner_host_gap(r->host, &c->dir[dir], off, len);
}

static void check_write_errors(struct run *r)
{
	store_poll_errors(r->store);
	if (tf_stats.write_errors == r->write_errors_seen)
		return;
	/* the store's first one (a scanner's file was told by the scanner) */
	if (!r->store_error_told && *store_last_error(r->store)) {
		r->store_error_told = 1;
		fprintf(stderr, "tcpflow: %s\n", store_last_error(r->store));
		report_warning(r->report, store_last_error(r->store));
	}
	r->write_errors_seen = tf_stats.write_errors;
}

/* At the end: wait for the files still being written, then tell how many
 * writes failed in the run. 1 when some did. */
static int writes_failed(struct run *r)
{
	store_sync(r->store);
	check_write_errors(r);
	if (!tf_stats.write_errors)
		return 0;
	char msg[128];
	snprintf(msg, sizeof msg, "%llu writes failed; some output files are incomplete or missing",
		 (unsigned long long)tf_stats.write_errors);
	fprintf(stderr, "tcpflow: %s\n", msg);
	report_warning(r->report, msg);
	return 1;
}

static void warn(const struct run *r, const char *path, const char *what)
{
	if (!r->cfg->quiet)
		fprintf(stderr, "tcpflow: %s: warning: %s\n", path, what);
	if (r->report)
		report_warning(r->report, what);
}

/* -w: open the file with the first input's link type. 0 or -1 (reported). */
static int open_unconsumed(struct run *r, int dlt)
{
	char err[256];
	if (!r->cfg->unconsumed_path || r->unconsumed)
		return 0;
	r->unconsumed = capture_writer_open(r->cfg->unconsumed_path, dlt < 0 ? 1 : dlt,
					    err, sizeof err);
	if (!r->unconsumed) {
		fprintf(stderr, "tcpflow: %s: %s\n", r->cfg->unconsumed_path, err);
		return -1;
	}
	return 0;
}

/* -w: a packet that was not used as TCP. */
static void unconsumed(struct run *r, const struct pkt *p)
{
	if (!r->unconsumed)
		return;
	int rc = capture_writer_write(r->unconsumed, p);
	if (rc > 0)
		r->unconsumed_skipped++;
	else if (rc < 0)
		tf_stats.write_errors++;
}

static time_t coarse_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* A live capture with nothing to read, or (see read_packets) a second since
 * the last time: timers run on the wall clock, scanners finish what they
 * kept for later, the report is flushed. */
static void idle(struct run *r)
{
	r->last_idle = coarse_seconds();
	tcp_expire(&r->tcp, (int64_t)time(NULL) + r->cfg->tdelta);
	check_write_errors(r);
	scanner_host_idle(r->host);
	report_sync(r->report);
}

/* Read every packet of in. Returns capture_next's last result. */
static int read_packets(struct run *r, struct capture_input *in, const char *path,
			uint32_t index, char *err, size_t errlen)
{
	int warned_dlt[8];
	size_t nwarned = 0;
	struct pkt p;
	int rc = 0;
	struct progress *pg = progress_new(stderr, path, capture_size(in), r->cfg->quiet);
	memset(&p, 0, sizeof p);
	while (!stop_signal && (rc = capture_next(in, &p, err, errlen)) >= 1) {
		if (rc == 2) {
			idle(r);
			continue;
		}
		/* a live link that never goes quiet still gets its idle work done
		 * about once a second, so the report stays current */
		if (in == r->live && coarse_seconds() != r->last_idle)
			idle(r);
		tf_stats.packets++;
		tf_stats.bytes += p.caplen;
		p.input_index = index;
		p.ts_sec += r->cfg->tdelta;
		if (pg)
			progress_update(pg, capture_position(in),
					flowtable_count(r->ft) - flowtable_retired_count(r->ft));
		if (!link_is_supported(p.dlt)) {
			tf_stats.unsupported_link++;
			size_t i;
			for (i = 0; i < nwarned && warned_dlt[i] != p.dlt; i++)
				;
			if (i == nwarned && nwarned < 8) {
				char msg[160];
				warned_dlt[nwarned++] = p.dlt;
				snprintf(msg, sizeof msg, "link type %d (%s) is not supported; "
					 "its packets are skipped", p.dlt, link_name(p.dlt));
				warn(r, path, msg);
			}
			if (r->host)   /* scanners see every packet, decoded or not */
				scanner_host_packet(r->host, &p, DECODE_UNSUPPORTED);
			unconsumed(r, &p);
			continue;
		}
		int drc = decoder_packet(r->dec, &p);
		if (r->host)
			scanner_host_packet(r->host, &p, drc);
		if (drc != DECODE_OK) {
			if (drc != DECODE_FRAGMENT)   /* a fragment is held, not refused */
				unconsumed(r, &p);
			continue;
		}
		tcp_process(&r->tcp, &p);
		check_write_errors(r);
	}
	progress_end(pg);
	return rc;
}

/* Read one input to its end. Returns 0, -1 when it could not be opened, -2
 * when the run cannot go on (-w file). */
static int run_input(struct run *r, const char *path, uint32_t index)
{
	char err[512];
	struct capture_input *in = capture_open(path, r->cfg->filter, err, sizeof err);
	if (!in) {
		fprintf(stderr, "tcpflow: %s: %s\n", strcmp(path, "-") ? path : "stdin", err);
		return -1;
	}
	if (r->first_dlt < 0)
		r->first_dlt = capture_first_dlt(in);
	if (open_unconsumed(r, r->first_dlt) < 0) {
		capture_close(in);
		return -2;
	}
	if (r->report)
		report_source(r->report, path);
	if (r->cfg->verbose >= 2)   /* -d 1 is 1.6's quiet default */
		fprintf(stderr, "tcpflow: reading %s\n", strcmp(path, "-") ? path : "stdin");
	int rc = read_packets(r, in, path, index, err, sizeof err);
	if (rc < 0 && !stop_signal) {
		char msg[600];
		snprintf(msg, sizeof msg, "%s; everything before it was processed", err);
		warn(r, path, msg);
	}
	unsigned long filtered = capture_filtered(in);
	tf_stats.filtered_out += filtered;
	capture_close(in);
	return 0;
}

/* Live capture until a signal (or the device goes away). 0 or -1. */
static int run_live(struct run *r)
{
	char err[512];
	const char *dev = capture_device(r->live);
	if (open_unconsumed(r, capture_first_dlt(r->live)) < 0)
		return -1;
	if (r->report)
		report_setting(r->report, "interface", dev);
	if (!r->cfg->quiet)
		fprintf(stderr, "tcpflow: listening on %s, link type %s\n", dev,
			link_name(capture_first_dlt(r->live)));
	int rc = read_packets(r, r->live, dev, 0, err, sizeof err);
	if (rc < 0 && !stop_signal) {
		fprintf(stderr, "tcpflow: %s\n", err);
		report_warning(r->report, err);
		return -1;
	}
	unsigned long dropped = capture_dropped(r->live);
	if (dropped) {
		char msg[160];
		snprintf(msg, sizeof msg, "%lu packets dropped by the kernel or the interface",
			 dropped);
		warn(r, dev, msg);
	}
	return 0;
}

int pipeline_run(const struct tf_config *cfg, int argc, char **argv)
{
	struct run r;
	char err[512];
	int status = 0;
	memset(&r, 0, sizeof r);
	r.cfg = cfg;
	/* Past a file size limit (RLIMIT_FSIZE) a write fails with EFBIG and is
	 * reported like any write error, instead of SIGXFSZ killing the run. */
	signal(SIGXFSZ, SIG_IGN);

	/* Scanners first: a bad plugin or parameter stops the run before any
	 * output exists. */
	if (scanner_host_needed(cfg)) {
		r.host = scanner_host_load(cfg, err, sizeof err);
		if (!r.host || scanner_host_start(r.host, err, sizeof err) < 0) {
			fprintf(stderr, "tcpflow: %s\n", err);
			scanner_host_free(r.host);
			return 2;
		}
		if (!scanner_host_enabled(r.host)) {
			scanner_host_free(r.host);
			r.host = NULL;
		}
	}

	/* The capture device is opened as root; then root is given up (-U,
	 * -z) before any output file exists, so they belong to that user. */
	r.first_dlt = -1;
	if (cfg->live) {
		struct capture_live_opts lo = {
			.promisc = !cfg->no_promisc,
			.buffer_timeout = cfg->packet_buffer_timeout,
			.poll_ms = 250,
		};
		r.live = capture_open_live(cfg->live_device, &lo, cfg->filter, err, sizeof err);
		if (!r.live) {
			fprintf(stderr, "tcpflow: %s\n", err);
			scanner_host_free(r.host);
			return 2;
		}
		r.first_dlt = capture_first_dlt(r.live);
	}
	if (cfg->user && privs_drop(cfg->user, cfg->chroot_dir, err, sizeof err) < 0) {
		fprintf(stderr, "tcpflow: %s\n", err);
		capture_close(r.live);
		scanner_host_free(r.host);
		return 2;
	}

	static const char *const side_suffixes[] = { SIDEFILES_FINDX, SIDEFILES_PCAP, NULL };
	struct store_config sc = {
		.outdir = cfg->outdir,
		.template_str = cfg->template_str,
		.no_files = cfg->no_files || cfg->console,
		.max_fds = cfg->max_fds,
		.max_buffered = cfg->max_buffered,
		.background_writes = cfg->background_writes,
		.create_ahead = r.host == NULL,
		/* nothing reads a file when it is closed: no tcp_cmd or alerts,
		 * no side files, every scanner called files_later (ABI 1.5) */
		.defer_files = !cfg->tcp_cmd && cfg->tcp_alert_fd < 0 && !cfg->findx &&
			       !cfg->flow_pcap && (!r.host || scanner_host_files_may_lag(r.host)),
		.counter_always = cfg->counter_always,
		.side_suffixes = cfg->findx || cfg->flow_pcap ? side_suffixes : NULL,
		.on_create = on_file_created,
		.on_create_arg = &r,
	};
	r.store = store_new(&sc, err, sizeof err);
	if (!r.store) {
		fprintf(stderr, "tcpflow: %s: %s\n", cfg->outdir, err);
		capture_close(r.live);
		scanner_host_free(r.host);
		return 2;
	}
	if (cfg->enable_report) {
		char *path = NULL;
		const char *rp = cfg->report_path;
		if (!rp) {
			size_t n = strlen(cfg->outdir) + sizeof "/report.xml";
			path = malloc(n);
			if (!path) {
				store_free(r.store);
				capture_close(r.live);
				scanner_host_free(r.host);
				return 2;
			}
			snprintf(path, n, "%s/report.xml", cfg->outdir);
			rp = path;
		}
		r.report = report_open(rp, argc, argv, err, sizeof err);
		if (!r.report) {
			fprintf(stderr, "tcpflow: %s: %s\n", rp, err);
			free(path);
			store_free(r.store);
			capture_close(r.live);
			scanner_host_free(r.host);
			return 2;
		}
		free(path);
		/* XML is formatted on the writer threads, off the packet loop */
		report_use_writer(r.report, store_writer(r.store));
		char num[32];
		report_setting(r.report, "outdir", cfg->outdir);
		report_setting(r.report, "template", cfg->template_str);
		snprintf(num, sizeof num, "%llu", (unsigned long long)cfg->max_bytes);
		report_setting(r.report, "max_bytes", num);
		snprintf(num, sizeof num, "%llu", (unsigned long long)cfg->max_seq_jump);
		report_setting(r.report, "max_seq_jump", num);
		if (cfg->filter)
			report_setting(r.report, "filter", cfg->filter);
		for (size_t i = 0; i < cfg->nsettings; i++)
			report_setting(r.report, cfg->setting_names[i], cfg->setting_values[i]);
	}

	r.ft = flowtable_new();
	struct decode_config dcfg;
	decode_config_default(&dcfg);
	dcfg.check_fcs = cfg->check_fcs;
	dcfg.frag_timeout = cfg->frag_timeout;
	dcfg.frag_max_bytes = cfg->frag_max_bytes;
	dcfg.frag_max_datagrams = cfg->frag_max_datagrams;
	r.dec = decoder_new(&dcfg);
	if (!r.ft || !r.dec) {
		fprintf(stderr, "tcpflow: out of memory\n");
		status = 2;
		goto out;
	}
	if (cfg->tcp_cmd || cfg->tcp_alert_fd >= 0) {
		r.flowcmd = flowcmd_new(cfg->tcp_cmd, cfg->tcp_alert_fd, err, sizeof err);
		if (!r.flowcmd) {
			fprintf(stderr, "tcpflow: %s\n", err);
			status = 2;
			goto out;
		}
	}
	if (cfg->console) {
		struct console_opts co = {
			.header = cfg->console_header,
			.no_newline = cfg->console_no_newline,
			.strip = cfg->console_strip,
			.hex = cfg->console_hex,
			.json = cfg->console_json,
			.color = cfg->console_color,
			.flush_each = cfg->live || isatty(STDOUT_FILENO),
			.max_bytes = cfg->max_bytes,
			.lock = cfg->console_lock,
		};
		r.console = console_new(&co, stdout, err, sizeof err);
		if (!r.console) {
			fprintf(stderr, "tcpflow: %s\n", err);
			status = 2;
			goto out;
		}
	}
	if ((cfg->findx || cfg->flow_pcap) && !cfg->no_files && !cfg->console)
		r.side = sidefiles_new(r.store, cfg->findx, cfg->flow_pcap);
	if (((cfg->findx || cfg->flow_pcap) && !cfg->no_files && !cfg->console && !r.side)) {
		fprintf(stderr, "tcpflow: out of memory\n");
		status = 2;
		goto out;
	}
	struct tcp_config tc = {
		.max_bytes = cfg->max_bytes,
		.max_seq_jump = cfg->max_seq_jump,
		.reorder_flow_cap = cfg->reorder_flow_cap,
		.reorder_total_cap = cfg->reorder_total_cap,
		.tcp_timeout = cfg->tcp_timeout,
	};
	struct tcp_events ev = { .arg = &r, .flow_close = on_flow_close };
	if (r.host) {
		scanner_host_attach(r.host, r.report, r.store);
		if (scanner_host_wants(r.host) & SCANNER_HOST_WANTS_STREAMS) {
			r.streams_to_host = 1;
			ev.data = on_data;
			ev.gap = on_gap;
		}
	}
	if (r.console || r.flowcmd)
		ev.data = on_data;
	if (r.side) {
		ev.packet = on_packet;
		ev.stored = on_stored;
		ev.shift = on_shift;
		ev.flow_free = on_flow_free;
	}
	tcp_ctx_init(&r.tcp, &tc, r.ft, r.store, &ev);

	/* A signal ends the reading; everything read so far is finished properly. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct sigaction old_hup;
	if (sigaction(SIGHUP, NULL, &old_hup) == 0 && old_hup.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);   /* not under nohup */
	signal(SIGPIPE, SIG_IGN);

	if (r.live && run_live(&r) < 0)
		status = 2;
	for (size_t i = 0; i < cfg->ninputs && !stop_signal; i++) {
		int rc = run_input(&r, cfg->inputs[i], (uint32_t)i);
		if (rc < 0)
			status = 2;
		if (rc == -2)
			break;
	}
	/* -R: after every -r file, only connections already open go on. */
	r.tcp.cfg.no_new = 1;
	for (size_t i = 0; i < cfg->nfinish_inputs && !stop_signal; i++) {
		int rc = run_input(&r, cfg->finish_inputs[i], (uint32_t)(cfg->ninputs + i));
		if (rc < 0)
			status = 2;
		if (rc == -2)
			break;
	}

	decoder_free(r.dec);              /* counts the datagrams left incomplete */
	r.dec = NULL;
	tcp_close_all(&r.tcp);
	tcp_release_all(&r.tcp);
	if (r.unconsumed_skipped && !cfg->quiet)
		fprintf(stderr, "tcpflow: %s: warning: %llu packets of other link types were not "
			"written\n", cfg->unconsumed_path, (unsigned long long)r.unconsumed_skipped);
	if (sidefiles_skipped(r.side) && !cfg->quiet)
		fprintf(stderr, "tcpflow: warning: -K: %llu packets with another link type than "
			"their flow's first were not written\n",
			(unsigned long long)sidefiles_skipped(r.side));
	if (r.unconsumed && capture_writer_close(r.unconsumed) < 0) {
		fprintf(stderr, "tcpflow: %s: %s\n", cfg->unconsumed_path, strerror(errno));
		status = 2;
	}
	r.unconsumed = NULL;
	if (r.console && console_free(r.console) < 0 && errno != EPIPE) {
		fprintf(stderr, "tcpflow: standard output: %s\n", strerror(errno));
		status = 2;
	}
	r.console = NULL;
	if (cfg->verbose >= 2)
		fprintf(stderr, "tcpflow: %llu packets, %llu TCP segments, %llu flows\n",
			(unsigned long long)tf_stats.packets,
			(unsigned long long)tf_stats.tcp_segments,
			(unsigned long long)tf_stats.flows_opened);
	if (stop_signal && stop_signal != SIGPIPE && !cfg->quiet)
		fprintf(stderr, "tcpflow: stopped by signal %d; open flows were closed\n",
			(int)stop_signal);
out:
	decoder_free(r.dec);
	r.dec = NULL;
	scanner_host_shutdown(r.host);   /* scanner summaries, before the report ends */
	if (r.store && writes_failed(&r))   /* also the files written at shutdown */
		status = 2;
	if (r.report) {
		int rrc = report_close(r.report);
		if (rrc < 0) {
			fprintf(stderr, "tcpflow: %s%s: cannot complete the report: %s\n",
				cfg->report_path ? cfg->report_path : cfg->outdir,
				cfg->report_path ? "" : "/report.xml", strerror(-rrc));
			status = 2;
		}
	}
	if (r.ft)
		flowtable_free(r.ft);
	if (r.flowcmd) {
		unsigned long failed;
		flowcmd_wait(r.flowcmd);   /* the tcp_cmd commands finish first */
		failed = flowcmd_failures(r.flowcmd);
		if (failed && !cfg->quiet)
			fprintf(stderr, "tcpflow: tcp_cmd failed for %lu flows\n", failed);
		flowcmd_free(r.flowcmd);
	}
	console_free(r.console);
	capture_writer_close(r.unconsumed);
	sidefiles_free(r.side);
	capture_close(r.live);
	store_free(r.store);
	scanner_host_free(r.host);
	free(r.gapbuf);
	return status;
}
