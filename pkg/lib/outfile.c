/* SPDX-License-Identifier: MIT */
/* outfile.c - temp name + fsync + rename for streamed outputs; see outfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

int outfile_open(struct outfile *of, const char *path, mode_t mode)
{
	of->fd = -1;
	of->path = strdup(path);
	of->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	if (!of->path || !of->tmp) {
		free(of->path);
		free(of->tmp);
		return -ENOMEM;
	}
	of->fd = open(of->tmp, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (of->fd < 0) {
		int r = -errno;
		free(of->path);
		free(of->tmp);
		return r;
	}
	/* the umask must not make a published artefact unreadable */
	if (fchmod(of->fd, mode) < 0) {
		int r = -errno;
		outfile_abort(of);
		return r;
	}
	return 0;
}

int outfile_commit(struct outfile *of)
{
	int r = 0;

	if (fsync(of->fd) < 0)
		r = -errno;
	if (close(of->fd) < 0 && r == 0)
		r = -errno;
	of->fd = -1;
	if (r == 0 && rename(of->tmp, of->path) < 0)
		r = -errno;
	if (r < 0)
		unlink(of->tmp);
	else
		r = fsync_parent(of->path);
	free(of->path);
	free(of->tmp);
	return r;
}

void outfile_abort(struct outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	unlink(of->tmp);
	free(of->path);
	free(of->tmp);
}
