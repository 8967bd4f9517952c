/* SPDX-License-Identifier: MIT */
/* fuzz_tar.c - libFuzzer target: the tar header parser of ova-verify. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/ova/tar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char blk[TAR_BLOCK] = { 0 };
	struct tar_member m;
	struct space_err why = { "" };
	int r;

	memcpy(blk, data, size < TAR_BLOCK ? size : TAR_BLOCK);
	r = tar_parse_header(blk, &m, &why);
	if (r == 1 && strlen(m.name) > 100)
		abort();
	if (r < 0 && !why.msg[0])
		abort();
	return 0;
}
