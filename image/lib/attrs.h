/* SPDX-License-Identifier: MIT */
/* attrs.h - file attributes for a root tree built without root, and the
 * debugfs scripts that apply them to an ext4 image.
 *
 * The attributes file (written by `pkg attrs`) has one line per entry:
 *     TYPE MODE UID GID MAJOR MINOR PATH
 * TYPE is one of f d l c b p h (file, dir, symlink, char/block device,
 * fifo, hard link), MODE the octal permission bits (07777, setuid incl.),
 * PATH relative to the root without a leading slash ("." is the root) and
 * the rest of the line, so it may contain spaces. Empty lines and lines
 * starting with '#' are ignored. Entries not listed are root:root with the
 * tree's permission bits. c and b entries (and p entries absent from the
 * tree) are created by debugfs.
 *
 * Ownership: attr_list and tree_list own their arrays and strings; free
 * them with attrs_free()/tree_free(). Functions return 0 or a negative
 * errno / -SPACE_E_*, and put a one-line reason into err (may be NULL).
 */
#ifndef SPACE_IMAGE_ATTRS_H
#define SPACE_IMAGE_ATTRS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

struct attr_entry {
	char type;     /* f d l c b p h */
	unsigned mode; /* permission bits only (<= 07777) */
	unsigned uid, gid, major, minor;
	char *path; /* normalised: "" for the root */
};

struct attr_list {
	struct attr_entry *v; /* sorted by path after attrs_parse() */
	size_t n;
};

int attrs_parse(const char *text, struct attr_list *out, struct space_err *err);
int attrs_load(const char *path, struct attr_list *out, struct space_err *err);
const struct attr_entry *attrs_find(const struct attr_list *l, const char *path);
void attrs_free(struct attr_list *l);

struct tree_entry {
	char *path;    /* relative, "" for the root; parents come first */
	size_t parent; /* index of the parent directory (root: itself) */
	mode_t mode;   /* from lstat: type and permission bits */
	uint32_t ino;  /* inode number in the image, 0 until known */
};

struct tree_list {
	struct tree_entry *v;
	size_t n;
	uint64_t bytes; /* sum of the entries' allocated sizes (st_blocks) */
};

/* Walks dir without following symlinks (children sorted by name, parents
 * before children). Names with a newline, carriage return or double quote
 * are refused (-SPACE_E_UNSAFE_PATH): they cannot be quoted for debugfs. */
int tree_walk(const char *dir, struct tree_list *out, struct space_err *err);
void tree_free(struct tree_list *t);

/* Pass 1 (read-only debugfs): `ls -p "/dir"` for every directory of t. */
char *attrs_script_lsdirs(const struct tree_list *t);

/* Parses pass 1's stdout and fills every entry's ino. -SPACE_E_FORMAT if an
 * entry is missing from the listing. */
int attrs_parse_lsdirs(struct tree_list *t, const char *out, struct space_err *err);

/* Pass 2 (debugfs -w): creates device nodes and fifos from attrs, sets
 * uid/gid/mode from attrs (root:root otherwise), and sets every inode's
 * atime/ctime/mtime/crtime to epoch. t may be empty (no tree), a may be
 * NULL. Checks attrs against the tree (types, missing paths). Returns a
 * malloc'd script in *script. */
int attrs_script_apply(const struct tree_list *t, const struct attr_list *a, long long epoch,
		       char **script, struct space_err *err);

#endif
