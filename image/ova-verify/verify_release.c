/* SPDX-License-Identifier: MIT */
/* verify_release.c - the checks of a release image (image/release): the
 * same streaming, member, signature and chain code as the OVA's, with the
 * release manifest in place of the OVF descriptor and .mf. See verify.h.
 *
 * Everything that precedes the slot image (manifest, name binding,
 * signature, chain) is checked when the slot member begins, so that a
 * reader with a sink (the upgrader writing a slot) hands it nothing from an
 * image that has already failed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive.h"
#include "util.h"
#include "verify.h"

static const char *const order[] = { REL_MEMBER_MANIFEST, REL_MEMBER_CERT, REL_MEMBER_CHAIN, REL_MEMBER_SLOT };
#define NORDER (sizeof(order) / sizeof(order[0]))

void ov_release_manifest_end(struct ov *ov, struct ov_member *m)
{
	if (ov->rm || strcmp(m->name, REL_MEMBER_MANIFEST) || !m->data)
		return;
	ov->rm = malloc(sizeof(*ov->rm));
	if (ov->rm && rel_manifest_parse((char *)m->data, (size_t)m->got, ov->rm, NULL) < 0) {
		free(ov->rm);
		ov->rm = NULL;
	}
}

static void check_manifest(struct ov *ov, struct ov_member *mfm)
{
	struct rel_manifest *t;
	struct space_err err = { "" };

	if (!mfm) {
		ov_check(ov, false, "manifest", REL_MEMBER_MANIFEST, "missing: not a release image, or its manifest was removed");
		return;
	}
	if (!mfm->data) {
		ov_check(ov, false, "manifest", mfm->name, "larger than %u bytes", OV_BUFFER_LIMIT);
		return;
	}
	if (ov->rm) {
		ov_check(ov, true, "manifest", mfm->name, "format %u: %s %s build %s, %u target(s), %u application(s)",
			 ov->rm->format, ov->rm->product, ov->rm->release, ov->rm->build, ov->rm->ntargets,
			 ov->rm->napps);
		return;
	}
	/* parse again for the reason: only a failing image pays for it */
	t = malloc(sizeof(*t));
	if (t && rel_manifest_parse((char *)mfm->data, (size_t)mfm->got, t, &err) < 0)
		ov_check(ov, false, "manifest", mfm->name, "%s", err.msg);
	else
		ov_check(ov, false, "manifest", mfm->name, "%s", t ? "not the first manifest member" : "out of memory");
	free(t);
}

static void check_name(struct ov *ov)
{
	struct space_err err = { "" };

	if (!ov->rm)
		return;
	if (!ov->opts.file_name)
		ov_check(ov, false, "name-binding", ov->rm->file,
			 "the file's name is unknown (read from a pipe): give it with --name");
	else if (rel_check_file_name(ov->rm, ov->opts.file_name, &err) < 0)
		ov_check(ov, false, "name-binding", ov->rm->file, "%s", err.msg);
	else
		ov_check(ov, true, "name-binding", ov->rm->file, "the file has the name the manifest was signed for");
}

static void check_signature(struct ov *ov, struct ov_member *mfm)
{
	struct ov_member *cm = ov_find(ov, REL_MEMBER_CERT), *chm = ov_find(ov, REL_MEMBER_CHAIN);

	if (!cm)
		ov_check(ov, false, "cert-format", REL_MEMBER_CERT, "missing: the image is not signed");
	else if (!cm->data)
		ov_check(ov, false, "cert-format", cm->name, "too large");
	else if (!mfm || !mfm->data)
		ov_check(ov, false, "signature", cm->name, "nothing to verify without the manifest");
	else
		ov_check_certificates(ov, mfm, cm, chm);
	if (!chm && cm)
		ov_check(ov, false, "chain-file", REL_MEMBER_CHAIN, "missing: no intermediate certificates");
}

void ov_release_head(struct ov *ov)
{
	struct ov_member *mfm = ov_find(ov, REL_MEMBER_MANIFEST);

	if (ov->head_checked)
		return;
	ov->head_checked = true;
	check_manifest(ov, mfm);
	check_name(ov);
	check_signature(ov, mfm);
}

/* Exactly manifest, certificate, chain so far, each once. */
static bool head_in_order(const struct ov *ov)
{
	if (ov->nm != NORDER - 1)
		return false;
	for (unsigned i = 0; i < ov->nm; i++)
		if (strcmp(ov->m[i]->name, order[i]))
			return false;
	return true;
}

int ov_release_member_begin(struct ov *ov, struct ov_member *m)
{
	bool gate;
	int r;

	ov_release_head(ov);
	if (!ov->rm || ov->opts.digest_only)
		return 0; /* nothing says what it should unpack to: digest FAILs */
	gate = ov->nfail == 0 && head_in_order(ov) && ov->opts.slot_sink;
	if (gate && ov->opts.slot_begin) {
		struct space_err err = { "" };

		r = ov->opts.slot_begin(ov->opts.slot_ctx, ov->rm, &err);
		if (r < 0) {
			ov_check(ov, false, "policy", m->name, "%s", err_msg(&err, r));
			return -ECANCELED;
		}
	}
	r = rel_unpack_new(&m->unpack, ov->rm->window_log, ov->rm->slot_size, gate ? ov->opts.slot_sink : NULL,
			   ov->opts.slot_ctx);
	if (r < 0)
		return r;
	if (gate && ov->opts.sink_checks_digest)
		rel_unpack_no_digest(m->unpack);
	ov->sink_attached = gate;
	return 0;
}

static void check_order(struct ov *ov)
{
	unsigned next = 0;
	bool same = true;

	for (unsigned i = 0; i < ov->nm; i++) {
		unsigned k;
		for (k = 0; k < NORDER && strcmp(ov->m[i]->name, order[k]); k++)
			;
		if (k == NORDER) {
			ov_check(ov, false, "unexpected-member", ov->m[i]->name, "not part of a release image");
			continue;
		}
		/* the known members in their order, each once (missing ones are
		 * reported by their own checks) */
		if (k < next)
			same = false;
		next = k + 1;
	}
	if (same)
		ov_check(ov, true, "member-order", NULL, "manifest, certificate, chain, then the slot image");
	else
		ov_check(ov, false, "member-order", NULL, "members out of order: want %s, %s, %s, %s", order[0], order[1],
			 order[2], order[3]);
}

static void check_slot(struct ov *ov)
{
	struct ov_member *m = ov_find(ov, REL_MEMBER_SLOT);
	const struct rel_manifest *rm = ov->rm;

	if (!m) {
		ov_check(ov, false, "slot-image", REL_MEMBER_SLOT, "missing: the image holds no slot image");
		return;
	}
	if (!rm) {
		ov_check(ov, false, "digest", m->name, "cannot be checked without a valid manifest");
		return;
	}
	if (m->got != rm->zst_size)
		ov_check(ov, false, "digest", m->name, "%llu bytes, the manifest says %llu: file modified",
			 (unsigned long long)m->got, (unsigned long long)rm->zst_size);
	else if (m->data || !m->have_digest[OV_SHA256])
		ov_check(ov, false, "digest", m->name, "SHA256 not computed (member precedes the manifest?)");
	else if (memcmp(m->digest[OV_SHA256], rm->zst_sha256, 32))
		ov_check(ov, false, "digest", m->name, "SHA256 does not match the manifest: file modified");
	else
		ov_check(ov, true, "digest", m->name, "SHA256 matches");

	if (ov->opts.digest_only)
		return; /* not unpacked in this pass */
	if (!m->unpack_done)
		ov_check(ov, false, "slot-image", m->name, "%s",
			 m->unpack_why ? m->unpack_why : "not unpacked (a member before it failed, or no manifest)");
	else if (m->unpacked != rm->slot_size)
		ov_check(ov, false, "slot-image", m->name, "unpacks to %llu bytes, the manifest says %llu",
			 (unsigned long long)m->unpacked, (unsigned long long)rm->slot_size);
	else if (ov->sink_attached && ov->opts.sink_checks_digest)
		ov_check(ov, true, "slot-image", m->name,
			 "unpacks to %llu bytes (their SHA-256 is checked by the read-back of the slot)",
			 (unsigned long long)m->unpacked);
	else if (memcmp(m->unpacked_sha256, rm->slot_sha256, 32))
		ov_check(ov, false, "slot-image", m->name, "unpacked SHA-256 does not match the manifest");
	else
		ov_check(ov, true, "slot-image", m->name, "unpacks to %llu bytes whose SHA-256 matches the manifest",
			 (unsigned long long)m->unpacked);
}

void ov_release_finish(struct ov *ov)
{
	ov_release_head(ov);
	ov_check_member_names(ov);
	check_order(ov);
	check_slot(ov);
}

int ov_release_run(const struct ov_opts *opts, int fd, struct rel_manifest *m, struct space_err *err)
{
	struct ov *ov = calloc(1, sizeof(*ov));
	int r;

	if (!ov)
		return err_set(err, -ENOMEM, "out of memory");
	ov_init(ov, opts);
	r = lseek(fd, 0, SEEK_SET) < 0 ? -errno : ov_read_archive(ov, fd);
	if (r == 0 || r == -ECANCELED)
		ov_release_finish(ov);
	for (unsigned i = 0; i < ov->nchecks; i++)
		if (!ov->checks[i].ok) {
			r = err_set(err, -SPACE_E_FORMAT, "%s%s%s: %s", ov->checks[i].name,
				    ov->checks[i].file[0] ? " " : "", ov->checks[i].file, ov->checks[i].detail);
			goto out;
		}
	if (r < 0) {
		err_set(err, r, "%s", space_strerror(r));
		goto out;
	}
	if (opts->slot_sink && !ov->sink_attached) {
		r = err_set(err, -EPIPE, "the slot image was not written");
		goto out;
	}
	if (m && ov->rm)
		*m = *ov->rm;
out:
	ov_free(ov);
	free(ov);
	return r;
}
