/* The scanner host: discovery, dlopen, ABI checks, dispatch, derived objects,
 * report entries. See scanner_host.h and sdk/tcpflow/scanner.h. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner_host.h"
#include "stats.h"
#include "tcpflow/scanner.h"

#ifndef TCPFLOW_SCANNER_DIR
#define TCPFLOW_SCANNER_DIR "/usr/local/lib/tcpflow/scanners"
#endif

#define HOST_MAX_NAME 64        /* scanner and parameter names */
#define HOST_MAX_SUFFIX 128     /* file suffixes */
#define HOST_MAX_PARAMS 256
#define HOST_MAX_META 256

/* ---- report operations, kept until their entry is written ------------------ */

enum { OP_START, OP_ATTR, OP_TEXT, OP_END };

struct host_op {
	int kind;
	size_t a, b;        /* where its strings start in the text, or HOST_NO_TEXT */
};

#define HOST_NO_TEXT SIZE_MAX

/* Elements a scanner adds to an entry, kept until the entry is written. The
 * strings go one after the other into one buffer: a strdup each was a
 * good part of the cost of an object's entry. */
struct host_ops {
	struct host_op *v;
	size_t n, cap;
	char *text;
	size_t used, tcap;
	int depth;          /* elements open */
	int attrs_ok;       /* an attribute may follow */
};

enum { ENTRY_FLOW, ENTRY_OBJECT };

struct host_flow;

struct tf_entry {
	int kind;
	uint32_t depth;              /* 0 for a flow, >= 1 for objects */
	struct host_ops ops;
	struct host_flow *flow;      /* ENTRY_FLOW */
	/* ENTRY_OBJECT */
	char *path;                  /* its file, or NULL */
	void *late;                  /* its file is written later: the outcome */
	const char *type, *producer; /* in block */
	char *parent_name;
	struct tf_kv *meta;          /* nmeta pairs, at the start of block */
	size_t nmeta;
	void *block;                 /* meta, then the strings of meta, type and producer */
	uint64_t len;
	struct tf_run *runs;         /* ABI 1.2: origin in the parent, holes */
	size_t nruns;
	struct tf_gap *holes;
	size_t nholes;
	const struct tf_object *obj; /* while it is being dispatched */
	struct tf_entry *next;       /* pending list */
	struct tf_ctx **holders;     /* ABI 1.3: scanners keeping it open (entry_hold) */
	size_t nholders;
};

struct host_flow {
	struct host_flow *hnext;
	uint64_t key;                /* flow_number */
	struct tcp_flow *tf;         /* NULL once closed (its entry held, ABI 1.4) */
	int closing;                 /* its on_flow_close dispatch is on */
	struct report_flow *rf;      /* closed and held: its report entry, to write */
	struct tf_flow pub;
	struct tf_entry entry;
	uint64_t delivered;          /* bytes given in data events */
	uint64_t announced;          /* bytes given in gap events */
	void *fstate[];              /* one slot per stream scanner */
};

struct tf_file {
	int fd;                      /* -1 while reserved */
	char *path;                  /* NULL when anonymous */
	/* The name is this run's (store_reserve_path) and the file not created
	 * yet: created when its buffer overflows, else written after close. */
	int reserved;
	uint64_t size;               /* bytes written, buffered ones included */
	int failed;
	/* Bytes not yet written: derived files are written in blocks, and a
	 * small one never leaves the buffer before it is emitted. */
	uint8_t *buf;
	size_t blen;
};

#define HOST_FILE_BUFFER (128u << 10)
/* Buffers of derived files kept for the next ones: a malloc and free of
 * 128 KiB for every HTTP body made glibc consolidate its heap each time. */
#define HOST_SPARE_BUFFERS 4

/* One loaded scanner. The ABI's struct tf_ctx is this. */
struct tf_ctx {
	struct scanner_host *h;
	struct tf_scanner d;         /* the descriptor, zero-extended to our size */
	char *origin;                /* file it came from */
	void *dl;
	dev_t dev;
	ino_t ino;
	int builtin;
	int enabled;
	int started;
	void *state;
	const char **values;         /* per parameter: given value or NULL */
	size_t nparams;
	int slot;                    /* index into host_flow.fstate, -1 */
	struct host_ops top;         /* top-level elements of the current call */
	int in_init;
	int files_later;             /* ABI 1.5: said so in init (host->files_later) */
	char init_error[512];
	int warned_depth;
};

struct scanner_host {
	const struct tf_config *cfg;
	struct tf_ctx **sc;          /* every scanner, sorted by name once loaded */
	size_t nsc;
	struct tf_ctx **on;          /* started ones, in dispatch order */
	size_t non;
	struct tf_ctx **streams;     /* started with a stream callback */
	size_t nstreams;
	int want_packets;
	int want_objects;
	int shut;
	struct tf_ctx **req_file;    /* per request: the scanner its path loaded */
	struct report *report;
	struct store *store;
	/* open flows by flow number */
	struct host_flow **buckets;
	size_t nbuckets, nflows;
	/* object entries waiting to be written, in emission order */
	struct tf_entry *pend_head, *pend_tail;
	int nesting;                 /* emit_object calls in progress */
	int closing;                 /* flow close dispatch in progress */
	int stopped;                 /* scanners shut down: held entries are written */
	struct tf_gap *gaps;
	size_t gapcap;
	uint8_t *spare[HOST_SPARE_BUFFERS];   /* HOST_FILE_BUFFER blocks for tf_files */
	int nspare;
	/* directories searched, for -H */
	char **dirs;
	size_t ndirs;
};

static const struct tf_host host_table;

/* ---- small helpers ------------------------------------------------------------ */

static int name_ok(const char *s, size_t max)
{
	size_t n = 0;
	if (!s || !*s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return n <= max && strcmp(s, ".") && strcmp(s, "..");
}

/* XML names as the report accepts them: [A-Za-z_][A-Za-z0-9_.-]* */
static int xml_name_ok(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return 1;
}

static int is_core_setting(const char *name)
{
	for (int i = 0; config_core_settings[i]; i++)
		if (!strcmp(name, config_core_settings[i]))
			return 1;
	return 0;
}

/* No flow files are written (-FX, console modes): nothing beside a flow either. */
static int files_off(const struct scanner_host *h)
{
	return h->cfg->no_files || h->cfg->console;
}

static char *dup_str(const char *s)
{
	return strdup(s ? s : "");
}

/* "a, b, c" of every scanner name (or parameter name) into buf. */
static void list_names(const struct scanner_host *h, int params, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	if (params) {
		for (int i = 0; config_core_settings[i] && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
					      config_core_settings[i]);
	}
	for (size_t i = 0; i < h->nsc && o < len; i++) {
		const struct tf_ctx *c = h->sc[i];
		if (!params) {
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", c->d.name);
			continue;
		}
		for (size_t j = 0; j < c->nparams && o < len; j++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
					      c->d.params[j].name);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

/* ---- host creation and loading ------------------------------------------------ */

int scanner_host_needed(const struct tf_config *cfg)
{
	return cfg->nscanner_reqs > 0 || cfg->nscanner_dirs > 0 || cfg->list_scanners;
}

struct scanner_host *scanner_host_new(const struct tf_config *cfg)
{
	struct scanner_host *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->cfg = cfg;
	if (cfg->nscanner_reqs) {
		h->req_file = calloc(cfg->nscanner_reqs, sizeof *h->req_file);
		if (!h->req_file) {
			free(h);
			return NULL;
		}
	}
	return h;
}

static void ops_free(struct host_ops *o);

static void ctx_free(struct tf_ctx *c)
{
	if (!c)
		return;
	ops_free(&c->top);
	free(c->values);
	free(c->origin);
	if (c->dl)
		dlclose(c->dl);
	free(c);
}


/* Keep h->sc sorted by name: the dispatch order and the -H order. */
static int insert_sorted(struct scanner_host *h, struct tf_ctx *c)
{
	struct tf_ctx **v = realloc(h->sc, (h->nsc + 1) * sizeof *v);
	if (!v)
		return -1;
	h->sc = v;
	size_t i = h->nsc;
	while (i > 0 && strcmp(v[i - 1]->d.name, c->d.name) > 0) {
		v[i] = v[i - 1];
		i--;
	}
	v[i] = c;
	h->nsc++;
	return 0;
}

/* Check a descriptor and add its scanner. On failure nothing is kept and the
 * caller still owns dl. */
static int register_scanner(struct scanner_host *h, scanner_host_entry_fn entry,
			    const char *origin, int builtin, void *dl, const struct stat *st,
			    struct tf_ctx **out, char *err, size_t errlen)
{
	const struct tf_scanner *d = entry(&host_table);
	if (!d) {
		snprintf(err, errlen, "%s: not loaded: %s returned no descriptor (the scanner "
			 "refused this tcpflow's scanner ABI %d.%d)", origin, TF_ENTRY_NAME,
			 TF_ABI_MAJOR, TF_ABI_MINOR);
		return -1;
	}
	if (d->size < 8) {
		snprintf(err, errlen, "%s: not loaded: its descriptor is %u bytes, too small "
			 "(scanner ABI %d.0 needs at least %zu)", origin, (unsigned)d->size,
			 TF_ABI_MAJOR, (size_t)TF_SCANNER_MIN_SIZE);
		return -1;
	}
	if (d->abi_major != TF_ABI_MAJOR) {
		snprintf(err, errlen, "%s: not loaded: built for scanner ABI %u.%u, this tcpflow "
			 "loads ABI %d (minor %d or older)", origin, (unsigned)d->abi_major,
			 (unsigned)d->abi_minor, TF_ABI_MAJOR, TF_ABI_MINOR);
		return -1;
	}
	if (d->abi_minor > TF_ABI_MINOR) {
		snprintf(err, errlen, "%s: not loaded: built for scanner ABI %u.%u, newer than "
			 "this tcpflow's %d.%d", origin, (unsigned)d->abi_major,
			 (unsigned)d->abi_minor, TF_ABI_MAJOR, TF_ABI_MINOR);
		return -1;
	}
	if (d->size < TF_SCANNER_MIN_SIZE) {
		snprintf(err, errlen, "%s: not loaded: its descriptor is %u bytes, too small "
			 "(scanner ABI %d.0 needs at least %zu)", origin, (unsigned)d->size,
			 TF_ABI_MAJOR, (size_t)TF_SCANNER_MIN_SIZE);
		return -1;
	}
	struct tf_ctx *c = calloc(1, sizeof *c);
	if (!c || !(c->origin = strdup(origin))) {
		free(c);
		snprintf(err, errlen, "%s: out of memory", origin);
		return -1;
	}
	c->h = h;
	c->slot = -1;
	memcpy(&c->d, d, d->size < sizeof c->d ? d->size : sizeof c->d);
	c->builtin = builtin;
	if (st) {
		c->dev = st->st_dev;
		c->ino = st->st_ino;
	}
	if (!name_ok(c->d.name, HOST_MAX_NAME)) {
		snprintf(err, errlen, "%s: not loaded: invalid scanner name '%s' (letters, digits, "
			 "'_', '-', '.'; at most %d)", origin, c->d.name ? c->d.name : "(null)",
			 HOST_MAX_NAME);
		goto fail;
	}
	if (is_core_setting(c->d.name)) {
		snprintf(err, errlen, "%s: not loaded: scanner name '%s' is a core setting",
			 origin, c->d.name);
		goto fail;
	}
	for (size_t i = 0; i < h->nsc; i++) {
		if (!strcmp(h->sc[i]->d.name, c->d.name)) {
			snprintf(err, errlen, "%s: not loaded: scanner name '%s' is already taken by %s",
				 origin, c->d.name, h->sc[i]->origin);
			goto fail;
		}
	}
	if (!c->d.version)
		c->d.version = "";
	if (!c->d.description)
		c->d.description = "";
	for (c->nparams = 0; c->d.params && c->d.params[c->nparams].name; c->nparams++) {
		const char *pn = c->d.params[c->nparams].name;
		if (c->nparams == HOST_MAX_PARAMS) {
			snprintf(err, errlen, "%s: not loaded: more than %d parameters", origin,
				 HOST_MAX_PARAMS);
			goto fail;
		}
		if (!name_ok(pn, HOST_MAX_NAME) || is_core_setting(pn)) {
			snprintf(err, errlen, "%s: not loaded: parameter name '%s' is %s", origin, pn,
				 is_core_setting(pn) ? "a core setting" : "invalid");
			goto fail;
		}
		for (size_t j = 0; j < c->nparams; j++) {
			if (!strcmp(c->d.params[j].name, pn)) {
				snprintf(err, errlen, "%s: not loaded: parameter '%s' is declared twice",
					 origin, pn);
				goto fail;
			}
		}
		for (size_t i = 0; i < h->nsc; i++) {
			const struct tf_ctx *o = h->sc[i];
			for (size_t j = 0; j < o->nparams; j++) {
				if (!strcmp(o->d.params[j].name, pn)) {
					snprintf(err, errlen, "%s: not loaded: parameter '%s' is already "
						 "declared by scanner '%s' (%s)", origin, pn, o->d.name,
						 o->origin);
					goto fail;
				}
			}
		}
	}
	if (c->nparams && !(c->values = calloc(c->nparams, sizeof *c->values))) {
		snprintf(err, errlen, "%s: out of memory", origin);
		goto fail;
	}
	if (insert_sorted(h, c) < 0) {
		snprintf(err, errlen, "%s: out of memory", origin);
		goto fail;
	}
	c->dl = dl;
	if (out)
		*out = c;
	return 0;
fail:
	ctx_free(c);
	return -1;
}

int scanner_host_add(struct scanner_host *h, scanner_host_entry_fn entry, const char *origin,
		     int builtin, char *err, size_t errlen)
{
	return register_scanner(h, entry, origin, builtin, NULL, NULL, NULL, err, errlen);
}

static int load_file(struct scanner_host *h, const char *path, int builtin,
		     struct tf_ctx **out, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: cannot load scanner: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot load scanner: not a regular file", path);
		return -1;
	}
	for (size_t i = 0; i < h->nsc; i++) {
		if (h->sc[i]->dl && h->sc[i]->dev == st.st_dev && h->sc[i]->ino == st.st_ino) {
			if (out)
				*out = h->sc[i];
			return 0;   /* the same file, reached twice */
		}
	}
	dlerror();
	/* RTLD_NODELETE: a plugin stays mapped after dlclose, and so do the
	 * libraries it pulled in (cairo -> pixman allocates in its constructor):
	 * what they keep in their globals stays reachable instead of turning
	 * into leaks under LeakSanitizer when they are unmapped. */
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!dl) {
		const char *why = dlerror();
		snprintf(err, errlen, "%s: cannot load scanner: %s", path, why ? why : "dlopen failed");
		return -1;
	}
	scanner_host_entry_fn entry = NULL;
	/* POSIX: a data pointer from dlsym converts to a function pointer this way. */
	*(void **)(&entry) = dlsym(dl, TF_ENTRY_NAME);
	if (!entry) {
		char other[32];
		int major = -1;
		for (int m = 0; m < 10 && major < 0; m++) {
			snprintf(other, sizeof other, "tcpflow_scanner_v%d", m);
			if (m != TF_ABI_MAJOR && dlsym(dl, other))
				major = m;
		}
		if (major >= 0)
			snprintf(err, errlen, "%s: not loaded: built for scanner ABI %d (it exports %s, "
				 "this tcpflow needs %s)", path, major, other, TF_ENTRY_NAME);
		else
			snprintf(err, errlen, "%s: not loaded: not a tcpflow scanner (no %s symbol)",
				 path, TF_ENTRY_NAME);
		dlclose(dl);
		return -1;
	}
	if (register_scanner(h, entry, path, builtin, dl, &st, out, err, errlen) < 0) {
		dlclose(dl);
		return -1;
	}
	return 0;
}

int scanner_host_load_file(struct scanner_host *h, const char *path, int builtin,
			   char *err, size_t errlen)
{
	return load_file(h, path, builtin, NULL, err, errlen);
}

static int so_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return d->d_name[0] != '.' && n > 3 && !strcmp(d->d_name + n - 3, ".so");
}

static int note_dir(struct scanner_host *h, const char *dir)
{
	char **v = realloc(h->dirs, (h->ndirs + 1) * sizeof *v);
	if (!v)
		return -1;
	h->dirs = v;
	if (!(v[h->ndirs] = strdup(dir)))
		return -1;
	h->ndirs++;
	return 0;
}

/* Every *.so in dir, in name order. A missing directory is an error only when
 * must_exist (-P). */
static int load_dir(struct scanner_host *h, const char *dir, int builtin, int must_exist,
		    char *err, size_t errlen)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, so_filter, alphasort);
	if (n < 0) {
		if (!must_exist)
			return 0;
		snprintf(err, errlen, "%s: cannot read scanner directory: %s", dir, strerror(errno));
		return -1;
	}
	int rc = note_dir(h, dir);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	for (int i = 0; i < n; i++) {
		if (rc == 0) {
			size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
			char *path = malloc(len);
			if (!path) {
				snprintf(err, errlen, "out of memory");
				rc = -1;
			} else {
				snprintf(path, len, "%s/%s", dir, names[i]->d_name);
				rc = load_file(h, path, builtin, NULL, err, errlen);
				free(path);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Does this binary run from the build tree (then its plugins are there)? */
static int running_from_build_tree(void)
{
#ifdef TCPFLOW_BUILD_DIR
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	struct stat a, b;
	return stat(exe[0] ? exe : "/", &a) == 0 && stat(TCPFLOW_BUILD_DIR, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
#else
	return 0;
#endif
}

static int load_build_tree(struct scanner_host *h, char *err, size_t errlen)
{
#ifdef TCPFLOW_BUILD_DIR
	const char *top = TCPFLOW_BUILD_DIR "/plugins";
	DIR *d = opendir(top);
	if (!d)
		return 0;
	struct dirent *e;
	char **subs = NULL;
	size_t nsubs = 0;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char **v = realloc(subs, (nsubs + 1) * sizeof *v);
		if (!v || !(v[nsubs] = strdup(e->d_name))) {
			if (v)
				subs = v;
			rc = -1;
			snprintf(err, errlen, "out of memory");
			break;
		}
		subs = v;
		nsubs++;
	}
	closedir(d);
	/* name order, so the result never depends on the directory's order */
	for (size_t i = 1; i < nsubs; i++)
		for (size_t j = i; j > 0 && strcmp(subs[j - 1], subs[j]) > 0; j--) {
			char *t = subs[j];
			subs[j] = subs[j - 1];
			subs[j - 1] = t;
		}
	for (size_t i = 0; i < nsubs; i++) {
		if (rc == 0) {
			size_t len = strlen(top) + strlen(subs[i]) + sizeof "/.libs" + 1;
			char *dir = malloc(len);
			if (!dir) {
				snprintf(err, errlen, "out of memory");
				rc = -1;
			} else {
				snprintf(dir, len, "%s/%s/.libs", top, subs[i]);
				rc = load_dir(h, dir, 1, 0, err, errlen);
				free(dir);
			}
		}
		free(subs[i]);
	}
	free(subs);
	return rc;
#else
	(void)h;
	(void)err;
	(void)errlen;
	return 0;
#endif
}

int scanner_host_discover(struct scanner_host *h, char *err, size_t errlen)
{
	const struct tf_config *cfg = h->cfg;
	for (size_t i = 0; i < cfg->nscanner_reqs; i++) {
		const struct scanner_request *q = &cfg->scanner_reqs[i];
		if (q->op != SCANNER_PARAM && q->name && strchr(q->name, '/') &&
		    load_file(h, q->name, 0, &h->req_file[i], err, errlen) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->nscanner_dirs; i++)
		if (load_dir(h, cfg->scanner_dirs[i], 0, 1, err, errlen) < 0)
			return -1;
	const char *env = getenv("TCPFLOW_SCANNER_PATH");
	if (env && *env) {
		char *copy = strdup(env);
		if (!copy) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		int rc = 0;
		char *p = copy;
		while (rc == 0 && p) {
			char *colon = strchr(p, ':');
			if (colon)
				*colon = '\0';
			if (*p)
				rc = load_dir(h, p, 0, 0, err, errlen);
			p = colon ? colon + 1 : NULL;
		}
		free(copy);
		if (rc < 0)
			return -1;
	}
	if (running_from_build_tree())
		return load_build_tree(h, err, errlen);
	return load_dir(h, TCPFLOW_SCANNER_DIR, 1, 0, err, errlen);
}

struct scanner_host *scanner_host_load(const struct tf_config *cfg, char *err, size_t errlen)
{
	struct scanner_host *h = scanner_host_new(cfg);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (scanner_host_discover(h, err, errlen) < 0 || scanner_host_apply(h, err, errlen) < 0) {
		scanner_host_free(h);
		return NULL;
	}
	return h;
}

/* ---- requests, listing, start ------------------------------------------------------ */

static struct tf_ctx *find_scanner(const struct scanner_host *h, const char *name)
{
	for (size_t i = 0; i < h->nsc; i++)
		if (!strcmp(h->sc[i]->d.name, name))
			return h->sc[i];
	return NULL;
}

int scanner_host_apply(struct scanner_host *h, char *err, size_t errlen)
{
	const struct tf_config *cfg = h->cfg;
	char known[1024];
	for (size_t i = 0; i < cfg->nscanner_reqs; i++) {
		const struct scanner_request *q = &cfg->scanner_reqs[i];
		struct tf_ctx *c = NULL;
		switch (q->op) {
		case SCANNER_ENABLE:
		case SCANNER_DISABLE:
		case SCANNER_ONLY:
			if (strchr(q->name, '/')) {
				c = h->req_file[i];
				if (!c && load_file(h, q->name, 0, &h->req_file[i], err, errlen) < 0)
					return -1;
				c = h->req_file[i];
			} else {
				c = find_scanner(h, q->name);
			}
			if (!c) {
				list_names(h, 0, known, sizeof known);
				snprintf(err, errlen, "%s %s: unknown scanner (known: %s)", q->option,
					 q->name, known);
				return -1;
			}
			if (q->op == SCANNER_ONLY)
				for (size_t j = 0; j < h->nsc; j++)
					h->sc[j]->enabled = 0;
			c->enabled = q->op != SCANNER_DISABLE;
			break;
		case SCANNER_ALL:
			for (size_t j = 0; j < h->nsc; j++)
				if (h->sc[j]->builtin)
					h->sc[j]->enabled = 1;
			break;
		case SCANNER_PARAM:
			for (size_t j = 0; j < h->nsc && !c; j++)
				for (size_t k = 0; k < h->sc[j]->nparams; k++)
					if (!strcmp(h->sc[j]->d.params[k].name, q->name)) {
						c = h->sc[j];
						c->values[k] = q->value;
						break;
					}
			if (!c) {
				list_names(h, 1, known, sizeof known);
				snprintf(err, errlen, "%s %s=%s: unknown setting or scanner parameter "
					 "(known: %s)", q->option, q->name, q->value, known);
				return -1;
			}
			break;
		}
	}
	/* -Z: no decoding of content encodings, whatever -a or -e asked */
	if (cfg->no_decompress) {
		struct tf_ctx *gz = find_scanner(h, "gzip");
		if (gz)
			gz->enabled = 0;
	}
	return 0;
}

/* Print text after indent spaces, wrapped at spaces to lines of at most 79
 * columns (a word longer than that stays whole); a newline in text starts a
 * new line. */
static void print_wrapped(FILE *out, int indent, const char *text)
{
	const int width = 79 - indent;
	while (*text) {
		size_t n = strcspn(text, "\n");
		size_t cut = n;
		if ((int)n > width) {
			cut = (size_t)width;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = strcspn(text, " \n");
		}
		fprintf(out, "%*s%.*s\n", indent, "", (int)cut, text);
		text += cut;
		while (*text == ' ')
			text++;
		if (*text == '\n' && cut == n)
			text++;
	}
}

void scanner_host_list(const struct scanner_host *h, FILE *out)
{
	fprintf(out, "tcpflow %s: %zu scanner%s found (scanner ABI %d.%d)\n", PACKAGE_VERSION,
		h->nsc, h->nsc == 1 ? "" : "s", TF_ABI_MAJOR, TF_ABI_MINOR);
	fprintf(out, "searched:");
	if (!h->ndirs)
		fprintf(out, " (no directory)");
	for (size_t i = 0; i < h->ndirs; i++)
		fprintf(out, " %s", h->dirs[i]);
	fprintf(out, "\n");
	for (size_t i = 0; i < h->nsc; i++) {
		const struct tf_ctx *c = h->sc[i];
		fprintf(out, "\n%s %s%s%s\n", c->d.name, c->d.version,
			c->builtin ? " (built-in)" : "", c->enabled ? " [enabled]" : "");
		print_wrapped(out, 4, c->d.description);
		fprintf(out, "    from %s\n", c->origin);
		for (size_t j = 0; j < c->nparams; j++) {
			const struct tf_param *p = &c->d.params[j];
			char line[4096];
			fprintf(out, "    -S %s=%s\n", p->name,
				c->values[j] ? c->values[j] : (p->default_value ? p->default_value : ""));
			snprintf(line, sizeof line, "%s (default: '%s')",
				 p->description ? p->description : "",
				 p->default_value ? p->default_value : "");
			print_wrapped(out, 8, line);
		}
	}
	fprintf(out, "\nEnable with -S NAME (or -e NAME), -a for every built-in scanner; "
		"set a parameter with -S NAME=VALUE.\n");
}

size_t scanner_host_enabled(const struct scanner_host *h)
{
	size_t n = 0;
	for (size_t i = 0; h && i < h->nsc; i++)
		n += h->sc[i]->enabled != 0;
	return n;
}

static void after_call(struct tf_ctx *c);

static void stop_started(struct scanner_host *h)
{
	for (size_t i = 0; i < h->non; i++) {
		struct tf_ctx *c = h->on[i];
		if (c->started && c->d.shutdown) {
			c->d.shutdown(c, c->state);
			after_call(c);
		}
		c->started = 0;
	}
	h->non = 0;
}

int scanner_host_start(struct scanner_host *h, char *err, size_t errlen)
{
	free(h->on);
	free(h->streams);
	h->on = calloc(h->nsc ? h->nsc : 1, sizeof *h->on);
	h->streams = calloc(h->nsc ? h->nsc : 1, sizeof *h->streams);
	h->non = h->nstreams = 0;
	if (!h->on || !h->streams) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < h->nsc; i++) {
		struct tf_ctx *c = h->sc[i];
		if (!c->enabled)
			continue;
		c->init_error[0] = '\0';
		c->in_init = 1;
		int rc = c->d.init ? c->d.init(c, &c->state) : 0;
		c->in_init = 0;
		if (rc != 0) {
			snprintf(err, errlen, "%s: scanner %s: init failed: %s", c->origin, c->d.name,
				 c->init_error[0] ? c->init_error : strerror(rc < 0 ? -rc : rc));
			stop_started(h);
			return -1;
		}
		c->started = 1;
		h->on[h->non++] = c;
		if (c->d.on_flow_open || c->d.on_data || c->d.on_gap || c->d.on_flow_close) {
			c->slot = (int)h->nstreams;
			h->streams[h->nstreams++] = c;
		}
		if (c->d.on_packet)
			h->want_packets = 1;
		if (c->d.on_object)
			h->want_objects = 1;
	}
	return 0;
}

void scanner_host_attach(struct scanner_host *h, struct report *report, struct store *store)
{
	h->report = report;
	h->store = store;
}

unsigned scanner_host_wants(const struct scanner_host *h)
{
	unsigned w = 0;
	if (h && h->want_packets)
		w |= SCANNER_HOST_WANTS_PACKETS;
	if (h && h->nstreams)
		w |= SCANNER_HOST_WANTS_STREAMS;
	return w;
}

/* ---- report operations ------------------------------------------------------------ */

static int ops_push(struct host_ops *o, int kind, const char *a, const char *b)
{
	size_t la = a ? strlen(a) + 1 : 0, lb = b ? strlen(b) + 1 : 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		struct host_op *v = realloc(o->v, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		o->v = v;
		o->cap = cap;
	}
	if (la + lb > o->tcap - o->used) {
		size_t cap = o->tcap ? o->tcap : 256;
		while (la + lb > cap - o->used)
			cap *= 2;
		char *t = realloc(o->text, cap);
		if (!t)
			return -ENOMEM;
		o->text = t;
		o->tcap = cap;
	}
	struct host_op op = { .kind = kind, .a = HOST_NO_TEXT, .b = HOST_NO_TEXT };
	if (a) {
		op.a = o->used;
		memcpy(o->text + o->used, a, la);
		o->used += la;
	}
	if (b) {
		op.b = o->used;
		memcpy(o->text + o->used, b, lb);
		o->used += lb;
	}
	o->v[o->n++] = op;
	return 0;
}

static const char *op_text(const struct host_ops *o, size_t at)
{
	return at == HOST_NO_TEXT ? NULL : o->text + at;
}

static void ops_clear(struct host_ops *o)
{
	o->n = 0;
	o->used = 0;
	o->depth = 0;
	o->attrs_ok = 0;
}

static void ops_free(struct host_ops *o)
{
	ops_clear(o);
	free(o->v);
	free(o->text);
	o->v = NULL;
	o->text = NULL;
	o->cap = o->tcap = 0;
}

/* Write the operations to the report (closing what was left open), then forget them. */
static void ops_replay(struct report *r, struct host_ops *o)
{
	if (r) {
		for (size_t i = 0; i < o->n; i++) {
			const struct host_op *op = &o->v[i];
			switch (op->kind) {
			case OP_START: report_start_element(r, op_text(o, op->a)); break;
			case OP_ATTR:
				report_attribute(r, op_text(o, op->a), op_text(o, op->b));
				break;
			case OP_TEXT: report_text(r, op_text(o, op->a)); break;
			default: report_end_element(r); break;
			}
		}
		for (int d = o->depth; d > 0; d--)
			report_end_element(r);
	}
	ops_clear(o);
}

/* Top-level elements are written when complete, or when the call that began
 * them returns. */
static void after_call(struct tf_ctx *c)
{
	if (c->top.n)
		ops_replay(c->h->report, &c->top);
}

static struct host_ops *ops_of(struct tf_ctx *c, struct tf_entry *e)
{
	return e ? &e->ops : &c->top;
}

static int host_report_start(struct tf_ctx *c, struct tf_entry *e, const char *name)
{
	if (!c || !xml_name_ok(name))
		return -EINVAL;
	if (!c->h->report)
		return 0;
	struct host_ops *o = ops_of(c, e);
	int rc = ops_push(o, OP_START, name, NULL);
	if (rc == 0) {
		o->depth++;
		o->attrs_ok = 1;
	}
	return rc;
}

static int host_report_attr(struct tf_ctx *c, struct tf_entry *e, const char *name,
			    const char *value)
{
	if (!c || !xml_name_ok(name))
		return -EINVAL;
	if (!c->h->report)
		return 0;
	struct host_ops *o = ops_of(c, e);
	if (!o->attrs_ok || o->depth == 0)
		return -EINVAL;
	for (size_t i = o->n; i > 0 && o->v[i - 1].kind == OP_ATTR; i--)
		if (!strcmp(op_text(o, o->v[i - 1].a), name))
			return -EINVAL;
	return ops_push(o, OP_ATTR, name, value ? value : "");
}

static int host_report_text(struct tf_ctx *c, struct tf_entry *e, const char *text)
{
	if (!c)
		return -EINVAL;
	if (!c->h->report)
		return 0;
	struct host_ops *o = ops_of(c, e);
	if (o->depth == 0)
		return -EINVAL;
	o->attrs_ok = 0;
	return ops_push(o, OP_TEXT, text ? text : "", NULL);
}

static int host_report_end(struct tf_ctx *c, struct tf_entry *e)
{
	if (!c)
		return -EINVAL;
	if (!c->h->report)
		return 0;
	struct host_ops *o = ops_of(c, e);
	if (o->depth == 0)
		return -EINVAL;
	int rc = ops_push(o, OP_END, NULL, NULL);
	if (rc < 0)
		return rc;
	o->depth--;
	o->attrs_ok = 0;
	if (!e && o->depth == 0)
		ops_replay(c->h->report, o);
	return 0;
}

static int host_report_element(struct tf_ctx *c, struct tf_entry *e, const char *name,
			       const char *text)
{
	int rc = host_report_start(c, e, name);
	if (rc == 0 && text && *text)
		rc = host_report_text(c, e, text);
	if (rc == 0)
		rc = host_report_end(c, e);
	return rc;
}

/* ---- logging and parameters --------------------------------------------------------- */

static void host_log(struct tf_ctx *c, int level, const char *msg)
{
	if (!c || !msg)
		return;
	const struct tf_config *cfg = c->h->cfg;
	char line[1024];
	snprintf(line, sizeof line, "%s", msg);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (level <= TF_LOG_ERROR && c->in_init) {
		/* the first part of a long message */
		snprintf(c->init_error, sizeof c->init_error, "%.*s",
			 (int)sizeof c->init_error - 1, line);
		return;
	}
	if (level <= TF_LOG_ERROR || (level == TF_LOG_WARN && !cfg->quiet) ||
	    (level == TF_LOG_INFO && cfg->verbose >= 1) || (level > TF_LOG_INFO && cfg->verbose >= 20))
		fprintf(stderr, "tcpflow: %s: %s\n", c->d.name, line);
	if (level <= TF_LOG_WARN && c->h->report) {
		char w[1100];
		snprintf(w, sizeof w, "%s: %s", c->d.name, line);
		report_warning(c->h->report, w);
	}
}

static const char *host_get_param(struct tf_ctx *c, const char *name)
{
	if (!c || !name)
		return NULL;
	for (size_t i = 0; i < c->nparams; i++)
		if (!strcmp(c->d.params[i].name, name))
			return c->values[i] ? c->values[i]
			       : (c->d.params[i].default_value ? c->d.params[i].default_value : "");
	const struct tf_config *cfg = c->h->cfg;
	if (!strcmp(name, "outdir"))
		return cfg->outdir;
	if (!strcmp(name, "decompress"))
		return cfg->no_decompress ? "no" : "yes";
	const char *v = NULL;
	for (size_t i = 0; i < cfg->nsettings; i++)
		if (!strcmp(cfg->setting_names[i], name))
			v = cfg->setting_values[i];   /* the last one given wins */
	return v;
}

/* -r/-l inputs, then -R ones, in pipeline order; a live capture is input 0. */
static const char *host_input_name(struct tf_ctx *c, uint32_t index)
{
	if (!c)
		return NULL;
	const struct tf_config *cfg = c->h->cfg;
	if (cfg->live)
		return index == 0 ? (cfg->live_device ? cfg->live_device : "(default interface)")
				  : NULL;
	if (index < cfg->ninputs)
		return cfg->inputs[index];
	if (index - cfg->ninputs < cfg->nfinish_inputs)
		return cfg->finish_inputs[index - cfg->ninputs];
	return NULL;
}

/* ---- files ---------------------------------------------------------------------------- */

static int anon_fd(void)
{
	const char *dir = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof tmpl, "%s/tcpflow-object-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	return fd;
}

/* The file an entry's neighbours are named after: 1 with *base set, 0 when
 * files beside it go to anonymous files (-FX), or -errno. */
static int entry_base(struct scanner_host *h, struct tf_entry *e, const char **base)
{
	*base = NULL;
	if (e->kind == ENTRY_FLOW && !e->flow->tf)
		return -EINVAL;   /* closed: its held entry only takes report calls */
	if (files_off(h))
		return 0;
	if (e->kind == ENTRY_FLOW) {
		struct store_file *sf = &e->flow->tf->file;
		if (!sf->path) {
			if (!h->store)
				return -ENOENT;
			int rc = store_file_create(h->store, sf);
			if (rc < 0)
				return rc;
			if (!sf->path)
				return -ENOENT;
		}
		e->flow->pub.path = sf->path;
		*base = sf->path;
		return 1;
	}
	if (!e->path)
		return -ENOENT;   /* an object that lives only in memory */
	*base = e->path;
	return 1;
}

/* Create the file for a suffix (see tf_host.file_open). NULL with *err set. */
static struct tf_file *file_create(struct tf_ctx *c, struct tf_entry *beside,
				   const char *suffix, int *err)
{
	struct scanner_host *h = c->h;
	struct tf_file *f = NULL;
	char *path = NULL;
	int fd = -1, e = 0, reserved = 0;
	if (!name_ok(suffix, HOST_MAX_SUFFIX)) {
		e = EINVAL;
		goto fail;
	}
	if (!beside) {
		size_t len = strlen(h->cfg->outdir) + strlen(suffix) + 2;
		if (!(path = malloc(len))) {
			e = ENOMEM;
			goto fail;
		}
		snprintf(path, len, "%s/%s", h->cfg->outdir, suffix);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	} else {
		const char *base;
		int rc = entry_base(h, beside, &base);
		if (rc < 0) {
			e = -rc;
			goto fail;
		}
		if (rc == 0) {
			fd = anon_fd();
		} else {
			size_t len = strlen(base) + strlen(suffix) + 16;
			if (!(path = malloc(len))) {
				e = ENOMEM;
				goto fail;
			}
			for (unsigned n = 0; n < 1000; n++) {
				if (n)
					snprintf(path, len, "%s%s.%u", base, suffix, n);
				else
					snprintf(path, len, "%s%s", base, suffix);
				int taken = h->store ? store_reserve_path(h->store, path) : -1;
				if (taken == 0) {
					reserved = 1;
					break;
				}
				if (taken == 1) {
					errno = EEXIST;
					continue;
				}
				/* with the template's directories: the flow's own
				 * file may only be named so far */
				fd = h->store ? store_create_file(h->store, path)
					      : open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
				if (fd >= 0 || errno != EEXIST)
					break;
			}
		}
	}
	if (fd < 0 && !reserved) {
		e = errno;
		goto fail;
	}
	if (!(f = calloc(1, sizeof *f))) {
		e = ENOMEM;
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	f->fd = fd;
	f->path = path;
	f->reserved = reserved;
	return f;
fail:
	*err = e;
	if (e == EINVAL)
		tf_logf(&host_table, c, TF_LOG_WARN, "invalid file name suffix '%s'",
			suffix ? suffix : "(null)");
	else
		tf_logf(&host_table, c, TF_LOG_WARN, "cannot create %s%s: %s",
			path ? path : "a file for ", path ? "" : suffix, strerror(e));
	if (path && e != EINVAL)
		tf_stats.write_errors++;   /* output lost, as for a flow file */
	free(path);
	return NULL;
}

static struct tf_file *host_file_open(struct tf_ctx *c, struct tf_entry *beside,
				      const char *suffix)
{
	int e;
	return c ? file_create(c, beside, suffix, &e) : NULL;
}

/* f's output is lost: fail it, count it as for a flow file, and warn
 * ("cannot WHAT PATH: why"). Returns -e. */
static int file_fail(struct tf_ctx *c, struct tf_file *f, const char *what, int e)
{
	f->failed = 1;
	tf_stats.write_errors++;
	tf_logf(&host_table, c, TF_LOG_WARN, "cannot %s %s: %s", what,
		f->path ? f->path : "an unnamed file", strerror(e));
	return -e;
}

/* Create f's file under its reserved name now (it is too big to wait for
 * its close, or its close writes it). 0 or -errno (f failed, warned). */
static int file_create_now(struct tf_ctx *c, struct tf_file *f)
{
	int fd = f->path ? store_create_file(c->h->store, f->path) : (errno = ENOMEM, -1);
	if (fd < 0)
		return file_fail(c, f, "create", errno);
	f->fd = fd;
	f->reserved = 0;
	return 0;
}

/* write(2) all of p, or fail f with a warning. 0 or -errno. */
static int file_write_out(struct tf_ctx *c, struct tf_file *f, const uint8_t *p, size_t len)
{
	if (f->reserved && file_create_now(c, f) < 0)
		return -EIO;
	while (len) {
		ssize_t n = write(f->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return file_fail(c, f, "write", errno);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write out what f holds in its buffer. 0 or -errno. */
static int file_flush(struct tf_ctx *c, struct tf_file *f)
{
	if (!f->blen || f->failed)
		return f->failed ? -EIO : 0;
	int rc = file_write_out(c, f, f->buf, f->blen);
	f->blen = 0;
	return rc;
}

static int host_file_write(struct tf_ctx *c, struct tf_file *f, const void *data, size_t len)
{
	if (!c || !f || (len && !data))
		return -EINVAL;
	if (f->failed)
		return -EIO;
	if (!len)
		return 0;
	if (!f->buf)
		f->buf = c->h->nspare ? c->h->spare[--c->h->nspare]
				      : malloc(HOST_FILE_BUFFER);   /* without one, every write goes out */
	int rc = 0;
	if (f->buf && f->blen + len > HOST_FILE_BUFFER)
		rc = file_flush(c, f);
	if (rc == 0 && f->buf && len < HOST_FILE_BUFFER) {
		memcpy(f->buf + f->blen, data, len);
		f->blen += len;
	} else if (rc == 0) {
		rc = file_write_out(c, f, data, len);
	}
	if (rc == 0)
		f->size += len;
	return rc;
}

static const char *host_file_path(struct tf_ctx *c, struct tf_file *f)
{
	return c && f ? f->path : NULL;
}

/* Finish f; its path goes to *keep when keep is not NULL, else is freed.
 * When it is written later and late is not NULL, *late gets a reference to
 * the outcome (store_late_outcome). */
static int file_finish(struct tf_ctx *c, struct tf_file *f, char **keep, void **late)
{
	int rc = 0, later = 0;
	if (f->reserved && !f->path && !f->failed)
		file_fail(c, f, "name", ENOMEM);   /* its name was lost */
	if (f->reserved && !f->failed && store_writes_later(c->h->store)) {
		/* never created: a detached job creates and writes it */
		uint8_t *copy = f->blen ? malloc(f->blen) : NULL;
		if (copy)
			memcpy(copy, f->buf, f->blen);
		if ((copy || !f->blen) &&
		    store_write_file_later(c->h->store, f->path, copy, f->blen, late) == 0) {
			later = 1;
			f->blen = 0;
		} else {
			free(copy);     /* no memory for it: written now, below */
		}
	}
	if (f->reserved && !later && !f->failed && !f->blen)
		file_create_now(c, f);   /* empty: created now (else by file_flush) */
	rc = file_flush(c, f);
	if (f->failed && rc == 0)
		rc = -EIO;
	if (f->fd >= 0 && close(f->fd) < 0 && rc == 0)
		rc = -errno;
	if (f->buf && c->h->nspare < HOST_SPARE_BUFFERS)
		c->h->spare[c->h->nspare++] = f->buf;
	else
		free(f->buf);
	if (keep && !(f->failed && f->reserved))   /* not when it was never created */
		*keep = f->path;
	else
		free(f->path);
	free(f);
	return rc;
}

static int host_file_close(struct tf_ctx *c, struct tf_file *f)
{
	if (!c || !f)
		return -EINVAL;
	return file_finish(c, f, NULL, NULL);
}

/* ---- derived objects -------------------------------------------------------------------- */

/* The file of e (written after its close) holds all of e: 1 or 0; e's
 * reference to the outcome is dropped. 1 when there is no such file. */
static int late_file_ok(struct tf_entry *e)
{
	if (!e->late)
		return 1;
	uint64_t disk;
	int ok = store_late_outcome(e->late, &disk) == 0 && disk == e->len;
	e->late = NULL;
	return ok;
}

static void entry_free(struct tf_entry *e)
{
	late_file_ok(e);
	ops_free(&e->ops);
	free(e->path);
	free(e->parent_name);
	free(e->block);
	free(e->runs);
	free(e->holes);
	free(e->holders);
	free(e);
}

/* Copy an object's type, producer and metadata into e, in one block: an
 * entry per HTTP header and body, so a malloc per string added up. */
static int entry_strings(struct tf_entry *e, const struct tf_object_desc *d, const char *producer)
{
	size_t lt = strlen(d->type) + 1, lp = strlen(producer) + 1;
	size_t need = d->nmeta * sizeof *e->meta + lt + lp;
	for (size_t i = 0; i < d->nmeta; i++)
		need += strlen(d->meta[i].key) + strlen(d->meta[i].value) + 2;
	char *b = malloc(need);
	if (!b)
		return -ENOMEM;
	struct tf_kv *kv = (struct tf_kv *)(void *)b;
	char *p = b + d->nmeta * sizeof *kv;
	for (size_t i = 0; i < d->nmeta; i++) {
		size_t lk = strlen(d->meta[i].key) + 1, lv = strlen(d->meta[i].value) + 1;
		kv[i].key = memcpy(p, d->meta[i].key, lk);
		p += lk;
		kv[i].value = memcpy(p, d->meta[i].value, lv);
		p += lv;
	}
	e->type = memcpy(p, d->type, lt);
	p += lt;
	e->producer = memcpy(p, producer, lp);
	e->block = b;
	e->meta = d->nmeta ? kv : NULL;
	e->nmeta = d->nmeta;
	return 0;
}

static void write_object_entry(struct report *r, struct tf_entry *e)
{
	report_start_element(r, "fileobject");
	if (late_file_ok(e) && e->path)
		report_element(r, "filename", e->path);
	report_element_u64(r, "filesize", e->len);
	report_start_element(r, "derived");
	report_attribute(r, "type", e->type);
	report_attribute(r, "producer", e->producer);
	if (e->parent_name && *e->parent_name)
		report_attribute(r, "parent", e->parent_name);
	report_attribute_u64(r, "depth", e->depth);
	for (size_t i = 0; i < e->nmeta; i++) {
		report_start_element(r, "meta");
		report_attribute(r, "name", e->meta[i].key);
		report_attribute(r, "value", e->meta[i].value);
		report_end_element(r);
	}
	report_end_element(r);
	if (e->nruns) {
		report_start_element(r, "byte_runs");
		for (size_t i = 0; i < e->nruns; i++) {
			report_start_element(r, "byte_run");
			report_attribute_u64(r, "offset", e->runs[i].offset);
			report_attribute_u64(r, "file_offset", e->runs[i].parent_offset);
			report_attribute_u64(r, "len", e->runs[i].len);
			report_end_element(r);
		}
		report_end_element(r);
	}
	if (e->nholes) {
		report_start_element(r, "gaps");
		for (size_t i = 0; i < e->nholes; i++) {
			report_start_element(r, "gap");
			report_attribute_u64(r, "offset", e->holes[i].offset);
			report_attribute_u64(r, "len", e->holes[i].len);
			report_end_element(r);
		}
		report_end_element(r);
	}
	ops_replay(r, &e->ops);
	report_end_element(r);
}

/* ABI 1.2: copy the runs and gaps of a descriptor (when its size covers
 * them) into e, checked against the content's length: every range inside
 * [0, len), runs in object order and gaps sorted, none overlapping. */
static int copy_ranges(struct tf_entry *e, const struct tf_object_desc *d, uint64_t len)
{
	if (!TF_HAS(d, struct tf_object_desc, ngaps))
		return 0;
	if ((d->nruns && !d->runs) || (d->ngaps && !d->gaps))
		return -EINVAL;
	if (d->nruns > TF_MAX_RUNS || d->ngaps > TF_MAX_RUNS)
		return -E2BIG;
	uint64_t end = 0;
	for (size_t i = 0; i < d->nruns; i++) {
		const struct tf_run *r = &d->runs[i];
		if (r->offset < end || r->len > len || r->offset > len - r->len ||
		    r->parent_offset > UINT64_MAX - r->len)
			return -EINVAL;
		end = r->offset + r->len;
	}
	end = 0;
	for (size_t i = 0; i < d->ngaps; i++) {
		const struct tf_gap *g = &d->gaps[i];
		if (g->offset < end || g->len > len || g->offset > len - g->len)
			return -EINVAL;
		end = g->offset + g->len;
	}
	if (d->nruns) {
		if (!(e->runs = malloc(d->nruns * sizeof *e->runs)))
			return -ENOMEM;
		memcpy(e->runs, d->runs, d->nruns * sizeof *e->runs);
		e->nruns = d->nruns;
	}
	if (d->ngaps) {
		if (!(e->holes = malloc(d->ngaps * sizeof *e->holes)))
			return -ENOMEM;
		memcpy(e->holes, d->gaps, d->ngaps * sizeof *e->holes);
		e->nholes = d->ngaps;
	}
	return 0;
}

/* report_defer's function: an object's entry, then it is freed. */
static void object_entry_out(struct report *r, void *arg)
{
	struct tf_entry *e = arg;
	if (r)
		write_object_entry(r, e);
	entry_free(e);
}

/* report_flow_defer's inner function: a flow's elements from the scanners. */
static void flow_ops_out(struct report *r, void *arg)
{
	struct host_ops *ops = arg;
	if (!ops)
		return;
	ops_replay(r, ops);
	ops_free(ops);
	free(ops);
}

/* The scanners' elements of a flow, taken out of hf (NULL when there are
 * none, hf is NULL or there is no memory to move them), for flow_ops_out. */
static struct host_ops *flow_ops_take(struct host_flow *hf)
{
	struct host_ops *ops = NULL;
	if (hf && hf->entry.ops.n && (ops = malloc(sizeof *ops))) {
		*ops = hf->entry.ops;
		memset(&hf->entry.ops, 0, sizeof hf->entry.ops);
	} else if (hf) {
		ops_replay(NULL, &hf->entry.ops);   /* no memory: without them */
	}
	return ops;
}

static void flow_free(struct host_flow *hf)
{
	ops_free(&hf->entry.ops);
	free(hf->entry.holders);
	report_flow_free(hf->rf);
	free(hf);
}

/* Write the entries of objects whose dispatch is over, and of flows closed
 * with their entry held, in order, up to the first one a scanner still
 * holds (all of them once the scanners are shut down). They are formatted
 * on the report's writer thread: an entry per HTTP header and body made
 * that a sixth of the packet loop. */
static void flush_pending(struct scanner_host *h)
{
	while (h->pend_head && (!h->pend_head->nholders || h->stopped)) {
		struct tf_entry *e = h->pend_head;
		h->pend_head = e->next;
		if (e->kind == ENTRY_FLOW) {
			struct host_flow *hf = e->flow;
			if (h->report && hf->rf) {
				report_flow_defer_copy(h->report, hf->rf, flow_ops_out,
						       flow_ops_take(hf));
				hf->rf = NULL;   /* the report's now */
			}
			flow_free(hf);
		} else if (h->report) {
			report_defer(h->report, object_entry_out, e);
		} else {
			entry_free(e);
		}
	}
	if (!h->pend_head)
		h->pend_tail = NULL;
}

/* Does c hold e? Its index in e->holders, or -1. */
static ptrdiff_t holder_index(const struct tf_entry *e, const struct tf_ctx *c)
{
	for (size_t i = 0; i < e->nholders; i++)
		if (e->holders[i] == c)
			return (ptrdiff_t)i;
	return -1;
}

static int host_entry_hold(struct tf_ctx *c, struct tf_entry *e)
{
	if (!c || !e || holder_index(e, c) >= 0)
		return -EINVAL;
	/* an object being dispatched, or (ABI 1.4) a flow being closed */
	if (e->kind == ENTRY_OBJECT ? !e->obj : !e->flow->closing)
		return -EINVAL;
	if (!c->h->report)
		return -ENOTSUP;     /* the entry is not kept at all */
	struct tf_ctx **v = realloc(e->holders, (e->nholders + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	e->holders = v;
	e->holders[e->nholders++] = c;
	return 0;
}

static int host_entry_release(struct tf_ctx *c, struct tf_entry *e)
{
	struct scanner_host *h = c ? c->h : NULL;
	if (!h || !e)
		return -EINVAL;
	/* only an entry on the pending list can be held: look for it there, so
	 * a stale handle is refused rather than followed */
	struct tf_entry *p = h->pend_head;
	while (p && p != e)
		p = p->next;
	ptrdiff_t i = p ? holder_index(e, c) : -1;
	if (i < 0)
		return -EINVAL;
	e->holders[i] = e->holders[--e->nholders];
	if (!e->nholders && e == h->pend_head && !h->nesting && !h->closing)
		flush_pending(h);
	return 0;
}

static int host_emit(struct tf_ctx *c, struct tf_entry *parent, const struct tf_object_desc *d)
{
	if (!c || !d || d->size < offsetof(struct tf_object_desc, file) + sizeof d->file)
		return -EINVAL;
	struct scanner_host *h = c->h;
	struct tf_file *file = d->file;
	struct tf_file *kept = NULL;   /* emitted from its buffer, closed at the end */
	struct tf_entry *e = NULL;
	void *map = NULL;
	uint64_t len = 0;
	int rc = 0;
	if (!name_ok(d->type, HOST_MAX_NAME) || (d->nmeta && !d->meta) || d->nmeta > HOST_MAX_META ||
	    (!file && d->len && !d->data) || (parent && parent->kind == ENTRY_OBJECT && !parent->obj) ||
	    (parent && parent->kind == ENTRY_FLOW && !parent->flow->tf)) {
		rc = -EINVAL;
		goto out;
	}
	for (size_t i = 0; i < d->nmeta; i++) {
		if (!xml_name_ok(d->meta[i].key) || !d->meta[i].value) {
			rc = -EINVAL;
			goto out;
		}
	}
	uint32_t depth = parent ? parent->depth + 1 : 1;
	uint64_t limit = h->cfg->max_object_depth ? h->cfg->max_object_depth : 8;
	if (depth > limit) {
		if (!c->warned_depth++)
			tf_logf(&host_table, c, TF_LOG_WARN, "object '%s' not emitted: objects are "
				"derived at most %llu deep (-S max_object_depth)", d->type,
				(unsigned long long)limit);
		rc = -ELOOP;
		goto out;
	}
	if (!(e = calloc(1, sizeof *e)) || entry_strings(e, d, c->d.name) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	e->kind = ENTRY_OBJECT;
	e->depth = depth;
	const struct tf_flow *flow = NULL;
	const struct tf_object *up = NULL;
	if (parent && parent->kind == ENTRY_FLOW) {
		flow = &parent->flow->pub;
	} else if (parent) {
		up = parent->obj;
		flow = up->flow;
	}

	rc = copy_ranges(e, d, file ? file->size : d->len);
	if (rc < 0)
		goto out;
	const uint8_t *data = d->data;
	len = d->len;
	if (file) {
		len = file->size;
		data = NULL;
		if (len && file->blen == len && !file->failed) {
			/* all of it still in the buffer: the scanners read it there,
			 * and it goes to the disk when the file is closed */
			data = file->buf;
			kept = file;
		} else if (len) {
			if (file_flush(c, file) < 0) {
				rc = -EIO;
				goto out;
			}
			map = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, file->fd, 0);
			if (map == MAP_FAILED) {
				map = NULL;
				rc = -errno;
				tf_logf(&host_table, c, TF_LOG_WARN, "cannot map %s: %s",
					file->path ? file->path : "a temporary file", strerror(-rc));
				goto out;
			}
			data = map;
		}
		if (kept) {
			/* a kept file keeps a copy of its name for its late writing */
			e->path = file->path;
			file->path = e->path ? strdup(e->path) : NULL;
		} else {
			file_finish(c, file, &e->path, NULL);   /* written already */
		}
		file = NULL;
	} else if (d->suffix && !(parent && files_off(h))) {
		int err = 0;
		struct tf_file *f = file_create(c, parent, d->suffix, &err);
		if (!f && err == EINVAL) {
			rc = -EINVAL;
			goto out;
		}
		if (f) {
			int wrc = host_file_write(c, f, data, (size_t)len);
			file_finish(c, f, wrc == 0 ? &e->path : NULL, h->report ? &e->late : NULL);
		}
	}
	e->len = len;
	/* after the content: writing beside a flow may have created its file.
	 * The flow's name as its <filename> has it (also without files). */
	if (parent && !(e->parent_name = dup_str(parent->kind == ENTRY_FLOW ?
						 parent->flow->tf->file.path : parent->path))) {
		rc = -ENOMEM;
		goto out;
	}
	struct tf_object obj = {
		.size = sizeof obj,
		.depth = depth,
		.type = e->type,
		.meta = e->meta,
		.nmeta = e->nmeta,
		.data = len ? data : NULL,
		.len = len,
		.path = e->path,
		.producer = e->producer,
		.flow = flow,
		.parent = up,
		.entry = e,
		.runs = e->runs,
		.nruns = e->nruns,
		.gaps = e->holes,
		.ngaps = e->nholes,
	};
	e->obj = &obj;
	if (h->report) {
		/* reserve its place now: an object comes before what is derived from it */
		if (h->pend_tail)
			h->pend_tail->next = e;
		else
			h->pend_head = e;
		h->pend_tail = e;
	}
	h->nesting++;
	for (size_t i = 0; i < h->non; i++) {
		struct tf_ctx *s = h->on[i];
		/* not to one already shut down (an object emitted from a later
		 * scanner's shutdown): its state is gone */
		if (s->d.on_object && s->started) {
			s->d.on_object(s, s->state, &obj);
			after_call(s);
		}
	}
	h->nesting--;
	e->obj = NULL;
	if (kept) {
		/* before the entry can be written: it tells how the file went */
		char *name = NULL;
		int existed = !kept->reserved;
		file_finish(c, kept, &name, h->report ? &e->late : NULL);
		kept = NULL;
		if (!name && !existed) {   /* never created: no file to name */
			free(e->path);
			e->path = NULL;
		}
		free(name);
	}
	if (h->report) {
		e = NULL;   /* owned by the pending list now */
		if (!h->nesting && !h->closing)
			flush_pending(h);
	}
out:
	if (file)
		host_file_close(c, file);
	if (kept)
		host_file_close(c, kept);
	if (map)
		munmap(map, (size_t)len);
	if (e)
		entry_free(e);
	return rc;
}

/* ---- flows ---------------------------------------------------------------------------------- */

static size_t bucket_of(const struct scanner_host *h, uint64_t key)
{
	return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (h->nbuckets - 1);
}

static struct host_flow *flow_find(const struct scanner_host *h, uint64_t key)
{
	if (!h->nbuckets)
		return NULL;
	struct host_flow *f = h->buckets[bucket_of(h, key)];
	while (f && f->key != key)
		f = f->hnext;
	return f;
}

static int flow_insert(struct scanner_host *h, struct host_flow *f)
{
	if (h->nflows >= h->nbuckets) {
		size_t n = h->nbuckets ? h->nbuckets * 2 : 256;
		struct host_flow **nb = calloc(n, sizeof *nb);
		if (!nb)
			return -1;
		size_t old = h->nbuckets;
		struct host_flow **ob = h->buckets;
		h->buckets = nb;
		h->nbuckets = n;
		for (size_t i = 0; i < old; i++) {
			while (ob[i]) {
				struct host_flow *x = ob[i];
				ob[i] = x->hnext;
				size_t b = bucket_of(h, x->key);
				x->hnext = nb[b];
				nb[b] = x;
			}
		}
		free(ob);
	}
	size_t b = bucket_of(h, f->key);
	f->hnext = h->buckets[b];
	h->buckets[b] = f;
	h->nflows++;
	return 0;
}

static void flow_unlink(struct scanner_host *h, struct host_flow *f)
{
	struct host_flow **pp = &h->buckets[bucket_of(h, f->key)];
	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = f->hnext;
		h->nflows--;
	}
}

static void addr_copy(struct tf_ip_addr *d, const struct tf_addr *s)
{
	d->family = s->family;
	memcpy(d->bytes, s->bytes, sizeof d->bytes);
}

static void flow_refresh(const struct scanner_host *h, struct host_flow *hf)
{
	const struct tcp_flow *f = hf->tf;
	hf->pub.path = files_off(h) ? NULL : f->file.path;
	hf->pub.packets = f->packets;
	hf->pub.last_sec = f->last_sec;
	hf->pub.last_usec = f->last_usec;
	hf->pub.connection_count = f->file.connection_count;
	hf->pub.file_size = f->file.size;
}

static struct host_flow *flow_open(struct scanner_host *h, struct tcp_flow *f)
{
	struct host_flow *hf = calloc(1, sizeof *hf + h->nstreams * sizeof hf->fstate[0]);
	if (!hf)
		return NULL;
	const struct flow_ident *id = &f->file.id;
	hf->key = id->flow_number;
	hf->tf = f;
	hf->entry.kind = ENTRY_FLOW;
	hf->entry.flow = hf;
	struct tf_flow *p = &hf->pub;
	p->size = sizeof *p;
	p->id = id->flow_number;
	p->session_id = id->session_id;
	addr_copy(&p->src, &id->src);
	addr_copy(&p->dst, &id->dst);
	p->sport = id->sport;
	p->dport = id->dport;
	p->has_vlan = id->has_vlan;
	p->vlan = id->vlan;
	p->first_sec = id->first_sec;
	p->first_usec = id->first_usec;
	p->entry = &hf->entry;
	flow_refresh(h, hf);
	if (flow_insert(h, hf) < 0) {
		free(hf);
		return NULL;
	}
	for (size_t i = 0; i < h->nstreams; i++) {
		struct tf_ctx *s = h->streams[i];
		if (s->d.on_flow_open) {
			s->d.on_flow_open(s, s->state, p, &hf->fstate[i]);
			after_call(s);
		}
	}
	return hf;
}

void scanner_host_data(struct scanner_host *h, struct tcp_flow *f, uint64_t off,
		       const uint8_t *data, uint32_t len)
{
	if (!h || !h->nstreams)
		return;
	struct host_flow *hf = flow_find(h, f->file.id.flow_number);
	if (!hf && !(hf = flow_open(h, f)))
		return;
	hf->delivered += len;
	flow_refresh(h, hf);
	hf->pub.length = off + len;
	for (size_t i = 0; i < h->nstreams; i++) {
		struct tf_ctx *s = h->streams[i];
		if (s->d.on_data) {
			s->d.on_data(s, s->state, &hf->pub, &hf->fstate[i], off, data, len);
			after_call(s);
		}
	}
}

void scanner_host_gap(struct scanner_host *h, struct tcp_flow *f, uint64_t off, uint64_t len)
{
	if (!h || !h->nstreams)
		return;
	struct host_flow *hf = flow_find(h, f->file.id.flow_number);
	if (!hf && !(hf = flow_open(h, f)))
		return;
	hf->announced += len;
	flow_refresh(h, hf);
	hf->pub.length = off + len;
	for (size_t i = 0; i < h->nstreams; i++) {
		struct tf_ctx *s = h->streams[i];
		if (s->d.on_gap) {
			s->d.on_gap(s, s->state, &hf->pub, &hf->fstate[i], off, len);
			after_call(s);
		}
	}
}

/* Did the data and gap events describe the file byte for byte? Late bytes
 * filling a hole shrink the holes below what was announced; bytes placed in
 * front move next_off past what was delivered; -b or a failed write leave
 * the file shorter. */
static int flow_exact(const struct host_flow *hf)
{
	const struct tcp_flow *f = hf->tf;
	uint64_t holes = 0;
	for (uint32_t i = 0; i < f->nholes; i++)
		holes += f->holes[i].len;
	return !f->file.failed && hf->delivered + hf->announced == f->next_off &&
	       holes == hf->announced && f->file.size == f->next_off;
}

int scanner_host_flow_close(struct scanner_host *h, struct tcp_flow *f,
			    const struct report_flow *rf)
{
	int rc = 0;
	struct host_flow *hf = flow_find(h, f->file.id.flow_number);
	if (!hf && rf && h->nstreams)
		hf = flow_open(h, f);
	struct tf_entry *before = h->pend_tail;   /* a waiting entry goes after these */
	if (hf) {
		flow_refresh(h, hf);
		hf->pub.length = f->next_off;
		hf->pub.flags = flow_exact(hf) ? 0 : TF_FLOW_REWRITTEN;
		if (f->nholes > h->gapcap) {
			struct tf_gap *g = realloc(h->gaps, f->nholes * sizeof *g);
			if (g) {
				h->gaps = g;
				h->gapcap = f->nholes;
			}
		}
		hf->pub.ngaps = f->nholes <= h->gapcap ? f->nholes : 0;
		for (uint32_t i = 0; i < hf->pub.ngaps; i++) {
			h->gaps[i].offset = f->holes[i].off;
			h->gaps[i].len = f->holes[i].len;
		}
		hf->pub.gaps = hf->pub.ngaps ? h->gaps : NULL;
		h->closing++;
		hf->closing = 1;
		for (size_t i = 0; i < h->nstreams; i++) {
			struct tf_ctx *s = h->streams[i];
			if (s->d.on_flow_close) {
				s->d.on_flow_close(s, s->state, &hf->pub, &hf->fstate[i]);
				after_call(s);
			}
		}
		hf->closing = 0;
		h->closing--;
	}
	/* Held (ABI 1.4), or entries are waiting: the flow's entry joins them,
	 * before the objects derived during the close (where it would be
	 * written now), so the entries keep the order of emissions and closes.
	 * The host_flow goes with it, without its tcp_flow. */
	if ((hf && hf->entry.nholders) || (rf && h->report && h->pend_head)) {
		if (!hf && (hf = calloc(1, sizeof *hf))) {
			hf->entry.kind = ENTRY_FLOW;
			hf->entry.flow = hf;
		} else if (hf) {
			flow_unlink(h, hf);
		}
		if (hf) {
			hf->rf = rf && h->report ? report_flow_copy(rf) : NULL;
			if (rf && h->report && !hf->rf)
				report_flow_drop(rf);   /* no memory: no entry */
			hf->tf = NULL;
			hf->pub.path = NULL;
			struct tf_entry *e = &hf->entry;
			e->next = before ? before->next : h->pend_head;
			if (before)
				before->next = e;
			else
				h->pend_head = e;
			if (h->pend_tail == before)
				h->pend_tail = e;
			hf = NULL;
			rf = NULL;
		}
	}
	if (rf && h->report)
		rc = report_flow_defer(h->report, rf, flow_ops_out, flow_ops_take(hf));
	if (hf) {
		flow_unlink(h, hf);
		flow_free(hf);
	}
	if (!h->nesting && !h->closing)
		flush_pending(h);
	return rc;
}

/* ---- packets -------------------------------------------------------------------------------- */

void scanner_host_packet(struct scanner_host *h, const struct pkt *p, int decode_rc)
{
	if (!h || !h->want_packets)
		return;
	struct tf_packet tp;
	memset(&tp, 0, sizeof tp);
	tp.size = sizeof tp;
	tp.ts_sec = p->ts_sec;
	tp.ts_usec = p->ts_usec;
	tp.linktype = p->dlt;
	tp.caplen = p->caplen;
	tp.wirelen = p->wirelen;
	tp.frame = p->frame;
	tp.input_index = p->input_index;
	tp.has_vlan = p->has_vlan;
	tp.vlan = p->vlan;
	if (decode_rc == DECODE_OK || decode_rc == DECODE_NOT_TCP || decode_rc == DECODE_FRAGMENT) {
		tp.flags |= TF_PACKET_IP;
		addr_copy(&tp.src, &p->src);
		addr_copy(&tp.dst, &p->dst);
		tp.ip_proto = p->ip_proto;
	}
	/* ip.c fills sport and dport for UDP too */
	if (decode_rc == DECODE_NOT_TCP && p->ip_proto == 17) {
		tp.flags |= TF_PACKET_PORTS;
		tp.sport = p->sport;
		tp.dport = p->dport;
	}
	if (decode_rc == DECODE_OK) {
		tp.flags |= TF_PACKET_TCP | TF_PACKET_PORTS;
		tp.sport = p->sport;
		tp.dport = p->dport;
		tp.seq = p->seq;
		tp.ack = p->ack;
		tp.tcp_flags = p->tcp_flags;
		tp.payload = p->payload;
		tp.payload_len = p->payload_len;
	}
	for (size_t i = 0; i < h->non; i++) {
		struct tf_ctx *s = h->on[i];
		if (s->d.on_packet) {
			s->d.on_packet(s, s->state, &tp);
			after_call(s);
		}
	}
}

/* ---- idle (live capture) ------------------------------------------------------------------ */

void scanner_host_idle(struct scanner_host *h)
{
	if (!h || h->shut)
		return;
	for (size_t i = 0; i < h->non; i++) {
		struct tf_ctx *s = h->on[i];
		if (s->d.on_idle) {
			s->d.on_idle(s, s->state);
			after_call(s);
		}
	}
	if (!h->nesting && !h->closing)
		flush_pending(h);
}

/* ---- the end ---------------------------------------------------------------------------------- */

void scanner_host_shutdown(struct scanner_host *h)
{
	if (!h || h->shut)
		return;
	h->shut = 1;
	stop_started(h);
	h->stopped = 1;          /* what is still held goes out now */
	flush_pending(h);
}

void scanner_host_free(struct scanner_host *h)
{
	if (!h)
		return;
	if (!h->shut) {
		h->report = NULL;   /* the report may be gone: only free the scanners' state */
		scanner_host_shutdown(h);
	}
	flush_pending(h);
	for (size_t i = 0; i < h->nbuckets; i++) {
		while (h->buckets[i]) {
			struct host_flow *f = h->buckets[i];
			h->buckets[i] = f->hnext;
			flow_free(f);
		}
	}
	free(h->buckets);
	for (size_t i = 0; i < h->nsc; i++)
		ctx_free(h->sc[i]);
	free(h->sc);
	free(h->on);
	free(h->streams);
	free(h->req_file);
	free(h->gaps);
	while (h->nspare)
		free(h->spare[--h->nspare]);
	for (size_t i = 0; i < h->ndirs; i++)
		free(h->dirs[i]);
	free(h->dirs);
	free(h);
}

static int host_files_later(struct tf_ctx *c)
{
	if (!c || !c->in_init)
		return -EINVAL;
	c->files_later = 1;
	return 0;
}

static int host_files_sync(struct tf_ctx *c)
{
	if (c && c->h->store)
		store_sync(c->h->store);
	return 0;
}

int scanner_host_files_may_lag(const struct scanner_host *h)
{
	for (size_t i = 0; i < h->non; i++)
		if (!h->on[i]->files_later)
			return 0;
	return 1;
}

static const struct tf_host host_table = {
	.size = sizeof(struct tf_host),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.tcpflow_version = PACKAGE_VERSION,
	.log = host_log,
	.get_param = host_get_param,
	.report_start = host_report_start,
	.report_attr = host_report_attr,
	.report_text = host_report_text,
	.report_end = host_report_end,
	.report_element = host_report_element,
	.file_open = host_file_open,
	.file_write = host_file_write,
	.file_path = host_file_path,
	.file_close = host_file_close,
	.emit_object = host_emit,
	.input_name = host_input_name,
	.entry_hold = host_entry_hold,
	.entry_release = host_entry_release,
	.files_later = host_files_later,
	.files_sync = host_files_sync,
};
