/* Bounds-checked reads from packet bytes.
 *
 * Every decoder reads packet bytes only through a cursor: a read past the
 * end sets the cursor's `bad` flag and returns 0 instead of touching memory,
 * so a malformed header becomes a counted "invalid" event, never a crash.
 * The bytes are borrowed; the cursor never owns or frees them. */
#ifndef TCPFLOW_CURSOR_H
#define TCPFLOW_CURSOR_H

#include <stddef.h>
#include <stdint.h>

struct cursor {
	const uint8_t *p;   /* next byte to read */
	size_t left;        /* bytes remaining */
	int bad;            /* set once a read went past the end */
};

static inline struct cursor cur_make(const uint8_t *p, size_t len)
{
	struct cursor c = { p, len, 0 };
	return c;
}

static inline int cur_need(struct cursor *c, size_t n)
{
	if (c->bad || c->left < n) {
		c->bad = 1;
		return 0;
	}
	return 1;
}

static inline int cur_skip(struct cursor *c, size_t n)
{
	if (!cur_need(c, n))
		return 0;
	c->p += n;
	c->left -= n;
	return 1;
}

static inline uint8_t cur_u8(struct cursor *c)
{
	if (!cur_need(c, 1))
		return 0;
	uint8_t v = c->p[0];
	c->p++;
	c->left--;
	return v;
}

static inline uint16_t cur_be16(struct cursor *c)
{
	if (!cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)((c->p[0] << 8) | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return v;
}

static inline uint16_t cur_le16(struct cursor *c)
{
	if (!cur_need(c, 2))
		return 0;
	uint16_t v = (uint16_t)((c->p[1] << 8) | c->p[0]);
	c->p += 2;
	c->left -= 2;
	return v;
}

static inline uint32_t cur_be32(struct cursor *c)
{
	if (!cur_need(c, 4))
		return 0;
	uint32_t v = ((uint32_t)c->p[0] << 24) | ((uint32_t)c->p[1] << 16) |
		     ((uint32_t)c->p[2] << 8) | c->p[3];
	c->p += 4;
	c->left -= 4;
	return v;
}

static inline uint32_t cur_le32(struct cursor *c)
{
	if (!cur_need(c, 4))
		return 0;
	uint32_t v = ((uint32_t)c->p[3] << 24) | ((uint32_t)c->p[2] << 16) |
		     ((uint32_t)c->p[1] << 8) | c->p[0];
	c->p += 4;
	c->left -= 4;
	return v;
}

/* Copy n bytes out; on a short buffer copies nothing and marks bad. */
static inline int cur_copy(struct cursor *c, void *dst, size_t n)
{
	if (!cur_need(c, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = c->p[i];
	c->p += n;
	c->left -= n;
	return 1;
}

/* Peek without consuming: byte at offset off, or -1 if out of range. */
static inline int cur_peek(const struct cursor *c, size_t off)
{
	if (c->bad || off >= c->left)
		return -1;
	return c->p[off];
}

#endif
