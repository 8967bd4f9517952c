#!/bin/bash
# check-rebuild.sh RECORD REPO CACHE OVA_VERIFY CA_ARGS MAKE - make
# check-rebuild (image/record.mk): rebuild what a build record describes
# and compare. The record's signature is checked first (ova-verify
# --signed); its commit is cloned from REPO into a temporary directory (a
# path of its own: the outputs must not depend on where the checkout is)
# and built there with the record's SOURCE_DATE_EPOCH and knobs into a
# temporary O= sharing CACHE; then every output's sha256 and every host
# tool version is compared with the record. Prints one line per output
# that differs, per host tool that differs, then "identical" or how many
# differ. Environment: sign_args, pw_arg (make arguments for the signing
# keys and the password file, as given to make check-rebuild).
# Exit 0 identical, 1 differs or the record is refused, 111 failure.
set -u -o pipefail
prog=check-rebuild
[[ $# -eq 6 ]] || { echo "usage: check-rebuild.sh RECORD REPO CACHE OVA_VERIFY CA_ARGS MAKE" >&2; exit 100; }
record=$1 repo=$2 cache=$3 verify=$4 ca_args=$5 make=$6
refuse() { echo "$prog: record $record: $*" >&2; exit 1; }
fail() { echo "$prog: $*" >&2; exit 111; }

[[ -r $record ]] || fail "read $record: cannot read it"
# shellcheck disable=SC2086 # CA_ARGS is "--ca FILE" or "--no-chain"
"$verify" $ca_args --signed "$record" > /dev/null || {
	"$verify" $ca_args --signed "$record" | grep -v '^ok' >&2
	refuse "signature not valid (ova-verify --signed)"
}
# The record is trusted from here; still, only the expected shape is read.
bad=$(grep -v -E '^(#.*|[A-Za-z][A-Za-z0-9._+-]* = [ -~]*)$' "$record" | head -n 1)
[[ -z $bad ]] || refuse "not a KEY = VALUE line: $bad"
get() { sed -n "s/^$(printf '%s' "$1" | sed 's/[.[\*^$]/\\&/g') = //p" "$2" | head -n 1; }
[[ $(get format "$record") == 1 ]] || refuse "format is not 1"
commit=$(get commit "$record") tree=$(get tree "$record") sde=$(get source_date_epoch "$record")
[[ $commit =~ ^[0-9a-f]{40}$ ]] || refuse "commit '$commit': not a commit id: nothing to rebuild from"
[[ $tree == clean ]] || refuse "built from a $tree tree: its sources are in no commit"
[[ $sde =~ ^[0-9]+$ ]] || refuse "source_date_epoch '$sde' is not a number"
knob_args=()
for k in PRODUCT VERSION TARGET DISK_SIZE ROOT_SIZE CC CFLAGS LDFLAGS; do
	grep -q "^knob\.$k = " "$record" || refuse "knob $k is missing"
	knob_args+=("$k=$(get "knob.$k" "$record")")
done
pw=$(get knob.ADMIN_PASSWORD_SHA256 "$record")
if [[ $pw != none && -z ${pw_arg:-} ]]; then
	fail "the record was built with an admin password file (sha256 $pw): give it, ADMIN_PASSWORD_FILE=<file>"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/check-rebuild.XXXXXX") || fail "mktemp: cannot make a work directory"
trap 'rm -rf "$work"' EXIT
echo "$prog: cloning $repo at $commit into $work/src"
git clone -q --no-checkout "$repo" "$work/src" || fail "git clone $repo failed"
git -C "$work/src" -c advice.detachedHead=false checkout -q "$commit" ||
	fail "commit $commit: not in $repo (REPO= names the repository to clone)"
echo "$prog: building in $work/src (O=$work/o, CACHE=$cache): a full build"
# shellcheck disable=SC2086 # sign_args and pw_arg are make arguments
"$make" -C "$work/src" -j2 -s O="$work/o" CACHE="$cache" SOURCE_DATE_EPOCH="$sde" "${knob_args[@]}" \
	${sign_args:-} ${pw_arg:-} all > "$work/build.log" 2>&1 ||
	{ tail -n 20 "$work/build.log" >&2; fail "the build of $commit failed (its log: above)"; }
new=$(ls "$work/o"/*.buildrecord 2>/dev/null | head -n 1)
[[ -n $new ]] || fail "the build of $commit wrote no build record"

differ=0 n=0
while IFS= read -r line; do
	key=${line%% = *} want=${line#* = }
	case $key in
	sha256.*)
		n=$((n + 1))
		got=$(get "$key" "$new")
		if [[ $got != "$want" ]]; then
			echo "$prog: ${key#sha256.}: differs (${got:-missing} rebuilt, $want in the record)"
			differ=$((differ + 1))
		fi ;;
	host.*)
		got=$(get "$key" "$new")
		[[ $got == "$want" ]] ||
			echo "$prog: host tool ${key#host.}: $got here, $want in the record" ;;
	esac
done < <(grep -E '^(sha256|host)\.' "$record")
while IFS= read -r line; do
	key=${line%% = *}
	grep -q "^$key = " "$record" || { echo "$prog: ${key#sha256.}: an output the record does not have"; differ=$((differ + 1)); }
done < <(grep '^sha256\.' "$new")
if ((differ)); then
	echo "$prog: $differ of $n outputs differ from $record"
	exit 1
fi
echo "$prog: identical: all $n outputs of $record"
