#!/bin/bash
# fabricd.sh - `make bench` figure for the fabric's virtual IP (issue 10):
# VIP takeover time, from the holder's death (its network namespace
# destroyed, so its addresses go with it, as with a node powered off) to
# the VIP on the second node's eth0, for takeover = 2 and 6 s, median of 5
# runs each, against the configured takeover time (the baseline: no
# takeover can be faster, since the holder must be silent that long).
# Two fabricd in network namespaces on a bridge (tests/tool/fabricd.sh
# --takeover-time does the runs). The table goes to stdout and
# $O/bench-fabricd.txt.
set -eu
: "${O:?}" "${TOP:?}"
BIN=${BIN:-$O/bin}
RUNS=5
unshare -rn true 2>/dev/null || { echo "fabricd bench: no network namespaces here (unshare -rn)"; exit 1; }
{
	printf 'figure\tmedian of %d\truns\tbaseline\tratio\n' "$RUNS"
	for t in 2 6; do
		runs=$(BIN=$BIN O=$O unshare -rnpf --mount-proc bash "$TOP/tests/tool/fabricd.sh" --takeover-time "$t" "$RUNS")
		[ "$(echo "$runs" | wc -l)" = "$RUNS" ] || { echo "fabricd bench: takeover $t: $runs" >&2; exit 1; }
		med=$(echo "$runs" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
		printf 'VIP takeover, takeover = %d s\t%.2f s\t%s\ttakeover %d s\t%.2f\n' "$t" "$med" \
			"$(echo $runs | tr ' ' ',')" "$t" "$(echo "$med $t" | awk '{ print $1 / $2 }')"
	done
} | column -t -s "$(printf '\t')" | tee "$O/bench-fabricd.txt" | sed 's/^/fabricd: /'
