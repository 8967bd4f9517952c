#!/bin/bash
# module-setup.sh - dracut module "space-installer": the installer's initramfs.
#
# space-boot's busybox and its applets (a dependency), plus what the
# installer runs: /init (init.sh), space-install, mke2fs and debugfs (the
# data filesystem, through image/lib), and the release's boot kit in
# /usr/share/space-install/kit. Nothing comes from the build host:
#   - the programs and libraries are the root tree's ($SPACE_ROOTFS);
#     space-install, init and the kit come from $SPACE_STAGE, which
#     installer/iso.mk fills from the build (stripped, modes pinned);
#   - dracut resolves libraries with the host's ldd and would copy the
#     host's: iso.mk points DRACUT_LDD at a stub, and this module resolves
#     each NEEDED entry itself against the tree's library directories, in
#     the order ld.so searches them;
#   - iso.mk then checks every file of the image against its source
#     (installer/iso/check-initrd.sh).
# dracut ignores a module whose install() fails, so a missing piece stops
# the whole run here (exit) instead of leaving an installer without it.

check() {
	# Only when named with -m: never picked up by a host-only dracut run.
	return 255
}

depends() {
	echo space-boot
	return 0
}

# ld.so's default search path on Debian amd64: with these the image needs
# no ld.so.cache (ldconfig -r needs root, so a cache would make the image
# depend on who builds it).
SPACE_LIBDIRS="/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib /usr/lib"

space_die() {
	dfatal "space-installer: $*"
	exit 1
}

# space_tree_file PATH: installs the tree's PATH at PATH, its symlinks as
# symlinks, resolved inside the tree (an absolute target names a tree
# path, not a host one). Sets SPACE_REAL to the tree path of the file.
space_tree_file() {
	local p=$1 t n=0

	while [[ -L $SPACE_ROOTFS$p ]]; do
		((n++ < 40)) || space_die "$1: too many levels of symlinks in the root tree"
		t=$(readlink "$SPACE_ROOTFS$p")
		[[ $t == /* ]] || t=${p%/*}/$t
		t=$(realpath -m -s "$t")
		if ! [[ -e $initdir$p || -L $initdir$p ]]; then
			mkdir -p "$initdir${p%/*}"
			ln_r "$t" "$p"
		fi
		p=$t
	done
	[[ -f $SPACE_ROOTFS$p ]] || space_die "$1: not a file in the root tree ($SPACE_ROOTFS)"
	inst_simple "$SPACE_ROOTFS$p" "$p" || space_die "$1: cannot install it"
	SPACE_REAL=$p
}

# space_elf SRC: the interpreter and the libraries of the ELF file SRC,
# from the tree, recursively (each library once).
declare -gA SPACE_SEEN
space_elf() {
	local src=$1 interp lib d real

	interp=$(readelf -l "$src" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
	if [[ $interp ]] && ! [[ ${SPACE_SEEN[$interp]} ]]; then
		SPACE_SEEN[$interp]=1
		space_tree_file "$interp"
	fi
	for lib in $(readelf -d "$src" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		[[ ${SPACE_SEEN[$lib]} ]] && continue
		SPACE_SEEN[$lib]=1
		real=
		for d in $SPACE_LIBDIRS; do
			[[ -e $SPACE_ROOTFS$d/$lib ]] || continue
			space_tree_file "$d/$lib"
			real=$SPACE_REAL
			break
		done
		[[ $real ]] || space_die "$lib (needed by ${src##*/}) is not in the root tree ($SPACE_LIBDIRS)"
		space_elf "$SPACE_ROOTFS$real"
	done
}

install() {
	local p f

	[[ -d $SPACE_ROOTFS && -d $SPACE_STAGE ]] ||
		space_die "SPACE_ROOTFS ($SPACE_ROOTFS) and SPACE_STAGE ($SPACE_STAGE) must name directories"
	for f in init space-install kit/kit.conf; do
		[[ -f $SPACE_STAGE/$f ]] || space_die "$SPACE_STAGE/$f is missing"
	done
	inst_simple "$SPACE_STAGE/init" /init || space_die "cannot install /init"
	inst_simple "$SPACE_STAGE/space-install" /usr/bin/space-install || space_die "cannot install space-install"
	space_elf "$SPACE_STAGE/space-install"
	for p in /sbin/mke2fs /sbin/debugfs; do
		space_tree_file "$p"
		space_elf "$SPACE_ROOTFS$SPACE_REAL"
	done
	# busybox's own mke2fs (space-boot links every applet into /bin, which
	# comes first in PATH) knows none of the options image/lib passes: the
	# e2fsprogs one must be the only mke2fs.
	for p in mke2fs mkfs.ext2; do
		[[ -L $initdir/bin/$p ]] && rm -f "$initdir/bin/$p"
	done
	for f in "$SPACE_STAGE"/kit/*; do
		inst_simple "$f" "/usr/share/space-install/kit/${f##*/}" || space_die "cannot install $f"
	done
	# The trust anchor of the release image's signature: the tree's, the
	# one the installed system's upgrader checks against too.
	space_tree_file /etc/space/root-ca.pem
}
