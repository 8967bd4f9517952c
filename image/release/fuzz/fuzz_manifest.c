/* SPDX-License-Identifier: MIT */
/* fuzz_manifest.c - libFuzzer target: the release manifest parser, which
 * ova-verify and the upgrader run on an image's manifest before its
 * signature is known to be good. Checks the parser's invariants: what it
 * accepts is bounded and formats back to text that parses to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/release/release.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rel_manifest m, m2;
	struct space_err err;
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;

	if (rel_manifest_parse((const char *)data, size, &m, &err) != 0)
		return 0;
	if (m.format != REL_FORMAT || !m.ntargets || m.ntargets > REL_MAX_TARGETS || !m.nfrom ||
	    m.nfrom > REL_MAX_FROM || m.napps > REL_MAX_APPS || m.slot_min_size < m.slot_size ||
	    m.window_log > REL_ZSTD_WINDOW_LOG || m.version.n < 3)
		abort();
	if (rel_manifest_format(&m, &t1, &l1) != 0 || rel_manifest_parse(t1, l1, &m2, &err) != 0 ||
	    rel_manifest_format(&m2, &t2, &l2) != 0 || l1 != l2 || memcmp(t1, t2, l1) != 0)
		abort();
	free(t1);
	free(t2);
	return 0;
}
