/* SPDX-License-Identifier: MIT */
/* openreg.c - open_regular(); see openreg.h for why. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openreg.h"
#include "util.h"

static int type_check(const struct stat *st, unsigned allow)
{
	if (S_ISREG(st->st_mode))
		return 0;
	if (allow & OPEN_REG_BLOCK)
		return S_ISBLK(st->st_mode) ? 0 : -SPACE_E_NOT_REG_BLK;
	return -SPACE_E_NOT_REG;
}

/* Before open(): a device is never opened, a FIFO never waited on, in the
 * usual case where nothing changes the path under us. */
static int check_path(int dfd, const char *path, int flags, unsigned allow)
{
	struct stat st;

	if (fstatat(dfd, path, &st, flags & O_NOFOLLOW ? AT_SYMLINK_NOFOLLOW : 0) == 0)
		return type_check(&st, allow);
	if (errno == ENOENT && (flags & O_CREAT))
		return 0;
	return -errno;
}

int open_regular(int dfd, const char *path, int flags, mode_t mode, unsigned allow)
{
	struct stat st;
	int fd, fl, r;

	r = check_path(dfd, path, flags, allow);
	if (r < 0)
		return r;
	fd = openat(dfd, path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode);
	if (fd < 0) {
		/* O_NONBLOCK: a FIFO without a reader (for writing) or a
		 * socket (always) is ENXIO; name the type, not the errno */
		r = -errno;
		return r == -ENXIO ? (allow & OPEN_REG_BLOCK ? -SPACE_E_NOT_REG_BLK : -SPACE_E_NOT_REG) : r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	r = type_check(&st, allow);
	if (r < 0)
		goto out_close;
	if (!(flags & O_NONBLOCK)) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
			r = -errno;
			goto out_close;
		}
	}
	return fd;
out_close:
	close(fd);
	return r;
}
