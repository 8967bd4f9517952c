#!/bin/bash
# module-setup.sh - dracut module "space-boot": the appliance's initramfs.
#
# A busybox /init that loads the storage drivers the hardware asks for,
# finds the root slot by GPT partition UUID and switches to it. It replaces
# dracut's udev-based init: the appliance boots from one local disk, so
# udev, systemd and bash (10 MB of the 12 MB image, and 8 s of the boot
# under emulation) buy nothing here. Everything in the image comes from the
# pinned packages: busybox from the root tree ($SPACE_ROOTFS), modules from
# --kmoddir.

check() {
	# Only when named with -m: never picked up by a host-only dracut run.
	return 255
}

depends() {
	return 0
}

install() {
	local a

	[[ -x $SPACE_ROOTFS/bin/busybox ]] || {
		derror "space-boot: no busybox in the root tree (SPACE_ROOTFS=$SPACE_ROOTFS)"
		return 1
	}
	inst_simple "$SPACE_ROOTFS/bin/busybox" /bin/busybox
	# The tree's busybox is setuid (su, passwd); dracut keeps that only
	# when run as root, so a root build and a user's differed. Everything
	# in the initramfs runs as root: no setuid bit, whoever builds it.
	chmod 0755 "$initdir/bin/busybox"
	# Every applet, for /init and for the rescue shell; busybox-static
	# needs no libraries.
	for a in $("$SPACE_ROOTFS/bin/busybox" --list); do
		[[ $a == busybox ]] || ln_r /bin/busybox "/bin/$a"
	done
	ln_r /bin/busybox /sbin/modprobe
	# /init itself (init.sh) comes with --include of a directory (rootfs.mk),
	# which dracut copies after its pass that resolves the #! line of every
	# executable: that pass would add the host's /bin/sh and its libc, where
	# /bin/sh here is busybox.
}
