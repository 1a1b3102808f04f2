#!/bin/bash
# End-to-end: compatibility with Debian's tcpflow 1.6.1 (/usr/bin/tcpflow).
# Where 1.6.1 is right, our flow files have the same names and bytes as its
# files. Where 1.6.1 is wrong (SPEC section 8), ours equal the generator's
# expectation and 1.6.1's differ: the test asserts that 1.6.1 differs, so it
# documents each bug (and shows the bug is still there in the reference).
# Skipped (77) when 1.6.1 is not installed.
. "$(dirname "$0")/lib.sh"

OLD=/usr/bin/tcpflow
if [ ! -x "$OLD" ]; then
	echo "$OLD not installed (apt-get install tcpflow): skipped"
	exit 77
fi
if ! "$OLD" -V 2>&1 | grep -q 'TCPFLOW 1\.6'; then
	echo "$OLD is not tcpflow 1.6 ($("$OLD" -V 2>&1 | head -n 1)): skipped"
	exit 77
fi
tf_tmpdir
cd "$TMP" || exit 99

# run_old LABEL ARGS...: run 1.6.1; sets RC16
run_old() {
	local label=$1
	shift
	timeout -k 5 "$TF_TIMEOUT" "$OLD" "$@" </dev/null >"$TMP/old.$label.out" 2>"$TMP/old.$label.err"
	RC16=$?
}

# run_both CASE: both programs on the capture(s) of tests/data/CASE.expect;
# ours into $TMP/ours.CASE, 1.6.1's into $TMP/old.CASE
run_both() {
	local c args=()
	for c in $(expect_captures "$DATA/$1.expect"); do
		args+=(-r "$DATA/$c")
	done
	run_tf "$1" -o "$TMP/ours.$1" "${args[@]}"
	check_eq "$1: our exit status" 0 "$RC"
	run_old "$1" -o "$TMP/old.$1" "${args[@]}"
}

# same_dirs LABEL A B: the same flow file names with the same bytes
same_dirs() {
	local label=$1 a=$2 b=$3 f bad=0
	if [ "$(list_flow_files "$a")" != "$(list_flow_files "$b")" ]; then
		fail "$label: same flow file names as 1.6.1" "$(list_flow_files "$b" | tr '\n' ' ')" \
			"$(list_flow_files "$a" | tr '\n' ' ')"
		return
	fi
	for f in $(list_flow_files "$a"); do
		if ! cmp -s "$a/$f" "$b/$f"; then
			fail "$label: $f has the same bytes as 1.6.1's" "$(md5_of "$b/$f")" "$(md5_of "$a/$f")"
			bad=1
		fi
	done
	[ "$bad" -eq 0 ] && ok "$label: same $(list_flow_files "$a" | grep -c .) flow files, same bytes as 1.6.1"
}

# exp_md5 CASE NAME: the expected MD5 of flow NAME
exp_md5() {
	awk -v n="$2" '$1 == "flow" && $2 == n { print $3 }' "$DATA/$1.expect"
}

# old_differs CASE FILE16 NAME WHY: 1.6.1's FILE16 is not the expected NAME
old_differs() {
	local c=$1 f16=$2 name=$3 why=$4 want
	want=$(exp_md5 "$c" "$name")
	if [ ! -f "$TMP/old.$c/$f16" ]; then
		ok "$c: 1.6.1 bug ($why): no file $f16"
	elif [ "$(md5_of "$TMP/old.$c/$f16")" != "$want" ]; then
		ok "$c: 1.6.1 bug ($why): $f16 has $(size_of "$TMP/old.$c/$f16") bytes, md5 $(md5_of "$TMP/old.$c/$f16"); expected md5 $want"
	else
		fail "$c: 1.6.1 shows the bug ($why)" "1.6.1's $f16 differs from the expected bytes" \
			"1.6.1 is right here: update this test"
	fi
}

# ---- where 1.6.1 is right: same names, same bytes ---------------------------
for c in ipv6-http keepalive many-short sll rawip pcapng reorder dup gap wrap midstream split; do
	[ -f "$DATA/$c.expect" ] || { fail "$c: expectation present" "$DATA/$c.expect" missing; continue; }
	run_both "$c"
	check_flows "$c (ours)" "$TMP/ours.$c" "$DATA/$c.expect"
	same_dirs "$c" "$TMP/ours.$c" "$TMP/old.$c"
done

# ---- where 1.6.1 is wrong -----------------------------------------------------
S4=010.000.000.001.00080-192.168.001.002
C4=192.168.001.002

# Ethernet padding of short frames is appended to the streams, and the
# padding on pure ACKs even makes an extra "c1" flow
run_both ipv4-http
check_flows "ipv4-http (ours)" "$TMP/ours.ipv4-http" "$DATA/ipv4-http.expect"
old_differs ipv4-http "$S4.01234" "$S4.01234" "Ethernet padding appended"
old_differs ipv4-http "$C4.01234-010.000.000.001.00080" "$C4.01234-010.000.000.001.00080" "Ethernet padding appended"

# IPv4 total length 0 (TSO): 1.6.1 drops the packets, leaving holes
run_both tso
check_flows "tso (ours)" "$TMP/ours.tso" "$DATA/tso.expect"
old_differs tso "$S4.09876" "$S4.09876" "IPv4 total length 0 dropped"

# overlapping retransmission with different bytes: 1.6.1 lets the last copy win
run_both overlap
check_flows "overlap (ours)" "$TMP/ours.overlap" "$DATA/overlap.expect"
old_differs overlap "$S4.03333" "$S4.03333" "overlap: last copy wins"

# VLAN suffix: 1.6.1 prints the raw TCI (priority 5, VID 100 = 41060)
run_both vlan
check_flows "vlan (ours)" "$TMP/ours.vlan" "$DATA/vlan.expect"
if [ -f "$TMP/old.vlan/$S4.02345--41060" ] && [ ! -f "$TMP/old.vlan/$S4.02345--100" ]; then
	ok "vlan: 1.6.1 bug (suffix is the raw TCI): $S4.02345--41060 instead of --100"
else
	fail "vlan: 1.6.1 shows the bug (raw TCI suffix)" "$S4.02345--41060" "$(list_flow_files "$TMP/old.vlan" | tr '\n' ' ')"
fi
if [ -f "$TMP/old.vlan/$S4.02345--41060" ] && [ -f "$TMP/ours.vlan/$S4.02345--100" ] &&
	cmp -s "$TMP/old.vlan/$S4.02345--41060" "$TMP/ours.vlan/$S4.02345--100"; then
	ok "vlan: the bytes are the same as 1.6.1's, only the name differs"
else
	fail "vlan: same bytes as 1.6.1 under the corrected name" "equal files" "different or missing"
fi

# QinQ: 1.6.1 ignores the outer 802.1ad tag and gives no VLAN suffix at all
run_both qinq
check_flows "qinq (ours)" "$TMP/ours.qinq" "$DATA/qinq.expect"
if [ -f "$TMP/old.qinq/$S4.03456" ]; then
	ok "qinq: 1.6.1 bug (802.1ad ignored): $S4.03456 without --300"
else
	fail "qinq: 1.6.1 shows the bug (no VLAN suffix)" "$S4.03456" "$(list_flow_files "$TMP/old.qinq" | tr '\n' ' ')"
fi

# DLT_NULL with BSD AF_INET6 (30): 1.6.1 ignores the IPv6 connection
run_both null
check_flows "null (ours)" "$TMP/ours.null" "$DATA/null.expect"
old_differs null "2001:db8::2.00443-2001:db8::1.06666" "2001:db8::2.00443-2001:db8::1.06666" "AF_INET6 30 ignored"

# connection counter: 1.6.1 writes c1, the spec says c0001
run_both reuse
check_flows "reuse (ours)" "$TMP/ours.reuse" "$DATA/reuse.expect"
if [ -f "$TMP/old.reuse/$S4.06543c1" ] && [ -f "$TMP/ours.reuse/$S4.06543c0001" ] &&
	cmp -s "$TMP/old.reuse/$S4.06543c1" "$TMP/ours.reuse/$S4.06543c0001"; then
	ok "reuse: 1.6.1 names the second connection c1, ours c0001, same bytes"
else
	fail "reuse: 1.6.1's c1 file equals our c0001 file" "equal files" \
		"1.6.1: $(list_flow_files "$TMP/old.reuse" | tr '\n' ' ') ours: $(list_flow_files "$TMP/ours.reuse" | tr '\n' ' ')"
fi

# link types and files 1.6.1 refuses
for c in sll2 pcapng-multi; do
	run_both "$c"
	check_flows "$c (ours)" "$TMP/ours.$c" "$DATA/$c.expect"
	if [ "$RC16" -ne 0 ] && [ -z "$(list_flow_files "$TMP/old.$c")" ]; then
		ok "$c: 1.6.1 refuses the file (exit $RC16, no flows): $(grep -v reportfilename "$TMP/old.$c.err" | head -n 1)"
	else
		fail "$c: 1.6.1 refuses the file" "non-zero exit, no flows" "exit $RC16, $(list_flow_files "$TMP/old.$c" | grep -c .) flows"
	fi
done

# truncated capture: same flows, but 1.6.1 exits 1 and we exit 0
run_both truncated
check_flows "truncated (ours)" "$TMP/ours.truncated" "$DATA/truncated.expect"
same_dirs truncated "$TMP/ours.truncated" "$TMP/old.truncated"
if [ "$RC16" -ne 0 ]; then
	ok "truncated: 1.6.1 bug: exit status $RC16 on a truncated capture (ours: $RC)"
else
	fail "truncated: 1.6.1 exits non-zero" "non-zero" "$RC16"
fi

# unknown option: 1.6.1 exits 0, we exit 2
run_old unknown-option --no-such-option -r "$DATA/ipv4-http.pcap" -o "$TMP/old.unknown"
run_tf unknown-option --no-such-option -r "$DATA/ipv4-http.pcap" -o "$TMP/ours.unknown"
check_eq "unknown option: our exit status" 2 "$RC"
if [ "$RC16" -eq 0 ]; then
	ok "unknown option: 1.6.1 bug: exit status 0"
else
	fail "unknown option: 1.6.1 exits 0" 0 "$RC16"
fi

# -V: 1.6.1 exits 1
run_old version -V
run_tf version -V
check_eq "-V: our exit status" 0 "$RC"
if [ "$RC16" -ne 0 ]; then
	ok "-V: 1.6.1 bug: exit status $RC16"
else
	fail "-V: 1.6.1 exits non-zero" "non-zero" "$RC16"
fi

tf_finish
