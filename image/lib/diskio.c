/* SPDX-License-Identifier: MIT */
/* diskio.c - see diskio.h. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diskio.h"
#include "openreg.h"
#include "util.h"

int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

#define CHUNK (64u * 1024u)

int zero_range_fast(int fd, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	return -EOPNOTSUPP;
}

int zero_range(int fd, uint64_t off, uint64_t len)
{
	static const char zeros[CHUNK];
	int r;

	if (zero_range_fast(fd, off, len) == 0)
		return 0;
	while (len) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;
		r = pwrite_all(fd, zeros, n, off);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

/* Copy [off, end) of src (a data extent) to dst, skipping zero chunks when
 * the destination is zeroed, else zeroing them. */
static int copy_extent(int src, int dst, uint64_t dst_off, uint64_t off, uint64_t end,
		       unsigned flags, unsigned char *buf, struct copy_stats *st)
{
	int r;

	while (off < end) {
		size_t n = end - off < CHUNK ? (size_t)(end - off) : CHUNK;
		r = pread_all(src, buf, n, off);
		if (r < 0)
			return r;
		if (mem_is_zero(buf, n)) {
			st->skipped_bytes += n;
			if (!(flags & COPY_DST_ZEROED)) {
				r = zero_range(dst, dst_off + off, n);
				if (r < 0)
					return r;
			}
		} else {
			r = pwrite_all(dst, buf, n, dst_off + off);
			if (r < 0)
				return r;
			st->data_bytes += n;
		}
		off += n;
	}
	return 0;
}

int copy_sparse(int dst_fd, uint64_t dst_off, uint64_t max_len, const char *src_path,
		unsigned flags, struct copy_stats *stats)
{
	struct copy_stats st = { 0, 0 };
	unsigned char *buf = NULL;
	struct stat sb;
	uint64_t size, off = 0;
	int src, r = 0;

	/* a regular file only: a FIFO would block, a block device's
	 * st_size of 0 would copy nothing */
	src = open_regular(AT_FDCWD, src_path, O_RDONLY | O_NOFOLLOW, 0, 0);
	if (src < 0)
		return src;
	if (fstat(src, &sb) < 0) {
		r = -errno;
		goto out_close;
	}
	size = (uint64_t)sb.st_size;
	if (size > max_len) {
		r = -EFBIG;
		goto out_close;
	}
	buf = malloc(CHUNK);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	while (off < size) {
		off_t d = lseek(src, (off_t)off, SEEK_DATA);
		uint64_t data, hole;

		if (d < 0 && errno == ENXIO) {
			data = size; /* only a hole remains */
		} else if (d < 0) {
			r = -errno;
			goto out_free;
		} else {
			data = (uint64_t)d;
		}
		if (data > off) {
			st.skipped_bytes += data - off;
			if (!(flags & COPY_DST_ZEROED)) {
				r = zero_range(dst_fd, dst_off + off, data - off);
				if (r < 0)
					goto out_free;
			}
		}
		if (data >= size)
			break;
		d = lseek(src, (off_t)data, SEEK_HOLE);
		if (d < 0) {
			r = -errno;
			goto out_free;
		}
		hole = (uint64_t)d;
		r = copy_extent(src, dst_fd, dst_off, data, hole, flags, buf, &st);
		if (r < 0)
			goto out_free;
		off = hole;
	}
	if (stats)
		*stats = st;
out_free:
	free(buf);
out_close:
	close(src);
	return r;
}

int dig_holes(int fd, uint64_t off, uint64_t len, uint64_t *punched)
{
	uint64_t end = off + len, done = 0;
	unsigned char *buf;
	int r = 0;

	if ((off | len) % 4096)
		return -EINVAL;
	buf = malloc(CHUNK);
	if (!buf)
		return -ENOMEM;
	while (off < end) {
		off_t d = lseek(fd, (off_t)off, SEEK_DATA), h;

		if (d < 0 && errno != ENXIO) {
			r = -errno;
			break;
		}
		/* [off, d) reads as zeros but may be allocated as unwritten
		 * extents (mke2fs zeroes with fallocate ZERO_RANGE): punch it
		 * too, so it is a real hole. Aligned inward to 4 KiB. */
		{
			uint64_t hs = (off + 4095) / 4096 * 4096;
			uint64_t he = d < 0 || (uint64_t)d > end ? end : (uint64_t)d / 4096 * 4096;
			if (he > hs && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						 (off_t)hs, (off_t)(he - hs)) < 0) {
				r = -errno;
				break;
			}
		}
		if (d < 0 || (uint64_t)d >= end)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0) {
			r = -errno;
			break;
		}
		/* Extents start on filesystem block boundaries (>= 4 KiB is
		 * not guaranteed, so align down to keep chunks aligned). */
		for (off = (uint64_t)d / 4096 * 4096; off < (uint64_t)h && off < end;) {
			uint64_t stop = (uint64_t)h < end ? (uint64_t)h : end;
			size_t n = stop - off < CHUNK ? (size_t)(stop - off) : CHUNK;

			n = n / 4096 * 4096;
			if (!n)
				break;
			r = pread_all(fd, buf, n, off);
			if (r < 0)
				goto out;
			if (mem_is_zero(buf, n)) {
				if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
					      (off_t)n) < 0) {
					r = -errno;
					goto out;
				}
				done += n;
			}
			off += n;
		}
		if (off < (uint64_t)h)
			off = (uint64_t)h;
	}
out:
	free(buf);
	if (punched)
		*punched = done;
	return r;
}
