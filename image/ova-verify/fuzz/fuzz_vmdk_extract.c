/* SPDX-License-Identifier: MIT */
/* fuzz_vmdk_extract.c - libFuzzer target: vmdk_extract(), the grain
 * directory and grain table walk of `vmdk extract`, on the input as a whole
 * VMDK file (a memfd) written to a memfd. Beyond "no crash" it checks what
 * the extractor promises: success gives an output of exactly the capacity
 * holding at most one grain per input sector (shared grains made a few KiB
 * write a disk of any size, issue 12 #17), and every refusal of the input
 * names its reason. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/vmdk/vmdk.h"
#include "fdio.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int in = memfd_create("vmdk", MFD_CLOEXEC), out = memfd_create("raw", MFD_CLOEXEC), r;
	uint64_t cap = 0, max_grain = 2048 * VMDK_SECTOR; /* the header allows 1 MiB grains */
	struct space_err why = { "" };
	struct stat st;

	if (in < 0 || out < 0 || fd_write_full(in, data, size) < 0)
		abort();
	r = vmdk_extract(in, out, &cap, &why);
	if (r == 0) {
		if (fstat(out, &st) < 0 || (uint64_t)st.st_size != cap)
			abort();
		/* written bytes (pages of the memfd) within one grain per input sector */
		if ((uint64_t)st.st_blocks * 512 > (size / VMDK_SECTOR + 1) * max_grain)
			abort();
	} else if (r == -SPACE_E_FORMAT && !why.msg[0]) {
		abort();
	}
	close(in);
	close(out);
	return 0;
}
