#!/bin/bash
# tests/bench/pkg.sh - pkg build/install/verify speed against tar -czf /
# tar -xzf of the same tree (the baseline; ratio < 1 means pkg is faster).
#   1. random: PKG_BENCH_FILES (default 4000) files, PKG_BENCH_MB (default
#      400) MB, head -c from /dev/urandom (incompressible), 40 directories;
#   2. kernel: the pinned linux-image .deb from $CACHE/debs, unpacked with
#      dpkg-deb -x (~4000 modules, ~400 MB), when it is in the cache.
set -eu
PKG=$(cd "${BIN:-out/bin}" && pwd)/pkg
FILES=${PKG_BENCH_FILES:-4000}
MB=${PKG_BENCH_MB:-400}
T=$(mktemp -d "${TMPDIR:-/tmp}/pkg-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v mb="$1" -v s="$2" 'BEGIN { printf "%.1f", (s > 0 ? mb / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

# bench NAME TREE: build, install, verify vs tar.
bench() {
	local name=$1 tree=$2 mb t0 t1 tar_c pkg_b tar_x pkg_i pkg_v
	mb=$(du -sm --apparent-size "$tree" | cut -f1)
	echo "$name tree: $(find "$tree" -type f | wc -l) files, $mb MB"
	sync
	t0=$(now); tar -C "$tree" -czf "$T/$name.tgz" .; t1=$(now)
	tar_c=$(secs "$t0" "$t1")
	t0=$(now); SOURCE_DATE_EPOCH=0 "$PKG" build --name "$name" --version 1 --arch amd64 "$tree" "$T/$name.pkg"; t1=$(now)
	pkg_b=$(secs "$t0" "$t1")
	mkdir -p "$T/$name-x" "$T/$name-root"
	t0=$(now); tar -C "$T/$name-x" -xzf "$T/$name.tgz"; sync; t1=$(now)
	tar_x=$(secs "$t0" "$t1")
	t0=$(now); "$PKG" --root "$T/$name-root" install --no-chown "$T/$name.pkg"; t1=$(now)
	pkg_i=$(secs "$t0" "$t1")
	t0=$(now); "$PKG" --root "$T/$name-root" verify --no-owner >/dev/null; t1=$(now)
	pkg_v=$(secs "$t0" "$t1")
	echo "$name pkg build: ${pkg_b}s $(rate "$mb" "$pkg_b") MB/s (tar -czf ${tar_c}s, ratio $(ratio "$pkg_b" "$tar_c"))"
	echo "$name pkg install: ${pkg_i}s $(rate "$mb" "$pkg_i") MB/s (tar -xzf + sync ${tar_x}s, ratio $(ratio "$pkg_i" "$tar_x"))"
	echo "$name pkg verify: ${pkg_v}s $(rate "$mb" "$pkg_v") MB/s"
	echo "$name package size: $(du -m "$T/$name.pkg" | cut -f1) MB (tar.gz $(du -m "$T/$name.tgz" | cut -f1) MB)"
	rm -rf "$T/$name-x" "$T/$name-root" "$T/$name.tgz" "$T/$name.pkg"
}

dirs=40
per_dir=$(( (FILES + dirs - 1) / dirs ))
size=$(( MB * 1024 * 1024 / FILES ))
for d in $(seq -w 1 $dirs); do
	mkdir -p "$T/random/lib/modules/d$d"
	head -c $(( size * per_dir )) /dev/urandom | split -b "$size" -a 3 - "$T/random/lib/modules/d$d/m"
done
bench random "$T/random"
rm -rf "$T/random"

deb=$(ls "${CACHE:-$HOME/.cache/space-build}"/debs/linux-image-*.deb 2>/dev/null | head -1 || true)
if [ -n "$deb" ] && command -v dpkg-deb >/dev/null; then
	dpkg-deb -x "$deb" "$T/kernel"
	bench kernel "$T/kernel"
else
	echo "kernel: skipped (no linux-image .deb in the cache)"
fi
