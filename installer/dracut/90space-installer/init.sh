#!/bin/sh
# /init of the installer's initramfs (dracut module space-installer).
#
# It finds the installation medium: an iso9660 filesystem (the ISO as a CD,
# or written to a USB stick) or a FAT one, whose /.space-medium names the
# product and release of the boot kit in this initramfs, so that another
# release's stick is never taken for it. It mounts the medium read-only on
# /run/medium and runs space-install on the console, for ever:
# space-install reboots or powers the machine off itself; it exits 0 only
# for "rescue" (a shell, then the installer again); any other exit is a
# failure, named before a shell, then the installer again.
#
# Kernel command line: space.wait=<s> (how long to look for the medium,
# default 60); rd.break (a shell before the installer starts); loglevel=
# or debug keep the kernel's console messages (otherwise only errors reach
# the console, between the installer's lines). space.action=, space.disk=
# and space.after= are space-install's.
export PATH=/bin:/sbin PS1='installer# '

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
# The initramfs has no device nodes (a root build and a user build are the
# same bytes): the kernel found no /dev/console for us, devtmpfs has it.
exec </dev/console >/dev/console 2>&1
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
# Drivers requested by the kernel itself (fs-iso9660, crypto-crc32c) too.
echo /sbin/modprobe > /proc/sys/kernel/modprobe

KIT=/usr/share/space-install/kit
MEDIUM=/run/medium
mkdir -p $MEDIUM

wait=60 brk= quiet=1
for arg in $(cat /proc/cmdline); do
	case $arg in
	space.wait=*) wait=${arg#space.wait=} ;;
	rd.break) brk=1 ;;
	loglevel=* | debug) quiet= ;;
	esac
done
case $wait in '' | *[!0-9]*) wait=60 ;; esac

# conf FILE KEY: the value of the line "KEY = VALUE" of FILE.
conf() {
	sed -n "s/^$2 *= *//p" "$1" 2>/dev/null | head -n 1
}
product=$(conf $KIT/kit.conf product)
release=$(conf $KIT/kit.conf release)

shell() {
	echo "installer: $*" >&2
	echo "installer: starting a shell; leave it to try again" >&2
	setsid -c sh </dev/console >/dev/console 2>&1
}

# Load a driver for every device that announces one the initramfs holds;
# again each round: the disks behind a controller (and a USB stick behind
# its hub) appear once its driver is in.
coldplug() {
	find /sys/devices -name modalias -type f -exec cat {} + 2>/dev/null |
		sort -u | xargs modprobe -a -q -b 2>/dev/null
}

# fs DEV: iso9660 or vfat when DEV starts like one: the primary volume
# descriptor's "CD001" at 32 KiB + 1, or a boot sector whose file system
# type says "FAT" (at 54 for FAT12/16, 82 for FAT32). Checked before mount,
# which would log an error for every other disk it is tried on.
fs() {
	[ "$(dd if="$1" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ] && { echo iso9660; return 0; }
	case $(dd if="$1" bs=1 skip=54 count=3 2>/dev/null):$(dd if="$1" bs=1 skip=82 count=3 2>/dev/null) in
	FAT:* | *:FAT) echo vfat ;;
	*) return 1 ;;
	esac
}

# try DEV TYPE: mounts DEV on $MEDIUM and keeps it there when it is our
# medium; another release's is noted in $others.
try() {
	local p r
	mount -t "$2" -o ro "$1" $MEDIUM 2>/dev/null || return 1
	if [ -f $MEDIUM/.space-medium ]; then
		p=$(conf $MEDIUM/.space-medium product)
		r=$(conf $MEDIUM/.space-medium release)
		[ "$p" = "$product" ] && [ "$r" = "$release" ] && return 0
		others="$others $1 ($p $r)"
	fi
	umount $MEDIUM
	return 1
}

# Every disk, partition and CD drive, in name order (a USB stick's whole
# disk, which holds the ISO, before its partitions).
find_medium() {
	local b t
	others=
	for b in /sys/class/block/*; do
		[ -e "$b/device" ] || [ -e "$b/partition" ] || continue # loop, ram
		t=$(fs "/dev/${b##*/}") || continue
		if try "/dev/${b##*/}" "$t"; then
			medium=/dev/${b##*/}
			return 0
		fi
	done
	return 1
}

uptime() {
	local u
	read -r u _ </proc/uptime
	echo "${u%.*}"
}

[ -n "$product" ] && [ -n "$release" ] || shell "no product or release in $KIT/kit.conf"
modprobe -q -a isofs vfat nls_cp437 nls_ascii
while :; do
	until=$(($(uptime) + wait))
	medium=
	while :; do
		coldplug
		find_medium && break
		[ "$(uptime)" -lt "$until" ] || break
		sleep 0.5
	done
	[ -n "$medium" ] && break
	shell "no installation medium of $product $release found after $wait s" \
		"(block devices: $(ls /sys/class/block | tr '\n' ' '))${others:+; other media:$others}"
done

echo "installer: $product $release from $medium"
[ -n "$quiet" ] && dmesg -n 4
[ -n "$brk" ] && shell "rd.break: the medium $medium is on $MEDIUM"
# space-install may name the medium's device without looking it up.
export SPACE_MEDIUM_DEV=$medium
while :; do
	setsid -c space-install --medium $MEDIUM --kit $KIT </dev/console >/dev/console 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "installer: rescue shell; leave it to return to the installer"
		setsid -c sh </dev/console >/dev/console 2>&1
	else
		shell "space-install failed (exit code $rc)"
	fi
done
