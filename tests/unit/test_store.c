/* Unit tests for core/store.c: name templates and path safety, buffered and
 * direct writes, holes, shifts, the descriptor cap, the buffer cap, file
 * times, name collisions and -FX. The file tests run twice: with every write
 * in the calling thread, and with full buffers written and new files created
 * by the background writer (core/writer.c). Everything is written under one temporary
 * directory, removed at the end. */
#include "store.h"
#include "stats.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char basedir[256];
static unsigned subdir_seq;
static int bg_writes;          /* stores opened by open_store use the writer thread */
static int reserve;            /* ... and reserve mode (files written after their close) */
static struct store *live_store;   /* open_store's, until free_store */

static void bg_on(void)
{
	bg_writes = 1;
}

static void reserve_on(void)
{
	bg_writes = 1;
	reserve = 1;
}

/* In reserve mode a file reaches the disk after its close: before a test
 * looks at files, they are all written. */
static void settle_files(void)
{
	if (live_store)
		store_sync(live_store);
}

static void free_store(struct store *s)
{
	if (s == live_store)
		live_store = NULL;
	store_free(s);
}

/* ---- temp dirs and files ----------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void base_setup(void)
{
	snprintf(basedir, sizeof basedir, "/tmp/tf-store-XXXXXX");
	if (!mkdtemp(basedir))
		abort();
}

static void base_teardown(void)
{
	rm_rf(basedir);
}

/* A fresh directory for one test (the test's own output dir). */
static void new_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/t%u-%ld", basedir, subdir_seq++, (long)getpid());
	ck_assert_int_eq(mkdir(buf, 0755), 0);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	settle_files();
	FILE *fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	uint8_t *b = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			b = realloc(b, cap);
			ck_assert_ptr_nonnull(b);
		}
		size_t r = fread(b + n, 1, cap - n, fp);
		if (!r)
			break;
		n += r;
	}
	fclose(fp);
	*len = n;
	return b;
}

static void check_file(const char *path, const uint8_t *want, size_t wantlen)
{
	size_t n;
	uint8_t *got = slurp(path, &n);
	ck_assert_msg(n == wantlen, "%s: %zu bytes, want %zu", path, n, wantlen);
	if (n && memcmp(got, want, n) != 0) {
		size_t i = 0;
		while (got[i] == want[i])
			i++;
		ck_abort_msg("%s: byte %zu is 0x%02x, want 0x%02x", path, i, got[i], want[i]);
	}
	free(got);
}

/* A file made by someone else than the store, holding text. */
static void put_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "cannot create %s", path);
	fputs(text, fp);
	fclose(fp);
}

static int count_entries(const char *dir)
{
	settle_files();
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int count_open_fds(void)
{
	return count_entries("/proc/self/fd");
}

static int exists(const char *path)
{
	settle_files();
	struct stat st;
	return lstat(path, &st) == 0;
}

/* byte i of test pattern k: never 0, so holes are told apart */
static uint8_t pat(unsigned k, uint64_t i)
{
	return (uint8_t)(1 + (i * 7 + k * 31 + (i >> 8)) % 251);
}

static void fill_pat(uint8_t *b, unsigned k, uint64_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pat(k, off + i);
}

/* ---- identities ----------------------------------------------------------------- */

static void ident_v4(struct flow_ident *id)
{
	memset(id, 0, sizeof *id);
	id->src.family = id->dst.family = 4;
	static const uint8_t a[4] = { 128, 129, 130, 131 }, b[4] = { 10, 11, 12, 13 };
	memcpy(id->src.bytes, a, 4);
	memcpy(id->dst.bytes, b, 4);
	id->sport = 2345;
	id->dport = 45103;
	id->first_sec = 1325542703;
	id->first_usec = 250000;
	id->session_id = 7;
	id->flow_number = 12;
}

static void ident_v6(struct flow_ident *id)
{
	memset(id, 0, sizeof *id);
	id->src.family = id->dst.family = 6;
	id->src.bytes[0] = 0x20;
	id->src.bytes[1] = 0x01;
	id->src.bytes[2] = 0x0d;
	id->src.bytes[3] = 0xb8;
	id->src.bytes[15] = 1;
	id->dst.bytes[0] = 0xfe;
	id->dst.bytes[1] = 0x80;
	id->dst.bytes[15] = 0x2a;
	id->sport = 80;
	id->dport = 65535;
}

#define DEFAULT_TMPL "%A.%a-%B.%b%V%v%C%c"
#define V4NAME "128.129.130.131.02345-010.011.012.013.45103"

static const char *expand(const char *tmpl, const struct flow_ident *id, uint32_t cc)
{
	static char buf[512];
	int rc = store_expand_name(tmpl, id, cc, buf, sizeof buf);
	ck_assert_msg(rc == 0, "expand '%s' -> %d", tmpl, rc);
	return buf;
}

/* ---- names ------------------------------------------------------------------------ */

START_TEST(name_default_v4)
{
	struct flow_ident id;
	ident_v4(&id);
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 0), V4NAME);
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 1), V4NAME "c0001");
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 5), V4NAME "c0005");
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 12345), V4NAME "c12345");
	id.has_vlan = 1;
	id.vlan = 100;
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 0), V4NAME "--100");
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 1), V4NAME "--100c0001");
	id.vlan = 0;
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 0), V4NAME "--0");
	/* small addresses and ports are zero padded */
	memset(id.src.bytes, 0, 4);
	id.src.bytes[3] = 1;
	id.sport = 0;
	id.dport = 7;
	id.has_vlan = 0;
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 0),
			 "000.000.000.001.00000-010.011.012.013.00007");
}
END_TEST

START_TEST(name_default_v6)
{
	struct flow_ident id;
	ident_v6(&id);
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 0), "2001:db8::1.00080-fe80::2a.65535");
	id.has_vlan = 1;
	id.vlan = 4095;
	ck_assert_str_eq(expand(DEFAULT_TMPL, &id, 2), "2001:db8::1.00080-fe80::2a.65535--4095c0002");
}
END_TEST

START_TEST(name_other_tokens)
{
	struct flow_ident id;
	ident_v4(&id);
	ck_assert_str_eq(expand("%T", &id, 0), "2012-01-02T22:18:23Z");
	ck_assert_str_eq(expand("%t", &id, 0), "1325542703");
	ck_assert_str_eq(expand("%tT%A", &id, 0), "1325542703T128.129.130.131");
	ck_assert_str_eq(expand("%S", &id, 0), "7");
	ck_assert_str_eq(expand("%#", &id, 0), "0");
	ck_assert_str_eq(expand("%#", &id, 3), "3");
}
END_TEST

START_TEST(name_tokens_more)
{
	struct flow_ident id;
	ident_v4(&id);
	id.flow_number = 1234567890123ull;
	ck_assert_str_eq(expand("%N", &id, 0), "123");
	ck_assert_str_eq(expand("%K", &id, 0), "890");
	ck_assert_str_eq(expand("%M", &id, 0), "567");
	ck_assert_str_eq(expand("%G", &id, 0), "234");
	id.flow_number = 5;
	ck_assert_str_eq(expand("%G/%M/%K/%N", &id, 0), "000/000/000/005");
	ck_assert_str_eq(expand("100%%", &id, 0), "100%");
	ck_assert_str_eq(expand("%%a", &id, 0), "%a");
	ck_assert_str_eq(expand("x%Z", &id, 0), "x%Z");      /* unknown token kept */
	ck_assert_str_eq(expand("x%", &id, 0), "x%");        /* lone % at the end */
	/* MACs only where the link has them */
	ck_assert_str_eq(expand("m%E%e", &id, 0), "m");
	id.has_mac = 1;
	static const uint8_t sm[6] = { 0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc };
	static const uint8_t dm[6] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	memcpy(id.src_mac, sm, 6);
	memcpy(id.dst_mac, dm, 6);
	ck_assert_str_eq(expand("%E-%e", &id, 0), "00:11:22:aa:bb:cc-de:ad:be:ef:00:01");
	/* %V%v without a VLAN is nothing */
	ck_assert_str_eq(expand("a%V%vb", &id, 0), "ab");
}
END_TEST

START_TEST(name_empty_and_overflow)
{
	struct flow_ident id;
	ident_v4(&id);
	char buf[64];
	ck_assert_int_eq(store_expand_name("%C%c", &id, 0, buf, sizeof buf), -EINVAL);
	ck_assert_int_eq(store_expand_name("", &id, 0, buf, sizeof buf), -EINVAL);
	ck_assert_int_eq(store_expand_name("/", &id, 0, buf, sizeof buf), -EINVAL);
	ck_assert_int_eq(store_expand_name("././/", &id, 0, buf, sizeof buf), -EINVAL);
	/* the default name is 43 bytes: 44 fits, 43 does not */
	ck_assert_int_eq(store_expand_name(DEFAULT_TMPL, &id, 0, buf, 44), 0);
	ck_assert_str_eq(buf, V4NAME);
	ck_assert_int_eq(store_expand_name(DEFAULT_TMPL, &id, 0, buf, 43), -ENAMETOOLONG);
	ck_assert_uint_lt(strlen(buf), 43);
}
END_TEST

START_TEST(name_path_safety)
{
	struct flow_ident id;
	ident_v4(&id);
	ck_assert_str_eq(expand("../x%a", &id, 0), "__/x02345");
	ck_assert_str_eq(expand("..", &id, 0), "__");
	ck_assert_str_eq(expand("/etc/passwd", &id, 0), "etc/passwd");
	ck_assert_str_eq(expand("///abs//x", &id, 0), "abs/x");
	ck_assert_str_eq(expand("a//b", &id, 0), "a/b");
	ck_assert_str_eq(expand("./a/./b/", &id, 0), "a/b");
	ck_assert_str_eq(expand("a/../../b", &id, 0), "a/__/__/b");
	ck_assert_str_eq(expand("...", &id, 0), "...");          /* a plain name */
	ck_assert_str_eq(expand("..x/x..", &id, 0), "..x/x..");
	ck_assert_str_eq(expand("a\x01" "b\x1f" "c\x7f" "d\te", &id, 0), "a_b_c_d_e");
	ck_assert_str_eq(expand("\xc3\xa9t\xc3\xa9", &id, 0), "\xc3\xa9t\xc3\xa9");  /* UTF-8 kept */
	ck_assert_str_eq(expand("%A/%B/%a", &id, 0),
			 "128.129.130.131/010.011.012.013/02345");
}
END_TEST

/* ---- a store in a fresh directory ---------------------------------------------- */

struct tstore {
	char dir[300];
	struct store *s;
};

static void open_store(struct tstore *ts, const char *tmpl, int max_fds, uint64_t max_buffered,
		       int no_files)
{
	new_dir(ts->dir, sizeof ts->dir);
	struct store_config cfg = {
		.outdir = ts->dir,
		.template_str = tmpl,
		.no_files = no_files,
		.max_fds = max_fds,
		.max_buffered = max_buffered,
		.background_writes = bg_writes,
		.create_ahead = bg_writes,
		.defer_files = reserve,
	};
	char err[256];
	ts->s = store_new(&cfg, err, sizeof err);
	ck_assert_msg(ts->s != NULL, "store_new: %s", err);
	live_store = ts->s;
}

static void path_in(char *buf, size_t len, const struct tstore *ts, const char *name)
{
	snprintf(buf, len, "%s/%s", ts->dir, name);
}

START_TEST(store_new_creates_parents)
{
	char dir[300], out[400], err[256];
	new_dir(dir, sizeof dir);
	snprintf(out, sizeof out, "%s/a/b/c", dir);
	struct store_config cfg = { .outdir = out };
	struct store *s = store_new(&cfg, err, sizeof err);
	ck_assert_ptr_nonnull(s);
	struct stat st;
	ck_assert_int_eq(stat(out, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	store_free(s);
	/* an existing directory is fine; a file in the way is an error */
	s = store_new(&cfg, err, sizeof err);
	ck_assert_ptr_nonnull(s);
	store_free(s);
	char file[420];
	snprintf(file, sizeof file, "%s/plain", dir);
	put_file(file, "");
	cfg.outdir = file;
	err[0] = 0;
	ck_assert_ptr_null(store_new(&cfg, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "output directory"));
	snprintf(out, sizeof out, "%s/plain/sub", dir);
	cfg.outdir = out;
	ck_assert_ptr_null(store_new(&cfg, err, sizeof err));
}
END_TEST

START_TEST(write_in_order)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ck_assert_int_eq(f.fd, -1);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"hello ", 6), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 6, (const uint8_t *)"world", 5), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 11, (const uint8_t *)"", 0), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 11, (const uint8_t *)"!", 1), 0);
	ck_assert_uint_eq(f.size, 12);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	ck_assert_int_eq(f.fd, -1);
	ck_assert_ptr_nonnull(f.path);
	char want[400];
	path_in(want, sizeof want, &ts, V4NAME);
	ck_assert_str_eq(f.path, want);
	ck_assert_str_eq(f.name, V4NAME);
	ck_assert_ptr_eq(f.name, f.path + strlen(ts.dir) + 1);
	ck_assert_uint_eq(f.connection_count, 0);
	ck_assert_uint_eq(f.size, 12);
	check_file(want, (const uint8_t *)"hello world!", 12);
	store_file_release(&f);
	ck_assert_ptr_null(f.path);
	ck_assert_int_eq(count_entries(ts.dir), 1);
	free_store(ts.s);
}
END_TEST

START_TEST(write_large_in_order)
{
	/* 3 MiB in uneven pieces: crosses the buffer size many times */
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	size_t total = 3u << 20;
	uint8_t *want = malloc(total);
	ck_assert_ptr_nonnull(want);
	fill_pat(want, 1, 0, total);
	size_t off = 0, step = 1;
	while (off < total) {
		size_t n = step;
		if (n > total - off)
			n = total - off;
		ck_assert_int_eq(store_write(ts.s, &f, off, want + off, (uint32_t)n), 0);
		off += n;
		step = step * 3 + 17;
		if (step > 300000)
			step = 1;
	}
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, want, total);
	store_file_release(&f);
	free(want);
	free_store(ts.s);
}
END_TEST

/* A write that fails in the background (the file size limit) fails the
 * file: its close reports it, once, with the path; the bytes written before
 * the limit are intact. */
START_TEST(background_write_error)
{
	enum { LIMIT = 300000, TOTAL = 1u << 20 };
	struct tstore ts;
	struct rlimit rl = { LIMIT, LIMIT };
	uint64_t errs0 = tf_stats.write_errors;

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	uint8_t *want = malloc(TOTAL);
	ck_assert_ptr_nonnull(want);
	fill_pat(want, 3, 0, TOTAL);
	int rc = 0;
	for (size_t off = 0; off < TOTAL && rc == 0; off += 1000) {
		size_t n = TOTAL - off < 1000 ? TOTAL - off : 1000;
		rc = store_write(ts.s, &f, off, want + off, (uint32_t)n);
	}
	if (rc == 0)
		rc = store_file_close(ts.s, &f);
	else
		store_file_close(ts.s, &f);
	ck_assert_int_eq(rc, -EFBIG);
	ck_assert_uint_eq(tf_stats.write_errors, errs0 + 1);
	ck_assert_ptr_nonnull(strstr(store_last_error(ts.s), "File too large"));
	ck_assert_ptr_nonnull(strstr(store_last_error(ts.s), f.path));
	check_file(f.path, want, LIMIT);
	store_file_release(&f);
	free(want);
	free_store(ts.s);
}
END_TEST

static unsigned created_calls;
static char created_last[512];

static void count_created(void *arg, const struct store_file *f)
{
	(void)arg;
	created_calls++;
	snprintf(created_last, sizeof created_last, "%s", f->path);
}

/* With the writer threads, a flow's file is created when its first bytes
 * arrive, before anything is flushed; the store takes it over at the first
 * operation that needs it, and on_create is called then, once. */
START_TEST(background_create_ahead)
{
	struct tstore ts;
	new_dir(ts.dir, sizeof ts.dir);
	struct store_config cfg = {
		.outdir = ts.dir, .background_writes = 1, .create_ahead = 1,
		.on_create = count_created,
	};
	char err[256];
	ts.s = store_new(&cfg, err, sizeof err);
	ck_assert_msg(ts.s != NULL, "store_new: %s", err);
	created_calls = 0;
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"early", 5), 0);
	char want[400];
	path_in(want, sizeof want, &ts, V4NAME);
	struct stat st;
	int tries = 0;
	while (stat(want, &st) < 0 && tries++ < 2000)
		usleep(1000);
	ck_assert_int_eq(stat(want, &st), 0);         /* created, nothing written yet */
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_ptr_null(f.path);
	ck_assert_uint_eq(created_calls, 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	ck_assert_str_eq(f.path, want);
	ck_assert_uint_eq(created_calls, 1);
	ck_assert_str_eq(created_last, want);
	check_file(want, (const uint8_t *)"early", 5);
	store_file_release(&f);
	free_store(ts.s);

	/* without create_ahead the file appears at the first flush, here the close */
	new_dir(ts.dir, sizeof ts.dir);
	cfg.outdir = ts.dir;
	cfg.create_ahead = 0;
	ts.s = store_new(&cfg, err, sizeof err);
	ck_assert_msg(ts.s != NULL, "store_new: %s", err);
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"late", 4), 0);
	usleep(100000);
	ck_assert_int_eq(count_entries(ts.dir), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	ck_assert_int_eq(count_entries(ts.dir), 1);
	check_file(f.path, (const uint8_t *)"late", 4);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

/* More flows at once than files are created ahead, under a small descriptor
 * cap and a buffer cap that makes buffers go to disk early: every file gets
 * its name and bytes, the cap holds throughout. */
START_TEST(background_create_many)
{
	enum { NF = 150, CAP = 8 };
	struct tstore ts;
	open_store(&ts, "f%S", CAP, 64 * 1024, 0);
	struct store_file *fs = calloc(NF, sizeof *fs);
	ck_assert_ptr_nonnull(fs);
	int base_fds = count_open_fds();
	uint64_t errs0 = tf_stats.write_errors;
	uint8_t piece[100];
	for (unsigned i = 0; i < NF; i++) {
		store_file_init(&fs[i]);
		ident_v4(&fs[i].id);
		fs[i].id.session_id = i;
		fill_pat(piece, i, 0, sizeof piece);
		ck_assert_int_eq(store_write(ts.s, &fs[i], 0, piece, sizeof piece), 0);
		ck_assert_int_le(count_open_fds(), base_fds + CAP);
	}
	for (unsigned i = NF; i-- > 0;) {
		fill_pat(piece, i, 100, sizeof piece);
		ck_assert_int_eq(store_write(ts.s, &fs[i], 100, piece, sizeof piece), 0);
		ck_assert_int_eq(store_file_close(ts.s, &fs[i]), 0);
		ck_assert_int_le(count_open_fds(), base_fds + CAP);
		char name[32];
		snprintf(name, sizeof name, "f%u", i);
		ck_assert_str_eq(fs[i].name, name);
		uint8_t want[200];
		fill_pat(want, i, 0, sizeof want);
		check_file(fs[i].path, want, sizeof want);
		store_file_release(&fs[i]);
	}
	ck_assert_int_eq(count_open_fds(), base_fds);
	ck_assert_int_eq(count_entries(ts.dir), NF);
	ck_assert_uint_eq(tf_stats.write_errors, errs0);
	free(fs);
	free_store(ts.s);
}
END_TEST

/* A creation that fails in the background fails the flow as it would have
 * in the packet loop: the same message, one write error. */
START_TEST(background_create_error)
{
	struct tstore ts;
	open_store(&ts, "d/%S", 0, 0, 0);
	char block[400];
	path_in(block, sizeof block, &ts, "d");
	put_file(block, "");                         /* a file where a directory goes */
	uint64_t errs0 = tf_stats.write_errors;
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"lost", 4), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), -ENOTDIR);
	ck_assert_uint_eq(tf_stats.write_errors, errs0 + 1);
	ck_assert_ptr_nonnull(strstr(store_last_error(ts.s), "cannot create"));
	ck_assert_ptr_nonnull(strstr(store_last_error(ts.s), "/d/"));
	ck_assert_ptr_nonnull(strstr(store_last_error(ts.s), "Not a directory"));
	ck_assert_int_eq(count_entries(ts.dir), 1);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

START_TEST(write_with_hole)
{
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"0123456789", 10), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 20, (const uint8_t *)"abcdefghij", 10), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 30, (const uint8_t *)"KLM", 3), 0);
	ck_assert_uint_eq(f.size, 33);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	uint8_t want[33];
	memcpy(want, "0123456789", 10);
	memset(want + 10, 0, 10);
	memcpy(want + 20, "abcdefghijKLM", 13);
	check_file(f.path, want, sizeof want);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

START_TEST(write_sparse_hole)
{
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	uint64_t gap = 16u << 20;
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"A", 1), 0);
	ck_assert_int_eq(store_write(ts.s, &f, gap, (const uint8_t *)"Z", 1), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	settle_files();
	struct stat st;
	ck_assert_int_eq(stat(f.path, &st), 0);
	ck_assert_int_eq(st.st_size, (off_t)gap + 1);
	ck_assert_msg((uint64_t)st.st_blocks * 512 < (1u << 20),
		      "hole not sparse: %lld blocks", (long long)st.st_blocks);
	int fd = open(f.path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	uint8_t b[3];
	ck_assert_int_eq(pread(fd, b, 1, 0), 1);
	ck_assert_uint_eq(b[0], 'A');
	ck_assert_int_eq(pread(fd, b, 3, (off_t)gap - 2), 3);
	ck_assert_uint_eq(b[0], 0);
	ck_assert_uint_eq(b[1], 0);
	ck_assert_uint_eq(b[2], 'Z');
	close(fd);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

START_TEST(write_late_bytes)
{
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"0123456789", 10), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 20, (const uint8_t *)"abcdefghij", 10), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 10, (const uint8_t *)"+-+-+", 5), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 30, (const uint8_t *)"end", 3), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 15, (const uint8_t *)"*/*/*", 5), 0);
	ck_assert_uint_eq(f.size, 33);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, (const uint8_t *)"0123456789+-+-+*/*/*abcdefghijend", 33);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

START_TEST(write_late_bytes_after_flush)
{
	/* the early part is already on disk when the late bytes come */
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	size_t total = 600000;
	uint8_t *want = malloc(total);
	ck_assert_ptr_nonnull(want);
	fill_pat(want, 2, 0, total);
	/* everything but [1000, 1100) and [500000, 500010) */
	ck_assert_int_eq(store_write(ts.s, &f, 0, want, 1000), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 1100, want + 1100, 500000 - 1100), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 500010, want + 500010, (uint32_t)(total - 500010)), 0);
	ck_assert_ptr_nonnull(f.path);          /* on disk by now */
	ck_assert_int_eq(store_write(ts.s, &f, 1000, want + 1000, 100), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 500000, want + 500000, 10), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, want, total);
	store_file_release(&f);
	free(want);
	free_store(ts.s);
}
END_TEST

START_TEST(shift_buffer_only)
{
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"hello", 5), 0);
	ck_assert_ptr_null(f.path);                 /* still only in memory */
	ck_assert_int_eq(store_shift(ts.s, &f, 6), 0);
	ck_assert_uint_eq(f.size, 11);
	ck_assert_int_eq(store_write(ts.s, &f, 11, (const uint8_t *)"!", 1), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"front", 5), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, (const uint8_t *)"front\0hello!", 12);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

START_TEST(shift_zero_is_noop)
{
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"abc", 3), 0);
	ck_assert_int_eq(store_shift(ts.s, &f, 0), 0);
	ck_assert_uint_eq(f.size, 3);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, (const uint8_t *)"abc", 3);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

/* Data already flushed to the file: the shift moves it on disk. */
static void shift_flushed(uint64_t shift, int only_disk)
{
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	size_t body = 400000;                        /* larger than one buffer */
	size_t total = body + shift;
	uint8_t *want = malloc(total);
	ck_assert_ptr_nonnull(want);
	fill_pat(want, 3, 0, total);
	ck_assert_int_eq(store_write(ts.s, &f, 0, want + shift, (uint32_t)body), 0);
	ck_assert_ptr_nonnull(f.path);
	if (only_disk) {
		/* an identical rewrite of the start flushes the buffer and goes
		 * straight to the file: nothing stays in memory */
		ck_assert_int_eq(store_write(ts.s, &f, 0, want + shift, 70000), 0);
		ck_assert_uint_eq(f.buf_len, 0);
	} else {
		ck_assert_uint_gt(f.buf_len, 0);
	}
	ck_assert_int_eq(store_shift(ts.s, &f, shift), 0);
	ck_assert_uint_eq(f.size, total);
	ck_assert_int_eq(f.failed, 0);
	/* before the front arrives, the front reads as zeros */
	{
		int fd = open(f.path, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		uint8_t *b = malloc(total);
		ck_assert_ptr_nonnull(b);
		ssize_t r = pread(fd, b, total, 0);
		ck_assert_int_eq(r, (ssize_t)total);
		for (size_t i = 0; i < shift; i++)
			if (b[i] != 0)
				ck_abort_msg("front byte %zu is 0x%02x", i, b[i]);
		ck_assert_mem_eq(b + shift, want + shift, body);
		free(b);
		close(fd);
	}
	ck_assert_int_eq(store_write(ts.s, &f, 0, want, (uint32_t)shift), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, want, total);
	store_file_release(&f);
	free(want);
	free_store(ts.s);
}

START_TEST(shift_flushed_small)
{
	shift_flushed(1000, 0);
}
END_TEST

START_TEST(shift_flushed_larger_than_data)
{
	shift_flushed(500000, 0);
}
END_TEST

START_TEST(shift_only_on_disk)
{
	shift_flushed(4096, 1);
}
END_TEST

START_TEST(shift_flushed_and_buffered)
{
	/* part on disk, part still buffered */
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	size_t body = 300000, shift = 77777, total = body + shift;
	uint8_t *want = malloc(total);
	ck_assert_ptr_nonnull(want);
	fill_pat(want, 4, 0, total);
	ck_assert_int_eq(store_write(ts.s, &f, 0, want + shift, (uint32_t)body), 0);
	ck_assert_uint_gt(f.buf_len, 0);
	ck_assert_int_eq(store_shift(ts.s, &f, shift), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 0, want, (uint32_t)shift), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, want, total);
	store_file_release(&f);
	free(want);
	free_store(ts.s);
}
END_TEST

START_TEST(extend_trailing_hole)
{
	struct tstore ts;
	open_store(&ts, "flow%C%c", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"xy", 2), 0);
	store_extend(&f, 10);
	ck_assert_uint_eq(f.size, 10);
	store_extend(&f, 5);                     /* never shrinks */
	ck_assert_uint_eq(f.size, 10);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, (const uint8_t *)"xy\0\0\0\0\0\0\0\0", 10);
	store_file_release(&f);

	/* only a hole, no byte written: a file of zeros */
	struct store_file g;
	store_file_init(&g);
	ident_v4(&g.id);
	store_extend(&g, 4);
	ck_assert_int_eq(store_file_close(ts.s, &g), 0);
	ck_assert_ptr_nonnull(g.path);
	check_file(g.path, (const uint8_t *)"\0\0\0\0", 4);
	store_file_release(&g);
	free_store(ts.s);
}
END_TEST

START_TEST(empty_flow_creates_no_file)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	ck_assert_ptr_null(f.path);
	ck_assert_uint_eq(f.size, 0);
	store_file_release(&f);
	ck_assert_int_eq(count_entries(ts.dir), 0);
	free_store(ts.s);
}
END_TEST

START_TEST(fd_cap_interleaved)
{
	enum { NF = 10, ROUNDS = 12, PIECE = 70000 };
	struct tstore ts;
	open_store(&ts, "f%S", 2, 0, 0);
	struct store_file *fs = calloc(NF, sizeof *fs);
	ck_assert_ptr_nonnull(fs);
	for (unsigned i = 0; i < NF; i++) {
		store_file_init(&fs[i]);
		ident_v4(&fs[i].id);
		fs[i].id.session_id = i;
	}
	uint64_t ev0 = tf_stats.fd_evictions;
	int base_fds = count_open_fds();
	uint8_t *piece = malloc(PIECE);
	ck_assert_ptr_nonnull(piece);
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < NF; i++) {
			/* odd files get their rounds in reverse pairs: out of order writes */
			unsigned rr = r;
			if (i % 2 && r % 2 == 0 && r + 1 < ROUNDS)
				rr = r + 1;
			else if (i % 2 && r % 2 == 1)
				rr = r - 1;
			uint64_t off = (uint64_t)rr * PIECE;
			fill_pat(piece, i, off, PIECE);
			ck_assert_int_eq(store_write(ts.s, &fs[i], off, piece, PIECE), 0);
			ck_assert_int_le(count_open_fds(), base_fds + 2);
		}
	}
	free(piece);
	size_t total = (size_t)ROUNDS * PIECE;
	uint8_t *want = malloc(total);
	ck_assert_ptr_nonnull(want);
	for (unsigned i = 0; i < NF; i++) {
		ck_assert_int_eq(store_file_close(ts.s, &fs[i]), 0);
		ck_assert_int_le(count_open_fds(), base_fds + 2);
		char name[32];
		snprintf(name, sizeof name, "f%u", i);
		ck_assert_str_eq(fs[i].name, name);
		fill_pat(want, i, 0, total);
		check_file(fs[i].path, want, total);
		store_file_release(&fs[i]);
	}
	ck_assert_int_eq(count_open_fds(), base_fds);
	ck_assert_uint_gt(tf_stats.fd_evictions, ev0);
	ck_assert_uint_eq(tf_stats.write_errors, 0);
	free(want);
	free(fs);
	free_store(ts.s);
}
END_TEST

START_TEST(buffer_cap_many_files)
{
	enum { NF = 40, ROUNDS = 30 };
	struct tstore ts;
	tf_stats.peak_write_buffer_bytes = 0;
	open_store(&ts, "f%S", 4, 64u << 10, 0);
	struct store_file *fs = calloc(NF, sizeof *fs);
	ck_assert_ptr_nonnull(fs);
	for (unsigned i = 0; i < NF; i++) {
		store_file_init(&fs[i]);
		ident_v4(&fs[i].id);
		fs[i].id.session_id = i;
	}
	uint64_t len[NF];
	memset(len, 0, sizeof len);
	uint8_t piece[3000];
	for (unsigned r = 0; r < ROUNDS; r++) {
		for (unsigned i = 0; i < NF; i++) {
			uint32_t n = 100 + (r * 37 + i * 101) % 2900;
			fill_pat(piece, i + 100, len[i], n);
			ck_assert_int_eq(store_write(ts.s, &fs[i], len[i], piece, n), 0);
			len[i] += n;
		}
	}
	for (unsigned i = 0; i < NF; i++) {
		ck_assert_int_eq(store_file_close(ts.s, &fs[i]), 0);
		ck_assert_uint_eq(fs[i].size, len[i]);
		uint8_t *want = malloc(len[i]);
		ck_assert_ptr_nonnull(want);
		fill_pat(want, i + 100, 0, len[i]);
		check_file(fs[i].path, want, len[i]);
		free(want);
		store_file_release(&fs[i]);
	}
	ck_assert_uint_eq(tf_stats.write_errors, 0);
	/* buffers grew to the cap and were flushed back under it */
	ck_assert_uint_ge(tf_stats.peak_write_buffer_bytes, 64u << 10);
	ck_assert_uint_le(tf_stats.peak_write_buffer_bytes, 2 * (64u << 10));
	free(fs);
	free_store(ts.s);
}
END_TEST

START_TEST(file_times)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"t", 1), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	settle_files();
	struct stat st;
	ck_assert_int_eq(stat(f.path, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1325542703);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 250000000);
	ck_assert_int_eq(st.st_atim.tv_sec, 1325542703);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

START_TEST(existing_name_never_overwritten)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	char old[400];
	path_in(old, sizeof old, &ts, V4NAME);
	put_file(old, "OLD");

	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"new", 3), 0);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	ck_assert_str_eq(f.name, V4NAME "c0001");
	ck_assert_uint_eq(f.connection_count, 1);
	check_file(old, (const uint8_t *)"OLD", 3);
	check_file(f.path, (const uint8_t *)"new", 3);
	store_file_release(&f);

	/* a second and third flow with the same identity: c0002, c0003 */
	for (unsigned k = 2; k <= 3; k++) {
		struct store_file g;
		store_file_init(&g);
		ident_v4(&g.id);
		ck_assert_int_eq(store_write(ts.s, &g, 0, (const uint8_t *)"again", 5), 0);
		ck_assert_int_eq(store_file_close(ts.s, &g), 0);
		ck_assert_uint_eq(g.connection_count, k);
		char want[64];
		snprintf(want, sizeof want, V4NAME "c%04u", k);
		ck_assert_str_eq(g.name, want);
		store_file_release(&g);
	}
	check_file(old, (const uint8_t *)"OLD", 3);
	ck_assert_int_eq(count_entries(ts.dir), 4);
	free_store(ts.s);
}
END_TEST

START_TEST(template_with_dirs_stays_inside)
{
	char parent[300];
	new_dir(parent, sizeof parent);
	char out[400];
	snprintf(out, sizeof out, "%s/out", parent);
	static const char *tmpls[] = { "../../esc%a", "/abs%a", "a//b/../c%a", "x/\x01y%a" };
	static const char *want[] = { "__/__/esc02345", "abs02345", "a/b/__/c02345",
				      "x/_y02345" };
	for (size_t i = 0; i < sizeof tmpls / sizeof tmpls[0]; i++) {
		struct store_config cfg = { .outdir = out, .template_str = tmpls[i] };
		char err[256];
		struct store *s = store_new(&cfg, err, sizeof err);
		ck_assert_ptr_nonnull(s);
		struct store_file f;
		store_file_init(&f);
		ident_v4(&f.id);
		ck_assert_int_eq(store_write(s, &f, 0, (const uint8_t *)"in", 2), 0);
		ck_assert_int_eq(store_file_close(s, &f), 0);
		ck_assert_str_eq(f.name, want[i]);
		char p[600];
		snprintf(p, sizeof p, "%s/%s", out, want[i]);
		check_file(p, (const uint8_t *)"in", 2);
		store_file_release(&f);
		store_free(s);
	}
	/* nothing next to the output directory, nothing at the root */
	ck_assert_int_eq(count_entries(parent), 1);
	ck_assert(!exists("/abs02345"));
	char esc[400];
	snprintf(esc, sizeof esc, "%s/esc02345", basedir);
	ck_assert(!exists(esc));
}
END_TEST

START_TEST(read_back)
{
	struct tstore ts;
	open_store(&ts, "flow", 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	uint8_t got[16];
	ck_assert_int_eq(store_read(ts.s, &f, 0, got, 1), -1);          /* nothing stored */
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"0123456789", 10), 0);
	ck_assert_int_eq(store_read(ts.s, &f, 2, got, 5), 0);           /* from the buffer */
	ck_assert_mem_eq(got, "23456", 5);
	ck_assert_ptr_null(f.path);
	ck_assert_int_eq(store_read(ts.s, &f, 8, got, 3), -1);          /* past the size */
	/* a late write elsewhere puts the first bytes on disk */
	ck_assert_int_eq(store_write(ts.s, &f, 20, (const uint8_t *)"abcdef", 6), 0);
	ck_assert_ptr_nonnull(f.path);
	ck_assert_int_eq(store_read(ts.s, &f, 0, got, 10), 0);          /* from the file */
	ck_assert_mem_eq(got, "0123456789", 10);
	ck_assert_int_eq(store_read(ts.s, &f, 21, got, 5), 0);          /* buffer again */
	ck_assert_mem_eq(got, "bcdef", 5);
	ck_assert_int_eq(store_read(ts.s, &f, 8, got, 14), 0);          /* across the hole */
	ck_assert_mem_eq(got, "89\0\0\0\0\0\0\0\0\0\0ab", 14);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	check_file(f.path, (const uint8_t *)"0123456789\0\0\0\0\0\0\0\0\0\0abcdef", 26);
	store_file_release(&f);
	free_store(ts.s);

	/* -FX: nothing to read back */
	open_store(&ts, "flow", 0, 0, 1);
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"abc", 3), 0);
	ck_assert_int_eq(store_read(ts.s, &f, 0, got, 3), -1);
	store_file_close(ts.s, &f);
	free_store(ts.s);
}
END_TEST

/* A read back that fails (the file deleted under us while its descriptor
 * was closed for another) is no write error: nothing counted, and no
 * message left that the run would tell for a later failure. */
START_TEST(read_back_failure_is_no_write_error)
{
	struct tstore ts;
	open_store(&ts, "f%S", 1, 0, 0);
	struct store_file a, b;
	uint8_t got[10];
	store_file_init(&a);
	store_file_init(&b);
	ident_v4(&a.id);
	ident_v4(&b.id);
	b.id.session_id = 1;
	uint64_t errors = tf_stats.write_errors;
	/* a's first bytes on disk, then b takes the one descriptor */
	ck_assert_int_eq(store_write(ts.s, &a, 0, (const uint8_t *)"0123456789", 10), 0);
	ck_assert_int_eq(store_write(ts.s, &a, 20, (const uint8_t *)"abcdef", 6), 0);
	ck_assert_int_eq(store_read(ts.s, &a, 0, got, 10), 0);
	ck_assert_mem_eq(got, "0123456789", 10);
	ck_assert_int_eq(store_write(ts.s, &b, 0, (const uint8_t *)"0123456789", 10), 0);
	ck_assert_int_eq(store_write(ts.s, &b, 20, (const uint8_t *)"abcdef", 6), 0);
	ck_assert_int_eq(store_read(ts.s, &b, 0, got, 10), 0);
	ck_assert_int_eq(unlink(a.path), 0);
	ck_assert_int_eq(store_read(ts.s, &a, 0, got, 10), -1);
	ck_assert_uint_eq(tf_stats.write_errors, errors);
	ck_assert_str_eq(store_last_error(ts.s), "");
	store_file_close(ts.s, &a);
	store_file_close(ts.s, &b);
	store_file_release(&a);
	store_file_release(&b);
	free_store(ts.s);
}
END_TEST

START_TEST(no_files_mode)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 1);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	uint8_t big[100000];
	memset(big, 'q', sizeof big);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(store_write(ts.s, &f, (uint64_t)i * sizeof big, big, sizeof big), 0);
	ck_assert_int_eq(store_write(ts.s, &f, 5000000, big, 10), 0);
	ck_assert_int_eq(store_shift(ts.s, &f, 100), 0);
	ck_assert_uint_eq(f.size, 5000110);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	ck_assert_ptr_null(f.path);
	ck_assert_int_eq(f.fd, -1);
	ck_assert_int_eq(count_entries(ts.dir), 0);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

/* ---- reserve mode ---------------------------------------------------------------- */

/* A name is given without a file; the file (bytes, times) comes after the
 * close. Names given and not yet on disk are taken for later flows and for
 * files beside them. */
START_TEST(reserve_names_before_files)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file f, g;
	store_file_init(&f);
	store_file_init(&g);
	ident_v4(&f.id);
	ident_v4(&g.id);
	ck_assert_int_eq(store_file_create(ts.s, &f), 0);
	ck_assert_str_eq(f.name, V4NAME);
	struct stat st;
	ck_assert_int_ne(lstat(f.path, &st), 0);      /* named, not created */
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"first", 5), 0);
	ck_assert_int_eq(store_file_create(ts.s, &g), 0);
	ck_assert_str_eq(g.name, V4NAME "c0001");     /* f's name is taken */
	char beside[600];
	snprintf(beside, sizeof beside, "%s-HTTP", f.path);
	ck_assert_int_eq(store_reserve_path(ts.s, beside), 0);
	ck_assert_int_eq(store_reserve_path(ts.s, beside), 1);
	ck_assert_int_eq(store_reserve_path(ts.s, f.path), 1);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	ck_assert_int_eq(store_file_close(ts.s, &g), 0);   /* empty, but named: created */
	check_file(f.path, (const uint8_t *)"first", 5);
	check_file(g.path, (const uint8_t *)"", 0);
	ck_assert_int_eq(stat(f.path, &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1325542703);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 250000000);
	ck_assert_int_eq(count_entries(ts.dir), 2);
	store_file_release(&f);
	store_file_release(&g);
	free_store(ts.s);
}
END_TEST

/* The outcome of a file written after its close: its size on disk, a
 * trailing hole included. */
START_TEST(reserve_outcome)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"abc", 3), 0);
	store_extend(&f, 10);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	void *late = store_file_late(&f);
	ck_assert_ptr_nonnull(late);
	uint64_t size = 0;
	ck_assert_int_eq(store_late_outcome(late, &size), 0);
	ck_assert_uint_eq(size, 10);
	check_file(f.path, (const uint8_t *)"abc\0\0\0\0\0\0\0", 10);
	store_file_release(&f);
	free_store(ts.s);
}
END_TEST

/* A file that cannot be created after its close (a name too long): the
 * outcome says so, the failure is counted and told, and files closed after
 * it are written at their close again, so their errors come at once. */
START_TEST(reserve_late_failure)
{
	struct tstore ts;
	char tmpl[400];
	memset(tmpl, 'x', 300);
	strcpy(tmpl + 300, "%a");
	open_store(&ts, tmpl, 0, 0, 0);
	uint64_t errors = tf_stats.write_errors;
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_write(ts.s, &f, 0, (const uint8_t *)"lost", 4), 0);
	ck_assert_int_eq(store_writes_later(ts.s), 1);
	ck_assert_int_eq(store_file_close(ts.s, &f), 0);
	void *late = store_file_late(&f);
	ck_assert_ptr_nonnull(late);
	uint64_t size = 99;
	ck_assert_int_eq(store_late_outcome(late, &size), -1);
	ck_assert_uint_eq(size, 0);
	store_sync(ts.s);
	ck_assert_uint_eq(tf_stats.write_errors, errors + 1);
	ck_assert_ptr_nonnull(strstr(store_last_error(ts.s), "File name too long"));
	ck_assert_ptr_nonnull(strstr(store_last_error(ts.s), "xxxxx02345"));
	ck_assert_int_eq(store_writes_later(ts.s), 0);
	store_file_release(&f);

	struct store_file g;
	store_file_init(&g);
	ident_v6(&g.id);
	ck_assert_int_eq(store_write(ts.s, &g, 0, (const uint8_t *)"lost", 4), 0);
	ck_assert_int_eq(store_file_close(ts.s, &g), -ENAMETOOLONG);
	ck_assert_ptr_null(store_file_late(&g));
	ck_assert_ptr_null(g.path);                       /* no file to name */
	store_file_release(&g);
	ck_assert_int_eq(count_entries(ts.dir), 0);
	free_store(ts.s);
}
END_TEST

/* An output directory with files in it: a name on disk is not given. */
START_TEST(reserve_directory_with_files)
{
	char dir[300];
	new_dir(dir, sizeof dir);
	char old[400];
	snprintf(old, sizeof old, "%s/%s", dir, V4NAME);
	put_file(old, "OLD");
	struct store_config cfg = { .outdir = dir, .background_writes = 1, .defer_files = 1 };
	char err[256];
	struct store *s = store_new(&cfg, err, sizeof err);
	ck_assert_ptr_nonnull(s);
	struct store_file f;
	store_file_init(&f);
	ident_v4(&f.id);
	ck_assert_int_eq(store_file_create(s, &f), 0);
	ck_assert_str_eq(f.name, V4NAME "c0001");
	ck_assert_int_eq(store_write(s, &f, 0, (const uint8_t *)"new", 3), 0);
	ck_assert_int_eq(store_file_close(s, &f), 0);
	char beside[420];
	snprintf(beside, sizeof beside, "%s-HTTP", old);
	put_file(beside, "");
	ck_assert_int_eq(store_reserve_path(s, beside), 1);   /* on disk */
	store_sync(s);
	check_file(old, (const uint8_t *)"OLD", 3);
	check_file(f.path, (const uint8_t *)"new", 3);
	store_file_release(&f);
	store_free(s);
}
END_TEST

/* The set of names is bounded: after 2^20 names reserve mode ends. Files
 * are then created at once, and a name given before (its file not written
 * yet) is still not given again. */
START_TEST(reserve_names_cap)
{
	struct tstore ts;
	open_store(&ts, NULL, 0, 0, 0);
	struct store_file first;
	store_file_init(&first);
	ident_v4(&first.id);
	ck_assert_int_eq(store_file_create(ts.s, &first), 0);   /* named, not created */
	for (uint32_t i = 1; i < (1u << 20); i++) {
		struct store_file f;
		store_file_init(&f);
		ident_v4(&f.id);
		f.id.sport = (uint16_t)(i >> 16);
		f.id.dport = (uint16_t)i;
		ck_assert_int_eq(store_file_create(ts.s, &f), 0);
		store_file_release(&f);
	}
	ck_assert(!exists(first.path));
	struct store_file g;
	store_file_init(&g);
	ident_v4(&g.id);
	ck_assert_int_eq(store_write(ts.s, &g, 0, (const uint8_t *)"g", 1), 0);
	ck_assert_int_eq(store_file_create(ts.s, &g), 0);
	ck_assert_str_eq(g.name, V4NAME "c0001");      /* first's name stays first's */
	ck_assert(exists(g.path));                       /* created at once */
	ck_assert_int_eq(store_writes_later(ts.s), 0);
	ck_assert_int_eq(store_write(ts.s, &first, 0, (const uint8_t *)"first", 5), 0);
	ck_assert_int_eq(store_file_close(ts.s, &first), 0);
	ck_assert_int_eq(store_file_close(ts.s, &g), 0);
	check_file(first.path, (const uint8_t *)"first", 5);
	check_file(g.path, (const uint8_t *)"g", 1);
	store_file_release(&first);
	store_file_release(&g);
	free_store(ts.s);
}
END_TEST

static void add_file_tests(TCase *tc);

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *names = tcase_create("names");
	tcase_add_test(names, name_default_v4);
	tcase_add_test(names, name_default_v6);
	tcase_add_test(names, name_other_tokens);
	tcase_add_test(names, name_tokens_more);
	tcase_add_test(names, name_empty_and_overflow);
	tcase_add_test(names, name_path_safety);
	suite_add_tcase(s, names);

	TCase *tc = tcase_create("files");
	tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
	tcase_add_test(tc, store_new_creates_parents);
	add_file_tests(tc);
	tcase_add_test(tc, existing_name_never_overwritten);
	suite_add_tcase(s, tc);

	TCase *bg = tcase_create("files-background");
	tcase_add_unchecked_fixture(bg, base_setup, base_teardown);
	tcase_add_checked_fixture(bg, bg_on, NULL);
	add_file_tests(bg);
	tcase_add_test(bg, existing_name_never_overwritten);
	tcase_add_test(bg, background_write_error);
	tcase_add_test(bg, background_create_ahead);
	tcase_add_test(bg, background_create_many);
	tcase_add_test(bg, background_create_error);
	suite_add_tcase(s, bg);

	/* The same, with files written after their close (an output directory
	 * that is empty at the start, so a file made in it by someone else
	 * during the run is not looked for: existing_name_never_overwritten is
	 * reserve_directory_with_files here). */
	TCase *rs = tcase_create("files-reserve");
	tcase_add_unchecked_fixture(rs, base_setup, base_teardown);
	tcase_add_checked_fixture(rs, reserve_on, NULL);
	add_file_tests(rs);
	tcase_add_test(rs, reserve_names_before_files);
	tcase_add_test(rs, reserve_outcome);
	tcase_add_test(rs, reserve_late_failure);
	tcase_add_test(rs, reserve_directory_with_files);
	tcase_add_test(rs, reserve_names_cap);
	suite_add_tcase(s, rs);
	return s;
}

static void add_file_tests(TCase *tc)
{
	tcase_add_test(tc, write_in_order);
	tcase_add_test(tc, write_large_in_order);
	tcase_add_test(tc, write_with_hole);
	tcase_add_test(tc, write_sparse_hole);
	tcase_add_test(tc, write_late_bytes);
	tcase_add_test(tc, write_late_bytes_after_flush);
	tcase_add_test(tc, shift_buffer_only);
	tcase_add_test(tc, shift_zero_is_noop);
	tcase_add_test(tc, shift_flushed_small);
	tcase_add_test(tc, shift_flushed_larger_than_data);
	tcase_add_test(tc, shift_only_on_disk);
	tcase_add_test(tc, shift_flushed_and_buffered);
	tcase_add_test(tc, extend_trailing_hole);
	tcase_add_test(tc, empty_flow_creates_no_file);
	tcase_add_test(tc, fd_cap_interleaved);
	tcase_add_test(tc, buffer_cap_many_files);
	tcase_add_test(tc, file_times);
	tcase_add_test(tc, template_with_dirs_stays_inside);
	tcase_add_test(tc, read_back);
	tcase_add_test(tc, read_back_failure_is_no_write_error);
	tcase_add_test(tc, no_files_mode);
	tcase_set_timeout(tc, 120);
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
