#!/bin/sh
# dracut-nohost.sh - the host's ldd and ldconfig, as dracut sees them while
# it builds an initramfs (rootfs/mkinitrd.sh, installer/iso.mk), so that nothing of
# the build host gets into the image:
#   DRACUT_LDD=dracut-nohost.sh     dracut runs it on every executable it
#       holds and copies the libraries named, from the host: it answers
#       "not a dynamic executable" (our modules take what they need from
#       the root tree themselves: space-boot's busybox is static,
#       space-installer copies the tree's libraries);
#   DRACUT_LDCONFIG="dracut-nohost.sh ldconfig"   run as "-r INITDIR -f
#       /etc/ld.so.conf" after dracut copied the host's /etc/ld.so.conf*
#       into INITDIR: it removes them. No ld.so.cache is made (ldconfig -r
#       needs root; ld.so finds the libraries in its default directories).
if [ "$1" = ldconfig ]; then
	shift
	root=
	while [ $# -gt 0 ]; do
		case $1 in
		-r) root=$2; shift ;;
		esac
		shift
	done
	[ -n "$root" ] && [ -d "$root" ] || { echo "dracut-nohost.sh ldconfig: no -r DIR" >&2; exit 1; }
	rm -rf "$root/etc/ld.so.conf" "$root/etc/ld.so.conf.d"
	exit 0
fi
echo "	not a dynamic executable"
exit 1
