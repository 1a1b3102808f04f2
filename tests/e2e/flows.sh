#!/bin/bash
# End-to-end: flow files (names and bytes) for every generated capture in
# tests/data (NAME.expect, made by tests/gen_captures.py), for several inputs
# in one run, stdin, -l, a BPF filter, and for a few corpus captures checked
# against tshark's reassembly.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

# 1. every generated case
n=0
for exp in "$DATA"/*.expect; do
	[ -f "$exp" ] || continue
	n=$((n + 1))
	run_expect "$(basename "$exp" .expect)" "$exp"
done
if [ "$n" -eq 0 ]; then
	fail "generated cases present" "tests/data/*.expect" "none in $DATA"
fi

# 2. two different captures in one run: the flows of both
run_tf two-files -o "$TMP/two-files" -r "$DATA/ipv4-http.pcap" -r "$DATA/ipv6-http.pcap"
check_eq "two -r: exit status" 0 "$RC"
check_flows "two -r" "$TMP/two-files" "$DATA/ipv4-http.expect" "$DATA/ipv6-http.expect"

# 3. stdin
RUN_STDIN="$DATA/keepalive.pcap" run_tf stdin -o "$TMP/stdin" -r -
check_eq "-r - (stdin): exit status" 0 "$RC"
check_flows "-r - (stdin)" "$TMP/stdin" "$DATA/keepalive.expect"

# stdin and a file in one run
RUN_STDIN="$DATA/vlan.pcap" run_tf stdin-and-file -o "$TMP/stdin2" -r "$DATA/sll.pcap" -r -
check_eq "-r FILE -r -: exit status" 0 "$RC"
check_flows "-r FILE -r -" "$TMP/stdin2" "$DATA/sll.expect" "$DATA/vlan.expect"

# 4. -l: the remaining words are input files (one connection across both)
run_tf dash-l -o "$TMP/dash-l" -l "$DATA/split-1.pcap" "$DATA/split-2.pcap"
check_eq "-l FILE FILE: exit status" 0 "$RC"
check_flows "-l FILE FILE" "$TMP/dash-l" "$DATA/split.expect"

# 5. trailing BPF expression
# rawip.pcap: an IPv4 connection to port 80 and an IPv6 one to port 443
grep -v '\.00443' "$DATA/rawip.expect" >"$TMP/rawip-port80.expect"
run_tf bpf-port -o "$TMP/bpf-port" -r "$DATA/rawip.pcap" port 80
check_eq "BPF 'port 80': exit status" 0 "$RC"
check_flows "BPF 'port 80' (DLT_RAW)" "$TMP/bpf-port" "$TMP/rawip-port80.expect"
# many-short.pcap: 50 connections from three clients; keep one client
awk '$1 != "flow" || $2 ~ /172\.016\.005\.010\./' "$DATA/many-short.expect" >"$TMP/many-host.expect"
run_tf bpf-host -o "$TMP/bpf-host" -r "$DATA/many-short.pcap" host 172.16.5.10 and tcp
check_eq "BPF 'host 172.16.5.10 and tcp': exit status" 0 "$RC"
check_flows "BPF 'host 172.16.5.10 and tcp'" "$TMP/bpf-host" "$TMP/many-host.expect"
# other link types: the filter is compiled for the input's link type
grep -v '\.00443' "$DATA/sll2.expect" >"$TMP/sll2-port80.expect"
run_tf bpf-sll2 -o "$TMP/bpf-sll2" -r "$DATA/sll2.pcap" tcp port 80
check_eq "BPF 'tcp port 80' on LINUX_SLL2: exit status" 0 "$RC"
check_flows "BPF 'tcp port 80' (DLT_LINUX_SLL2)" "$TMP/bpf-sll2" "$TMP/sll2-port80.expect"
# (not 'ip6': libpcap's DLT_NULL filters only know the host's AF_INET6 value)
grep -v '\.00443' "$DATA/null.expect" >"$TMP/null-port80.expect"
run_tf bpf-null -o "$TMP/bpf-null" -r "$DATA/null.pcap" tcp port 80
check_eq "BPF 'tcp port 80' on DLT_NULL: exit status" 0 "$RC"
check_flows "BPF 'tcp port 80' (DLT_NULL)" "$TMP/bpf-null" "$TMP/null-port80.expect"

# 6. -o creates missing parents (1.6 does not)
run_tf outdir-parents -o "$TMP/a/b/c" -r "$DATA/pcapng.pcapng"
check_eq "-o with missing parents: exit status" 0 "$RC"
check_flows "-o a/b/c" "$TMP/a/b/c" "$DATA/pcapng.expect"

# 7. corpus captures against tshark's reassembly
corpus_case() {
	local rel=$1 label ref
	label="corpus $rel"
	if [ ! -f "$CORPUS/$rel" ]; then
		note "$label: not in the corpus, skipped"
		return
	fi
	ref="$TMP/ref.$(basename "$rel")"
	if ! tshark_flows "$CORPUS/$rel" "$ref" >/dev/null || [ -z "$(ls "$ref")" ]; then
		note "$label: tshark gave no streams, skipped"
		return
	fi
	run_tf "corpus" -o "$TMP/out.$(basename "$rel")" -r "$CORPUS/$rel"
	check_eq "$label: exit status" 0 "$RC"
	[ "$RC" -eq 0 ] || show_stderr
	check_against_dir "$label" "$TMP/out.$(basename "$rel")" "$ref"
}
# Captures with loss: tcpflow zero-fills a hole (and records it in the
# report); tshark's "follow" puts "[N bytes missing in capture file]" there.
# Turn those markers into N zeros, then compare.
corpus_case_gaps() {
	local rel=$1 label ref out
	label="corpus $rel (holes as zeros)"
	if [ ! -f "$CORPUS/$rel" ]; then
		note "$label: not in the corpus, skipped"
		return
	fi
	ref="$TMP/ref.$(basename "$rel")"
	out="$TMP/out.$(basename "$rel")"
	if ! tshark_flows "$CORPUS/$rel" "$ref" >/dev/null || [ -z "$(ls "$ref")" ]; then
		note "$label: tshark gave no streams, skipped"
		return
	fi
	"$PYTHON3" - "$ref" <<'PYEOF2'
import os, re, sys
ref = sys.argv[1]
marker = re.compile(rb"\[(\d+) bytes missing in capture file\]\x00?")
for name in os.listdir(ref):
    path = os.path.join(ref, name)
    data = open(path, "rb").read()
    open(path, "wb").write(marker.sub(lambda m: b"\x00" * int(m.group(1)), data))
PYEOF2
	run_tf "corpus" -o "$out" -r "$CORPUS/$rel"
	check_eq "$label: exit status" 0 "$RC"
	check_against_dir "$label" "$out" "$ref"
	n=$(xpath "$out/report.xml" "count(//*[local-name()='gap'])")
	if [ "${n:-0}" -ge 1 ] 2>/dev/null; then
		ok "$label: the holes are recorded in the report ($n)"
	else
		fail "$label: the holes are recorded in the report" "gap elements" "${n:-none}"
	fi
}

# corpus_stat REL NAME VALUE: tcpflow on a corpus capture counts VALUE in
# the report statistic NAME (for captures without payload to compare)
corpus_stat() {
	local rel=$1 name=$2 want=$3 out got
	if [ ! -f "$CORPUS/$rel" ]; then
		note "corpus $rel: not in the corpus, skipped"
		return
	fi
	out="$TMP/stat.$(basename "$rel")"
	[ -d "$out" ] || run_tf "corpus-stat" -o "$out" -r "$CORPUS/$rel"
	got=$(xpath "$out/report.xml" "string(//*[local-name()='statistics']/*[local-name()='$name'])")
	check_eq "corpus $rel: statistic $name" "$want" "$got"
}

if [ -z "${CORPUS:-}" ] || [ ! -d "$CORPUS" ]; then
	note "corpus not found (CORPUS=${CORPUS:-unset}): corpus comparisons skipped"
elif ! have_tshark; then
	note "tshark or python3 not available: corpus comparisons skipped"
else
	corpus_case vlan/zeek-http-qinq-0.pcap
	corpus_case vlan/zeek-http-vlan-0.pcap
	corpus_case sll/suricata-decode-sll2-02.pcap
	corpus_case sll/pcapplusplus-sll.pcap
	corpus_case pcapng/pcapplusplus-many_interfaces-1.pcapng
	corpus_case ipv6/suricata-http-ipv6.pcap
	corpus_case http-chunked/zeek-http-variant-01-chunk_2pow64_overflow.pcap
	# VLAN stacks, MPLS, tunnels, IP fragments, 802.11
	corpus_case vlan/zeek-vlan-qinqinq.pcap
	corpus_case tunnels/zeek-mpls-in-vlan.pcap
	corpus_case tunnels/zeek-mixed-vlan-mpls.pcap
	corpus_case tunnels/zeek-tunnels-gre-sample.pcap
	corpus_case tunnels/zeek-tunnels-vxlan-encapsulated-http.pcap
	corpus_case_gaps tunnels/zeek-erspan.pcap
	corpus_case ipfrag/pcapplusplus-frag_http_req.pcap
	corpus_case ipfrag/derived-ipv4-frag-http-get-reordered.pcap
	corpus_case ipfrag/suricata-defrag-eth-vlan-ipv6-tcp.pcap
	corpus_case ipfrag/zeek-ipv6-http-atomic-frag.pcap
	corpus_case wifi/derived-radiotap-http-pipelined.pcap
	corpus_case wifi/derived-radiotap-fcs-http-pipelined.pcap
	corpus_case wifi/derived-prism-http-get.pcap
	corpus_case wifi/derived-prism-fcs-http-get.pcap
fi
# 802.11 captures without TCP payload: every frame decoded as far as it goes
if [ -n "${CORPUS:-}" ] && [ -d "$CORPUS" ]; then
	corpus_stat wifi/libpcap-http_PPI.pcap tcp_segments 1     # PPI: the SYN to port 80
	corpus_stat wifi/libpcap-http_PPI.pcap not_tcp 2          # ... and DNS
	corpus_stat wifi/zeek-wlanmon.pcap not_tcp 3              # DLT 105: DNS, MDNS
	corpus_stat wifi/zeek-radiotap.pcap not_tcp 3
	corpus_stat wifi/aircrack-wpa.cap wifi_protected 2        # Prism: WPA data skipped
	corpus_stat ipfrag/derived-ipv4-frag-http-get-reordered.pcap frag_incomplete 0
fi

# 8. decoding settings: reassembly memory, FCS checking
stat_of() {
	xpath "$1/report.xml" "string(//*[local-name()='statistics']/*[local-name()='$2'])"
}
run_tf frag-nomem -o "$TMP/frag-nomem" -S frag_max_datagrams=0 -r "$DATA/ipfrag4.pcap"
check_eq "-S frag_max_datagrams=0: exit status" 0 "$RC"
check_eq "-S frag_max_datagrams=0: nothing reassembled" 0 "$(stat_of "$TMP/frag-nomem" frag_reassembled)"
if [ "$(stat_of "$TMP/frag-nomem" frag_evicted)" -gt 0 ] 2>/dev/null; then
	ok "-S frag_max_datagrams=0: refused fragments counted (frag_evicted)"
else
	fail "-S frag_max_datagrams=0: refused fragments counted" "frag_evicted > 0" \
		"$(stat_of "$TMP/frag-nomem" frag_evicted)"
fi
run_tf frag-settings -o "$TMP/frag-settings" -S frag_timeout=5 -S frag_max_bytes=1m \
	-S frag_max_datagrams=16 -r "$DATA/ipfrag6.pcap"
check_eq "-S frag_timeout=5 frag_max_bytes=1m frag_max_datagrams=16: exit status" 0 "$RC"
check_flows "frag settings" "$TMP/frag-settings" "$DATA/ipfrag6.expect"
run_tf frag-bad -o "$TMP/frag-bad" -S frag_timeout=soon -r "$DATA/ipfrag4.pcap"
check_eq "-S frag_timeout=soon: exit status 2" 2 "$RC"
run_tf nofcs -o "$TMP/nofcs" -S check_fcs=NO -r "$DATA/radiotap-fcs.pcap" -r "$DATA/wlan.pcap"
check_eq "-S check_fcs=NO: exit status" 0 "$RC"
check_flows "-S check_fcs=NO (radiotap with FCS, plain 802.11)" "$TMP/nofcs" \
	"$DATA/radiotap-fcs.expect" "$DATA/wlan.expect"

tf_finish
