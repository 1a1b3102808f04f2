#!/bin/bash
# End-to-end: the http and gzip scanners (SPEC section 5, plugins/http,
# plugins/gzip). The object checks are in httpcheck.py.
#  1. -H lists http and gzip with their settings; -a enables both.
#  2. The generated HTTP captures (tests/data/http-*.expect: keep-alive with
#     every framing and coding, an upload, pipelining over IPv6, out-of-order
#     segments, lost segments, malformed HTTP, upgrades): every object with
#     its original bytes and nothing else, metadata, gaps, error counts, byte
#     runs that equal the flow's bytes, MD5s in the report; two real
#     captures of tests/data against tshark.
#  3. -S http_names=1.6: 1.6's names, decoded in place; with -Z kept
#     encoded; the same names and bytes as Debian's tcpflow 1.6 where 1.6 is
#     right (/usr/bin/tcpflow -e http, when installed).
#  4. -Z: no decoding; -FX: the same objects, in the report only.
#  5. http_alert_fd and http_cmd.
#  6. Generated at run time (tests/gen_http_big.py): a 10 MiB gzip body sent
#     chunked, and a decompression bomb (stopped, reported).
#  7. The HTTP captures of $CORPUS (http*/, ipv6/, the 18 MiB loopback
#     capture of large/): clean runs, consistent reports, and every object
#     tshark exports found by MD5 among tcpflow's (skipped without the
#     corpus or tshark).
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

if ! command -v xmllint >/dev/null 2>&1 || [ -z "$PYTHON3" ]; then
	echo "xmllint or python3 not found: skipped"
	exit 77
fi
CHECK="$TOP_SRCDIR/tests/e2e/httpcheck.py"

# run_check ARGS...: httpcheck.py, its verdicts recorded here
run_check() {
	local line what exp got
	while IFS= read -r line; do
		case $line in
		ok:*) ok "${line#ok: }" ;;
		FAIL:*)
			line=${line#FAIL: }
			what=${line%%|*}
			line=${line#*|}
			exp=${line%%|*}
			got=${line#*|}
			fail "$what" "$exp" "$got"
			;;
		*) echo "$line" ;;
		esac
	done < <("$PYTHON3" "$CHECK" "$@" 2>&1)
}

# expect_clean LABEL: the last run exited 0, wrote a well-formed report and
# no sanitizer complaint
expect_clean() {
	check_eq "$1: exit status" 0 "$RC"
	[ "$RC" -eq 0 ] || show_stderr
	if grep -qE 'runtime error:|Sanitizer' "$RUN_ERR"; then
		fail "$1: no sanitizer report" "nothing" "$(grep -m1 -E 'runtime error:|Sanitizer' "$RUN_ERR")"
	fi
}

# ---- 1. -H, -a --------------------------------------------------------------------
run_tf list -H
for s in "http 1.0 (built-in)" "gzip 1.0 (built-in)" "-S http_names=" "-S http_cmd=" \
	"-S http_alert_fd=-1" "-S gzip_max_size=" "-S gzip_max_ratio="; do
	if grep -qF -- "$s" "$RUN_OUT"; then
		ok "-H lists '$s'"
	else
		fail "-H lists '$s'" "a line with it" "$(grep -E '^(http|gzip)' "$RUN_OUT" | tr '\n' '|')"
	fi
done
run_tf all -a -o "$TMP/all" -r "$DATA/http-objects.pcap"
expect_clean "-a"
n=$(ls "$TMP/all" | grep -c -- '-HTTPBODY-003-GZIP$')
check_eq "-a runs http and gzip (X-HTTPBODY-003-GZIP written)" 1 "$n"

# ---- 2. the generated captures ---------------------------------------------------
for exp in "$DATA"/http-*.expect; do
	c=$(basename "$exp" .expect)
	run_tf "$c" -S http -S gzip -S md5 -o "$TMP/$c" -r "$DATA/$c.pcap"
	expect_clean "$c"
	run_check objects "$exp" "$TMP/$c" gzip
	run_check report "$TMP/$c"
	check_gaps "$c" "$TMP/$c/report.xml" "$exp"
	case $c in
	http-lost | http-malformed) ;;
	*)
		check_eq "$c: no error, no incomplete message" "0 0" \
			"$(xpath "$TMP/$c/report.xml" "string(//*[local-name()='http_summary']/@errors)") $(xpath "$TMP/$c/report.xml" "string(//*[local-name()='http_summary']/@incomplete)")"
		;;
	esac
	# without the gzip scanner: no -GZIP file
	run_tf "$c-nogzip" -S http -o "$TMP/$c-nogzip" -r "$DATA/$c.pcap"
	run_check objects "$exp" "$TMP/$c-nogzip" default
done
# the pairing of pipelined responses (also in httpmeta lines): the third
# response's body is /c.png's, the HEAD response has none
rep="$TMP/http-pipeline/report.xml"
check_eq "pipeline: the HEAD response has no body" 0 \
	"$(xpath "$rep" "count($(xp_fileobject '2001:db8::2.08080-2001:db8::1.42000-HTTPBODY-002'))")"
check_eq "pipeline: HEAD response paired with HEAD /b.html" "HEAD /b.html" \
	"$(xpath "$rep" "string($(xp_fileobject '2001:db8::2.08080-2001:db8::1.42000-HTTP-002')//*[@name='method']/@value)") $(xpath "$rep" "string($(xp_fileobject '2001:db8::2.08080-2001:db8::1.42000-HTTP-002')//*[@name='url']/@value)")"
# upgrades: parsing stops after 101 and after 2xx to CONNECT (the objects of
# the expect file are all there is: nothing from the tunnelled bytes), and
# goes on after a refused upgrade
rep="$TMP/http-upgrade/report.xml"
check_eq "upgrade: four directions stop at the switch (101, CONNECT)" 4 \
	"$(xpath "$rep" "count(//*[local-name()='http'][@upgraded='yes'])")"
check_eq "upgrade: the refused h2c upgrade's connection goes on (2 requests, 2 responses)" "4 2" \
	"$(xpath "$rep" "sum(//*[local-name()='http'][not(@upgraded)]/@messages)") $(xpath "$rep" "count(//*[local-name()='http'][not(@upgraded)])")"
# lost segments: the body with a hole is written whole, its report entry says
# which bytes are missing; the chunked one cut by the hole says incomplete
rep="$TMP/http-lost/report.xml"
got=$(xpath "$rep" "string($(xp_fileobject '010.000.000.001.00080-192.168.001.002.44000-HTTPBODY-002')//*[@name='incomplete']/@value)")
case $got in
*hole*) ok "lost: the chunked body cut by a hole is marked incomplete ($got)" ;;
*) fail "lost: the chunked body cut by a hole is marked incomplete" "meta incomplete naming the hole" "'$got'" ;;
esac
# malformed: counted in the summary, and parsing went on after each error
rep="$TMP/http-malformed/report.xml"
errs=$(xpath "$rep" "string(//*[local-name()='http_summary']/@errors)")
if [ "${errs:-0}" -ge 5 ] 2>/dev/null; then
	ok "malformed: <http_summary errors='$errs'> (garbage, bad chunk size, overflow, bad header, truncated headers)"
else
	fail "malformed: errors counted in <http_summary>" ">= 5" "'$errs'"
fi
for code in HPE_INVALID_METHOD HPE_INVALID_CHUNK_SIZE HPE_INVALID_HEADER_TOKEN TRUNCATED_HEADERS; do
	n=$(xpath "$rep" "count(//*[local-name()='http']/*[local-name()='error'][@code='$code'])")
	if [ "${n:-0}" -ge 1 ] 2>/dev/null; then
		ok "malformed: <error code='$code'> reported"
	else
		fail "malformed: <error code='$code'> reported" ">= 1" "${n:-0}"
	fi
done

# two real captures in tests/data (Zeek's test suite): a server's deflate
# without the zlib header, a gzip response; tshark's objects are the truth
for b in zeek-http-deflate-raw.pcap zeek-http-get-gzip.pcap; do
	run_tf "$b" -S http -S gzip -S md5 -o "$TMP/$b" -r "$DATA/$b"
	expect_clean "$b"
	run_check report "$TMP/$b"
	run_check tshark "$DATA/$b" "$TMP/$b" 0
done
check_eq "raw deflate (no zlib header) decoded completely" 2 \
	"$(xpath "$TMP/zeek-http-deflate-raw.pcap/report.xml" "count(//*[local-name()='gzip'][@format='deflate'][@status='complete'])")"

# ---- 3. tcpflow 1.6's names ---------------------------------------------------------
for exp in "$DATA"/http-*.expect; do
	c=$(basename "$exp" .expect)
	run_tf "$c-16" -S http -S gzip -S http_names=1.6 -o "$TMP/$c-16" -r "$DATA/$c.pcap"
	expect_clean "$c 1.6 names"
	run_check objects "$exp" "$TMP/$c-16" 16
	run_tf "$c-16Z" -Z -S http -S gzip -S http_names=1.6 -o "$TMP/$c-16Z" -r "$DATA/$c.pcap"
	expect_clean "$c 1.6 names, -Z"
	run_check objects "$exp" "$TMP/$c-16Z" 16Z
done
if [ -x /usr/bin/tcpflow ] && /usr/bin/tcpflow -V 2>&1 | grep -q '1\.6'; then
	# where 1.6 is right: the same body names and bytes (1.6 writes response
	# bodies only; its bugs with HEAD, raw deflate and holes are not copied)
	caps="$DATA/keepalive.pcap $DATA/ipv4-http.pcap $DATA/ipv6-http.pcap $DATA/http-reorder.pcap"
	if [ -d "${CORPUS:-}" ]; then
		for f in http/tcpflow-test1.pcap http-gzip/tcpflow-test-gzip.pcap \
			http/zeek-http-pipelined-requests.pcap http-post/zeek-http-100-continue.pcap; do
			[ -f "$CORPUS/$f" ] && caps="$caps $CORPUS/$f"
		done
	fi
	for cap in $caps; do
		b=$(basename "$cap")
		mkdir -p "$TMP/v16-$b"
		(cd "$TMP/v16-$b" && /usr/bin/tcpflow -e http -o . -r "$cap" >/dev/null 2>&1)
		run_tf "ours16-$b" -S http -S http_names=1.6 -o "$TMP/ours16-$b" -r "$cap"
		want=$(cd "$TMP/v16-$b" && md5sum -- *-HTTPBODY-* 2>/dev/null | sort)
		got=$(cd "$TMP/ours16-$b" && md5sum -- *-HTTPBODY-* 2>/dev/null | sort | grep -F -f <(echo "$want" | awk '{print $2}') || true)
		if [ -n "$want" ] && [ "$want" = "$got" ]; then
			ok "1.6 names on $b: the $(echo "$want" | wc -l) bodies of tcpflow 1.6.1, same names and bytes"
		else
			fail "1.6 names on $b equal tcpflow 1.6.1's" "$(echo "$want" | tr '\n' ' ' | cut -c1-300)" "$(echo "$got" | tr '\n' ' ' | cut -c1-300)"
		fi
		# captures without uploads: nothing 1.6 does not write either
		case $b in keepalive.pcap | ipv4-http.pcap | ipv6-http.pcap | http-reorder.pcap)
			extra=$(cd "$TMP/ours16-$b" && ls | grep -- '-HTTPBODY-' | grep -vxF -f <(echo "$want" | awk '{print $2}') || true)
			check_eq "1.6 names on $b: no other body files" "" "$extra" ;;
		esac
	done
else
	note "Debian's tcpflow 1.6.1 is not /usr/bin/tcpflow: 1.6 comparison skipped"
fi

# ---- 4. -Z, -FX ---------------------------------------------------------------------------
run_tf noz -a -Z -o "$TMP/noz" -r "$DATA/http-objects.pcap"
expect_clean "-a -Z"
check_eq "-Z: no decoded file" 0 "$(ls "$TMP/noz" | grep -c GZIP)"
check_eq "-Z: no <gzip> in the report" 0 "$(xpath "$TMP/noz/report.xml" "count(//*[local-name()='gzip'])")"
run_tf fx -S http -S gzip -S md5 -FX -o "$TMP/fx" -r "$DATA/http-objects.pcap"
expect_clean "-FX"
got=$(xpath "$TMP/fx/report.xml" "//*[local-name()='fileobject'][*[local-name()='derived']]/*[local-name()='hashdigest']/text()" | sort | tr '\n' ' ')
want=$(xpath "$TMP/http-objects/report.xml" "//*[local-name()='fileobject'][*[local-name()='derived']]/*[local-name()='hashdigest']/text()" | sort | tr '\n' ' ')
check_eq "-FX: the same objects (MD5s) in the report, without files" "$want" "$got"
check_eq "-FX: no files" "report.xml" "$(ls "$TMP/fx")"

# ---- 5. http_alert_fd, http_cmd -----------------------------------------------------------
cat >"$TMP/cmd.sh" <<'EOF'
#!/bin/sh
echo "$1" >>"$(dirname "$0")/cmd.log"
EOF
chmod +x "$TMP/cmd.sh"
timeout -k 5 "$TF_TIMEOUT" "$TCPFLOW" -S http -S http_alert_fd=3 -S http_cmd="$TMP/cmd.sh" \
	-o "$TMP/alert" -r "$DATA/http-objects.pcap" 3>"$TMP/alerts.txt" 2>"$TMP/alert.err"
RC=$?
check_eq "http_alert_fd: exit status" 0 "$RC"
bodies=$(cd "$TMP/alert" && ls | grep -c -- '-HTTPBODY')
check_eq "http_alert_fd: one open line per body file" "$bodies" "$(grep -c '^open	' "$TMP/alerts.txt")"
check_eq "http_alert_fd: one close line per body file" "$bodies" "$(grep -c '^close	' "$TMP/alerts.txt")"
missing=$(cut -f2 "$TMP/alerts.txt" | while read -r p; do [ -f "$p" ] || echo "$p"; done)
check_eq "http_alert_fd: the paths are the body files" "" "$missing"
check_eq "http_cmd: run once per body file" "$bodies" "$(sort -u "$TMP/cmd.log" 2>/dev/null | wc -l | tr -d ' ')"
check_eq "http_cmd: with the body file's path" "$(grep '^close' "$TMP/alerts.txt" | cut -f2 | sort)" "$(sort "$TMP/cmd.log" 2>/dev/null)"
run_tf badfd -S http -S http_alert_fd=97 -o "$TMP/never" -r "$DATA/http-objects.pcap"
check_eq "http_alert_fd on a closed descriptor: exit status" 2 "$RC"
if grep -q 'http_alert_fd=97' "$RUN_ERR"; then ok "http_alert_fd on a closed descriptor: named"; else fail "http_alert_fd on a closed descriptor: named" "a message" "$(cat "$RUN_ERR")"; fi
run_tf badnames -S http -S http_names=2.0 -o "$TMP/never" -r "$DATA/http-objects.pcap"
check_eq "http_names=2.0: refused (exit 2)" 2 "$RC"

# ---- 6. a 10 MiB gzip body, a decompression bomb ---------------------------------------
if "$PYTHON3" "$TOP_SRCDIR/tests/gen_http_big.py" "$TMP/big"; then
	run_tf big -S http -S gzip -S md5 -o "$TMP/bigout" -r "$TMP/big/big.pcap"
	expect_clean "10 MiB gzip body"
	run_check objects "$TMP/big/big.expect" "$TMP/bigout" gzip
	run_check report "$TMP/bigout"
	# the same bytes when every write is made by the packet loop
	run_tf big-sync -S background_writes=NO -S http -S gzip -S md5 -o "$TMP/bigsync" \
		-r "$TMP/big/big.pcap"
	expect_clean "10 MiB gzip body, -S background_writes=NO"
	if (cd "$TMP/bigout" && md5sum $(ls | grep -v report.xml)) >"$TMP/bg.md5" &&
	   (cd "$TMP/bigsync" && md5sum $(ls | grep -v report.xml)) >"$TMP/sync.md5" &&
	   [ -s "$TMP/bg.md5" ] && cmp -s "$TMP/bg.md5" "$TMP/sync.md5"; then
		ok "background_writes=NO: the same $(wc -l <"$TMP/bg.md5") files, byte for byte"
	else
		fail "background_writes=NO: the same files" "identical listings and MD5s" \
			"$(diff "$TMP/bg.md5" "$TMP/sync.md5" | head -n 4 | tr '\n' ' ')"
	fi
	run_tf bomb -S http -S gzip -S md5 -o "$TMP/bombout" -r "$TMP/big/bomb.pcap"
	expect_clean "decompression bomb"
	sname=010.000.000.001.00080-192.168.001.002.47000
	size=$(size_of "$TMP/bombout/$sname-HTTPBODY-GZIP" 2>/dev/null || echo 0)
	if [ "${size:-0}" -gt 0 ] && [ "$size" -le $((2 << 20)) ]; then
		ok "decompression bomb: stopped after $size bytes of 256 MiB"
	else
		fail "decompression bomb: stopped early" "1 to 2 MiB written" "$size"
	fi
	status=$(xpath "$TMP/bombout/report.xml" "string($(xp_fileobject "$sname-HTTPBODY")/*[local-name()='gzip']/@status)")
	case $status in
	stopped*ratio*) ok "decompression bomb: reported ($status)" ;;
	*) fail "decompression bomb: reported in the body's entry" "status='stopped: expansion ratio ...'" "'$status'" ;;
	esac
	if grep -q 'decompression bomb' "$RUN_ERR"; then ok "decompression bomb: a warning"; else fail "decompression bomb: a warning" "a line on stderr" "$(head -c 300 "$RUN_ERR")"; fi
	run_tf bomb-cap -S http -S gzip -S gzip_max_ratio=0 -S gzip_max_size=3m -o "$TMP/bombcap" -r "$TMP/big/bomb.pcap"
	check_eq "gzip_max_size=3m: output capped at 3 MiB" $((3 << 20)) "$(size_of "$TMP/bombcap/$sname-HTTPBODY-GZIP")"
else
	fail "tests/gen_http_big.py runs" "exit 0" "failed"
fi

# ---- 7. the corpus ------------------------------------------------------------------------
if [ -n "${CORPUS:-}" ] && [ -d "$CORPUS" ]; then
	# the HTTP captures, HTTP over IPv6, and 18 MiB of keep-alive gzip,
	# chunked and POST traffic
	for cap in "$CORPUS"/http*/* "$CORPUS"/ipv6/* \
		"$CORPUS"/large/generated-loopback-http-keepalive-gzip-chunked.pcap; do
		[ -f "$cap" ] || continue
		b=$(basename "$cap")
		run_tf "corpus-$b" -S http -S gzip -S md5 -o "$TMP/c-$b" -r "$cap"
		expect_clean "corpus $b"
		if xmllint --noout "$TMP/c-$b/report.xml" 2>/dev/null; then
			n=$(ls "$TMP/c-$b" | grep -c -- '-HTTP' || true)
			if [ "$n" -gt 0 ]; then
				run_check report "$TMP/c-$b"
			else
				note "corpus $b: no HTTP object"
			fi
		else
			fail "corpus $b: report well-formed" "xmllint passes" "$(xmllint --noout "$TMP/c-$b/report.xml" 2>&1 | head -n 1)"
		fi
		# tshark's objects, found by MD5 (pieces cut by holes: by content)
		holes=$(xpath "$TMP/c-$b/report.xml" "count(//*[local-name()='tcpflow']/../*[local-name()='gaps'])")
		run_check tshark "$cap" "$TMP/c-$b" "${holes:-0}"
	done
else
	note "SKIP: corpus not found (CORPUS=${CORPUS:-unset}): corpus captures not checked"
fi

tf_finish
