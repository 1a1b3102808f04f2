#!/bin/bash
# End-to-end: the command line around the flows. -h/-hh/-V/-v/-d/-q, the
# settings (tdelta, enable_report, tcp_timeout, tcp_cmd, tcp_alert_fd,
# packet-buffer-timeout), the progress line, and the man page (every option
# and setting documented).
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99
MKCAP="$TOP_SRCDIR/tests/e2e/mkcap.py"

# ---- -h, -hh, -V -----------------------------------------------------------
run_tf help -h
check_eq "-h: exit status" 0 "$RC"
for opt in -b -B -c -C -D -d -e -E -f -F -g -h -H -i -I -J -K -l -L -m -o -p -P -q -r -R -s -S \
	-T -U -v -V -w -x -X -z -0; do
	if grep -qE -- "(^|[ [|])$opt( |$|\])" "$RUN_OUT"; then :; else
		fail "-h lists $opt" "a line with $opt" "$(grep -c . "$RUN_OUT") lines without it"
	fi
done
ok "-h: lists every option"
run_tf help2 -hh
check_eq "-hh: exit status" 0 "$RC"
for word in tcp_timeout tcp_cmd tcp_alert_fd tdelta packet-buffer-timeout enable_report \
	'%A/%a' '%N' '%S' '-Fk' md5; do
	if grep -qF -- "$word" "$RUN_OUT"; then :; else
		fail "-hh mentions $word" "$word" "not in the output"
	fi
done
ok "-hh: settings, name template tokens and scanners"

run_tf version -V
check_eq "-V: exit status (1.6 exits 1)" 0 "$RC"
grep -q '^tcpflow [0-9]' "$RUN_OUT" && ok "-V: prints 'tcpflow VERSION'" ||
	fail "-V prints the version" "tcpflow X.Y" "$(cat "$RUN_OUT")"

# ---- -v, -d, -q --------------------------------------------------------------
run_tf verbose -v -o "$TMP/v" -r "$DATA/keepalive.pcap"
check_eq "-v: exit status" 0 "$RC"
if grep -q 'reading .*keepalive.pcap' "$RUN_ERR" && grep -q 'packets' "$RUN_ERR"; then
	ok "-v: says what it reads and gives a summary"
else
	fail "-v: what it reads and a summary on stderr" "reading ... / N packets" "$(head -c 300 "$RUN_ERR")"
fi
check_flows "-v" "$TMP/v" "$DATA/keepalive.expect"
run_tf debug -d 5 -o "$TMP/d" -r "$DATA/keepalive.pcap"
check_eq "-d 5: exit status" 0 "$RC"
check_flows "-d 5" "$TMP/d" "$DATA/keepalive.expect"
run_tf quiet -q -o "$TMP/q" -r "$DATA/truncated.pcap"
check_eq "-q on a truncated capture: exit status" 0 "$RC"
check_eq "-q: no warning on stderr" "" "$(cat "$RUN_ERR")"
run_tf notquiet -o "$TMP/nq" -r "$DATA/truncated.pcap"
grep -q 'truncated.pcap' "$RUN_ERR" && ok "without -q the same capture warns" ||
	fail "without -q the truncated capture warns" "a warning" "nothing"

# ---- settings ---------------------------------------------------------------
# enable_report=NO: flows, no report
run_tf noreport -S enable_report=NO -o "$TMP/nr" -r "$DATA/keepalive.pcap"
check_eq "enable_report=NO: exit status" 0 "$RC"
[ ! -e "$TMP/nr/report.xml" ] && ok "enable_report=NO: no report.xml" ||
	fail "enable_report=NO: no report.xml" "absent" "present"
check_flows "enable_report=NO" "$TMP/nr" "$DATA/keepalive.expect"

# tdelta shifts every time: names (%t), file times, the report
run_tf tdelta -S tdelta=3600 -T '%t-%A.%a-%B.%b' -o "$TMP/td" -r "$DATA/keepalive.pcap"
check_eq "tdelta=3600: exit status" 0 "$RC"
names=$(list_flow_files "$TMP/td" | tr '\n' ' ')
check_eq "tdelta=3600: %t is the first packet time + 3600" \
	"1700003600-010.000.000.001.08080-192.168.001.002.40000 1700003600-192.168.001.002.40000-010.000.000.001.08080 " \
	"$names"
check_eq "tdelta=3600: file time shifted too" 1700003600 \
	"$(stat -c %Y "$TMP/td/1700003600-192.168.001.002.40000-010.000.000.001.08080" 2>/dev/null)"
grep -q "startime='2023-11-14T23:13:20" "$TMP/td/report.xml" &&
	ok "tdelta=3600: report times shifted" ||
	fail "tdelta=3600: report times shifted" "startime 2023-11-14T23:13:20..." \
		"$(grep -o "startime='[^']*'" "$TMP/td/report.xml" | head -n 1)"
run_tf tdelta-neg -S tdelta=-100 -T '%t' -o "$TMP/tdn" -r "$DATA/keepalive.pcap"
check_eq "tdelta=-100: names" "1699999900 1699999900c0001 " "$(list_flow_files "$TMP/tdn" | tr '\n' ' ')"
run_tf tdelta-bad -S tdelta=soon -o "$TMP/tdb" -r "$DATA/keepalive.pcap"
check_eq "tdelta=soon: exit status" 2 "$RC"

# tcp_timeout: capture-time idleness closes a connection; what follows is a new flow
"$PYTHON3" "$MKCAP" idle "$TMP/idle.pcap" "$TMP/idle.expect" 100 || exit 99
run_tf timeout -S tcp_timeout=30 -o "$TMP/to" -r "$TMP/idle.pcap"
check_eq "tcp_timeout=30: exit status" 0 "$RC"
check_flows "tcp_timeout=30 (100 s of silence)" "$TMP/to" "$TMP/idle.expect"
tot=$(xpath "$TMP/to/report.xml" "string(//*[local-name()='tcp_timeouts'])")
check_eq "tcp_timeout=30: counted in the report" 1 "$tot"
run_tf no-timeout -S tcp_timeout=300 -o "$TMP/to2" -r "$TMP/idle.pcap"
check_eq "tcp_timeout=300: one file per direction" 2 "$(list_flow_files "$TMP/to2" | grep -c .)"

# tcp_alert_fd: "open\tPATH" and "close\tPATH" for every flow file
exec 7>"$TMP/alerts.txt"
timeout -k 5 "$TF_TIMEOUT" "$TCPFLOW" -S tcp_alert_fd=7 -o "$TMP/al" -r "$DATA/many-short.pcap" \
	</dev/null >"$TMP/al.out" 2>"$TMP/al.err"
RC=$?
exec 7>&-
check_eq "tcp_alert_fd: exit status" 0 "$RC"
nfiles=$(list_flow_files "$TMP/al" | grep -c .)
check_eq "tcp_alert_fd: one open line per flow file" "$nfiles" "$(grep -c "^open	$TMP/al/" "$TMP/alerts.txt")"
check_eq "tcp_alert_fd: one close line per flow file" "$nfiles" "$(grep -c "^close	$TMP/al/" "$TMP/alerts.txt")"
bad=0
for f in $(list_flow_files "$TMP/al"); do
	o=$(grep -n "^open	$TMP/al/$f\$" "$TMP/alerts.txt" | cut -d: -f1)
	c=$(grep -n "^close	$TMP/al/$f\$" "$TMP/alerts.txt" | cut -d: -f1)
	if [ -z "$o" ] || [ -z "$c" ] || [ "$o" -ge "$c" ]; then bad=1; fi
done
check_eq "tcp_alert_fd: each file opened before it is closed" 0 "$bad"
run_tf alert-badfd -S tcp_alert_fd=57 -o "$TMP/al2" -r "$DATA/keepalive.pcap"
check_eq "tcp_alert_fd on a closed descriptor: exit status" 2 "$RC"
grep -q 'tcp_alert_fd=57' "$RUN_ERR" && ok "tcp_alert_fd on a closed descriptor: named" ||
	fail "tcp_alert_fd on a closed descriptor: named" "tcp_alert_fd=57" "$(cat "$RUN_ERR")"

# tcp_cmd: CMD PATH for every flow file, after it is complete
cat >"$TMP/cmd.sh" <<EOF
#!/bin/sh
printf '%s %s\n' "\$(md5sum <"\$1" | cut -d' ' -f1)" "\$(basename "\$1")" >>"$TMP/cmd.log"
EOF
chmod +x "$TMP/cmd.sh"
run_tf tcpcmd -S "tcp_cmd=$TMP/cmd.sh" -o "$TMP/cmd out" -r "$DATA/keepalive.pcap" -r "$DATA/ipv6-http.pcap"
check_eq "tcp_cmd: exit status" 0 "$RC"
expect_flows "$DATA/keepalive.expect" "$DATA/ipv6-http.expect" | awk '{ print $2, $1 }' |
	LC_ALL=C sort >"$TMP/cmd.want"
LC_ALL=C sort "$TMP/cmd.log" 2>/dev/null >"$TMP/cmd.got"
if cmp -s "$TMP/cmd.want" "$TMP/cmd.got"; then
	ok "tcp_cmd: ran once per flow file (path with a space) on the complete file"
else
	fail "tcp_cmd: once per complete flow file" "$(tr '\n' ' ' <"$TMP/cmd.want")" "$(tr '\n' ' ' <"$TMP/cmd.got")"
fi

# packet-buffer-timeout: accepted, checked
run_tf pbt -S packet-buffer-timeout=50 -o "$TMP/pbt" -r "$DATA/keepalive.pcap"
check_eq "packet-buffer-timeout=50: exit status" 0 "$RC"
run_tf pbt-bad -S packet-buffer-timeout=-5 -o "$TMP/pbt2" -r "$DATA/keepalive.pcap"
check_eq "packet-buffer-timeout=-5: exit status" 2 "$RC"
grep -q 'packet-buffer-timeout' "$RUN_ERR" && ok "packet-buffer-timeout=-5: named" ||
	fail "packet-buffer-timeout=-5: named" "the setting" "$(cat "$RUN_ERR")"

# ---- the progress line ---------------------------------------------------------
if command -v script >/dev/null 2>&1; then
	"$PYTHON3" "$MKCAP" big "$TMP/big.pcap" 101 || exit 99
	script -qec "'$TCPFLOW' -o '$TMP/big' -r '$TMP/big.pcap'" /dev/null >"$TMP/progress.tty" 2>&1
	if grep -aq 'big.pcap: .* of 101.0 MB (.*%), .*/s, [0-9]* flows open' "$TMP/progress.tty"; then
		ok "progress line on a terminal for a file over 100 MB"
	else
		fail "progress line on a terminal" "'big.pcap: X of 101.0 MB (N%), R/s, N flows open'" \
			"$(head -c 300 "$TMP/progress.tty" | cat -v)"
	fi
	run_tf big-notty -o "$TMP/big2" -r "$TMP/big.pcap"
	check_eq "no progress line when stderr is not a terminal" "" "$(cat "$RUN_ERR")"
	script -qec "'$TCPFLOW' -o '$TMP/small' -r '$DATA/keepalive.pcap'" /dev/null >"$TMP/small.tty" 2>&1
	check_eq "no progress line for a small file" "" "$(cat "$TMP/small.tty")"
	rm -f "$TMP/big.pcap"
	rm -rf "$TMP/big" "$TMP/big2"
else
	note "script (util-linux) not found: progress line not tested"
fi

# ---- the man page ------------------------------------------------------------
MAN="$TOP_SRCDIR/doc/tcpflow.1"
if [ -f "$MAN" ]; then
	missing=
	for opt in a B b c C D d e E f F g h H i I J K l L m o p P q r R s S T U v V w x X z Z 0; do
		grep -q "^\.B[I]* *\\\\-$opt\\b\|^\.B[I]* *\\\\-$opt\$" "$MAN" || missing="$missing -$opt"
	done
	check_eq "man page: every option has an entry" "" "$missing"
	missing=
	for s in enable_report tcp_timeout tcp_cmd tcp_alert_fd tdelta packet\\\\-buffer\\\\-timeout \
		reorder_flow_cap reorder_total_cap max_buffered max_object_depth; do
		grep -q "^\.BI* $s" "$MAN" || missing="$missing $s"
	done
	check_eq "man page: every setting has an entry" "" "$missing"
	if command -v man >/dev/null 2>&1; then
		warnings=$(MANWIDTH=80 man --warnings -l "$MAN" 2>&1 >/dev/null)
		check_eq "man page: formats without warnings" "" "$warnings"
	fi
else
	fail "man page exists" "$MAN" "missing"
fi

tf_finish
