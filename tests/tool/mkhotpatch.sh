#!/bin/bash
# tests/tool/mkhotpatch.sh - the hot-patch bundle maker (image/hotpatch,
# issue 9), with the development PKI, in a temporary directory:
#  - layout: one top directory named like the bundle, exactly its members,
#    ustar with owner 0:0 and no names, one mtime (SOURCE_DATE_EPOCH), gzip
#    without name or time; the manifest's digests and sizes are the files';
#  - the operator's checks: md5sum -c and sha256sum -c beside the tgz,
#    openssl dgst -sha256 -verify of the manifest with the certificate's key
#    and openssl verify of the certificate under the root (which fail for a
#    changed manifest, and under another root);
#  - reproducible: a second run (inputs touched) gives identical bytes;
#  - refusals, exit 1 and nothing written: a definition that is not
#    cumulative (a fix, a package, an older package release, a service of
#    v(N-1) missing; v(N-1) not defined), an unknown fix id, a definition
#    in a file of another level, a package not in the definition, of
#    another package release or version, missing, given twice, not a
#    package; a key that is not the certificate's; usage errors exit 100;
#  - the tree's own definitions (pkg/hotpatches): plan accepts them and
#    their fixes apply to this tree exactly (apply-fixes.sh, as make
#    hotpatch does), patched files keeping the newer of their and their
#    fix's time; a fix that does not apply stops it, named.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
V=${VERSION:-$(cat "$TOP/VERSION")}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$TOP/tests/tool/tamper-lib.sh"
export SOURCE_DATE_EPOCH=1700000000

REL=$(printf '%s\n' "$V" | sed -n 's/^\([0-9]*\.[0-9]*R[0-9]*\).*/\1/p')
[ -n "$REL" ] || { echo "1..0 # SKIP VERSION $V has no R part"; exit 0; }
NAME=Space-$REL-Hotpatch-v2
TGZ=$NAME.tgz

"$BIN/mkova" pki --dir "$T/pki" > /dev/null
"$BIN/mkova" pki --dir "$T/other" > /dev/null

# packages: small real ones, made by the pkg tool
mkdir -p "$T/st/usr/sbin" "$T/pk"
head -c 5000 /dev/urandom > "$T/st/usr/sbin/prog"
mkpkg() { # NAME VERSION RELEASE OUT
	"$BIN/pkg" build --name "$1" --version "$2" --release "$3" "$T/st" "$4" > /dev/null
}
mkpkg devgate "$V" 2 "$T/pk/devgate.pkg"
mkpkg mgmtd "$V" 2 "$T/pk/mgmtd.pkg"
mkpkg watchdog "$V" 3 "$T/pk/watchdog.pkg"

# definitions as in pkg/hotpatches
mkdir -p "$T/defs/fixes"
for f in fix-a fix-b fix-c; do echo "fix $f" > "$T/defs/fixes/$f.patch"; done
cat > "$T/defs/v1.conf" <<EOF
patch = 1
fix = 1 fix-a devgate: the first fix
package = devgate 2
package = watchdog 2
service = devgate
EOF
cat > "$T/defs/v2.conf" <<EOF
# v2: everything of v1, and more
patch = 2
fix = 1 fix-a devgate: the first fix
fix = 2 fix-b mgmtd: the second fix
fix = 2 fix-c watchdog: a configuration change
package = devgate 2
package = mgmtd 2
package = watchdog 3
service = devgate
service = mgmtd
backup = etc/watchdog.d/devgate.conf
EOF
printf '#!/bin/sh\n# test script\nexec /usr/sbin/hotpatch apply "$@" .\n' > "$T/patchme.sh"
ROOT=$T/pki/dev-root-ca.pem

# build DEFDIR OUT [PKG...]: mkhotpatch build of DEFDIR/v2.conf into OUT
build() {
	local d=$1 o=$2
	shift 2
	[ $# -gt 0 ] || set -- "$T/pk/devgate.pkg" "$T/pk/mgmtd.pkg" "$T/pk/watchdog.pkg"
	"$BIN/mkhotpatch" build --def "$d/v2.conf" --product space --version "$V" --script "$T/patchme.sh" \
		--out "$o" --pki "$T/pki" "$@"
}

# --- the bundle --------------------------------------------------------------
build "$T/defs" "$T/out" > "$T/mk.out"
grep -qx "mkhotpatch: $T/out/$TGZ: v2, 3 fixes, 3 packages, signed" "$T/mk.out" || die "mkhotpatch said: $(cat "$T/mk.out")"
[ "$(ls "$T/out" | tr '\n' ' ')" = "$TGZ $TGZ.md5 $TGZ.sha256 " ] || die "out: $(ls "$T/out")"
pass "mkhotpatch writes X.tgz, X.tgz.md5 and X.tgz.sha256 and nothing else"

want="$NAME/
$NAME/manifest
$NAME/manifest.cert.pem
$NAME/manifest.chain.pem
$NAME/manifest.sig
$NAME/packages/
$NAME/packages/devgate-$V-2.pkg
$NAME/packages/mgmtd-$V-2.pkg
$NAME/packages/watchdog-$V-3.pkg
$NAME/patchme.sh"
[ "$(tar -tzf "$T/out/$TGZ")" = "$want" ] || die "members: $(tar -tzf "$T/out/$TGZ")"
pass "one top directory $NAME/, exactly the members of manifest.h, sorted"

python3 - "$T/out/$TGZ" "$SOURCE_DATE_EPOCH" <<'EOF' || die "archive attributes (above)"
import gzip, sys, tarfile
path, sde = sys.argv[1], int(sys.argv[2])
raw = open(path, "rb").read(10)
assert raw[:3] == b"\x1f\x8b\x08", "not gzip/deflate"
assert raw[3] & 0x08 == 0, "gzip header carries a file name"
assert raw[4:8] == b"\0\0\0\0", "gzip header carries a time"
with tarfile.open(path, "r:gz") as t:
    for m in t.getmembers():
        assert m.pax_headers == {}, "%s: pax header" % m.name
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), "%s: owner %r" % (m.name, (m.uid, m.gid, m.uname, m.gname))
        assert m.mtime == sde, "%s: mtime %d" % (m.name, m.mtime)
        assert m.isdir() or m.isreg(), "%s: type" % m.name
        want = 0o755 if m.isdir() or m.name.endswith("/patchme.sh") else 0o644
        assert m.mode == want, "%s: mode %o" % (m.name, m.mode)
with open(path, "rb") as f:
    data = gzip.decompress(f.read())
assert data[257:265] == b"ustar\x0000", "not POSIX ustar"
EOF
pass "ustar, 0:0 without user or group names, mtime SOURCE_DATE_EPOCH, modes 0755/0644, gzip without name or time"

(cd "$T/out" && md5sum -c --quiet "$TGZ.md5" && sha256sum -c --quiet "$TGZ.sha256") > "$T/sums.out" 2>&1 ||
	die "md5sum/sha256sum -c: $(cat "$T/sums.out")"
[ "$(cat "$T/out/$TGZ.sha256")" = "$(cd "$T/out" && sha256sum "$TGZ")" ] || die ".sha256: $(cat "$T/out/$TGZ.sha256")"
[ "$(cat "$T/out/$TGZ.md5")" = "$(cd "$T/out" && md5sum "$TGZ")" ] || die ".md5: $(cat "$T/out/$TGZ.md5")"
pass "md5sum -c X.tgz.md5 and sha256sum -c X.tgz.sha256 pass beside it; the lines are md5sum's and sha256sum's"

mkdir "$T/x"
tar -C "$T/x" -xzf "$T/out/$TGZ"
D=$T/x/$NAME
# cli DIR ROOT: the operator's openssl checks of the manifest in DIR
cli() {
	openssl verify -CAfile "$2" -untrusted "$1/manifest.chain.pem" "$1/manifest.cert.pem" > "$T/cli.out" 2>&1 &&
		openssl x509 -in "$1/manifest.cert.pem" -pubkey -noout > "$T/pub.pem" &&
		openssl dgst -sha256 -verify "$T/pub.pem" -signature "$1/manifest.sig" "$1/manifest" >> "$T/cli.out" 2>&1
}
cli "$D" "$ROOT" || die "openssl: $(cat "$T/cli.out")"
pass "openssl verify -CAfile root -untrusted chain cert, openssl dgst -sha256 -verify of the manifest: good"
openssl dgst -sha256 -sign "$T/pki/dev-signing.key" -out "$T/openssl.sig" "$D/manifest"
cmp -s "$T/openssl.sig" "$D/manifest.sig" || die "manifest.sig is not openssl dgst -sha256 -sign's"
pass "manifest.sig is byte for byte what openssl dgst -sha256 -sign makes with the signing key"
cp -r "$D" "$T/bad"
sed -i 's/^patch = 2$/patch = 3/' "$T/bad/manifest"
! cli "$T/bad" "$ROOT" || die "a changed manifest verifies"
! cli "$D" "$T/other/dev-root-ca.pem" || die "the certificate verifies under another root"
pass "the same checks fail for a changed manifest and under another root"

mf() { sed -n "s/^$1 = //p" "$D/manifest"; }
[ "$(mf format) $(mf product) $(mf release) $(mf patch) $(mf name)" = "1 space $REL 2 $NAME" ] || die "manifest head: $(cat "$D/manifest")"
[ "$(mf patchme.sha256)" = "$(sha256sum < "$D/patchme.sh" | cut -c1-64)" ] || die "patchme.sha256"
cmp -s "$D/patchme.sh" "$T/patchme.sh" || die "patchme.sh is not the script given"
[ "$(mf fix | tr '\n' '|')" = "1 fix-a devgate: the first fix|2 fix-b mgmtd: the second fix|2 fix-c watchdog: a configuration change|" ] ||
	die "fixes: $(mf fix)"
for p in devgate:2 mgmtd:2 watchdog:3; do
	f=$D/packages/${p%:*}-$V-${p#*:}.pkg
	line="${p%:*} $V ${p#*:} $(stat -c %s "$f") $(sha256sum < "$f" | cut -c1-64)"
	mf package | grep -qx "$line" || die "no package line '$line' in: $(mf package)"
	cmp -s "$f" "$T/pk/${p%:*}.pkg" || die "$f is not the package given"
done
[ "$(mf service | tr '\n' ' ')$(mf backup)" = "devgate mgmtd etc/watchdog.d/devgate.conf" ] || die "services, backup"
pass "the manifest: release $REL (of $V), the cumulative fixes, each package's size and sha256, patchme.sh's, services, backup"

# --- reproducible ------------------------------------------------------------
touch "$T/pk/"*.pkg "$T/patchme.sh" "$T/defs/v2.conf"
build "$T/defs" "$T/again" > /dev/null
for f in "$TGZ" "$TGZ.md5" "$TGZ.sha256"; do
	cmp -s "$T/out/$f" "$T/again/$f" || die "$f differs between two runs"
done
pass "a second run (inputs touched) gives identical bytes"

# --- refusals ----------------------------------------------------------------
# refused WHAT WANT CMD...: exit 1, the message holds WANT, nothing in $T/r
refused() {
	local what=$1 want=$2 rc=0
	shift 2
	rm -rf "$T/r"
	"$@" > "$T/ref.out" 2>&1 || rc=$?
	[ "$rc" = 1 ] || die "$what: exit $rc (want 1): $(cat "$T/ref.out")"
	grep -qF -- "$want" "$T/ref.out" || die "$what: message '$(cat "$T/ref.out")', want '$want'"
	[ ! -e "$T/r" ] || [ -z "$(ls -A "$T/r")" ] || die "$what: wrote $(ls "$T/r")"
	pass "refused: $what ($(head -1 "$T/ref.out"))"
}
# defs NAME: a copy of the definitions to change
defs() { rm -rf "$T/$1" && cp -r "$T/defs" "$T/$1" && echo "$T/$1"; }

d=$(defs nofix)
sed -i '/fix-a/d' "$d/v2.conf"
refused "v2 without a fix of v1" "not cumulative: fix fix-a of v1 is missing" build "$d" "$T/r"
d=$(defs nopkg)
sed -i '/^package = watchdog/d' "$d/v2.conf"
refused "v2 without a package of v1" "not cumulative: package watchdog of v1 (release 2) is missing" build "$d" "$T/r" \
	"$T/pk/devgate.pkg" "$T/pk/mgmtd.pkg"
d=$(defs olderpkg)
sed -i 's/^package = devgate 2$/package = devgate 3/' "$d/v1.conf"
refused "v2 with an older package release than v1" "package devgate of v1 (release 3) has an older release" build "$d" "$T/r"
d=$(defs level)
sed -i 's/^fix = 1 fix-a/fix = 2 fix-a/' "$d/v2.conf"
refused "v2 with a fix of v1 at another level" "not cumulative: fix fix-a of v1 has another level" build "$d" "$T/r"
d=$(defs nosvc)
sed -i '/^service = devgate/d' "$d/v2.conf"
refused "v2 without a service of v1" "not cumulative: service devgate of v1 is missing" build "$d" "$T/r"
d=$(defs nov1)
rm "$d/v1.conf"
refused "v2 without v1 defined" "v2 carries everything v1 carried, which is not defined" build "$d" "$T/r"
d=$(defs unknown)
sed -i 's/^fix = 2 fix-b/fix = 2 fix-x/' "$d/v2.conf"
refused "an unknown fix id" "$d/fixes/fix-x.patch: unknown fix id: no such patch file" build "$d" "$T/r"
d=$(defs misnamed)
mv "$d/v2.conf" "$d/v3.conf"
refused "a definition in the file of another level" "patch = 2 must be in v2.conf" \
	"$BIN/mkhotpatch" plan --def "$d/v3.conf"
d=$(defs badline)
echo "package = mgmtd 1" >> "$d/v2.conf"
refused "a package release 1 (the release image's)" "line 12: package: release is not a number 2..9999" build "$d" "$T/r"

mkpkg other "$V" 2 "$T/pk/other.pkg"
refused "a package not in the definition" "package other is not in v2.conf" build "$T/defs" "$T/r" \
	"$T/pk/devgate.pkg" "$T/pk/mgmtd.pkg" "$T/pk/watchdog.pkg" "$T/pk/other.pkg"
mkpkg mgmtd "$V" 3 "$T/pk/mgmtd3.pkg"
refused "a package of another package release" "package mgmtd has release 3, v2.conf says 2" build "$T/defs" "$T/r" \
	"$T/pk/devgate.pkg" "$T/pk/mgmtd3.pkg" "$T/pk/watchdog.pkg"
mkpkg mgmtd "$V.9" 2 "$T/pk/mgmtdv.pkg"
refused "a package of another version" "package mgmtd has version $V.9, the build is $V" build "$T/defs" "$T/r" \
	"$T/pk/devgate.pkg" "$T/pk/mgmtdv.pkg" "$T/pk/watchdog.pkg"
refused "a package of the definition missing" "package mgmtd of the definition is not given" build "$T/defs" "$T/r" \
	"$T/pk/devgate.pkg" "$T/pk/watchdog.pkg"
refused "a package given twice" "the same package given twice" build "$T/defs" "$T/r" \
	"$T/pk/devgate.pkg" "$T/pk/mgmtd.pkg" "$T/pk/watchdog.pkg" "$T/pk/devgate.pkg"
refused "a file that is not a package" "not a package" build "$T/defs" "$T/r" \
	"$T/pk/devgate.pkg" "$T/patchme.sh" "$T/pk/watchdog.pkg"
refused "a key that is not the certificate's" "dev-signing" \
	"$BIN/mkhotpatch" build --def "$T/defs/v2.conf" --product space --version "$V" --script "$T/patchme.sh" \
	--out "$T/r" --key "$T/other/dev-signing.key" --cert "$T/pki/dev-signing.pem" \
	"$T/pk/devgate.pkg" "$T/pk/mgmtd.pkg" "$T/pk/watchdog.pkg"
mkpkg devgate 21.3 2 "$T/pk/devgate-train.pkg"
mkpkg watchdog 21.3 2 "$T/pk/watchdog-train.pkg"
refused "a version without an R part" "not a release version with an R part" \
	"$BIN/mkhotpatch" build --def "$T/defs/v1.conf" --product space --version 21.3 --script "$T/patchme.sh" \
	--out "$T/r" --pki "$T/pki" "$T/pk/devgate-train.pkg" "$T/pk/watchdog-train.pkg"

rc=0
"$BIN/mkhotpatch" build --def "$T/defs/v2.conf" --out "$T/r" > /dev/null 2>&1 || rc=$?
[ "$rc" = 100 ] || die "missing options: exit $rc"
rc=0
"$BIN/mkhotpatch" frobnicate --def "$T/defs/v2.conf" > /dev/null 2>&1 || rc=$?
[ "$rc" = 100 ] || die "unknown verb: exit $rc"
pass "usage errors (missing options, unknown verb) exit 100"

# --- the tree's definitions --------------------------------------------------
[ -d "$TOP/pkg/hotpatches" ] || die "no pkg/hotpatches"
mkdir "$T/tree"
cp -a "$TOP/pkg" "$T/tree/" # the fixes are to files below pkg/
for c in "$TOP"/pkg/hotpatches/v*.conf; do
	l=$(basename "$c" .conf)
	"$BIN/mkhotpatch" plan --def "$c" > "$T/plan-$l" || die "plan $c: $(cat "$T/plan-$l")"
	rm -rf "$T/src" && cp -a "$T/tree" "$T/src"
	sh "$TOP/image/hotpatch/apply-fixes.sh" "$T/src" "$TOP/pkg/hotpatches/fixes" "$T/plan-$l" > "$T/apply.out" 2>&1 ||
		die "$l: the fixes do not apply to this tree: $(cat "$T/apply.out")"
	for id in $(awk '$1 == "fix" { print $2 }' "$T/plan-$l"); do
		fix=$TOP/pkg/hotpatches/fixes/$id.patch
		for f in $(sed -n 's|^+++ b/||p' "$fix"); do
			! cmp -s "$T/tree/$f" "$T/src/$f" || die "$l: $id: $f unchanged"
			want=$(stat -c %Y "$T/tree/$f")
			[ "$want" -ge "$(stat -c %Y "$fix")" ] || want=$(stat -c %Y "$fix")
			[ "$(stat -c %Y "$T/src/$f")" = "$want" ] || die "$l: $f: time $(stat -c %Y "$T/src/$f"), want $want"
		done
	done
	pass "pkg/hotpatches/$l.conf: plan accepts it ($(grep -c '^fix' "$T/plan-$l") fixes, $(grep -c '^package' "$T/plan-$l") packages), its fixes apply to this tree exactly, times kept"
done
# applying v1's fix a second time: patch refuses it (no fuzz, no reverse)
rc=0
sh "$TOP/image/hotpatch/apply-fixes.sh" "$T/src" "$TOP/pkg/hotpatches/fixes" "$T/plan-v1" > "$T/apply.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "apply-fixes: fix $(awk '$1 == "fix" { print $2; exit }' "$T/plan-v1") does not apply to this tree" "$T/apply.out" ||
	die "a fix that does not apply: exit $rc: $(cat "$T/apply.out")"
pass "a fix that does not apply stops apply-fixes, naming it"

done_testing
