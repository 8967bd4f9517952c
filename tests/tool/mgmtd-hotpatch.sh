#!/bin/bash
# mgmtd-hotpatch.sh - the API job of hot patches (issue 9), end to end on
# the host: mgmtd in a temp root on a loopback port, curl, and a fake
# `hotpatch` (a test double of the node tool: it records how it was run and
# writes the progress file as pkg/hotpatch/state.h says, then waits to be
# let go). Covers GET hotpatches (the same document as spacectl show
# hotpatches --json), the bundle upload over HTTPS (names, roles), the
# start (argv, own session, 403, 404, 409), the job surviving mgmtd's
# process group being killed (as the patch stops mgmtd), a restarted mgmtd
# reporting it from the progress file, polling until "ok", the log.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/mgmtd-hotpatch.XXXXXX) || exit 1
M=
cleanup() {
	[ -n "$M" ] && kill -TERM -- "-$M" 2>/dev/null && wait "$M" 2>/dev/null
	touch "$T/go" # the fake tool ends
	sleep 0.1
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
PORT=$(free_ports 1) || exit 1
URL=https://127.0.0.1:$PORT/api/v1
UP=$T/var/tmp/upgrade
B=Space-21.3R1-Hotpatch-v3.tgz
# put FILE NAME TOKEN: upload FILE as the bundle NAME, print the status
put() { local f=$1 n=$2 tok=$3; curl -sk -o "$T/body" -w '%{http_code}' -T "$f" -H "Authorization: Bearer $tok" "$URL/hotpatch/bundle/$n"; }

mgmtd_root
mkdir -p "$T/var/lib/hotpatch" "$UP"
# the node at level 2, as the tool leaves it (state.h)
printf 'devgate 1.0-2\n' > "$T/etc/.Space-21.3R1-Hotpatch-v1"
printf 'devgate 1.0-2\nmgmtd 1.0-2\n' > "$T/etc/.Space-21.3R1-Hotpatch-v2"
Z=0000000000000000000000000000000000000000000000000000000000000000
printf '%s\n' "format = 1" "product = space" "release = 21.3R1" "patch = 2" "name = Space-21.3R1-Hotpatch-v2" \
	"patchme.sha256 = $Z" "fix = 1 SP-1 devgate: one" "fix = 2 SP-2 mgmtd: two" \
	"package = devgate 1.0 2 10 $Z" "package = mgmtd 1.0 2 20 $Z" > "$T/var/lib/hotpatch/applied"
printf '1700000000 apply 0 1 ok applied\n1700000100 apply 1 2 ok applied\n' > "$T/var/lib/hotpatch/history"
# the fake hotpatch: argv, session; progress "running" with its pid; waits
# for $T/go; progress "ok"
cat > "$T/hotpatch" <<EOF
#!/bin/sh
echo "\$*" > "$T/args"
ps -o sid= -p \$\$ | tr -d ' ' > "$T/sid"
echo \$\$ > "$T/pid"
p() { printf '%s\n' "action = apply" "name = Space-21.3R1-Hotpatch-v3" "started = 1700000200" "pid = \$\$" "\$@" \
	> "$T/var/lib/hotpatch/progress.tmp" && mv "$T/var/lib/hotpatch/progress.tmp" "$T/var/lib/hotpatch/progress"; }
p "state = running" "step = 3/8 stop" "message = stopping the services" "finished = 0"
echo "hotpatch: apply $B: stopping the services"
while [ ! -e "$T/go" ]; do sleep 0.05; done
p "state = ok" "step = 8/8 done" "message = level 3" "finished = 1700000260"
echo "hotpatch: apply $B: done, level 3"
EOF
chmod +x "$T/hotpatch"
{ mgmtd_conf; cat <<EOF; } > "$T/etc/mgmtd.conf"
request_timeout = 2
upload_dir = $UP
upload_max = 1048576
upload_keep_free = 0
upgrade_status = $T/var/lib/upgrade/status
hotpatch = $T/hotpatch
EOF
# mgmtd in its own process group, as the watchdog runs it (and signals it)
start_mgmtd setsid
mgmtd_login

# --- the inventory
check "GET hotpatches, read-only user: 200" test "$(code GET hotpatches -H "Authorization: Bearer $RO")" = 200
check "... the API and spacectl show hotpatches --json agree" \
	test "$(cat "$T/body")" = "$("$BIN/spacectl" --root "$T" show hotpatches --json)"
check "... level 2, its fixes, its packages, the history" python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["level"] == 2 and d["name"] == "Space-21.3R1-Hotpatch-v2", d
assert [f["id"] for f in d["fixes"]] == ["SP-1", "SP-2"] and len(d["packages"]) == 2, d
assert len(d["history"]) == 2 and d["job"] is None and d["in_progress"] is None, d' "$T/body"
check "GET hotpatch: no job, no process, no upload" \
	test "$(code GET hotpatch -H "Authorization: Bearer $RO") $(jget "$T/body" job) $(jget "$T/body" process) $(jget "$T/body" upload)" = "200 null null null"
check "GET hotpatches needs a login (401)" test "$(code GET hotpatches)" = 401

# --- upload
head -c 2048 /dev/urandom > "$T/bundle.tgz"
check "read-only user cannot upload a bundle: 403" test "$(put "$T/bundle.tgz" $B "$RO")" = 403
check "a bundle of another name: 400" test "$(put "$T/bundle.tgz" Space-21.3R1.3-Hotpatch-v3.tgz "$AD")" = 400
check "... says the rule" grep -q 'bundle name must be Space-<release>-Hotpatch-v<N>.tgz' "$T/body"
check "an image name is no bundle: 400" test "$(put "$T/bundle.tgz" space-21.3R2.img "$AD")" = 400
check "upload: 201" test "$(put "$T/bundle.tgz" $B "$AD")" = 201
check "... name, size, SHA-256" test "$(jget "$T/body" file) $(jget "$T/body" size) $(jget "$T/body" sha256)" = \
	"$B 2048 $(sha256sum < "$T/bundle.tgz" | cut -d' ' -f1)"
check "... in upload_dir" cmp -s "$T/bundle.tgz" "$UP/$B"

# --- start
check "read-only user cannot start: 403" test "$(code POST hotpatch -H "Authorization: Bearer $RO" -d "{\"file\":\"$B\"}")" = 403
check "not uploaded: 404" test "$(code POST hotpatch -H "Authorization: Bearer $AD" -d '{"file":"Space-21.3R1-Hotpatch-v4.tgz"}')" = 404
check "bad name: 400" test "$(code POST hotpatch -H "Authorization: Bearer $AD" -d '{"file":"../../etc/shadow"}')" = 400
check "reinstall not a boolean: 400" test "$(code POST hotpatch -H "Authorization: Bearer $AD" -d "{\"file\":\"$B\",\"reinstall\":1}")" = 400
check "start: 202" test "$(code POST hotpatch -H "Authorization: Bearer $AD" -d "{\"file\":\"$B\"}")" = 202
check "... the process runs" test "$(jget "$T/body" process running) $(jget "$T/body" process file)" = "true $B"
wait_for 3 test -s "$T/pid"
HP=$(cat "$T/pid")
check "hotpatch run as: apply --root ROOT upload_dir/NAME" test "$(cat "$T/args")" = "apply --root $T $UP/$B"
check "... in its own session" test "$(cat "$T/sid")" != "$(ps -o sid= -p $M | tr -d ' ')"
check "second start while it runs: 409" test "$(code POST hotpatch -H "Authorization: Bearer $AD" -d "{\"file\":\"$B\"}")" = 409
check "GET hotpatch: the job from the progress file" wait_for 3 sh -c \
	"curl -sk -H 'Authorization: Bearer $RO' $URL/hotpatch | grep -q '\"job\":{\"action\":\"apply\",\"name\":\"Space-21.3R1-Hotpatch-v3\",\"state\":\"running\",\"step\":\"3/8 stop\"'"

# --- the patch stops mgmtd (the watchdog signals its process group)
kill -TERM -- "-$M"; wait "$M"; M=
check "the tool outlives mgmtd" kill -0 "$HP"
start_mgmtd setsid
mgmtd_login
code GET hotpatch -H "Authorization: Bearer $RO" >/dev/null
check "a restarted mgmtd reports the running job" test "$(jget "$T/body" job state) $(jget "$T/body" job step) $(jget "$T/body" process)" = "running 3/8 stop null"
check "... and refuses a second start: 409" test "$(code POST hotpatch -H "Authorization: Bearer $AD" -d "{\"file\":\"$B\"}")" = 409
check "... saying what runs" grep -q 'a hot patch is running (apply Space-21.3R1-Hotpatch-v3' "$T/body"
touch "$T/go"
s=
for i in $(seq 1 100); do
	curl -sk -o "$T/poll" -H "Authorization: Bearer $RO" "$URL/hotpatch"
	s=$(jget "$T/poll" job state)
	[ "$s" = running ] || break
	sleep 0.1
done
check "polled until ok" test "$s" = ok
check "... step and finish time" test "$(jget "$T/poll" job step) $(jget "$T/poll" job finished)" = "8/8 done 1700000260"
check "its output in /var/log/mgmtd/hotpatch.log" grep -q "hotpatch: apply $B: done, level 3" "$T/log/mgmtd/hotpatch.log"
check "start logged" grep -q "hotpatch $B by admin: started $T/hotpatch apply" "$T/log/mgmtd/error.log"

# --- a job killed mid-way: interrupted, and a new start is allowed
rm -f "$T/go" "$T/pid"
check "start again: 202" test "$(code POST hotpatch -H "Authorization: Bearer $AD" -d "{\"file\":\"$B\",\"reinstall\":true}")" = 202
wait_for 3 test -s "$T/pid"
check "... with --reinstall" test "$(cat "$T/args")" = "apply --reinstall --root $T $UP/$B"
kill -KILL "$(cat "$T/pid")"
check "a killed tool's job is interrupted, not running" wait_for 3 sh -c \
	"curl -sk -H 'Authorization: Bearer $RO' $URL/hotpatch | grep -q '\"state\":\"interrupted\"'"
check "... and the process record says how it ended" wait_for 3 sh -c \
	"curl -sk -H 'Authorization: Bearer $RO' $URL/hotpatch | grep -q '\"running\":false,\"finished\":[0-9]*,\"signal\":9'"
kill -TERM -- "-$M"; wait "$M"; rc=$?
M=
check "clean exit (exit $rc)" test "$rc" = 0

if ! done_testing; then
	tail -n 30 "$T/log/mgmtd/error.log" "$T/log/mgmtd.err"
	exit 1
fi
