#!/bin/bash
# build.sh - `make bench` figures for the build pipeline:
#   - time to build the qcow2 from a warm package cache into a clean O=,
#     against a baseline in the same run: just unpacking the same pinned
#     .debs with dpkg-deb -x (the least any build from them must do);
#   - output sizes (apparent and allocated).
# Boot times are tests/bench/boot.sh's.
set -eu
: "${O:?}" "${TOP:?}"
cd "$TOP"
bo=$O/bench-build
rm -rf "$bo"
make -s fetch >/dev/null

t0=$(date +%s.%N)
make -s images O="$bo" VARIANT=e2e ADMIN_PASSWORD_FILE="$TOP/tests/e2e/admin-password.test" >/dev/null
t1=$(date +%s.%N)
build=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')

ux=$(mktemp -d)
t0=$(date +%s.%N)
for d in "${CACHE:-$HOME/.cache/space-build}"/debs/*.deb; do dpkg-deb -x "$d" "$ux"; done
t1=$(date +%s.%N)
unpack=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
rm -rf "$ux"
printf 'build: qcow2 from warm cache, clean O=: %.1f s (baseline dpkg-deb -x of the pins: %.1f s, ratio %.1fx)\n' \
	"$build" "$unpack" "$(awk -v a="$build" -v b="$unpack" 'BEGIN{print a/b}')"

for f in "$bo"/*.raw "$bo"/*.qcow2 "$bo"/*.ova; do
	printf 'size: %s: %s apparent, %s allocated\n' "$(basename "$f")" \
		"$(du -h --apparent-size "$f" | cut -f1)" "$(du -h "$f" | cut -f1)"
done
du -sh "$bo/system-e2e/rootfs" | awk '{print "size: root tree: " $1}'

rm -rf "$bo"
