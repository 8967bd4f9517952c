#!/bin/bash
# check-initrd.sh IMG ROOTFS STAGE - checks the installer's initramfs
# (installer/iso.mk) before the ISO takes it:
#   - every file is a copy of its source: the root tree ROOTFS (the same
#     path, or without the usr/ that dracut's merged /usr adds), or STAGE
#     (init, space-install, kit/), or one of dracut's records (the depmod
#     indexes, /usr/lib/dracut); so nothing came from the build host;
#   - no symlink is absolute or dangling (but those into /run, mounted at
#     boot);
#   - every ELF program finds its interpreter and its libraries inside;
#   - what the installer runs is there.
# One line per problem on stderr, exit 1 when there is any.
set -eu -o pipefail

[[ $# -eq 3 ]] || { echo "usage: check-initrd.sh IMG ROOTFS STAGE" >&2; exit 100; }
img=$1 rootfs=$2 stage=$3
work=$(mktemp -d "${img%/*}/check-initrd.XXXXXX")
trap 'chmod -R u+w "$work" && rm -rf "$work"' EXIT
gzip -dc "$img" | (cd "$work" && cpio -id --quiet)

bad=0
fail() {
	echo "check-initrd: ${img##*/}: $*" >&2
	bad=1
}

# source_of PATH: the file PATH of the image is a copy of (nothing for
# dracut's own records).
source_of() {
	case $1 in
	init) echo "$stage/init" ;;
	usr/bin/space-install) echo "$stage/space-install" ;;
	usr/share/space-install/kit/*) echo "$stage/kit/${1##*/}" ;;
	usr/lib/modules/*/modules.* | usr/lib/dracut/*) ;;
	*)
		if [[ -f $rootfs/$1 && ! -L $rootfs/$1 ]]; then
			echo "$rootfs/$1"
		elif [[ $1 == usr/* && -f $rootfs/${1#usr/} && ! -L $rootfs/${1#usr/} ]]; then
			echo "$rootfs/${1#usr/}"
		else
			echo "?"
		fi
		;;
	esac
}

# has_lib NAME: NAME is in one of ld.so's default directories of the image.
has_lib() {
	local d
	for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu lib usr/lib; do
		[[ -e $work/$d/$1 ]] && return 0
	done
	return 1
}

check_elf() {
	local f=$1 interp lib
	interp=$(readelf -l "$work/$f" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p')
	[[ -z $interp || -e $work$interp ]] || fail "$f: its interpreter $interp is missing"
	for lib in $(readelf -d "$work/$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
		has_lib "$lib" || fail "$f: its library $lib is missing"
	done
}

while IFS= read -r -d '' f; do
	f=${f#./}
	src=$(source_of "$f")
	if [[ $src == "?" ]]; then
		fail "$f: in neither the root tree nor the installer's stage (from the build host?)"
	elif [[ -n $src ]] && ! cmp -s "$work/$f" "$src"; then
		fail "$f: differs from its source $src"
	fi
	if [[ $f != *.ko && $(head -c 4 "$work/$f" | od -A n -t x1 | tr -d ' ') == 7f454c46 ]]; then
		check_elf "$f"
	fi
done < <(cd "$work" && find . -type f -print0 | sort -z)

while IFS= read -r -d '' f; do
	t=$(readlink "$work/$f")
	if [[ $t == /* ]]; then
		fail "${f#./}: absolute symlink to $t (would leave the image)"
	elif ! [[ -e $work/$f ]]; then
		# dracut's var/lock and var/run point into /run, a tmpfs at boot.
		r=$(realpath -m -s --relative-to="$work" "$work/${f%/*}/$t")
		[[ $r == run || $r == run/* ]] || fail "${f#./}: dangling symlink to $t"
	fi
done < <(cd "$work" && find . -type l -print0 | sort -z)

for f in init bin/busybox bin/sh usr/bin/space-install sbin/mke2fs sbin/debugfs \
	usr/share/space-install/kit/kit.conf; do
	[[ -e $work/$f ]] || fail "/$f is missing"
done
exit $bad
