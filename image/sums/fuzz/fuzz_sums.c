/* SPDX-License-Identifier: MIT */
/* fuzz_sums.c - libFuzzer target: the checksum list parser ova-verify --sums
 * runs on a downloaded list. Checks the parser's invariants, not just
 * crashes: what it accepts is bounded, plain, unique, and formats back to
 * the same bytes (the parser reads exactly the format mksums writes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/sums/sums.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sums_list l;
	struct space_err err;
	char *text = NULL;
	size_t len = 0;

	if (sums_parse((const char *)data, size, &l, &err) != 0)
		return 0;
	if (l.n == 0 || l.n > SUMS_MAX_FILES || size > SUMS_MAX_BYTES)
		abort();
	for (unsigned i = 0; i < l.n; i++) {
		if (!ova_name_is_plain(l.e[i].name))
			abort();
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(l.e[i].name, l.e[j].name))
				abort();
	}
	if (sums_format(&l, &text, &len) != 0 || len != size || memcmp(text, data, size) != 0)
		abort();
	free(text);
	return 0;
}
