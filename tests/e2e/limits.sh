#!/bin/bash
# End-to-end: limits and input streams. -b, -m, -f (descriptor reuse: -f 8
# and ulimit -n 64 on thousands of concurrent flows give byte-identical
# output to an unlimited run), -w (packets not used as TCP), -R (only
# finishes connections already open), -l.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99
MKCAP="$TOP_SRCDIR/tests/e2e/mkcap.py"
if [ -z "$PYTHON3" ]; then
	echo "python3 not found: skipped"
	exit 77
fi

# same_tree LABEL A B: the same files (report.xml aside) with the same bytes
same_tree() {
	if diff -r -x report.xml "$2" "$3" >"$TMP/diff.out" 2>&1; then
		ok "$1: byte-identical to the unlimited run ($(list_flow_files "$2" | grep -c .) files)"
	else
		fail "$1: byte-identical to the unlimited run" "no differences" "$(head -n 3 "$TMP/diff.out")"
	fi
}

# check_many LABEL DIR EXPECT: check_flows for thousands of files, in a few processes
check_many() {
	local n want
	want=$(grep -c '^flow ' "$3")
	n=$(list_flow_files "$2" | grep -c .)
	check_eq "$1: number of flow files" "$want" "$n"
	if awk '$1 == "flow" { print $3 "  " $2 }' "$3" | (cd "$2" && md5sum -c --quiet) >"$TMP/md5.out" 2>&1; then
		ok "$1: all $want flow files have the expected contents"
	else
		fail "$1: flow file contents" "the expected MD5s" "$(head -n 3 "$TMP/md5.out")"
	fi
}

# ---- -b: at most N bytes per direction; the report keeps the full length --------
run_tf full -o "$TMP/full" -r "$DATA/ipv4-http.pcap"
check_flows "reference run" "$TMP/full" "$DATA/ipv4-http.expect"
run_tf b1000 -b 1000 -o "$TMP/b1000" -r "$DATA/ipv4-http.pcap"
check_eq "-b 1000: exit status" 0 "$RC"
bad=0
for f in $(list_flow_files "$TMP/full"); do
	want=$(head -c 1000 "$TMP/full/$f" | md5sum | cut -d' ' -f1)
	if [ "$(md5_of "$TMP/b1000/$f" 2>/dev/null)" != "$want" ]; then
		bad=1
		fail "-b 1000: $f is the first 1000 bytes" "$want" "$(md5_of "$TMP/b1000/$f" 2>/dev/null)"
	fi
done
[ "$bad" = 0 ] && ok "-b 1000: every file is the first 1000 bytes of the full one"
big=$(list_flow_files "$TMP/full" | while read -r f; do echo "$(size_of "$TMP/full/$f") $f"; done |
	sort -n | tail -n 1)
len=$(xpath "$TMP/b1000/report.xml" "string($(xp_fileobject "${big#* }")/*[local-name()='tcpflow']/@len)")
check_eq "-b 1000: the report gives the full stream length" "${big%% *}" "$len"

# ---- -m: a sequence jump past it starts a new file --------------------------------
# gap.pcap loses 1000 server bytes at offset 2920 (never retransmitted)
G=010.000.000.001.00080-192.168.001.002.04321
run_tf gapfull -o "$TMP/gapfull" -r "$DATA/gap.pcap"
check_flows "gap.pcap reference" "$TMP/gapfull" "$DATA/gap.expect"
run_tf m500 -m 500 -o "$TMP/m500" -r "$DATA/gap.pcap"
check_eq "-m 500: exit status" 0 "$RC"
check_eq "-m 500: the file ends at the jump" \
	"$(head -c 2920 "$TMP/gapfull/$G" | md5sum | cut -d' ' -f1)" "$(md5_of "$TMP/m500/$G" 2>/dev/null)"
check_eq "-m 500: a new file starts after the jump" \
	"$(tail -c +3921 "$TMP/gapfull/$G" | md5sum | cut -d' ' -f1)" "$(md5_of "$TMP/m500/${G}c0001" 2>/dev/null)"
run_tf m2000 -m 2000 -o "$TMP/m2000" -r "$DATA/gap.pcap"
check_flows "-m 2000: a 1000-byte jump stays in the file (hole)" "$TMP/m2000" "$DATA/gap.expect"

# ---- -f and the process descriptor limit ---------------------------------------------
"$PYTHON3" "$MKCAP" concurrent 3000 "$TMP/many.pcap" "$TMP/many.expect" || exit 99
run_tf unlimited -o "$TMP/unl" -r "$TMP/many.pcap"
check_eq "3000 concurrent connections: exit status" 0 "$RC"
check_many "3000 concurrent connections" "$TMP/unl" "$TMP/many.expect"
run_tf f8 -f 8 -o "$TMP/f8" -r "$TMP/many.pcap"
check_eq "-f 8: exit status" 0 "$RC"
same_tree "-f 8" "$TMP/f8" "$TMP/unl"
ev=$(xpath "$TMP/f8/report.xml" "string(//*[local-name()='fd_evictions'])")
[ "${ev:-0}" -gt 0 ] 2>/dev/null && ok "-f 8: descriptors were reused ($ev evictions)" ||
	fail "-f 8: descriptors were reused" "fd_evictions > 0" "${ev:-none}"
if (ulimit -n 64) 2>/dev/null; then
	(ulimit -n 64 && run_tf ulimit64 -o "$TMP/u64" -r "$TMP/many.pcap" && echo "$RC" >"$TMP/u64.rc")
	check_eq "ulimit -n 64: exit status" 0 "$(cat "$TMP/u64.rc" 2>/dev/null)"
	same_tree "ulimit -n 64" "$TMP/u64" "$TMP/unl"
	check_eq "ulimit -n 64: nothing on stderr" "" "$(cat "$TMP"/run*.ulimit64.stderr)"
	(ulimit -n 64 && run_tf ulimit64-side -I -K -o "$TMP/u64k" -r "$TMP/many.pcap" &&
		echo "$RC" >"$TMP/u64k.rc")
	run_tf unlimited-side -I -K -o "$TMP/unlk" -r "$TMP/many.pcap"
	check_eq "ulimit -n 64 with -I -K: exit status" 0 "$(cat "$TMP/u64k.rc" 2>/dev/null)"
	same_tree "ulimit -n 64 with -I -K (18000 files)" "$TMP/u64k" "$TMP/unlk"
else
	note "cannot lower the descriptor limit here: ulimit cases skipped"
fi
rm -rf "$TMP/unl" "$TMP/f8" "$TMP/u64" "$TMP/u64k" "$TMP/unlk"

# ---- -w: every packet not used as TCP, with the input's link type ----------------------
other=$("$PYTHON3" "$MKCAP" mixed "$TMP/mixed.pcap") || exit 99
run_tf w -w "$TMP/other.pcap" -o "$TMP/w" -r "$TMP/mixed.pcap"
check_eq "-w: exit status" 0 "$RC"
check_eq "-w: the TCP flows as usual" 2 "$(list_flow_files "$TMP/w" | grep -c .)"
if command -v tshark >/dev/null 2>&1; then
	check_eq "-w: every non-TCP packet written" "$other" \
		"$(tshark -n -r "$TMP/other.pcap" 2>/dev/null | grep -c .)"
	check_eq "-w: none of them TCP" 0 "$(tshark -n -r "$TMP/other.pcap" -Y tcp 2>/dev/null | grep -c .)"
	check_eq "-w: the packets as they were" \
		"$(tshark -n -r "$TMP/mixed.pcap" -Y 'not tcp' -T fields -e frame.len -e frame.time_epoch 2>/dev/null | md5sum)" \
		"$(tshark -n -r "$TMP/other.pcap" -T fields -e frame.len -e frame.time_epoch 2>/dev/null | md5sum)"
	check_eq "-w: link type of the input" "Ethernet" \
		"$(capinfos -E "$TMP/other.pcap" 2>/dev/null | sed -n 's/^File encapsulation: *//p')"
	# raw IP input: the -w file is raw IP too (LINKTYPE_RAW)
	run_tf w-raw -w "$TMP/raw-other.pcap" -o "$TMP/wraw" -r "$DATA/rawip.pcap" 'not port 443'
	check_eq "-w on raw IP: link type" "Raw IP" \
		"$(capinfos -E "$TMP/raw-other.pcap" 2>/dev/null | sed -n 's/^File encapsulation: *//p')"
else
	note "tshark not found: -w contents not checked"
fi
run_tf w-bad -w "$TMP/no/such/dir/x.pcap" -o "$TMP/wbad" -r "$TMP/mixed.pcap"
check_eq "-w into a missing directory: exit status" 2 "$RC"
grep -q 'x.pcap' "$RUN_ERR" && ok "-w into a missing directory: names the file" ||
	fail "-w into a missing directory: names the file" "x.pcap" "$(cat "$RUN_ERR")"

# ---- -R: only connections already open go on --------------------------------------------
run_tf R -o "$TMP/R" -r "$DATA/split-1.pcap" -R "$DATA/split-2.pcap" -R "$DATA/keepalive.pcap"
check_eq "-r A -R B: exit status" 0 "$RC"
check_flows "-r split-1 -R split-2 -R keepalive: the split connection, nothing of keepalive" \
	"$TMP/R" "$DATA/split.expect"
run_tf R-order -o "$TMP/R2" -R "$DATA/split-2.pcap" -r "$DATA/split-1.pcap"
check_flows "-R before -r on the command line: still read after" "$TMP/R2" "$DATA/split.expect"
run_tf R-only -o "$TMP/R3" -R "$DATA/keepalive.pcap"
check_eq "-R alone: exit status" 0 "$RC"
check_eq "-R alone: no flow starts" "" "$(list_flow_files "$TMP/R3")"

# ---- -l: the remaining words are files ---------------------------------------------------
run_tf l -o "$TMP/l" -l "$DATA/keepalive.pcap" "$DATA/vlan.pcap"
check_flows "-l A B" "$TMP/l" "$DATA/keepalive.expect" "$DATA/vlan.expect"

tf_finish
