#!/bin/bash
# End-to-end: side files. -I writes NAME.findx (offset|sec.usec|len per run
# of stored bytes, sorted by offset), -K writes NAME.pcap (the packets of
# each flow direction, with the input's link type, readable by tshark).
# Checked against tshark's view of the same captures.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99
MKCAP="$TOP_SRCDIR/tests/e2e/mkcap.py"

# findx_ok LABEL FLOWFILE [HOLEBYTES]: NAME.findx exists, its lines are
# well-formed and sorted by offset, the runs do not overlap, stay inside the
# file, and add up to the file size minus the holes
findx_ok() {
	local label=$1 f=$2 holes=${3:-0} x="$2.findx" msg
	if [ ! -f "$x" ]; then
		fail "$label: $(basename "$x") exists" "a file" "missing"
		return
	fi
	msg=$(awk -F'|' -v size="$(size_of "$f")" -v holes="$holes" '
		!/^[0-9]+\|[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]\|[0-9]+$/ { print "bad line " NR ": " $0; exit }
		NR > 1 && $1 < last { print "line " NR " offset " $1 " before " last; exit }
		NR > 1 && $1 < end { print "line " NR " overlaps the previous run"; exit }
		{ last = $1; end = $1 + $3; sum += $3; if (end > size) { print "line " NR " past the end"; exit } }
		END { if (sum + holes != size) print "runs add up to " sum " + " holes " holes, file has " size }' "$x")
	if [ -z "$msg" ]; then
		ok "$label: $(basename "$x") sorted, inside the file, covers every stored byte"
	else
		fail "$label: $(basename "$x") is a sorted index of the file" "sorted runs adding up to the size" "$msg"
	fi
}

# ---- -I -------------------------------------------------------------------------
run_tf findx -I -o "$TMP/I" -r "$DATA/reorder.pcap"
check_eq "-I: exit status" 0 "$RC"
for f in $(list_flow_files "$TMP/I" | grep -v '\.findx$'); do
	findx_ok "-I reorder.pcap" "$TMP/I/$f"
done
grep -v '\.findx$' "$DATA/reorder.expect" >"$TMP/reorder.expect"
sed -n 's/^flow \([^ ]*\) .*/\1.findx/p' "$DATA/reorder.expect" | while read -r n; do
	echo "flow $n $(md5_of "$TMP/I/$n" 2>/dev/null) $(size_of "$TMP/I/$n" 2>/dev/null)"
done >>"$TMP/reorder.expect"
check_flows "-I: the flow files unchanged, one .findx each, nothing else" "$TMP/I" "$TMP/reorder.expect"
# every packet with payload is one run, at its sequence offset, with its time (tshark)
if have_tshark; then
	for port in 80 1111; do
		name=$(list_flow_files "$TMP/I" | grep "\.0*$port-.*\.findx$")
		tshark -n -r "$DATA/reorder.pcap" -Y "tcp.len > 0 && tcp.srcport == $port" \
			-T fields -e tcp.seq -e frame.time_epoch -e tcp.len 2>/dev/null |
			awk '{ printf "%d|%.6f|%d\n", $1 - 1, $2, $3 }' | sort -t'|' -n -k1,1 >"$TMP/want.findx"
		if cmp -s "$TMP/want.findx" "$TMP/I/$name"; then
			ok "-I: $name has every segment's offset, capture time and length (tshark)"
		else
			fail "-I: $name matches tshark's segments" "$(head -n 3 "$TMP/want.findx" | tr '\n' ' ')" \
				"$(head -n 3 "$TMP/I/$name" | tr '\n' ' ')"
		fi
	done
fi
# late bytes in front (mid-stream start) and a hole: offsets are final ones
run_tf findx-mid -I -o "$TMP/Imid" -r "$DATA/midstream.pcap" -r "$DATA/gap.pcap"
check_eq "-I midstream, gap: exit status" 0 "$RC"
for f in $(list_flow_files "$TMP/Imid" | grep -v '\.findx$'); do
	holes=$(awk -v n="$f" '$1 == "gap" && $2 == n { s += $4 } END { print s + 0 }' \
		"$DATA/midstream.expect" "$DATA/gap.expect")
	findx_ok "-I midstream/gap" "$TMP/Imid/$f" "$holes"
done
M=010.000.000.001.00080-192.168.001.002.05432
check_eq "-I midstream: the bytes that came late are at offset 0" "0|1700000000.004909|1000" \
	"$(head -n 1 "$TMP/Imid/$M.findx")"
# -b: only stored bytes are indexed
run_tf findx-b -I -b 2000 -o "$TMP/Ib" -r "$DATA/reorder.pcap"
for f in $(list_flow_files "$TMP/Ib" | grep -v '\.findx$'); do
	findx_ok "-I -b 2000" "$TMP/Ib/$f"
done
# -FX: no flow files, no side files
run_tf findx-FX -I -K -FX -o "$TMP/IFX" -r "$DATA/reorder.pcap"
check_eq "-I -K -FX: no files at all" "" "$(list_flow_files "$TMP/IFX")"

# ---- -K ------------------------------------------------------------------------------
# kcheck LABEL CAPTURE ENCAPSULATION: every direction's NAME.pcap has the
# capture's link type, tshark reads it, it holds exactly the packets of that
# direction, and tcpflow reading it back gives the same flow file
kcheck() {
	local label=$1 cap=$2 encap=$3 out="$TMP/K.$1" f n want got enc
	run_tf "K-$label" -K -o "$out" -r "$DATA/$cap"
	check_eq "-K $label: exit status" 0 "$RC"
	n=0
	for f in $(list_flow_files "$out" | grep '\.pcap$'); do
		n=$((n + 1))
		enc=$(capinfos -E "$out/$f" 2>/dev/null | sed -n 's/^File encapsulation: *//p')
		check_eq "-K $label: $f link type" "$encap" "$enc"
		# the direction: source address and port from the name
		local src=${f%%-*} sport
		sport=$((10#${src##*.}))
		src=${src%.*}
		if [[ $src == *:* ]]; then
			want=$(tshark -n -r "$DATA/$cap" -Y "ipv6.src == $src && tcp.srcport == $sport" 2>/dev/null | grep -c .)
		else
			src=$(echo "$src" | awk -F. '{ printf "%d.%d.%d.%d", $1, $2, $3, $4 }')
			want=$(tshark -n -r "$DATA/$cap" -Y "ip.src == $src && tcp.srcport == $sport" 2>/dev/null | grep -c .)
		fi
		got=$(tshark -n -r "$out/$f" 2>/dev/null | grep -c .)
		check_eq "-K $label: $f has every packet of its direction (tshark)" "$want" "$got"
		if [ -f "$out/${f%.pcap}" ]; then
			rm -rf "$TMP/back"
			"$TCPFLOW" -o "$TMP/back" -r "$out/$f" 2>/dev/null
			if cmp -s "$TMP/back/${f%.pcap}" "$out/${f%.pcap}"; then
				ok "-K $label: $f read back gives the same flow"
			else
				fail "-K $label: $f read back gives the same flow" "$(md5_of "$out/${f%.pcap}")" \
					"$(md5_of "$TMP/back/${f%.pcap}" 2>/dev/null)"
			fi
		fi
	done
	check_eq "-K $label: one .pcap per flow direction" "$(grep -c '^flow ' "$DATA/${cap%.*}.expect")" "$n"
}
if have_tshark && command -v capinfos >/dev/null 2>&1; then
	kcheck ether reorder.pcap "Ethernet"
	kcheck sll sll.pcap "Linux cooked-mode capture v1"
	kcheck raw rawip.pcap "Raw IP"
	kcheck null null.pcap "NULL/Loopback"
	kcheck vlan vlan.pcap "Ethernet"
	# pcapng with an Ethernet and a raw IP interface: each flow keeps its own
	run_tf K-multi -K -o "$TMP/Kmulti" -r "$DATA/pcapng-multi.pcapng"
	encs=$(for f in $(list_flow_files "$TMP/Kmulti" | grep '\.pcap$'); do
		capinfos -E "$TMP/Kmulti/$f" 2>/dev/null | sed -n 's/^File encapsulation: *//p'; done |
		sort | uniq -c | awk '{ $1 = $1; print }' | tr '\n' ',')
	check_eq "-K pcapng with two link types: two flows of each" "2 Ethernet,2 Raw IP," "$encs"
else
	note "tshark/capinfos not found: -K contents not checked"
fi
# a direction without payload: its .pcap, no flow file
if [ -n "$PYTHON3" ]; then
	"$PYTHON3" "$MKCAP" oneway "$TMP/oneway.pcap" "$TMP/oneway.expect" || exit 99
	run_tf K-oneway -K -o "$TMP/Kone" -r "$TMP/oneway.pcap"
	S=010.000.000.001.00021-192.168.001.002.07000
	C=192.168.001.002.07000-010.000.000.001.00021
	check_eq "-K upload: files" "$S.pcap $C $C.pcap " "$(list_flow_files "$TMP/Kone" | tr '\n' ' ')"
	check_eq "-K upload: the upload's bytes" "$(awk '$1 == "flow" { print $3 }' "$TMP/oneway.expect")" \
		"$(md5_of "$TMP/Kone/$C")"
	if have_tshark; then
		check_eq "-K upload: the server's SYN-ACK, 5 ACKs and FIN in $S.pcap" 7 \
			"$(tshark -n -r "$TMP/Kone/$S.pcap" 2>/dev/null | grep -c .)"
	fi
	# a later connection never takes a name an earlier one's side file has
	run_tf K-twice -K -o "$TMP/Kone" -r "$TMP/oneway.pcap"
	check_eq "-K run again into the same directory: new names with c0001" \
		"$S.pcap ${S}c0001.pcap $C $C.pcap ${C}c0001 ${C}c0001.pcap " \
		"$(list_flow_files "$TMP/Kone" | tr '\n' ' ')"
fi
# -I and -K together, with -Fk bins
run_tf IK -I -K -Fk -o "$TMP/IK" -r "$DATA/keepalive.pcap"
check_eq "-I -K -Fk: files" \
	"000/010.000.000.001.08080-192.168.001.002.40000 000/010.000.000.001.08080-192.168.001.002.40000.findx 000/010.000.000.001.08080-192.168.001.002.40000.pcap 000/192.168.001.002.40000-010.000.000.001.08080 000/192.168.001.002.40000-010.000.000.001.08080.findx 000/192.168.001.002.40000-010.000.000.001.08080.pcap " \
	"$(list_flow_files "$TMP/IK" | tr '\n' ' ')"
check_eq "-I -K: side file times are the flow's first packet" 1700000000 \
	"$(stat -c %Y "$TMP/IK/000/192.168.001.002.40000-010.000.000.001.08080.pcap")"

tf_finish
