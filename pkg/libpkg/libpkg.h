/* SPDX-License-Identifier: MIT */
/* libpkg.h - the space package format: metadata, build, install, remove,
 * verify, and the installed-package database. See pkg/FORMAT.md.
 *
 * Error model (pkg/lib/util.h): 0 or a count on success, a negative errno
 * or -SPACE_E_* on failure. Functions that take a `struct space_err *`
 * (pkg/lib/err.h) also leave there one line naming the object and the
 * reason (without a program prefix); the caller prints it. A refused package (bad input) is
 * reported with -SPACE_E_FORMAT, -SPACE_E_DIGEST or -SPACE_E_UNSAFE_PATH
 * (exit code 1 by die_code()); anything else is a system or I/O error.
 *
 * Ownership: a struct pkg_meta owns all its strings and arrays;
 * pkg_meta_free() releases them (and is safe on a zeroed struct).
 */
#ifndef SPACE_LIBPKG_H
#define SPACE_LIBPKG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"
#include "util.h"

#define PKG_META_NAME ".PKGINFO"
#define PKG_FORMAT_VERSION 1
/* The installed-package database below the root: the one place that names
 * it. It lives in the root slot, not on /var, because it describes the
 * slot's files (an A/B upgrade brings its own). No package may ship a path
 * inside it (pkg_path_check). */
#define PKG_DB_DIR "usr/lib/pkg"
/* Upper bound for a metadata member (a kernel-module package of 4000
 * entries needs about 600 KiB). */
#define PKG_META_MAX (64u << 20)
/* Longest application name and platform version (the release table's
 * REL_NAME_MAX and REL_VERSION_MAX, NUL excluded). */
#define PKG_APP_NAME_MAX 63
#define PKG_PLATFORM_MAX 31

enum pkg_type {
	PKG_FILE = 'f',
	PKG_DIR = 'd',
	PKG_SYMLINK = 'l',
	PKG_CHR = 'c',
	PKG_BLK = 'b',
	PKG_FIFO = 'p',
};

struct pkg_entry {
	char *path;   /* relative, normalised, no "..", no control chars */
	char *target; /* symlink target (PKG_SYMLINK only) */
	char type;    /* enum pkg_type */
	bool config;  /* PKG_FILE only: a configuration file */
	mode_t mode;  /* permission bits (07777) */
	uid_t uid;
	gid_t gid;
	unsigned major, minor; /* PKG_CHR/PKG_BLK */
	uint64_t size;         /* PKG_FILE */
	char sha256[65];       /* PKG_FILE, lowercase hex */
};

struct pkg_meta {
	char *name, *version, *release, *arch, *summary;
	char **depends;
	size_t n_depends;
	bool base_files;
	char *previous; /* database only: "VERSION-RELEASE" this replaced */
	/* An application (FORMAT.md section 9): the name the release's
	 * application table knows it by, and the platform releases it runs on
	 * (platform_max "-": no upper bound). NULL when not an application /
	 * no platform range. */
	char *app, *platform_min, *platform_max;
	struct pkg_entry *entries; /* sorted by path (strcmp), unique */
	size_t n_entries;
};

/* Parse flags. */
#define PKG_PARSE_DB 1 /* accept database-only keys ("previous") */

void pkg_meta_free(struct pkg_meta *m);
/* Parse metadata text (buf need not be NUL-terminated). Validates every
 * field, the path rules and the sort order; -SPACE_E_FORMAT on bad input. */
int pkg_meta_parse(const char *buf, size_t len, int flags, struct pkg_meta *m,
		   struct space_err *err);
/* Serialise m to a malloc'd buffer (*out, *len); the caller frees. */
int pkg_meta_write(const struct pkg_meta *m, char **out, size_t *len);
/* Sort entries by path and refuse duplicates / invalid paths. */
int pkg_meta_finish(struct pkg_meta *m, struct space_err *err);
/* Binary search by path; NULL if absent. */
struct pkg_entry *pkg_meta_find(const struct pkg_meta *m, const char *path);
/* Check one relative path against the format's rules (0 or
 * -SPACE_E_UNSAFE_PATH / -SPACE_E_FORMAT). */
int pkg_path_check(const char *path);
/* Why pkg_path_check(path) gave r, for a message ("invalid path", ...). */
const char *pkg_path_reason(const char *path, int r);
/* Is path the database directory PKG_DB_DIR or below it? */
bool pkg_path_in_db(const char *path);
/* Name/version/release/arch token rule: [A-Za-z0-9][A-Za-z0-9+.~_-]*. */
bool pkg_token_ok(const char *s);
/* Versions also allow ':' (a Debian epoch), not first or last. */
bool pkg_version_ok(const char *s);

/* ------------------------------------------------------------------ build */
struct pkg_build_opts {
	const char *name, *version, *release, *arch, *summary;
	const char *const *depends;
	size_t n_depends;
	const char *const *config;
	size_t n_config;        /* paths marked config */
	const char *attrs_file; /* may be NULL */
	bool base_files;
	const char *app;                         /* application name, or NULL */
	const char *platform_min, *platform_max; /* NULL, or with app ("-": no max) */
	long long mtime;                         /* member mtime (SOURCE_DATE_EPOCH or 0) */
};

/* Package the tree under staging into out (temp name + rename). */
int pkg_build(const struct pkg_build_opts *o, const char *staging, const char *out,
	      struct space_err *err);

/* Read and validate only the metadata member of a package file. */
int pkg_read_meta(const char *file, struct pkg_meta *m, struct space_err *err);

/* --------------------------------------------------------------- database */
/* A record that could not be read (garbage, a record naming another
 * package, an I/O error): skipped, so that one bad record blocks neither
 * the queries nor the install or remove that repairs it. The
 * PKG_DB_BAD_MAX first by name are kept with their reason, sorted;
 * n_bad counts all. */
#define PKG_DB_BAD_MAX 16
struct pkg_db_bad {
	char name[129]; /* the record's file name (a valid package name) */
	char why[200];  /* one line */
};

struct pkg_db {
	int rootfd;            /* the target root */
	int dbfd;              /* ROOT/PKG_DB_DIR */
	int lockfd;            /* flock()ed while the handle is open */
	struct pkg_meta *pkgs; /* installed packages, sorted by name */
	size_t n_pkgs;
	unsigned created;                      /* levels of PKG_DB_DIR this handle made */
	struct pkg_db_bad bad[PKG_DB_BAD_MAX]; /* skipped records, by name */
	size_t n_bad;                          /* all skipped records (may exceed the array) */
};

/* Open the database under root (creating it when create is set), take the
 * lock, finish or roll back an interrupted transaction and load every
 * installed package. Unreadable records are skipped and listed in
 * db->bad; only a system error (memory, the directory itself) fails. */
int pkg_db_open(const char *root, bool create, struct pkg_db *db, struct space_err *err);
void pkg_db_close(struct pkg_db *db);
/* If this handle created the database and nothing is installed, remove it
 * again (a refused first install then leaves the root untouched). */
void pkg_db_discard_new(struct pkg_db *db);
struct pkg_meta *pkg_db_find(const struct pkg_db *db, const char *name);
/* The skipped record of that name, NULL if none (or not among those kept). */
const struct pkg_db_bad *pkg_db_find_bad(const struct pkg_db *db, const char *name);

/* ---------------------------------------------------------------- actions */
#define PKG_NO_CHOWN 1 /* no chown, no mknod; record in the database only */

struct pkg_install_result {
	char new_configs[8][256]; /* first few config files written as .new */
	size_t n_new_configs;
	bool upgraded;
};

/* What the installer (not the package) decides. */
struct pkg_install_opts {
	int flags; /* PKG_NO_CHOWN */
	/* Names of the packages that may carry device nodes; any other
	 * package with one is refused, whatever its metadata claims. */
	const char *const *allow_devices;
	size_t n_allow_devices;
};

int pkg_install(struct pkg_db *db, const char *file, const struct pkg_install_opts *o,
		struct pkg_install_result *res, struct space_err *err);
/* Remove an installed package; for a skipped (unreadable) record, only
 * the record is removed (its files are unknown) and 1 is returned. */
int pkg_remove(struct pkg_db *db, const char *name, struct space_err *err);

/* verify: calls report(path, what, is_config_change, ctx) for every
 * difference. Returns the number of differences that are not local config
 * changes, or a negative error. */
#define PKG_VERIFY_NO_OWNER 1
typedef void (*pkg_verify_cb)(const char *pkg, const char *path, const char *what,
			      bool config_change, void *ctx);
int pkg_verify(struct pkg_db *db, const struct pkg_meta *m, int flags, pkg_verify_cb cb,
	       void *ctx);

/* Test hook: called at named points of a transaction (UNIT_TEST builds). */
#ifdef UNIT_TEST
extern void (*pkg_test_hook)(const char *point);
#endif

#endif
