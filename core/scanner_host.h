/* The scanner host: finds scanner plugins, loads them through the ABI in
 * sdk/tcpflow/scanner.h, applies the command line's scanner requests, and
 * dispatches packets, stream events and derived objects to the enabled
 * scanners in a deterministic order (by scanner name).
 *
 * Discovery, in this order: files named on the command line (-S/-e/-E with
 * a '/'), -P directories, TCPFLOW_SCANNER_PATH (':'-separated), then the
 * build tree's plugins/<name>/.libs/ when this binary runs from the build
 * tree, otherwise the installed scanner directory. In each directory every
 * *.so, in name order. The same file reached twice is loaded once; two
 * different files with one scanner name are an error. Scanners from the
 * build tree or the installed directory are "built-in" (what -a enables).
 *
 * Report entries: a flow's elements (added by scanners at any event) are
 * kept until the flow closes and written inside its <fileobject>. A derived
 * object gets a <fileobject> of its own (its <derived parent=> names the
 * parent's file), written as soon as its dispatch and that of everything
 * derived from it is over, in emission order: before its flow's when the
 * flow is still open (memory stays bounded on long connections), right
 * after it when the object was derived while the flow closed.
 *
 * Flow content: scanners see the stream through data and gap events. When
 * those did not describe the file exactly (late bytes filled a hole, bytes
 * were placed in front, -b truncated, a write failed), the flow's close
 * event carries TF_FLOW_REWRITTEN, so a scanner that needs exact content
 * (md5) reads the closed file instead.
 *
 * Single-threaded; every function accepts what the previous one returned. */
#ifndef TCPFLOW_SCANNER_HOST_H
#define TCPFLOW_SCANNER_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "packet.h"
#include "report.h"
#include "store.h"
#include "tcp.h"

struct scanner_host;
struct tf_scanner;
struct tf_host;

/* The entry function of a scanner (what dlsym finds as tcpflow_scanner_v1). */
typedef const struct tf_scanner *(*scanner_host_entry_fn)(const struct tf_host *host);

/* Does this configuration need the scanner host at all (any scanner option,
 * -P or -H)? Without one, no plugin is even looked at. */
int scanner_host_needed(const struct tf_config *cfg);

/* An empty host. cfg is borrowed and must outlive the host. NULL on out of memory. */
struct scanner_host *scanner_host_new(const struct tf_config *cfg);

/* new + discover + apply: every scanner found, the requests of cfg applied.
 * NULL with one line in err ("FILE: reason" for a bad plugin). */
struct scanner_host *scanner_host_load(const struct tf_config *cfg, char *err, size_t errlen);

/* Load every plugin from the places listed above. 0, or -1 with err. */
int scanner_host_discover(struct scanner_host *h, char *err, size_t errlen);

/* Load one shared object (builtin: counts for -a). 0, or -1 with err. */
int scanner_host_load_file(struct scanner_host *h, const char *path, int builtin,
			   char *err, size_t errlen);

/* Register a scanner from its entry function (the loader does this after
 * dlsym; tests do it directly). origin names it in messages. 0 or -1. */
int scanner_host_add(struct scanner_host *h, scanner_host_entry_fn entry, const char *origin,
		     int builtin, char *err, size_t errlen);

/* Apply cfg's -S/-e/-x/-E/-a requests in order. 0, or -1 with err. */
int scanner_host_apply(struct scanner_host *h, char *err, size_t errlen);

/* Print every scanner found with version, description, parameters (-H). */
void scanner_host_list(const struct scanner_host *h, FILE *out);

/* Number of scanners enabled. */
size_t scanner_host_enabled(const struct scanner_host *h);

/* Call init of every enabled scanner, in dispatch order. 0, or -1 with err
 * ("FILE: scanner NAME: init failed: REASON"); the ones already started are
 * shut down again. */
int scanner_host_start(struct scanner_host *h, char *err, size_t errlen);

/* Where entries and files go. Either may be NULL (no report; no store: no
 * flow files can be created early). */
void scanner_host_attach(struct scanner_host *h, struct report *report, struct store *store);

/* What the enabled scanners asked for. */
#define SCANNER_HOST_WANTS_PACKETS 0x1u
#define SCANNER_HOST_WANTS_STREAMS 0x2u
unsigned scanner_host_wants(const struct scanner_host *h);

/* A packet after decode_packet (decode_rc is its result). */
void scanner_host_packet(struct scanner_host *h, const struct pkt *p, int decode_rc);

/* Stream events for one flow direction (from struct tcp_events). */
void scanner_host_data(struct scanner_host *h, struct tcp_flow *f, uint64_t off,
		       const uint8_t *data, uint32_t len);
void scanner_host_gap(struct scanner_host *h, struct tcp_flow *f, uint64_t off, uint64_t len);

/* The flow is finished (file closed, holes still recorded). Dispatches the
 * close event, then writes the flow's <fileobject> from rf (when rf is not
 * NULL) with the scanners' elements inside, then the entries of objects
 * derived during the close; when a scanner holds the flow's entry, or
 * entries wait for a held one, it waits with them (a copy of rf). Returns
 * the report's status (0 when nothing was written). */
int scanner_host_flow_close(struct scanner_host *h, struct tcp_flow *f,
			    const struct report_flow *rf);

/* A live capture has nothing to read: every started scanner's on_idle (ABI
 * 1.4), then the object entries no longer held are written. */
void scanner_host_idle(struct scanner_host *h);

/* 1 when every started scanner called files_later in its init (ABI 1.5):
 * files may then reach the disk after their close. */
int scanner_host_files_may_lag(const struct scanner_host *h);

/* Call shutdown of every started scanner (in dispatch order); their
 * summaries go to the report. Idempotent. */
void scanner_host_shutdown(struct scanner_host *h);

/* Shut down if not done, unload everything, free. NULL is fine. */
void scanner_host_free(struct scanner_host *h);

#endif
