#!/bin/bash
# tests/tool/growdata.sh - growdata on real disk images made by mkimage:
# a 600 MiB image grown by 1 GiB gets its backup GPT at the new end and its
# data partition extended (sfdisk, sgdisk -v), a second run is a silent
# no-op, --dry-run changes nothing, refusals (file without --no-fs, last
# partition not "data", no GPT, a disk smaller than its table) leave the
# disk as it was, and the grown partition's ext4 can be grown to fill it.
# As root with loop devices, the block-device path too: BLKPG, e2fsck,
# resize2fs on the partition device.
# Env: BIN (growdata, mkimage), O.
set -euo pipefail
BIN=${BIN:-out/bin}
GD=$BIN/growdata
W=$(mktemp -d "${O:-/tmp}/growdata-test.XXXXXX")
LOOP=
cleanup() { [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$(dirname "$0")/lib.sh"

t=$W/tree
. "$(dirname "$0")/tree-lib.sh"
mkdir -p "$t/etc" "$t/var/log"
boot_tree "$t"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$t/etc/passwd"
: > "$W/attrs"
check "mkimage: 600M disk" "$BIN/mkimage" disk --out "$W/a.raw" --rootfs "$t" --attrs "$W/attrs" \
	--seed grow-seed --product "${PRODUCT:-space}" --version 1.0 --size 600M --root-size 200M

# p5 start and size in sectors, from sfdisk
p5() { sfdisk --dump "$1" | awk '/name="data"/ { gsub(/[ ,]/, ""); split($0, a, /start=|size=|type=/); print a[2], a[3] }'; }
read -r start0 size0 < <(p5 "$W/a.raw")
check "data before: 272384 sectors" test "$size0" = 272384

expect_rc "an image file without --no-fs is a usage error" 100 "$GD" "$W/a.raw"
expect_rc "full-size disk: nothing to do" 0 "$GD" --no-fs "$W/a.raw"
check "... and silent" test ! -s "$W/out"

truncate -s +1G "$W/a.raw"
cp --sparse=always "$W/a.raw" "$W/before.raw"
expect_rc "--dry-run" 0 "$GD" --dry-run --no-fs "$W/a.raw"
check "--dry-run says what it would do" grep -q 'would grow.*partition 5 "data" 133 -> 1157 MiB' "$W/out"
check "--dry-run changes nothing" cmp "$W/a.raw" "$W/before.raw"

expect_rc "growdata --no-fs on the grown image" 0 "$GD" --no-fs "$W/a.raw"
check "one line: what it did" grep -qx 'growdata: .*a.raw: grown partition 5 "data" 133 -> 1157 MiB (disk 1624 MiB)' "$W/out"
read -r start1 size1 < <(p5 "$W/a.raw")
total=$(( $(stat -c %s "$W/a.raw") / 512 ))
want=$(( (total - 33 - 1) / 2048 * 2048 - start0 ))
check "sfdisk: data keeps its start" test "$start1" = "$start0"
check "sfdisk: data grows to the last MiB before the backup ($size1 = $want)" test "$size1" = "$want"
check "data ends 1 MiB aligned" test $(( (start1 + size1) % 2048 )) = 0
check "sgdisk -v: no problems (backup at the end, CRCs)" bash -c "sgdisk -v '$W/a.raw' | grep -q 'No problems found'"
check "other partitions unchanged" bash -c "diff <(sfdisk --dump '$W/before.raw' | grep -v -e data -e last-lba) <(sfdisk --dump '$W/a.raw' | grep -v -e data -e last-lba)"
check "the data ext4 is intact" e2fsck -f -n "$W/a.raw?offset=$((start0 * 512))"
cp --sparse=always "$W/a.raw" "$W/once.raw"
expect_rc "second run: nothing to do" 0 "$GD" --no-fs "$W/a.raw"
check "... silent" test ! -s "$W/out"
check "... and the image is unchanged" cmp "$W/a.raw" "$W/once.raw"

# The filesystem can then fill the partition (what growdata's resize2fs
# step does on a device): on a sparse copy of the partition.
dd if="$W/a.raw" of="$W/p5.img" bs=1M skip=$((start1 / 2048)) count=$((size1 / 2048)) conv=sparse status=none
check "e2fsck of the extracted partition" e2fsck -f -p "$W/p5.img"
check "resize2fs fills it" resize2fs "$W/p5.img"
blocks=$(dumpe2fs -h "$W/p5.img" 2>/dev/null | awk -F: '/^Block count/ { print $2 + 0 }')
check "ext4 now $blocks 4k blocks = the partition" test "$blocks" = $((size1 / 8))

# Refusals leave the disk alone.
cp --sparse=always "$W/before.raw" "$W/home.raw"
sgdisk -c 5:home "$W/home.raw" >/dev/null
cp --sparse=always "$W/home.raw" "$W/home0.raw"
expect_rc "refused: the last partition is not data" 1 "$GD" --no-fs "$W/home.raw"
check "... one line naming the disk and the reason" grep -qx "growdata: grow $W/home.raw: the last partition is not \"data\"" "$W/out"
check "... disk unchanged" cmp "$W/home.raw" "$W/home0.raw"
truncate -s 1G "$W/zero.raw"
expect_rc "refused: no GPT" 1 "$GD" --no-fs "$W/zero.raw"
cp --sparse=always "$W/once.raw" "$W/small.raw"
truncate -s 1000M "$W/small.raw"
expect_rc "refused: disk smaller than its table" 1 "$GD" --no-fs "$W/small.raw"
expect_rc "usage: no disk" 100 "$GD"
expect_rc "missing disk: system error" 111 "$GD" --no-fs "$W/nope.raw"
# a FIFO as the disk: open() for reading (--dry-run) blocked for ever
mkfifo "$W/fifo"
expect_rc "refused at once: a FIFO, --dry-run (124: hung)" 1 timeout 10 "$GD" --dry-run --no-fs "$W/fifo"
check "  naming it" grep -qx "growdata: grow $W/fifo: not a disk or a disk image file" "$W/out"
expect_rc "refused: a FIFO" 1 timeout 10 "$GD" --no-fs "$W/fifo"
rm -f "$W/fifo"

# Block device: the whole path (table, BLKPG, e2fsck, resize2fs).
# Needs partition scanning (no loopNpM in some containers).
if [ "$(id -u)" = 0 ] && LOOP=$(losetup -f --show -P "$W/before.raw" 2>/dev/null) &&
	[ -e "/sys/class/block/${LOOP#/dev/}p5" ]; then
	expect_rc "loop device: growdata $LOOP" 0 "$GD" "$LOOP"
	check "loop: partition and ext4 grown in one line" grep -qx "growdata: $LOOP: grown partition 5 \"data\" 133 -> 1157 MiB (disk 1624 MiB); ext4 133 -> 1157 MiB" "$W/out"
	check "loop: kernel sees the new partition size" grep -qx "$want" "/sys/class/block/${LOOP#/dev/}p5/size"
	blocks=$(dumpe2fs -h "${LOOP}p5" 2>/dev/null | awk -F: '/^Block count/ { print $2 + 0 }')
	check "loop: ext4 fills the partition ($blocks blocks)" test "$blocks" = $((want / 8))
	check "loop: fsck clean" e2fsck -f -n "${LOOP}p5"
	expect_rc "loop: second run" 0 "$GD" "$LOOP"
	check "loop: ... silent" test ! -s "$W/out"
	losetup -d "$LOOP"
	LOOP=
else
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	LOOP=
	skip "loop device part (needs root and partitioned loop devices)"
fi

done_testing
