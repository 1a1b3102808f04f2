/* Block writes in the background (see writer.h). */
#include "writer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
	struct job *next;
	struct writer_file *wf;
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

struct writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work;      /* a job was queued, or stop */
	pthread_cond_t done;      /* a job finished */
	struct job *head, *tail;
	size_t in_flight;         /* bytes queued or being written */
	size_t max_in_flight;
	size_t buf_size;
	struct spare *spares;
	size_t n_spares;
	int stop;
};

static int write_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
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
	struct writer *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->work, &w->lock);
		struct job *j = w->head;
		if (!j)
			break;                  /* stop, and nothing left */
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		pthread_mutex_unlock(&w->lock);

		int err = write_all(j->fd, j->buf, j->len, j->off);

		pthread_mutex_lock(&w->lock);
		/* Keep as many spares as can be in flight, plus a few. */
		if (j->cap == w->buf_size && w->n_spares < w->max_in_flight / w->buf_size + 4) {
			struct spare *sp = (struct spare *)(void *)j->buf;
			sp->next = w->spares;
			w->spares = sp;
			w->n_spares++;
		} else {
			free(j->buf);
		}
		if (err && !j->wf->err)
			j->wf->err = err;
		j->wf->pending--;
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
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->done, NULL);
	/* The thread starts with every signal blocked, so SIGINT, SIGTERM and
	 * SIGCHLD keep reaching the packet loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&w->thread, NULL, writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&w->done);
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->lock);
		free(w);
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

void writer_submit(struct writer *w, struct writer_file *wf, int fd, uint64_t off,
		   uint8_t *buf, size_t len, size_t cap)
{
	struct job *j = malloc(sizeof *j);

	if (!j) {
		/* No memory for the job: write it here and now. */
		int err = writer_wait(w, wf);
		int err2 = write_all(fd, buf, len, off);
		free(buf);
		pthread_mutex_lock(&w->lock);
		wf->err = err ? err : err2;
		pthread_mutex_unlock(&w->lock);
		return;
	}
	j->next = NULL;
	j->wf = wf;
	j->fd = fd;
	j->off = off;
	j->buf = buf;
	j->len = len;
	j->cap = cap;
	pthread_mutex_lock(&w->lock);
	while (w->in_flight && w->in_flight + len > w->max_in_flight)
		pthread_cond_wait(&w->done, &w->lock);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->in_flight += len;
	wf->pending++;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
}

int writer_wait(struct writer *w, struct writer_file *wf)
{
	int err;

	pthread_mutex_lock(&w->lock);
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
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	while (w->spares) {
		struct spare *sp = w->spares;
		w->spares = sp->next;
		free(sp);
	}
	pthread_cond_destroy(&w->done);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
