/* One packet through the decoding stages: link -> ip -> tcp header. */
#include "decode.h"
#include "ip.h"
#include "link.h"
#include "stats.h"

int decode_packet(struct pkt *p)
{
	struct l3_view l3;
	p->has_mac = 0;
	p->has_vlan = 0;
	p->vlan = 0;
	p->payload = NULL;
	p->payload_len = 0;
	int rc = link_decode(p, &l3);
	if (rc != DECODE_OK) {
		switch (rc) {
		case DECODE_NOT_IP: tf_stats.not_ip++; break;
		case DECODE_MALFORMED: tf_stats.malformed_link++; break;
		default:
			if (link_is_supported(p->dlt))
				tf_stats.unsupported_encap++;
			else
				tf_stats.unsupported_link++;
			break;
		}
		return rc;
	}
	rc = ip_decode(p, &l3);   /* ip counts its own outcomes */
	if (rc == DECODE_OK)
		tf_stats.tcp_segments++;
	return rc;
}
