/* SPDX-License-Identifier: MIT */
/* backup.h - the exact state of the paths a hot patch touches: saved
 * before the patch changes anything, restored when it fails, when a power
 * cut interrupted it, and by `hotpatch rollback`.
 *
 * A backup directory holds
 *   index    one line per path, sorted by path: "T MODE UID GID PATH"
 *            T: f regular file, l symlink, d directory, - absent (the patch
 *            may create it: a restore removes it). MODE octal; PATH last,
 *            raw (package paths have no control characters).
 *   files/   the content of every f and l path, at its path
 * Restoring is idempotent (each path is put back by temp + rename, absent
 * ones are removed), so a restore interrupted by a power cut is simply run
 * again. Library code: never prints, returns 0 or a negative errno with
 * err naming the path.
 */
#ifndef SPACE_HOTPATCH_BACKUP_H
#define SPACE_HOTPATCH_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define HP_BACKUP_INDEX "index"
#define HP_BACKUP_FILES "files"
#define HP_BACKUP_MAX_PATHS 65536

/* A set of root-relative paths (owned strings). */
struct hp_paths {
	char **p;
	size_t n, cap;
};
int hp_paths_add(struct hp_paths *ps, const char *path);
/* Sort and drop duplicates. */
void hp_paths_finish(struct hp_paths *ps);
void hp_paths_free(struct hp_paths *ps);

/* Bytes of the regular files among ps below root (what a backup needs). */
int hp_backup_size(const char *root, const struct hp_paths *ps, uint64_t *bytes);

/* Record the state of ps below root into dir (which must not exist; made
 * 0700), then syncfs. -SPACE_E_UNSAFE_PATH for a path below a directory
 * of root that is a symlink. A failure leaves a partial dir for the caller
 * to remove; nothing below root is changed. */
int hp_backup_save(const char *root, const struct hp_paths *ps, const char *dir, struct space_err *err);

/* Put every path below root back as dir recorded it: directories first,
 * then files and symlinks, then the absent paths removed, deepest first;
 * owners only when do_chown. Then syncfs. */
int hp_backup_restore(const char *root, const char *dir, bool do_chown, struct space_err *err);

#endif
