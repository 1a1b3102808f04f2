#!/bin/bash
# End-to-end: the DFXML report (SPEC section 6): well-formed, one fileobject
# per flow file (direct children of <dfxml>, matching filename and filesize,
# deterministic order), the real command line, gaps, -X, and a report that
# is complete after SIGINT / SIGTERM.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

if ! command -v xmllint >/dev/null 2>&1; then
	echo "xmllint not found (apt-get install libxml2-utils): skipped"
	exit 77
fi

# fileobject_names REPORT: the basenames of the fileobjects' filenames, in order
fileobject_names() {
	local n i
	n=$(xpath "$1" "count($X_DFXML/$X_FO)")
	for i in $(seq 1 "${n:-0}"); do
		basename "$(xpath "$1" "string($X_DFXML/${X_FO}[$i]/*[local-name()='filename'])")"
	done
}

# check_report LABEL OUTDIR REPORT: well-formed, complete, one fileobject per
# flow file with the right filename and filesize, all directly under <dfxml>
check_report() {
	local label=$1 out=$2 rep=$3 nfiles nfo nall i fn fsz path bad=0
	if [ ! -f "$rep" ]; then
		fail "$label: report exists" "$rep" "missing"
		return 1
	fi
	if xmllint --noout "$rep" 2>"$TMP/xmllint.err"; then
		ok "$label: report is well-formed XML"
	else
		fail "$label: report is well-formed XML" "xmllint --noout passes" "$(head -n 2 "$TMP/xmllint.err" | tr '\n' '|')"
		return 1
	fi
	check_eq "$label: root element" dfxml "$(xpath "$rep" "local-name(/*)")"
	check_eq "$label: <rusage> present under <dfxml>" 1 "$(xpath "$rep" "count($X_DFXML/*[local-name()='rusage'])")"
	nfiles=$(list_flow_files "$out" | grep -c . || true)
	nfo=$(xpath "$rep" "count($X_DFXML/$X_FO)")
	nall=$(xpath "$rep" "count(//*[local-name()='fileobject'])")
	check_eq "$label: fileobjects directly under <dfxml> = all fileobjects" "$nall" "$nfo"
	check_eq "$label: one fileobject per flow file" "$nfiles" "$nfo"
	for i in $(seq 1 "${nfo:-0}"); do
		fn=$(xpath "$rep" "string($X_DFXML/${X_FO}[$i]/*[local-name()='filename'])")
		fsz=$(xpath "$rep" "string($X_DFXML/${X_FO}[$i]/*[local-name()='filesize'])")
		# the filename is a path as written (relative to the cwd, or absolute)
		path=$fn
		[ -f "$path" ] || path="$out/$(basename "$fn")"
		if [ ! -f "$path" ]; then
			fail "$label: fileobject $i names an existing flow file" "a file in $out" "'$fn'"
			bad=1
		elif [ "$(size_of "$path")" != "$fsz" ]; then
			fail "$label: filesize of $fn" "$(size_of "$path")" "'$fsz'"
			bad=1
		fi
	done
	local missing
	missing=$(LC_ALL=C comm -23 <(list_flow_files "$out" | xargs -r -n1 basename | LC_ALL=C sort) \
		<(fileobject_names "$rep" | LC_ALL=C sort))
	if [ -n "$missing" ]; then
		fail "$label: every flow file has a fileobject" "none missing" "$(echo "$missing" | head -n 5 | tr '\n' ' ')"
		bad=1
	fi
	[ "$bad" -eq 0 ] && ok "$label: filenames and filesizes of all $nfo fileobjects match the files"
	return 0
}

# 1. structure, on 100 flows
run_tf many -o out -r "$DATA/many-short.pcap"
check_eq "many-short: exit status" 0 "$RC"
check_report "many-short" "$TMP/out" "$TMP/out/report.xml"
rep="$TMP/out/report.xml"

# the <tcpflow> element agrees with the file name (IPv4 here)
bad=0
nfo=$(xpath "$rep" "count($X_DFXML/$X_FO)")
for i in $(seq 1 "${nfo:-0}"); do
	base="$X_DFXML/${X_FO}[$i]"
	fn=$(basename "$(xpath "$rep" "string($base/*[local-name()='filename'])")")
	tf="$base/*[local-name()='tcpflow']"
	src=$(xpath "$rep" "string($tf/@src_ipn)")
	dst=$(xpath "$rep" "string($tf/@dst_ipn)")
	sp=$(xpath "$rep" "string($tf/@srcport)")
	dp=$(xpath "$rep" "string($tf/@dstport)")
	fam=$(xpath "$rep" "string($tf/@family)")
	want=$(IFS=.; set -- $src; printf '%03d.%03d.%03d.%03d' "$1" "$2" "$3" "$4" 2>/dev/null).$(printf '%05d' "$sp" 2>/dev/null)-$(IFS=.; set -- $dst; printf '%03d.%03d.%03d.%03d' "$1" "$2" "$3" "$4" 2>/dev/null).$(printf '%05d' "$dp" 2>/dev/null)
	if [ "$want" != "$fn" ] || [ "$fam" != 2 ]; then
		fail "many-short: <tcpflow> attributes of fileobject $i match its file" \
			"$fn, family 2" "src_ipn='$src' srcport='$sp' dst_ipn='$dst' dstport='$dp' family='$fam'"
		bad=1
		break
	fi
done
if [ "${nfo:-0}" -eq 0 ]; then
	fail "many-short: <tcpflow> attributes match the file names" "100 fileobjects under <dfxml>" "none"
elif [ "$bad" -eq 0 ]; then
	ok "many-short: src_ipn/srcport/dst_ipn/dstport/family of every fileobject match its file name"
fi

# the real command line
want="$TCPFLOW -o out -r $DATA/many-short.pcap"
got=$(xpath "$rep" "string(//*[local-name()='command_line'])")
if [ "$got" = "$want" ]; then
	ok "command_line is the real command"
elif [ "$got" = "$(basename "$TCPFLOW") -o out -r $DATA/many-short.pcap" ]; then
	ok "command_line is the real command (argv[0] as basename)"
else
	fail "command_line is the real command" "'$want'" "'$got'"
fi

# deterministic order: the same run again gives the same fileobject order
run_tf many-again -o out2 -r "$DATA/many-short.pcap"
order1=$(fileobject_names out/report.xml)
if [ -z "$order1" ]; then
	fail "fileobject order is deterministic" "fileobjects under <dfxml> to compare" "none"
elif [ -f out2/report.xml ] && [ "$order1" = "$(fileobject_names out2/report.xml)" ]; then
	ok "fileobject order is the same in two identical runs"
else
	fail "fileobject order is deterministic" "same order in two runs" \
		"$(diff <(fileobject_names out/report.xml) <(fileobject_names out2/report.xml 2>/dev/null) | head -n 4 | tr '\n' ' ')"
fi

# 2. gaps
run_tf gap -o gap -r "$DATA/gap.pcap"
check_eq "gap: exit status" 0 "$RC"
check_report "gap" "$TMP/gap" "$TMP/gap/report.xml"
check_gaps "gap" "$TMP/gap/report.xml" "$DATA/gap.expect"
# a flow without holes has no gap element with a length
n=$(xpath "$TMP/gap/report.xml" "count($(xp_fileobject 192.168.001.002.04321-010.000.000.001.00080)//*[contains(local-name(), 'gap')])")
check_eq "gap: the complete direction has no gap element" 0 "${n:-0}"

# counters on the <tcpflow> element: overlap conflicts (violations) and
# out-of-order segments, both directions of these cases have some
attr_at_least_1() {
	local label=$1 rep=$2 name=$3 attr=$4 v
	v=$(xpath "$rep" "string($(xp_fileobject "$name")/*[local-name()='tcpflow']/@$attr)")
	if [ -n "$v" ] && [ "$v" -ge 1 ] 2>/dev/null; then
		ok "$label: $attr='$v' for $name"
	else
		fail "$label: <tcpflow $attr=...> counts them for $name" ">= 1" "'$v'"
	fi
}
for c in overlap reorder; do
	run_tf "$c" -o "$c" -r "$DATA/$c.pcap"
	check_eq "$c: exit status" 0 "$RC"
	attr=violations
	[ "$c" = reorder ] && attr=out_of_order_count
	for name in $(expect_flows "$DATA/$c.expect" | cut -d' ' -f1); do
		attr_at_least_1 "$c" "$TMP/$c/report.xml" "$name" "$attr"
	done
done
n=$(xpath "$TMP/out/report.xml" "count(//*[local-name()='tcpflow'][@violations and @violations != '0'])")
check_eq "many-short: no fileobject has violations" 0 "${n:-0}"

# 3. -X FILE: the report goes there, not into the output directory
run_tf dash-X -o xo -X "$TMP/elsewhere.xml" -r "$DATA/keepalive.pcap"
check_eq "-X: exit status" 0 "$RC"
check_report "-X FILE" "$TMP/xo" "$TMP/elsewhere.xml"
if [ -e "$TMP/xo/report.xml" ]; then
	fail "-X FILE: no report.xml in the output directory" "absent" "present"
else
	ok "-X FILE: no report.xml in the output directory"
fi

# 4. a signal while reading stdin: flows closed, report completed
# interrupt_run LABEL SIGNAL CAPTURE EXPECT
interrupt_run() {
	local label=$1 sig=$2 cap=$3 exp=$4 out="$TMP/sig.$1" pid rc i
	rm -f "$TMP/fifo"
	mkfifo "$TMP/fifo" || { fail "$label: mkfifo" ok failed; return; }
	# job control: the background job keeps default SIGINT handling
	set -m
	"$TCPFLOW" -o "$out" -r - <"$TMP/fifo" >"$TMP/sig.$label.out" 2>"$TMP/sig.$label.err" &
	pid=$!
	set +m
	exec 3>"$TMP/fifo"
	cat "$DATA/$cap" >&3
	sleep 1.5
	if ! kill -0 "$pid" 2>/dev/null; then
		fail "$label: still running while stdin is open" "running" "exited early"
	fi
	kill "-$sig" "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$label: exits within 10 s of SIG$sig" "exited" "still running (killed now)"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid"
	rc=$?
	exec 3>&-
	rm -f "$TMP/fifo"
	note "$label: exit status after SIG$sig: $rc"
	if [ "$rc" -gt 128 ]; then
		fail "$label: handles SIG$sig (ends cleanly)" "a normal exit" "killed by signal $((rc - 128))"
	fi
	check_report "$label" "$out" "$out/report.xml"
	check_flows "$label" "$out" "$DATA/$exp"
}
# all packets delivered (connections closed by FIN), stdin still open
interrupt_run sigint INT keepalive.pcap keepalive.expect
# stdin stops in the middle of a record: the flows are still open
interrupt_run sigterm TERM truncated.pcap truncated.expect

tf_finish
