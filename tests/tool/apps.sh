#!/bin/bash
# apps.sh - applications and the running release (issue 7): application
# packages built with pkg build --app/--platform, installed into their own
# root (as /var/apps on the node), and a watchdog run against a release
# file and an application table. An application outside its platform
# range, or refused by the table, is not started and is reported with its
# reason (watchdogctl apps, text and JSON, and the log); installing a
# compatible version enables it at the watchdog's next start.
set -u
BIN=${BIN:-$(cd "$(dirname "$0")/../.." && pwd)/out/bin}
T=$(mktemp -d /tmp/apps-test.XXXXXX)
WD_PID=
cleanup() {
	[ -n "$WD_PID" ] && kill "$WD_PID" 2>/dev/null && wait "$WD_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
. "$(dirname "$0")/mgmt-lib.sh"
ctl() { "$BIN/watchdogctl" -s "$T/wd.sock" "$@"; }
APPS=$T/apps
mkdir -p "$T/conf" "$APPS"

# mkapp NAME VERSION PLATFORM|"" [TABLE-NAME]: an application package whose
# one service (NAME.conf) runs its own script from the application root
# and notes that it started.
mkapp() {
	local name=$1 ver=$2 plat=$3 s=$T/stage-$1-$2
	mkdir -p "$s/etc/watchdog.d" "$s/opt/$name"
	cat > "$s/opt/$name/run.sh" <<EOS
#!/bin/sh
echo "$name $ver" >> $T/started
exec sleep 1000
EOS
	chmod 755 "$s/opt/$name/run.sh"
	printf 'exec = %s/opt/%s/run.sh\n' "$APPS" "$name" > "$s/etc/watchdog.d/$name.conf"
	"$BIN/pkg" build --name "$name" --version "$ver" --app "$name" \
		${plat:+--platform "$plat"} "$s" "$T/$name-$ver.pkg"
}
install_apps() { "$BIN/pkg" --root "$APPS" install --no-chown "$@" >/dev/null; }
start_wd() {
	"$BIN/watchdog" -d "$T/conf" -s "$T/wd.sock" -H none -P "$T/hold" -l "$T/wd.log" \
		-a "$APPS" -r "$T/space-release" -C "$T/app-compat.conf" &
	WD_PID=$!
	wait_for 5 test -S "$T/wd.sock"
}
stop_wd() {
	ctl shutdown >/dev/null
	wait "$WD_PID"
	WD_PID=
}
started() { grep -qx "$1" "$T/started" 2>/dev/null; }

printf 'PRODUCT=space\nVERSION=21.3R2\nBUILD_ID=test\n' > "$T/space-release"
printf 'format = 1\ntab = 2.0 2.9\n' > "$T/app-compat.conf"
# a system service beside them (from the slot's /etc/watchdog.d)
printf 'exec = /bin/sh -c "echo sys >> %s/started; exec sleep 1000"\n' "$T" > "$T/conf/sys.conf"

check "pkg build of application packages" \
	sh -c "$(declare -f mkapp); T='$T' APPS='$APPS' BIN='$BIN'; mkapp good 1.0 '21.1 -' && mkapp old 1.0 '21.1 21.2' && mkapp tab 1.4 '' && mkapp old 2.0 '21.1 21.3' && mkapp tab 2.1 ''"
check "pkg info shows the application fields" \
	sh -c "'$BIN/pkg' info '$T/old-1.0.pkg' | grep -qx 'Platform: 21.1 21.2' && '$BIN/pkg' info '$T/old-1.0.pkg' | grep -qx 'App: old'"
check "install into the application root" install_apps "$T/good-1.0.pkg" "$T/old-1.0.pkg" "$T/tab-1.4.pkg"
check "pkg list of the application root shows them" \
	sh -c "'$BIN/pkg' --root '$APPS' list | grep -qx 'old 1.0-1 app old platform 21.1 21.2'"
# a definition no application package owns is not started either
printf 'exec = /bin/sh -c "echo stray >> %s/started; exec sleep 1000"\n' "$T" > "$APPS/etc/watchdog.d/stray.conf"

start_wd
check "the compatible application starts" wait_for 5 started "good 1.0"
check "the system service starts" wait_for 5 started sys
sleep 1
check "the application outside its platform range is not started" sh -c "! grep -q '^old' '$T/started'"
check "the application the release's table refuses is not started" sh -c "! grep -q '^tab' '$T/started'"
check "a definition of no application is not started" sh -c "! grep -q '^stray' '$T/started'"
check "status lists the started services only" \
	sh -c "ctl() { '$BIN/watchdogctl' -s '$T/wd.sock' \"\$@\"; }; ctl status | awk 'NR>1 {print \$1}' | sort | tr '\n' ' ' | grep -qx 'good sys '"
out=$(ctl apps); rc=$?
check "watchdogctl apps exits 1 while one is disabled (rc $rc)" test "$rc" = 1
check "apps: the platform reason" \
	grep -qx '  old 1.0: disabled: needs platform 21.1-21.2, running 21.3R2' <<< "$out"
check "apps: the table's reason" \
	grep -qx '  tab 1.4: disabled: release 21.3R2 supports tab 2.0-2.9, installed 1.4' <<< "$out"
check "apps: the compatible one is enabled" grep -qx '  good 1.0: enabled' <<< "$out"
check "apps: the count" grep -qx 'applications: 3 (2 disabled)' <<< "$out"
json=$(ctl --json apps)
check "apps --json" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
a = {x["name"]: x for x in d["applications"]}
assert d["running"] == "21.3R2"
assert a["old"]["state"] == "disabled" and a["old"]["platform"] == "21.1 21.2"
assert a["old"]["reason"] == "needs platform 21.1-21.2, running 21.3R2"
assert a["tab"]["reason"] == "release 21.3R2 supports tab 2.0-2.9, installed 1.4"
assert a["good"]["state"] == "enabled" and a["good"]["reason"] is None
assert a["good"]["services"] == ["good.conf"]
' "$json"
check "the log names each disabled application and why" \
	sh -c "grep -q 'application old (package old 1.0) disabled: needs platform 21.1-21.2, running 21.3R2' '$T/wd.log' && grep -q 'stray.conf: not part of an installed application (skipped)' '$T/wd.log'"

# compatible versions installed: enabled at the next start
check "install of compatible versions" install_apps "$T/old-2.0.pkg" "$T/tab-2.1.pkg"
check "nothing starts before the watchdog starts again" sh -c "sleep 0.5; ! grep -q '^old\|^tab' '$T/started'"
stop_wd
start_wd
check "old 2.0 starts" wait_for 5 started "old 2.0"
check "tab 2.1 starts" wait_for 5 started "tab 2.1"
out=$(ctl apps); rc=$?
check "watchdogctl apps exits 0 when all are enabled (rc $rc)" test "$rc" = 0
check "apps: all enabled" \
	test "$out" = "$(printf 'applications: 3 (0 disabled)\n  good 1.0: enabled\n  old 2.0: enabled\n  tab 2.1: enabled')"

# a release file that cannot be read: nothing can be said to fit, so no
# application starts (the system's services do)
stop_wd
: > "$T/started"
mv "$T/space-release" "$T/space-release.gone"
start_wd
check "no release file: the system service starts" wait_for 5 started sys
sleep 1
check "no release file: no application starts" test "$(grep -vc '^sys' "$T/started")" = 0
check "no release file: the reason" sh -c "'$BIN/watchdogctl' -s '$T/wd.sock' apps | grep -q '  good 1.0: disabled: running release unknown: $T/space-release: '"
stop_wd

# pkg build refuses what the release order cannot compare
check "pkg build: an application version outside the release grammar is refused" \
	sh -c "'$BIN/pkg' build --name x --version 1.4.1 --app x '$T/stage-good-1.0' '$T/x.pkg' 2>/dev/null; [ \$? = 100 ]"
check "pkg build: a platform that is not release versions is refused" \
	sh -c "'$BIN/pkg' build --name x --version 1.4 --app x --platform '21.x -' '$T/stage-good-1.0' '$T/x.pkg' 2>/dev/null; [ \$? = 100 ]"
check "pkg build: --platform without --app is refused" \
	sh -c "'$BIN/pkg' build --name x --version 1.4 --platform '21.1 -' '$T/stage-good-1.0' '$T/x.pkg' 2>/dev/null; [ \$? = 100 ]"
check "nothing was written" test ! -e "$T/x.pkg"

if ! done_testing; then
	cat "$T/wd.log"
	exit 1
fi
