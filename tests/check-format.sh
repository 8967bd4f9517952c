#!/bin/sh
# SPDX-License-Identifier: MIT
# check-format.sh [--fix] [FILE...] - are the C files laid out as
# .clang-format says? FILE...: these (paths from the top of the tree);
# default every tracked *.c and *.h.
# Prints each file that differs, how many of its lines, and the start of
# the change (a unified diff, FORMAT_SHOW lines, default 12), then the
# command that fixes them. --fix rewrites the files in place instead
# (`make format`). CLANG_FORMAT names the program (default clang-format;
# the CI's is Debian 12's, 14.0.6).
# Exit status: 0 laid out, 1 a file differs, 100 usage, 111 clang-format
# missing or failing.
set -eu
cd "$(dirname "$0")/.."
cf=${CLANG_FORMAT:-clang-format}
show=${FORMAT_SHOW:-12}
fix=0
case ${1-} in
--fix) fix=1; shift ;;
-*) echo "usage: check-format.sh [--fix] [FILE...]" >&2; exit 100 ;;
esac
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "check-format: $cf not found (Debian 12: apt-get install clang-format)" >&2
	exit 111
fi
[ -f .clang-format ] || { echo "check-format: no .clang-format at $(pwd)" >&2; exit 111; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $# -gt 0 ]; then
	printf '%s\n' "$@"
elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -- '*.c' '*.h'
else
	find image installer pkg tests -name '*.[ch]' | sort
fi | while IFS= read -r f; do
	# a tracked file deleted in the work tree is no longer ours to check
	if [ -f "$f" ]; then printf '%s\n' "$f"; fi
done > "$tmp/files"
[ -s "$tmp/files" ] || { echo "check-format: no C files" >&2; exit 0; }

if [ $fix = 1 ]; then
	xargs -d '\n' "$cf" --style=file -i < "$tmp/files" || exit 111
	exit 0
fi

# One run over every file names those that differ (one error each); a
# second run on each of them shows how.
rc=0
xargs -d '\n' "$cf" --style=file --dry-run --Werror --ferror-limit=1 < "$tmp/files" \
	> "$tmp/out" 2>&1 || rc=$?
sed -n 's/^\(.*\):[0-9]*:[0-9]*: error: code should be clang-formatted.*/\1/p' "$tmp/out" | uniq > "$tmp/bad"
if [ ! -s "$tmp/bad" ]; then
	[ $rc = 0 ] || { cat "$tmp/out" >&2; echo "check-format: $cf failed" >&2; exit 111; }
	echo "check-format: $(wc -l < "$tmp/files") files laid out as .clang-format says"
	exit 0
fi
while IFS= read -r f; do
	"$cf" --style=file "$f" > "$tmp/new" || exit 111
	diff -u "$f" "$tmp/new" > "$tmp/diff" || true
	n=$(sed -n '3,$p' "$tmp/diff" | grep -c '^-' || true)
	[ "$n" = 1 ] && lines=line || lines=lines
	echo "check-format: $f: $n $lines differ"
	sed -n "3,$((show + 2))p" "$tmp/diff"
done < "$tmp/bad"
echo "check-format: $(wc -l < "$tmp/bad") of $(wc -l < "$tmp/files") files differ from .clang-format" \
	"($("$cf" --version | sed 's/.*version \([^ ]*\).*/\1/')); make format rewrites them"
exit 1
