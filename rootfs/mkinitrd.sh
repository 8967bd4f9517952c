#!/bin/sh
# mkinitrd.sh BASE TOP KVER DRIVERS OUT - the appliance's initramfs
# (rootfs/rootfs.mk), run in the directory that holds the root tree as
# rootfs.tmp. dracut records its arguments in the image, so every path in
# them is relative to that directory.
#
# Only what we chose goes in: our module (BASE/modules.d holds it alone),
# the tree's busybox, init.sh, and the DRIVERS with their dependencies
# from the tree's kernel modules. Nothing of the build host or of who runs
# it: dracut would otherwise
#   - read /etc/dracut.conf and /etc/dracut.conf.d, where any host package
#     may add items, filesystems or fsck helpers: --conf /dev/null and an
#     empty --confdir of our own;
#   - copy the libraries that the host's ldd finds for every program, copy
#     the host's /etc/ld.so.conf* and run its ldconfig (a host with
#     fakeroot or CUDA got their ld.so.conf.d entries):
#     DRACUT_LDD/DRACUT_LDCONFIG, TOP/rootfs/dracut-nohost.sh;
#   - take firmware from the host's /lib/firmware: --fwdir from the tree;
#   - search the caller's PATH: a fixed one (env -i);
#   - make device nodes (dev/console, null, kmsg, random, urandom), which
#     it does only when run as root: DRACUT_NO_MKNOD; /init mounts
#     devtmpfs first and takes its console from there;
#   - keep the tree's modes: busybox is setuid in the tree (su, passwd),
#     which dracut keeps only when run as root; the module installs it
#     0755 (the initramfs runs as root anyway), and the umask is fixed.
# Owners are 0:0 either way: dracut's --reproducible cpio.
# SPACE_ROOTFS: where the module takes busybox from. libdirs: nowhere, so
# dracut adds no library directory of the host (busybox is static).
set -eu
[ $# -eq 5 ] || { echo "usage: mkinitrd.sh BASE TOP KVER DRIVERS OUT" >&2; exit 100; }
base=$1 top=$2 kver=$3 drivers=$4 out=$5

[ -x rootfs.tmp/bin/busybox ] || { echo "mkinitrd.sh: $PWD/rootfs.tmp: no root tree here" >&2; exit 1; }
umask 022
rm -rf initrd-include initrd-conf.d
mkdir initrd-conf.d
install -D -m 0755 "$top/rootfs/dracut/90space-boot/init.sh" initrd-include/init
mkdir -p ../tmp
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" DRACUT_NO_MKNOD=1 \
	dracutbasedir="$base" SPACE_ROOTFS=rootfs.tmp libdirs=/nonexistent \
	DRACUT_LDD="$top/rootfs/dracut-nohost.sh" DRACUT_LDCONFIG="$top/rootfs/dracut-nohost.sh ldconfig" \
	dracut --quiet --no-hostonly --no-hostonly-cmdline --reproducible --force \
	--conf /dev/null --confdir initrd-conf.d \
	--kver "$kver" --kmoddir "rootfs.tmp/lib/modules/$kver" --fwdir rootfs.tmp/lib/firmware \
	--compress=gzip -m space-boot --include initrd-include / --drivers "$drivers" \
	--no-early-microcode --tmpdir ../tmp "$out"
