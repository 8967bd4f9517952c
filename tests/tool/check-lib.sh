# tests/tool/check-lib.sh - TAP lines that count failures and go on (sourced
# by growdata.sh and nicname.sh, after they set W, their work directory):
#   pass WHAT / fail WHAT       one line; fail counts into $fails
#   check WHAT CMD...           CMD succeeds (its output shown when not)
#   expect_rc WHAT RC CMD...    CMD exits RC (its output in $W/out, shown when not)
fails=0
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { local what=$1; shift; if "$@" >"$W/check.out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/#   /' "$W/check.out"; fi; }
expect_rc() {
	local what=$1 want=$2 rc=0; shift 2
	"$@" >"$W/out" 2>&1 || rc=$?
	if [ "$rc" = "$want" ]; then pass "$what"; else fail "$what (exit $rc, want $want)"; sed 's/^/#   /' "$W/out"; fi
}
