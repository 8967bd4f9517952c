#!/bin/bash
# build.sh - `make bench` figures for the build pipeline:
#   - time to build the qcow2 from a warm package cache into a clean O=,
#     against a baseline in the same run: just unpacking the same pinned
#     .debs with dpkg-deb -x (the least any build from them must do);
#   - output sizes (apparent and allocated);
#   - boot-to-login time under TCG, SeaBIOS and OVMF.
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

for f in "$bo"/*.img "$bo"/*.qcow2; do
	printf 'size: %s: %s apparent, %s allocated\n' "$(basename "$f")" \
		"$(du -h --apparent-size "$f" | cut -f1)" "$(du -h "$f" | cut -f1)"
done
du -sh "$bo/kvm-e2e/rootfs" | awk '{print "size: root tree: " $1}'

cd tests/e2e
/usr/bin/python3 - "$bo"/*.qcow2 <<'PY'
import sys
from vm import VM
pw = open("admin-password.test").read().splitlines()[0]
times = {}
for fw in ("bios", "uefi"):
    vm = VM(sys.argv[1], firmware=fw, name=f"bench-{fw}")
    try:
        times[fw] = vm.login("admin", pw)
        vm.su(pw)
        vm.poweroff()
    finally:
        vm.close()
    print(f"boot: {fw}: power-on to serial login prompt {times[fw]:.1f} s (TCG, 1 vCPU)")
print(f"boot: OVMF/SeaBIOS ratio {times['uefi'] / times['bios']:.2f}")
PY
rm -rf "$bo"
