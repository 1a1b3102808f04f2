#!/bin/bash
# End-to-end: flow file names. -T with every token, '/' making directories,
# %C%c appended when missing, -F t T c k m g X, and names that cannot leave
# the output directory whatever the template holds. Contents are checked
# against the generator's expectations (tests/data/*.expect) under the new
# names.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99
MKCAP="$TOP_SRCDIR/tests/e2e/mkcap.py"

# renamed EXPECT SED > NEW: the expectation with every flow name passed
# through the sed program (contents unchanged)
renamed() {
	awk '$1 == "flow" { print $2, $3, $4 }' "$1" | while read -r name md5 len; do
		echo "flow $(printf '%s' "$name" | sed -e "$2") $md5 $len"
	done
}

# ---- every token -----------------------------------------------------------
# vlan.pcap: 192.168.1.2:2345 (MAC ...:01) -> 10.0.0.1:80 (MAC ...:02), VLAN 100,
# first packet at 1700000000 (2023-11-14T22:13:20Z); the client speaks first.
V=dd753d8c1fa4addccb094b817ca4a809
C=9ff752958591f61b36df7ea2220c2f0a
cat >"$TMP/tokens.expect" <<EOF
flow 2023-11-14T22:13:20Z_1700000000_000_000_000_000_1_0_02:00:00:00:00:01_02:00:00:00:00:02_--100_%_192.168.001.002_02345_010.000.000.001_00080 $C 1327
flow 2023-11-14T22:13:20Z_1700000000_001_000_000_000_1_0_02:00:00:00:00:02_02:00:00:00:00:01_--100_%_010.000.000.001_00080_192.168.001.002_02345 $V 5103
EOF
run_tf tokens -T '%T_%t_%N_%K_%M_%G_%S_%#_%E_%e_%V%v_%%_%A_%a_%B_%b%c' -o "$TMP/tokens" -r "$DATA/vlan.pcap"
check_eq "-T every token: exit status" 0 "$RC"
check_flows "-T %T %t %N %K %M %G %S %# %E %e %V %v %% %A %a %B %b" "$TMP/tokens" "$TMP/tokens.expect"

# %E/%e are empty where the link has no MAC addresses (raw IP); %V%v without a tag
renamed "$DATA/rawip.expect" 's/$/-/' >"$TMP/nomac.expect"
run_tf nomac -T '%A.%a-%B.%b%V%v-%E%e' -o "$TMP/nomac" -r "$DATA/rawip.pcap"
check_flows "-T %E%e on raw IP, %V%v untagged: empty" "$TMP/nomac" "$TMP/nomac.expect"

# %c %C %#: counters; the first connection has none with %c, 0 with %#
sed -n 's/^flow \([^ ]*\) \(.*\)$/\1 \2/p' "$DATA/reuse.expect" |
	awk '{ n = $1; c = 0; if (n ~ /c0001$/) { sub(/c0001$/, "", n); c = 1 }
	       print "flow " n "_" c " " $2 " " $3 }' >"$TMP/hash.expect"
run_tf hash -T '%A.%a-%B.%b_%#%c' -o "$TMP/hash" -r "$DATA/reuse.pcap"
renamed "$TMP/hash.expect" 's/_1$/_10001/' >"$TMP/hash2.expect"
check_flows "-T ..._%#%c (two connections on one 4-tuple)" "$TMP/hash" "$TMP/hash2.expect"

# '/' makes directories
renamed "$DATA/keepalive.expect" 's|^\(.*\)\.\([0-9]*\)-\(.*\)\.\([0-9]*\)$|\1/\2/\3_\4|' >"$TMP/dirs.expect"
run_tf dirs -T '%A/%a/%B_%b' -o "$TMP/dirs" -r "$DATA/keepalive.pcap"
check_eq "-T %A/%a/%B_%b: exit status" 0 "$RC"
check_flows "-T with '/': directories" "$TMP/dirs" "$TMP/dirs.expect"

# %C%c appended when the template has no %c (a literal %%c does not count)
renamed "$DATA/reuse.expect" 's|^\([^-]*\)-\([^c]*\)\(c0001\)*$|\1\3|' >"$TMP/append.expect"
run_tf append -T '%A.%a' -o "$TMP/append" -r "$DATA/reuse.pcap"
check_flows "-T without %c: %C%c appended" "$TMP/append" "$TMP/append.expect"
renamed "$TMP/append.expect" 's|^\([0-9.]*\)\.\([0-9]*\)|\1.\2%c|' >"$TMP/literal.expect"
run_tf literal -T '%A.%a%%c' -o "$TMP/literal" -r "$DATA/reuse.pcap"
check_flows "-T with a literal %%c: %C%c still appended" "$TMP/literal" "$TMP/literal.expect"

# ---- -F flags ------------------------------------------------------------------
renamed "$DATA/reuse.expect" 's/^/1700000000T/' >"$TMP/Ft.expect"
run_tf Ft -Ft -o "$TMP/Ft" -r "$DATA/reuse.pcap"
check_flows "-Ft: Unix time prefix" "$TMP/Ft" "$TMP/Ft.expect"
renamed "$DATA/reuse.expect" 's/^/2023-11-14T22:13:20Z/' >"$TMP/FT.expect"
run_tf FT -FT -o "$TMP/FT" -r "$DATA/reuse.pcap"
check_flows "-FT: ISO 8601 prefix" "$TMP/FT" "$TMP/FT.expect"
# -Fc: the counter on every name (1.6 hangs here)
renamed "$DATA/reuse.expect" '/c0001$/!s/$/c0000/' >"$TMP/Fc.expect"
TF_TIMEOUT=30 run_tf Fc -Fc -o "$TMP/Fc" -r "$DATA/reuse.pcap"
check_eq "-Fc: exit status (no hang)" 0 "$RC"
check_flows "-Fc: c0000 on the first connection too" "$TMP/Fc" "$TMP/Fc.expect"
renamed "$DATA/keepalive.expect" 's/$/c0000/' >"$TMP/Fc2.expect"
run_tf Fc-template -Fc -T '%A.%a-%B.%b' -o "$TMP/Fc2" -r "$DATA/keepalive.pcap"
check_flows "-Fc with -T" "$TMP/Fc2" "$TMP/Fc2.expect"
# -Fk -Fm -Fg: directory bins (flow number / 1000 ...)
renamed "$DATA/reuse.expect" 's|^|000/|' >"$TMP/Fk.expect"
run_tf Fk -Fk -o "$TMP/Fk" -r "$DATA/reuse.pcap"
check_flows "-Fk" "$TMP/Fk" "$TMP/Fk.expect"
renamed "$DATA/reuse.expect" 's|^|000000-000999/000000/|' >"$TMP/Fm.expect"
run_tf Fm -Fm -o "$TMP/Fm" -r "$DATA/reuse.pcap"
check_flows "-Fm" "$TMP/Fm" "$TMP/Fm.expect"
renamed "$DATA/reuse.expect" 's|^|000000000-000999999/000000000-000000999/000000000/|' >"$TMP/Fg.expect"
run_tf Fg -Fg -o "$TMP/Fg" -r "$DATA/reuse.pcap"
check_flows "-Fg" "$TMP/Fg" "$TMP/Fg.expect"
# prefixes in the order given, each in front: -Ftk = %K/%tT...
renamed "$DATA/reuse.expect" 's|^|000/1700000000T|' >"$TMP/Ftk.expect"
run_tf Ftk -Ftk -o "$TMP/Ftk" -r "$DATA/reuse.pcap"
check_flows "-Ftk" "$TMP/Ftk" "$TMP/Ftk.expect"
# -Fk with -T: ignored, with a warning (as 1.6 documents)
run_tf FkT -Fk -T '%A.%a-%B.%b' -o "$TMP/FkT" -r "$DATA/keepalive.pcap"
check_flows "-Fk with -T: no bins" "$TMP/FkT" "$DATA/keepalive.expect"
grep -q -- '-Fk is ignored' "$RUN_ERR" && ok "-Fk with -T: warns" ||
	fail "-Fk with -T warns" "'-Fk is ignored'" "$(cat "$RUN_ERR")"
# -FX: no flow files, the report still lists the flows
run_tf FX -FX -o "$TMP/FX" -r "$DATA/keepalive.pcap"
check_eq "-FX: exit status" 0 "$RC"
check_eq "-FX: no flow files" "" "$(list_flow_files "$TMP/FX")"
check_eq "-FX: the report has the flows" 2 \
	"$(xpath "$TMP/FX/report.xml" "count(//*[local-name()='fileobject'])")"
# bins across thousands of flows: 3000 connections = 6000 flow directions
if [ -n "$PYTHON3" ]; then
	"$PYTHON3" "$MKCAP" concurrent 3000 "$TMP/many.pcap" "$TMP/many.expect" || exit 99
	run_tf Fk-many -Fk -o "$TMP/Fkmany" -r "$TMP/many.pcap"
	check_eq "-Fk, 6000 flows: exit status" 0 "$RC"
	got=$(cd "$TMP/Fkmany" && for d in */; do printf '%s=%s ' "${d%/}" "$(ls "$d" | wc -l)"; done)
	check_eq "-Fk, 6000 flows: 1000 per bin" "000=1000 001=1000 002=1000 003=1000 004=1000 005=1000 " "$got"
	# the flow number is the order flows appeared: each client's SYN came first
	n=$(cd "$TMP/Fkmany/000" && ls | grep -c '^010\.')
	check_eq "-Fk: bin 000 has the first 1000 flows (client directions)" 1000 "$n"
	rm -rf "$TMP/Fkmany"
fi

# ---- a second run into the same directory ------------------------------------------
# Nothing of the first run is touched: every flow of the second gets the next
# counter (c0001), and the files the scanners write beside a flow follow its
# name. Both runs with scanners, so files are also named before they exist.
run_tf twice1 -S http -S md5 -o "$TMP/twice" -r "$DATA/keepalive.pcap"
check_eq "second run: first run's exit status" 0 "$RC"
(cd "$TMP/twice" && find . -type f ! -name report.xml -exec md5sum {} + | LC_ALL=C sort) >"$TMP/twice.first"
run_tf twice2 -S http -S md5 -o "$TMP/twice" -r "$DATA/keepalive.pcap"
check_eq "second run: exit status" 0 "$RC"
(cd "$TMP/twice" && find . -type f ! -name report.xml -exec md5sum {} + | LC_ALL=C sort) >"$TMP/twice.both"
if LC_ALL=C comm -23 "$TMP/twice.first" "$TMP/twice.both" | grep -q .; then
	fail "second run: the first run's files are unchanged" "all $(wc -l <"$TMP/twice.first") as they were" \
		"$(LC_ALL=C comm -23 "$TMP/twice.first" "$TMP/twice.both" | head -n 3 | tr '\n' '|')"
else
	ok "second run: the first run's $(wc -l <"$TMP/twice.first") files are unchanged"
fi
# every file of the second run is a first-run file's twin: the flow's name
# with c0001, the same bytes
sed 's|^\([0-9a-f]*\)  \./\([0-9.]*-[0-9.]*\)\(.*\)$|\1  ./\2c0001\3|' "$TMP/twice.first" |
	LC_ALL=C sort >"$TMP/twice.want"
LC_ALL=C comm -13 "$TMP/twice.first" "$TMP/twice.both" >"$TMP/twice.second"
check_eq "second run: its files are the first run's, named with c0001" \
	"$(md5sum <"$TMP/twice.want")" "$(md5sum <"$TMP/twice.second")"
check_eq "second run: report entries name the c0001 files" "$(grep -c c0001 "$TMP/twice.want")" \
	"$(xpath "$TMP/twice/report.xml" "count(//*[local-name()='filename'][contains(., 'c0001')])")"

# ---- files beside a flow whose name has directories ----------------------------------
# A 4 KB gzip body that decodes to 300 KiB: the decoded file outgrows its
# buffer and is created while the flow's own file is not (its bytes are still
# buffered); the directories the name asks for are made for it.
if GZMD5=$("$PYTHON3" "$MKCAP" gzipped "$TMP/gz300.pcap" 300); then
	run_tf gzdirs -S http -S gzip -S md5 -T '%A/%a-%B.%b' -o "$TMP/gzdirs" -r "$TMP/gz300.pcap"
	check_eq "-T with '/', a big decoded body: exit status" 0 "$RC"
	check_eq "-T with '/', a big decoded body: its file, whole" "$GZMD5" \
		"$(md5_of "$TMP/gzdirs/010.000.000.001/00080-192.168.001.002.07100-HTTPBODY-GZIP" 2>/dev/null)"
else
	fail "mkcap.py gzipped runs" "exit 0" "failed"
fi

# ---- names never leave the output directory ----------------------------------------
mkdir -p "$TMP/jail/out"
run_tf dotdot -T '../../%A.%a-%B.%b' -o "$TMP/jail/out" -r "$DATA/keepalive.pcap"
check_eq "-T ../../: exit status" 0 "$RC"
check_eq "-T ../../: nothing outside the output directory" "out" "$(ls "$TMP/jail")"
renamed "$DATA/keepalive.expect" 's|^|__/__/|' >"$TMP/dotdot.expect"
check_flows "-T ../../: '..' components become '__'" "$TMP/jail/out" "$TMP/dotdot.expect"
run_tf absolute -T "$TMP/abs/%A.%a-%B.%b" -o "$TMP/absout" -r "$DATA/keepalive.pcap"
check_eq "-T /absolute: exit status" 0 "$RC"
[ ! -e "$TMP/abs" ] && ok "-T /absolute: nothing at the absolute path" ||
	fail "-T /absolute: nothing at the absolute path" "no $TMP/abs" "$(ls "$TMP/abs")"
renamed "$DATA/keepalive.expect" "s|^|${TMP#/}/abs/|" >"$TMP/abs.expect"
check_flows "-T /absolute: inside the output directory" "$TMP/absout" "$TMP/abs.expect"
run_tf oddbytes -T $'x\x01y\x1b[1m%A.%a-%B.%b\x7f/./z' -o "$TMP/odd" -r "$DATA/keepalive.pcap"
check_eq "-T with control bytes: exit status" 0 "$RC"
renamed "$DATA/keepalive.expect" 's|^\(.*\)$|x_y_[1m\1_/z|' >"$TMP/odd.expect"
# the appended counter goes after the last component
check_flows "-T with control bytes: '_' for each, '.' components dropped" "$TMP/odd" "$TMP/odd.expect"
run_tf slashes -T '//%A//..//%a' -o "$TMP/slashes" -r "$DATA/keepalive.pcap"
renamed "$DATA/keepalive.expect" 's|^\([0-9.]*\)\.\([0-9]*\)-.*$|\1/__/\2|' >"$TMP/slashes.expect"
check_flows "-T //%A//..//%a" "$TMP/slashes" "$TMP/slashes.expect"
# addresses from the traffic cannot escape either: IPv6 text has ':' only
run_tf v6 -T '%A/%B' -o "$TMP/v6" -r "$DATA/ipv6-http.pcap"
check_eq "-T %A/%B on IPv6: files" "2001:db8::1/2001:db8::2 2001:db8::2/2001:db8::1 " \
	"$(list_flow_files "$TMP/v6" | tr '\n' ' ')"

tf_finish
