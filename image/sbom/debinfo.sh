#!/bin/sh
# debinfo.sh DEB NAME DIR - what mksbom needs of a pinned Debian package,
# which rootfs/deb2pkg.sh drops with the documentation:
#   DIR/NAME.control    its control data (dpkg-deb -f: Package, Version, Source)
#   DIR/NAME.copyright  /usr/share/doc/NAME/copyright, when the .deb has it
#   DIR/NAME.doclink    else the package whose doc directory NAME's links to
#                       (Debian lets libgcc-s1's point at gcc-12-base's)
# Each is written under a temporary name and renamed; the control file last,
# since make knows the set by it.
set -eu
deb=$1 name=$2 dir=$3
mkdir -p "$dir"
rm -f "$dir/$name.copyright" "$dir/$name.doclink" "$dir/$name.control"
doc=./usr/share/doc/$name
listing=$(dpkg-deb -c "$deb")
if printf '%s\n' "$listing" | awk -v p="$doc/copyright" '$6 == p && $1 ~ /^-/ {f=1} END {exit !f}'; then
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$doc/copyright" > "$dir/$name.copyright.tmp"
	mv "$dir/$name.copyright.tmp" "$dir/$name.copyright"
else
	link=$(printf '%s\n' "$listing" | awk -v p="$doc" '$6 == p && $7 == "->" {print $8}')
	if [ -n "$link" ]; then
		printf '%s\n' "$link" > "$dir/$name.doclink.tmp"
		mv "$dir/$name.doclink.tmp" "$dir/$name.doclink"
	fi
fi
dpkg-deb -f "$deb" > "$dir/$name.control.tmp"
mv "$dir/$name.control.tmp" "$dir/$name.control"
