#!/usr/bin/python3
# tests/image/check-sbom.py DOC SCHEMA ROOTFS LOCK PKG NODE_PATH - the SPDX
# SBOM of a build (image/sbom, make test-image): valid against the SPDX 2.3
# JSON schema (python3-jsonschema), the same bytes as the tree's copy at
# NODE_PATH, every package of `pkg list` in it at its version, each Debian
# one GENERATED_FROM its .deb with the digest of pkg/debs.lock and a source
# package, every license expression valid SPDX (python3-license-expression)
# with its LicenseRefs declared, and the relationships: the document
# DESCRIBES the image, which CONTAINS each package.
import json, re, subprocess, sys

import jsonschema
from license_expression import get_spdx_licensing

doc_path, schema_path, rootfs, lock_path, pkg, node_path = sys.argv[1:7]
fails = 0

def check(cond, what):
    global fails
    print(("ok - " if cond else "not ok - ") + what)
    fails += 0 if cond else 1

raw = open(doc_path, "rb").read()
doc = json.loads(raw)
try:
    jsonschema.validate(doc, json.load(open(schema_path)))
    check(True, "valid against the SPDX 2.3 schema")
except jsonschema.ValidationError as e:
    check(False, "valid against the SPDX 2.3 schema: %s at %s" % (e.message, list(e.path)))
check(open(rootfs + "/" + node_path, "rb").read() == raw, "the node's /%s is the same document" % node_path)

el = {p["SPDXID"]: p for p in doc["packages"]}
rel = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
check(("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image") in rel, "the document DESCRIBES the image")
by_name = {p["name"]: p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Package-")}
lock = {}
for line in open(lock_path):
    f = line.split()
    if f and not f[0].startswith("#"):
        lock[f[0]] = (f[1], f[3])
installed = json.loads(subprocess.run([pkg, "--root", rootfs, "list", "--json"], check=True,
                                      capture_output=True).stdout)
bad = []
for p in installed:
    e = by_name.get(p["name"])
    ver = "%s-%s" % (p["version"], p["release"])
    if not e or e["versionInfo"] != ver or ("SPDXRef-Image", "CONTAINS", e["SPDXID"]) not in rel:
        bad.append("%s %s" % (p["name"], ver))
check(not bad and len(installed) == len(by_name),
      "each of the %d installed packages, at its version, CONTAINed (%s)" % (len(installed), bad))
bad = []
for name, (version, sha) in sorted(lock.items()):
    deb = el.get("SPDXRef-Deb-" + re.sub(r"[^A-Za-z0-9.-]", "-", name.replace("+", "plus")))
    if not deb or deb["versionInfo"] != version or deb["checksums"] != [{"algorithm": "SHA256", "checksumValue": sha}] \
            or not re.match(r"built from the Debian source package \S+ \S+$", deb.get("sourceInfo", "")) \
            or (by_name[name]["SPDXID"], "GENERATED_FROM", deb["SPDXID"]) not in rel:
        bad.append(name)
check(not bad, "each of the %d pinned packages GENERATED_FROM its .deb, the lock's digest, its source (%s)"
      % (len(lock), bad))
refs = {r["licenseId"] for r in doc.get("hasExtractedLicensingInfos", [])}
licensing = get_spdx_licensing()
bad = []
for e in doc["packages"]:
    for key in ("licenseDeclared", "licenseConcluded"):
        expr = e[key]
        if expr in ("NOASSERTION", "NONE"):
            continue
        used = set(re.findall(r"LicenseRef-[A-Za-z0-9.-]+", expr))
        errors = licensing.validate(re.sub(r"LicenseRef-[A-Za-z0-9.-]+", "MIT", expr)).errors
        if used - refs or errors:
            bad.append("%s %s: %s %s" % (e["name"], key, sorted(used - refs), errors))
check(not bad, "every license expression is valid SPDX, its LicenseRefs declared (%s)" % bad[:3])
ours = [p for p in by_name.values() if p["name"] not in lock]
check(ours and all(p["licenseDeclared"] == "MIT" for p in ours), "our %d packages under MIT" % len(ours))
sys.exit(1 if fails else 0)
