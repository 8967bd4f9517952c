/* SPDX-License-Identifier: MIT */
/* tgz.c - reproducible .tgz in memory (tgz.h): libarchive writes the ustar
 * stream into a buffer, libdeflate compresses it in one piece. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <libdeflate.h>

#include "buf.h"
#include "tgz.h"

#define TGZ_LEVEL 9

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct tgz_member *)a)->path, ((const struct tgz_member *)b)->path);
}

static la_ssize_t to_buf(struct archive *a, void *ctx, const void *data, size_t n)
{
	struct buf *b = ctx;

	if (buf_put(b, data, n) < 0) {
		archive_set_error(a, ENOMEM, "out of memory");
		return -1;
	}
	return (la_ssize_t)n;
}

static int add_member(struct archive *a, struct archive_entry *e, const struct tgz_member *m, int64_t mtime)
{
	archive_entry_clear(e);
	archive_entry_set_pathname(e, m->path);
	archive_entry_set_filetype(e, m->dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, m->mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_size(e, m->dir ? 0 : (la_int64_t)m->len);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return -EIO;
	if (!m->dir && m->len && archive_write_data(a, m->data, m->len) != (la_ssize_t)m->len)
		return -EIO;
	return 0;
}

/* The ustar stream of the (sorted) members into tar. */
static int write_tar(const struct tgz_member *mem, size_t n, int64_t mtime, struct buf *tar, struct space_err *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	int r = -ENOMEM;

	if (!a || !e)
		goto out;
	r = -EIO;
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK || archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
	    archive_write_open(a, tar, NULL, to_buf, NULL) != ARCHIVE_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = add_member(a, e, &mem[i], mtime)) < 0)
			goto out;
	r = archive_write_close(a) == ARCHIVE_OK ? 0 : -EIO;
out:
	if (r == -EIO && a)
		err_set(err, r, "%s", archive_error_string(a) ? archive_error_string(a) : "tar write failed");
	archive_entry_free(e);
	if (a)
		archive_write_free(a);
	return r == 0 ? buf_failed(tar) : r;
}

static int gzip(const struct buf *tar, unsigned char **out, size_t *outlen)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(TGZ_LEVEL);
	size_t cap, n;
	unsigned char *o;

	if (!c)
		return -ENOMEM;
	cap = libdeflate_gzip_compress_bound(c, tar->len);
	o = malloc(cap);
	n = o ? libdeflate_gzip_compress(c, tar->p, tar->len, o, cap) : 0;
	libdeflate_free_compressor(c);
	if (!n) {
		free(o);
		return o ? -EIO : -ENOMEM;
	}
	*out = o;
	*outlen = n;
	return 0;
}

int tgz_make(struct tgz_member *mem, size_t n, int64_t mtime, unsigned char **out, size_t *outlen,
	     struct space_err *err)
{
	struct buf tar;
	int r;

	qsort(mem, n, sizeof(*mem), cmp_member);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(mem[i - 1].path, mem[i].path))
			return -EINVAL;
	buf_init(&tar);
	r = write_tar(mem, n, mtime, &tar, err);
	if (r == 0)
		r = gzip(&tar, out, outlen);
	buf_free(&tar);
	return r;
}
