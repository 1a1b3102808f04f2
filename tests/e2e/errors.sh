#!/bin/bash
# End-to-end: error handling (SPEC section 7). Each fatal error gives exit
# status 2 and exactly one line on stderr that names the culprit; a truncated
# capture is a warning (exit 0) and everything before the damage is kept.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

# expect_error LABEL NEEDLE: the last run exited 2 and printed exactly one
# line on stderr, containing NEEDLE (a fixed string)
expect_error() {
	local label=$1 needle=$2 lines
	check_eq "$label: exit status" 2 "$RC"
	lines=$(wc -l <"$RUN_ERR" | tr -d ' ')
	if [ "$lines" = 1 ]; then
		ok "$label: one line on stderr"
	else
		fail "$label: exactly one line on stderr" "1 line" "$lines lines"
		show_stderr
	fi
	if grep -qF -- "$needle" "$RUN_ERR"; then
		ok "$label: the message names '$needle'"
	else
		fail "$label: the message names what failed" "a line containing '$needle'" \
			"'$(head -n 3 "$RUN_ERR" | tr '\n' '|')'"
	fi
	if [ -s "$RUN_OUT" ]; then
		note "$label: stdout was not empty: $(head -c 200 "$RUN_OUT" | tr '\n' '|')"
	fi
}

# 1. missing input file
run_tf missing -o "$TMP/o1" -r "$TMP/no-such-dir/missing.pcap"
expect_error "missing input file" "missing.pcap"

# 2. a file that is not a capture
printf 'This is a text file, not a packet capture.\n%.0s' 1 2 3 4 5 >"$TMP/notes.pcap"
run_tf not-a-capture -o "$TMP/o2" -r "$TMP/notes.pcap"
expect_error "non-capture file" "notes.pcap"

# a capture cut inside its file header
head -c 10 "$DATA/ipv4-http.pcap" >"$TMP/header-only.pcap"
run_tf short-header -o "$TMP/o2b" -r "$TMP/header-only.pcap"
expect_error "file shorter than a pcap header" "header-only.pcap"

# an empty file
: >"$TMP/empty.pcap"
run_tf empty -o "$TMP/o2c" -r "$TMP/empty.pcap"
expect_error "empty input file" "empty.pcap"

# 3. unknown options (1.6 exits 0)
run_tf unknown-long -o "$TMP/o3" --no-such-option -r "$DATA/ipv4-http.pcap"
expect_error "unknown long option" "no-such-option"
run_tf unknown-short -o "$TMP/o3b" -y -r "$DATA/ipv4-http.pcap"
check_eq "unknown option -y: exit status" 2 "$RC"
lines=$(wc -l <"$RUN_ERR" | tr -d ' ')
check_eq "unknown option -y: lines on stderr" 1 "$lines"
if grep -qE -- "(-y|'y'|\"y\"|\`y')" "$RUN_ERR"; then
	ok "unknown option -y: the message names it"
else
	fail "unknown option -y: the message names it" "-y or 'y'" "'$(head -n 2 "$RUN_ERR" | tr '\n' '|')'"
fi

# unknown scanner
run_tf unknown-scanner -o "$TMP/o3c" -e no_such_scanner -r "$DATA/ipv4-http.pcap"
expect_error "unknown scanner (-e)" "no_such_scanner"

# 4. bad BPF expression
run_tf bad-bpf -o "$TMP/o4" -r "$DATA/ipv4-http.pcap" port 80 and and
expect_error "bad BPF expression" "port 80 and and"
run_tf bad-bpf2 -o "$TMP/o4b" -r "$DATA/ipv4-http.pcap" 'tcp[9999999999'
expect_error "bad BPF expression (syntax)" "tcp[9999999999"

# 5. truncated capture: warning naming the file, exit 0, flows before the cut
run_tf truncated -o "$TMP/o5" -r "$DATA/truncated.pcap"
check_eq "truncated capture: exit status" 0 "$RC"
if grep -qF "truncated.pcap" "$RUN_ERR"; then
	ok "truncated capture: a warning on stderr names the file"
else
	fail "truncated capture: a warning on stderr names the file" \
		"a line containing 'truncated.pcap'" "'$(head -n 3 "$RUN_ERR" | tr '\n' '|')'"
fi
check_flows "truncated capture" "$TMP/o5" "$DATA/truncated.expect"
if [ -f "$TMP/o5/report.xml" ] && xmllint --noout "$TMP/o5/report.xml" 2>/dev/null; then
	ok "truncated capture: report.xml is well-formed"
else
	fail "truncated capture: report.xml is well-formed" "xmllint --noout passes" "missing or not well-formed"
fi

# a truncated file followed by a good one: the second is still read
run_tf truncated-then-good -o "$TMP/o5b" -r "$DATA/truncated.pcap" -r "$DATA/keepalive.pcap"
check_eq "truncated then a good capture: exit status" 0 "$RC"
check_flows "truncated then a good capture" "$TMP/o5b" "$DATA/truncated.expect" "$DATA/keepalive.expect"

# 6. unwritable output directory
echo "a regular file" >"$TMP/plainfile"
run_tf outdir-under-file -o "$TMP/plainfile/out" -r "$DATA/ipv4-http.pcap"
expect_error "output directory under a regular file" "plainfile/out"
run_tf outdir-is-file -o "$TMP/plainfile" -r "$DATA/ipv4-http.pcap"
expect_error "output directory is a regular file" "plainfile"
if [ "$(id -u)" != 0 ]; then
	mkdir -p "$TMP/ro"
	chmod 555 "$TMP/ro"
	run_tf outdir-readonly -o "$TMP/ro/out" -r "$DATA/ipv4-http.pcap"
	expect_error "output directory under a read-only directory" "ro/out"
	chmod 755 "$TMP/ro"
else
	note "running as root: the read-only directory case is skipped (root may write anyway)"
fi

# 7. an unknown link type is reported once (number) and the file skipped;
# the other inputs go on
run_tf unknown-dlt -o "$TMP/o7" -r "$DATA/unknown-linktype.pcap" -r "$DATA/ipv4-http.pcap"
n147=$(grep -c '147' "$RUN_ERR")
check_eq "unknown link type 147: reported once on stderr" 1 "$n147"
[ "$n147" = 1 ] || show_stderr
check_flows "unknown link type, then a good capture" "$TMP/o7" "$DATA/ipv4-http.expect"

# 8. -V prints the version and exits 0 (1.6 exits 1)
run_tf version -V
check_eq "-V: exit status" 0 "$RC"
if grep -qiE 'tcpflow.*[0-9]+\.[0-9]+' "$RUN_OUT" "$RUN_ERR"; then
	ok "-V: prints a version"
else
	fail "-V: prints a version" "'tcpflow X.Y...'" "'$(cat "$RUN_OUT" "$RUN_ERR" | head -n 2 | tr '\n' '|')'"
fi

tf_finish
