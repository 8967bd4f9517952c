/* SPDX-License-Identifier: MIT */
/* fmt-bootenv.c - `mkimage bootenv`: print or set the boot-state variables
 * of a disk's GRUB environment block (image/lib/bootenv.h), in place, as the
 * upgrader does on a node: for tests, and for a disk about to be shipped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image/lib/bootenv.h"
#include "mkimage.h"
#include "openreg.h"
#include "util.h"

/* Every name=value line of the block, in order. */
static void print_block(const char *b)
{
	const char *p = strchr(b, '\n'), *end = b + GRUBENV_SIZE;

	while (p && ++p < end && *p != '#') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		printf("%.*s\n", (int)(nl - p), p);
		p = nl;
	}
}

static int run_bootenv(int argc, char **argv)
{
	struct bootenv e;
	struct space_err err = { "" };
	int fd, r, i = 1;

	if (argc < 2 || argv[1][0] == '-')
		return mk_usage_error("bootenv", "expects a disk image or device, then KEY=VALUE... to set");
	for (int k = 2; k < argc; k++)
		if (!strchr(argv[k], '=') || argv[k][0] == '=')
			return mk_usage_error("bootenv", "'%s' is not KEY=VALUE", argv[k]);
	fd = open_regular(AT_FDCWD, argv[i], argc > 2 ? O_RDWR : O_RDONLY, 0, OPEN_REG_BLOCK);
	if (fd < 0)
		return die_err("bootenv", argv[i], fd, NULL);
	r = bootenv_load_disk(&e, fd, &err);
	for (int k = 2; r == 0 && k < argc; k++) {
		char *eq = strchr(argv[k], '=');
		*eq = '\0';
		r = grub_env_set(e.block, argv[k], eq + 1);
		if (r < 0)
			err_set(&err, r, "%s: %s", argv[k], r == -ENOSPC ? "the block is full" : "name or value GRUB would misread");
		*eq = '=';
	}
	if (r == 0 && argc > 2)
		r = bootenv_commit(&e);
	else if (r == 0)
		print_block(e.block);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		return mk_fail("bootenv", argv[i], r, err.msg);
	return fflush(stdout) == 0 ? MK_EXIT_OK : MK_EXIT_SYSTEM;
}

const struct mk_handler fmt_bootenv = {
	"bootenv",
	"RAW|DEVICE [KEY=VALUE...]",
	"print the GRUB environment block of the disk's ESP, or set variables in it (one sector rewritten)",
	run_bootenv,
};
