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
};

/* Open path for writing and emit the header (<dfxml>, <metadata>, <creator>
 * with build and execution environment incl. the real command line from
 * argv, <configuration> with the given name=value settings).
 * Returns NULL with a reason in err on failure. */
struct report *report_open(const char *path, int argc, char **argv,
			   char *err, size_t errlen);

/* Add a configuration setting (before the first flow is written). */
void report_setting(struct report *r, const char *name, const char *value);

/* Note an input file (path, size) in the report's <source> list. */
void report_source(struct report *r, const char *path);

/* Write one <fileobject> element for a closed flow direction. */
int report_flow(struct report *r, const struct report_flow *f);

/* Write a warning (e.g. truncated input) into the report. */
void report_warning(struct report *r, const char *text);

/* Write statistics (every tf_stats counter) and <rusage>, close </dfxml>,
 * flush and free. Safe to call once; r is invalid afterwards. */
int report_close(struct report *r);

#endif
