#!/bin/sh
# /init of the appliance's initramfs (dracut module space-boot).
#
# Kernel command line: root=PARTUUID=<uuid> | LABEL=<label> | UUID=<uuid> |
# /dev/<name>; rootfstype= (default ext4); ro | rw; rootdelay=<s> (how long
# to wait for the root device, default 60); rd.break (a shell before the
# switch); init= (default /sbin/init). A failure prints one line saying
# what is missing and opens a shell on the console, so an operator sees why
# the node does not boot.
export PATH=/bin:/sbin

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
# The initramfs has no device nodes (a root build and a user build are the
# same bytes): the kernel found no /dev/console for us, devtmpfs has it.
exec </dev/console >/dev/console 2>&1
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
# Drivers requested by the kernel itself (crypto-crc32c for ext4) too.
echo /sbin/modprobe > /proc/sys/kernel/modprobe

root= fstype=ext4 mode=ro init=/sbin/init wait=60 brk= trial=
for arg in $(cat /proc/cmdline); do
	case $arg in
	root=*) root=${arg#root=} ;;
	rootfstype=*) fstype=${arg#rootfstype=} ;;
	rootdelay=*) wait=${arg#rootdelay=} ;;
	init=*) init=${arg#init=} ;;
	ro) mode=ro ;;
	rw) mode=rw ;;
	rd.break) brk=1 ;;
	space.trial=1) trial=1 ;;
	esac
done

shell() {
	echo "initramfs: $*" >&2
	# A trial boot of an upgrade that cannot find or mount its root must
	# not wait at a shell: GRUB boots the good slot after a reset.
	if [ -n "$trial" ] && [ -z "$brk" ]; then
		echo "initramfs: trial boot failed; rebooting into the previous release" >&2
		sleep 5
		reboot -f
	fi
	echo "initramfs: starting a shell; leave it to try again" >&2
	setsid -c sh </dev/console >/dev/console 2>&1
}

# Load a driver for every device that announces one the initramfs holds.
# The disks behind a storage controller appear once its driver is in and
# announce their own aliases (scsi:t-0x00 for sd_mod): hence the repeat.
coldplug() {
	find /sys/devices -name modalias -type f -exec cat {} + 2>/dev/null |
		sort -u | xargs modprobe -a -q -b 2>/dev/null
}

# hex DEV SKIP COUNT BS: the blocks as one lowercase hex string.
hex() {
	dd if="$1" bs="$4" skip="$2" count="$3" 2>/dev/null | od -A n -t x1 -v | tr -d ' \n'
}

# le HEX: a little-endian field as a number.
le() {
	local h=$1 r=
	while [ -n "$h" ]; do
		r=${h:0:2}$r
		h=${h:2}
	done
	echo $((0x${r:-0}))
}

# guid HEX32: the text form of a GUID stored in GPT byte order.
guid() {
	local b=$1
	echo "${b:6:2}${b:4:2}${b:2:2}${b:0:2}-${b:10:2}${b:8:2}-${b:14:2}${b:12:2}-${b:16:4}-${b:20:12}"
}

# by_partuuid UUID: the partition whose GPT entry has this unique GUID.
# Read from the primary GPT of each disk (the kernel has no PARTUUID in
# sysfs, and udev's by-partuuid links are what this initramfs goes without).
by_partuuid() {
	local want=$1 b d ss h lba esz p n e
	for b in /sys/block/*; do
		d=${b##*/}
		[ -e "$b/device" ] || continue # loop, ram: no hardware behind
		ss=$(cat "$b/queue/logical_block_size")
		h=$(hex "/dev/$d" 1 1 "$ss")
		[ "${h:0:16}" = 4546492050415254 ] || continue # "EFI PART"
		lba=$(le "${h:144:16}")
		esz=$(le "${h:168:8}")
		for p in "$b/$d"*/partition; do
			[ -e "$p" ] || continue
			n=$(cat "$p")
			# The entry's sector, and the entry within it.
			e=$(hex "/dev/$d" $((lba + (n - 1) * esz / ss)) 1 "$ss")
			e=${e:$(((n - 1) * esz % ss * 2)):64}
			if [ "$(guid "${e:32:32}")" = "$want" ]; then
				p=${p%/partition}
				echo "/dev/${p##*/}"
				return 0
			fi
		done
	done
	return 1
}

# by_label / by_uuid: ext4 superblock at 1024, label at +120 (16 bytes),
# UUID at +104.
by_ext4() {
	local field=$1 want=$2 b sb v
	for b in /sys/class/block/*; do
		[ -e "$b/dev" ] || continue
		sb=$(hex "/dev/${b##*/}" 2 1 512 2>/dev/null)
		[ "${sb:112:4}" = 53ef ] || continue
		case $field in
		label) v=$(echo "${sb:240:32}" | sed 's/\(00\)*$//; s/../\\x&/g') && v=$(printf "$v") ;;
		uuid) v=$(echo "${sb:208:32}" | sed 's/^\(.\{8\}\)\(.\{4\}\)\(.\{4\}\)\(.\{4\}\)/\1-\2-\3-\4-/') ;;
		esac
		[ "$v" = "$want" ] && { echo "/dev/${b##*/}"; return 0; }
	done
	return 1
}

find_root() {
	case $root in
	PARTUUID=*) by_partuuid "$(echo "${root#PARTUUID=}" | tr A-F a-f)" ;;
	LABEL=*) by_ext4 label "${root#LABEL=}" ;;
	UUID=*) by_ext4 uuid "$(echo "${root#UUID=}" | tr A-F a-f)" ;;
	/dev/*) [ -b "$root" ] && echo "$root" ;;
	*) return 1 ;;
	esac
}

[ -n "$root" ] || shell "no root= on the kernel command line"
uptime() {
	local u
	read -r u _ </proc/uptime
	echo "${u%.*}"
}

while :; do
	until=$(($(uptime) + wait))
	dev=
	while :; do
		coldplug
		dev=$(find_root) && break
		dev=
		[ "$(uptime)" -lt "$until" ] || break
		sleep 0.1
	done
	if [ -z "$dev" ]; then
		shell "root device $root not found after ${wait} s (disks: $(ls /sys/block | tr '\n' ' '))"
		continue
	fi
	modprobe -q "$fstype"
	mkdir -p /sysroot
	if ! mount -t "$fstype" -o "$mode" "$dev" /sysroot; then
		shell "cannot mount $dev ($root) as $fstype"
		continue
	fi
	[ -x "/sysroot$init" ] && break
	umount /sysroot
	shell "$init not found on $dev ($root)"
done

[ -n "$brk" ] && shell "rd.break: root is $dev on /sysroot"
echo "initramfs: switching to $dev ($root)"
for m in /dev /proc /sys /run; do
	mount --move "$m" "/sysroot$m"
done
exec switch_root /sysroot "$init"
