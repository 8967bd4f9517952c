#!/bin/sh
# apply-fixes.sh SRC FIXDIR PLAN - apply the fixes a plan lists (`mkhotpatch
# plan`: "fix <id>" lines, in order) to the source copy SRC, each
# FIXDIR/<id>.patch with patch -p1 and no fuzz: a fix that does not apply
# exactly to this tree stops the build, naming it. Each patched file then
# gets the newer of its own time and the fix's, not the time of the run,
# so that the sub-make rebuilds only what a change of either touches; its
# directory keeps its time (patch replaces the file: a package's rule lists
# the directories of its files/ tree).
set -eu
src=$1 fixes=$2 plan=$3
for id in $(awk '$1 == "fix" { print $2 }' "$plan"); do
	fix=$fixes/$id.patch
	files=$(sed -n 's|^+++ b/\([^	]*\).*|\1|p' "$fix")
	[ -n "$files" ] || { echo "apply-fixes: $fix: no file to patch (want a -p1 diff, +++ b/PATH)" >&2; exit 1; }
	times=
	for f in $files; do
		[ -f "$src/$f" ] || { echo "apply-fixes: $fix: $f is not a file of the tree" >&2; exit 1; }
		times="$times $(stat -c %Y "$src/$f") $(stat -c %Y "$(dirname "$src/$f")")"
	done
	if ! out=$(patch -d "$src" -p1 -F0 -N --batch --no-backup-if-mismatch < "$fix" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "apply-fixes: fix $id does not apply to this tree: $fix" >&2
		exit 1
	fi
	fixtime=$(stat -c %Y "$fix")
	set -- $times
	for f in $files; do
		t=$1 dt=$2
		shift 2
		[ "$t" -ge "$fixtime" ] || t=$fixtime
		touch -d "@$t" "$src/$f"
		touch -d "@$dt" "$(dirname "$src/$f")"
	done
done
