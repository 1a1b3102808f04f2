/* Capture inputs.
 *
 * Every input is opened through zlib, which reads plain files transparently,
 * so gzip-compressed captures (files or stdin) need no external program. The
 * first four bytes decide the format:
 *
 *   - pcap (all magics libpcap knows: micro/nanosecond, Kuznetzov "modified"
 *     pcap, either byte order) is read by libpcap from a stdio stream made
 *     with fopencookie() over the gzFile; an uncompressed regular file is
 *     first read in place by pcapmap.c, which hands the rest of the file to
 *     libpcap at the first record it does not take;
 *   - pcapng is read by the block reader below (draft-ietf-opsawg-pcapng),
 *     because libpcap refuses files whose interfaces have different link
 *     types and SPEC section 2 requires them.
 *
 * A BPF filter is compiled once per distinct link type with pcap_open_dead()
 * and applied with pcap_offline_filter(), so rejected packets can be counted.
 *
 * Link types are reported as libpcap DLT values (pcap_datalink() numbering):
 * pcapng LINKTYPE_ values are mapped the way libpcap maps them for pcap
 * files (e.g. LINKTYPE_RAW 101 becomes DLT_RAW, 12 on Linux), so a pcap and a
 * pcapng of the same traffic report the same numbers. */
#include "capture.h"
#include "cursor.h"
#include "pcapmap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <pcap.h>
#include <zlib.h>

#define CAPTURE_GZ_BUFFER    (256u * 1024u)   /* zlib's input buffer */
#define CAPTURE_STDIO_BUFFER (256u * 1024u)   /* stdio buffer under libpcap */
#define CAPTURE_NG_BUFFER    (1024u * 1024u)  /* initial pcapng block buffer */
#define CAPTURE_MAX_BLOCK    (256u * 1024u * 1024u)
#define CAPTURE_DEAD_SNAPLEN 262144

/* pcapng block types (draft-ietf-opsawg-pcapng section 4 and appendix). */
#define NG_SHB 0x0A0D0D0Au
#define NG_IDB 0x00000001u
#define NG_PB  0x00000002u  /* obsolete Packet Block */
#define NG_SPB 0x00000003u
#define NG_EPB 0x00000006u
#define NG_BYTE_ORDER_MAGIC 0x1A2B3C4Du
#define NG_BYTE_ORDER_SWAPPED 0x4D3C2B1Au

/* Minimum total lengths: 12 bytes of framing plus the fixed body. */
#define NG_SHB_MIN 28u
#define NG_IDB_MIN 20u
#define NG_EPB_MIN 32u
#define NG_PB_MIN  32u
#define NG_SPB_MIN 16u

#define NG_OPT_ENDOFOPT    0
#define NG_OPT_IF_TSRESOL  9
#define NG_OPT_IF_TSOFFSET 14

/* The upper bits of a link-type field carry FCS information. */
#define CAPTURE_LINKTYPE_MASK 0x03FFFFFFu

#define USEC_PER_SEC 1000000u

enum capture_kind { CAPTURE_PCAP, CAPTURE_PCAPNG, CAPTURE_LIVE };

struct ng_iface {
	int dlt;
	uint32_t snaplen;      /* 0 = unlimited */
	uint64_t units;        /* timestamp units per second */
	unsigned shift;        /* log2(units) when units is a power of 2, else 0 */
	int64_t offset;        /* if_tsoffset, seconds */
};

struct capture_filter {
	int dlt;
	struct bpf_program prog;
};

struct capture_input {
	enum capture_kind kind;
	int fd;                  /* the input; -1 once closed (pcap: by the stdio cookie) */
	int zmode;               /* gzip-compressed: bytes go through inflate */
	int zinit;               /* 1: zs inflating a member, 2: a member just ended */
	unsigned zmembers;       /* gzip members finished before the current one */
	z_stream zs;
	uint8_t *zin;            /* compressed bytes read, not yet inflated */
	int zin_eof;
	uint8_t raw[4];          /* bytes read while sniffing for gzip, handed out first */
	size_t raw_len, raw_pos;
	int gz_failed;           /* a read failed: gz_msg says why */
	int gz_cut;              /* the gzip stream ended before its trailer */
	char gz_msg[160];

	/* pcap, through libpcap */
	uint8_t sniff[24];       /* the magic (or whole file header), handed to libpcap first */
	size_t sniff_len;
	size_t sniff_pos;
	FILE *fp;
	char *fp_buf;
	pcap_t *pc;
	struct pcapmap *map;     /* records read in place until it stops */
	int map_hold;            /* libpcap sees only the file header for now */

	/* pcapng */
	uint8_t *buf;
	size_t buf_cap;
	size_t buf_len;          /* bytes held */
	size_t buf_pos;          /* next unread byte */
	uint64_t buf_off;        /* input offset of buf[0] */
	int eof;
	int big_endian;
	struct ng_iface *ifs;
	size_t n_ifs;
	size_t cap_ifs;

	int first_dlt;
	char *filter;            /* NULL = no filter */
	struct capture_filter *filters;
	size_t n_filters;
	size_t last_filter;
	unsigned long filtered;

	int done;                /* 0 reading, 1 clean end, -1 failed */
	char msg[320];           /* why it failed */

	/* progress: bytes read from the file, its size */
	uint64_t raw_bytes;
	uint64_t file_size;

	/* live */
	char *device;
	int live_fd;             /* pollable descriptor, -1 if none */
	int poll_ms;
};

static void set_msg(struct capture_input *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_msg(struct capture_input *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->msg, sizeof in->msg, fmt, ap);
	va_end(ap);
}

static void copy_err(char *err, size_t errlen, const char *msg)
{
	if (err && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

/* ---- zlib reads --------------------------------------------------------- */

/* One read() of the input: whatever is available, so a pipe that delivers
 * packets slowly (or stays open) hands them on as they come. */
static ssize_t raw_read(struct capture_input *in, void *dst, size_t len)
{
	if (in->raw_pos < in->raw_len) {
		size_t n = in->raw_len - in->raw_pos;
		if (n > len)
			n = len;
		memcpy(dst, in->raw + in->raw_pos, n);
		in->raw_pos += n;
		return (ssize_t)n;
	}
	ssize_t n = read(in->fd, dst, len);
	if (n > 0)
		in->raw_bytes += (uint64_t)n;
	return n;
}

static int read_failed(struct capture_input *in, const char *what)
{
	in->gz_failed = 1;
	snprintf(in->gz_msg, sizeof in->gz_msg, "%s", what);
	return -1;
}

/* Read up to len bytes of capture data (inflated when the input is gzip);
 * returns the count (0 at the end) or -1. Returns as soon as some bytes are
 * there. Records why a read failed, and whether a gzip stream stopped short
 * of its trailer. */
static int gz_read_some(struct capture_input *in, void *dst, size_t len)
{
	if (in->fd < 0 || in->gz_failed)
		return -1;
	if (in->map_hold)
		return 0;
	if (len > (size_t)(INT_MAX / 2))
		len = (size_t)(INT_MAX / 2);
	if (!in->zmode) {
		ssize_t n = raw_read(in, dst, len);
		if (n < 0) {
			char msg[160];
			snprintf(msg, sizeof msg, "read error: %s", strerror(errno));
			return read_failed(in, msg);
		}
		return (int)n;
	}
	in->zs.next_out = dst;
	in->zs.avail_out = (uInt)len;
	while (in->zs.avail_out == len) {
		if (in->zs.avail_in == 0) {
			if (in->zin_eof) {
				/* Input ended inside a gzip member: no trailer. */
				if (in->zinit == 2)
					return 0;
				in->gz_cut = 1;
				return 0;
			}
			ssize_t n = raw_read(in, in->zin, CAPTURE_GZ_BUFFER);
			if (n < 0) {
				char msg[160];
				snprintf(msg, sizeof msg, "read error: %s", strerror(errno));
				return read_failed(in, msg);
			}
			if (n == 0) {
				in->zin_eof = 1;
				continue;
			}
			in->zs.next_in = in->zin;
			in->zs.avail_in = (uInt)n;
		}
		if (in->zinit == 2) {
			/* A member ended and more bytes follow: another member (RFC 1952 2.2). */
			if (inflateReset(&in->zs) != Z_OK)
				return read_failed(in, "gzip: cannot restart");
			in->zinit = 1;
			in->zmembers++;
		}
		int rc = inflate(&in->zs, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			in->zinit = 2;
		} else if (rc == Z_DATA_ERROR && in->zs.total_out == 0 && in->zmembers) {
			/* Bytes after the last member that are not gzip: ignored, as gzip(1) does. */
			in->zinit = 2;
			in->zin_eof = 1;
			in->zs.avail_in = 0;
		} else if (rc != Z_OK && rc != Z_BUF_ERROR) {
			char msg[160];
			snprintf(msg, sizeof msg, "gzip: %s", in->zs.msg ? in->zs.msg : "data error");
			return read_failed(in, msg);
		}
	}
	return (int)(len - in->zs.avail_out);
}

/* Close the input and release the inflate state. */
static int src_close(struct capture_input *in)
{
	int rc = 0;
	if (in->zinit)
		inflateEnd(&in->zs);
	in->zinit = 0;
	free(in->zin);
	in->zin = NULL;
	if (in->fd >= 0)
		rc = close(in->fd);
	in->fd = -1;
	return rc;
}

/* Start reading fd: a gzip magic (1f 8b, RFC 1952) switches inflate on. */
static int src_open(struct capture_input *in, int fd)
{
	in->fd = fd;
	while (in->raw_len < 2) {
		ssize_t n = read(fd, in->raw + in->raw_len, 2 - in->raw_len);
		if (n < 0) {
			set_msg(in, "%s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		in->raw_len += (size_t)n;
	}
	if (in->raw_len == 2 && in->raw[0] == 0x1f && in->raw[1] == 0x8b) {
		in->zin = malloc(CAPTURE_GZ_BUFFER);
		if (!in->zin) {
			set_msg(in, "%s", strerror(ENOMEM));
			return -1;
		}
		memcpy(in->zin, in->raw, 2);
		in->raw_len = in->raw_pos = 0;
		memset(&in->zs, 0, sizeof in->zs);
		if (inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK) {
			set_msg(in, "gzip: cannot start decompression");
			return -1;
		}
		in->zinit = 1;
		in->zmode = 1;
		in->zs.next_in = in->zin;
		in->zs.avail_in = 2;
	}
	return 0;
}

/* ---- pcap: a stdio stream over the gzFile for libpcap -------------------- */

static ssize_t cookie_read(void *cookie, char *dst, size_t size)
{
	struct capture_input *in = cookie;
	size_t done = 0;
	int n;

	while (in->sniff_pos < in->sniff_len && done < size)
		dst[done++] = (char)in->sniff[in->sniff_pos++];
	if (done == size)
		return (ssize_t)done;
	n = gz_read_some(in, dst + done, size - done);
	if (n < 0) {
		if (done > 0)
			return (ssize_t)done;
		errno = EIO;
		return -1;
	}
	return (ssize_t)(done + (size_t)n);
}

static int cookie_close(void *cookie)
{
	struct capture_input *in = cookie;
	int rc = 0;

	rc = src_close(in);
	return rc;
}

static int is_pcap_magic(const uint8_t m[4])
{
	uint32_t be = ((uint32_t)m[0] << 24) | ((uint32_t)m[1] << 16) |
		      ((uint32_t)m[2] << 8) | m[3];
	uint32_t le = ((uint32_t)m[3] << 24) | ((uint32_t)m[2] << 16) |
		      ((uint32_t)m[1] << 8) | m[0];
	static const uint32_t magics[] = {
		0xA1B2C3D4u,    /* microseconds */
		0xA1B23C4Du,    /* nanoseconds */
		0xA1B2CD34u,    /* Kuznetzov's modified pcap (libpcap reads it) */
	};

	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++)
		if (be == magics[i] || le == magics[i])
			return 1;
	return 0;
}

static int pcap_setup(struct capture_input *in)
{
	static const cookie_io_functions_t io = {
		.read = cookie_read,
		.write = NULL,
		.seek = NULL,
		.close = cookie_close,
	};
	char errbuf[PCAP_ERRBUF_SIZE];
	int rc = -1;

	in->fp_buf = malloc(CAPTURE_STDIO_BUFFER);
	if (!in->fp_buf) {
		set_msg(in, "%s", strerror(ENOMEM));
		goto out;
	}
	in->fp = fopencookie(in, "r", io);
	if (!in->fp) {
		set_msg(in, "%s", strerror(errno));
		goto out;
	}
	/* From here on fclose(in->fp) closes the gzFile. */
	if (setvbuf(in->fp, in->fp_buf, _IOFBF, CAPTURE_STDIO_BUFFER) != 0) {
		set_msg(in, "cannot set the read buffer");
		goto out;
	}
	errbuf[0] = '\0';
	in->pc = pcap_fopen_offline_with_tstamp_precision(in->fp,
							  PCAP_TSTAMP_PRECISION_MICRO,
							  errbuf);
	if (!in->pc) {
		if (in->gz_failed)
			set_msg(in, "%s", in->gz_msg);
		else
			set_msg(in, "%s", errbuf[0] ? errbuf : "cannot read the pcap header");
		goto out;
	}
	/* pcap_close now owns the stream. */
	in->first_dlt = pcap_datalink(in->pc);
	rc = 0;
out:
	return rc;
}

/* libpcap gives the 32-bit unsigned seconds of the file as a signed value on
 * some versions; the microseconds of a damaged record may reach 10^6 or more.
 * Hand out seconds >= 0 and microseconds < 10^6. */
static void pcap_ts(const struct pcap_pkthdr *h, struct pkt *p)
{
	int64_t sec = (int64_t)h->ts.tv_sec;
	int64_t usec = (int64_t)h->ts.tv_usec;

	if (sec < 0)
		sec += INT64_C(4294967296);
	if (usec < 0)
		usec += INT64_C(4294967296);
	sec += usec / USEC_PER_SEC;
	usec %= USEC_PER_SEC;
	p->ts_sec = sec;
	p->ts_usec = (uint32_t)usec;
}

/* Read in place from the file header on (see pcapmap.h): libpcap has parsed
 * the header, and the descriptor stands right after it. */
static void map_start(struct capture_input *in)
{
	in->map = pcapmap_open(in->fd, in->file_size, (uint32_t)pcap_snapshot(in->pc),
			       in->first_dlt);
	in->map_hold = in->map != NULL;
}

/* The in-place reader stopped: libpcap reads on from its offset. */
static int map_handover(struct capture_input *in)
{
	uint64_t off = pcapmap_offset(in->map);

	pcapmap_close(in->map);
	in->map = NULL;
	in->map_hold = 0;
	if (lseek(in->fd, (off_t)off, SEEK_SET) < 0) {
		set_msg(in, "cannot seek to byte %llu: %s", (unsigned long long)off,
			strerror(errno));
		return -1;
	}
	in->raw_bytes = off;
	return 0;
}

/* 1 packet, 0 end, -1 damage (in->msg). */
static int pcap_step(struct capture_input *in, struct pkt *p)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int r;

	if (in->map) {
		if (pcapmap_next(in->map, p)) {
			in->raw_bytes = pcapmap_offset(in->map);
			return 1;
		}
		if (map_handover(in) < 0)
			return -1;
	}
	r = pcap_next_ex(in->pc, &h, &data);

	if (r == 1) {
		pcap_ts(h, p);
		p->caplen = h->caplen;
		p->wirelen = h->len;
		p->frame = data;
		p->dlt = in->first_dlt;
		return 1;
	}
	if (in->gz_failed) {
		set_msg(in, "%s", in->gz_msg);
		return -1;
	}
	if (r == PCAP_ERROR_BREAK) {
		if (in->gz_cut) {
			set_msg(in, "gzip stream truncated (unexpected end of file)");
			return -1;
		}
		return 0;
	}
	set_msg(in, "%s%s", pcap_geterr(in->pc),
		in->gz_cut ? " (gzip stream truncated)" : "");
	return -1;
}

/* ---- pcapng block reader -------------------------------------------------- */

static uint32_t ng_u32(struct cursor *c, int be)
{
	return be ? cur_be32(c) : cur_le32(c);
}

static uint16_t ng_u16(struct cursor *c, int be)
{
	return be ? cur_be16(c) : cur_le16(c);
}

/* LINKTYPE_ (file) to DLT_ (libpcap API) numbers, as libpcap does for pcap
 * files; the values that differ are listed at tcpdump.org/linktypes.html. */
static int linktype_to_dlt(uint32_t linktype)
{
	linktype &= CAPTURE_LINKTYPE_MASK;
	switch (linktype) {
	case 100: return DLT_ATM_RFC1483;
	case 101: return DLT_RAW;
	case 102: return DLT_SLIP_BSDOS;
	case 103: return DLT_PPP_BSDOS;
	case 108: return DLT_LOOP;
	case 109: return DLT_ENC;
	case 246: return DLT_PFSYNC;
	case 258: return DLT_PKTAP;
	default: return (int)linktype;
	}
}

/* Make `need` bytes from buf_pos available. 1 = done, 0 = the input ended
 * first, -1 = read error or no memory (in->gz_msg). Moves the buffer: any
 * pointer into it is stale afterwards. */
static int ng_fill(struct capture_input *in, size_t need)
{
	if (in->buf_len - in->buf_pos >= need)
		return 1;
	if (in->buf_pos > 0) {
		size_t keep = in->buf_len - in->buf_pos;

		memmove(in->buf, in->buf + in->buf_pos, keep);
		in->buf_off += in->buf_pos;
		in->buf_len = keep;
		in->buf_pos = 0;
	}
	while (in->buf_len < need && !in->eof) {
		int n;

		if (in->buf_len == in->buf_cap) {
			/* Grow only as data arrives, so a huge length claimed
			 * by a cut file costs no more than the file holds. */
			size_t ncap = in->buf_cap * 2;
			uint8_t *nbuf;

			if (ncap > CAPTURE_MAX_BLOCK + CAPTURE_NG_BUFFER)
				ncap = CAPTURE_MAX_BLOCK + CAPTURE_NG_BUFFER;
			nbuf = realloc(in->buf, ncap);
			if (!nbuf) {
				snprintf(in->gz_msg, sizeof in->gz_msg, "%s", strerror(ENOMEM));
				return -1;
			}
			in->buf = nbuf;
			in->buf_cap = ncap;
		}
		n = gz_read_some(in, in->buf + in->buf_len, in->buf_cap - in->buf_len);
		if (n < 0)
			return -1;
		if (n == 0)
			in->eof = 1;
		in->buf_len += (size_t)n;
	}
	return in->buf_len >= need;
}

/* Walk an options area (section 3.5). With ifc, pick up the interface's
 * timestamp resolution and offset. 0 ok, -1 bad option (in->msg). */
static int ng_options(struct capture_input *in, struct cursor *c, struct ng_iface *ifc,
		      unsigned long long at)
{
	while (c->left >= 4) {
		uint16_t code = ng_u16(c, in->big_endian);
		uint16_t olen = ng_u16(c, in->big_endian);
		size_t padded = ((size_t)olen + 3u) & ~(size_t)3u;
		const uint8_t *val = c->p;

		if (code == NG_OPT_ENDOFOPT)
			break;
		if (olen > c->left) {
			set_msg(in, "bad option length %u in block at byte %llu", olen, at);
			return -1;
		}
		if (ifc && code == NG_OPT_IF_TSRESOL && olen >= 1) {
			uint8_t v = val[0];

			if (v & 0x80) {
				unsigned k = v & 0x7Fu;

				if (k > 63) {
					set_msg(in, "unsupported timestamp resolution 2^-%u at byte %llu",
						k, at);
					return -1;
				}
				ifc->units = UINT64_C(1) << k;
				ifc->shift = k;
			} else {
				if (v > 19) {
					set_msg(in, "unsupported timestamp resolution 10^-%u at byte %llu",
						v, at);
					return -1;
				}
				ifc->units = 1;
				for (unsigned i = 0; i < v; i++)
					ifc->units *= 10;
				ifc->shift = 0;
			}
		} else if (ifc && code == NG_OPT_IF_TSOFFSET && olen == 8) {
			struct cursor oc = cur_make(val, 8);
			uint32_t a = ng_u32(&oc, in->big_endian);
			uint32_t b = ng_u32(&oc, in->big_endian);
			uint64_t u = in->big_endian ? ((uint64_t)a << 32) | b
						    : ((uint64_t)b << 32) | a;

			ifc->offset = (int64_t)u;
		}
		/* A last option without its padding is tolerated. */
		cur_skip(c, padded <= c->left ? padded : c->left);
	}
	return 0;
}

/* Timestamp units since 1970 at the interface's resolution, plus its
 * offset, to seconds and microseconds (saturating, never overflowing). */
static void ng_ts(const struct ng_iface *ifc, uint64_t units, struct pkt *p)
{
	uint64_t sec = units / ifc->units;
	uint64_t frac = units % ifc->units;
	uint64_t usec;
	int64_t s;

	if (ifc->units % USEC_PER_SEC == 0) {
		usec = frac / (ifc->units / USEC_PER_SEC);
	} else if (ifc->units <= (UINT64_C(1) << 44)) {
		usec = frac * USEC_PER_SEC / ifc->units;
	} else {
		/* 2^k units with k > 44: (frac * 10^6) >> k without overflow. */
		uint64_t hi = frac >> 20;
		uint64_t lo = frac & 0xFFFFFu;

		usec = (hi * USEC_PER_SEC + ((lo * USEC_PER_SEC) >> 20)) >> (ifc->shift - 20);
	}
	s = sec > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)sec;
	if (ifc->offset > 0 && s > INT64_MAX - ifc->offset)
		s = INT64_MAX;
	else
		s += ifc->offset;   /* s >= 0, so a negative offset cannot overflow */
	p->ts_sec = s;
	p->ts_usec = (uint32_t)usec;
}

static int ng_shb(struct capture_input *in, struct cursor *c, unsigned long long at)
{
	uint16_t major, minor;

	cur_skip(c, 4);                     /* byte-order magic, already read */
	major = ng_u16(c, in->big_endian);
	minor = ng_u16(c, in->big_endian);
	cur_skip(c, 8);                     /* section length: not needed */
	if (major != 1) {
		set_msg(in, "unsupported pcapng version %u.%u at byte %llu", major, minor, at);
		return -1;
	}
	if (ng_options(in, c, NULL, at) < 0)
		return -1;
	in->n_ifs = 0;                      /* interfaces are per section */
	return 0;
}

static int ng_idb(struct capture_input *in, struct cursor *c, unsigned long long at)
{
	struct ng_iface ifc;
	uint16_t linktype = ng_u16(c, in->big_endian);

	cur_skip(c, 2);                     /* reserved */
	ifc.snaplen = ng_u32(c, in->big_endian);
	ifc.dlt = linktype_to_dlt(linktype);
	ifc.units = USEC_PER_SEC;           /* default if_tsresol: 10^-6 */
	ifc.shift = 0;
	ifc.offset = 0;
	if (ng_options(in, c, &ifc, at) < 0)
		return -1;
	if (in->n_ifs == in->cap_ifs) {
		size_t ncap = in->cap_ifs ? in->cap_ifs * 2 : 8;
		struct ng_iface *nifs = realloc(in->ifs, ncap * sizeof *nifs);

		if (!nifs) {
			set_msg(in, "%s", strerror(ENOMEM));
			return -1;
		}
		in->ifs = nifs;
		in->cap_ifs = ncap;
	}
	in->ifs[in->n_ifs++] = ifc;
	if (in->first_dlt < 0)
		in->first_dlt = ifc.dlt;
	return 0;
}

/* Enhanced Packet Block (type 6) and the obsolete Packet Block (type 2). */
static int ng_epb(struct capture_input *in, struct cursor *c, int obsolete,
		  unsigned long long at, struct pkt *p)
{
	uint32_t ifid, hi, lo, caplen, wirelen;
	const struct ng_iface *ifc;

	if (obsolete) {
		ifid = ng_u16(c, in->big_endian);
		cur_skip(c, 2);             /* drops count */
	} else {
		ifid = ng_u32(c, in->big_endian);
	}
	hi = ng_u32(c, in->big_endian);
	lo = ng_u32(c, in->big_endian);
	caplen = ng_u32(c, in->big_endian);
	wirelen = ng_u32(c, in->big_endian);
	if (ifid >= in->n_ifs) {
		set_msg(in, "interface id %u out of range (%zu interfaces) at byte %llu",
			ifid, in->n_ifs, at);
		return -1;
	}
	if (caplen > c->left) {
		set_msg(in, "captured length %u larger than its block at byte %llu", caplen, at);
		return -1;
	}
	ifc = &in->ifs[ifid];
	ng_ts(ifc, ((uint64_t)hi << 32) | lo, p);
	p->caplen = caplen;
	p->wirelen = wirelen;
	p->frame = c->p;
	p->dlt = ifc->dlt;
	return 1;
}

static int ng_spb(struct capture_input *in, struct cursor *c, unsigned long long at,
		  struct pkt *p)
{
	uint32_t wirelen = ng_u32(c, in->big_endian);
	uint32_t caplen = wirelen;
	const struct ng_iface *ifc;

	if (in->n_ifs == 0) {
		set_msg(in, "simple packet block without an interface at byte %llu", at);
		return -1;
	}
	ifc = &in->ifs[0];
	if (ifc->snaplen != 0 && caplen > ifc->snaplen)
		caplen = ifc->snaplen;
	if (caplen > c->left)
		caplen = (uint32_t)c->left;
	p->ts_sec = 0;
	p->ts_usec = 0;
	p->caplen = caplen;
	p->wirelen = wirelen;
	p->frame = c->p;
	p->dlt = ifc->dlt;
	return 1;
}

/* Read one block. 1 = a packet in p, 2 = another block, 0 = clean end,
 * -1 = damage (in->msg). */
static int ng_block(struct capture_input *in, struct pkt *p)
{
	unsigned long long at = (unsigned long long)(in->buf_off + in->buf_pos);
	uint32_t type, blen, trail;
	size_t avail;
	const uint8_t *b;
	struct cursor c;
	int r;

	r = ng_fill(in, 8);
	if (r < 0) {
		set_msg(in, "%s at byte %llu", in->gz_msg, at);
		return -1;
	}
	avail = in->buf_len - in->buf_pos;
	if (r == 0 && avail == 0) {
		if (in->gz_cut) {
			set_msg(in, "gzip stream truncated at byte %llu", at);
			return -1;
		}
		return 0;
	}
	if (r == 0) {
		set_msg(in, "truncated block at byte %llu", at);
		return -1;
	}
	c = cur_make(in->buf + in->buf_pos, avail);
	type = ng_u32(&c, in->big_endian);
	if (type == NG_SHB) {
		/* The byte-order magic after the length sets the order of the
		 * length itself and of the whole section. */
		uint32_t bom;

		r = ng_fill(in, 12);
		if (r <= 0) {
			set_msg(in, "%s at byte %llu", r < 0 ? in->gz_msg : "truncated block", at);
			return -1;
		}
		c = cur_make(in->buf + in->buf_pos + 8, 4);
		bom = cur_le32(&c);
		if (bom == NG_BYTE_ORDER_MAGIC) {
			in->big_endian = 0;
		} else if (bom == NG_BYTE_ORDER_SWAPPED) {
			in->big_endian = 1;
		} else {
			set_msg(in, "bad byte-order magic 0x%08x at byte %llu", bom, at);
			return -1;
		}
	}
	c = cur_make(in->buf + in->buf_pos + 4, 4);
	blen = ng_u32(&c, in->big_endian);
	if (blen < 12 || blen % 4 != 0 || blen > CAPTURE_MAX_BLOCK ||
	    (type == NG_SHB && blen < NG_SHB_MIN) ||
	    (type == NG_IDB && blen < NG_IDB_MIN) ||
	    (type == NG_EPB && blen < NG_EPB_MIN) ||
	    (type == NG_PB && blen < NG_PB_MIN) ||
	    (type == NG_SPB && blen < NG_SPB_MIN)) {
		set_msg(in, "bad block length %u at byte %llu", blen, at);
		return -1;
	}
	r = ng_fill(in, blen);
	if (r < 0) {
		set_msg(in, "%s at byte %llu", in->gz_msg, at);
		return -1;
	}
	if (r == 0) {
		set_msg(in, "truncated block at byte %llu", at);
		return -1;
	}
	b = in->buf + in->buf_pos;
	c = cur_make(b + blen - 4, 4);
	trail = ng_u32(&c, in->big_endian);
	if (trail != blen) {
		set_msg(in, "bad block length %u at byte %llu (trailing length %u)",
			blen, at, trail);
		return -1;
	}
	in->buf_pos += blen;    /* consumed; the bytes stay until the next fill */
	c = cur_make(b + 8, blen - 12);
	switch (type) {
	case NG_SHB:
		return ng_shb(in, &c, at) < 0 ? -1 : 2;
	case NG_IDB:
		return ng_idb(in, &c, at) < 0 ? -1 : 2;
	case NG_EPB:
		return ng_epb(in, &c, 0, at, p);
	case NG_PB:
		return ng_epb(in, &c, 1, at, p);
	case NG_SPB:
		return ng_spb(in, &c, at, p);
	default:
		return 2;       /* statistics, name resolution, custom, ...: skipped */
	}
}

/* At open: the section header, then every block up to the first interface
 * description or the first packet, so the first link type is known. */
static int pcapng_setup(struct capture_input *in, const uint8_t magic[4])
{
	struct pkt dummy;

	in->buf = malloc(CAPTURE_NG_BUFFER);
	if (!in->buf) {
		set_msg(in, "%s", strerror(ENOMEM));
		return -1;
	}
	in->buf_cap = CAPTURE_NG_BUFFER;
	memcpy(in->buf, magic, 4);
	in->buf_len = 4;
	if (ng_block(in, &dummy) != 2)
		return -1;
	while (in->first_dlt < 0) {
		size_t avail;
		uint32_t type;
		struct cursor c;
		int r = ng_fill(in, 8);

		avail = in->buf_len - in->buf_pos;
		if (r < 0) {
			set_msg(in, "%s", in->gz_msg);
			return -1;
		}
		if (avail == 0)
			break;
		if (avail >= 8) {
			c = cur_make(in->buf + in->buf_pos, 4);
			type = ng_u32(&c, in->big_endian);
			if (type == NG_EPB || type == NG_PB || type == NG_SPB)
				break;
		}
		if (ng_block(in, &dummy) < 0)
			return -1;
	}
	return 0;
}

/* ---- BPF filter ------------------------------------------------------------ */

static int filter_compile(struct capture_input *in, int dlt, struct bpf_program *prog,
			  int first)
{
	pcap_t *dead = pcap_open_dead(dlt, CAPTURE_DEAD_SNAPLEN);
	int rc = -1;

	if (!dead) {
		set_msg(in, "%s", strerror(ENOMEM));
		goto out;
	}
	if (pcap_compile(dead, prog, in->filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		if (first)
			set_msg(in, "bad filter '%s': %s", in->filter, pcap_geterr(dead));
		else
			set_msg(in, "bad filter '%s' for link type %d: %s", in->filter, dlt,
				pcap_geterr(dead));
		goto out;
	}
	rc = 0;
out:
	if (dead)
		pcap_close(dead);
	return rc;
}

/* The program for this link type, compiled on first use; NULL on failure. */
static const struct bpf_program *filter_for(struct capture_input *in, int dlt, int first)
{
	struct capture_filter *nf;

	if (in->last_filter < in->n_filters && in->filters[in->last_filter].dlt == dlt)
		return &in->filters[in->last_filter].prog;
	for (size_t i = 0; i < in->n_filters; i++) {
		if (in->filters[i].dlt == dlt) {
			in->last_filter = i;
			return &in->filters[i].prog;
		}
	}
	nf = realloc(in->filters, (in->n_filters + 1) * sizeof *nf);
	if (!nf) {
		set_msg(in, "%s", strerror(ENOMEM));
		return NULL;
	}
	in->filters = nf;
	if (filter_compile(in, dlt, &nf[in->n_filters].prog, first) < 0)
		return NULL;
	nf[in->n_filters].dlt = dlt;
	in->last_filter = in->n_filters++;
	return &nf[in->last_filter].prog;
}

/* ---- public ------------------------------------------------------------------ */

static int open_fd(const char *path, struct capture_input *in)
{
	struct stat st;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);   /* gzclose closes the copy */
	else
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_msg(in, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		set_msg(in, "%s", strerror(EISDIR));
		close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode))
		in->file_size = (uint64_t)st.st_size;
	return fd;
}

struct capture_input *capture_open(const char *path, const char *filter,
				   char *err, size_t errlen)
{
	struct capture_input *in = calloc(1, sizeof *in);
	uint8_t magic[4];
	int fd, n;
	int ok = 0;

	if (!in) {
		copy_err(err, errlen, strerror(ENOMEM));
		return NULL;
	}
	in->fd = -1;
	in->live_fd = -1;
	in->first_dlt = -1;
	if (filter && filter[0]) {
		in->filter = strdup(filter);
		if (!in->filter) {
			set_msg(in, "%s", strerror(ENOMEM));
			goto out;
		}
	}
	fd = open_fd(path ? path : "-", in);
	if (fd < 0)
		goto out;
	if (src_open(in, fd) < 0)
		goto out;

	n = 0;
	while (n < 4) {
		int got = gz_read_some(in, magic + n, (size_t)(4 - n));

		if (got < 0) {
			set_msg(in, "%s", in->gz_msg);
			goto out;
		}
		if (got == 0)
			break;
		n += got;
	}
	if (n == 0) {
		set_msg(in, "%s", in->gz_cut ? "gzip stream truncated (unexpected end of file)"
					     : "empty file");
		goto out;
	}
	if (n == 4 && is_pcap_magic(magic)) {
		int mappable = !in->zmode && in->file_size > 0 && strcmp(path ? path : "-", "-") != 0;

		in->kind = CAPTURE_PCAP;
		memcpy(in->sniff, magic, 4);
		in->sniff_len = 4;
		/* For reading in place, libpcap gets the whole file header and
		 * then nothing until the in-place reader stops. */
		while (mappable && in->sniff_len < sizeof in->sniff) {
			int got = gz_read_some(in, in->sniff + in->sniff_len,
					       sizeof in->sniff - in->sniff_len);

			if (got <= 0)
				mappable = 0;
			else
				in->sniff_len += (size_t)got;
		}
		in->map_hold = mappable;
		if (pcap_setup(in) < 0)
			goto out;
		in->map_hold = 0;
		if (mappable)
			map_start(in);
	} else if (n == 4 && magic[0] == 0x0A && magic[1] == 0x0D && magic[2] == 0x0D &&
		   magic[3] == 0x0A) {
		in->kind = CAPTURE_PCAPNG;
		if (pcapng_setup(in, magic) < 0)
			goto out;
	} else {
		set_msg(in, "not a pcap or pcapng capture file");
		goto out;
	}
	if (in->filter) {
		/* A pcapng without interfaces still gets its expression checked. */
		int dlt = in->first_dlt >= 0 ? in->first_dlt : DLT_EN10MB;

		if (!filter_for(in, dlt, 1))
			goto out;
	}
	in->msg[0] = '\0';
	ok = 1;
out:
	if (!ok) {
		copy_err(err, errlen, in->msg);
		capture_close(in);
		return NULL;
	}
	return in;
}

static int live_next(struct capture_input *in, struct pkt *p);

int capture_next(struct capture_input *in, struct pkt *p, char *err, size_t errlen)
{
	int r;

	if (in->done) {
		if (in->done < 0)
			copy_err(err, errlen, in->msg);
		return in->done < 0 ? -1 : 0;
	}
	if (in->kind == CAPTURE_LIVE) {
		r = live_next(in, p);
		if (r == 0 || r == -1) {
			in->done = r < 0 ? -1 : 1;
			if (r < 0)
				copy_err(err, errlen, in->msg);
		}
		return r;
	}
	for (;;) {
		const struct bpf_program *prog;
		struct pcap_pkthdr h;

		if (in->kind == CAPTURE_PCAP) {
			r = pcap_step(in, p);
		} else {
			do
				r = ng_block(in, p);
			while (r == 2);
		}
		if (r <= 0)
			break;
		if (!in->filter)
			return 1;
		prog = filter_for(in, p->dlt, 0);
		if (!prog) {
			r = -1;
			break;
		}
		h.ts.tv_sec = 0;
		h.ts.tv_usec = 0;
		h.caplen = p->caplen;
		h.len = p->wirelen;
		if (pcap_offline_filter(prog, &h, p->frame) != 0)
			return 1;
		in->filtered++;
	}
	in->done = r < 0 ? -1 : 1;
	if (r < 0)
		copy_err(err, errlen, in->msg);
	return r < 0 ? -1 : 0;
}

/* ---- live capture ---------------------------------------------------------- */

struct capture_input *capture_open_live(const char *device, const struct capture_live_opts *o,
					const char *filter, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct capture_input *in = calloc(1, sizeof *in);
	pcap_if_t *all = NULL;
	int ok = 0, rc;

	if (!in) {
		copy_err(err, errlen, strerror(ENOMEM));
		return NULL;
	}
	in->kind = CAPTURE_LIVE;
	in->fd = -1;
	in->live_fd = -1;
	in->first_dlt = -1;
	in->poll_ms = o && o->poll_ms > 0 ? o->poll_ms : 250;
	errbuf[0] = '\0';
	if (!device) {
		/* The first device libpcap lists, as tcpdump picks it. */
		if (pcap_findalldevs(&all, errbuf) != 0) {
			set_msg(in, "cannot list capture devices: %s", errbuf);
			goto out;
		}
		if (!all) {
			set_msg(in, "no capture device found (are you allowed to capture?)");
			goto out;
		}
		device = all->name;
	}
	in->device = strdup(device);
	if (!in->device) {
		set_msg(in, "%s", strerror(ENOMEM));
		goto out;
	}
	in->pc = pcap_create(in->device, errbuf);
	if (!in->pc) {
		set_msg(in, "%s: %s", in->device, errbuf);
		goto out;
	}
	pcap_set_snaplen(in->pc, o && o->snaplen > 0 ? o->snaplen : CAPTURE_DEAD_SNAPLEN);
	pcap_set_promisc(in->pc, o ? o->promisc : 1);
	if (o && o->buffer_timeout == 0)
		pcap_set_immediate_mode(in->pc, 1);   /* 0: hand every packet over at once */
	else
		pcap_set_timeout(in->pc, o && o->buffer_timeout > 0 ? o->buffer_timeout : 10);
	rc = pcap_activate(in->pc);
	if (rc < 0) {
		/* pcap_geterr says more than the status text for most errors */
		const char *why = pcap_geterr(in->pc);
		set_msg(in, "%s: %s", in->device,
			why && why[0] ? why : pcap_statustostr(rc));
		goto out;
	}
	in->first_dlt = pcap_datalink(in->pc);
	if (filter && filter[0]) {
		struct bpf_program prog;

		if (pcap_compile(in->pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			set_msg(in, "bad filter '%s': %s", filter, pcap_geterr(in->pc));
			goto out;
		}
		rc = pcap_setfilter(in->pc, &prog);
		pcap_freecode(&prog);
		if (rc != 0) {
			set_msg(in, "%s: cannot set the filter: %s", in->device, pcap_geterr(in->pc));
			goto out;
		}
	}
	/* Non-blocking reads and our own poll(): a signal or the poll timeout
	 * returns control, whatever the platform does with the read timeout. */
	if (pcap_setnonblock(in->pc, 1, errbuf) != 0) {
		set_msg(in, "%s: %s", in->device, errbuf);
		goto out;
	}
	in->live_fd = pcap_get_selectable_fd(in->pc);
	ok = 1;
out:
	if (all)
		pcap_freealldevs(all);
	if (!ok) {
		copy_err(err, errlen, in->msg);
		capture_close(in);
		return NULL;
	}
	return in;
}

/* 1 packet, 2 nothing yet, 0 end (pcap_breakloop), -1 error (in->msg). */
static int live_next(struct capture_input *in, struct pkt *p)
{
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int r = pcap_next_ex(in->pc, &h, &data);

		if (r == 1) {
			pcap_ts(h, p);
			p->caplen = h->caplen;
			p->wirelen = h->len;
			p->frame = data;
			p->dlt = in->first_dlt;
			return 1;
		}
		if (r == PCAP_ERROR_BREAK)
			return 0;
		if (r < 0) {
			set_msg(in, "%s: %s", in->device, pcap_geterr(in->pc));
			return -1;
		}
		if (in->live_fd < 0) {
			/* No pollable descriptor: a short sleep instead. */
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			return 2;
		}
		struct pollfd pfd = { .fd = in->live_fd, .events = POLLIN };
		int pr = poll(&pfd, 1, in->poll_ms);
		if (pr < 0 && errno != EINTR) {
			set_msg(in, "%s: poll: %s", in->device, strerror(errno));
			return -1;
		}
		if (pr <= 0)
			return 2;   /* timeout or a signal: let the caller look */
	}
}

const char *capture_device(const struct capture_input *in)
{
	return in->kind == CAPTURE_LIVE ? in->device : NULL;
}

unsigned long capture_dropped(const struct capture_input *in)
{
	struct pcap_stat st;

	if (in->kind != CAPTURE_LIVE || !in->pc || pcap_stats(in->pc, &st) != 0)
		return 0;
	return (unsigned long)st.ps_drop + (unsigned long)st.ps_ifdrop;
}

uint64_t capture_position(const struct capture_input *in)
{
	return in->raw_bytes;
}

uint64_t capture_size(const struct capture_input *in)
{
	return in->file_size;
}

/* ---- writing pcap files ---------------------------------------------------- */

int capture_dlt_to_linktype(int dlt)
{
	/* The inverse of linktype_to_dlt: only these numbers differ. */
	switch (dlt) {
	case DLT_ATM_RFC1483: return 100;
	case DLT_RAW: return 101;
	case DLT_SLIP_BSDOS: return 102;
	case DLT_PPP_BSDOS: return 103;
#ifdef DLT_LOOP
	case DLT_LOOP: return 108;
#endif
#ifdef DLT_ENC
	case DLT_ENC: return 109;
#endif
#ifdef DLT_PFSYNC
	case DLT_PFSYNC: return 246;
#endif
#ifdef DLT_PKTAP
	case DLT_PKTAP: return 258;
#endif
	default: return dlt;
	}
}

void capture_pcap_header(uint8_t out[CAPTURE_PCAP_HEADER_LEN], int dlt, uint32_t snaplen)
{
	uint32_t magic = 0xA1B2C3D4u, zero = 0, lt = (uint32_t)capture_dlt_to_linktype(dlt);
	uint16_t major = 2, minor = 4;

	memcpy(out, &magic, 4);
	memcpy(out + 4, &major, 2);
	memcpy(out + 6, &minor, 2);
	memcpy(out + 8, &zero, 4);          /* thiszone */
	memcpy(out + 12, &zero, 4);         /* sigfigs */
	memcpy(out + 16, &snaplen, 4);
	memcpy(out + 20, &lt, 4);
}

void capture_pcap_record(uint8_t out[CAPTURE_PCAP_RECORD_LEN], int64_t sec, uint32_t usec,
			 uint32_t caplen, uint32_t wirelen)
{
	uint32_t s = (uint32_t)sec;         /* pcap seconds are 32 bits */

	memcpy(out, &s, 4);
	memcpy(out + 4, &usec, 4);
	memcpy(out + 8, &caplen, 4);
	memcpy(out + 12, &wirelen, 4);
}

struct capture_writer {
	FILE *fp;
	int dlt;
	int failed;
	int err;
};

struct capture_writer *capture_writer_open(const char *path, int dlt, char *err, size_t errlen)
{
	uint8_t hdr[CAPTURE_PCAP_HEADER_LEN];
	struct capture_writer *w = calloc(1, sizeof *w);

	if (!w) {
		copy_err(err, errlen, strerror(ENOMEM));
		return NULL;
	}
	w->dlt = dlt;
	w->fp = strcmp(path, "-") ? fopen(path, "wbe") : stdout;
	if (!w->fp) {
		copy_err(err, errlen, strerror(errno));
		free(w);
		return NULL;
	}
	capture_pcap_header(hdr, dlt, CAPTURE_WRITE_SNAPLEN);
	if (fwrite(hdr, sizeof hdr, 1, w->fp) != 1) {
		copy_err(err, errlen, strerror(errno));
		if (w->fp != stdout)
			fclose(w->fp);
		free(w);
		return NULL;
	}
	return w;
}

int capture_writer_write(struct capture_writer *w, const struct pkt *p)
{
	uint8_t rec[CAPTURE_PCAP_RECORD_LEN];

	if (p->dlt != w->dlt)
		return 1;
	if (w->failed) {
		errno = w->err;
		return -1;
	}
	capture_pcap_record(rec, p->ts_sec, p->ts_usec, p->caplen, p->wirelen);
	if (fwrite(rec, sizeof rec, 1, w->fp) != 1 ||
	    (p->caplen && fwrite(p->frame, p->caplen, 1, w->fp) != 1)) {
		w->failed = 1;
		w->err = errno;
		return -1;
	}
	return 0;
}

int capture_writer_dlt(const struct capture_writer *w)
{
	return w->dlt;
}

int capture_writer_close(struct capture_writer *w)
{
	int rc = 0;

	if (!w)
		return 0;
	if (w->fp == stdout) {
		if (fflush(stdout) != 0)
			rc = -1;
	} else if (fclose(w->fp) != 0) {
		rc = -1;
	}
	if (w->failed) {
		errno = w->err;
		rc = -1;
	}
	free(w);
	return rc;
}

int capture_in_place(const struct capture_input *in)
{
	return in->map != NULL;
}

int capture_first_dlt(const struct capture_input *in)
{
	return in->first_dlt;
}

unsigned long capture_filtered(const struct capture_input *in)
{
	return in->filtered;
}

void capture_close(struct capture_input *in)
{
	if (!in)
		return;
	pcapmap_close(in->map);
	if (in->pc)
		pcap_close(in->pc);         /* closes fp, which closes gz */
	else if (in->fp)
		fclose(in->fp);             /* closes gz */
	src_close(in);
	free(in->fp_buf);
	free(in->buf);
	free(in->ifs);
	for (size_t i = 0; i < in->n_filters; i++)
		pcap_freecode(&in->filters[i].prog);
	free(in->filters);
	free(in->filter);
	free(in->device);
	free(in);
}
