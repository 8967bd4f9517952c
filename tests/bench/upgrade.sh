#!/bin/bash
# upgrade.sh - `make bench` figures for A/B upgrades (issue 7), each against
# a baseline measured in the same run:
#   - slot write throughput of `spacectl upgrade` against `zstd -dc | dd
#     bs=1M` of the same slot member into the same slot of the same VM;
#   - `spacectl upgrade --reboot` to marked good, by phase, against a plain
#     reboot of the same image;
#   - the longest gap in answers of the management API (polled from the
#     host every 0.25 s) during that upgrade, against a plain reboot;
#   - `make images` (qcow2, OVA, release image) from the warm package cache
#     into a clean O=, against the 75 s the issue quotes for qcow2 + OVA,
#     and against a rebuild of the same O= after touching the release knob
#     (PRODUCT, VERSION: what a new release of the same sources rebuilds).
# The VM part is tests/bench/upgrade.py: one QEMU VM (TCG, 1 vCPU) of the
# e2e image, upgraded to a second release built like tests/tests.mk's
# e2e-upgrade-images. The table goes to stdout and $O/bench-upgrade.txt.
# Env: O, BIN, TOP, CACHE; NEXT_VERSION (21.3R2), ZSTD (/usr/bin/zstd).
set -eu
: "${O:?}" "${TOP:?}"
BIN=${BIN:-$O/bin}
cd "$TOP"
product=${PRODUCT:-space}
ver=$(cat VERSION)
next=${NEXT_VERSION:-21.3R2}
zstd=${ZSTD:-/usr/bin/zstd}
logs=$O/bench-upgrade
rows=$logs/rows.tsv
rm -rf "$logs"
mkdir -p "$logs"

make -s O="$O" e2e-image >/dev/null
make -s img O="$O/upgrade-next" BIN="$BIN" BUILD="$O/build" ASAN="$O/asan" VERSION="$next" >/dev/null
old=$O/e2e/$product-$ver-kvm.qcow2
new=$O/upgrade-next/$product-$next.img

# The host's zstd runs on the node only if the root tree has its libraries
# where the loader looks without LD_LIBRARY_PATH.
tree=$O/system-e2e/rootfs
for lib in $(ldd "$zstd" | awk '$1 ~ /^lib/ {print $1} $1 ~ /^\// {print $1}'); do
	found=
	for d in lib usr/lib lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib64; do
		[ -e "$tree/$d/$(basename "$lib")" ] && found=1
	done
	[ -n "$found" ] || { echo "upgrade bench: $zstd needs $lib, which $tree lacks"; exit 1; }
done

/usr/bin/python3 tests/bench/upgrade.py "$old" "$new" "$TOP/tests/e2e/admin-password.test" "$zstd" \
	"$rows" "$logs" > "$logs/vm.log" 2>&1 || { cat "$logs/vm.log"; exit 1; }
grep '^upgrade: ' "$logs/vm.log"

# make of every output from the warm cache into a clean O= (one job per
# core), from a copy of the source tree and with the commit's time and id
# fixed: the checkout may change under a long bench, and a new commit
# changes SOURCE_DATE_EPOCH and BUILD_ID, which would rebuild everything in
# the runs meant to have nothing (or only the release) to do.
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
make -s fetch >/dev/null
src=$(mktemp -d /tmp/bench-src-XXXX)
bo=$(mktemp -d /tmp/bench-clean-XXXX)
git ls-files -z --cached --others --exclude-standard |
	tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
epoch=$(git log -1 --format=%ct)
build_id=$(git rev-parse --short=12 HEAD)
mk() { make -s -j2 -C "$src" O="$bo" SOURCE_DATE_EPOCH="$epoch" BUILD_ID="$build_id" images >/dev/null; }
t0=$(date +%s.%N); mk
t1=$(date +%s.%N); mk
t2=$(date +%s.%N); touch "$bo"/knobs/release; mk
t3=$(date +%s.%N)
outs=$(cd "$bo" && ls *.qcow2 *.ova *.img | tr '\n' ' ')
rm -rf "$bo" "$src"
clean=$(secs "$t0" "$t1"); noop=$(secs "$t1" "$t2"); rel=$(secs "$t2" "$t3")
printf 'make images, clean O=\t%s s\tissue: qcow2+OVA today\t75.0 s\t%s\n' "$clean" "$(ratio "$clean" 75)" >> "$rows"
printf 'make images, clean O=\t%s s\tsame O=, release knob touched\t%s s\t%s\n' "$clean" "$rel" \
	"$(ratio "$clean" "$rel")" >> "$rows"
printf '  make images, same O=, nothing to do\t%s s\t-\t-\t-\n' "$noop" >> "$rows"
printf '  outputs (-j2)\t%s\t-\t-\t-\n' "$outs" >> "$rows"

{
	printf 'figure\tvalue\tbaseline\tbaseline value\tratio\n'
	cat "$rows"
} | column -t -s $'\t' | tee "$O/bench-upgrade.txt"
