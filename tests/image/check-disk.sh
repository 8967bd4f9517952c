#!/bin/bash
# check-disk.sh RAW ROOTFS_ATTRS [ROOTFS] - check a built disk image the way an
# operator's tools see it: partition table (sfdisk, sgdisk), filesystems
# (e2fsck), ownership, modes and device nodes inside the root filesystem
# (debugfs), against what the package database says.
set -u
raw=$1 attrs=$2 tree=${3:-}
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/disk-lib.sh"
dump_table || bad "sfdisk --dump reads the table"
grep -q '^label: gpt' "$work/dump" && ok "GPT label" || bad "GPT label"
for name in bios esp root-a root-b data; do
	grep -q "name=\"$name\"" "$work/dump" && ok "partition $name" || bad "partition $name"
done
grep -q 'type=21686148-6449-6E6F-744E-656564454649.*name="bios"' "$work/dump" &&
	ok "bios partition has the BIOS boot type" || bad "bios partition type"
grep -q 'type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B.*name="esp"' "$work/dump" &&
	ok "esp partition has the EFI System type" || bad "esp partition type"
sgdisk -v "$raw" > "$work/sgdisk" 2>&1
grep -q 'No problems found' "$work/sgdisk" && ok "sgdisk -v finds no problems" ||
	{ bad "sgdisk -v"; cat "$work/sgdisk"; }
# Every partition starts on a 1 MiB boundary.
awk -F'[=,]' '/start=/ { s = $0; sub(/.*start= */, "", s); sub(/,.*/, "", s); if (s % 2048) exit 1 }' \
	"$work/dump" && ok "partitions are 1 MiB aligned" || bad "alignment"

for name in root-a root-b data; do
	extract "$name" "$work/$name.img"
	e2fsck -fn "$work/$name.img" > "$work/fsck" 2>&1 && ok "e2fsck -fn clean on $name" ||
		{ bad "e2fsck on $name"; cat "$work/fsck"; }
done
extract esp "$work/esp.img"
mdir -i "$work/esp.img" ::/EFI/BOOT/BOOTX64.EFI >/dev/null 2>&1 && ok "ESP holds EFI/BOOT/BOOTX64.EFI" ||
	bad "ESP holds EFI/BOOT/BOOTX64.EFI"

# Ownership and device nodes inside root-a, against `pkg attrs`.
root=$work/root-a.img
st() { debugfs -R "stat \"/$1\"" "$root" 2>/dev/null | tr -s ' \t' ' '; }
s=$(st usr/share/factory/etc/shadow)
echo "$s" | grep -q 'User: 0 Group: 0' && echo "$s" | grep -q 'Mode: 0600' &&
	ok "the factory shadow is root:root 0600" || bad "usr/share/factory/etc/shadow owner/mode: $s"
# What the node changes lives on the data partition (README.md, "What lives
# where"): the read-only slot links there.
for l in etc/passwd:../var/etc/passwd etc/group:../var/etc/group etc/shadow:../var/etc/shadow \
	etc/dropbear:../var/etc/dropbear home:var/home root:var/root etc/resolv.conf:../run/resolv.conf; do
	s=$(st "${l%%:*}")
	echo "$s" | grep -q 'Type: symlink' && echo "$s" | grep -q "Fast link dest: \"${l#*:}\"" &&
		ok "/${l%%:*} links to ${l#*:}" || bad "/${l%%:*} is not a link to ${l#*:}: $s"
done
# The package database describes the slot's files: it is in the slot.
debugfs -R "ls -l /usr/lib/pkg/installed" "$root" 2>/dev/null | grep -q ' base-files$' &&
	ok "the package database is in the slot (/usr/lib/pkg)" || bad "no /usr/lib/pkg/installed/base-files"
debugfs -R "stat /var/lib/pkg" "$root" 2>&1 | grep -q 'File not found' &&
	ok "no package database under /var" || bad "/var/lib/pkg exists in the slot"
s=$(st bin/busybox)
echo "$s" | grep -q 'Mode: 04755' && ok "busybox is setuid root" || bad "busybox mode: $s"
s=$(st usr/share/factory/home/admin)
echo "$s" | grep -q 'User: 1000 Group: 1000' && ok "the factory /home/admin is owned by admin" ||
	bad "usr/share/factory/home/admin: $s"
s=$(st dev/console)
echo "$s" | grep -q 'Type: character special' && echo "$s" | grep -qi 'Device major/minor number: 05:01' &&
	ok "/dev/console is char 5,1" || bad "/dev/console: $s"
s=$(st dev/null)
echo "$s" | grep -q 'Type: character special' && ok "/dev/null is a device node" || bad "/dev/null: $s"
# No file in the image keeps the build user's uid: sample every entry the
# package database lists with uid 0 and check a spread of them.
uid=$(id -u)
if [ "$uid" != 0 ]; then
	debugfs -R "ls -l /usr/bin" "$root" 2>/dev/null | awk -v u="$uid" '$3 == u {exit 1}' &&
		ok "no build-user uid in /usr/bin" || bad "build-user uid leaked into /usr/bin"
fi
n=$(grep -vc '^#' "$attrs")
[ "$n" -gt 1000 ] && ok "package database lists $n entries" || bad "attrs has only $n entries"
# Every program in the tree finds the shared libraries it needs in the tree.
if [ -n "$tree" ]; then
	missing=
	for f in "$tree"/bin/* "$tree"/sbin/* "$tree"/usr/bin/* "$tree"/usr/sbin/*; do
		[ -f "$f" ] && [ ! -L "$f" ] || continue
		for lib in $(readelf -d "$f" 2>/dev/null | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
			[ -e "$tree/lib/x86_64-linux-gnu/$lib" ] || [ -e "$tree/usr/lib/x86_64-linux-gnu/$lib" ] ||
				missing="$missing ${f#"$tree"/}:$lib"
		done
	done
	[ -z "$missing" ] && ok "every program's shared libraries are in the image" ||
		bad "missing shared libraries:$missing"
fi
exit $fail
