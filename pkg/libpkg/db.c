/* SPDX-License-Identifier: MIT */
/* db.c - the installed-package database under ROOT/PKG_DB_DIR (usr/lib/pkg):
 *   installed/NAME   metadata of each installed package (+ "previous")
 *   lock             flock()ed by every process that opens the database
 *   txn/             the journal of an unfinished transaction (install.c)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The levels of PKG_DB_DIR ("usr", "usr/lib", "usr/lib/pkg"), derived from
 * it so that the database location is named in one place: the length of
 * level i, 0 past the last one. */
#define DB_LEVELS_MAX 8
static size_t level_len(unsigned i)
{
	const char *p = PKG_DB_DIR;

	for (;;) {
		const char *s = strchr(p, '/');

		if (i-- == 0)
			return s ? (size_t)(s - PKG_DB_DIR) : strlen(PKG_DB_DIR);
		if (!s)
			return 0;
		p = s + 1;
	}
}

/* Open (optionally create) one directory level without following links;
 * *made tells whether it was created. */
static int open_dir_at(int dfd, const char *name, bool create, bool *made)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	*made = false;
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(dfd, name, 0755) == 0)
			*made = true;
		else if (errno != EEXIST)
			return -errno;
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

void pkg_db_discard_new(struct pkg_db *db)
{
	if (!db->created || db->n_pkgs || db->dbfd < 0)
		return;
	unlinkat(db->dbfd, "installed", AT_REMOVEDIR);
	unlinkat(db->dbfd, "lock", 0);
	for (unsigned i = DB_LEVELS_MAX; i-- > 0;) {
		char path[sizeof(PKG_DB_DIR)];

		if (!(db->created & (1u << i)))
			continue;
		snprintf(path, sizeof(path), "%.*s", (int)level_len(i), PKG_DB_DIR);
		unlinkat(db->rootfd, path, AT_REMOVEDIR);
	}
	db->created = 0;
}

int pkg_db_load_one(int dbfd, const char *name, struct pkg_meta *m, struct space_err *err)
{
	char path[NAME_MAX + 16], *buf = NULL;
	size_t len;
	int r;

	memset(m, 0, sizeof(*m));
	if (!pkg_token_ok(name))
		return err_set(err, -SPACE_E_FORMAT, "not a package name");
	snprintf(path, sizeof(path), "installed/%s", name);
	r = pkg_read_at(dbfd, path, PKG_META_MAX, &buf, &len);
	if (r < 0)
		return err_set(err, r, "%s", space_strerror(r));
	r = pkg_meta_parse(buf, len, PKG_PARSE_DB, m, err);
	free(buf);
	if (r == 0 && strcmp(m->name, name) != 0) {
		r = err_set(err, -SPACE_E_FORMAT, "the record names package %s", m->name);
		pkg_meta_free(m);
	}
	return r;
}

static int cmp_pkg(const void *a, const void *b)
{
	return strcmp(((const struct pkg_meta *)a)->name, ((const struct pkg_meta *)b)->name);
}

static void free_pkgs(struct pkg_db *db)
{
	for (size_t i = 0; i < db->n_pkgs; i++)
		pkg_meta_free(&db->pkgs[i]);
	free(db->pkgs);
	db->pkgs = NULL;
	db->n_pkgs = 0;
	db->n_bad = 0;
}

static int cmp_bad(const void *a, const void *b)
{
	return strcmp(((const struct pkg_db_bad *)a)->name, ((const struct pkg_db_bad *)b)->name);
}

/* Note a skipped record. The array keeps the PKG_DB_BAD_MAX smallest
 * names, so what is reported does not depend on the directory's order. */
static void add_bad(struct pkg_db *db, const char *name, const char *why)
{
	struct pkg_db_bad *b;

	if (db->n_bad < PKG_DB_BAD_MAX) {
		b = &db->bad[db->n_bad];
	} else {
		b = &db->bad[0];
		for (size_t i = 1; i < PKG_DB_BAD_MAX; i++)
			if (strcmp(db->bad[i].name, b->name) > 0)
				b = &db->bad[i];
		if (strcmp(name, b->name) > 0)
			b = NULL;
	}
	if (b) {
		/* names are tokens of at most 128 bytes; a long reason is cut */
		snprintf(b->name, sizeof(b->name), "%.*s", (int)sizeof(b->name) - 1, name);
		snprintf(b->why, sizeof(b->why), "%.*s", (int)sizeof(b->why) - 1, why);
	}
	db->n_bad++;
}

const struct pkg_db_bad *pkg_db_find_bad(const struct pkg_db *db, const char *name)
{
	for (size_t i = 0; i < db->n_bad && i < PKG_DB_BAD_MAX; i++)
		if (strcmp(db->bad[i].name, name) == 0)
			return &db->bad[i];
	return NULL;
}

int pkg_db_load(struct pkg_db *db)
{
	struct space_err err = { "" };
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int r = 0;

	free_pkgs(db);
	if (db->dbfd < 0)
		return 0;
	d = pkg_opendir_at(db->dbfd, "installed");
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !pkg_token_ok(de->d_name))
			continue;
		if (db->n_pkgs == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *p = realloc(db->pkgs, ncap * sizeof(*db->pkgs));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			db->pkgs = p;
			cap = ncap;
		}
		r = pkg_db_load_one(db->dbfd, de->d_name, &db->pkgs[db->n_pkgs], &err);
		if (r == -ENOMEM)
			break;
		if (r < 0) {
			/* One bad record must not make every command fail:
			 * skip it, and let the caller say so. */
			add_bad(db, de->d_name, err.msg);
			r = 0;
			continue;
		}
		db->n_pkgs++;
	}
	closedir(d);
	if (db->n_pkgs)
		qsort(db->pkgs, db->n_pkgs, sizeof(*db->pkgs), cmp_pkg);
	/* Reported in name order, whatever the directory's order. */
	qsort(db->bad, db->n_bad < PKG_DB_BAD_MAX ? db->n_bad : PKG_DB_BAD_MAX, sizeof(*db->bad),
	      cmp_bad);
	return r;
}

struct pkg_meta *pkg_db_find(const struct pkg_db *db, const char *name)
{
	struct pkg_meta key = { .name = (char *)name };

	if (!db->n_pkgs)
		return NULL;
	return bsearch(&key, db->pkgs, db->n_pkgs, sizeof(key), cmp_pkg);
}

const char *pkg_db_owner(const struct pkg_db *db, const char *skip, const char *path)
{
	for (size_t i = 0; i < db->n_pkgs; i++) {
		if (skip && strcmp(db->pkgs[i].name, skip) == 0)
			continue;
		if (pkg_meta_find(&db->pkgs[i], path))
			return db->pkgs[i].name;
	}
	return NULL;
}

void pkg_db_close(struct pkg_db *db)
{
	free_pkgs(db);
	if (db->lockfd >= 0)
		close(db->lockfd);
	if (db->dbfd >= 0)
		close(db->dbfd);
	if (db->rootfd >= 0)
		close(db->rootfd);
	db->lockfd = db->dbfd = db->rootfd = -1;
}

int pkg_db_attach(const char *root, bool create, struct pkg_db *db, struct space_err *err)
{
	int fd, r;
	bool made;

	memset(db, 0, sizeof(*db));
	db->rootfd = db->dbfd = db->lockfd = -1;
	db->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (db->rootfd < 0)
		return err_set(err, -errno, "root %s: %s", root, strerror(errno));
	fd = db->rootfd;
	for (unsigned i = 0, start = 0; i < DB_LEVELS_MAX && level_len(i); i++) {
		char name[sizeof(PKG_DB_DIR)];
		size_t end = level_len(i);
		int next;

		snprintf(name, sizeof(name), "%.*s", (int)(end - start), &PKG_DB_DIR[start]);
		start = (unsigned)end + 1;
		next = open_dir_at(fd, name, create, &made);

		if (fd != db->rootfd)
			close(fd);
		if (next == -ENOENT && !create)
			return 0; /* nothing installed yet */
		if (next < 0) {
			r = err_set(err, next, "%s/%s: %s", root, PKG_DB_DIR, space_strerror(next));
			goto fail;
		}
		if (made)
			db->created |= 1u << i;
		fd = next;
	}
	db->dbfd = fd;
	db->lockfd = openat(db->dbfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (db->lockfd < 0 && (create || (errno != EACCES && errno != EROFS))) {
		r = err_set(err, -errno, "%s/%s/lock: %s", root, PKG_DB_DIR, strerror(errno));
		goto fail;
	}
	if (db->lockfd >= 0 && flock(db->lockfd, LOCK_EX | LOCK_NB) < 0) {
		r = err_set(err, errno == EWOULDBLOCK ? -EBUSY : -errno,
			    "%s/%s: locked by another pkg process", root, PKG_DB_DIR);
		goto fail;
	}
	if (create) {
		fd = open_dir_at(db->dbfd, "installed", true, &made);
		if (fd < 0) {
			r = err_set(err, fd, "%s/%s/installed: %s", root, PKG_DB_DIR, space_strerror(fd));
			goto fail;
		}
		close(fd);
	}
	r = pkg_db_load(db);
	if (r < 0) {
		r = err_set(err, r, "%s/%s: %s", root, PKG_DB_DIR, space_strerror(r));
		goto fail;
	}
	return 0;
fail:
	pkg_db_close(db);
	return r;
}
