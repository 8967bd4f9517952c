#!/bin/bash
# check-knobs.sh O CASE... - every knob that shapes an output rebuilds what
# it shapes and nothing else, and setting it back gives the old bytes.
#
# O is a build directory where `make images` has just run. For each CASE
# (password, disk, sign, cflags, version) it runs `make images` with the
# knob changed, checks which outputs were rebuilt (by modification time)
# against what the knob shapes, then runs `make images` with the knob back
# and checks the images are bit-identical to before: a plain `make` after
# `make ADMIN_PASSWORD_FILE=f` must not ship f's password (issue 12 #21).
set -eu
O=$1
shift
: "${TOP:?}"
cd "$TOP"
ver=$(cat VERSION)
fails=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; fails=$((fails + 1)); }

# Outputs and their times: objects, programs, packages, trees and images.
snapshot() {
	{
		find "$O/build" "$O/packages" -type f \( -name '*.o' -o -name '*.pkg' \)
		find "$O/bin" -type f
		ls "$O"/*/rootfs.stamp "$O"/*/disk.raw "$O"/*.raw "$O"/*.qcow2 "$O"/*.ova "$O"/*.img
	} 2>/dev/null | while read -r f; do printf '%s %s\n' "${f#"$O"/}" "$(stat -c %y "$f")"; done | sort
}
# The images of this version (another version's are other files).
images() { for f in "$O"/*-"$ver"[.-]*; do sha256sum "$f"; done | sed "s| $O/| |"; }
rebuilt() { comm -13 "$1" "$2" | cut -d' ' -f1; } # outputs new or newer in $2

# check CASE WANT_REGEX KEEP_REGEX ARGS...: with ARGS, exactly the outputs
# matching WANT are rebuilt (at least one), none matching KEEP.
check() {
	local name=$1 want=$2 keep=$3 before after list
	shift 3
	before=$(mktemp) after=$(mktemp)
	snapshot > "$before"
	images > "$before.img"
	sleep 1 # a second, so that a rebuild shows in the times
	if ! make -s images O="$O" "$@" > "$O/knobs-$name.log" 2>&1; then
		fail "$name: make images $* failed (log: $O/knobs-$name.log)"
		return
	fi
	snapshot > "$after"
	list=$(rebuilt "$before" "$after")
	if [ -z "$(grep -E "$want" <<<"$list")" ]; then
		fail "$name: $* rebuilt nothing it shapes ($want)"
	elif grep -Eq "$keep" <<<"$list"; then
		fail "$name: $* also rebuilt: $(grep -E "$keep" <<<"$list" | head -n5 | tr '\n' ' ')"
	else
		pass "$name: $* rebuilds $(grep -c . <<<"$list") outputs, none it does not shape"
	fi
	if ! make -s images O="$O" > "$O/knobs-$name-back.log" 2>&1; then
		fail "$name: make images with the knob back failed"
		return
	fi
	if images | cmp -s - "$before.img"; then
		pass "$name: with the knob back, the images are the old bytes again"
	else
		fail "$name: with the knob back, the images differ from before"
	fi
	rm -f "$before" "$before.img" "$after"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for c in "$@"; do
	case $c in
	password)
		echo "Knob-Test-Pw-1" > "$tmp/pw"
		check password 'base-files|\.raw|\.qcow2|\.ova' '\.o$|^bin/|packages/(mgmtd|pkg|linux-image|busybox)' \
			ADMIN_PASSWORD_FILE="$tmp/pw"
		;;
	disk)
		check disk '\.raw|\.qcow2|\.ova' '\.o$|^bin/|\.pkg$|rootfs' DISK_SIZE=9G
		;;
	sign)
		"$O/bin/mkova" pki --dir "$tmp/pki" >/dev/null
		check sign '\.ova$' '\.o$|^bin/|\.pkg$|rootfs|\.raw$|\.qcow2$' \
			SIGN_KEY="$tmp/pki/dev-signing.key" SIGN_CERT="$tmp/pki/dev-signing.pem" \
			SIGN_CHAIN="$tmp/pki/dev-intermediate-ca.pem" ROOT_CA="$tmp/pki/dev-root-ca.pem"
		;;
	cflags)
		check cflags '\.o$' 'packages/(busybox-static|libc6|linux-image)' CFLAGS="-O2 -fno-strict-aliasing"
		;;
	version)
		# A new version makes new image names; the old ones stay as they
		# were, and the pinned Debian conversions are not redone.
		check version "packages/(base-files|mgmtd|initramfs)" "\.o$|^bin/|packages/(busybox-static|libc6)|-$ver[.-]" \
			VERSION="${ver%.*}.99"
		rm -f "$O"/*-"${ver%.*}.99"*
		;;
	*) fail "unknown case $c" ;;
	esac
done
echo "# $fails failure(s)"
[ "$fails" = 0 ]
