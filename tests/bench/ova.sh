#!/bin/bash
# tests/bench/ova.sh - the OVA benchmarks of issue 3, on the reference image:
# an 8 GiB sparse raw disk holding an ext4 with the pinned kernel's
# /lib/modules tree (cached in $CACHE/bench).
#   1. raw -> streamOptimized: our `vmdk convert` vs `qemu-img convert -O vmdk
#      -o subformat=streamOptimized,adapter_type=lsilogic`, same image, same run
#      (goal: >= 4x faster, output no larger)
#   2. ova-verify throughput vs `openssl speed -evp sha256` (goal: >= 0.8) and
#      vs the manual procedure (tar xf + sha256sum + openssl verify/dgst).
# Prints "name: figure (ratio vs baseline)" lines.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
CACHE=${CACHE:-$HOME/.cache/space-build}
B=$CACHE/bench
mkdir -p "$B"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1e6 }'; }

# --- reference image ---------------------------------------------------------
kpkg=$(awk '$1 ~ /^linux-image-[0-9].*-amd64$/ { print $1 "_" $2 "_" $3; exit }' "$TOP/pkg/debs.lock" 2>/dev/null || true)
deb=""
for d in "$CACHE/debs/$kpkg.deb" "$CACHE/debs/${kpkg/_/_*}.deb" "$B/$kpkg.deb"; do
	for f in $d; do [ -f "$f" ] && deb=$f && break 2; done
done
if [ -z "$deb" ]; then
	name=${kpkg%%_*}
	[ -n "$name" ] || name=linux-image-amd64
	(cd "$B" && apt-get download "$name" > /dev/null)
	deb=$(ls "$B"/"$name"_*.deb | head -1)
fi
REF=$B/ref-$(basename "$deb" .deb).raw
if [ ! -f "$REF" ]; then
	dpkg-deb -x "$deb" "$T/k"
	rm -f "$REF.tmp" && truncate -s 8G "$REF.tmp"
	mke2fs -q -t ext4 -d "$T/k/lib/modules" -F "$REF.tmp"
	mv "$REF.tmp" "$REF"
	rm -rf "$T/k"
fi
echo "reference image: $REF ($(du -m "$REF" | cut -f1) MB used of 8 GiB, from $(basename "$deb"))"
cat "$REF" > /dev/null # page cache warm for both converters

# --- 1. conversion ---------------------------------------------------------
t0=$(now)
qemu-img convert -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic "$REF" "$T/q.vmdk"
t1=$(now)
"$BIN/vmdk" convert "$REF" "$T/s.vmdk" > /dev/null
t2=$(now)
"$BIN/vmdk" convert -j 1 "$REF" "$T/s1.vmdk" > /dev/null
t3=$(now)
tq=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
ts=$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')
ts1=$(awk -v a="$t2" -v b="$t3" 'BEGIN { print b - a }')
sq=$(stat -c %s "$T/q.vmdk") ss=$(stat -c %s "$T/s.vmdk")
echo "qemu-img convert streamOptimized: ${tq} s, $(mb "$sq") MB (baseline)"
echo "vmdk convert ($(nproc) threads): ${ts} s, $(mb "$ss") MB ($(ratio "$tq" "$ts")x faster than qemu-img, size $(ratio "$ss" "$sq") of qemu-img's)"
echo "vmdk convert (1 thread): ${ts1} s ($(ratio "$tq" "$ts1")x faster than qemu-img)"
qemu-img compare "$REF" "$T/s.vmdk" > /dev/null || { echo "vmdk convert: output differs from the image"; exit 1; }
rm -f "$T/q.vmdk" "$T/s1.vmdk"

# --- 2. verification -------------------------------------------------------
"$BIN/mkova" pki --dir "$T/pki" > /dev/null
mkdir "$T/o"
"$BIN/mkova" build --raw "$REF" --hw "$TOP/image/ova/esxi.hw" --out "$T/o" --version bench \
	--pki "$T/pki" > /dev/null
OVA=$T/o/space-bench.ova
size=$(stat -c %s "$OVA")
cat "$OVA" > /dev/null
sha=$(openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk '$1 == "sha256" { sub(/k$/, "", $2); print $2 * 1000 }')
best=999
for _ in 1 2 3 4 5; do
	a=$(now)
	"$BIN/ova-verify" --ca "$T/pki/dev-root-ca.pem" "$OVA" > /dev/null
	b=$(now)
	best=$(awk -v a="$a" -v b="$b" -v m="$best" 'BEGIN { d = b - a; print (d < m ? d : m) }')
done
vrate=$(awk -v s="$size" -v t="$best" 'BEGIN { print s / t }')
echo "openssl speed -evp sha256 (1 MiB blocks): $(mb "$sha") MB/s (baseline)"
echo "ova-verify: $(mb "$size") MB OVA in ${best} s = $(mb "$vrate") MB/s ($(ratio "$vrate" "$sha") of the sha256 limit)"

bestm=999
for _ in 1 2 3; do
	rm -rf "$T/m" && mkdir "$T/m"
	a=$(now)
	(
		cd "$T/m"
		tar xf "$OVA"
		sed -E 's/^SHA256\((.*)\)= (.*)$/\2  \1/' space-bench.mf | sha256sum -c --quiet
		openssl verify -CAfile "$T/pki/dev-root-ca.pem" -untrusted space-certchain.pem space-bench.cert > /dev/null
		sed -n '1s/^SHA256(space-bench.mf)= //p' space-bench.cert | xxd -r -p > sig.bin
		openssl x509 -in space-bench.cert -pubkey -noout > pub.pem
		openssl dgst -sha256 -verify pub.pem -signature sig.bin space-bench.mf > /dev/null
	)
	b=$(now)
	bestm=$(awk -v a="$a" -v b="$b" -v m="$bestm" 'BEGIN { d = b - a; print (d < m ? d : m) }')
done
echo "manual procedure (tar xf + sha256sum + openssl verify + dgst): ${bestm} s (baseline)"
echo "ova-verify vs manual procedure: $(ratio "$bestm" "$best")x faster"
