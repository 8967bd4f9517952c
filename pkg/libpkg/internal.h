/* SPDX-License-Identifier: MIT */
/* internal.h - helpers shared by the libpkg modules (not a public API). */
#ifndef SPACE_LIBPKG_INTERNAL_H
#define SPACE_LIBPKG_INTERNAL_H

#include <dirent.h>
#include <limits.h>
#include <stdint.h>

#include "libpkg.h"
#include "strescape.h"

/* Temporary names of an install transaction live beside the final path:
 * DIR/.pkgtmp~BASE becomes DIR/BASE, DIR/.pkgnew~BASE becomes DIR/BASE.new
 * (a config file changed locally). Both prefixes are reserved: no package
 * may ship a path component starting with them. */
#define PKG_TMP_PREFIX ".pkgtmp~"
#define PKG_NEW_PREFIX ".pkgnew~"
#define PKG_TMP_PREFIX_LEN 8

/* Resolves the parent directory of package paths below a root directory
 * fd, component by component with O_NOFOLLOW. Symlinks met on the way are
 * followed only while they stay inside the root (an absolute target is
 * taken relative to the root, as the installed system will see it); a
 * ".." above the root gives -SPACE_E_UNSAFE_PATH. The last directory
 * resolved is cached (sorted entries share parents). */
struct pkg_walk {
	int rootfd;
	int pfd;               /* cached parent fd, owned, -1 if none */
	char parent[PATH_MAX]; /* the package-relative parent it is for */
	char canon[PATH_MAX];  /* where it really is: its path from the root
				  * with symlinks resolved ("" for the root) */
	char link[PATH_MAX];   /* the first symlink on the way to it, as a
				  * prefix of parent; "" if none */
};

void pkg_walk_init(struct pkg_walk *w, int rootfd);
void pkg_walk_reset(struct pkg_walk *w);
/* Returns a borrowed directory fd (valid until the next call or reset) and
 * points *base at the last component of path. */
int pkg_walk_parent(struct pkg_walk *w, const char *path, const char **base);
/* After pkg_walk_parent(): does base in that parent lie inside the package
 * database, once symlinks on disk are resolved (x -> usr/lib/pkg)? */
bool pkg_walk_in_db(const struct pkg_walk *w, const char *base);

/* read(2) that retries on EINTR; returns bytes or a negative errno. */
ssize_t pkg_read_retry(int fd, void *buf, size_t n);

/* Incremental SHA-256 (OpenSSL EVP) that also counts the bytes. A failed
 * OpenSSL step is remembered (so the read loops stay simple) and reported
 * by pkg_hash_final(). */
struct pkg_hash {
	void *ctx; /* EVP_MD_CTX */
	uint64_t size;
	int err; /* 0, or -EIO once an OpenSSL step failed */
};
int pkg_hash_init(struct pkg_hash *h);
void pkg_hash_update(struct pkg_hash *h, const void *buf, size_t n);
/* Writes the lowercase hex digest and frees the context. Returns 0, or
 * -EIO (hex left empty) when an OpenSSL step failed. */
int pkg_hash_final(struct pkg_hash *h, char hex[65]);
void pkg_hash_free(struct pkg_hash *h);

/* opendir() of dfd/name (name "." for dfd itself) without following a
 * symlink; NULL with errno set on failure. */
DIR *pkg_opendir_at(int dfd, const char *name);

/* The database's files and the journal's are written with
 * write_file_atomic_at(dirfd, name, ..., PKG_DB_MODE, PKG_DB_WRITE): their
 * temporary is a dot name the readers skip (the database lock keeps other
 * writers out), and their mode is 0644 less the umask, as the database's
 * directories get theirs. */
#define PKG_DB_MODE 0644
#define PKG_DB_WRITE (WRITE_HIDDEN | WRITE_UMASK)

/* Read dirfd/name into a NUL-terminated malloc'd buffer: a regular file
 * (-SPACE_E_NOT_REG, never followed), at most max bytes (-EFBIG). */
int pkg_read_at(int dirfd, const char *name, size_t max, char **out, size_t *len);

/* Resolve a directory path below rootfd like pkg_walk_parent() does for
 * parents; returns an owned fd. The _canon form also writes the resolved
 * directory's path from the root (PATH_MAX bytes; "" for the root). */
int pkg_resolve_dir(int rootfd, const char *rel);
int pkg_resolve_dir_canon(int rootfd, const char *rel, char *canon);

/* Open a package file, read and parse its first member (the metadata).
 * On success *a is positioned after it; the caller frees *a with
 * archive_read_free() and m with pkg_meta_free(). */
struct archive;
int pkg_archive_open(const char *file, struct archive **a, struct pkg_meta *m,
		     struct space_err *err);

/* Database internals (db.c). The layers go one way: db.c reads and
 * locks the database; install.c's transactions use it, and its
 * pkg_db_open() is pkg_db_attach() plus the recovery of an interrupted
 * transaction. */
/* pkg_db_open() without the recovery: open (create) the directories, take
 * the lock, load the records. 0 with db->dbfd -1 when there is no
 * database and create is false. */
int pkg_db_attach(const char *root, bool create, struct pkg_db *db, struct space_err *err);
int pkg_db_load(struct pkg_db *db);
int pkg_db_load_one(int dbfd, const char *name, struct pkg_meta *m, struct space_err *err);
const char *pkg_db_owner(const struct pkg_db *db, const char *skip, const char *path);
/* Transactions (install.c). */
int pkg_txn_recover(struct pkg_db *db, struct space_err *err);

/* Test hook points (no-op outside UNIT_TEST builds). */
void pkg_hook(const char *point);

#endif
