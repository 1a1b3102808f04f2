/* The command line and -S settings, turned into one configuration. */
#ifndef TCPFLOW_CONFIG_H
#define TCPFLOW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

struct tf_config {
	const char **inputs;      /* -r and -l files, in order ("-" = stdin) */
	size_t ninputs;
	const char *outdir;       /* -o, default "." */
	const char *report_path;  /* -X, default OUTDIR/report.xml */
	int enable_report;        /* -S enable_report=NO turns the report off */
	char *filter;             /* trailing words joined, or NULL */
	char *template_str;       /* -T, or the default; always contains %c */
	uint64_t max_bytes;       /* -b */
	uint64_t max_seq_jump;    /* -m */
	int max_fds;              /* -f */
	int no_files;             /* -FX */
	int verbose;              /* -v / -d level */
	int quiet;                /* -q */
	int64_t tcp_timeout;      /* -S tcp_timeout */
	uint64_t reorder_flow_cap;
	uint64_t reorder_total_cap;
	uint64_t max_buffered;
	/* name=value of every -S setting given, for the report */
	const char **setting_names;
	const char **setting_values;
	size_t nsettings;
};

/* Parse argv. Returns 0 to run, 1 when it printed help or the version
 * (exit 0), or -1 with a one-line reason in err (exit 2). */
int config_parse(struct tf_config *cfg, int argc, char **argv, char *err, size_t errlen);

void config_free(struct tf_config *cfg);

#endif
