#!/bin/bash
# End-to-end: every capture of the shared corpus ($CORPUS, ../shared/corpus),
# the malformed and truncated ones included, runs clean: no crash, no hang,
# no sanitizer report, exit status 0 (or 2 with one message naming the file
# when it cannot be read at all), and a well-formed report.xml whose
# <filesize> values are the sizes on disk. With every built-in scanner (-a)
# as soon as tcpflow has scanners. Meant for the --enable-sanitizers build
# (.ci/run makes one), useful in any build. Skips when there is no corpus.
. "$(dirname "$0")/lib.sh"

if [ -z "${CORPUS:-}" ] || [ ! -d "$CORPUS" ]; then
	echo "SKIP: corpus not found (CORPUS=${CORPUS:-unset}); nothing to run"
	exit 77
fi
if ! command -v xmllint >/dev/null 2>&1; then
	echo "SKIP: xmllint (libxml2-utils) is needed to check report.xml"
	exit 77
fi
tf_tmpdir
cd "$TMP" || exit 99

if grep -q '__asan_init' "$TCPFLOW" 2>/dev/null; then
	note "tcpflow is built with AddressSanitizer"
else
	note "tcpflow is not a sanitizer build (configure --enable-sanitizers for the full check)"
fi
# Sanitizer reports go to stderr and end the run with a non-zero status.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}abort_on_error=0:exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1:exitcode=99"

# -a (every built-in scanner) as soon as tcpflow has scanners: -H lists them.
ALL=()
scanners=$("$TCPFLOW" -H 2>/dev/null | grep -E '^[A-Za-z0-9_.-]+ [0-9][^ ]* \(built-in\)' | cut -d' ' -f1 | tr '\n' ' ')
if [ -n "$scanners" ]; then
	ALL=(-a)
	note "running with -a: $scanners"
else
	note "no built-in scanners yet: running without -a"
fi

n=0
while read -r cap; do
	n=$((n + 1))
	rel=${cap#"$CORPUS"/}
	out="$TMP/out$n"
	run_tf "corpus$n" "${ALL[@]}" -o "$out" -r "$cap"
	bad=
	if [ "$RC" -ge 124 ]; then
		bad="exit status $RC (crash or hang)"
	fi
	if grep -qE 'ERROR: (Address|Leak|Memory)Sanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer' "$RUN_ERR"; then
		bad="${bad:+$bad; }$(grep -m1 -E 'ERROR: |runtime error:' "$RUN_ERR" | cut -c1-240)"
	fi
	case $RC in
	0) ;;
	2)
		if [ "$(wc -l <"$RUN_ERR")" != 1 ] || ! grep -qF "$(basename "$cap")" "$RUN_ERR"; then
			bad="${bad:+$bad; }exit 2 without one line naming the file: '$(head -n 3 "$RUN_ERR" | tr '\n' '|' | cut -c1-240)'"
		fi
		;;
	*) [ "$RC" -ge 124 ] || bad="${bad:+$bad; }exit status $RC: '$(head -n 2 "$RUN_ERR" | tr '\n' '|' | cut -c1-200)'" ;;
	esac
	report="$out/report.xml"
	if [ ! -f "$report" ]; then
		bad="${bad:+$bad; }no report.xml"
	elif ! xmllint --noout "$report" 2>/dev/null; then
		bad="${bad:+$bad; }report.xml not well-formed: $(xmllint --noout "$report" 2>&1 | head -n 1 | cut -c1-160)"
	else
		sizes=$("$PYTHON3" - "$report" <<'PYEOF'
import os, sys, xml.etree.ElementTree as ET
bad = []
for fo in ET.parse(sys.argv[1]).getroot().iter():
    if not fo.tag.endswith('fileobject'):
        continue
    name = size = None
    for ch in fo:
        if ch.tag.endswith('filename'):
            name = ch.text
        elif ch.tag.endswith('filesize'):
            size = int(ch.text)
    if name and (not os.path.exists(name) or os.path.getsize(name) != size):
        bad.append('%s: report %s, disk %s' % (os.path.basename(name), size,
                   os.path.getsize(name) if os.path.exists(name) else 'missing'))
print('; '.join(bad[:3]))
PYEOF
)
		[ -z "$sizes" ] || bad="${bad:+$bad; }report sizes differ from the files: $sizes"
	fi
	if [ -z "$bad" ]; then
		ok "$rel: clean (exit $RC, $(list_flow_files "$out" | wc -l) flow files, report well-formed)"
	else
		fail "$rel: runs clean" "no crash or sanitizer report, exit 0 (or 2 naming the file), a well-formed report" "$bad"
		show_stderr
	fi
	rm -rf "$out"
done < <(find "$CORPUS" -type f ! -name 'README*' ! -name 'MANIFEST*' ! -name '*.md' ! -name '*.tsv' ! -name '*.txt' | LC_ALL=C sort)

if [ "$n" = 0 ]; then
	echo "SKIP: no captures in $CORPUS"
	exit 77
fi
note "$n captures run"
tf_finish
