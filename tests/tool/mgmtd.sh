#!/bin/bash
# mgmtd.sh - the management API end to end on the host: watchdog starts
# devgate and mgmtd in a temp root on loopback ports; clients are curl and
# openssl s_client. Covers certificate bootstrap, TLS versions, login,
# logout, sessions (per-user cap), idle timeout, per-address login
# throttle, roles, robustness (malformed, oversized, slow clients, 50
# concurrent clients, a pipelined flood), a slow device gate, device
# block/unblock seen by a device, blocked state across a restart, a load
# run (1100 connections, full tables, flood) with the peak RSS, log rotation.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/mgmtd-test.XXXXXX) || exit 1
WD_PID=
cleanup() {
	[ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
	exec 3>&- 4>&- 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
PORT=$(free_ports 6) || exit 1
DPORT=$((PORT + 1))
URL=https://127.0.0.1:$PORT/api/v1
# nodup FILE: FILE is one JSON document in which no object holds a key twice
nodup() { python3 -c 'import json, sys
def h(p):
    k = [a for a, _ in p]
    if len(k) != len(set(k)): sys.exit("duplicate key in %r" % k)
    return dict(p)
json.load(open(sys.argv[1]), object_pairs_hook=h)' "$1"; }
# raw TEXT: send TEXT over TLS with s_client, print the status line
raw() { printf '%b' "$1" | timeout 10 openssl s_client -quiet -connect 127.0.0.1:$PORT 2>/dev/null | head -1 | tr -d '\r'; }

mkdir -p "$T/etc/watchdog.d" "$T/log" "$T/var/lib" "$T/run"
H=$(openssl passwd -6 -salt s4ltS4lt secret)
HO=$(openssl passwd -6 -salt s4ltS4lt opsecret)
HR=$(openssl passwd -6 -salt s4ltS4lt rootpw)
{
	echo "root:$HR:19000:0:99999:7:::"
	echo "admin:$H:19000:0:99999:7:::"
	echo "alice:$H:19000:0:99999:7:::"
	echo "operator:$HO:19000:0:99999:7:::"
	echo "locked:!$H:19000:0:99999:7:::"
} > "$T/etc/shadow"
echo "spaceadm:x:900:alice" > "$T/etc/group"
printf 'PRODUCT=space\nVERSION=21.3R1.3\nBUILD_ID=42\n' > "$T/etc/space-release"
printf 'mgmtd 1.0-2\nwatchdog 1.0-2\n' > "$T/etc/.Space-21.3R1-Hotpatch-v1"
{ mgmtd_conf; cat <<EOF; } > "$T/etc/mgmtd.conf"
admin_group = spaceadm
idle_timeout = 3
lockout_failures = 3
lockout_time = 4
request_timeout = 2
keepalive_timeout = 5
max_header = 2048
max_body = 1024
log_max = 4096
log_keep = 2
EOF
cat > "$T/etc/watchdog.d/devgate.conf" <<EOF
exec = $BIN/devgate -c /nonexistent -p $DPORT -s $T/run/devgate.sock -S $T/var/lib/devgate
order = 10
ready_socket = unix:$T/run/devgate.sock
output = $T/log/devgate.out
EOF
cat > "$T/etc/watchdog.d/mgmtd.conf" <<EOF
exec = $BIN/mgmtd -c $T/etc/mgmtd.conf
order = 20
ready_socket = tcp:127.0.0.1:$PORT
output = $T/log/mgmtd.out
backoff_ms = 100
EOF
"$BIN/watchdog" -d "$T/etc/watchdog.d" -s "$T/run/watchdog.sock" -H none -P "$T/run/watchdog.hold" -l "$T/log/watchdog.log" &
WD_PID=$!
check "mgmtd up under the watchdog" wait_for 10 sh -c "'$BIN/watchdogctl' -s '$T/run/watchdog.sock' status mgmtd >/dev/null 2>&1"

# --- certificate bootstrap and TLS
check "key generated with mode 0600" test "$(stat -c %a "$T/etc/mgmtd/server.key")" = 600
check "certificate is self-signed for 127.0.0.1" \
	sh -c "openssl x509 -in '$T/etc/mgmtd/server.crt' -noout -text | grep -q 'IP Address:127.0.0.1' && openssl verify -CAfile '$T/etc/mgmtd/server.crt' '$T/etc/mgmtd/server.crt' >/dev/null 2>&1 || openssl x509 -in '$T/etc/mgmtd/server.crt' -noout -issuer -subject | uniq -f0 | wc -l | grep -q ."
check "TLS 1.2 accepted" sh -c "echo | openssl s_client -tls1_2 -connect 127.0.0.1:$PORT 2>/dev/null | grep -q '^New, TLSv1.2, Cipher is ECDHE'"
check "TLS 1.3 accepted" sh -c "echo | openssl s_client -tls1_3 -connect 127.0.0.1:$PORT 2>/dev/null | grep -q '^New, TLSv1.3, Cipher is TLS_'"
check "TLS 1.1 refused" sh -c "! echo | openssl s_client -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -connect 127.0.0.1:$PORT 2>/dev/null | grep -q 'Cipher is ECDHE'"

# --- login / logout / sessions
check "system needs a login (401)" test "$(code GET system)" = 401
check "wrong password: 401" test "$(code POST login -d '{"username":"admin","password":"nope"}')" = 401
check "malformed login body: 400" test "$(code POST login -d '{"username":"admin",')" = 400
check "login as admin: 200" test "$(code POST login -c "$T/jar" -d '{"username":"admin","password":"secret"}')" = 200
check "login answers a 128-bit token" grep -Eq '"token":"[0-9a-f]{32}"' "$T/body"
check "session cookie set (HttpOnly)" grep -q '#HttpOnly_127.0.0.1.*session[[:space:]][0-9a-f]\{32\}' "$T/jar"
check "cookie session reads system" test "$(code GET system -b "$T/jar")" = 200
check "system answers the release" grep -q '"product":"space","release":"21.3R1.3","build":"42","hotpatches":\["Space-21.3R1-Hotpatch-v1"\],"hotpatch_level":1,' "$T/body"
check "standalone mode" grep -q '"mode":"standalone"' "$T/body"
# the watchdog's `apps` answer (none installed here: an empty list, not null)
check "system lists the applications the watchdog decided" \
	wait_for 3 sh -c "curl -sk -b '$T/jar' $URL/system | grep -q '\"applications\":\[\]'"
TOK=$(login admin secret)
TOK2=$(login admin secret)
check "each login is its own session" test -n "$TOK" -a -n "$TOK2" -a "$TOK" != "$TOK2"
check "bearer token accepted" test "$(code GET system -H "Authorization: Bearer $TOK")" = 200
check "logout: 200" test "$(code POST logout -H "Authorization: Bearer $TOK")" = 200
check "logged-out token refused at once" test "$(code GET system -H "Authorization: Bearer $TOK")" = 401
check "the other session still works" test "$(code GET system -H "Authorization: Bearer $TOK2")" = 200
check "services come from the watchdog" sh -c "[ \$(curl -sk -H 'Authorization: Bearer $TOK2' $URL/services | grep -o '\"name\":\"[a-z]*\",\"state\":\"running\"' | wc -l) = 2 ]"
check "hotpatches: the installed level (the API job: mgmtd-hotpatch.sh)" sh -c "curl -sk -H 'Authorization: Bearer $TOK2' $URL/hotpatches | grep -q '^{\"release\":\"21.3R1.3\",\"level\":1,\"name\":\"Space-21.3R1-Hotpatch-v1\",'"
check "unknown endpoint: 404" test "$(code GET nosuch -H "Authorization: Bearer $TOK2")" = 404
check "wrong method: 405" test "$(code DELETE system -H "Authorization: Bearer $TOK2")" = 405

# --- idle timeout (3 s): activity keeps a session, silence ends it
TOK3=$(login admin secret)
for i in 1 2 3 4; do sleep 1; code GET system -H "Authorization: Bearer $TOK3" >/dev/null; done
check "active session survives beyond the idle timeout" test "$(code GET system -H "Authorization: Bearer $TOK3")" = 200
sleep 3.5
check "idle session expired" test "$(code GET system -H "Authorization: Bearer $TOK3")" = 401

# --- roles
check "group member gets admin" sh -c "curl -sk -X POST $URL/login -d '{\"username\":\"alice\",\"password\":\"secret\"}' | grep -q '\"role\":\"admin\"'"
check "root has no management role: 403" test "$(code POST login -d '{"username":"root","password":"rootpw"}')" = 403
check "locked shadow entry never logs in" test "$(code POST login -d '{"username":"locked","password":"secret"}')" = 401
RO=$(login operator opsecret)
check "read-only user reads" test "$(code GET devices/communication -H "Authorization: Bearer $RO")" = 200
check "read-only user cannot block: 403" test "$(code POST devices/communication -H "Authorization: Bearer $RO" -d '{"action":"block"}')" = 403
for i in $(seq 1 10); do st=$(code POST login -d '{"username":"operator","password":"opsecret"}'); done
check "one user's sessions capped (max_sessions_per_user 8): 429" test "$st" = 429
check "admin still logs in" test "$(code POST login -d '{"username":"admin","password":"secret"}')" = 200
check "role denial logged" grep -q "devices/communication by operator from 127.0.0.1: denied" "$T/log/mgmtd/error.log"

# --- throttle: after 3 failures an address waits 4 s (lockout_time), even
# with the right password; other addresses do not (issue 12 #2)
A3="--interface 127.0.0.3"
for i in 1 2 3; do code POST login $A3 -d '{"username":"alice","password":"bad"}' >/dev/null; done
check "throttled address refused with the right password: 429" test "$(code POST login $A3 -d '{"username":"alice","password":"secret"}')" = 429
check "throttle says so" grep -q "too many failed logins" "$T/body"
check "every failure logged" test "$(grep -c 'login alice from 127.0.0.3: failed' "$T/log/mgmtd/error.log")" = 3
check "the same account from another address logs in: 200" test "$(code POST login -d '{"username":"alice","password":"secret"}')" = 200
sleep 4.2
check "delay over" test "$(code POST login $A3 -d '{"username":"alice","password":"secret"}')" = 200

# --- device communication, seen by a device
exec 3<>/dev/tcp/127.0.0.1/$DPORT
echo "HELLO router-1" >&3
read -r -t 3 line <&3
check "device greeted" test "${line%$'\r'}" = "WELCOME router-1"
AD=$(login admin secret)
check "status lists the device" sh -c "curl -sk -H 'Authorization: Bearer $AD' $URL/devices/communication | grep -q '\"state\":\"open\".*\"name\":\"router-1\"'"
curl -sk -o "$T/gate.json" -H "Authorization: Bearer $AD" "$URL/devices/communication"
check "devices status: no key twice (issue 12 #6)" nodup "$T/gate.json"
check "admin blocks: 200" test "$(code POST devices/communication -H "Authorization: Bearer $AD" -d '{"action":"block"}')" = 200
JOB=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/body")
read -r -t 3 line <&3
check "device told goodbye" test "$line" = "BYE blocked"
read -r -t 3 x <&3; rc=$?
check "device connection closed (EOF, not a timeout)" test "$rc" = 1
exec 3>&-
check "job record readable" sh -c "curl -sk -H 'Authorization: Bearer $AD' $URL/jobs/$JOB | grep -q '\"action\":\"block\",\"state\":\"done\"'"
check "unknown job: 404" test "$(code GET jobs/999 -H "Authorization: Bearer $AD")" = 404
check "new devices cannot connect while blocked" sh -c "! (exec 4<>/dev/tcp/127.0.0.1/$DPORT) 2>/dev/null"
check "blocked state persisted" grep -q "blocked=1" "$T/var/lib/devgate/state"
"$BIN/watchdogctl" -s "$T/run/watchdog.sock" restart devgate >/dev/null
check "still blocked after a devgate restart" sh -c "curl -sk -H 'Authorization: Bearer $AD' $URL/devices/communication | grep -q '\"state\":\"blocked\"'"
check "and the port stays closed" sh -c "! (exec 4<>/dev/tcp/127.0.0.1/$DPORT) 2>/dev/null"
check "bad action: 400" test "$(code POST devices/communication -H "Authorization: Bearer $AD" -d '{"action":"explode"}')" = 400
check "admin unblocks: 200" test "$(code POST devices/communication -H "Authorization: Bearer $AD" -d '{"action":"unblock"}')" = 200
exec 3<>/dev/tcp/127.0.0.1/$DPORT
echo "HELLO router-2" >&3
read -r -t 3 line <&3
check "devices connect again after unblock" test "$line" = "WELCOME router-2"
exec 3>&-

# --- robustness
check "garbage request: 400" test "$(raw 'HELLO THERE\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
check "bad version: 505" test "$(raw 'GET /api/v1/system HTTP/2.0\r\n\r\n')" = "HTTP/1.1 505 HTTP Version Not Supported"
check "chunked body: 501" test "$(raw 'POST /api/v1/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')" = "HTTP/1.1 501 Not Implemented"
BIGH=$(head -c 3000 /dev/zero | tr '\0' a)
check "oversized head: 431" test "$(raw "GET /api/v1/system HTTP/1.1\r\nX: $BIGH\r\n\r\n")" = "HTTP/1.1 431 Request Header Fields Too Large"
check "oversized body: 413" test "$(code POST login -d "{\"username\":\"$BIGH\"}")" = 413
check "pipelined requests in one write: both answered" \
	test "$(printf 'GET /api/v1/system HTTP/1.1\r\nHost: a\r\n\r\nGET /api/v1/nosuch HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' |
		timeout 10 openssl s_client -quiet -connect 127.0.0.1:$PORT 2>/dev/null | grep -o 'HTTP/1.1 401' | wc -l)" = 2
check "binary junk with NULs: 400" test "$(raw 'GET /\0\x01\xff HTTP/1.1\r\n\r\n')" = "HTTP/1.1 400 Bad Request"
# slow client: half a request head, then silence; request_timeout = 2 s
( printf 'GET /api/v1/system HTTP/1.1\r\nHost: x\r\n'; sleep 8 ) | timeout 10 openssl s_client -quiet -connect 127.0.0.1:$PORT > "$T/slow.out" 2>/dev/null &
SLOW=$!
idle_t0=$(date +%s)
( sleep 12 ) | ( timeout 10 openssl s_client -quiet -connect 127.0.0.1:$PORT >/dev/null 2>&1; date +%s > "$T/idle.end" ) &
sleep 0.5
t0=$(date +%s%N)
check "served while slow clients hang" test "$(code GET system -H "Authorization: Bearer $AD")" = 200
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... promptly (${dt} ms)" test "$dt" -lt 1000
sleep 2.5
check "slow client got 408 and was dropped" grep -q "408 Request Timeout" "$T/slow.out"
wait "$SLOW" 2>/dev/null
wait_for 9 test -s "$T/idle.end"
check "silent connection closed by the daemon (keepalive_timeout 5 s)" \
	test -s "$T/idle.end" -a "$(( $(cat "$T/idle.end" 2>/dev/null || echo 0) - idle_t0 ))" -le 7
AD=$(login admin secret) # the 3 s idle timeout ended the earlier session
# head-of-line blocking (issue 12 #5): one connection pipelines 6000 logins
# (a password hash each) in one write; other clients are still answered
LOAD="python3 $(dirname "$0")/mgmtd-load.py"
LB='{"username":"operator","password":"opsecret"}'
for i in $(seq 1 6000); do
	printf 'POST /api/v1/login HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s' ${#LB} "$LB"
done > "$T/flood.req"
printf 'GET /api/v1/nosuch HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' >> "$T/flood.req"
AD=$(login admin secret)
$LOAD pipeline $PORT "$T/flood.req" > "$T/flood.n" &
FLOOD=$!
sleep 1
t0=$(date +%s%N)
for i in 1 2 3 4 5; do code GET system -H "Authorization: Bearer $AD"; echo; done > "$T/hol"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "5 requests answered while one connection pipelines 6000 logins" test "$(grep -c '^200$' "$T/hol")" = 5
check "... within a generous bound (${dt} ms < 3000)" test "$dt" -lt 3000
wait "$FLOOD"
check "the pipelining connection got all 6001 answers, in turn" test "$(cat "$T/flood.n")" = 6001
AD=$(login admin secret)
# 50 concurrent clients, each with its own TLS connection
for i in $(seq 1 50); do
	curl -sk -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $AD" "$URL/system" > "$T/c.$i" &
done
wait_for 30 sh -c "[ \$(cat $T/c.* 2>/dev/null | wc -l) = 50 ]"
check "50 concurrent clients, all 200" test "$(cat "$T"/c.* | grep -c '^200$')" = 50
curl -sk -w '%{http_code} %{num_connects}\n' -H "Authorization: Bearer $AD" \
	$(for i in $(seq 1 20); do echo "$URL/system -o /dev/null"; done) > "$T/ka"
check "keep-alive: 20 requests, all 200" test "$(grep -c '^200 ' "$T/ka")" = 20
check "keep-alive: over one connection" test "$(grep -c ' 1$' "$T/ka")" = 1
check "daemon never restarted" test "$("$BIN/watchdogctl" -s "$T/run/watchdog.sock" status mgmtd | awk 'NR==2{print $5}')" = 0

# bounded client count: a second instance with max_clients = 3
P3=$((PORT + 2))
sed -e "s/^port = .*/port = $P3/" -e "s|^log_dir = .*|log_dir = $T/log/mgmtd3|" \
	-e "s/^keepalive_timeout = .*/keepalive_timeout = 30/" "$T/etc/mgmtd.conf" > "$T/etc/mgmtd3.conf"
echo "max_clients = 3" >> "$T/etc/mgmtd3.conf"
"$BIN/mgmtd" -c "$T/etc/mgmtd3.conf" 2>>"$T/log/mgmtd3.err" &
M3=$!
wait_for 5 sh -c "curl -sk -o /dev/null https://127.0.0.1:$P3/"
for i in 1 2 3; do (sleep 6 | timeout 7 openssl s_client -quiet -connect 127.0.0.1:$P3 >/dev/null 2>&1 &); done
sleep 1
check "over max_clients: refused at once" sh -c "! curl -sk -m 3 -o /dev/null https://127.0.0.1:$P3/api/v1/system"
check "slots free again once clients leave" wait_for 8 sh -c "[ \$(curl -sk -m 2 -o /dev/null -w '%{http_code}' https://127.0.0.1:$P3/api/v1/system) = 401 ]"
kill "$M3"; wait "$M3"

# --- a slow device gate (issue 12 #4): a block that takes 7 s holds no other
# client up, is answered 202 "running" after 5 s, and its job then shows
# what the gate did
P4=$((PORT + 3)); U4=https://127.0.0.1:$P4/api/v1
sed -e "s/^port = .*/port = $P4/" -e "s|^log_dir = .*|log_dir = $T/log/mgmtd4|" \
	-e "s|^devgate_socket = .*|devgate_socket = $T/run/slowgate.sock|" \
	-e "s/^idle_timeout = .*/idle_timeout = 60/" "$T/etc/mgmtd.conf" > "$T/etc/mgmtd4.conf"
$LOAD slowgate "$T/run/slowgate.sock" 7 "$T/slowgate.log" &
SG=$!
"$BIN/mgmtd" -c "$T/etc/mgmtd4.conf" 2>>"$T/log/mgmtd4.err" &
M4=$!
wait_for 5 sh -c "curl -sk -o /dev/null https://127.0.0.1:$P4/"
wait_for 5 test -S "$T/run/slowgate.sock"
AD4=$(curl -sk -X POST "$U4/login" -d '{"username":"admin","password":"secret"}' | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
curl -sk -o "$T/slow.body" -w '%{http_code}' -H "Authorization: Bearer $AD4" -X POST "$U4/devices/communication" \
	-d '{"action":"block"}' > "$T/slow.code" &
SB=$!
sleep 1
t0=$(date +%s%N)
st=$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $AD4" "$U4/system")
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "served while the gate is slow" test "$st" = 200
check "... within a generous bound (${dt} ms < 2000)" test "$dt" -lt 2000
wait "$SB"
check "slow block: 202 after the wait, not reported failed" test "$(cat "$T/slow.code")" = 202
check "... with the job running" grep -q '"action":"block","state":"running"' "$T/slow.body"
SJ=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$T/slow.body")
check "the gate applied it" wait_for 8 grep -qsx block "$T/slowgate.log"
check "and the job says so" wait_for 3 sh -c "curl -sk -H 'Authorization: Bearer $AD4' $U4/jobs/$SJ | grep -q '\"state\":\"done\"'"
check "the outcome is logged" grep -q "devices block by admin: job $SJ done" "$T/log/mgmtd4/error.log"
kill "$M4" "$SG"; wait "$M4" "$SG" 2>/dev/null

# --- load (issue 12): 1100 TLS connections held open, the failed-login table
# filled from 24 addresses (overflow by /24), one user's sessions at the cap and 6000
# pipelined logins on one connection, all at once; an admin session is
# still answered within a generous bound, and memory stays bounded
P5=$((PORT + 4)); U5=https://127.0.0.1:$P5/api/v1
sed -e "s/^port = .*/port = $P5/" -e "s|^log_dir = .*|log_dir = $T/log/mgmtd5|" \
	-e "s/^idle_timeout = .*/idle_timeout = 120/" -e "s/^keepalive_timeout = .*/keepalive_timeout = 60/" \
	-e "s/^request_timeout = .*/request_timeout = 20/" "$T/etc/mgmtd.conf" > "$T/etc/mgmtd5.conf"
printf 'max_clients = 1200\nlockout_sources = 16\nlog_max = 1048576\n' >> "$T/etc/mgmtd5.conf"
"$BIN/mgmtd" -c "$T/etc/mgmtd5.conf" 2>>"$T/log/mgmtd5.err" &
M5=$!
wait_for 5 sh -c "curl -sk -o /dev/null https://127.0.0.1:$P5/"
AD5=$(curl -sk -X POST "$U5/login" -d '{"username":"admin","password":"secret"}' | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
$LOAD hold $P5 1100 40 > "$T/hold.out" &
HOLD=$!
wait_for 60 grep -q ready "$T/hold.out"
check "1100 connections held open ($(cat "$T/hold.out"))" grep -qx "ready 1100" "$T/hold.out"
for a in $(seq 1 24); do for i in 1 2 3; do
	curl -sk -o /dev/null --interface 127.0.2.$a -X POST "$U5/login" -d '{"username":"x'$a'","password":"bad"}'
done; done
check "failed-login table filled: later addresses in the attackers' /24 counted together" \
	test "$(curl -sk -o /dev/null -w '%{http_code}' --interface 127.0.2.200 -X POST "$U5/login" -d '{"username":"admin","password":"secret"}')" = 429
# other /24s have their own overflow buckets (keyed hash, random per run: at
# most a rare one shares the attackers'); a wrong password there is checked (401)
n401=0
for a in $(seq 3 10); do
	st=$(curl -sk -o /dev/null -w '%{http_code}' --interface 127.0.$a.1 -X POST "$U5/login" -d '{"username":"admin","password":"bad"}')
	[ "$st" = 401 ] && n401=$((n401 + 1))
done
check "... but not other /24s: $n401 of 8 checked at once (>= 6)" test "$n401" -ge 6
for i in $(seq 1 10); do curl -sk -o /dev/null -X POST "$U5/login" -d '{"username":"operator","password":"opsecret"}'; done
$LOAD pipeline $P5 "$T/flood.req" > "$T/flood5.n" &
FLOOD=$!
sleep 1
t0=$(date +%s%N)
for i in 1 2 3 4 5; do curl -sk -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $AD5" "$U5/system"; done > "$T/load5"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
check "under all of it, 5 admin requests answered" test "$(grep -c '^200$' "$T/load5")" = 5
check "... within a generous bound (${dt} ms < 3000)" test "$dt" -lt 3000
wait "$FLOOD"
check "the flood was answered in full" test "$(cat "$T/flood5.n")" = 6001
RSS=$(awk '/^VmHWM/{print $2}' /proc/$M5/status)
echo "# mgmtd peak RSS (VmHWM) under load: $RSS kB"
check "memory bounded: peak RSS ${RSS} kB < 64 MiB" test "$RSS" -lt 65536
kill "$HOLD" 2>/dev/null; wait "$HOLD" 2>/dev/null
check "daemon alive after the load" kill -0 "$M5"
kill "$M5"; wait "$M5"

# --- event-loop races, against a fake watchdog this test serves
# (mgmtd-race.py): a backend answer and its client's reset in one epoll
# batch must not touch the freed connection; a pipelined request waiting
# for a call must not make the loop spin
P6=$((PORT + 5)); U6=https://127.0.0.1:$P6/api/v1
sed -e "s/^port = .*/port = $P6/" -e "s|^log_dir = .*|log_dir = $T/log/mgmtd6|" \
	-e "s|^watchdog_socket = .*|watchdog_socket = $T/run/fakewd.sock|" \
	-e "s/^idle_timeout = .*/idle_timeout = 60/" "$T/etc/mgmtd.conf" > "$T/etc/mgmtd6.conf"
"$BIN/mgmtd" -c "$T/etc/mgmtd6.conf" 2>>"$T/log/mgmtd6.err" &
M6=$!
wait_for 5 sh -c "curl -sk -o /dev/null https://127.0.0.1:$P6/"
OP6=$(curl -sk -X POST "$U6/login" -d '{"username":"operator","password":"opsecret"}' | sed -n 's/.*"token":"\([0-9a-f]*\)".*/\1/p')
RACE="python3 $(dirname "$0")/mgmtd-race.py"
R=$($RACE reset $P6 "$T/run/fakewd.sock" $M6 "$OP6" 20)
check "backend answer and client reset in one batch: no crash ($R)" test "$R" = "alive 20"
# a pipelined request that waits for a call, then one more byte: no
# busy loop on the readable socket while the call goes on
$RACE spin $P6 "$T/run/fakewd.sock" $M6 "$OP6" > "$T/spin.out"
TICKS=$(sed -n 's/^ticks //p' "$T/spin.out")
check "pipelined request waiting for a call: idle, ${TICKS:-?} CPU ticks in 2 s" \
	test "${TICKS:-999}" -lt $(($(getconf CLK_TCK) / 2))
check "... and both requests answered once the call ends" grep -qx "answers 2" "$T/spin.out"
kill "$M6" 2>/dev/null; wait "$M6"; rc=$?
check "clean exit on SIGTERM after the races (exit $rc)" test "$rc" = 0

# --- logs
check "access log has one line per request" grep -q "127.0.0.1 admin GET /api/v1/system 200" "$T/log/mgmtd/access.log"
check "access log rotated by size (log_max 4096)" test -e "$T/log/mgmtd/access.log.1"
check "rotations kept to log_keep" test ! -e "$T/log/mgmtd/access.log.3"

# --- restart of the whole node: the gate stays as it was, sessions do not
AD=$(login admin secret)
curl -sk -X POST -H "Authorization: Bearer $AD" "$URL/devices/communication" -d '{"action":"block"}' >/dev/null
kill "$WD_PID"; wait "$WD_PID"; WD_PID=
"$BIN/watchdog" -d "$T/etc/watchdog.d" -s "$T/run/watchdog.sock" -H none -P "$T/run/watchdog.hold" -l "$T/log/watchdog.log" &
WD_PID=$!
wait_for 10 sh -c "'$BIN/watchdogctl' -s '$T/run/watchdog.sock' status mgmtd >/dev/null 2>&1"
AD=$(login admin secret)
check "after a full restart the gate is still blocked" sh -c "curl -sk -H 'Authorization: Bearer $AD' $URL/devices/communication | grep -q '\"state\":\"blocked\"'"
check "sessions do not survive a daemon restart" test "$(code GET system -H "Authorization: Bearer $TOK2")" = 401
check "certificate kept across restarts" test "$(stat -c %a "$T/etc/mgmtd/server.key")" = 600

if ! done_testing; then
	tail -n 30 "$T/log/mgmtd/error.log" "$T/log/mgmtd.out" "$T/log/watchdog.log"
	exit 1
fi
