/* The flow table: every open TCP connection, found by either direction's
 * addresses, ports and VLAN in O(1) (open addressing, a direction-independent
 * hash), plus a list in order of last activity so idle connections are found
 * at the head at O(1) cost per packet.
 *
 * The table owns its connections: flowtable_insert allocates one, and
 * flowtable_remove frees it (after the caller has closed its flows). */
#ifndef TCPFLOW_FLOWTABLE_H
#define TCPFLOW_FLOWTABLE_H

#include <stdint.h>
#include <stddef.h>
#include "packet.h"
#include "tcp.h"

struct flow_key {
	uint8_t family;          /* 4 or 6 */
	uint8_t has_vlan;
	uint16_t vlan;
	uint16_t sport, dport;
	uint8_t src[16], dst[16];
};

struct conn {
	struct flow_key key;             /* direction 0 = the first packet's direction */
	uint64_t session_id;             /* order of creation, from 1 */
	int64_t last_sec;                /* capture time of the last packet */
	uint8_t closed;                  /* both directions finished; kept to absorb stragglers */
	struct conn *act_prev, *act_next;/* activity list, oldest first */
	struct tcp_flow dir[2];
};

struct flowtable;

struct flowtable *flowtable_new(void);
void flowtable_free(struct flowtable *t);   /* frees remaining connections */

/* Key of a decoded TCP packet, in the packet's direction. */
void flow_key_from_pkt(struct flow_key *k, const struct pkt *p);

/* Find the connection for k; *dir is 0 when k is its direction 0, else 1. */
struct conn *flowtable_find(struct flowtable *t, const struct flow_key *k, int *dir);

/* Create a connection with k as direction 0. Returns NULL on out of memory. */
struct conn *flowtable_insert(struct flowtable *t, const struct flow_key *k);

/* Unlink and free c. */
void flowtable_remove(struct flowtable *t, struct conn *c);

/* Mark activity at capture time sec: moves c to the tail of the activity list. */
void flowtable_touch(struct flowtable *t, struct conn *c, int64_t sec);

/* The least recently active open connection, or NULL. */
struct conn *flowtable_oldest(struct flowtable *t);

/* Mark c finished: it moves to the list of retired connections, which stay
 * findable (so late retransmissions do not start a new flow) until removed. */
void flowtable_retire(struct flowtable *t, struct conn *c);

/* The connection retired longest ago, or NULL; and how many are retired. */
struct conn *flowtable_oldest_retired(struct flowtable *t);
size_t flowtable_retired_count(const struct flowtable *t);

size_t flowtable_count(const struct flowtable *t);

/* All open (not retired) connections in creation (session id) order, for a deterministic final
 * close. Returns a malloc'd array the caller frees, *n set; NULL if empty. */
struct conn **flowtable_snapshot(struct flowtable *t, size_t *n);

#endif
