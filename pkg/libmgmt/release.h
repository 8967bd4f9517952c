/* SPDX-License-Identifier: MIT */
/* release.h - what is installed: /etc/space-release and the hot-patch
 * markers /etc/.Space-<release>-Hotpatch-vN (one package a line,
 * "<name> <version>-<release>", pkg/hotpatch/state.h). Shared by mgmtd
 * (GET /system), spacectl (show ...) and the hot-patch state reader.
 */
#ifndef MGMT_RELEASE_H
#define MGMT_RELEASE_H

#include <stddef.h>

struct release {
	char product[64];
	char version[64];
	char build_id[64];
};

/* Read a KEY=VALUE release file. Missing keys stay "". Returns 0 or a
 * negative errno / -SPACE_E_FORMAT. */
int release_read(const char *path, struct release *rel);

struct hotpatch {
	char name[128]; /* file name without the leading '.' */
	char release[64];
	int number;      /* N of -vN */
	char **packages; /* NULL-terminated */
};

/* List the markers in dir, sorted by release then number. Names that do
 * not match the pattern are ignored; symlinks are not followed. Returns
 * the count (*out malloc'd, free with hotpatch_free) or a negative errno. */
int hotpatch_list(const char *dir, struct hotpatch **out);
void hotpatch_free(struct hotpatch *v, int n);

#endif
