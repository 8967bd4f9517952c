#!/bin/sh
# buildrecord.sh TOP LOCK RECORD OUTPUT... - writes the text of the build
# record (image/record.mk) to RECORD: KEY = VALUE lines, sorted by kind,
# nothing that depends on when, where or by whom it was built. Knob values
# come from the environment variables named in RECORD_KNOBS.
set -eu
[ $# -ge 4 ] || { echo "usage: buildrecord.sh TOP LOCK RECORD OUTPUT..." >&2; exit 100; }
top=$1 lock=$2 rec=$3
shift 3
# The host tools whose versions shape the outputs.
HOST_TOOLS="dracut-core grub-common grub-pc-bin grub-efi-amd64-bin e2fsprogs xorriso dosfstools mtools
	qemu-utils gcc libc6"

hash() { sha256sum < "$1" | cut -c1-64; }
{
	echo "# ${rec##*/}: what made these outputs (image/record.mk); check it with"
	echo "# ova-verify --signed, rebuild it with make check-rebuild RECORD=<this file>"
	echo "format = 1"
	if commit=$(git -C "$top" rev-parse --verify -q HEAD 2>/dev/null); then
		# untracked files count: a new module.mk joins the build
		if [ -z "$(git -C "$top" status --porcelain 2>/dev/null)" ]; then tree=clean; else tree=dirty; fi
	else
		commit=unknown tree=unknown
	fi
	echo "commit = $commit"
	echo "tree = $tree"
	echo "source_date_epoch = $SOURCE_DATE_EPOCH"
	echo "debs.lock.sha256 = $(hash "$lock")"
	for p in $HOST_TOOLS; do
		v=$(dpkg-query -W -f='${Version}\n' "$p" 2>/dev/null | head -n 1)
		echo "host.$p = ${v:-none}"
	done
	for k in $RECORD_KNOBS; do
		eval "v=\${$k-}"
		echo "knob.$k = $v"
	done
	for f in "$@"; do
		echo "sha256.${f##*/} = $(hash "$f")"
	done
} > "$rec.tmp"
mv "$rec.tmp" "$rec"
