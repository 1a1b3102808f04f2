/* Unit tests for core/sidefiles.c: the .findx sorted at close with shifts
 * applied, the .pcap with its header and records, a payload-less direction,
 * stragglers after the close, and -FX (nothing written). */
#include "sidefiles.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"

static char dir[64];

static struct store *open_store(int no_files)
{
	static const char *const suffixes[] = { SIDEFILES_FINDX, SIDEFILES_PCAP, NULL };
	char err[256];
	snprintf(dir, sizeof dir, "/tmp/tcpflow-sidefiles.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct store_config sc = {
		.outdir = dir,
		.template_str = "f%#",
		.no_files = no_files,
		.side_suffixes = suffixes,   /* the store keeps the pointer */
	};
	struct store *s = store_new(&sc, err, sizeof err);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static char *slurp(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	char *buf = calloc(1, 1 << 16);
	*len = fread(buf, 1, (1 << 16) - 1, fp);
	fclose(fp);
	return buf;
}

static void new_flow(struct tcp_flow *f)
{
	memset(f, 0, sizeof *f);
	store_file_init(&f->file);
	f->active = 1;
	f->file.id.src.family = 4;
	f->file.id.dst.family = 4;
	f->file.id.first_sec = 1700000000;
}

/* What tcp does: the bytes to the flow file, then the stored event. */
static void put(struct store *s, struct sidefiles *sf, struct tcp_flow *f, uint64_t off,
		uint32_t len, int64_t sec, uint32_t usec)
{
	uint8_t buf[64];
	memset(buf, 'x', sizeof buf);
	ck_assert_int_eq(store_write(s, &f->file, off, buf, len), 0);
	f->next_off = off + len > f->next_off ? off + len : f->next_off;
	sidefiles_stored(sf, f, off, len, sec, usec);
}

static void finish(struct store *s, struct sidefiles *sf, struct tcp_flow *f)
{
	store_file_close(s, &f->file);
	sidefiles_flow_close(sf, f);
	sidefiles_flow_free(sf, f);
	store_file_release(&f->file);
}

START_TEST(findx_sorted_with_shifts)
{
	struct store *s = open_store(0);
	struct sidefiles *sf = sidefiles_new(s, 1, 0);
	struct tcp_flow f;
	new_flow(&f);
	put(s, sf, &f, 0, 10, 1700000000, 5);
	put(s, sf, &f, 10, 20, 1700000001, 6);
	/* 15 earlier bytes arrive: everything moves 15 later, they go at 0 */
	ck_assert_int_eq(store_shift(s, &f.file, 15), 0);
	sidefiles_shift(sf, &f, 15);
	put(s, sf, &f, 0, 15, 1700000002, 7);
	put(s, sf, &f, 45, 5, 1700000003, 999999);
	finish(s, sf, &f);
	size_t len;
	char *x = slurp("f0.findx", &len);
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(x, "0|1700000002.000007|15\n"
			    "15|1700000000.000005|10\n"
			    "25|1700000001.000006|20\n"
			    "45|1700000003.999999|5\n");
	free(x);
	sidefiles_free(sf);
	store_free(s);
	cleanup();
}
END_TEST

START_TEST(findx_in_order_untouched)
{
	struct store *s = open_store(0);
	struct sidefiles *sf = sidefiles_new(s, 1, 0);
	struct tcp_flow f;
	new_flow(&f);
	put(s, sf, &f, 0, 3, 1700000000, 1);
	put(s, sf, &f, 5, 3, 1700000000, 2);     /* after a hole */
	finish(s, sf, &f);
	size_t len;
	char *x = slurp("f0.findx", &len);
	ck_assert_str_eq(x, "0|1700000000.000001|3\n5|1700000000.000002|3\n");
	free(x);
	struct stat st;
	char path[128];
	snprintf(path, sizeof path, "%s/f0.findx", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq((long)st.st_mtime, 1700000000);   /* the flow's first packet */
	sidefiles_free(sf);
	store_free(s);
	cleanup();
}
END_TEST

static struct pkt frame(const char *bytes, uint32_t n, int64_t sec)
{
	struct pkt p;
	memset(&p, 0, sizeof p);
	p.frame = (const uint8_t *)bytes;
	p.caplen = n;
	p.wirelen = n + 4;
	p.ts_sec = sec;
	p.ts_usec = 42;
	p.dlt = 1;
	return p;
}

START_TEST(pcap_packets_and_stragglers)
{
	struct store *s = open_store(0);
	struct sidefiles *sf = sidefiles_new(s, 0, 1);
	struct tcp_flow f;
	new_flow(&f);                          /* no payload: only a .pcap */
	struct pkt a = frame("abcd", 4, 1700000000);
	struct pkt b = frame("efghij", 6, 1700000001);
	sidefiles_packet(sf, &f, &a);
	store_file_close(s, &f.file);
	sidefiles_flow_close(sf, &f);
	sidefiles_packet(sf, &f, &b);          /* the last ACK, after the close */
	sidefiles_flow_free(sf, &f);
	store_file_release(&f.file);
	size_t len;
	char *none = slurp("f0", &len);
	ck_assert_ptr_null(none);              /* no flow file without payload */
	char *p = slurp("f0.pcap", &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, CAPTURE_PCAP_HEADER_LEN + 2 * CAPTURE_PCAP_RECORD_LEN + 10);
	uint8_t hdr[CAPTURE_PCAP_HEADER_LEN], rec[CAPTURE_PCAP_RECORD_LEN];
	capture_pcap_header(hdr, 1, CAPTURE_WRITE_SNAPLEN);
	ck_assert(memcmp(p, hdr, sizeof hdr) == 0);
	capture_pcap_record(rec, 1700000000, 42, 4, 8);
	ck_assert(memcmp(p + 24, rec, sizeof rec) == 0);
	ck_assert(memcmp(p + 40, "abcd", 4) == 0);
	capture_pcap_record(rec, 1700000001, 42, 6, 10);
	ck_assert(memcmp(p + 44, rec, sizeof rec) == 0);
	ck_assert(memcmp(p + 60, "efghij", 6) == 0);
	free(p);
	sidefiles_free(sf);
	store_free(s);
	cleanup();
}
END_TEST

START_TEST(no_files_nothing_written)
{
	struct store *s = open_store(1);
	struct sidefiles *sf = sidefiles_new(s, 1, 1);
	struct tcp_flow f;
	new_flow(&f);
	struct pkt a = frame("abcd", 4, 1700000000);
	sidefiles_packet(sf, &f, &a);
	put(s, sf, &f, 0, 4, 1700000000, 0);
	finish(s, sf, &f);
	size_t len;
	ck_assert_ptr_null(slurp("f0.findx", &len));
	ck_assert_ptr_null(slurp("f0.pcap", &len));
	sidefiles_free(sf);
	store_free(s);
	cleanup();
}
END_TEST

START_TEST(linktype_of_raw_ip)
{
	uint8_t hdr[CAPTURE_PCAP_HEADER_LEN];
	capture_pcap_header(hdr, 12, 65535);   /* DLT_RAW on Linux */
	uint32_t lt;
	memcpy(&lt, hdr + 20, 4);
	ck_assert_uint_eq(lt, 101);             /* LINKTYPE_RAW */
	ck_assert_int_eq(capture_dlt_to_linktype(1), 1);
	ck_assert_int_eq(capture_dlt_to_linktype(113), 113);
}
END_TEST

static Suite *sidefiles_suite(void)
{
	Suite *s = suite_create("sidefiles");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, findx_sorted_with_shifts);
	tcase_add_test(tc, findx_in_order_untouched);
	tcase_add_test(tc, pcap_packets_and_stragglers);
	tcase_add_test(tc, no_files_nothing_written);
	tcase_add_test(tc, linktype_of_raw_ip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sidefiles_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
