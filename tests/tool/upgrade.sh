#!/bin/bash
# tests/tool/upgrade.sh - `spacectl upgrade` on a node simulated with --root
# (release file, kernel command line, DMI, root CA, settings) and
# SPACE_DISK (a small raw disk made by `mkimage disk`, whose slots are byte
# ranges of the file): a good upgrade writes slot B byte-identical to the
# image's slot image and arms one trial boot in grubenv; every refusal
# (the OVA's tamper matrix on the release image, a renamed file, wrong
# product or target, a refused upgrade path, no or old or on-node backup,
# the clock off or unchecked, an upgrade during a trial, a second upgrade
# at once) happens before slot B or grubenv is touched; then confirm
# (trial kept when the services are ready, not kept when they are not),
# the fallback record, an interrupted upgrade, rollback, status.
# Env: BIN, TOP, PRODUCT.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
P=${PRODUCT:-space}
T=$(mktemp -d)
NTP_PIDS=
WD_PID=
cleanup() {
	[ -z "$NTP_PIDS" ] || kill $NTP_PIDS 2>/dev/null || true
	[ -z "$WD_PID" ] || kill "$WD_PID" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$TOP/tests/tool/tamper-lib.sh"
MF=manifest CERT=manifest.cert CHAIN=certchain.pem SLOT=rootfs.ext4.zst
ALL=("$MF" "$CERT" "$CHAIN" "$SLOT")

# --- a release image (21.3R2) made from a small disk ------------------------
. "$(dirname "$0")/tree-lib.sh"
tree() { # tree DIR VERSION
	mkdir -p "$1/etc" "$1/usr/bin"
	boot_tree "$1"
	printf 'PRODUCT=%s\nVERSION=%s\n' "$P" "$2" > "$1/etc/$P-release"
	head -c 2000000 /dev/urandom > "$1/usr/bin/random.bin"
}
tree "$T/new" 21.3R2
tree "$T/old" 21.2R1
mk_disk() { "$BIN/mkimage" disk --out "$1" --rootfs "$2" --seed upgrade-test --product "$P" --version "$3" \
	--size 200M --root-size 48M > /dev/null; }
mk_disk "$T/new.raw" "$T/new" 21.3R2
mk_disk "$T/node.raw" "$T/old" 21.2R1
"$BIN/mkova" pki --dir "$T/pki"
"$BIN/mkova" pki --dir "$T/other"
mkrel() { # mkrel OUTDIR VERSION [ARGS]
	local o=$1 v=$2
	shift 2
	mkdir -p "$o"
	"$BIN/mkrelease" build --raw "$T/new.raw" --out "$o" --version "$v" --build 0123abcd4567 \
		--kernel 6.1.0-test --paths "$TOP/image/release/upgrade-paths.conf" --pki "$T/pki" "$@" >/dev/null
}
mkrel "$T/img" 21.3R2 --product "$P" --targets 'kvm esxi ja2500'
IMG=$T/img/$P-21.3R2.img
mkrel "$T/other-product" 21.3R2 --product other --targets kvm
mkrel "$T/esxi-only" 21.3R2 --product "$P" --targets esxi
pass "inputs: a node disk holding 21.2R1, a signed $P-21.3R2.img (and other-product, esxi-only variants)"

# --- the simulated node -----------------------------------------------------
R=$T/root
mkdir -p "$R/etc/space" "$R/proc" "$R/sys/class/dmi/id" "$R/var/lib/upgrade" "$R/var/log" "$T/offnode"
printf 'PRODUCT=%s\nVERSION=21.2R1\nBUILD_ID=old\n' "$P" > "$R/etc/$P-release"
echo "BOOT_IMAGE=/boot/vmlinuz root=PARTUUID=x ro space.slot=a" > "$R/proc/cmdline"
echo QEMU > "$R/sys/class/dmi/id/sys_vendor"
echo "Standard PC (Q35 + ICH9, 2009)" > "$R/sys/class/dmi/id/product_name"
cp "$T/pki/dev-root-ca.pem" "$R/etc/space/root-ca.pem"
export SPACE_DISK=$T/node.raw
sntp() { # sntp VAR OFFSET: start a time server, its port into VAR
	local f=$T/ntp.$RANDOM
	python3 "$TOP/tests/lib/sntp_server.py" --offset "$2" > "$f" &
	NTP_PIDS="$NTP_PIDS $!"
	for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.1; done
	printf -v "$1" '%s' "$(head -n1 "$f")"
}
sntp GOOD_NTP 0.2
sntp OFF_NTP 3600
conf() { printf 'ntp_server = 127.0.0.1:%s\nclock_max_offset = 5s\ntrial_timeout = 10s\nvar_min_free = 0\n' "$1" \
	> "$R/var/lib/upgrade/upgrade.conf"; }
conf "$GOOD_NTP"
sc() { "$BIN/spacectl" --root "$R" "$@"; }
backup_rec() { # backup_rec AGE OFFNODE
	printf 'time = %s\nwhere = /mnt/usb/space-backup.tar.gz\noffnode = %s\nsha256 = x\n' \
		$(($(date +%s) - $1)) "$2" > "$R/var/lib/upgrade/backup"
}
backup_rec 60 yes

L=$("$BIN/mkimage" layout "$T/node.raw" | grep ' name=root-b ')
B_FIRST=$(sed 's/.* first=\([0-9]*\) .*/\1/' <<<"$L") B_BYTES=$(sed 's/.* bytes=\([0-9]*\) .*/\1/' <<<"$L")
slot_b_sum() { dd if="$T/node.raw" bs=512 skip="$B_FIRST" count=$((B_BYTES / 512)) status=none | sha256sum | cut -d' ' -f1; }
env_now() { "$BIN/mkimage" bootenv "$T/node.raw"; }
B0=$(slot_b_sum) E0=$(env_now)

# expect_fail WHAT PATTERN FILE [ARGS]: refused (exit 1) naming the reason,
# slot B and grubenv untouched, the refusal recorded
expect_fail() {
	local what=$1 pat=$2 f=$3 out rc
	shift 3
	rc=0
	out=$(sc upgrade "$@" "$f" 2>&1) || rc=$?
	[ "$rc" = 1 ] || die "$what: exit $rc, want 1: $out"
	grep -Eq "$pat" <<<"$out" || die "$what: message '$out' lacks /$pat/"
	[ "$(wc -l <<<"$out")" = 1 ] || die "$what: more than one line: $out"
	[ "$(slot_b_sum)" = "$B0" ] || die "$what: slot B was written"
	[ "$(env_now)" = "$E0" ] || die "$what: grubenv changed: $(env_now)"
	grep -qx 'state = failed' "$R/var/lib/upgrade/status" || die "$what: no failed state recorded"
	pass "refused before anything is written: $what ($out)"
}

# --- refusals -----------------------------------------------------------------
mkdir -p "$T/w" "$T/renamed"
fresh() { rm -rf "$T/w"/* && tar -C "$T/w" -xf "$IMG"; }
declare -A FLIP_AT=([$MF]=10 [$CERT]=0 [$CHAIN]=100 [$SLOT]=200)
declare -A FLIP_PAT=([$MF]='signature|manifest' [$CERT]='signature|cert' [$CHAIN]='chain|signature|certificate' [$SLOT]='digest|slot-image')
declare -A CUT_PAT=([$MF]='manifest|signature' [$CERT]='cert|signature' [$CHAIN]='chain|certificate' [$SLOT]='digest|slot-image|truncated')
declare -A GONE_PAT=([$MF]='manifest' [$CERT]='not signed|cert' [$CHAIN]='chain' [$SLOT]='slot image|slot-image|order')
TW=$T/tw/$P-21.3R2.img
mkdir -p "$T/tw"
# every member flipped, truncated, removed, renamed: refused in the first
# pass (the slot member by its digest), before anything is written
tamper_members "$TW" "unexpected-member|manifest|cert|chain|slot|order"
fresh && pack "$T/w" "$TW" "$CERT" "$MF" "$CHAIN" "$SLOT"
expect_fail "members reordered" "order|manifest" "$TW"
fresh && cp "$T/other/dev-root-ca.pem" /dev/null && (cd "$T" && resign "$T/other") && pack "$T/w" "$TW" "${ALL[@]}"
expect_fail "signed by another PKI" "chain|certificate|verify" "$TW"
cp "$IMG" "$T/renamed/$P-21.3R3.img"
expect_fail "renamed file" "renamed: the file is $P-21.3R3.img but the signed manifest names $P-21.3R2.img" "$T/renamed/$P-21.3R3.img"
expect_fail "another product" "product 'other', this node runs '$P'" "$T/other-product/other-21.3R2.img"
expect_fail "another target" "the image boots on esxi, this node is kvm" "$T/esxi-only/$P-21.3R2.img"
printf 'PRODUCT=%s\nVERSION=20.3R1\nBUILD_ID=old\n' "$P" > "$R/etc/$P-release"
expect_fail "refused upgrade path (20.3 -> 21.3)" "21\\.1.*21\\.2|21\\.2.*21\\.1" "$IMG"
printf 'PRODUCT=%s\nVERSION=21.2R1\nBUILD_ID=old\n' "$P" > "$R/etc/$P-release"
rm "$R/var/lib/upgrade/backup"
expect_fail "no backup" "no backup of this node" "$IMG"
backup_rec 60 no
expect_fail "backup left on the node" "did not leave the node" "$IMG"
backup_rec $((8 * 86400)) yes
expect_fail "backup 8 days old" "192 h old, the limit is 168 h" "$IMG"
backup_rec 60 yes
conf "$OFF_NTP"
expect_fail "clock an hour off" "the clock is 3600\\.[0-9] s off 127\\.0\\.0\\.1:$OFF_NTP" "$IMG"
printf 'clock_max_offset = 5s\n' > "$R/var/lib/upgrade/upgrade.conf"
expect_fail "no time server configured" "no time server" "$IMG"
conf 9 # nothing listens on port 9
expect_fail "time server silent" "cannot check the clock" "$IMG"
conf "$GOOD_NTP"
exec 9> "$R/var/lib/upgrade/lock"
flock 9
out=$(sc upgrade "$IMG" 2>&1) && die "second upgrade at once accepted"
grep -q "another upgrade is running" <<<"$out" || die "lock: $out"
exec 9>&-
pass "one upgrade at a time: $out"
echo "BOOT_IMAGE=/boot/vmlinuz ro space.slot=a" > "$R/proc/cmdline"
"$BIN/mkimage" bootenv "$T/node.raw" slot_try=a >/dev/null
E_TRY=$(env_now)
out=$(sc upgrade "$IMG" 2>&1) && die "upgrade during a trial accepted"
grep -q "this boot is the trial of slot A" <<<"$out" || die "trial: $out"
[ "$(env_now)" = "$E_TRY" ] && [ "$(slot_b_sum)" = "$B0" ] || die "trial refusal touched the disk"
pass "refused during a trial boot: $out"
"$BIN/mkimage" bootenv "$T/node.raw" slot_try= >/dev/null
E0=$(env_now)

# --- the upgrade ----------------------------------------------------------------
out=$(sc upgrade "$IMG" 2>"$T/err") || die "upgrade: $(cat "$T/err")"
grep -q "slot B now holds $P 21.3R2" <<<"$out" || die "upgrade output: $out"
want_sum=$(tar -xOf "$IMG" manifest | sed -n 's/^slot.sha256 = //p')
size=$(tar -xOf "$IMG" manifest | sed -n 's/^slot.size = //p')
got_sum=$(dd if="$T/node.raw" bs=512 skip="$B_FIRST" count=$((size / 512)) status=none | sha256sum | cut -d' ' -f1)
[ "$got_sum" = "$want_sum" ] || die "slot B is not the image's slot image"
pass "slot B holds the image's slot image byte for byte (sha256 $want_sum)"
for kv in ver_b=21.3R2 slot_try=b try_left=1 slot_good=a ver_a=21.2R1; do
	env_now | grep -qx "$kv" || die "grubenv lacks $kv: $(env_now)"
done
pass "grubenv: ver_b=21.3R2 slot_try=b try_left=1, slot A still the good one"
for kv in 'state = ready' 'release = 21.3R2' 'from = 21.2R1' 'slot = b' 'progress = 100'; do
	grep -qx "$kv" "$R/var/lib/upgrade/status" || die "status lacks '$kv': $(cat "$R/var/lib/upgrade/status")"
done
log=$(sed -n 's/^log = //p' "$R/var/lib/upgrade/status")
grep -q "read back: SHA-256 matches" "$log" || die "log: $(cat "$log")"
pass "status file: ready 21.3R2 from 21.2R1 in slot b; the log records the read-back"
sc upgrade status | grep -q "slot B:    21.3R2, on trial" || die "status: $(sc upgrade status)"
sc --json upgrade status | grep -q '"state":"ready"' || die "status --json: $(sc --json upgrade status)"
pass "upgrade status (text and JSON)"

# --- confirm on the trial boot ------------------------------------------------
mkdir -p "$T/wd.d"
cat > "$T/wd.d/svc.conf" <<CONF
exec = /bin/sleep 1000
ready_command = /usr/bin/test -e $T/svc.ready
ready_timeout = 60
CONF
WATCHDOG_APPS=none "$BIN/watchdog" -d "$T/wd.d" -s "$T/wd.sock" -i 1 -l "$T/wd.log" -H none -P "$T/hold" \
	-r "$R/etc/$P-release" -C /dev/null 2>>"$T/wd.log" &
WD_PID=$!
export WATCHDOG_SOCKET=$T/wd.sock
"$BIN/mkimage" bootenv "$T/node.raw" try_left=0 >/dev/null # what GRUB does
echo "BOOT_IMAGE=/boot/vmlinuz ro space.slot=b space.trial=1" > "$R/proc/cmdline"
printf 'PRODUCT=%s\nVERSION=21.3R2\nBUILD_ID=new\n' "$P" > "$R/etc/$P-release"
out=$(sc upgrade confirm --no-reboot 2>&1) && die "confirmed with a service not ready: $out"
grep -q "trial of 21.3R2 in slot B: services not ready after 10 s: svc (starting)" <<<"$out" ||
	die "not ready: $out ($(cat "$T/wd.log"))"
env_now | grep -qx slot_good=a || die "a failed trial became good"
pass "trial not kept when a service is not ready in time: $out"
# back on slot A: the fallback is recorded
echo "BOOT_IMAGE=/boot/vmlinuz ro space.slot=a" > "$R/proc/cmdline"
printf 'PRODUCT=%s\nVERSION=21.2R1\nBUILD_ID=old\n' "$P" > "$R/etc/$P-release"
out=$(sc upgrade confirm 2>&1) && die "fallback not reported"
grep -q "upgrade failed, running 21.2R1 from slot A: trial of 21.3R2 in slot B: services not ready" <<<"$out" || die "fallback: $out"
env_now | grep -qx 'slot_try=' || die "trial not cleared: $(env_now)"
sc upgrade status | grep -q "reason:    trial of 21.3R2 in slot B: services not ready" || die "status after fallback: $(sc upgrade status)"
pass "back on slot A: the failed upgrade and its reason are recorded ($out)"
# rollback-style re-arm, then a trial whose services come up
sc upgrade rollback | grep -q "slot B (21.3R2) boots once on trial" || die "rollback"
env_now | grep -qx slot_try=b && env_now | grep -qx try_left=1 || die "rollback did not arm: $(env_now)"
pass "upgrade rollback arms a trial of the other slot's release"
"$BIN/mkimage" bootenv "$T/node.raw" try_left=0 >/dev/null
echo "BOOT_IMAGE=/boot/vmlinuz ro space.slot=b space.trial=1" > "$R/proc/cmdline"
printf 'PRODUCT=%s\nVERSION=21.3R2\nBUILD_ID=new\n' "$P" > "$R/etc/$P-release"
touch "$T/svc.ready"
sleep 2
out=$(sc upgrade confirm --no-reboot 2>&1) || die "confirm: $out"
env_now | grep -qx slot_good=b && env_now | grep -qx 'slot_try=' || die "not marked good: $(env_now)"
grep -qx 'state = good' "$R/var/lib/upgrade/status" || die "status not good"
pass "trial kept once every service is ready: $out"
out=$(sc upgrade confirm 2>&1) || die "confirm on a normal boot: $out"
[ -z "$out" ] || die "confirm on a normal boot says: $out"
pass "confirm on a normal boot does nothing"

# --- an upgrade interrupted by a power cut ------------------------------------
sed -i 's/^state = .*/state = writing/' "$R/var/lib/upgrade/status"
out=$(sc upgrade confirm 2>&1) && die "interrupted upgrade not reported"
grep -q "interrupted while writing (reset or power loss)" <<<"$out" || die "interrupted: $out"
pass "an upgrade cut off while writing is recorded as failed at the next boot"

# --- a fabric member's part (README.md "Fabric"): staged, armed, cancelled ---
echo "BOOT_IMAGE=/boot/vmlinuz ro space.slot=a" > "$R/proc/cmdline"
printf 'PRODUCT=%s\nVERSION=21.2R1\nBUILD_ID=old\n' "$P" > "$R/etc/$P-release"
"$BIN/mkimage" bootenv "$T/node.raw" slot_good=a slot_try= try_left=0 ver_b= >/dev/null
out=$(sc upgrade --fabric-member "$IMG" 2>"$T/err") || die "fabric member: $(cat "$T/err")"
grep -q "slot B now holds $P 21.3R2, staged" <<<"$out" || die "staged output: $out"
env_now | grep -qx ver_b=21.3R2 && env_now | grep -qx 'slot_try=' || die "staged grubenv: $(env_now)"
grep -qx 'state = staged' "$R/var/lib/upgrade/status" || die "status not staged"
pass "a fabric member's upgrade: slot B written and read back, staged, no trial armed"
expect_rc "--fabric-member with another verb: usage (100)" 100 sc upgrade --fabric-member rollback
sc upgrade arm | grep -q "slot B (21.3R2) boots once on trial" || die "arm"
env_now | grep -qx slot_try=b && env_now | grep -qx try_left=1 || die "arm did not arm: $(env_now)"
grep -qx 'state = ready' "$R/var/lib/upgrade/status" || die "status not ready after arm"
pass "upgrade arm: the staged release boots once on trial at the next reboot"
out=$(sc upgrade cancel 2>&1) || die "cancel: $out"
env_now | grep -qx 'ver_b=' && env_now | grep -qx 'slot_try=' || die "cancel left: $(env_now)"
grep -qx 'state = cancelled' "$R/var/lib/upgrade/status" || die "status not cancelled"
pass "upgrade cancel: slot B marked empty, no trial, the node stays on 21.2R1 ($out)"
rc=0; out=$(sc upgrade arm 2>&1) || rc=$?
is "arm with nothing staged is refused (1)" "$rc" 1
grep -q "slot B holds no release" <<<"$out" || die "arm refusal: $out"
out=$(sc upgrade cancel 2>&1) || die "a second cancel: $out"
grep -q "nothing to cancel" <<<"$out" || die "second cancel: $out"
pass "a second cancel changes nothing: $out"
done_testing
