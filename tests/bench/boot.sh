#!/bin/bash
# boot.sh - `make bench` figures for boot time: power-on to the serial
# prompt under QEMU/TCG with 1 vCPU, split into firmware+GRUB, loading,
# kernel, initramfs and userspace (tests/bench/boottime.py), for
#   - the release qcow2 under SeaBIOS with -cpu max and the default CPU,
#     and under OVMF;
#   - the ESXi disk (the OVA's) behind VMware PVSCSI;
# against the floor measured in the same run: the same kernel with a
# minimal busybox initramfs, started by QEMU directly. One VM at a time, so
# the figures do not share the CPU.
set -eu
: "${O:?}" "${TOP:?}"
cd "$TOP"
make -s images >/dev/null
ver=$(cat VERSION)
product=${PRODUCT:-space}
qcow=$O/$product-$ver-kvm.qcow2
esxi=$O/$product-$ver-esxi.raw
kernel=$(ls "$O"/system/rootfs/boot/vmlinuz-* | head -n1)
busybox=$O/system/rootfs/bin/busybox
logs=$O/bench-boot
mkdir -p "$logs"
bt() { /usr/bin/python3 tests/bench/boottime.py "$@"; }

# figure LINE: the total seconds of a boottime.py line.
total() { sed -n 's/^boot: [^:]*: \([0-9.]*\) s.*/\1/p' <<<"$1"; }

declare -A floor
for cpu in max default; do
	line=$(bt floor "$kernel" "$busybox" --cpu "$cpu" --log "$logs/floor-$cpu.log")
	echo "$line"
	floor[$cpu]=$(total "$line")
done
run() { # CPU ARGS...: one boot, with its ratio to the floor of that CPU
	local cpu=$1 line t
	shift
	line=$(bt disk "$@" --cpu "$cpu") || { echo "$line"; return 1; }
	t=$(total "$line")
	echo "$line; $(awk -v a="$t" -v b="${floor[$cpu]}" 'BEGIN{printf "%.1fx the floor (%.1f s)", a/b, b}')"
}
run max "$qcow" --fw bios --log "$logs/qcow2-bios-max.log"
run default "$qcow" --fw bios --log "$logs/qcow2-bios-default.log"
run max "$qcow" --fw uefi --log "$logs/qcow2-uefi-max.log"
run default "$qcow" --fw uefi --log "$logs/qcow2-uefi-default.log"
run max "$esxi" --fw bios --disk pvscsi --log "$logs/esxi-pvscsi-max.log"
