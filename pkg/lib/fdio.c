/* SPDX-License-Identifier: MIT */
/* fdio.c - whole-buffer fd I/O; see fdio.h. */
#include <errno.h>
#include <unistd.h>

#include "fdio.h"
#include "util.h"

/* write() when off is NULL, else pwrite() at *off. */
static int write_loop(int fd, const void *buf, size_t len, const uint64_t *off)
{
	const unsigned char *p = buf;
	uint64_t done = 0;

	while (len) {
		ssize_t n = off ? pwrite(fd, p, len, (off_t)(*off + done)) : write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		done += (uint64_t)n;
	}
	return 0;
}

int fd_write_full(int fd, const void *buf, size_t len)
{
	return write_loop(fd, buf, len, NULL);
}

int fd_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return write_loop(fd, buf, len, &off);
}

int fd_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -SPACE_E_FORMAT;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}
