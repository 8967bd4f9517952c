#!/bin/bash
# check-initrd.sh IMG ROOTFS DRACUT_BASE KVER DRIVERS - the appliance's
# initramfs (rootfs/mkinitrd.sh) holds only what we chose, and the same
# bytes whatever else the host has and whoever builds it:
#   1. its content list is exactly the expected set: /init (init.sh),
#      busybox (a copy of the tree's, 0755) and its applet links, the
#      DRIVERS and what they depend on (copies of the tree's modules, each
#      one a driver or needed by one), dracut's depmod indexes and records,
#      its skeleton; every entry owned 0:0, no setuid/setgid bit;
#   2. built again from the same tree on a host with more on it (a fake
#      fsck.btrfs, mkfs.xfs and ldd first on PATH; inside a mount
#      namespace, when one can be made, a /etc/dracut.conf.d that adds
#      fsck helpers and install items and a /etc/ld.so.conf.d entry), it
#      is the same bytes;
#   3. built again as an ordinary user (nobody) when run as root, it is
#      the same bytes.
# TAP lines; exit 1 when any check fails.
set -u -o pipefail
[[ $# -eq 5 ]] || { echo "usage: check-initrd.sh IMG ROOTFS DRACUT_BASE KVER DRIVERS" >&2; exit 100; }
img=$1 tree=$2 base=$3 kver=$4 drivers=$5
top=$(cd "$(dirname "$0")/../.." && pwd)
fail=0
ok() { echo "ok - initramfs: $*"; }
bad() { echo "not ok - initramfs: $*"; fail=1; }
work=$(mktemp -d /tmp/check-initrd.XXXXXX)
trap 'rm -rf "$work"' EXIT
[[ -n ${SOURCE_DATE_EPOCH:-} ]] || { echo "check-initrd.sh: SOURCE_DATE_EPOCH must be set (the build's)" >&2; exit 100; }
export SOURCE_DATE_EPOCH

# ------------------------------------------------------------ 1. the list
# "TYPE+MODE UID GID PATH [-> TARGET]" of every entry
gzip -dc "$img" | cpio -itv --numeric-uid-gid --quiet |
	awk '{ n = $9; for (i = 10; i <= NF; i++) n = n " " $i; print $1, $3, $4, n }' > "$work/list"
mkdir "$work/x" && gzip -dc "$img" | (cd "$work/x" && cpio -id --quiet 2>/dev/null)
[[ -s $work/list ]] || { bad "cannot list $img"; exit 1; }

awk '$2 != 0 || $3 != 0' "$work/list" > "$work/owners"
[[ -s $work/owners ]] && bad "entries not owned by 0:0: $(head -3 "$work/owners" | tr '\n' ';')" ||
	ok "every entry owned by 0:0"
awk '$1 ~ /[sStT]/' "$work/list" > "$work/suid"
[[ -s $work/suid ]] && bad "setuid/setgid/sticky entries: $(head -3 "$work/suid" | tr '\n' ';')" ||
	ok "no setuid, setgid or sticky bit"

# The modules: DRIVERS, then what the present ones need (modules.dep, and
# softdeps resolved through the tree's aliases), as the tree has them.
mods=$tree/lib/modules/$kver
modpath() { # NAME -> path relative to $mods, via modules.dep
	local n=${1//-/_}
	awk -F: -v n="$n" '{ b = $1; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b); gsub(/-/, "_", b);
		if (b == n) { print $1; exit } }' "$mods/modules.dep"
}
declare -A want=()
queue=()
for d in $drivers; do
	p=$(modpath "$d")
	[[ -n $p ]] || { bad "driver $d is not in the tree's modules.dep"; continue; }
	queue+=("$p")
done
while ((${#queue[@]})); do
	p=${queue[0]} queue=("${queue[@]:1}")
	[[ -n ${want[$p]:-} ]] && continue
	want[$p]=1
	for dep in $(awk -F: -v p="$p" '$1 == p { print $2 }' "$mods/modules.dep"); do queue+=("$dep"); done
	name=${p##*/} name=${name%%.ko*}
	for sd in $(/sbin/modinfo -b "$tree" -k "$kver" -F softdep "$name" 2>/dev/null | tr ' ' '\n' | grep -v ':$'); do
		for a in $(awk -v a="$sd" '$1 == "alias" && $2 == a { print $3 }' "$mods/modules.alias") $sd; do
			q=$(modpath "$a") && [[ -n $q ]] && queue+=("$q")
		done
	done
done

# Links and directories of dracut's skeleton (059, --no-hostonly, our
# module alone): anything new here is a change to look at.
skeleton_links=' bin->usr/bin lib->usr/lib lib64->usr/lib64 sbin->usr/sbin var/run->../run '
skeleton_links+='var/lock->../run/lock usr/sbin/modprobe->../bin/busybox '
declare -A applets=()
for a in $("$tree/bin/busybox" --list); do applets[$a]=1; done

while read -r mode _ _ path rest; do
	p=${path#./}
	case $mode in
	d*) continue ;; # checked below: only parents of what is expected
	l*)
		t=${rest#-> }
		if [[ $p == usr/bin/* && $t == busybox && -n ${applets[${p#usr/bin/}]:-} ]]; then :
		elif [[ $skeleton_links == *" $p->$t "* ]]; then :
		else bad "unexpected link $p -> $t"; fi
		continue ;;
	-*) ;;
	*) bad "unexpected entry $mode $p"; continue ;;
	esac
	case $p in
	init) cmp -s "$work/x/$p" "$top/rootfs/dracut/90space-boot/init.sh" || bad "/init is not init.sh" ;;
	usr/bin/busybox)
		cmp -s "$work/x/$p" "$tree/bin/busybox" || bad "busybox is not the tree's"
		[[ $mode == -rwxr-xr-x ]] || bad "busybox has mode $mode, not -rwxr-xr-x" ;;
	usr/lib/modules/$kver/modules.*) ;; # dracut's depmod of what it installed
	usr/lib/modules/$kver/*)
		r=${p#usr/lib/modules/$kver/}
		if [[ -z ${want[$r]:-} ]]; then bad "module $r: neither a driver nor needed by one"
		elif ! cmp -s "$work/x/$p" "$mods/$r"; then bad "module $r differs from the tree's"
		else unset "want[$r]"; fi ;;
	usr/lib/dracut/modules.txt) [[ $(cat "$work/x/$p") == space-boot ]] || bad "dracut modules: $(cat "$work/x/$p" | tr '\n' ' ')" ;;
	usr/lib/dracut/build-parameter.txt) ;;
	*) bad "unexpected file $p (from the build host?)" ;;
	esac
done < "$work/list"
((${#want[@]} == 0)) || bad "modules missing: ${!want[*]}"
# directories: each one a parent of an expected entry, or of the skeleton
skeleton_dirs=' . dev etc etc/cmdline.d nonexistent proc root run sys sysroot tmp usr usr/lib64 usr/sbin var var/tmp '
while read -r mode _ _ path _; do
	[[ $mode == d* ]] || continue
	p=${path#./}
	[[ $skeleton_dirs == *" $p "* || $p == usr/lib/dracut/hooks* ]] && continue
	grep -q "^[^d][^ ]* 0 0 \./$p/" "$work/list" || grep -q "^[^d][^ ]* 0 0 $p/" "$work/list" ||
		bad "unexpected directory $p"
done < "$work/list"
((fail)) || ok "content is exactly the expected set ($(wc -l < "$work/list") entries)"

# ------------------------------------------------------------ 2., 3. again
# $work/run/rootfs.tmp is the tree, as mkinitrd.sh finds it in the build.
mkdir -p "$work/run" "$work/urun" "$work/tmp" "$work/fake/bin" "$work/fake/conf.d" "$work/fake/ld.so.conf.d"
ln -s "$tree" "$work/run/rootfs.tmp"
ln -s "$tree" "$work/urun/rootfs.tmp"
for t in fsck.btrfs fsck.xfs mkfs.xfs xfs_db; do
	printf '#!/bin/sh\nexit 0\n' > "$work/fake/bin/$t"
done
printf '#!/bin/sh\necho "\tlibfake.so.1 => /usr/lib/libfake.so.1 (0x0)"\n' > "$work/fake/bin/ldd"
chmod 0755 "$work/fake/bin"/*
printf '%s\n' 'fscks+=" fsck.btrfs fsck.xfs "' "install_items+=\" $work/fake/bin/fsck.btrfs \"" \
	'add_drivers+=" btrfs xfs "' 'filesystems+=" btrfs "' > "$work/fake/conf.d/90-btrfs.conf"
echo /opt/fake/lib > "$work/fake/ld.so.conf.d/zz-fake.conf"
build() { # DIR OUT: mkinitrd.sh as the build runs it, in DIR
	(cd "$1" && shift && sh "$top/rootfs/mkinitrd.sh" "$base" "$top" "$kver" "$drivers" "$1")
}
export -f build
export work top base kver drivers

# the host's config directories replaced inside a private mount namespace
ns=
for u in "unshare -m" "unshare -rm"; do
	$u true 2>/dev/null && { ns=$u; break; }
done
if [[ -n $ns ]]; then
	$ns bash -c 'mount --bind "$work/fake/conf.d" /etc/dracut.conf.d 2>/dev/null || exit 3
		mount --bind "$work/fake/ld.so.conf.d" /etc/ld.so.conf.d || exit 3
		PATH=$work/fake/bin:$PATH build "$work/run" "$work/host.img"' > "$work/host.log" 2>&1
	rc=$?
else
	rc=3
fi
if [[ $rc == 3 ]]; then
	# no namespace (or no /etc/dracut.conf.d to cover): PATH only
	PATH=$work/fake/bin:$PATH build "$work/run" "$work/host.img" > "$work/host.log" 2>&1
	rc=$?
	what="a fake fsck.btrfs, mkfs.xfs and ldd on PATH (no mount namespace: host config not covered)"
else
	what="a fake fsck.btrfs, mkfs.xfs and ldd on PATH, a dracut.conf.d adding them, an ld.so.conf.d entry"
fi
if ((rc)); then bad "rebuild with $what failed: $(tail -3 "$work/host.log")"
elif cmp -s "$img" "$work/host.img"; then ok "same bytes built with $what"
else bad "differs when built with $what"; fi

if [[ $(id -u) == 0 ]]; then
	chmod 0777 "$work/urun" "$work/tmp" && chmod 0755 "$work"
	if ! setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$tree/bin/busybox"; then
		echo "ok - initramfs: the tree $tree is not readable by uid 65534 (a checkout in root's home): the non-root rebuild does not run # SKIP"
	elif setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent bash -c \
		'build "$work/urun" "$work/urun/user.img"' > "$work/user.log" 2>&1; then
		cmp -s "$img" "$work/urun/user.img" && ok "same bytes built as root and as nobody" ||
			bad "differs built as nobody (uid 65534) and as root"
	else
		bad "rebuild as nobody failed: $(tail -3 "$work/user.log")"
	fi
else
	echo "ok - initramfs: built as uid $(id -u): the root/non-root comparison runs as root # SKIP"
fi
exit $fail
