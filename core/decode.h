/* One packet through the decoders: link -> ip -> tcp header. Counts every
 * outcome in tf_stats. Returns DECODE_OK when p holds a TCP segment. */
#ifndef TCPFLOW_DECODE_H
#define TCPFLOW_DECODE_H

#include "packet.h"

int decode_packet(struct pkt *p);

#endif
