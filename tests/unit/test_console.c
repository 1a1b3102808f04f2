/* Unit tests for core/console.c: the text, hex and JSON formats, -b, -g, -0,
 * and write errors. Output goes to an open_memstream buffer. */
#include "console.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cap {
	FILE *fp;
	char *buf;
	size_t len;
};

static struct console *open_console(struct cap *c, struct console_opts o)
{
	char err[128];
	c->buf = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->buf, &c->len);
	ck_assert_ptr_nonnull(c->fp);
	struct console *con = console_new(&o, c->fp, err, sizeof err);
	ck_assert_ptr_nonnull(con);
	return con;
}

/* Free the console, return what it printed (caller frees). */
static char *finish(struct console *con, struct cap *c)
{
	ck_assert_int_eq(console_free(con), 0);
	fclose(c->fp);
	return c->buf;
}

static void flow4(struct tcp_flow *f)
{
	memset(f, 0, sizeof *f);
	f->file.id.src.family = 4;
	f->file.id.dst.family = 4;
	memcpy(f->file.id.src.bytes, "\xc0\xa8\x01\x02", 4);
	memcpy(f->file.id.dst.bytes, "\x0a\x00\x00\x01", 4);
	f->file.id.sport = 1234;
	f->file.id.dport = 80;
}

START_TEST(text_header_and_strip)
{
	struct cap c;
	struct tcp_flow f;
	flow4(&f);
	struct console *con = open_console(&c, (struct console_opts){ .header = 1, .strip = 1 });
	console_data(con, &f, 0, "NAME", 0, (const uint8_t *)"GET /\r\n\x01\xff\x7fok", 12);
	char *out = finish(con, &c);
	ck_assert_str_eq(out, "NAME: GET /\r\n...ok\n");
	free(out);
}
END_TEST

START_TEST(text_binary_no_header_no_newline)
{
	struct cap c;
	struct tcp_flow f;
	flow4(&f);
	struct console *con = open_console(&c, (struct console_opts){ .no_newline = 1 });
	console_data(con, &f, 0, "NAME", 0, (const uint8_t *)"a\0b", 3);
	console_data(con, &f, 0, "NAME", 3, (const uint8_t *)"\x01", 1);
	char *out = finish(con, &c);
	ck_assert_uint_eq(c.len, 4);
	ck_assert(memcmp(out, "a\0b\x01", 4) == 0);
	free(out);
}
END_TEST

START_TEST(hex_layout)
{
	struct cap c;
	struct tcp_flow f;
	flow4(&f);
	uint8_t data[35];
	for (int i = 0; i < 35; i++)
		data[i] = (uint8_t)(0x41 + i);
	data[1] = 0;
	struct console *con = open_console(&c, (struct console_opts){ .header = 1, .hex = 1 });
	console_data(con, &f, 0, "N", 0, data, 35);
	console_data(con, &f, 0, "N", 35, (const uint8_t *)"GET", 3);
	char *out = finish(con, &c);
	/* 1.6's layout: the ASCII column aligned with the widest line of the piece,
	 * a short piece not padded at all */
	char want[512];
	snprintf(want, sizeof want, "N: \n%-86s %s\n%-86s %s\n\nN: \n0000: 4745 54 GET\n\n",
		 "0000: 4100 4344 4546 4748 494a 4b4c 4d4e 4f50 5152 5354 5556 5758 595a 5b5c "
		 "5d5e 5f60 ", "A.CDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`", "0020: 6162 63", "abc");
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

START_TEST(json_text_and_escapes)
{
	struct cap c;
	struct tcp_flow f;
	flow4(&f);
	struct console *con = open_console(&c, (struct console_opts){ .json = 1, .header = 1 });
	const char *s = "\"q\\\x01\t\xc3\xa9\xe2\x82\xac";
	console_data(con, &f, 1, "x/\"n\"", 7, (const uint8_t *)s, (uint32_t)strlen(s));
	char *out = finish(con, &c);
	ck_assert_str_eq(out,
		"{\"src_host\":\"192.168.1.2\",\"src_port\":1234,\"dst_host\":\"10.0.0.1\",\"dst_port\":80,"
		"\"flow\":\"x/\\\"n\\\"\",\"offset\":7,\"length\":10,"
		"\"payload\":\"\\\"q\\\\\\u0001\\t\xc3\xa9\xe2\x82\xac\"}\n");
	free(out);
}
END_TEST

START_TEST(json_binary_base64_and_ipv6)
{
	struct cap c;
	struct tcp_flow f;
	memset(&f, 0, sizeof f);
	f.file.id.src.family = 6;
	f.file.id.dst.family = 6;
	memcpy(f.file.id.src.bytes, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	memcpy(f.file.id.dst.bytes, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	f.file.id.sport = 443;
	f.file.id.dport = 50000;
	struct console *con = open_console(&c, (struct console_opts){ .json = 1 });
	/* invalid UTF-8: an overlong '/', a lone surrogate, a cut sequence */
	console_data(con, &f, 0, "v6", 0, (const uint8_t *)"\xc0\xaf", 2);
	console_data(con, &f, 0, "v6", 2, (const uint8_t *)"\xed\xa0\x80", 3);
	console_data(con, &f, 0, "v6", 5, (const uint8_t *)"ab\xe2\x82", 4);
	console_data(con, &f, 0, "v6", 9, (const uint8_t *)"\0", 1);
	char *out = finish(con, &c);
	const char *head = "{\"src_host\":\"2001:db8::1\",\"src_port\":443,\"dst_host\":\"2001:db8::2\","
			   "\"dst_port\":50000,\"flow\":\"v6\",";
	char want[1024];
	snprintf(want, sizeof want,
		 "%s\"offset\":0,\"length\":2,\"payload_base64\":\"wK8=\"}\n"
		 "%s\"offset\":2,\"length\":3,\"payload_base64\":\"7aCA\"}\n"
		 "%s\"offset\":5,\"length\":4,\"payload_base64\":\"YWLigg==\"}\n"
		 "%s\"offset\":9,\"length\":1,\"payload\":\"\\u0000\"}\n", head, head, head, head);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

START_TEST(max_bytes_and_colours)
{
	struct cap c;
	struct tcp_flow f;
	flow4(&f);
	struct console *con = open_console(&c, (struct console_opts){
		.header = 1, .strip = 1, .color = 1, .max_bytes = 5 });
	console_data(con, &f, 0, "A", 0, (const uint8_t *)"abc", 3);
	console_data(con, &f, 1, "B", 3, (const uint8_t *)"defg", 4);
	console_data(con, &f, 1, "B", 7, (const uint8_t *)"hij", 3);
	char *out = finish(con, &c);
	ck_assert_str_eq(out, "\033[0;34mA: abc\033[0m\n\033[0;31mB: de\033[0m\n");
	free(out);
}
END_TEST

START_TEST(write_error_reported)
{
	char err[128];
	FILE *fp = fopen("/dev/full", "w");
	if (!fp)
		return;   /* no /dev/full here */
	struct tcp_flow f;
	flow4(&f);
	struct console_opts o = { .header = 1, .flush_each = 1 };
	struct console *con = console_new(&o, fp, err, sizeof err);
	ck_assert_ptr_nonnull(con);
	console_data(con, &f, 0, "A", 0, (const uint8_t *)"abc", 3);
	ck_assert_int_eq(console_error(con), ENOSPC);
	ck_assert_int_eq(console_free(con), -1);
	ck_assert_int_eq(errno, ENOSPC);
	fclose(fp);
}
END_TEST

static Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, text_header_and_strip);
	tcase_add_test(tc, text_binary_no_header_no_newline);
	tcase_add_test(tc, hex_layout);
	tcase_add_test(tc, json_text_and_escapes);
	tcase_add_test(tc, json_binary_base64_and_ipv6);
	tcase_add_test(tc, max_bytes_and_colours);
	tcase_add_test(tc, write_error_reported);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(console_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
