#!/bin/sh
# deb2pkg.sh PKG DEB NAME VERSION OUT.pkg STAGING
# Turn a pinned Debian package into a package of our format: unpack with
# dpkg-deb -x, drop documentation, add what Debian's maintainer scripts
# would have made (busybox applet links, depmod output), then `pkg build`.
set -eu
pkg=$1 deb=$2 name=$3 version=$4 out=$5 staging=$6
rm -rf "$staging"
mkdir -p "$staging"
dpkg-deb -x "$deb" "$staging"
# Documentation, manuals and translations are not needed on the appliance.
rm -rf "$staging/usr/share/doc" "$staging/usr/share/man" "$staging/usr/share/info" \
	"$staging/usr/share/locale" "$staging/usr/share/lintian" "$staging/usr/share/bug" \
	"$staging/usr/share/bash-completion"
summary=$(dpkg-deb -f "$deb" Description | head -n1)
attrs=
case "$name" in
busybox-static)
	# The applet links busybox would make with --install; the watchdog
	# applet is left out because /usr/sbin/watchdog is ours, and mke2fs
	# because e2fsprogs (resize2fs, e2fsck for growdata) ships the real one.
	"$staging/bin/busybox" --list-full | while read -r p; do
		case "$p" in sbin/watchdog|sbin/mke2fs|linuxrc) continue ;; esac
		[ -e "$staging/$p" ] && continue
		mkdir -p "$staging/$(dirname "$p")"
		rel=$(echo "$p" | sed 's|[^/]*/|../|g; s|[^/]*$||')
		ln -s "${rel}bin/busybox" "$staging/$p"
	done
	# setuid root so that su and passwd work for admin; busybox drops
	# the privilege for every applet that does not need it.
	attrs=$staging.attrs
	echo "bin/busybox f 4755 0 0" > "$attrs"
	;;
linux-image-*)
	kver=${name#linux-image-}
	depmod -b "$staging" "$kver"
	ln -s "vmlinuz-$kver" "$staging/boot/vmlinuz"
	;;
esac
[ -n "$(ls -A "$staging")" ] || { echo "deb2pkg: $name: empty package" >&2; exit 1; }
"$pkg" build --name "$name" --version "$version" --release 1 --arch amd64 \
	--summary "$summary" ${attrs:+--attrs "$attrs"} "$staging" "$out"
rm -f "$staging.attrs"
