/* SPDX-License-Identifier: MIT */
/* slotwrite.c - write and read back a root slot; see slotwrite.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image/lib/diskio.h"
#include "fdio.h"
#include "slotwrite.h"
#include "util.h"

#define READBACK_CHUNK (1u << 20)

int slot_writer_open(struct slot_writer *w, int fd, uint64_t off, uint64_t len, uint64_t size)
{
	void (*progress)(void *, uint64_t, uint64_t) = w->progress;
	void *pctx = w->pctx;

	memset(w, 0, sizeof(*w));
	w->progress = progress;
	w->pctx = pctx;
	w->fd = fd;
	w->off = off;
	w->len = len;
	w->size = size;
	if (size > len)
		return -ENOSPC;
	/* Zeroing is an optimisation: without it every byte is written. */
	w->zeroed = size && zero_range_fast(fd, off, size) == 0;
	return 0;
}

int slot_writer_sink(void *ctx, const void *p, size_t n, uint64_t soff)
{
	struct slot_writer *w = ctx;
	const unsigned char *b = p;
	size_t i = 0;

	if (soff > w->size || n > w->size - soff)
		return -EFBIG;
	while (i < n) {
		/* runs that end on SLOTW_BLOCK boundaries of the slot */
		size_t run = SLOTW_BLOCK - (size_t)((soff + i) % SLOTW_BLOCK);
		int r;

		if (run > n - i)
			run = n - i;
		if (w->zeroed && mem_is_zero(b + i, run)) {
			w->skipped += run;
		} else {
			/* extend over following non-zero blocks: fewer syscalls */
			size_t end = i + run;
			while (end < n) {
				size_t k = n - end < SLOTW_BLOCK ? n - end : SLOTW_BLOCK;
				if (w->zeroed && mem_is_zero(b + end, k))
					break;
				end += k;
			}
			r = fd_pwrite_full(w->fd, b + i, end - i, w->off + soff + i);
			if (r < 0)
				return r;
			run = end - i;
		}
		i += run;
	}
	if (soff + n > w->written)
		w->written = soff + n;
	if (w->progress)
		w->progress(w->pctx, w->written, w->size);
	return 0;
}

int slot_writer_verify(struct slot_writer *w, const unsigned char sha256[32])
{
	unsigned char *buf = NULL, md[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx = NULL;
	unsigned mdlen = 0;
	int r;

	if (w->written != w->size)
		return -EPIPE;
	if (fsync(w->fd) < 0)
		return -errno;
	/* what the disk holds, not what the page cache remembers */
	(void)posix_fadvise(w->fd, (off_t)w->off, (off_t)w->size, POSIX_FADV_DONTNEED);
	buf = malloc(READBACK_CHUNK);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		r = -ENOMEM;
		goto out;
	}
	for (uint64_t done = 0; done < w->size;) {
		size_t k = w->size - done < READBACK_CHUNK ? (size_t)(w->size - done) : READBACK_CHUNK;
		r = fd_pread_full(w->fd, buf, k, w->off + done);
		if (r < 0)
			goto out;
		if (EVP_DigestUpdate(ctx, buf, k) != 1) {
			r = -EIO;
			goto out;
		}
		done += k;
		if (w->progress)
			w->progress(w->pctx, done, w->size);
	}
	r = EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32 ? 0 : -EIO;
	if (r == 0 && memcmp(md, sha256, 32))
		r = -EIO;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return r;
}
