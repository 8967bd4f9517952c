#!/bin/bash
# tests/tool/mkimage.sh - mkimage end to end on a small synthetic tree:
# layout (sfdisk/sgdisk), filesystems (e2fsck, debugfs), reproducibility
# (two builds from re-created trees are identical, qcow2 too), refusals, and
# GRUB reaching its menu under SeaBIOS and OVMF (QEMU TCG).
# Env: BIN (mkimage), O. MKIMAGE_SKIP_BOOT=1 skips the QEMU part.
set -euo pipefail
BIN=${BIN:-out/bin}
MK=$BIN/mkimage
W=$(mktemp -d "${O:-/tmp}/mkimage-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$(dirname "$0")/lib.sh"

# The signed shim and GRUB: the build's root tree has them (pkg/debs.list),
# else the host's (shim-signed, grub-efi-amd64-signed); without either the
# UEFI boot below cannot be checked, and says so.
SHIM= SGRUB=
for d in "${O:-out}/system/rootfs" ""; do
	if [ -f "$d/usr/lib/shim/shimx64.efi.signed" ] && [ -f "$d/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" ]; then
		SHIM=$d/usr/lib/shim/shimx64.efi.signed SGRUB=$d/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
		break
	fi
done
if [ -z "$SHIM" ]; then
	printf 'shim stand-in\n' > "$W/shim" && printf 'signed grub stand-in\n' > "$W/sgrub"
	SHIM=$W/shim SGRUB=$W/sgrub
	echo "# no signed shim and GRUB (make rootfs first): stand-ins, the UEFI boot is not checked"
fi

make_tree() { # $1: dir; a fresh tree (new inodes, new ctimes) each time
	local t=$1
	mkdir -p "$t/boot" "$t/etc" "$t/dev" "$t/usr/bin" "$t/home/user" "$t/var/log"
	printf 'not a kernel\n' > "$t/boot/vmlinuz-6.1.0-test"
	printf 'not an initrd\n' > "$t/boot/initrd.img-6.1.0-test"
	ln -s vmlinuz-6.1.0-test "$t/boot/vmlinuz"
	ln -s /boot/initrd.img-6.1.0-test "$t/boot/initrd.img" # absolute: inside the tree
	# the signed UEFI chain the pinned packages put in the tree
	mkdir -p "$t/usr/lib/shim" "$t/usr/lib/grub/x86_64-efi-signed"
	cp "$SHIM" "$t/usr/lib/shim/shimx64.efi.signed"
	cp "$SGRUB" "$t/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$t/etc/passwd"
	printf '#!/bin/sh\necho su\n' > "$t/usr/bin/su"
	chmod 755 "$t/usr/bin/su"
	ln -s ../usr/bin "$t/bin"
	printf 'export PS1=x\n' > "$t/home/user/.profile"
	for i in $(seq 1 50); do printf '%s\n' "$i" > "$t/usr/bin/tool$i"; done
	touch -d @1234567890 "$t/etc/passwd" # odd mtime: must be normalised
	ln "$t/etc/passwd" "$t/etc/passwd.hard"
	: > "$t/dev/zero" # placeholder where a device node goes
}
cat > "$W/attrs" <<'A'
d 0755 0 0 0 0 dev
c 0600 0 5 5 1 dev/console
c 0666 0 0 1 3 dev/null
b 0660 0 6 8 0 dev/sda
f 4755 0 0 0 0 usr/bin/su
d 0750 1000 1000 0 0 home/user
f 0600 1000 1000 0 0 home/user/.profile
l 0777 0 0 0 0 bin
h 0640 0 42 0 0 etc/passwd.hard
c 0666 0 0 1 5 dev/zero
p 0600 0 0 0 0 dev/initctl
A
build() { # $1 out $2 tree [extra args]
	local out=$1 tree=$2 size=--size=600M; shift 2
	if [ "${1:-}" = --in-place ]; then size=; fi
	"$MK" disk --out "$out" --rootfs "$tree" --attrs "$W/attrs" --seed test-seed \
		--product "${PRODUCT:-space}" --version 21.3R1.3 $size --root-size 200M \
		--cmdline-extra "quiet" "$@"
}

make_tree "$W/t1"
t0=$(date +%s.%N)
check "mkimage disk (600M, 200M slots)" build "$W/a.raw" "$W/t1"
t1=$(date +%s.%N)
echo "# build took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
check "output is sparse" test "$(du -k "$W/a.raw" | cut -f1)" -lt 100000
check "no temporary files left" test -z "$(ls "$W" | grep -E '\.(tmp|work)\.' || true)"

# --- layout, three ways
L=$("$MK" layout "$W/a.raw")
check "layout: five partitions" test "$(grep -c '^part ' <<<"$L")" = 5
check "layout: root-a 200 MiB at 135168" grep -q '^part 3 name=root-a first=135168 last=544767 bytes=209715200 type=0FC63DAF-8483-4772-8E79-3D69D8477DE4 ' <<<"$L"
D=$(sfdisk --dump "$W/a.raw")
exp_line() { grep -q "start= *$2, size= *$3, type=$4, uuid=[0-9A-F-]*, name=\"$5\"" <<<"$D"; }
check "sfdisk: gpt label" grep -q '^label: gpt' <<<"$D"
check "sfdisk: p1 bios" exp_line 1 2048 2048 21686148-6449-6E6F-744E-656564454649 bios
check "sfdisk: p2 esp" exp_line 2 4096 131072 C12A7328-F81F-11D2-BA4B-00A0C93EC93B esp
check "sfdisk: p3 root-a" exp_line 3 135168 409600 0FC63DAF-8483-4772-8E79-3D69D8477DE4 root-a
check "sfdisk: p4 root-b" exp_line 4 544768 409600 0FC63DAF-8483-4772-8E79-3D69D8477DE4 root-b
check "sfdisk: p5 data to the last MiB" exp_line 5 954368 272384 0FC63DAF-8483-4772-8E79-3D69D8477DE4 data
check "sgdisk -v: no problems" bash -c "sgdisk -v '$W/a.raw' | grep -q 'No problems found'"
puuid_a=$(grep 'name="root-a"' <<<"$D" | sed 's/.*uuid=\([0-9A-F-]*\).*/\1/' | tr A-F a-f)

# --- filesystems
part() { dd if="$W/a.raw" of="$W/$1.img" bs=1M skip=$2 count=$3 status=none; }
part root-a $((135168 / 2048)) 200
part root-b $((544768 / 2048)) 200
part data $((954368 / 2048)) 133
part esp 2 64
for p in root-a root-b data; do
	check "e2fsck -fn $p clean" e2fsck -fn "$W/$p.img"
	check "$p labelled $p" test "$(blkid -o value -s LABEL "$W/$p.img")" = "$p"
done
check "fsck.vfat -n esp clean" fsck.vfat -n "$W/esp.img"
st() { debugfs -R "stat $1" "$W/root-a.img" 2>/dev/null; }
check "su is setuid root" bash -c "debugfs -R 'stat /usr/bin/su' '$W/root-a.img' 2>/dev/null | grep -q 'Mode:  04755'"
check "home/user owned by 1000" grep -q 'User:  1000   Group:  1000' <<<"$(st /home/user)"
check "home/user mode 0750" grep -q 'Mode:  0750' <<<"$(st /home/user)"
check "unlisted file is root:root" grep -q 'User:     0   Group:     0' <<<"$(st /usr/bin/tool7)"
check "dev/console is c 5,1 0600 root:tty" bash -c "s=\$(debugfs -R 'stat /dev/console' '$W/root-a.img' 2>/dev/null); grep -q 'Type: character special' <<<\"\$s\" && grep -q 'Mode:  0600' <<<\"\$s\" && grep -q 'Group:     5' <<<\"\$s\" && grep -qi 'major/minor number: *05:01' <<<\"\$s\""
check "dev/sda is b 8,0" grep -qi 'Type: block special' <<<"$(st /dev/sda)"
check "placeholder file dev/zero replaced by c 1,5" grep -qi 'major/minor number: *01:05' <<<"$(st /dev/zero)"
check "dev/initctl is a fifo" grep -q 'Type: FIFO' <<<"$(st /dev/initctl)"
check "hard link kept (2 links, one inode, attrs applied)" bash -c "s=\$(debugfs -R 'stat /etc/passwd' '$W/root-a.img' 2>/dev/null); grep -q 'Links: 2' <<<\"\$s\" && grep -q 'Group:    42' <<<\"\$s\" && grep -q 'Mode:  0640' <<<\"\$s\""
# "mknod /dev/x" in debugfs would make an entry literally named "/dev/x":
# in `ls -p` output (/ino/mode/uid/gid/name/size/) that adds fields.
check "no literally-named '/dev/...' entries" bash -c "! { debugfs -R 'ls -p /' '$W/root-a.img'; debugfs -R 'ls -p /dev' '$W/root-a.img'; } 2>/dev/null | awk -F/ 'NF > 8' | grep -q ."
check "symlink kept" grep -q 'Fast link dest: "vmlinuz-6.1.0-test"' <<<"$(st /boot/vmlinuz)"
check "times normalised (mtime, ctime, crtime)" bash -c "s=\$(debugfs -R 'stat /etc/passwd' '$W/root-a.img' 2>/dev/null); [ \$(grep -c '0x6553f100:00000000' <<<\"\$s\") = 4 ]"
check "root-b is empty" test "$(debugfs -R 'ls -p /' "$W/root-b.img" 2>/dev/null | grep -c '^/')" = 3

# --- ESP and grub.cfg
CFG=$(mtype -i "$W/esp.img" ::/grub/grub.cfg)
mcopy -n -i "$W/esp.img" ::/EFI/BOOT/BOOTX64.EFI "$W/esp-boot.efi" && mcopy -n -i "$W/esp.img" ::/EFI/BOOT/grubx64.efi "$W/esp-grub.efi"
check "BOOTX64.EFI on the ESP is the tree's shim" cmp "$W/esp-boot.efi" "$SHIM"
check "grubx64.efi beside it is the tree's signed GRUB" cmp "$W/esp-grub.efi" "$SGRUB"
check "EFI/debian/grub.cfg (the signed GRUB's prefix) finds the ESP by its serial and runs grub/grub.cfg" \
	bash -c "mtype -i '$W/esp.img' ::/EFI/debian/grub.cfg | grep -q '^search --no-floppy --fs-uuid --set=esp ' &&
		mtype -i '$W/esp.img' ::/EFI/debian/grub.cfg | grep -qx 'configfile (\$esp)/grub/grub.cfg'"
check "grubenv on the ESP (one 512-byte sector)" test "$(mtype -i "$W/esp.img" ::/grub/grubenv | wc -c)" = 512
check "grubenv: slot A good, holding 21.3R1.3" bash -c "mtype -i '$W/esp.img' ::/grub/grubenv | grep -qx 'slot_good=a' && mtype -i '$W/esp.img' ::/grub/grubenv | grep -qx 'ver_a=21.3R1.3'"
check "grub.cfg passes grub-script-check" grub-script-check <(printf '%s\n' "$CFG")
check "grub.cfg: slot A entry" grep -q "menuentry \"${PRODUCT:-space} \${ver_a} (slot A)\" --id slot-a" <<<"$CFG"
check "grub.cfg: slot B entry" grep -q "(slot B)\" --id slot-b" <<<"$CFG"
check "grub.cfg: generic kernel path, PARTUUID of root-a probed at boot, slot letter" \
	bash -c "grep -q 'probe --set=partuuid --part-uuid (\$bootdisk,gpt3)' <<<\"\$1\" && grep -q 'linux /boot/vmlinuz root=PARTUUID=\$partuuid ro rootwait panic=10 no_timer_check space.slot=a \$space_trial console=tty0 console=ttyS0,115200n8 quiet' <<<\"\$1\"" _ "$CFG"
check "grub.cfg names no partition GUID (one ESP fits every disk)" test -z "$(grep -i "$puuid_a" <<<"$CFG")"
check "grub.cfg: generic initrd path" grep -q 'initrd /boot/initrd.img$' <<<"$CFG"
check "grub.cfg: root-a found by partition number" grep -q 'set root=($bootdisk,gpt3)' <<<"$CFG"
check "grub.cfg: no slot found by filesystem UUID (same release in both slots)" test -z "$(grep 'fs-uuid --set=root' <<<"$CFG")"
check "MBR carries GRUB boot code" bash -c "dd if='$W/a.raw' bs=1 skip=$((0x5c)) count=8 status=none | od -An -tu8 | grep -qw 2048"

# --- reproducibility: a fresh tree (new ctimes, other inode numbers) later
sleep 1
make_tree "$W/t2"
# a build host's xattr (here user.*; SELinux labels alike) must not leak in
/usr/bin/python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.build", b"host")' "$W/t2/etc/passwd" 2>/dev/null || true
check "second build from a re-created tree" build "$W/b.raw" "$W/t2"
check "two builds are bit-identical" cmp "$W/a.raw" "$W/b.raw"
# Another filesystem for the work files (tmpfs lists directories in
# another order than ext4): still the same image.
if [ "$(df --output=avail -k /dev/shm 2>/dev/null | tail -1)" -gt 200000 ] 2>/dev/null &&
	S=$(mktemp -d /dev/shm/mkimage-test.XXXXXX 2>/dev/null); then
	make_tree "$S/t"
	check "build with tree and output on tmpfs" build "$S/s.raw" "$S/t"
	check "... is identical to the one built on $(stat -f -c %T "$W")" cmp "$W/a.raw" "$S/s.raw"
	rm -rf "$S"
fi
check "another seed gives another image" build "$W/c.raw" "$W/t2" --seed other
check "... with other GUIDs" bash -c "! cmp -s <('$MK' layout '$W/a.raw') <('$MK' layout '$W/c.raw')"
rm -f "$W/c.raw"
check "qcow2 #1" "$MK" qcow2 --in "$W/a.raw" --out "$W/a.qcow2"
check "qcow2 #2" "$MK" qcow2 --in "$W/b.raw" --out "$W/b.qcow2"
check "qcow2 reproducible" cmp "$W/a.qcow2" "$W/b.qcow2"
check "qcow2 holds the raw image" qemu-img compare -q -f raw -F qcow2 "$W/a.raw" "$W/a.qcow2"
check "qcow2 --compress #1" "$MK" qcow2 --compress --in "$W/a.raw" --out "$W/c1.qcow2"
check "qcow2 --compress #2" "$MK" qcow2 --compress --in "$W/a.raw" --out "$W/c2.qcow2"
check "compressed qcow2 reproducible and holds the raw image" bash -c "cmp '$W/c1.qcow2' '$W/c2.qcow2' && qemu-img compare -q -f raw -F qcow2 '$W/a.raw' '$W/c1.qcow2'"
rm -f "$W/c1.qcow2" "$W/c2.qcow2"
rm -f "$W/b.raw" "$W/b.qcow2" "$W/a.qcow2" "$W"/*.img

# --- --in-place onto a used disk (what the installer does to /dev/sda)
truncate -s 600M "$W/used.raw"
{ yes 'old system data' || true; } | head -c $((64 << 20)) > "$W/junk"
for mib in 0 2 40 132 300 466 560; do # MBR/GPT, ESP, root-a, root-b, data, backup
	dd if="$W/junk" of="$W/used.raw" bs=1M seek=$mib count=40 conv=notrunc status=none
done
rm -f "$W/junk"
check "mkimage disk --in-place on a used disk" build "$W/used.raw" "$W/t1" --in-place
check "in place: same partition table as the image" cmp <("$MK" layout "$W/a.raw") <("$MK" layout "$W/used.raw")
for p in 135168:root-a 544768:root-b 954368:data; do
	check "in place: e2fsck -fn ${p#*:} clean" e2fsck -fn "$W/used.raw?offset=$((${p%:*} * 512))"
done
dd if="$W/used.raw" of="$W/esp2.img" bs=1M skip=2 count=64 status=none
check "in place: fsck.vfat -n esp clean" fsck.vfat -n "$W/esp2.img"
check "in place: same grub.cfg" cmp <(mtype -i "$W/a.raw@@$((4096 * 512))" ::/grub/grub.cfg) <(mtype -i "$W/esp2.img" ::/grub/grub.cfg)
rm -f "$W/esp2.img"
expect_fail_tmp=$("$MK" disk --in-place --out "$W/used.raw" --rootfs "$W/t1" --seed s --product p --version 1 --size 600M 2>&1 || true)
check "--in-place with --size is a usage error" grep -q 'in-place' <<<"$expect_fail_tmp"
# --- refusals: exit code, one line naming the object, nothing left behind
expect_fail() { # code what cmd...
	local code=$1 what=$2 rc=0; shift 2
	"$@" 2>"$W/err" || rc=$?
	if [ "$rc" = "$code" ] && [ "$(wc -l <"$W/err")" = 1 ]; then pass "$what (exit $rc: $(cat "$W/err"))"
	else fail "$what (exit $rc, want $code): $(cat "$W/err")"; fi
}
expect_fail 1 "disk too small refused" build "$W/small.raw" "$W/t1" --size 400M
check "no partial output after failure" test -z "$(ls "$W" | grep small || true)"
printf 'f 0644 0 0 0 0 etc/shadow\n' > "$W/bad-attrs"
expect_fail 1 "attrs path not in the tree refused" "$MK" disk --out "$W/x.raw" --rootfs "$W/t1" --attrs "$W/bad-attrs" --seed s --product p --version 1 --size 600M --root-size 200M
check "message names the path" grep -q 'etc/shadow' "$W/err"
check "no partial output after attrs failure" test -z "$(ls "$W" | grep x.raw || true)"
mkdir -p "$W/nokernel"
expect_fail 1 "rootfs without /boot/vmlinuz refused" build "$W/y.raw" "$W/nokernel"
make_tree "$W/noshim" && rm "$W/noshim/usr/lib/shim/shimx64.efi.signed"
expect_fail 1 "rootfs without the signed shim refused" build "$W/y.raw" "$W/noshim"
check "message names the shim" grep -q 'lacks /usr/lib/shim/shimx64.efi.signed' "$W/err"
expect_fail 100 "missing SOURCE_DATE_EPOCH is a usage error" env -u SOURCE_DATE_EPOCH "$MK" disk --out "$W/z.raw" --rootfs "$W/t1" --seed s --product p --version 1
expect_fail 100 "unknown verb" "$MK" frobnicate
expect_fail 1 "quote in --cmdline-extra refused" build "$W/q.raw" "$W/t1" --cmdline-extra 'a"b'
# Killed mid-build (a fake mke2fs sends SIGTERM to mkimage): nothing left.
mkdir -p "$W/shim"
printf '#!/bin/sh\nkill -TERM $PPID\nsleep 1\nexit 1\n' > "$W/shim/mke2fs"
chmod +x "$W/shim/mke2fs"
rc=0; PATH="$W/shim:$PATH" build "$W/killed.raw" "$W/t1" 2>/dev/null || rc=$?
check "SIGTERM: mkimage dies of it (exit $rc)" test "$rc" = 143
check "SIGTERM: temporary image and scratch directory removed" test -z "$(ls "$W" | grep killed || true)"
rm -rf "$W/shim"
cp --sparse=always "$W/a.raw" "$W/bad.raw"
printf 'X' | dd of="$W/bad.raw" bs=1 seek=$((1024 + 2 * 128 + 60)) conv=notrunc status=none
expect_fail 1 "layout refuses a corrupted entry array" "$MK" layout "$W/bad.raw"
expect_fail 1 "qcow2 refuses an image without a valid GPT" "$MK" qcow2 --in "$W/bad.raw" --out "$W/bad.qcow2"
rm -f "$W/bad.raw"
# a FIFO in place of each input: open() of a FIFO without a writer blocks
# for ever, so the type is looked at first (timeout: a hang fails, 124)
mkfifo "$W/fifo"
expect_fail 1 "layout refuses a FIFO at once" timeout 10 "$MK" layout "$W/fifo"
expect_fail 1 "qcow2 refuses a FIFO as --in at once" timeout 10 "$MK" qcow2 --in "$W/fifo" --out "$W/f.qcow2"
expect_fail 1 "disk refuses a FIFO as --attrs at once" timeout 10 "$MK" disk --out "$W/f.raw" --rootfs "$W/t1" \
	--attrs "$W/fifo" --seed s --product p --version 1 --size 600M --root-size 200M
expect_fail 1 "disk --in-place refuses a FIFO as --out" timeout 10 "$MK" disk --in-place --out "$W/fifo" \
	--rootfs "$W/t1" --seed s --product p --version 1
grep -q 'fifo: not a regular file or block device$' "$W/err" || fail "in-place FIFO: reason $(cat "$W/err")"
check "nothing left after the FIFO refusals" test -z "$(ls "$W" | grep -E '^f\.' || true)"
rm -f "$W/fifo"

# --- GRUB reaches its menu under SeaBIOS and OVMF
if [ "${MKIMAGE_SKIP_BOOT:-0}" != 1 ]; then
	runs="a.raw:bios a.raw:uefi used.raw:bios"
	[ "$SHIM" != "$W/shim" ] || runs="a.raw:bios used.raw:bios"
	for run in $runs; do
		img=${run%:*} fw=${run#*:}
		if /usr/bin/python3 - "$W/$img" "$fw" <<'PY'
import pexpect, sys, time
img, fw = sys.argv[1], sys.argv[2]
args = ['-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot', '-nodefaults',
        '-serial', 'stdio', '-drive', 'file=%s,format=raw,if=ide,snapshot=on' % img]
if fw == 'uefi':
    args = ['-bios', '/usr/share/ovmf/OVMF.fd'] + args
t = time.time()
p = pexpect.spawn('qemu-system-x86_64', args, timeout=120, encoding='latin-1')
try:
    p.expect(r'\(slot A\)')
    p.expect(r'\(slot B\)')
    print('# %s %s: GRUB menu after %.1f s' % (img.split('/')[-1], fw, time.time() - t))
finally:
    p.terminate(force=True)
PY
		then pass "GRUB menu on serial ($fw, $img)"; else fail "GRUB menu on serial ($fw, $img)"; fi
	done
fi

# --- The countdown is one second, and a key stops it: arrow down, wait
# past the timeout (nothing boots), Enter boots the chosen slot (B, given a
# release in grubenv as an upgrade does: an empty slot boots the other).
if [ "${MKIMAGE_SKIP_BOOT:-0}" != 1 ]; then
	"$BIN/mkimage" bootenv "$W/a.raw" ver_b=21.3R1.3 > /dev/null
	if /usr/bin/python3 - "$W/a.raw" <<'PY'
import pexpect, sys, time
p = pexpect.spawn('qemu-system-x86_64', ['-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot',
    '-nodefaults', '-serial', 'stdio', '-drive', 'file=%s,format=raw,if=ide,snapshot=on' % sys.argv[1]],
    timeout=120, encoding='latin-1')
try:
    p.expect(r'\(slot B\)')
    p.send('\x1b[B')
    # GRUB redraws with slot B highlighted, then waits for Enter
    p.expect(r'\*[^\r\n*(]*\(slot B\)')
    i = p.expect([r'Loading ', pexpect.TIMEOUT], timeout=4)
    if i == 0:
        sys.exit('booted although a key was pressed')
    p.send('\r')
    p.expect(r'Loading \S+ \S+ \(slot B\)')
finally:
    p.terminate(force=True)
PY
	then pass "GRUB: a key stops the 1 s countdown, Enter boots the chosen slot"
	else fail "GRUB: a key stops the 1 s countdown, Enter boots the chosen slot"; fi
fi

# --- A/B: a one-shot next_entry=slot-b in grubenv (what the upgrader sets)
# makes GRUB highlight slot B once and clear it (save_env on the FAT ESP).
if [ "${MKIMAGE_SKIP_BOOT:-0}" != 1 ]; then
	grub-editenv "$W/env" create
	grub-editenv "$W/env" set next_entry=slot-b
	MTOOLS_SKIP_CHECK=1 mcopy -o -i "$W/a.raw@@$((4096 * 512))" "$W/env" ::/grub/grubenv
	for want in B A; do
		if got=$(/usr/bin/python3 - "$W/a.raw" <<'PY'
import pexpect, sys, time
p = pexpect.spawn('qemu-system-x86_64', ['-accel', 'tcg', '-m', '256', '-nographic', '-no-reboot',
    '-nodefaults', '-serial', 'mon:stdio', '-drive', 'file=%s,format=raw,if=ide' % sys.argv[1]],
    timeout=120, encoding='latin-1')
try:
    # the highlighted entry is drawn as "*<title>"; stop at its own "(slot"
    p.expect(r'\*[^\r\n*(]*\(slot (A|B)\)')
    print(p.match.group(1))
    # Quit through the monitor (Ctrl-A x), not a signal: QEMU then flushes
    # what GRUB's save_env wrote before it drew the menu.
    p.send('\x01x')
    p.expect(pexpect.EOF)
finally:
    p.terminate(force=True)
PY
		) && [ "$got" = "$want" ]; then pass "grubenv next_entry: boot highlights slot $want"
		else fail "grubenv next_entry: want slot $want, got '${got:-}'"; fi
	done
	check "next_entry cleared on the ESP" bash -c "MTOOLS_SKIP_CHECK=1 mtype -i '$W/a.raw@@$((4096 * 512))' ::/grub/grubenv | grep -qx 'next_entry='"
fi

done_testing
