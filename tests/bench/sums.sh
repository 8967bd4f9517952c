#!/bin/bash
# tests/bench/sums.sh - the cost of the signed checksum list in `make`
# (issue 8 item 1, image/sums.mk): the step (mksums -j2, then ova-verify
# --sums as the build checks it) against `sha256sum` of the same files.
# The files are this build's outputs in $O (ISO, OVA, qcow2, release image)
# when they are there, else 1 GB of stand-ins; both runs read them from the
# page cache, as the build does right after writing them.
# Prints "name: figure (ratio vs baseline)" lines.
set -eu
BIN=${BIN:-out/bin}
O=${O:-out}
TOP=${TOP:-.}
P=${PRODUCT:-space}
V=${VERSION:-$(cat "$TOP/VERSION")}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# best N CMD...: the best wall time of N runs, in seconds
best() {
	local n=$1 b=0 t0 t1
	shift
	for _ in $(seq "$n"); do
		t0=$(date +%s%N)
		"$@" > /dev/null
		t1=$(date +%s%N)
		[ "$b" = 0 ] || [ $((t1 - t0)) -lt "$b" ] && b=$((t1 - t0))
	done
	awk -v ns="$b" 'BEGIN { printf "%.3f", ns / 1e9 }'
}

mkdir "$T/dl"
files=()
for f in "$O/$P-$V.iso" "$O/$P-$V.ova" "$O/$P-$V-kvm.qcow2" "$O/$P-$V.img"; do
	[ -f "$f" ] || continue
	ln -s "$(readlink -f "$f")" "$T/dl/${f##*/}"
	files+=("$T/dl/${f##*/}")
done
if [ ${#files[@]} = 0 ]; then
	for s in 250:iso 150:ova 500:qcow2 120:img; do
		head -c "${s%%:*}000000" /dev/urandom > "$T/dl/bench.${s#*:}"
		files+=("$T/dl/bench.${s#*:}")
	done
	what="stand-ins"
else
	what="the outputs in $O"
fi
mb=$(cat "${files[@]}" | wc -c | awk '{ printf "%.0f", $1 / 1e6 }')
"$BIN/mkova" pki --dir "$T/pki" > /dev/null
L=$T/dl/bench.sha256sums
step() {
	"$BIN/mksums" --out "$L" --pki "$T/pki" -j2 "${files[@]}" &&
		"$BIN/ova-verify" --ca "$T/pki/dev-root-ca.pem" "$L"
}
echo "files: ${#files[@]}, $mb MB ($what)"
base=$(best 3 sha256sum "${files[@]}")
mk=$(best 3 "$BIN/mksums" --out "$L" --pki "$T/pki" -j2 "${files[@]}")
ver=$(best 3 "$BIN/ova-verify" --ca "$T/pki/dev-root-ca.pem" "$L")
all=$(best 3 step)
echo "sha256sum of the files: $base s (baseline)"
echo "mksums -j2 (hash and sign): $mk s ($(ratio "$mk" "$base") vs sha256sum)"
echo "ova-verify --sums (the build's check): $ver s ($(ratio "$ver" "$base") vs sha256sum)"
echo "the make step (both): $all s ($(ratio "$all" "$base") vs sha256sum)"
