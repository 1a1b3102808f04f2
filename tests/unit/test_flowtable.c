/* Unit tests for core/flowtable.c: keys in both directions, tombstones,
 * growth, the activity and retired lists, the session-ordered snapshot. */
#include "flowtable.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct flow_key key4(uint32_t a, uint32_t b, uint16_t sport, uint16_t dport)
{
	struct flow_key k;
	memset(&k, 0, sizeof k);
	k.family = 4;
	k.sport = sport;
	k.dport = dport;
	for (int i = 0; i < 4; i++) {
		k.src[i] = (uint8_t)(a >> (24 - 8 * i));
		k.dst[i] = (uint8_t)(b >> (24 - 8 * i));
	}
	return k;
}

static struct flow_key reversed(const struct flow_key *k)
{
	struct flow_key r = *k;
	r.sport = k->dport;
	r.dport = k->sport;
	memcpy(r.src, k->dst, 16);
	memcpy(r.dst, k->src, 16);
	return r;
}

/* The i-th of many distinct keys (IPv4 and IPv6 mixed, some with VLANs). */
static struct flow_key nth_key(uint32_t i)
{
	struct flow_key k = key4(0x0a000000u + (i >> 8), 0xc0a80000u + (i & 0xff),
				 (uint16_t)(1024 + i % 50000), 80);
	if (i % 3 == 1) {
		k.family = 6;
		k.src[15] = (uint8_t)i;
		k.dst[8] = 0xfe;
	}
	if (i % 5 == 2) {
		k.has_vlan = 1;
		k.vlan = (uint16_t)(i % 4096);
	}
	return k;
}

START_TEST(insert_find_both_directions)
{
	struct flowtable *t = flowtable_new();
	ck_assert_ptr_nonnull(t);
	struct flow_key k = key4(0x0a000001, 0x0a000002, 40000, 80);
	int dir = -1;
	ck_assert_ptr_null(flowtable_find(t, &k, &dir));
	struct conn *c = flowtable_insert(t, &k);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->session_id, 1);
	ck_assert_uint_eq(c->closed, 0);
	ck_assert_mem_eq(&c->key, &k, sizeof k);
	ck_assert_uint_eq(flowtable_count(t), 1);

	ck_assert_ptr_eq(flowtable_find(t, &k, &dir), c);
	ck_assert_int_eq(dir, 0);
	struct flow_key r = reversed(&k);
	dir = -1;
	ck_assert_ptr_eq(flowtable_find(t, &r, &dir), c);
	ck_assert_int_eq(dir, 1);

	/* a second connection: session ids in creation order */
	struct flow_key k2 = key4(0x0a000001, 0x0a000002, 40001, 80);
	struct conn *c2 = flowtable_insert(t, &k2);
	ck_assert_uint_eq(c2->session_id, 2);
	ck_assert_ptr_eq(flowtable_find(t, &k2, &dir), c2);
	ck_assert_int_eq(dir, 0);
	ck_assert_ptr_eq(flowtable_find(t, &k, &dir), c);
	ck_assert_uint_eq(flowtable_count(t), 2);
	flowtable_free(t);
}
END_TEST

START_TEST(key_parts)
{
	struct flowtable *t = flowtable_new();
	struct flow_key k = key4(0x01020304, 0x05060708, 1111, 2222);
	struct conn *c = flowtable_insert(t, &k);
	int dir;

	/* VLAN is part of the key */
	struct flow_key v = k;
	v.has_vlan = 1;
	v.vlan = 0;
	ck_assert_ptr_null(flowtable_find(t, &v, &dir));
	v.vlan = 100;
	ck_assert_ptr_null(flowtable_find(t, &v, &dir));
	struct conn *cv = flowtable_insert(t, &v);
	ck_assert_ptr_ne(cv, c);
	struct flow_key v2 = v;
	v2.vlan = 101;
	ck_assert_ptr_null(flowtable_find(t, &v2, &dir));
	struct flow_key vr = reversed(&v);
	ck_assert_ptr_eq(flowtable_find(t, &vr, &dir), cv);
	ck_assert_int_eq(dir, 1);

	/* family is part of the key: same bytes as IPv6 */
	struct flow_key f6 = k;
	f6.family = 6;
	ck_assert_ptr_null(flowtable_find(t, &f6, &dir));

	/* ports swapped without the addresses (or the reverse) is another flow */
	struct flow_key ps = k;
	ps.sport = k.dport;
	ps.dport = k.sport;
	ck_assert_ptr_null(flowtable_find(t, &ps, &dir));
	struct flow_key as = k;
	memcpy(as.src, k.dst, 16);
	memcpy(as.dst, k.src, 16);
	ck_assert_ptr_null(flowtable_find(t, &as, &dir));
	/* one address byte differs */
	struct flow_key ab = k;
	ab.dst[3] ^= 1;
	ck_assert_ptr_null(flowtable_find(t, &ab, &dir));

	/* a connection to itself (same endpoint both ways) is direction 0 */
	struct flow_key self = key4(0x7f000001, 0x7f000001, 5000, 5000);
	struct conn *cs = flowtable_insert(t, &self);
	ck_assert_ptr_eq(flowtable_find(t, &self, &dir), cs);
	ck_assert_int_eq(dir, 0);

	ck_assert_ptr_eq(flowtable_find(t, &k, &dir), c);
	ck_assert_int_eq(dir, 0);
	flowtable_free(t);
}
END_TEST

START_TEST(key_from_pkt)
{
	struct pkt p;
	memset(&p, 0xee, sizeof p);     /* garbage everywhere not set below */
	p.src.family = p.dst.family = 4;
	static const uint8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };
	memcpy(p.src.bytes, a, 4);
	memcpy(p.dst.bytes, b, 4);
	p.sport = 10;
	p.dport = 20;
	p.has_vlan = 0;
	p.vlan = 0xfff;
	struct flow_key k;
	flow_key_from_pkt(&k, &p);
	struct flow_key want = key4(0x01020304, 0x05060708, 10, 20);
	ck_assert_mem_eq(&k, &want, sizeof k);   /* unused address bytes and VLAN zeroed */

	p.has_vlan = 1;
	p.vlan = 42;
	flow_key_from_pkt(&k, &p);
	ck_assert_uint_eq(k.has_vlan, 1);
	ck_assert_uint_eq(k.vlan, 42);

	p.src.family = p.dst.family = 6;
	for (int i = 0; i < 16; i++) {
		p.src.bytes[i] = (uint8_t)i;
		p.dst.bytes[i] = (uint8_t)(0xf0 + i);
	}
	flow_key_from_pkt(&k, &p);
	ck_assert_uint_eq(k.family, 6);
	ck_assert_mem_eq(k.src, p.src.bytes, 16);
	ck_assert_mem_eq(k.dst, p.dst.bytes, 16);
}
END_TEST

START_TEST(remove_with_tombstones)
{
	struct flowtable *t = flowtable_new();
	enum { N = 600 };       /* dense enough in 1024 slots to form probe chains */
	struct conn *cs[N];
	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = nth_key(i);
		cs[i] = flowtable_insert(t, &k);
		ck_assert_ptr_nonnull(cs[i]);
	}
	ck_assert_uint_eq(flowtable_count(t), N);
	for (uint32_t i = 0; i < N; i += 2)
		flowtable_remove(t, cs[i]);
	ck_assert_uint_eq(flowtable_count(t), N / 2);
	int dir;
	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = nth_key(i);
		struct flow_key r = reversed(&k);
		struct conn *c = flowtable_find(t, &k, &dir);
		if (i % 2 == 0) {
			ck_assert_ptr_null(c);
			ck_assert_ptr_null(flowtable_find(t, &r, &dir));
		} else {
			ck_assert_ptr_eq(c, cs[i]);
			ck_assert_int_eq(dir, 0);
			ck_assert_ptr_eq(flowtable_find(t, &r, &dir), cs[i]);
			ck_assert_int_eq(dir, 1);
		}
	}
	/* re-insert the removed ones (into tombstones), remove and insert again
	 * many times: the table never fills up with tombstones */
	for (int round = 0; round < 20; round++) {
		for (uint32_t i = 0; i < N; i += 2) {
			struct flow_key k = nth_key(i);
			cs[i] = flowtable_insert(t, &k);
			ck_assert_ptr_nonnull(cs[i]);
		}
		for (uint32_t i = 0; i < N; i += 2)
			flowtable_remove(t, cs[i]);
	}
	ck_assert_uint_eq(flowtable_count(t), N / 2);
	for (uint32_t i = 1; i < N; i += 2) {
		struct flow_key k = nth_key(i);
		ck_assert_ptr_eq(flowtable_find(t, &k, &dir), cs[i]);
	}
	/* remove everything: table empty, nothing findable */
	for (uint32_t i = 1; i < N; i += 2)
		flowtable_remove(t, cs[i]);
	ck_assert_uint_eq(flowtable_count(t), 0);
	ck_assert_ptr_null(flowtable_oldest(t));
	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = nth_key(i);
		ck_assert_ptr_null(flowtable_find(t, &k, &dir));
	}
	flowtable_free(t);
}
END_TEST

START_TEST(growth_100000)
{
	struct flowtable *t = flowtable_new();
	enum { N = 100000 };
	struct conn **cs = malloc(N * sizeof *cs);
	ck_assert_ptr_nonnull(cs);
	/* (one assertion per loop: Check records every assertion it passes) */
	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = nth_key(i);
		cs[i] = flowtable_insert(t, &k);
		if (!cs[i] || cs[i]->session_id != i + 1)
			ck_abort_msg("insert %u", i);
	}
	ck_assert_uint_eq(flowtable_count(t), N);
	int dir;
	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = nth_key(i);
		int d0 = -1, d1 = -1;
		struct conn *c0 = flowtable_find(t, &k, &d0);
		struct flow_key r = reversed(&k);
		struct conn *c1 = flowtable_find(t, &r, &d1);
		if (c0 != cs[i] || d0 != 0 || c1 != cs[i] || d1 != 1)
			ck_abort_msg("find %u: %p/%d %p/%d", i, (void *)c0, d0, (void *)c1, d1);
	}
	for (uint32_t i = 0; i < N; i += 2)
		flowtable_remove(t, cs[i]);
	ck_assert_uint_eq(flowtable_count(t), N / 2);
	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = nth_key(i);
		struct conn *c = flowtable_find(t, &k, &dir);
		if (c != (i % 2 ? cs[i] : NULL))
			ck_abort_msg("find %u after removals: %p", i, (void *)c);
	}
	/* the activity list still links exactly the survivors, oldest first */
	size_t n = 0;
	uint64_t last = 0;
	for (struct conn *c = flowtable_oldest(t); c; c = c->act_next) {
		/* odd i = even session id */
		if (c->session_id <= last || c->session_id % 2 != 0)
			ck_abort_msg("activity list: %llu after %llu",
				     (unsigned long long)c->session_id, (unsigned long long)last);
		last = c->session_id;
		n++;
	}
	ck_assert_uint_eq(n, N / 2);
	free(cs);
	flowtable_free(t);   /* frees the remaining 50000 (ASan checks leaks) */
}
END_TEST

static void check_activity(struct flowtable *t, struct conn *const *want, size_t n)
{
	struct conn *c = flowtable_oldest(t);
	struct conn *prev = NULL;
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_eq(c, want[i]);
		ck_assert_ptr_eq(c->act_prev, prev);
		prev = c;
		c = c->act_next;
	}
	ck_assert_ptr_null(c);
}

START_TEST(activity_order)
{
	struct flowtable *t = flowtable_new();
	ck_assert_ptr_null(flowtable_oldest(t));
	struct conn *c[4];
	for (uint32_t i = 0; i < 4; i++) {
		struct flow_key k = nth_key(i);
		c[i] = flowtable_insert(t, &k);
	}
	struct conn *o1[] = { c[0], c[1], c[2], c[3] };
	check_activity(t, o1, 4);
	flowtable_touch(t, c[0], 100);
	ck_assert_int_eq(c[0]->last_sec, 100);
	struct conn *o2[] = { c[1], c[2], c[3], c[0] };
	check_activity(t, o2, 4);
	flowtable_touch(t, c[2], 101);
	struct conn *o3[] = { c[1], c[3], c[0], c[2] };
	check_activity(t, o3, 4);
	flowtable_touch(t, c[2], 102);            /* already the newest */
	ck_assert_int_eq(c[2]->last_sec, 102);
	check_activity(t, o3, 4);
	/* removing the middle and the ends keeps the links right */
	flowtable_remove(t, c[3]);
	struct conn *o4[] = { c[1], c[0], c[2] };
	check_activity(t, o4, 3);
	flowtable_remove(t, c[1]);
	struct conn *o5[] = { c[0], c[2] };
	check_activity(t, o5, 2);
	flowtable_remove(t, c[2]);
	struct conn *o6[] = { c[0] };
	check_activity(t, o6, 1);
	flowtable_touch(t, c[0], 103);
	check_activity(t, o6, 1);
	flowtable_free(t);
}
END_TEST

START_TEST(retire)
{
	struct flowtable *t = flowtable_new();
	struct conn *c[4];
	for (uint32_t i = 0; i < 4; i++) {
		struct flow_key k = nth_key(i);
		c[i] = flowtable_insert(t, &k);
	}
	ck_assert_ptr_null(flowtable_oldest_retired(t));
	ck_assert_uint_eq(flowtable_retired_count(t), 0);

	flowtable_retire(t, c[1]);
	ck_assert_uint_eq(c[1]->closed, 1);
	ck_assert_ptr_eq(flowtable_oldest_retired(t), c[1]);
	ck_assert_uint_eq(flowtable_retired_count(t), 1);
	struct conn *a1[] = { c[0], c[2], c[3] };
	check_activity(t, a1, 3);
	ck_assert_uint_eq(flowtable_count(t), 4);      /* still in the table */
	int dir;
	struct flow_key k1 = nth_key(1);
	ck_assert_ptr_eq(flowtable_find(t, &k1, &dir), c[1]);

	/* retiring twice changes nothing */
	flowtable_retire(t, c[1]);
	ck_assert_uint_eq(flowtable_retired_count(t), 1);

	flowtable_retire(t, c[0]);
	ck_assert_ptr_eq(flowtable_oldest_retired(t), c[1]);
	ck_assert_uint_eq(flowtable_retired_count(t), 2);
	ck_assert_ptr_eq(flowtable_oldest(t), c[2]);

	/* touching a retired connection updates its time, not the lists */
	flowtable_touch(t, c[1], 500);
	ck_assert_int_eq(c[1]->last_sec, 500);
	ck_assert_ptr_eq(flowtable_oldest_retired(t), c[1]);
	struct conn *a2[] = { c[2], c[3] };
	check_activity(t, a2, 2);

	/* removing a retired one unlinks it from the retired list */
	flowtable_remove(t, c[1]);
	ck_assert_ptr_eq(flowtable_oldest_retired(t), c[0]);
	ck_assert_uint_eq(flowtable_retired_count(t), 1);
	ck_assert_uint_eq(flowtable_count(t), 3);
	ck_assert_ptr_null(flowtable_find(t, &k1, &dir));
	flowtable_remove(t, c[0]);
	ck_assert_ptr_null(flowtable_oldest_retired(t));
	ck_assert_uint_eq(flowtable_retired_count(t), 0);
	check_activity(t, a2, 2);
	flowtable_free(t);
}
END_TEST

START_TEST(snapshot)
{
	struct flowtable *t = flowtable_new();
	size_t n = 99;
	ck_assert_ptr_null(flowtable_snapshot(t, &n));
	ck_assert_uint_eq(n, 0);
	struct conn *c[6];
	for (uint32_t i = 0; i < 6; i++) {
		struct flow_key k = nth_key(i);
		c[i] = flowtable_insert(t, &k);
	}
	/* activity order becomes 3 0 5 1 2 (4 retired), snapshot is by session */
	flowtable_touch(t, c[1], 1);
	flowtable_touch(t, c[2], 2);
	flowtable_touch(t, c[0], 3);
	flowtable_touch(t, c[5], 4);
	flowtable_touch(t, c[1], 5);
	flowtable_touch(t, c[2], 6);
	flowtable_retire(t, c[4]);
	struct conn **v = flowtable_snapshot(t, &n);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(n, 5);
	ck_assert_ptr_eq(v[0], c[0]);
	ck_assert_ptr_eq(v[1], c[1]);
	ck_assert_ptr_eq(v[2], c[2]);
	ck_assert_ptr_eq(v[3], c[3]);
	ck_assert_ptr_eq(v[4], c[5]);
	free(v);
	/* all retired: nothing */
	for (int i = 0; i < 6; i++)
		flowtable_retire(t, c[i]);
	n = 99;
	ck_assert_ptr_null(flowtable_snapshot(t, &n));
	ck_assert_uint_eq(n, 0);
	flowtable_free(t);
}
END_TEST

START_TEST(snapshot_many)
{
	struct flowtable *t = flowtable_new();
	enum { N = 3000 };
	struct conn **cs = malloc(N * sizeof *cs);
	ck_assert_ptr_nonnull(cs);
	for (uint32_t i = 0; i < N; i++) {
		struct flow_key k = nth_key(i);
		cs[i] = flowtable_insert(t, &k);
	}
	/* scramble the activity order */
	for (uint32_t i = 0; i < N; i++)
		flowtable_touch(t, cs[(i * 7919u) % N], i);
	for (uint32_t i = 0; i < N; i += 3)
		flowtable_retire(t, cs[i]);
	size_t n;
	struct conn **v = flowtable_snapshot(t, &n);
	ck_assert_uint_eq(n, N - N / 3);
	size_t j = 0;
	for (uint32_t i = 0; i < N; i++)
		if (i % 3)
			ck_assert_ptr_eq(v[j++], cs[i]);
	free(v);
	free(cs);
	flowtable_free(t);
}
END_TEST

static Suite *flowtable_suite(void)
{
	Suite *s = suite_create("flowtable");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, insert_find_both_directions);
	tcase_add_test(tc, key_parts);
	tcase_add_test(tc, key_from_pkt);
	tcase_add_test(tc, remove_with_tombstones);
	tcase_add_test(tc, growth_100000);
	tcase_add_test(tc, activity_order);
	tcase_add_test(tc, retire);
	tcase_add_test(tc, snapshot);
	tcase_add_test(tc, snapshot_many);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(flowtable_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
