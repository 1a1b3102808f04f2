#!/bin/bash
# End-to-end: scanner plugins (SPEC section 5, DESIGN "The scanner ABI").
#  1. -H lists the built-in md5 scanner with its parameter.
#  2. -S md5 / -FM on every capture in tests/data: each flow's MD5 in the
#     report equals md5sum of the flow file (also with late bytes filling
#     holes, a capture that starts mid-stream, -b, md5_also=sha256, -FX);
#     flows big enough to be digested on md5's background thread, also with
#     a hole and with late bytes filling one (captures made by mkcap.py).
#  3. -e/-x/-E/-a, unknown scanners and parameters, a failing init.
#  4. Broken plugins (built here): no entry symbol, another ABI major, a
#     too-small descriptor, a duplicate name, an unresolved symbol, a failing
#     init: one line naming the file and the reason, exit 2, no output.
#  5. Derived objects end to end: a plugin built here emits objects (bytes
#     and a streamed file) beside each flow; md5 hashes them.
#  6. The built-in md5.so exports only the entry point and uses no tcpflow symbol.
#  7. make install (DESTDIR) + the SDK example built out of tree with only the
#     installed header and pkg-config file, loaded by the installed tcpflow.
. "$(dirname "$0")/lib.sh"
tf_tmpdir
cd "$TMP" || exit 99

if ! command -v xmllint >/dev/null 2>&1; then
	echo "xmllint not found (apt-get install libxml2-utils): skipped"
	exit 77
fi
CC=${CC:-cc}
BUILDDIR=$(dirname "$TCPFLOW")
MD5SO="$BUILDDIR/plugins/md5/.libs/md5.so"
if [ ! -f "$MD5SO" ]; then
	echo "ERROR: $MD5SO not built"
	exit 99
fi

# expect_error LABEL NEEDLE...: the last run exited 2, printed exactly one
# line on stderr containing every NEEDLE, and created no output directory
expect_error() {
	local label=$1 lines n
	shift
	check_eq "$label: exit status" 2 "$RC"
	lines=$(wc -l <"$RUN_ERR" | tr -d ' ')
	if [ "$lines" = 1 ]; then
		ok "$label: one line on stderr"
	else
		fail "$label: exactly one line on stderr" "1 line" "$lines lines"
		show_stderr
	fi
	for n in "$@"; do
		if grep -qF -- "$n" "$RUN_ERR"; then
			ok "$label: the message names '$n'"
		else
			fail "$label: the message names '$n'" "a line containing '$n'" \
				"'$(head -n 3 "$RUN_ERR" | tr '\n' '|')'"
		fi
	done
	if [ -e "$TMP/never" ]; then
		fail "$label: nothing processed" "no output directory" "$(ls "$TMP/never" | head -n 3 | tr '\n' ' ')"
		rm -rf "$TMP/never"
	fi
}

# check_digests LABEL OUTDIR [TYPE [TOOL]]: every fileobject with a filename
# has a <hashdigest type=TYPE> equal to TOOL (md5sum) of that file, and every
# flow file has such a fileobject
check_digests() {
	local label=$1 out=$2 type=${3:-MD5} tool=${4:-md5sum} rep n i fn dg want bad=0 nfiles
	rep="$out/report.xml"
	if ! xmllint --noout "$rep" 2>/dev/null; then
		fail "$label: report is well-formed" "xmllint passes" "$(head -c 200 "$rep" 2>&1)"
		return
	fi
	n=$(xpath "$rep" "count(//*[local-name()='fileobject'][*[local-name()='filename']])")
	for i in $(seq 1 "${n:-0}"); do
		fn=$(xpath "$rep" "string((//*[local-name()='fileobject'][*[local-name()='filename']])[$i]/*[local-name()='filename'])")
		dg=$(xpath "$rep" "string((//*[local-name()='fileobject'][*[local-name()='filename']])[$i]/*[local-name()='hashdigest'][@type='$type'])")
		[ -f "$fn" ] || fn="$out/$(basename "$fn")"
		want=$($tool <"$fn" | cut -d' ' -f1)
		if [ "$dg" != "$want" ]; then
			fail "$label: $type of $(basename "$fn")" "$want" "'$dg'"
			bad=1
		fi
	done
	nfiles=$(list_flow_files "$out" | grep -c . || true)
	if [ "$nfiles" != "$n" ]; then
		fail "$label: one fileobject per file" "$nfiles" "$n"
		bad=1
	fi
	[ "$bad" -eq 0 ] && ok "$label: $n ${type}s equal $tool of the files"
}

# ---- 1. -H ------------------------------------------------------------------
run_tf list -H
check_eq "-H: exit status" 0 "$RC"
if grep -q '^md5 1.0 (built-in)' "$RUN_OUT" && grep -qF -- '-S md5_also=' "$RUN_OUT" &&
	grep -qF "$MD5SO" "$RUN_OUT"; then
	ok "-H lists md5 with version, origin and its parameter"
else
	fail "-H lists md5" "md5 1.0 (built-in), -S md5_also=, $MD5SO" "$(head -c 400 "$RUN_OUT" | tr '\n' '|')"
fi

# ---- 2. md5 of every flow of every capture ----------------------------------
for cap in "$DATA"/*.pcap*; do
	b=$(basename "$cap")
	run_tf "md5-$b" -S md5 -o "$TMP/md5-$b" -r "$cap"
	check_eq "md5 $b: exit status" 0 "$RC"
	check_digests "md5 $b" "$TMP/md5-$b"
done

run_tf fm -FM -S md5_also=sha256 -o "$TMP/fm" -r "$DATA/keepalive.pcap" -r "$DATA/dup.pcap"
check_eq "-FM: exit status" 0 "$RC"
check_digests "-FM" "$TMP/fm"
check_digests "md5_also=sha256" "$TMP/fm" SHA256 sha256sum

# the stream is rewritten behind the scanner: late bytes fill declared holes
# (a tiny reorder cap), bytes placed in front (mid-stream start), -b
run_tf late -d 20 -S md5 -S reorder_flow_cap=1 -o "$TMP/late" -r "$DATA/reorder.pcap"
check_eq "late fill: exit status" 0 "$RC"
check_digests "late bytes fill holes" "$TMP/late"
if grep -q 'hashing the file (the stream was rewritten)' "$RUN_ERR"; then
	ok "late fill: md5 was told the stream was rewritten"
else
	fail "late fill: md5 was told the stream was rewritten" "a debug line" "$(head -n 3 "$RUN_ERR" | tr '\n' '|')"
fi
run_tf front -S md5 -o "$TMP/front" -r "$DATA/midstream.pcap"
check_digests "bytes placed in front (midstream)" "$TMP/front"
run_tf cut -S md5 -b 1000 -o "$TMP/cut" -r "$DATA/keepalive.pcap"
check_digests "-b 1000" "$TMP/cut"
run_tf total -S md5 -S reorder_total_cap=1 -o "$TMP/total" -r "$DATA/overlap.pcap" -r "$DATA/gap.pcap"
check_digests "total reorder cap" "$TMP/total"

# big flows: md5 digests flows on a background thread; three downloads
# take turns segment by segment and every segment has its own bytes, so
# bytes digested out of order give another digest
MKCAP="$TOP_SRCDIR/tests/e2e/mkcap.py"
if [ -n "$PYTHON3" ] && "$PYTHON3" "$MKCAP" download "$TMP/dl.pcap" 3 1000 &&
	"$PYTHON3" "$MKCAP" download "$TMP/dl-hole.pcap" 3 1000 drop 600 &&
	"$PYTHON3" "$MKCAP" download "$TMP/dl-late.pcap" 3 1000 late 600 &&
	"$PYTHON3" "$MKCAP" download "$TMP/dl-http.pcap" 3 1000 http &&
	"$PYTHON3" "$MKCAP" download "$TMP/dl-many.pcap" 150 14 http; then
	run_tf bg -d 20 -S md5 -S md5_also=sha256 -o "$TMP/bg" -r "$TMP/dl.pcap"
	check_eq "background: exit status" 0 "$RC"
	check_digests "background: three 1.5 MB flows" "$TMP/bg"
	check_digests "background: md5_also=sha256" "$TMP/bg" SHA256 sha256sum
	if [ "$(grep -c ': 1[0-9]\{6\} bytes hashed in the background' "$RUN_ERR")" = 3 ]; then
		ok "background: the three flows went to the hasher"
	else
		fail "background: the three flows went to the hasher" "three debug lines" \
			"$(grep -i md5 "$RUN_ERR" | head -n 3 | tr '\n' '|')"
	fi
	# a hole: its zeros go to the hasher after the bytes before it, and the
	# streamed digest is the one kept (the file is not hashed again)
	run_tf bghole -d 20 -S md5 -o "$TMP/bghole" -r "$TMP/dl-hole.pcap"
	check_digests "background: a hole (zeros in the file)" "$TMP/bghole"
	if [ "$(grep -c ': 1[0-9]\{6\} bytes hashed in the background' "$RUN_ERR")" = 3 ] &&
		! grep -q 'hashing the file' "$RUN_ERR"; then
		ok "background, hole: streamed digests, three flows through the hasher"
	else
		fail "background, hole: streamed digests" "3 background lines, no 'hashing the file'" \
			"$(grep -i -e md5 -e hash "$RUN_ERR" | head -n 4 | tr '\n' '|')"
	fi
	run_tf bglate -d 20 -S md5 -S reorder_flow_cap=1 -o "$TMP/bglate" -r "$TMP/dl-late.pcap"
	check_digests "background: late bytes fill a hole" "$TMP/bglate"
	if grep -q 'hashing the file (the stream was rewritten)' "$RUN_ERR"; then
		ok "background, late fill: md5 was told the stream was rewritten"
	else
		fail "background, late fill: md5 was told the stream was rewritten" "a debug line" \
			"$(head -n 3 "$RUN_ERR" | tr '\n' '|')"
	fi
	# big objects (the three bodies) go to a second hasher, their entries
	# held open until their digests are in (ABI 1.3)
	run_tf bgobj -d 20 -S http -S md5 -S md5_also=sha256 -o "$TMP/bgobj" -r "$TMP/dl-http.pcap"
	check_eq "background objects: exit status" 0 "$RC"
	check_digests "background objects: flows and bodies" "$TMP/bgobj"
	check_digests "background objects: md5_also=sha256" "$TMP/bgobj" SHA256 sha256sum
	nbody=$(list_flow_files "$TMP/bgobj" | grep -c -- '-HTTPBODY$' || true)
	body_bytes=$(cat "$TMP/bgobj"/*-HTTPBODY 2>/dev/null | wc -c | tr -d ' ')
	if [ "$nbody" = 3 ] &&
		grep -q ": 3 objects ($body_bytes bytes) hashed in the background" "$RUN_ERR"; then
		ok "background objects: the three bodies ($body_bytes bytes) went to the hasher"
	else
		fail "background objects: the three bodies went to the hasher" \
			"3 bodies, '3 objects ($body_bytes bytes)'" \
			"$nbody bodies, $(grep -i objects "$RUN_ERR" | head -n 2 | tr '\n' '|')"
	fi
	# 150 bodies of 20 KB at once: more are held than md5 keeps (64), and
	# 64 flows close while some are held; every entry still gets its digest
	# and the report's order is the same in two runs
	run_tf bgmany -d 20 -S http -S md5 -o "$TMP/bgmany" -r "$TMP/dl-many.pcap"
	check_digests "background objects, 150 held" "$TMP/bgmany"
	if grep -q ': 150 objects ([0-9]* bytes) hashed in the background' "$RUN_ERR"; then
		ok "background objects, 150 held: all went to the hasher"
	else
		fail "background objects, 150 held: all went to the hasher" "150 objects" \
			"$(grep -i objects "$RUN_ERR" | head -n 2 | tr '\n' '|')"
	fi
	run_tf bgmany2 -S http -S md5 -o "$TMP/bgmany2" -r "$TMP/dl-many.pcap"
	names() { grep -o '<filename>[^<]*</filename>' "$1/report.xml" | sed 's#.*/##'; }
	check_eq "background objects, 150 held: the same entry order in two runs" \
		"$(names "$TMP/bgmany" | md5sum)" "$(names "$TMP/bgmany2" | md5sum)"
else
	fail "mkcap.py download" "five captures" "python3 or mkcap.py failed"
fi

# -FX: no files; the streamed digests equal those of a run with files
run_tf fx -S md5 -FX -o "$TMP/fx" -r "$DATA/ipv4-http.pcap"
got=$(xpath "$TMP/fx/report.xml" "//*[local-name()='hashdigest']/text()" | sort | tr '\n' ' ')
want=$(md5sum "$TMP/md5-ipv4-http.pcap"/[0-9]* | cut -d' ' -f1 | sort | tr '\n' ' ')
check_eq "-FX: digests from the stream" "$want" "$got"

# ---- 3. enabling, disabling, errors -----------------------------------------
# digests of flows (fileobjects with <tcpflow>): -a also runs http, whose
# objects md5 hashes too
count_digests() {
	xpath "$1/report.xml" "count(//*[local-name()='fileobject'][*[local-name()='tcpflow']]/*[local-name()='hashdigest'])"
}
run_tf all -a -o "$TMP/all" -r "$DATA/gap.pcap"
check_eq "-a: md5 on" 2 "$(count_digests "$TMP/all")"
run_tf allx -a -x md5 -o "$TMP/allx" -r "$DATA/gap.pcap"
check_eq "-a -x md5: md5 off" 0 "$(count_digests "$TMP/allx")"
run_tf only -e md5 -E md5 -o "$TMP/only" -r "$DATA/gap.pcap"
check_eq "-E md5: md5 on, flow files written" "2 2" "$(count_digests "$TMP/only") $(list_flow_files "$TMP/only" | grep -c .)"
run_tf core-S -S md5 -S tcp_timeout=5 -S enable_report=yes -o "$TMP/coreS" -r "$DATA/gap.pcap"
check_eq "core settings next to a scanner: exit status" 0 "$RC"
check_eq "core settings next to a scanner: setting in the report" 1 \
	"$(xpath "$TMP/coreS/report.xml" "count(//*[local-name()='setting'][@name='tcp_timeout'][@value='5'])")"

run_tf unknown-S -S no_such_scanner -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "-S unknown scanner" "no_such_scanner" "md5"
run_tf unknown-e -e no_such_scanner -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "-e unknown scanner" "no_such_scanner"
run_tf unknown-x -x no_such_scanner -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "-x unknown scanner" "no_such_scanner"
run_tf unknown-param -S md5 -S md5_bogus=1 -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "unknown parameter" "md5_bogus" "md5_also" "tcp_timeout"
run_tf bad-digest -S md5 -S md5_also=nodigest -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "md5_also=nodigest (init fails)" "md5.so" "nodigest"
run_tf no-dir -P "$TMP/no-such-dir" -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "-P missing directory" "no-such-dir"

# ---- 4. broken plugins --------------------------------------------------------
SDKINC="$TOP_SRCDIR/sdk"
# plugin NAME CODE [CFLAGS...]: build $TMP/plug-NAME/NAME.so from CODE
plugin() {
	local name=$1 code=$2
	shift 2
	mkdir -p "$TMP/plug-$name"
	printf '%s\n' "$code" >"$TMP/plug-$name/$name.c"
	if ! $CC -std=c11 -Wall -Werror -fPIC -fvisibility=hidden -shared -I"$SDKINC" "$@" \
		-o "$TMP/plug-$name/$name.so" "$TMP/plug-$name/$name.c" 2>"$TMP/plug-$name/cc.err"; then
		echo "ERROR: cannot build test plugin $name:"
		cat "$TMP/plug-$name/cc.err"
		exit 99
	fi
}

# a descriptor as C: desc(NAME, SIZE, MAJOR, EXTRA)
desc() {
	cat <<EOF
#include <tcpflow/scanner.h>
static const struct tf_host *host;
static int init(struct tf_ctx *ctx, void **state)
{
	(void)state;
	if (host->get_param(ctx, "$1_fail")[0] == 'y') {
		host->log(ctx, TF_LOG_ERROR, "the widget license expired");
		return -1;
	}
	return 0;
}
static const struct tf_param params[] = { { "$1_fail", "no", "fail init" }, { 0, 0, 0 } };
static const struct tf_scanner d = {
	.size = $2, .abi_major = $3, .abi_minor = 0, .name = "$1", .version = "0.1",
	.description = "test", .params = params, .init = init,
};
$4
EOF
}

plugin nosym 'int not_an_entry(void); int not_an_entry(void) { return 1; }'
run_tf nosym -P "$TMP/plug-nosym" -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "plugin without the entry symbol" "$TMP/plug-nosym/nosym.so" "no tcpflow_scanner_v1"

plugin v2 "$(desc v2 'sizeof d' 2 'TF_EXPORT const struct tf_scanner *tcpflow_scanner_v2(const struct tf_host *h);
const struct tf_scanner *tcpflow_scanner_v2(const struct tf_host *h) { host = h; return &d; }')"
run_tf v2 -P "$TMP/plug-v2" -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "plugin for ABI 2 (entry symbol)" "$TMP/plug-v2/v2.so" "ABI 2" "tcpflow_scanner_v2"

plugin major2 "$(desc major2 'sizeof d' 2 'const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; return &d; }')"
run_tf major2 -P "$TMP/plug-major2" -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "plugin whose descriptor says ABI 2" "$TMP/plug-major2/major2.so" "ABI 2.0"

plugin small "$(desc small 24 1 'const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; return &d; }')"
run_tf small -P "$TMP/plug-small" -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "too-small descriptor" "$TMP/plug-small/small.so" "24 bytes, too small"

plugin twin "$(desc twin 'sizeof d' 1 'const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; return &d; }')"
cp "$TMP/plug-twin/twin.so" "$TMP/plug-twin/twin2.so"
run_tf twin -P "$TMP/plug-twin" -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "duplicate scanner name" "$TMP/plug-twin/twin2.so" "'twin' is already taken by $TMP/plug-twin/twin.so"

plugin md5 "$(desc md5 'sizeof d' 1 'const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; return &d; }')"
run_tf dup-builtin -P "$TMP/plug-md5" -S md5 -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "a name taken by a built-in scanner" "md5.so" "'md5' is already taken"

plugin undef "$(desc undef 'sizeof d' 1 'void report_open(void);
const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; report_open(); return &d; }')"
run_tf undef -P "$TMP/plug-undef" -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "plugin using a tcpflow symbol" "$TMP/plug-undef/undef.so" "report_open"

plugin initfail "$(desc initfail 'sizeof d' 1 'const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; return &d; }')"
run_tf initfail -P "$TMP/plug-initfail" -S initfail -S initfail_fail=yes -o "$TMP/never" -r "$DATA/gap.pcap"
expect_error "failing init" "$TMP/plug-initfail/initfail.so" "init failed: the widget license expired"
run_tf initok -P "$TMP/plug-initfail" -S initfail -o "$TMP/initok" -r "$DATA/gap.pcap"
check_eq "the same plugin with a good parameter: exit status" 0 "$RC"
# a path with '/' loads that file
run_tf bypath -S "$TMP/plug-initfail/initfail.so" -o "$TMP/bypath" -r "$DATA/gap.pcap"
check_eq "-S PATH loads that file: exit status" 0 "$RC"

# ---- 5. derived objects ---------------------------------------------------------
plugin emitter '#include <tcpflow/scanner.h>
#include <stdio.h>
#include <stdlib.h>
static const struct tf_host *host;
/* per flow: a copy of the stream written through the host */
static void on_open(struct tf_ctx *ctx, void *st, const struct tf_flow *f, void **fs)
{
	(void)st;
	*fs = host->file_open(ctx, f->entry, "-COPY");
}
static void on_data(struct tf_ctx *ctx, void *st, const struct tf_flow *f, void **fs,
		    uint64_t off, const uint8_t *data, size_t len)
{
	(void)st;
	if (off == 0 && len) {
		static const struct tf_kv meta[] = { { "what", "the first bytes" } };
		struct tf_object_desc d = { .size = sizeof d, .type = "head", .meta = meta,
			.nmeta = 1, .data = data, .len = len < 10 ? len : 10, .suffix = "-HEAD" };
		host->emit_object(ctx, f->entry, &d);
	}
	if (*fs)
		host->file_write(ctx, *fs, data, len);
}
static void on_gap(struct tf_ctx *ctx, void *st, const struct tf_flow *f, void **fs,
		   uint64_t off, uint64_t len)
{
	static const uint8_t z[4096];
	(void)st; (void)f; (void)off;
	while (*fs && len) {
		size_t n = len > sizeof z ? sizeof z : (size_t)len;
		host->file_write(ctx, *fs, z, n);
		len -= n;
	}
}
static void on_close(struct tf_ctx *ctx, void *st, const struct tf_flow *f, void **fs)
{
	(void)st;
	if (*fs) {
		struct tf_object_desc d = { .size = sizeof d, .type = "copy", .file = *fs };
		host->emit_object(ctx, f->entry, &d);
	}
	*fs = NULL;
}
/* every packet: counted, summarised at shutdown */
static unsigned long long npkt, ntcp;
static void on_packet(struct tf_ctx *ctx, void *st, const struct tf_packet *p)
{
	(void)ctx; (void)st;
	npkt++;
	if ((p->flags & TF_PACKET_TCP) && p->caplen && p->frame)
		ntcp++;
}
static void shutdown(struct tf_ctx *ctx, void *st)
{
	char a[32], b[32];
	(void)st;
	snprintf(a, sizeof a, "%llu", npkt);
	snprintf(b, sizeof b, "%llu", ntcp);
	host->report_start(ctx, NULL, "emitter_packets");
	host->report_attr(ctx, NULL, "total", a);
	host->report_attr(ctx, NULL, "tcp", b);
}
static const struct tf_scanner d = {
	.size = sizeof d, .abi_major = TF_ABI_MAJOR, .abi_minor = TF_ABI_MINOR,
	.name = "emitter", .version = "1", .description = "test objects",
	.shutdown = shutdown, .on_packet = on_packet,
	.on_flow_open = on_open, .on_data = on_data, .on_gap = on_gap,
	.on_flow_close = on_close,
};
TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; return &d; }'
run_tf emit -P "$TMP/plug-emitter" -S emitter -S md5 -o "$TMP/emit" -r "$DATA/keepalive.pcap" -r "$DATA/gap.pcap"
check_eq "derived objects: exit status" 0 "$RC"
[ "$RC" -eq 0 ] || show_stderr
check_digests "derived objects (md5 of flows, -HEAD and -COPY files)" "$TMP/emit"
nflows=$(ls "$TMP/emit" | grep -cv -e '-HEAD$' -e '-COPY$' -e '^report.xml$')
check_eq "derived objects: a -HEAD and a -COPY per flow" "$nflows $nflows" \
	"$(ls "$TMP/emit" | grep -c -e '-HEAD$') $(ls "$TMP/emit" | grep -c -e '-COPY$')"
bad=0
for f in "$TMP/emit"/*-COPY; do
	cmp -s "$f" "${f%-COPY}" || bad=1
	[ "$(head -c 10 "${f%-COPY}" | md5sum)" = "$(md5sum <"${f%-COPY}-HEAD")" ] || bad=1
done
check_eq "derived objects: -COPY equals the flow file, -HEAD its first 10 bytes" 0 "$bad"
rep="$TMP/emit/report.xml"
f1=$(cd "$TMP/emit" && ls | grep -v -e '-HEAD$' -e '-COPY$' -e '^report.xml$' | head -n 1)
check_eq "derived objects: <derived> names type, producer, parent, metadata" 1 \
	"$(xpath "$rep" "count(//*[local-name()='fileobject'][*[local-name()='filename']='$TMP/emit/$f1-HEAD']/*[local-name()='derived'][@type='head'][@producer='emitter'][@parent='$TMP/emit/$f1'][@depth='1']/*[local-name()='meta'][@name='what'][@value='the first bytes'])")"

[ -n "$(xpath "$rep" "string(//*[local-name()='emitter_packets']/@total)")" ] ||
	fail "packet events: a summary written at shutdown" "<emitter_packets total= tcp=/>" "none"
check_eq "packet events: every packet, TCP ones decoded (as the run's statistics count them)" \
	"$(xpath "$rep" "string(//*[local-name()='statistics']/*[local-name()='packets'])") $(xpath "$rep" "string(//*[local-name()='statistics']/*[local-name()='tcp_segments'])")" \
	"$(xpath "$rep" "string(//*[local-name()='emitter_packets']/@total)") $(xpath "$rep" "string(//*[local-name()='emitter_packets']/@tcp)")"

# ---- 5b. when flow files reach the disk ---------------------------------------------
# A scanner of ABI 1.4, or one of 1.5 that does not call files_later, finds
# each flow's file on disk once a file beside it is opened, and complete at
# on_flow_close; one that calls files_later (files may be written after their
# close then) finds it complete at on_flow_close after host->files_sync.
closecheck() {
	cat <<EOF
#include <tcpflow/scanner.h>
#include <stdio.h>
#include <sys/stat.h>
static const struct tf_host *host;
static int init(struct tf_ctx *ctx, void **state)
{
	(void)ctx;
	(void)state;
	$4
	return 0;
}
static void say(struct tf_ctx *ctx, const char *when, const struct tf_flow *f, uint64_t want)
{
	struct stat sb;
	char msg[600];
	snprintf(msg, sizeof msg, "%s %lld of %llu bytes", when,
		 f->path && stat(f->path, &sb) == 0 ? (long long)sb.st_size : -1LL,
		 (unsigned long long)want);
	host->log(ctx, TF_LOG_WARN, msg);
}
static void on_data(struct tf_ctx *ctx, void *st, const struct tf_flow *f, void **fs,
		    uint64_t off, const uint8_t *data, size_t len)
{
	(void)st;
	(void)data;
	(void)len;
	if (off || *fs)
		return;
	*fs = host->file_open(ctx, f->entry, "-SIDE");
	say(ctx, "beside", f, 0);
}
static void on_close(struct tf_ctx *ctx, void *st, const struct tf_flow *f, void **fs)
{
	(void)st;
	if (*fs)
		host->file_close(ctx, *fs);
	$2
	say(ctx, "at close", f, f->file_size);
}
static const struct tf_scanner d = {
	.size = sizeof d, .abi_major = TF_ABI_MAJOR, .abi_minor = $3, .name = "$1",
	.version = "0.1", .description = "test", .init = init, .on_data = on_data,
	.on_flow_close = on_close,
};
const struct tf_scanner *TF_ENTRY(const struct tf_host *h) { host = h; return &d; }
EOF
}
plugin old14 "$(closecheck old14 '' 4 '')"
plugin now15 "$(closecheck now15 '' 5 '')"
plugin new15 "$(closecheck new15 'host->files_sync(ctx);' 5 'host->files_later(ctx);')"
for v in old14 now15 new15; do
	run_tf "$v" -P "$TMP/plug-$v" -S "$v" -S md5 -o "$TMP/$v" -r "$DATA/many-short.pcap"
	check_eq "$v: exit status" 0 "$RC"
	n=$(grep -c 'at close ' "$RUN_ERR")
	same=$(sed -n 's/.*at close \([0-9-]*\) of \([0-9]*\) bytes.*/\1 \2/p' "$RUN_ERR" | awk '$1 == $2' | wc -l)
	check_eq "$v: each of the 100 flow files is on disk, whole, at its on_flow_close" "100 100" "$n $same"
done
# the flow's file exists (empty: its bytes are buffered) when a file beside
# it is opened; after files_later it may be created at the flow's close
for v in old14 now15; do
	check_eq "$v: each flow file exists when a file beside it is opened" 100 \
		"$(grep -c 'beside 0 of 0 bytes' "$TMP"/run*.$v.stderr)"
done
check_eq "new15 (files_later): flow files are named before they exist" 100 \
	"$(grep -c 'beside -1 of 0 bytes' "$TMP"/run*.new15.stderr)"

# ---- 6. the built-in plugin is built like a third party's ---------------------------
exported=$(nm -D --defined-only "$MD5SO" | awk '$2 ~ /^[TDBRtdbr]$/ { print $3 }' | grep -v -e '^_init$' -e '^_fini$' | tr '\n' ' ')
check_eq "md5.so exports only the entry point" "tcpflow_scanner_v1 " "$exported"
hostsyms=$(nm -D --undefined-only "$MD5SO" | awk '{ print $2 }' |
	grep -E '^(scanner_host_|report_|store_|tcp_|flowtable_|capture_|config_|pipeline_|link_|ip_|decode_|tf_stats)' | tr '\n' ' ')
check_eq "md5.so uses no tcpflow symbol" "" "$hostsyms"

# ---- 7. make install + the SDK example, out of tree ---------------------------------
if [ ! -f "$BUILDDIR/Makefile" ] || ! command -v make >/dev/null || ! command -v pkg-config >/dev/null; then
	note "no build tree Makefile, make or pkg-config: install test skipped"
	tf_finish
fi
# never rebuild under the other tests' feet: install only an up-to-date tree
if ! (cd "$BUILDDIR" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -q all >/dev/null 2>&1); then
	note "the build tree is not up to date (sources changed since make): install test skipped"
	tf_finish
fi
INST="$TMP/inst"
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$BUILDDIR" install DESTDIR="$INST" \
	>"$TMP/install.log" 2>&1; then
	fail "make install DESTDIR=..." "exit 0" "$(tail -n 5 "$TMP/install.log" | tr '\n' '|')"
	tf_finish
fi
ok "make install DESTDIR=$INST"
pc=$(find "$INST" -name tcpflow-scanner.pc | head -n 1)
hdr=$(find "$INST" -path '*/include/tcpflow/scanner.h' | head -n 1)
itf=$(find "$INST" -path '*/bin/tcpflow' | head -n 1)
imd5=$(find "$INST" -path '*/tcpflow/scanners/md5.so' | head -n 1)
if [ -z "$pc" ] || [ -z "$hdr" ] || [ -z "$itf" ] || [ -z "$imd5" ]; then
	fail "installed files" "tcpflow-scanner.pc, tcpflow/scanner.h, bin/tcpflow, scanners/md5.so" \
		"pc=$pc hdr=$hdr bin=$itf md5=$imd5"
	tf_finish
fi
ok "installed: $(echo "${pc#$INST}" "${hdr#$INST}" "${itf#$INST}" "${imd5#$INST}")"

# a third party's project: the example's two files, nothing else from the tree
mkdir -p "$TMP/thirdparty"
cp "$TOP_SRCDIR/sdk/examples/portbytes.c" "$TOP_SRCDIR/sdk/examples/Makefile" "$TMP/thirdparty/"
if (cd "$TMP/thirdparty" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$INST" \
	make CFLAGS="-O2 -Wall -Wextra -Werror" >"$TMP/example.log" 2>&1); then
	ok "sdk/examples builds out of tree with the installed SDK"
else
	fail "sdk/examples builds out of tree" "make exits 0" "$(tail -n 5 "$TMP/example.log" | tr '\n' '|')"
	tf_finish
fi
if grep -q -- "-I$(dirname "$(dirname "$hdr")")" "$TMP/example.log" && ! grep -qF "$TOP_SRCDIR" "$TMP/example.log"; then
	ok "the example used the installed header (not the source tree)"
else
	fail "the example used the installed header" "-I$(dirname "$(dirname "$hdr")")" "$(head -n 3 "$TMP/example.log" | tr '\n' '|')"
fi

TCPFLOW_INSTALLED=$itf
"$TCPFLOW_INSTALLED" -P "$TMP/thirdparty" -H >"$TMP/ih.out" 2>"$TMP/ih.err"
check_eq "installed tcpflow -P DIR -H: exit status" 0 "$?"
if grep -q '^portbytes 1.0' "$TMP/ih.out" && grep -qF -- '-S portbytes_min=0' "$TMP/ih.out"; then
	ok "installed tcpflow -H lists the example and its parameter"
else
	fail "installed tcpflow -H lists the example" "portbytes 1.0, -S portbytes_min=0" "$(tr '\n' '|' <"$TMP/ih.out" | head -c 300)"
fi
"$TCPFLOW_INSTALLED" -P "$TMP/thirdparty" -S portbytes -o "$TMP/ex" -r "$DATA/ipv4-http.pcap" 2>"$TMP/ex.err"
check_eq "installed tcpflow -P DIR -S portbytes: exit status" 0 "$?"
rep="$TMP/ex/report.xml"
total=$(cat "$TMP/ex"/[0-9]* | wc -c | tr -d ' ')
check_eq "example: an element in each flow's fileobject" 2 \
	"$(xpath "$rep" "count(//*[local-name()='fileobject']/*[local-name()='portbytes'][@port='80'])")"
check_eq "example: summary in the report (port 80, 2 flows, all bytes)" 1 \
	"$(xpath "$rep" "count(//*[local-name()='portbytes_summary']/*[local-name()='port'][@number='80'][@flows='2'][@bytes='$total'])")"

# the installed md5 from the installed directory (TCPFLOW_SCANNER_PATH), when
# the configured scanner directory does not already hold another md5.so
if [ -e "$(pkg-config --variable=scannerdir "$pc" 2>/dev/null)/md5.so" ]; then
	note "a tcpflow is installed on this machine: installed-md5 check skipped"
else
	TCPFLOW_SCANNER_PATH=$(dirname "$imd5") "$TCPFLOW_INSTALLED" -S md5 -o "$TMP/imd5" \
		-r "$DATA/gap.pcap" 2>"$TMP/imd5.err"
	check_eq "installed tcpflow + installed md5.so: exit status" 0 "$?"
	check_digests "installed md5" "$TMP/imd5"
fi

tf_finish
