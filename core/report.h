/* The DFXML report (report.xml), written with libxml2's xmlTextWriter.
 *
 * The report is written incrementally: the header at report_open, one
 * <fileobject> per flow direction as each flow closes, and the statistics
 * and <rusage> at report_close. report_close is also what a SIGINT/SIGTERM
 * run ends with, so the file is always well-formed once it returns. */
#ifndef TCPFLOW_REPORT_H
#define TCPFLOW_REPORT_H

#include <stdint.h>
#include <stddef.h>
#include "packet.h"

struct report;

struct report_gap {
	uint64_t offset;   /* offset in the flow file */
	uint64_t len;
};

/* Everything the report says about one flow direction. Borrowed for the call. */
struct report_flow {
	const char *filename;         /* path of the flow file as written (may be "" with -FX) */
	uint64_t filesize;            /* bytes in the file */
	int64_t start_sec;  uint32_t start_usec;   /* first packet */
	int64_t end_sec;    uint32_t end_usec;     /* last packet */
	struct tf_addr src, dst;
	uint16_t sport, dport;
	uint8_t has_mac;
	uint8_t src_mac[6], dst_mac[6];
	uint8_t has_vlan;
	uint16_t vlan;
	uint64_t packets;             /* packets seen in this direction */
	uint64_t len;                 /* stream length (bytes of sequence space covered) */
	uint64_t caplen;              /* bytes that were not stored (-b); 0 = none */
	uint64_t out_of_order_count;
	uint64_t violations;          /* overlap conflicts */
	uint64_t session_id;          /* shared by both directions of a connection */
	uint32_t connection_count;    /* 0 for the first connection on a 4-tuple */
	const struct report_gap *gaps;
	size_t ngaps;
	/* A flow file written after its close: late_size(late, &size) is called
	 * once, when the entry is written (or dropped), and gives the size on
	 * disk then, or -1 when the file could not be created (no <filename>
	 * then). Copies share it: exactly one of them is written. */
	int (*late_size)(void *late, uint64_t *size);
	void *late;
};

/* Every function accepts r == NULL and then does nothing (returns 0), so a
 * run without a report can call them unconditionally. Not thread-safe: one
 * thread writes the report.
 *
 * Open path for writing and emit the header (<dfxml>, <metadata>, <creator>
 * with build and execution environment incl. the real command line from
 * argv: words joined with spaces, a word with spaces or shell
 * metacharacters single-quoted exactly as Python's shlex.join does).
 * <configuration> is written lazily, before the first fileobject, warning,
 * source noted after it, element or report_close, so settings may be added
 * after report_open. Returns NULL on failure with the reason in err: one
 * line, strerror text without the path (the caller prints "PATH: reason"). */
struct report *report_open(const char *path, int argc, char **argv,
			   char *err, size_t errlen);

/* Add a configuration setting (<setting name= value=/>). Meant for before the
 * first flow; a later one is written in a <configuration> element of its own. */
void report_setting(struct report *r, const char *name, const char *value);

/* Note an input file in a <source><image_filename>PATH</image_filename>
 * <image_size>BYTES</image_size></source> element (size only for regular
 * files). Before the header is finished these are written just ahead of
 * <configuration>; later ones at top level where they occur. */
void report_source(struct report *r, const char *path);

/* Write one <fileobject> element for a closed flow direction:
 * <filename> (omitted when ""), <filesize>, <tcpflow .../> with 1.6's
 * attributes, <gaps><gap offset= len=/>...</gaps> when there are gaps.
 * The file is written to whenever about 4 KB are buffered, and flushed
 * here when the last flush is a second old (report_sync flushes now).
 * Same input, same bytes. Returns 0 or a negative errno (first write error). */
int report_flow(struct report *r, const struct report_flow *f);

/* report_flow in two halves, for scanner output inside the fileobject:
 * report_flow_begin writes everything report_flow writes and leaves the
 * <fileobject> open; add children with the element calls below (e.g.
 * <hashdigest>, <byte_runs>); report_flow_end closes any element left open,
 * closes the <fileobject> (flushing as report_flow does). Any other top-level call (another
 * flow, a warning, a source, report_close) also closes it first. */
int report_flow_begin(struct report *r, const struct report_flow *f);
int report_flow_end(struct report *r);

/* Generic elements: inside an open fileobject they become its children; at
 * top level (no fileobject open) they are scanner summaries, flushed (as report_flow
 * entries are) when the outermost one ends. Names must match [A-Za-z_][A-Za-z0-9_.-]* (else
 * -EINVAL); attributes must come right after report_start_element and not
 * repeat (else -EINVAL). Values and text may be any bytes: they are escaped,
 * and what is not valid UTF-8 or not an XML character becomes U+FFFD.
 * report_element writes <name>text</name> (text may be NULL: empty element).
 * All return 0 or a negative errno. */
int report_start_element(struct report *r, const char *name);
int report_attribute(struct report *r, const char *name, const char *value);
int report_text(struct report *r, const char *text);
int report_end_element(struct report *r);
int report_element(struct report *r, const char *name, const char *text);
/* The same with a number in decimal as the value or the text. */
int report_attribute_u64(struct report *r, const char *name, uint64_t value);
int report_element_u64(struct report *r, const char *name, uint64_t value);

/* Write top-level elements later: fn(rr, arg) makes element calls on rr
 * (report_start_element ..., as on r), which land in the report after
 * everything recorded on r before this call. With a writer, fn runs on the
 * writer's thread (so the packet loop does not format them); else it runs
 * now with rr = r. rr is NULL when nothing can be written (no report, out
 * of memory, a failed report): fn then only lets go of arg. fn is called
 * exactly once and owns arg; what it leaves open is closed after it. Calls
 * on rr report nothing back; their errors are returned by later calls on r
 * and by report_close. */
typedef void (*report_defer_fn)(struct report *rr, void *arg);
int report_defer(struct report *r, report_defer_fn fn, void *arg);

/* report_flow with inner(rr, arg) adding children to the <fileobject> (as
 * between report_flow_begin and report_flow_end), by way of report_defer:
 * f is copied, inner owns arg as fn does above (inner may be NULL).
 * report_flow is this without inner. */
int report_flow_defer(struct report *r, const struct report_flow *f, report_defer_fn inner,
		      void *arg);

/* A copy of f with its gaps and file name, in one block (free() it); NULL
 * when out of memory. */
struct report_flow *report_flow_copy(const struct report_flow *f);

/* A flow entry that is not written after all: report_flow_drop for f
 * itself (its late_size is called), report_flow_free for a copy. */
void report_flow_drop(const struct report_flow *f);
void report_flow_free(struct report_flow *f);

/* report_flow_defer with a report_flow_copy, which the report takes over
 * (for a caller that kept one): no second copy. */
int report_flow_defer_copy(struct report *r, struct report_flow *copy, report_defer_fn inner,
			   void *arg);

/* Format the XML on w's threads from here on: the element calls are recorded
 * and replayed there in order (w must outlive r or another call here). NULL:
 * back to formatting here, after everything recorded is written. Errors of
 * the writer thread are returned by later calls and by report_close. */
struct writer;
void report_use_writer(struct report *r, struct writer *w);

/* Write out every complete entry now (not while a fileobject or a scanner
 * element is open): for quiet moments of a live capture. On disk when this
 * returns, also with a writer. */
void report_sync(struct report *r);

/* Write <warning>text</warning> at top level, in order, and flush (on disk
 * when this returns, as after report_sync). */
void report_warning(struct report *r, const char *text);

/* Write <statistics> (one <NAME>VALUE</NAME> per tf_stats counter, in
 * declaration order) and <rusage>, close </dfxml>, flush, close the file and
 * free. Call once (not from a signal handler); r is invalid afterwards.
 * Returns 0, or a negative errno if any write to the report failed. */
int report_close(struct report *r);

#endif
