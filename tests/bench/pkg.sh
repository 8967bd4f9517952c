#!/bin/bash
# tests/bench/pkg.sh - pkg build/install speed on a tree of many files,
# against tar -czf / tar -xzf of the same tree as the baseline.
#   PKG_BENCH_FILES (default 4000) files, PKG_BENCH_MB (default 400) MB in
#   total, random content (head -c from /dev/urandom), in 40 directories.
set -eu
PKG=$(cd "${BIN:-out/bin}" && pwd)/pkg
FILES=${PKG_BENCH_FILES:-4000}
MB=${PKG_BENCH_MB:-400}
T=$(mktemp -d "${TMPDIR:-/tmp}/pkg-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v mb="$MB" -v s="$1" 'BEGIN { printf "%.1f", (s > 0 ? mb / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

dirs=40
per_dir=$(( (FILES + dirs - 1) / dirs ))
size=$(( MB * 1024 * 1024 / FILES ))
mkdir -p "$T/tree"
for d in $(seq -w 1 $dirs); do
	mkdir -p "$T/tree/lib/modules/d$d"
	head -c $(( size * per_dir )) /dev/urandom | split -b "$size" -a 3 - "$T/tree/lib/modules/d$d/m"
done
sync
echo "tree: $(find "$T/tree" -type f | wc -l) files, $(du -sm "$T/tree" | cut -f1) MB"

t0=$(now); tar -C "$T/tree" -czf "$T/base.tgz" .; t1=$(now)
tar_c=$(secs "$t0" "$t1")
t0=$(now); SOURCE_DATE_EPOCH=0 "$PKG" build --name bench --version 1 --arch amd64 "$T/tree" "$T/bench.pkg"; t1=$(now)
pkg_b=$(secs "$t0" "$t1")
mkdir -p "$T/x" "$T/root"
t0=$(now); tar -C "$T/x" -xzf "$T/base.tgz"; sync; t1=$(now)
tar_x=$(secs "$t0" "$t1")
t0=$(now); "$PKG" --root "$T/root" install --no-chown "$T/bench.pkg"; t1=$(now)
pkg_i=$(secs "$t0" "$t1")
t0=$(now); "$PKG" --root "$T/root" verify --no-owner >/dev/null; t1=$(now)
pkg_v=$(secs "$t0" "$t1")

echo "pkg build: ${pkg_b}s $(rate "$pkg_b") MB/s (tar -czf ${tar_c}s, ratio $(ratio "$pkg_b" "$tar_c"))"
echo "pkg install: ${pkg_i}s $(rate "$pkg_i") MB/s (tar -xzf + sync ${tar_x}s, ratio $(ratio "$pkg_i" "$tar_x"))"
echo "pkg verify: ${pkg_v}s $(rate "$pkg_v") MB/s"
echo "package size: $(du -m "$T/bench.pkg" | cut -f1) MB (tar.gz $(du -m "$T/base.tgz" | cut -f1) MB)"
