/* SPDX-License-Identifier: MIT */
/* slotwrite.h - the one slot writer of the upgrader and the installer: the
 * unpacked slot image (a rel_sink_fn fed by the verifier, image/ova-verify)
 * goes straight into a root slot, a partition device or a byte range of a
 * disk image, with no temporary copy and bounded memory; then it is
 * flushed, read back from the disk and compared with the manifest's
 * SHA-256.
 *
 * Zero blocks are not written when the range could be zeroed first
 * (zero_range_fast(): fallocate on a file or device): a slot image is mostly
 * empty filesystem. The caller owns fd; return 0 or a negative errno, never
 * print.
 */
#ifndef SPACE_RELEASE_SLOTWRITE_H
#define SPACE_RELEASE_SLOTWRITE_H

#include <stdbool.h>
#include <stdint.h>

#define SLOTW_BLOCK 4096u

struct slot_writer {
	int fd;
	uint64_t off, len; /* the slot: [off, off + len) of fd */
	uint64_t size;     /* bytes the image will write (<= len) */
	uint64_t written;  /* highest byte received, from off */
	uint64_t skipped;  /* zero bytes not written (range pre-zeroed) */
	bool zeroed;       /* [off, off + size) reads as zeros */
	/* called after each chunk with (done, size); may be NULL */
	void (*progress)(void *ctx, uint64_t done, uint64_t size);
	void *pctx;
};

/* Prepare to write size bytes into [off, off + len) of fd: -ENOSPC when
 * size > len. Zeroes [off, off + size) when fd can do it cheaply
 * (zero_range_fast(), image/lib/diskio.h); w->zeroed says whether. */
int slot_writer_open(struct slot_writer *w, int fd, uint64_t off, uint64_t len, uint64_t size);

/* The rel_sink_fn: writes p at slot offset soff; -EFBIG past size. */
int slot_writer_sink(void *ctx, const void *p, size_t n, uint64_t soff);

/* After the last byte: fsync, drop the cached pages, read the size bytes
 * back from the disk while hashing them, and compare with sha256:
 * -EIO (why: "read back differs") when they do not match, -EPIPE when
 * fewer than size bytes were written. progress gets the read-back too. */
int slot_writer_verify(struct slot_writer *w, const unsigned char sha256[32]);

#endif
