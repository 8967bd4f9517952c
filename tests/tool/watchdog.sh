#!/bin/bash
# watchdog.sh - the service supervisor on the host: start order with
# readiness, a killed service comes back, exponential back-off and the
# give-up limit, stop/start/restart, SIGKILL after the stop timeout,
# shutdown in reverse order, control-socket permissions, housekeeping.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/watchdog-test.XXXXXX)
# no applications root of the host (apps.sh tests applications)
export WATCHDOG_APPS=none
WD_PID=
silent=
cleanup() {
	[ -n "$silent" ] && kill "$silent" 2>/dev/null
	[ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
ctl() { "$BIN/watchdogctl" -s "$T/wd.sock" "$@"; }
field() { ctl status "$1" | awk -v f="$2" 'NR==2 { print $f }'; }

mkdir -p "$T/conf" "$T/log"
# A well-behaved service: logs start/stop events, becomes ready after 0.5 s.
cat > "$T/svc.sh" <<EOS
#!/bin/bash
name=\$1
echo "start \$name \$(date +%s%N)" >> $T/events
trap 'echo "stop \$name" >> $T/events; exit 0' TERM
sleep 0.5; touch $T/ready.\$name
while :; do sleep 0.1; done
EOS
# A service that crashes at once, recording when it started.
cat > "$T/crash.sh" <<EOS
#!/bin/bash
date +%s%N >> $T/crash.times
exit 3
EOS
# A service that ignores SIGTERM.
cat > "$T/stubborn.sh" <<EOS
#!/bin/bash
trap '' TERM
while :; do sleep 0.1; done
EOS
chmod +x "$T"/*.sh
cat > "$T/conf/alpha.conf" <<EOS
exec = $T/svc.sh alpha
order = 10
ready_command = /usr/bin/test -e $T/ready.alpha
backoff_ms = 100
EOS
cat > "$T/conf/beta.conf" <<EOS
exec = $T/svc.sh beta
order = 20
ready_socket = unix:$T/nonexistent.sock
ready_timeout = 1
EOS
cat > "$T/conf/crash.conf" <<EOS
exec = $T/crash.sh
order = 30
backoff_ms = 200
backoff_max_ms = 5000
max_restarts = 3
restart_window = 30
EOS
cat > "$T/conf/stubborn.conf" <<EOS
exec = $T/stubborn.sh
order = 40
stop_timeout = 1
EOS
echo "exec = relative/path" > "$T/conf/broken.conf"
# environment, working directory and user of a service
RUNAS=$(id -un)
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then RUNAS=nobody; chmod 755 "$T"; fi
mkdir -m 777 "$T/pub"
cat > "$T/conf/envy.conf" <<EOS
exec = /bin/sh -c 'echo "\$FOO|\$(pwd)|\$(id -un)" > $T/pub/envy.out; exec sleep 1000'
env = FOO=bar baz
cwd = $T/conf
user = $RUNAS
order = 50
EOS
cat > "$T/hk.conf" <<EOS
log_dir = $T/log
rotate_size = 1000
rotate_keep = 2
tmp_dir =
EOS
head -c 5000 /dev/zero > "$T/log/big.log"

"$BIN/watchdog" -d "$T/conf" -s "$T/wd.sock" -H "$T/hk.conf" -i 1 -l "$T/wd.log" -P "$T/hold" &
WD_PID=$!

check "control socket appears" wait_for 5 test -S "$T/wd.sock"
check "control socket is mode 0600" test "$(stat -c %a "$T/wd.sock")" = 600
check "alpha becomes running" wait_for 5 sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' status alpha >/dev/null"
check "beta running after its ready timeout" wait_for 5 sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' status beta >/dev/null 2>&1"
a_ready=$(stat -c %Y "$T/ready.alpha" 2>/dev/null || echo 0)
b_start=$(awk '$1=="start" && $2=="beta" { print $3; exit }' "$T/events")
a_start=$(awk '$1=="start" && $2=="alpha" { print $3; exit }' "$T/events")
check "beta started after alpha was ready (start order)" \
	test -n "$b_start" -a -n "$a_start" -a "$((b_start - a_start))" -ge 400000000
check "service got its environment, directory and user" \
	wait_for 3 sh -c "[ \"\$(cat '$T/pub/envy.out' 2>/dev/null)\" = 'bar baz|$T/conf|$RUNAS' ]"
check "broken definition logged and skipped" grep -q "broken.conf: line 1: exec: program must be an absolute path" "$T/wd.log"

# a killed service comes back
pid1=$(field alpha 3)
kill -9 "$pid1"
check "killed alpha comes back with a new pid" \
	wait_for 5 sh -c "p=\$('$BIN/watchdogctl' -s '$T/wd.sock' status alpha | awk 'NR==2{print \$3}'); [ -n \"\$p\" ] && [ \"\$p\" != $pid1 ] && [ \"\$p\" != 0 ]"
check "restart counted and last exit recorded" test "$(field alpha 5)" = 1 -a "$(ctl status alpha | awk 'NR==2{print $6, $7}')" = "signal 9"

# back-off and give-up: 1 start + 3 restarts, delays 200, 400, 800 ms
check "crash loop ends in failed" wait_for 8 sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' status crash | grep -q ' failed '"
check "status NAME of a failed service exits 1" sh -c "ctl() { '$BIN/watchdogctl' -s '$T/wd.sock' \"\$@\"; }; ctl status crash >/dev/null; [ \$? = 1 ]"
starts=$(wc -l < "$T/crash.times")
check "gave up after max_restarts ($starts starts)" test "$starts" = 4
mapfile -t ts < "$T/crash.times"
d1=$(( (ts[1] - ts[0]) / 1000000 )); d2=$(( (ts[2] - ts[1]) / 1000000 )); d3=$(( (ts[3] - ts[2]) / 1000000 ))
check "exponential back-off (${d1} ${d2} ${d3} ms)" \
	test "$d1" -ge 190 -a "$d2" -ge 390 -a "$d3" -ge 790 -a "$d3" -lt 2000
sleep 1
check "no start after giving up" test "$(wc -l < "$T/crash.times")" = 4
ctl start crash >/dev/null 2>&1
check "start of a failed service resets its restart history" \
	wait_for 8 sh -c "[ \$(wc -l < '$T/crash.times') = 8 ] && '$BIN/watchdogctl' -s '$T/wd.sock' status crash | grep -q ' failed '"

# stop / start / restart
check "stop waits for the end" ctl stop alpha
check "stopped alpha is reported stopped" test "$(field alpha 2)" = stopped
check "stopped service logged its TERM" grep -q "stop alpha" "$T/events"
sleep 0.5
check "an administratively stopped service stays stopped" test "$(field alpha 2)" = stopped
check "start waits until ready" ctl start alpha
check "alpha running again" test "$(field alpha 2)" = running
pid2=$(field alpha 3)
check "restart gives a new pid" sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' restart alpha >/dev/null && [ \$('$BIN/watchdogctl' -s '$T/wd.sock' status alpha | awk 'NR==2{print \$3}') != $pid2 ]"
t0=$(date +%s%N)
ctl stop stubborn >/dev/null
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM-ignoring service killed after stop_timeout (${dt} ms)" test "$dt" -ge 900 -a "$dt" -lt 3000
check "its last exit is SIGKILL" test "$(ctl status stubborn | awk 'NR==2{print $6, $7}')" = "signal 9"
ctl start stubborn >/dev/null

check "unknown service: exit 1" sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' stop nosuch 2>/dev/null; [ \$? = 1 ]"
check "usage error: exit 100" sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' frobnicate 2>/dev/null; [ \$? = 100 ]"
check "json status is an array of objects" sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' --json status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0][\"name\"]==\"alpha\" and isinstance(d[0][\"pid\"], int)'"
if command -v setpriv >/dev/null; then
	chmod 755 "$T"
	check "non-root client refused" sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups '$BIN/watchdogctl' -s '$T/wd.sock' status >/dev/null 2>&1; [ \$? = 111 ]"
fi

# housekeeping ran (interval 1 s, first run after 5 s)
check "housekeeping rotated the big log" wait_for 8 test -e "$T/log/big.log.1"

# shutdown: reverse order, then exit 0
: > "$T/events"
ctl shutdown >/dev/null
rc=$?
check "shutdown answered ok" test "$rc" = 0
wait "$WD_PID"; wrc=$?; WD_PID=
check "watchdog exited 0" test "$wrc" = 0
check "services stopped in reverse start order" test "$(grep '^stop' "$T/events" | tr '\n' ' ')" = "stop beta stop alpha "
check "no service process left" sh -c "! pgrep -f '$T/[cs]' >/dev/null"
check "control socket removed" test ! -e "$T/wd.sock"

# shutdown --hold: init respawns the watchdog, but services stay down
"$BIN/watchdog" -d "$T/conf" -s "$T/wd.sock" -H none -l "$T/wd2.log" -P "$T/hold" &
WD_PID=$!
wait_for 5 sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' status alpha >/dev/null 2>&1"
ctl shutdown --hold >/dev/null
wait "$WD_PID"; WD_PID=
check "shutdown --hold leaves the hold file" test -e "$T/hold"
: > "$T/events"
"$BIN/watchdog" -d "$T/conf" -s "$T/wd.sock" -H none -l "$T/wd2.log" -P "$T/hold" &
WD_PID=$!
wait_for 5 test -S "$T/wd.sock"
sleep 1
check "held: no service started" test ! -s "$T/events"
check "held: status says so" sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' status | head -1 | grep -q '^watchdog: held'"
check "release answers ok" ctl release
check "released: services start in order" wait_for 5 sh -c "[ \"\$(grep -o '^start [a-z]*' '$T/events' | tr '\n' ' ')\" = 'start alpha start beta ' ]"
check "hold file removed" test ! -e "$T/hold"
ctl shutdown >/dev/null; wait "$WD_PID"; WD_PID=

# SIGTERM to the watchdog stops everything too
"$BIN/watchdog" -d "$T/conf" -s "$T/wd.sock" -H none -l "$T/wd2.log" -P "$T/hold" &
WD_PID=$!
wait_for 5 sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' status beta >/dev/null 2>&1"
kill -TERM "$WD_PID"; wait "$WD_PID"; wrc=$?; WD_PID=
check "SIGTERM: clean exit" test "$wrc" = 0
check "SIGTERM: no service process left" sh -c "! pgrep -f '$T/[cs]' >/dev/null"

# The control socket under load (issue 12): at most 32 control connections,
# 24 of them waiting; silent clients never stall the supervisor; out of fds
# the listener rests instead of spinning and a spare fd keeps status alive.
# Not spinning: less than 0.5 s of CPU time over 2 s of wall time.
status_within() { timeout "$1" "$BIN/watchdogctl" -s "$T/wd3.sock" status >/dev/null; }
mkdir "$T/conf3"
printf 'exec = %s\nstop_timeout = 60\n' "$T/stubborn.sh" > "$T/conf3/slow.conf"
"$BIN/watchdog" -d "$T/conf3" -s "$T/wd3.sock" -H none -l "$T/wd3.log" -P "$T/hold3" &
WD_PID=$!
wait_for 5 sh -c "'$BIN/watchdogctl' -s '$T/wd3.sock' status slow >/dev/null 2>&1"
slow_pid=$("$BIN/watchdogctl" -s "$T/wd3.sock" status slow | awk 'NR==2 {print $3}')
stoppers=
for i in $(seq 30); do
	( "$BIN/watchdogctl" -s "$T/wd3.sock" stop slow; echo "rc=$?" ) >"$T/stop.$i" 2>&1 &
	stoppers="$stoppers $!"
done
check "30 clients stop a service that ignores SIGTERM: 6 over the 24 waiting are refused" \
	wait_for 5 sh -c "[ \$(cat '$T'/stop.* | grep -c 'too many waiting clients') = 6 ]"
check "status answered while 24 clients wait" status_within 5
# 40 clients that connect and say nothing, held open: 8 slots turn over
# each second, the rest wait in the listen queue (or are refused by it)
silent_clients() {
	python3 -c '
import socket, sys, time
held = []
for i in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        s.connect(sys.argv[1])
        held.append(s)
    except OSError:
        s.close()
time.sleep(30)' "$T/wd3.sock" "$1" &
	silent=$!
	sleep 0.2
}
silent_clients 40
check "40 silent clients: status answered within 8 s" status_within 8
check "silent clients: no busy loop" idle_cpu "$WD_PID"
kill $silent; wait $silent 2>/dev/null
# no fd left: the soft open-file limit lowered to the lowest free fd number
nfd=0
while [ -e "/proc/$WD_PID/fd/$nfd" ]; do nfd=$((nfd + 1)); done
prlimit --pid "$WD_PID" --nofile="$nfd:"
check "EMFILE: status answered (a spare fd)" status_within 5
check "EMFILE: status answered again" status_within 5
silent_clients 20
check "EMFILE with clients queued: no busy loop" idle_cpu "$WD_PID"
check "EMFILE: logged once, not per attempt" test "$(grep -c 'accept: Too many open files' "$T/wd3.log")" = 1
kill $silent; wait $silent 2>/dev/null
check "EMFILE: status answered once the queue is gone" wait_for 5 status_within 2
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$WD_PID/status")
echo "# watchdog peak RSS (VmHWM) after 30 stop clients, 40 silent clients, EMFILE: $hwm kB"
check "peak RSS stays under 16 MiB" test "${hwm:-999999}" -lt 16384
prlimit --pid "$WD_PID" --nofile=1024:
kill -9 "$slow_pid"
wait $stoppers
check "the 24 waiting clients are answered ok when it ends" \
	test "$(cat "$T"/stop.* | grep -c '^rc=0$')" = 24
"$BIN/watchdogctl" -s "$T/wd3.sock" shutdown >/dev/null; wait "$WD_PID"; WD_PID=

if ! done_testing; then
	cat "$T/wd.log" "$T/wd3.log"
	exit 1
fi
