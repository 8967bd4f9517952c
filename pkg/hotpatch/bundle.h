/* SPDX-License-Identifier: MIT */
/* bundle.h - a hot-patch bundle on the node: an extracted directory, or a
 * .tgz extracted here first (safely: regular files and directories only,
 * all below one top directory, bounded), then verified before anything
 * uses it: the manifest's signature, signer and chain to the root CA
 * (ova-verify's checks), the name binding, and the digest of patchme.sh and
 * of every package, whose metadata must also name what the manifest says.
 *
 * Ownership: a struct hp_bundle owns its manifest, its directory fd and its
 * package paths; hp_bundle_close() releases them. It never removes what it extracted: the caller's work directory.
 */
#ifndef SPACE_HOTPATCH_BUNDLE_H
#define SPACE_HOTPATCH_BUNDLE_H

#include <limits.h>
#include <stdint.h>

#include "manifest.h"

#define HP_TGZ_MAX_ENTRIES 64
#define HP_TGZ_MAX_BYTES (1ull << 30)
#define HP_TGZ_KEEP_FREE (64ull << 20) /* left free where a tgz is unpacked */
/* the longest member name: the directory, then a package's file; a longer
 * one is refused before it makes a tree too deep to remove by path */
#define HP_TGZ_NAME_MAX (HP_NAME_MAX + HP_PATH_MAX)

struct hp_bundle {
	char dir[PATH_MAX];                      /* the bundle directory */
	char bound[PATH_MAX];                    /* the name bound to the manifest: dir or .tgz */
	int dfd;                                 /* open on dir (-1 when closed) */
	struct hp_manifest *m;                   /* verified manifest (malloc'd) */
	char pkgfile[HP_MAX_PACKAGES][PATH_MAX]; /* absolute paths of the packages */
	uint64_t pkg_bytes;                      /* sum of the package files' sizes */
};

/* Extract the .tgz at path below workdir (which must exist and be empty)
 * and put the directory it holds into dir. -SPACE_E_UNSAFE_PATH or
 * -SPACE_E_FORMAT for a member that is not allowed (err names it), a
 * negative errno for I/O. */
int hp_bundle_extract(const char *path, const char *workdir, char dir[PATH_MAX], struct space_err *err);

/* Verify the bundle directory dir, bound to the name bound (the .tgz the
 * operator gave, or dir itself), against the root CA file ca. With
 * workdir (an existing empty directory only root can write) every file is
 * copied there as it is hashed and b->dir is workdir: what was verified is
 * what gets used. NULL: dir is such a directory already (extracted by
 * hp_bundle_extract) and is verified in place. 0 with b filled;
 * -SPACE_E_SIGNATURE / -SPACE_E_UNTRUSTED / -SPACE_E_DIGEST /
 * -SPACE_E_FORMAT with err = the first failed check; a negative errno for
 * I/O. Call hp_bundle_close() either way. */
int hp_bundle_verify(struct hp_bundle *b, const char *dir, const char *bound, const char *ca, const char *workdir,
		     struct space_err *err);
void hp_bundle_close(struct hp_bundle *b);

#endif
