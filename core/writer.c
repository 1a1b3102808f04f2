/* Block writes in the background (see writer.h). A few threads, each with
 * its own queue; a file's writes always go to the same queue, so they are
 * done in order, while different files are written in parallel (the
 * kernel's copy into the page cache scales across files). */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
	struct job *next;
	struct writer_file *wf;
	void (*fn)(void *);       /* a call (writer_call) instead of a write */
	void *arg;
	int fd;
	uint64_t off;
	uint8_t *buf;
	size_t len, cap;
};

/* Written buffers of buf_size bytes kept for writer_buffer, linked through
 * their first bytes. */
struct spare {
	struct spare *next;
};

/* Files' jobs go to the first WRITER_FILE_QUEUES threads, by file; the last
 * thread does the detached jobs, one after the other: those create files,
 * and two threads creating files in one directory would only contend for
 * it. */
#define WRITER_FILE_QUEUES 2
#define WRITER_THREADS (WRITER_FILE_QUEUES + 1)
#define WRITER_SPARES 8

struct writer;

struct queue {
	struct writer *w;
	pthread_t thread;
	pthread_cond_t work;      /* a job was queued, or stop */
	struct job *head, *tail;
	int started;
};

struct writer {
	struct queue q[WRITER_THREADS];
	unsigned detached;        /* queued or running */
	pthread_mutex_t lock;     /* everything here, all queues and writer_files */
	pthread_cond_t done;      /* a job finished */
	size_t in_flight;         /* bytes queued or being written */
	size_t max_in_flight;
	size_t buf_size;
	struct spare *spares;
	size_t n_spares;
	int stop;
};

int writer_pwrite_all(int fd, const void *data, size_t len, uint64_t off)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (n == 0)
			return EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct queue *q = arg;
	struct writer *w = q->w;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!q->head && !w->stop)
			pthread_cond_wait(&q->work, &w->lock);
		struct job *j = q->head;
		if (!j)
			break;                  /* stop, and nothing left */
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		pthread_mutex_unlock(&w->lock);

		int err = 0;
		if (j->fn)
			j->fn(j->arg);
		else
			err = writer_pwrite_all(j->fd, j->buf, j->len, j->off);

		pthread_mutex_lock(&w->lock);
		/* A few spares: enough to keep big flows going, little memory. */
		if (j->cap == w->buf_size && w->n_spares < WRITER_SPARES) {
			struct spare *sp = (struct spare *)(void *)j->buf;
			sp->next = w->spares;
			w->spares = sp;
			w->n_spares++;
		} else {
			free(j->buf);
		}
		if (j->wf) {
			if (err && !j->wf->err)
				j->wf->err = err;
			j->wf->pending--;
		} else {
			w->detached--;
		}
		w->in_flight -= j->len;
		free(j);
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct writer *writer_new(size_t max_in_flight, size_t buf_size)
{
	struct writer *w = calloc(1, sizeof *w);
	sigset_t all, old;

	if (!w || buf_size < sizeof(struct spare)) {
		free(w);
		return NULL;
	}
	w->max_in_flight = max_in_flight;
	w->buf_size = buf_size;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->done, NULL);
	/* The threads start with every signal blocked, so SIGINT, SIGTERM and
	 * SIGCHLD keep reaching the packet loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int ok = 1;
	for (int i = 0; i < WRITER_THREADS && ok; i++) {
		struct queue *q = &w->q[i];
		q->w = w;
		pthread_cond_init(&q->work, NULL);
		q->started = pthread_create(&q->thread, NULL, writer_main, q) == 0;
		ok = q->started;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ok) {
		writer_free(w);
		return NULL;
	}
	return w;
}

uint8_t *writer_buffer(struct writer *w)
{
	struct spare *sp;

	pthread_mutex_lock(&w->lock);
	sp = w->spares;
	if (sp) {
		w->spares = sp->next;
		w->n_spares--;
	}
	pthread_mutex_unlock(&w->lock);
	return sp ? (uint8_t *)(void *)sp : malloc(w->buf_size);
}

/* A file's queue: from its writer_file's address, fixed for its life. */
static struct queue *queue_of(struct writer *w, const struct writer_file *wf)
{
	return &w->q[((uintptr_t)wf / 64) % WRITER_FILE_QUEUES];
}

/* Queue j on its file's thread, waiting while too many bytes are in flight. */
static void enqueue(struct writer *w, struct job *j)
{
	struct queue *q = queue_of(w, j->wf);
	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	while (w->in_flight && w->in_flight + j->len > w->max_in_flight)
		pthread_cond_wait(&w->done, &w->lock);
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	w->in_flight += j->len;
	j->wf->pending++;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&w->lock);
}

void writer_submit(struct writer *w, struct writer_file *wf, int fd, uint64_t off,
		   uint8_t *buf, size_t len, size_t cap)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j) {
		/* No memory for the job: write it here and now. */
		int err = writer_wait(w, wf);
		int err2 = writer_pwrite_all(fd, buf, len, off);
		free(buf);
		pthread_mutex_lock(&w->lock);
		wf->err = err ? err : err2;
		pthread_mutex_unlock(&w->lock);
		return;
	}
	j->wf = wf;
	j->fd = fd;
	j->off = off;
	j->buf = buf;
	j->len = len;
	j->cap = cap;
	enqueue(w, j);
}

void writer_call(struct writer *w, struct writer_file *wf, void (*fn)(void *), void *arg)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j) {
		/* No memory for the job: do it here, after wf's writes. */
		writer_wait(w, wf);
		fn(arg);
		return;
	}
	j->wf = wf;
	j->fn = fn;
	j->arg = arg;
	enqueue(w, j);
}

void writer_detach(struct writer *w, size_t bytes, void (*fn)(void *), void *arg)
{
	struct job *j = calloc(1, sizeof *j);

	if (!j) {
		/* No memory for the job: do it here, after the earlier ones (so
		 * in order, and with the descriptor the detached thread counts
		 * for free). */
		writer_drain(w);
		fn(arg);
		return;
	}
	j->fn = fn;
	j->arg = arg;
	j->len = bytes;
	pthread_mutex_lock(&w->lock);
	while (w->in_flight && w->in_flight + bytes > w->max_in_flight)
		pthread_cond_wait(&w->done, &w->lock);
	struct queue *q = &w->q[WRITER_THREADS - 1];
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	w->in_flight += bytes;
	w->detached++;
	pthread_cond_signal(&q->work);
	pthread_mutex_unlock(&w->lock);
}

void writer_drain(struct writer *w)
{
	pthread_mutex_lock(&w->lock);
	while (w->detached)
		pthread_cond_wait(&w->done, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

/* wf's only job when it is a call still in its queue, taken out of it;
 * else NULL. Under the lock. */
static struct job *take_call(struct writer *w, struct writer_file *wf)
{
	struct queue *q = queue_of(w, wf);
	struct job *prev = NULL;

	if (wf->pending != 1)
		return NULL;
	for (struct job *j = q->head; j; prev = j, j = j->next) {
		if (j->wf != wf)
			continue;
		if (!j->fn)
			return NULL;
		if (prev)
			prev->next = j->next;
		else
			q->head = j->next;
		if (q->tail == j)
			q->tail = prev;
		wf->pending--;
		return j;
	}
	return NULL;            /* being run */
}

int writer_wait(struct writer *w, struct writer_file *wf)
{
	int err;

	pthread_mutex_lock(&w->lock);
	/* A call no thread has started yet is made here: waiting for a thread
	 * to wake up and make it would only add the hand-over to its cost. */
	struct job *j = take_call(w, wf);
	if (j) {
		pthread_mutex_unlock(&w->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&w->lock);
	}
	while (wf->pending)
		pthread_cond_wait(&w->done, &w->lock);
	err = wf->err;
	wf->err = 0;
	pthread_mutex_unlock(&w->lock);
	return err;
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	for (int i = 0; i < WRITER_THREADS; i++)
		if (w->q[i].started)
			pthread_cond_signal(&w->q[i].work);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < WRITER_THREADS; i++) {
		if (w->q[i].started)
			pthread_join(w->q[i].thread, NULL);
		pthread_cond_destroy(&w->q[i].work);
	}
	while (w->spares) {
		struct spare *sp = w->spares;
		w->spares = sp->next;
		free(sp);
	}
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
