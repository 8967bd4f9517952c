/* SPDX-License-Identifier: MIT */
/* def.h - a hot patch's definition in the tree (pkg/hotpatches/vN.conf),
 * from which mkhotpatch makes the bundle's manifest (pkg/hotpatch/
 * manifest.h). KEY = VALUE lines (pkg/lib/kv.h):
 *
 *   patch = 2                     the level: the file is named v<patch>.conf
 *   fix = <level> <id> <text>     repeatable, as in the manifest: the fixes
 *                                 of every level 1..patch, ordered by level;
 *                                 each is fixes/<id>.patch beside the file,
 *                                 applied in this order to a copy of the
 *                                 sources (make hotpatch)
 *   package = <name> <release>    repeatable, sorted: a program package
 *                                 rebuilt from the patched copy with this
 *                                 package release (a number, > 1: release 1
 *                                 is the one the release image carries)
 *   service = <name>              repeatable, as in the manifest
 *   backup = <path>               repeatable, as in the manifest
 *
 * Patches are cumulative: v<N> carries every fix (same level and id),
 * package (at the same or a later package release), service and backup
 * file of v<N-1> (hp_def_check_cumulative).
 */
#ifndef SPACE_HOTPATCH_DEF_H
#define SPACE_HOTPATCH_DEF_H

#include "err.h"
#include "pkg/hotpatch/manifest.h"

#define HP_DEF_MAX (64u << 10)
#define HP_DEF_MAX_RELEASE 9999

struct hp_def_pkg {
	char name[HP_TOKEN_MAX];
	unsigned release;
};

struct hp_def {
	/* patch, fix, service and backup as the manifest will carry them */
	struct hp_manifest m;
	struct hp_def_pkg pkg[HP_MAX_PACKAGES];
	unsigned npkg;
};

/* Parse definition text; 0 or -SPACE_E_FORMAT with "line N: why" (or
 * "missing KEY") in err. */
int hp_def_parse(const char *text, size_t len, struct hp_def *d, struct space_err *err);

/* Read and parse the file at path, which must be named v<patch>.conf; 0,
 * -SPACE_E_FORMAT (err says why) or the negative errno of reading it. */
int hp_def_load(const char *path, struct hp_def *d, struct space_err *err);

/* Does cur carry everything prev (the level before it) carried? 0, or
 * -SPACE_E_FORMAT with err naming the first thing missing. */
int hp_def_check_cumulative(const struct hp_def *prev, const struct hp_def *cur, struct space_err *err);

/* The package of that name, NULL if the definition has none. */
const struct hp_def_pkg *hp_def_find_pkg(const struct hp_def *d, const char *name);

#endif
