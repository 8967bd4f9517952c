#!/bin/bash
# tests/tool/hotpatch.sh - the hot-patch tool on an offline root (`hotpatch
# --root`, issue 9): bundles made here exactly as manifest.h describes them
# (the manifest signed with openssl under the development PKI, so the tool
# is checked against the format, not against its own writer), then:
#   - apply v1, v2; the files, the package database, the marker, status;
#   - every refusal leaves the root byte for byte as it was: a bad
#     signature, another release, an older patch, the same level without
#     --reinstall, a renamed bundle, a tampered package, a member outside
#     the bundle directory or a symlink in the tgz, a fabric node;
#   - a failure injected at every step (and ENOSPC in the middle of the
#     backup, a failure after the first package) is rolled back: the root is
#     as before; past the point where the root is complete, it is completed;
#   - a kill (SIGKILL) at every step and between two packages, then
#     `hotpatch recover`: the root is at the old level or the new one,
#     exactly, never between; the same for a rollback cut in its restore;
#   - rollback returns to the exact previous tree.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/mgmt-lib.sh" # lib.sh, and free_ports for the live part

REL=21.3R1 VER=21.3R1.1 BUILD=0123abcd4567
"$BIN/mkova" pki --dir "$T/pki" > /dev/null
"$BIN/mkova" pki --dir "$T/other" > /dev/null

# --- packages: two programs, each in three releases -------------------------
# mkpkg NAME RELEASE: usr/sbin/NAME says which release it is; devgate ships a
# config file, and from release 2 a data file the first lacks, and one whose
# name holds ".." (a legal name the backup must restore).
mkpkg() {
	local s=$T/stage-$1-$2
	mkdir -p "$s/usr/sbin" "$s/etc"
	printf '#!/bin/sh\necho %s %s\n' "$1" "$2" > "$s/usr/sbin/$1"
	chmod 755 "$s/usr/sbin/$1"
	if [ "$1" = devgate ]; then
		printf 'port = 7804\n# release %s\n' "$2" > "$s/etc/devgate.conf"
		[ "$2" = 1 ] || { mkdir -p "$s/usr/share/devgate"; echo "fix $2" > "$s/usr/share/devgate/fixes"
			echo "$2" > "$s/usr/share/devgate/notes..r$2"; }
	fi
	"$BIN/pkg" build --name "$1" --version $VER --release "$2" $([ "$1" = devgate ] && echo --config etc/devgate.conf) \
		"$s" "$T/pkgs/$1-$VER-$2.pkg" > /dev/null
}
mkdir -p "$T/pkgs"
for r in 1 2 3; do mkpkg devgate $r; mkpkg mgmtd $r; done

# A node's root at level 0: the release file, the root CA, both programs.
mkroot() {
	rm -rf "$1" && mkdir -p "$1/etc/space" "$1/var"
	printf 'PRODUCT=space\nVERSION=%s\nBUILD_ID=%s\n' $VER $BUILD > "$1/etc/space-release"
	cp "$T/pki/dev-root-ca.pem" "$1/etc/space/root-ca.pem"
	"$BIN/pkg" --root "$1" install --no-chown "$T/pkgs/devgate-$VER-1.pkg" "$T/pkgs/mgmtd-$VER-1.pkg" > /dev/null
}

# mkbundle N "FIXES" PKG... -> $T/b/Space-$REL-Hotpatch-vN{,.tgz}; env KEY
# (signing key dir), MREL (release in the manifest) override.
mkbundle() {
	local lvl=$1 fixes=$2 name=Space-${MREL:-$REL}-Hotpatch-v$1 d k=${KEY:-$T/pki}
	shift 2
	d=$T/b/$name
	rm -rf "$d" "$d.tgz" && mkdir -p "$d/packages"
	printf '#!/bin/sh\nexec /usr/sbin/hotpatch apply "$@" "$(cd "$(dirname "$0")" && pwd)"\n' > "$d/patchme.sh"
	{
		printf 'format = 1\nproduct = space\nrelease = %s\npatch = %s\nname = %s\n' "${MREL:-$REL}" "$lvl" "$name"
		printf 'patchme.sha256 = %s\n' "$(sha256sum < "$d/patchme.sh" | cut -c1-64)"
		printf '%s' "$fixes"
		for p in "$@"; do
			cp "$T/pkgs/$p.pkg" "$d/packages/"
			set -- $(echo "$p" | sed 's/-\([0-9.R]*\)-\([0-9]*\)$/ \1 \2/')
			printf 'package = %s %s %s %s %s\n' "$1" "$2" "$3" "$(stat -c %s "$T/pkgs/$p.pkg")" \
				"$(sha256sum < "$T/pkgs/$p.pkg" | cut -c1-64)"
		done
		printf 'service = devgate\n'
		printf 'backup = etc/devgate.conf\n'
	} > "$d/manifest"
	openssl dgst -sha256 -sign "$k/dev-signing.key" -out "$d/manifest.sig" "$d/manifest"
	cp "$k/dev-signing.pem" "$d/manifest.cert.pem"
	cp "$k/dev-intermediate-ca.pem" "$d/manifest.chain.pem"
	(cd "$T/b" && tar --sort=name --owner=0 --group=0 -czf "$name.tgz" "$name")
}
F1='fix = 1 SPC-101 devgate: a second HELLO is answered, not dropped
'
F2=$F1'fix = 2 SPC-202 mgmtd: the idle timeout counts from the last request
'
mkdir -p "$T/b"
mkbundle 1 "$F1" devgate-$VER-2
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
ls "$T/pki" | grep -q dev-intermediate-ca.pem || die "PKI file names: $(ls "$T/pki")"

R=$T/root
HP() { "$BIN/hotpatch" "$1" --root "$R" "${@:2}"; }
# snap: the root as it is, less the tool's own state on /var
snap() {
	(cd "$R" && find . -path ./var -prune -o -printf '%p %y %m %s %l\n' | sort &&
		find . -path ./var -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)
}
level() { HP status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["level"])'; }

# --- verify and apply -------------------------------------------------------
mkroot "$R"
snap > "$T/l0"
"$BIN/hotpatch" verify --ca "$T/pki/dev-root-ca.pem" "$T/b/Space-$REL-Hotpatch-v2.tgz" > "$T/out" ||
	die "verify v2: $(cat "$T/out")"
grep -q "verified: release $REL, level v2, 2 fixes, 2 packages" "$T/out" || die "verify said: $(cat "$T/out")"
pass "verify: a signed bundle (tgz) passes and names its level, fixes and packages"

HP apply "$T/b/Space-$REL-Hotpatch-v1.tgz" > "$T/out" 2>&1 || die "apply v1: $(cat "$T/out")"
grep -q "Space-$REL-Hotpatch-v1 installed: level v1 (was v0)" "$T/out" || die "apply v1 said: $(cat "$T/out")"
[ "$("$R/usr/sbin/devgate")" = "devgate 2" ] && [ -f "$R/usr/share/devgate/fixes" ] || die "devgate not at release 2"
[ "$(cat "$R/etc/.Space-$REL-Hotpatch-v1")" = "devgate $VER-2" ] || die "marker: $(cat "$R/etc/.Space-$REL-Hotpatch-v1")"
"$BIN/pkg" --root "$R" verify --no-owner > "$T/out" 2>&1 || die "pkg verify after v1: $(cat "$T/out")"
[ "$(level)" = 1 ] || die "status level $(level)"
for s in verify block stop backup install start unblock finish; do
	grep -q "\] $s" "$R/var/log/hotpatch/hotpatch.log" || die "log lacks step $s"
done
pass "apply v1 (tgz): the package at its new release, the marker lists it, pkg verify is clean, every step logged"
snap > "$T/l1"

# refuse CASE BUNDLE WANT [OPTS]: exit 1, message has WANT, root unchanged
refuse() {
	local rc=0
	HP apply "${@:4}" "$2" > "$T/out" 2>&1 || rc=$?
	[ $rc = 1 ] || die "$1: exit $rc, want 1: $(cat "$T/out")"
	grep -q -- "$3" "$T/out" || die "$1: message lacks '$3': $(tail -2 "$T/out")"
	[ "$(tail -1 "$T/out" | grep -c '^hotpatch: ')" = 1 ] || die "$1: last line is not the tool's one-line error: $(tail -1 "$T/out")"
	snap | cmp -s - "$T/${SNAP:-l1}" || die "$1: the root changed"
	[ ! -e "$R/var/lib/hotpatch/journal" ] || die "$1: journal left"
}
refuse "same level" "$T/b/Space-$REL-Hotpatch-v1.tgz" "installed already (use --reinstall"
B=$T/b/Space-$REL-Hotpatch-v2
cp -r "$B" "$T/bad" && mv "$T/bad" "$T/b/Space-$REL-Hotpatch-v3"
refuse "renamed directory" "$T/b/Space-$REL-Hotpatch-v3" "renamed"
rm -rf "$T/b/Space-$REL-Hotpatch-v3"
cp "$B.tgz" "$T/b/Space-$REL-Hotpatch-v3.tgz"
refuse "renamed tgz" "$T/b/Space-$REL-Hotpatch-v3.tgz" "renamed"
KEY=$T/other mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
refuse "signed under another root" "$B.tgz" "chain"
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
sed -i 's/^patch = 2/patch = 2 /' "$B/manifest"
refuse "manifest changed after signing" "$B" "signature"
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
printf 'X' | dd of="$B/packages/mgmtd-$VER-2.pkg" bs=1 seek=100 conv=notrunc 2> /dev/null
refuse "tampered package" "$B" "tampered"
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
echo 'echo evil' >> "$B/patchme.sh"
refuse "modified patchme.sh" "$B" "patchme.sh"
MREL=21.2R1 mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
refuse "another release" "$T/b/Space-21.2R1-Hotpatch-v2.tgz" "21.2R1.*$VER\|$VER.*21.2R1"
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
(cd "$T/b" && mkdir -p evil/Space-$REL-Hotpatch-v2 && cp -r "$B/." evil/Space-$REL-Hotpatch-v2/ &&
	ln -s /etc/passwd evil/Space-$REL-Hotpatch-v2/link && tar -C evil -czf Space-$REL-Hotpatch-v2.tgz Space-$REL-Hotpatch-v2)
refuse "symlink in the tgz" "$B.tgz" "symlink"
(cd "$T/b" && rm -rf evil && mkdir -p evil/x && echo hi > evil/x/y &&
	tar -C evil -czf Space-$REL-Hotpatch-v2.tgz x/y --transform 's,^x/y,Space-'$REL'-Hotpatch-v2/../../escape,')
refuse "a member out of the bundle" "$B.tgz" "not a plain relative path"
[ ! -e "$R/var/lib/escape" ] && [ ! -e "$R/var/lib/hotpatch/escape" ] || die "the member escaped"
# odd tgz: a name 2100 directories deep (its tree must not outlive the
# run: the work directory is made afresh by every apply), a name holding a
# newline (the message stays one line), the bundle directory as a file
oddtgz() {
	python3 - "$T/b/Space-$REL-Hotpatch-v2.tgz" "$1" << 'EOF'
import io, sys, tarfile
t = tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT)
ti = tarfile.TarInfo(sys.argv[2].replace("NL", "\n"))
ti.size = 1
t.addfile(ti, io.BytesIO(b"x"))
t.close()
EOF
}
oddtgz "Space-$REL-Hotpatch-v2/$(printf 'd/%.0s' $(seq 2100))f"
refuse "a member 2100 directories deep" "$B.tgz" "member Space-$REL-Hotpatch-v2/d/d/.*: not a plain relative path"
[ ! -e "$R/var/lib/hotpatch/work" ] || die "the work directory of a refused bundle is left"
oddtgz "Space-$REL-Hotpatch-v2/aNLforged"
refuse "a member name with a newline" "$B.tgz" "member Space-$REL-Hotpatch-v2/a.x0aforged: not a plain relative path"
oddtgz "Space-$REL-Hotpatch-v2"
refuse "the bundle directory as a file" "$B.tgz" "Space-$REL-Hotpatch-v2: not a directory"
# more members than HP_TGZ_MAX_ENTRIES (64): refused as such (it was taken
# for a success with no bundle directory: exit 111, ": No such file")
(cd "$T/b" && rm -rf many && mkdir -p many/Space-$REL-Hotpatch-v2 &&
	for i in $(seq 70); do echo $i > many/Space-$REL-Hotpatch-v2/f$i; done &&
	tar -C many -czf Space-$REL-Hotpatch-v2.tgz Space-$REL-Hotpatch-v2 && rm -rf many)
refuse "a tgz of 71 members" "$B.tgz" "more than 64 members"
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
: > "$R/etc/space-cluster.conf"
snap > "$T/l1c"
SNAP=l1c refuse "fabric node" "$B.tgz" "fabric"
rm "$R/etc/space-cluster.conf"
# a directory of the root that is a symlink, to a place outside the root:
# the backup neither reads through it nor writes (truncates) where it points
mv "$R/usr/share/devgate" "$T/outside" && ln -s "$T/outside" "$R/usr/share/devgate"
snap > "$T/l1s"
SNAP=l1s refuse "a symlinked directory in the root" "$B.tgz" "usr/share/devgate/fixes: reached through the symlink usr/share/devgate"
[ "$(cat "$T/outside/fixes")" = "fix 2" ] || die "the backup wrote through a symlink of the root: fixes is '$(cat "$T/outside/fixes")'"
rm "$R/usr/share/devgate" && mv "$T/outside" "$R/usr/share/devgate"
pass "refused, exit 1, one line, root byte for byte unchanged: same level, renamed dir and tgz, another root CA, manifest changed, tampered package, modified patchme.sh, another release, symlink and '..' members in the tgz, a fabric node, a symlinked directory in the root, members too deep, with a newline, or too many, or the bundle directory as a file"

HP apply "$B" > "$T/out" 2>&1 || die "apply v2: $(cat "$T/out")"
[ "$("$R/usr/sbin/mgmtd")" = "mgmtd 2" ] && [ "$("$R/usr/sbin/devgate")" = "devgate 3" ] || die "v2 packages"
[ -e "$R/etc/.Space-$REL-Hotpatch-v1" ] && [ -e "$R/etc/.Space-$REL-Hotpatch-v2" ] || die "markers"
[ "$(level)" = 2 ] || die "level after v2"
# the room the backup was checked for is what it holds (not 0: the check ran)
saved=$(find "$R/var/lib/hotpatch/backup/files" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
grep -q "paths, $saved bytes saved in" "$T/out" || die "backup size: $(grep 'bytes saved' "$T/out"), saved $saved"
HP status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert [f["id"] for f in s["fixes"]] == ["SPC-101", "SPC-202"], s["fixes"]
assert s["history"][-1]["action"] == "apply" and s["history"][-1]["result"] == "ok", s["history"]
assert s["job"]["state"] == "ok" and s["job"]["step"] == "8/8 finish", s["job"]
' || die "status --json after v2"
pass "apply v2 (directory) over v1: both packages new, markers v1 and v2, status lists the cumulative fixes"
snap > "$T/l2"
SNAP=l2 refuse "older patch" "$T/b/Space-$REL-Hotpatch-v1.tgz" "older than the installed level v2"

HP rollback > "$T/out" 2>&1 || die "rollback: $(cat "$T/out")"
snap | cmp -s - "$T/l1" || die "rollback: the root is not the v1 tree: $(snap | diff - "$T/l1" | head -5)"
[ "$(level)" = 1 ] || die "level after rollback"
rc=0
HP rollback > "$T/out" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "no backup of the state before v1" "$T/out" || die "second rollback: $rc $(cat "$T/out")"
pass "rollback returns to the exact v1 tree (files, modes, database, markers); a second one is refused"

# --- failures injected at every step ---------------------------------------
for f in block stop backup backup-copy:ENOSPC install install-pkg start; do
	rc=0
	HOTPATCH_FAULT=$f HP apply "$B" > "$T/out" 2>&1 || rc=$?
	[ $rc != 0 ] || die "fault $f: exit 0"
	grep -q "the node is as it was, at level v1" "$T/out" || die "fault $f: $(tail -1 "$T/out")"
	snap | cmp -s - "$T/l1" || die "fault $f: the root is not v1: $(snap | diff - "$T/l1" | head -5)"
	[ ! -e "$R/var/lib/hotpatch/journal" ] && [ ! -e "$R/var/lib/hotpatch/backup.new" ] || die "fault $f: state left"
	[ $f != backup-copy:ENOSPC ] || grep -q "No space left" "$T/out" || die "ENOSPC not named: $(tail -1 "$T/out")"
done
HP status --json | python3 -c '
import json, sys
h = json.load(sys.stdin)["history"]
assert h[-1]["result"] == "rolled-back" and h[-1]["from"] == 1 and h[-1]["to"] == 2, h[-1]
' || die "history of a failure"
pass "a failure at block, stop, backup, in the backup (ENOSPC), at install, after the first package, at start: rolled back to the exact v1 tree, history says so"
# a package that conflicts with another one, found after the first package
# went in: rolled back, so 111 (1 would say that nothing was changed)
s=$T/stage-conflict
mkdir -p "$s/usr/sbin" && echo x > "$s/usr/sbin/mgmtd" && echo x > "$s/usr/sbin/devgate"
"$BIN/pkg" build --name mgmtd --version $VER --release 4 "$s" "$T/pkgs/mgmtd-$VER-4.pkg" > /dev/null
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-4
rc=0
HP apply "$B" > "$T/out" 2>&1 || rc=$?
[ $rc = 111 ] && grep -q "usr/sbin/devgate: conflicts with package devgate; the node is as it was, at level v1" "$T/out" ||
	die "a conflict in the install: exit $rc: $(tail -1 "$T/out")"
snap | cmp -s - "$T/l1" || die "a conflict in the install: the root is not v1"
mkbundle 2 "$F2" devgate-$VER-3 mgmtd-$VER-2
pass "a package conflict found in the install is rolled back to the exact v1 tree and exits 111, not 1"
for f in unblock finish; do
	rc=0
	HOTPATCH_FAULT=$f HP apply "$B" > "$T/out" 2>&1 || rc=$?
	[ $rc = 111 ] && grep -q "next hotpatch run or boot completes it" "$T/out" || die "fault $f: $rc $(tail -1 "$T/out")"
	HP recover > "$T/out" 2>&1 || die "recover after $f: $(cat "$T/out")"
	snap | cmp -s - "$T/l2" || die "fault $f then recover: not the v2 tree"
	[ "$(level)" = 2 ] || die "fault $f: level"
	HP rollback > /dev/null 2>&1 || die "rollback after $f"
	snap | cmp -s - "$T/l1" || die "rollback after $f: not v1"
done
pass "a failure at unblock or finish (the root complete at v2) is completed by recover, and rolls back cleanly after"

# --- kills at every step ----------------------------------------------------
for k in block stop backup install install-pkg start unblock finish; do
	rc=0
	HOTPATCH_CRASH=$k HP apply "$B" > "$T/out" 2>&1 || rc=$?
	[ $rc = 137 ] || die "crash $k: exit $rc (not killed): $(tail -1 "$T/out")"
	[ -e "$R/var/lib/hotpatch/journal" ] || die "crash $k: no journal"
	HP recover > "$T/rec" 2>&1 || die "recover after crash at $k: $(cat "$T/rec")"
	case $k in
	block | stop | backup | install | install-pkg) want=l1 lv=1 ;;
	*) want=l2 lv=2 ;;
	esac
	snap | cmp -s - "$T/$want" || die "crash at $k: the root is neither exactly v1 nor v2: $(snap | diff - "$T/$want" | head -5)"
	[ "$(level)" = $lv ] || die "crash at $k: level $(level), want $lv"
	grep -q "recovered: level v$lv" "$T/rec" || die "crash at $k: recover said $(cat "$T/rec")"
	[ $lv = 1 ] || HP rollback > /dev/null 2>&1 || die "rollback after crash at $k"
	snap | cmp -s - "$T/l1" || die "after crash at $k: not back at v1"
done
pass "killed at every step and between two packages: recover leaves exactly v1 (before start) or exactly v2 (from start), and says which"
# a kill while the marker is written (the install step's end) leaves its
# temporary in etc: the undo removes it with the rest (it stayed for good,
# and the random kills below met it now and then)
rc=0
HOTPATCH_CRASH=install HP apply "$B" > "$T/out" 2>&1 || rc=$?
[ $rc = 137 ] || die "crash at install: exit $rc (not killed): $(tail -1 "$T/out")"
echo "mgmtd $VER-2" > "$R/etc/..Space-$REL-Hotpatch-v2.tmp"
HP recover > "$T/rec" 2>&1 || die "recover with a marker temporary: $(cat "$T/rec")"
snap | cmp -s - "$T/l1" || die "a marker temporary left by a kill: not exactly v1: $(snap | diff - "$T/l1" | head -5)"
pass "a kill in the marker's write: recover removes its temporary, exactly v1"

# kills inside an undo: half-way through putting the root back after a
# failed start, and inside the removal of the backup once the root is back
# (the kill simulated there: the backup's index is gone, its files may be)
for k in start:restore-file:3 install-pkg:undo; do
	rc=0
	HOTPATCH_FAULT=${k%%:*} HOTPATCH_CRASH=${k#*:} HP apply "$B" > "$T/out" 2>&1 || rc=$?
	[ $rc = 137 ] || die "crash in the undo of $k: exit $rc (not killed): $(tail -1 "$T/out")"
	[ "${k#*:}" != undo ] || rm "$R/var/lib/hotpatch/backup.new/index"
	HP recover > "$T/rec" 2>&1 || die "recover after a crash in the undo of $k: $(cat "$T/rec")"
	snap | cmp -s - "$T/l1" || die "crash in the undo of $k: not exactly v1: $(snap | diff - "$T/l1" | head -5)"
	grep -q "recovered: level v1" "$T/rec" || die "crash in the undo of $k: recover said $(cat "$T/rec")"
	[ ! -e "$R/var/lib/hotpatch/journal" ] && [ ! -e "$R/var/lib/hotpatch/backup.new" ] || die "crash in the undo of $k: state left"
done
pass "killed inside an undo (in its restore after a failed start, in the removal of its backup): recover finishes the undo, exactly v1"

# kills at random moments (inside package transactions too): 20 of them
# spread over the whole apply, timed from a run measured here
t0=$(date +%s%N)
HP apply "$B" > /dev/null 2>&1 || die "timing run"
span=$((($(date +%s%N) - t0) / 1000))
HP rollback > /dev/null 2>&1 || die "timing run rollback"
seen1=0 seen2=0
for i in $(seq 20); do
	"$BIN/hotpatch" apply --root "$R" "$B" > /dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v s=$span -v i=$i 'BEGIN { printf "%.6f", s * i / 21 / 1e6 }')"
	kill -9 $pid 2> /dev/null || true
	wait $pid 2> /dev/null || true
	HP recover > "$T/rec" 2>&1 || die "recover after a kill at $i/21 of the apply: $(cat "$T/rec")"
	if snap | cmp -s - "$T/l1"; then
		seen1=$((seen1 + 1))
	elif snap | cmp -s - "$T/l2"; then
		seen2=$((seen2 + 1))
		HP rollback > /dev/null 2>&1 || die "rollback after random kill $i"
	else
		die "killed at $i/21 of the apply: neither v1 nor v2: $(snap | diff - "$T/l1" | head -5)"
	fi
	"$BIN/pkg" --root "$R" verify --no-owner > "$T/out" 2>&1 || die "pkg verify after random kill $i: $(cat "$T/out")"
done
pass "20 kills spread over the apply ($((span / 1000)) ms): each time exactly v1 ($seen1) or exactly v2 ($seen2) after recover, pkg verify clean"

HP apply "$B" > /dev/null 2>&1 || die "apply v2 again"
rc=0
HOTPATCH_CRASH=restore-done HP rollback > "$T/out" 2>&1 || rc=$?
[ $rc = 137 ] || die "rollback crash: exit $rc"
HP recover > "$T/rec" 2>&1 || die "recover of a rollback: $(cat "$T/rec")"
snap | cmp -s - "$T/l1" || die "recovered rollback: not v1"
grep -q "recovered: level v1" "$T/rec" || die "recover said $(cat "$T/rec")"
pass "a rollback killed after its restore is completed by recover: exactly v1"

# --- driven like a node: the real watchdog and device gate ----------------
# init's respawn of the watchdog (rootfs/skeleton/sbin/space-watchdog):
# waits while the hold file exists. Services: the device gate, and "app",
# which is ready only while the root's usr/sbin/mgmtd is not release 3 (a
# patch whose service never comes up).
# (below the ephemeral range: a port the kernel picked, freed, could be
# taken by a client of a test running beside this one before the gate binds)
PORT=$(free_ports 1)
mkdir -p "$T/wd.d" "$T/gate"
printf 'listen = 127.0.0.1\nport = %s\nsocket = %s\nstate_dir = %s\n' $PORT "$T/dg.sock" "$T/gate" > "$T/devgate.conf"
printf 'exec = %s -c %s\norder = 10\nready_socket = unix:%s\noutput = %s\n' "$BIN/devgate" "$T/devgate.conf" \
	"$T/dg.sock" "$T/gate.log" > "$T/wd.d/devgate.conf"
printf '#!/bin/sh\ncase "$(%s)" in *" 3") ;; *) touch %s ;; esac\nexec sleep 100000\n' "$R/usr/sbin/mgmtd" "$T/app.ready" > "$T/app.sh"
printf 'exec = /bin/sh %s\norder = 20\nready_command = /usr/bin/test -e %s\nready_timeout = 60\n' "$T/app.sh" \
	"$T/app.ready" > "$T/wd.d/app.conf"
(
	while [ ! -e "$T/init.stop" ]; do
		while [ -e "$T/hold" ]; do sleep 0.1; done
		rm -f "$T/app.ready"
		WATCHDOG_APPS=none "$BIN/watchdog" -d "$T/wd.d" -s "$T/wd.sock" -H none -P "$T/hold" -l "$T/wd.log" \
			-r "$R/etc/space-release" 2> /dev/null
		sleep 0.2
	done
) &
INIT=$!
trap 'touch "$T/init.stop"; "$BIN/watchdogctl" -s "$T/wd.sock" shutdown > /dev/null 2>&1; wait $INIT; rm -rf "$T"' EXIT
ready() { "$BIN/watchdogctl" -s "$T/wd.sock" --json status 2> /dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(0 if len(s) == 2 and all(x["state"] == "running" and x["ready"] == "yes" for x in s) else 1)' 2> /dev/null; }
welcomed() { python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"HELLO t\n")
sys.exit(0 if s.recv(64).startswith(b"WELCOME") else 1)' $PORT 2> /dev/null; }
for i in $(seq 100); do ready && break; sleep 0.1; done
ready && welcomed || die "the watchdog and its services do not come up: $(cat "$T/wd.log")"
LIVE="--live --devgate-socket $T/dg.sock --devgate-state $T/gate/state --watchdog-socket $T/wd.sock --watchdog-hold $T/hold"
HP apply $LIVE "$B" > "$T/out" 2>&1 || die "live apply: $(cat "$T/out")"
ready && welcomed || die "after the live apply: services $("$BIN/watchdogctl" -s "$T/wd.sock" status 2>&1), gate"
grep -q "device communication blocked" "$T/gate.log" && grep -q "device communication unblocked" "$T/gate.log" ||
	die "the gate was not blocked and unblocked: $(cat "$T/gate.log")"
grep -q "blocked=0" "$T/gate/state" || die "gate state: $(cat "$T/gate/state")"
snap | cmp -s - "$T/l2" || die "live apply: not the v2 tree"
pass "live: the real device gate blocked and reopened, the real watchdog stopped and started again with every service ready"

mkbundle 3 "$F2"'fix = 3 SPC-303 app: never ready (a broken patch)
' devgate-$VER-3 mgmtd-$VER-3
rc=0
HP apply --services-timeout 5 $LIVE "$T/b/Space-$REL-Hotpatch-v3.tgz" > "$T/out" 2>&1 || rc=$?
[ $rc = 111 ] && grep -q "services not ready within 5 s: app; the node is as it was, at level v2" "$T/out" ||
	die "a patch whose service never gets ready: $rc $(tail -3 "$T/out")"
snap | cmp -s - "$T/l2" || die "never-ready patch: not back at the v2 tree"
for i in $(seq 100); do ready && break; sleep 0.1; done
ready && welcomed || die "after the rolled-back v3: services or gate"
pass "live: a patch whose service never gets ready is rolled back: the v2 tree, services ready, gate open"
rc=0
HOTPATCH_CRASH=start HP apply --services-timeout 5 $LIVE "$T/b/Space-$REL-Hotpatch-v3.tgz" > "$T/out" 2>&1 || rc=$?
[ $rc = 137 ] || die "crash at start of v3: exit $rc"
HP recover --services-timeout 5 $LIVE > "$T/rec" 2>&1 || die "recover of a v3 whose service never gets ready: $(cat "$T/rec")"
grep -q "recovered: level v2" "$T/rec" || die "recover said: $(cat "$T/rec")"
snap | cmp -s - "$T/l2" || die "recover of v3: not the v2 tree"
for i in $(seq 100); do ready && break; sleep 0.1; done
ready && welcomed || die "after recovering v3: services or gate"
pass "live: a kill at start of a patch whose service never gets ready, then recover: undone to v2 (not retried forever)"

rc=0
HOTPATCH_FAULT=restore HP rollback $LIVE > "$T/out" 2>&1 || rc=$?
[ $rc = 111 ] && grep -q "the rollback to v1 is completed by the next hotpatch run or boot" "$T/out" ||
	die "a failed restore of a rollback: $rc $(tail -1 "$T/out")"
HP recover $LIVE > "$T/rec" 2>&1 || die "recover of the rollback: $(cat "$T/rec")"
snap | cmp -s - "$T/l1" || die "recovered rollback: not v1"
for i in $(seq 100); do ready && break; sleep 0.1; done
ready && welcomed || die "after the recovered rollback: services or gate"
HP apply $LIVE "$B" > "$T/out" 2>&1 || die "live apply v2 again: $(cat "$T/out")"
pass "live: a rollback whose restore fails says the next run completes it, and recover does: v1, services up, gate open"
HP rollback $LIVE > /dev/null 2>&1 || die "rollback before the hangup run"
"$BIN/hotpatch" apply --root "$R" $LIVE "$B" > "$T/out" 2>&1 &
pid=$!
for i in $(seq 100); do grep -q '\[3/8\] stop' "$T/out" && break; sleep 0.02; done
kill -HUP $pid
rc=0
wait $pid || rc=$?
[ $rc = 0 ] && grep -q "installed: level v2" "$T/out" || die "SIGHUP in the stop step: exit $rc: $(tail -2 "$T/out")"
snap | cmp -s - "$T/l2" || die "after SIGHUP: not the v2 tree"
pass "live: a hangup (the operator's SSH session dropped) during the stop step does not stop the patch: v2"

DEVGATE_SOCKET=$T/dg.sock "$BIN/spacectl" devices block > /dev/null || die "operator block"
HP rollback $LIVE > "$T/out" 2>&1 || die "live rollback: $(cat "$T/out")"
grep -q "blocked=1" "$T/gate/state" && ! welcomed || die "a gate the operator blocked was opened by the patch tool"
grep -q "stays blocked" "$T/out" || die "rollback did not say the gate stays blocked: $(cat "$T/out")"
snap | cmp -s - "$T/l1" || die "live rollback: not the v1 tree"
pass "live: a gate the operator had blocked stays blocked through a rollback, which says so"

rc=0
HP apply "$B" > /dev/null 2>&1 || die "apply v2"
HP apply --reinstall "$B" > "$T/out" 2>&1 || die "reinstall v2: $(cat "$T/out")"
# the database records what each install replaced (previous): that changes
snap | grep -v usr/lib/pkg/installed | cmp -s - <(grep -v usr/lib/pkg/installed "$T/l2") || die "reinstall: not the v2 tree: $(snap | diff - "$T/l2")"
"$BIN/pkg" --root "$R" verify --no-owner > "$T/out" 2>&1 || die "pkg verify after reinstall: $(cat "$T/out")"
HP recover > "$T/out" 2>&1 && [ ! -s "$T/out" ] || die "recover with nothing to do printed: $(cat "$T/out")"
HP rollback > "$T/out" 2>&1 || die "rollback after a reinstall: $(cat "$T/out")"
snap | cmp -s - "$T/l1" || die "rollback after a reinstall: not the v1 tree: $(tail -1 "$T/out")"
pass "--reinstall of the installed level gives the same tree and keeps the way back to v1; recover with nothing to do is silent"

rc=0
"$BIN/hotpatch" apply > /dev/null 2>&1 || rc=$?
[ $rc = 100 ] || die "usage: exit $rc"
rc=0
"$BIN/hotpatch" apply --root "$T/nonexistent" "$B" > "$T/out" 2>&1 || rc=$?
[ $rc = 111 ] || die "missing root: exit $rc $(cat "$T/out")"
pass "usage errors exit 100, a root that is not there 111"
done_testing
