/* The run: inputs -> decode -> tcp -> store, with the report alongside. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "decode.h"
#include "flowtable.h"
#include "link.h"
#include "pipeline.h"
#include "report.h"
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
	struct store *store;
	struct flowtable *ft;
	struct tcp_ctx tcp;
	uint64_t write_errors_seen;
	struct report_gap *gapbuf;
	size_t gapcap;
};

static void on_flow_close(void *arg, struct conn *c, int dir)
{
	struct run *r = arg;
	struct tcp_flow *f = &c->dir[dir];
	if (!r->report || (f->next_off == 0 && f->file.size == 0))
		return;   /* no payload: no file, nothing to report */
	const struct store_file *sf = &f->file;
	struct report_flow rf;
	memset(&rf, 0, sizeof rf);
	rf.filename = sf->path ? sf->path : "";
	rf.filesize = r->cfg->no_files ? 0 : sf->size;
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
	report_flow(r->report, &rf);
}

static void check_write_errors(struct run *r)
{
	if (tf_stats.write_errors == r->write_errors_seen)
		return;
	if (r->write_errors_seen == 0)
		fprintf(stderr, "tcpflow: %s\n", store_last_error(r->store));
	r->write_errors_seen = tf_stats.write_errors;
}

static void warn(const struct run *r, const char *path, const char *what)
{
	if (!r->cfg->quiet)
		fprintf(stderr, "tcpflow: %s: warning: %s\n", path, what);
	if (r->report)
		report_warning(r->report, what);
}

/* Read one input to its end. Returns 0, or -1 when it could not be opened. */
static int run_input(struct run *r, const char *path, uint32_t index)
{
	char err[512];
	struct capture_input *in = capture_open(path, r->cfg->filter, err, sizeof err);
	if (!in) {
		fprintf(stderr, "tcpflow: %s: %s\n", strcmp(path, "-") ? path : "stdin", err);
		return -1;
	}
	if (r->report)
		report_source(r->report, path);
	int warned_dlt[8];
	size_t nwarned = 0;
	struct pkt p;
	int rc;
	memset(&p, 0, sizeof p);
	while (!stop_signal && (rc = capture_next(in, &p, err, sizeof err)) == 1) {
		tf_stats.packets++;
		tf_stats.bytes += p.caplen;
		p.input_index = index;
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
			continue;
		}
		if (decode_packet(&p) != DECODE_OK)
			continue;
		tcp_process(&r->tcp, &p);
		check_write_errors(r);
	}
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

int pipeline_run(const struct tf_config *cfg, int argc, char **argv)
{
	struct run r;
	char err[512];
	int status = 0;
	memset(&r, 0, sizeof r);
	r.cfg = cfg;

	struct store_config sc = {
		.outdir = cfg->outdir,
		.template_str = cfg->template_str,
		.no_files = cfg->no_files,
		.max_fds = cfg->max_fds,
		.max_buffered = cfg->max_buffered,
	};
	r.store = store_new(&sc, err, sizeof err);
	if (!r.store) {
		fprintf(stderr, "tcpflow: %s: %s\n", cfg->outdir, err);
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
			return 2;
		}
		free(path);
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
	if (!r.ft) {
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
	tcp_ctx_init(&r.tcp, &tc, r.ft, r.store, &ev);

	/* A signal ends the reading; everything read so far is finished properly. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	for (size_t i = 0; i < cfg->ninputs && !stop_signal; i++)
		if (run_input(&r, cfg->inputs[i], (uint32_t)i) < 0)
			status = 2;

	tcp_close_all(&r.tcp);
	check_write_errors(&r);
	if (tf_stats.write_errors) {
		fprintf(stderr, "tcpflow: %llu writes failed; some flow files are incomplete\n",
			(unsigned long long)tf_stats.write_errors);
		status = 2;
	}
	if (stop_signal && !cfg->quiet)
		fprintf(stderr, "tcpflow: stopped by signal %d; open flows were closed\n",
			(int)stop_signal);
out:
	if (r.report && report_close(r.report) < 0) {
		fprintf(stderr, "tcpflow: cannot complete the report\n");
		status = 2;
	}
	if (r.ft)
		flowtable_free(r.ft);
	store_free(r.store);
	free(r.gapbuf);
	return status;
}
