/* SPDX-License-Identifier: MIT */
/* install.c - install/upgrade and remove transactions, and the recovery of
 * an interrupted one.
 *
 * Install, in order (pkg/FORMAT.md, "Transactions"):
 *  1. txn/meta      the new metadata is journalled (fsync'd);
 *  2. prepare       the archive is read once; every member is checked
 *                   against the metadata and extracted to a temporary name
 *                   beside its final path; new directories are created
 *                   (and logged to txn/created first); nothing visible
 *                   changes. Any failure rolls back: temporaries and the
 *                   logged directories are removed.
 *  3. syncfs, then txn/commit   the commit point;
 *  4. apply         temporaries renamed into place, directory modes set,
 *                   files the old version had and the new one lacks removed;
 *  5. syncfs, database record written, journal removed.
 * After a crash, the next pkg run rolls back (no txn/commit) or completes
 * (txn/commit present) the transaction; both steps are idempotent.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "fdio.h"
#include "internal.h"
#include "openreg.h"

#define TXN "txn"

static int txn_open(struct pkg_db *db, bool create)
{
	int fd;

	if (create && mkdirat(db->dbfd, TXN, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = openat(db->dbfd, TXN, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Remove the journal; "created" and "commit" go first so that a crash in
 * between never turns a completed transaction into a rollback. Anything
 * else in txn/ (e.g. a temporary of an interrupted journal write) goes
 * with it. */
static int txn_finish(struct pkg_db *db, int tfd)
{
	struct dirent *de;
	DIR *d;

	if ((unlinkat(tfd, "created", 0) < 0 && errno != ENOENT) ||
	    (unlinkat(tfd, "commit", 0) < 0 && errno != ENOENT) || fsync(tfd) < 0)
		return -errno;
	d = pkg_opendir_at(tfd, ".");
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(tfd, de->d_name, 0);
	closedir(d);
	if (unlinkat(db->dbfd, TXN, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -errno;
	return fsync(db->dbfd) < 0 ? -errno : 0;
}

static int tmp_name(char *out, size_t n, const char *prefix, const char *base)
{
	return (size_t)snprintf(out, n, "%s%s", prefix, base) >= n ? -ENAMETOOLONG : 0;
}

/* Is the on-disk config file at dfd/base something the admin changed? */
static bool config_changed(int dfd, const char *base, const struct pkg_entry *ne,
			   const struct pkg_entry *oe)
{
	char hex[65];
	int fd, r;

	fd = open_regular(dfd, base, O_RDONLY | O_NOFOLLOW, 0, 0);
	if (fd < 0)
		return fd != -ENOENT; /* not a regular file: changed */
	r = sha256_fd_hex(fd, hex, NULL);
	close(fd);
	if (r < 0)
		return true;
	if (ne && strcmp(hex, ne->sha256) == 0)
		return false;
	if (oe && oe->type == PKG_FILE && strcmp(hex, oe->sha256) == 0)
		return false;
	return true;
}

/* Undo a prepare: temporaries of every entry, then the logged new
 * directories, deepest first. Best effort: each step is independent. */
static void txn_rollback(struct pkg_db *db, int tfd, const struct pkg_meta *m)
{
	struct pkg_walk w;
	char name[NAME_MAX + 1], *log = NULL;
	size_t len;

	pkg_walk_init(&w, db->rootfd);
	for (size_t i = 0; m && i < m->n_entries; i++) {
		const struct pkg_entry *e = &m->entries[i];
		const char *base;
		int dfd;

		if (e->type == PKG_DIR)
			continue;
		dfd = pkg_walk_parent(&w, e->path, &base);
		if (dfd < 0)
			continue;
		if (tmp_name(name, sizeof(name), PKG_TMP_PREFIX, base) == 0)
			unlinkat(dfd, name, 0);
		if (tmp_name(name, sizeof(name), PKG_NEW_PREFIX, base) == 0)
			unlinkat(dfd, name, 0);
	}
	pkg_walk_reset(&w);
	if (pkg_read_at(tfd, "created", PKG_META_MAX, &log, &len) == 0) {
		char *p = log + len;

		/* Walk the log backwards: children were logged after parents. */
		while (p > log) {
			char *line, *end = p;
			const char *base;
			int dfd;

			if (end[-1] == '\n')
				end--;
			*end = '\0';
			line = end;
			while (line > log && line[-1] != '\n')
				line--;
			p = line;
			if (!*line || pkg_path_check(line) < 0)
				continue;
			dfd = pkg_walk_parent(&w, line, &base);
			if (dfd >= 0)
				unlinkat(dfd, base, AT_REMOVEDIR);
			pkg_walk_reset(&w);
		}
		free(log);
	}
	pkg_walk_reset(&w);
}

/* Remove what `old` installed and `keep` (may be NULL) does not, unless
 * another package owns it or it is a config file changed locally. */
static void remove_obsolete(struct pkg_db *db, const struct pkg_meta *old,
			    const struct pkg_meta *keep)
{
	struct pkg_walk w;

	pkg_walk_init(&w, db->rootfd);
	for (size_t i = old->n_entries; i-- > 0;) {
		const struct pkg_entry *e = &old->entries[i];
		const char *base;
		int dfd;

		if (keep && pkg_meta_find(keep, e->path))
			continue;
		if (pkg_db_owner(db, old->name, e->path))
			continue;
		dfd = pkg_walk_parent(&w, e->path, &base);
		if (dfd < 0 || pkg_walk_in_db(&w, base))
			continue;
		if (e->type == PKG_DIR) {
			/* Fails harmlessly when something else lives there. */
			unlinkat(dfd, base, AT_REMOVEDIR);
			continue;
		}
		if (e->config && config_changed(dfd, base, NULL, e))
			continue;
		unlinkat(dfd, base, 0);
	}
	pkg_walk_reset(&w);
}

/* Owner and mode of a package directory, applied through an fd opened with
 * O_NOFOLLOW: a path-based chmod after an lstat would follow a symlink
 * swapped in between. A symlink (to a directory) stays as it is. */
static int dir_apply(int dfd, const char *base, const struct pkg_entry *e, int flags,
		     struct space_err *err)
{
	mode_t mode = (flags & PKG_NO_CHOWN) ? e->mode | 0700 : e->mode;
	char proc[64];
	int fd, r = 0;

	fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES) {
		/* an unreadable directory of ours (not root): chmod needs no
		 * read access, so go through the fd's /proc entry, which names
		 * the opened directory itself and cannot be swapped */
		fd = openat(dfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return 0;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (!(flags & PKG_NO_CHOWN) && fchownat(fd, "", e->uid, e->gid, AT_EMPTY_PATH) < 0)
			r = err_set(err, -errno, "%s: chown: %s", e->path, strerror(errno));
		else if (chmod(proc, mode) < 0)
			r = err_set(err, -errno, "%s: chmod: %s", e->path, strerror(errno));
		close(fd);
		return r;
	}
	if (fd < 0)
		return 0; /* gone, a symlink or not a directory: left alone as before */
	if (!(flags & PKG_NO_CHOWN) && fchown(fd, e->uid, e->gid) < 0)
		r = err_set(err, -errno, "%s: chown: %s", e->path, strerror(errno));
	else if (fchmod(fd, mode) < 0)
		r = err_set(err, -errno, "%s: chmod: %s", e->path, strerror(errno));
	close(fd);
	return r;
}

/* Step 4: make the prepared state visible. Idempotent. */
static int txn_apply(struct pkg_db *db, const struct pkg_meta *m, const struct pkg_meta *old,
		     int flags, struct space_err *err)
{
	char name[NAME_MAX + 1], dst[NAME_MAX + 1];
	struct pkg_walk w;
	bool renamed = false;
	int r = 0;

	pkg_walk_init(&w, db->rootfd);
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct pkg_entry *e = &m->entries[i];
		const char *base;
		int dfd = pkg_walk_parent(&w, e->path, &base);

		if (dfd < 0) {
			r = err_set(err, dfd, "%s: %s", e->path, space_strerror(dfd));
			goto out;
		}
		if (e->type == PKG_DIR) {
			r = dir_apply(dfd, base, e, flags, err);
			if (r < 0)
				goto out;
			continue;
		}
		if (tmp_name(name, sizeof(name), PKG_TMP_PREFIX, base) < 0)
			continue;
		if (renameat(dfd, name, dfd, base) == 0) {
			if (!renamed)
				pkg_hook("renamed");
			renamed = true;
		} else if (errno != ENOENT) {
			r = err_set(err, -errno, "%s: %s", e->path, strerror(errno));
			goto out;
		}
		if (!e->config)
			continue;
		if (tmp_name(name, sizeof(name), PKG_NEW_PREFIX, base) < 0 ||
		    (size_t)snprintf(dst, sizeof(dst), "%s.new", base) >= sizeof(dst))
			continue;
		if (renameat(dfd, name, dfd, dst) < 0 && errno != ENOENT) {
			r = err_set(err, -errno, "%s.new: %s", e->path, strerror(errno));
			goto out;
		}
	}
	pkg_walk_reset(&w);
	if (old)
		remove_obsolete(db, old, m);
out:
	pkg_walk_reset(&w);
	return r;
}

/* Step 5. */
static int txn_complete(struct pkg_db *db, int tfd, const struct pkg_meta *m, struct space_err *err)
{
	char path[NAME_MAX + 16], *text = NULL;
	size_t len;
	int r;

	if (syncfs(db->rootfd) < 0)
		return err_set(err, -errno, "syncfs: %s", strerror(errno));
	r = pkg_meta_write(m, &text, &len);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "installed/%s", m->name);
	r = write_file_atomic_at(db->dbfd, path, text, len, PKG_DB_MODE, PKG_DB_WRITE);
	free(text);
	if (r < 0)
		return err_set(err, r, "database: %s", space_strerror(r));
	r = txn_finish(db, tfd);
	if (r < 0)
		return err_set(err, r, "database journal: %s", space_strerror(r));
	return 0;
}

static int append_line(int fd, const char *s)
{
	int r = fd_write_full(fd, s, strlen(s));

	return r < 0 ? r : fd_write_full(fd, "\n", 1);
}

/* Extract one file member to fd, checking size and digest. */
static int extract_data(struct archive *a, int fd, const struct pkg_entry *e, unsigned char *buf,
			size_t bufsz, struct space_err *err)
{
	struct pkg_hash h;
	char hex[65];
	la_ssize_t n;
	int r = pkg_hash_init(&h);

	if (r < 0)
		return r;
	while ((n = archive_read_data(a, buf, bufsz)) > 0) {
		pkg_hash_update(&h, buf, (size_t)n);
		if ((r = fd_write_full(fd, buf, (size_t)n)) < 0) {
			pkg_hash_free(&h);
			return err_set(err, r, "%s: %s", e->path, space_strerror(r));
		}
	}
	if (n < 0) {
		pkg_hash_free(&h);
		return err_set(err, -SPACE_E_FORMAT, "%s: corrupt archive: %s", e->path,
			       archive_error_string(a));
	}
	if (h.size != e->size) {
		pkg_hash_free(&h);
		return err_set(err, -SPACE_E_DIGEST, "%s: size mismatch", e->path);
	}
	if ((r = pkg_hash_final(&h, hex)) < 0)
		return err_set(err, r, "%s: sha256: %s", e->path, space_strerror(r));
	if (strcmp(hex, e->sha256) != 0)
		return err_set(err, -SPACE_E_DIGEST, "%s: sha256 mismatch", e->path);
	return 0;
}

static int set_owner_mode(int dfd, const char *name, const struct pkg_entry *e, int flags,
			  struct space_err *err)
{
	if (!(flags & PKG_NO_CHOWN) && fchownat(dfd, name, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(err, -errno, "%s: chown: %s", e->path, strerror(errno));
	if (e->type != PKG_SYMLINK && fchmodat(dfd, name, e->mode, 0) < 0)
		return err_set(err, -errno, "%s: chmod: %s", e->path, strerror(errno));
	return 0;
}

struct prep {
	struct pkg_db *db;
	struct pkg_walk w;
	const struct pkg_meta *m, *old;
	int created_fd;
	int flags;
	unsigned char *buf;
	size_t bufsz;
	struct pkg_install_result *res;
};

static const mode_t ae_type[128] = {
	[PKG_FILE] = AE_IFREG,
	[PKG_DIR] = AE_IFDIR,
	[PKG_SYMLINK] = AE_IFLNK,
	[PKG_CHR] = AE_IFCHR,
	[PKG_BLK] = AE_IFBLK,
	[PKG_FIFO] = AE_IFIFO,
};

/* A locally changed config file's new version goes to BASE.new, renamed
 * there after the commit point: anything that would make that rename fail
 * (a directory) or lose a file (one a package owns) is refused now,
 * while nothing is committed. Like every clash with the tree on disk,
 * it is a refusal (exit 3), not a system error. */
static int check_new_path(const struct prep *p, int dfd, const char *base,
			  const struct pkg_entry *e, struct space_err *err)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	const char *owner;
	struct stat st;

	if ((size_t)snprintf(name, sizeof(name), "%s.new", base) >= sizeof(name) ||
	    (size_t)snprintf(path, sizeof(path), "%s.new", e->path) >= sizeof(path))
		return err_set(err, -ENAMETOOLONG, "%s.new: name too long", e->path);
	owner = pkg_meta_find(p->m, path) ? p->m->name : pkg_db_owner(p->db, p->m->name, path);
	if (owner)
		return err_set(err, -SPACE_E_FORMAT,
			       "%s: belongs to package %s; the new version of the locally changed "
			       "%s would replace it",
			       path, owner, e->path);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return err_set(err, -SPACE_E_FORMAT,
			       "%s: is a directory on disk; the new version of the locally changed "
			       "%s goes there",
			       path, e->path);
	return 0;
}

/* The archive member agrees with its metadata entry: type, size, symlink
 * target, device number; no hardlinks. */
static int check_member_header(struct archive_entry *ae, const struct pkg_entry *e, struct space_err *err)
{
	if (archive_entry_hardlink(ae))
		return err_set(err, -SPACE_E_FORMAT, "%s: hardlink members are not supported", e->path);
	if (archive_entry_filetype(ae) != ae_type[(unsigned char)e->type & 127])
		return err_set(err, -SPACE_E_FORMAT, "%s: member type differs from the metadata", e->path);
	if (e->type == PKG_FILE && (!archive_entry_size_is_set(ae) ||
				    (uint64_t)archive_entry_size(ae) != e->size))
		return err_set(err, -SPACE_E_DIGEST, "%s: size mismatch", e->path);
	if (e->type == PKG_SYMLINK &&
	    strcmp(archive_entry_symlink(ae) ? archive_entry_symlink(ae) : "", e->target) != 0)
		return err_set(err, -SPACE_E_FORMAT, "%s: symlink target differs from the metadata", e->path);
	if ((e->type == PKG_CHR || e->type == PKG_BLK) &&
	    (archive_entry_rdevmajor(ae) != e->major || archive_entry_rdevminor(ae) != e->minor))
		return err_set(err, -SPACE_E_FORMAT, "%s: device number differs from the metadata", e->path);
	return 0;
}

/* The member's parent directory (owned by p->w), reached without a
 * symlink and outside the database; *base is the last component. */
static int member_parent(struct prep *p, const struct pkg_entry *e, const char **base,
			 struct space_err *err)
{
	int dfd = pkg_walk_parent(&p->w, e->path, base);

	/* The apply phase, after the commit point, resolves each parent
	 * again, and by then this package's own symlinks are in place: a
	 * path through a symlink could lead elsewhere (into the database)
	 * or fail and leave a journal no run can complete. No real package
	 * needs one, so none is allowed: prepare and apply then always
	 * resolve the same directories. */
	if (p->w.link[0])
		return err_set(err, -SPACE_E_UNSAFE_PATH, "%s: reached through the symlink %s",
			       e->path, p->w.link);
	if (dfd < 0)
		return err_set(err, dfd, "%s: parent directory: %s", e->path, space_strerror(dfd));
	/* The path rules keep the literal path out of the database, and no
	 * symlink is followed: a second line of defence. */
	if (pkg_walk_in_db(&p->w, *base))
		return err_set(err, -SPACE_E_UNSAFE_PATH,
			       "%s: inside the package database (" PKG_DB_DIR ") through a symlink",
			       e->path);
	return dfd;
}

/* A directory entry: kept if there (or a symlink to one inside the root),
 * else created now, recorded in the journal first. */
static int prepare_dir(struct prep *p, int dfd, const char *base, const struct pkg_entry *e,
		       const struct stat *st, bool exists, struct space_err *err)
{
	int fd, r;

	if (exists && S_ISDIR(st->st_mode))
		return 0;
	if (exists && S_ISLNK(st->st_mode)) {
		/* e.g. bin -> usr/bin: fine while it stays inside the root. */
		fd = pkg_resolve_dir(p->db->rootfd, e->path);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (fd == -SPACE_E_UNSAFE_PATH || fd == -ELOOP)
			return err_set(err, -SPACE_E_UNSAFE_PATH,
				       "%s: path leaves the root through a symlink", e->path);
	}
	if (exists)
		return err_set(err, -SPACE_E_FORMAT, "%s: exists and is not a directory", e->path);
	if ((r = append_line(p->created_fd, e->path)) < 0)
		return err_set(err, r, "journal: %s", space_strerror(r));
	if (mkdirat(dfd, base, 0700) < 0)
		return err_set(err, -errno, "%s: mkdir: %s", e->path, strerror(errno));
	return 0;
}

/* Create a non-directory member under its temporary name, then set its
 * owner and mode. */
static int create_member(struct prep *p, struct archive *a, int dfd, const char *name,
			 const struct pkg_entry *e, struct space_err *err)
{
	int fd, r;

	switch (e->type) {
	case PKG_FILE:
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_set(err, -errno, "%s: %s", e->path, strerror(errno));
		r = extract_data(a, fd, e, p->buf, p->bufsz, err);
		if (close(fd) < 0 && r == 0)
			r = err_set(err, -errno, "%s: %s", e->path, strerror(errno));
		if (r < 0)
			return r;
		break;
	case PKG_SYMLINK:
		if (symlinkat(e->target, dfd, name) < 0)
			return err_set(err, -errno, "%s: symlink: %s", e->path, strerror(errno));
		break;
	case PKG_CHR:
	case PKG_BLK:
		if (p->flags & PKG_NO_CHOWN)
			return 0; /* recorded in the database only */
		if (mknodat(dfd, name, (e->type == PKG_CHR ? S_IFCHR : S_IFBLK) | 0600,
			    makedev(e->major, e->minor)) < 0)
			return err_set(err, -errno, "%s: mknod: %s", e->path, strerror(errno));
		break;
	case PKG_FIFO:
		if (mkfifoat(dfd, name, 0600) < 0)
			return err_set(err, -errno, "%s: mkfifo: %s", e->path, strerror(errno));
		break;
	}
	return set_owner_mode(dfd, name, e, p->flags, err);
}

/* Step 2 for one member. */
static int prepare_member(struct prep *p, struct archive *a, struct archive_entry *ae,
			  const struct pkg_entry *e, struct space_err *err)
{
	char name[NAME_MAX + 1];
	const char *base, *prefix = PKG_TMP_PREFIX;
	struct stat st;
	bool exists;
	int dfd, r;

	r = check_member_header(ae, e, err);
	if (r < 0)
		return r;
	dfd = member_parent(p, e, &base, err);
	if (dfd < 0)
		return dfd;
	exists = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!exists && errno != ENOENT)
		return err_set(err, -errno, "%s: %s", e->path, strerror(errno));

	if (e->type == PKG_DIR)
		return prepare_dir(p, dfd, base, e, &st, exists, err);
	if (exists && S_ISDIR(st.st_mode))
		return err_set(err, -SPACE_E_FORMAT, "%s: is a directory on disk", e->path);
	if (e->config && exists && config_changed(dfd, base, e, p->old ? pkg_meta_find(p->old, e->path) : NULL)) {
		r = check_new_path(p, dfd, base, e, err);
		if (r < 0)
			return r;
		prefix = PKG_NEW_PREFIX;
		if (p->res && p->res->n_new_configs < 8)
			snprintf(p->res->new_configs[p->res->n_new_configs++],
				 sizeof(p->res->new_configs[0]), "%s.new", e->path);
	}
	r = tmp_name(name, sizeof(name), prefix, base);
	if (r < 0)
		return err_set(err, r, "%s: name too long", e->path);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		return err_set(err, -errno, "%s: %s", e->path, strerror(errno));
	return create_member(p, a, dfd, name, e, err);
}

static int check_conflicts(const struct pkg_db *db, const struct pkg_meta *m, struct space_err *err)
{
	for (size_t k = 0; k < db->n_pkgs; k++) {
		const struct pkg_meta *o = &db->pkgs[k];

		if (strcmp(o->name, m->name) == 0)
			continue;
		for (size_t i = 0; i < m->n_entries; i++) {
			const struct pkg_entry *e = &m->entries[i];
			const struct pkg_entry *oe = pkg_meta_find(o, e->path);

			/* Directories may be shared, and a directory may meet a
			 * symlink (bin/ of a package, bin -> usr/bin of
			 * another; nothing goes below it: prepare_member());
			 * anything else has one owner. */
			if (oe && !(oe->type == PKG_DIR && e->type == PKG_DIR) &&
			    !(oe->type == PKG_DIR && e->type == PKG_SYMLINK) &&
			    !(oe->type == PKG_SYMLINK && e->type == PKG_DIR))
				return err_set(err, -SPACE_E_FORMAT, "%s: conflicts with package %s",
					       e->path, o->name);
			/* A shared directory has one mode and owner on disk:
			 * different ones would make the last install win and
			 * verify blame the other package. */
			if (oe && oe->type == PKG_DIR && e->type == PKG_DIR &&
			    (oe->mode != e->mode || oe->uid != e->uid || oe->gid != e->gid))
				return err_set(err, -SPACE_E_FORMAT,
					       "%s: directory %04o %u:%u, package %s has it %04o %u:%u",
					       e->path, (unsigned)e->mode, (unsigned)e->uid,
					       (unsigned)e->gid, o->name, (unsigned)oe->mode,
					       (unsigned)oe->uid, (unsigned)oe->gid);
		}
	}
	return 0;
}

/* A failure after the commit point: say that the transaction stands and
 * will be completed, never that nothing was written (r is never a
 * refusal here: those are all found in the prepare phase). */
static void committed_fail(struct space_err *err, int r)
{
	err_prefix(err, r, "committed, not completed (the next pkg command completes it)");
}

/* Reload the package list after a finished transaction. Bad records are
 * skipped by pkg_db_load(); what can fail is the system, and then the
 * message says the action itself was done. */
static int reload(struct pkg_db *db, const char *done, struct space_err *err)
{
	int r = pkg_db_load(db);

	return r < 0 ? err_set(err, r, "%s, but reading the database again failed: %s", done,
			       space_strerror(r)) :
		       0;
}

static int write_commit(int tfd, int flags)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "flags %d\n", flags);

	return write_file_atomic_at(tfd, "commit", buf, (size_t)n, PKG_DB_MODE, PKG_DB_WRITE);
}

/* Device nodes (/dev/mem, /dev/sda) are raw access to the machine: the
 * permission comes from the installer's list of names, never from the
 * package's own metadata, which whoever built it wrote. */
static int check_devices(const struct pkg_meta *m, const struct pkg_install_opts *o,
			 struct space_err *err)
{
	for (size_t i = 0; i < o->n_allow_devices; i++)
		if (strcmp(o->allow_devices[i], m->name) == 0)
			return 0;
	for (size_t i = 0; i < m->n_entries; i++)
		if (m->entries[i].type == PKG_CHR || m->entries[i].type == PKG_BLK)
			return err_set(err, -SPACE_E_FORMAT,
				       "%s: device node in package %s, which this install does not "
				       "allow (--allow-devices)",
				       m->entries[i].path, m->name);
	return 0;
}

/* A record that is a directory: the rename of a new record over it and
 * its unlink both fail, which after the commit point would leave a
 * journal no run completes. Checked before anything is written; a
 * non-empty one is refused for remove too (an empty one is rmdir'ed). */
static int check_record_dir(const struct pkg_db *db, const char *name, bool empty_ok,
			    struct space_err *err)
{
	char path[NAME_MAX + 16];
	struct stat st;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "installed/%s", name);
	if (fstatat(db->dbfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (empty_ok && (d = pkg_opendir_at(db->dbfd, path))) {
		while (readdir(d))
			n++;
		closedir(d);
		if (n <= 2)
			return 0; /* . and .. */
	}
	return err_set(err, -SPACE_E_FORMAT, PKG_DB_DIR "/%s: the record is a directory%s", path,
		       empty_ok ? " that is not empty" : "; remove it first");
}

/* Refusals before anything is written: the record, the previous version,
 * device nodes and conflicts with other packages. */
static int install_checks(struct prep *p, struct pkg_meta *m, const struct pkg_install_opts *o,
			  struct space_err *err)
{
	int r = check_record_dir(p->db, m->name, false, err);

	if (r < 0)
		return r;
	p->old = pkg_db_find(p->db, m->name);
	if (p->old) {
		m->previous = xasprintf("%s-%s", p->old->version, p->old->release);
		if (!m->previous)
			return -ENOMEM;
		if (p->res)
			p->res->upgraded = true;
	}
	r = check_devices(m, o, err);
	if (r == 0)
		r = check_conflicts(p->db, m, err);
	return r;
}

/* 1. The journal: the new metadata and the list of created paths. *tfd is
 * set once the journal exists; a failure after that needs a rollback. */
static int journal_begin(struct prep *p, const struct pkg_meta *m, int *tfd, struct space_err *err)
{
	char *text = NULL;
	size_t len;
	int r = pkg_meta_write(m, &text, &len);

	if (r < 0)
		return r;
	*tfd = txn_open(p->db, true);
	if (*tfd < 0) {
		r = err_set(err, *tfd, "journal: %s", space_strerror(*tfd));
		goto out;
	}
	r = write_file_atomic_at(*tfd, "meta", text, len, PKG_DB_MODE, PKG_DB_WRITE);
	if (r < 0) {
		r = err_set(err, r, "journal: %s", space_strerror(r));
		goto out;
	}
	p->created_fd = openat(*tfd, "created", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (p->created_fd < 0)
		r = err_set(err, -errno, "journal: %s", strerror(errno));
out:
	free(text);
	return r;
}

/* The metadata entry of an archive member, or NULL; pbuf holds the name
 * without the trailing slash tar gives directories. */
static struct pkg_entry *member_entry(struct pkg_meta *m, struct archive_entry *ae, const char **pathp,
				      char *pbuf, size_t pbufsz)
{
	const char *path = archive_entry_pathname(ae);
	size_t n;

	*pathp = path;
	if (!path)
		return NULL;
	n = strlen(path);
	if (n > 1 && path[n - 1] == '/' && archive_entry_filetype(ae) == AE_IFDIR && n - 1 < pbufsz) {
		memcpy(pbuf, path, n - 1);
		pbuf[n - 1] = '\0';
		*pathp = path = pbuf;
	}
	return pkg_meta_find(m, path);
}

/* 2. Prepare: every member, in metadata order, written beside its final
 * name; the archive holds exactly the listed entries. */
static int prepare_members(struct prep *p, struct archive *a, struct pkg_meta *m, struct space_err *err)
{
	struct archive_entry *ae;
	char pbuf[PATH_MAX];
	size_t next = 0;
	int r, ar;

	while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		const char *path;
		struct pkg_entry *e = member_entry(m, ae, &path, pbuf, sizeof(pbuf));

		if (!e)
			return err_set(err, -SPACE_E_FORMAT, "%s: member not listed in the metadata",
				       path ? str_sanitize(path, pbuf, sizeof(pbuf)) : "(no name)");
		/* Members come in metadata order: that creates parents
		 * before children and makes every error precise. */
		if ((size_t)(e - m->entries) > next)
			return err_set(err, -SPACE_E_FORMAT,
				       "%s: listed in the metadata but missing from the archive",
				       m->entries[next].path);
		if ((size_t)(e - m->entries) < next)
			return err_set(err, -SPACE_E_FORMAT, "%s: duplicate member", e->path);
		next++;
		r = prepare_member(p, a, ae, e, err);
		if (r < 0)
			return r;
		pkg_hook("member");
	}
	if (ar != ARCHIVE_EOF)
		return err_set(err, -SPACE_E_FORMAT, "corrupt archive: %s", archive_error_string(a));
	if (next < m->n_entries)
		return err_set(err, -SPACE_E_FORMAT, "%s: listed in the metadata but missing from the archive",
			       m->entries[next].path);
	return 0;
}

/* 3. The commit point: everything prepared is on disk before the journal
 * says "commit". */
static int commit_point(struct pkg_db *db, int tfd, int flags, struct space_err *err)
{
	int r;

	if (syncfs(db->rootfd) < 0)
		return err_set(err, -errno, "syncfs: %s", strerror(errno));
	r = write_commit(tfd, flags);
	if (r < 0)
		return err_set(err, r, "journal: %s", space_strerror(r));
	return 0;
}

int pkg_install(struct pkg_db *db, const char *file, const struct pkg_install_opts *o,
		struct pkg_install_result *res, struct space_err *err)
{
	int flags = o->flags;
	struct prep p = { .db = db, .flags = flags, .res = res, .created_fd = -1, .bufsz = 1 << 17 };
	struct archive *a = NULL;
	struct pkg_meta m;
	int tfd = -1, r;

	if (res)
		memset(res, 0, sizeof(*res));
	pkg_walk_init(&p.w, db->rootfd);
	if (db->dbfd < 0)
		return err_set(err, -ENOENT, "database not open for writing");
	r = pkg_archive_open(file, &a, &m, err);
	if (r < 0)
		return r;
	p.m = &m;
	r = install_checks(&p, &m, o, err);
	if (r < 0)
		goto out;
	p.buf = malloc(p.bufsz);
	if (!p.buf) {
		r = -ENOMEM;
		goto out;
	}

	r = journal_begin(&p, &m, &tfd, err);
	if (r < 0 && tfd < 0)
		goto out;
	if (r == 0)
		r = prepare_members(&p, a, &m, err);
	if (r < 0)
		goto out_rollback;
	pkg_walk_reset(&p.w);
	pkg_hook("prepared");
	r = commit_point(db, tfd, flags, err);
	if (r < 0)
		goto out_rollback;
	pkg_hook("committed");

	/* 4. + 5. From here on the transaction only goes forward: a failure
	 * leaves the journal for the next run to complete. */
	r = txn_apply(db, &m, p.old, flags, err);
	if (r == 0)
		r = txn_complete(db, tfd, &m, err);
	if (r < 0) {
		committed_fail(err, r);
		goto out;
	}
	r = reload(db, "installed", err);
	goto out;

out_rollback:
	/* Only reached before the commit point. A failure to remove the
	 * journal is repaired by the next run's recovery. */
	txn_rollback(db, tfd, &m);
	if (tfd >= 0)
		txn_finish(db, tfd);
out:
	pkg_walk_reset(&p.w);
	if (p.created_fd >= 0)
		close(p.created_fd);
	if (tfd >= 0)
		close(tfd);
	free(p.buf);
	archive_read_free(a);
	pkg_meta_free(&m);
	return r;
}

/* Delete installed/NAME, whatever it is (an unreadable record may be a
 * FIFO or an empty directory). */
static int remove_record(struct pkg_db *db, const char *name)
{
	char path[NAME_MAX + 16];

	snprintf(path, sizeof(path), "installed/%s", name);
	if (unlinkat(db->dbfd, path, 0) == 0 ||
	    (errno == EISDIR && unlinkat(db->dbfd, path, AT_REMOVEDIR) == 0) || errno == ENOENT)
		return 0;
	return -errno;
}

/* recovering: a record that cannot be removed is left (skipped as
 * unreadable and named by every command) rather than failing every
 * command; pkg_remove() refuses such a record before its journal. */
static int remove_apply(struct pkg_db *db, const char *name, bool recovering,
			struct space_err *err)
{
	struct pkg_meta *m = pkg_db_find(db, name);
	int r;

	if (m)
		remove_obsolete(db, m, NULL);
	if (syncfs(db->rootfd) < 0)
		return err_set(err, -errno, "syncfs: %s", strerror(errno));
	r = remove_record(db, name);
	if (r < 0 && !recovering)
		return err_set(err, r, "database: %s", space_strerror(r));
	return 0;
}

/* A record that exists on disk but was skipped as unreadable. */
static bool bad_record(const struct pkg_db *db, const char *name)
{
	char path[NAME_MAX + 16];

	if (!pkg_token_ok(name))
		return false;
	snprintf(path, sizeof(path), "installed/%s", name);
	return faccessat(db->dbfd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int pkg_remove(struct pkg_db *db, const char *name, struct space_err *err)
{
	char buf[256];
	bool record_only;
	int tfd, r;

	if (db->dbfd < 0)
		return err_set(err, -ENOENT, "not installed");
	/* An unreadable record can still be removed (its files are not
	 * known): that is how an admin clears one. */
	record_only = !pkg_db_find(db, name);
	if (record_only && !bad_record(db, name))
		return err_set(err, -ENOENT, "not installed");
	r = check_record_dir(db, name, true, err);
	if (r < 0)
		return r;
	tfd = txn_open(db, true);
	if (tfd < 0)
		return err_set(err, tfd, "journal: %s", space_strerror(tfd));
	snprintf(buf, sizeof(buf), "%s\n", name);
	r = write_file_atomic_at(tfd, "remove", buf, strlen(buf), PKG_DB_MODE, PKG_DB_WRITE);
	if (r < 0) {
		r = err_set(err, r, "journal: %s", space_strerror(r));
		goto out;
	}
	pkg_hook("remove-journalled");
	r = remove_apply(db, name, false, err);
	if (r < 0)
		goto out;
	r = txn_finish(db, tfd);
	if (r < 0) {
		r = err_set(err, r, "removed, but the journal: %s", space_strerror(r));
		goto out;
	}
	r = reload(db, "removed", err);
	if (r == 0 && record_only)
		r = 1;
out:
	close(tfd);
	return r;
}

int pkg_db_open(const char *root, bool create, struct pkg_db *db, struct space_err *err)
{
	int r = pkg_db_attach(root, create, db, err);

	if (r < 0 || db->dbfd < 0)
		return r;
	r = pkg_txn_recover(db, err);
	if (r > 0 && (r = pkg_db_load(db)) < 0)
		err_set(err, r, "%s/%s: %s", root, PKG_DB_DIR, space_strerror(r));
	if (r < 0) {
		pkg_db_close(db);
		return r;
	}
	return 0;
}

int pkg_txn_recover(struct pkg_db *db, struct space_err *err)
{
	struct pkg_meta m = { 0 }, old = { 0 };
	char *buf = NULL;
	size_t len;
	int tfd, r, flags = 0;
	bool have_old = false;

	if (db->dbfd < 0)
		return 0;
	tfd = txn_open(db, false);
	if (tfd == -ENOENT)
		return 0;
	if (tfd < 0)
		return err_set(err, tfd, "journal: %s", space_strerror(tfd));

	if (pkg_read_at(tfd, "remove", 4096, &buf, &len) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		r = pkg_token_ok(buf) ? remove_apply(db, buf, true, err) : 0;
		goto finish;
	}
	if (pkg_read_at(tfd, "meta", PKG_META_MAX, &buf, &len) < 0 ||
	    pkg_meta_parse(buf, len, PKG_PARSE_DB, &m, NULL) < 0) {
		/* Killed before the journal was complete: nothing was
		 * extracted yet (the meta file is written atomically first). */
		r = 0;
		goto finish;
	}
	free(buf);
	buf = NULL;
	if (pkg_read_at(tfd, "commit", 64, &buf, &len) == 0) {
		sscanf(buf, "flags %d", &flags);
		have_old = pkg_db_load_one(db->dbfd, m.name, &old, NULL) == 0;
		r = txn_apply(db, &m, have_old ? &old : NULL, flags, err);
		if (r < 0)
			goto out;
		r = txn_complete(db, tfd, &m, err);
		if (r == 0)
			r = 1;
		goto out;
	}
	txn_rollback(db, tfd, &m);
	r = 0;
finish:
	if (r >= 0) {
		int r2 = txn_finish(db, tfd);
		if (r2 < 0)
			r = err_set(err, r2, "journal: %s", space_strerror(r2));
		else
			r = 1;
	}
out:
	free(buf);
	pkg_meta_free(&m);
	if (have_old)
		pkg_meta_free(&old);
	close(tfd);
	return r;
}
