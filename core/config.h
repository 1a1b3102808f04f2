/* The command line and -S settings, turned into one configuration. */
#ifndef TCPFLOW_CONFIG_H
#define TCPFLOW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* A scanner request from the command line, applied by the scanner host in
 * command-line order. */
enum scanner_op {
	SCANNER_ENABLE,       /* -S NAME, -e NAME, -FM (md5) */
	SCANNER_DISABLE,      /* -x NAME */
	SCANNER_ONLY,         /* -E NAME: every other scanner off */
	SCANNER_ALL,          /* -a: every built-in scanner on */
	SCANNER_PARAM,        /* -S NAME=VALUE where NAME is not a core setting */
};

struct scanner_request {
	enum scanner_op op;
	char *name;           /* scanner name, path (contains '/') or parameter; owned */
	const char *value;    /* SCANNER_PARAM: borrowed from argv */
	const char *option;   /* "-S", "-e", ... for messages (static) */
};

/* Names of the core settings (-S name=value), NULL-terminated: a -S word
 * with one of these names is a core setting, anything else is a scanner or
 * a scanner parameter. */
extern const char *const config_core_settings[];

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
	int background_writes;    /* -S background_writes=NO: write in the packet loop */
	/* name=value of every -S setting given, for the report */
	const char **setting_names;
	const char **setting_values;
	size_t nsettings;
	/* scanners (see scanner_host.h) */
	struct scanner_request *scanner_reqs;
	size_t nscanner_reqs;
	const char **scanner_dirs;    /* -P, in order */
	size_t nscanner_dirs;
	int list_scanners;            /* -H: list the scanners found and exit */
	/* inputs beyond -r */
	const char **finish_inputs;   /* -R: read after the -r files, only to finish
	                               * connections already open */
	size_t nfinish_inputs;
	int live;                     /* no input file: capture from live_device */
	const char *live_device;      /* -i, NULL = the first device libpcap lists */
	int no_promisc;               /* -p */
	int packet_buffer_timeout;    /* -S packet-buffer-timeout, ms (default 10) */
	const char *unconsumed_path;  /* -w: packets not used as TCP */
	const char *user;             /* -U: run as this user after opening the device */
	const char *chroot_dir;       /* -z: chroot there too (needs -U) */
	int64_t tdelta;               /* -S tdelta: seconds added to packet times */
	/* naming and side files */
	int counter_always;           /* -Fc */
	int findx;                    /* -I: NAME.findx */
	int flow_pcap;                /* -K: NAME.pcap */
	/* console output instead of flow files (-c -C -0 -s -B -D -J -g) */
	int console;
	int console_header;           /* "NAME: " (-c, not -C) */
	int console_no_newline;       /* -0 */
	int console_strip;            /* non-printables as '.' */
	int console_binary;           /* -B */
	int console_hex;              /* -D */
	int console_json;             /* -J */
	int console_color;            /* -g */
	const char *console_lock;     /* -L: named semaphore around each printed piece */
	/* flow notifications */
	const char *tcp_cmd;          /* -S tcp_cmd: run for every closed flow file */
	int tcp_alert_fd;             /* -S tcp_alert_fd, -1 = none */
	int help_level;               /* -h given this many times (config_parse returned 1) */
	uint64_t max_object_depth;    /* -S max_object_depth, default 8 */
	/* decoding (-S check_fcs, frag_*; see decode.h) */
	int check_fcs;                /* 802.11 FCS checked (link.h), default on */
	int64_t frag_timeout;         /* seconds a datagram's fragments wait, default 60 */
	uint64_t frag_max_bytes;      /* fragment bytes held in all, default 16 MiB */
	uint64_t frag_max_datagrams;  /* datagrams in reassembly at once, default 4096 */
	int no_decompress;            /* -Z: no content decoding (gzip scanner off, see
	                               * scanner_host_apply; get_param("decompress")) */
};

/* Parse argv. Returns 0 to run, 1 when it printed help or the version
 * (exit 0), or -1 with a one-line reason in err (exit 2). */
int config_parse(struct tf_config *cfg, int argc, char **argv, char *err, size_t errlen);

void config_free(struct tf_config *cfg);

#endif
