/* Unit tests for core/report.c: write a DFXML report, parse it back with
 * libxml2 and check its shape and values with XPath. The tests run twice:
 * formatting the XML in the caller, and on writer threads (the "writer"
 * case: report_use_writer, as tcpflow runs). */
#include "report.h"
#include "stats.h"
#include "writer.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

static char tmpdir[64];
static char xml_path[128];

static void setup(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_report.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(xml_path, sizeof xml_path, "%s/report.xml", tmpdir);
	memset(&tf_stats, 0, sizeof tf_stats);
}

/* the "writer" case: reports format their XML on these threads */
static struct writer *test_writer;

static struct report *open_report(const char *path, int argc, char **argv, char *err,
				  size_t errlen)
{
	struct report *r = report_open(path, argc, argv, err, errlen);
	if (r && test_writer)
		report_use_writer(r, test_writer);
	return r;
}

static void teardown(void)
{
	char p[160];

	snprintf(p, sizeof p, "%s/report2.xml", tmpdir);
	unlink(p);
	unlink(xml_path);
	rmdir(tmpdir);
}

static void setup_writer(void)
{
	setup();
	test_writer = writer_new(1 << 20, 1 << 16);
	ck_assert_ptr_nonnull(test_writer);
}

static void teardown_writer(void)
{
	writer_free(test_writer);
	test_writer = NULL;
	teardown();
}

static void set_v4(struct tf_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->bytes[0] = b0;
	a->bytes[1] = b1;
	a->bytes[2] = b2;
	a->bytes[3] = b3;
}

/* 2001:db8::N */
static void set_v6(struct tf_addr *a, uint8_t last)
{
	memset(a, 0, sizeof *a);
	a->family = 6;
	a->bytes[0] = 0x20;
	a->bytes[1] = 0x01;
	a->bytes[2] = 0x0d;
	a->bytes[3] = 0xb8;
	a->bytes[15] = last;
}

static void flow_v4(struct report_flow *f)
{
	memset(f, 0, sizeof *f);
	f->filename = "out/010.000.000.001.01234-192.168.001.002.00080";
	f->filesize = 604;
	f->start_sec = 1223315694;   /* 2008-10-06T17:54:54Z */
	f->start_usec = 780375;
	f->end_sec = 1223315694;
	f->end_usec = 850566;
	set_v4(&f->src, 10, 0, 0, 1);
	set_v4(&f->dst, 192, 168, 1, 2);
	f->sport = 1234;
	f->dport = 80;
	f->packets = 4;
	f->len = 604;
}

static const struct report_gap v6_gaps[] = { { 100, 50 }, { 4096, 1000 } };

static void flow_v6(struct report_flow *f)
{
	static const uint8_t smac[6] = { 0x00, 0x0f, 0xcc, 0xfe, 0xcc, 0xdc };
	static const uint8_t dmac[6] = { 0x00, 0x1f, 0x5b, 0xc7, 0xfa, 0xd2 };

	memset(f, 0, sizeof *f);
	f->filename = "out/2001:db8::1.00080-2001:db8::2.50956--0100c0001";
	f->filesize = 6000;
	f->start_sec = 0;
	f->start_usec = 5;
	f->end_sec = 86400;
	f->end_usec = 999999;
	set_v6(&f->src, 1);
	set_v6(&f->dst, 2);
	f->sport = 80;
	f->dport = 50956;
	f->has_mac = 1;
	memcpy(f->src_mac, smac, 6);
	memcpy(f->dst_mac, dmac, 6);
	f->has_vlan = 1;
	f->vlan = 100;
	f->packets = 9;
	f->len = 7000;
	f->caplen = 1000;
	f->out_of_order_count = 2;
	f->violations = 3;
	f->session_id = 42;
	f->connection_count = 1;
	f->gaps = v6_gaps;
	f->ngaps = 2;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

static xmlDocPtr parse(const char *path)
{
	xmlDocPtr doc = xmlReadFile(path, NULL, XML_PARSE_NONET);

	ck_assert_msg(doc != NULL, "%s is not well-formed", path);
	return doc;
}

/* Value of string(expr), malloc'd. */
static char *xp_str(xmlDocPtr doc, const char *expr)
{
	char full[512];
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj;
	char *s;

	ck_assert_ptr_nonnull(ctx);
	xmlXPathRegisterNs(ctx, BAD_CAST "t", BAD_CAST "http://afflib.org/tcpflow/");
	xmlXPathRegisterNs(ctx, BAD_CAST "dc", BAD_CAST "http://purl.org/dc/elements/1.1/");
	snprintf(full, sizeof full, "string(%s)", expr);
	obj = xmlXPathEvalExpression(BAD_CAST full, ctx);
	ck_assert_msg(obj != NULL, "bad XPath %s", expr);
	s = strdup(obj->stringval ? (const char *)obj->stringval : "");
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return s;
}

static double xp_num(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj;
	double v;

	ck_assert_ptr_nonnull(ctx);
	obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
	ck_assert_msg(obj != NULL, "bad XPath %s", expr);
	v = xmlXPathCastToNumber(obj);
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctx);
	return v;
}

#define ck_xp_str(doc, expr, want) do { \
		char *got_ = xp_str((doc), (expr)); \
		ck_assert_msg(strcmp(got_, (want)) == 0, "%s: got '%s', want '%s'", \
			      (expr), got_, (want)); \
		free(got_); \
	} while (0)

#define ck_xp_num(doc, expr, want) do { \
		double got_ = xp_num((doc), (expr)); \
		ck_assert_msg(got_ == (double)(want), "%s: got %g, want %g", \
			      (expr), got_, (double)(want)); \
	} while (0)

static char *test_argv[] = { "tcpflow", "-o", "out dir", "-r", "x.pcap", "-S",
			     "tcp_timeout=5", "it's", "", "tcp port 80", NULL };
#define TEST_ARGC 10
static const char test_cmdline[] =
	"tcpflow -o 'out dir' -r x.pcap -S tcp_timeout=5 'it'\\''s' '' 'tcp port 80'";

/* The full report: header, settings, two flows, a warning, statistics. */
static void write_full_report(void)
{
	char err[256] = "";
	struct report_flow f4, f6;
	struct report *r = open_report(xml_path, TEST_ARGC, test_argv, err, sizeof err);

	ck_assert_msg(r != NULL, "report_open: %s", err);
	report_setting(r, "tcp_timeout", "5");
	report_setting(r, "max_seek", "16777216");
	flow_v4(&f4);
	flow_v6(&f6);
	ck_assert_int_eq(report_flow(r, &f4), 0);
	ck_assert_int_eq(report_flow(r, &f6), 0);
	report_warning(r, "x.pcap: truncated <capture> & more");
	tf_stats.packets = 12345;
	tf_stats.gap_bytes = 1050;
	ck_assert_int_eq(report_close(r), 0);
}

START_TEST(full_report_shape)
{
	xmlDocPtr doc;

	write_full_report();
	doc = parse(xml_path);
	ck_xp_str(doc, "name(/*)", "dfxml");
	ck_xp_str(doc, "/dfxml/@xmloutputversion", "1.0");
	ck_xp_str(doc, "/dfxml/t:metadata/dc:type", "Feature Extraction");
	ck_xp_str(doc, "/dfxml/creator/@version", "1.0");
	ck_xp_str(doc, "/dfxml/creator/program", "TCPFLOW");
	ck_xp_num(doc, "string-length(/dfxml/creator/version) > 0", 1);
	ck_xp_num(doc, "count(/dfxml/creator/build_environment/library)", 3);
	ck_xp_num(doc, "count(/dfxml/creator/build_environment/library"
		  "[@name='libxml2' and string-length(@version) > 0])", 1);
	ck_xp_num(doc, "count(/dfxml/creator/execution_environment/start_time)", 1);
	ck_xp_num(doc, "count(/dfxml/creator/execution_environment/uid)", 1);

	/* settings, in one <configuration>, before the flows */
	ck_xp_num(doc, "count(/dfxml/configuration)", 1);
	ck_xp_num(doc, "count(/dfxml/configuration/setting)", 2);
	ck_xp_str(doc, "/dfxml/configuration/setting[@name='tcp_timeout']/@value", "5");
	ck_xp_str(doc, "/dfxml/configuration/setting[2]/@name", "max_seek");
	ck_xp_num(doc, "count(/dfxml/configuration/following-sibling::fileobject)", 2);

	/* fileobjects are children of /dfxml, nowhere else */
	ck_xp_num(doc, "count(/dfxml/fileobject)", 2);
	ck_xp_num(doc, "count(//fileobject)", 2);
	ck_xp_num(doc, "count(//configuration//fileobject)", 0);

	/* order: fileobjects, warning, statistics, rusage */
	ck_xp_str(doc, "name(/dfxml/fileobject[2]/following-sibling::*[1])", "warning");
	ck_xp_str(doc, "name(/dfxml/warning/following-sibling::*[1])", "statistics");
	ck_xp_str(doc, "name(/dfxml/statistics/following-sibling::*[1])", "rusage");
	ck_xp_str(doc, "name(/dfxml/*[last()])", "rusage");
	ck_xp_str(doc, "/dfxml/warning", "x.pcap: truncated <capture> & more");

	xmlFreeDoc(doc);
}
END_TEST

START_TEST(full_report_flows)
{
	xmlDocPtr doc;

	write_full_report();
	doc = parse(xml_path);

	/* IPv4 flow: only the mandatory attributes */
	ck_xp_str(doc, "/dfxml/fileobject[1]/filename",
		  "out/010.000.000.001.01234-192.168.001.002.00080");
	ck_xp_str(doc, "/dfxml/fileobject[1]/filesize", "604");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@startime", "2008-10-06T17:54:54.780375Z");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@endtime", "2008-10-06T17:54:54.850566Z");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@family", "2");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@src_ipn", "10.0.0.1");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@dst_ipn", "192.168.1.2");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@srcport", "1234");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@dstport", "80");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@packets", "4");
	ck_xp_str(doc, "/dfxml/fileobject[1]/tcpflow/@len", "604");
	ck_xp_num(doc, "count(/dfxml/fileobject[1]/tcpflow/@*)", 9);
	ck_xp_num(doc, "count(/dfxml/fileobject[1]/gaps)", 0);

	/* IPv6 flow: everything optional present */
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@startime", "1970-01-01T00:00:00.000005Z");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@endtime", "1970-01-02T00:00:00.999999Z");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@family", "10");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@src_ipn", "2001:db8::1");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@dst_ipn", "2001:db8::2");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@srcport", "80");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@dstport", "50956");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@packets", "9");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@len", "7000");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@caplen", "6000");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@out_of_order_count", "2");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@violations", "3");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@mac_daddr", "00:1f:5b:c7:fa:d2");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@mac_saddr", "00:0f:cc:fe:cc:dc");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@vlan", "100");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@session_id", "42");
	ck_xp_str(doc, "/dfxml/fileobject[2]/tcpflow/@connection_count", "1");
	ck_xp_num(doc, "count(/dfxml/fileobject[2]/gaps/gap)", 2);
	ck_xp_str(doc, "/dfxml/fileobject[2]/gaps/gap[1]/@offset", "100");
	ck_xp_str(doc, "/dfxml/fileobject[2]/gaps/gap[1]/@len", "50");
	ck_xp_str(doc, "/dfxml/fileobject[2]/gaps/gap[2]/@offset", "4096");
	ck_xp_str(doc, "/dfxml/fileobject[2]/gaps/gap[2]/@len", "1000");
	/* fixed children order: filename, filesize, tcpflow, gaps */
	ck_xp_str(doc, "name(/dfxml/fileobject[2]/*[1])", "filename");
	ck_xp_str(doc, "name(/dfxml/fileobject[2]/*[2])", "filesize");
	ck_xp_str(doc, "name(/dfxml/fileobject[2]/*[3])", "tcpflow");
	ck_xp_str(doc, "name(/dfxml/fileobject[2]/*[4])", "gaps");

	xmlFreeDoc(doc);
}
END_TEST

START_TEST(full_report_command_line_and_stats)
{
	xmlDocPtr doc;
	char *raw;

	write_full_report();
	doc = parse(xml_path);
	ck_xp_str(doc, "/dfxml/creator/execution_environment/command_line", test_cmdline);

	/* every counter, in order, and the ones set before close */
	ck_xp_str(doc, "name(/dfxml/statistics/*[1])", "packets");
	ck_xp_str(doc, "/dfxml/statistics/packets", "12345");
	ck_xp_str(doc, "/dfxml/statistics/gap_bytes", "1050");
	ck_xp_str(doc, "/dfxml/statistics/write_errors", "0");
	ck_xp_num(doc, "count(/dfxml/statistics/*) >= 30", 1);

	ck_xp_num(doc, "count(/dfxml/rusage)", 1);
	ck_xp_num(doc, "count(/dfxml/rusage/utime)", 1);
	ck_xp_num(doc, "count(/dfxml/rusage/stime)", 1);
	ck_xp_num(doc, "count(/dfxml/rusage/maxrss)", 1);
	ck_xp_num(doc, "count(/dfxml/rusage/clocktime)", 1);
	ck_xp_num(doc, "/dfxml/rusage/maxrss > 0", 1);
	xmlFreeDoc(doc);

	/* the file ends with the closing tag, and uses UTF-8 */
	raw = slurp(xml_path);
	ck_assert_ptr_nonnull(strstr(raw, "encoding='UTF-8'"));
	ck_assert_ptr_nonnull(strstr(raw, "</dfxml>\n"));
	ck_assert_str_eq(strstr(raw, "</dfxml>\n"), "</dfxml>\n");
	free(raw);
}
END_TEST

START_TEST(unwritable_path)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", NULL };
	struct report *r;

	r = open_report("/nonexistent-dir-for-test/sub/report.xml", 1, argv, err, sizeof err);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err, strerror(ENOENT));
	ck_assert_ptr_null(strchr(err, '\n'));

	err[0] = '\0';
	r = open_report(tmpdir, 1, argv, err, sizeof err);   /* a directory */
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err, strerror(EISDIR));
}
END_TEST

/* Each fileobject is on disk once report_flow returns; the same flow gives
 * the same bytes in another report. */
static char *fileobject_bytes(const char *path, int nth)
{
	char *raw = slurp(path), *p = raw, *end, *out;
	int i;

	for (i = 0; i <= nth; i++) {
		p = strstr(p + (i ? 1 : 0), "<fileobject>");
		ck_assert_ptr_nonnull(p);
	}
	end = strstr(p, "</fileobject>");
	ck_assert_ptr_nonnull(end);
	end += strlen("</fileobject>");
	out = strndup(p, (size_t)(end - p));
	free(raw);
	return out;
}

/* How many times needle occurs in the file at path. */
static int count_in_file(const char *path, const char *needle)
{
	char *raw = slurp(path), *p = raw;
	int n = 0;

	ck_assert_ptr_nonnull(raw);
	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p++;
	}
	free(raw);
	return n;
}

/* Entries are written in blocks of about 4 KB, and flushed when the last
 * flush is a second old; report_sync writes out the rest. */
START_TEST(flushes_by_size_and_age)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", NULL };
	struct report_flow f4;
	struct report *r;
	int n;

	flow_v4(&f4);
	r = open_report(xml_path, 1, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(report_flow(r, &f4), 0);
	/* one entry: still buffered, but the header is out */
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 0);
	ck_assert_int_eq(count_in_file(xml_path, "</creator>"), 1);
	/* a hundred entries: most of them written without a flush */
	for (int i = 0; i < 99; i++)
		ck_assert_int_eq(report_flow(r, &f4), 0);
	n = count_in_file(xml_path, "</fileobject>");
	ck_assert_int_gt(n, 50);
	ck_assert_int_lt(n, 100);
	/* a second later, the next entry flushes everything */
	usleep(1100 * 1000);
	ck_assert_int_eq(report_flow(r, &f4), 0);
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 101);
	ck_assert_int_eq(report_flow(r, &f4), 0);
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 101);
	report_sync(r);
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 102);
	ck_assert_int_eq(report_close(r), 0);
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 102);
}
END_TEST

START_TEST(incremental_and_deterministic)
{
	char err[256] = "", other[160];
	char *argv[] = { "tcpflow", "-r", "a.pcap", NULL };
	char *argv2[] = { "something", "else", NULL };
	struct report_flow f4, f6;
	struct report *r, *r2;
	char *a, *b, *raw;

	flow_v4(&f4);
	flow_v6(&f6);
	r = open_report(xml_path, 3, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	report_setting(r, "a", "1");
	ck_assert_int_eq(report_flow(r, &f6), 0);

	/* before close, after report_sync: the fileobject is complete on disk */
	report_sync(r);
	raw = slurp(xml_path);
	ck_assert_ptr_nonnull(strstr(raw, "</fileobject>"));
	ck_assert_ptr_nonnull(strstr(raw, "</configuration>"));
	ck_assert_ptr_null(strstr(raw, "</dfxml>"));
	free(raw);

	ck_assert_int_eq(report_flow(r, &f4), 0);
	report_warning(r, "w");
	raw = slurp(xml_path);
	ck_assert_ptr_nonnull(strstr(raw, "<warning>w</warning>"));
	free(raw);

	snprintf(other, sizeof other, "%s/report2.xml", tmpdir);
	r2 = open_report(other, 2, argv2, err, sizeof err);
	ck_assert_msg(r2 != NULL, "%s", err);
	ck_assert_int_eq(report_flow(r2, &f4), 0);
	ck_assert_int_eq(report_flow(r2, &f6), 0);
	ck_assert_int_eq(report_close(r2), 0);
	ck_assert_int_eq(report_close(r), 0);

	a = fileobject_bytes(xml_path, 0);
	b = fileobject_bytes(other, 1);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	a = fileobject_bytes(xml_path, 1);
	b = fileobject_bytes(other, 0);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

/* Hostile strings and scanner elements still give a well-formed document. */
START_TEST(hostile_text_and_scanner_elements)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", "bad\x01\xff", "q'\"<&>", NULL };
	struct report_flow f;
	struct report *r;
	xmlDocPtr doc;

	r = open_report(xml_path, 3, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	report_setting(r, "we'ird", "v\"al<ue>&\x02\xc3\x28");
	report_source(r, xml_path);
	flow_v4(&f);
	f.filename = "out/\xff\xfe name \x1b]0;'\"<&>";
	ck_assert_int_eq(report_flow_begin(r, &f), 0);
	ck_assert_int_eq(report_start_element(r, "hashdigest"), 0);
	ck_assert_int_eq(report_attribute(r, "type", "MD5"), 0);
	ck_assert_int_eq(report_attribute(r, "type", "again"), -EINVAL);
	ck_assert_int_eq(report_text(r, "d41d8cd98f00b204e9800998ecf8427e"), 0);
	ck_assert_int_eq(report_attribute(r, "late", "x"), -EINVAL);
	ck_assert_int_eq(report_end_element(r), 0);
	ck_assert_int_eq(report_start_element(r, "bad name"), -EINVAL);
	ck_assert_int_eq(report_start_element(r, "x:y"), -EINVAL);
	ck_assert_int_eq(report_start_element(r, "byte_runs"), 0);
	ck_assert_int_eq(report_start_element(r, "byte_run"), 0);
	ck_assert_int_eq(report_attribute(r, "file_offset", "0"), 0);
	/* left open on purpose: report_flow_end closes byte_run and byte_runs */
	ck_assert_int_eq(report_flow_end(r), 0);
	ck_assert_int_eq(report_flow_end(r), -EINVAL);
	/* a top-level scanner summary */
	ck_assert_int_eq(report_start_element(r, "wifi_stats"), 0);
	ck_assert_int_eq(report_element(r, "frames", "10"), 0);
	ck_assert_int_eq(report_element(r, "empty", NULL), 0);
	ck_assert_int_eq(report_end_element(r), 0);
	ck_assert_int_eq(report_end_element(r), -EINVAL);
	report_warning(r, "]]> \x7f \xed\xa0\x80 \xef\xbf\xbe end");
	report_setting(r, "late", "1");   /* after the header: its own configuration */
	ck_assert_int_eq(report_close(r), 0);

	doc = parse(xml_path);
	ck_xp_num(doc, "count(/dfxml/fileobject)", 1);
	ck_xp_num(doc, "count(//fileobject)", 1);
	ck_xp_str(doc, "/dfxml/fileobject/filename",
		  "out/\xef\xbf\xbd\xef\xbf\xbd name \xef\xbf\xbd]0;'\"<&>");
	ck_xp_str(doc, "/dfxml/fileobject/hashdigest[@type='MD5']",
		  "d41d8cd98f00b204e9800998ecf8427e");
	ck_xp_str(doc, "/dfxml/fileobject/byte_runs/byte_run/@file_offset", "0");
	ck_xp_str(doc, "/dfxml/configuration[1]/setting/@name", "we'ird");
	ck_xp_str(doc, "/dfxml/configuration[1]/setting/@value",
		  "v\"al<ue>&\xef\xbf\xbd\xef\xbf\xbd(");
	ck_xp_str(doc, "/dfxml/source/image_filename", xml_path);
	ck_xp_num(doc, "count(/dfxml/source/image_size)", 1);
	ck_xp_str(doc, "name(/dfxml/source/following-sibling::*[1])", "configuration");
	ck_xp_str(doc, "/dfxml/wifi_stats/frames", "10");
	ck_xp_num(doc, "count(/dfxml/wifi_stats/empty)", 1);
	ck_xp_str(doc, "/dfxml/warning",
		  "]]> \x7f \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
	ck_xp_str(doc, "/dfxml/configuration[2]/setting[@name='late']/@value", "1");
	xmlFreeDoc(doc);
}
END_TEST

/* report_defer and report_flow_defer: elements written later (on the
 * writer thread in the "writer" case) land where the call was made, between
 * the flows around it; a flow's description is copied; each call runs once
 * and owns its argument; what it leaves open is closed; its own mistakes
 * are refused as on r. */
static int deferred_runs, deferred_null, deferred_refused;

static void deferred_object(struct report *rr, void *arg)
{
	int *n = arg;
	char name[32];

	deferred_runs++;
	if (!rr) {
		deferred_null++;
		free(n);
		return;
	}
	snprintf(name, sizeof name, "obj-%d", *n);
	report_start_element(rr, "fileobject");
	report_element(rr, "filename", name);
	report_start_element(rr, "derived");
	report_attribute_u64(rr, "depth", (uint64_t)*n);
	if (report_attribute(rr, "depth", "again") == -EINVAL)
		deferred_refused++;
	if (*n % 100 == 0)
		report_start_element(rr, "left_open");   /* closed after the call */
	else
		report_end_element(rr), report_end_element(rr);
	free(n);
}

static void deferred_flow_inner(struct report *rr, void *arg)
{
	int *n = arg;

	deferred_runs++;
	if (rr) {
		report_start_element(rr, "hashdigest");
		report_attribute(rr, "type", "N");
		report_text(rr, *n % 2 ? "odd" : "even");
		/* left open: report_flow_end closes it */
	} else {
		deferred_null++;
	}
	free(n);
}

START_TEST(deferred_elements)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", NULL };
	struct report_flow f;
	struct report *r;
	xmlDocPtr doc;
	enum { N = 1000 };
	char fname[32];

	deferred_runs = deferred_null = deferred_refused = 0;
	r = open_report(xml_path, 1, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	flow_v4(&f);
	for (int i = 0; i < N; i++) {
		int *n = malloc(sizeof *n);
		ck_assert_ptr_nonnull(n);
		*n = i;
		int *m = malloc(sizeof *m);
		ck_assert_ptr_nonnull(m);
		*m = i;
		f.filesize = (uint64_t)i;
		snprintf(fname, sizeof fname, "out/flow-%d", i);   /* reused: copied */
		f.filename = fname;
		ck_assert_int_eq(report_flow_defer(r, &f, deferred_flow_inner, m), 0);
		if (i == N / 2)   /* a summary left open: closed before the call */
			ck_assert_int_eq(report_start_element(r, "summary"), 0);
		ck_assert_int_eq(report_defer(r, deferred_object, n), 0);
	}
	ck_assert_int_eq(report_close(r), 0);
	ck_assert_int_eq(deferred_runs, 2 * N);
	ck_assert_int_eq(deferred_refused, N);
	ck_assert_int_eq(deferred_null, 0);

	doc = parse(xml_path);
	ck_xp_num(doc, "count(/dfxml/fileobject)", 2 * N);
	ck_xp_str(doc, "/dfxml/fileobject[2]/filename", "obj-0");
	ck_xp_str(doc, "/dfxml/fileobject[1001]/filename", "out/flow-500");
	ck_xp_str(doc, "/dfxml/fileobject[1]/filename", "out/flow-0");
	ck_xp_str(doc, "/dfxml/fileobject[1002]/filename", "obj-500");
	ck_xp_str(doc, "/dfxml/fileobject[2000]/filename", "obj-999");
	ck_xp_str(doc, "/dfxml/fileobject[2000]/derived/@depth", "999");
	/* each flow entry: its own description (copied), then inner's element */
	ck_xp_str(doc, "/dfxml/fileobject[1999]/filesize", "999");
	ck_xp_str(doc, "/dfxml/fileobject[1999]/hashdigest[@type='N']", "odd");
	ck_xp_str(doc, "/dfxml/fileobject[1]/hashdigest", "even");
	ck_xp_num(doc, "count(/dfxml/fileobject/hashdigest)", N);
	ck_xp_num(doc, "count(/dfxml/fileobject[tcpflow]/hashdigest)", N);
	ck_xp_num(doc, "count(//left_open)", N / 100);
	ck_xp_num(doc, "count(/dfxml/fileobject[derived/left_open])", N / 100);
	ck_xp_num(doc, "count(/dfxml/summary)", 1);
	ck_xp_str(doc, "name(/dfxml/summary/following-sibling::*[1])", "fileobject");
	ck_xp_str(doc, "/dfxml/summary/following-sibling::*[1]/filename", "obj-500");
	xmlFreeDoc(doc);

	/* no report: the call only lets go of its argument */
	int *n = malloc(sizeof *n);
	ck_assert_ptr_nonnull(n);
	*n = 0;
	ck_assert_int_eq(report_defer(NULL, deferred_object, n), 0);
	ck_assert_int_eq(deferred_null, 1);
	n = malloc(sizeof *n);
	ck_assert_ptr_nonnull(n);
	*n = 0;
	ck_assert_int_eq(report_flow_defer(NULL, &f, deferred_flow_inner, n), 0);
	ck_assert_int_eq(deferred_null, 2);
}
END_TEST

START_TEST(command_line_with_control_chars)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", "bad\x01\xff", "q'\"<&>", NULL };
	struct report *r;
	xmlDocPtr doc;

	r = open_report(xml_path, 3, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(report_close(r), 0);
	doc = parse(xml_path);
	/* quoted like shlex.join, then made valid XML */
	ck_xp_str(doc, "/dfxml/creator/execution_environment/command_line",
		  "tcpflow 'bad\xef\xbf\xbd\xef\xbf\xbd' 'q'\\''\"<&>'");
	xmlFreeDoc(doc);
}
END_TEST

START_TEST(null_report_is_a_no_op)
{
	struct report_flow f;

	flow_v4(&f);
	report_setting(NULL, "a", "b");
	report_source(NULL, "x");
	report_warning(NULL, "w");
	ck_assert_int_eq(report_flow(NULL, &f), 0);
	ck_assert_int_eq(report_flow_begin(NULL, &f), 0);
	ck_assert_int_eq(report_flow_end(NULL), 0);
	ck_assert_int_eq(report_start_element(NULL, "a"), 0);
	ck_assert_int_eq(report_attribute(NULL, "a", "b"), 0);
	ck_assert_int_eq(report_text(NULL, "t"), 0);
	ck_assert_int_eq(report_end_element(NULL), 0);
	ck_assert_int_eq(report_element(NULL, "a", "b"), 0);
	ck_assert_int_eq(report_close(NULL), 0);
}
END_TEST

START_TEST(empty_report_is_well_formed)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", NULL };
	struct report *r;
	xmlDocPtr doc;

	r = open_report(xml_path, 1, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(report_close(r), 0);
	doc = parse(xml_path);
	ck_xp_num(doc, "count(/dfxml/configuration)", 1);
	ck_xp_num(doc, "count(/dfxml/fileobject)", 0);
	ck_xp_num(doc, "count(/dfxml/statistics)", 1);
	ck_xp_str(doc, "/dfxml/creator/execution_environment/command_line", "tcpflow");
	xmlFreeDoc(doc);
}
END_TEST

/* A full disk is never silent: at open, and in the middle of a run. */
START_TEST(write_errors_are_reported)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", NULL };
	struct report_flow f;
	struct report *r;
	struct rlimit old, lim;
	struct stat st;
	int i, rc = 0;

	if (access("/dev/full", W_OK) == 0) {
		r = open_report("/dev/full", 1, argv, err, sizeof err);
		ck_assert_ptr_null(r);
		ck_assert_str_eq(err, strerror(ENOSPC));
	}

	/* a file size limit makes later writes fail with EFBIG */
	r = open_report(xml_path, 1, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_int_eq(stat(xml_path, &st), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 2000;
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	flow_v6(&f);
	/* with a writer the failure is seen once a block is replayed: within
	 * 16 blocks of 64 KiB (a thousand or so entries) */
	for (i = 0; i < 100000 && rc == 0; i++)
		rc = report_flow(r, &f);
	ck_assert_int_eq(rc, -EFBIG);
	ck_assert_int_eq(report_flow(r, &f), -EFBIG);
	ck_assert_int_eq(report_close(r), -EFBIG);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
}
END_TEST

/* The text from <configuration> up to <rusage> (times differ between runs). */
static char *stable_part(const char *path)
{
	char *raw = slurp(path);
	char *a = strstr(raw, "<configuration>"), *b = strstr(raw, "<rusage>");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	*b = '\0';
	char *out = strdup(a);
	free(raw);
	return out;
}

/* Many entries (several blocks of ops, and waits for them) and scanner
 * elements give the same bytes as formatting in the caller. */
START_TEST(writer_same_bytes)
{
	char err[256] = "", other[160];
	char *argv[] = { "tcpflow", NULL };
	struct report_flow f4, f6;
	struct writer *w = test_writer;
	char *a, *b;

	flow_v4(&f4);
	flow_v6(&f6);
	snprintf(other, sizeof other, "%s/report2.xml", tmpdir);
	for (int pass = 0; pass < 2; pass++) {
		test_writer = pass ? w : NULL;
		struct report *r = open_report(pass ? other : xml_path, 1, argv, err, sizeof err);
		ck_assert_msg(r != NULL, "%s", err);
		report_setting(r, "a", "1");
		for (int i = 0; i < 6000; i++) {
			ck_assert_int_eq(report_flow_begin(r, i % 2 ? &f4 : &f6), 0);
			ck_assert_int_eq(report_start_element(r, "hashdigest"), 0);
			ck_assert_int_eq(report_attribute(r, "type", i % 3 ? "MD5" : "q'<&>"), 0);
			ck_assert_int_eq(report_text(r, "d41d8cd98f00b204e9800998ecf8427e"), 0);
			ck_assert_int_eq(report_end_element(r), 0);
			ck_assert_int_eq(report_flow_end(r), 0);
			if (i == 3000)
				report_warning(r, "half way <&>");
		}
		ck_assert_int_eq(report_close(r), 0);
	}
	test_writer = w;
	a = stable_part(xml_path);
	b = stable_part(other);
	ck_assert_uint_gt(strlen(a), 6000 * 300);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

/* With a writer, entries wait in memory until a flush is due (a second
 * after the last one), then reach the file without another call;
 * report_sync and report_close write everything before they return. */
START_TEST(writer_flushes)
{
	char err[256] = "";
	char *argv[] = { "tcpflow", NULL };
	struct report_flow f4;
	struct report *r;
	int n = 0;

	flow_v4(&f4);
	r = open_report(xml_path, 1, argv, err, sizeof err);
	ck_assert_msg(r != NULL, "%s", err);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(report_flow(r, &f4), 0);
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 0);
	usleep(1100 * 1000);
	ck_assert_int_eq(report_flow(r, &f4), 0);
	for (int t = 0; t < 200 && n < 21; t++) {
		usleep(10 * 1000);
		n = count_in_file(xml_path, "</fileobject>");
	}
	ck_assert_int_eq(n, 21);
	ck_assert_int_eq(report_flow(r, &f4), 0);
	report_sync(r);
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 22);
	ck_assert_int_eq(report_flow(r, &f4), 0);
	ck_assert_int_eq(report_close(r), 0);
	ck_assert_int_eq(count_in_file(xml_path, "</fileobject>"), 23);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, full_report_shape);
	tcase_add_test(tc, full_report_flows);
	tcase_add_test(tc, full_report_command_line_and_stats);
	tcase_add_test(tc, unwritable_path);
	tcase_add_test(tc, incremental_and_deterministic);
	tcase_add_test(tc, flushes_by_size_and_age);
	tcase_add_test(tc, hostile_text_and_scanner_elements);
	tcase_add_test(tc, deferred_elements);
	tcase_add_test(tc, command_line_with_control_chars);
	tcase_add_test(tc, null_report_is_a_no_op);
	tcase_add_test(tc, empty_report_is_well_formed);
	tcase_add_test(tc, write_errors_are_reported);
	suite_add_tcase(s, tc);

	/* the same, formatting the XML on writer threads (flushes differ) */
	tc = tcase_create("writer");
	tcase_add_checked_fixture(tc, setup_writer, teardown_writer);
	tcase_add_test(tc, full_report_shape);
	tcase_add_test(tc, full_report_flows);
	tcase_add_test(tc, full_report_command_line_and_stats);
	tcase_add_test(tc, unwritable_path);
	tcase_add_test(tc, incremental_and_deterministic);
	tcase_add_test(tc, writer_flushes);
	tcase_add_test(tc, writer_same_bytes);
	tcase_add_test(tc, hostile_text_and_scanner_elements);
	tcase_add_test(tc, deferred_elements);
	tcase_add_test(tc, command_line_with_control_chars);
	tcase_add_test(tc, null_report_is_a_no_op);
	tcase_add_test(tc, empty_report_is_well_formed);
	tcase_add_test(tc, write_errors_are_reported);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	xmlCleanupParser();
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
