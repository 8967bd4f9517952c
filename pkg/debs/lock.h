/* SPDX-License-Identifier: MIT */
/* lock.h - parser for pkg/debs.lock, the pinned Debian packages.
 *
 * Format: one package per line, "NAME VERSION ARCH SHA256", '#' comments
 * and blank lines ignored. Names and versions use Debian's character sets;
 * the digest is 64 lowercase hex digits. Duplicate names are refused.
 */
#ifndef SPACE_DEBS_LOCK_H
#define SPACE_DEBS_LOCK_H

#include <stddef.h>

struct deb_pin {
	char *name;
	char *version;
	char *arch;
	char sha256[65];
};

/* A parsed lock file. Owns every string in pins[]; free with lock_free(). */
struct deb_lock {
	struct deb_pin *pins;
	size_t n;
};

/* Parse text (NUL-terminated). On error returns -SPACE_E_FORMAT and, when
 * errline is not NULL, the 1-based line number of the offending line. */
int lock_parse(const char *text, struct deb_lock *lock, int *errline);
void lock_free(struct deb_lock *lock);

/* The file name `apt-get download` gives the pin: NAME_VERSION_ARCH.deb
 * with ':' written as "%3a". Returns a malloc'd string or NULL. */
char *lock_deb_filename(const struct deb_pin *pin);

const struct deb_pin *lock_find(const struct deb_lock *lock, const char *name);

#endif
