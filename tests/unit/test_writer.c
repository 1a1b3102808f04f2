/* Unit tests for core/writer.c: a file's jobs (writes and calls) run in the
 * order they were submitted, a write error surfaces at writer_wait, a call
 * that no thread has started is made by the waiting caller, and detached
 * jobs run in order on a thread of their own, which writer_drain waits
 * for (without memory for one, on the caller's thread, still in order). */
#include "writer.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A call that records which thread made it and in what order. */
struct mark {
	pthread_t by;
	int seq;
};

static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;
static int seq_next;

static void record(void *arg)
{
	struct mark *m = arg;
	pthread_mutex_lock(&seq_lock);
	m->by = pthread_self();
	m->seq = ++seq_next;
	pthread_mutex_unlock(&seq_lock);
}

/* A call that holds its thread until the test lets it go. */
struct gate {
	int fds[2];
	int entered;
};

static void hold(void *arg)
{
	struct gate *g = arg;
	char c;
	pthread_mutex_lock(&seq_lock);
	g->entered = 1;
	pthread_mutex_unlock(&seq_lock);
	if (read(g->fds[0], &c, 1) != 1)
		abort();
}

static int gate_entered(struct gate *g)
{
	pthread_mutex_lock(&seq_lock);
	int e = g->entered;
	pthread_mutex_unlock(&seq_lock);
	return e;
}

/* calloc as the code under test sees it (linked with --wrap=calloc): the
 * next fail_callocs calls fail, as without memory. */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static int fail_callocs;

void *__wrap_calloc(size_t n, size_t size)
{
	if (__atomic_load_n(&fail_callocs, __ATOMIC_SEQ_CST) > 0) {
		__atomic_sub_fetch(&fail_callocs, 1, __ATOMIC_SEQ_CST);
		return NULL;
	}
	return __real_calloc(n, size);
}

static uint8_t *copy_of(const char *s)
{
	size_t n = strlen(s);
	uint8_t *b = malloc(n);
	ck_assert_ptr_nonnull(b);
	memcpy(b, s, n);
	return b;
}

START_TEST(jobs_of_a_file_in_order)
{
	struct writer *w = writer_new(1 << 20, 4096);
	ck_assert_ptr_nonnull(w);
	FILE *tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	int fd = fileno(tmp);
	struct writer_file wf = { 0 };
	struct mark m1 = { 0 }, m2 = { 0 };
	seq_next = 0;
	writer_call(w, &wf, record, &m1);
	writer_submit(w, &wf, fd, 0, copy_of("hello "), 6, 6);
	writer_submit(w, &wf, fd, 6, copy_of("world"), 5, 5);
	writer_call(w, &wf, record, &m2);
	ck_assert_int_eq(writer_wait(w, &wf), 0);
	ck_assert_uint_eq(wf.pending, 0);
	ck_assert_int_eq(m1.seq, 1);
	ck_assert_int_eq(m2.seq, 2);
	char got[16] = { 0 };
	ck_assert_int_eq(pread(fd, got, sizeof got, 0), 11);
	ck_assert_str_eq(got, "hello world");
	writer_free(w);
	fclose(tmp);
}
END_TEST

START_TEST(write_error_at_wait)
{
	struct writer *w = writer_new(1 << 20, 4096);
	ck_assert_ptr_nonnull(w);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct writer_file wf = { 0 };
	writer_submit(w, &wf, p[1], 0, copy_of("x"), 1, 1);   /* pwrite on a pipe */
	ck_assert_int_eq(writer_wait(w, &wf), ESPIPE);
	ck_assert_int_eq(writer_wait(w, &wf), 0);              /* reported once */
	writer_free(w);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* Two files on the same thread: while the first one's call holds the
 * thread, waiting for the second one's call makes it in the waiting thread,
 * at once. */
START_TEST(unstarted_call_made_by_waiter)
{
	struct writer *w = writer_new(1 << 20, 4096);
	ck_assert_ptr_nonnull(w);
	/* writer_files on one queue: the queue is chosen by address / 64 */
	struct writer_file *files = calloc(8, 64);
	ck_assert_ptr_nonnull(files);
	struct writer_file *busy = (struct writer_file *)((char *)files + 0);
	struct writer_file *idle = NULL;
	for (int k = 1; k < 8 && !idle; k++) {
		struct writer_file *c = (struct writer_file *)((char *)files + 64 * k);
		if (((uintptr_t)c / 64) % 2 == ((uintptr_t)busy / 64) % 2)
			idle = c;
	}
	ck_assert_ptr_nonnull(idle);
	struct gate g = { .entered = 0 };
	ck_assert_int_eq(pipe(g.fds), 0);
	writer_call(w, busy, hold, &g);
	for (int t = 0; t < 5000 && !gate_entered(&g); t++)
		usleep(1000);
	ck_assert(gate_entered(&g));
	struct mark m = { 0 };
	writer_call(w, idle, record, &m);
	ck_assert_int_eq(writer_wait(w, idle), 0);     /* would block behind hold() */
	ck_assert(pthread_equal(m.by, pthread_self()));
	ck_assert_uint_eq(idle->pending, 0);
	ck_assert_uint_eq(busy->pending, 1);
	ck_assert_int_eq(write(g.fds[1], "g", 1), 1);
	ck_assert_int_eq(writer_wait(w, busy), 0);
	writer_free(w);
	close(g.fds[0]);
	close(g.fds[1]);
	free(files);
}
END_TEST

/* Detached jobs: in submission order, all on one thread that is not the
 * caller's, and not held up by a file's job that holds its thread: drained
 * while both file queues are held. */
START_TEST(detached_jobs_on_their_own_thread)
{
	struct writer *w = writer_new(1 << 20, 4096);
	ck_assert_ptr_nonnull(w);
	/* hold both file queues (files at addresses 64 apart: one per queue) */
	struct writer_file *files = calloc(2, 64);
	ck_assert_ptr_nonnull(files);
	struct gate g[2] = { { .entered = 0 }, { .entered = 0 } };
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(pipe(g[k].fds), 0);
		writer_call(w, (struct writer_file *)((char *)files + 64 * k), hold, &g[k]);
		for (int t = 0; t < 5000 && !gate_entered(&g[k]); t++)
			usleep(1000);
		ck_assert(gate_entered(&g[k]));
	}
	enum { N = 100 };
	struct mark *m = calloc(N, sizeof *m);
	ck_assert_ptr_nonnull(m);
	seq_next = 0;
	for (int i = 0; i < N; i++)
		writer_detach(w, 100, record, &m[i]);
	writer_drain(w);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(m[i].seq, i + 1);
		ck_assert(pthread_equal(m[i].by, m[0].by));
	}
	ck_assert(!pthread_equal(m[0].by, pthread_self()));
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(write(g[k].fds[1], "g", 1), 1);
		ck_assert_int_eq(writer_wait(w, (struct writer_file *)((char *)files + 64 * k)), 0);
		close(g[k].fds[0]);
		close(g[k].fds[1]);
	}
	writer_free(w);
	free(m);
	free(files);
}
END_TEST

/* Opens a gate after a while, and records when. */
struct late_opener {
	struct gate *g;
	struct mark at;
};

static void *open_later(void *arg)
{
	struct late_opener *o = arg;
	usleep(100 * 1000);
	record(&o->at);
	if (write(o->g->fds[1], "g", 1) != 1)
		abort();
	return NULL;
}

/* Without memory for the job, a detached job runs on the caller's thread,
 * but only after the detached jobs before it: in order, and without a
 * descriptor more than the detached thread's. */
START_TEST(detached_job_without_memory_after_the_earlier_ones)
{
	struct writer *w = writer_new(1 << 20, 4096);
	ck_assert_ptr_nonnull(w);
	struct gate g = { .entered = 0 };
	ck_assert_int_eq(pipe(g.fds), 0);
	writer_detach(w, 0, hold, &g);
	for (int t = 0; t < 5000 && !gate_entered(&g); t++)
		usleep(1000);
	ck_assert(gate_entered(&g));
	seq_next = 0;
	struct late_opener o = { .g = &g };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, open_later, &o), 0);
	struct mark m = { 0 };
	__atomic_store_n(&fail_callocs, 1, __ATOMIC_SEQ_CST);
	writer_detach(w, 0, record, &m);
	ck_assert_int_eq(__atomic_load_n(&fail_callocs, __ATOMIC_SEQ_CST), 0);
	ck_assert(pthread_equal(m.by, pthread_self()));
	ck_assert_int_eq(o.at.seq, 1);
	ck_assert_int_eq(m.seq, 2);
	pthread_join(t, NULL);
	writer_free(w);
	close(g.fds[0]);
	close(g.fds[1]);
}
END_TEST

/* writer_free finishes the detached jobs still queued. */
START_TEST(detached_jobs_done_by_free)
{
	struct writer *w = writer_new(1 << 20, 4096);
	ck_assert_ptr_nonnull(w);
	struct mark m[10] = { { 0 } };
	seq_next = 0;
	for (int i = 0; i < 10; i++)
		writer_detach(w, 0, record, &m[i]);
	writer_free(w);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(m[i].seq, i + 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("jobs");
	tcase_add_test(tc, jobs_of_a_file_in_order);
	tcase_add_test(tc, write_error_at_wait);
	tcase_add_test(tc, unstarted_call_made_by_waiter);
	tcase_add_test(tc, detached_jobs_on_their_own_thread);
	tcase_add_test(tc, detached_jobs_done_by_free);
	tcase_add_test(tc, detached_job_without_memory_after_the_earlier_ones);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
