#!/bin/bash
# tests/bench/mkimage.sh - mkimage disk at the default sizes (8 GiB disk,
# 2 GiB slots) on a synthetic ~600 MB tree shaped like a root filesystem:
# 600 files of 1 MiB (incompressible) in 30 directories, plus one directory
# of 5000 small files and 20000 small files spread over 200 directories
# (the large directory is what made per-path debugfs commands quadratic).
# Prints "name: figure" lines. Env: BIN, O.
set -euo pipefail
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
BIN=${BIN:-out/bin}
W=$(mktemp -d "${O:-/tmp}/mkimage-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SOURCE_DATE_EPOCH=1700000000
T=$W/tree
. "$(dirname "$0")/../tool/tree-lib.sh"
mkdir -p "$T/usr/bin"
boot_tree "$T"
head -c $((600 << 20)) /dev/urandom > "$W/blob"
for d in $(seq 1 30); do
	mkdir -p "$T/usr/lib/d$d"
	for f in $(seq 1 20); do
		n=$(((d - 1) * 20 + f - 1))
		dd if="$W/blob" of="$T/usr/lib/d$d/f$f" bs=1M skip=$n count=1 status=none
	done
done
rm -f "$W/blob"
( cd "$T/usr/bin" && for i in $(seq 1 5000); do echo "$i" > "b$i"; done )
for d in $(seq 1 200); do
	mkdir -p "$T/usr/share/s$d"
	( cd "$T/usr/share/s$d" && for i in $(seq 1 100); do echo "$i" > "x$i"; done )
done
printf 'f 4755 0 0 0 0 usr/bin/b1\nd 0750 1000 1000 0 0 usr/share/s1\n' > "$W/attrs"
entries=$(find "$T" | wc -l)
size=$(du -sm "$T" | cut -f1)
# Baseline: what any ext4-from-a-tree build must pay, mke2fs -d alone.
b0=$(date +%s.%N)
truncate -s 2G "$W/base.ext4"
mke2fs -q -F -t ext4 -d "$T" "$W/base.ext4" >/dev/null
b1=$(date +%s.%N)
rm -f "$W/base.ext4"
base=$(sub "$b0" "$b1")
t0=$(date +%s.%N)
"$BIN/mkimage" disk --out "$W/disk.raw" --rootfs "$T" --attrs "$W/attrs" --seed bench \
	--product space --version 0.0R0
t1=$(date +%s.%N)
"$BIN/mkimage" qcow2 --in "$W/disk.raw" --out "$W/disk.qcow2"
t2=$(date +%s.%N)
took=$(sub "$t0" "$t1")
echo "mkimage disk (8 GiB, ${size} MB tree, $entries entries): $took s ($(awk -v a="$took" -v b="$base" 'BEGIN { printf "%.2f", a / b }')x mke2fs -d alone: $base s)"
echo "mkimage qcow2: $(sub "$t1" "$t2") s"
echo "raw allocated: $(du -m "$W/disk.raw" | cut -f1) MB of $(($(stat -c %s "$W/disk.raw") >> 20)) MB"
echo "qcow2 size: $(du -m "$W/disk.qcow2" | cut -f1) MB"
