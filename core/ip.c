/* IPv4 (RFC 791), IPv6 (RFC 8200) and the TCP header (RFC 9293). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "ip.h"
#include "stats.h"

void ip_addr_text(const struct tf_addr *a, int pad, char *buf, size_t len)
{
	if (a->family == 4) {
		if (pad)
			snprintf(buf, len, "%03u.%03u.%03u.%03u", a->bytes[0], a->bytes[1],
				 a->bytes[2], a->bytes[3]);
		else
			snprintf(buf, len, "%u.%u.%u.%u", a->bytes[0], a->bytes[1],
				 a->bytes[2], a->bytes[3]);
	} else if (a->family == 6) {
		if (!inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len))
			snprintf(buf, len, "?");
	} else {
		snprintf(buf, len, "?");
	}
}

int ip_decode(struct pkt *p, const struct l3_view *l3)
{
	(void)p;
	(void)l3;
	return DECODE_UNSUPPORTED;
}
