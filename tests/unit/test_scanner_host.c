/* Unit tests for core/scanner_host.c with scanners registered from this file
 * (no dlopen; the e2e test loads real shared objects): descriptor checks,
 * request handling, init failures, dispatch order, flow state, the
 * TF_FLOW_REWRITTEN decision, derived objects and their depth limit, the
 * report entries, an object's runs and gaps (ABI 1.2), -Z, held entries
 * (ABI 1.3), idle calls and held flow entries (ABI 1.4). */
#include "scanner_host.h"
#include "stats.h"
#include "tcpflow/scanner.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct tf_host *host;
static char events[4096];

static void note(const char *fmt, const char *a, unsigned long long n)
{
	size_t o = strlen(events);
	snprintf(events + o, sizeof events - o, fmt, a, n);
}

/* ---- descriptors -------------------------------------------------------------- */

#define DESC(var, nm)                                    \
	static struct tf_scanner var = {                 \
		.size = sizeof(struct tf_scanner),       \
		.abi_major = TF_ABI_MAJOR,               \
		.abi_minor = TF_ABI_MINOR,               \
		.name = nm,                              \
		.version = "1",                          \
		.description = "test",                   \
	}

DESC(d_plain, "plain");
DESC(d_major2, "major2");
DESC(d_small, "small");
DESC(d_newer, "newer");
DESC(d_core, "tcp_timeout");
DESC(d_badname, "bad/name");
DESC(d_dup_param, "dupparam");
DESC(d_alpha, "alpha");
DESC(d_beta, "beta");
DESC(d_failing, "failing");

static const struct tf_param alpha_params[] = {
	{ "alpha_mode", "slow", "how" },
	{ NULL, NULL, NULL },
};
static const struct tf_param dup_params[] = {
	{ "alpha_mode", "x", "taken" },
	{ NULL, NULL, NULL },
};

static const struct tf_scanner *e_plain(const struct tf_host *h) { host = h; return &d_plain; }
static const struct tf_scanner *e_null(const struct tf_host *h) { host = h; return NULL; }
static const struct tf_scanner *e_major2(const struct tf_host *h) { (void)h; return &d_major2; }
static const struct tf_scanner *e_small(const struct tf_host *h) { (void)h; return &d_small; }
static const struct tf_scanner *e_newer(const struct tf_host *h) { (void)h; return &d_newer; }
static const struct tf_scanner *e_core(const struct tf_host *h) { (void)h; return &d_core; }
static const struct tf_scanner *e_badname(const struct tf_host *h) { (void)h; return &d_badname; }
static const struct tf_scanner *e_dup_param(const struct tf_host *h) { (void)h; return &d_dup_param; }
static const struct tf_scanner *e_alpha(const struct tf_host *h) { host = h; return &d_alpha; }
static const struct tf_scanner *e_beta(const struct tf_host *h) { host = h; return &d_beta; }
static const struct tf_scanner *e_failing(const struct tf_host *h) { host = h; return &d_failing; }

static struct tf_config cfg;
static char err[1024];

static void setup(void)
{
	memset(&cfg, 0, sizeof cfg);
	cfg.outdir = "/tmp";
	cfg.quiet = 1;
	cfg.no_files = 1;
	cfg.max_object_depth = 3;
	events[0] = '\0';
	err[0] = '\0';
	d_major2.abi_major = 2;
	d_major2.abi_minor = 0;      /* "ABI 2.0" in the message, whatever our minor */
	d_small.size = 24;
	d_newer.abi_minor = TF_ABI_MINOR + 1;
	d_alpha.params = alpha_params;
	d_dup_param.params = dup_params;
}

START_TEST(descriptor_checks)
{
	struct scanner_host *h = scanner_host_new(&cfg);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(scanner_host_add(h, e_plain, "plain.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_add(h, e_alpha, "alpha.so", 1, err, sizeof err), 0);

	ck_assert_int_eq(scanner_host_add(h, e_null, "null.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "null.so: "));
	ck_assert_ptr_nonnull(strstr(err, "no descriptor"));

	ck_assert_int_eq(scanner_host_add(h, e_major2, "m2.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "m2.so: "));
	ck_assert_ptr_nonnull(strstr(err, "ABI 2.0"));

	ck_assert_int_eq(scanner_host_add(h, e_small, "small.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "small.so: "));
	ck_assert_ptr_nonnull(strstr(err, "24 bytes, too small"));

	ck_assert_int_eq(scanner_host_add(h, e_newer, "newer.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "newer than"));

	ck_assert_int_eq(scanner_host_add(h, e_plain, "again.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "again.so: "));
	ck_assert_ptr_nonnull(strstr(err, "'plain' is already taken by plain.so"));

	ck_assert_int_eq(scanner_host_add(h, e_core, "core.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "is a core setting"));

	ck_assert_int_eq(scanner_host_add(h, e_badname, "bad.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "invalid scanner name"));

	ck_assert_int_eq(scanner_host_add(h, e_dup_param, "dp.so", 0, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "'alpha_mode' is already declared by scanner 'alpha'"));

	ck_assert_uint_eq(scanner_host_enabled(h), 0);
	scanner_host_free(h);
}
END_TEST

static struct scanner_request reqs[8];

static void set_req(size_t i, enum scanner_op op, const char *name, const char *value)
{
	reqs[i].op = op;
	reqs[i].name = name ? strdup(name) : NULL;
	reqs[i].value = value;
	reqs[i].option = op == SCANNER_PARAM ? "-S" : "-e";
}

static void free_reqs(void)
{
	for (size_t i = 0; i < 8; i++) {
		free(reqs[i].name);
		reqs[i].name = NULL;
	}
}

/* Build a host with plain (built-in), alpha (not) and beta, applying n requests. */
static struct scanner_host *host_with(size_t n, int *rc)
{
	cfg.scanner_reqs = reqs;
	cfg.nscanner_reqs = n;
	struct scanner_host *h = scanner_host_new(&cfg);
	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(scanner_host_add(h, e_plain, "plain.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_add(h, e_alpha, "alpha.so", 0, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_add(h, e_beta, "beta.so", 1, err, sizeof err), 0);
	*rc = scanner_host_apply(h, err, sizeof err);
	return h;
}

/* A started host with n scanners, each enabled by name, writing to rep
 * (may be NULL). Free the requests with free_reqs. */
static struct scanner_host *started_host(struct report *rep, size_t n,
					 const scanner_host_entry_fn *entry, const char *const *name)
{
	for (size_t i = 0; i < n; i++)
		set_req(i, SCANNER_ENABLE, name[i], NULL);
	cfg.scanner_reqs = reqs;
	cfg.nscanner_reqs = n;
	struct scanner_host *h = scanner_host_new(&cfg);
	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(scanner_host_add(h, entry[i], name[i], 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_apply(h, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_start(h, err, sizeof err), 0);
	scanner_host_attach(h, rep, NULL);
	return h;
}

START_TEST(requests)
{
	int rc;
	struct scanner_host *h;

	set_req(0, SCANNER_ENABLE, "nosuch", NULL);
	h = host_with(1, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err, "-e nosuch: unknown scanner (known: alpha, beta, plain)");
	scanner_host_free(h);
	free_reqs();

	set_req(0, SCANNER_PARAM, "nosuch_param", "1");
	h = host_with(1, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(strstr(err, "-S nosuch_param=1: unknown"));
	ck_assert_ptr_nonnull(strstr(err, "tcp_timeout"));
	ck_assert_ptr_nonnull(strstr(err, "alpha_mode"));
	scanner_host_free(h);
	free_reqs();

	/* -a enables the built-in ones only; -x after it wins; -E keeps one */
	set_req(0, SCANNER_ALL, NULL, NULL);
	set_req(1, SCANNER_DISABLE, "beta", NULL);
	h = host_with(2, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(scanner_host_enabled(h), 1);   /* plain */
	scanner_host_free(h);
	free_reqs();

	set_req(0, SCANNER_ALL, NULL, NULL);
	set_req(1, SCANNER_ENABLE, "alpha", NULL);
	set_req(2, SCANNER_ONLY, "alpha", NULL);
	set_req(3, SCANNER_PARAM, "alpha_mode", "fast");
	h = host_with(4, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(scanner_host_enabled(h), 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	scanner_host_list(h, out);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "alpha 1 [enabled]"));
	ck_assert_ptr_nonnull(strstr(buf, "-S alpha_mode=fast"));
	ck_assert_ptr_nonnull(strstr(buf, "(default: 'slow')"));
	ck_assert_ptr_nonnull(strstr(buf, "plain 1 (built-in)\n"));
	free(buf);
	scanner_host_free(h);
	free_reqs();
}
END_TEST

/* ---- a failing init ------------------------------------------------------------- */

static int started_plain;

static int plain_init(struct tf_ctx *ctx, void **state)
{
	(void)ctx;
	(void)state;
	started_plain = 1;
	return 0;
}

static void plain_shutdown(struct tf_ctx *ctx, void *state)
{
	(void)ctx;
	(void)state;
	started_plain = 0;
}

static int failing_init(struct tf_ctx *ctx, void **state)
{
	(void)state;
	host->log(ctx, TF_LOG_ERROR, "the frobnicator is missing\n");
	return -ENOENT;
}

START_TEST(init_failure)
{
	d_plain.init = plain_init;
	d_plain.shutdown = plain_shutdown;
	d_failing.init = failing_init;
	set_req(0, SCANNER_ENABLE, "plain", NULL);
	set_req(1, SCANNER_ENABLE, "failing", NULL);
	cfg.scanner_reqs = reqs;
	cfg.nscanner_reqs = 2;
	struct scanner_host *h = scanner_host_new(&cfg);
	ck_assert_int_eq(scanner_host_add(h, e_plain, "plain.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_add(h, e_failing, "/x/failing.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_apply(h, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_start(h, err, sizeof err), -1);
	ck_assert_str_eq(err, "/x/failing.so: scanner failing: init failed: the frobnicator is missing");
	/* "failing" sorts before "plain": plain never started; had it, it was stopped */
	ck_assert_int_eq(started_plain, 0);
	scanner_host_free(h);
	free_reqs();
	d_plain.init = NULL;
	d_plain.shutdown = NULL;
}
END_TEST

/* ---- files written later (ABI 1.5) ------------------------------------------------- */

static int later_rc;
static struct tf_ctx *later_ctx;

static int later_init(struct tf_ctx *ctx, void **state)
{
	(void)state;
	later_ctx = ctx;
	later_rc = host->files_later(ctx);
	return 0;
}

/* Files may come after their events only when every started scanner said
 * so in its init; outside init the call is refused. */
START_TEST(files_later_when_all_say_so)
{
	static const scanner_host_entry_fn both[] = { e_alpha, e_beta };
	static const char *const names[] = { "alpha", "beta" };
	d_alpha.init = later_init;
	later_rc = 1;
	struct scanner_host *h = started_host(NULL, 1, both, names);
	ck_assert_int_eq(later_rc, 0);
	ck_assert_int_eq(scanner_host_files_may_lag(h), 1);
	ck_assert_int_eq(host->files_later(later_ctx), -EINVAL);   /* not in init */
	scanner_host_free(h);
	free_reqs();
	/* beta does not say so */
	h = started_host(NULL, 2, both, names);
	ck_assert_int_eq(scanner_host_files_may_lag(h), 0);
	scanner_host_free(h);
	free_reqs();
	d_alpha.init = NULL;
}
END_TEST

/* ---- events, objects, report ------------------------------------------------------ */

static unsigned last_flags;
static int loop_rc;

static void alpha_open(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs)
{
	(void)ctx;
	(void)state;
	ck_assert_ptr_null(*fs);
	*fs = malloc(1);
	note("alpha:open:%s%llu ", "", (unsigned long long)flow->id);
}

static void alpha_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs,
		       uint64_t off, const uint8_t *data, size_t len)
{
	(void)state;
	(void)data;
	ck_assert_ptr_nonnull(*fs);
	note("alpha:data:%s%llu ", "", (unsigned long long)off);
	if (off == 0 && len) {
		static const struct tf_kv meta[] = { { "content-type", "text/plain" } };
		struct tf_object_desc d = {
			.size = sizeof d, .type = "thing", .meta = meta, .nmeta = 1,
			.data = (const uint8_t *)"abc", .len = 3, .suffix = "-THING",
		};
		ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), 0);
		d.type = "bad type";
		ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), -EINVAL);
	}
}

static void alpha_gap(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs,
		      uint64_t off, uint64_t len)
{
	(void)ctx;
	(void)state;
	(void)flow;
	(void)fs;
	note("alpha:gap:%s%llu ", "", (unsigned long long)(off * 100 + len));
}

static void alpha_close(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs)
{
	(void)state;
	last_flags = flow->flags;
	note("alpha:close:%s%llu ", "", (unsigned long long)flow->id);
	ck_assert_int_eq(host->report_start(ctx, flow->entry, "alpha_seen"), 0);
	ck_assert_int_eq(host->report_attr(ctx, flow->entry, "n", "1"), 0);
	ck_assert_int_eq(host->report_attr(ctx, flow->entry, "n", "2"), -EINVAL);
	ck_assert_int_eq(host->report_text(ctx, flow->entry, "yes"), 0);
	ck_assert_int_eq(host->report_attr(ctx, flow->entry, "late", "1"), -EINVAL);
	ck_assert_int_eq(host->report_end(ctx, flow->entry), 0);
	ck_assert_int_eq(host->report_end(ctx, flow->entry), -EINVAL);
	ck_assert_int_eq(host->report_start(ctx, flow->entry, "1bad"), -EINVAL);
	/* left open on purpose: the host closes it */
	ck_assert_int_eq(host->report_start(ctx, flow->entry, "unclosed"), 0);
	free(*fs);
	*fs = NULL;
}

static void beta_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	(void)state;
	note("beta:object:%s:%llu ", obj->type, (unsigned long long)obj->depth);
	ck_assert_ptr_nonnull(obj->flow);
	ck_assert_uint_eq(obj->len, 3);
	ck_assert_int_eq(memcmp(obj->data, "abc", 3), 0);
	ck_assert_ptr_null(obj->path);   /* -FX */
	if (obj->depth == 1) {
		ck_assert_str_eq(obj->producer, "alpha");
		ck_assert_uint_eq(obj->nmeta, 1);
		ck_assert_str_eq(obj->meta[0].key, "content-type");
		ck_assert_ptr_null(obj->parent);
	} else {
		ck_assert_ptr_nonnull(obj->parent);
		ck_assert_uint_eq(obj->parent->depth, obj->depth - 1);
	}
	host->report_element(ctx, obj->entry, "beta_saw", obj->type);
	struct tf_object_desc d = {
		.size = sizeof d, .type = "child", .data = obj->data, .len = obj->len,
	};
	int rc = host->emit_object(ctx, obj->entry, &d);
	if (obj->depth == 3)
		loop_rc = rc;
	else
		ck_assert_int_eq(rc, 0);
}

static void beta_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs,
		      uint64_t off, const uint8_t *data, size_t len)
{
	(void)ctx;
	(void)state;
	(void)flow;
	(void)fs;
	(void)data;
	(void)len;
	note("beta:data:%s%llu ", "", (unsigned long long)off);
}

static void beta_shutdown(struct tf_ctx *ctx, void *state)
{
	(void)state;
	host->report_start(ctx, NULL, "beta_summary");
	host->report_attr(ctx, NULL, "ok", "1");
	/* not closed: closed when shutdown returns */
}

/* A report.xml in a new directory made from dir ("...XXXXXX"); its path
 * goes to rpath. */
static struct report *temp_report(char *dir, char *rpath, size_t len)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(rpath, len, "%s/report.xml", dir);
	char *argv[] = { (char *)"tcpflow", NULL };
	struct report *rep = report_open(rpath, 1, argv, err, sizeof err);
	ck_assert_ptr_nonnull(rep);
	return rep;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void fake_flow(struct tcp_flow *f, uint64_t number, const char *path)
{
	memset(f, 0, sizeof *f);
	f->file.id.flow_number = number;
	f->file.id.src.family = f->file.id.dst.family = 4;
	f->file.id.sport = 1234;
	f->file.id.dport = 80;
	f->file.path = (char *)path;
	f->file.fd = -1;
}

START_TEST(events_objects_report)
{
	d_alpha.on_flow_open = alpha_open;
	d_alpha.on_data = alpha_data;
	d_alpha.on_gap = alpha_gap;
	d_alpha.on_flow_close = alpha_close;
	d_beta.on_object = beta_object;
	d_beta.on_data = beta_data;
	d_beta.shutdown = beta_shutdown;

	char dir[] = "/tmp/test_scanner_host.XXXXXX", rpath[64];
	struct report *rep = temp_report(dir, rpath, sizeof rpath);

	set_req(0, SCANNER_ENABLE, "beta", NULL);   /* registered first, dispatched second */
	set_req(1, SCANNER_ENABLE, "alpha", NULL);
	cfg.scanner_reqs = reqs;
	cfg.nscanner_reqs = 2;
	struct scanner_host *h = scanner_host_new(&cfg);
	ck_assert_int_eq(scanner_host_add(h, e_beta, "beta.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_add(h, e_alpha, "alpha.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_apply(h, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_start(h, err, sizeof err), 0);
	scanner_host_attach(h, rep, NULL);
	ck_assert_uint_eq(scanner_host_wants(h), SCANNER_HOST_WANTS_STREAMS);

	/* flow 7: 5 bytes, a 3-byte hole, 2 bytes; the file agrees: exact */
	struct tcp_flow f;
	struct tcp_hole hole = { 5, 3 };
	fake_flow(&f, 7, "out/flow7");
	scanner_host_data(h, &f, 0, (const uint8_t *)"hello", 5);
	scanner_host_gap(h, &f, 5, 3);
	scanner_host_data(h, &f, 8, (const uint8_t *)"xy", 2);
	ck_assert_str_eq(events, "alpha:open:7 alpha:data:0 beta:object:thing:1 "
			 "beta:object:child:2 beta:object:child:3 beta:data:0 alpha:gap:503 "
			 "alpha:data:8 beta:data:8 ");
	ck_assert_int_eq(loop_rc, -ELOOP);
	f.next_off = 10;
	f.file.size = 10;
	f.holes = &hole;
	f.nholes = 1;
	struct report_flow rf;
	memset(&rf, 0, sizeof rf);
	rf.filename = "out/flow7";
	rf.filesize = 10;
	rf.src.family = rf.dst.family = 4;
	ck_assert_int_eq(scanner_host_flow_close(h, &f, &rf), 0);
	ck_assert_uint_eq(last_flags, 0);

	/* flow 8: the same events, but late bytes filled the hole: rewritten */
	fake_flow(&f, 8, "out/flow8");
	scanner_host_data(h, &f, 0, (const uint8_t *)"", 0);
	scanner_host_gap(h, &f, 0, 3);
	scanner_host_data(h, &f, 3, (const uint8_t *)"xy", 2);
	f.next_off = 5;
	f.file.size = 5;
	rf.filename = "out/flow8";
	ck_assert_int_eq(scanner_host_flow_close(h, &f, &rf), 0);
	ck_assert_uint_eq(last_flags, TF_FLOW_REWRITTEN);

	/* flow 9: -b cut the file */
	fake_flow(&f, 9, "out/flow9");
	scanner_host_data(h, &f, 0, (const uint8_t *)"abcdef", 6);
	f.next_off = 6;
	f.file.size = 4;
	ck_assert_int_eq(scanner_host_flow_close(h, &f, NULL), 0);
	ck_assert_uint_eq(last_flags, TF_FLOW_REWRITTEN);

	scanner_host_shutdown(h);
	ck_assert_int_eq(report_close(rep), 0);
	scanner_host_free(h);
	free_reqs();

	const char *x = slurp(rpath);
	const char *obj1 = strstr(x, "<derived type='thing' producer='alpha' parent='out/flow7' depth='1'>");
	ck_assert_ptr_nonnull(obj1);
	ck_assert_ptr_nonnull(strstr(obj1, "<meta name='content-type' value='text/plain'/>"));
	const char *obj2 = strstr(x, "<derived type='child' producer='beta' depth='2'/>");
	const char *obj3 = strstr(x, "<derived type='child' producer='beta' depth='3'/>");
	const char *flow7 = strstr(x, "<filename>out/flow7</filename>");
	const char *seen = strstr(x, "<alpha_seen n='1'>yes</alpha_seen>");
	const char *unclosed = strstr(x, "<unclosed/>");
	const char *summary = strstr(x, "<beta_summary ok='1'/>");
	ck_assert_ptr_nonnull(obj2);
	ck_assert_ptr_nonnull(obj3);
	ck_assert_ptr_nonnull(flow7);
	ck_assert_ptr_nonnull(seen);
	ck_assert_ptr_nonnull(unclosed);
	ck_assert_ptr_nonnull(summary);
	/* objects in emission order, written when their dispatch ended, before
	 * the still-open flow's entry; the flow's elements inside its entry */
	ck_assert(obj1 < obj2 && obj2 < obj3 && obj3 < flow7 && flow7 < seen && seen < unclosed);
	ck_assert(unclosed < strstr(x, "<filename>out/flow8</filename>"));
	ck_assert(strstr(x, "<filename>out/flow8</filename>") < summary);
	ck_assert_ptr_nonnull(strstr(x, "<beta_saw>thing</beta_saw>"));
	ck_assert_ptr_null(strstr(x, "<filename>out/flow9</filename>"));

	unlink(rpath);
	rmdir(dir);
	memset(&d_alpha.on_flow_open, 0, sizeof(struct tf_scanner) - offsetof(struct tf_scanner, on_flow_open));
	d_beta.on_object = NULL;
	d_beta.on_data = NULL;
	d_beta.shutdown = NULL;
}
END_TEST

/* ---- ABI 1.2: an object's runs and gaps; -Z ----------------------------------------- */

DESC(d_rng, "rng");
DESC(d_gz, "gzip");
static const struct tf_scanner *e_rng(const struct tf_host *h) { host = h; return &d_rng; }
static const struct tf_scanner *e_gz(const struct tf_host *h) { host = h; return &d_gz; }
static size_t seen_runs, seen_gaps, seen_objects;

static void rng_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	(void)ctx;
	(void)state;
	ck_assert(TF_HAS(obj, struct tf_object, ngaps));
	seen_objects++;
	seen_runs += obj->nruns;
	seen_gaps += obj->ngaps;
	if (obj->nruns) {
		ck_assert_uint_eq(obj->runs[1].parent_offset, 110);
		ck_assert_uint_eq(obj->gaps[0].offset, 4);
	}
}

static void rng_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs,
		     uint64_t off, const uint8_t *data, size_t len)
{
	static const struct tf_run runs[] = { { 0, 100, 4 }, { 6, 110, 2 } };
	static const struct tf_gap gaps[] = { { 4, 2 } };
	static const struct tf_run past[] = { { 6, 0, 3 } };
	static const struct tf_run unordered[] = { { 4, 0, 2 }, { 0, 0, 2 } };
	static const struct tf_gap overlap[] = { { 0, 4 }, { 2, 2 } };
	(void)state;
	(void)fs;
	(void)data;
	(void)len;
	if (off != 0)
		return;
	struct tf_object_desc d = {
		.size = sizeof d, .type = "piece", .data = (const uint8_t *)"abcd\0\0gh", .len = 8,
		.runs = runs, .nruns = 2, .gaps = gaps, .ngaps = 1,
	};
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), 0);
	/* a run past the end, runs out of order, overlapping gaps: refused */
	d.runs = past;
	d.nruns = 1;
	d.gaps = NULL;
	d.ngaps = 0;
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), -EINVAL);
	d.runs = unordered;
	d.nruns = 2;
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), -EINVAL);
	d.runs = NULL;
	d.nruns = 0;
	d.gaps = overlap;
	d.ngaps = 2;
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), -EINVAL);
	d.nruns = TF_MAX_RUNS + 1;
	d.runs = runs;
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), -E2BIG);
	/* an older scanner's descriptor ends before the ranges: none read */
	d.size = offsetof(struct tf_object_desc, runs);
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), 0);
	ck_assert_str_eq(host->get_param(ctx, "decompress"), cfg.no_decompress ? "no" : "yes");
}

START_TEST(object_ranges)
{
	d_rng.on_data = rng_data;
	d_rng.on_object = rng_object;
	char dir[] = "/tmp/test_scanner_host.XXXXXX", rpath[64];
	struct report *rep = temp_report(dir, rpath, sizeof rpath);

	/* -Z: gzip stays off whatever asked for it */
	cfg.no_decompress = 1;
	set_req(0, SCANNER_ENABLE, "gzip", NULL);
	set_req(1, SCANNER_ENABLE, "rng", NULL);
	set_req(2, SCANNER_ALL, NULL, NULL);
	cfg.scanner_reqs = reqs;
	cfg.nscanner_reqs = 3;
	struct scanner_host *h = scanner_host_new(&cfg);
	ck_assert_int_eq(scanner_host_add(h, e_gz, "gzip.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_add(h, e_rng, "rng.so", 1, err, sizeof err), 0);
	ck_assert_int_eq(scanner_host_apply(h, err, sizeof err), 0);
	ck_assert_uint_eq(scanner_host_enabled(h), 1);
	ck_assert_int_eq(scanner_host_start(h, err, sizeof err), 0);
	scanner_host_attach(h, rep, NULL);

	struct tcp_flow f;
	fake_flow(&f, 3, "out/flow3");
	seen_runs = seen_gaps = seen_objects = 0;
	scanner_host_data(h, &f, 0, (const uint8_t *)"x", 1);
	ck_assert_uint_eq(seen_objects, 2);
	ck_assert_uint_eq(seen_runs, 2);
	ck_assert_uint_eq(seen_gaps, 1);
	f.next_off = 1;
	f.file.size = 1;
	ck_assert_int_eq(scanner_host_flow_close(h, &f, NULL), 0);
	scanner_host_shutdown(h);
	ck_assert_int_eq(report_close(rep), 0);
	scanner_host_free(h);
	free_reqs();

	const char *x = slurp(rpath);
	const char *runs = strstr(x, "<byte_runs>\n      <byte_run offset='0' file_offset='100' "
				  "len='4'/>\n      <byte_run offset='6' file_offset='110' len='2'/>\n"
				  "    </byte_runs>");
	ck_assert_ptr_nonnull(runs);
	ck_assert_ptr_nonnull(strstr(runs, "<gaps>\n      <gap offset='4' len='2'/>\n    </gaps>"));
	unlink(rpath);
	rmdir(dir);
	d_rng.on_data = NULL;
	d_rng.on_object = NULL;
}
END_TEST

/* ---- ABI 1.3: held entries --------------------------------------------------------- */

DESC(d_holder, "holder");
static const struct tf_scanner *e_holder(const struct tf_host *h) { host = h; return &d_holder; }
static struct tf_entry *held_one, *held_three;
static int hold_rc;

static void holder_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs,
			uint64_t off, const uint8_t *data, size_t len)
{
	(void)state;
	(void)fs;
	(void)off;
	(void)data;
	(void)len;
	/* only an object's entry, during its on_object */
	ck_assert_int_eq(host->entry_hold(ctx, flow->entry), -EINVAL);
	static const char *const types[] = { "one", "two", "three" };
	for (int i = 0; i < 3; i++) {
		struct tf_object_desc d = { .size = sizeof d, .type = types[i],
					    .data = (const uint8_t *)"abc", .len = 3 };
		ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), 0);
	}
	if (held_one)
		ck_assert_int_eq(host->entry_hold(ctx, held_one), -EINVAL);   /* dispatch over */
}

static void holder_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	(void)state;
	if (!strcmp(obj->type, "two"))
		return;
	hold_rc = host->entry_hold(ctx, obj->entry);
	if (hold_rc < 0)
		return;
	ck_assert_int_eq(host->entry_hold(ctx, obj->entry), -EINVAL);         /* held already */
	if (!strcmp(obj->type, "one"))
		held_one = obj->entry;
	else
		held_three = obj->entry;
}

static void holder_close(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs)
{
	(void)state;
	(void)fs;
	ck_assert_int_eq(host->entry_release(ctx, flow->entry), -EINVAL);    /* not held */
	if (!held_one)
		return;
	ck_assert_int_eq(host->report_element(ctx, held_one, "late", "1"), 0);
	ck_assert_int_eq(host->entry_release(ctx, held_one), 0);
	ck_assert_int_eq(host->entry_release(ctx, held_one), -EINVAL);       /* gone */
	held_one = NULL;
}

static void holder_shutdown(struct tf_ctx *ctx, void *state)
{
	(void)state;
	/* three is still held: the host writes it once the scanners are down */
	if (held_three)
		ck_assert_int_eq(host->report_element(ctx, held_three, "at_shutdown", NULL), 0);
}

/* The report's <fileobject> entries, one letter each in order: F for the
 * flow, else the first letter of the object's type ("one" -> o). */
static void entry_order(const char *x, char *out, size_t len)
{
	size_t n = 0;
	for (const char *p = strstr(x, "<fileobject>"); p && n + 1 < len;
	     p = strstr(p + 1, "<fileobject>")) {
		const char *next = strstr(p + 1, "<fileobject>");
		const char *t = strstr(p, "<derived type='");
		out[n++] = t && (!next || t < next) ? t[15] : 'F';
	}
	out[n] = '\0';
}

START_TEST(held_entries)
{
	d_holder.on_data = holder_data;
	d_holder.on_object = holder_object;
	d_holder.on_flow_close = holder_close;
	d_holder.shutdown = holder_shutdown;
	char dir[] = "/tmp/test_scanner_host.XXXXXX", rpath[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(rpath, sizeof rpath, "%s/report.xml", dir);
	for (int with_report = 1; with_report >= 0; with_report--) {
		char *argv[] = { (char *)"tcpflow", NULL };
		struct report *rep = with_report ? report_open(rpath, 1, argv, err, sizeof err) : NULL;
		ck_assert(!with_report || rep);
		const scanner_host_entry_fn entry[] = { e_holder };
		const char *const name[] = { "holder" };
		struct scanner_host *h = started_host(rep, 1, entry, name);
		held_one = held_three = NULL;
		hold_rc = 1;

		struct tcp_flow f;
		fake_flow(&f, 4, "out/flow4");
		scanner_host_data(h, &f, 0, (const uint8_t *)"x", 1);
		ck_assert_int_eq(hold_rc, with_report ? 0 : -ENOTSUP);
		f.next_off = 1;
		f.file.size = 1;
		struct report_flow rf;
		memset(&rf, 0, sizeof rf);
		rf.filename = "out/flow4";
		rf.src.family = rf.dst.family = 4;
		ck_assert_int_eq(scanner_host_flow_close(h, &f, &rf), 0);
		scanner_host_shutdown(h);
		scanner_host_free(h);
		free_reqs();
		if (!rep)
			continue;
		ck_assert_int_eq(report_close(rep), 0);
		const char *x = slurp(rpath);
		/* The objects come before the flow, as they were emitted before
		 * its close: "two", never held, waited for "one" (released at the
		 * flow's close), and the flow's entry waited for "three" (held
		 * until shutdown). */
		char order[8];
		entry_order(x, order, sizeof order);
		ck_assert_str_eq(order, "ottF");
		const char *one = strstr(x, "<derived type='one'");
		const char *two = strstr(x, "<derived type='two'");
		const char *three = strstr(x, "<derived type='three'");
		ck_assert_ptr_nonnull(one);
		ck_assert_ptr_nonnull(two);
		ck_assert_ptr_nonnull(three);
		const char *late = strstr(x, "<late>1</late>");
		ck_assert(late && late > one && late < two);
		const char *at_shutdown = strstr(x, "<at_shutdown/>");
		ck_assert(at_shutdown && at_shutdown > three);
		unlink(rpath);
	}
	rmdir(dir);
	memset(&d_holder.init, 0, sizeof d_holder - offsetof(struct tf_scanner, init));
}
END_TEST

/* ---- ABI 1.4: idle --------------------------------------------------------------------- */

DESC(d_idler, "idler");
DESC(d_older, "older");
static const struct tf_scanner *e_idler(const struct tf_host *h) { host = h; return &d_idler; }
static const struct tf_scanner *e_older(const struct tf_host *h) { host = h; return &d_older; }
static struct tf_entry *idler_held;
static int idler_idles, older_idles;

static void idler_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs,
		       uint64_t off, const uint8_t *data, size_t len)
{
	(void)state;
	(void)fs;
	(void)off;
	(void)data;
	(void)len;
	static const char *const types[] = { "big", "small" };
	for (int i = 0; i < 2; i++) {
		struct tf_object_desc d = { .size = sizeof d, .type = types[i],
					    .data = (const uint8_t *)"abc", .len = 3 };
		ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), 0);
	}
}

static void idler_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	(void)state;
	if (!strcmp(obj->type, "big")) {
		ck_assert_int_eq(host->entry_hold(ctx, obj->entry), 0);
		idler_held = obj->entry;
	}
}

static void idler_idle(struct tf_ctx *ctx, void *state)
{
	(void)state;
	idler_idles++;
	if (!idler_held)
		return;
	ck_assert_int_eq(host->report_element(ctx, idler_held, "when", "idle"), 0);
	ck_assert_int_eq(host->entry_release(ctx, idler_held), 0);
	idler_held = NULL;
}

static void older_idle(struct tf_ctx *ctx, void *state)
{
	(void)ctx;
	(void)state;
	older_idles++;
}

/* A held entry, and the entry emitted after it, reach the report when the
 * host says the capture is idle; a descriptor of ABI 1.3's size has no
 * on_idle, whatever lies beyond its size. */
START_TEST(idle_releases)
{
	d_idler.on_data = idler_data;
	d_idler.on_object = idler_object;
	d_idler.on_idle = idler_idle;
	d_older.abi_minor = 3;
	d_older.size = offsetof(struct tf_scanner, on_idle);
	d_older.on_idle = older_idle;
	char dir[] = "/tmp/test_scanner_host.XXXXXX", rpath[64];
	struct report *rep = temp_report(dir, rpath, sizeof rpath);
	const scanner_host_entry_fn entry[] = { e_idler, e_older };
	const char *const name[] = { "idler", "older" };
	struct scanner_host *h = started_host(rep, 2, entry, name);
	idler_held = NULL;
	idler_idles = older_idles = 0;

	struct tcp_flow f;
	fake_flow(&f, 5, "out/flow5");
	scanner_host_data(h, &f, 0, (const uint8_t *)"x", 1);
	report_sync(rep);
	const char *x = slurp(rpath);
	ck_assert_ptr_null(strstr(x, "<derived type='big'"));
	ck_assert_ptr_null(strstr(x, "<derived type='small'"));   /* waits for big */

	scanner_host_idle(h);
	report_sync(rep);
	x = slurp(rpath);
	const char *big = strstr(x, "<derived type='big'");
	const char *when = strstr(x, "<when>idle</when>");
	const char *small = strstr(x, "<derived type='small'");
	ck_assert(big && when && small && big < when && when < small);
	ck_assert_int_eq(idler_idles, 1);
	ck_assert_int_eq(older_idles, 0);

	scanner_host_idle(h);          /* nothing held: nothing more */
	ck_assert_int_eq(idler_idles, 2);
	scanner_host_shutdown(h);
	scanner_host_idle(h);          /* after shutdown: not called */
	ck_assert_int_eq(idler_idles, 2);
	scanner_host_free(h);
	free_reqs();
	ck_assert_int_eq(report_close(rep), 0);
	unlink(rpath);
	rmdir(dir);
}
END_TEST

/* ---- ABI 1.4: a flow's entry held past its close ---------------------------------- */

DESC(d_fholder, "fholder");
static const struct tf_scanner *e_fholder(const struct tf_host *h) { host = h; return &d_fholder; }
static struct tf_entry *fheld;

static void fholder_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs,
			 uint64_t off, const uint8_t *data, size_t len)
{
	(void)state;
	(void)fs;
	(void)off;
	(void)data;
	(void)len;
	struct tf_object_desc d = { .size = sizeof d, .type = "before",
				    .data = (const uint8_t *)"abc", .len = 3 };
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), 0);
}

static void fholder_close(struct tf_ctx *ctx, void *state, const struct tf_flow *flow, void **fs)
{
	(void)state;
	(void)fs;
	if (flow->id != 6)
		return;                /* flow 7 is not held */
	ck_assert_int_eq(host->entry_hold(ctx, flow->entry), 0);
	ck_assert_int_eq(host->entry_hold(ctx, flow->entry), -EINVAL);    /* held already */
	fheld = flow->entry;
	struct tf_object_desc d = { .size = sizeof d, .type = "closing",
				    .data = (const uint8_t *)"abc", .len = 3 };
	ck_assert_int_eq(host->emit_object(ctx, flow->entry, &d), 0);
}

static void fholder_idle(struct tf_ctx *ctx, void *state)
{
	(void)state;
	if (!fheld)
		return;
	/* the flow is gone: its entry takes report calls only */
	struct tf_object_desc d = { .size = sizeof d, .type = "orphan",
				    .data = (const uint8_t *)"abc", .len = 3 };
	ck_assert_int_eq(host->emit_object(ctx, fheld, &d), -EINVAL);
	ck_assert_ptr_null(host->file_open(ctx, fheld, "-X"));
	ck_assert_int_eq(host->report_element(ctx, fheld, "late", "flow"), 0);
	ck_assert_int_eq(host->entry_release(ctx, fheld), 0);
	fheld = NULL;
}

/* A flow's entry held in on_flow_close waits, with every entry after it
 * (here an object derived during the close and a later flow), until it is
 * released; it keeps its place before the objects of its close. */
START_TEST(held_flow_entry)
{
	d_fholder.on_data = fholder_data;
	d_fholder.on_flow_close = fholder_close;
	d_fholder.on_idle = fholder_idle;
	char dir[] = "/tmp/test_scanner_host.XXXXXX", rpath[64];
	struct report *rep = temp_report(dir, rpath, sizeof rpath);
	const scanner_host_entry_fn entry[] = { e_fholder };
	const char *const name[] = { "fholder" };
	struct scanner_host *h = started_host(rep, 1, entry, name);
	fheld = NULL;

	struct tcp_flow f6, f7;
	struct report_flow rf;
	memset(&rf, 0, sizeof rf);
	rf.src.family = rf.dst.family = 4;
	fake_flow(&f6, 6, "out/flow6");
	fake_flow(&f7, 7, "out/flow7");
	scanner_host_data(h, &f6, 0, (const uint8_t *)"x", 1);
	f6.next_off = f6.file.size = 1;
	rf.filename = "out/flow6";
	ck_assert_int_eq(scanner_host_flow_close(h, &f6, &rf), 0);
	ck_assert_ptr_nonnull(fheld);
	rf.filename = "out/flow7";
	ck_assert_int_eq(scanner_host_flow_close(h, &f7, &rf), 0);
	report_sync(rep);
	char order[16];
	entry_order(slurp(rpath), order, sizeof order);
	ck_assert_str_eq(order, "b");        /* "before"; flow 6 waits, and all after it */

	scanner_host_idle(h);
	report_sync(rep);
	const char *x = slurp(rpath);
	entry_order(x, order, sizeof order);
	ck_assert_str_eq(order, "bFcF");     /* flow 6, "closing", flow 7 */
	const char *flow6 = strstr(x, "<filename>out/flow6</filename>");
	const char *late = strstr(x, "<late>flow</late>");
	const char *closing = strstr(x, "<derived type='closing'");
	ck_assert(flow6 && late && closing && flow6 < late && late < closing);
	ck_assert_ptr_null(strstr(x, "orphan"));
	scanner_host_shutdown(h);
	scanner_host_free(h);
	free_reqs();
	ck_assert_int_eq(report_close(rep), 0);
	unlink(rpath);
	rmdir(dir);
}
END_TEST

/* ---- objects emitted at shutdown -------------------------------------------------- */

DESC(d_early, "early");
DESC(d_late, "late");
static const struct tf_scanner *e_early(const struct tf_host *h) { host = h; return &d_early; }
static const struct tf_scanner *e_late(const struct tf_host *h) { host = h; return &d_late; }
static int early_down, early_after_down, late_seen;

static void early_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	(void)ctx;
	(void)state;
	(void)obj;
	early_after_down += early_down;
}

static void early_shutdown(struct tf_ctx *ctx, void *state)
{
	(void)ctx;
	(void)state;
	early_down = 1;
}

static void late_object(struct tf_ctx *ctx, void *state, const struct tf_object *obj)
{
	(void)ctx;
	(void)state;
	(void)obj;
	late_seen++;
}

static void late_shutdown(struct tf_ctx *ctx, void *state)
{
	(void)state;
	struct tf_object_desc d = { .size = sizeof d, .type = "summary",
				    .data = (const uint8_t *)"s", .len = 1 };
	ck_assert_int_eq(host->emit_object(ctx, NULL, &d), 0);
}

/* Scanners are shut down in dispatch order: an object a later one emits
 * from its shutdown reaches itself, but not the earlier ones, whose state
 * is gone. */
START_TEST(objects_at_shutdown)
{
	d_early.on_object = early_object;
	d_early.shutdown = early_shutdown;
	d_late.on_object = late_object;
	d_late.shutdown = late_shutdown;
	const scanner_host_entry_fn entry[] = { e_early, e_late };
	const char *const name[] = { "early", "late" };
	struct scanner_host *h = started_host(NULL, 2, entry, name);
	early_down = early_after_down = late_seen = 0;
	scanner_host_shutdown(h);
	ck_assert_int_eq(early_down, 1);
	ck_assert_int_eq(late_seen, 1);
	ck_assert_int_eq(early_after_down, 0);
	scanner_host_free(h);
	free_reqs();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scanner_host");
	TCase *tc = tcase_create("host");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, descriptor_checks);
	tcase_add_test(tc, requests);
	tcase_add_test(tc, init_failure);
	tcase_add_test(tc, events_objects_report);
	tcase_add_test(tc, object_ranges);
	tcase_add_test(tc, held_entries);
	tcase_add_test(tc, objects_at_shutdown);
	tcase_add_test(tc, idle_releases);
	tcase_add_test(tc, held_flow_entry);
	tcase_add_test(tc, files_later_when_all_say_so);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
