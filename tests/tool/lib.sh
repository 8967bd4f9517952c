# tests/tool/lib.sh - the one TAP helper file of the tool tests: every
# tests/tool/*.sh sources it first (mgmt-lib.sh and tamper-lib.sh source
# it for theirs). Points are numbered; the plan comes last.
#   pass WHAT / fail WHAT       one point; fail counts into $fails and goes on
#   die WHAT                    a failed point that ends the script (the
#                               steps after it depend on what failed)
#   skip WHAT                   a point not run, and why ("ok N # SKIP WHAT")
#   check WHAT CMD...           CMD succeeds (its output shown when not)
#   expect_rc WHAT RC CMD...    CMD exits RC: its stdout then stderr in
#                               $TAP_DIR/out, stderr alone in $TAP_DIR/err
#                               (shown when not)
#   is WHAT GOT WANT            two values are equal (both shown when not)
#   done_testing                the plan and a summary line; returns 1 if
#                               any point failed (a script ends with it)
# TAP_DIR is the script's work directory: $W, else $T, when a helper runs.
# n (points so far) and fails are the counters: a script names nothing else
# so (a loop's variable too).
n=0 fails=0
pass() { n=$((n + 1)); echo "ok $n - $*"; }
fail() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $*"; }
die() { fail "$@"; exit 1; } # no plan: the harness sees the run end early
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
tap_dir() { echo "${TAP_DIR:-${W:-$T}}"; }
check() {
	local what=$1 d; shift
	d=$(tap_dir)
	if "$@" >"$d/check.out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/#   /' "$d/check.out"; fi
}
expect_rc() {
	local what=$1 want=$2 rc=0 d; shift 2
	d=$(tap_dir)
	"$@" >"$d/out" 2>"$d/err" || rc=$?
	cat "$d/err" >>"$d/out"
	if [ "$rc" = "$want" ]; then pass "$what"; else fail "$what (exit $rc, want $want)"; sed 's/^/#   /' "$d/out"; fi
}
is() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; echo "#   got '$2', want '$3'"; fi
}
done_testing() {
	echo "1..$n"
	if [ "$fails" = 0 ]; then echo "# ${0##*/}: all $n passed"; else echo "# ${0##*/}: $fails of $n failed"; return 1; fi
}
