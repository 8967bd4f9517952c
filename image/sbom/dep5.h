/* SPDX-License-Identifier: MIT */
/* dep5.h - Debian's machine-readable copyright files (DEP-5, copyright
 * format 1.0) and their license names as SPDX license expressions.
 *
 * A copyright file is machine readable when it parses as deb822 and its
 * first paragraph has a Format field naming the copyright format. Every
 * Files paragraph gives a license synopsis ("GPL-2+ or BSD-3-clause",
 * "GPL-3+ with Bison exception"); the package's license is all of them
 * joined with AND. A short name maps through a fixed table (Debian's names
 * are case-insensitive); one that does not map becomes
 * LicenseRef-<scope>-<name> (scope: the package, since two packages may
 * give different texts one name), reported to a callback so that the
 * document can declare it with its text (a standalone License paragraph).
 */
#ifndef SPACE_DEP5_H
#define SPACE_DEP5_H

#include <stddef.h>

#include "deb822.h"
#include "buf.h"

/* Longest synopsis accepted; words of one synopsis at most. */
#define DEP5_SYNOPSIS_MAX 512
#define DEP5_WORDS_MAX 64

struct dep5 {
	int machine_readable;
	char why[200];   /* why it is not machine readable */
	char **synopses; /* of the Files paragraphs, unique, sorted */
	size_t n_synopses;
	struct deb822 d;
};

/* Read a copyright file. 0 (machine_readable says what it is: a file that
 * is not, or that breaks the syntax, is not an error: why says why) or
 * -ENOMEM. dep5_free() releases it (safe on a zeroed struct). */
int dep5_parse(const char *buf, size_t len, struct dep5 *c);
void dep5_free(struct dep5 *c);
/* The text of the license called name (a standalone License paragraph, or
 * a Files paragraph's own text), NULL when the file has none. */
const char *dep5_license_text(const struct dep5 *c, const char *name);

/* Called once per LicenseRef written (the same one may come again). */
typedef int (*dep5_ref_fn)(const char *id, const char *name, void *ctx);

/* Append the SPDX expression of one synopsis to out. -SPACE_E_FORMAT for
 * a synopsis that is not an expression (an operator without a term, more
 * than DEP5_WORDS_MAX words), -ENOMEM, or what fn returned. */
int dep5_to_spdx(const char *synopsis, const char *scope, struct buf *out, dep5_ref_fn fn, void *ctx);
/* The expression of the whole file (every synopsis, AND), or NOASSERTION
 * when it is not machine readable or names no license. */
int dep5_file_spdx(const struct dep5 *c, const char *scope, struct buf *out, dep5_ref_fn fn, void *ctx);
/* LicenseRef-<scope>-<name> with the characters SPDX allows in an id
 * ('+' as "plus", any other as '-'). */
int dep5_ref_id(const char *scope, const char *name, struct buf *out);
/* Append name with the characters SPDX allows in an id. */
void dep5_put_idchars(struct buf *out, const char *name);

#endif
