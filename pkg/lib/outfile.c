/* SPDX-License-Identifier: MIT */
/* outfile.c - temp name + fsync + rename for streamed outputs; see outfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
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

/* fsync the directory of name (below dirfd) after a rename into it. */
static int sync_dir_of(int dirfd, const char *name)
{
	const char *slash = strrchr(name, '/');
	char dir[PATH_MAX];
	int fd, r;

	if (dirfd == AT_FDCWD)
		return fsync_parent(name);
	if (!slash)
		return fsync(dirfd) < 0 ? -errno : 0;
	if ((size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name) >= sizeof(dir))
		return -ENAMETOOLONG;
	fd = openat(dirfd, slash == name ? "/" : dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
			 int flags)
{
	const char *slash = strrchr(name, '/');
	int dlen = slash ? (int)(slash - name) + 1 : 0, n, fd, r;
	char tmp[PATH_MAX];

	if (flags & WRITE_HIDDEN)
		n = snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp", dlen, name, name + dlen);
	else
		n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* the umask must not make a published file unreadable */
	r = !(flags & WRITE_UMASK) && fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0)
		r = fd_write_full(fd, buf, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	return sync_dir_of(dirfd, name);
}

int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
	return write_file_atomic_at(AT_FDCWD, path, buf, len, mode, 0);
}
