#!/bin/bash
# mgmtd-upgrade.sh - the API job of spacectl upgrade (issue 7), end to end
# on the host: mgmtd in a temp root on a loopback port, curl and a small
# Python TLS client, and a fake spacectl that writes the status file as the
# real one does (pkg/mgmtd/UPGRADE.md).
# Covers the upload (good, too big, bad names, roles, a second one at the
# same time, interrupted, stalled, a full filesystem, leftovers of a
# crash), the start (argv, detached, 409, errors, no zombie), progress
# polling until "ready", a failed run, and the "upgrade" object of
# /api/v1/system.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/mgmtd-upgrade.XXXXXX) || exit 1
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
PORT=$(free_ports 2) || exit 1
URL=https://127.0.0.1:$PORT/api/v1
UP=$T/var/tmp/upgrade
ST=$T/var/lib/upgrade/status
IMG=space-21.3R2.img
# put FILE NAME [curl args...]: upload FILE as NAME, print the status
put() { local f=$1 n=$2; shift 2; curl -sk -o "$T/body" -w '%{http_code}' -T "$f" -H "Authorization: Bearer $AD" "$@" "$URL/upgrade/image/$n"; }
# leftovers: no temporary upload file
no_tmp() { ! ls "$UP" 2>/dev/null | grep -q '\.tmp\.'; }
# pyput PORT TOKEN NAME SIZE SEND SLEEP: a TLS client that announces SIZE
# bytes, sends SEND of them, sleeps, and prints what it got back
pyput() {
	python3 - "$@" <<'PY'
import socket, ssl, sys, time
port, tok, name, size, send, nap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port))))
s.sendall(("PUT /api/v1/upgrade/image/%s HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n"
           "Content-Length: %d\r\n\r\n" % (name, tok, size)).encode() + b"x" * send)
s.settimeout(nap)
try:
    print(s.recv(4096).decode(errors="replace").splitlines()[0])
except Exception as e:
    print("nothing:", type(e).__name__)
PY
}

mgmtd_root
mkdir -p "$T/var/lib/upgrade" "$UP"
# the fake spacectl: records how it was run, then walks the status file
# through checking, writing (progress), verifying and ready, each written
# atomically as the contract says; with $T/fail present it fails instead
cat > "$T/spacectl" <<EOF
#!/bin/sh
echo "\$*" > "$T/args"
readlink /proc/\$\$/fd/0 > "$T/stdin"
grep SigBlk /proc/\$\$/status | tr -d '\t' > "$T/sigblk"
ps -o sid= -p \$\$ | tr -d ' ' > "$T/sid"
w() { printf '%s\n' "\$@" > "$ST.tmp" && mv "$ST.tmp" "$ST"; }
t0=\$(date +%s)
w "state = checking" "release = 21.3R2" "from = 21.3R1.3" "slot = b" "started = \$t0"
sleep 0.3
if [ -e "$T/fail" ]; then
	w "state = failed" "release = 21.3R2" "from = 21.3R1.3" "started = \$t0" "finished = \$(date +%s)" \
		"reason = upgrade path 21.3 -> 21.9 not supported; supported: 21.4"
	echo "spacectl upgrade: refused" >&2
	exit 1
fi
for p in 0 25 50 75 100; do
	w "state = writing" "release = 21.3R2" "from = 21.3R1.3" "slot = b" "progress = \$p" "started = \$t0"
	sleep 0.4
done
w "state = verifying" "release = 21.3R2" "from = 21.3R1.3" "slot = b" "progress = 100" "started = \$t0"
sleep 0.3
w "state = ready" "release = 21.3R2" "from = 21.3R1.3" "slot = b" "progress = 100" "started = \$t0" \
	"finished = \$(date +%s)" "log = /var/log/upgrade/upgrade-test.log"
echo "spacectl upgrade: ready; reboot to try 21.3R2"
EOF
chmod +x "$T/spacectl"
{ mgmtd_conf; cat <<EOF; } > "$T/etc/mgmtd.conf"
request_timeout = 2
max_body = 1024
upload_dir = $UP
upload_max = 8388608
upload_keep_free = 0
spacectl = $T/spacectl
upgrade_status = $ST
EOF
# what a killed mgmtd left: removed at start; other files are not touched
: > "$UP/space-21.3R1.img.tmp.4242"
: > "$UP/notes.tmp.1"
start_mgmtd
PIDS="$M"
check "a crash's partial upload removed at start" test ! -e "$UP/space-21.3R1.img.tmp.4242"
check "... and only that" test -e "$UP/notes.tmp.1"
rm -f "$UP/notes.tmp.1"
mgmtd_login

# --- before any upgrade
check "GET upgrade: 200" test "$(code GET upgrade -H "Authorization: Bearer $AD")" = 200
check "... idle without a status file" test "$(jget "$T/body" state)" = idle
check "... no job, no upload" test "$(jget "$T/body" job) $(jget "$T/body" upload)" = "null null"
curl -sk -o "$T/sys" -H "Authorization: Bearer $AD" "$URL/system"
check "system: upgrade idle" test "$(jget "$T/sys" upgrade state)" = idle
check "system: no watchdog answered, applications null" test "$(jget "$T/sys" applications)" = null
check "upgrade needs a login (401)" test "$(code GET upgrade)" = 401

# --- upload
head -c 3145728 /dev/urandom > "$T/good.img"
check "upload 3 MiB: 201" test "$(put "$T/good.img" $IMG)" = 201
check "... answers name, size and SHA-256" \
	test "$(jget "$T/body" file) $(jget "$T/body" size) $(jget "$T/body" sha256)" = "$IMG 3145728 $(sha256sum < "$T/good.img" | cut -d' ' -f1)"
check "... the file is the image" cmp -s "$T/good.img" "$UP/$IMG"
check "... no temporary file left" no_tmp
check "... logged" grep -q "upload $IMG by admin: done, 3145728 bytes, sha256" "$T/log/mgmtd/error.log"
check "the same upload again replaces it: 201" test "$(put "$T/good.img" $IMG)" = 201
head -c 9437184 /dev/zero > "$T/big.img"
check "9 MiB over upload_max (8 MiB): 413" test "$(put "$T/big.img" space-21.3R3.img)" = 413
check "... says why" grep -q "over upload_max" "$T/body"
check "... nothing written" test ! -e "$UP/space-21.3R3.img" -a -z "$(ls "$UP" | grep -v "^$IMG\$")"
check "... refused before the body: a client asking first gets it at once" \
	test "$(printf 'PUT /api/v1/upgrade/image/space-9.9.img HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\nContent-Length: 10737418240\r\nExpect: 100-continue\r\n\r\n' "$AD" |
		timeout 5 openssl s_client -quiet -connect 127.0.0.1:$PORT 2>/dev/null | head -1 | tr -d '\r')" = "HTTP/1.1 413 Content Too Large"
echo tiny > "$T/tiny.img"
for name in '../space-21.3R2.img' 'x/space-21.3R2.img' '.img' 'space-21.3R2.tar' 'space-21..3.img' 'Space-21.3R2.img' \
	'space-.img' 'space21.3.img' 'space-21.3R2.img.' '%2e%2e%2fspace-1.img' "space-$(printf '1%.0s' $(seq 1 100)).img"; do
	check "bad name ${name:0:30}: 400" test "$(put "$T/tiny.img" "$name" --path-as-is)" = 400
done
check "... nothing written for any of them" test "$(ls -A "$UP" | grep -v "^$IMG\$" | wc -l)" = 0
check "... and outside the upload directory neither" test ! -e "$T/var/tmp/space-21.3R2.img"
check "read-only user cannot upload: 403" test "$(curl -sk -o /dev/null -w '%{http_code}' -T "$T/tiny.img" -H "Authorization: Bearer $RO" "$URL/upgrade/image/space-1.1.img")" = 403
check "no login, no upload: 401" test "$(curl -sk -o /dev/null -w '%{http_code}' -T "$T/tiny.img" "$URL/upgrade/image/space-1.1.img")" = 401
check "no Content-Length: 411" \
	test "$(printf 'PUT /api/v1/upgrade/image/space-9.9.img HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n\r\n' "$AD" |
		timeout 5 openssl s_client -quiet -connect 127.0.0.1:$PORT 2>/dev/null | head -1 | tr -d '\r')" = "HTTP/1.1 411 Length Required"
check "other requests keep max_body (1024): 413" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d "{\"file\":\"$(head -c 2000 /dev/zero | tr '\0' a)\"}")" = 413

# one upload at a time; the others are served meanwhile
head -c 4194304 /dev/urandom > "$T/slow.img"
curl -sk -o "$T/slow.body" -w '%{http_code}' --limit-rate 1M -T "$T/slow.img" -H "Authorization: Bearer $AD" \
	"$URL/upgrade/image/space-21.3R4.img" > "$T/slow.code" &
SLOW=$!
wait_for 5 sh -c "ls '$UP' | grep -q '^space-21.3R4.img.tmp'"
check "second upload while one runs: 409" test "$(put "$T/tiny.img" space-21.3R5.img)" = 409
check "... says why" grep -q "an upload is in progress (space-21.3R4.img)" "$T/body"
check "served during the upload" test "$(code GET system -H "Authorization: Bearer $AD")" = 200
code GET upgrade -H "Authorization: Bearer $AD" >/dev/null
check "GET upgrade shows the upload under way" \
	python3 -c 'import json, sys; u = json.load(open(sys.argv[1]))["upload"]
sys.exit(not (u["file"] == "space-21.3R4.img" and u["size"] == 4194304 and 0 < u["received"] < u["size"]))' "$T/body"
wait "$SLOW"
check "the slow upload completes: 201" test "$(cat "$T/slow.code")" = 201
check "... intact" cmp -s "$T/slow.img" "$UP/space-21.3R4.img"

# interrupted: the client goes half-way; nothing remains, the slot is free
curl -sk -o /dev/null --limit-rate 1M -T "$T/slow.img" -H "Authorization: Bearer $AD" "$URL/upgrade/image/space-21.3R6.img" &
CUT=$!
wait_for 5 sh -c "ls '$UP' | grep -q '^space-21.3R6.img.tmp'"
sleep 0.5
kill "$CUT"; wait "$CUT" 2>/dev/null
check "interrupted upload: no file under the final name" wait_for 3 test ! -e "$UP/space-21.3R6.img"
check "... nor a temporary one" wait_for 3 no_tmp
check "... logged" grep -q "upload space-21.3R6.img by admin: aborted after [0-9]* of 4194304 bytes: the connection closed" "$T/log/mgmtd/error.log"
check "... the next upload is taken: 201" test "$(put "$T/tiny.img" space-21.3R7.img)" = 201
# stalled: 1000 of 2000 bytes, then silence; request_timeout is 2 s
check "stalled upload answered 408" test "$(pyput $PORT "$AD" space-21.3R8.img 2000 1000 6)" = "HTTP/1.1 408 Request Timeout"
check "... and dropped: no file" test ! -e "$UP/space-21.3R8.img" 
check "... no temporary file" no_tmp
check "... the next upload is taken: 201" test "$(put "$T/tiny.img" space-21.3R9.img)" = 201
# a request pipelined behind an upload is answered
check "keep-alive after an upload: the next request on the connection answered" \
	test "$(curl -sk -o /dev/null -w '%{http_code} ' -T "$T/tiny.img" -H "Authorization: Bearer $AD" "$URL/upgrade/image/space-21.3R9.img" \
		--next -sk -o /dev/null -w '%{http_code} %{num_connects}' -H "Authorization: Bearer $AD" "$URL/upgrade")" = "201 200 0"

# --- start
check "start: bad JSON 400" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d '{"file":')" = 400
check "start: reboot not a boolean 400" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d "{\"file\":\"$IMG\",\"reboot\":\"yes\"}")" = 400
check "start: bad name 400" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d '{"file":"../../etc/shadow"}')" = 400
check "start: not uploaded 404" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d '{"file":"space-30.1R1.img"}')" = 404
check "... says what to do" grep -q "upload it first" "$T/body"
ln -s "$UP/$IMG" "$UP/space-30.1R2.img"
check "start: a symlink is not an image: 400" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d '{"file":"space-30.1R2.img"}')" = 400
check "start: read-only user 403" test "$(code POST upgrade -H "Authorization: Bearer $RO" -d "{\"file\":\"$IMG\"}")" = 403
check "start: 202" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d "{\"file\":\"$IMG\",\"reboot\":true}")" = 202
check "... the job runs" test "$(jget "$T/body" job running) $(jget "$T/body" job file) $(jget "$T/body" job reboot)" = "true $IMG true"
check "second start while it runs: 409" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d "{\"file\":\"$IMG\"}")" = 409
check "... says why" grep -q "an upgrade is running" "$T/body"
wait_for 3 test -s "$T/sid"
check "spacectl run with argv: upgrade --reboot PATH" test "$(cat "$T/args")" = "upgrade --reboot $UP/$IMG"
check "... stdin /dev/null" test "$(cat "$T/stdin")" = /dev/null
check "... no signal blocked (mgmtd's mask not inherited)" test "$(cat "$T/sigblk")" = "SigBlk:0000000000000000"
check "... in its own session (detached)" test "$(cat "$T/sid")" != "$(ps -o sid= -p $M | tr -d ' ')"
# progress polling until ready
seen=
for i in $(seq 1 100); do
	curl -sk -o "$T/poll" -H "Authorization: Bearer $AD" "$URL/upgrade"
	s=$(jget "$T/poll" state)
	[ "$s" = writing ] && seen="$seen $(jget "$T/poll" progress)"
	[ "$s" = ready ] && break
	sleep 0.1
done
check "polled until ready" test "$s" = ready
check "... progress seen while writing:$seen" test -n "$seen"
check "... the status file's fields" \
	test "$(jget "$T/poll" release) $(jget "$T/poll" from) $(jget "$T/poll" slot) $(jget "$T/poll" progress) $(jget "$T/poll" log)" = \
	"21.3R2 21.3R1.3 b 100 /var/log/upgrade/upgrade-test.log"
check "... started and finished are numbers" python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(not (isinstance(d["started"], int) and d["finished"] >= d["started"]))' "$T/poll"
check "job reaped: exit 0" wait_for 3 sh -c "curl -sk -o $T/job -H 'Authorization: Bearer $AD' $URL/upgrade; grep -q '\"running\":false,\"finished\":[0-9]*,\"exit\":0' $T/job"
check "no zombie left" sh -c "! ps -o stat= --ppid $M | grep -q Z"
check "its output in the upgrade log" grep -q "spacectl upgrade: ready; reboot to try 21.3R2" "$T/log/mgmtd/upgrade.log"
check "start and end logged" sh -c "grep -q 'upgrade $IMG by admin: started $T/spacectl upgrade --reboot' '$T/log/mgmtd/error.log' && grep -q 'upgrade $IMG by admin: spacectl exited 0' '$T/log/mgmtd/error.log'"
sleep 1.1 # system is cached for a second
curl -sk -o "$T/sys" -H "Authorization: Bearer $AD" "$URL/system"
check "system: the upgrade object" test "$(jget "$T/sys" upgrade state) $(jget "$T/sys" upgrade release) $(jget "$T/sys" upgrade progress)" = "ready 21.3R2 100"
check "system: still the release" test "$(jget "$T/sys" release)" = 21.3R1.3
check "read-only user reads the upgrade" test "$(code GET upgrade -H "Authorization: Bearer $RO")" = 200
# a failed run: the status file's reason, the exit code
touch "$T/fail"
check "start again once it ended: 202" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d "{\"file\":\"$IMG\"}")" = 202
check "... without --reboot" wait_for 3 sh -c "[ \"\$(cat $T/args)\" = 'upgrade $UP/$IMG' ]"
check "a refused upgrade shows failed and why" wait_for 5 sh -c "curl -sk -H 'Authorization: Bearer $AD' $URL/upgrade | grep -q '\"state\":\"failed\".*\"reason\":\"upgrade path 21.3 -> 21.9 not supported; supported: 21.4\".*\"exit\":1'"
# a status file that is not the contract
printf 'state = writing\nprogress = lots\n' > "$ST"
code GET upgrade -H "Authorization: Bearer $RO" >/dev/null
check "a bad number in the status file is null" test "$(jget "$T/body" state) $(jget "$T/body" progress)" = "writing null"
printf 'no equals sign\n' > "$ST"
code GET upgrade -H "Authorization: Bearer $RO" >/dev/null
check "a malformed status file: unknown, with the reason" test "$(jget "$T/body" state)" = unknown -a -n "$(jget "$T/body" reason)"
head -c 5000 /dev/zero | tr '\0' '#' > "$ST"
code GET upgrade -H "Authorization: Bearer $RO" >/dev/null
check "an oversized status file is not read (unknown)" test "$(jget "$T/body" state)" = unknown
# spacectl that cannot be started
kill "$M"; wait "$M"
sed -i "s|^spacectl = .*|spacectl = $T/nonexistent|" "$T/etc/mgmtd.conf"
# and a filesystem that lacks the space: nothing fits when 1 PiB must stay free
sed -i "s|^upload_keep_free = .*|upload_keep_free = 1125899906842624|" "$T/etc/mgmtd.conf"
start_mgmtd
PIDS="$M"
AD=$(login admin secret)
check "spacectl missing: 500" test "$(code POST upgrade -H "Authorization: Bearer $AD" -d "{\"file\":\"$IMG\"}")" = 500
check "... names it" grep -q "cannot start $T/nonexistent" "$T/body"
check "no space: 507" test "$(put "$T/tiny.img" space-21.3R10.img)" = 507
check "... says how much" grep -q "not enough space in $UP: [0-9]* bytes free" "$T/body"
check "... nothing written" test ! -e "$UP/space-21.3R10.img" 
check "... no temporary file" no_tmp
kill "$M"; wait "$M"; rc=$?
PIDS=
check "clean exit (exit $rc)" test "$rc" = 0

if ! done_testing; then
	tail -n 30 "$T/log/mgmtd/error.log" "$T/log/mgmtd.err"
	exit 1
fi
