/* SPDX-License-Identifier: MIT */
/* backup.c - `spacectl backup create` and `spacectl support-bundle`: a
 * gzip'd pax archive of appliance trees plus a MANIFEST.sha256 member
 * ("<sha256>  <path>" per regular file), written under a temporary name
 * (mode 0600: a backup holds /etc/shadow), fsync'd and renamed into place.
 * On any failure the temporary file is removed. Writes to the target go
 * through our own callback so that its errno (ENOSPC, EFBIG, EIO) reaches
 * the message: libarchive's own fd writer reports every one of them as
 * "Write error".
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fdio.h"
#include "buf.h"
#include "json.h"
#include "spacectl.h"
#include "upgrade.h"
#include "util.h"

struct arc {
	struct archive *a;
	struct buf manifest;
	size_t rootlen;
	int files;
	int fd;            /* the target (temporary name) */
	const char *final; /* its final name, for messages */
	int werr;          /* negative errno of the failed write to fd */
	char err[300];
};

static la_ssize_t out_write(struct archive *a, void *ctx, const void *data, size_t n)
{
	struct arc *x = ctx;
	int r = fd_write_full(x->fd, data, n);

	if (r < 0) {
		x->werr = r;
		archive_set_error(a, -r, "%s", space_strerror(r));
		return -1;
	}
	return (la_ssize_t)n;
}

/* A libarchive call on the output failed while handling obj: when writing
 * the target was the cause, name the archive and return that errno, else
 * keep libarchive's message. */
static int arc_fail(struct arc *x, const char *obj)
{
	if (x->werr) {
		snprintf(x->err, sizeof(x->err), "%s", x->final);
		return x->werr;
	}
	snprintf(x->err, sizeof(x->err), "%s: %s", obj, archive_error_string(x->a));
	return -EIO;
}

/* Copy one regular file into the archive while hashing it. */
static int add_data(struct arc *x, const char *src, const char *rel)
{
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r = 0;
	ssize_t n;

	if (fd < 0 || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		if (archive_write_data(x->a, buf, (size_t)n) != n) {
			r = arc_fail(x, src);
			goto out;
		}
	}
	if (n < 0) {
		r = -errno;
		goto out;
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	hex_encode(md, mdlen, hex);
	buf_printf(&x->manifest, "%s  %s\n", hex, rel);
	x->files++;
out:
	EVP_MD_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return r;
}

/* Add the tree at abs (which lies below the root) without following
 * symlinks; sockets, fifos and devices are skipped. A missing tree is
 * fine (nothing to save); files that vanish or cannot be read while we
 * walk are an error, because a backup with silent holes is worse than
 * none. */
static int add_tree(struct arc *x, const char *abs)
{
	struct archive *disk = archive_read_disk_new();
	struct archive_entry *e = NULL;
	struct stat st;
	int r = 0, ar;

	if (!disk)
		return -ENOMEM;
	if (lstat(abs, &st) < 0) {
		archive_read_free(disk);
		return errno == ENOENT ? 0 : -errno;
	}
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_standard_lookup(disk);
	if (archive_read_disk_open(disk, abs) != ARCHIVE_OK) {
		snprintf(x->err, sizeof(x->err), "%s: %s", abs, archive_error_string(disk));
		r = -EIO;
		goto out;
	}
	for (;;) {
		const char *src, *rel;
		mode_t type;

		archive_entry_free(e);
		e = archive_entry_new();
		ar = archive_read_next_header2(disk, e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			snprintf(x->err, sizeof(x->err), "%s: %s", abs, archive_error_string(disk));
			r = -EIO;
			goto out;
		}
		archive_read_disk_descend(disk);
		src = archive_entry_sourcepath(e);
		type = archive_entry_filetype(e);
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
			continue;
		rel = src + x->rootlen;
		while (*rel == '/')
			rel++;
		archive_entry_set_pathname(e, rel);
		if (archive_write_header(x->a, e) != ARCHIVE_OK) {
			r = arc_fail(x, src);
			goto out;
		}
		if (type == AE_IFREG && archive_entry_size(e) >= 0) {
			r = add_data(x, src, rel);
			if (r < 0) {
				if (!x->err[0])
					snprintf(x->err, sizeof(x->err), "%s: %s", src, space_strerror(r));
				goto out;
			}
		}
	}
out:
	archive_entry_free(e);
	archive_read_close(disk);
	archive_read_free(disk);
	return r;
}

static int add_manifest(struct arc *x)
{
	struct archive_entry *e = archive_entry_new();
	int r = 0;

	if (!e)
		return -ENOMEM;
	archive_entry_set_pathname(e, "MANIFEST.sha256");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)x->manifest.len);
	archive_entry_set_mtime(e, time(NULL), 0);
	if (archive_write_header(x->a, e) != ARCHIVE_OK ||
	    (x->manifest.len && archive_write_data(x->a, x->manifest.p, x->manifest.len) !=
					(la_ssize_t)x->manifest.len))
		r = arc_fail(x, "manifest");
	archive_entry_free(e);
	return r;
}

/* A gzip'd pax archive written to x->fd by out_write, set up as libarchive's
 * archive_write_open_fd() would for a regular file: the file itself is
 * never archived, the last block is not padded. */
static int arc_open(struct arc *x)
{
	struct stat st;

	if (fstat(x->fd, &st) < 0)
		return -errno;
	x->a = archive_write_new();
	if (!x->a || archive_write_add_filter_gzip(x->a) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(x->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(x->a, 1) != ARCHIVE_OK)
		return -ENOMEM;
	archive_write_set_skip_file(x->a, st.st_dev, st.st_ino);
	if (archive_write_open2(x->a, x, NULL, out_write, NULL, NULL) != ARCHIVE_OK)
		return arc_fail(x, x->final);
	return 0;
}

/* Write DIR/<prefix>-<timestamp>.tar.gz from the trees (relative to the
 * root); print where it went. */
/* Did a backup written to dir leave the node? Not when dir is in memory
 * (tmpfs, ramfs) or on the boot disk; yes on other storage (a USB stick,
 * another disk, a network filesystem). */
static bool off_node(const char *dir)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	struct stat sd, sr;
	struct statfs fs;

	if (statfs(dir, &fs) < 0 || fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC ||
	    stat(dir, &sd) < 0 || stat("/", &sr) < 0)
		return false;
	if (major(sd.st_dev) == 0)
		return fs.f_type == NFS_SUPER_MAGIC || fs.f_type == 0xFE534D42 /* SMB2 */ ||
		       fs.f_type == 0xFF534D42 /* CIFS */;
	/* on another disk than the root slot's */
	if (node_dev_disk(sd.st_dev, ra, sizeof(ra)) < 0 || node_dev_disk(sr.st_dev, rb, sizeof(rb)) < 0)
		return false;
	return strcmp(ra, rb) != 0;
}

/* The archive's contents: each tree below the root, then the manifest;
 * a failure leaves its object in x->err. */
static int write_trees(const struct opts *o, struct arc *x, const char *const trees[], const char *final)
{
	int r;

	if ((r = arc_open(x)) < 0)
		return r;
	for (int i = 0; trees[i]; i++) {
		char *abs = rpath(o, trees[i]);
		r = abs ? add_tree(x, abs) : -ENOMEM;
		free(abs);
		if (r < 0)
			return r;
	}
	if ((r = add_manifest(x)) < 0)
		return r;
	if (archive_write_close(x->a) != ARCHIVE_OK)
		return arc_fail(x, final);
	return 0;
}

static void print_result(const struct opts *o, const char *final, int files, const char *hex)
{
	struct buf b;
	struct jw w;

	if (!o->json) {
		printf("%s: %d files, sha256 %s\n", final, files, hex);
		return;
	}
	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "file", final);
	jw_kint(&w, "files", files);
	jw_kstr(&w, "sha256", hex);
	jw_obj_end(&w);
	printf("%s\n", b.p ? b.p : "null");
	buf_free(&b);
}

/* DIR/PREFIX-STAMP.tar.gz of the trees, written under a hidden temporary
 * name and renamed; a backup (not a support bundle) is recorded for
 * `spacectl upgrade`. */
static int make_archive(const struct opts *o, const char *dir, const char *prefix,
			const char *const trees[], const char *what)
{
	char stamp[32], hex[65], w[400];
	time_t t = time(NULL);
	struct tm tm;
	char *final = NULL, *tmp = NULL;
	struct arc x = { 0 };
	int fd = -1, r, rc = EX_SYSTEM;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	final = xasprintf("%s/%s-%s.tar.gz", dir, prefix, stamp);
	tmp = xasprintf("%s/.%s-%s.tar.gz.tmp.%ld", dir, prefix, stamp, (long)getpid());
	if (!final || !tmp) {
		rc = fail(what, -ENOMEM);
		goto out;
	}
	/* Over a file-size limit, write() must fail with EFBIG (reported, the
	 * temporary file removed) instead of SIGXFSZ killing us half-way. */
	signal(SIGXFSZ, SIG_IGN);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(w, sizeof(w), "%s: %s", what, tmp);
		rc = fail(w, -errno);
		goto out;
	}
	buf_init(&x.manifest);
	x.rootlen = strlen(o->root);
	x.fd = fd;
	x.final = final;
	if ((r = write_trees(o, &x, trees, final)) < 0)
		goto out_err;
	if (fsync(fd) < 0 || rename(tmp, final) < 0) {
		r = -errno;
		snprintf(x.err, sizeof(x.err), "%s", final);
		goto out_err;
	}
	fsync_parent(final);
	sha256_file_hex(final, hex);
	/* what `spacectl upgrade` checks: when, where, and off the node? */
	if (!strcmp(prefix, "space-backup") && (r = upg_backup_record(o, final, off_node(dir), hex)) < 0) {
		snprintf(x.err, sizeof(x.err), "%s written, but not recorded (%s)", final, space_strerror(r));
		goto out_err_kept;
	}
	print_result(o, final, x.files, hex);
	rc = EX_OK;
	goto out_free;
out_err:
	unlink(tmp);
out_err_kept:
	snprintf(w, sizeof(w), "%s%s%s", what, x.err[0] ? ": " : "", x.err);
	rc = fail(w, r);
out_free:
	if (x.a)
		archive_write_free(x.a);
	buf_free(&x.manifest);
out:
	if (fd >= 0)
		close(fd);
	free(final);
	free(tmp);
	return rc;
}

int cmd_backup(const struct opts *o)
{
	/* /var/etc: what the read-only slot links to (shadow, SSH host keys,
	 * TLS key and certificate; README.md, "What lives where"). */
	static const char *const trees[] = { "/etc", "/var/etc", "/var/lib", NULL };
	char *var = rpath(o, "/var"), *def = rpath(o, "/var/backups");
	const char *dir = o->to ? o->to : def;
	struct stat sv, sd;
	int rc;

	if (!var || !def) {
		rc = fail("backup create", -ENOMEM);
		goto out;
	}
	if (stat(dir, &sd) < 0 || !S_ISDIR(sd.st_mode)) {
		char w[300];
		snprintf(w, sizeof(w), "backup create: %s", dir);
		rc = fail(w, errno ? -errno : -ENOTDIR);
		goto out;
	}
	/* A backup on the node's own /var filesystem dies with the node. */
	if (!o->force && stat(var, &sv) == 0 && sv.st_dev == sd.st_dev) {
		fprintf(stderr,
			"spacectl: backup create: %s: on the same filesystem as /var; "
			"use --to DIR on other storage, or --force\n",
			dir);
		rc = EX_NEGATIVE;
		goto out;
	}
	rc = make_archive(o, dir, "space-backup", trees, "backup create");
out:
	free(var);
	free(def);
	return rc;
}

int cmd_support_bundle(const struct opts *o)
{
	/* /var/log holds /var/log/hotpatch; the hot-patch state files say
	 * what was applied, what failed and what is half done (state.h), but
	 * not the backup: it holds copies of /etc. */
	static const char *const trees[] = { "/var/log", "/etc/space-release", "/var/lib/hotpatch/history",
					     "/var/lib/hotpatch/journal", "/var/lib/hotpatch/progress",
					     "/var/lib/hotpatch/applied", NULL };
	char *def = rpath(o, "/var/tmp");
	const char *dir = o->to ? o->to : def;
	struct stat sd;
	int rc;

	if (!def)
		return fail("support-bundle", -ENOMEM);
	if (stat(dir, &sd) < 0 || !S_ISDIR(sd.st_mode)) {
		char w[300];
		snprintf(w, sizeof(w), "support-bundle: %s", dir);
		rc = fail(w, errno ? -errno : -ENOTDIR);
	} else {
		rc = make_archive(o, dir, "space-support", trees, "support-bundle");
	}
	free(def);
	return rc;
}
