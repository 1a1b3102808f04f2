/* Flow table: open addressing with linear probing over a power-of-two slot
 * array, tombstones for deletions, and an activity list for timeouts. */
#include <stdlib.h>
#include <string.h>

#include "flowtable.h"

#define TOMBSTONE ((struct conn *)(uintptr_t)1)
#define MIN_SLOTS 1024

struct flowtable {
	struct conn **slots;
	size_t nslots;      /* power of two */
	size_t count;       /* live connections */
	size_t used;        /* live + tombstones */
	uint64_t next_session;
	struct conn *act_head, *act_tail;   /* open connections, least recently active first */
	struct conn *ret_head, *ret_tail;   /* retired connections, oldest first */
	size_t retired;
};

void flow_key_from_pkt(struct flow_key *k, const struct pkt *p)
{
	memset(k, 0, sizeof *k);
	k->family = p->src.family;
	k->has_vlan = p->has_vlan;
	k->vlan = p->has_vlan ? p->vlan : 0;
	k->sport = p->sport;
	k->dport = p->dport;
	size_t alen = p->src.family == 4 ? 4 : 16;
	memcpy(k->src, p->src.bytes, alen);
	memcpy(k->dst, p->dst.bytes, alen);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v;
	h *= 0x9E3779B97F4A7C15ull;
	return h ^ (h >> 29);
}

static uint64_t endpoint_hash(const uint8_t *a, uint16_t port)
{
	uint64_t w0, w1;
	memcpy(&w0, a, 8);
	memcpy(&w1, a + 8, 8);
	return mix(mix(mix(0x51ED270B1CEull, w0), w1), port);
}

/* The same value for both directions: combine the two endpoints symmetrically. */
static uint64_t key_hash(const struct flow_key *k)
{
	uint64_t a = endpoint_hash(k->src, k->sport);
	uint64_t b = endpoint_hash(k->dst, k->dport);
	uint64_t h = (a + b) ^ (a * b | 1);
	h = mix(h, ((uint64_t)k->family << 32) | ((uint64_t)k->has_vlan << 16) | k->vlan);
	return h;
}

static int key_eq(const struct flow_key *a, const struct flow_key *b)
{
	return a->family == b->family && a->has_vlan == b->has_vlan && a->vlan == b->vlan &&
	       a->sport == b->sport && a->dport == b->dport &&
	       memcmp(a->src, b->src, 16) == 0 && memcmp(a->dst, b->dst, 16) == 0;
}

static int key_eq_reversed(const struct flow_key *a, const struct flow_key *b)
{
	return a->family == b->family && a->has_vlan == b->has_vlan && a->vlan == b->vlan &&
	       a->sport == b->dport && a->dport == b->sport &&
	       memcmp(a->src, b->dst, 16) == 0 && memcmp(a->dst, b->src, 16) == 0;
}

struct flowtable *flowtable_new(void)
{
	struct flowtable *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->slots = calloc(MIN_SLOTS, sizeof *t->slots);
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->nslots = MIN_SLOTS;
	t->next_session = 1;
	return t;
}

void flowtable_free(struct flowtable *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i] && t->slots[i] != TOMBSTONE)
			free(t->slots[i]);
	free(t->slots);
	free(t);
}

struct conn *flowtable_find(struct flowtable *t, const struct flow_key *k, int *dir)
{
	size_t mask = t->nslots - 1;
	for (size_t i = key_hash(k) & mask;; i = (i + 1) & mask) {
		struct conn *c = t->slots[i];
		if (!c)
			return NULL;
		if (c == TOMBSTONE)
			continue;
		if (key_eq(&c->key, k)) {
			*dir = 0;
			return c;
		}
		if (key_eq_reversed(&c->key, k)) {
			*dir = 1;
			return c;
		}
	}
}

static void place(struct conn **slots, size_t nslots, struct conn *c)
{
	size_t mask = nslots - 1;
	size_t i = key_hash(&c->key) & mask;
	while (slots[i] && slots[i] != TOMBSTONE)
		i = (i + 1) & mask;
	slots[i] = c;
}

static int rehash(struct flowtable *t)
{
	size_t n = MIN_SLOTS;
	while (n < t->count * 4)
		n *= 2;
	struct conn **slots = calloc(n, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i] && t->slots[i] != TOMBSTONE)
			place(slots, n, t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	t->used = t->count;
	return 0;
}

static void list_unlink(struct conn **head, struct conn **tail, struct conn *c)
{
	if (c->act_prev)
		c->act_prev->act_next = c->act_next;
	else
		*head = c->act_next;
	if (c->act_next)
		c->act_next->act_prev = c->act_prev;
	else
		*tail = c->act_prev;
	c->act_prev = c->act_next = NULL;
}

static void list_append(struct conn **head, struct conn **tail, struct conn *c)
{
	c->act_prev = *tail;
	c->act_next = NULL;
	if (*tail)
		(*tail)->act_next = c;
	else
		*head = c;
	*tail = c;
}

static void act_unlink(struct flowtable *t, struct conn *c)
{
	if (c->closed) {
		list_unlink(&t->ret_head, &t->ret_tail, c);
		t->retired--;
	} else {
		list_unlink(&t->act_head, &t->act_tail, c);
	}
}

static void act_append(struct flowtable *t, struct conn *c)
{
	list_append(&t->act_head, &t->act_tail, c);
}

void flowtable_retire(struct flowtable *t, struct conn *c)
{
	if (c->closed)
		return;
	act_unlink(t, c);
	c->closed = 1;
	list_append(&t->ret_head, &t->ret_tail, c);
	t->retired++;
}

struct conn *flowtable_oldest_retired(struct flowtable *t)
{
	return t->ret_head;
}

size_t flowtable_retired_count(const struct flowtable *t)
{
	return t->retired;
}

struct conn *flowtable_insert(struct flowtable *t, const struct flow_key *k)
{
	if ((t->used + 1) * 10 > t->nslots * 7 && rehash(t) < 0)
		return NULL;
	struct conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->key = *k;
	c->session_id = t->next_session++;
	size_t mask = t->nslots - 1;
	size_t i = key_hash(k) & mask;
	while (t->slots[i] && t->slots[i] != TOMBSTONE)
		i = (i + 1) & mask;
	if (!t->slots[i])
		t->used++;
	t->slots[i] = c;
	t->count++;
	act_append(t, c);
	return c;
}

void flowtable_remove(struct flowtable *t, struct conn *c)
{
	size_t mask = t->nslots - 1;
	for (size_t i = key_hash(&c->key) & mask; t->slots[i]; i = (i + 1) & mask) {
		if (t->slots[i] == c) {
			/* A slot followed by an empty one can become empty again. */
			if (!t->slots[(i + 1) & mask]) {
				t->slots[i] = NULL;
				t->used--;
			} else {
				t->slots[i] = TOMBSTONE;
			}
			break;
		}
	}
	t->count--;
	act_unlink(t, c);
	free(c);
}

void flowtable_touch(struct flowtable *t, struct conn *c, int64_t sec)
{
	c->last_sec = sec;
	if (!c->closed && t->act_tail != c) {
		act_unlink(t, c);
		act_append(t, c);
	}
}

struct conn *flowtable_oldest(struct flowtable *t)
{
	return t->act_head;
}

size_t flowtable_count(const struct flowtable *t)
{
	return t->count;
}

static int by_session(const void *a, const void *b)
{
	const struct conn *x = *(struct conn *const *)a, *y = *(struct conn *const *)b;
	return x->session_id < y->session_id ? -1 : x->session_id > y->session_id;
}

struct conn **flowtable_snapshot(struct flowtable *t, size_t *n)
{
	*n = 0;
	if (t->count == t->retired)
		return NULL;
	struct conn **v = malloc((t->count - t->retired) * sizeof *v);
	if (!v)
		return NULL;
	for (struct conn *c = t->act_head; c; c = c->act_next)
		v[(*n)++] = c;
	qsort(v, *n, sizeof *v, by_session);
	return v;
}
