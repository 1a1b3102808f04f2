/* Console output: text, hex dump and JSON lines of the reassembled streams. */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "ip.h"

#define HEX_PER_LINE 32
#define COLOR_DIR0 "\033[0;34m"     /* blue: the side that spoke first */
#define COLOR_DIR1 "\033[0;31m"     /* red */
#define COLOR_RESET "\033[0m"

struct console {
	struct console_opts o;
	FILE *out;
	int failed;
	int err;
	sem_t *lock;              /* -L, or NULL */
};

struct console *console_new(const struct console_opts *o, FILE *out, char *err, size_t errlen)
{
	struct console *con = calloc(1, sizeof *con);
	if (!con) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	con->o = *o;
	con->out = out;
	if (o->lock) {
		con->lock = sem_open(o->lock, O_CREAT, 0666, 1);
		if (con->lock == SEM_FAILED) {
			snprintf(err, errlen, "-L %s: %s", o->lock, strerror(errno));
			free(con);
			return NULL;
		}
		con->o.flush_each = 1;     /* a piece must be out before the lock goes */
	}
	return con;
}

static int printable(uint8_t ch)
{
	return ch >= 0x20 && ch < 0x7f;
}

static void put(struct console *con, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, con->out) != n && !con->failed) {
		con->failed = 1;
		con->err = errno;
	}
}

static void puts_(struct console *con, const char *s)
{
	put(con, s, strlen(s));
}

static void text(struct console *con, const uint8_t *data, uint32_t len)
{
	if (!con->o.strip) {
		put(con, data, len);
		return;
	}
	/* Printable runs in one write; '\n' and '\r' kept, as 1.6 does. */
	uint32_t start = 0;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t ch = data[i];
		if (printable(ch) || ch == '\n' || ch == '\r')
			continue;
		put(con, data + start, i - start);
		put(con, ".", 1);
		start = i + 1;
	}
	put(con, data + start, len - start);
}

/* 1.6's layout: offset, hex in pairs, the ASCII column aligned with the
 * widest line printed so far in this chunk. */
static void hexdump(struct console *con, const uint8_t *data, uint32_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t widest = 0;
	for (uint32_t i = 0; i < len; i += HEX_PER_LINE) {
		char line[8 + HEX_PER_LINE * 3 + 8 + HEX_PER_LINE + 2];
		size_t n = (size_t)snprintf(line, sizeof line, "%04x: ", (unsigned)i);
		uint32_t end = len - i < HEX_PER_LINE ? len : i + HEX_PER_LINE;
		for (uint32_t j = i; j < end; j++) {
			line[n++] = digits[data[j] >> 4];
			line[n++] = digits[data[j] & 15];
			if ((j - i) % 2 == 1)
				line[n++] = ' ';
		}
		if (n > widest)
			widest = n;
		while (n < widest)
			line[n++] = ' ';
		line[n++] = ' ';
		for (uint32_t j = i; j < end; j++)
			line[n++] = printable(data[j]) ? (char)data[j] : '.';
		line[n++] = '\n';
		put(con, line, n);
	}
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const uint8_t *p, size_t left)
{
	uint8_t c = p[0];
	size_t n;
	uint32_t min, cp;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) {
		n = 2; min = 0x80; cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3; min = 0x800; cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static int is_utf8(const uint8_t *data, uint32_t len)
{
	for (uint32_t i = 0; i < len;) {
		size_t n = utf8_len(data + i, len - i);
		if (!n)
			return 0;
		i += (uint32_t)n;
	}
	return 1;
}

/* A JSON string body (RFC 8259 section 7) of valid UTF-8 text. */
static void json_string(struct console *con, const uint8_t *data, uint32_t len)
{
	uint32_t start = 0;
	for (uint32_t i = 0; i < len; i++) {
		uint8_t ch = data[i];
		const char *esc = NULL;
		char u[8];
		switch (ch) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (ch < 0x20 || ch == 0x7f) {
				snprintf(u, sizeof u, "\\u%04x", ch);
				esc = u;
			}
			break;
		}
		if (!esc)
			continue;
		put(con, data + start, i - start);
		puts_(con, esc);
		start = i + 1;
	}
	put(con, data + start, len - start);
}

static void base64(struct console *con, const uint8_t *data, uint32_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char buf[4 * 256];
	size_t n = 0;
	for (uint32_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		buf[n++] = tab[(v >> 18) & 63];
		buf[n++] = tab[(v >> 12) & 63];
		buf[n++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		buf[n++] = i + 2 < len ? tab[v & 63] : '=';
		if (n == sizeof buf) {
			put(con, buf, n);
			n = 0;
		}
	}
	put(con, buf, n);
}

static void json(struct console *con, const struct tcp_flow *f, const char *label,
		 uint64_t off, const uint8_t *data, uint32_t len)
{
	const struct flow_ident *id = &f->file.id;
	char src[64], dst[64], head[256];
	ip_addr_text(&id->src, 0, src, sizeof src);
	ip_addr_text(&id->dst, 0, dst, sizeof dst);
	snprintf(head, sizeof head,
		 "{\"src_host\":\"%s\",\"src_port\":%u,\"dst_host\":\"%s\",\"dst_port\":%u,",
		 src, (unsigned)id->sport, dst, (unsigned)id->dport);
	puts_(con, head);
	puts_(con, "\"flow\":\"");
	json_string(con, (const uint8_t *)label, (uint32_t)strlen(label));
	snprintf(head, sizeof head, "\",\"offset\":%llu,\"length\":%u,",
		 (unsigned long long)off, (unsigned)len);
	puts_(con, head);
	if (is_utf8(data, len)) {
		puts_(con, "\"payload\":\"");
		json_string(con, data, len);
	} else {
		puts_(con, "\"payload_base64\":\"");
		base64(con, data, len);
	}
	puts_(con, "\"}");
}

void console_data(struct console *con, const struct tcp_flow *f, int dir, const char *label,
		  uint64_t off, const uint8_t *data, uint32_t len)
{
	if (con->o.max_bytes) {
		if (off >= con->o.max_bytes)
			return;
		if (off + len > con->o.max_bytes)
			len = (uint32_t)(con->o.max_bytes - off);
	}
	if (!len)
		return;
	if (con->lock)
		while (sem_wait(con->lock) < 0 && errno == EINTR)
			;
	if (con->o.json) {
		json(con, f, label, off, data, len);
	} else {
		if (con->o.color)
			puts_(con, dir ? COLOR_DIR1 : COLOR_DIR0);
		if (con->o.header) {
			puts_(con, label);
			puts_(con, con->o.hex ? ": \n" : ": ");
		}
		if (con->o.hex)
			hexdump(con, data, len);
		else
			text(con, data, len);
		if (con->o.color)
			puts_(con, COLOR_RESET);
	}
	if (!con->o.no_newline)
		put(con, "\n", 1);
	if (con->o.flush_each && fflush(con->out) != 0 && !con->failed) {
		con->failed = 1;
		con->err = errno;
	}
	if (con->lock)
		sem_post(con->lock);
}

int console_error(const struct console *con)
{
	return con && con->failed ? con->err : 0;
}

int console_free(struct console *con)
{
	if (!con)
		return 0;
	int rc = 0;
	if (fflush(con->out) != 0 && !con->failed) {
		con->failed = 1;
		con->err = errno;
	}
	if (con->lock)
		sem_close(con->lock);
	if (con->failed) {
		errno = con->err;
		rc = -1;
	}
	free(con);
	return rc;
}
