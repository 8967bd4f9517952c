/* SPDX-License-Identifier: MIT */
/* verify.c - compare installed entries with the database. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"
#include "openreg.h"

static mode_t type_bits(char t)
{
	switch (t) {
	case PKG_FILE: return S_IFREG;
	case PKG_DIR: return S_IFDIR;
	case PKG_SYMLINK: return S_IFLNK;
	case PKG_CHR: return S_IFCHR;
	case PKG_BLK: return S_IFBLK;
	default: return S_IFIFO;
	}
}

struct vctx {
	const struct pkg_meta *m;
	pkg_verify_cb cb;
	void *ctx;
	int count;
};

static void report(struct vctx *v, const struct pkg_entry *e, bool config, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void report(struct vctx *v, const struct pkg_entry *e, bool config, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!config)
		v->count++;
	if (v->cb)
		v->cb(v->m->name, e->path, what, config, v->ctx);
}

/* Mode and owner of an entry found with the right type. */
static void check_attrs(struct vctx *v, const struct pkg_entry *e, const struct stat *st, bool no_owner)
{
	mode_t mode = st->st_mode & 07777;

	if (e->type != PKG_SYMLINK) {
		/* --no-chown installs keep directories writable by their owner. */
		mode_t want = e->mode, got = mode;
		if (no_owner && e->type == PKG_DIR) {
			want |= 0700;
			got |= 0700;
		}
		if (want != got)
			report(v, e, e->config, "%smode %04o, want %04o",
			       e->config ? "config changed locally: " : "", (unsigned)mode, (unsigned)e->mode);
	}
	if (!no_owner && (st->st_uid != e->uid || st->st_gid != e->gid))
		report(v, e, false, "owner %u:%u, want %u:%u", (unsigned)st->st_uid,
		       (unsigned)st->st_gid, (unsigned)e->uid, (unsigned)e->gid);
}

/* A regular file's size and digest. */
static void check_content(struct vctx *v, const struct pkg_entry *e, int dfd, const char *base)
{
	char hex[65];
	uint64_t size;
	/* a FIFO or device swapped in since the fstatat above would block
	 * open() or never end (/dev/zero) */
	int fd = open_regular(dfd, base, O_RDONLY | O_NOFOLLOW, 0, 0), r;

	if (fd < 0) {
		report(v, e, false, "cannot check: %s", space_strerror(fd));
		return;
	}
	r = sha256_fd_hex(fd, hex, &size);
	close(fd);
	if (r < 0)
		report(v, e, false, "cannot check: %s", space_strerror(r));
	else if (size != e->size || strcmp(hex, e->sha256) != 0)
		report(v, e, e->config, "%s", e->config ? "config changed locally" : "content differs");
}

/* What the type itself holds: content, link target, device numbers. */
static void check_object(struct vctx *v, const struct pkg_entry *e, int dfd, const char *base,
			 const struct stat *st)
{
	char tgt[PATH_MAX];
	ssize_t n;

	switch (e->type) {
	case PKG_FILE:
		check_content(v, e, dfd, base);
		break;
	case PKG_SYMLINK:
		n = readlinkat(dfd, base, tgt, sizeof(tgt) - 1);
		if (n < 0)
			report(v, e, false, "cannot check: %s", strerror(errno));
		else if ((tgt[n] = '\0', strcmp(tgt, e->target) != 0))
			report(v, e, false, "link target %s, want %s", tgt, e->target);
		break;
	case PKG_CHR:
	case PKG_BLK:
		if (major(st->st_rdev) != e->major || minor(st->st_rdev) != e->minor)
			report(v, e, false, "device %u:%u, want %u:%u", major(st->st_rdev),
			       minor(st->st_rdev), e->major, e->minor);
		break;
	}
}

static int verify_entry(struct vctx *v, struct pkg_walk *w, int rootfd,
			const struct pkg_entry *e, int flags)
{
	bool no_owner = flags & PKG_VERIFY_NO_OWNER;
	const char *base;
	struct stat st;
	int dfd = pkg_walk_parent(w, e->path, &base);

	/* An install without root creates no device nodes. */
	if (no_owner && (e->type == PKG_CHR || e->type == PKG_BLK))
		return 0;
	if (dfd < 0 || fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		int r = dfd < 0 ? dfd : -errno;
		if (r == -ENOENT || r == -ENOTDIR)
			report(v, e, false, "missing");
		else
			report(v, e, false, "cannot check: %s", space_strerror(r));
		return 0;
	}
	if (e->type == PKG_DIR && S_ISLNK(st.st_mode)) {
		int fd = pkg_resolve_dir(rootfd, e->path);
		if (fd >= 0) {
			close(fd); /* a symlink to a directory inside the root */
			return 0;
		}
	}
	if ((st.st_mode & S_IFMT) != type_bits(e->type)) {
		report(v, e, false, "type differs (want %c)", e->type);
		return 0;
	}
	check_attrs(v, e, &st, no_owner);
	check_object(v, e, dfd, base, &st);
	return 0;
}

int pkg_verify(struct pkg_db *db, const struct pkg_meta *m, int flags, pkg_verify_cb cb, void *ctx)
{
	struct vctx v = { .m = m, .cb = cb, .ctx = ctx };
	struct pkg_walk w;

	pkg_walk_init(&w, db->rootfd);
	for (size_t i = 0; i < m->n_entries; i++)
		verify_entry(&v, &w, db->rootfd, &m->entries[i], flags);
	pkg_walk_reset(&w);
	return v.count;
}
