/* SPDX-License-Identifier: MIT */
/* fmt-qcow2.c - `mkimage qcow2`: qemu-img convert of a raw disk image,
 * under a temporary name renamed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/lib/gpt.h"
#include "mkimage.h"
#include "openreg.h"
#include "util.h"

static int run_qcow2(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		{ "compress", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *in = NULL, *out = NULL;
	struct disk_layout l;
	char *tmp = NULL;
	int c, fd, r, compress = 0, code;

	optind = 1;
	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'i': in = optarg; break;
		case 'o': out = optarg; break;
		case 'c': compress = 1; break;
		case 'v': mk_verbose_on(); break;
		default: return mk_usage_error("qcow2", "bad option");
		}
	}
	if (optind != argc || !in || !out)
		return mk_usage_error("qcow2", "--in RAW and --out FILE are required");
	/* Refuse to convert something that is not a disk image we can read
	 * (a FIFO would block open() for ever). */
	fd = open_regular(AT_FDCWD, in, O_RDONLY, 0, OPEN_REG_BLOCK);
	if (fd < 0)
		return die_err("qcow2", in, fd, NULL);
	r = gpt_read(fd, &l);
	close(fd);
	if (r < 0)
		return mk_fail("qcow2", in, r, r == -SPACE_E_FORMAT ? "no valid GPT" : NULL);
	tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	if (!tmp)
		return die_err("qcow2", out, -ENOMEM, NULL);
	{
		const char *argv_c[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2",
					 compress ? "-c" : in, compress ? in : tmp,
					 compress ? tmp : NULL, NULL };
		r = run_argv(argv_c);
	}
	if (r == 0) {
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) < 0)
			r = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (r == 0 && rename(tmp, out) < 0)
		r = -errno;
	if (r == 0)
		r = fsync_parent(out);
	if (r < 0) {
		unlink(tmp);
		code = mk_fail("qcow2", out, r, r == -SPACE_E_CHILD ? "qemu-img convert failed" : NULL);
		free(tmp);
		return code == MK_EXIT_REJECTED ? MK_EXIT_SYSTEM : code;
	}
	free(tmp);
	return MK_EXIT_OK;
}

const struct mk_handler fmt_qcow2 = {
	"qcow2",
	"--in RAW --out FILE.qcow2 [--compress] [-v]",
	"convert a raw disk image (checked: valid GPT) to qcow2 with qemu-img",
	run_qcow2,
};
