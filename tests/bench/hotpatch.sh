#!/bin/bash
# hotpatch.sh - `make bench` figures for hot patches (issue 9), each against
# the baseline measured in the same VM and run: every service stopped by
# the watchdog and started again (`watchdogctl shutdown --hold`, release,
# until all are ready), which is the least a hot patch has to do.
#   - the total time of `sh patchme.sh` for v1 and for v2;
#   - the longest window a device client (on the host, PING every 50 ms,
#     reconnecting at once) had no session with the device gate; the goal
#     is under 3 s;
#   - the longest window the management API answered nothing (polled from
#     the host every 0.1 s).
# The VM part is tests/e2e/test_hotpatch.py (one QEMU VM, TCG, 1 vCPU, of
# the e2e image): its "# figures" line. The table goes to stdout and
# $O/bench-hotpatch.txt.
set -eu
: "${O:?}" "${TOP:?}"
cd "$TOP"
make -s e2e-image hotpatches >/dev/null
ver=$(cat VERSION)
product=${PRODUCT:-space}
logs=$O/bench-hotpatch
rm -rf "$logs" && mkdir -p "$logs"
set -- $(make -s print-hotpatches | awk '$1 == "v1" || $1 == "v2" { print $2 }')
[ $# = 2 ] || { echo "hotpatch bench: make print-hotpatches gives no v1 and v2"; exit 1; }
/usr/bin/python3 tests/e2e/test_hotpatch.py "$O/e2e/$product-$ver-kvm.qcow2" "$TOP/tests/e2e/admin-password.test" \
	"$1" "$2" "$logs" > "$logs/vm.log" 2>&1 || { cat "$logs/vm.log"; exit 1; }
sed -n 's/^# figures //p' "$logs/vm.log" | /usr/bin/python3 -c '
import json, sys
f = json.load(sys.stdin)
base = f["restart_s"]
print("figure\tvalue\tbaseline\tbaseline value\tratio")
def row(what, v):
    print("%s\t%.2f s\tservices restarted\t%.2f s\t%.2f" % (what, v, base, v / base))
for i, name in enumerate(("v1", "v2")):
    row("sh patchme.sh %s, total" % name, f["apply_s"][i])
    row("  device blocked window, %s (goal < 3 s)" % name, f["blocked_s"][i])
    row("  API unavailable, %s" % name, f["api_down_s"][i])
' | column -t -s "$(printf '\t')" | tee "$O/bench-hotpatch.txt" | sed 's/^/hotpatch: /'
