#!/bin/bash
# tests/tool/ova.sh - the signed OVA as an operator checks it (SPEC "The
# signed OVA") with public tools, reproducibility, and ova-verify on the
# untouched package and on every tamper case: for each member a flipped
# byte, truncation, removal, reordering, renaming; an extra member; a
# certificate from another CA, an expired one, one without code signing.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
V=${VERSION:-$(cat "$TOP/VERSION")}
P=${PRODUCT:-space}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$TOP/tests/tool/tamper-lib.sh"

OVF=$P-$V.ovf MF=$P-$V.mf CERT=$P-$V.cert CHAIN=$P-certchain.pem DISK=$P-$V-disk1.vmdk
OVA=$P-$V.ova

# A 96 MiB sparse raw disk with an ext4 holding some files.
mkdir "$T/tree"
cp -r /usr/share/common-licenses "$T/tree/" 2>/dev/null || echo x > "$T/tree/x"
head -c 2000000 /dev/urandom > "$T/tree/random.bin"
truncate -s 96M "$T/disk.raw"
mke2fs -q -t ext4 -d "$T/tree" -F "$T/disk.raw"

"$BIN/mkova" pki --dir "$T/pki"
"$BIN/mkova" pki --dir "$T/pki" # second call: existing PKI is kept
"$BIN/mkova" pki --dir "$T/other" # another CA
"$BIN/mkova" pki --dir "$T/expired" --expired
"$BIN/mkova" pki --dir "$T/nocs" --no-codesign
ROOT=$T/pki/dev-root-ca.pem
grep -q 'DEVELOPMENT' <(openssl x509 -in "$T/pki/dev-signing.pem" -noout -subject) || die "dev cert not named DEVELOPMENT"
[ "$(stat -c %a "$T/pki/dev-signing.key")" = 600 ] || die "dev key not 0600"
pass "development PKI created once, named DEVELOPMENT, key 0600"

mkdir "$T/o1" "$T/o2"
"$BIN/mkova" build --raw "$T/disk.raw" --hw "$TOP/image/ova/esxi.hw" --out "$T/o1" --product "$P" \
	--version "$V" --pki "$T/pki" -j 2 > /dev/null
"$BIN/mkova" build --raw "$T/disk.raw" --hw "$TOP/image/ova/esxi.hw" --out "$T/o2" --product "$P" \
	--version "$V" --pki "$T/pki" -j 1 > /dev/null
cmp -s "$T/o1/$OVA" "$T/o2/$OVA" || die "two builds differ"
pass "two builds (2 and 1 threads) give identical OVA bytes"
[ "$(ls -A "$T/o1")" = "$OVA" ] || die "stray files in the output dir: $(ls -A "$T/o1")"
pass "only the .ova is left in the output directory"

# --- the operator procedure ---------------------------------------------
mkdir "$T/x"
tar -C "$T/x" -xf "$T/o1/$OVA"
[ "$(ls "$T/x" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$OVF" "$MF" "$CERT" "$CHAIN" "$DISK" | sort | tr '\n' ' ')" ] ||
	die "tar xf gives: $(ls "$T/x")"
[ "$(tar -tf "$T/o1/$OVA" | tr '\n' ' ')" = "$OVF $MF $CERT $CHAIN $DISK " ] || die "member order: $(tar -tf "$T/o1/$OVA")"
pass "tar xf gives the five files; .ovf first, then .mf .cert chain disk"

/usr/bin/python3 - "$T/o1/$OVA" "$SOURCE_DATE_EPOCH" <<'EOF' || die "tar headers"
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        assert m.type == tarfile.REGTYPE and m.mode == 0o644 and m.uid == 0 and m.gid == 0, m.name
        assert m.mtime == int(sys.argv[2]) and not m.pax_headers, m.name
data = open(sys.argv[1], 'rb').read(512)
assert data[257:265] == b'ustar\x0000', data[257:265]
EOF
pass "ustar headers, no PAX, mode 0644, owner 0:0, mtime SOURCE_DATE_EPOCH"

grep -Eqx "SHA256\($OVF\)= [0-9a-f]{64}" <(sed -n 1p "$T/x/$MF") &&
	grep -Eqx "SHA256\($DISK\)= [0-9a-f]{64}" <(sed -n 2p "$T/x/$MF") && [ "$(wc -l < "$T/x/$MF")" = 2 ] ||
	die "manifest: $(cat "$T/x/$MF")"
(cd "$T/x" && sed -E 's/^SHA256\((.*)\)= (.*)$/\2  \1/' "$MF" | sha256sum -c --quiet) || die "sha256sum -c"
pass "manifest lines SHA256(<file>)= <hex>, digests match sha256sum"

grep -Eqx "SHA256\($MF\)= [0-9a-f]{512}" <(sed -n 1p "$T/x/$CERT") || die ".cert line 1: $(sed -n 1p "$T/x/$CERT")"
out=$(cd "$T/x" && openssl verify -CAfile "$ROOT" -untrusted "$CHAIN" "$CERT")
[ "$out" = "$CERT: OK" ] || die "openssl verify: $out"
pass "openssl verify -CAfile root -untrusted $CHAIN $CERT: OK"
sed -n "1s/^SHA256($MF)= //p" "$T/x/$CERT" | xxd -r -p > "$T/sig.bin"
openssl x509 -in "$T/x/$CERT" -pubkey -noout > "$T/pub.pem"
out=$(openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig.bin" "$T/x/$MF")
[ "$out" = "Verified OK" ] || die "openssl dgst -verify: $out"
pass "openssl dgst -sha256 -verify accepts the signature over the .mf"

if grep -q 'PRIVATE KEY' "$T/o1/$OVA" || grep -qF "$(sed -n 2p "$T/pki/dev-signing.key")" "$T/o1/$OVA"; then
	die "private key material in the OVA"
fi
pass "no private key material in the OVA"

qemu-img info "$T/x/$DISK" | grep -q 'create type: streamOptimized' || die "qemu-img info"
pass "qemu-img info: streamOptimized"
qemu-img compare "$T/disk.raw" "$T/x/$DISK" > /dev/null || die "qemu-img compare"
pass "qemu-img compare: raw image and VMDK identical"
"$BIN/vmdk" extract "$T/x/$DISK" "$T/back.raw"
cmp -s "$T/disk.raw" "$T/back.raw" || die "vmdk extract"
pass "vmdk extract gives the original raw bytes"

SCHEMA=$TOP/image/ovf/schema/dsp8023_1.1.1.xsd
xmllint --noout --nonet --schema "$SCHEMA" "$T/x/$OVF" 2> "$T/xmllint.err" || die "xmllint: $(cat "$T/xmllint.err")"
pass "descriptor validates against the DMTF OVF schema (xmllint --nonet)"
sed 's|<rasd:Description>Memory Size</rasd:Description>|&<rasd:Caption>x</rasd:Caption>|' "$T/x/$OVF" > "$T/bad.ovf"
! xmllint --noout --nonet --schema "$SCHEMA" "$T/bad.ovf" 2> /dev/null || die "schema check accepts out-of-order rasd elements"
pass "the schema check itself rejects a descriptor with rasd elements out of order"
grep -q "ovf:size=\"$(stat -c %s "$T/x/$DISK")\"" "$T/x/$OVF" || die "ovf:size is not the VMDK size"
grep -q '<vssd:VirtualSystemType>vmx-14</vssd:VirtualSystemType>' "$T/x/$OVF" &&
	[ "$(grep -c '<rasd:ResourceSubType>E1000</rasd:ResourceSubType>' "$T/x/$OVF")" = 4 ] &&
	grep -q '<rasd:VirtualQuantity>8192</rasd:VirtualQuantity>' "$T/x/$OVF" || die "descriptor hardware"
pass "ovf:size = VMDK bytes; vmx-14, 4 E1000 NICs, 8 GiB"

mkdir "$T/o512"
"$BIN/mkova" build --raw "$T/disk.raw" --hw "$TOP/image/ova/esxi.hw" --out "$T/o512" --product "$P" \
	--version "$V" --pki "$T/pki" --digest SHA512 > /dev/null
mkdir "$T/x512" && tar -C "$T/x512" -xf "$T/o512/$OVA"
grep -Eqx "SHA512\($DISK\)= [0-9a-f]{128}" <(sed -n 2p "$T/x512/$MF") || die "SHA512 manifest: $(cat "$T/x512/$MF")"
sed -n "1s/^SHA512($MF)= //p" "$T/x512/$CERT" | xxd -r -p > "$T/sig512.bin"
openssl dgst -sha512 -verify "$T/pub.pem" -signature "$T/sig512.bin" "$T/x512/$MF" > /dev/null || die "SHA512 signature"
"$BIN/ova-verify" --ca "$ROOT" "$T/o512/$OVA" > /dev/null || die "ova-verify on the SHA512 package"
pass "--digest SHA512: SHA512 manifest and signature, openssl and ova-verify accept it"

# --- ova-verify on the good package -----------------------------------------
"$BIN/ova-verify" --ca "$ROOT" "$T/o1/$OVA" > "$T/v.out" || die "ova-verify rejects the good OVA: $(cat "$T/v.out")"
grep -q "VALID" "$T/v.out" && ! grep -q '^FAIL' "$T/v.out" || die "report: $(cat "$T/v.out")"
pass "ova-verify --ca: VALID, exit 0 ($(grep -c '^ok' "$T/v.out") checks)"
"$BIN/ova-verify" --ca "$ROOT" - < "$T/o1/$OVA" > /dev/null || die "stdin"
pass "ova-verify reads the OVA from a pipe (stream, no seeking)"
"$BIN/ova-verify" --ca "$ROOT" "$T/x/$OVF" > /dev/null || die "extracted directory"
pass "ova-verify accepts the extracted .ovf with its files"
# a FIFO in place of a file of the extracted package: open() of a FIFO
# without a writer blocks forever, so the file type is checked first
for f in "$CERT" "$DISK"; do
	rm -rf "$T/fifo" && cp -a "$T/x" "$T/fifo" && rm "$T/fifo/$f" && mkfifo "$T/fifo/$f"
	set +e
	timeout 20 "$BIN/ova-verify" --ca "$ROOT" "$T/fifo/$OVF" > "$T/fifo.out" 2>&1; rc=$?
	set -e
	[ $rc = 1 ] && grep -q "^FAIL member-name .*$f: not a regular file" "$T/fifo.out" ||
		die "FIFO as $f: exit $rc (124: hung): $(cat "$T/fifo.out")"
	! grep -q '^ok   member-names' "$T/fifo.out" || die "FIFO as $f: member-names reported ok as well"
	pass "a FIFO as $f in the directory: FAIL, not a regular file (no hang)"
done
# a symlink in its place is refused the same way (was exit 2, "Too many
# levels of symbolic links", for the whole run)
rm -rf "$T/lnk" && cp -a "$T/x" "$T/lnk" && mv "$T/lnk/$CERT" "$T/real.cert" && ln -s ../real.cert "$T/lnk/$CERT"
set +e
timeout 10 "$BIN/ova-verify" --ca "$ROOT" "$T/lnk/$OVF" > "$T/lnk.out" 2>&1; rc=$?
set -e
[ $rc = 1 ] && grep -q "^FAIL member-name .*$CERT: not a regular file" "$T/lnk.out" ||
	die "symlink as $CERT: exit $rc: $(cat "$T/lnk.out")"
pass "a symlink as $CERT in the directory: FAIL, not a regular file"
set +e
"$BIN/ova-verify" "$T/o1/$OVA" > "$T/nc.out"; rc=$?
"$BIN/ova-verify" --no-chain "$T/o1/$OVA" > /dev/null; rc2=$?
"$BIN/ova-verify" --json --ca "$ROOT" "$T/o1/$OVA" > "$T/v.json"; rc3=$?
"$BIN/ova-verify" --bogus 2> /dev/null; rc4=$?
"$BIN/ova-verify" --ca "$ROOT" "$T/nonexistent.ova" 2> /dev/null; rc5=$?
set -e
[ $rc = 1 ] && grep -q '^FAIL cert-chain .*--ca' "$T/nc.out" || die "without --ca: exit $rc"
[ $rc2 = 0 ] || die "--no-chain: exit $rc2"
pass "without --ca the chain is reported unverified (exit 1); --no-chain exits 0"
[ $rc3 = 0 ] && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] and all(c["ok"] for c in d["checks"])' "$T/v.json" ||
	die "--json"
pass "--json: valid JSON, every check ok"
[ $rc4 = 100 ] && [ $rc5 = 111 ] || die "usage/I/O exit codes: $rc4 $rc5"
pass "usage error and unreadable file exit 100 and 111"
"$BIN/ova-verify" --help | grep -q 'Exit status: 0 valid, 1 invalid' || die "--help"
pass "--help documents the checks and exit codes"

# --- tamper cases ---------------------------------------------------------
# expect_fail NAME PATTERN OVA [ARGS]: exit 1 and a FAIL line matching PATTERN
expect_fail() {
	local name=$1 pat=$2 ova=$3 rc
	shift 3
	set +e
	"$BIN/ova-verify" --ca "$ROOT" "$@" "$ova" > "$T/t.out" 2>&1; rc=$?
	set -e
	[ $rc = 1 ] || die "$name: exit $rc, want 1: $(cat "$T/t.out")"
	grep -Eq "^FAIL $pat" "$T/t.out" || die "$name: no FAIL line matching '$pat': $(grep '^FAIL' "$T/t.out")"
	pass "$name: $(grep -E "^FAIL $pat" "$T/t.out" | head -1 | cut -c1-110)"
}
# pack, flip, resign: an OVA as an attacker would make it, with GNU tar
fresh() { rm -rf "$T/w" && cp -a "$T/x" "$T/w"; }
ALL=("$OVF" "$MF" "$CERT" "$CHAIN" "$DISK")

fresh && pack "$T/w" "$T/same.ova" "${ALL[@]}"
"$BIN/ova-verify" --ca "$ROOT" "$T/same.ova" > /dev/null || die "repacked untouched OVA rejected"
pass "untouched files repacked with GNU tar still pass (the tamper harness is sound)"

declare -A FLIP_AT=([$OVF]=200 [$MF]=40 [$CERT]=40 [$CHAIN]=300 [$DISK]=70000)
declare -A FLIP_PAT=([$OVF]="digest +$OVF" [$MF]="(signature|digest|manifest).*$MF"
	[$CERT]="signature" [$CHAIN]="(chain-file|cert-chain)" [$DISK]="digest +$DISK")
declare -A CUT_PAT=([$OVF]="descriptor +$OVF" [$MF]="manifest +$MF" [$CERT]="cert-format +$CERT"
	[$CHAIN]="(chain-file|cert-chain)" [$DISK]="(reference|digest) +$DISK")
declare -A GONE_PAT=([$OVF]="descriptor" [$MF]="manifest" [$CERT]="cert-format.*not signed"
	[$CHAIN]="(chain-file|cert-chain)" [$DISK]="reference +$DISK.*missing")
tamper_members "$T/t.ova" "(unexpected-member|descriptor|manifest|cert-format|chain-file|reference)"
fresh && pack "$T/w" "$T/t.ova" "$MF" "$OVF" "$CERT" "$CHAIN" "$DISK"
expect_fail "reordered: .mf before .ovf" "ovf-first" "$T/t.ova"
fresh && pack "$T/w" "$T/t.ova" "$OVF" "$DISK" "$MF" "$CERT" "$CHAIN"
expect_fail "reordered: disk before .mf" "member-order" "$T/t.ova"
fresh && pack "$T/w" "$T/t.ova" "$OVF" "$MF" "$CHAIN" "$CERT" "$DISK"
expect_fail "reordered: chain before .cert" "member-order" "$T/t.ova"
fresh && echo "extra" > "$T/w/README.txt" && pack "$T/w" "$T/t.ova" "${ALL[@]}" README.txt
expect_fail "extra member" "unexpected-member +README.txt" "$T/t.ova"
fresh && for i in $(seq 1 60); do echo "$i" > "$T/w/extra$i.txt"; done &&
	pack "$T/w" "$T/t.ova" "${ALL[@]}" $(for i in $(seq 1 60); do echo "extra$i.txt"; done)
expect_fail "65 members" "tar-format +extra60.txt: more than 64 members" "$T/t.ova"
! grep -q '^ok   tar-format' "$T/t.out" || die "65 members: tar-format reported both FAIL and ok"
pass "65 members: tar-format is reported once, as FAIL"
fresh && tar -C "$T/w" --format=pax -cf "$T/t.ova" "${ALL[@]}"
expect_fail "PAX-format archive" "tar-format" "$T/t.ova"
fresh && tar -C "$T/w" --format=ustar -cf "$T/t.ova" "./$OVF" "$MF" "$CERT" "$CHAIN" "$DISK"
expect_fail "member with a path" "(member-name|descriptor)" "$T/t.ova"
head -c 50000 "$T/o1/$OVA" > "$T/t.ova"
expect_fail "truncated OVA" "tar-format.*truncated" "$T/t.ova"
# A GNU header (members of 8 GiB or more) with a name in bytes 345..499:
# Python's tarfile reads it as a path prefix. ova-verify must refuse the
# header itself, before the (here missing) 9 GiB of data.
/usr/bin/python3 - "$T/o1/$OVA" "$T/t.ova" "$DISK" <<'EOF' || die "GNU prefix OVA"
import sys, tarfile
src, dst, disk = sys.argv[1:]
with tarfile.open(src) as t:
    first = t.getmembers()[0]
head = open(src, 'rb').read(first.offset_data + (first.size + 511) // 512 * 512)
h = bytearray(512)
h[0:len(disk)] = disk.encode()
h[100:124] = b'0000644\0' b'0000000\0' b'0000000\0'
h[124] = 0x80
h[128:136] = (9 << 30).to_bytes(8, 'big')
h[136:148] = b'%011o\0' % 1700000000
h[156:157] = b'0'
h[257:265] = b'ustar  \0'
h[329:345] = b'0000000\0' b'0000000\0'
h[345:349] = b'evil'
h[148:156] = b'%06o\0 ' % sum(bytes(h[:148]) + b' ' * 8 + bytes(h[156:]))
open(dst, 'wb').write(head + bytes(h) + b'x' * 4096)
with tarfile.open(dst) as t:
    names = []
    try:
        for m in t:
            names.append(m.name)
    except tarfile.ReadError:
        pass
assert names[1] == 'evil/' + disk, names
EOF
expect_fail "GNU header with a name in bytes 345-499 (Python reads evil/$DISK)" "tar-format.*345-499" "$T/t.ova"
fresh && sed -i 's/^SHA256(\(.*\))= /SHA2-256(\1)= /' "$T/w/$MF" && pack "$T/w" "$T/t.ova" "${ALL[@]}"
expect_fail "OpenSSL 3 SHA2-256 label in the manifest" "manifest +$MF" "$T/t.ova"

# re-sign the manifest with another key (resign): what an attacker with their own CA does
fresh && resign "$T/pki" && pack "$T/w" "$T/t.ova" "${ALL[@]}"
"$BIN/ova-verify" --ca "$ROOT" "$T/t.ova" > /dev/null || die "shell re-signing with the right key rejected"
pass "re-signing with openssl and the genuine key passes (the re-sign harness is sound)"
fresh && resign "$T/other" && pack "$T/w" "$T/t.ova" "${ALL[@]}"
expect_fail "certificate from another CA" "cert-chain.*(issuer|unable)" "$T/t.ova"
fresh && resign "$T/expired" && pack "$T/w" "$T/t.ova" "${ALL[@]}"
expect_fail "expired certificate" "cert-dates.*expired" "$T/t.ova" --ca "$T/expired/dev-root-ca.pem"
grep -q '^FAIL cert-chain.*expired' "$T/t.out" || die "chain check should report the expiry too"
fresh && resign "$T/nocs" && pack "$T/w" "$T/t.ova" "${ALL[@]}"
expect_fail "certificate without code-signing usage" "cert-purpose.*codeSigning" "$T/t.ova" --ca "$T/nocs/dev-root-ca.pem"
fresh && echo "$(sed -n 1p "$T/x/$CERT")" > "$T/w/$CERT" && cat "$T/other/dev-signing.pem" >> "$T/w/$CERT" && pack "$T/w" "$T/t.ova" "${ALL[@]}"
expect_fail "genuine signature, swapped certificate" "signature" "$T/t.ova"

# mkova refuses to sign with a certificate every verifier would reject
set +e
"$BIN/mkova" build --raw "$T/disk.raw" --hw "$TOP/image/ova/esxi.hw" --out "$T/o1" --version "$V" \
	--pki "$T/nocs" > /dev/null 2> "$T/mk.err"; rc=$?
set -e
[ $rc = 1 ] && grep -q 'codeSigning' "$T/mk.err" || die "mkova with a non-code-signing cert: exit $rc $(cat "$T/mk.err")"
pass "mkova refuses a certificate without codeSigning: $(cat "$T/mk.err")"
# a FIFO in place of each input file: open() of a FIFO without a writer
# blocks for ever, so each is refused by its type first (exit 1: invalid input)
mkfifo "$T/raw.fifo" "$T/hw.fifo"
mkdir -p "$T/hwdir" "$T/pkifo"
sed 's/^eula_file = .*/eula_file = eula.fifo/' "$TOP/image/ova/esxi.hw" > "$T/hwdir/esxi.hw"
mkfifo "$T/hwdir/eula.fifo"
cp "$T/pki/"* "$T/pkifo/" && rm "$T/pkifo/dev-signing.key" && mkfifo "$T/pkifo/dev-signing.key"
mkova_fifo() { # what, want in stderr, then --raw/--hw/--pki values
	set +e
	timeout 10 "$BIN/mkova" build --raw "$3" --hw "$4" --out "$T/o1" --version "$V" \
		--pki "$5" > /dev/null 2> "$T/mk.err"; rc=$?
	set -e
	[ $rc = 1 ] && grep -q "$2" "$T/mk.err" ||
		die "mkova with a FIFO as $1: exit $rc (124: hung) $(cat "$T/mk.err")"
	pass "mkova refuses a FIFO as $1 at once: $(cat "$T/mk.err")"
}
mkova_fifo "the raw disk" 'raw.fifo: not a regular file or block device' "$T/raw.fifo" "$TOP/image/ova/esxi.hw" "$T/pki"
mkova_fifo "--hw" 'hw.fifo: not a regular file$' "$T/disk.raw" "$T/hw.fifo" "$T/pki"
mkova_fifo "the EULA" 'eula.fifo: not a regular file$' "$T/disk.raw" "$T/hwdir/esxi.hw" "$T/pki"
mkova_fifo "the signing key" 'dev-signing.key: not a regular file$' "$T/disk.raw" "$TOP/image/ova/esxi.hw" "$T/pkifo"
printf 'name = x\nbogus = 1\n' > "$T/bad.hw"
set +e
"$BIN/mkova" build --raw "$T/disk.raw" --hw "$T/bad.hw" --out "$T/o1" --version "$V" --pki "$T/pki" 2> "$T/mk.err"; rc=$?
set -e
[ $rc = 1 ] && grep -q 'line 2: unknown key' "$T/mk.err" || die "bad .hw: exit $rc $(cat "$T/mk.err")"
pass "a bad hardware description is refused naming the line: $(cat "$T/mk.err")"
done_testing
