/* SPDX-License-Identifier: MIT */
/* fuzz_gpt.c - libFuzzer target: the strict GPT reader (gpt_read,
 * gpt_table_bytes) and the boot-state lookup on a disk (bootenv_load_disk),
 * which the installer runs on every disk of the machine to say what it
 * holds, growdata and the upgrader on the boot disk: any of them may carry
 * anything.
 *
 * The input is the whole disk (a memfd: the backup header is looked for at
 * its end). Beyond not crashing: a table that reads back has partitions
 * inside the disk, in order of their entries, each first <= last, and at
 * most DISK_MAX_PARTS; re-encoding it and reading again gives the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image/lib/bootenv.h"
#include "image/lib/gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct disk_layout l, again;
	struct bootenv e;
	struct space_err why;
	uint64_t bytes;
	int fd = memfd_create("disk", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	gpt_table_bytes(fd, &bytes);
	if (gpt_read(fd, &l) == 0) {
		if (l.nparts > DISK_MAX_PARTS)
			abort();
		for (unsigned i = 0; i < l.nparts; i++)
			if (l.parts[i].first_lba > l.parts[i].last_lba ||
			    (l.parts[i].last_lba + 1) * GPT_SECTOR > l.disk_bytes)
				abort();
		/* written back as we write tables, it must read the same */
		if (gpt_write(fd, &l) == 0) {
			if (gpt_read(fd, &again) != 0 || again.nparts != l.nparts)
				abort();
			for (unsigned i = 0; i < l.nparts; i++)
				if (again.parts[i].first_lba != l.parts[i].first_lba ||
				    again.parts[i].last_lba != l.parts[i].last_lba ||
				    strcmp(again.parts[i].name, l.parts[i].name))
					abort();
		}
		bootenv_load_disk(&e, fd, &why);
	}
	close(fd);
	return 0;
}
