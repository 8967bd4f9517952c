#!/bin/bash
# mgmtd-epoll.sh - mgmtd when epoll refuses to change what a connection
# waits for (issue 13 item 5: the EPOLL_CTL_MOD result was ignored). A
# preloaded shim makes every EPOLL_CTL_MOD fail with ENOMEM; a client
# pipelines two requests (the first answer switches the connection to "wait
# for nothing", a MOD) and then keeps its side open. The daemon must answer
# both, say so in its error log, and close the connection at its next sweep
# rather than leave it open until the keep-alive timeout.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/mgmtd-epoll.XXXXXX) || exit 1
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
PORT=$(free_ports 1) || exit 1

cat > "$T/failmod.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/epoll.h>

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	static int (*real)(int, int, int, struct epoll_event *);

	if (op == EPOLL_CTL_MOD) {
		errno = ENOMEM;
		return -1;
	}
	if (!real)
		real = (int (*)(int, int, int, struct epoll_event *))dlsym(RTLD_NEXT, "epoll_ctl");
	return real(epfd, op, fd, ev);
}
EOF
cc -shared -fPIC -o "$T/failmod.so" "$T/failmod.c" -ldl || exit 1

mgmtd_root
mkdir -p "$T/run"
{ mgmtd_conf; echo "keepalive_timeout = 60"; } > "$T/etc/mgmtd.conf"
LD_PRELOAD=$T/failmod.so "$BIN/mgmtd" -c "$T/etc/mgmtd.conf" 2> "$T/stderr" &
PID=$!
check "mgmtd up with the failing epoll_ctl" wait_for 20 sh -c "curl -sk -o /dev/null https://127.0.0.1:$PORT/api/v1/system"

# both requests in one TLS record, then wait (up to 10 s) for the daemon
# to close; prints the answers' status lines and the seconds it took
python3 - "$PORT" > "$T/out" <<'PY'
import socket, ssl, sys, time
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
req = b"GET /api/v1/system HTTP/1.1\r\nHost: x\r\n\r\n"
start = time.monotonic()
s.sendall(req + req)
s.settimeout(10)
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
except (socket.timeout, ssl.SSLError, OSError):
    pass
print(got.count(b"HTTP/1.1 401"), int(time.monotonic() - start))
PY
read -r answered took < "$T/out"
check "both pipelined requests answered ($answered)" test "$answered" = 2
check "the connection closed by the daemon in ${took} s, not held open" test "$took" -lt 5
check "the error log says why" grep -q 'epoll: Cannot allocate memory (connection closed)' "$T/log/mgmtd/error.log"
check "mgmtd still running" kill -0 "$PID"

done_testing
