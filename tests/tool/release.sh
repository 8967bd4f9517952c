#!/bin/bash
# tests/tool/release.sh - the signed release image (image/release): built
# from root slot A of a small raw disk made by `mkimage disk`, its slot image
# byte-identical to that partition, reproducible, readable with tar/zstd/
# openssl; ova-verify --release on the untouched image and on the OVA's
# tamper matrix (flipped byte, truncated, removed, renamed member for each
# member; reordered; extra member; another signer; renamed file); mkrelease
# refusals; the upgrade-path answers of `mkrelease path`.
# Env: BIN, TOP, PRODUCT.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
P=${PRODUCT:-space}
V=21.3R1.3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$TOP/tests/tool/tamper-lib.sh"

IMG=$P-$V.img
MF=manifest CERT=manifest.cert CHAIN=certchain.pem SLOT=rootfs.ext4.zst
ALL=("$MF" "$CERT" "$CHAIN" "$SLOT")

# --- inputs: a small disk from a tiny tree, and the development PKI --------
. "$(dirname "$0")/tree-lib.sh"
mkdir -p "$T/tree/etc" "$T/tree/usr/bin"
boot_tree "$T/tree"
printf 'PRODUCT=%s\nVERSION=%s\n' "$P" "$V" > "$T/tree/etc/$P-release"
head -c 3000000 /dev/urandom > "$T/tree/usr/bin/random.bin"
"$BIN/mkimage" disk --out "$T/disk.raw" --rootfs "$T/tree" --seed release-test --product "$P" --version "$V" \
	--size 300M --root-size 64M > /dev/null
L=$("$BIN/mkimage" layout "$T/disk.raw" | grep ' name=root-a ')
first=$(sed 's/.* first=\([0-9]*\) .*/\1/' <<<"$L") bytes=$(sed 's/.* bytes=\([0-9]*\) .*/\1/' <<<"$L")
dd if="$T/disk.raw" of="$T/root-a.img" bs=512 skip="$first" count=$((bytes / 512)) status=none
for k in pki other; do "$BIN/mkova" pki --dir "$T/$k"; done
ROOT=$T/pki/dev-root-ca.pem
pass "inputs: a 300 MiB disk with a 64 MiB root-a from mkimage disk, development PKIs"

mkrel() { # mkrel OUTDIR [ARGS]: build with the defaults of the tree
	local o=$1
	shift
	mkdir -p "$o"
	"$BIN/mkrelease" build --raw "$T/disk.raw" --out "$o" --product "$P" --version "$V" --build 0123abcd4567 \
		--kernel 6.1.0-test --targets 'kvm esxi ja2500' --paths "$TOP/image/release/upgrade-paths.conf" \
		--apps "$TOP/image/release/app-compat.conf" "$@"
}
mkrel "$T/o1" --pki "$T/pki" -j 1 > "$T/build.out"
mkrel "$T/o2" --pki "$T/pki" -j 2 > /dev/null
cmp -s "$T/o1/$IMG" "$T/o2/$IMG" || die "two builds differ"
pass "two builds (1 and 2 threads) give identical bytes"
[ "$(ls -A "$T/o1")" = "$IMG" ] || die "stray files in the output dir: $(ls -A "$T/o1")"
pass "only $IMG is left in the output directory"
grep -q "^mkrelease: $T/o1/$IMG (slot $bytes bytes, packed [0-9]*)\$" "$T/build.out" || die "build output: $(cat "$T/build.out")"

# --- what an operator sees with tar, zstd, sha256sum and openssl ------------
[ "$(tar -tf "$T/o1/$IMG" | tr '\n' ' ')" = "${ALL[*]} " ] || die "member order: $(tar -tf "$T/o1/$IMG")"
pass "tar tf: manifest, manifest.cert, certchain.pem, rootfs.ext4.zst, in this order"
mkdir "$T/x" && tar -C "$T/x" -xf "$T/o1/$IMG"
zstd -q -d -c "$T/x/$SLOT" > "$T/slot.img"
cmp -s "$T/slot.img" "$T/root-a.img" || die "the unpacked slot image is not root-a of the disk"
pass "zstd -d of $SLOT is byte-identical to partition root-a of the raw disk"
[ "$(stat -c %s "$T/o1/$IMG")" -lt 8000000 ] || die "image too large for a 64 MiB slot with 3 MB of data: $(stat -c %s "$T/o1/$IMG")"
pass "unused blocks cost nothing: $(stat -c %s "$T/o1/$IMG") bytes for a $bytes-byte slot"
want() { grep -qx "$1" "$T/x/$MF" || die "manifest lacks '$1': $(cat "$T/x/$MF")"; }
want "format = 1"
want "product = $P"
want "release = $V"
want "build = 0123abcd4567"
want "file = $IMG"
want "targets = kvm esxi ja2500"
want "kernel = 6.1.0-test"
want "slot.size = $bytes"
want "slot.min-size = $bytes"
want "slot.sha256 = $(sha256sum < "$T/root-a.img" | cut -d' ' -f1)"
want "slot.zst.size = $(stat -c %s "$T/x/$SLOT")"
want "slot.zst.sha256 = $(sha256sum < "$T/x/$SLOT" | cut -d' ' -f1)"
want "upgrade-from = 21.1 21.2"
want "upgrade-paths = 1"
pass "manifest: product, release, build, file, targets, kernel, sizes, SHA-256s (= sha256sum), upgrade-from 21.1 21.2"
out=$(openssl verify -CAfile "$ROOT" -untrusted "$T/x/$CHAIN" "$T/x/$CERT")
[ "$out" = "$T/x/$CERT: OK" ] || die "openssl verify: $out"
sed -n "1s/^SHA256($MF)= //p" "$T/x/$CERT" | xxd -r -p > "$T/sig.bin"
openssl x509 -in "$T/x/$CERT" -pubkey -noout > "$T/pub.pem"
out=$(openssl dgst -sha256 -verify "$T/pub.pem" -signature "$T/sig.bin" "$T/x/$MF")
[ "$out" = "Verified OK" ] || die "openssl dgst -verify: $out"
pass "openssl: the chain verifies and the signature is over the manifest bytes"
! grep -q 'PRIVATE KEY' "$T/o1/$IMG" || die "private key material in the image"

# --- ova-verify on the good image -------------------------------------------
"$BIN/ova-verify" --ca "$ROOT" "$T/o1/$IMG" > "$T/v.out" || die "ova-verify rejects the good image: $(cat "$T/v.out")"
for c in manifest name-binding signature cert-chain member-order digest slot-image; do
	grep -q "^ok   $c " "$T/v.out" || die "no ok $c: $(cat "$T/v.out")"
done
pass "ova-verify --ca: VALID ($(grep -c '^ok' "$T/v.out") checks: manifest, name, signature, chain, order, digest, slot image)"
"$BIN/ova-verify" --ca "$ROOT" --release --name "$IMG" - < "$T/o1/$IMG" > /dev/null || die "stdin with --name"
pass "ova-verify --release --name reads the image from a pipe"
set +e
"$BIN/ova-verify" --ca "$ROOT" --release - < "$T/o1/$IMG" > "$T/t.out"; rc=$?
"$BIN/ova-verify" --json --ca "$ROOT" "$T/o1/$IMG" > "$T/v.json"; rc2=$?
"$BIN/ova-verify" --name x.img "$T/o1/$IMG" > /dev/null 2>&1; rc3=$?
set -e
[ $rc = 1 ] && grep -q '^FAIL name-binding .*--name' "$T/t.out" || die "stdin without --name: exit $rc $(cat "$T/t.out")"
pass "from a pipe without --name the name binding FAILs (exit 1)"
[ $rc2 = 0 ] && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["valid"] and all(c["ok"] for c in d["checks"]) and any(c["check"] == "slot-image" for c in d["checks"])' "$T/v.json" ||
	die "--json"
pass "--json: valid JSON, every check ok, slot-image among them"
[ $rc3 = 100 ] || die "--name with a file: exit $rc3"
pass "--name with a file argument is a usage error (exit 100)"

# --- tamper matrix ----------------------------------------------------------
expect_fail() { # NAME PATTERN IMAGE [ARGS]: exit 1 and a FAIL line matching PATTERN
	local name=$1 pat=$2 img=$3 rc
	shift 3
	set +e
	"$BIN/ova-verify" --ca "$ROOT" --release "$@" "$img" > "$T/t.out" 2>&1; rc=$?
	set -e
	[ $rc = 1 ] || die "$name: exit $rc, want 1: $(cat "$T/t.out")"
	grep -Eq "^FAIL $pat" "$T/t.out" || die "$name: no FAIL line matching '$pat': $(grep '^FAIL' "$T/t.out")"
	pass "$name: $(grep -E "^FAIL $pat" "$T/t.out" | head -1 | cut -c1-120)"
}
# pack, flip, resign: an image as an attacker would make it, with GNU tar
fresh() { rm -rf "$T/w" && cp -a "$T/x" "$T/w" && mkdir -p "$T/t"; }
OUT=$T/t/$IMG
fresh && pack "$T/w" "$OUT" "${ALL[@]}"
"$BIN/ova-verify" --ca "$ROOT" "$OUT" > /dev/null || die "repacked untouched image rejected"
pass "untouched members repacked with GNU tar still pass (the tamper harness is sound)"

declare -A FLIP_AT=([$MF]=30 [$CERT]=40 [$CHAIN]=300 [$SLOT]=$(($(stat -c %s "$T/x/$SLOT") / 2)))
declare -A FLIP_PAT=([$MF]="(signature|manifest) +$MF" [$CERT]="signature" [$CHAIN]="(chain-file|cert-chain)"
	[$SLOT]="digest +$SLOT: SHA256 does not match")
declare -A CUT_PAT=([$MF]="manifest +$MF" [$CERT]="cert-format +$CERT" [$CHAIN]="(chain-file|cert-chain)"
	[$SLOT]="digest +$SLOT: [0-9]+ bytes, the manifest says")
declare -A GONE_PAT=([$MF]="manifest +$MF: missing" [$CERT]="cert-format +$CERT: missing: the image is not signed"
	[$CHAIN]="chain-file +$CHAIN: missing" [$SLOT]="slot-image +$SLOT: missing")
tamper_members "$OUT" "unexpected-member +renamed-%s"
# the flipped slot byte also fails the unpacked check, whatever zstd makes of it
fresh && flip "$T/w/$SLOT" "${FLIP_AT[$SLOT]}" && pack "$T/w" "$OUT" "${ALL[@]}"
expect_fail "flipped byte in $SLOT: the slot image check" "slot-image +$SLOT" "$OUT"
fresh && pack "$T/w" "$OUT" "$CERT" "$MF" "$CHAIN" "$SLOT"
expect_fail "reordered: certificate before manifest" "member-order" "$OUT"
fresh && pack "$T/w" "$OUT" "$MF" "$SLOT" "$CERT" "$CHAIN"
expect_fail "reordered: slot image before the signature" "member-order" "$OUT"
fresh && echo extra > "$T/w/README.txt" && pack "$T/w" "$OUT" "${ALL[@]}" README.txt
expect_fail "extra member" "unexpected-member +README.txt" "$OUT"
fresh && echo extra > "$T/w/evil.sh" && pack "$T/w" "$OUT" "$MF" "$CERT" "$CHAIN" evil.sh "$SLOT"
expect_fail "extra member before the slot image" "unexpected-member +evil.sh" "$OUT"
head -c 20000 "$T/o1/$IMG" > "$OUT"
expect_fail "truncated image" "tar-format.*truncated" "$OUT"
fresh && tar -C "$T/w" --format=pax -cf "$OUT" "${ALL[@]}"
expect_fail "PAX-format archive" "tar-format" "$OUT"

# another signer: a valid certificate from another CA, re-signed manifest
fresh && resign "$T/pki" && pack "$T/w" "$OUT" "${ALL[@]}"
"$BIN/ova-verify" --ca "$ROOT" "$OUT" > /dev/null || die "shell re-signing with the genuine key rejected"
pass "re-signing with openssl and the genuine key passes (the re-sign harness is sound)"
fresh && sed -i 's/^upgrade-from = .*/upgrade-from = 18.2 20.3 21.1 21.2/' "$T/w/$MF" && resign "$T/other" && pack "$T/w" "$OUT" "${ALL[@]}"
expect_fail "manifest changed and re-signed by another CA" "cert-chain.*(issuer|unable)" "$OUT"
fresh && sed -i 's/^upgrade-from = .*/upgrade-from = 18.2 20.3 21.1 21.2/' "$T/w/$MF" && pack "$T/w" "$OUT" "${ALL[@]}"
expect_fail "manifest changed, signature kept" "signature +$MF" "$OUT"
mkrel "$T/o3" --pki "$T/other" > /dev/null
expect_fail "an image built with another PKI" "cert-chain.*(issuer|unable)" "$T/o3/$IMG"

# the file name is bound into the signed manifest
cp "$T/o1/$IMG" "$T/t/$P-21.3R2.img"
expect_fail "renamed file" "name-binding +$IMG: renamed: the file is $P-21.3R2.img but the signed manifest names $IMG" "$T/t/$P-21.3R2.img"
cp "$T/o1/$IMG" "$T/t/upgrade.img"
expect_fail "renamed file (any name)" "name-binding.*upgrade.img.*$IMG" "$T/t/upgrade.img"
expect_fail "--name of another file" "name-binding.*$P-21.4R1.img" - --name "$P-21.4R1.img" < "$T/o1/$IMG"

# --- mkrelease refusals -------------------------------------------------------
refused() { # NAME PATTERN RC CMD...: exit RC, stderr one line matching PATTERN, no output file
	local name=$1 pat=$2 want=$3 rc
	shift 3
	rm -rf "$T/r" && mkdir "$T/r"
	set +e
	"$@" > /dev/null 2> "$T/r.err"; rc=$?
	set -e
	[ $rc = "$want" ] && [ "$(wc -l < "$T/r.err")" = 1 ] && grep -Eq "$pat" "$T/r.err" ||
		die "$name: exit $rc (want $want): $(cat "$T/r.err")"
	[ -z "$(ls -A "$T/r")" ] || die "$name: left $(ls -A "$T/r")"
	pass "$name: $(cat "$T/r.err")"
}
truncate -s 64M "$T/plain.raw" && mke2fs -q -t ext4 -F "$T/plain.raw"
refused "a disk without a GPT" "^mkrelease: build .*plain.raw: not a raw disk with a valid GPT" 1 \
	"$BIN/mkrelease" build --raw "$T/plain.raw" --out "$T/r" --version "$V" --build b --kernel k --targets kvm \
	--paths "$TOP/image/release/upgrade-paths.conf" --pki "$T/pki"
refused "a release no train may go to" "^mkrelease: build .*upgrade-paths.conf: no release train may go to 30.1R1" 1 \
	"$BIN/mkrelease" build --raw "$T/disk.raw" --out "$T/r" --version 30.1R1 --build b --kernel k --targets kvm \
	--paths "$TOP/image/release/upgrade-paths.conf" --pki "$T/pki"
refused "a version that is not a release" "^mkrelease: build 21.3: not a release version" 1 \
	"$BIN/mkrelease" build --raw "$T/disk.raw" --out "$T/r" --version 21.3 --build b --kernel k --targets kvm \
	--paths "$TOP/image/release/upgrade-paths.conf" --pki "$T/pki"
printf 'format = 1\nrevision = 1\n21.1 = 21.3\n21.1 = 21.2\n' > "$T/bad-paths.conf"
refused "a matrix with a train twice" "bad-paths.conf: line 4: train listed twice" 1 \
	"$BIN/mkrelease" build --raw "$T/disk.raw" --out "$T/r" --version "$V" --build b --kernel k --targets kvm \
	--paths "$T/bad-paths.conf" --pki "$T/pki"
printf 'format = 1\nsecdir = 21.3R2 21.3R1\n' > "$T/bad-apps.conf"
refused "an application table with min > max" "bad-apps.conf: line 2: minimum is newer than maximum" 1 \
	"$BIN/mkrelease" build --raw "$T/disk.raw" --out "$T/r" --version "$V" --build b --kernel k --targets kvm \
	--paths "$TOP/image/release/upgrade-paths.conf" --apps "$T/bad-apps.conf" --pki "$T/pki"
refused "a target twice" "^mkrelease: build --targets: want 1 to 8 distinct" 1 \
	"$BIN/mkrelease" build --raw "$T/disk.raw" --out "$T/r" --version "$V" --build b --kernel k --targets 'kvm kvm' \
	--paths "$TOP/image/release/upgrade-paths.conf" --pki "$T/pki"
"$BIN/mkova" pki --dir "$T/nocs" --no-codesign
refused "a certificate without codeSigning" "codeSigning" 1 \
	"$BIN/mkrelease" build --raw "$T/disk.raw" --out "$T/r" --version "$V" --build b --kernel k --targets kvm \
	--paths "$TOP/image/release/upgrade-paths.conf" --pki "$T/nocs"
mkfifo "$T/raw.fifo"
refused "a FIFO as the raw disk" "raw.fifo" 1 timeout 20 \
	"$BIN/mkrelease" build --raw "$T/raw.fifo" --out "$T/r" --version "$V" --build b --kernel k --targets kvm \
	--paths "$TOP/image/release/upgrade-paths.conf" --pki "$T/pki"

# --- the application table reaches the manifest -----------------------------
printf 'format = 1\nsecdir = 21.3R1 -\nnetdir = 21.1R1 21.3R9.2\n' > "$T/apps.conf"
mkrel "$T/o4" --pki "$T/pki" --apps "$T/apps.conf" > /dev/null
tar -xOf "$T/o4/$IMG" "$MF" > "$T/m4"
grep -qx 'app.secdir = 21.3R1 -' "$T/m4" && grep -qx 'app.netdir = 21.1R1 21.3R9.2' "$T/m4" || die "apps: $(cat "$T/m4")"
"$BIN/ova-verify" --ca "$ROOT" "$T/o4/$IMG" | grep -q '^ok   manifest .*2 application(s)' || die "ova-verify apps"
pass "--apps rows become app.NAME lines of the signed manifest; ova-verify reads them"

# --- upgrade paths and version order ---------------------------------------
PATHS=$TOP/image/release/upgrade-paths.conf
"$BIN/mkrelease" path --paths "$PATHS" 21.1R1 21.3R1 > /dev/null && "$BIN/mkrelease" path --paths "$PATHS" 21.2R1 21.3R1 > /dev/null ||
	die "21.1/21.2 -> 21.3"
"$BIN/mkrelease" path --paths "$PATHS" 21.3R1 21.3R2 > /dev/null || die "21.3R1 -> 21.3R2"
pass "mkrelease path: 21.1R1 and 21.2R1 -> 21.3R1, 21.3R1 -> 21.3R2 supported"
refused "20.3R1 -> 21.3R1" "^mkrelease: path 20.3R1: upgrade path 20.3R1 -> 21.3R1 is not supported: 21.3R1 may be installed over 21.1 21.2, or 21.3 releases" 1 \
	"$BIN/mkrelease" path --paths "$PATHS" 20.3R1 21.3R1
refused "21.3R2 -> 21.3R1" "downgrade" 1 "$BIN/mkrelease" path --paths "$PATHS" 21.3R2 21.3R1
[ "$("$BIN/mkrelease" compare 21.3R1 21.3R1.3)$("$BIN/mkrelease" compare 21.3R1.3 21.3R2)$("$BIN/mkrelease" compare 21.4R1 21.3R2)" = '<<>' ] ||
	die "compare"
pass "mkrelease compare: 21.3R1 < 21.3R1.3 < 21.3R2 < 21.4R1"
done_testing
