#!/bin/bash
# tests/tool/sums.sh - the signed checksum list of a release's downloads
# (image/sums, README "Check a download"): mksums over small files with the
# development PKI, then the operator's check with the openssl CLI and
# sha256sum alone (README's exact commands) and with ova-verify --sums, on
# the untouched set and on each tamper case: a modified file, a renamed
# file, a modified list (a digest, a name), a list signed by another key, a
# certificate not under the root (another CA's, a chain file swapped), a
# signer without code signing, a missing companion; the 64-file bound; the
# refusals and exit codes of both tools.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
V=${VERSION:-$(cat "$TOP/VERSION")}
P=${PRODUCT:-space}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$TOP/tests/tool/tamper-lib.sh"

L=$P-$V.sha256sums
ISO=$P-$V.iso OVA=$P-$V.ova QCOW=$P-$V-kvm.qcow2 IMG=$P-$V.img
"$BIN/mkova" pki --dir "$T/pki" > /dev/null
"$BIN/mkova" pki --dir "$T/other" > /dev/null
"$BIN/mkova" pki --dir "$T/nocs" --no-codesign > /dev/null
ROOT=$T/pki/dev-root-ca.pem

# The downloads: small stand-ins, one larger than a read chunk.
mkdir "$T/dl"
head -c 3000001 /dev/urandom > "$T/dl/$ISO"
head -c 70000 /dev/urandom > "$T/dl/$OVA"
printf 'qcow' > "$T/dl/$QCOW"
: > "$T/dl/$IMG"
"$BIN/mksums" --out "$T/dl/$L" --pki "$T/pki" -j2 "$T/dl/$ISO" "$T/dl/$OVA" "$T/dl/$QCOW" "$T/dl/$IMG" > "$T/mk.out"
grep -qx "mksums: $T/dl/$L: 4 files, signed" "$T/mk.out" || die "mksums said: $(cat "$T/mk.out")"
[ "$(ls "$T/dl" | tr '\n' ' ')" = "$(printf '%s\n' "$ISO" "$OVA" "$QCOW" "$IMG" "$L" "$L.sig" "$L.cert.pem" "$L.chain.pem" | sort | tr '\n' ' ')" ] ||
	die "files: $(ls "$T/dl")"
pass "mksums writes the list, its .sig, .cert.pem and .chain.pem and nothing else"
[ "$(cut -c67- "$T/dl/$L" | tr '\n' ' ')" = "$ISO $OVA $QCOW $IMG " ] || die "names: $(cat "$T/dl/$L")"
[ "$(head -1 "$T/dl/$L")" = "$(cd "$T/dl" && sha256sum "$ISO")" ] || die "line 1 is not sha256sum's: $(head -1 "$T/dl/$L")"
pass "one sha256sum line per file, plain names, in the order given"
cp -r "$T/dl" "$T/again"
"$BIN/mksums" --out "$T/again/$L" --pki "$T/pki" -j1 "$T/again/$ISO" "$T/again/$OVA" "$T/again/$QCOW" "$T/again/$IMG" > /dev/null
cmp -s "$T/dl/$L" "$T/again/$L" && cmp -s "$T/dl/$L.sig" "$T/again/$L.sig" || die "two runs differ"
pass "the same files and key give the same list and signature bytes (1 or 2 threads)"
openssl dgst -sha256 -sign "$T/pki/dev-signing.key" -out "$T/openssl.sig" "$T/dl/$L"
cmp -s "$T/openssl.sig" "$T/dl/$L.sig" || die ".sig is not what openssl dgst -sha256 -sign makes"
pass ".sig is byte for byte what openssl dgst -sha256 -sign makes with the same key"

# --- the operator's check, exactly README's commands -------------------------
# cli DIR [ROOT]: the five commands in DIR; prints which one failed
cli() {
	(
		cd "$1"
		openssl verify -CAfile "${2:-$ROOT}" -untrusted "$L.chain.pem" "$L.cert.pem" > "$T/cli.out" 2>&1 ||
			{ echo "openssl verify: $(grep -m1 '^error' "$T/cli.out")"; exit 1; }
		openssl x509 -in "$L.cert.pem" -noout -ext extendedKeyUsage | grep -q 'Code Signing' ||
			{ echo "extendedKeyUsage: no Code Signing"; exit 1; }
		openssl x509 -in "$L.cert.pem" -pubkey -noout > "$T/pub.pem"
		openssl dgst -sha256 -verify "$T/pub.pem" -signature "$L.sig" "$L" > "$T/cli.out" 2>&1 ||
			{ echo "openssl dgst: $(tail -1 "$T/cli.out")"; exit 1; }
		sha256sum --strict -c "$L" > "$T/cli.out" 2>&1 ||
			{ echo "sha256sum -c: $(grep -m1 'FAILED' "$T/cli.out")"; exit 1; }
		echo OK
	)
}
# verify DIR [ROOT]: ova-verify --sums; its exit code in $rc, output in $T/v.out
verify() {
	set +e
	"$BIN/ova-verify" --ca "${2:-$ROOT}" --sums "$1/$L" > "$T/v.out" 2> "$T/v.err"
	rc=$?
	set -e
}
# refused WHAT DIR PATTERN [ROOT]: both checks refuse; ova-verify exits 1,
# its INVALID verdict last and one FAIL line matching PATTERN
refused() {
	local what=$1 d=$2 pat=$3 out
	out=$(cli "$d" "${4:-$ROOT}" || true)
	[ "$out" != OK ] || die "$what: the openssl/sha256sum check passed"
	verify "$d" "${4:-$ROOT}"
	[ $rc = 1 ] && tail -1 "$T/v.out" | grep -q ': INVALID: ' && grep -q "^FAIL $pat" "$T/v.out" ||
		die "$what: ova-verify exit $rc: $(cat "$T/v.out" "$T/v.err")"
	pass "$what: refused by the CLI ($out) and by ova-verify: $(grep -m1 "^FAIL $pat" "$T/v.out")"
}
fresh() { rm -rf "$T/w"; cp -r "$T/dl" "$T/w"; }

out=$(cli "$T/dl")
[ "$out" = OK ] || die "CLI check of the untouched set: $out"
pass "openssl verify, the codeSigning EKU, openssl dgst -verify and sha256sum --strict -c accept the set"
verify "$T/dl"
[ $rc = 0 ] && tail -1 "$T/v.out" | grep -q "$L: VALID (11 checks ok)$" || die "ova-verify: $rc $(cat "$T/v.out" "$T/v.err")"
! grep -q '^FAIL' "$T/v.out" && [ "$(grep -c '^ok   digest' "$T/v.out")" = 4 ] || die "$(cat "$T/v.out")"
pass "ova-verify --ca ROOT --sums LIST: VALID, every file's digest checked"
cp "$T/dl/$L" "$T/dl/renamed-list"
set +e
"$BIN/ova-verify" --ca "$ROOT" "$T/dl/renamed-list" > /dev/null 2>&1; r1=$?
"$BIN/ova-verify" --ca "$ROOT" --sums "$T/dl/renamed-list" > "$T/r.out" 2>&1; r2=$?
set -e
rm "$T/dl/renamed-list"
[ $r1 != 0 ] && [ $r2 = 1 ] && grep -q '^FAIL signature-file *renamed-list.sig: missing' "$T/r.out" ||
	die "a list without its companions: $r1 $r2 $(cat "$T/r.out")"
pass "--sums is needed for a list not named .sha256sums; its companions go by its name"

fresh; flip "$T/w/$OVA" 1000
refused "a modified file" "$T/w" "digest *$OVA: SHA-256 differs from the signed list"
[ "$(grep -c '^FAIL' "$T/v.out")" = 1 ] || die "modified: not one FAIL line: $(cat "$T/v.out")"
fresh; mv "$T/w/$ISO" "$T/w/$P-$V-renamed.iso"
refused "a renamed file" "$T/w" "digest *$ISO: missing: not next to the list"
fresh; rm "$T/w/$IMG"
refused "a missing file" "$T/w" "digest *$IMG: missing"
fresh; flip_hex "$T/w/$L" 5
refused "a modified digest in the list" "$T/w" "signature *$L: signature in $L.sig does not verify"
grep -q "^FAIL digest *$L: files not hashed: the list is not trusted" "$T/v.out" || die "hashed an untrusted list: $(cat "$T/v.out")"
pass "  no listed file is read once the list's signature failed"
fresh; mv "$T/w/$ISO" "$T/w/$P-$V-x.iso"; sed -i "s/ $ISO\$/ $P-$V-x.iso/" "$T/w/$L"
refused "a file renamed in the list as well (the names are signed)" "$T/w" "signature *$L:"
fresh; openssl dgst -sha256 -sign "$T/other/dev-signing.key" -out "$T/w/$L.sig" "$T/w/$L"
refused "a signature by another key, with our certificate" "$T/w" "signature *$L:"
fresh; sed -i "1s/^./$(head -c1 "$T/w/$L" | tr '0-9a-f' '1-9a-f0')/" "$T/w/$L"
openssl dgst -sha256 -sign "$T/other/dev-signing.key" -out "$T/w/$L.sig" "$T/w/$L"
cp "$T/other/dev-signing.pem" "$T/w/$L.cert.pem"; cp "$T/other/dev-intermediate-ca.pem" "$T/w/$L.chain.pem"
refused "a modified list signed by another CA's key, with its certificate and chain" "$T/w" "cert-chain *$L.cert.pem: unable to get"
grep -q '^ok   signature' "$T/v.out" || die "the other key's signature itself should verify: $(cat "$T/v.out")"
fresh; cp "$T/other/dev-intermediate-ca.pem" "$T/w/$L.chain.pem"
refused "our signer with another CA's chain file (not under the root)" "$T/w" "cert-chain *$L.cert.pem:"
fresh; cp "$T/other/dev-root-ca.pem" "$T/w/$L.chain.pem"
refused "another root given as the chain" "$T/w" "cert-chain *$L.cert.pem:"

mkdir "$T/nc"; cp "$T/dl/$ISO" "$T/nc/"
"$BIN/mksums" --out "$T/nc/$L" --pki "$T/nocs" "$T/nc/$ISO" 2> "$T/mk.err" && die "mksums signed with a non-code-signing key"
grep -q 'lacks extendedKeyUsage codeSigning' "$T/mk.err" || die "$(cat "$T/mk.err")"
pass "mksums refuses a signer without code signing: $(cat "$T/mk.err")"
(cd "$T/nc" && sha256sum "$ISO" > "$L" && openssl dgst -sha256 -sign "$T/nocs/dev-signing.key" -out "$L.sig" "$L")
cp "$T/nocs/dev-signing.pem" "$T/nc/$L.cert.pem"; cp "$T/nocs/dev-intermediate-ca.pem" "$T/nc/$L.chain.pem"
refused "a signer certificate without code signing (under its own root)" "$T/nc" "cert-purpose *$L.cert.pem: signer certificate lacks extendedKeyUsage codeSigning" "$T/nocs/dev-root-ca.pem"

for s in sig cert.pem chain.pem; do
	fresh; rm "$T/w/$L.$s"
	verify "$T/w"
	[ $rc = 1 ] && grep -q "^FAIL [a-z-]* *$L.$s: missing: it goes with the list" "$T/v.out" ||
		die "no $L.$s: $rc $(cat "$T/v.out")"
done
pass "a missing .sig, .cert.pem or .chain.pem is a FAIL naming it (exit 1)"
fresh; cat "$T/pki/dev-signing.pem" >> "$T/w/$L.cert.pem"
verify "$T/w"
[ $rc = 1 ] && grep -q "^FAIL cert-format *$L.cert.pem: more than one certificate" "$T/v.out" || die "$(cat "$T/v.out")"
pass "a .cert.pem holding more than the signer's certificate is refused"

# --- one file: an operator who downloaded only the ISO -----------------------
# one DIR NAME: README's one-file commands; "OK" or what failed
one() {
	(cd "$1" && grep " $2\$" "$L" | sha256sum --strict -c > "$T/cli.out" 2>&1) && echo OK ||
		echo "sha256sum -c: $(tail -1 "$T/cli.out")"
}
fresh; rm "$T/w/$OVA" "$T/w/$QCOW" "$T/w/$IMG"
[ "$(one "$T/w" "$ISO")" = OK ] || die "one file, CLI: $(one "$T/w" "$ISO")"
"$BIN/ova-verify" --ca "$ROOT" "$T/w/$L" "$ISO" > "$T/v.out" || die "one file: $(cat "$T/v.out")"
[ "$(grep -c '^ok   digest' "$T/v.out")" = 1 ] && grep -q "^ok   digest *$ISO:" "$T/v.out" || die "$(cat "$T/v.out")"
pass "only the ISO downloaded: grep its line | sha256sum -c, and ova-verify --sums LIST ISO, accept it"
flip "$T/w/$ISO" 3000000
[ "$(one "$T/w" "$ISO")" != OK ] || die "one modified file passed the CLI"
verify_one() {
	set +e
	"$BIN/ova-verify" --ca "$ROOT" "$T/w/$L" "$@" > "$T/v.out" 2>&1
	rc=$?
	set -e
}
verify_one "$ISO"
[ $rc = 1 ] && grep -q "^FAIL digest *$ISO: SHA-256 differs" "$T/v.out" || die "one modified: $rc $(cat "$T/v.out")"
pass "  modified (its last byte): refused by both: $(one "$T/w" "$ISO")"
mv "$T/w/$ISO" "$T/w/$P-$V-new.iso"
[ "$(one "$T/w" "$P-$V-new.iso")" != OK ] && [ "$(one "$T/w" "$ISO")" != OK ] || die "renamed passed the CLI"
verify_one "$P-$V-new.iso"
[ $rc = 1 ] && grep -q "^FAIL digest *$P-$V-new.iso: not in the signed list" "$T/v.out" || die "renamed: $rc $(cat "$T/v.out")"
verify_one "$ISO"
[ $rc = 1 ] && grep -q "^FAIL digest *$ISO: missing" "$T/v.out" || die "renamed, old name: $rc $(cat "$T/v.out")"
pass "  renamed: refused by both under either name: $(one "$T/w" "$P-$V-new.iso")"

# --- bounds ------------------------------------------------------------------
mkdir "$T/many"
for i in $(seq 1 65); do echo "$i" > "$T/many/f$i"; done
set +e
"$BIN/mksums" --out "$T/many/$L" --pki "$T/pki" "$T"/many/f* 2> "$T/mk.err"; rc=$?
set -e
[ $rc = 1 ] && grep -q 'more files than a list holds (64)' "$T/mk.err" || die "65 files: $rc $(cat "$T/mk.err")"
"$BIN/mksums" --out "$T/many/$L" --pki "$T/pki" $(for i in $(seq 1 64); do echo "$T/many/f$i"; done) > /dev/null
verify "$T/many"
[ $rc = 0 ] && [ "$(grep -c '^ok   digest' "$T/v.out")" = 64 ] || die "64 files: $rc $(tail -3 "$T/v.out")"
(cd "$T/many" && sha256sum f* > "$L" && openssl dgst -sha256 -sign "$T/pki/dev-signing.key" -out "$L.sig" "$L")
verify "$T/many"
[ $rc = 1 ] && grep -q "^FAIL list-format *$L: line 65: too many files" "$T/v.out" || die "65 lines: $rc $(cat "$T/v.out")"
pass "64 files fill a list (both tools); a 65th is refused by mksums, and in a signed list by ova-verify"
head -c 20000 /dev/zero | tr '\0' 'a' > "$T/many/$L"
verify "$T/many"
[ $rc = 1 ] && grep -q "^FAIL list-format *$L: larger than 10688 bytes" "$T/v.out" || die "big list: $rc $(cat "$T/v.out")"
pass "a list past the bound is not read: $(grep -m1 '^FAIL' "$T/v.out")"

# --- refusals and exit codes -------------------------------------------------
mkdir "$T/elsewhere"; echo x > "$T/elsewhere/$ISO"
set +e
"$BIN/mksums" --out "$T/dl/$L" --pki "$T/pki" "$T/elsewhere/$ISO" 2> "$T/mk.err"; rc=$?
set -e
[ $rc = 1 ] && grep -q "elsewhere/$ISO: not in the list's directory" "$T/mk.err" || die "elsewhere: $rc $(cat "$T/mk.err")"
pass "mksums refuses a file outside the list's directory: $(cat "$T/mk.err")"
mkfifo "$T/dl/fifo"
set +e
timeout 20 "$BIN/mksums" --out "$T/dl/x.sha256sums" --pki "$T/pki" "$T/dl/fifo" 2> "$T/mk.err"; rc=$?
timeout 20 "$BIN/mksums" --out "$T/dl/x.sha256sums" --pki "$T/pki" "$T/dl/nosuch" 2> "$T/mk.err2"; rc2=$?
"$BIN/mksums" --out "$T/dl/x.sha256sums" "$T/dl/$ISO" 2> /dev/null; rc3=$?
set -e
[ $rc = 1 ] && grep -q 'fifo: not a regular file' "$T/mk.err" || die "fifo: $rc $(cat "$T/mk.err")"
[ $rc2 = 111 ] && grep -q 'nosuch: No such file' "$T/mk.err2" || die "missing input: $rc2 $(cat "$T/mk.err2")"
[ $rc3 = 100 ] || die "no keys: exit $rc3"
[ ! -e "$T/dl/x.sha256sums" ] && [ ! -e "$T/dl/x.sha256sums.sig" ] || die "a refused run left files"
pass "mksums: a FIFO 1, a missing file 111, no keys 100; nothing written"
rm "$T/dl/fifo"
set +e
"$BIN/ova-verify" --ca "$ROOT" --sums "$T/dl/nosuch.sha256sums" > /dev/null 2> "$T/v.err"; rc=$?
"$BIN/ova-verify" --ca "$ROOT" --sums - < "$T/dl/$L" > /dev/null 2>&1; rc2=$?
"$BIN/ova-verify" --ca "$ROOT" --sums --release "$T/dl/$L" > /dev/null 2>&1; rc3=$?
"$BIN/ova-verify" --sums "$T/dl/$L" > "$T/v.out" 2>&1; rc4=$?
set -e
[ $rc = 111 ] && [ "$(cat "$T/v.err")" = "ova-verify: read $T/dl/nosuch.sha256sums: No such file or directory" ] ||
	die "missing list: $rc $(cat "$T/v.err")"
[ $rc2 = 100 ] && [ $rc3 = 100 ] || die "usage: $rc2 $rc3"
[ $rc4 = 1 ] && grep -q '^FAIL cert-chain .*give the root CA with --ca' "$T/v.out" || die "no --ca: $rc4 $(cat "$T/v.out")"
pass "ova-verify --sums: a missing list 111 (one line), stdin or --release 100, no --ca 1"
done_testing
