#!/bin/bash
# install.sh - `make bench` figures for the installer ISO (issue 8 item 9),
# each against a baseline measured in the same run, under QEMU/TCG with one
# vCPU, one VM at a time:
#   - power-on of the ISO to the installed appliance's services up, by
#     phase, with an unattended install (space.after=reboot), against a
#     plain boot of the release qcow2 to services up on the same machine;
#   - the installer's slot phase (write; write and read-back) against `dd
#     bs=1M conv=fsync` of the same slot image (the raw slot, unpacked here
#     from the release image's slot member) into root-a of the same target
#     in the same VM, and its read-back against `dd bs=1M | sha256sum`.
# The VM part is tests/bench/install.py. The table goes to stdout and
# $O/bench-install.txt, the console logs to $O/bench-install/.
# Env: O, TOP; ZSTD (/usr/bin/zstd); BENCH_ISO, BENCH_QCOW2, BENCH_IMG:
# already built outputs to measure (all three; nothing is built then),
# else `make iso qcow2` in $O.
set -eu
: "${O:?}" "${TOP:?}"
cd "$TOP"
product=${PRODUCT:-space}
ver=$(cat VERSION)
zstd=${ZSTD:-/usr/bin/zstd}
logs=$O/bench-install
rows=$logs/rows.tsv
rm -rf "$logs"
mkdir -p "$logs"

if [ -n "${BENCH_ISO:-}${BENCH_QCOW2:-}${BENCH_IMG:-}" ]; then
	iso=${BENCH_ISO:?BENCH_ISO, BENCH_QCOW2 and BENCH_IMG go together}
	qcow=${BENCH_QCOW2:?BENCH_ISO, BENCH_QCOW2 and BENCH_IMG go together}
	img=${BENCH_IMG:?BENCH_ISO, BENCH_QCOW2 and BENCH_IMG go together}
else
	make -s O="$O" iso qcow2 >/dev/null
	iso=$O/$product-$ver.iso
	qcow=$O/$product-$ver-kvm.qcow2
	img=$O/$product-$ver.img # the ISO's payload, built for it
fi
for f in "$iso" "$qcow" "$img"; do
	[ -f "$f" ] || { echo "install bench: $f: no such file"; exit 1; }
done

# The raw slot image, sparse, for the dd baseline's source disk.
work=$(mktemp -d /tmp/bench-install-XXXX)
trap 'rm -rf "$work"' EXIT
member=$(tar -xOf "$img" manifest | sed -n 's/^slot\.member = //p')
[ -n "$member" ] || { echo "install bench: $img: no slot.member in its manifest"; exit 1; }
tar -xOf "$img" "$member" | "$zstd" -dq -o "$work/slot.raw"

/usr/bin/python3 tests/bench/install.py "$iso" "$img" "$qcow" "$work/slot.raw" "$rows" "$logs" \
	> "$logs/vm.log" 2>&1 || { cat "$logs/vm.log"; exit 1; }
grep '^install: ' "$logs/vm.log"

{
	printf 'figure\tvalue\tbaseline\tbaseline value\tratio\n'
	cat "$rows"
} | column -t -s $'\t' | tee "$O/bench-install.txt"
