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
static const char unimplemented_opts[] = "";

static const char usage_text[] =
	"usage: tcpflow [-aBcCDgHhIJKlpqsVvZ0] [-b max_bytes] [-d debug_level]\n"
	"               [-e|-E|-x scanner] [-f max_fds] [-F[ctTXMkmg]] [-i iface] [-L semlock]\n"
	"               [-m bytes] [-o outdir] [-P dir] [-r file]... [-R file]...\n"
	"               [-S name=value] [-T template] [-U user] [-w file] [-X xmlfile]\n"
	"               [-z dir] [-l files... | expression]\n";

static const char help_text[] =
	"Inputs:\n"
	"   -r file      : read packets from a pcap or pcapng file, .gz allowed, '-' = stdin\n"
	"                  (may be repeated; all inputs share one flow table)\n"
	"   -R file      : read a file after all -r files, only to finish connections\n"
	"                  already open (may be repeated)\n"
	"   -l           : remaining words are input files, not a filter expression\n"
	"   -i iface     : capture live from iface (without -i, -r, -R or -l: the first\n"
	"                  device libpcap lists); SIGINT/SIGTERM end the capture cleanly\n"
	"   -p           : do not put the interface in promiscuous mode\n"
	"   -w file      : write every packet not used as TCP to this pcap file\n"
	"   expression   : a BPF filter (tcpdump syntax)\n"
	"Output:\n"
	"   -o outdir    : output directory, created with parents (default '.')\n"
	"   -T template  : flow file name template (default " DEFAULT_TEMPLATE "; -hh)\n"
	"   -F flags     : t Unix-time prefix, T ISO-time prefix, c counter on every name,\n"
	"                  k/m/g 1K/1M/1G directory bins, X no flow files, M MD5 of every flow\n"
	"   -b max_bytes : store at most max_bytes per flow direction\n"
	"   -m bytes     : a sequence jump larger than this starts a new file (default 16777216)\n"
	"   -f max_fds   : maximum number of open files (default: from the process limit)\n"
	"   -I           : write NAME.findx beside each flow file (offset|time|length)\n"
	"   -K           : write each flow direction's packets to NAME.pcap\n"
	"   -X file      : write the DFXML report to file (default OUTDIR/report.xml)\n"
	"Console output (instead of flow files):\n"
	"   -c           : print each flow's bytes as they are reassembled, 'NAME: ' first\n"
	"   -C           : the same without the 'NAME: ' header\n"
	"   -0           : no newline after each piece\n"
	"   -s           : non-printable bytes as '.' (the default with -c and -C)\n"
	"   -B           : binary: the bytes as they are\n"
	"   -D           : hex dump (implies -c unless -C is given)\n"
	"   -J           : JSON lines (implies console output)\n"
	"   -g           : colours: blue for the side that spoke first, red for the other\n"
	"   -L semlock   : print each piece holding the named semaphore semlock (several\n"
	"                  tcpflows on one terminal)\n"
	"Scanners:\n"
	"   -a           : enable every built-in scanner\n"
	"   -e scanner   : enable a scanner (-S scanner does the same)\n"
	"   -E scanner   : disable every scanner but this one (flow files are still written)\n"
	"   -x scanner   : disable a scanner\n"
	"   -S name=value: set a setting or scanner parameter (-hh, -H list them)\n"
	"   -S scanner   : enable a scanner (a name with '/' loads that file)\n"
	"   -P dir       : also look for scanner plugins in dir (and $TCPFLOW_SCANNER_PATH)\n"
	"   -H           : list the scanners found, with their parameters\n"
	"   -Z           : do not decode gzip/deflate-encoded HTTP bodies (the gzip scanner\n"
	"                  stays off; with -S http_names=1.6 bodies are kept encoded)\n"
	"Security:\n"
	"   -U user      : after opening the capture device, run as user\n"
	"   -z dir       : ... and chroot to dir (needs -U)\n"
	"Other:\n"
	"   -h           : this help (-hh: settings, scanners, name template)\n"
	"   -V           : print the version and exit\n"
	"   -v           : verbose (-d 10)\n"
	"   -d level     : debug level\n"
	"   -q           : quiet: no warnings\n";

static const char help2_text[] =
	"\nSettings (-S name=value):\n"
	"   enable_report=YES         write the DFXML report\n"
	"   tcp_timeout=0             close flows idle this many seconds of capture time (0 = never)\n"
	"   tcp_cmd=                  run 'CMD PATH' (sh -c) for every flow file when it is closed\n"
	"   tcp_alert_fd=-1           write 'open<TAB>PATH' and 'close<TAB>PATH' lines to this fd\n"
	"   tdelta=0                  add this many seconds to every packet time\n"
	"   packet-buffer-timeout=10  ms libpcap may hold packets in a live capture\n"
	"   reorder_flow_cap=4194304  out-of-order bytes held per flow before a gap is declared\n"
	"   reorder_total_cap=33554432  ... and across all flows\n"
	"   max_buffered=67108864     bytes buffered for writing across all flows\n"
	"   background_writes=YES     background threads write full flow buffers and\n"
	"                             create new flow files\n"
	"   max_object_depth=8        how deep scanners may derive objects from objects\n"
	"   check_fcs=YES             802.11: skip frames whose FCS is wrong; without a radio\n"
	"                             header saying so, a trailer is an FCS only if it verifies\n"
	"   frag_timeout=60           seconds of capture time an IP datagram's fragments wait\n"
	"   frag_max_bytes=16777216   fragment bytes held for reassembly (the oldest go first)\n"
	"   frag_max_datagrams=4096   datagrams in reassembly at once\n"
	"\nName template tokens (-T):\n"
	"   %A/%a source address/port   %B/%b destination address/port\n"
	"   %E/%e source/destination MAC  %V/%v '--'/VLAN id when tagged\n"
	"   %T/%t ISO 8601 / Unix start time  %c/%C connection counter / 'c' when > 0\n"
	"   %# counter always  %S session id  %% a '%'\n"
	"   %N/%K/%M/%G flow number % 1000, / 1000 % 1000, / 10^6 % 1000, / 10^9 % 1000\n"
	"   A '/' creates directories. A template without %c gets %C%c appended.\n"
	"   -Ft prepends '%tT', -FT '%T', -Fk '%K/', -Fm '%M000-%M999/%M%K/',\n"
	"   -Fg '%G000000-%G999999/%G%M000-%G%M999/%G%M%K/' (-Fk/m/g not with -T).\n";

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

const char *const config_core_settings[] = {
	"enable_report", "tcp_timeout", "reorder_flow_cap", "reorder_total_cap",
	"max_buffered", "max_object_depth", "tdelta", "tcp_cmd", "tcp_alert_fd",
	"packet-buffer-timeout", "check_fcs", "frag_timeout", "frag_max_bytes",
	"frag_max_datagrams", "background_writes", NULL,
};

/* A signed decimal integer in [lo, hi]. */
static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	errno = 0;
	if (!s || !*s)
		return -1;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int core_setting_index(const char *name, size_t nlen)
{
	for (int i = 0; config_core_settings[i]; i++)
		if (strlen(config_core_settings[i]) == nlen &&
		    !strncmp(name, config_core_settings[i], nlen))
			return i;
	return -1;
}

static int push_scanner_request(struct tf_config *cfg, enum scanner_op op, const char *name,
				size_t nlen, const char *value, const char *option)
{
	struct scanner_request *v = realloc(cfg->scanner_reqs,
					    (cfg->nscanner_reqs + 1) * sizeof *v);
	if (!v)
		return -1;
	cfg->scanner_reqs = v;
	char *copy = name ? strndup(name, nlen) : NULL;
	if (name && !copy)
		return -1;
	v[cfg->nscanner_reqs++] = (struct scanner_request){
		.op = op, .name = copy, .value = value, .option = option,
	};
	return 0;
}

/* The settings looked up by name (check_fcs, frag_*, background_writes): 1
 * when name is one of them
 * (applied), 0 when not, -1 for a bad value. */
static int apply_decode_setting(struct tf_config *cfg, const char *name, const char *val)
{
	uint64_t u;
	if (!strcmp(name, "check_fcs")) {
		cfg->check_fcs = is_yes(val);
		return 1;
	}
	if (!strcmp(name, "frag_timeout")) {
		if (parse_u64(val, &u) < 0 || u > INT32_MAX)
			return -1;
		cfg->frag_timeout = (int64_t)u;
		return 1;
	}
	if (!strcmp(name, "frag_max_bytes"))
		return parse_u64(val, &cfg->frag_max_bytes) < 0 ? -1 : 1;
	if (!strcmp(name, "frag_max_datagrams"))
		return parse_u64(val, &cfg->frag_max_datagrams) < 0 ? -1 : 1;
	if (!strcmp(name, "background_writes")) {
		cfg->background_writes = is_yes(val);
		return 1;
	}
	return 0;
}

/* -S WORD: a core setting (name=value), else a scanner to enable (NAME) or a
 * scanner parameter (NAME=VALUE), resolved once the scanners are loaded. */
static int apply_setting(struct tf_config *cfg, const char *arg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	if (eq == arg || !*arg) {
		snprintf(err, errlen, "-S %s: expected name=value or a scanner name", arg);
		return -1;
	}
	size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	int core = core_setting_index(arg, nlen);
	if (core < 0) {
		if (eq)
			return push_scanner_request(cfg, SCANNER_PARAM, arg, nlen, eq + 1, "-S");
		return push_scanner_request(cfg, SCANNER_ENABLE, arg, nlen, NULL, "-S");
	}
	if (!eq) {
		snprintf(err, errlen, "-S %s: a setting needs a value (-S %s=VALUE)", arg, arg);
		return -1;
	}
	const char *val = eq + 1;
	uint64_t u = 0;
	switch (core) {
	case 0:
		cfg->enable_report = is_yes(val);
		break;
	case 1:
		if (parse_u64(val, &u) < 0)
			goto bad_number;
		cfg->tcp_timeout = (int64_t)u;
		break;
	case 2:
		if (parse_u64(val, &cfg->reorder_flow_cap) < 0)
			goto bad_number;
		break;
	case 3:
		if (parse_u64(val, &cfg->reorder_total_cap) < 0)
			goto bad_number;
		break;
	case 4:
		if (parse_u64(val, &cfg->max_buffered) < 0)
			goto bad_number;
		break;
	case 5:
		if (parse_u64(val, &cfg->max_object_depth) < 0 || cfg->max_object_depth == 0 ||
		    cfg->max_object_depth > 64)
			goto bad_number;
		break;
	case 6:
		if (parse_i64(val, -(INT64_C(1) << 40), INT64_C(1) << 40, &cfg->tdelta) < 0)
			goto bad_number;
		break;
	case 7:
		cfg->tcp_cmd = *val ? val : NULL;
		break;
	case 8: {
		int64_t fd;
		if (parse_i64(val, -1, INT32_MAX, &fd) < 0)
			goto bad_number;
		cfg->tcp_alert_fd = (int)fd;
		break;
	}
	case 9: {
		int64_t ms;
		if (parse_i64(val, 0, 3600000, &ms) < 0)
			goto bad_number;
		cfg->packet_buffer_timeout = (int)ms;
		break;
	}
	default:
		if (apply_decode_setting(cfg, config_core_settings[core], val) < 0)
			goto bad_number;
		break;
	}
	char *name = strndup(arg, nlen);
	if (!name || push(&cfg->setting_names, &cfg->nsettings, name) < 0)
		return -1;
	cfg->nsettings--;
	if (push(&cfg->setting_values, &cfg->nsettings, val) < 0)
		return -1;
	return 0;
bad_number:
	snprintf(err, errlen, "-S %s: not a number%s", arg,
		 core == 5 ? " from 1 to 64" : "");
	return -1;
}

/* Does the template use %c (not a literal "%%c")? */
static int has_counter(const char *t)
{
	for (; *t; t++) {
		if (*t != '%' || !t[1])
			continue;
		t++;
		if (*t == 'c')
			return 1;
	}
	return 0;
}

/* The template: -T or the default, with the -F prefixes in the order given
 * (each one in front of what is there, as 1.6 builds it; -Fk/m/g are
 * ignored with -T, as 1.6 documents), and %C%c appended without %c so names
 * never collide. */
static int make_template(struct tf_config *cfg, const char *tmpl, int user_template,
			 const char *flags, size_t nflags)
{
	size_t cap = strlen(tmpl) + 5 + nflags * 48 + 1;
	char *t = malloc(cap), *tmp = malloc(cap);
	if (!t || !tmp) {
		free(t);
		free(tmp);
		return -1;
	}
	snprintf(t, cap, "%s", tmpl);
	for (size_t i = 0; i < nflags; i++) {
		const char *pre = NULL;
		switch (flags[i]) {
		case 't': pre = "%tT"; break;
		case 'T': pre = "%T"; break;
		case 'k': pre = "%K/"; break;
		case 'm': pre = "%M000-%M999/%M%K/"; break;
		case 'g': pre = "%G000000-%G999999/%G%M000-%G%M999/%G%M%K/"; break;
		default: break;
		}
		if (!pre)
			continue;
		if (user_template && strchr("kmg", flags[i])) {
			if (!cfg->quiet)
				fprintf(stderr, "tcpflow: warning: -F%c is ignored with -T (put %s "
					"in the template instead)\n", flags[i], pre);
			continue;
		}
		snprintf(tmp, cap, "%s%s", pre, t);
		snprintf(t, cap, "%s", tmp);
	}
	free(tmp);
	if (!has_counter(t))
		strncat(t, "%C%c", cap - strlen(t) - 1);
	cfg->template_str = t;
	return 0;
}

int config_parse(struct tf_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->outdir = ".";
	cfg->enable_report = 1;
	cfg->max_seq_jump = 16u << 20;
	cfg->max_object_depth = 8;
	cfg->tcp_alert_fd = -1;
	cfg->packet_buffer_timeout = 10;
	cfg->check_fcs = 1;
	cfg->frag_timeout = 60;
	cfg->frag_max_bytes = 16u << 20;
	cfg->frag_max_datagrams = 4096;
	cfg->background_writes = 1;
	int help = 0, files_mode = 0, user_template = 0, console_c = 0, console_big_c = 0;
	const char *tmpl = DEFAULT_TEMPLATE;
	char fprefix[64];           /* -F t T k m g, in the order given */
	size_t fprefix_n = 0;
	uint64_t u;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "chroot", required_argument, NULL, 'z' },
		{ "relinquish-privileges", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "+aBb:cCd:DE:e:F:f:gHhIi:JKL:lm:o:P:pqR:r:S:sT:U:vVw:x:X:z:Z0",
				 longopts, NULL)) != -1) {
		if (ch != '?' && ch != ':' && strchr(unimplemented_opts, ch)) {
			snprintf(err, errlen, "option -%c is not supported by this version", ch);
			return -1;
		}
		switch (ch) {
		case 'a':
			if (push_scanner_request(cfg, SCANNER_ALL, NULL, 0, NULL, "-a") < 0)
				goto nomem;
			break;
		case 'e':
		case 'E':
		case 'x':
			if (!*optarg)
				goto bad_arg;
			if (push_scanner_request(cfg, ch == 'e' ? SCANNER_ENABLE :
						 ch == 'E' ? SCANNER_ONLY : SCANNER_DISABLE,
						 optarg, strlen(optarg), NULL,
						 ch == 'e' ? "-e" : ch == 'E' ? "-E" : "-x") < 0)
				goto nomem;
			break;
		case 'H':
			cfg->list_scanners = 1;
			break;
		case 'Z':
			cfg->no_decompress = 1;
			break;
		case 'P':
			if (push(&cfg->scanner_dirs, &cfg->nscanner_dirs, optarg) < 0)
				goto nomem;
			break;
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
				} else if (*f == 'M') {
					if (push_scanner_request(cfg, SCANNER_ENABLE, "md5", 3, NULL,
								 "-FM") < 0)
						goto nomem;
				} else if (*f == 'c') {
					cfg->counter_always = 1;
				} else if (strchr("tTkmg", *f)) {
					if (fprefix_n + 1 >= sizeof fprefix) {
						snprintf(err, errlen, "-F: too many flags");
						return -1;
					}
					fprefix[fprefix_n++] = *f;
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
			user_template = 1;
			break;
		case 'c':
			console_c = 1;
			break;
		case 'C':
			console_big_c = 1;
			break;
		case '0':
			cfg->console_no_newline = 1;
			break;
		case 's':
			cfg->console_strip = 1;
			break;
		case 'B':
			cfg->console_binary = 1;
			break;
		case 'D':
			cfg->console_hex = 1;
			break;
		case 'J':
			cfg->console_json = 1;
			break;
		case 'g':
			cfg->console_color = 1;
			break;
		case 'L':
			cfg->console_lock = optarg;
			break;
		case 'I':
			cfg->findx = 1;
			break;
		case 'K':
			cfg->flow_pcap = 1;
			break;
		case 'R':
			if (push(&cfg->finish_inputs, &cfg->nfinish_inputs, optarg) < 0)
				goto nomem;
			break;
		case 'w':
			cfg->unconsumed_path = optarg;
			break;
		case 'i':
			cfg->live_device = optarg;
			break;
		case 'p':
			cfg->no_promisc = 1;
			break;
		case 'U':
			cfg->user = optarg;
			break;
		case 'z':
			cfg->chroot_dir = optarg;
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
			if (optopt && strchr("bdEeFfiLmoPRrSTUwxXz", optopt))
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
		cfg->help_level = help;
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
	/* No file at all: a live capture (the default device without -i). */
	if (cfg->ninputs == 0 && cfg->nfinish_inputs == 0)
		cfg->live = !cfg->list_scanners;
	else if (cfg->live_device && !cfg->quiet)
		fprintf(stderr, "tcpflow: warning: -i %s is ignored: input files are given\n",
			cfg->live_device);
	if (cfg->chroot_dir && !cfg->user) {
		snprintf(err, errlen, "-z %s: chroot needs -U USER (staying root inside the "
			 "chroot protects nothing)", cfg->chroot_dir);
		return -1;
	}
	/* Console modes: -c/-C print instead of writing files; -D and -J on
	 * their own print too. Non-printables become '.' unless -B (or -D). */
	if (console_c || console_big_c || cfg->console_hex || cfg->console_json) {
		cfg->console = 1;
		cfg->console_header = !console_big_c;
		cfg->console_strip = !cfg->console_binary && !cfg->console_hex;
	}
	if (make_template(cfg, tmpl, user_template, fprefix, fprefix_n) < 0)
		goto nomem;
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
	free(cfg->finish_inputs);
	free(cfg->filter);
	free(cfg->template_str);
	for (size_t i = 0; i < cfg->nsettings; i++)
		free((char *)cfg->setting_names[i]);
	free(cfg->setting_names);
	free(cfg->setting_values);
	for (size_t i = 0; i < cfg->nscanner_reqs; i++)
		free(cfg->scanner_reqs[i].name);
	free(cfg->scanner_reqs);
	free(cfg->scanner_dirs);
}
