#!/bin/bash
# tests/tool/exitcodes.sh - every tool keeps the one exit-code contract
# (README.md "Exit codes", pkg/lib/exitcode.h): 100 for a usage error,
# 1 for refused input, 111 for a file that cannot be read, each failure
# one line "prog: verb object: reason" on stderr; and each --help says so.
set -u
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# want CODE NAME CMD...: CMD exits CODE; unless CODE is 100 (usage text),
# stderr is one line starting with the tool's name.
want() {
	local code=$1 name=$2 rc prog a
	shift 2
	for a in "$@"; do # the tool: the first argument under $BIN
		case $a in "$BIN"/*) prog=${a##*/}; break ;; esac
	done
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ "$rc" != "$code" ]; then
		fail "$name: exit $rc, want $code: $(head -3 "$T/err")"
	elif [ "$code" != 100 ] && ! { [ "$(wc -l <"$T/err")" = 1 ] && grep -q "^$prog: " "$T/err"; }; then
		fail "$name: exit $rc, but stderr is not one '$prog: ...' line: $(cat "$T/err")"
	else
		pass "$name (exit $rc${code:+: $(head -1 "$T/err")})"
	fi
}

# help NAME CMD...: the help text (stdout or stderr) points at the README.
help() {
	local name=$1
	shift
	if "$@" 2>&1 | tr '\n' ' ' | grep -q 'README.md, Exit codes'; then
		pass "$name --help points at README.md, Exit codes"
	else
		fail "$name --help does not point at README.md, Exit codes"
	fi
}

head -c 65536 /dev/urandom >"$T/junk"
printf 'junk\n' >"$T/bad.hw"
printf 'garbage\n' >"$T/bad.lock"
NX=$T/nonexistent

# --- pkg
want 100 "pkg: unknown verb" "$BIN/pkg" frobnicate
mkdir -p "$T/root"
want 1 "pkg: a package that is not one is refused" "$BIN/pkg" --root "$T/root" install "$T/junk"
want 111 "pkg: a package that cannot be read" "$BIN/pkg" --root "$T/root" install "$NX.pkg"
help pkg "$BIN/pkg" --help

# --- space-install
want 100 "space-install: unknown option" "$BIN/space-install" --frobnicate
want 111 "space-install: a medium that cannot be read" "$BIN/space-install" --medium "$NX" --work "$T/si"
mkdir -p "$T/medium" && printf 'format = 1\nimage = ../etc/passwd\n' >"$T/medium/.space-medium"
want 1 "space-install: a medium naming no plain image" "$BIN/space-install" --medium "$T/medium" --work "$T/si"
help space-install "$BIN/space-install" --help

# --- mkova
want 100 "mkova: build without arguments" "$BIN/mkova" build
want 1 "mkova: a malformed hardware file is refused" \
	"$BIN/mkova" build --raw "$T/junk" --hw "$T/bad.hw" --out "$T/o" --version 21.3R1 --key k --cert c
want 111 "mkova: a hardware file that cannot be read" \
	"$BIN/mkova" build --raw "$T/junk" --hw "$NX.hw" --out "$T/o" --version 21.3R1 --key k --cert c
help mkova "$BIN/mkova" --help

# --- mksums
want 100 "mksums: no file to list" "$BIN/mksums" --out "$T/l.sha256sums" --key k --cert c
want 1 "mksums: a signing key that is not one is refused" \
	"$BIN/mksums" --out "$T/l.sha256sums" --key "$T/junk" --cert "$T/junk" "$T/junk"
want 111 "mksums: a signing key that cannot be read" \
	"$BIN/mksums" --out "$T/l.sha256sums" --key "$NX.key" --cert c "$T/junk"
help mksums "$BIN/mksums" --help

# --- ova-verify
want 100 "ova-verify: unknown option" "$BIN/ova-verify" --bogus
# INVALID is the report on stdout, not an error line
"$BIN/ova-verify" --no-chain "$T/junk" >"$T/out" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q 'INVALID' "$T/out"; then pass "ova-verify: random bytes are INVALID (exit 1)"
else fail "ova-verify: random bytes: exit $rc, want 1 and INVALID: $(cat "$T/out")"; fi
want 111 "ova-verify: a package that cannot be read" "$BIN/ova-verify" --no-chain "$NX.ova"
help ova-verify "$BIN/ova-verify" --help

# --- vmdk
want 100 "vmdk: unknown verb" "$BIN/vmdk" frobnicate
want 1 "vmdk: random bytes are not a VMDK" "$BIN/vmdk" info "$T/junk"
want 111 "vmdk: a VMDK that cannot be read" "$BIN/vmdk" info "$NX.vmdk"
help vmdk "$BIN/vmdk" --help

# --- mkrelease
want 100 "mkrelease: unknown verb" "$BIN/mkrelease" frobnicate
want 1 "mkrelease: not a release version" "$BIN/mkrelease" compare x 21.3R1
want 1 "mkrelease: path answers no (a negative answer)" \
	"$BIN/mkrelease" path --paths "$TOP/image/release/upgrade-paths.conf" 21.3R2 21.3R1
want 111 "mkrelease: a path matrix that cannot be read" "$BIN/mkrelease" path --paths "$NX.conf" 21.1R1 21.3R1
help mkrelease "$BIN/mkrelease" --help

# --- debs
want 100 "debs: unknown command" "$BIN/debs" frobnicate
want 1 "debs: a malformed lock is refused" "$BIN/debs" list --lock "$T/bad.lock"
want 111 "debs: a lock that cannot be read" "$BIN/debs" list --lock "$NX.lock"
help debs "$BIN/debs" --help

# --- mkimage
want 100 "mkimage: unknown verb" "$BIN/mkimage" frobnicate
want 1 "mkimage: random bytes have no valid GPT" "$BIN/mkimage" layout "$T/junk"
want 111 "mkimage: a disk that cannot be read" "$BIN/mkimage" layout "$NX.raw"
help mkimage "$BIN/mkimage" --help

# --- growdata
want 100 "growdata: no disk" "$BIN/growdata"
want 1 "growdata: random bytes have no valid GPT" "$BIN/growdata" --no-fs "$T/junk"
want 111 "growdata: a disk that cannot be opened" "$BIN/growdata" --no-fs "$NX.raw"
help growdata "$BIN/growdata" --help

# --- nicname
want 100 "nicname: unknown option" "$BIN/nicname" --bogus
printf 'ja2500 eth0\n' > "$T/nicname.conf"
want 1 "nicname: a table line without a path" "$BIN/nicname" --dry-run -c "$T/nicname.conf"
want 111 "nicname: a table that cannot be read" "$BIN/nicname" --dry-run -c "$NX.conf"
help nicname "$BIN/nicname" --help

# --- spacectl, watchdogctl: a daemon that cannot be reached is 111
want 100 "spacectl: unknown command" "$BIN/spacectl" frobnicate
want 111 "spacectl: the watchdog cannot be reached" env WATCHDOG_SOCKET="$NX.sock" "$BIN/spacectl" --root "$T" show services
help spacectl "$BIN/spacectl" --help
want 100 "spacectl fabric: unknown verb" "$BIN/spacectl" fabric frobnicate
want 1 "spacectl fabric: show on a node in no fabric" "$BIN/spacectl" --root "$T" fabric show
want 1 "spacectl fabric: init with a malformed --vip" "$BIN/spacectl" --root "$T" fabric init --vip 10.9.0.300/24
help "spacectl fabric" "$BIN/spacectl" fabric --help

# --- fabric-agent
want 100 "fabric-agent: unknown verb" "$BIN/fabric-agent" frobnicate
want 100 "fabric-agent: a peer's shell command" env SSH_ORIGINAL_COMMAND="sh -c id" "$BIN/fabric-agent"
want 1 "fabric-agent: accept of a key that is no ed25519 key" sh -c 'echo ssh-rsa AAAA | "$1" --root "$2" accept n1' sh "$BIN/fabric-agent" "$T"
want 111 "fabric-agent: keys-put on a root it cannot write" sh -c ': | "$1" --root /proc/1 keys-put' sh "$BIN/fabric-agent"
help fabric-agent "$BIN/fabric-agent" --help

# --- fabricd (a daemon: its log is its stderr; usage 100)
want 100 "fabricd: unknown option" "$BIN/fabricd" --bogus
help fabricd "$BIN/fabricd" --help
want 100 "watchdogctl: unknown command" "$BIN/watchdogctl" frobnicate
want 111 "watchdogctl: the watchdog cannot be reached" "$BIN/watchdogctl" -s "$NX.sock" status
help watchdogctl "$BIN/watchdogctl" -h

# --- the daemons: usage only (started with a bad configuration they would
# run, or write to /etc; their 111 "cannot start" is in their own tests)
want 100 "watchdog: unknown option" "$BIN/watchdog" -Z
help watchdog "$BIN/watchdog" -h
want 100 "devgate: unknown option" "$BIN/devgate" -Z
want 100 "devgate: a port that is not one" "$BIN/devgate" -p 0
help devgate "$BIN/devgate" -h
want 100 "mgmtd: unknown option" "$BIN/mgmtd" --bogus
help mgmtd "$BIN/mgmtd" --help

done_testing
