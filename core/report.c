/* The DFXML report (report.xml), written with libxml2's xmlTextWriter.
 *
 * Shape (as tcpflow 1.6, minus its bugs):
 *
 *   <dfxml xmloutputversion='1.0'>
 *     <metadata ...><dc:type>Feature Extraction</dc:type></metadata>
 *     <creator version='1.0'> program, version, build and execution environment </creator>
 *     <source>...</source>*          inputs, from report_source
 *     <configuration><setting name= value=/>*</configuration>
 *     <fileobject>* <warning>* <source>* and scanner summaries, in call order
 *     <statistics> one element per tf_stats counter </statistics>
 *     <rusage> ... </rusage>
 *   </dfxml>
 *
 * Output goes through an xmlOutputBuffer whose write callback calls write(2)
 * on our own descriptor, so nothing sits in a stdio buffer: a completed
 * entry is flushed at most about a second after the previous flush, a
 * warning at once, so a reader (or a crash) sees what is complete. Write
 * errors are remembered (first errno) and returned by every later call and
 * by report_close.
 *
 * With the store's writer threads (report_use_writer), the packet loop only
 * records the element calls, as ops in blocks of 64 KiB; a writer thread
 * replays each block on the xmlTextWriter, blocks in order. Formatting XML
 * is a quarter of the packet loop's time when scanners report an object per
 * HTTP header and body. A flush (at most once a second, report_sync, a
 * warning) hands its block over at once, so the file stays as current.
 * report_defer goes further: the caller's own function makes the element
 * calls on the writer thread (the scanner host's object entries), on a
 * view of the report whose calls go straight to the xmlTextWriter.
 *
 * Attribute values are escaped here (single quotes, as 1.6 writes them) and
 * written raw; libxml2 escapes element text. Every string from outside is
 * first made valid XML 1.0: bytes that are not UTF-8, and characters XML does
 * not allow (controls other than tab, newline, carriage return; surrogates;
 * U+FFFE, U+FFFF), become U+FFFD. */
/* PACKAGE_VERSION comes from configure on the compiler command line. */
#include "report.h"
#include "ip.h"
#include "stats.h"
#include "writer.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <libxml/xmlversion.h>
#include <libxml/xmlwriter.h>
#include <pcap/pcap.h>
#include <zlib.h>

#define REPORT_ATTR_NAMES_MAX 1024   /* bytes of attribute names tracked per element */
#define REPORT_BLOCK (64u * 1024u)   /* ops handed to the writer at a time */
#define REPORT_BLOCKS_OUT 16u        /* blocks handed over before waiting for them */
#define REPORT_BLOCK_CALLS 256u      /* deferred calls per block: what their args hold */

struct report_setting {
	char *name;
	char *value;
};

struct report_src {
	char *path;
	int has_size;
	uint64_t size;
};

struct report_block;

struct report {
	xmlTextWriterPtr w;       /* the writer thread's while a writer is in use */
	int fd;
	_Atomic int err;          /* first errno seen; 0 = all good (set by both threads) */
	struct writer *writer;    /* replays the ops; NULL: xmlTextWriter calls here */
	struct writer_file wf;
	struct report_block *fill;  /* ops being recorded */
	struct report *direct;    /* the writer thread's view, for deferred calls */
	unsigned blocks_out;      /* handed over since the last wait */
	int header_done;          /* pending sources and <configuration> written */
	int in_flow;              /* a <fileobject> is open */
	unsigned user_depth;      /* elements open from report_start_element */
	struct report_setting *settings;
	size_t nsettings, cap_settings;
	struct report_src *sources;
	size_t nsources, cap_sources;
	char attr_names[REPORT_ATTR_NAMES_MAX];   /* names on the innermost user element */
	size_t attr_names_len;
	int attrs_open;           /* innermost user element still takes attributes */
	struct timespec t0;       /* monotonic time at report_open (for <clocktime>) */
	struct timespec last_flush; /* coarse monotonic time of the last flush */
};

/* Remember e as the report's error unless one is already known: the first
 * one wins, also between the packet loop and the writer thread. */
static void report_fail(struct report *r, int e)
{
	int none = 0;
	atomic_compare_exchange_strong(&r->err, &none, e);
}

/* ---- text hygiene ------------------------------------------------------- */

/* Length of the valid XML character encoded in UTF-8 at s[0..n), or 0. */
static size_t report_utf8_char(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80) {
		if (s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n' || s[0] == '\r')
			return 1;
		return 0;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;   /* overlong or out of range */
	if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF)
		return 0;   /* not an XML Char */
	return len;
}

/* A malloc'd copy of s that is valid XML text; with for_attr, also escaped
 * for a single-quoted attribute value. NULL only when out of memory. */
static char *report_clean(const char *s, int for_attr)
{
	static const char repl[] = "\xEF\xBF\xBD";   /* U+FFFD */
	const unsigned char *in = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)in), i = 0, o = 0;
	char *out = malloc(6 * n + 1);   /* worst case: "&quot;" per byte */

	if (!out)
		return NULL;
	while (i < n) {
		size_t cl = report_utf8_char(in + i, n - i);
		const char *esc = NULL;

		if (cl == 0) {
			memcpy(out + o, repl, 3);
			o += 3;
			i++;
			continue;
		}
		if (for_attr && cl == 1) {
			switch (in[i]) {
			case '&': esc = "&amp;"; break;
			case '<': esc = "&lt;"; break;
			case '>': esc = "&gt;"; break;
			case '\'': esc = "&apos;"; break;
			case '"': esc = "&quot;"; break;
			case '\t': esc = "&#9;"; break;
			case '\n': esc = "&#10;"; break;
			case '\r': esc = "&#13;"; break;
			default: break;
			}
		}
		if (esc) {
			size_t el = strlen(esc);
			memcpy(out + o, esc, el);
			o += el;
		} else {
			memcpy(out + o, in + i, cl);
			o += cl;
		}
		i += cl;
	}
	out[o] = '\0';
	return out;
}

/* XML names accepted from callers: [A-Za-z_][A-Za-z0-9_.-]* (no colon, so no
 * namespace can be broken). */
static int report_name_ok(const char *name)
{
	const char *p;

	if (!name || !((*name >= 'A' && *name <= 'Z') || (*name >= 'a' && *name <= 'z') ||
		       *name == '_'))
		return 0;
	for (p = name + 1; *p; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	}
	return 1;
}

/* ---- output buffer over our descriptor ---------------------------------- */

/* A failed write is remembered in r->err and the data dropped, but libxml2 is
 * told it went through: otherwise it prints its own "I/O error" lines on
 * stderr. Callers see the error through every later return value. */
static int report_io_write(void *ctx, const char *buf, int len)
{
	struct report *r = ctx;
	int done = 0;

	while (!r->err && done < len) {
		ssize_t n = write(r->fd, buf + done, (size_t)(len - done));
		if (n < 0) {
			if (errno != EINTR)
				report_fail(r, errno);
			continue;
		}
		done += (int)n;
	}
	return len;
}

static int report_io_close(void *ctx)
{
	struct report *r = ctx;
	int rc = 0;

	if (r->fd >= 0) {
		if (close(r->fd) < 0 && errno != EINTR) {
			report_fail(r, errno);
			rc = -1;
		}
		r->fd = -1;
	}
	return rc;
}

/* ---- small writers (each returns 0 or -1, remembering the error) --------- */

/* rc from libxml2; -1 once anything has failed, write errors included. */
static int report_chk(struct report *r, int rc)
{
	if (rc < 0)
		report_fail(r, EIO);
	return r->err ? -1 : 0;
}

static int xml_start(struct report *r, const char *name)
{
	return report_chk(r, xmlTextWriterStartElement(r->w, BAD_CAST name));
}

static int xml_end(struct report *r)
{
	return report_chk(r, xmlTextWriterEndElement(r->w));
}

/* v: valid XML, escaped for a single-quoted attribute */
static int xml_attr(struct report *r, const char *name, const char *v)
{
	if (report_chk(r, xmlTextWriterStartAttribute(r->w, BAD_CAST name)) == 0 &&
	    report_chk(r, xmlTextWriterWriteRaw(r->w, BAD_CAST v)) == 0 &&
	    report_chk(r, xmlTextWriterEndAttribute(r->w)) == 0)
		return 0;
	return -1;
}

/* v: valid XML text (libxml2 escapes it) */
static int xml_text(struct report *r, const char *v)
{
	return report_chk(r, xmlTextWriterWriteString(r->w, BAD_CAST v));
}

static int xml_flush(struct report *r)
{
	return report_chk(r, xmlTextWriterFlush(r->w));
}

/* ---- ops for the writer thread ------------------------------------------ */

enum { OP_START = 1, OP_END, OP_ATTR, OP_TEXT, OP_FLUSH, OP_CALL };

/* Ops one after another: the op's byte, then its strings (element or
 * attribute name, value or text), each with its NUL; OP_CALL's function and
 * argument pointers as they are in memory. */
struct report_block {
	struct report *r;
	size_t used, cap;
	unsigned calls;           /* OP_CALLs in it */
	char data[];
};

static int report_top_level(struct report *r);

struct report_call {
	report_defer_fn fn;
	void *arg;
};

/* On the writer thread: a deferred call on the direct view, whose element
 * calls go straight to the xmlTextWriter; what it left open is closed. */
static void call_replay(struct report *r, const struct report_call *c)
{
	struct report *d = r->direct;
	int e;

	c->fn(d, c->arg);
	report_top_level(d);
	if ((e = d->err) != 0) {
		report_fail(r, e);
		d->err = 0;
	}
}

/* On the writer thread: the xmlTextWriter calls the block records. */
static void ops_replay(void *arg)
{
	struct report_block *b = arg;
	struct report *r = b->r;

	for (size_t i = 0; i < b->used;) {
		int op = b->data[i++];
		const char *a = b->data + i, *v = NULL;
		if (op == OP_START || op == OP_ATTR || op == OP_TEXT)
			i += strlen(a) + 1;
		if (op == OP_ATTR) {
			v = b->data + i;
			i += strlen(v) + 1;
		}
		if (op == OP_CALL) {
			struct report_call c;
			memcpy(&c, b->data + i, sizeof c);
			i += sizeof c;
			call_replay(r, &c);
			continue;
		}
		switch (op) {
		case OP_START: xml_start(r, a); break;
		case OP_END:   xml_end(r); break;
		case OP_ATTR:  xml_attr(r, a, v); break;
		case OP_TEXT:  xml_text(r, a); break;
		default:       xml_flush(r); break;
		}
	}
	free(b);
}

/* Wait until every block handed over is replayed. */
static void ops_wait(struct report *r)
{
	if (r->writer) {
		writer_wait(r->writer, &r->wf);
		r->blocks_out = 0;
	}
}

/* Hand the block being recorded to the writer; every REPORT_BLOCKS_OUT
 * blocks, wait for them (the memory they take stays bounded). */
static void ops_submit(struct report *r)
{
	struct report_block *b = r->fill;

	if (!b)
		return;
	r->fill = NULL;
	writer_call(r->writer, &r->wf, ops_replay, b);
	if (++r->blocks_out >= REPORT_BLOCKS_OUT)
		ops_wait(r);
}

/* The block being recorded, with room for need more bytes: the current one,
 * or a new one once it is full. NULL when out of memory. */
static struct report_block *op_room(struct report *r, size_t need)
{
	struct report_block *b = r->fill;

	if (b && (b->used + need > b->cap || b->calls >= REPORT_BLOCK_CALLS)) {
		ops_submit(r);
		b = NULL;
	}
	if (!b) {
		size_t cap = need > REPORT_BLOCK ? need : REPORT_BLOCK;
		if (!(b = malloc(sizeof *b + cap))) {
			report_fail(r, ENOMEM);
			return NULL;
		}
		b->r = r;
		b->used = 0;
		b->cap = cap;
		b->calls = 0;
		r->fill = b;
	}
	return b;
}

/* Record an op with up to two strings. 0, or -1 once anything failed. */
static int op_put(struct report *r, int op, const char *a, const char *v)
{
	size_t la = a ? strlen(a) + 1 : 0, lv = v ? strlen(v) + 1 : 0;
	struct report_block *b = op_room(r, 1 + la + lv);

	if (!b)
		return -1;
	char *p = b->data + b->used;
	*p++ = (char)op;
	if (a) {
		memcpy(p, a, la);
		p += la;
	}
	if (v) {
		memcpy(p, v, lv);
		p += lv;
	}
	b->used = (size_t)(p - b->data);
	return r->err ? -1 : 0;
}

/* Stop using the writer: what is recorded is written before this returns. */
static void ops_finish(struct report *r)
{
	if (!r->writer)
		return;
	ops_submit(r);
	ops_wait(r);
	r->writer = NULL;
}

/* ---- element calls: recorded for the writer, or made here --------------- */

static int report_start(struct report *r, const char *name)
{
	return r->writer ? op_put(r, OP_START, name, NULL) : xml_start(r, name);
}

static int report_end(struct report *r)
{
	return r->writer ? op_put(r, OP_END, NULL, NULL) : xml_end(r);
}

/* Printable ASCII that needs no escaping in a single-quoted attribute (and
 * none in text when for_attr is 0): the common case, written as it is. */
static int report_plain(const char *s, int for_attr)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p > 0x7E)
			return 0;
		if (for_attr && (*p == '&' || *p == '<' || *p == '>' || *p == '\'' || *p == '"'))
			return 0;
	}
	return 1;
}

/* s as valid XML text (escaped for an attribute with for_attr): s itself
 * when it is plain, else a malloc'd cleaned copy left in *copy for the
 * caller to free. NULL only when out of memory. */
static const char *report_text_of(const char *s, int for_attr, char **copy)
{
	*copy = NULL;
	if (!s)
		s = "";
	if (report_plain(s, for_attr))
		return s;
	return *copy = report_clean(s, for_attr);
}

static int report_attr(struct report *r, const char *name, const char *value)
{
	char *copy;
	const char *v = report_text_of(value, 1, &copy);
	int rc = -1;

	if (!v) {
		report_fail(r, ENOMEM);
	} else {
		rc = r->writer ? op_put(r, OP_ATTR, name, v) : xml_attr(r, name, v);
	}
	free(copy);
	return rc;
}

/* value in decimal, at the end of buf[24]; returns where it starts */
static char *report_u64_text(char buf[24], uint64_t value)
{
	char *o = buf + 23;

	*o = '\0';
	do
		*--o = (char)('0' + value % 10);
	while (value /= 10);
	return o;
}

static int report_attr_u64(struct report *r, const char *name, uint64_t value)
{
	char buf[24];

	return report_attr(r, name, report_u64_text(buf, value));
}

static int report_text_raw(struct report *r, const char *text)
{
	char *copy;
	const char *v = report_text_of(text, 0, &copy);
	int rc = -1;

	if (!v) {
		report_fail(r, ENOMEM);
	} else {
		rc = r->writer ? op_put(r, OP_TEXT, v, NULL) : xml_text(r, v);
	}
	free(copy);
	return rc;
}

static int report_elem(struct report *r, const char *name, const char *text)
{
	if (report_start(r, name) < 0 || report_text_raw(r, text) < 0)
		return -1;
	return report_end(r);
}

static int report_elem_u64(struct report *r, const char *name, uint64_t value)
{
	char buf[24];

	return report_elem(r, name, report_u64_text(buf, value));
}

static int report_elem_i64(struct report *r, const char *name, int64_t value)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%lld", (long long)value);
	return report_elem(r, name, buf);
}

static int report_flush(struct report *r)
{
	clock_gettime(CLOCK_MONOTONIC_COARSE, &r->last_flush);
	if (!r->writer)
		return xml_flush(r);
	int rc = op_put(r, OP_FLUSH, NULL, NULL);
	ops_submit(r);     /* the flush happens soon, not when the block is full */
	return rc;
}

/* Flush when the last flush is a second old or older: entries reach the
 * disk within about a second, without a write per entry. */
static void report_flush_if_old(struct report *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (now.tv_sec - r->last_flush.tv_sec >= 2 ||
	    (now.tv_sec - r->last_flush.tv_sec == 1 && now.tv_nsec >= r->last_flush.tv_nsec))
		report_flush(r);
}

static int report_status(const struct report *r)
{
	return r->err ? -r->err : 0;
}

/* ---- formatting helpers --------------------------------------------------- */

/* ISO 8601 UTC, with microseconds when usec >= 0: 2008-10-06T17:54:54.796605Z */
static void report_iso8601(int64_t sec, long usec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, len, "%lld", (long long)sec);
		return;
	}
	if (usec >= 0 && len >= 28 && tm.tm_year >= -1900 && tm.tm_year <= 9999 - 1900) {
		/* by hand, as snprintf would: two of these per report entry */
		const int v[6] = { tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
				   tm.tm_hour, tm.tm_min, tm.tm_sec };
		static const char sep[] = "--T::.";
		char *o = buf;
		long us = usec % 1000000;
		for (int i = 0; i < 6; i++) {
			if (i == 0) {
				*o++ = (char)('0' + v[0] / 1000);
				*o++ = (char)('0' + v[0] / 100 % 10);
			}
			*o++ = (char)('0' + v[i] / 10 % 10);
			*o++ = (char)('0' + v[i] % 10);
			*o++ = sep[i];
		}
		for (long d = 100000; d; d /= 10)
			*o++ = (char)('0' + us / d % 10);
		*o++ = 'Z';
		*o = '\0';
	} else if (usec >= 0)
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec % 1000000);
	else
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* __DATE__ ("May 14 2022") and __TIME__ as 2022-05-14T04:43:23, like 1.6. */
static void report_build_date(char *buf, size_t len)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *date = __DATE__;
	char mon[4] = { 0 };
	int day = 0, year = 0, m = 0;
	const char *hit;

	if (sscanf(date, "%3s %d %d", mon, &day, &year) != 3 ||
	    !(hit = strstr(months, mon)) || (hit - months) % 3) {
		snprintf(buf, len, "%s %s", __DATE__, __TIME__);
		return;
	}
	m = (int)(hit - months) / 3 + 1;
	snprintf(buf, len, "%04d-%02d-%02dT%s", year, m, day, __TIME__);
}

/* "libpcap version 1.10.3 (with TPACKET_V3)" -> "1.10.3" */
static void report_pcap_version(char *buf, size_t len)
{
	const char *s = pcap_lib_version();
	const char *v = strstr(s, "version ");
	size_t n;

	if (!v) {
		snprintf(buf, len, "%s", s);
		return;
	}
	v += strlen("version ");
	n = strcspn(v, " ");
	snprintf(buf, len, "%.*s", (int)n, v);
}

static int report_shell_safe(const char *w)
{
	const char *p;

	if (!*w)
		return 0;
	for (p = w; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("_@%+=:,./-", c)))
			return 0;
	}
	return 1;
}

/* argv joined with spaces; a word that is empty or holds anything beyond
 * [A-Za-z0-9_@%+=:,./-] is single-quoted for a POSIX shell (the same result as
 * Python's shlex.join). Returns malloc'd text or NULL. */
static char *report_command_line(int argc, char **argv)
{
	size_t need = 1, o = 0;
	char *out;
	int i;

	for (i = 0; i < argc; i++)
		need += 4 * strlen(argv[i] ? argv[i] : "") + 3;
	out = malloc(need);
	if (!out)
		return NULL;
	for (i = 0; i < argc; i++) {
		const char *w = argv[i] ? argv[i] : "";
		const char *p;

		if (i)
			out[o++] = ' ';
		if (report_shell_safe(w)) {
			size_t l = strlen(w);
			memcpy(out + o, w, l);
			o += l;
			continue;
		}
		out[o++] = '\'';
		for (p = w; *p; p++) {
			if (*p == '\'') {
				memcpy(out + o, "'\\''", 4);   /* close, escaped quote, reopen */
				o += 4;
			} else {
				out[o++] = *p;
			}
		}
		out[o++] = '\'';
	}
	out[o] = '\0';
	return out;
}

/* ---- header --------------------------------------------------------------- */

static int report_write_build_env(struct report *r)
{
	char date[64], pcapv[64];

	report_build_date(date, sizeof date);
	report_pcap_version(pcapv, sizeof pcapv);
	if (report_start(r, "build_environment") < 0 ||
	    report_elem(r, "compiler", __VERSION__) < 0 ||
	    report_elem(r, "compilation_date", date) < 0)
		return -1;
	if (report_start(r, "library") < 0 || report_attr(r, "name", "libpcap") < 0 ||
	    report_attr(r, "version", pcapv) < 0 || report_end(r) < 0)
		return -1;
	if (report_start(r, "library") < 0 || report_attr(r, "name", "zlib") < 0 ||
	    report_attr(r, "version", zlibVersion()) < 0 || report_end(r) < 0)
		return -1;
	if (report_start(r, "library") < 0 || report_attr(r, "name", "libxml2") < 0 ||
	    report_attr(r, "version", LIBXML_DOTTED_VERSION) < 0 || report_end(r) < 0)
		return -1;
	return report_end(r);
}

static int report_write_exec_env(struct report *r, int argc, char **argv)
{
	struct utsname un;
	struct passwd pw, *pwp = NULL;
	char pwbuf[4096], when[64];
	char *cmd = NULL;
	int rc = -1;

	cmd = report_command_line(argc, argv);
	if (!cmd) {
		report_fail(r, ENOMEM);
		goto out;
	}
	if (report_start(r, "execution_environment") < 0)
		goto out;
	if (uname(&un) == 0) {
		if (report_elem(r, "os_sysname", un.sysname) < 0 ||
		    report_elem(r, "os_release", un.release) < 0 ||
		    report_elem(r, "os_version", un.version) < 0 ||
		    report_elem(r, "host", un.nodename) < 0 ||
		    report_elem(r, "arch", un.machine) < 0)
			goto out;
	}
	if (report_elem(r, "command_line", cmd) < 0 ||
	    report_elem_u64(r, "uid", (uint64_t)getuid()) < 0)
		goto out;
	if (getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &pwp) == 0 && pwp &&
	    report_elem(r, "username", pwp->pw_name) < 0)
		goto out;
	report_iso8601((int64_t)time(NULL), -1, when, sizeof when);
	if (report_elem(r, "start_time", when) < 0 || report_end(r) < 0)
		goto out;
	rc = 0;
out:
	free(cmd);
	return rc;
}

static int report_write_header(struct report *r, int argc, char **argv)
{
	if (report_chk(r, xmlTextWriterStartDocument(r->w, NULL, "UTF-8", NULL)) < 0 ||
	    report_start(r, "dfxml") < 0 || report_attr(r, "xmloutputversion", "1.0") < 0)
		return -1;
	if (report_start(r, "metadata") < 0 ||
	    report_attr(r, "xmlns", "http://afflib.org/tcpflow/") < 0 ||
	    report_attr(r, "xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance") < 0 ||
	    report_attr(r, "xmlns:dc", "http://purl.org/dc/elements/1.1/") < 0 ||
	    report_elem(r, "dc:type", "Feature Extraction") < 0 || report_end(r) < 0)
		return -1;
	if (report_start(r, "creator") < 0 || report_attr(r, "version", "1.0") < 0 ||
	    report_elem(r, "program", "TCPFLOW") < 0 ||
	    report_elem(r, "version", PACKAGE_VERSION) < 0 ||
	    report_write_build_env(r) < 0 || report_write_exec_env(r, argc, argv) < 0 ||
	    report_end(r) < 0)
		return -1;
	return report_flush(r);
}

/* ---- lazily written parts ------------------------------------------------- */

static int report_write_source(struct report *r, const struct report_src *s)
{
	if (report_start(r, "source") < 0 || report_elem(r, "image_filename", s->path) < 0)
		return -1;
	if (s->has_size && report_elem_u64(r, "image_size", s->size) < 0)
		return -1;
	return report_end(r);
}

static int report_write_settings(struct report *r)
{
	size_t i;

	if (report_start(r, "configuration") < 0)
		return -1;
	for (i = 0; i < r->nsettings; i++) {
		if (report_start(r, "setting") < 0 ||
		    report_attr(r, "name", r->settings[i].name) < 0 ||
		    report_attr(r, "value", r->settings[i].value) < 0 || report_end(r) < 0)
			return -1;
	}
	return report_end(r);
}

static void report_free_pending(struct report *r)
{
	size_t i;

	for (i = 0; i < r->nsettings; i++) {
		free(r->settings[i].name);
		free(r->settings[i].value);
	}
	free(r->settings);
	r->settings = NULL;
	r->nsettings = r->cap_settings = 0;
	for (i = 0; i < r->nsources; i++)
		free(r->sources[i].path);
	free(r->sources);
	r->sources = NULL;
	r->nsources = r->cap_sources = 0;
}

/* Close whatever callers left open (user elements, a fileobject) and write
 * the pending sources and <configuration>: the state every top-level element
 * starts from. */
static int report_top_level(struct report *r)
{
	size_t i;
	int rc = 0;

	while (r->user_depth > 0) {
		r->user_depth--;
		if (report_end(r) < 0)
			rc = -1;
	}
	r->attrs_open = 0;
	if (r->in_flow) {
		r->in_flow = 0;
		if (report_end(r) < 0)
			rc = -1;
	}
	if (r->header_done || rc < 0)
		return rc;
	r->header_done = 1;
	for (i = 0; i < r->nsources; i++) {
		if (report_write_source(r, &r->sources[i]) < 0)
			rc = -1;
	}
	if (rc == 0 && report_write_settings(r) < 0)
		rc = -1;
	report_free_pending(r);
	return rc;
}

/* ---- public API ------------------------------------------------------------ */

struct report *report_open(const char *path, int argc, char **argv, char *err, size_t errlen)
{
	struct report *r = NULL;
	xmlOutputBufferPtr out = NULL;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path) {
		if (err)
			snprintf(err, errlen, "no report file name given");
		return NULL;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		if (err)
			snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &r->t0);
	r->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (r->fd < 0) {
		if (err)
			snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	out = xmlOutputBufferCreateIO(report_io_write, report_io_close, r, NULL);
	if (!out) {
		report_fail(r, ENOMEM);
		goto fail_msg;
	}
	r->w = xmlNewTextWriter(out);
	if (!r->w) {
		xmlOutputBufferClose(out);   /* closes r->fd through report_io_close */
		report_fail(r, ENOMEM);
		goto fail_msg;
	}
	xmlTextWriterSetIndent(r->w, 1);
	xmlTextWriterSetIndentString(r->w, BAD_CAST "  ");
	xmlTextWriterSetQuoteChar(r->w, '\'');
	if (report_write_header(r, argc, argv) < 0)
		goto fail_msg;
	return r;

fail_msg:
	if (err)
		snprintf(err, errlen, "%s", strerror(r->err ? r->err : EIO));
fail:
	if (r->w)
		xmlFreeTextWriter(r->w);   /* closes r->fd */
	else if (r->fd >= 0)
		close(r->fd);
	free(r);
	return NULL;
}

void report_setting(struct report *r, const char *name, const char *value)
{
	struct report_setting *s;

	if (!r || !name)
		return;
	if (r->header_done) {
		/* Too late for the <configuration> already written: give the late
		 * setting a <configuration> of its own so nothing is lost. */
		if (report_top_level(r) < 0 || report_start(r, "configuration") < 0 ||
		    report_start(r, "setting") < 0 || report_attr(r, "name", name) < 0 ||
		    report_attr(r, "value", value ? value : "") < 0 || report_end(r) < 0 ||
		    report_end(r) < 0)
			return;
		report_flush(r);
		return;
	}
	if (r->nsettings == r->cap_settings) {
		size_t cap = r->cap_settings ? 2 * r->cap_settings : 16;
		s = realloc(r->settings, cap * sizeof *s);
		if (!s)
			goto nomem;
		r->settings = s;
		r->cap_settings = cap;
	}
	s = &r->settings[r->nsettings];
	s->name = strdup(name);
	s->value = strdup(value ? value : "");
	if (!s->name || !s->value) {
		free(s->name);
		free(s->value);
		goto nomem;
	}
	r->nsettings++;
	return;
nomem:
	report_fail(r, ENOMEM);
}

void report_source(struct report *r, const char *path)
{
	struct report_src src = { 0 }, *s;
	struct stat st;

	if (!r || !path)
		return;
	if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
		src.has_size = 1;
		src.size = (uint64_t)st.st_size;
	}
	if (r->header_done) {
		src.path = (char *)path;
		if (report_top_level(r) == 0 && report_write_source(r, &src) == 0)
			report_flush(r);
		return;
	}
	if (r->nsources == r->cap_sources) {
		size_t cap = r->cap_sources ? 2 * r->cap_sources : 4;
		s = realloc(r->sources, cap * sizeof *s);
		if (!s)
			goto nomem;
		r->sources = s;
		r->cap_sources = cap;
	}
	src.path = strdup(path);
	if (!src.path)
		goto nomem;
	r->sources[r->nsources++] = src;
	return;
nomem:
	report_fail(r, ENOMEM);
}

/* 02:00:00:00:00:01 into buf[18] */
static void report_mac_text(const uint8_t m[6], char *buf)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		buf[3 * i] = hex[m[i] >> 4];
		buf[3 * i + 1] = hex[m[i] & 15];
		buf[3 * i + 2] = i < 5 ? ':' : '\0';
	}
}

/* The file's name and size as they are on disk. */
static const char *flow_file(const struct report_flow *f, uint64_t *size)
{
	*size = f->filesize;
	if (f->late_size && f->late_size(f->late, size) < 0) {
		*size = 0;
		return NULL;
	}
	return f->filename;
}

void report_flow_drop(const struct report_flow *f)
{
	uint64_t size;
	if (f)
		flow_file(f, &size);
}

void report_flow_free(struct report_flow *f)
{
	report_flow_drop(f);
	free(f);
}

int report_flow_begin(struct report *r, const struct report_flow *f)
{
	char buf[64];
	size_t i;

	if (!f)
		return r ? -EINVAL : 0;
	uint64_t size;
	const char *filename = flow_file(f, &size);
	if (!r)
		return 0;
	if (report_top_level(r) < 0 || report_start(r, "fileobject") < 0)
		goto out;
	r->in_flow = 1;
	if (filename && *filename && report_elem(r, "filename", filename) < 0)
		goto out;
	if (report_elem_u64(r, "filesize", size) < 0 || report_start(r, "tcpflow") < 0)
		goto out;
	report_iso8601(f->start_sec, (long)f->start_usec, buf, sizeof buf);
	if (report_attr(r, "startime", buf) < 0)
		goto out;
	report_iso8601(f->end_sec, (long)f->end_usec, buf, sizeof buf);
	if (report_attr(r, "endtime", buf) < 0)
		goto out;
	if (f->has_mac) {
		report_mac_text(f->dst_mac, buf);
		if (report_attr(r, "mac_daddr", buf) < 0)
			goto out;
		report_mac_text(f->src_mac, buf);
		if (report_attr(r, "mac_saddr", buf) < 0)
			goto out;
	}
	/* 1.6 writes the Linux AF_ values; fixed here so every platform agrees. */
	if (report_attr(r, "family", f->src.family == 6 ? "10" : "2") < 0)
		goto out;
	ip_addr_text(&f->src, 0, buf, sizeof buf);
	if (report_attr(r, "src_ipn", buf) < 0)
		goto out;
	ip_addr_text(&f->dst, 0, buf, sizeof buf);
	if (report_attr(r, "dst_ipn", buf) < 0 ||
	    report_attr_u64(r, "srcport", f->sport) < 0 ||
	    report_attr_u64(r, "dstport", f->dport) < 0 ||
	    report_attr_u64(r, "packets", f->packets) < 0)
		goto out;
	if (f->out_of_order_count &&
	    report_attr_u64(r, "out_of_order_count", f->out_of_order_count) < 0)
		goto out;
	if (f->violations && report_attr_u64(r, "violations", f->violations) < 0)
		goto out;
	if (report_attr_u64(r, "len", f->len) < 0)
		goto out;
	/* 1.6 meaning: caplen is what was kept, present only when it is not len. */
	if (f->caplen &&
	    report_attr_u64(r, "caplen", f->caplen < f->len ? f->len - f->caplen : 0) < 0)
		goto out;
	if (f->has_vlan && report_attr_u64(r, "vlan", f->vlan) < 0)
		goto out;
	if (f->session_id && report_attr_u64(r, "session_id", f->session_id) < 0)
		goto out;
	if (f->connection_count &&
	    report_attr_u64(r, "connection_count", f->connection_count) < 0)
		goto out;
	if (report_end(r) < 0)
		goto out;
	if (f->ngaps && f->gaps) {
		if (report_start(r, "gaps") < 0)
			goto out;
		for (i = 0; i < f->ngaps; i++) {
			if (report_start(r, "gap") < 0 ||
			    report_attr_u64(r, "offset", f->gaps[i].offset) < 0 ||
			    report_attr_u64(r, "len", f->gaps[i].len) < 0 || report_end(r) < 0)
				goto out;
		}
		if (report_end(r) < 0)
			goto out;
	}
out:
	return report_status(r);
}

void report_use_writer(struct report *r, struct writer *w)
{
	if (!r)
		return;
	ops_finish(r);
	r->writer = w;
}

int report_defer(struct report *r, report_defer_fn fn, void *arg)
{
	struct report_call c = { fn, arg };
	struct report_block *b;

	if (!r) {
		fn(NULL, arg);
		return 0;
	}
	if (report_top_level(r) < 0 || !r->writer) {
		fn(r->err ? NULL : r, arg);
		report_top_level(r);
		return report_status(r);
	}
	if (!r->direct) {
		struct report *d = calloc(1, sizeof *d);
		if (!d) {
			report_fail(r, ENOMEM);
			fn(NULL, arg);
			return report_status(r);
		}
		d->w = r->w;
		d->fd = -1;
		d->header_done = 1;
		r->direct = d;
	}
	if (!(b = op_room(r, 1 + sizeof c))) {
		fn(NULL, arg);
		return report_status(r);
	}
	b->data[b->used++] = (char)OP_CALL;
	memcpy(b->data + b->used, &c, sizeof c);
	b->used += sizeof c;
	b->calls++;
	report_flush_if_old(r);   /* a complete top-level element, as it will be */
	return report_status(r);
}

void report_sync(struct report *r)
{
	if (r && !r->in_flow && r->user_depth == 0) {
		report_flush(r);
		ops_wait(r);      /* on disk when this returns */
	}
}

int report_flow_end(struct report *r)
{
	if (!r)
		return 0;
	if (!r->in_flow)
		return r->err ? -r->err : -EINVAL;
	/* Not a flush per entry (a run with many short flows would make a
	 * write per flow): libxml2 writes whenever about 4 KB are buffered,
	 * and a flush here at most once a second keeps the file current. */
	if (report_top_level(r) == 0)
		report_flush_if_old(r);
	return report_status(r);
}

int report_flow(struct report *r, const struct report_flow *f)
{
	return report_flow_defer(r, f, NULL, NULL);
}

struct report_flow *report_flow_copy(const struct report_flow *f)
{
	size_t lg = f->ngaps && f->gaps ? f->ngaps * sizeof *f->gaps : 0;
	size_t ln = f->filename ? strlen(f->filename) + 1 : 0;
	struct report_flow *c = malloc(sizeof *c + lg + ln);
	char *p;

	if (!c)
		return NULL;
	*c = *f;
	p = (char *)(c + 1);
	if (lg) {
		memcpy(p, f->gaps, lg);
		c->gaps = (const struct report_gap *)(void *)p;
		p += lg;
	} else {
		c->gaps = NULL;
		c->ngaps = 0;
	}
	if (ln)
		memcpy(p, f->filename, ln);
	c->filename = ln ? p : NULL;
	return c;
}

/* A flow entry to be written by report_defer. */
struct flow_call {
	struct report_flow *f;    /* report_flow_copy's */
	report_defer_fn inner;
	void *arg;
};

static void flow_call_out(struct report *rr, void *arg)
{
	struct flow_call *c = arg;

	report_flow_begin(rr, c->f);   /* also without a report: the file's outcome */
	if (c->inner)
		c->inner(rr, c->arg);
	if (rr)
		report_flow_end(rr);
	free(c->f);
	free(c);
}

/* report_flow_defer without a writer: the entry now. */
static int flow_now(struct report *r, const struct report_flow *f, report_defer_fn inner,
		    void *arg)
{
	report_flow_begin(r, f);
	if (inner)
		inner(r->in_flow ? r : NULL, arg);
	return report_flow_end(r);
}

int report_flow_defer_copy(struct report *r, struct report_flow *copy, report_defer_fn inner,
			   void *arg)
{
	struct flow_call *c = NULL;
	int rc;

	if (r && copy && !r->writer) {
		rc = flow_now(r, copy, inner, arg);
		free(copy);
		return rc;
	}
	if (!r || !copy || !(c = malloc(sizeof *c))) {
		if (r && copy)
			report_fail(r, ENOMEM);
		if (inner)
			inner(NULL, arg);
		report_flow_free(copy);
		return !r ? 0 : !copy ? -EINVAL : report_status(r);
	}
	c->f = copy;
	c->inner = inner;
	c->arg = arg;
	return report_defer(r, flow_call_out, c);
}

int report_flow_defer(struct report *r, const struct report_flow *f, report_defer_fn inner,
		      void *arg)
{
	if (r && f && !r->writer)
		return flow_now(r, f, inner, arg);   /* no copy needed */
	struct report_flow *copy = r && f ? report_flow_copy(f) : NULL;
	if (r && f && !copy) {
		report_flow_drop(f);
		report_fail(r, ENOMEM);
		if (inner)
			inner(NULL, arg);
		return report_status(r);
	}
	return report_flow_defer_copy(r, copy, inner, arg);
}

int report_start_element(struct report *r, const char *name)
{
	if (!r)
		return 0;
	if (!report_name_ok(name))
		return -EINVAL;
	if (!r->in_flow && r->user_depth == 0 && report_top_level(r) < 0)
		goto out;
	if (report_start(r, name) < 0)
		goto out;
	r->user_depth++;
	r->attrs_open = 1;
	r->attr_names_len = 0;
out:
	return report_status(r);
}

int report_attribute(struct report *r, const char *name, const char *value)
{
	size_t nl, at;

	if (!r)
		return 0;
	if (!report_name_ok(name) || !r->attrs_open || r->user_depth == 0)
		return -EINVAL;
	/* a repeated attribute name would make the document ill-formed */
	nl = strlen(name);
	for (at = 0; at < r->attr_names_len; at += strlen(r->attr_names + at) + 1) {
		if (strcmp(r->attr_names + at, name) == 0)
			return -EINVAL;
	}
	if (r->attr_names_len + nl + 1 > sizeof r->attr_names)
		return -E2BIG;
	memcpy(r->attr_names + r->attr_names_len, name, nl + 1);
	r->attr_names_len += nl + 1;
	report_attr(r, name, value ? value : "");
	return report_status(r);
}

int report_attribute_u64(struct report *r, const char *name, uint64_t value)
{
	char buf[24];

	return report_attribute(r, name, report_u64_text(buf, value));
}

int report_text(struct report *r, const char *text)
{
	if (!r)
		return 0;
	if (r->user_depth == 0)
		return -EINVAL;
	r->attrs_open = 0;
	report_text_raw(r, text);
	return report_status(r);
}

int report_end_element(struct report *r)
{
	if (!r)
		return 0;
	if (r->user_depth == 0)
		return -EINVAL;
	r->user_depth--;
	r->attrs_open = 0;
	if (report_end(r) == 0 && r->user_depth == 0 && !r->in_flow)
		report_flush_if_old(r);   /* a complete top-level element */
	return report_status(r);
}

int report_element(struct report *r, const char *name, const char *text)
{
	int rc;

	if (!r)
		return 0;
	rc = report_start_element(r, name);
	if (rc < 0)
		return rc;
	if (text && *text) {
		rc = report_text(r, text);
		if (rc < 0)
			return rc;
	}
	return report_end_element(r);
}

int report_element_u64(struct report *r, const char *name, uint64_t value)
{
	char buf[24];

	return report_element(r, name, report_u64_text(buf, value));
}

void report_warning(struct report *r, const char *text)
{
	if (!r)
		return;
	if (report_top_level(r) == 0 && report_elem(r, "warning", text ? text : "") == 0) {
		report_flush(r);
		ops_wait(r);
	}
}

static void report_stat_visit(const char *name, uint64_t value, void *arg)
{
	struct report *r = arg;

	report_elem_u64(r, name, value);
}

static int report_timeval_elem(struct report *r, const char *name, int64_t sec, long usec)
{
	char buf[48];

	snprintf(buf, sizeof buf, "%lld.%06ld", (long long)sec, usec);
	return report_elem(r, name, buf);
}

static int report_write_rusage(struct report *r)
{
	struct rusage ru;
	struct timespec now;
	int64_t sec;
	long nsec;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	sec = (int64_t)(now.tv_sec - r->t0.tv_sec);
	nsec = now.tv_nsec - r->t0.tv_nsec;
	if (nsec < 0) {
		sec--;
		nsec += 1000000000L;
	}
	if (report_start(r, "rusage") < 0 ||
	    report_timeval_elem(r, "utime", (int64_t)ru.ru_utime.tv_sec,
				(long)ru.ru_utime.tv_usec) < 0 ||
	    report_timeval_elem(r, "stime", (int64_t)ru.ru_stime.tv_sec,
				(long)ru.ru_stime.tv_usec) < 0 ||
	    report_elem_i64(r, "maxrss", ru.ru_maxrss) < 0 ||
	    report_elem_i64(r, "minflt", ru.ru_minflt) < 0 ||
	    report_elem_i64(r, "majflt", ru.ru_majflt) < 0 ||
	    report_elem_i64(r, "nswap", ru.ru_nswap) < 0 ||
	    report_elem_i64(r, "inblock", ru.ru_inblock) < 0 ||
	    report_elem_i64(r, "oublock", ru.ru_oublock) < 0 ||
	    report_timeval_elem(r, "clocktime", sec, nsec / 1000) < 0)
		return -1;
	return report_end(r);
}

int report_close(struct report *r)
{
	int rc;

	if (!r)
		return 0;
	ops_finish(r);
	if (report_top_level(r) == 0 && report_start(r, "statistics") == 0) {
		tf_stats_visit(report_stat_visit, r);
		if (report_end(r) == 0 && report_write_rusage(r) == 0 &&
		    report_chk(r, xmlTextWriterEndDocument(r->w)) == 0)
			report_flush(r);
	}
	xmlFreeTextWriter(r->w);   /* flushes and closes r->fd via report_io_close */
	r->w = NULL;
	free(r->direct);
	rc = report_status(r);
	report_free_pending(r);
	free(r);
	return rc;
}
