# Helpers for the end-to-end tests (sourced by tests/e2e/*.sh; bash).
#
# Environment (set by `make check`, see Makefile.am):
#   TCPFLOW     the tcpflow binary under test
#   TOP_SRCDIR  the source tree (tests/data lives there)
#   PYTHON3     a python3 (only the standard library is used here)
#   CORPUS      /work/shared/corpus or similar; optional
#   KEEP_TMP=1  keep the temporary directory (its path is printed)
#   TF_TIMEOUT  seconds before a tcpflow run counts as hung (default 120)
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 hard error.
# Every check prints "ok: ..." or "FAIL: what / expected: ... / got: ...".

: "${TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${TF_TIMEOUT:=120}"
DATA="$TOP_SRCDIR/tests/data"
TF_FAILS=0
TF_CHECKS=0

if [ -z "${TCPFLOW:-}" ]; then
	echo "ERROR: TCPFLOW is not set (run through make check, or set it)" >&2
	exit 99
fi
case "$TCPFLOW" in
/*) ;;
*) TCPFLOW="$(cd "$(dirname "$TCPFLOW")" && pwd)/$(basename "$TCPFLOW")" ;;
esac
if [ ! -x "$TCPFLOW" ]; then
	echo "ERROR: TCPFLOW=$TCPFLOW is not an executable file" >&2
	exit 99
fi
if [ -z "${PYTHON3:-}" ]; then
	PYTHON3=$(command -v python3 || true)
fi

# tf_tmpdir: create $TMP (removed on exit unless KEEP_TMP=1)
tf_tmpdir() {
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/tcpflow-e2e.XXXXXX") || exit 99
	if [ "${KEEP_TMP:-0}" = 1 ]; then
		echo "note: keeping $TMP"
	else
		trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT
	fi
}

ok() {
	TF_CHECKS=$((TF_CHECKS + 1))
	echo "ok: $*"
}

# fail WHAT EXPECTED GOT
fail() {
	TF_CHECKS=$((TF_CHECKS + 1))
	TF_FAILS=$((TF_FAILS + 1))
	echo "FAIL: $1"
	echo "      expected: $2"
	echo "      got:      $3"
}

# check WHAT EXPECTED GOT: pass when the two strings are equal
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "$2" "$3"; fi
}

note() {
	echo "note: $*"
}

tf_finish() {
	echo "---- $(basename "$0"): $TF_CHECKS checks, $TF_FAILS failed"
	if [ "$TF_FAILS" -ne 0 ]; then exit 1; fi
	exit 0
}

md5_of() {
	md5sum <"$1" | cut -d' ' -f1
}

size_of() {
	wc -c <"$1" | tr -d ' '
}

# run_tf LABEL ARGS...: run "$TCPFLOW ARGS" in the current directory.
# Sets RC, and RUN_OUT / RUN_ERR (files with stdout and stderr).
# Stdin is /dev/null unless RUN_STDIN names a file.
TF_RUNS=0
run_tf() {
	local label=$1
	shift
	TF_RUNS=$((TF_RUNS + 1))
	RUN_OUT="$TMP/run$TF_RUNS.$label.stdout"
	RUN_ERR="$TMP/run$TF_RUNS.$label.stderr"
	echo "run: $TCPFLOW $*" >"$TMP/run$TF_RUNS.$label.cmd"
	timeout -k 5 "$TF_TIMEOUT" "$TCPFLOW" "$@" <"${RUN_STDIN:-/dev/null}" \
		>"$RUN_OUT" 2>"$RUN_ERR"
	RC=$?
	if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then
		echo "note: '$label' did not finish within ${TF_TIMEOUT}s (killed)"
	fi
	if [ "$RC" -gt 128 ] && [ "$RC" -ne 137 ]; then
		echo "note: '$label' died with signal $((RC - 128))"
	fi
	return 0
}

# show_stderr: print the first lines of the last run's stderr, indented
show_stderr() {
	if [ -s "$RUN_ERR" ]; then
		echo "      stderr of the run:"
		head -n 5 "$RUN_ERR" | sed 's/^/        | /'
	fi
}

# expect_captures EXPECTFILE: print the capture file names (one per line)
expect_captures() {
	awk '$1 == "capture" { for (i = 2; i <= NF; i++) print $i }' "$1"
}

# expect_flows EXPECTFILE...: print "NAME MD5 LENGTH" lines (union)
expect_flows() {
	awk '$1 == "flow" { print $2, $3, $4 }' "$@"
}

# list_flow_files OUTDIR: every regular file below OUTDIR except report.xml,
# as paths relative to OUTDIR, sorted
list_flow_files() {
	(cd "$1" && find . -type f ! -path ./report.xml | sed 's|^\./||' | LC_ALL=C sort)
}

# check_flows LABEL OUTDIR EXPECTFILE...: each expected flow file exists with
# the expected MD5 and length, and there are no other flow files.
check_flows() {
	local label=$1 out=$2 name md5 len got gotlen bad=0 nexp=0
	shift 2
	if [ ! -d "$out" ]; then
		fail "$label: output directory exists" "$out" "missing"
		return
	fi
	while read -r name md5 len; do
		nexp=$((nexp + 1))
		if [ ! -f "$out/$name" ]; then
			fail "$label: flow file $name exists" "$len bytes, md5 $md5" "missing"
			bad=1
			continue
		fi
		got=$(md5_of "$out/$name")
		gotlen=$(size_of "$out/$name")
		if [ "$got" != "$md5" ] || [ "$gotlen" != "$len" ]; then
			fail "$label: content of $name" "$len bytes, md5 $md5" "$gotlen bytes, md5 $got"
			bad=1
		fi
	done < <(expect_flows "$@")
	local extra
	extra=$(list_flow_files "$out" | LC_ALL=C comm -23 - <(expect_flows "$@" | cut -d' ' -f1 | LC_ALL=C sort))
	if [ -n "$extra" ]; then
		fail "$label: no unexpected files in the output directory" "only the $nexp flow files and report.xml" \
			"$(echo "$extra" | head -n 8 | while read -r f; do printf '%s (%s bytes) ' "$f" "$(size_of "$out/$f")"; done)"
		bad=1
	fi
	if [ "$bad" -eq 0 ]; then
		ok "$label: all $nexp flow files with the expected names and contents, nothing else"
	fi
	check_mtimes "$label" "$out" "$@"
}

# check_mtimes LABEL OUTDIR EXPECTFILE...: "mtime SECONDS" lines: each
# expected flow file that exists has that modification time (whole seconds)
check_mtimes() {
	local label=$1 out=$2 exp want name md5 len got bad=0 n=0
	shift 2
	for exp in "$@"; do
		want=$(awk '$1 == "mtime" { print $2 }' "$exp")
		[ -n "$want" ] || continue
		while read -r name md5 len; do
			[ -f "$out/$name" ] || continue
			n=$((n + 1))
			got=$(stat -c %Y "$out/$name")
			if [ "$got" != "$want" ]; then
				fail "$label: modification time of $name is the first packet's" 					"$want ($(date -u -d "@$want" +%FT%TZ))" "$got ($(date -u -d "@$got" +%FT%TZ))"
				bad=1
				break
			fi
		done < <(expect_flows "$exp")
	done
	if [ "$bad" -eq 0 ] && [ "$n" -gt 0 ]; then
		ok "$label: flow file times are the first packet times"
	fi
}

# xpath FILE EXPR: evaluate an XPath expression with xmllint, print the result
xpath() {
	xmllint --xpath "$2" "$1" 2>/dev/null
}

# XPath pieces that ignore namespaces (used by the scripts that source this)
# shellcheck disable=SC2034
X_DFXML="/*[local-name()='dfxml']"
# shellcheck disable=SC2034
X_FO="*[local-name()='fileobject']"

# xp_fileobject NAME: XPath of the fileobject whose filename ends with NAME
# (the report may give the path with the output directory in front)
xp_fileobject() {
	local n=$1
	echo "//*[local-name()='fileobject'][*[local-name()='filename'][. = '$n' or substring(., string-length(.) - string-length('/$n') + 1) = '/$n']]"
}

# check_gaps LABEL REPORT EXPECTFILE: every "gap NAME OFF LEN" of the expect
# file appears in the report as an element inside NAME's fileobject with the
# attributes offset (or file_offset) = OFF and length (or len) = LEN.
check_gaps() {
	local label=$1 report=$2 exp=$3 kind name off len n
	while read -r kind name off len; do
		[ "$kind" = gap ] || continue
		if [ ! -f "$report" ]; then
			fail "$label: gap in $name recorded" "a report" "no report file $report"
			continue
		fi
		n=$(xpath "$report" "count($(xp_fileobject "$name")//*[(@offset='$off' or @file_offset='$off') and (@length='$len' or @len='$len')])")
		if [ "${n:-0}" -ge 1 ] 2>/dev/null; then
			ok "$label: gap offset=$off length=$len recorded for $name"
		else
			fail "$label: gap recorded in the report for $name" \
				"an element with offset='$off' length='$len' inside its fileobject" \
				"none ($(xpath "$report" "$(xp_fileobject "$name")" | tr -s ' \n' ' ' | cut -c1-300))"
		fi
	done <"$exp"
}

# run_expect LABEL EXPECTFILE [extra tcpflow args]: run tcpflow on the
# capture(s) of EXPECTFILE into $TMP/LABEL and check flows and gaps.
run_expect() {
	local label=$1 exp=$2 c args=()
	shift 2
	for c in $(expect_captures "$exp"); do
		args+=(-r "$DATA/$c")
	done
	run_tf "$label" -o "$TMP/$label" "${args[@]}" "$@"
	check_eq "$label: exit status" 0 "$RC"
	[ "$RC" -eq 0 ] || show_stderr
	if grep -q '^warn' "$exp"; then
		if grep -qF "$(expect_captures "$exp" | head -n 1)" "$RUN_ERR"; then
			ok "$label: a warning on stderr names the capture"
		else
			fail "$label: a warning on stderr names the capture" \
				"a line containing '$(expect_captures "$exp" | head -n 1)'" "'$(head -n 3 "$RUN_ERR" | tr '\n' '|')'"
		fi
	fi
	check_flows "$label" "$TMP/$label" "$exp"
	check_gaps "$label" "$TMP/$label/report.xml" "$exp"
}

have_tshark() {
	command -v tshark >/dev/null 2>&1 && [ -n "$PYTHON3" ]
}

# tshark_flows CAPTURE DESTDIR: reassemble every TCP stream with tshark
# ("follow,tcp,raw") and write each non-empty direction to DESTDIR/NAME, NAME
# in tcpflow's default template (%A.%a-%B.%b%V%v%C%c). Prints the number of
# streams. Independent of tcpflow: used as the reference for corpus captures.
tshark_flows() {
	mkdir -p "$2"
	"$PYTHON3" - "$1" "$2" <<'PYEOF'
import collections, ipaddress, os, subprocess, sys

cap, dest = sys.argv[1], sys.argv[2]
def tshark(args):
    return subprocess.run(["tshark", "-n", "-r", cap] + args,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True).stdout

fields = ["tcp.stream", "vlan.id"]
first = {}
for line in tshark(["-Y", "tcp", "-T", "fields", "-E", "separator=/t",
                    "-E", "occurrence=a"] + sum([["-e", f] for f in fields], [])).splitlines():
    parts = line.split("\t")
    if not parts[0] or parts[0] in first:
        continue
    vlans = [v for v in parts[1].split(",") if v]
    first[parts[0]] = int(vlans[-1]) if vlans else None

def fmt(addr):
    a = ipaddress.ip_address(addr)
    if a.version == 4:
        return ".".join("%03d" % int(o) for o in addr.split("."))
    return str(a)

def endpoint(s):
    addr, port = s.strip().rsplit(":", 1)
    return fmt(addr.strip("[]")), int(port)

streams = sorted(first, key=int)
args = []
for s in streams:
    args += ["-z", "follow,tcp,raw,%s" % s]
out = tshark(["-q"] + args) if streams else ""
counter = collections.Counter()
cur = None
data = {}
for line in out.splitlines():
    if line.startswith("Filter: tcp.stream eq "):
        cur = {"stream": line.split()[-1], "nodes": {}, "data": [bytearray(), bytearray()]}
        data[cur["stream"]] = cur
    elif cur is None or line.startswith("====") or line.startswith("Follow:"):
        continue
    elif line.startswith("Node "):
        n, ep = line[5:].split(":", 1)
        cur["nodes"][int(n)] = endpoint(ep)
    elif line.strip():
        side = 1 if line.startswith("\t") else 0
        cur["data"][side] += bytes.fromhex(line.strip())
for s in streams:
    st = data.get(s)
    if st is None or len(st["nodes"]) != 2:
        continue
    for side in (0, 1):
        if not st["data"][side]:
            continue
        (sa, sp), (da, dp) = st["nodes"][side], st["nodes"][1 - side]
        name = "%s.%05d-%s.%05d" % (sa, sp, da, dp)
        if first[s] is not None:
            name += "--%d" % first[s]
        k = counter[name]
        counter[name] += 1
        if k:
            name += "c%04d" % k
        with open(os.path.join(dest, name), "wb") as f:
            f.write(st["data"][side])
print(len(streams))
PYEOF
}

# check_against_dir LABEL OUTDIR REFDIR: the flow files in OUTDIR are exactly
# those of REFDIR with the same bytes. A reference name ending in "--0" (a
# priority tag, VLAN id 0) may also appear without the suffix.
check_against_dir() {
	local label=$1 out=$2 ref=$3 f alt bad=0 n=0 matched="$TMP/matched.$$"
	: >"$matched"
	for f in $(cd "$ref" && ls); do
		n=$((n + 1))
		alt=$f
		if [ ! -f "$out/$f" ] && [ "${f%--0}" != "$f" ] && [ -f "$out/${f%--0}" ]; then
			alt=${f%--0}
		fi
		if [ ! -f "$out/$alt" ]; then
			fail "$label: flow file $f exists" "$(size_of "$ref/$f") bytes, md5 $(md5_of "$ref/$f")" "missing"
			bad=1
			continue
		fi
		echo "$alt" >>"$matched"
		if ! cmp -s "$out/$alt" "$ref/$f"; then
			fail "$label: content of $alt equals tshark's reassembly" \
				"$(size_of "$ref/$f") bytes, md5 $(md5_of "$ref/$f")" \
				"$(size_of "$out/$alt") bytes, md5 $(md5_of "$out/$alt") ($(cmp "$out/$alt" "$ref/$f" 2>&1 | head -n 1))"
			bad=1
		fi
	done
	local extra
	extra=$(list_flow_files "$out" | LC_ALL=C comm -23 - <(LC_ALL=C sort "$matched"))
	if [ -n "$extra" ]; then
		fail "$label: no flow files beyond tshark's streams" "$n files" "also: $(echo "$extra" | head -n 8 | tr '\n' ' ')"
		bad=1
	fi
	rm -f "$matched"
	if [ "$bad" -eq 0 ]; then
		ok "$label: $n flow files equal tshark's reassembly"
	fi
}
