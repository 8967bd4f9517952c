#!/bin/bash
# tests/bench/ova.sh - the OVA benchmarks of issue 3, on the reference image:
# an 8 GiB sparse raw disk holding an ext4 with the pinned kernel's
# /lib/modules tree (cached in $CACHE/bench).
#   1. raw -> streamOptimized: our `vmdk convert` vs `qemu-img convert -O vmdk
#      -o subformat=streamOptimized,adapter_type=lsilogic`, same image, same run
#      (goal: >= 4x faster, output no larger)
#   2. ova-verify throughput vs `openssl speed -evp sha256` (goal: >= 0.8) and
#      vs the manual procedure (tar xf + sha256sum + openssl verify/dgst).
# Prints "name: figure (ratio vs baseline)" lines. Wall times are what a user
# waits; CPU times (user+sys, all threads) are what `openssl speed` divides
# by and move much less when the shared machine is busy.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
CACHE=${CACHE:-$HOME/.cache/space-build}
B=$CACHE/bench
mkdir -p "$B"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
mb() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1e6 }'; }

# timed N CMD...: run CMD N times; print "<best wall s> <mean CPU s>".
cat > "$T/timed.py" <<'PY'
import resource, subprocess, sys, time
n, cmd = int(sys.argv[1]), sys.argv[2:]
best, cpu = 1e9, 0.0
for _ in range(n):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    best = min(best, time.monotonic() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
print("%.4f %.4f" % (best, cpu / n))
PY
timed() { /usr/bin/python3 "$T/timed.py" "$@"; }

# --- reference image ---------------------------------------------------------
kpkg=$(awk '$1 ~ /^linux-image-[0-9].*-amd64$/ { print $1 "_" $2 "_" $3; exit }' "$TOP/pkg/debs.lock" 2>/dev/null || true)
deb=""
for f in "$CACHE/debs/$kpkg.deb" "$B/$kpkg.deb"; do
	[ -n "$kpkg" ] && [ -f "$f" ] && deb=$f && break
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
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$REF" > /dev/null # page cache warm for both converters

# --- 1. conversion ---------------------------------------------------------
read -r tq cq < <(timed 1 qemu-img convert -O vmdk -o subformat=streamOptimized,adapter_type=lsilogic "$REF" "$T/q.vmdk")
read -r ts cs < <(timed 1 "$BIN/vmdk" convert "$REF" "$T/s.vmdk")
read -r ts1 cs1 < <(timed 1 "$BIN/vmdk" convert -j 1 "$REF" "$T/s1.vmdk")
sq=$(stat -c %s "$T/q.vmdk") ss=$(stat -c %s "$T/s.vmdk")
echo "qemu-img convert streamOptimized: ${tq} s wall, ${cq} s CPU, $(mb "$sq") MB (baseline)"
echo "vmdk convert ($(nproc) threads): ${ts} s wall, ${cs} s CPU, $(mb "$ss") MB ($(ratio "$tq" "$ts")x faster than qemu-img, $(ratio "$cq" "$cs")x less CPU; size $(ratio "$ss" "$sq") of qemu-img's)"
echo "vmdk convert (1 thread): ${ts1} s wall, ${cs1} s CPU ($(ratio "$tq" "$ts1")x faster than qemu-img)"
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
speed() { openssl speed "$@" -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | awk '$1 == "sha256" { sub(/k$/, "", $2); print $2 * 1000 }'; }
sha=$(speed)
shaw=$(speed -elapsed)
read -r tv cv < <(timed 10 "$BIN/ova-verify" --ca "$T/pki/dev-root-ca.pem" "$OVA")
vw=$(awk -v s="$size" -v t="$tv" 'BEGIN { print s / t }')
vc=$(awk -v s="$size" -v t="$cv" 'BEGIN { print s / t }')
echo "openssl speed -evp sha256 (1 MiB blocks): $(mb "$sha") MB/s per CPU second, $(mb "$shaw") MB/s wall with -elapsed (baseline)"
echo "ova-verify: $(mb "$size") MB OVA, best ${tv} s wall = $(mb "$vw") MB/s ($(ratio "$vw" "$shaw") of the sha256 wall limit); ${cv} s CPU = $(mb "$vc") MB/s ($(ratio "$vc" "$sha") of the sha256 CPU limit)"

read -r td cdg < <(timed 10 openssl dgst -sha256 "$OVA")
echo "openssl dgst -sha256 of the same OVA file: best ${td} s wall, ${cdg} s CPU (ova-verify takes $(ratio "$tv" "$td")x its wall time)"

cat > "$T/manual.sh" <<'SH'
set -e
T=$1 OVA=$2
rm -rf "$T/m" && mkdir "$T/m" && cd "$T/m"
tar xf "$OVA"
sed -E 's/^SHA256\((.*)\)= (.*)$/\2  \1/' space-bench.mf | sha256sum -c --quiet
openssl verify -CAfile "$T/pki/dev-root-ca.pem" -untrusted space-certchain.pem space-bench.cert > /dev/null
sed -n '1s/^SHA256(space-bench.mf)= //p' space-bench.cert | xxd -r -p > sig.bin
openssl x509 -in space-bench.cert -pubkey -noout > pub.pem
openssl dgst -sha256 -verify pub.pem -signature sig.bin space-bench.mf > /dev/null
SH
read -r tm cm < <(timed 5 bash "$T/manual.sh" "$T" "$OVA")
echo "manual procedure (tar xf + sha256sum -c + openssl verify + dgst -verify): best ${tm} s wall, ${cm} s CPU (baseline)"
echo "ova-verify vs manual procedure: $(ratio "$tm" "$tv")x faster, $(ratio "$cm" "$cv")x less CPU"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
