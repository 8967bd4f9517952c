/* SPDX-License-Identifier: MIT */
/* diskio.h - positioned I/O on disk images and devices, and a sparse-aware
 * copy of a filesystem image into a partition.
 *
 * Return 0 or a negative errno; never print. No ownership is taken of fds.
 */
#ifndef SPACE_IMAGE_DISKIO_H
#define SPACE_IMAGE_DISKIO_H

#include <stddef.h>
#include <stdint.h>

/* Full-length pread/pwrite (retrying short transfers and EINTR). A short
 * read at end of file is -EIO. */
int pread_all(int fd, void *buf, size_t len, uint64_t off);
int pwrite_all(int fd, const void *buf, size_t len, uint64_t off);

/* Make [off, off+len) of fd read back as zeros: punches a hole or zeroes
 * the range with fallocate (files and block devices), else writes zeros. */
int zero_range(int fd, uint64_t off, uint64_t len);
/* The same without writing: fallocate only, else -EOPNOTSUPP (callers that
 * would write the range anyway then skip nothing). */
int zero_range_fast(int fd, uint64_t off, uint64_t len);

/* Set in flags when the destination range is known to read as zeros (a new
 * sparse image file): holes and all-zero blocks of the source are then
 * skipped instead of zeroed on the destination. Without it (a real disk
 * with old contents) they are zeroed with zero_range(). */
#define COPY_DST_ZEROED 1u

struct copy_stats {
	uint64_t data_bytes;    /* bytes written */
	uint64_t skipped_bytes; /* holes and zero blocks not written */
};

/* Copies the file at src_path (a filesystem image) to dst_fd at dst_off,
 * at most max_len bytes (-EFBIG if the source is longer). Uses
 * SEEK_DATA/SEEK_HOLE to visit only the data extents and never writes an
 * all-zero 64 KiB block. stats may be NULL. A source that is not a
 * regular file (a symlink neither) is -SPACE_E_NOT_REG. */
int copy_sparse(int dst_fd, uint64_t dst_off, uint64_t max_len, const char *src_path,
		unsigned flags, struct copy_stats *stats);

/* Turns every all-zero 4 KiB-aligned 64 KiB chunk of [off, off+len) of a
 * regular file into a hole (fallocate --dig-holes), visiting only data
 * extents. Used after building a filesystem in place, since mke2fs writes
 * its zeroed inode tables and journal as data. *punched may be NULL. */
int dig_holes(int fd, uint64_t off, uint64_t len, uint64_t *punched);

#endif
