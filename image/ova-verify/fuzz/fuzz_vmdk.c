/* SPDX-License-Identifier: MIT */
/* fuzz_vmdk.c - libFuzzer target: VMDK header, descriptor and footer parsing
 * from bytes, as ova-verify does on the disk member of a stream. The input
 * is the head of the file; its last 1536 bytes also serve as the tail. */
#include <stdint.h>
#include <stdlib.h>

#include "image/vmdk/vmdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmdk_info info;
	struct space_err why = { "" };
	size_t tl = size < 1536 ? size : 1536;

	if (vmdk_info_from_bytes(data, size, data + size - tl, tl, size, &info, &why) == 0) {
		if (info.header.grain_size < 8 || info.header.gtes_per_gt != 512)
			abort();
		if (info.has_footer && info.header.gd_offset * 512 >= size)
			abort();
	} else if (!why.msg[0]) {
		abort(); /* every refusal names its reason */
	}
	return 0;
}
