/* SPDX-License-Identifier: MIT */
/* fuzz_manifest.c - libFuzzer target: the .mf parser ova-verify runs on
 * untrusted input. Checks the parser's own invariants, not just crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/ova/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ova_manifest mf;
	struct space_err err;

	if (ova_manifest_parse((const char *)data, size, &mf, &err) == 0) {
		if (mf.n == 0 || mf.n > OVA_MF_MAX_ENTRIES)
			abort();
		for (unsigned i = 0; i < mf.n; i++)
			if (!ova_name_is_plain(mf.e[i].name) || mf.e[i].dlen != ova_digest_len(mf.e[i].alg))
				abort();
	}
	return 0;
}
