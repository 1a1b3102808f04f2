/* Unit tests for core/cursor.h: every read at its exact length and one byte
 * short. The buffers are malloc'd at their exact size so a read past the end
 * is caught by the sanitizers as well as by the assertions. */
#include "cursor.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *dup_exact(const uint8_t *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(p);
	if (n)
		memcpy(p, src, n);
	return p;
}

static const uint8_t bytes8[8] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0 };

START_TEST(make_and_empty)
{
	struct cursor c = cur_make(bytes8, 8);
	ck_assert_ptr_eq(c.p, bytes8);
	ck_assert_uint_eq(c.left, 8);
	ck_assert_int_eq(c.bad, 0);

	struct cursor e = cur_make(bytes8, 0);
	ck_assert_int_eq(cur_need(&e, 0), 1);
	ck_assert_int_eq(e.bad, 0);
	ck_assert_int_eq(cur_skip(&e, 0), 1);
	ck_assert_int_eq(cur_peek(&e, 0), -1);
	ck_assert_uint_eq(cur_u8(&e), 0);
	ck_assert_int_eq(e.bad, 1);
	ck_assert_uint_eq(e.left, 0);
}
END_TEST

START_TEST(u8_exact_and_short)
{
	uint8_t *b = dup_exact(bytes8, 2);
	struct cursor c = cur_make(b, 2);
	ck_assert_uint_eq(cur_u8(&c), 0x12);
	ck_assert_uint_eq(cur_u8(&c), 0x34);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_uint_eq(c.left, 0);
	ck_assert_ptr_eq(c.p, b + 2);
	ck_assert_uint_eq(cur_u8(&c), 0);
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 0);
	ck_assert_ptr_eq(c.p, b + 2);
	free(b);
}
END_TEST

START_TEST(be16_le16)
{
	uint8_t *b = dup_exact(bytes8, 2);
	struct cursor c = cur_make(b, 2);
	ck_assert_uint_eq(cur_be16(&c), 0x1234);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_uint_eq(c.left, 0);
	c = cur_make(b, 2);
	ck_assert_uint_eq(cur_le16(&c), 0x3412);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_uint_eq(c.left, 0);
	free(b);

	/* one byte short */
	b = dup_exact(bytes8, 1);
	c = cur_make(b, 1);
	ck_assert_uint_eq(cur_be16(&c), 0);
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 1);
	ck_assert_ptr_eq(c.p, b);
	c = cur_make(b, 1);
	ck_assert_uint_eq(cur_le16(&c), 0);
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 1);
	ck_assert_ptr_eq(c.p, b);
	free(b);
}
END_TEST

START_TEST(be32_le32)
{
	uint8_t *b = dup_exact(bytes8, 4);
	struct cursor c = cur_make(b, 4);
	ck_assert_uint_eq(cur_be32(&c), 0x12345678u);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_uint_eq(c.left, 0);
	c = cur_make(b, 4);
	ck_assert_uint_eq(cur_le32(&c), 0x78563412u);
	ck_assert_int_eq(c.bad, 0);
	free(b);

	/* high bit set: no sign extension */
	b = dup_exact(bytes8 + 4, 4);
	c = cur_make(b, 4);
	ck_assert_uint_eq(cur_be32(&c), 0x9abcdef0u);
	c = cur_make(b, 4);
	ck_assert_uint_eq(cur_le32(&c), 0xf0debc9au);
	c = cur_make(b, 2);
	ck_assert_uint_eq(cur_be16(&c), 0x9abc);
	free(b);

	b = dup_exact(bytes8, 3);
	c = cur_make(b, 3);
	ck_assert_uint_eq(cur_be32(&c), 0);
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 3);
	ck_assert_ptr_eq(c.p, b);
	c = cur_make(b, 3);
	ck_assert_uint_eq(cur_le32(&c), 0);
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 3);
	free(b);
}
END_TEST

START_TEST(sequence_of_reads)
{
	uint8_t *b = dup_exact(bytes8, 8);
	struct cursor c = cur_make(b, 8);
	ck_assert_uint_eq(cur_u8(&c), 0x12);
	ck_assert_uint_eq(cur_be16(&c), 0x3456);
	ck_assert_uint_eq(cur_le32(&c), 0xdebc9a78u);
	ck_assert_uint_eq(c.left, 1);
	ck_assert_uint_eq(cur_be16(&c), 0);       /* 1 left, 2 wanted */
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 1);
	free(b);
}
END_TEST

START_TEST(bad_is_sticky)
{
	uint8_t *b = dup_exact(bytes8, 4);
	struct cursor c = cur_make(b, 3);
	ck_assert_uint_eq(cur_be32(&c), 0);
	ck_assert_int_eq(c.bad, 1);
	c = cur_make(b, 4);
	ck_assert_int_eq(cur_skip(&c, 5), 0);
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 4);
	/* after a failed read nothing more is read, even what would fit */
	ck_assert_uint_eq(cur_u8(&c), 0);
	ck_assert_uint_eq(cur_be16(&c), 0);
	ck_assert_int_eq(cur_skip(&c, 0), 0);
	ck_assert_int_eq(cur_need(&c, 0), 0);
	ck_assert_int_eq(cur_peek(&c, 0), -1);
	uint8_t dst[2] = { 0xee, 0xee };
	ck_assert_int_eq(cur_copy(&c, dst, 1), 0);
	ck_assert_uint_eq(dst[0], 0xee);
	ck_assert_uint_eq(c.left, 4);
	ck_assert_ptr_eq(c.p, b);
	free(b);
}
END_TEST

START_TEST(skip_exact_and_short)
{
	uint8_t *b = dup_exact(bytes8, 8);
	struct cursor c = cur_make(b, 8);
	ck_assert_int_eq(cur_skip(&c, 3), 1);
	ck_assert_ptr_eq(c.p, b + 3);
	ck_assert_uint_eq(c.left, 5);
	ck_assert_uint_eq(cur_u8(&c), 0x78);
	ck_assert_int_eq(cur_skip(&c, 4), 1);
	ck_assert_uint_eq(c.left, 0);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_int_eq(cur_skip(&c, 1), 0);
	ck_assert_int_eq(c.bad, 1);

	c = cur_make(b, 8);
	ck_assert_int_eq(cur_skip(&c, 9), 0);
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 8);
	ck_assert_ptr_eq(c.p, b);

	/* a huge skip does not wrap */
	c = cur_make(b, 8);
	ck_assert_int_eq(cur_skip(&c, SIZE_MAX), 0);
	ck_assert_int_eq(c.bad, 1);
	free(b);
}
END_TEST

START_TEST(copy_exact_and_short)
{
	uint8_t *b = dup_exact(bytes8, 6);
	uint8_t dst[8];
	memset(dst, 0xaa, sizeof dst);
	struct cursor c = cur_make(b, 6);
	ck_assert_uint_eq(cur_u8(&c), 0x12);
	ck_assert_int_eq(cur_copy(&c, dst, 5), 1);
	ck_assert_mem_eq(dst, bytes8 + 1, 5);
	ck_assert_uint_eq(dst[5], 0xaa);
	ck_assert_uint_eq(c.left, 0);
	ck_assert_int_eq(c.bad, 0);

	memset(dst, 0xaa, sizeof dst);
	c = cur_make(b, 6);
	ck_assert_uint_eq(cur_u8(&c), 0x12);
	ck_assert_int_eq(cur_copy(&c, dst, 6), 0);    /* 5 left */
	ck_assert_int_eq(c.bad, 1);
	ck_assert_uint_eq(c.left, 5);
	for (size_t i = 0; i < sizeof dst; i++)
		ck_assert_uint_eq(dst[i], 0xaa);            /* nothing copied */

	c = cur_make(b, 6);
	ck_assert_int_eq(cur_copy(&c, dst, 0), 1);
	ck_assert_uint_eq(c.left, 6);
	free(b);
}
END_TEST

START_TEST(peek)
{
	uint8_t *b = dup_exact(bytes8, 3);
	struct cursor c = cur_make(b, 3);
	ck_assert_int_eq(cur_peek(&c, 0), 0x12);
	ck_assert_int_eq(cur_peek(&c, 2), 0x56);
	ck_assert_int_eq(cur_peek(&c, 3), -1);
	ck_assert_int_eq(cur_peek(&c, SIZE_MAX), -1);
	ck_assert_int_eq(c.bad, 0);                   /* peeking never marks bad */
	ck_assert_uint_eq(c.left, 3);
	ck_assert_uint_eq(cur_u8(&c), 0x12);
	ck_assert_int_eq(cur_peek(&c, 0), 0x34);
	ck_assert_int_eq(cur_peek(&c, 1), 0x56);
	ck_assert_int_eq(cur_peek(&c, 2), -1);
	free(b);

	/* 0xff peeks as 255, not as -1 */
	static const uint8_t ff = 0xff;
	c = cur_make(&ff, 1);
	ck_assert_int_eq(cur_peek(&c, 0), 255);
}
END_TEST

START_TEST(every_length)
{
	/* For each length 0..8, reads of every width succeed exactly when they fit. */
	for (size_t n = 0; n <= 8; n++) {
		uint8_t *b = dup_exact(bytes8, n);
		size_t widths[] = { 1, 2, 4, 8 };
		for (size_t w = 0; w < 4; w++) {
			struct cursor c = cur_make(b, n);
			size_t reads = 0;
			for (;;) {
				int ok;
				switch (widths[w]) {
				case 1: cur_u8(&c); break;
				case 2: cur_be16(&c); break;
				case 4: cur_le32(&c); break;
				default: { uint8_t d[8]; cur_copy(&c, d, 8); break; }
				}
				ok = !c.bad;
				if (!ok)
					break;
				reads++;
			}
			ck_assert_uint_eq(reads, n / widths[w]);
			ck_assert_uint_eq(c.left, n % widths[w]);
		}
		free(b);
	}
}
END_TEST

static Suite *cursor_suite(void)
{
	Suite *s = suite_create("cursor");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, make_and_empty);
	tcase_add_test(tc, u8_exact_and_short);
	tcase_add_test(tc, be16_le16);
	tcase_add_test(tc, be32_le32);
	tcase_add_test(tc, sequence_of_reads);
	tcase_add_test(tc, bad_is_sticky);
	tcase_add_test(tc, skip_exact_and_short);
	tcase_add_test(tc, copy_exact_and_short);
	tcase_add_test(tc, peek);
	tcase_add_test(tc, every_length);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cursor_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
