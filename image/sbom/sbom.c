/* SPDX-License-Identifier: MIT */
/* sbom.c - the SPDX 2.3 JSON document of a root tree (sbom.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkg/debs/lock.h"
#include "dep5.h"
#include "json.h"
#include "sbom.h"
#include "util.h"

int sbom_add_ref(struct sbom *s, const char *id, const char *name, const char *text)
{
	struct sbom_ref *nr;

	for (size_t i = 0; i < s->n_refs; i++)
		if (strcmp(s->refs[i].id, id) == 0)
			return 0;
	nr = realloc(s->refs, (s->n_refs + 1) * sizeof(*nr));
	if (!nr)
		return -ENOMEM;
	s->refs = nr;
	nr += s->n_refs++;
	nr->id = strdup(id);
	nr->name = strdup(name);
	nr->text = strdup(text);
	return nr->id && nr->name && nr->text ? 0 : -ENOMEM;
}

void sbom_free(struct sbom *s)
{
	for (size_t i = 0; i < s->n_pkgs; i++) {
		free(s->pkgs[i].deb_file);
		free(s->pkgs[i].src);
		free(s->pkgs[i].src_version);
		free(s->pkgs[i].license);
		free(s->pkgs[i].comment);
	}
	free(s->pkgs);
	for (size_t i = 0; i < s->n_refs; i++) {
		free(s->refs[i].id);
		free(s->refs[i].name);
		free(s->refs[i].text);
	}
	free(s->refs);
	memset(s, 0, sizeof(*s));
}

/* An SPDX id: SPDXRef-<kind>-<name>, in a static-free buffer of the caller. */
static const char *spdx_id(struct buf *b, const char *kind, const char *name)
{
	buf_reset(b);
	buf_printf(b, "SPDXRef-%s-", kind);
	dep5_put_idchars(b, name);
	return b->p ? b->p : "";
}

/* purl (package-url) of a Debian binary package: the version
 * percent-encoded (':' and '+' are not allowed as they are). */
static void put_purl(struct buf *b, const char *name, const char *version, const char *arch)
{
	buf_printf(b, "pkg:deb/debian/%s@", name);
	for (const char *v = version; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '-' || c == '_' || c == '~')
			buf_put(b, v, 1);
		else
			buf_printf(b, "%%%02X", c);
	}
	buf_printf(b, "?arch=%s", arch);
}

static void put_sha256(struct jw *w, const char *hex)
{
	jw_key(w, "checksums");
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kstr(w, "algorithm", "SHA256");
	jw_kstr(w, "checksumValue", hex);
	jw_obj_end(w);
	jw_arr_end(w);
}

/* The fields every package element has. */
static void put_common(struct jw *w, const char *id, const char *name, const char *version,
		       const char *supplier)
{
	jw_kstr(w, "SPDXID", id);
	jw_kstr(w, "name", name);
	jw_kstr(w, "versionInfo", version);
	jw_kstr(w, "supplier", supplier);
	jw_kstr(w, "downloadLocation", "NOASSERTION");
	jw_kbool(w, "filesAnalyzed", 0);
}

static void put_image(struct jw *w, const struct sbom *s, struct buf *t)
{
	jw_obj_begin(w);
	buf_reset(t);
	buf_printf(t, "Organization: %s", s->product);
	put_common(w, "SPDXRef-Image", s->product, s->version, t->p);
	jw_kstr(w, "primaryPackagePurpose", "OPERATING_SYSTEM");
	jw_kstr(w, "licenseConcluded", "NOASSERTION");
	jw_kstr(w, "licenseDeclared", "NOASSERTION");
	jw_kstr(w, "copyrightText", "NOASSERTION");
	buf_reset(t);
	buf_printf(t, "The root tree of %s %s (build %s): root slot A of %s-%s.img and of every disk image, "
		      "assembled from the packages it contains.",
		   s->product, s->version, s->build, s->product,
		   s->version);
	jw_kstr(w, "comment", t->p);
	jw_obj_end(w);
}

static void put_version_release(struct buf *t, const struct pkg_meta *m)
{
	buf_reset(t);
	buf_printf(t, "%s-%s", m->version, m->release);
}

/* The element of an installed package (our .pkg). */
static void put_pkg(struct jw *w, const struct sbom *s, const struct sbom_pkg *p, struct buf *id,
		    struct buf *t)
{
	const char *own = p->pin ? NULL : s->license;
	char supplier[160];

	jw_obj_begin(w);
	put_version_release(t, p->meta);
	snprintf(supplier, sizeof(supplier), "Organization: %s", p->pin ? "Debian" : s->product);
	put_common(w, spdx_id(id, "Package", p->meta->name), p->meta->name, t->p, supplier);
	if (p->pkg_sha256[0])
		put_sha256(w, p->pkg_sha256);
	if (p->meta->summary)
		jw_kstr(w, "summary", p->meta->summary);
	buf_reset(t);
	if (p->pin)
		buf_printf(t, "converted by rootfs/deb2pkg.sh from the Debian binary package %s %s, built from "
			      "the Debian source package %s %s",
			   p->pin->name, p->pin->version, p->src, p->src_version);
	else if (p->pkg_sha256[0])
		buf_printf(t, "built from the %s sources", s->product);
	else
		buf_printf(t, "made by mksbom: this document");
	jw_kstr(w, "sourceInfo", t->p);
	jw_kstr(w, "licenseConcluded", own ? own : "NOASSERTION");
	jw_kstr(w, "licenseDeclared", own ? own : p->license);
	jw_kstr(w, "copyrightText", "NOASSERTION");
	if (p->comment)
		jw_kstr(w, "comment", p->comment);
	jw_obj_end(w);
}

/* The element of the .deb a package was converted from. */
static void put_deb(struct jw *w, const struct sbom_pkg *p, struct buf *id, struct buf *t)
{
	jw_obj_begin(w);
	put_common(w, spdx_id(id, "Deb", p->pin->name), p->pin->name, p->pin->version, "Organization: Debian");
	jw_kstr(w, "packageFileName", p->deb_file);
	put_sha256(w, p->pin->sha256);
	buf_reset(t);
	buf_printf(t, "built from the Debian source package %s %s", p->src, p->src_version);
	jw_kstr(w, "sourceInfo", t->p);
	jw_kstr(w, "licenseConcluded", "NOASSERTION");
	jw_kstr(w, "licenseDeclared", p->license);
	jw_kstr(w, "copyrightText", "NOASSERTION");
	if (p->comment)
		jw_kstr(w, "comment", p->comment);
	jw_key(w, "externalRefs");
	jw_arr_begin(w);
	jw_obj_begin(w);
	jw_kstr(w, "referenceCategory", "PACKAGE-MANAGER");
	jw_kstr(w, "referenceType", "purl");
	buf_reset(t);
	put_purl(t, p->pin->name, p->pin->version, p->pin->arch);
	jw_kstr(w, "referenceLocator", t->p);
	jw_obj_end(w);
	jw_arr_end(w);
	jw_obj_end(w);
}

static void put_rel(struct jw *w, const char *a, const char *type, const char *b)
{
	jw_obj_begin(w);
	jw_kstr(w, "spdxElementId", a);
	jw_kstr(w, "relationshipType", type);
	jw_kstr(w, "relatedSpdxElement", b);
	jw_obj_end(w);
}

static const struct sbom_pkg *find_pkg(const struct sbom *s, const char *name)
{
	for (size_t i = 0; i < s->n_pkgs; i++)
		if (strcmp(s->pkgs[i].meta->name, name) == 0)
			return &s->pkgs[i];
	return NULL;
}

static void put_relationships(struct jw *w, const struct sbom *s, struct buf *a, struct buf *b)
{
	jw_key(w, "relationships");
	jw_arr_begin(w);
	put_rel(w, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image");
	for (size_t i = 0; i < s->n_pkgs; i++) {
		const struct sbom_pkg *p = &s->pkgs[i];
		put_rel(w, "SPDXRef-Image", "CONTAINS", spdx_id(a, "Package", p->meta->name));
		if (p->pin)
			put_rel(w, a->p, "GENERATED_FROM", spdx_id(b, "Deb", p->pin->name));
		/* the recorded dependencies that are in the tree */
		for (size_t j = 0; j < p->meta->n_depends; j++)
			if (find_pkg(s, p->meta->depends[j]))
				put_rel(w, a->p, "DEPENDS_ON", spdx_id(b, "Package", p->meta->depends[j]));
	}
	jw_arr_end(w);
}

static void put_refs(struct jw *w, const struct sbom *s)
{
	if (s->n_refs == 0)
		return;
	jw_key(w, "hasExtractedLicensingInfos");
	jw_arr_begin(w);
	for (size_t i = 0; i < s->n_refs; i++) {
		jw_obj_begin(w);
		jw_kstr(w, "licenseId", s->refs[i].id);
		jw_kstr(w, "name", s->refs[i].name);
		jw_kstr(w, "extractedText", s->refs[i].text);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp(((const struct sbom_ref *)a)->id, ((const struct sbom_ref *)b)->id);
}

/* Two names that give one SPDX id would make two elements one. */
static int ids_unique(const struct sbom *s, struct space_err *err)
{
	struct buf a, b;
	int r = 0;

	buf_init(&a);
	buf_init(&b);
	for (size_t i = 0; i < s->n_pkgs && r == 0; i++)
		for (size_t j = i + 1; j < s->n_pkgs && r == 0; j++)
			if (strcmp(spdx_id(&a, "Package", s->pkgs[i].meta->name),
				   spdx_id(&b, "Package", s->pkgs[j].meta->name)) == 0) {
				r = err_set(err, -SPACE_E_FORMAT, "packages %s and %s have the same SPDX id %s",
					    s->pkgs[i].meta->name, s->pkgs[j].meta->name, a.p);
			}
	r = r ? r : (buf_failed(&a) | buf_failed(&b));
	buf_free(&a);
	buf_free(&b);
	return r;
}

static void put_header(struct jw *w, const struct sbom *s, struct buf *t)
{
	char created[32];
	time_t tt = (time_t)s->created;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jw_kstr(w, "spdxVersion", "SPDX-2.3");
	jw_kstr(w, "dataLicense", "CC0-1.0");
	jw_kstr(w, "SPDXID", "SPDXRef-DOCUMENT");
	buf_reset(t);
	buf_printf(t, "%s-%s", s->product, s->version);
	jw_kstr(w, "name", t->p);
	/* unique per build, and the same for a rebuild of the same one */
	buf_reset(t);
	buf_printf(t, "https://spdx.org/spdxdocs/%s-%s-%s", s->product, s->version, s->build);
	jw_kstr(w, "documentNamespace", t->p);
	jw_key(w, "creationInfo");
	jw_obj_begin(w);
	jw_kstr(w, "created", created);
	jw_key(w, "creators");
	jw_arr_begin(w);
	buf_reset(t);
	buf_printf(t, "Organization: %s", s->product);
	jw_str(w, t->p);
	jw_str(w, "Tool: mksbom");
	jw_arr_end(w);
	jw_obj_end(w);
}

int sbom_write(struct sbom *s, struct buf *out, struct space_err *err)
{
	struct buf a, b;
	struct jw w;
	int r = ids_unique(s, err);

	if (r < 0)
		return r;
	qsort(s->refs, s->n_refs, sizeof(*s->refs), cmp_ref);
	buf_init(&a);
	buf_init(&b);
	jw_init(&w, out);
	jw_obj_begin(&w);
	put_header(&w, s, &a);
	jw_key(&w, "packages");
	jw_arr_begin(&w);
	put_image(&w, s, &a);
	for (size_t i = 0; i < s->n_pkgs; i++) {
		put_pkg(&w, s, &s->pkgs[i], &a, &b);
		if (s->pkgs[i].pin)
			put_deb(&w, &s->pkgs[i], &a, &b);
	}
	jw_arr_end(&w);
	put_refs(&w, s);
	put_relationships(&w, s, &a, &b);
	jw_obj_end(&w);
	buf_puts(out, "\n");
	r = buf_failed(out) | buf_failed(&a) | buf_failed(&b) ? -ENOMEM : 0;
	buf_free(&a);
	buf_free(&b);
	return r;
}
