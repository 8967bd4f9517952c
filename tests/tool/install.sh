#!/bin/bash
# tests/tool/install.sh - space-install on a machine simulated with --root
# (ROOT/sys/block/NAME for sysfs, ROOT/dev/NAME sparse files for disks) and
# a medium directory holding a small signed release image and its boot kit
# (mkimage disk --kit): an unattended install makes a disk whose GPT,
# slot A (the manifest's SHA-256), slot B, /var (with the install log), ESP
# and BIOS boot code are right; the interactive menu takes numbers, words
# and prefixes, re-prompts on bad input, refuses a too-small disk and the
# medium, and writes nothing without the confirmation; every tampered,
# renamed or foreign image and every unfit disk is refused with nothing
# written; reinstall replaces an installed system. Attacks on it: a failure
# after the table (wiped again), a disk gone or replaced under its name, long
# or NUL-holding answers, a disk number past 2^32, escapes in a disk's grubenv,
# 40 disks (the table filled), a bad .space-medium, the medium mounted from a
# partition, a read-only disk, space.action= started again after a shell.
# Env: BIN, TOP, PRODUCT.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
P=${PRODUCT:-space}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$TOP/tests/tool/tamper-lib.sh"
MF=manifest CERT=manifest.cert CHAIN=certchain.pem SLOT=rootfs.ext4.zst
ALL=("$MF" "$CERT" "$CHAIN" "$SLOT")
V=21.3R1

# --- a small release (48 MiB slots) with its kit ----------------------------
. "$(dirname "$0")/tree-lib.sh"
mkdir -p "$T/tree/etc" "$T/tree/usr/bin"
boot_tree "$T/tree"
printf 'PRODUCT=%s\nVERSION=%s\n' "$P" "$V" > "$T/tree/etc/$P-release"
head -c 3000000 /dev/urandom > "$T/tree/usr/bin/random.bin"
"$BIN/mkimage" disk --out "$T/rel.raw" --rootfs "$T/tree" --seed install-test --product "$P" --version "$V" \
	--size 200M --root-size 48M --kit "$T/kit" > /dev/null
"$BIN/mkova" pki --dir "$T/pki"
"$BIN/mkova" pki --dir "$T/other"
mkdir -p "$T/medium"
"$BIN/mkrelease" build --raw "$T/rel.raw" --out "$T/medium" --product "$P" --version "$V" --build 0123abcd4567 \
	--kernel 6.1.0-test --targets 'kvm esxi ja2500' --paths "$TOP/image/release/upgrade-paths.conf" \
	--pki "$T/pki" > /dev/null
IMG=$T/medium/$P-$V.img
printf 'format = 1\nproduct = %s\nrelease = %s\nimage = %s-%s.img\n' "$P" "$V" "$P" "$V" > "$T/medium/.space-medium"
SLOT_SHA=$(sed -n 's/^slot.sha256 = //p' <(tar -xOf "$IMG" manifest))
SLOT_SIZE=$(sed -n 's/^slot.size = //p' <(tar -xOf "$IMG" manifest))
grep -qx "esp.image.size = $(stat -c %s "$T/kit/esp.img")" "$T/kit/kit.conf" || die "kit.conf: esp.image.size"
pass "inputs: a signed $P-$V.img on the medium, its boot kit ($(stat -c %s "$T/kit/esp.img") bytes of ESP)"

# --- the simulated machine ---------------------------------------------------
R=$T/root
disk() { # disk NAME SIZE SERIAL: a blank virtio disk
	mkdir -p "$R/sys/block/$1" "$R/dev"
	echo $(($2 / 512)) > "$R/sys/block/$1/size"
	echo "$3" > "$R/sys/block/$1/serial"
	echo 0 > "$R/sys/block/$1/ro"
	rm -f "$R/dev/$1" && truncate -s "$2" "$R/dev/$1"
}
disk vda $((2048 * 1024 * 1024)) target
disk vdb $((1024 * 1024 * 1024)) small
disk loop0 $((4096 * 1024 * 1024)) loop
# the medium: its directory's device number points at disk sdz
disk sdz $((300 * 1024 * 1024)) medium
mkdir -p "$R/sys/dev/block"
ln -s ../../block/sdz "$R/sys/dev/block/$(stat -c '%Hd:%Ld' "$T/medium")"
mkdir -p "$R/proc"
: > "$R/proc/cmdline"

si() { "$BIN/space-install" --root "$R" --medium "$T/medium" --kit "$T/kit" --ca "$T/pki/dev-root-ca.pem" \
	--work "${WORK:-$(mktemp -d "$T/work.XXXXXX")}" --no-reboot "$@"; } # WORK: one boot's /run/space-install
blocks() { stat -c %b "$R/dev/$1"; } # allocated blocks: 0 for a disk never written
sum_head() { head -c 1048576 "$R/dev/$1" | sha256sum | cut -d' ' -f1; }
part() { "$BIN/mkimage" layout "$R/dev/$1" | grep " name=$2 "; }
p_first() { sed 's/.* first=\([0-9]*\) .*/\1/' <<<"$(part "$1" "$2")"; }
p_bytes() { sed 's/.* bytes=\([0-9]*\) .*/\1/' <<<"$(part "$1" "$2")"; }

# --- unattended install --------------------------------------------------------
echo "quiet space.action=install space.disk=first space.after=poweroff" > "$R/proc/cmdline"
out=$(si < /dev/null 2>&1) || die "unattended install: exit $?: $out"
grep -q "Installed $P $V on vda" <<<"$out" || die "unattended install: $out"
grep -q "Powering off" <<<"$out" || die "space.after=poweroff not followed: $out"
pass "unattended install onto the first blank disk (vda), then poweroff"
grep -q 'sdz .*the installation medium (not a target)' <<<"$out" || die "medium not marked: $out"
! grep -q 'loop0' <<<"$out" || die "loop device listed: $out"
grep -q 'vdb .*virtio-small' <<<"$out" && grep -q 'too small, needs' <<<"$out" || die "vdb not shown too small: $out"
pass "disks listed with size, model, by-id; the medium not offered; loop devices left out"
[ "$(blocks vdb)" = 0 ] && [ "$(blocks sdz)" = 0 ] || die "another disk was written"
pass "nothing written to the too-small disk or the medium"

sgdisk -v "$R/dev/vda" | grep -q 'No problems found' || die "GPT: $(sgdisk -v "$R/dev/vda")"
for p in bios esp root-a root-b data; do part vda "$p" > /dev/null || die "no $p partition"; done
[ "$(p_first vda data)" -gt "$(p_first vda root-b)" ] && [ "$(p_bytes vda data)" -gt $((1000 * 1024 * 1024)) ] ||
	die "data partition not sized to the disk: $(part vda data)"
pass "GPT valid (sgdisk -v), five partitions, /var sized to the disk"
got=$(dd if="$R/dev/vda" bs=512 skip="$(p_first vda root-a)" count=$((SLOT_SIZE / 512)) status=none | sha256sum | cut -d' ' -f1)
[ "$got" = "$SLOT_SHA" ] || die "slot A: $got, manifest says $SLOT_SHA"
pass "slot A hashes to the manifest's slot.sha256"
for p in root-b data; do
	dd if="$R/dev/vda" bs=512 skip="$(p_first vda "$p")" count=$(($(p_bytes vda "$p") / 512)) of="$T/fs.img" \
		conv=sparse status=none
	e2fsck -fn "$T/fs.img" > /dev/null 2>&1 || die "$p: e2fsck: $(e2fsck -fn "$T/fs.img" 2>&1 | tail -3)"
	rm -f "$T/fs.img"
done
DATA="$R/dev/vda?offset=$(($(p_first vda data) * 512))"
debugfs -R 'stat log/install.log' "$DATA" 2>/dev/null | grep -q 'User: *0 *Group: *0' || die "no root-owned log/install.log"
debugfs -R 'cat log/install.log' "$DATA" 2>/dev/null > "$T/install.log"
grep -q "slot A read back: SHA-256 matches" "$T/install.log" && grep -q "partition table written and read back" \
	"$T/install.log" && grep -q "installed $P $V" "$T/install.log" ||
	die "install log: $(cat "$T/install.log")"
debugfs -R 'stats' "$DATA" 2>/dev/null | grep -q 'Filesystem volume name: *data' || die "data label"
pass "slot B and /var are clean ext4 (labels root-b, data); /var/log/install.log records the checks"
dd if="$R/dev/vda" bs=512 skip="$(p_first vda esp)" count=$(($(stat -c %s "$T/kit/esp.img") / 512)) status=none |
	cmp -s - "$T/kit/esp.img" || die "ESP is not the kit's"
mtype -i "$R/dev/vda@@$(($(p_first vda esp) * 512))" ::/grub/grubenv | grep -qx "ver_a=$V" || die "grubenv"
[ "$(dd if="$R/dev/vda" bs=1 skip=$((0x5c)) count=8 status=none | od -An -tu8 | tr -d ' ')" = 2048 ] || die "boot code"
pass "ESP is the kit's (grubenv: slot A holds $V); MBR boot code points at core.img"
G1=$(sgdisk -p "$R/dev/vda" | sed -n 's/^Disk identifier (GUID): //p')
[ "$G1" != "$(sgdisk -p "$T/rel.raw" | sed -n 's/^Disk identifier (GUID): //p')" ] || die "disk GUID not random"
pass "the installed disk has its own GUIDs (not the build's)"

# --- refusals: nothing written ---------------------------------------------------
# expect_refused WHAT PATTERN DISK: the unattended run is refused naming the
# reason, the disk keeps its first MiB, and the menu follows (end of input: 111)
expect_refused() {
	local what=$1 pat=$2 d=$3 before out rc=0
	before=$(sum_head "$d")
	out=$(si < /dev/null 2>&1) || rc=$?
	[ "$rc" = 111 ] || die "$what: exit $rc: $out"
	grep -Eq "$pat" <<<"$out" || die "$what: output lacks /$pat/: $out"
	grep -q 'Nothing was written' <<<"$out" || die "$what: no 'Nothing was written': $out"
	[ "$(sum_head "$d")" = "$before" ] || die "$what: $d was written"
	pass "refused, nothing written: $what"
}
echo "space.action=install space.disk=/dev/vdb" > "$R/proc/cmdline"
expect_refused "a too-small disk" "vdb is too small: 1.0 GiB, $P $V needs at least" vdb
echo "space.action=install space.disk=/dev/sdz" > "$R/proc/cmdline"
expect_refused "the installation medium" "sdz is the installation medium" sdz
echo "space.action=install space.disk=/dev/vda" > "$R/proc/cmdline"
expect_refused "install over an installed system" "vda holds $P $V: install erases only blank disks" vda
echo "space.action=install space.disk=first" > "$R/proc/cmdline"
expect_refused "no blank disk left" "no blank disk of at least" vda

# tampered images: the first verification refuses them before a disk is chosen
disk vdc $((2048 * 1024 * 1024)) fresh
echo "space.action=install space.disk=/dev/vdc" > "$R/proc/cmdline"
cp "$IMG" "$T/good.img"
expect_fail() { # for tamper_members: the image file given replaces the medium's
	cp "$3" "$IMG"
	expect_refused "$1" "refused.*($2)" vdc
	[ "$(blocks vdc)" = 0 ] || die "$1: vdc was written"
	cp "$T/good.img" "$IMG"
}
mkdir -p "$T/w" "$T/tw"
fresh() { rm -rf "$T/w"/* && tar -C "$T/w" -xf "$T/good.img"; }
declare -A FLIP_AT=([$MF]=10 [$CERT]=0 [$CHAIN]=100 [$SLOT]=200)
declare -A FLIP_PAT=([$MF]='signature|manifest' [$CERT]='signature|cert' [$CHAIN]='chain|signature|certificate' [$SLOT]='digest|slot-image')
declare -A CUT_PAT=([$MF]='manifest|signature' [$CERT]='cert|signature' [$CHAIN]='chain|certificate' [$SLOT]='digest|slot-image|truncated')
declare -A GONE_PAT=([$MF]='manifest' [$CERT]='not signed|cert' [$CHAIN]='chain' [$SLOT]='slot image|slot-image|order')
tamper_members "$T/tw/x.img" "unexpected-member|manifest|cert|chain|slot|order"
fresh && (cd "$T" && resign "$T/other") && pack "$T/w" "$T/tw/x.img" "${ALL[@]}"
expect_fail "signed by another PKI" "chain|certificate|verify" "$T/tw/x.img"
cp "$IMG" "$T/medium/$P-21.3R9.img"
sed -i "s/^image = .*/image = $P-21.3R9.img/" "$T/medium/.space-medium"
expect_refused "a renamed image" "renamed: the file is $P-21.3R9.img but the signed manifest names $P-$V.img" vdc
sed -i "s/^image = .*/image = $P-$V.img/" "$T/medium/.space-medium"
rm "$T/medium/$P-21.3R9.img"
[ "$(blocks vdc)" = 0 ] || die "vdc written"

# --- the menu ---------------------------------------------------------------------
: > "$R/proc/cmdline"
menu() { printf "$1" | si 2>&1; }
out=$(menu 'bogus\nr\nINSTALL\n2\n9\nvdc\nn\nquit\n') && die "menu: exit 0 at end of input"
grep -q "'bogus' is not a choice" <<<"$out" || die "bad input not named: $out"
[ "$(grep -c '1  install' <<<"$out")" -ge 3 ] || die "menu not shown again after bad input: $out"
grep -q "'r' could be more than one choice" <<<"$out" || die "ambiguous prefix: $out"
grep -q "vdb is too small" <<<"$out" || die "too-small disk chosen by number not refused: $out"
grep -q "'9' is not one of the disks listed" <<<"$out" || die "bad disk number: $out"
grep -q "Erase ALL data on vdc (2.0 GiB, virtio disk, holds blank) and install $P $V? \[y/N\]" <<<"$out" ||
	die "no confirmation: $out"
grep -q "Nothing was written" <<<"$out" && [ "$(blocks vdc)" = 0 ] || die "answer n: vdc written: $out"
pass "menu: bad input and an ambiguous prefix re-prompt with the list; a too-small disk refused; 'n' writes nothing"
out=$(menu '1\nvdc\n\n') || true
[ "$(blocks vdc)" = 0 ] || die "empty answer to the confirmation wrote vdc"
pass "the wipe confirmation defaults to no"
out=$(menu 'inst\n\ny\n') || die "install by word: exit $?: $out"
grep -q "Disk \[1-3 or a name, Enter for vdc" <<<"$out" || die "no default with one fitting disk: $out"
grep -q "Installed $P $V on vdc" <<<"$out" && grep -q "Rebooting" <<<"$out" || die "install by word: $out"
"$BIN/mkimage" layout "$R/dev/vdc" | grep -q " name=root-a " || die "vdc GPT"
pass "install chosen by a prefix of the word, the one fitting disk by Enter, 'y': installed, reboots"
out=$(menu '1\nvda\n\n') || true
grep -q "vda holds $P $V" <<<"$out" && grep -q "Type the disk's name (vda) to erase it anyway" <<<"$out" ||
	die "install over a system: $out"
[ "$(sgdisk -p "$R/dev/vda" | sed -n 's/^Disk identifier (GUID): //p')" = "$G1" ] || die "vda changed"
pass "install onto a disk holding a system wants the disk's name typed out"
out=$(menu '6\n') || die "poweroff: $out"
grep -q "Powering off" <<<"$out" || die "6 is not poweroff: $out"
out=$(menu 'RESCUE\n') || die "rescue: exit $?"
grep -q "Starting a shell" <<<"$out" || die "rescue: $out"
pass "choices by number (6 poweroff) and by word in capitals (RESCUE: exit 0 for the shell)"

# --- reinstall ------------------------------------------------------------------------
out=$(menu 'reinstall\nvda\ny\n') || die "reinstall: $out"
grep -q "Installed $P $V on vda" <<<"$out" || die "reinstall: $out"
G2=$(sgdisk -p "$R/dev/vda" | sed -n 's/^Disk identifier (GUID): //p')
[ "$G2" != "$G1" ] && "$BIN/mkimage" layout "$R/dev/vda" | grep -q " name=root-a " || die "vda not reinstalled"
pass "reinstall over an installed system: a new table, reboots"
echo "space.action=reinstall space.disk=first space.after=reboot" > "$R/proc/cmdline"
out=$(si < /dev/null 2>&1) || die "unattended reinstall: $out"
grep -q "Installed $P $V on vda" <<<"$out" && grep -q Rebooting <<<"$out" || die "unattended reinstall: $out"
pass "unattended reinstall picks the first installed disk and reboots"

# --- a write error half way: one message, the disk left without a table ----------
cp --sparse=always "$R/dev/vdc" "$T/vdd" && disk vdd $((2048 * 1024 * 1024)) broken && mv "$T/vdd" "$R/dev/vdd"
echo "space.action=reinstall space.disk=/dev/vdd" > "$R/proc/cmdline"
# writes past 80 MiB fail (EFBIG; SIGXFSZ ignored): slot A or slot B
out=$(trap '' XFSZ; ulimit -f $((80 * 1024)); si < /dev/null 2>&1) && die "write error: exit 0: $out"
grep -Eq "Install failed: .*(too large|File too large)" <<<"$out" || die "write error not named: $(grep -i -B2 -A3 failed <<<"$out")"
grep -q "vdd was left without a partition table: it boots nothing, and this medium boots again" <<<"$out" ||
	die "write error: state not said: $out"
! "$BIN/mkimage" layout "$R/dev/vdd" > /dev/null 2>&1 || die "write error: vdd still has a table"
[ "$(head -c 512 "$R/dev/vdd" | od -An -tx1 -j510 | tr -d ' ')" != 55aa ] || die "write error: MBR signature left"
pass "a write error half way: one message, the disk left with no partition table (unbootable)"

# --- a failure after the table was written: the table is wiped again -------------
# The install log is written after the table (it records it): a debugfs that
# fails on it (as a full or broken /var would) must leave no table behind.
mkdir -p "$T/fakebin"
printf '#!/bin/sh\ncase "$*" in *add-file.debugfs*) echo "simulated: cannot write the log" >&2; exit 1 ;; esac\nexec %s "$@"\n' \
	"$(command -v debugfs)" > "$T/fakebin/debugfs"
chmod +x "$T/fakebin/debugfs"
echo "space.action=reinstall space.disk=/dev/vdd" > "$R/proc/cmdline"
out=$(PATH="$T/fakebin:$PATH" si < /dev/null 2>&1) && die "log failure: exit 0: $out"
grep -q "Install failed: install log: .*simulated: cannot write the log" <<<"$out" || die "log failure not named: $out"
! "$BIN/mkimage" layout "$R/dev/vdd" > /dev/null 2>&1 || die "log failure: vdd has a partition table (boots half an install)"
[ "$(head -c 512 "$R/dev/vdd" | od -An -tx1 -j510 | tr -d ' ')" != 55aa ] || die "log failure: MBR signature left"
grep -q "partition tables wiped again" <<<"$out" && grep -q "vdd was left without a partition table" <<<"$out" ||
	die "log failure: state not said: $out"
pass "a failure writing the install log (after the table) wipes the table again: no partition table"

# --- a disk gone between listing and install: nothing written, and said so --------
disk vde $((2048 * 1024 * 1024)) gone
rm "$R/dev/vde"
echo "space.action=reinstall space.disk=/dev/vde" > "$R/proc/cmdline"
out=$(si < /dev/null 2>&1) && die "disk gone: exit 0: $out"
grep -q "Install failed: .*vde: No such file" <<<"$out" || die "disk gone: not named: $out"
grep -q "Nothing was written to vde" <<<"$out" || die "disk gone: 'Nothing was written' missing: $out"
! grep -q "vde was left without a partition table" <<<"$out" || die "disk gone: claims vde was wiped: $out"
rm -rf "$R/sys/block/vde"
pass "a disk gone before the install: the failure says nothing was written"

# --- menu input: a long line is refused whole, a disk number does not wrap --------
disk vdf $((2048 * 1024 * 1024)) fresh2
: > "$R/proc/cmdline"
out=$(menu "install\nvdf\ny$(printf '%*s' 100 '')no, not this one\n") || true
grep -q "too long" <<<"$out" || die "long line: not refused: $out"
[ "$(blocks vdf)" = 0 ] || die "long line: 'y' followed by 100 spaces and 'no...' taken as yes: vdf written"
pass "a line longer than the answer buffer is refused whole, not cut to its start ('y')"
out=$(menu 'install\nvdf\ny\0 no\n') || true
grep -q "not plain text" <<<"$out" || die "NUL in a line: not refused: $out"
[ "$(blocks vdf)" = 0 ] || die "NUL in a line: 'y', NUL, ' no' taken as yes: vdf written"
pass "a line with a NUL byte is refused whole, not read up to the NUL ('y')"
out=$(menu 'install\n4294967297\nback\n') || true
grep -q "'4294967297' is not one of the disks listed" <<<"$out" || die "disk number 2^32+1 taken as 1: $out"
pass "a disk number past 2^32 is not taken modulo 2^32"

# --- reinstall: Enter picks a disk only when it holds a system ----------------------
R2=$T/root2
mkdir -p "$R2/proc" "$R2/sys/dev/block"
ln -s ../../block/sdz "$R2/sys/dev/block/$(stat -c '%Hd:%Ld' "$T/medium")"
: > "$R2/proc/cmdline"
(R=$R2 && disk sdz $((300 * 1024 * 1024)) medium && disk vda $((2048 * 1024 * 1024)) foreign)
head -c 4096 /dev/urandom | dd of="$R2/dev/vda" conv=notrunc status=none
out=$(printf 'reinstall\n\n' | R=$R2 si 2>&1) || true
grep -q "vda .*virtio-foreign" <<<"$out" && grep -q "holds data" <<<"$out" || die "foreign disk: $out"
! grep -q "Enter for vda" <<<"$out" || die "reinstall: Enter offered for a disk that holds no system: $out"
! grep -q "Erase ALL data on vda" <<<"$out" || die "reinstall: Enter picked a disk that holds no system: $out"
(R=$R2 && disk vdb $((2048 * 1024 * 1024)) installed) && cp --sparse=always "$R/dev/vda" "$R2/dev/vdb"
out=$(printf 'reinstall\n\nn\n' | R=$R2 si 2>&1) || true
grep -q "Enter for vdb" <<<"$out" && grep -q "Erase ALL data on vdb" <<<"$out" || die "reinstall: no Enter default for the one installed disk: $out"
pass "reinstall: Enter picks the one disk that holds a system, never one holding other data"

# --- the medium mounted from a partition (sdz1 of a stick): its whole disk is the medium
mkdir -p "$R2/sys/block/sdz/sdz1" && echo 1 > "$R2/sys/block/sdz/sdz1/partition"
ln -sfn ../../block/sdz/sdz1 "$R2/sys/dev/block/$(stat -c '%Hd:%Ld' "$T/medium")"
echo "space.action=reinstall space.disk=/dev/sdz" > "$R2/proc/cmdline"
out=$(R=$R2 si < /dev/null 2>&1) || true
grep -q 'sdz .*the installation medium (not a target)' <<<"$out" && grep -q "sdz is the installation medium" <<<"$out" ||
	die "medium on sdz1: sdz not taken for the medium: $out"
: > "$R2/proc/cmdline"
pass "the medium mounted from a partition (sdz1): the whole disk sdz is never a target"
(R=$R2 && disk vdc $((2048 * 1024 * 1024)) ro) && echo 1 > "$R2/sys/block/vdc/ro"
echo "space.action=install space.disk=first" > "$R2/proc/cmdline"
out=$(R=$R2 si < /dev/null 2>&1) || true
grep -q "no blank disk of at least" <<<"$out" && [ "$(stat -c %b "$R2/dev/vdc")" = 0 ] ||
	die "read-only vdc taken by space.disk=first: $out"
out=$(printf 'install\nvdc\n' | R=$R2 si 2>&1) || true
grep -q "vdc is read-only" <<<"$out" || die "read-only vdc chosen by name not refused: $out"
: > "$R2/proc/cmdline"
pass "a read-only disk is neither 'first' nor taken by name"

# --- what a disk holds is shown as printable text only ------------------------------
cp --sparse=always "$R/dev/vda" "$T/vdh" && disk vdh $((2048 * 1024 * 1024)) evil && mv "$T/vdh" "$R/dev/vdh"
ESPOFF=$(($(p_first vdh esp) * 512))
mtype -i "$R/dev/vdh@@$ESPOFF" ::/grub/grubenv > "$T/grubenv"
python3 - "$T/grubenv" <<'PY'
import sys
p = sys.argv[1]
b = open(p, 'rb').read()
n = len(b)
b = b.replace(b'ver_a=21.3R1\n', b'ver_a=\x1b[2K\rblank\x07\n', 1)
open(p, 'wb').write(b[:n].ljust(n, b'#'))
PY
mcopy -o -i "$R/dev/vdh@@$ESPOFF" "$T/grubenv" ::/grub/grubenv
out=$(menu 'disks\n') || true
grep -qF "holds $P \x1b[2K\x0dblank\x07" <<<"$out" || die "vdh's grubenv not shown escaped: $out"
! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$out" || die "a disk's grubenv put control characters on the console: $(grep -a vdh -A1 <<<"$out" | od -c | head)"
rm -f "$R/dev/vdh" && rm -rf "$R/sys/block/vdh"
pass "a disk's grubenv with control characters is shown without them"

# --- a disk replaced between the confirmation and the install -----------------------
rm -f "$T/in" && mkfifo "$T/in"
(
	exec 3> "$T/in"
	printf 'install\nvdf\n' >&3
	for _ in $(seq 600); do grep -q "Erase ALL data on vdf" "$T/out" 2> /dev/null && break; sleep 0.1; done
	disk vdf $((3072 * 1024 * 1024)) another
	printf 'y\n' >&3
) &
si < "$T/in" > "$T/out" 2>&1 || true
wait
out=$(cat "$T/out")
grep -q "Erase ALL data on vdf (2.0 GiB" <<<"$out" || die "replaced disk: no confirmation: $out"
grep -q "vdf is not the disk listed" <<<"$out" || die "replaced disk: installed onto another disk: $out"
[ "$(blocks vdf)" = 0 ] || die "replaced disk: the new vdf was written"
pass "a disk replaced under the same name after the confirmation is refused, nothing written"

# --- the disk table, filled: the first disks by name are listed -----------------------
R3=$T/root3
mkdir -p "$R3/proc" "$R3/sys/dev/block"
: > "$R3/proc/cmdline"
names=()
for a in a b c d e f g h i j k l m n o p q r s t u v w x y z; do names+=("vd$a"); done
for a in a b c d e f g h i j k l m n; do names+=("vdb$a"); done
(R=$R3 && for d in "${names[@]}"; do disk "$d" $((2048 * 1024 * 1024)) "s$d"; done)
out=$(printf 'disks\n' | R=$R3 si 2>&1) || true
grep -q "(8 more disks not listed)" <<<"$out" || die "40 disks: no '8 more' line: $out"
listed=$(grep -Eo '^  [0-9]+  vd[a-z]+' <<<"$out" | awk '{print $2}' | tr '\n' ' ')
want=$(printf '%s\n' "${names[@]}" | LC_ALL=C sort | head -32 | tr '\n' ' ')
[ "$listed" = "$want" ] || die "40 disks: listed '$listed', want the first 32 by name '$want'"
pass "40 disks: the table holds the first 32 by name, the rest counted"

# --- the medium's .space-medium: outside input, checked -------------------------------
cp "$T/medium/.space-medium" "$T/medium.good"
bad_medium() { # bad_medium WHAT PATTERN: one line, exit 1, nothing written
	local rc=0
	echo "space.action=install space.disk=/dev/vdf" > "$R/proc/cmdline"
	si < /dev/null > "$T/err" 2>&1 || rc=$?
	[ "$rc" = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -Eq "^space-install: medium .*/.space-medium: $2" "$T/err" ||
		die "$1: exit $rc: $(cat "$T/err")"
	[ "$(blocks vdf)" = 0 ] || die "$1: vdf written"
	cp "$T/medium.good" "$T/medium/.space-medium"
	pass "medium refused, one line, exit 1: $1"
}
sed -i "s/^image = .*/image = $(printf 'x%.0s' $(seq 200))/" "$T/medium/.space-medium"
bad_medium "an image name of 200 bytes" "'image' is not a plain file name"
sed -i "s/^image = .*/image = $(printf '\033')[2J$P-$V.img/" "$T/medium/.space-medium"
bad_medium "an image name with an escape" "'image' is not a plain file name"
sed -i "s/^release = .*/release = 99.1R1/" "$T/medium/.space-medium"
bad_medium "another release than the installer's" "it is for $P 99.1R1, this installer is $P $V"

# --- the kernel command line: odd values refused, named printably ----------------------
cmdline_refused() { # WHAT CMDLINE PATTERN: the menu instead, nothing written, no control character out
	local out
	printf '%s\n' "$2" > "$R/proc/cmdline"
	out=$(si < /dev/null 2>&1) || true
	grep -qF "Kernel command line: $3; starting the menu." <<<"$out" || die "$1: $out"
	! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' <<<"$out" || die "$1: control characters on the console"
	[ "$(blocks vdf)" = 0 ] || die "$1: vdf written"
	pass "kernel command line refused, menu instead: $1"
}
cmdline_refused "an unknown action" "space.action=wipe space.disk=/dev/vdf" "space.action=wipe: not install, reinstall or rescue"
cmdline_refused "an empty disk" "space.action=install space.disk=" "space.disk=: empty or too long"
cmdline_refused "a disk name of 100 bytes" "space.action=install space.disk=/dev/$(printf 'v%.0s' $(seq 95))" \
	"space.disk=/dev/$(printf 'v%.0s' $(seq 95)): empty or too long"
cmdline_refused "an escape in the disk name" "space.action=install space.disk=vd$(printf '\033')[2Jf" \
	'space.disk=vd\x1b[2Jf: not a disk name'
cmdline_refused "an unknown after" "space.action=install space.after=halt" "space.after=halt: not reboot or poweroff"
: > "$R/proc/cmdline"

# --- space.action= runs once a boot: the rescue shell's exit comes back to the menu ---
# init.sh starts space-install again after the rescue shell (or any failure):
# the kernel command line is the same, its work directory (/run) too.
WORK=$T/boot1
mkdir -p "$WORK"
echo "space.action=rescue" > "$R/proc/cmdline"
rc=0; out=$(WORK=$WORK si < /dev/null 2>&1) || rc=$?
[ "$rc" = 0 ] || die "space.action=rescue: exit $rc: $out"
rc=0; out=$(WORK=$WORK si < /dev/null 2>&1) || rc=$?
[ "$rc" = 111 ] && grep -q "1  install" <<<"$out" || die "space.action=rescue, again: no menu (exit $rc): $out"
echo "space.action=rescue" > "$T/by-hand.cmdline"
rc=0; out=$(WORK=$WORK si --cmdline "$T/by-hand.cmdline" < /dev/null 2>&1) || rc=$?
[ "$rc" = 0 ] || die "space-install --cmdline FILE by hand, same boot: not run (exit $rc): $out"
pass "space.action=rescue: a shell, and after it the menu; --cmdline FILE given by hand runs each time"
WORK=$T/boot2
mkdir -p "$WORK"
echo "space.action=install space.disk=/dev/vdb" > "$R/proc/cmdline"
out=$(WORK=$WORK si < /dev/null 2>&1) || true
grep -q "Unattended install refused" <<<"$out" || die "unattended refusal: $out"
out=$(WORK=$WORK si < /dev/null 2>&1) || true
! grep -q "unattended install" <<<"$out" && grep -q "1  install" <<<"$out" ||
	die "space.action=install ran again after the menu's rescue shell: $out"
grep -q "space.action=install was run already" <<<"$out" || die "the second start does not say why it asks: $out"
pass "space.action=install: after a refusal and a rescue shell, the installer asks instead of running it again"
unset WORK
: > "$R/proc/cmdline"

# --- usage -------------------------------------------------------------------------------
rc=0; "$BIN/space-install" --bogus > /dev/null 2>&1 || rc=$?
[ "$rc" = 100 ] || die "bad option: exit $rc"
rc=0; "$BIN/space-install" --medium "$T/nowhere" --work "$T/work" > "$T/err" 2>&1 || rc=$?
[ "$rc" = 111 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q '^space-install: medium .*/.space-medium: ' "$T/err" ||
	die "missing medium: exit $rc: $(cat "$T/err")"
pass "usage error 100; a missing medium is one line, 111"
done_testing
