/* SPDX-License-Identifier: MIT */
/* fuzz_hotpatch_manifest.c - libFuzzer target: the hot-patch manifest
 * parser (the node runs it once a manifest's signature verified; the
 * fuzzer does not assume a signer never errs). Checks the parser's invariants: what it accepts is
 * bounded, binds its own name, and formats back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/hotpatch/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hp_manifest m, m2;
	struct space_err err;
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;

	if (hp_manifest_parse((const char *)data, size, &m, &err) != 0)
		return 0;
	if (m.format != HP_FORMAT || !m.nfix || m.nfix > HP_MAX_FIXES || !m.npkg || m.npkg > HP_MAX_PACKAGES ||
	    m.nservice > HP_MAX_SERVICES || m.nbackup > HP_MAX_BACKUP || !m.patch || m.patch > HP_MAX_LEVEL ||
	    m.version.n != 3 || m.fix[m.nfix - 1].level > m.patch)
		abort();
	if (hp_check_name(&m, m.name, &err) != 0 || hp_check_release(&m, m.release, &err) != 0)
		abort();
	if (hp_manifest_format(&m, &t1, &l1) != 0 || hp_manifest_parse(t1, l1, &m2, &err) != 0 ||
	    hp_manifest_format(&m2, &t2, &l2) != 0 || l1 != l2 || memcmp(t1, t2, l1) != 0)
		abort();
	free(t1);
	free(t2);
	return 0;
}
