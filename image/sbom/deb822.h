/* SPDX-License-Identifier: MIT */
/* deb822.h - Debian's control-file syntax (deb822): the control data of a
 * .deb and the machine-readable copyright files (DEP-5) are both read with
 * it by mksbom.
 *
 * Paragraphs are separated by blank lines (empty or only blanks); a field
 * is "Name: value" at the start of a line, continued on lines that start
 * with a space or tab; a continuation line " ." stands for an empty line.
 * Lines starting with '#' are comments. A value is stored with its first
 * line trimmed and each continuation line after a '\n', its first blank
 * removed (DEP-5's license texts keep their inner indentation).
 *
 * Bounds (outside input): DEB822_MAX_LEN bytes, DEB822_MAX_PARAS
 * paragraphs, DEB822_MAX_FIELDS fields per paragraph; past them, and for a
 * NUL byte, a line without a colon, a continuation without a field, a bad
 * or repeated field name, the parse is refused with -SPACE_E_FORMAT and
 * "line N: reason" in err. Field names compare case-insensitively.
 */
#ifndef SPACE_DEB822_H
#define SPACE_DEB822_H

#include <stddef.h>

#include "err.h"

#define DEB822_MAX_LEN (4u << 20)
#define DEB822_MAX_PARAS 4096
#define DEB822_MAX_FIELDS 64

struct deb822_field {
	char *name;
	char *value;
};

struct deb822_para {
	struct deb822_field *f;
	size_t n;
	unsigned line; /* where it starts, for messages */
};

/* Owns every paragraph, field and string; deb822_free() releases them
 * (safe on a zeroed struct). */
struct deb822 {
	struct deb822_para *p;
	size_t n;
};

/* Parse len bytes at buf (need not be NUL-terminated). 0, -SPACE_E_FORMAT
 * (err says where and why), or -ENOMEM. */
int deb822_parse(const char *buf, size_t len, struct deb822 *d, struct space_err *err);
void deb822_free(struct deb822 *d);
/* The value of field name (case-insensitive) in p, NULL if absent. */
const char *deb822_get(const struct deb822_para *p, const char *name);

#endif
