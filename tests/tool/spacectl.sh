#!/bin/bash
# spacectl.sh - the admin CLI against a temp root: show version / status /
# services / hotpatches (level, fixes, packages, job, history, an operation
# in progress), devices block/unblock seen by a device, backup
# (same-filesystem refusal, manifest verifies, symlinks kept as links),
# support bundle with hot-patch logs and state and upgrade logs, logs purge,
# exit codes.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/spacectl-test.XXXXXX) || exit 1
WD_PID=
GATE_PID=
SHM=
cleanup() {
	[ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
	[ -n "$GATE_PID" ] && kill "$GATE_PID" 2>/dev/null && wait "$GATE_PID" 2>/dev/null
	[ -n "$SHM" ] && rm -rf "$SHM"
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
DPORT=$(free_ports 1) || exit 1
sc() { "$BIN/spacectl" --root "$T" "$@"; }
rc_of() { "$@" >/dev/null 2>&1; echo $?; }

mkdir -p "$T/etc/watchdog.d" "$T/var/lib/devgate" "$T/var/log/hotpatch" "$T/var/backups" "$T/run" "$T/tmp" \
	"$T/var/etc/dropbear"
printf 'PRODUCT=space\nVERSION=21.3R1.3\nBUILD_ID=42\n' > "$T/etc/space-release"
# hot patches as the hotpatch tool leaves them (pkg/hotpatch/state.h): the
# markers in the slot, the applied manifest, history and last job on /var
mkdir -p "$T/var/lib/hotpatch/backup"
printf 'mgmtd 1.0-2\n' > "$T/etc/.Space-21.3R1-Hotpatch-v1"
printf 'mgmtd 1.0-3\nwatchdog 1.0-2\n' > "$T/etc/.Space-21.3R1-Hotpatch-v2"
printf 'mgmtd 0.9-7\n' > "$T/etc/.Space-21.2R1-Hotpatch-v7" # another release's: does not count
Z=0000000000000000000000000000000000000000000000000000000000000000
cat > "$T/var/lib/hotpatch/applied" <<EOF
format = 1
product = space
release = 21.3R1
patch = 2
name = Space-21.3R1-Hotpatch-v2
patchme.sha256 = $Z
fix = 1 SP-1001 mgmtd answers 503 while the watchdog restarts
fix = 2 SP-1002 watchdog: a hold survives a restart
package = mgmtd 1.0 3 1000 $Z
package = watchdog 1.0 2 2000 $Z
service = mgmtd
service = watchdog
EOF
printf '1700000000 apply 0 1 ok applied\nnot a history line\n1700000100 apply 1 2 ok applied\n' \
	> "$T/var/lib/hotpatch/history"
printf 'action = apply\nname = Space-21.3R1-Hotpatch-v2\nstate = ok\nstep = 8/8 done\nmessage = level 2\nstarted = 1700000090\nfinished = 1700000100\n' \
	> "$T/var/lib/hotpatch/progress"
echo "a copy of /etc/shadow" > "$T/var/lib/hotpatch/backup/secret"
# As on the appliance: the read-only slot links to the data partition.
echo "admin:\$6\$x\$y:1::::::" > "$T/var/etc/shadow"
ln -s ../var/etc/shadow "$T/etc/shadow"
echo key > "$T/var/etc/dropbear/dropbear_ed25519_host_key"
ln -s ../var/etc/dropbear "$T/etc/dropbear"
ln -s /etc/hostname "$T/etc/evil-link"
echo "patch v2 applied" > "$T/var/log/hotpatch/Space-21.3R1-Hotpatch-v2.log"
echo "upgraded from 21.2R1" > "$T/var/log/upgrade.log"
cat > "$T/etc/watchdog.d/devgate.conf" <<EOF
exec = $BIN/devgate -c /nonexistent -p $DPORT -s $T/run/devgate.sock -S $T/var/lib/devgate
order = 10
ready_socket = unix:$T/run/devgate.sock
output = $T/devgate.log
EOF
cat > "$T/etc/watchdog.d/sleeper.conf" <<EOF
exec = /bin/sleep 1000
order = 20
EOF
"$BIN/watchdog" -d "$T/etc/watchdog.d" -s "$T/run/watchdog.sock" -H none -P "$T/run/watchdog.hold" -l "$T/wd.log" &
WD_PID=$!
wait_for 5 sh -c "'$BIN/watchdogctl' -s '$T/run/watchdog.sock' status sleeper >/dev/null 2>&1"

check "show version" test "$(sc show version)" = "space 21.3R1.3 (build 42)"
check "show version --json" test "$(sc --json show version)" = '{"product":"space","release":"21.3R1.3","build":"42"}'
sc show hotpatches > "$T/hp.out"
check "show hotpatches: the level of the running release" test "$(head -1 "$T/hp.out")" = "release 21.3R1.3: hot patch level 2 (Space-21.3R1-Hotpatch-v2)"
check "... its fixes" sh -c "grep -qx '  v1    SP-1001          mgmtd answers 503 while the watchdog restarts' '$T/hp.out' && grep -qx '  v2    SP-1002          watchdog: a hold survives a restart' '$T/hp.out'"
check "... its packages" sh -c "grep -qx '  mgmtd                1.0-3' '$T/hp.out' && grep -qx '  watchdog             1.0-2' '$T/hp.out'"
check "... the last job" grep -qx 'last job: apply Space-21.3R1-Hotpatch-v2 started 2023-11-14 22:14:50Z: ok, step 8/8 done: level 2' "$T/hp.out"
check "... the history, the malformed line skipped" sh -c "test \$(grep -c '^  2023-11-14 .* apply .* ok  *applied$' '$T/hp.out') = 2"
check "... nothing in progress" sh -c "! grep -q '^in progress' '$T/hp.out'"
check "show hotpatches --json (the API's document)" sh -c "'$BIN/spacectl' --root '$T' show hotpatches --json | python3 -c '
import json,sys; d=json.load(sys.stdin)
assert d[\"release\"]==\"21.3R1.3\" and d[\"level\"]==2 and d[\"name\"]==\"Space-21.3R1-Hotpatch-v2\", d
assert [f[\"id\"] for f in d[\"fixes\"]]==[\"SP-1001\",\"SP-1002\"], d
assert d[\"packages\"]==[{\"name\":\"mgmtd\",\"version\":\"1.0-3\"},{\"name\":\"watchdog\",\"version\":\"1.0-2\"}], d
assert d[\"in_progress\"] is None and len(d[\"history\"])==2 and d[\"history\"][1][\"to\"]==2, d
assert d[\"job\"][\"state\"]==\"ok\" and d[\"job\"][\"finished\"]==1700000100, d'"
printf 'action = apply\nbuild = 42\nfrom = 2\nto = 3\nstep = install\n' > "$T/var/lib/hotpatch/journal"
check "an interrupted apply shows as in progress" sh -c "'$BIN/spacectl' --root '$T' show hotpatches | grep -qx 'in progress: apply, level 2 -> 3, step install (the next hotpatch run or boot completes or undoes it)'"
mkdir -p "$T/bare/etc"
printf 'PRODUCT=space\nVERSION=21.4R1.1\nBUILD_ID=7\n' > "$T/bare/etc/space-release"
check "a node never patched" test "$("$BIN/spacectl" --root "$T/bare" show hotpatches | tr '\n' '|')" = "release 21.4R1.1: no hot patch installed|history: none|"
rm "$T/bare/etc/space-release"
"$BIN/spacectl" --root "$T/bare" show hotpatches > /dev/null 2> "$T/bare.err"
check "no release file: exit 111" test $? = 111
check "... one line naming it" grep -qx "spacectl: show hotpatches: $T/bare/etc/space-release: No such file or directory" "$T/bare.err"
check "show services lists both, exit 0" sh -c "'$BIN/spacectl' --root '$T' show services > '$T/out' && grep -q '^sleeper  *running' '$T/out' && grep -q '^devgate  *running' '$T/out'"
check "show status" sh -c "'$BIN/spacectl' --root '$T' show status | grep -q 'services:  2 of 2 running'"
check "show status --json names the hot patch and gate" sh -c "'$BIN/spacectl' --root '$T' --json show status | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"hotpatches\"][-1].endswith(\"v2\") and d[\"hotpatch_level\"]==2 and d[\"device_communication\"]==\"open\" and d[\"mode\"]==\"standalone\"'"
check "show status: the installed level of the running release" sh -c "'$BIN/spacectl' --root '$T' show status | grep -qx 'hotpatch:  level 2 (Space-21.3R1-Hotpatch-v2)'"
"$BIN/watchdogctl" -s "$T/run/watchdog.sock" stop sleeper >/dev/null
check "a stopped service: show services exits 1" test "$(rc_of sc show services)" = 1
check "... and show status too" test "$(rc_of sc show status)" = 1

# devices
exec 3<>/dev/tcp/127.0.0.1/$DPORT
echo "HELLO switch-9" >&3
read -r -t 3 line <&3
check "devices status lists the device" sh -c "'$BIN/spacectl' --root '$T' devices status | grep -q 'switch-9'"
check "devices status --json: no key twice (issue 12 #6)" sh -c "'$BIN/spacectl' --root '$T' --json devices status | python3 -c 'import json,sys; json.load(sys.stdin, object_pairs_hook=lambda p: dict(p) if len(p) == len(dict(p)) else sys.exit(\"duplicate key\"))'"
check "devices block" sh -c "'$BIN/spacectl' --root '$T' devices block | grep -q '^device communication blocked'"
read -r -t 3 line <&3
check "device saw BYE" test "$line" = "BYE blocked"
exec 3>&-
check "devices status --json blocked" sh -c "'$BIN/spacectl' --root '$T' --json devices status | grep -q '\"state\":\"blocked\"'"
check "devices unblock" sh -c "'$BIN/spacectl' --root '$T' devices unblock | grep -q '^device communication open'"

# a slow or mute device gate (issue 12 #4, same class): a block spacectl
# reported as failed (timeout, exit 99) was applied by the gate later. Now
# spacectl waits for the answer (up to 60 s), and a request sent but never
# answered is "outcome unknown" (exit 99, where to look), not a failure
GATE="python3 $(dirname "$0")/mgmtd-load.py"
$GATE slowgate "$T/run/slowgate.sock" 12 "$T/slowgate.log" &
GATE_PID=$!
wait_for 5 test -S "$T/run/slowgate.sock"
DEVGATE_SOCKET=$T/run/slowgate.sock "$BIN/spacectl" --root "$T" devices block > "$T/slow.out" 2> "$T/slow.err"
rc=$?
check "gate answering after 12 s: block waits for it, exit 0 (was 99 after 10 s: $rc)" test "$rc" = 0
check "... and prints the state the gate reports" grep -q '^device communication blocked' "$T/slow.out"
check "... which the gate applied" grep -qx block "$T/slowgate.log"
kill "$GATE_PID"; wait "$GATE_PID" 2>/dev/null
$GATE mutegate "$T/run/mutegate.sock" "$T/mutegate.log" &
GATE_PID=$!
wait_for 5 test -S "$T/run/mutegate.sock"
DEVGATE_SOCKET=$T/run/mutegate.sock "$BIN/spacectl" --root "$T" devices block > "$T/mute.out" 2> "$T/mute.err"
rc=$?
check "gate that applies and closes unanswered: exit 99, not a failure (was 111: $rc)" test "$rc" = 99
check "... one line: the outcome is unknown, and where to see the state" \
	sh -c "test \$(wc -l < '$T/mute.err') = 1 && grep -q '^spacectl: devices block: .*: the outcome is unknown, it may be applied; see .spacectl devices status.$' '$T/mute.err'"
check "... (the gate did apply it)" grep -qx block "$T/mutegate.log"
kill "$GATE_PID"; wait "$GATE_PID" 2>/dev/null; GATE_PID=
check "gate down: nothing sent, a failure: exit 111" \
	test "$(DEVGATE_SOCKET=$T/run/nogate.sock "$BIN/spacectl" --root "$T" devices unblock 2>/dev/null; echo $?)" = 111

# backup
check "backup on the same filesystem as /var refused: exit 1" test "$(rc_of sc backup create --to "$T/var/backups")" = 1
check "nothing half-written after the refusal" test -z "$(ls -A "$T/var/backups")"
check "backup --force" sh -c "'$BIN/spacectl' --root '$T' backup create --to '$T/var/backups' --force > '$T/out'"
B=$(ls "$T"/var/backups/space-backup-*.tar.gz 2>/dev/null | head -1)
check "backup named with a timestamp" test -n "$B"
check "backup is mode 0600 (holds /etc/shadow)" test "$(stat -c %a "$B" 2>/dev/null)" = 600
check "backup holds /etc, /var/lib and the manifest" sh -c "tar tzf '$B' | grep -qx 'etc/shadow' && tar tzf '$B' | grep -qx 'var/lib/devgate/state' && tar tzf '$B' | grep -qx MANIFEST.sha256"
check "backup holds what /etc links to on /var: the password hashes and SSH host keys" sh -c "tar xzOf '$B' var/etc/shadow | grep -q '^admin:' && tar tzf '$B' | grep -qx 'var/etc/dropbear/dropbear_ed25519_host_key'"
mkdir -p "$T/x" && tar xzf "$B" -C "$T/x"
check "manifest verifies with sha256sum" sh -c "cd '$T/x' && sha256sum --quiet -c MANIFEST.sha256"
check "symlink stored as a link, not followed" sh -c "tar tvzf '$B' | grep -q '^l.* etc/evil-link -> /etc/hostname'"
check "printed sha256 matches the file" grep -q "$(sha256sum "$B" | cut -d' ' -f1)" "$T/out"
if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$T/var")" ]; then
	SHM=$(mktemp -d /dev/shm/spacectl-test.XXXXXX)
	check "backup to another filesystem without --force" sh -c "'$BIN/spacectl' --root '$T' --json backup create --to '$SHM' | grep -q '\"sha256\"'"
fi
check "backup to a missing directory: exit 111" test "$(rc_of sc backup create --to "$T/nope")" = 111

# support bundle
check "support-bundle" sh -c "'$BIN/spacectl' --root '$T' support-bundle --to '$T/tmp' >/dev/null"
S=$(ls "$T"/tmp/space-support-*.tar.gz 2>/dev/null | head -1)
check "bundle has hot-patch and upgrade logs" sh -c "tar tzf '$S' | grep -qx 'var/log/hotpatch/Space-21.3R1-Hotpatch-v2.log' && tar tzf '$S' | grep -qx 'var/log/upgrade.log' && tar tzf '$S' | grep -qx 'etc/space-release'"
check "bundle has the hot-patch state: history, journal, progress, applied manifest" sh -c "for f in history journal progress applied; do tar tzf '$S' | grep -qx var/lib/hotpatch/\$f || exit 1; done"
check "... but not the hot-patch backup (copies of /etc)" sh -c "! tar tzf '$S' | grep -q 'var/lib/hotpatch/backup'"
rm "$T/var/lib/hotpatch/journal"

# A target that fills up (issue 12 #19): the real errno on one line naming
# the archive, exit 111, nothing left behind. 300 KB of random data cannot
# fit in a 64 KiB tmpfs (ENOSPC), mounted in a private mount namespace (as
# root, else in a user namespace); nor under a 64 KiB file-size limit
# (EFBIG, which must not kill spacectl with SIGXFSZ and leave the temp file).
head -c 300000 /dev/urandom > "$T/etc/random.bin"
head -c 300000 /dev/urandom > "$T/var/log/random.log"
mkdir -p "$T/full" "$T/fsize"
# on_full VERB...: spacectl on a fresh 64 KiB tmpfs at $T/full; the exit code,
# stderr and what is left there go to $T/full.{rc,err,left}.
on_full() {
	local ns
	for ns in -m -rm; do
		unshare $ns true 2>/dev/null || continue
		unshare $ns sh -c 'T=$1; shift; mount -t tmpfs -o size=64k spacectl-full "$T/full" || exit 1
			"$@" 2>"$T/full.err"; echo $? >"$T/full.rc"; ls -A "$T/full" >"$T/full.left"' \
			sh "$T" "$BIN/spacectl" --root "$T" "$@"
		return
	done
	return 1
}
if on_full backup create --to "$T/full"; then
	check "full target: backup create exits 111" test "$(cat "$T/full.rc")" = 111
	check "... saying 'No space left on device' about the archive" \
		grep -qx "spacectl: backup create: $T/full/space-backup-[0-9]*T[0-9]*Z.tar.gz: No space left on device" "$T/full.err"
	check "... on one line" test "$(wc -l < "$T/full.err")" = 1
	check "... and leaves no partial archive" test ! -s "$T/full.left"
	on_full support-bundle --to "$T/full"
	check "full target: support-bundle exits 111 with ENOSPC" sh -c "test \"\$(cat '$T/full.rc')\" = 111 && grep -qx 'spacectl: support-bundle: $T/full/space-support-[0-9]*T[0-9]*Z.tar.gz: No space left on device' '$T/full.err'"
	check "... and leaves no partial archive" test ! -s "$T/full.left"
else
	echo "# skipped the ENOSPC case: no mount namespace (unshare -m / -rm) here; EFBIG below still runs"
fi
(ulimit -f 64; exec "$BIN/spacectl" --root "$T" backup create --force --to "$T/fsize") 2>"$T/fsize.err"
check "file-size limit: exit 111, not killed by SIGXFSZ" test $? = 111
check "... saying 'File too large' about the archive" \
	grep -qx "spacectl: backup create: $T/fsize/space-backup-[0-9]*T[0-9]*Z.tar.gz: File too large" "$T/fsize.err"
check "... and leaves no partial archive" test -z "$(ls -A "$T/fsize")"
rm -f "$T/etc/random.bin" "$T/var/log/random.log"

# logs purge
cat > "$T/etc/housekeeping.conf" <<EOF
log_dir = /var/log
rotate_size = 1000
rotate_keep = 3
purge_age = 1d
tmp_dir = /tmp
tmp_age = 1h
EOF
head -c 3000 /dev/zero > "$T/var/log/big.log"
echo old > "$T/var/log/old.log.4"; touch -d '3 days ago' "$T/var/log/old.log.4"
echo stale > "$T/tmp/stale"; touch -d '2 hours ago' "$T/tmp/stale"
check "logs purge" test "$(sc logs purge)" = "rotated 1 log(s), purged 1 old log(s) and 1 stale temporary file(s), freed 10 bytes"
check "big log rotated" test -s "$T/var/log/big.log.1"
check "old rotated log gone" test ! -e "$T/var/log/old.log.4"
check "live logs kept" test -e "$T/var/log/upgrade.log"
# The size guard (issue 12 #20): a young rotated log deleted to meet log_max
# is reported as purged for size, not as an old log.
cat > "$T/etc/housekeeping.conf" <<EOF
log_dir = /var/log
rotate_size = 1000000
purge_age = 30d
log_max = 20000
EOF
rm -f "$T"/var/log/*.log.*
head -c 30000 /dev/zero > "$T/var/log/app.log.1"
check "logs purge: a log deleted for log_max is reported as purged for size" \
	test "$(sc logs purge)" = "rotated 0 log(s), purged 0 old log(s) and 0 stale temporary file(s), purged 1 log(s) and 0 temporary file(s) for size, freed 30000 bytes"
check "... and it is gone" test ! -e "$T/var/log/app.log.1"
head -c 30000 /dev/zero > "$T/var/log/app.log.1"
check "logs purge --json counts it apart from the purge by age" sh -c "'$BIN/spacectl' --root '$T' --json logs purge | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"purged_logs\"]==0 and d[\"purged_logs_for_size\"]==1 and d[\"purged_tmp_for_size\"]==0, d'"

# exit codes
check "usage: exit 100" test "$(rc_of sc show nothing)" = 100
check "--to on a command without it: exit 100" test "$(rc_of sc show version --to /tmp)" = 100
check "--help: exit 0" test "$(rc_of sc --help)" = 0
kill "$WD_PID"; wait "$WD_PID"; WD_PID=
check "watchdog down: show services exits 111" test "$(rc_of sc show services)" = 111
check "... with one line naming the socket" sh -c "'$BIN/spacectl' --root '$T' show services 2>&1 | grep -qx 'spacectl: show services: $T/run/watchdog.sock: .*'"

done_testing
