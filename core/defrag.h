/* IP fragment reassembly, IPv4 (RFC 791 section 3.2) and IPv6 (RFC 8200
 * section 4.5).
 *
 * Fragments arrive in any order; bytes that overlap bytes already held are
 * dropped (the first copy wins; RFC 5722 would discard the whole IPv6
 * datagram, a forensic tool keeps what it can) and counted. Every limit is
 * a setting with a counter (stats.h, frag_*): a datagram not complete
 * frag_timeout seconds of capture time after its first fragment is given
 * up; when the bytes held would pass max_bytes, or the datagrams
 * max_datagrams, the oldest datagrams are dropped.
 *
 * A completed datagram is a fresh IP packet: the first fragment's header
 * with its length fields fixed (IPv4: total length, no fragment bits, a new
 * checksum; IPv6: payload length, and the Fragment header kept as an atomic
 * fragment, RFC 6946, so the header chain stays intact), then the payload.
 * It belongs to the defrag state until defrag_release (call it once the
 * packet that completed it is done with) or defrag_free.
 *
 * Single-threaded; time never needs to be monotonic (older times only make
 * expiry late). */
#ifndef TCPFLOW_DEFRAG_H
#define TCPFLOW_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "ip.h"
#include "packet.h"

struct defrag_config {
	int64_t timeout;          /* seconds; default 60 (RFC 8200 section 4.5) */
	uint64_t max_bytes;       /* fragment bytes held in all; default 16 MiB */
	uint64_t max_datagrams;   /* datagrams in reassembly at once; default 4096 */
};

#define DEFRAG_DEFAULT_TIMEOUT 60
#define DEFRAG_DEFAULT_MAX_BYTES (16u << 20)
#define DEFRAG_DEFAULT_MAX_DATAGRAMS 4096

struct defrag;

/* NULL on out of memory. cfg is copied. */
struct defrag *defrag_new(const struct defrag_config *cfg);

/* Add one fragment seen at capture time now (seconds). Returns 1 when it
 * completed its datagram (*out is the whole packet, ETHERTYPE_IPV4/IPV6),
 * 0 when it is held (or was redundant), -1 when it was rejected or could not
 * be held (counted). */
int defrag_add(struct defrag *d, const struct ip_fragment *f, int64_t now, struct l3_view *out);

/* Give up every datagram older than the timeout at time now (defrag_add
 * does this itself). */
void defrag_expire(struct defrag *d, int64_t now);

/* Free the datagrams completed so far (their bytes are no longer used). */
void defrag_release(struct defrag *d);

/* Datagrams in reassembly, and the bytes they hold (with overhead). */
size_t defrag_pending(const struct defrag *d);
uint64_t defrag_bytes(const struct defrag *d);

/* Counts what is still incomplete (frag_incomplete) and frees everything.
 * NULL is fine. */
void defrag_free(struct defrag *d);

#endif
