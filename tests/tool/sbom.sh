#!/bin/bash
# tests/tool/sbom.sh - mksbom (image/sbom) on a small made-up tree: two
# packages installed with pkg (one "converted from Debian", pinned in a
# lock, with its control data and DEP-5 copyright file; one of ours), then
# the document's content (schema checks are make test-image's), the same
# bytes again and for the PKG arguments in another order, the other
# copyright cases (free text, a doc link to another pinned package, one to
# a package that is not pinned), and each refusal: one line, its exit code
# (README "Exit codes": 1 refused input, 100 usage, 111 I/O), no output.
set -eu
BIN=${BIN:-out/bin}
TOP=${TOP:-.}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
. "$TOP/tests/tool/lib.sh"
export SOURCE_DATE_EPOCH=1700000000

# Two packages, installed the way the image build installs them.
mkdir -p "$W/st-foo/usr/lib" "$W/st-tool/usr/bin" "$W/st-bar/usr/lib" "$W/root" "$W/info"
echo lib > "$W/st-foo/usr/lib/libfoo.so.1"
echo bar > "$W/st-bar/usr/lib/libbar.so.1"
echo tool > "$W/st-tool/usr/bin/tool"
"$BIN/pkg" build --name libfoo --version 1:1.2+dfsg-3 --release 1 --summary "foo library" "$W/st-foo" "$W/libfoo.pkg" >/dev/null
"$BIN/pkg" build --name libbar --version 2.0-1 --release 1 "$W/st-bar" "$W/libbar.pkg" >/dev/null
"$BIN/pkg" build --name tool --version 21.3R1 --release 1 --depends libfoo "$W/st-tool" "$W/tool.pkg" >/dev/null
"$BIN/pkg" --root "$W/root" install --no-chown "$W/libfoo.pkg" "$W/libbar.pkg" "$W/tool.pkg" >/dev/null
SHA_FOO=1111111111111111111111111111111111111111111111111111111111111111
SHA_BAR=2222222222222222222222222222222222222222222222222222222222222222
printf 'libfoo 1:1.2+dfsg-3 amd64 %s\nlibbar 2.0-1 amd64 %s\n' $SHA_FOO $SHA_BAR > "$W/lock"
printf 'Package: libfoo\nVersion: 1:1.2+dfsg-3\nSource: foo (1.2+dfsg-2)\nArchitecture: amd64\n' > "$W/info/libfoo.control"
printf 'Package: libbar\nVersion: 2.0-1\nArchitecture: amd64\n' > "$W/info/libbar.control"
cat > "$W/info/libfoo.copyright" <<'COPY'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: foo

Files: *
Copyright: 2020 Someone
License: LGPL-2.1+ or Foo-permissive

Files: debian/*
Copyright: 2021 Someone else
License: Expat

License: Foo-permissive
 Do what you like.
COPY
printf 'libfoo\n' > "$W/info/libbar.doclink"

sbom() {
	"$BIN/mksbom" --root "$W/root" --lock "$W/lock" --debinfo "$W/info" --product space --version 21.3R1 \
		--build abc123 "$@"
}

check "a document of the tree" sbom --self sbom --out "$W/a.json" "$W/libfoo.pkg" "$W/libbar.pkg" "$W/tool.pkg"
check "the same bytes again, PKG in another order" sbom --self sbom --out "$W/b.json" "$W/tool.pkg" "$W/libbar.pkg" "$W/libfoo.pkg"
check "identical" cmp "$W/a.json" "$W/b.json"
check "no temporary file left" test "$(ls "$W" | grep -c 'json.')" = 0

# What it says: read with python's json, each claim checked.
check "its content" python3 - "$W/a.json" "$(sha256sum < "$W/libfoo.pkg" | cut -c1-64)" \
	"$(sha256sum < "$W/tool.pkg" | cut -c1-64)" $SHA_FOO $SHA_BAR <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
foo_pkg, tool_pkg, foo_deb, bar_deb = sys.argv[2:6]
def fail(m): sys.exit("FAIL: " + m)
el = {p["SPDXID"]: p for p in doc["packages"]}
rel = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
if doc["spdxVersion"] != "SPDX-2.3" or doc["creationInfo"]["created"] != "2023-11-14T22:13:20Z": fail("header")
if doc["documentNamespace"] != "https://spdx.org/spdxdocs/space-21.3R1-abc123": fail("namespace")
names = sorted(p["name"] for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Package-"))
if names != ["libbar", "libfoo", "sbom", "tool"]: fail("packages %s" % names)
foo, deb = el["SPDXRef-Package-libfoo"], el["SPDXRef-Deb-libfoo"]
if foo["versionInfo"] != "1:1.2+dfsg-3-1" or foo["checksums"][0]["checksumValue"] != foo_pkg: fail("libfoo %s" % foo)
if deb["checksums"][0]["checksumValue"] != foo_deb or deb["packageFileName"] != "libfoo_1%3a1.2+dfsg-3_amd64.deb": fail("deb")
if "Debian source package foo 1.2+dfsg-2" not in deb["sourceInfo"]: fail("source %s" % deb["sourceInfo"])
if deb["externalRefs"][0]["referenceLocator"] != "pkg:deb/debian/libfoo@1%3A1.2%2Bdfsg-3?arch=amd64": fail("purl")
want = "(LGPL-2.1-or-later OR LicenseRef-libfoo-Foo-permissive) AND MIT"
if deb["licenseDeclared"] != want or foo["licenseDeclared"] != want: fail("license %s" % deb["licenseDeclared"])
bar = el["SPDXRef-Deb-libbar"]
if "source package libbar 2.0-1" not in bar["sourceInfo"]: fail("no Source: the binary's own name")
if bar["licenseDeclared"] != want.replace("libfoo-", "libbar-"): fail("doclink: libfoo's file %s" % bar["licenseDeclared"])
refs = {r["licenseId"]: r for r in doc["hasExtractedLicensingInfos"]}
if refs["LicenseRef-libfoo-Foo-permissive"]["extractedText"] != "Do what you like.": fail("extracted text")
tool = el["SPDXRef-Package-tool"]
if tool["licenseDeclared"] != "MIT" or tool["checksums"][0]["checksumValue"] != tool_pkg: fail("tool")
if "checksums" in el["SPDXRef-Package-sbom"]: fail("the document's own package has no digest")
for n in names:
    if ("SPDXRef-Image", "CONTAINS", "SPDXRef-Package-" + n) not in rel: fail("CONTAINS " + n)
for want in [("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"),
             ("SPDXRef-Package-libfoo", "GENERATED_FROM", "SPDXRef-Deb-libfoo"),
             ("SPDXRef-Package-tool", "DEPENDS_ON", "SPDXRef-Package-libfoo")]:
    if want not in rel: fail("relationship %s" % (want,))
PY

# The other copyright cases: free text; a link to a package not pinned.
cp "$W/info/libfoo.copyright" "$W/copyright.good"
printf 'This package was debianized by someone.\n' > "$W/info/libfoo.copyright"
printf 'libzzz\n' > "$W/info/libbar.doclink"
check "a free-text copyright file and a link to an unpinned package" \
	sbom --out "$W/c.json" "$W/libfoo.pkg" "$W/libbar.pkg" "$W/tool.pkg"
check "both NOASSERTION, with the reason" python3 -c '
import json, sys
el = {p["SPDXID"]: p for p in json.load(open(sys.argv[1]))["packages"]}
foo, bar = el["SPDXRef-Deb-libfoo"], el["SPDXRef-Deb-libbar"]
assert foo["licenseDeclared"] == "NOASSERTION" and "not machine readable" in foo["comment"], foo
assert bar["licenseDeclared"] == "NOASSERTION" and "libzzz, which is not pinned" in bar["comment"], bar
assert "SPDXRef-Package-sbom" not in el
' "$W/c.json"

cp "$W/copyright.good" "$W/info/libfoo.copyright"
printf 'libfoo\n' > "$W/info/libbar.doclink"

# Refusals: exit code, one line naming the object, nothing written.
refuse() {
	local what=$1 want=$2 msg=$3; shift 3
	expect_rc "$what: exit $want" "$want" "$@"
	if [ "$(wc -l < "$W/out")" = 1 ] && grep -q "^mksbom: .*$msg" "$W/out"; then pass "$what: one line"
	else fail "$what: one line with '$msg'"; sed 's/^/#   /' "$W/out"; fi
	if [ -e "$W/r.json" ] || ls "$W" | grep -q 'r.json.'; then fail "$what: output written"; rm -f "$W"/r.json*; fi
}
ALL=("$W/libfoo.pkg" "$W/libbar.pkg" "$W/tool.pkg")
refuse "no SOURCE_DATE_EPOCH" 100 "SOURCE_DATE_EPOCH" env -u SOURCE_DATE_EPOCH "$BIN/mksbom" --root "$W/root" \
	--lock "$W/lock" --debinfo "$W/info" --product space --version 21.3R1 --build x --out "$W/r.json" "${ALL[@]}"
expect_rc "no --out: usage" 100 sbom "${ALL[@]}"
expect_rc "no PKG: usage" 100 sbom --out "$W/r.json"
refuse "a .pkg of a package not installed" 1 "other.pkg: package other is not installed" \
	sbom --out "$W/r.json" "${ALL[@]}" "$(mkdir -p "$W/st-o" && echo o > "$W/st-o/o" &&
		"$BIN/pkg" build --name other --version 1 "$W/st-o" "$W/other.pkg" >/dev/null && echo "$W/other.pkg")"
refuse "an installed package without its .pkg" 1 "check tool: installed in .*, but no .pkg" \
	sbom --out "$W/r.json" "$W/libfoo.pkg" "$W/libbar.pkg"
"$BIN/pkg" build --name tool --version 21.3R2 "$W/st-tool" "$W/tool2.pkg" >/dev/null
refuse "a .pkg of another version" 1 "tool2.pkg: it is tool 21.3R2-1, the tree has 21.3R1-1" \
	sbom --out "$W/r.json" "$W/libfoo.pkg" "$W/libbar.pkg" "$W/tool2.pkg"
cp "$W/info/libfoo.control" "$W/control.good"
printf 'Package: libfoo\nVersion: 9\n' > "$W/info/libfoo.control"
refuse "control data of another version" 1 "read libfoo: control data names libfoo 9, the lock pins libfoo 1:1.2+dfsg-3" \
	sbom --out "$W/r.json" "${ALL[@]}"
printf 'Package: libfoo\nno colon\n' > "$W/info/libfoo.control"
refuse "malformed control data" 1 "read libfoo: control data: line 2: no ':'" sbom --out "$W/r.json" "${ALL[@]}"
printf 'Package: libfoo\nVersion: 1:1.2+dfsg-3\nSource: foo (1.2\n' > "$W/info/libfoo.control"
refuse "a bad Source field" 1 "Source field 'foo (1.2' is not NAME" sbom --out "$W/r.json" "${ALL[@]}"
rm "$W/info/libfoo.control"
refuse "missing control data" 111 "read $W/info/libfoo.control: " sbom --out "$W/r.json" "${ALL[@]}"
cp "$W/control.good" "$W/info/libfoo.control"
cp "$W/lock" "$W/lock.good"
printf 'libfoo 1:1.2+dfsg-3 amd64 nothex\n' > "$W/lock"
refuse "a malformed lock" 1 "read $W/lock: line 1" sbom --out "$W/r.json" "${ALL[@]}"
printf 'libfoo 1:1.2+dfsg-4 amd64 %s\nlibbar 2.0-1 amd64 %s\n' $SHA_FOO $SHA_BAR > "$W/lock"
refuse "a tree at another version than the lock" 1 "check libfoo: installed version 1:1.2+dfsg-3, the lock pins 1:1.2+dfsg-4" \
	sbom --out "$W/r.json" "${ALL[@]}"
cp "$W/lock.good" "$W/lock"
refuse "an output directory that is not there" 111 "write $W/nodir/r.json" sbom --out "$W/nodir/r.json" "${ALL[@]}"
refuse "a root without a package database" 111 "open $W/info: no package database" sbom --root "$W/info" --out "$W/r.json" "${ALL[@]}"
check "the good inputs still give the first document" sbom --self sbom --out "$W/d.json" "${ALL[@]}"
check "identical to the first" cmp "$W/a.json" "$W/d.json"

done_testing
