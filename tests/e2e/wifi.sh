#!/bin/bash
# End-to-end: the wifi-stats scanner (SPEC section 5).
#  1. tests/data/wifi-stats.pcap (tests/gen_captures.py, case wifi_stats):
#     every network (BSSID, SSID, channel, encryption, beacons, probe
#     responses, data frames, stations, signal min/mean/max), every station
#     (network, frames sent and received, probe requests, probed SSIDs,
#     signal), the frame counts by type and subtype, the bad-FCS frame, the
#     malformed element and the overall signal are what the `wifi-*` records
#     of wifi-stats.expect say: in report.xml (<wifi>) and in wifi-stats.txt.
#  2. check_fcs=NO counts the bad-FCS beacon; wifi_max_devices bounds the
#     tables; a bad wifi_max_devices is refused (exit 2, one line).
#  3. A capture without 802.11: <wifi frames="0">, no wifi-stats.txt.
#     -a enables wifi-stats (and netviz).
#  4. The corpus wifi/ captures ($CORPUS/wifi, read in place): exit 0, a
#     well-formed report, every packet accounted for (frames + bad FCS +
#     malformed + other versions = packets = capinfos' count) and, with
#     tshark, the same frame counts by type/subtype and the same beacon
#     counts and SSIDs per BSSID as tshark.
#  5. Truncation: the capture cut at every byte offset (replayed in process
#     by tests/fuzz/replay_wifi, the scanner's fuzz target), and every packet
#     at every length (one capture per input, records with caplen 0..len):
#     tcpflow -S wifi-stats -S netviz and replay_wifi run clean on them. In
#     an --enable-sanitizers build this is the ASan/UBSan check.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

if ! command -v xmllint >/dev/null 2>&1; then
	echo "xmllint not found (apt-get install libxml2-utils): skipped"
	exit 77
fi
if [ -z "$PYTHON3" ]; then
	echo "python3 not found: skipped"
	exit 77
fi
BUILDDIR=$(dirname "$TCPFLOW")
EXP="$DATA/wifi-stats.expect"
CAP="$DATA/wifi-stats.pcap"
REPLAY="$BUILDDIR/tests/fuzz/replay_wifi"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=99"

W="//*[local-name()='wifi']"

# wattr REPORT XPATH: the string value of XPATH
wattr() {
	xpath "$1" "string($2)"
}

# ---- 1. known values ---------------------------------------------------------
run_tf known -S wifi-stats -o "$TMP/known" -r "$CAP"
check_eq "wifi-stats.pcap: exit status" 0 "$RC"
[ "$RC" = 0 ] || show_stderr
REP="$TMP/known/report.xml"
if xmllint --noout "$REP" 2>/dev/null; then
	ok "report.xml is well-formed"
else
	fail "report.xml is well-formed" "xmllint passes" "$(head -c 200 "$REP" 2>&1)"
fi
check_eq "one <wifi> summary" 1 "$(xpath "$REP" "count($W)")"
TXT="$TMP/known/wifi-stats.txt"
[ -f "$TXT" ] && ok "wifi-stats.txt written" || fail "wifi-stats.txt written" "a file" "missing"

# check_known REPORT LABEL: every wifi-* record of the expectation
check_known() {
	local rep=$1 label=$2 kind a b c d e f g h i j rest net sta n nframes=0 nnets=0 nstas=0
	while read -r kind a b c d e f g h i j rest; do
		case $kind in
		wifi-frames)
			check_eq "$label: frames total/management/control/data/extension" "$a $b $c $d $e" \
				"$(wattr "$rep" "$W/*[local-name()='frames']/@total") $(wattr "$rep" "$W/*[local-name()='frames']/@management") $(wattr "$rep" "$W/*[local-name()='frames']/@control") $(wattr "$rep" "$W/*[local-name()='frames']/@data") $(wattr "$rep" "$W/*[local-name()='frames']/@extension")"
			;;
		wifi-bad-fcs)
			check_eq "$label: frames with a bad FCS" "$a" "$(wattr "$rep" "$W/*[local-name()='frames']/@bad_fcs")"
			;;
		wifi-malformed-elements)
			check_eq "$label: frames with malformed elements" "$a" \
				"$(wattr "$rep" "$W/*[local-name()='frames']/@malformed_elements")"
			;;
		wifi-signal)
			check_eq "$label: signal min/mean/max" "$a $b $c" \
				"$(wattr "$rep" "$W/*[local-name()='signal']/@min") $(wattr "$rep" "$W/*[local-name()='signal']/@mean") $(wattr "$rep" "$W/*[local-name()='signal']/@max")"
			;;
		wifi-frame)
			nframes=$((nframes + 1))
			check_eq "$label: $a frames of subtype $b" "$c" \
				"$(wattr "$rep" "$W//*[local-name()='frame'][@type='$a'][@subtype='$b']/@count")"
			;;
		wifi-network)
			nnets=$((nnets + 1))
			net="$W//*[local-name()='network'][@bssid='$a']"
			check_eq "$label: network $a listed once" 1 "$(xpath "$rep" "count($net)")"
			check_eq "$label: network $a: SSID" "$rest" "$(wattr "$rep" "$net/@ssid")"
			check_eq "$label: network $a: channel, encryption" "$b $c" \
				"$(wattr "$rep" "$net/@channel") $(wattr "$rep" "$net/@encryption")"
			check_eq "$label: network $a: beacons, probe responses, data frames, stations" \
				"$d $e $f $g" \
				"$(wattr "$rep" "$net/@beacons") $(wattr "$rep" "$net/@probe_responses") $(wattr "$rep" "$net/@data_frames") $(wattr "$rep" "$net/@stations")"
			check_eq "$label: network $a: signal min/mean/max" "$h $i $j" \
				"$(wattr "$rep" "$net/*[local-name()='signal']/@min") $(wattr "$rep" "$net/*[local-name()='signal']/@mean") $(wattr "$rep" "$net/*[local-name()='signal']/@max")"
			;;
		wifi-station)
			nstas=$((nstas + 1))
			sta="$W//*[local-name()='station'][@mac='$a']"
			[ "$b" = - ] && b=
			check_eq "$label: station $a listed once" 1 "$(xpath "$rep" "count($sta)")"
			check_eq "$label: station $a: network, sent, received, probe requests" \
				"$b $c $d $e" \
				"$(wattr "$rep" "$sta/@bssid") $(wattr "$rep" "$sta/@frames_sent") $(wattr "$rep" "$sta/@frames_received") $(wattr "$rep" "$sta/@probe_requests")"
			check_eq "$label: station $a: signal min/mean/max" "$f $g $h" \
				"$(wattr "$rep" "$sta/*[local-name()='signal']/@min") $(wattr "$rep" "$sta/*[local-name()='signal']/@mean") $(wattr "$rep" "$sta/*[local-name()='signal']/@max")"
			n=$(xpath "$rep" "count($sta/*[local-name()='probed'])")
			local probed="" k
			for k in $(seq 1 "${n:-0}"); do
				probed="$probed${probed:+,}$(wattr "$rep" "($sta/*[local-name()='probed'])[$k]/@ssid")"
			done
			check_eq "$label: station $a: probed SSIDs" "$i" "$probed"
			;;
		esac
	done <"$EXP"
	check_eq "$label: no other frame subtypes" "$nframes" "$(xpath "$rep" "count($W//*[local-name()='frame'])")"
	check_eq "$label: no other networks" "$nnets" "$(xpath "$rep" "count($W//*[local-name()='network'])")"
	check_eq "$label: no other stations" "$nstas" "$(xpath "$rep" "count($W//*[local-name()='station'])")"
}
check_known "$REP" "wifi-stats.pcap"

# the text file: one line per network with BSSID, channel, encryption, beacons, SSID
while read -r kind a b c d e f g h i j rest; do
	[ "$kind" = wifi-network ] || continue
	ssid=$rest
	if grep -qE "^$a +$b +$c +[^ ]+ +$d +$e +$f +$g .* ${ssid}( \(hidden\))?\$" "$TXT"; then
		ok "wifi-stats.txt: network $a ($ssid, channel $b, $c, $d beacons)"
	else
		fail "wifi-stats.txt: network $a" "a line '$a $b $c ... $d $e $f $g ... $ssid'" \
			"$(grep "^$a" "$TXT" || echo none)"
	fi
done <"$EXP"
for s in $(awk '$1 == "wifi-station" { print $2 }' "$EXP"); do
	grep -q "^$s " "$TXT" && ok "wifi-stats.txt: station $s" ||
		fail "wifi-stats.txt: station $s" "a line" "none"
done

# ---- 2. check_fcs=NO, wifi_max_devices ----------------------------------------
run_tf nofcs -S wifi-stats -S check_fcs=NO -o "$TMP/nofcs" -r "$CAP"
check_eq "check_fcs=NO: exit status" 0 "$RC"
N2=$(awk '$1 == "wifi-network" && $2 == "02:22:22:22:22:02" { print $5 }' "$EXP")
check_eq "check_fcs=NO: the bad-FCS beacon counts" "0 $((N2 + 1))" \
	"$(wattr "$TMP/nofcs/report.xml" "$W/*[local-name()='frames']/@bad_fcs") $(wattr "$TMP/nofcs/report.xml" "$W//*[local-name()='network'][@bssid='02:22:22:22:22:02']/@beacons")"

run_tf maxdev -S wifi-stats -S wifi_max_devices=2 -o "$TMP/maxdev" -r "$CAP"
check_eq "wifi_max_devices=2: exit status" 0 "$RC"
check_eq "wifi_max_devices=2: 2 networks, 2 stations at most" "2 true" \
	"$(xpath "$TMP/maxdev/report.xml" "count($W//*[local-name()='network'])") $(xpath "$TMP/maxdev/report.xml" "count($W//*[local-name()='station']) <= 2")"
check_eq "wifi_max_devices=2: frames are still all counted" \
	"$(awk '$1 == "wifi-frames" { print $2 }' "$EXP")" \
	"$(wattr "$TMP/maxdev/report.xml" "$W/*[local-name()='frames']/@total")"
n=$(wattr "$TMP/maxdev/report.xml" "$W/*[local-name()='frames']/@untracked_devices")
[ "${n:-0}" -gt 0 ] 2>/dev/null && ok "wifi_max_devices=2: devices past the limit counted ($n)" ||
	fail "wifi_max_devices=2: devices past the limit counted" "> 0" "'$n'"

run_tf badmax -S wifi-stats -S wifi_max_devices=lots -o "$TMP/never" -r "$CAP"
check_eq "wifi_max_devices=lots: exit status" 2 "$RC"
check_eq "wifi_max_devices=lots: one line naming the parameter" "1 1" \
	"$(wc -l <"$RUN_ERR" | tr -d ' ') $(grep -c wifi_max_devices "$RUN_ERR")"

# ---- 3. no 802.11; -a ---------------------------------------------------------------
run_tf ether -S wifi-stats -o "$TMP/ether" -r "$DATA/ipv4-http.pcap"
check_eq "Ethernet capture: exit status" 0 "$RC"
check_eq "Ethernet capture: <wifi frames='0'>" 0 "$(wattr "$TMP/ether/report.xml" "$W/@frames")"
[ ! -e "$TMP/ether/wifi-stats.txt" ] && ok "Ethernet capture: no wifi-stats.txt" ||
	fail "Ethernet capture: no wifi-stats.txt" "none" "a file"

run_tf all -a -o "$TMP/all" -r "$CAP"
check_eq "-a: exit status" 0 "$RC"
[ -f "$TMP/all/wifi-stats.txt" ] && [ -f "$TMP/all/report.pdf" ] &&
	ok "-a: wifi-stats.txt and report.pdf (wifi-stats and netviz are built in)" ||
	fail "-a: wifi-stats and netviz run" "wifi-stats.txt and report.pdf" "$(ls "$TMP/all" | tr '\n' ' ')"
"$TCPFLOW" -H >"$TMP/H.txt" 2>&1
for s in wifi-stats netviz; do
	grep -qE "^$s [0-9.]+ \(built-in\)" "$TMP/H.txt" && ok "-H lists $s as built-in" ||
		fail "-H lists $s as built-in" "a line '$s VERSION (built-in)'" "$(grep "^$s" "$TMP/H.txt")"
done

# ---- 4. the corpus captures ------------------------------------------------------
if [ -n "${CORPUS:-}" ] && [ -d "$CORPUS/wifi" ]; then
	for f in "$CORPUS"/wifi/*; do
		b=$(basename "$f")
		run_tf "corpus-$b" -S wifi-stats -o "$TMP/c-$b" -r "$f"
		check_eq "$b: exit status" 0 "$RC"
		[ "$RC" = 0 ] || { show_stderr; continue; }
		r="$TMP/c-$b/report.xml"
		xmllint --noout "$r" 2>/dev/null && ok "$b: report well-formed" ||
			fail "$b: report well-formed" "xmllint passes" "no"
		fr="$W/*[local-name()='frames']"
		acc=$(xpath "$r" "$fr/@total + $fr/@bad_fcs + $fr/@malformed + $fr/@other_version")
		check_eq "$b: every packet accounted for (frames + bad FCS + malformed + other)" \
			"$(wattr "$r" "$fr/@packets")" "$acc"
		if command -v capinfos >/dev/null 2>&1; then
			check_eq "$b: packets = capinfos' count" \
				"$(capinfos -M -c "$f" 2>/dev/null | awk -F: '/Number of packets/ { gsub(/ /, "", $2); print $2 }')" \
				"$(wattr "$r" "$fr/@packets")"
		fi
		if have_tshark; then
			want=$(tshark -n -r "$f" -T fields -e wlan.fc.type_subtype 2>/dev/null |
				"$PYTHON3" -c '
import collections, sys
n = collections.Counter(int(l, 0) for l in sys.stdin.read().split())
for k, c in n.items():
    print("%d:%d:%d" % (k // 16, k % 16, c))' | sort)
			got=$(xmllint --xpath "$W//*[local-name()='frame']" "$r" 2>/dev/null |
				"$PYTHON3" -c '
import re, sys
names = {"management": 0, "control": 1, "data": 2, "extension": 3}
for m in re.finditer(r"<frame type=\"(\w+)\" subtype=\"(\d+)\"[^>]*count=\"(\d+)\"", sys.stdin.read()):
    print("%d:%s:%s" % (names[m.group(1)], m.group(2), m.group(3)))' | sort)
			check_eq "$b: frame counts by type:subtype equal tshark's" "$(echo $want)" "$(echo $got)"
			want=$(tshark -n -r "$f" -Y 'wlan.fc.type_subtype == 0x0008' -T fields -e wlan.bssid 2>/dev/null |
				sort | uniq -c | awk '{ print $2 "=" $1 }' | tr '\n' ' ')
			got=""
			for bs in $(tshark -n -r "$f" -Y 'wlan.fc.type_subtype == 0x0008' -T fields -e wlan.bssid 2>/dev/null | sort -u); do
				got="$got$bs=$(wattr "$r" "$W//*[local-name()='network'][@bssid='$bs']/@beacons") "
			done
			check_eq "$b: beacons per BSSID equal tshark's" "$want" "$got"
			for bs in $(tshark -n -r "$f" -Y 'wlan.fc.type_subtype == 0x0008' -T fields -e wlan.bssid 2>/dev/null | sort -u); do
				hex=$(tshark -n -r "$f" -Y "wlan.fc.type_subtype == 0x0008 && wlan.bssid == $bs" -T fields -e wlan.ssid 2>/dev/null | head -n 1)
				want=$(printf '%s' "$hex" | "$PYTHON3" -c 'import sys, binascii; s = sys.stdin.read().strip(); print(binascii.unhexlify(s).decode("latin-1") if all(c in "0123456789abcdef" for c in s) and len(s) % 2 == 0 else s)')
				check_eq "$b: SSID of $bs equals tshark's" "$want" "$(wattr "$r" "$W//*[local-name()='network'][@bssid='$bs']/@ssid")"
			done
		fi
	done
else
	note "no corpus (CORPUS=${CORPUS:-unset}): corpus wifi captures skipped"
fi

# ---- 5. truncation ------------------------------------------------------------------
# mk_sweep IN OUT [MAXALL STEP]: every record of IN at every length 0..caplen
# (lengths above MAXALL only every STEP bytes), wirelen kept
mk_sweep() {
	"$PYTHON3" - "$@" <<'PYEOF'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
maxall = int(sys.argv[3]) if len(sys.argv) > 3 else 1 << 30
step = int(sys.argv[4]) if len(sys.argv) > 4 else 1
b = open(src, "rb").read()
magic = b[:4]
e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
out = [b[:24]]
off, n = 24, 0
while off + 16 <= len(b):
    sec, usec, cap, wire = struct.unpack(e + "IIII", b[off:off + 16])
    frame = b[off + 16:off + 16 + cap]
    off += 16 + cap
    for k in range(len(frame) + 1):
        if k > maxall and k % step and k != len(frame):
            continue
        out.append(struct.pack(e + "IIII", sec, usec, k, max(wire, k)) + frame[:k])
        n += 1
open(dst, "wb").write(b"".join(out))
print(n)
PYEOF
}

sweeps=("$CAP")
if [ -n "${CORPUS:-}" ] && [ -d "$CORPUS/wifi" ]; then
	for f in "$CORPUS"/wifi/*; do
		sweeps+=("$f")
	done
fi
for f in "${sweeps[@]}"; do
	b=$(basename "$f")
	sz=$(size_of "$f")
	if [ "$sz" -gt 20000 ]; then
		n=$(mk_sweep "$f" "$TMP/sweep-$b" 160 23)
	else
		n=$(mk_sweep "$f" "$TMP/sweep-$b")
	fi
	run_tf "sweep-$b" -S wifi-stats -S netviz -S netviz_format=pdf,png,svg -o "$TMP/s-$b" -r "$TMP/sweep-$b"
	check_eq "$b, every packet at every length ($n records): tcpflow exit status" 0 "$RC"
	[ "$RC" = 0 ] || show_stderr
	if grep -qE 'ERROR: AddressSanitizer|runtime error' "$RUN_ERR"; then
		fail "$b, every packet at every length: no sanitizer report" "none" "$(grep -m1 -E 'ERROR|runtime error' "$RUN_ERR")"
	fi
	xmllint --noout "$TMP/s-$b/report.xml" 2>/dev/null && ok "$b, every length: report well-formed" ||
		fail "$b, every length: report well-formed" "xmllint passes" "no"
	if [ -x "$REPLAY" ]; then
		if "$REPLAY" "$TMP/sweep-$b" >"$TMP/replay-$b.log" 2>&1; then
			ok "$b, every packet at every length: replay_wifi runs clean"
		else
			fail "$b, every packet at every length: replay_wifi runs clean" "exit 0" \
				"$(grep -m3 -E 'ERROR|runtime error|abort' "$TMP/replay-$b.log")"
		fi
	fi
done

# the capture cut at every byte offset: one input per offset, in process
if [ -x "$REPLAY" ]; then
	mkdir -p "$TMP/cuts"
	"$PYTHON3" - "$CAP" "$TMP/cuts" <<'PYEOF'
import os, sys
b = open(sys.argv[1], "rb").read()
for k in range(len(b) + 1):
    with open(os.path.join(sys.argv[2], "cut-%06d" % k), "wb") as f:
        f.write(b[:k])
PYEOF
	if "$REPLAY" "$TMP/cuts" >"$TMP/replay-cuts.log" 2>&1; then
		ok "wifi-stats.pcap cut at each of its $(($(size_of "$CAP") + 1)) byte offsets: replay_wifi runs clean"
	else
		fail "wifi-stats.pcap cut at every byte offset: replay_wifi runs clean" "exit 0" \
			"$(grep -m3 -E 'ERROR|runtime error|abort|replay:' "$TMP/replay-cuts.log" | tail -n 3)"
	fi
	rm -rf "$TMP/cuts"
	# and through tcpflow at a few offsets inside the records of the last frames
	sz=$(size_of "$CAP")
	bad=0
	for k in $(seq $((sz - 400)) 37 "$sz"); do
		head -c "$k" "$CAP" >"$TMP/cut.pcap"
		run_tf "cut-$k" -S wifi-stats -o "$TMP/cut-$k" -r "$TMP/cut.pcap"
		if [ "$RC" != 0 ] || ! xmllint --noout "$TMP/cut-$k/report.xml" 2>/dev/null; then
			fail "wifi-stats.pcap cut at $k bytes: tcpflow exit 0, report well-formed" "0" "$RC"
			bad=1
		fi
		rm -rf "$TMP/cut-$k"
	done
	[ "$bad" = 0 ] && ok "wifi-stats.pcap cut inside its last records: tcpflow exit 0, reports well-formed"
else
	note "$REPLAY not built (make check builds it): byte-offset cuts skipped"
fi

tf_finish
