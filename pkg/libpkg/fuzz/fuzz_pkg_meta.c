/* SPDX-License-Identifier: MIT */
/* fuzz_pkg_meta.c - libFuzzer target: the .PKGINFO parser, which is the
 * first code to see an untrusted package. Beyond not crashing: whatever it
 * accepts must serialise and re-parse to the same text (write o parse is
 * the identity on accepted input after one normalisation). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/libpkg/libpkg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkg_meta m, m2;
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2;

	if (pkg_meta_parse((const char *)data, size, PKG_PARSE_DB, &m, NULL) != 0)
		return 0;
	for (size_t i = 0; i < m.n_entries; i++)
		if (pkg_path_check(m.entries[i].path) != 0 ||
		    (i > 0 && strcmp(m.entries[i - 1].path, m.entries[i].path) >= 0))
			abort();
	if (pkg_meta_write(&m, &t1, &l1) != 0)
		abort();
	if (pkg_meta_parse(t1, l1, PKG_PARSE_DB, &m2, NULL) != 0)
		abort();
	if (pkg_meta_write(&m2, &t2, &l2) != 0 || l1 != l2 || memcmp(t1, t2, l1) != 0)
		abort();
	free(t1);
	free(t2);
	pkg_meta_free(&m);
	pkg_meta_free(&m2);
	return 0;
}
