#!/bin/bash
# check-patched.sh QCOW2 LEVEL RELEASE - a patched image (`make patched
# HOTPATCH=LEVEL`, image/hotpatch/hotpatch.mk): its root slot holds the
# marker of vLEVEL of RELEASE, listing packages whose database records are
# at those versions, the level's inventory on the slot's /var
# (seeded to the data partition at first boot), and none of the patch
# run's own record (backup, history, log); both filesystems check clean.
set -u
qcow=$1 level=$2 rel=$3
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
raw=$work/disk.raw
. "$(dirname "$0")/disk-lib.sh"

qemu-img convert -O raw "$qcow" "$raw" || { echo "not ok - qemu-img convert $qcow"; exit 1; }
dump_table || bad "sfdisk --dump reads the table"
extract root-a "$work/root.img"
e2fsck -fn "$work/root.img" > "$work/fsck" 2>&1 && ok "e2fsck -fn clean on root-a" || { bad "e2fsck"; cat "$work/fsck"; }
cat_() { debugfs -R "cat \"$1\"" "$work/root.img" 2> /dev/null; }
# (a cumulative level applied to an unpatched tree writes its own marker)
for n in "$level"; do
	m=$(cat_ "/etc/.Space-$rel-Hotpatch-v$n")
	[ -n "$m" ] || { bad "marker /etc/.Space-$rel-Hotpatch-v$n missing"; continue; }
	while read -r name ver; do
		rec=$(cat_ "/usr/lib/pkg/installed/$name")
		v=$(printf '%s\n' "$rec" | awk '$1 == "version" { v = $2 } $1 == "release" { r = $2 } END { print v "-" r }')
		[ "$v" = "$ver" ] && ok "$name is installed at $ver, as the v$n marker says" ||
			bad "$name: the database says $v, the marker $ver"
	done <<< "$m"
done
cat_ /var/lib/hotpatch/applied | grep -qx "patch = $level" && ok "the level's manifest is the slot's /var/lib/hotpatch/applied" ||
	bad "no /var/lib/hotpatch/applied of level $level"
for p in /var/lib/hotpatch/backup /var/lib/hotpatch/history /var/log/hotpatch; do
	debugfs -R "stat \"$p\"" "$work/root.img" 2>&1 | grep -q "File not found" && ok "no $p (the build's run, not the node's)" ||
		bad "$p is in the image"
done
exit $fail
