/* Block writes in the background.
 *
 * Copying written bytes into the page cache is the largest single cost of
 * tcpflow on big flows, and it is kernel time the packet loop would
 * otherwise wait for. Two writer threads take full flow buffers from the
 * store and pwrite() them while the main thread goes on reassembling, so the
 * copies of different files proceed in parallel and overlap with the packet
 * loop instead of adding up. A third one does the detached jobs
 * (writer_detach): small files created, written and closed in one go.
 *
 * Whole-buffer writes and the creation of new files go through here, and
 * the formatting of report.xml (report_use_writer) as calls.
 * Everything else the store does with a file (short writes, reading back,
 * truncating, setting times, closing) first waits for that file's jobs with
 * writer_wait, so the order of operations on every file is the program
 * order. A file's jobs are done in submission order (always the same
 * thread, a FIFO queue). */
#ifndef TCPFLOW_WRITER_H
#define TCPFLOW_WRITER_H

#include <stddef.h>
#include <stdint.h>

/* Per file state, embedded in the store's file and zeroed with it; touched
 * by both threads under the writer's lock. */
struct writer_file {
	unsigned pending;   /* writes submitted, not finished */
	int err;            /* errno of the first failed write, 0 if none */
};

struct writer;

/* Start the threads. max_in_flight bounds the bytes submitted and not yet
 * written (writer_submit blocks beyond it); buffers of buf_size bytes are
 * recycled. NULL when the threads cannot be started: the caller writes
 * synchronously. Signals stay with the caller's threads. */
struct writer *writer_new(size_t max_in_flight, size_t buf_size);

/* A buffer of buf_size bytes (malloc'd): a written one again when there is
 * one, so big buffers are not mapped and unmapped for every block. NULL when
 * out of memory. */
uint8_t *writer_buffer(struct writer *w);

/* Write len bytes of buf at off to fd, later. Takes buf (malloc'd; its size
 * is buf_size when it came from writer_buffer) and recycles or frees it once
 * written. fd must stay open until writer_wait(wf) returns. */
void writer_submit(struct writer *w, struct writer_file *wf, int fd, uint64_t off,
		   uint8_t *buf, size_t len, size_t cap);

/* Run fn(arg) on wf's thread, after wf's earlier jobs: work on a file that
 * need not hold up the caller, such as creating it. writer_wait(wf) waits
 * for it like for a write; fn reports its outcome through arg. */
void writer_call(struct writer *w, struct writer_file *wf, void (*fn)(void *), void *arg);

/* Run fn(arg) on the thread for detached jobs, after the earlier ones, for
 * work no later job depends on (a small file written and closed in one
 * go): nothing waits for it but writer_drain. bytes (memory fn's arg holds) count as in flight until fn
 * returns, so this blocks like writer_submit. fn frees arg and makes its
 * own outcome known. Without memory for the job, fn runs here. */
void writer_detach(struct writer *w, size_t bytes, void (*fn)(void *), void *arg);

/* Wait until every detached job is done. */
void writer_drain(struct writer *w);

/* Wait until every job submitted for wf is done; a call (wf's only job)
 * that no thread has started yet is made by the caller instead. Returns
 * the errno of the first write of wf that failed since the last call (0 if
 * none). */
int writer_wait(struct writer *w, struct writer_file *wf);

/* pwrite all len bytes at off, through short writes and EINTR: 0, or the
 * errno of the failure. What the threads do with a job; the store uses it
 * for the writes it makes itself. */
int writer_pwrite_all(int fd, const void *data, size_t len, uint64_t off);

/* Finish every submitted write and stop the threads. */
void writer_free(struct writer *w);

#endif
