# tests/tool/tamper-lib.sh - helpers of the tamper matrices of ova.sh and
# release.sh (sourced first): TAP lines, repack members as an attacker would, flip a byte,
# re-sign a manifest with a given PKI. Uses SOURCE_DATE_EPOCH, and for
# resign $T/w holding the members named $MF, $CERT and $CHAIN.

# TAP lines: lib.sh's (the scripts of the tamper matrices end at their
# first failure: die)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# pack DIR OUT FILES...: an archive of DIR's FILES made with GNU tar
pack() {
	local d=$1 o=$2
	shift 2
	tar -C "$d" --format=ustar --owner=0 --group=0 --mode=0644 --mtime=@$SOURCE_DATE_EPOCH -cf "$o" "$@"
}

# flip FILE OFFSET: flip the low bit of one byte
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# resign PKI-DIR: a new $CERT (signature over $MF + signer certificate) and
# $CHAIN in $T/w, made with openssl and that PKI's keys
resign() {
	local k=$1
	printf 'SHA256(%s)= %s\n' "$MF" "$(openssl dgst -sha256 -sign "$k/dev-signing.key" "$T/w/$MF" | od -An -v -tx1 | tr -d ' \n')" > "$T/w/$CERT"
	cat "$k/dev-signing.pem" >> "$T/w/$CERT"
	cp "$k/dev-intermediate-ca.pem" "$T/w/$CHAIN"
}

# flip_hex FILE OFFSET: another hex digit there, so a `SHA256(x)= hex`
# line stays well formed and only the value is wrong
flip_hex() {
	local c
	c=$(dd if="$1" bs=1 skip="$2" count=1 status=none)
	[ "$c" = 0 ] && c=1 || c=0
	printf '%s' "$c" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# tamper_members OUT RENAMED-PATTERN: for each member in ALL, a flipped
# byte (at FLIP_AT[member]; in $CERT a hex digit), truncation to half,
# removal and renaming to renamed-<member>, each repacked to OUT and given
# to the caller's expect_fail with FLIP_PAT, CUT_PAT, GONE_PAT[member] and
# RENAMED-PATTERN (%s stands for the member).
tamper_members() {
	local out=$1 ren=$2 f
	for f in "${ALL[@]}"; do
		fresh
		if [ "$f" = "$CERT" ]; then flip_hex "$T/w/$f" 40; else flip "$T/w/$f" "${FLIP_AT[$f]}"; fi
		pack "$T/w" "$out" "${ALL[@]}"
		expect_fail "flipped byte in $f" "${FLIP_PAT[$f]}" "$out"
		fresh && truncate -s $(($(stat -c %s "$T/w/$f") / 2)) "$T/w/$f" && pack "$T/w" "$out" "${ALL[@]}"
		expect_fail "truncated $f" "${CUT_PAT[$f]}" "$out"
		fresh && pack "$T/w" "$out" $(printf '%s\n' "${ALL[@]}" | grep -vxF "$f")
		expect_fail "removed $f" "${GONE_PAT[$f]}" "$out"
		fresh && mv "$T/w/$f" "$T/w/renamed-$f" && pack "$T/w" "$out" $(printf '%s\n' "${ALL[@]}" | sed "s/^$f\$/renamed-$f/")
		# shellcheck disable=SC2059
		expect_fail "renamed $f" "$(printf "$ren" "$f")" "$out"
	done
}
