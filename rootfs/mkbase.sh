#!/bin/sh
# mkbase.sh STAGING PRODUCT VERSION BUILD_ID [ADMIN_PASSWORD_FILE]
# Make the base-files staging tree: the skeleton plus generated files.
# The admin hash is SHA-512 crypt with a salt derived from the version, so
# the same password file gives the same image; no file means "locked".
set -eu
staging=$1 product=$2 version=$3 build_id=$4 pwfile=${5:-}
here=$(dirname "$0")
rm -rf "$staging"
mkdir -p "$staging"
cp -a "$here/skeleton/." "$staging/"
cd "$staging"
mkdir -p dev proc sys run tmp mnt var/log var/lib var/tmp \
	boot lib usr/lib usr/bin usr/sbin bin sbin etc/rc.d
# The root slot is read-only (README.md, "What lives where"): what the node
# changes is reached through these links on the data partition (/var) or
# /run. Relative, so that tools reading the build tree stay inside it.
# Their factory defaults are in usr/share/factory (same layout as /var;
# passwd and group come from the skeleton), which rcS copies to /var when
# /var lacks them.
ln -s ../var/etc/passwd etc/passwd
ln -s ../var/etc/group etc/group
ln -s ../var/etc/shadow etc/shadow
ln -s ../var/etc/dropbear etc/dropbear
ln -s ../var/etc/space-cluster.conf etc/space-cluster.conf
ln -s ../run/resolv.conf etc/resolv.conf
ln -s var/home home
ln -s var/root root
factory=usr/share/factory
mkdir -p $factory/etc/dropbear $factory/home/admin $factory/root
echo "$product" > etc/hostname
cat > "etc/$product-release" <<REL
PRODUCT=$product
VERSION=$version
BUILD_ID=$build_id
REL
# os-release(5), for inventory and inspection tools: VERSION_ID is the
# release in the lower case the format asks for.
cat > etc/os-release <<REL
NAME="$product"
ID=$product
VERSION="$version"
VERSION_ID=$(printf '%s' "$version" | tr 'A-Z' 'a-z')
PRETTY_NAME="$product $version"
BUILD_ID=$build_id
VARIANT="network-management appliance"
VARIANT_ID=appliance
REL
if [ -n "$pwfile" ]; then
	[ -r "$pwfile" ] || { echo "mkbase: $pwfile: cannot read ADMIN_PASSWORD_FILE" >&2; exit 1; }
	salt=$(printf '%s' "$product-$version" | sha256sum | cut -c1-16)
	hash=$(head -n1 "$pwfile" | tr -d '\n' | openssl passwd -6 -salt "$salt" -stdin)
else
	hash='!'
fi
# root shares admin's password: it can log in on the console and admin can
# `su` to it; dropbear refuses root over the network.
# 19000: a fixed "last changed" day, so no account is forced to expire.
{
	echo "root:$hash:19000:0:99999:7:::"
	echo "admin:$hash:19000:0:99999:7:::"
	echo "sshd:*:19000:0:99999:7:::"
	echo "nobody:*:19000:0:99999:7:::"
} > $factory/etc/shadow
chmod 600 $factory/etc/shadow
