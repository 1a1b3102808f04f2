/* Command line parsing: the options of tcpflow 1.6, their errors, -S settings. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define DEFAULT_TEMPLATE "%A.%a-%B.%b%V%v%C%c"

/* Options tcpflow 1.6 has that this build does not implement yet: they are
 * refused with a clear error rather than silently ignored. */
static const char unimplemented_opts[] = "aBcCDeEgHIiJKLpRsUwxzZ0";

static const char usage_text[] =
	"usage: tcpflow [-hVvq] [-b max_bytes] [-d debug_level] [-f max_fds] [-F[X]]\n"
	"               [-m bytes] [-o outdir] [-r file]... [-l files...] [-S name=value]\n"
	"               [-T template] [-X xmlfile] [expression]\n";

static const char help_text[] =
	"   -b max_bytes : store at most max_bytes per flow direction\n"
	"   -d level     : debug level (-v is -d 10)\n"
	"   -f max_fds   : maximum number of open flow files (default: from the process limit)\n"
	"   -FX          : write no flow files, only the report\n"
	"   -h           : this help (-hh for settings and the name template)\n"
	"   -l           : remaining words are input files, not a filter expression\n"
	"   -m bytes     : a sequence jump larger than this starts a new file (default 16777216)\n"
	"   -o outdir    : output directory, created with parents (default '.')\n"
	"   -q           : quiet: no warnings\n"
	"   -r file      : read packets from a pcap or pcapng file, .gz allowed, '-' = stdin\n"
	"                  (may be repeated; all inputs share one flow table)\n"
	"   -S name=value: set a setting (-hh lists them)\n"
	"   -T template  : flow file name template (default " DEFAULT_TEMPLATE ")\n"
	"   -v           : verbose\n"
	"   -V           : print the version and exit\n"
	"   -X file      : write the DFXML report to file (default OUTDIR/report.xml)\n"
	"   expression   : a BPF filter (tcpdump syntax)\n";

static const char help2_text[] =
	"\nSettings (-S name=value):\n"
	"   enable_report=YES         write the DFXML report\n"
	"   tcp_timeout=0             close flows idle this many seconds of capture time (0 = never)\n"
	"   reorder_flow_cap=4194304  out-of-order bytes held per flow before a gap is declared\n"
	"   reorder_total_cap=33554432  ... and across all flows\n"
	"   max_buffered=33554432     bytes buffered for writing across all flows\n"
	"\nName template tokens (-T):\n"
	"   %A/%a source address/port   %B/%b destination address/port\n"
	"   %E/%e source/destination MAC  %V/%v '--'/VLAN id when tagged\n"
	"   %T/%t ISO 8601 / Unix start time  %c/%C connection counter / 'c' when > 0\n"
	"   %# counter always  %N %K %M %G flow number buckets  %S session id  %% a '%'\n"
	"   A '/' creates directories. A template without %c gets %C%c appended.\n";

static int push(const char ***v, size_t *n, const char *s)
{
	const char **nv = realloc(*v, (*n + 1) * sizeof *nv);
	if (!nv)
		return -1;
	nv[(*n)++] = s;
	*v = nv;
	return 0;
}

/* Parse an unsigned decimal number (suffixes k, m, g allowed). */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s || *s == '-')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static int is_yes(const char *v)
{
	return !strcasecmp(v, "yes") || !strcmp(v, "1") || !strcasecmp(v, "true") ||
	       !strcasecmp(v, "on");
}

static int apply_setting(struct tf_config *cfg, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		snprintf(err, errlen, "-S %s: expected name=value", arg);
		return -1;
	}
	size_t nlen = (size_t)(eq - arg);
	const char *val = eq + 1;
	uint64_t u = 0;
#define IS(name) (nlen == strlen(name) && !strncmp(arg, name, nlen))
	if (IS("enable_report")) {
		cfg->enable_report = is_yes(val);
	} else if (IS("tcp_timeout")) {
		if (parse_u64(val, &u) < 0)
			goto bad_number;
		cfg->tcp_timeout = (int64_t)u;
	} else if (IS("reorder_flow_cap")) {
		if (parse_u64(val, &cfg->reorder_flow_cap) < 0)
			goto bad_number;
	} else if (IS("reorder_total_cap")) {
		if (parse_u64(val, &cfg->reorder_total_cap) < 0)
			goto bad_number;
	} else if (IS("max_buffered")) {
		if (parse_u64(val, &cfg->max_buffered) < 0)
			goto bad_number;
	} else {
		snprintf(err, errlen, "-S %.*s: unknown setting (known: enable_report, tcp_timeout, "
			 "reorder_flow_cap, reorder_total_cap, max_buffered)", (int)nlen, arg);
		return -1;
	}
#undef IS
	char *name = strndup(arg, nlen);
	if (!name || push(&cfg->setting_names, &cfg->nsettings, name) < 0)
		return -1;
	cfg->nsettings--;
	if (push(&cfg->setting_values, &cfg->nsettings, val) < 0)
		return -1;
	return 0;
bad_number:
	snprintf(err, errlen, "-S %s: not a number", arg);
	return -1;
}

int config_parse(struct tf_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->outdir = ".";
	cfg->enable_report = 1;
	cfg->max_seq_jump = 16u << 20;
	int help = 0, files_mode = 0;
	const char *tmpl = DEFAULT_TEMPLATE;
	uint64_t u;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+aBb:cCd:DE:e:F:f:gHhIi:JKL:lm:o:pqR:r:S:sT:U:vVw:x:X:z:Z0",
				 longopts, NULL)) != -1) {
		if (ch != '?' && ch != ':' && strchr(unimplemented_opts, ch)) {
			snprintf(err, errlen, "option -%c is not supported by this version", ch);
			return -1;
		}
		switch (ch) {
		case 'b':
			if (parse_u64(optarg, &cfg->max_bytes) < 0)
				goto bad_arg;
			break;
		case 'd':
			if (parse_u64(optarg, &u) < 0)
				goto bad_arg;
			cfg->verbose = (int)u;
			break;
		case 'f':
			if (parse_u64(optarg, &u) < 0 || u == 0 || u > 1000000)
				goto bad_arg;
			cfg->max_fds = (int)u;
			break;
		case 'F':
			for (const char *f = optarg; *f; f++) {
				if (*f == 'X') {
					cfg->no_files = 1;
				} else {
					snprintf(err, errlen, "-F%c is not supported by this version", *f);
					return -1;
				}
			}
			break;
		case 'h':
			help++;
			break;
		case 'l':
			files_mode = 1;
			break;
		case 'm':
			if (parse_u64(optarg, &cfg->max_seq_jump) < 0 || cfg->max_seq_jump == 0)
				goto bad_arg;
			break;
		case 'o':
			cfg->outdir = optarg;
			break;
		case 'q':
			cfg->quiet = 1;
			break;
		case 'r':
			if (push(&cfg->inputs, &cfg->ninputs, optarg) < 0)
				goto nomem;
			break;
		case 'S':
			if (apply_setting(cfg, optarg, err, errlen) < 0)
				return -1;
			break;
		case 'T':
			tmpl = optarg;
			break;
		case 'v':
			cfg->verbose = 10;
			break;
		case 'V':
			printf("tcpflow %s\n", PACKAGE_VERSION);
			return 1;
		case 'X':
			cfg->report_path = optarg;
			break;
		case ':':
			snprintf(err, errlen, "option -%c needs an argument", optopt);
			return -1;
		case '?':
		default:
			if (optopt && strchr("bdEeFfiLmoRrSTUwxXz", optopt))
				snprintf(err, errlen, "option -%c needs an argument", optopt);
			else if (optopt)
				snprintf(err, errlen, "unknown option -%c (tcpflow -h lists the options)", optopt);
			else
				snprintf(err, errlen, "unknown option %s (tcpflow -h lists the options)",
					 argv[optind - 1]);
			return -1;
		}
	}
	if (help) {
		printf("tcpflow %s\n\n%s\n%s", PACKAGE_VERSION, usage_text, help_text);
		if (help > 1)
			fputs(help2_text, stdout);
		return 1;
	}
	/* Remaining words: files with -l, otherwise the filter expression. */
	if (files_mode) {
		for (int i = optind; i < argc; i++)
			if (push(&cfg->inputs, &cfg->ninputs, argv[i]) < 0)
				goto nomem;
	} else if (optind < argc) {
		size_t len = 1;
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		cfg->filter = malloc(len);
		if (!cfg->filter)
			goto nomem;
		cfg->filter[0] = '\0';
		for (int i = optind; i < argc; i++) {
			if (i > optind)
				strncat(cfg->filter, " ", len - strlen(cfg->filter) - 1);
			strncat(cfg->filter, argv[i], len - strlen(cfg->filter) - 1);
		}
	}
	if (cfg->ninputs == 0) {
		snprintf(err, errlen, "no input: give capture files with -r FILE (live capture is "
			 "not supported by this version)");
		return -1;
	}
	/* Names never collide: a template without a counter gets one. */
	size_t tl = strlen(tmpl);
	cfg->template_str = malloc(tl + 5);
	if (!cfg->template_str)
		goto nomem;
	memcpy(cfg->template_str, tmpl, tl + 1);
	if (!strstr(tmpl, "%c"))
		memcpy(cfg->template_str + tl, "%C%c", 5);
	return 0;
bad_arg:
	snprintf(err, errlen, "option -%c: bad value '%s'", ch, optarg);
	return -1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

void config_free(struct tf_config *cfg)
{
	free(cfg->inputs);
	free(cfg->filter);
	free(cfg->template_str);
	for (size_t i = 0; i < cfg->nsettings; i++)
		free((char *)cfg->setting_names[i]);
	free(cfg->setting_names);
	free(cfg->setting_values);
}
