#!/bin/bash
# tests/tool/record.sh - the signed build record (image/record.mk): mksums
# --sign-only signs a record as the checksum list is signed, ova-verify
# --signed checks it (VALID; a changed record, a missing signature, another
# PKI's root: INVALID, exit 1); check-rebuild.sh refuses, with exit 1 and
# before building anything, a record whose signature fails, one of a dirty
# tree and one that is not KEY = VALUE lines.
set -u
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
"$BIN/mkova" pki --dir "$T/pki" > /dev/null
"$BIN/mkova" pki --dir "$T/other" > /dev/null
CA="--ca $T/pki/dev-root-ca.pem"
R=$T/space-1.buildrecord
record() { # TREE
	printf '%s\n' '# test' 'format = 1' "commit = $(printf 'a%.0s' {1..40})" "tree = $1" \
		'source_date_epoch = 1700000000' 'knob.LDFLAGS = ' 'sha256.Space-1.tgz = 00' > "$R"
	"$BIN/mksums" --sign-only --out "$R" --pki "$T/pki" > /dev/null
}
record clean
"$BIN/ova-verify" $CA --signed "$R" > "$T/out"; is "ova-verify --signed: a signed record is VALID" $? 0
grep -q VALID "$T/out"; is "it says VALID" $? 0
for s in sig cert.pem chain.pem; do [[ -s $R.$s ]]; is "mksums --sign-only wrote .$s" $? 0; done
openssl x509 -in "$R.cert.pem" -pubkey -noout > "$T/pub.pem"
openssl dgst -sha256 -verify "$T/pub.pem" -signature "$R.sig" "$R" > /dev/null
is "openssl dgst -verify accepts the record's signature" $? 0
"$BIN/ova-verify" --ca "$T/other/dev-root-ca.pem" --signed "$R" > /dev/null
is "another PKI's root: INVALID" $? 1
git_clean_cmd() { bash "$TOP/image/record/check-rebuild.sh" "$R" "$TOP" "$T/cache" "$BIN/ova-verify" "$CA" false; }
git_clean_cmd > /dev/null 2> "$T/err"; is "check-rebuild refuses a record without its knobs" $? 1; grep -q "knob PRODUCT is missing" "$T/err"; is "and says which" $? 0
record dirty
git_clean_cmd > /dev/null 2> "$T/err"; is "check-rebuild refuses a record of a dirty tree" $? 1
grep -q 'dirty tree' "$T/err"; is "and says why" $? 0
echo 'sha256.extra = 11' >> "$R"
"$BIN/ova-verify" $CA --signed "$R" > /dev/null; is "a line added: INVALID" $? 1
git_clean_cmd > /dev/null 2> "$T/err"; is "check-rebuild refuses a record whose signature fails" $? 1
grep -q 'signature not valid' "$T/err"; is "and says why" $? 0
printf 'format = 1\nnot a line\n' > "$R" && "$BIN/mksums" --sign-only --out "$R" --pki "$T/pki" > /dev/null
git_clean_cmd > /dev/null 2> "$T/err"; is "check-rebuild refuses a line that is not KEY = VALUE" $? 1
record clean
rm "$R.sig"
"$BIN/ova-verify" $CA --signed "$R" > /dev/null; is "no .sig: INVALID" $? 1
"$BIN/mksums" --sign-only --out "$T/none.buildrecord" --pki "$T/pki" > /dev/null 2>&1
is "mksums --sign-only: a missing file is an I/O failure" $? 111
"$BIN/mksums" --sign-only --out "$R" --pki "$T/pki" "$R" > /dev/null 2>&1
is "mksums --sign-only with FILEs: usage" $? 100
done_testing
