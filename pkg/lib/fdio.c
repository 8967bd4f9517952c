/* SPDX-License-Identifier: MIT */
/* fdio.c - whole-buffer fd I/O; see fdio.h. */
#include <errno.h>
#include <fcntl.h>
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

int file_copy(const char *src, const char *dst, mode_t mode)
{
	char buf[1 << 16];
	ssize_t n;
	int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1, r = 0;

	if (in < 0)
		return -errno;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode)) < 0) {
		r = -errno;
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if ((r = fd_write_full(out, buf, (size_t)n)) < 0)
			goto out;
	if (n < 0)
		r = -errno;
out:
	if (out >= 0 && close(out) < 0 && r == 0)
		r = -errno;
	close(in);
	return r;
}
