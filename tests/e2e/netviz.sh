#!/bin/bash
# End-to-end: the netviz scanner (SPEC section 5): a one-page picture.
#  1. -S netviz: report.pdf that pdfinfo accepts (one letter page); rendered
#     with pdftoppm it is not blank (ink and colours) and its text (pdftotext)
#     has the header (program, version, input, date range, packets and bytes
#     counted here from the capture, transport shares), the chart titles,
#     the top addresses and ports.
#  2. netviz_format=png: report.png, a valid PNG, not blank; netviz_format=svg:
#     report.svg, well-formed SVG with drawing in it; pdf,png,svg: all three.
#  3. 1 packet, no packet, two inputs (full paths, or base names when the
#     paths are too long for the line), a capture without IP (802.11 beacons).
#  4. Bounded memory (netviz_histogram_size): 100000 distinct source
#     addresses cost no more memory than 10000, and the one address with a
#     third of the bytes is still the top source.
#  5. Bad parameters: exit 2, one line. The report names the picture.
#  6. The corpus' large captures ($CORPUS/large, read in place).
# Needs pdfinfo, pdftoppm and pdftotext (Debian: poppler-utils).
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

for t in pdfinfo pdftoppm pdftotext xmllint; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "$t not found (apt-get install poppler-utils libxml2-utils): skipped"
		exit 77
	fi
done
if [ -z "$PYTHON3" ]; then
	echo "python3 not found: skipped"
	exit 77
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=99"

# png_stats FILE: "WIDTH HEIGHT INK_PERMILLE COLOURS" of an 8-bit PNG
# (standard library only: chunks, zlib, the five row filters); INK is the
# share of sampled pixels that are not white, COLOURS the distinct colours.
png_stats() {
	"$PYTHON3" - "$1" <<'PYEOF'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
if b[:8] != b"\x89PNG\r\n\x1a\n":
    print("0 0 0 0")
    sys.exit(0)
off, idat = 8, []
while off + 8 <= len(b):
    n, t = struct.unpack(">I4s", b[off:off + 8])
    d = b[off + 8:off + 8 + n]
    if t == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", d[:13])
    elif t == b"IDAT":
        idat.append(d)
    off += 12 + n
if depth != 8 or ctype not in (0, 2, 4, 6) or interlace:
    print("%d %d 0 0" % (w, h))
    sys.exit(0)
bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
raw = zlib.decompress(b"".join(idat))
stride = w * bpp
prev = bytearray(stride)
ink = seen = 0
colours = set()
pos = 0
for y in range(h):
    f = raw[pos]
    cur = bytearray(raw[pos + 1:pos + 1 + stride])
    pos += 1 + stride
    if f == 1:
        for i in range(bpp, stride):
            cur[i] = (cur[i] + cur[i - bpp]) & 255
    elif f == 2:
        cur = bytearray((a + c) & 255 for a, c in zip(cur, prev))
    elif f == 3:
        for i in range(stride):
            left = cur[i - bpp] if i >= bpp else 0
            cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            c = prev[i - bpp] if i >= bpp else 0
            p = a + prev[i] - c
            pa, pb, pc = abs(p - a), abs(p - prev[i]), abs(p - c)
            cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else prev[i] if pb <= pc else c)) & 255
    if y % 2 == 0:
        for x in range(0, stride, bpp * 2):
            px = bytes(cur[x:x + min(bpp, 3)])
            seen += 1
            if px != b"\xff" * len(px):
                ink += 1
                colours.add(px)
    prev = cur
print("%d %d %d %d" % (w, h, 1000 * ink // max(seen, 1), len(colours)))
PYEOF
}

# check_ink LABEL PNG MINCOLOURS: not blank (0.5% to 60% ink), some colours
check_ink() {
	local label=$1 png=$2 min=$3 w h ink ncol
	read -r w h ink ncol <<<"$(png_stats "$png")"
	if [ "${ink:-0}" -ge 5 ] && [ "${ink:-0}" -le 600 ]; then
		ok "$label: not blank ($ink per mille of the page inked)"
	else
		fail "$label: not blank" "5 to 600 per mille inked" "$ink (${w}x$h)"
	fi
	if [ "${ncol:-0}" -ge "$min" ]; then
		ok "$label: $ncol colours"
	else
		fail "$label: coloured bars and text" "at least $min colours" "$ncol"
	fi
}

# check_pdf LABEL PDF: pdfinfo accepts it (one US letter page); pdftoppm
# renders it, not blank; its text goes to $TMP/LABEL.txt
check_pdf() {
	local label=$1 pdf=$2 mincol=${3:-5}
	if [ ! -s "$pdf" ]; then
		fail "$label: report.pdf written" "a file" "missing"
		return
	fi
	if pdfinfo "$pdf" >"$TMP/$label.info" 2>&1; then
		ok "$label: pdfinfo accepts report.pdf"
	else
		fail "$label: pdfinfo accepts report.pdf" "exit 0" "$(head -n 2 "$TMP/$label.info")"
	fi
	check_eq "$label: one page" 1 "$(awk '/^Pages:/ { print $2 }' "$TMP/$label.info")"
	check_eq "$label: US letter" "612 x 792" "$(sed -n 's/^Page size: *\([0-9]* x [0-9]*\) pts.*/\1/p' "$TMP/$label.info")"
	if pdftoppm -png -r 50 -singlefile "$pdf" "$TMP/$label" 2>"$TMP/$label.ppm.err"; then
		ok "$label: pdftoppm renders it"
		check_ink "$label (PDF rendered)" "$TMP/$label.png" "$mincol"
	else
		fail "$label: pdftoppm renders it" "exit 0" "$(head -n 2 "$TMP/$label.ppm.err")"
	fi
	pdftotext -layout "$pdf" "$TMP/$label.txt" 2>/dev/null
}

# has_text LABEL STRING...: each STRING appears in $TMP/LABEL.txt
has_text() {
	local label=$1 s
	shift
	for s in "$@"; do
		if grep -qF -- "$s" "$TMP/$label.txt"; then
			ok "$label: the page says '$s'"
		else
			fail "$label: the page says '$s'" "'$s' in the PDF text" \
				"$(grep -v '^ *$' "$TMP/$label.txt" | head -n 6 | tr -s ' ' | tr '\n' '|')"
		fi
	done
}

# capture_facts FILE: "PACKETS BYTES" of a pcap (wire lengths), as the
# header must print them ("1,234")
capture_facts() {
	"$PYTHON3" - "$1" <<'PYEOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
e = "<" if b[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off, n, total = 24, 0, 0
while off + 16 <= len(b):
    _, _, cap, wire = struct.unpack(e + "IIII", b[off:off + 16])
    if off + 16 + cap > len(b):
        break
    n += 1
    total += wire
    off += 16 + cap
print("{:,} {:,}".format(n, total))
PYEOF
}

# ---- 1. PDF -------------------------------------------------------------------------------
CAP="$DATA/ipv4-http.pcap"
run_tf pdf -S netviz -o "$TMP/pdf" -r "$CAP"
check_eq "pdf: exit status" 0 "$RC"
[ "$RC" = 0 ] || show_stderr
check_pdf pdf "$TMP/pdf/report.pdf"
read -r NPK NBY <<<"$(capture_facts "$CAP")"
VERSION=$("$TCPFLOW" -V 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)
has_text pdf "tcpflow $VERSION" "Input: $CAP" "Date range: 2023-11-14 22:13:20" \
	"Packets: $NPK" "($NBY bytes on the wire)" "Transports (share of packets): TCP 100%" \
	"Bandwidth over time" "one bar = " "Top source addresses" "Top destination addresses" \
	"Top source ports" "Top destination ports" "1) 10.0.0.1" "192.168.1.2" "80/tcp"
check_eq "pdf: <netviz format='pdf' file='report.pdf'/> in the report" "pdf report.pdf" \
	"$(xpath "$TMP/pdf/report.xml" "string(//*[local-name()='netviz']/@format)") $(xpath "$TMP/pdf/report.xml" "string(//*[local-name()='netviz']/@file)")"
[ ! -e "$TMP/pdf/report.png" ] && [ ! -e "$TMP/pdf/report.svg" ] && ok "pdf: only the PDF by default" ||
	fail "pdf: only the PDF by default" "no report.png/svg" "$(ls "$TMP/pdf" | tr '\n' ' ')"

# ---- 2. PNG, SVG ---------------------------------------------------------------------------------
run_tf png -S netviz -S netviz_format=png -o "$TMP/png" -r "$CAP"
check_eq "png: exit status" 0 "$RC"
if [ -f "$TMP/png/report.png" ] && [ ! -e "$TMP/png/report.pdf" ]; then
	ok "png: report.png (and no report.pdf)"
	read -r w h ink ncol <<<"$(png_stats "$TMP/png/report.png")"
	check_eq "png: a valid 8-bit PNG, 1224x1584 (letter at 144 dpi)" "1224 1584" "$w $h"
	check_ink "png" "$TMP/png/report.png" 5
else
	fail "png: report.png (and no report.pdf)" "report.png" "$(ls "$TMP/png" | tr '\n' ' ')"
fi

check_svg() {
	local label=$1 svg=$2 n
	if xmllint --noout "$svg" 2>/dev/null; then
		ok "$label: report.svg is well-formed XML"
	else
		fail "$label: report.svg is well-formed XML" "xmllint passes" "$(head -c 200 "$svg" 2>&1)"
		return
	fi
	check_eq "$label: an <svg> page of 612x792 pt" "svg 612pt 792pt" \
		"$(xpath "$svg" "local-name(/*)") $(xpath "$svg" "string(/*/@width)") $(xpath "$svg" "string(/*/@height)")"
	n=$(xpath "$svg" "count(//*[local-name()='path' or local-name()='use' or local-name()='rect'])")
	if [ "${n:-0}" -ge 200 ]; then
		ok "$label: drawn ($n paths, glyphs and rectangles)"
	else
		fail "$label: drawn" "at least 200 paths, glyphs and rectangles" "$n"
	fi
	# not blank: ink in several colours, the bars' among them (no SVG
	# renderer is required; with rsvg-convert the picture is checked too)
	n=$(grep -o 'fill:rgb([^)]*)' "$svg" | grep -v 'fill:rgb(100%,100%,100%)' | sort -u | wc -l)
	if [ "$n" -ge 4 ] && grep -q 'fill:rgb(90.2%,62.4%,0%)' "$svg" && grep -q 'fill:rgb(0%,44.7%,69.8%)' "$svg"; then
		ok "$label: not blank ($n ink colours, the bar colours among them)"
	else
		fail "$label: not blank" "at least 4 ink colours with the bar colours" "$n"
	fi
}
run_tf svg -S netviz -S netviz_format=svg -o "$TMP/svg" -r "$CAP"
check_eq "svg: exit status" 0 "$RC"
check_svg svg "$TMP/svg/report.svg"
if command -v rsvg-convert >/dev/null 2>&1; then
	rsvg-convert -f png -o "$TMP/svg.png" "$TMP/svg/report.svg" && check_ink "svg (rendered)" "$TMP/svg.png" 5
fi

run_tf all3 -S netviz -S netviz_format=pdf,png,svg -o "$TMP/all3" -r "$CAP"
check_eq "pdf,png,svg: exit status" 0 "$RC"
check_eq "pdf,png,svg: three pictures" "report.pdf report.png report.svg" \
	"$(cd "$TMP/all3" && ls report.pdf report.png report.svg 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
check_eq "pdf,png,svg: three <netviz> elements" 3 "$(xpath "$TMP/all3/report.xml" "count(//*[local-name()='netviz'])")"

# ---- 3. 1 packet, none, two inputs, no IP -------------------------------------------------
"$PYTHON3" - "$CAP" "$TMP/one.pcap" "$TMP/none.pcap" <<'PYEOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
cap = struct.unpack("<I", b[32:36])[0]
open(sys.argv[2], "wb").write(b[:24 + 16 + cap])
open(sys.argv[3], "wb").write(b[:24])
PYEOF
run_tf one -S netviz -S netviz_format=pdf,png -o "$TMP/one" -r "$TMP/one.pcap"
check_eq "1 packet: exit status" 0 "$RC"
check_pdf one "$TMP/one/report.pdf"
has_text one "Packets: 1 " "Top source addresses" "1) 192.168.1.2"
check_ink "1 packet (PNG)" "$TMP/one/report.png" 4
run_tf none -S netviz -o "$TMP/none" -r "$TMP/none.pcap"
check_eq "no packet: exit status" 0 "$RC"
check_pdf none "$TMP/none/report.pdf" 2
has_text none "Packets: 0 " "no packets"
run_tf two -S netviz -o "$TMP/two" -r "$CAP" -r "$DATA/ipv6-http.pcap"
check_eq "two inputs: exit status" 0 "$RC"
check_pdf two "$TMP/two/report.pdf"
has_text two "Inputs: " "ipv4-http.pcap, " "ipv6-http.pcap" "Network: IPv4 " ", IPv6 " "2001:db8::"
# paths too long for the header line: the base names of all inputs are shown
LONGDIR="$TMP/a-directory-with-a-rather-long-name/and-another-one-below-it/and-a-third-level-too"
mkdir -p "$LONGDIR" && cp "$CAP" "$DATA/ipv6-http.pcap" "$LONGDIR/"
run_tf long -S netviz -o "$TMP/long" -r "$LONGDIR/ipv4-http.pcap" -r "$LONGDIR/ipv6-http.pcap"
check_eq "long paths: exit status" 0 "$RC"
check_pdf long "$TMP/long/report.pdf"
has_text long "Inputs: ipv4-http.pcap, ipv6-http.pcap"
run_tf wifi -S netviz -o "$TMP/wifi" -r "$DATA/wifi-stats.pcap"
check_eq "802.11 capture: exit status" 0 "$RC"
check_pdf wifi "$TMP/wifi/report.pdf" 3
has_text wifi "non-IP" "53/udp"

# ---- 4. bounded memory ------------------------------------------------------------------------
# mk_many OUT N: N UDP packets (Ethernet), packet i from 10.x.y.z = i, and
# every third one from 192.0.2.77 (a third of the bytes)
mk_many() {
	"$PYTHON3" - "$@" <<'PYEOF'
import struct, sys
out, n = sys.argv[1], int(sys.argv[2])
recs = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
for i in range(n):
    src = bytes([192, 0, 2, 77]) if i % 3 == 0 else bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + 16, i & 0xFFFF, 0, 64, 17, 0, src, bytes([198, 51, 100, 1]))
    udp = struct.pack(">HHHH", 1024 + i % 50000, 9999, 8 + 16, 0) + bytes(16)
    f = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + udp
    recs.append(struct.pack("<IIII", 1700000000 + i // 1000, (i % 1000) * 1000, len(f), len(f)) + f)
open(out, "wb").write(b"".join(recs))
PYEOF
}
if [ -x /usr/bin/time ]; then
	mk_many "$TMP/many-10k.pcap" 15000
	mk_many "$TMP/many-100k.pcap" 150000
	for k in 10k 100k; do
		/usr/bin/time -f %M -o "$TMP/rss-$k" "$TCPFLOW" -FX -S netviz -S netviz_histogram_size=100 \
			-o "$TMP/many-$k" -r "$TMP/many-$k.pcap" >/dev/null 2>"$TMP/many-$k.err"
		RC=$?
		check_eq "$k distinct sources: exit status" 0 "$RC"
	done
	r1=$(tail -n 1 "$TMP/rss-10k")
	r2=$(tail -n 1 "$TMP/rss-100k")
	if [ $((r2 - r1)) -lt 8192 ]; then
		ok "netviz_histogram_size=100: 100000 distinct sources use no more memory than 10000 (${r1} KB, ${r2} KB)"
	else
		fail "bounded memory" "max RSS within 8 MB of the 10000-source run (${r1} KB)" "${r2} KB"
	fi
	pdftotext -layout "$TMP/many-100k/report.pdf" "$TMP/many.txt" 2>/dev/null
	has_text many "1) 192.0.2.77" "1) 9999/udp" "Packets: 150,000"
else
	note "/usr/bin/time not found (apt-get install time): memory check skipped"
fi

# ---- 5. errors ----------------------------------------------------------------------------------
run_tf badfmt -S netviz -S netviz_format=gif -o "$TMP/never" -r "$CAP"
check_eq "netviz_format=gif: exit status" 2 "$RC"
check_eq "netviz_format=gif: one line naming it" "1 1" \
	"$(wc -l <"$RUN_ERR" | tr -d ' ') $(grep -c "netviz_format" "$RUN_ERR")"
run_tf badsize -S netviz -S netviz_histogram_size=many -o "$TMP/never" -r "$CAP"
check_eq "netviz_histogram_size=many: exit status" 2 "$RC"
check_eq "netviz_histogram_size=many: one line naming it" "1 1" \
	"$(wc -l <"$RUN_ERR" | tr -d ' ') $(grep -c "netviz_histogram_size" "$RUN_ERR")"
[ ! -e "$TMP/never" ] && ok "bad parameters: nothing written" || fail "bad parameters: nothing written" "no output directory" "$(ls "$TMP/never")"

# ---- 6. the corpus' large captures ----------------------------------------------------------
if [ -n "${CORPUS:-}" ] && [ -f "$CORPUS/large/zeek-echo-connections.pcap" ]; then
	f="$CORPUS/large/zeek-echo-connections.pcap"
	run_tf large -FX -S netviz -S netviz_format=pdf,png -o "$TMP/large" -r "$f"
	check_eq "large: exit status" 0 "$RC"
	check_pdf large "$TMP/large/report.pdf"
	read -r NPK NBY <<<"$(capture_facts "$f")"
	has_text large "Packets: $NPK" "($NBY bytes on the wire)" "1) 127.0.0.1" "7000/tcp" "one bar = 200 ms"
	check_ink "large (PNG)" "$TMP/large/report.png" 5
else
	note "no corpus (CORPUS=${CORPUS:-unset}): large capture skipped"
fi

tf_finish
