/* SPDX-License-Identifier: MIT */
/* bundle.c - extract and verify a hot-patch bundle (bundle.h).
 *
 * Why copies: the operator's directory (or a tgz in /var/tmp) can be
 * changed by its owner while the patch runs as root. Every byte the patch
 * uses is therefore read once from there into the root-only work
 * directory, hashed as it is copied, and used only from the copy: what was
 * verified is what gets installed. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image/ova-verify/verify_sums.h"
#include "pkg/libpkg/libpkg.h"
#include "bundle.h"
#include "fdio.h"
#include "openreg.h"
#include "util.h"

/* ------------------------------------------------------------- verify */

/* Copy the regular file name (no symlink, at most max bytes) from sdfd to
 * ddfd (ddfd < 0: hash only), hashing what is copied. */
static int take_file(int sdfd, const char *name, int ddfd, uint64_t max, unsigned char sha[32], uint64_t *size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char buf[1 << 16];
	ssize_t n;
	int in = open_regular(sdfd, name, O_RDONLY | O_NOFOLLOW, 0, 0), out = -1, r = 0;

	*size = 0;
	if (in < 0 || !md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		r = in < 0 ? in : -ENOMEM;
		goto out;
	}
	if (ddfd >= 0) {
		unlinkat(ddfd, name, 0);
		if ((out = openat(ddfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
			r = -errno;
			goto out;
		}
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		*size += (uint64_t)n;
		if (*size > max) {
			r = -EFBIG;
			goto out;
		}
		if (!EVP_DigestUpdate(md, buf, (size_t)n)) {
			r = -EIO;
			goto out;
		}
		if (out >= 0 && (r = fd_write_full(out, buf, (size_t)n)) < 0)
			goto out;
	}
	if (n < 0)
		r = -errno;
	else if (!EVP_DigestFinal_ex(md, sha, NULL))
		r = -EIO;
out:
	if (out >= 0 && close(out) < 0 && r == 0)
		r = -errno;
	if (in >= 0)
		close(in);
	EVP_MD_CTX_free(md);
	return r;
}

/* The first failed check of ov as "check file: detail", and the error. */
static int first_failure(const struct ov *ov, struct space_err *err)
{
	for (unsigned i = 0; i < ov->nchecks; i++) {
		const struct ov_check *c = &ov->checks[i];
		if (c->ok)
			continue;
		return err_set(err, strstr(c->name, "chain") ? -SPACE_E_UNTRUSTED : -SPACE_E_SIGNATURE, "%s %s: %s", c->name, c->file, c->detail);
	}
	return err_set(err, -SPACE_E_SIGNATURE, "verification failed");
}

/* The manifest and its companions into the work copy, then their checks
 * and the parse. */
static int verify_manifest(struct hp_bundle *b, int sdfd, const char *ca, struct space_err *err)
{
	static const char *const names[] = { HP_MEMBER_MANIFEST, "manifest.sig", "manifest.cert.pem",
					     "manifest.chain.pem" };
	struct ov_opts oo = { .ca_file = ca };
	struct ov ov;
	struct ov_member *mm = NULL;
	unsigned char sha[32];
	uint64_t size;
	int r = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && sdfd != b->dfd; i++) {
		r = take_file(sdfd, names[i], b->dfd, 1u << 20, sha, &size);
		if (r < 0 && r != -ENOENT) /* a missing one is reported by the checks */
			return err_set(err, r == -SPACE_E_NOT_REG || r == -ELOOP || r == -EFBIG ? -SPACE_E_FORMAT : r,
				       "%s: %s", names[i], space_strerror(r));
	}
	ov_init(&ov, &oo);
	r = ov_signed_file(&ov, b->dfd, HP_MEMBER_MANIFEST, HP_MANIFEST_MAX, &mm);
	if (r < 0)
		err_set(err, r, "manifest: %s", space_strerror(r));
	else if (ov.nfail || !mm)
		r = first_failure(&ov, err);
	else if ((r = hp_manifest_parse((const char *)mm->data, (size_t)mm->got, b->m, err)) < 0)
		err_prefix(err, r, "manifest");
	ov_free(&ov);
	return r;
}

/* patchme.sh and every package: copied, hashed, compared; each package's
 * own metadata must name what the manifest says. */
static int verify_files(struct hp_bundle *b, int sdfd, struct space_err *err)
{
	const struct hp_manifest *m = b->m;
	unsigned char sha[32];
	uint64_t size;
	int r, pdfd = -1, sp = -1;

	r = take_file(sdfd, HP_MEMBER_SCRIPT, sdfd == b->dfd ? -1 : b->dfd, 1u << 20, sha, &size);
	if (r == 0 && memcmp(sha, m->patchme_sha256, 32))
		r = -SPACE_E_DIGEST;
	if (r < 0)
		return err_set(err, r, "%s: %s", HP_MEMBER_SCRIPT,
			       r == -SPACE_E_DIGEST ? "SHA-256 differs from the signed manifest (modified)" : space_strerror(r));
	if (sdfd != b->dfd && mkdirat(b->dfd, HP_PACKAGES_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	sp = openat(sdfd, HP_PACKAGES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	pdfd = openat(b->dfd, HP_PACKAGES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sp < 0 || pdfd < 0) {
		r = errno == ELOOP || errno == ENOTDIR ? -SPACE_E_FORMAT : -errno;
		err_set(err, r, "%s/: %s", HP_PACKAGES_DIR, space_strerror(r));
		goto out;
	}
	b->pkg_bytes = 0;
	for (unsigned i = 0; i < m->npkg; i++) {
		const struct hp_package *p = &m->pkg[i];
		char rel[HP_PATH_MAX];
		const char *base;
		struct pkg_meta meta = { 0 };
		struct space_err perr;

		hp_package_file(rel, p);
		base = rel + strlen(HP_PACKAGES_DIR) + 1;
		r = take_file(sp, base, sdfd == b->dfd ? -1 : pdfd, p->size, sha, &size);
		if (r == 0 && (size != p->size || memcmp(sha, p->sha256, 32)))
			r = -SPACE_E_DIGEST;
		if (r < 0) {
			err_set(err, r, "%s: %s", rel,
				r == -SPACE_E_DIGEST || r == -EFBIG ? "size or SHA-256 differs from the signed manifest (tampered or damaged)" : space_strerror(r));
			r = r == -EFBIG ? -SPACE_E_DIGEST : r;
			goto out;
		}
		if (snprintf(b->pkgfile[i], PATH_MAX, "%s/%s", b->dir, rel) >= PATH_MAX) {
			r = -ENAMETOOLONG;
			goto out;
		}
		b->pkg_bytes += size;
		if ((r = pkg_read_meta(b->pkgfile[i], &meta, &perr)) == 0 &&
		    (strcmp(meta.name, p->name) || strcmp(meta.version, p->version) || strcmp(meta.release, p->release)))
			r = -SPACE_E_FORMAT;
		if (r < 0)
			err_set(err, r, "%s: %s", rel,
				r == -SPACE_E_FORMAT && !meta.name ? perr.msg : "its metadata names another package or version than the manifest");
		pkg_meta_free(&meta);
		if (r < 0)
			goto out;
	}
out:
	if (sp >= 0)
		close(sp);
	if (pdfd >= 0)
		close(pdfd);
	return r;
}

int hp_bundle_verify(struct hp_bundle *b, const char *dir, const char *bound, const char *ca, const char *workdir,
		     struct space_err *err)
{
	int sdfd = -1, r;

	memset(b, 0, sizeof(*b));
	b->dfd = -1;
	err_clear(err);
	snprintf(b->bound, sizeof(b->bound), "%s", bound);
	snprintf(b->dir, sizeof(b->dir), "%s", workdir ? workdir : dir);
	if (!(b->m = calloc(1, sizeof(*b->m))))
		return -ENOMEM;
	if ((sdfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (b->dfd = workdir ? open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dup(sdfd)) < 0) {
		r = -errno;
		err_set(err, r, "%s: %s", sdfd < 0 ? dir : workdir, strerror(errno));
		goto out;
	}
	if (!workdir) { /* verify in place: a directory this tool made */
		close(sdfd);
		sdfd = b->dfd;
	}
	if ((r = verify_manifest(b, sdfd, ca, err)) < 0)
		goto out;
	if ((r = hp_check_name(b->m, bound, err)) < 0)
		goto out;
	r = verify_files(b, sdfd, err);
out:
	if (sdfd >= 0 && sdfd != b->dfd)
		close(sdfd);
	return r;
}

void hp_bundle_close(struct hp_bundle *b)
{
	if (b->dfd >= 0)
		close(b->dfd);
	b->dfd = -1;
	free(b->m);
	b->m = NULL;
}
