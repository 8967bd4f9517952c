#!/bin/bash
# fabric.sh - `make bench` figures for the fabric (issue 10), from one run of
# tests/e2e/test_fabric.py (two TCG VMs, 1 vCPU each, of the e2e image):
#   - the v2 hot patch of the whole fabric from the VIP node, against the
#     sum of the nodes' own applies in the same run (the baseline: what
#     patching each node by hand would cost at least);
#   - the longest window a device client (on the host, on each node, PING
#     every 50 ms) had no session with its node's gate, against the same
#     baseline (every gate stays blocked until all nodes are patched);
#   - the VIP takeover time (the VIP node killed -> the address on the
#     other node, seen by polling from the test), against the configured
#     takeover time (4 s).
# The table goes to stdout and $O/bench-fabric.txt.
set -eu
: "${O:?}" "${TOP:?}"
cd "$TOP"
make -s e2e-image hotpatches e2e-upgrade-images >/dev/null
ver=$(cat VERSION)
product=${PRODUCT:-space}
logs=$O/bench-fabric
rm -rf "$logs" && mkdir -p "$logs"
set -- $(make -s print-hotpatches | awk '$1 == "v1" || $1 == "v2" { print $2 }')
[ $# = 2 ] || { echo "fabric bench: make print-hotpatches gives no v1 and v2"; exit 1; }
/usr/bin/python3 tests/e2e/test_fabric.py "$O/e2e/$product-$ver-kvm.qcow2" "$TOP/tests/e2e/admin-password.test" \
	"$1" "$2" "$O/upgrade-broken/$product-${E2E_NEXT_VERSION:-21.3R2}.img" \
	"$logs" > "$logs/vm.log" 2>&1 || { cat "$logs/vm.log"; exit 1; }
sed -n 's/^# figures //p' "$logs/vm.log" | /usr/bin/python3 -c '
import json, sys
f = json.load(sys.stdin)
print("figure\tvalue\tbaseline\tbaseline value\tratio")
def row(what, v, bname, b):
    print("%s\t%.2f s\t%s\t%.2f s\t%.2f" % (what, v, bname, b, v / b))
row("fabric hot patch v2, 2 nodes", f["fabric_s"], "sum of the nodes own applies", f["nodes_s"])
row("longest device blocked window", f["blocked_s"], "sum of the nodes own applies", f["nodes_s"])
row("VIP takeover", f["takeover_s"], "configured takeover", f["takeover_conf_s"])
' | column -t -s "$(printf '\t')" | tee "$O/bench-fabric.txt" | sed 's/^/fabric: /'
