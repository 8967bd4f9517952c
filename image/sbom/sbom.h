/* SPDX-License-Identifier: MIT */
/* sbom.h - the SPDX 2.3 document of a root tree (mksbom).
 *
 * The document DESCRIBES one package, the root tree of the release, which
 * CONTAINS one package per installed package of its database. A package
 * converted from Debian is GENERATED_FROM a second element, the .deb (its
 * sha256 from pkg/debs.lock, its source package and version from its
 * control data, its license from its DEP-5 copyright file); our own
 * packages carry the project's license. Same inputs, same bytes: packages
 * by name, extracted licenses by id, the time from the caller.
 */
#ifndef SPACE_SBOM_H
#define SPACE_SBOM_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "pkg/libpkg/libpkg.h"

struct deb_pin;

/* One installed package. */
struct sbom_pkg {
	const struct pkg_meta *meta; /* its database record (not owned) */
	char pkg_sha256[65];         /* of its .pkg; "" for the document's own package */
	const struct deb_pin *pin;   /* NULL: one of ours (not owned) */
	char *deb_file;              /* the .deb's file name (pins only) */
	char *src, *src_version;     /* Debian source package (pins only) */
	char *license;               /* SPDX expression */
	char *comment;               /* why the license is NOASSERTION, or NULL */
};

/* A LicenseRef the document declares. */
struct sbom_ref {
	char *id, *name, *text;
};

struct sbom {
	const char *product, *version, *build, *license, *self;
	long long created;     /* SOURCE_DATE_EPOCH */
	struct sbom_pkg *pkgs; /* sorted by name */
	size_t n_pkgs;
	struct sbom_ref *refs;
	size_t n_refs;
};

/* Add a LicenseRef (once per id; the first text stays). */
int sbom_add_ref(struct sbom *s, const char *id, const char *name, const char *text);
/* Write the document into out (JSON, a final newline). 0, -ENOMEM, or
 * -SPACE_E_FORMAT when two packages' names give one SPDX id (err says). */
int sbom_write(struct sbom *s, struct buf *out, struct space_err *err);
void sbom_free(struct sbom *s);
#endif
