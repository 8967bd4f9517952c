/* SPDX-License-Identifier: MIT */
/* fuzz_hotpatch_extract.c - libFuzzer target: unpacking a hot-patch
 * bundle's .tgz (extract.c), which the node does as root with bytes an
 * operator copied in, before any signature can be checked. Each input is
 * unpacked into a fresh directory; whatever is accepted must be plain
 * directories and regular files below it, within the bounds. */
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkg/hotpatch/bundle.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long long total;
static unsigned count;

static int check_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_SL || flag == FTW_SLN || (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode)))
		abort(); /* a link or a special file came out of the archive */
	if (S_ISREG(st->st_mode))
		total += (unsigned long long)st->st_size;
	count++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char base[] = "/tmp/fuzz-hp-extract.XXXXXX";
	static int ready;
	char in[PATH_MAX], work[PATH_MAX], dir[PATH_MAX];
	struct space_err err = { "" };
	int fd;

	if (!ready && !mkdtemp(base))
		abort();
	ready = 1;
	snprintf(in, sizeof(in), "%s/in.tgz", base);
	snprintf(work, sizeof(work), "%s/work", base);
	remove_tree(work);
	if (mkdir(work, 0700) < 0 || (fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		abort();
	if (write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	total = 0;
	count = 0;
	if (hp_bundle_extract(in, work, dir, &err) == 0) {
		if (strncmp(dir, work, strlen(work)) || dir[strlen(work)] != '/' || strchr(dir + strlen(work) + 1, '/'))
			abort(); /* the bundle directory is one level below work */
		if (nftw(work, check_one, 16, FTW_PHYS) != 0 || count > HP_TGZ_MAX_ENTRIES + 1 + 16 ||
		    total > HP_TGZ_MAX_BYTES)
			abort();
	}
	if (strchr(err.msg, '\n'))
		abort(); /* a reason is one line */
	remove_tree(work);
	return 0;
}
