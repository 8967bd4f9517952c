/* SPDX-License-Identifier: MIT */
/* fmt-layout.c - `mkimage layout`: read back and print a disk's GPT (both
 * headers and entry arrays CRC-checked), one key=value line per item. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image/lib/gpt.h"
#include "mkimage.h"
#include "openreg.h"
#include "util.h"

static int run_layout(int argc, char **argv)
{
	struct disk_layout l;
	char g[37], t[37];
	int fd, r, i = 1;

	if (argc > 1 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))) {
		mk_verbose_on();
		i++;
	}
	if (argc != i + 1 || argv[i][0] == '-')
		return mk_usage_error("layout", "expects one disk image or device");
	fd = open_regular(AT_FDCWD, argv[i], O_RDONLY, 0, OPEN_REG_BLOCK);
	if (fd < 0)
		return die_err("layout", argv[i], fd, NULL);
	r = gpt_read(fd, &l);
	close(fd);
	if (r < 0)
		return mk_fail("layout", argv[i], r,
			       r == -SPACE_E_FORMAT ? "no valid GPT (bad signature, CRC, or backup)" : NULL);
	guid_to_str(&l.disk_guid, g);
	printf("disk bytes=%llu sectors=%llu guid=%s\n", (unsigned long long)l.disk_bytes,
	       (unsigned long long)(l.disk_bytes / GPT_SECTOR), g);
	for (unsigned k = 0; k < l.nparts; k++) {
		const struct gpt_part *p = &l.parts[k];
		guid_to_str(&p->type, t);
		guid_to_str(&p->uuid, g);
		printf("part %u name=%s first=%llu last=%llu bytes=%llu type=%s uuid=%s\n",
		       p->index, p->name, (unsigned long long)p->first_lba,
		       (unsigned long long)p->last_lba, (unsigned long long)gpt_part_bytes(p), t,
		       g);
	}
	return fflush(stdout) == 0 ? MK_EXIT_OK : MK_EXIT_SYSTEM;
}

const struct mk_handler fmt_layout = {
	"layout",
	"[-v] RAW|DEVICE",
	"print the partition table read back from a disk (fails on any CRC error)",
	run_layout,
};
