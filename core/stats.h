/* Run-wide counters. Every limit and every skipped packet has one; the report
 * writes them all (name and value) in <statistics>, so a counter added here
 * shows up there with no other change. */
#ifndef TCPFLOW_STATS_H
#define TCPFLOW_STATS_H

#include <stdint.h>

#define TF_COUNTERS(X) \
	X(packets)                 /* packets read from all inputs */ \
	X(bytes)                   /* captured bytes read */ \
	X(tcp_segments)            /* packets decoded as TCP */ \
	X(not_ip)                  /* link payload that is not IP (ARP, ...) */ \
	X(not_tcp)                 /* IP packets carrying UDP, ICMP, ... */ \
	X(malformed_link)          /* link header cut short or invalid */ \
	X(malformed_ip)            /* IP header cut short or invalid */ \
	X(malformed_tcp)           /* TCP header cut short or invalid */ \
	X(unsupported_link)        /* packets on link types tcpflow cannot decode */ \
	X(unsupported_encap)       /* encapsulations not yet decoded */ \
	X(ip_fragments)            /* IP fragments seen */ \
	X(frag_reassembled)        /* IP datagrams rebuilt from fragments */ \
	X(frag_overlaps)           /* fragments overlapping held bytes (first copy kept) */ \
	X(frag_overlap_conflicts)  /* ... whose overlapping bytes differed */ \
	X(frag_invalid)            /* fragments rejected: past 64 KiB, past the last one, ... */ \
	X(frag_timeouts)           /* datagrams given up after frag_timeout seconds */ \
	X(frag_evicted)            /* datagrams dropped to stay under frag_max_* */ \
	X(frag_incomplete)         /* datagrams still incomplete at the end */ \
	X(ipv6_unknown_ext)        /* IPv6 next headers not understood */ \
	X(vlan_tags)               /* 802.1Q/802.1ad tags stripped */ \
	X(mpls_stacks)             /* MPLS label stacks removed */ \
	X(pppoe_sessions)          /* PPPoE session headers removed */ \
	X(tunnel_ip_in_ip)         /* IP-in-IP, 6in4, 4in6, IPv6-in-IPv6 removed */ \
	X(tunnel_gre)              /* GRE (and ERSPAN) headers removed */ \
	X(tunnel_vxlan)            /* VXLAN and Geneve headers removed */ \
	X(tunnel_depth_exceeded)   /* nested deeper than the cap: skipped */ \
	X(wifi_data_frames)        /* 802.11 data frames with a payload */ \
	X(wifi_other_frames)       /* 802.11 management, control, null data: no IP */ \
	X(wifi_protected)          /* encrypted 802.11 data frames: skipped */ \
	X(wifi_fragmented)         /* 802.11 fragments (MAC level): skipped */ \
	X(wifi_amsdu)              /* 802.11 A-MSDU aggregates: skipped */ \
	X(wifi_fcs_stripped)       /* 802.11 FCS trailers removed */ \
	X(wifi_bad_fcs)            /* 802.11 frames failing check_fcs: skipped */ \
	X(filtered_out)            /* packets rejected by the BPF filter */ \
	X(flows_opened)            /* flow directions created */ \
	X(flows_closed)            /* flow directions closed */ \
	X(connections_reused)      /* new SYN on an open 4-tuple */ \
	X(tcp_timeouts)            /* flows closed by tcp_timeout */ \
	X(retransmitted_bytes)     /* bytes that arrived again, identical */ \
	X(overlap_conflicts)       /* overlapping bytes that differed (first copy kept) */ \
	X(out_of_order_segments)   /* segments that arrived ahead of a gap */ \
	X(gaps)                    /* holes left in streams */ \
	X(gap_bytes)               /* bytes in those holes */ \
	X(reorder_cap_flow_hits)   /* per-flow reorder cap reached: gap declared */ \
	X(reorder_cap_total_hits)  /* total reorder cap reached: gap declared */ \
	X(seq_jumps)               /* jumps over -m bytes: new file started */ \
	X(bytes_beyond_max)        /* bytes not stored because of -b */ \
	X(stream_bytes)            /* payload bytes written to flow files */ \
	X(fd_evictions)            /* descriptors closed to stay under -f */ \
	X(write_errors)            /* failed writes to flow files */ \
	X(peak_open_flows)         /* most flow directions open at once */ \
	X(peak_reorder_bytes)      /* most out-of-order bytes held (reorder_total_cap) */ \
	X(peak_write_buffer_bytes) /* most bytes in flow write buffers (max_buffered) */ \
	X(peak_fragment_bytes)     /* most bytes held for IP reassembly (frag_max_bytes) */

struct tf_stats {
#define TF_STATS_FIELD(name) uint64_t name;
	TF_COUNTERS(TF_STATS_FIELD)
#undef TF_STATS_FIELD
};

extern struct tf_stats tf_stats;

/* Raise a peak_ counter to value when it is higher. */
#define TF_STATS_PEAK(field, value) do {                  \
	uint64_t tf_peak_v_ = (uint64_t)(value);          \
	if (tf_peak_v_ > tf_stats.field)                  \
		tf_stats.field = tf_peak_v_;              \
} while (0)

/* Visit every counter in declaration order. */
typedef void (*tf_stats_visit_fn)(const char *name, uint64_t value, void *arg);
void tf_stats_visit(tf_stats_visit_fn fn, void *arg);

#endif
