#!/bin/bash
# End-to-end: live capture. In a network namespace of its own (loopback
# only), an HTTP server and a client exchange real traffic while tcpflow
# captures it: with -i lo, with the default device, with -p, as console
# output, with tcp_timeout closing an idle connection on the wall clock, with
# md5's held entries let out while the capture is idle, and with -U/-z. Each
# capture is ended by SIGINT or SIGTERM, and the flow files and the report
# must be complete.
# Skipped (77) when network namespaces cannot be made (not root, no ip(8)).
. "$(dirname "$0")/lib.sh"

NS="tcpflow-e2e-$$"
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "live capture test needs root and ip(8) for a network namespace: skipped"
	exit 77
fi
if ! ip netns add "$NS" 2>/dev/null; then
	echo "cannot create a network namespace here (ip netns add failed): skipped"
	exit 77
fi
if [ -z "$PYTHON3" ]; then
	ip netns del "$NS"
	echo "python3 not found (the test's HTTP server): skipped"
	exit 77
fi
tf_tmpdir
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	# ip netns exec may fork: end whatever still runs inside the namespace.
	ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	if [ "${KEEP_TMP:-0}" != 1 ]; then chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"; fi
}
trap cleanup EXIT
cd "$TMP" || exit 99
ip netns exec "$NS" ip link set lo up || exit 99
inns() { ip netns exec "$NS" "$@"; }

mkdir -p "$TMP/www"
printf 'hello from the live capture test\n' >"$TMP/www/hello.txt"
"$PYTHON3" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64)' >"$TMP/www/bin.dat"

# an HTTP server on 127.0.0.1:PORT inside the namespace
start_server() {
	inns "$PYTHON3" -m http.server "$1" --bind 127.0.0.1 --directory "$TMP/www" \
		>"$TMP/server.$1.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		inns "$PYTHON3" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1).close()" \
			2>/dev/null && return 0
		sleep 0.1
	done
	echo "ERROR: the test HTTP server on port $1 did not start" >&2
	exit 99
}

# fetch PORT PATH OUT: one HTTP/1.0 GET in the namespace (curl or python)
fetch() {
	if command -v curl >/dev/null 2>&1; then
		inns curl -s -0 -o "$3" "http://127.0.0.1:$1$2"
	else
		inns "$PYTHON3" -c "import urllib.request, sys
open(sys.argv[2], 'wb').write(urllib.request.urlopen('http://127.0.0.1:$1' + sys.argv[1]).read())" "$2" "$3"
	fi
}

# start_tf LABEL ARGS...: tcpflow in the namespace, in the background, until
# it says it is listening. Sets TF_PID; output in $TMP/LABEL.out/.err
start_tf() {
	local label=$1
	shift
	# not through a shell function: the signal must reach tcpflow itself
	# (ip netns exec runs it in its own place, same pid)
	ip netns exec "$NS" env ${TF_ENV:-} "$TCPFLOW" "$@" >"$TMP/$label.out" 2>"$TMP/$label.err" &
	TF_PID=$!
	PIDS+=("$TF_PID")
	for _ in $(seq 100); do
		grep -q 'listening on' "$TMP/$label.err" 2>/dev/null && return 0
		kill -0 "$TF_PID" 2>/dev/null || break
		sleep 0.05
	done
	fail "$label: tcpflow starts listening" "'listening on ...' on stderr" "$(cat "$TMP/$label.err")"
	return 1
}

# stop_tf LABEL SIGNAL: send the signal, wait (at most 20 s); sets RC
stop_tf() {
	local label=$1 sig=$2
	sleep 0.3    # let the last packets reach tcpflow
	kill "-$sig" "$TF_PID"
	for _ in $(seq 200); do
		kill -0 "$TF_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$TF_PID" 2>/dev/null; then
		fail "$label: tcpflow ends on SIG$sig" "exit within 20 s" "still running"
		kill -9 "$TF_PID"
	fi
	wait "$TF_PID"
	RC=$?
	check_eq "$label: exit status after SIG$sig" 0 "$RC"
}

# appears PATTERN FILE [PID]: 1 when grep finds PATTERN in FILE within 5 s
# (and while PID, when given, still runs), else 0
appears() {
	for _ in $(seq 50); do
		[ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null && break
		grep -q -- "$1" "$2" 2>/dev/null && { echo 1; return; }
		sleep 0.1
	done
	echo 0
}

# check_report LABEL REPORT NFLOWS: complete and well-formed, NFLOWS fileobjects
check_report() {
	if xmllint --noout "$2" 2>/dev/null; then
		ok "$1: report.xml is well-formed"
	else
		fail "$1: report.xml is well-formed" "xmllint passes" "$(tail -c 200 "$2" 2>/dev/null)"
		return
	fi
	check_eq "$1: report lists every flow" "$3" "$(xpath "$2" "count(//*[local-name()='fileobject'])")"
	check_eq "$1: report has the run statistics" 1 "$(xpath "$2" "count(//*[local-name()='rusage'])")"
	check_eq "$1: report ends with </dfxml>" "</dfxml>" "$(tail -n 1 "$2")"
}

# check_http LABEL DIR PATH BODYFILE: one connection to the server: the
# request in the client's file, the response with the body in the server's
check_http() {
	local label=$1 dir=$2 path=$3 body=$4 req resp
	req=$(cd "$dir" && ls | grep -E '^127\.000\.000\.001\.[0-9]{5}-127\.000\.000\.001\.0800[0-9]$' | head -n 1)
	resp=$(cd "$dir" && ls | grep -E '^127\.000\.000\.001\.0800[0-9]-127\.000\.000\.001\.[0-9]{5}$' | head -n 1)
	if [ -n "$req" ] && head -n 1 "$dir/$req" | grep -q "^GET $path HTTP/1"; then
		ok "$label: the request in $req"
	else
		fail "$label: the request in the client's flow file" "GET $path HTTP/1.x" \
			"$(ls "$dir" | tr '\n' ' ') / $(head -c 60 "$dir/$req" 2>/dev/null)"
	fi
	if [ -n "$resp" ] && head -n 1 "$dir/$resp" | grep -q '^HTTP/1.[01] 200' &&
		[ "$(tail -c "$(size_of "$body")" "$dir/$resp" | md5sum | cut -d' ' -f1)" = "$(md5_of "$body")" ]; then
		ok "$label: the response, ending with the file's $(size_of "$body") bytes, in $resp"
	else
		fail "$label: the response in the server's flow file" "HTTP/1.x 200 ... and the body" \
			"$(head -c 60 "$dir/$resp" 2>/dev/null)"
	fi
	check_eq "$label: two flow files" 2 "$(ls "$dir" | grep -vc report.xml)"
}

start_server 8000
start_server 8001

# 1. -i lo, SIGINT
if start_tf lo -i lo -o "$TMP/lo" port 8000; then
	fetch 8000 /hello.txt "$TMP/got1"
	fetch 8001 /hello.txt "$TMP/got1b"    # filtered out
	stop_tf "-i lo" INT
	check_http "-i lo" "$TMP/lo" /hello.txt "$TMP/www/hello.txt"
	check_report "-i lo" "$TMP/lo/report.xml" 2
	grep -q 'stopped by signal' "$TMP/lo.err" && ok "-i lo: says it stopped on the signal" ||
		fail "-i lo: says it stopped on the signal" "stopped by signal" "$(cat "$TMP/lo.err")"
fi

# 2. the default device (no -i, no -r), -p, a binary body, SIGTERM
if start_tf default -p -o "$TMP/def" tcp port 8001; then
	fetch 8001 /bin.dat "$TMP/got2"
	stop_tf "default device -p" TERM
	check_http "default device -p" "$TMP/def" /bin.dat "$TMP/www/bin.dat"
	check_report "default device -p" "$TMP/def/report.xml" 2
fi

# 3. console output arrives while the capture runs
if start_tf console -c -i lo port 8000; then
	fetch 8000 /hello.txt "$TMP/got3"
	check_eq "-c live: the response is printed before the capture ends" 1 \
		"$(appears 'hello from the live capture test' "$TMP/console.out")"
	grep -q '^127.000.000.001.[0-9]*-127.000.000.001.08000: GET /hello.txt HTTP/1' "$TMP/console.out" &&
		ok "-c live: the request with its flow name" ||
		fail "-c live: the request with its flow name" "NAME: GET /hello.txt" "$(head -c 200 "$TMP/console.out")"
	stop_tf "-c live" INT
fi

# 4. tcp_timeout on an idle live connection: closed while nothing arrives
exec 7>"$TMP/alerts.txt"
if start_tf timeout -i lo -S tcp_timeout=1 -S tcp_alert_fd=7 -o "$TMP/to" port 8000; then
	inns "$PYTHON3" -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 8000))
s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(65536)
time.sleep(6)                      # idle, the connection left open
s.close()' &
	CLIENT=$!
	PIDS+=("$CLIENT")
	closed=0
	for _ in $(seq 50); do
		[ "$(grep -c '^close	' "$TMP/alerts.txt")" -ge 2 ] && { closed=1; break; }
		sleep 0.1
	done
	check_eq "tcp_timeout=1 live: both flows closed while the connection is idle" 1 "$closed"
	stop_tf "tcp_timeout live" INT
	wait "$CLIENT" 2>/dev/null
	check_eq "tcp_timeout=1 live: one open line per flow" 2 "$(grep -c '^open	' "$TMP/alerts.txt")"
	n=$(xpath "$TMP/to/report.xml" "string(//*[local-name()='tcp_timeouts'])")
	check_eq "tcp_timeout=1 live: timeouts counted in the report" 1 "$([ "${n:-0}" -ge 1 ] 2>/dev/null && echo 1)"
fi
exec 7>&-

# 5. -S http -S md5: a body of 16 KiB (2 KiB or more) is hashed on md5's second thread with
# its report entry held; the capture going idle lets it out, so the report
# has the body's digest while tcpflow still runs
if start_tf md5 -i lo -S http -S md5 -o "$TMP/md5" port 8001; then
	fetch 8001 /bin.dat "$TMP/got6"
	want=$(md5_of "$TMP/www/bin.dat")
	check_eq "-S md5 live: the body's MD5 is in the report before the capture ends" 1 \
		"$(appears ">$want<" "$TMP/md5/report.xml")"
	stop_tf "-S md5 live" INT
	# two flows, the request's and the response's headers, the body
	check_report "-S md5 live" "$TMP/md5/report.xml" 5
	check_eq "-S md5 live: the body's MD5, once" 1 "$(grep -c ">$want<" "$TMP/md5/report.xml")"
fi

# 5b. the same while another connection keeps the link busy (a header line
# every 0.1 s, never a quarter of a second of silence): the idle work still
# runs once a second, so the digest is in the report before that ends
if start_tf md5busy -i lo -S http -S md5 -o "$TMP/md5busy" port 8001; then
	inns "$PYTHON3" -c '
import socket, time
s = socket.create_connection(("127.0.0.1", 8001))
s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
for i in range(80):
    time.sleep(0.1)
    s.sendall(b"X-Trickle: %d\r\n" % i)
s.close()' &
	TRICKLE=$!
	PIDS+=("$TRICKLE")
	sleep 0.5
	fetch 8001 /bin.dat "$TMP/got5b"
	want=$(md5_of "$TMP/www/bin.dat")
	check_eq "-S md5 live, busy link: the body's MD5 is in the report while packets keep coming" \
		1 "$(appears ">$want<" "$TMP/md5busy/report.xml" "$TRICKLE")"
	wait "$TRICKLE" 2>/dev/null
	stop_tf "-S md5 live, busy link" INT
	check_eq "-S md5 live, busy link: the body's MD5, once" 1 \
		"$(grep -c ">$want<" "$TMP/md5busy/report.xml")"
fi

# 6. -U nobody -z DIR: capture as root, write as nobody inside DIR
if id nobody >/dev/null 2>&1; then
	mkdir -p "$TMP/jail/out"
	chown nobody "$TMP/jail/out"
	chmod 755 "$TMP" "$TMP/jail"
	# (LeakSanitizer cannot work inside a chroot without /proc: off for this run)
	if TF_ENV="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		start_tf privs -U nobody -z "$TMP/jail" -i lo -o /out port 8000; then
		check_eq "-U nobody: tcpflow runs as nobody" nobody "$(ps -o user= -p "$TF_PID" | tr -d ' ')"
		fetch 8000 /hello.txt "$TMP/got5"
		stop_tf "-U nobody -z" INT
		check_http "-U nobody -z" "$TMP/jail/out" /hello.txt "$TMP/www/hello.txt"
		check_report "-U nobody -z" "$TMP/jail/out/report.xml" 2
		check_eq "-U nobody: the files belong to nobody" nobody \
			"$(stat -c %U "$TMP/jail/out/report.xml")"
	fi
	inns "$TCPFLOW" -U no-such-user-here -i lo -o "$TMP/nouser" >/dev/null 2>"$TMP/nouser.err"
	check_eq "-U unknown user: exit status" 2 "$?"
	grep -q 'no-such-user-here' "$TMP/nouser.err" && ok "-U unknown user: named" ||
		fail "-U unknown user: named" "the user" "$(cat "$TMP/nouser.err")"
fi
inns "$TCPFLOW" -z "$TMP" -i lo -o "$TMP/noU" >/dev/null 2>"$TMP/noU.err"
check_eq "-z without -U: exit status" 2 "$?"
inns "$TCPFLOW" -i no-such-if0 -o "$TMP/noif" >/dev/null 2>"$TMP/noif.err"
check_eq "-i on a missing interface: exit status" 2 "$?"
grep -q 'no-such-if0' "$TMP/noif.err" && ok "-i on a missing interface: named" ||
	fail "-i on a missing interface: named" "no-such-if0" "$(cat "$TMP/noif.err")"

tf_finish
