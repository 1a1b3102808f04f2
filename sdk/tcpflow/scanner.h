/* tcpflow scanner ABI, major version 1.
 *
 * This is the only header a scanner includes. A scanner is a shared object
 * that exports one function, TF_ENTRY (tcpflow_scanner_v1), which receives
 * the host's function table and returns the scanner's descriptor. The host
 * loads it with dlopen(RTLD_NOW | RTLD_LOCAL); a scanner links to no symbol
 * of tcpflow (build it with -fvisibility=hidden: `pkg-config --cflags
 * tcpflow-scanner` says so) and reaches the host only through struct tf_host.
 *
 * Compatibility (sdk/ABI.md): a scanner built against ABI 1.x loads in every
 * tcpflow with ABI major 1 and minor >= x. struct tf_scanner, struct tf_host
 * and every struct with a leading `size` member only ever grow at the end;
 * whoever reads one never reads past the size it was given (TF_HAS).
 *
 * Threads: the host calls a scanner from one thread at a time, and host
 * functions may be called only from inside a call the host made (init,
 * an event, shutdown), on that thread.
 *
 * Ownership, in one rule: everything the host hands to a scanner is borrowed
 * for the duration of that call, unless stated otherwise below; a scanner
 * copies what it keeps. Everything a scanner hands to the host is read during
 * the call and not kept (the host copies), except the descriptor and the
 * strings and parameter table it points to, which must stay valid until the
 * shared object is unloaded (use static storage). */
#ifndef TCPFLOW_SCANNER_H
#define TCPFLOW_SCANNER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TF_ABI_MAJOR 1
#define TF_ABI_MINOR 5

/* The entry symbol carries the major version: a scanner built for another
 * major simply has no matching symbol. */
#define TF_ENTRY tcpflow_scanner_v1
#define TF_ENTRY_NAME "tcpflow_scanner_v1"

#if defined(__GNUC__) || defined(__clang__)
#define TF_EXPORT __attribute__((visibility("default")))
#else
#define TF_EXPORT
#endif

/* Does the struct at ptr (whose first member is `uint32_t size`) contain
 * member? Use it before reading a member added in a later minor version. */
#define TF_HAS(ptr, type, member) \
	((ptr)->size >= offsetof(type, member) + sizeof(((type *)0)->member))

/* Opaque handles, owned by the host. */
struct tf_ctx;     /* one per loaded scanner: identifies the caller to the host */
struct tf_entry;   /* a report entry (a flow's or an object's <fileobject>) */
struct tf_file;    /* a file being written through the host */

/* ---- what the host tells a scanner ------------------------------------------ */

struct tf_ip_addr {
	uint8_t family;          /* 4 or 6, 0 = none */
	uint8_t bytes[16];       /* IPv4 in the first 4 bytes, network order */
};

/* One hole in a flow: bytes that never arrived (zeros in the file). Also
 * (ABI 1.2) a hole in a derived object's content. */
struct tf_gap {
	uint64_t offset;
	uint64_t len;
};

/* ABI 1.2: a piece of a derived object's content. The len bytes at offset
 * in the object are the bytes at parent_offset in its parent's content (for
 * an object derived from a flow: the stream offset, which is the offset in
 * the flow file). An HTTP body with Content-Length is one run; a chunked one
 * has a run per chunk. Fixed for ABI major 1 (used in arrays). */
struct tf_run {
	uint64_t offset;
	uint64_t parent_offset;
	uint64_t len;
};

/* tf_flow.flags */
/* The data and gap events did not describe the flow file byte for byte:
 * late bytes filled a hole after it was announced, earlier bytes were placed
 * in front of what was delivered (a capture that started mid-stream), -b
 * truncated the file, or a write failed. Set at on_flow_close. A scanner
 * that needs the exact stored content reads the file at `path` then
 * (after host->files_sync if it called host->files_later, ABI 1.5). */
#define TF_FLOW_REWRITTEN  0x1u

/* One direction of a TCP connection. Owned by the host; valid from
 * on_flow_open until on_flow_close returns; members change between events. */
struct tf_flow {
	uint32_t size;               /* bytes of this struct the host filled */
	uint32_t flags;              /* TF_FLOW_*; final at on_flow_close */
	uint64_t id;                 /* unique per flow direction in a run, from 0 */
	uint64_t session_id;         /* shared by both directions of a connection */
	struct tf_ip_addr src, dst;
	uint16_t sport, dport;
	uint16_t vlan;               /* VLAN id when has_vlan */
	uint8_t has_vlan;
	uint8_t reserved0;
	int64_t first_sec;           /* capture time of the first packet */
	uint32_t first_usec;
	uint32_t reserved1;
	int64_t last_sec;            /* capture time of the latest packet */
	uint32_t last_usec;
	uint32_t connection_count;   /* 0 for the first connection on these addresses */
	uint64_t packets;            /* packets seen in this direction so far */
	uint64_t length;             /* stream bytes so far (data + holes); final at close */
	const char *path;            /* the flow file; NULL until it exists (or, after
	                              * host->files_later, is named), and when no
	                              * flow files are written (-FX, console output) */
	uint64_t file_size;          /* bytes in the file; final at on_flow_close */
	const struct tf_gap *gaps;   /* holes left, sorted; set at on_flow_close only */
	uint32_t ngaps;
	uint32_t reserved2;
	struct tf_entry *entry;      /* the flow's report entry */
};

/* Metadata of a derived object: a key and a value, both NUL-terminated. */
struct tf_kv {
	const char *key;
	const char *value;
};

/* A derived object (an HTTP body, a decompressed body, ...), as dispatched
 * to on_object. Owned by the host; valid during on_object only. */
struct tf_object {
	uint32_t size;
	uint32_t depth;              /* 1 = derived from a flow (or from nothing), parent's + 1 */
	const char *type;            /* e.g. "http-body", "gzip-decoded" */
	const struct tf_kv *meta;    /* nmeta pairs, as the producer gave them */
	size_t nmeta;
	const uint8_t *data;         /* the content, len bytes (NULL only when len is 0) */
	uint64_t len;
	const char *path;            /* the file holding it, or NULL (not written, -FX);
	                              * after host->files_later it may be written
	                              * after on_object */
	const char *producer;        /* name of the scanner that emitted it */
	const struct tf_flow *flow;  /* the flow it comes from, or NULL */
	const struct tf_object *parent;  /* the object it was derived from, or NULL */
	struct tf_entry *entry;      /* its report entry: add elements, emit children */
	/* ABI 1.2 (check with TF_HAS): where the content came from and which of
	 * its bytes are missing, as the producer gave them (tf_object_desc). */
	const struct tf_run *runs;   /* nruns pieces, in object order; may be NULL */
	size_t nruns;
	const struct tf_gap *gaps;   /* holes in the content (zeros there), sorted */
	size_t ngaps;
};

/* tf_packet.flags */
#define TF_PACKET_IP   0x1u      /* src, dst, ip_proto are set */
#define TF_PACKET_TCP  0x2u      /* sport, dport, seq, ack, tcp_flags, payload are set */
#define TF_PACKET_PORTS 0x4u     /* (ABI 1.1) sport, dport are set: TCP, and UDP */

/* One captured packet, after decoding as far as tcpflow could. Every packet
 * read is delivered (ABI 1.1 guarantees it): also non-IP frames, 802.11
 * management and control frames, and packets of link types tcpflow does not
 * decode (flags 0); frame and caplen are always the whole captured frame,
 * from its link-layer header (radiotap, Prism, PPI, ...) on. */

/* Valid during on_packet only; frame and payload point into the capture
 * buffer. */
struct tf_packet {
	uint32_t size;
	uint32_t flags;              /* TF_PACKET_* */
	int64_t ts_sec;
	uint32_t ts_usec;
	int32_t linktype;            /* DLT_* of this packet's interface */
	uint32_t caplen;             /* bytes at frame */
	uint32_t wirelen;
	const uint8_t *frame;        /* the raw frame from its link-layer header on */
	uint32_t input_index;        /* which input (-r order) it came from */
	uint16_t vlan;
	uint8_t has_vlan;
	uint8_t ip_proto;
	struct tf_ip_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t tcp_flags;           /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
	uint8_t reserved0[3];
	const uint8_t *payload;      /* TCP payload, payload_len bytes */
	uint32_t payload_len;
};

/* ---- what a scanner tells the host ---------------------------------------- */

/* A parameter, set with -S NAME=VALUE. Names share one namespace across all
 * scanners and the core settings: prefix them with the scanner name
 * (md5_also). Arrays of tf_param end with an element whose name is NULL.
 * This struct is fixed for ABI major 1. */
struct tf_param {
	const char *name;            /* [A-Za-z0-9_.-]+ */
	const char *default_value;   /* the value when not given; may be "" */
	const char *description;     /* one line, for -H */
};

/* An object to emit (host->emit_object). Read during the call only. */
struct tf_object_desc {
	uint32_t size;               /* sizeof(struct tf_object_desc) */
	uint32_t flags;              /* 0 */
	const char *type;            /* required: [A-Za-z0-9_.-]+ */
	const struct tf_kv *meta;    /* nmeta pairs (copied by the host); may be NULL */
	size_t nmeta;
	/* The content: either bytes in memory ... */
	const uint8_t *data;
	uint64_t len;
	/* ... written to "<parent's file><suffix>" when suffix is not NULL (e.g.
	 * "-HTTPBODY-002"; [A-Za-z0-9._-]+, no '/'); with suffix NULL the object
	 * lives only in memory and has no file; */
	const char *suffix;
	/* ... or a file written through host->file_open/file_write: the host
	 * takes it (emit_object closes it, whatever it returns); data, len and
	 * suffix are then ignored. */
	struct tf_file *file;
	/* ABI 1.2, optional (absent from older scanners' smaller struct): the
	 * content's origin in the parent's content (runs, in object order, not
	 * overlapping) and the ranges of the content that never arrived (gaps:
	 * zeros in the content, sorted, not overlapping). Every range must lie
	 * inside the content, else emit_object returns -EINVAL; at most
	 * TF_MAX_RUNS of each (-E2BIG). The host records them in the object's
	 * report entry, <byte_runs><byte_run offset= file_offset= len=/>...
	 * </byte_runs> (offset: in the object; file_offset: in the parent, as
	 * tcpflow 1.6 wrote it) and <gaps><gap offset= len=/>...</gaps>, and
	 * passes them on in struct tf_object. */
	const struct tf_run *runs;
	size_t nruns;
	const struct tf_gap *gaps;
	size_t ngaps;
};

/* The most runs, and the most gaps, one object may carry (ABI 1.2). */
#define TF_MAX_RUNS 65536

#define TF_LOG_ERROR 0           /* during init: the reason init failed */
#define TF_LOG_WARN  1           /* stderr (not with -q) and a <warning> in the report */
#define TF_LOG_INFO  2           /* stderr with -v */
#define TF_LOG_DEBUG 3           /* stderr with -d 20 and more */

/* The host's services. Owned by the host, valid until shutdown returns.
 * Every function takes the caller's ctx (from init's or any callback's ctx
 * argument). Functions returning int return 0 or a negative errno value. */
struct tf_host {
	uint32_t size;               /* sizeof the host's table: check with TF_HAS */
	uint16_t abi_major;          /* TF_ABI_MAJOR of the host */
	uint16_t abi_minor;          /* TF_ABI_MINOR of the host (>= the scanner's) */
	const char *tcpflow_version; /* e.g. "2.0.0" */

	/* One line, no newline needed. The host prefixes "tcpflow: NAME: ". */
	void (*log)(struct tf_ctx *ctx, int level, const char *msg);

	/* The value of one of this scanner's parameters (given with -S, else its
	 * default), else "outdir" or a core setting given with -S (e.g.
	 * "tcp_timeout"); NULL otherwise. Valid until shutdown returns.
	 * ABI 1.2: "decompress" is "no" when -Z was given, else "yes" (a scanner
	 * that decodes content encodings itself honours it). */
	const char *(*get_param)(struct tf_ctx *ctx, const char *name);

	/* Report elements. entry is a flow's or object's entry (the element goes
	 * inside its <fileobject>), or NULL for a top-level element (a summary,
	 * usually written at shutdown). Names match [A-Za-z_][A-Za-z0-9_.-]*;
	 * attributes come right after report_start and do not repeat; values and
	 * text are any bytes (escaped; invalid UTF-8 becomes U+FFFD). Elements
	 * left open when the entry is written (or, at top level, when the
	 * callback returns) are closed by the host. -EINVAL on misuse; with the
	 * report off (-S enable_report=NO) every call succeeds and does nothing. */
	int (*report_start)(struct tf_ctx *ctx, struct tf_entry *entry, const char *name);
	int (*report_attr)(struct tf_ctx *ctx, struct tf_entry *entry, const char *name,
			   const char *value);
	int (*report_text)(struct tf_ctx *ctx, struct tf_entry *entry, const char *text);
	int (*report_end)(struct tf_ctx *ctx, struct tf_entry *entry);
	/* <name>text</name>; text may be NULL (empty element) */
	int (*report_element)(struct tf_ctx *ctx, struct tf_entry *entry, const char *name,
			      const char *text);

	/* Write a file: "<file of beside><suffix>" next to a flow or object (both
	 * [A-Za-z0-9._-]+), or, with beside NULL, the file `suffix` in the output
	 * directory (replaced if it exists; e.g. "report.pdf"). Beside a flow
	 * whose file does not exist yet, the host creates the flow's file first
	 * (its name is then final; see files_later: it may give only the name,
	 * the file then comes at the flow's close); if the wanted name exists,
	 * ".1", ".2", ... is appended. Without flow files (-FX, console output) the bytes go to
	 * an anonymous temporary file (still usable for emit_object). Returns
	 * NULL on failure (logged by the host), also beside an object that has
	 * no file. The handle is the scanner's until file_close or emit_object
	 * takes it. */
	struct tf_file *(*file_open)(struct tf_ctx *ctx, struct tf_entry *beside,
				     const char *suffix);
	int (*file_write)(struct tf_ctx *ctx, struct tf_file *file, const void *data,
			  size_t len);
	/* The file's path (NULL for an anonymous one); valid until it is closed
	 * or emitted. */
	const char *(*file_path)(struct tf_ctx *ctx, struct tf_file *file);
	/* Finish the file; the handle is gone. (It may reach the disk later:
	 * see files_later.) */
	int (*file_close)(struct tf_ctx *ctx, struct tf_file *file);

	/* Emit a derived object from parent (a flow's or object's entry; NULL for
	 * one derived from no flow, e.g. at shutdown). The host writes its file
	 * (desc->suffix) or takes desc->file, gives it a report entry (a
	 * <fileobject> of its own with <filename>, <filesize> and <derived type=
	 * producer= parent= depth=> carrying the metadata as <meta name= value=/>;
	 * written once the dispatch is over and no entry before it is held
	 * (entry_hold), so a long flow's objects do not wait for the flow's own
	 * entry), and before returning dispatches it to every enabled scanner's
	 * on_object (the emitter's too; during shutdown, only to the scanners
	 * not yet shut down), in the same deterministic order as all events. Objects
	 * deeper than the host's limit (-S max_object_depth, default 8) are
	 * refused with -ELOOP. */
	int (*emit_object)(struct tf_ctx *ctx, struct tf_entry *parent,
			   const struct tf_object_desc *desc);

	/* ---- ABI 1.1 (check with TF_HAS(host, struct tf_host, input_name)) ---- */

	/* The name of input number `index` (tf_packet.input_index): a capture
	 * file as given (-r, -l, then -R; "-" is stdin), or the interface of a
	 * live capture (index 0). NULL past the last input. Valid until
	 * shutdown returns. */
	const char *(*input_name)(struct tf_ctx *ctx, uint32_t index);

	/* ---- ABI 1.3 (check with TF_HAS(host, struct tf_host, entry_release)) ---- */

	/* Keep an object's report entry open past on_object, to add elements
	 * computed later (a digest finished on a thread of the scanner's own).
	 * Call it from on_object with obj->entry. Until this scanner releases it,
	 * the entry stays valid for its report_* calls (from any later call the
	 * host makes, on the host's thread), and it is not written, nor is any
	 * entry after it: entries keep the order of emissions and flow closes
	 * (a flow's entry comes before the objects derived during its close),
	 * whenever they are released. ABI 1.4: a flow's entry can be held too,
	 * from on_flow_close with flow->entry; after the close it takes
	 * report_* calls only (no file_open beside it, no emit_object from it:
	 * -EINVAL). (In 1.3 a flow's entry was written at its close, ahead of
	 * held object entries emitted before it.) What is still held when shutdown
	 * returns is released by the host. 0; -EINVAL when entry is not the
	 * entry of an object being dispatched (obj->entry, or an ancestor's
	 * during a nested dispatch) or of a flow being closed, or is held by
	 * this scanner already; -ENOTSUP when there is no report (-S
	 * enable_report=NO). */
	int (*entry_hold)(struct tf_ctx *ctx, struct tf_entry *entry);
	/* Let a held entry be written; the handle is gone. 0, or -EINVAL when
	 * this scanner does not hold it (the host looks the handle up among
	 * the entries it keeps; a stale one is a scanner's bug). */
	int (*entry_release)(struct tf_ctx *ctx, struct tf_entry *entry);

	/* ---- ABI 1.5 (check with TF_HAS(host, struct tf_host, files_later)) ---- */

	/* Called from init: this scanner does not need files on disk when
	 * their events come (or calls files_sync first). When every enabled
	 * scanner said so, the host may name a file without creating it and
	 * write it after the event that closes it: a flow's file may appear
	 * only after on_flow_close, a file beside a flow or object after its
	 * file_close or emit_object; all of them are on disk before the run
	 * ends. A scanner that hands paths to others as files are opened (an
	 * alert another program acts on) does not call it. 0; -EINVAL outside
	 * init. */
	int (*files_later)(struct tf_ctx *ctx);
	/* Returns once every file closed so far (flows closed, files closed or
	 * emitted) is complete on disk, for a scanner that called files_later
	 * and reads such a file or hands its path on. 0. */
	int (*files_sync)(struct tf_ctx *ctx);
};

/* The scanner's descriptor, returned by TF_ENTRY. The scanner owns it; it
 * (and what it points to) must stay valid while the object is loaded.
 * Callbacks a scanner does not want stay NULL: the host then does no work
 * for them (on_packet in particular costs nothing when NULL).
 *
 * Life cycle: TF_ENTRY is called once after dlopen (for -H and for name
 * lookup, also for scanners that end up disabled). init is called only for
 * enabled scanners, after every -S parameter is known and before the first
 * packet; then events; then shutdown once, after every flow is closed. */
struct tf_scanner {
	uint32_t size;               /* sizeof(struct tf_scanner) */
	uint16_t abi_major;          /* TF_ABI_MAJOR */
	uint16_t abi_minor;          /* TF_ABI_MINOR */
	const char *name;            /* unique, [A-Za-z0-9_.-]+, e.g. "md5" */
	const char *version;         /* e.g. "1.0" */
	const char *description;     /* one line, for -H */
	const struct tf_param *params;   /* NULL-name terminated; may be NULL */
	uint32_t flags;              /* 0 (reserved) */
	uint32_t reserved0;

	/* Set *state (passed back to every callback; NULL allowed). Return 0, or
	 * a negative errno after logging the reason with TF_LOG_ERROR: tcpflow
	 * then stops with that reason before reading any packet. */
	int (*init)(struct tf_ctx *ctx, void **state);
	/* Write summaries (top-level report elements), free state. Scanners
	 * are shut down in dispatch order: an object emitted from here reaches
	 * this scanner and those after it, not those already shut down. */
	void (*shutdown)(struct tf_ctx *ctx, void *state);

	/* Every packet read (decoded as far as possible; see struct tf_packet). */
	void (*on_packet)(struct tf_ctx *ctx, void *state, const struct tf_packet *pkt);

	/* Stream events, one flow direction at a time. *flow_state is the
	 * scanner's per-flow slot: NULL at on_flow_open, kept by the host, never
	 * touched by it; free what it points to in on_flow_close, the last event
	 * of a flow. A flow is opened when its first byte (or hole) arrives, so a
	 * flow without payload has no events. */
	void (*on_flow_open)(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
			     void **flow_state);
	/* In-order bytes at stream offset `offset`, as they become contiguous
	 * (partial streams): offsets increase without overlap; what is between
	 * two data events was announced by on_gap. */
	void (*on_data)(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
			void **flow_state, uint64_t offset, const uint8_t *data, size_t len);
	/* [offset, offset + len) will not arrive in time: zeros in the file. */
	void (*on_gap)(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
		       void **flow_state, uint64_t offset, uint64_t len);
	/* The flow is complete and its file closed (path, file_size, gaps and
	 * flags final; the file itself may reach the disk later, see
	 * host->files_later). Elements added to flow->entry now or earlier
	 * appear in the flow's <fileobject>. */
	void (*on_flow_close)(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
			      void **flow_state);

	/* A derived object, emitted by any scanner. */
	void (*on_object)(struct tf_ctx *ctx, void *state, const struct tf_object *obj);

	/* ABI 1.4. A live capture has had nothing to read for a quarter of a
	 * second (again each time that passes), or a second has passed since
	 * the last call while packets keep coming; the report is flushed after
	 * this. Finish what was kept for later, such as held entries, so the
	 * report is current. Never called for capture files, so a run on a
	 * file does not depend on it. The host reads it only from a descriptor
	 * whose size covers it. */
	void (*on_idle)(struct tf_ctx *ctx, void *state);
};

/* Smallest descriptor the host accepts for ABI 1.0 (through on_object). */
#define TF_SCANNER_MIN_SIZE \
	(offsetof(struct tf_scanner, on_object) + sizeof(((struct tf_scanner *)0)->on_object))

/* The entry point every scanner defines:
 *   TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *host)
 * It may keep `host` (valid until shutdown returns). Return NULL if the host
 * is unusable (host->abi_major differs); the host reports that. */
TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *host);

/* printf-style logging through host->log. */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 4, 5)))
#endif
static inline void tf_logf(const struct tf_host *host, struct tf_ctx *ctx, int level,
			   const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	host->log(ctx, level, buf);
}

#ifdef __cplusplus
}
#endif

#endif
