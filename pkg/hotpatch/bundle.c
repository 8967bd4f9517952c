/* SPDX-License-Identifier: MIT */
/* bundle.c - extract and verify a hot-patch bundle (bundle.h).
 *
 * Why copies: the operator's directory (or a tgz in /var/tmp) can be
 * changed by its owner while the patch runs as root. Every byte the patch
 * uses is therefore read once from there into the root-only work
 * directory, hashed as it is copied, and used only from the copy: what was
 * verified is what gets installed. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../image/ova-verify/verify_sums.h"
#include "../libpkg/libpkg.h"
#include "bundle.h"
#include "fdio.h"
#include "openreg.h"
#include "strescape.h"
#include "util.h"

/* ------------------------------------------------------------ extract */

/* A member name: relative, no "." or ".." component, no control bytes;
 * its first component into top (the bundle directory). */
static int member_name_ok(const char *name, char *top, size_t topsz)
{
	const char *p = name, *slash;

	if (!*name || *name == '/' || strlen(name) >= HP_TGZ_NAME_MAX)
		return -SPACE_E_UNSAFE_PATH;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return -SPACE_E_UNSAFE_PATH;
	for (;;) {
		size_t n;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 0 && slash && slash[1]))
			return -SPACE_E_UNSAFE_PATH;
		if (p == name) {
			if (n == 0 || n >= topsz)
				return -SPACE_E_UNSAFE_PATH;
			memcpy(top, p, n);
			top[n] = 0;
		}
		if (!slash || !slash[1])
			return 0;
		p = slash + 1;
	}
}

/* Open (creating as needed) the directory holding path below wfd, without
 * following any symlink. *base points at the last component. */
static int open_parent(int wfd, char *path, const char **base)
{
	int fd = dup(wfd);
	char *p = path, *slash;

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/')) && slash[1]) {
		int nfd;
		*slash = 0;
		if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST) {
			nfd = -errno;
		} else {
			nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0)
				nfd = -errno;
		}
		*slash = '/';
		close(fd);
		if (nfd < 0)
			return nfd;
		fd = nfd;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

static int extract_file(struct archive *a, int dfd, const char *base, mode_t mode)
{
	char buf[65536];
	la_ssize_t n;
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int r = 0;

	if (fd < 0)
		return errno == EEXIST ? -SPACE_E_FORMAT : -errno;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		if ((r = fd_write_full(fd, buf, (size_t)n)) < 0)
			break;
	if (r == 0 && n < 0)
		r = -SPACE_E_FORMAT;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* One member: its checks, then a directory or a regular file below wfd. */
static int extract_member(struct archive *a, struct archive_entry *ae, int wfd, char *top, uint64_t *total,
			  char *why, size_t whylen)
{
	const char *name = archive_entry_pathname(ae), *base = NULL, *slash;
	char t[NAME_MAX + 1], path[PATH_MAX], shown[208];
	mode_t type = archive_entry_filetype(ae);
	struct statvfs sv;
	int r, dfd;

	if (!name || member_name_ok(name, t, sizeof(t)) < 0) {
		/* escaped: a newline in it would forge a second message line */
		str_escape(shown, sizeof(shown), name ? name : "(none)", strlen(name ? name : "(none)"), 0);
		snprintf(why, whylen, "member %s: not a plain relative path", shown);
		return -SPACE_E_UNSAFE_PATH;
	}
	if (type != AE_IFDIR && (!(slash = strchr(name, '/')) || !slash[1])) {
		snprintf(why, whylen, "member %.200s: not a directory (a bundle is one directory holding its files)", name);
		return -SPACE_E_FORMAT;
	}
	if (*top && strcmp(t, top)) {
		snprintf(why, whylen, "member %.200s: outside the bundle directory %s", name, top);
		return -SPACE_E_UNSAFE_PATH;
	}
	snprintf(top, NAME_MAX + 1, "%s", t);
	if (archive_entry_hardlink(ae) || (type != AE_IFDIR && type != AE_IFREG)) {
		snprintf(why, whylen, "member %.200s: a %s; a bundle holds only files and directories", name,
			 archive_entry_hardlink(ae) ? "hard link" : type == AE_IFLNK ? "symlink" : "special file");
		return -SPACE_E_UNSAFE_PATH;
	}
	*total += (uint64_t)archive_entry_size(ae);
	if (archive_entry_size(ae) < 0 || *total > HP_TGZ_MAX_BYTES) {
		snprintf(why, whylen, "member %.200s: the bundle is larger than %llu bytes", name,
			 (unsigned long long)HP_TGZ_MAX_BYTES);
		return -SPACE_E_FORMAT;
	}
	/* a small tgz can unpack to much: /var keeps its margin (the
	 * services log there), checked before each file is written */
	if (type == AE_IFREG && fstatvfs(wfd, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < (uint64_t)archive_entry_size(ae) + HP_TGZ_KEEP_FREE) {
		snprintf(why, whylen, "member %.200s: %lld bytes do not fit in %s with %u MiB to spare", name,
			 (long long)archive_entry_size(ae), "the work directory", (unsigned)(HP_TGZ_KEEP_FREE >> 20));
		return -ENOSPC;
	}
	snprintf(path, sizeof(path), "%s", name);
	if ((dfd = open_parent(wfd, path, &base)) < 0) {
		snprintf(why, whylen, "member %.200s: %s", name, space_strerror(dfd));
		return dfd == -ELOOP || dfd == -ENOTDIR ? -SPACE_E_UNSAFE_PATH : dfd;
	}
	if (type == AE_IFDIR)
		r = mkdirat(dfd, base, 0755) < 0 && errno != EEXIST ? -errno : 0;
	else
		r = extract_file(a, dfd, base, archive_entry_perm(ae) & 0111 ? 0755 : 0644);
	close(dfd);
	if (r == -SPACE_E_FORMAT)
		snprintf(why, whylen, "member %.200s: listed twice, or its data is damaged", name);
	else if (r < 0)
		snprintf(why, whylen, "member %.200s: %s", name, space_strerror(r));
	return r;
}

int hp_bundle_extract(const char *path, const char *workdir, char dir[PATH_MAX], char *why, size_t whylen)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char top[NAME_MAX + 1] = "";
	uint64_t total = 0;
	unsigned n = 0;
	int fd = -1, wfd = -1, r = -ENOMEM, ar;

	*why = 0;
	if (!a)
		goto out;
	if ((fd = open_regular(AT_FDCWD, path, O_RDONLY, 0, 0)) < 0) {
		r = fd;
		snprintf(why, whylen, "%s", space_strerror(r));
		goto out;
	}
	if ((wfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", workdir, strerror(errno));
		goto out;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	r = -SPACE_E_FORMAT;
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		snprintf(why, whylen, "not a gzip-compressed tar archive: %.200s", archive_error_string(a));
		goto out;
	}
	while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		if (++n > HP_TGZ_MAX_ENTRIES) {
			snprintf(why, whylen, "more than %d members", HP_TGZ_MAX_ENTRIES);
			goto out;
		}
		if ((r = extract_member(a, ae, wfd, top, &total, why, whylen)) < 0)
			goto out;
	}
	r = -SPACE_E_FORMAT;
	if (ar != ARCHIVE_EOF) {
		snprintf(why, whylen, "damaged archive: %.200s", archive_error_string(a));
		goto out;
	}
	if (!*top) {
		snprintf(why, whylen, "empty archive");
		goto out;
	}
	snprintf(dir, PATH_MAX, "%s/%s", workdir, top);
	r = 0;
out:
	if (a)
		archive_read_free(a);
	if (fd >= 0)
		close(fd);
	if (wfd >= 0)
		close(wfd);
	return r;
}

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
static int first_failure(const struct ov *ov, char *why, size_t whylen)
{
	for (unsigned i = 0; i < ov->nchecks; i++) {
		const struct ov_check *c = &ov->checks[i];
		if (c->ok)
			continue;
		snprintf(why, whylen, "%s %s: %s", c->name, c->file, c->detail);
		return strstr(c->name, "chain") ? -SPACE_E_UNTRUSTED : -SPACE_E_SIGNATURE;
	}
	snprintf(why, whylen, "verification failed");
	return -SPACE_E_SIGNATURE;
}

/* The manifest and its companions into the work copy, then their checks
 * and the parse. */
static int verify_manifest(struct hp_bundle *b, int sdfd, const char *ca, char *why, size_t whylen)
{
	static const char *const names[] = { HP_MEMBER_MANIFEST, "manifest.sig", "manifest.cert.pem",
					     "manifest.chain.pem" };
	struct ov_opts oo = { .ca_file = ca };
	struct ov ov;
	struct ov_member *mm = NULL;
	unsigned char sha[32];
	uint64_t size;
	char err[200];
	int r = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && sdfd != b->dfd; i++) {
		r = take_file(sdfd, names[i], b->dfd, 1u << 20, sha, &size);
		if (r < 0 && r != -ENOENT) { /* a missing one is reported by the checks */
			snprintf(why, whylen, "%s: %s", names[i], space_strerror(r));
			return r == -SPACE_E_NOT_REG || r == -ELOOP || r == -EFBIG ? -SPACE_E_FORMAT : r;
		}
	}
	ov_init(&ov, &oo);
	r = ov_signed_file(&ov, b->dfd, HP_MEMBER_MANIFEST, HP_MANIFEST_MAX, &mm);
	if (r < 0)
		snprintf(why, whylen, "manifest: %s", space_strerror(r));
	else if (ov.nfail || !mm)
		r = first_failure(&ov, why, whylen);
	else if ((r = hp_manifest_parse((const char *)mm->data, (size_t)mm->got, b->m, err, sizeof(err))) < 0)
		snprintf(why, whylen, "manifest: %s", err);
	ov_free(&ov);
	return r;
}

/* patchme.sh and every package: copied, hashed, compared; each package's
 * own metadata must name what the manifest says. */
static int verify_files(struct hp_bundle *b, int sdfd, char *why, size_t whylen)
{
	const struct hp_manifest *m = b->m;
	unsigned char sha[32];
	uint64_t size;
	int r, pdfd = -1, sp = -1;

	r = take_file(sdfd, HP_MEMBER_SCRIPT, sdfd == b->dfd ? -1 : b->dfd, 1u << 20, sha, &size);
	if (r == 0 && memcmp(sha, m->patchme_sha256, 32))
		r = -SPACE_E_DIGEST;
	if (r < 0) {
		snprintf(why, whylen, "%s: %s", HP_MEMBER_SCRIPT,
			 r == -SPACE_E_DIGEST ? "SHA-256 differs from the signed manifest (modified)" : space_strerror(r));
		return r;
	}
	if (sdfd != b->dfd && mkdirat(b->dfd, HP_PACKAGES_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	sp = openat(sdfd, HP_PACKAGES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	pdfd = openat(b->dfd, HP_PACKAGES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sp < 0 || pdfd < 0) {
		r = errno == ELOOP || errno == ENOTDIR ? -SPACE_E_FORMAT : -errno;
		snprintf(why, whylen, "%s/: %s", HP_PACKAGES_DIR, space_strerror(r));
		goto out;
	}
	b->pkg_bytes = 0;
	for (unsigned i = 0; i < m->npkg; i++) {
		const struct hp_package *p = &m->pkg[i];
		char rel[HP_PATH_MAX];
		const char *base;
		struct pkg_meta meta = { 0 };
		struct pkg_err perr;

		hp_package_file(rel, p);
		base = rel + strlen(HP_PACKAGES_DIR) + 1;
		r = take_file(sp, base, sdfd == b->dfd ? -1 : pdfd, p->size, sha, &size);
		if (r == 0 && (size != p->size || memcmp(sha, p->sha256, 32)))
			r = -SPACE_E_DIGEST;
		if (r < 0) {
			snprintf(why, whylen, "%s: %s", rel,
				 r == -SPACE_E_DIGEST || r == -EFBIG ? "size or SHA-256 differs from the signed manifest (tampered or damaged)"
				 : space_strerror(r));
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
			snprintf(why, whylen, "%s: %s", rel,
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
		     char *why, size_t whylen)
{
	int sdfd = -1, r;

	memset(b, 0, sizeof(*b));
	b->dfd = -1;
	*why = 0;
	snprintf(b->bound, sizeof(b->bound), "%s", bound);
	snprintf(b->dir, sizeof(b->dir), "%s", workdir ? workdir : dir);
	if (!(b->m = calloc(1, sizeof(*b->m))))
		return -ENOMEM;
	if ((sdfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (b->dfd = workdir ? open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : dup(sdfd)) < 0) {
		r = -errno;
		snprintf(why, whylen, "%s: %s", sdfd < 0 ? dir : workdir, strerror(errno));
		goto out;
	}
	if (!workdir) { /* verify in place: a directory this tool made */
		close(sdfd);
		sdfd = b->dfd;
	}
	if ((r = verify_manifest(b, sdfd, ca, why, whylen)) < 0)
		goto out;
	if ((r = hp_check_name(b->m, bound, why, whylen)) < 0)
		goto out;
	r = verify_files(b, sdfd, why, whylen);
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
