/* SPDX-License-Identifier: MIT */
/* tgz.h - a small reproducible .tgz in memory, for the hot-patch bundle:
 * ustar members sorted by path, owner 0:0 without user or group names,
 * one mtime for all (SOURCE_DATE_EPOCH), gzip without file name or time
 * (libdeflate's fixed header). The same members give the same bytes. */
#ifndef SPACE_HOTPATCH_TGZ_H
#define SPACE_HOTPATCH_TGZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct tgz_member {
	const char *path; /* relative; a directory without its trailing '/' */
	const void *data; /* regular file content */
	size_t len;
	unsigned mode; /* permission bits */
	bool dir;
};

/* Sort mem by path (in place), write the archive and gzip it into *out
 * (malloc'd). 0, -EINVAL for a path given twice, -ENOMEM, or -EIO with
 * libarchive's message in err. */
int tgz_make(struct tgz_member *mem, size_t n, int64_t mtime, unsigned char **out, size_t *outlen,
	     struct space_err *err);

#endif
