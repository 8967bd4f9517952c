# mgmt-lib.sh - helpers sourced by the management-service tool tests
# (watchdog.sh, mgmtd.sh, spacectl.sh): TAP-ish reporting and polling.
fails=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
# wait_for SECONDS COMMAND...: poll every 0.1 s until the command succeeds
wait_for() {
	local n=$(($1 * 10)); shift
	while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
	return 1
}
