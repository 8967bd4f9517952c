/* SPDX-License-Identifier: MIT */
/* verify_sums.c - ova-verify --sums: the signed checksum list (see
 * verify_sums.h and image/sums/sums.h). The list and its companions are
 * read whole (each bounded) as members of the ov, so the signature and
 * chain go through the same checks as an OVA's (ov_check_signed); the
 * listed files are only read once those passed. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "image/sums/sums.h"
#include "util.h"
#include "verify_sums.h"

#define SUMS_CERT_MAX (64u << 10)

/* What goes with a list, and the check that reports its absence. */
static const struct companion {
	const char *suffix, *check;
	size_t max;
} companions[] = {
	{ SUMS_SIG_SUFFIX, "signature-file", OVA_MAX_SIG },
	{ SUMS_CERT_SUFFIX, "cert-format", SUMS_CERT_MAX },
	{ SUMS_CHAIN_SUFFIX, "chain-file", OV_BUFFER_LIMIT },
};

/* Read dir/name (at most max bytes) into a member, or record why not as a
 * FAIL of check (*m NULL then). Returns a negative errno for I/O, and for
 * a missing file unless missing_fails (the list itself: like a package
 * that is not there, it cannot be read). */
static int read_member(struct ov *ov, int dfd, const char *name, size_t max, const char *check,
		       bool missing_fails, struct ov_member **m)
{
	char *buf = NULL;
	size_t len = 0;
	int r = read_file_at(dfd, name, 0, max, &buf, &len);

	*m = NULL;
	if ((r == -ENOENT && missing_fails) || r == -EFBIG || r == -SPACE_E_NOT_REG) {
		if (r == -ENOENT)
			ov_check(ov, false, check, name, "missing: it goes with the list, in its directory");
		else if (r == -EFBIG)
			ov_check(ov, false, check, name, "larger than %zu bytes", max);
		else
			ov_check(ov, false, check, name, "not a regular file");
		return 0;
	}
	if (r < 0)
		return r;
	if ((r = ov_member_begin(ov, name, len)) == 0 && (r = ov_member_data(ov, buf, len)) == 0)
		r = ov_member_end(ov);
	else
		ov_member_end(ov); /* files the member, so ov_free() releases it */
	free(buf);
	*m = r == 0 ? ov_find(ov, name) : NULL;
	return r;
}

/* The signer certificate file holds one PEM certificate, nothing else. */
static X509 *read_leaf(struct ov *ov, const struct ov_member *cm)
{
	BIO *b = BIO_new_mem_buf(cm->data, (int)cm->got);
	X509 *leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	X509 *extra = leaf ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	ERR_clear_error();
	BIO_free(b);
	if (!leaf)
		ov_check(ov, false, "cert-format", cm->name, "not a PEM certificate");
	else if (extra)
		ov_check(ov, false, "cert-format", cm->name, "more than one certificate: only the signer's belongs here");
	else
		ov_check(ov, true, "cert-format", cm->name, "signer certificate");
	X509_free(extra);
	if (extra) {
		X509_free(leaf);
		return NULL;
	}
	return leaf;
}

/* The companions, then the signature, signer and chain checks. */
static int check_signed_list(struct ov *ov, int dfd, const struct ov_member *lm)
{
	struct ov_member *m[3];
	char name[3][OVA_NAME_MAX + 1];
	X509 *leaf;

	for (size_t i = 0; i < 3; i++) {
		/* the names fit: sums_list_name_ok() */
		int r = sums_companion(name[i], lm->name, companions[i].suffix);
		if (r == 0)
			r = read_member(ov, dfd, name[i], companions[i].max, companions[i].check, true, &m[i]);
		if (r < 0)
			return r;
	}
	if (!m[0] || !m[1] || !m[2])
		return 0;
	leaf = read_leaf(ov, m[1]);
	if (leaf) {
		struct ov_signature sig = { .alg = "SHA256", .sig = m[0]->data, .siglen = (size_t)m[0]->got };
		ov_check_signed(ov, lm, m[0]->name, &sig, m[1]->name, leaf, m[2]);
	}
	X509_free(leaf);
	return 0;
}

/* One listed file against its digest. Returns its errno for I/O. */
static int check_file(struct ov *ov, const struct sums_entry *e, const struct sums_hash *h)
{
	if (h->err == -ENOENT)
		ov_check(ov, false, "digest", e->name, "missing: not next to the list (renamed, moved or not downloaded)");
	else if (h->err == -SPACE_E_NOT_REG)
		ov_check(ov, false, "digest", e->name, "not a regular file");
	else if (h->err < 0)
		return h->err;
	else if (memcmp(h->sha256, e->sha256, sizeof(e->sha256)) != 0)
		ov_check(ov, false, "digest", e->name, "SHA-256 differs from the signed list (modified or damaged)");
	else
		ov_check(ov, true, "digest", e->name, "SHA-256 matches the signed list");
	return 0;
}

static bool named(const char *const *names, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Which listed files to hash: all, or those asked for, each of which must
 * be listed (a renamed file is not). Their indexes into idx; the count. */
static unsigned pick_files(struct ov *ov, const struct sums_list *l, const struct ov_sums_opts *so,
			   unsigned idx[SUMS_MAX_FILES])
{
	unsigned n = 0;

	for (unsigned k = 0; k < so->nonly; k++) {
		bool listed = false;
		for (unsigned i = 0; i < l->n && !listed; i++)
			listed = strcmp(l->e[i].name, so->only[k]) == 0;
		if (!listed)
			ov_check(ov, false, "digest", so->only[k], "not in the signed list (renamed, or not of this release)");
	}
	for (unsigned i = 0; i < l->n; i++)
		if (!so->nonly || named(so->only, so->nonly, l->e[i].name))
			idx[n++] = i;
	return n;
}

/* Parse the (trusted) list and hash what it names. */
static int check_files(struct ov *ov, int dfd, const struct ov_member *lm, const struct ov_sums_opts *so,
		       char *what, size_t whatlen)
{
	struct sums_list *l = malloc(sizeof(*l));
	struct sums_hash *res = malloc(SUMS_MAX_FILES * sizeof(*res));
	const char *names[SUMS_MAX_FILES];
	unsigned idx[SUMS_MAX_FILES], n;
	struct space_err err = { "" };
	int r = -ENOMEM;

	if (!l || !res)
		goto out;
	r = 0;
	if (sums_parse((const char *)lm->data, (size_t)lm->got, l, &err) < 0) {
		ov_check(ov, false, "list-format", lm->name, "%s", err.msg);
		goto out;
	}
	ov_check(ov, true, "list-format", lm->name, "%u files", l->n);
	n = pick_files(ov, l, so, idx);
	for (unsigned i = 0; i < n; i++)
		names[i] = l->e[idx[i]].name;
	sums_hash_files(dfd, names, n, so->threads, res);
	for (unsigned i = 0; i < n && r == 0; i++)
		if ((r = check_file(ov, &l->e[idx[i]], &res[i])) < 0)
			snprintf(what, whatlen, "%s", names[i]);
out:
	free(l);
	free(res);
	return r;
}

/* The directory of path, opened; *name its last component. */
static int open_dir_of(const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	int dfd;

	*name = slash ? slash + 1 : path;
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -errno : dfd;
}

int ov_signed_verify(struct ov *ov, const char *path, size_t max, char *what, size_t whatlen)
{
	const char *name;
	struct ov_member *m;
	int dfd = open_dir_of(path, &name), r;

	snprintf(what, whatlen, "%s", path);
	if (dfd < 0)
		return dfd;
	r = ov_signed_file(ov, dfd, name, max, &m);
	close(dfd);
	return r;
}

int ov_sums_verify(struct ov *ov, const char *path, const struct ov_sums_opts *so, char *what, size_t whatlen)
{
	const char *list;
	struct ov_member *lm;
	int dfd = open_dir_of(path, &list), r;

	snprintf(what, whatlen, "%s", path);
	if (dfd < 0)
		return dfd;
	r = ov_signed_file(ov, dfd, list, SUMS_MAX_BYTES, &lm);
	if (r == 0 && lm && ov->nfail)
		ov_check(ov, false, "digest", lm->name, "files not hashed: the list is not trusted (the FAIL lines above)");
	else if (r == 0 && lm)
		r = check_files(ov, dfd, lm, so, what, whatlen);
	close(dfd);
	return r;
}

int ov_signed_file(struct ov *ov, int dfd, const char *name, size_t max, struct ov_member **m)
{
	int r;

	*m = NULL;
	if (!sums_list_name_ok(name)) {
		ov_check(ov, false, "list-format", name, "not a plain file name, or too long for its %s beside it",
			 SUMS_CHAIN_SUFFIX);
		return 0;
	}
	r = read_member(ov, dfd, name, max, "list-format", false, m);
	if (r == 0 && *m)
		r = check_signed_list(ov, dfd, *m);
	return r;
}
