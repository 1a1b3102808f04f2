#!/bin/bash
# End-to-end: console output (-c -C -0 -s -B -D -J -g). Console output is the
# reassembled stream in order: checked by printing one direction raw (-C -B
# -0 with a filter) and by rebuilding every flow from the JSON lines, against
# the generator's expectations; formats are compared with tcpflow 1.6.1 where
# it is right.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

# ---- the raw stream of one direction is the flow file --------------------------------
# (reorder.pcap: segments out of order in both directions; dup/overlap: retransmissions)
for c in keepalive reorder dup overlap wrap; do
	while read -r name md5 len; do
		sport=${name%%-*}
		sport=$((10#${sport##*.}))
		run_tf "raw-$c" -C -B -0 -r "$DATA/$c.pcap" "tcp src port $sport"
		check_eq "-C -B -0 $c.pcap, src port $sport: stdout is the stream ($len bytes)" "$md5" \
			"$(md5sum <"$RUN_OUT" | cut -d' ' -f1)"
	done < <(expect_flows "$DATA/$c.expect")
done
check_eq "console mode: no flow files, only the report" "report.xml" "$(ls "$TMP" | grep -v '^run')"
if [ -f "$TMP/report.xml" ]; then
	check_eq "console mode: the report still lists the flows" 1 \
		"$(xpath "$TMP/report.xml" "count(//*[local-name()='fileobject'])")"
fi

# ---- JSON lines: every flow rebuilt from its pieces, in order, IPv6 too ----------------
rebuild() {
	"$PYTHON3" - "$1" "$2" <<'PYEOF'
import base64, hashlib, ipaddress, json, sys
lines, exp = sys.argv[1], sys.argv[2]
want = {}
for l in open(exp):
    f = l.split()
    if f and f[0] == "flow":
        want[f[1]] = (f[2], int(f[3]))
flows, ends, errors = {}, {}, []
for n, l in enumerate(open(lines, encoding="utf-8"), 1):
    o = json.loads(l)
    for k in ("src_host", "dst_host"):
        ipaddress.ip_address(o[k])          # a real address, v4 or v6
    if not (0 < o["src_port"] < 65536 and 0 < o["dst_port"] < 65536):
        errors.append("line %d: bad port" % n)
    if "payload" in o:
        data = o["payload"].encode("utf-8")
    else:
        data = base64.b64decode(o["payload_base64"], validate=True)
    if len(data) != o["length"]:
        errors.append("line %d: length %d, payload %d bytes" % (n, o["length"], len(data)))
    name = o["flow"]
    if o["offset"] < ends.get(name, 0):
        errors.append("line %d: %s out of order (offset %d before %d)" % (n, name, o["offset"], ends[name]))
    buf = flows.setdefault(name, bytearray())
    if len(buf) < o["offset"]:
        buf.extend(b"\0" * (o["offset"] - len(buf)))   # a hole stays zeros
    buf[o["offset"]:o["offset"] + len(data)] = data
    ends[name] = o["offset"] + len(data)
for name, (md5, length) in sorted(want.items()):
    got = flows.get(name)
    if got is None:
        errors.append("%s: no JSON line" % name)
        continue
    got = bytes(got) + b"\0" * (length - len(got))      # a hole at the end
    if hashlib.md5(got).hexdigest() != md5:
        errors.append("%s: rebuilt %d bytes, md5 %s; expected %s" % (name, len(got), hashlib.md5(got).hexdigest(), md5))
for name in flows:
    if name not in want:
        errors.append("%s: not an expected flow" % name)
print("; ".join(errors[:3]) if errors else "ok")
PYEOF
}
if [ -n "$PYTHON3" ]; then
	n=0
	for exp in "$DATA"/*.expect; do
		c=$(basename "$exp" .expect)
		# bytes that arrive after the ones behind them were printed (a
		# mid-stream start filled in front) cannot be printed in order
		[ "$c" = midstream ] && continue
		caps=()
		for f in $(expect_captures "$exp"); do caps+=(-r "$DATA/$f"); done
		run_tf "json-$c" -J "${caps[@]}"
		[ "$RC" = 0 ] || { fail "-J $c: exit status" 0 "$RC"; continue; }
		res=$(rebuild "$RUN_OUT" "$exp" 2>&1)
		if [ "$res" = ok ]; then
			n=$((n + 1))
		else
			fail "-J $c: every flow rebuilt from its JSON lines, in order" ok "$res"
		fi
	done
	ok "-J: $n captures, every flow rebuilt byte for byte from its pieces (in order, holes as gaps)"
	run_tf json-v6 -J -r "$DATA/ipv6-http.pcap"
	if grep -q '"src_host":"2001:db8::1","src_port":1234,"dst_host":"2001:db8::2","dst_port":80' "$RUN_OUT"; then
		ok "-J IPv6: addresses in their text form"
	else
		fail "-J IPv6: addresses in their text form" '"src_host":"2001:db8::1",...' "$(head -c 200 "$RUN_OUT")"
	fi
	grep -q '"payload":"GET /file.bin HTTP/1.1\\r\\nHost: ' "$RUN_OUT" &&
		ok "-J: text as a JSON string" || fail "-J: text as a JSON string" '"payload":"GET ...\r\n' \
		"$(head -c 300 "$RUN_OUT")"
	grep -q '"payload_base64":"' "$RUN_OUT" && ok "-J: binary bytes in base64" ||
		fail "-J: binary bytes in base64" '"payload_base64"' "none"
	# -b: at most N bytes of each flow are printed
	run_tf json-b -J -b 100 -r "$DATA/keepalive.pcap"
	max=$("$PYTHON3" -c '
import json, sys, collections
t = collections.Counter()
for l in open(sys.argv[1]):
    o = json.loads(l); t[o["flow"]] += o["length"]
print(max(t.values()), len(t))' "$RUN_OUT")
	check_eq "-J -b 100: 100 bytes of each of the 2 flows" "100 2" "$max"
fi

# ---- formats --------------------------------------------------------------------------------
K=192.168.001.002.40000-010.000.000.001.08080
run_tf c -c -r "$DATA/keepalive.pcap"
C_OUT=$RUN_OUT
check_eq "-c: the first line" "$K: GET /obj0 HTTP/1.1"$'\r' "$(head -n 1 "$RUN_OUT")"
run_tf hex -C -D -r "$DATA/keepalive.pcap"
check_eq "-C -D: the first line" \
	"0000: 4745 5420 2f6f 626a 3020 4854 5450 2f31 2e31 0d0a 486f 7374 3a20 3130 2e30 2e30  GET /obj0 HTTP/1.1..Host: 10.0.0" \
	"$(head -n 1 "$RUN_OUT")"
run_tf hex-only -D -r "$DATA/keepalive.pcap"
check_eq "-D alone: 'NAME: ' then the dump" "$K: |0000: 4745 5420" \
	"$(head -n 2 "$RUN_OUT" | cut -c1-70 | sed -n '1p;2s/^\(.\{15\}\).*/\1/p' | tr '\n' '|' | sed 's/|$//')"
run_tf strip -C -0 -r "$DATA/ipv4-http.pcap" 'tcp src port 80'
check_eq "-C (non-printables as '.'): same length as the stream" 9103 "$(size_of "$RUN_OUT")"
check_eq "-C: only printable bytes, CR and LF" 0 "$(LC_ALL=C tr -d '\040-\176\r\n' <"$RUN_OUT" | wc -c)"
run_tf strip-s -C -0 -s -r "$DATA/ipv4-http.pcap" 'tcp src port 80'
check_eq "-s: the same as the default" "$(md5_of "$TMP/run$((TF_RUNS - 1)).strip.stdout")" \
	"$(md5sum <"$RUN_OUT" | cut -d' ' -f1)"
run_tf binary -C -0 -B -r "$DATA/ipv4-http.pcap" 'tcp src port 80'
check_eq "-B: the bytes as they are" d55952873840696a080ee61abf13e1a8 "$(md5sum <"$RUN_OUT" | cut -d' ' -f1)"
server_pieces=$(grep -c '^010.000.000.001.08080-192.168.001.002.40000: ' "$C_OUT")
run_tf color -c -g -r "$DATA/keepalive.pcap"
first=$(head -n 1 "$RUN_OUT")
check_eq "-g: the first speaker in blue" $'\033[0;34m'"$K: GET" "${first:0:55}"
check_eq "-g: every piece of the other side in red" "$server_pieces" \
	"$(grep -c $'^\033\\[0;31m010.000.000.001.08080-' "$RUN_OUT")"
check_eq "-g: every piece ends the colour" "$(grep -c $'\033\\[0;3' "$RUN_OUT")" \
	"$(grep -c $'\033\\[0m$' "$RUN_OUT")"
# counters: a second connection on a 4-tuple is shown with its c0001 name
run_tf reuse -c -r "$DATA/reuse.pcap"
check_eq "-c: a reused 4-tuple is named with its counter" 2 \
	"$(grep -ac '^[0-9.-]*c0001: ' "$RUN_OUT" | awk '{ print ($1 > 0) ? 2 : 0 }')"
# -o: the name with the directory, as 1.6 shows it
run_tf outdir -c -o "$TMP/consout" -r "$DATA/keepalive.pcap"
check_eq "-c -o DIR: names with the directory" "$TMP/consout/$K: GET /obj0 HTTP/1.1"$'\r' \
	"$(head -n 1 "$RUN_OUT")"
check_eq "-c -o DIR: only the report in DIR" "report.xml" "$(ls "$TMP/consout")"
# -L: the same output, each piece printed holding the named semaphore
SEM="/tcpflow-e2e-$$"
run_tf lock -c -L "$SEM" -r "$DATA/keepalive.pcap"
check_eq "-c -L: exit status" 0 "$RC"
check_eq "-c -L: the same output as -c" "$(md5_of "$C_OUT")" "$(md5sum <"$RUN_OUT" | cut -d' ' -f1)"
# two at once into one file: every piece stays whole
("$TCPFLOW" -c -L "$SEM" -r "$DATA/many-short.pcap" -o "$TMP/l1" >>"$TMP/both.out" 2>/dev/null &
 "$TCPFLOW" -c -L "$SEM" -r "$DATA/many-short.pcap" -o "$TMP/l2" >>"$TMP/both.out" 2>/dev/null; wait)
"$TCPFLOW" -c -r "$DATA/many-short.pcap" -o "$TMP/l1" >"$TMP/one.out" 2>/dev/null
check_eq "-L: two processes, every piece whole" \
	"$(sed "s|$TMP/l1/||" "$TMP/one.out" | sort | uniq -c | awk '{ $1 = 2 * $1; print }' | md5sum)" \
	"$(sed "s|$TMP/l[12]/||" "$TMP/both.out" | sort | uniq -c | awk '{ $1 = $1; print }' | md5sum)"
rm -f "/dev/shm/sem.${SEM#/}"
run_tf lock-bad -c -L "/no/such" -r "$DATA/keepalive.pcap"
check_eq "-L with a bad name: exit status" 2 "$RC"

# a reader that goes away: quiet end
timeout 60 "$TCPFLOW" -c -r "$DATA/many-short.pcap" 2>"$TMP/epipe.err" | head -n 1 >/dev/null
check_eq "-c | head -1: exit status" 0 "${PIPESTATUS[0]}"
check_eq "-c | head -1: nothing on stderr" "" "$(cat "$TMP/epipe.err")"

# ---- the same bytes as tcpflow 1.6.1 where it is right ------------------------------------
OLD=/usr/bin/tcpflow
if [ -x "$OLD" ] && "$OLD" -V 2>&1 | grep -q 'TCPFLOW 1\.6'; then
	mkdir -p "$TMP/old" "$TMP/new"
	for opts in "-c" "-C" "-c -B" "-c -0" "-c -g" "-c -s" "-C -D" "-c -D" "-C -B -0" "-c -D -0"; do
		for c in keepalive many-short; do
			# shellcheck disable=SC2086
			(cd "$TMP/old" && "$OLD" $opts -r "$DATA/$c.pcap" >"$TMP/old.out" 2>/dev/null)
			# shellcheck disable=SC2086
			(cd "$TMP/new" && "$TCPFLOW" $opts -r "$DATA/$c.pcap" >"$TMP/new.out" 2>/dev/null)
			if cmp -s "$TMP/old.out" "$TMP/new.out"; then
				ok "$opts $c.pcap: the same output as 1.6.1 ($(size_of "$TMP/new.out") bytes)"
			else
				fail "$opts $c.pcap: the same output as 1.6.1" "$(md5_of "$TMP/old.out")" \
					"$(md5_of "$TMP/new.out") ($(cmp "$TMP/old.out" "$TMP/new.out" 2>&1 | head -n 1))"
			fi
		done
	done
else
	note "tcpflow 1.6.1 not installed: output not compared with it"
fi

tf_finish
