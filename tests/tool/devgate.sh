#!/bin/bash
# devgate.sh - the device gate under load and misuse, on loopback:
#  - 1,030 devices that say HELLO against an open-file limit of 1024: the
#    device table is bounded below the fd limit (devgate raises its soft
#    limit when the hard one allows, else lowers max_devices), the devices
#    beyond it are refused at once, no busy loop, and the control socket and
#    a genuine device are still answered; the peak RSS is printed;
#  - accept failing with EMFILE (limit lowered under the running daemon with
#    prlimit): new devices wait, the daemon does not spin, control answers;
#  - a device that never says HELLO and one that goes silent after it are
#    dropped (hello_timeout, idle_timeout); PING keeps a device connected.
# "Answered" means within 10 s: a generous bound, not a speed measurement.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/devgate-test.XXXXXX) || exit 1
# below the ephemeral range (32768-60999): no client socket holds it
GATE=
HOLDERS=
cleanup() {
	for p in $HOLDERS $GATE; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
PORT=$(free_ports 1) || exit 1

# hold PORT N TAG OUT WAIT: open N connections that each say HELLO, write
# "welcome=W error=E none=X" to OUT once every one has a reply (or after
# WAIT seconds), then keep them open. On SIGTERM the devices say QUIT and
# wait for the gate to close first, so that the TIME_WAIT states stay on
# the gate's port instead of on 1,000 ephemeral ports (where they made
# other tests' random listening ports fail with EADDRINUSE). poll(), not
# select(): the fds go past FD_SETSIZE. Several holders of at most 520
# connections each keep every process below the usual 1024 open-file limit.
cat > "$T/hold.py" <<'EOF'
import os, select, signal, socket, sys, time
port, n, tag, out, wait = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
socks = {}
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"HELLO %s-%d\n" % (tag.encode(), i))
    socks[s.fileno()] = s
p = select.poll()
for fd in socks:
    p.register(fd, select.POLLIN)
count = {"welcome": 0, "error": 0}
left, end = len(socks), time.time() + wait
while left and time.time() < end:
    for fd, ev in p.poll(500):
        data = socks[fd].recv(256)
        count["welcome" if data.startswith(b"WELCOME ") else "error"] += 1
        p.unregister(fd)
        left -= 1
with open(out + ".tmp", "w") as f:
    f.write("welcome=%d error=%d none=%d\n" % (count["welcome"], count["error"], left))
os.rename(out + ".tmp", out)
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
while not stop:
    signal.pause()
p = select.poll()
for fd, s in socks.items():
    try:
        s.sendall(b"QUIT\n")
        p.register(fd, select.POLLIN)
    except OSError:
        pass
left, end = len(socks), time.time() + 10
while left and time.time() < end:
    for fd, ev in p.poll(500):
        try:
            data = socks[fd].recv(256)
        except OSError:
            data = b""
        if not data:
            p.unregister(fd)
            left -= 1
EOF

start_gate() { # CONF ULIMIT-ARGS...
	local conf=$1; shift
	rm -f "$T/ctl.sock"
	(ulimit "$@" && exec "$BIN/devgate" -c "$conf" -p $PORT -s "$T/ctl.sock" -S "$T/state") 2>"$T/gate.log" &
	GATE=$!
	wait_for 5 test -S "$T/ctl.sock"
}
# The gate first: its side closes first, as above.
stop_gate() {
	kill "$GATE" 2>/dev/null; wait "$GATE" 2>/dev/null
	GATE=
	for p in $HOLDERS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	HOLDERS=
}
hold() { # N TAG WAIT
	python3 "$T/hold.py" $PORT "$1" "$2" "$T/$2.out" "$3" &
	HOLDERS="$HOLDERS $!"
	wait_for 60 test -e "$T/$2.out"
}
sum_of() { # KEY FILES...: total of KEY=N over the holders' reports
	local k=$1; shift
	cat "$@" | tr ' ' '\n' | sed -n "s/^$k=//p" | awk '{s += $1} END {print s + 0}'
}
# A genuine device: connect, HELLO, the first reply line (empty: none in 10 s).
genuine() {
	local line=
	exec 7<>/dev/tcp/127.0.0.1/$PORT || return
	echo "HELLO $1" >&7
	read -r -t 10 line <&7
	exec 7>&-
	echo "$line"
}
# The peer closed fd $1: read ends with EOF (1), not a timeout (> 128).
eof_on() { local x rc; read -r -t 5 x <&"$1"; rc=$?; [ $rc = 1 ]; }
ctl_status() { DEVGATE_SOCKET="$T/ctl.sock" timeout 15 "$BIN/spacectl" devices status 2>&1; }
# Not spinning: less than 0.5 s of CPU time over 2 s of wall time.

echo "# 1. hard open-file limit 1024: max_devices 1024 is lowered to fit"
start_gate /nonexistent -n 1024
check "devgate says it lowered max_devices to the fd limit" grep -q "max_devices lowered to 1008 (open-file limit 1024)" "$T/gate.log"
hold 515 a 20
hold 515 b 20
check "1,030 HELLOs: 1008 welcomed, 22 refused, none left hanging" \
	test "$(sum_of welcome "$T"/a.out "$T"/b.out) $(sum_of error "$T"/a.out "$T"/b.out) $(sum_of none "$T"/a.out "$T"/b.out)" = "1008 22 0"
check "table full: the control socket answers" sh -c "$(declare -f ctl_status); T='$T' BIN='$BIN' ctl_status | grep -q '1008 device(s) connected'"
check "table full: a genuine device is refused at once" test "$(genuine real-1)" = "ERROR too many devices"
check "table full: no busy loop" idle_cpu "$GATE"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$GATE/status")
echo "# devgate peak RSS (VmHWM) holding 1008 devices after 1,030 HELLOs: $hwm kB"
check "peak RSS stays under 32 MiB" test "${hwm:-999999}" -lt 32768
kill ${HOLDERS##* }; wait ${HOLDERS##* } 2>/dev/null
check "after 515 devices left, a genuine device is welcomed" test "$(genuine real-2)" = "WELCOME real-2"
stop_gate

if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 1040 ]; then
	echo "# 2. soft limit 1024, higher hard limit (the appliance): raised to hold 1024"
	rm -f "$T"/*.out
	start_gate /nonexistent -Sn 1024
	hold 515 a 20
	hold 515 b 20
	check "1,030 HELLOs: 1024 welcomed, 6 refused, none left hanging" \
		test "$(sum_of welcome "$T"/a.out "$T"/b.out) $(sum_of error "$T"/a.out "$T"/b.out) $(sum_of none "$T"/a.out "$T"/b.out)" = "1024 6 0"
	check "the control socket answers" sh -c "$(declare -f ctl_status); T='$T' BIN='$BIN' ctl_status | grep -q '1024 device(s) connected'"
	check "no busy loop" idle_cpu "$GATE"
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$GATE/status")
	echo "# devgate peak RSS (VmHWM) holding 1024 devices after 1,030 HELLOs: $hwm kB"
	check "peak RSS stays under 32 MiB" test "${hwm:-999999}" -lt 32768
	stop_gate
else
	echo "# 2. skipped: hard open-file limit $(ulimit -Hn) < 1040"
fi

echo "# 3. accept fails with EMFILE: back off, keep the control socket"
rm -f "$T"/*.out
start_gate /nonexistent -Sn 1024
prlimit --pid "$GATE" --nofile=48:48
hold 100 c 5
check "EMFILE: some devices welcomed, the rest wait" sh -c "grep -q 'none=[1-9]' '$T/c.out' && ! grep -q 'welcome=0 ' '$T/c.out'"
check "EMFILE: no busy loop" idle_cpu "$GATE"
check "EMFILE: the control socket answers" sh -c "$(declare -f ctl_status); T='$T' BIN='$BIN' ctl_status | grep -q '^device communication open'"
check "EMFILE: logged once, not per attempt" test "$(grep -c 'accept: Too many open files' "$T/gate.log")" = 1
check "EMFILE: block still works (the state file is written)" sh -c "DEVGATE_SOCKET='$T/ctl.sock' '$BIN/spacectl' devices block | grep -q '^device communication blocked (port [0-9]*), 0 device' && grep -q blocked=1 '$T/state/state'"
check "EMFILE: unblock after the devices are gone" sh -c "DEVGATE_SOCKET='$T/ctl.sock' '$BIN/spacectl' devices unblock | grep -q '^device communication open'"
check "... and devices are accepted again" test "$(genuine real-3)" = "WELCOME real-3"
stop_gate

echo "# 4. hello and idle timeouts, PING keeps a device"
printf 'hello_timeout = 1\nidle_timeout = 2\n' > "$T/idle.conf"
l5= l6= pong= bye=
check "devgate starts with idle_timeout" start_gate "$T/idle.conf" -Sn 1024
exec 4<>/dev/tcp/127.0.0.1/$PORT                         # never says HELLO
exec 5<>/dev/tcp/127.0.0.1/$PORT; echo "HELLO silent" >&5  # says nothing more
exec 6<>/dev/tcp/127.0.0.1/$PORT; echo "HELLO talker" >&6  # PINGs
read -r -t 5 l5 <&5
read -r -t 5 l6 <&6
for i in 1 2 3 4 5 6 7 8; do echo PING >&6; read -r -t 5 pong <&6; sleep 0.5; done
check "a device that pings every 0.5 s is still there after 4 s" test "$pong" = PONG
read -r -t 5 bye <&5
check "a silent device gets BYE idle" test "${bye:-}" = "BYE idle"
check "... and its connection is closed" eof_on 5
check "a device without HELLO is closed after hello_timeout" eof_on 4
check "the log names the idle device" grep -q "device silent (127.0.0.1:[0-9]*) disconnected: idle for 2 s" "$T/gate.log"
check "status lists only the talker" sh -c "$(declare -f ctl_status); T='$T' BIN='$BIN' ctl_status | grep -q '1 device(s) connected'"
exec 4>&- 5>&- 6>&-
stop_gate

if ! done_testing; then
	tail -20 "$T/gate.log"
	exit 1
fi
