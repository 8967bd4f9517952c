/* SPDX-License-Identifier: MIT */
/* fdio.h - whole-buffer read and write on a file descriptor.
 *
 * write(2) and pread(2) may transfer fewer bytes than asked (pipes, signals,
 * large requests); these loop until done, retry on EINTR, and return 0 or a
 * negative errno. A file that ends before len bytes is malformed input to
 * every reader here, hence -SPACE_E_FORMAT rather than a short count.
 * (image/lib/diskio.h has pread_all/pwrite_all for disk images, where a
 * short device is -EIO.)
 */
#ifndef SPACE_FDIO_H
#define SPACE_FDIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write len bytes at the file position. */
int fd_write_full(int fd, const void *buf, size_t len);

/* Read len bytes at offset off; -SPACE_E_FORMAT when the file ends first. */
int fd_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* Write len bytes at offset off. */
int fd_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Copy the file src to dst (created or truncated with mode), following a
 * symlink at neither: a link in src's place is refused (-ELOOP), one in
 * dst's is not written through. Not synced: the caller decides. */
int file_copy(const char *src, const char *dst, mode_t mode);

#endif
