/* SPDX-License-Identifier: MIT */
/* verify_ova.c - the OVA's own checks (see verify.h): the OVF descriptor,
 * parsed by libxml2 without network access or entity expansion, the VMDK
 * header and footer (image/vmdk), and the cross checks of ov_finish()
 * between descriptor, manifest, certificate and members. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "image/vmdk/vmdk.h"
#include "strescape.h"
#include "util.h"
#include "verify.h"

#define OVF_NS "http://schemas.dmtf.org/ovf/envelope/1"
#define OV_MAX_REFS 32

/* Digest of a member with alg; false if it cannot be known (streamed
 * before the manifest named that algorithm - impossible in a well-ordered
 * OVA). */
static bool member_digest(struct ov_member *m, int alg, unsigned char *out, size_t *len)
{
	unsigned int l = 0;

	if (m->data) {
		if (EVP_Digest(m->data, (size_t)m->got, out, &l, EVP_get_digestbyname(ov_alg_tokens[alg]), NULL) != 1)
			return false;
		*len = l;
		return true;
	}
	if (!m->have_digest[alg])
		return false;
	*len = (size_t)EVP_MD_get_size(EVP_get_digestbyname(ov_alg_tokens[alg]));
	memcpy(out, m->digest[alg], *len);
	return true;
}

/* ---------------------------------------------------------------- descriptor */

struct ov_ref {
	char id[64], href[OVA_NAME_MAX + 1];
	uint64_t size;
	bool has_size;
};

struct ov_disk {
	char file_ref[64];
	uint64_t capacity_bytes;
	bool capacity_ok;
};

struct ov_desc {
	struct ov_ref refs[OV_MAX_REFS];
	unsigned nrefs;
	struct ov_disk disks[OV_MAX_REFS];
	unsigned ndisks;
};

static bool is_ovf(xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, OVF_NS) && !strcmp((const char *)n->name, name);
}

/* 1 copied, 0 absent, -1 too long for out: a value that does not fit is
 * refused by the caller, never taken as absent (an over-long ovf:size
 * skipped the size check). */
static int get_attr(xmlNode *n, const char *name, char *out, size_t outsz)
{
	xmlChar *v = xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)OVF_NS);
	int r = !v ? 0 : strlen((const char *)v) < outsz ? 1 :
							   -1;

	if (r == 1)
		strcpy(out, (const char *)v);
	xmlFree(v);
	return r;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *e;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &e, 10);
	return !errno && !*e;
}

/* ovf:capacity x capacityAllocationUnits ("byte", "byte * 2^N", "byte * 10^N"). */
static bool capacity_bytes(const char *cap, const char *units, uint64_t *out)
{
	unsigned base = 2, exp = 0;
	uint64_t v, mul = 1;

	if (!parse_u64(cap, &v))
		return false;
	if (units && *units && strcmp(units, "byte") != 0) {
		if (sscanf(units, "byte * 2^%u", &exp) == 1)
			base = 2;
		else if (sscanf(units, "byte * 10^%u", &exp) == 1)
			base = 10;
		else
			return false;
	}
	for (unsigned i = 0; i < exp; i++) {
		if (mul > UINT64_MAX / base)
			return false;
		mul *= base;
	}
	if (v && mul > UINT64_MAX / v)
		return false;
	*out = v * mul;
	return true;
}

static const char *parse_descriptor(struct ov_member *m, struct ov_desc *d)
{
	xmlDoc *doc;
	xmlNode *root, *sec;
	const char *why = NULL;

	memset(d, 0, sizeof(*d));
	if (m->got > INT32_MAX)
		return "descriptor too large";
	/* no network, no entity substitution, no DTD loading */
	doc = xmlReadMemory((const char *)m->data, (int)m->got, m->name, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return "not well-formed XML";
	if (doc->intSubset || doc->extSubset) {
		why = "descriptor carries a DTD (refused: entity expansion)";
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_ovf(root, "Envelope")) {
		why = "root is not an OVF 1.x Envelope";
		goto out;
	}
	for (sec = root->children; sec && !why; sec = sec->next) {
		if (is_ovf(sec, "References")) {
			for (xmlNode *f = sec->children; f && !why; f = f->next) {
				struct ov_ref *r;
				char sz[32];
				int got;
				if (!is_ovf(f, "File"))
					continue;
				if (d->nrefs >= OV_MAX_REFS) {
					why = "too many References";
					break;
				}
				r = &d->refs[d->nrefs++];
				if (get_attr(f, "id", r->id, sizeof(r->id)) != 1 ||
				    get_attr(f, "href", r->href, sizeof(r->href)) != 1)
					why = "References/File without ovf:id or ovf:href (or one too long)";
				else if (!ova_name_is_plain(r->href))
					why = "References/File ovf:href is not a plain file name (URL or path)";
				if (!why && (got = get_attr(f, "size", sz, sizeof(sz))) != 0) {
					if (got < 0 || !parse_u64(sz, &r->size))
						why = "ovf:size is not a number";
					r->has_size = true;
				}
			}
		} else if (is_ovf(sec, "DiskSection")) {
			for (xmlNode *k = sec->children; k && !why; k = k->next) {
				struct ov_disk *dk;
				char cap[32], units[64] = "";
				if (!is_ovf(k, "Disk"))
					continue;
				if (d->ndisks >= OV_MAX_REFS) {
					why = "too many disks";
					break;
				}
				dk = &d->disks[d->ndisks++];
				if (get_attr(k, "fileRef", dk->file_ref, sizeof(dk->file_ref)) < 0) {
					why = "Disk ovf:fileRef too long";
					break;
				}
				dk->capacity_ok = get_attr(k, "capacityAllocationUnits", units, sizeof(units)) >= 0 &&
						  get_attr(k, "capacity", cap, sizeof(cap)) == 1 &&
						  capacity_bytes(cap, units, &dk->capacity_bytes);
			}
		}
	}
	if (!why && d->nrefs == 0)
		why = "no References/File";
	for (unsigned i = 0; !why && i < d->nrefs; i++)
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(d->refs[i].href, d->refs[j].href) || !strcmp(d->refs[i].id, d->refs[j].id))
				why = "two References/File with the same href or id";
out:
	xmlFreeDoc(doc);
	return why;
}

unsigned ov_referenced_files(struct ov *ov, char out[][OVA_NAME_MAX + 1], unsigned max)
{
	struct ov_desc *d = malloc(sizeof(*d));
	unsigned n = 0;

	if (!d)
		return 0;
	for (unsigned i = 0; i < ov->nm; i++) {
		if (!ov_ends_with(ov->m[i]->name, ".ovf") || !ov->m[i]->data)
			continue;
		if (!parse_descriptor(ov->m[i], d))
			for (unsigned k = 0; k < d->nrefs && n < max; k++)
				strcpy(out[n++], d->refs[k].href);
		break;
	}
	free(d);
	return n;
}

/* ---------------------------------------------------------------- the checks */

static void check_vmdk(struct ov *ov, struct ov_member *m, const struct ov_disk *dk)
{
	unsigned char tail[OV_TAIL];
	struct vmdk_info vi;
	struct space_err err = { "" };
	const unsigned char *head;
	size_t hl, tl;
	int r;

	if (m->data) {
		head = m->data;
		hl = m->got < OV_HEAD ? (size_t)m->got : OV_HEAD;
		tl = m->got < OV_TAIL ? (size_t)m->got : OV_TAIL;
		memcpy(tail, m->data + m->got - tl, tl);
	} else {
		head = m->head;
		hl = m->headlen;
		tl = m->got < OV_TAIL ? (size_t)m->got : OV_TAIL;
		for (size_t i = 0; i < tl; i++)
			tail[i] = m->tail[(m->got - tl + i) % OV_TAIL];
	}
	r = vmdk_info_from_bytes(head, hl, tail, tl, m->got, &vi, &err);
	if (r < 0) {
		ov_check(ov, false, "vmdk-header", m->name, "%s", err_msg(&err, r));
		return;
	}
	if (vi.header.version != 3)
		ov_check(ov, false, "vmdk-header", m->name, "version %u: ESXi needs a version 3 stream", vi.header.version);
	else if ((vi.header.flags & (VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS)) !=
			 (VMDK_FLAG_COMPRESSED | VMDK_FLAG_MARKERS) ||
		 vi.header.compress != 1)
		ov_check(ov, false, "vmdk-header", m->name, "not compressed with markers (flags 0x%x)", vi.header.flags);
	else if (strcmp(vi.desc.create_type, "streamOptimized") != 0)
		ov_check(ov, false, "vmdk-header", m->name, "createType \"%s\", want streamOptimized", vi.desc.create_type);
	else if (vi.desc.extent_sectors != vi.header.capacity)
		ov_check(ov, false, "vmdk-header", m->name, "descriptor extent %llu sectors, header capacity %llu",
			 (unsigned long long)vi.desc.extent_sectors, (unsigned long long)vi.header.capacity);
	else
		ov_check(ov, true, "vmdk-header", m->name, "streamOptimized v3, %llu bytes, adapter %s%s",
			 (unsigned long long)vi.header.capacity * VMDK_SECTOR,
			 vi.desc.adapter_type[0] ? vi.desc.adapter_type : "(unset)",
			 vi.has_footer ? ", footer + end-of-stream" : "");
	if (!dk)
		return;
	if (!dk->capacity_ok)
		ov_check(ov, false, "disk-capacity", m->name, "ovf:capacity or its units unreadable");
	else if (dk->capacity_bytes < vi.header.capacity * VMDK_SECTOR)
		ov_check(ov, false, "disk-capacity", m->name, "ovf:capacity %llu bytes is less than the VMDK's %llu",
			 (unsigned long long)dk->capacity_bytes,
			 (unsigned long long)vi.header.capacity * VMDK_SECTOR);
	else
		ov_check(ov, true, "disk-capacity", m->name, "ovf:capacity %llu bytes covers the VMDK's %llu",
			 (unsigned long long)dk->capacity_bytes,
			 (unsigned long long)vi.header.capacity * VMDK_SECTOR);
}

/* ---------------------------------------------------------------- cross checks */

/* What ov_finish()'s phases share: the descriptor and the members that
 * travel with it (manifest, certificate, chain), found by its base name. */
struct ov_set {
	struct ov_desc *d;
	struct ov_member *ovf, *mfm, *cm, *chm;
	char base[OVA_NAME_MAX + 1];
	unsigned novf;
	bool desc_ok;
};

/* The descriptor: one .ovf member, first in the archive. NULL if there is
 * none (already reported). */
static struct ov_member *find_descriptor(struct ov *ov, unsigned *novf)
{
	struct ov_member *ovf = NULL;

	*novf = 0;
	for (unsigned i = 0; i < ov->nm; i++) {
		if (ov_ends_with(ov->m[i]->name, ".ovf")) {
			(*novf)++;
			if (!ovf)
				ovf = ov->m[i];
		}
	}
	if (!ovf) {
		ov_check(ov, false, "descriptor", NULL, "no .ovf descriptor in the package");
		return NULL;
	}
	if (!ov->opts.directory) {
		if (ov->m[0] == ovf)
			ov_check(ov, true, "ovf-first", ovf->name, "descriptor is the first member");
		else
			ov_check(ov, false, "ovf-first", ovf->name, "descriptor is not the first member (first is %s)", ov->m[0]->name);
	}
	if (*novf > 1)
		ov_check(ov, false, "descriptor", ovf->name, "%u .ovf members", *novf);
	return ovf;
}

/* Parse the descriptor into s->d; s->desc_ok says whether it parsed. */
static void check_descriptor(struct ov *ov, struct ov_set *s)
{
	const char *why = parse_descriptor(s->ovf, s->d);

	s->desc_ok = !why;
	if (why) {
		/* without References only the manifest and signature can still be
		 * checked; they usually name the modified file */
		ov_check(ov, false, "descriptor", s->ovf->name, "%s", why);
		memset(s->d, 0, sizeof(*s->d));
	} else if (s->novf == 1) { /* else already FAIL: one verdict per check */
		ov_check(ov, true, "descriptor", s->ovf->name, "OVF 1.x envelope, %u file reference(s), %u disk(s)",
			 s->d->nrefs, s->d->ndisks);
	}
}

/* The manifest, certificate and chain named after the descriptor. */
static void find_signature_members(struct ov *ov, struct ov_set *s)
{
	char want[OVA_NAME_MAX + 8];

	snprintf(s->base, sizeof(s->base), "%.*s", (int)(strlen(s->ovf->name) - 4), s->ovf->name);
	snprintf(want, sizeof(want), "%s.mf", s->base);
	s->mfm = ov_find(ov, want);
	snprintf(want, sizeof(want), "%s.cert", s->base);
	s->cm = ov_find(ov, want);
	for (unsigned i = 0; i < ov->nm; i++)
		if (ov_is_chain_name(ov->m[i]->name, s->ovf->name))
			s->chm = ov->m[i];
}

/* Every member is expected; every reference is present with its size. */
static void check_members(struct ov *ov, const struct ov_set *s)
{
	const struct ov_desc *d = s->d;

	for (unsigned i = 0; s->desc_ok && i < ov->nm; i++) {
		struct ov_member *m = ov->m[i];
		bool known = m == s->ovf || m == s->mfm || m == s->cm || m == s->chm;
		for (unsigned k = 0; k < d->nrefs; k++)
			known |= !strcmp(d->refs[k].href, m->name);
		if (!known)
			ov_check(ov, false, "unexpected-member", m->name, "neither referenced by the descriptor nor part of the signature");
	}
	for (unsigned k = 0; k < d->nrefs; k++) {
		const struct ov_ref *r = &d->refs[k];
		struct ov_member *m = ov_find(ov, r->href);
		if (!m)
			ov_check(ov, false, "reference", r->href, "referenced by the descriptor but missing from the package");
		else if (r->has_size && r->size != m->got)
			ov_check(ov, false, "reference", r->href, "ovf:size %llu but the member has %llu bytes",
				 (unsigned long long)r->size, (unsigned long long)m->got);
		else
			ov_check(ov, true, "reference", r->href, "present, %llu bytes%s", (unsigned long long)m->got,
				 r->has_size ? " = ovf:size" : "");
	}
}

/* Archive order: ovf, mf, cert, chain, then References order. */
static void check_member_order(struct ov *ov, const struct ov_set *s)
{
	struct ov_member *order[OV_MAX_MEMBERS];
	unsigned n = 0;
	bool same = true;

	if (ov->opts.directory || !s->desc_ok)
		return;
	order[n++] = s->ovf;
	if (s->mfm)
		order[n++] = s->mfm;
	if (s->cm)
		order[n++] = s->cm;
	if (s->chm)
		order[n++] = s->chm;
	for (unsigned k = 0; k < s->d->nrefs && n < OV_MAX_MEMBERS; k++) {
		struct ov_member *m = ov_find(ov, s->d->refs[k].href);
		if (m)
			order[n++] = m;
	}
	for (unsigned i = 0, j = 0; i < ov->nm; i++) {
		/* members already reported as unexpected are left out */
		bool listed = false;
		for (unsigned k = 0; k < n; k++)
			listed |= order[k] == ov->m[i];
		if (!listed)
			continue;
		if (j >= n || order[j++] != ov->m[i])
			same = false;
	}
	if (same)
		ov_check(ov, true, "member-order", NULL, "descriptor, manifest, certificate, chain, then files in References order");
	else
		ov_check(ov, false, "member-order", NULL, "members out of order: want descriptor, manifest, certificate, chain, References order");
}

/* The manifest lists the descriptor and every referenced file, nothing else. */
static void check_manifest_coverage(struct ov *ov, const struct ov_set *s)
{
	const struct ov_desc *d = s->d;
	bool cover = s->desc_ok;

	for (unsigned k = 0; s->desc_ok && k <= d->nrefs; k++) {
		const char *name = k < d->nrefs ? d->refs[k].href : s->ovf->name;
		bool found = false;
		for (unsigned i = 0; i < ov->mf.n; i++)
			found |= !strcmp(ov->mf.e[i].name, name);
		if (!found) {
			ov_check(ov, false, "manifest-coverage", name, "not listed in %s", s->mfm->name);
			cover = false;
		}
	}
	for (unsigned i = 0; s->desc_ok && i < ov->mf.n; i++) {
		const char *name = ov->mf.e[i].name;
		bool expected = !strcmp(name, s->ovf->name);
		for (unsigned k = 0; k < d->nrefs; k++)
			expected |= !strcmp(d->refs[k].href, name);
		if (!expected) {
			ov_check(ov, false, "manifest-coverage", name, "listed in %s but not the descriptor or a reference", s->mfm->name);
			cover = false;
		}
	}
	if (cover)
		ov_check(ov, true, "manifest-coverage", s->mfm->name, "covers the descriptor and every referenced file, nothing else");
}

/* Each manifest entry's digest matches its member. */
static void check_manifest_digests(struct ov *ov)
{
	for (unsigned i = 0; i < ov->mf.n; i++) {
		struct ova_mf_entry *e = &ov->mf.e[i];
		struct ov_member *m = ov_find(ov, e->name);
		unsigned char dg[64];
		size_t dl = 0;
		if (!m)
			ov_check(ov, false, "digest", e->name, "listed in the manifest but not in the package");
		else if (!member_digest(m, ov_alg_index(e->alg), dg, &dl))
			ov_check(ov, false, "digest", e->name, "cannot compute %s (member precedes the manifest)", e->alg);
		else if (dl != e->dlen || memcmp(dg, e->digest, dl) != 0)
			ov_check(ov, false, "digest", e->name, "%s does not match the manifest: file modified", e->alg);
		else
			ov_check(ov, true, "digest", e->name, "%s matches", e->alg);
	}
}

/* The manifest parses, covers the package and matches it. A manifest that
 * does not parse is dropped (s->mfm = NULL): nothing to verify the
 * signature over. */
static void check_manifest(struct ov *ov, struct ov_set *s)
{
	struct space_err err = { "" };

	if (!s->mfm) {
		ov_check(ov, false, "manifest", s->base, "no %s.mf in the package", s->base);
		return;
	}
	if (!s->mfm->data || ova_manifest_parse((char *)s->mfm->data, (size_t)s->mfm->got, &ov->mf, &err) < 0) {
		ov_check(ov, false, "manifest", s->mfm->name, "%s", s->mfm->data ? err.msg : "too large");
		s->mfm = NULL;
		return;
	}
	ov_check(ov, true, "manifest", s->mfm->name, "%u well-formed entries", ov->mf.n);
	check_manifest_coverage(ov, s);
	check_manifest_digests(ov);
}

/* Each referenced disk (by a Disk's fileRef, or a .vmdk name) is a VMDK. */
static void check_disks(struct ov *ov, const struct ov_set *s)
{
	const struct ov_desc *d = s->d;

	for (unsigned k = 0; k < d->nrefs; k++) {
		struct ov_member *m = ov_find(ov, d->refs[k].href);
		const struct ov_disk *dk = NULL;
		for (unsigned j = 0; j < d->ndisks; j++)
			if (!strcmp(d->disks[j].file_ref, d->refs[k].id))
				dk = &d->disks[j];
		if (m && (dk || ov_ends_with(m->name, ".vmdk")))
			check_vmdk(ov, m, dk);
	}
}

/* The certificate's signature over the manifest, and its chain. */
static void check_signature(struct ov *ov, const struct ov_set *s)
{
	if (!s->cm)
		ov_check(ov, false, "cert-format", s->base, "no %s.cert: the package is not signed", s->base);
	else if (!s->cm->data)
		ov_check(ov, false, "cert-format", s->cm->name, "too large");
	else if (!s->mfm)
		ov_check(ov, false, "signature", s->cm->name, "nothing to verify without a valid manifest");
	else
		ov_check_certificates(ov, s->mfm, s->cm, s->chm);
	if (!s->chm && s->cm)
		ov_check(ov, false, "chain-file", s->base, "no <product>-certchain.pem with the intermediate certificates");
}

void ov_finish(struct ov *ov)
{
	struct ov_set s = { 0 };

	if (ov->opts.release) {
		ov_release_finish(ov);
		return;
	}
	s.d = calloc(1, sizeof(*s.d));
	if (!s.d) {
		ov_check(ov, false, "internal", NULL, "out of memory");
		return;
	}
	ov_check_member_names(ov);
	s.ovf = find_descriptor(ov, &s.novf);
	if (!s.ovf)
		goto out;
	if (!s.ovf->data) {
		ov_check(ov, false, "descriptor", s.ovf->name, "larger than %u bytes", OV_BUFFER_LIMIT);
		goto out;
	}
	check_descriptor(ov, &s);
	find_signature_members(ov, &s);
	check_members(ov, &s);
	check_member_order(ov, &s);
	check_manifest(ov, &s);
	check_disks(ov, &s);
	check_signature(ov, &s);
out:
	free(s.d);
}
