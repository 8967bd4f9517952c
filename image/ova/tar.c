/* SPDX-License-Identifier: MIT */
/* tar.c - ustar writer and strict header parser; see tar.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fdio.h"
#include "manifest.h"
#include "tar.h"
#include "util.h"

#define GNU_SIZE_LIMIT (1ull << 33) /* 11 octal digits */
#define TAR_PREFIX_OFF 345u         /* ustar prefix field, bytes 345..499 */
#define TAR_PREFIX_END 500u

static void octal(char *dst, size_t width, uint64_t v)
{
	/* width includes the terminating NUL */
	snprintf(dst, width, "%0*llo", (int)width - 1, (unsigned long long)v);
}

static unsigned checksum(const unsigned char blk[TAR_BLOCK])
{
	unsigned sum = 0;

	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : blk[i];
	return sum;
}

int tar_format_header(unsigned char blk[TAR_BLOCK], const char *name, uint64_t size, int64_t mtime)
{
	char *h = (char *)blk;

	if (!ova_name_is_plain(name) || strlen(name) >= 100 || mtime < 0 || mtime >= (1ll << 33))
		return -EINVAL;
	memset(blk, 0, TAR_BLOCK);
	memcpy(h, name, strlen(name));
	octal(h + 100, 8, 0644);
	octal(h + 108, 8, 0);
	octal(h + 116, 8, 0);
	if (size < GNU_SIZE_LIMIT) {
		octal(h + 124, 12, size);
		memcpy(h + 257, "ustar\0"
				"00",
		       8);
	} else {
		blk[124] = 0x80;
		for (int i = 0; i < 8; i++)
			blk[135 - i] = (unsigned char)(size >> (8 * i));
		memcpy(h + 257, "ustar  \0", 8);
	}
	octal(h + 136, 12, (uint64_t)mtime);
	h[156] = '0';
	octal(h + 329, 8, 0); /* devmajor/devminor, as GNU tar writes them */
	octal(h + 337, 8, 0);
	snprintf(h + 148, 8, "%06o", checksum(blk));
	h[155] = ' ';
	return 0;
}

static int parse_octal(const unsigned char *p, size_t n, uint64_t *v)
{
	size_t i = 0;

	*v = 0;
	while (i < n && p[i] == ' ')
		i++;
	if (i == n || p[i] < '0' || p[i] > '7')
		return -1;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
		*v = *v * 8 + (uint64_t)(p[i] - '0');
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return -1;
	return 0;
}

int tar_parse_header(const unsigned char blk[TAR_BLOCK], struct tar_member *m, struct space_err *err)
{
	uint64_t sum;
	size_t i;

	for (i = 0; i < TAR_BLOCK && blk[i] == 0; i++)
		;
	if (i == TAR_BLOCK)
		return 0;
	memset(m, 0, sizeof(*m));
	if (parse_octal(blk + 148, 8, &sum) < 0 || sum != checksum(blk))
		return err_set(err, -SPACE_E_FORMAT, "tar header checksum mismatch");
	if (memcmp(blk + 257, "ustar\0"
			      "00",
		   8) == 0)
		m->gnu = 0;
	else if (memcmp(blk + 257, "ustar  \0", 8) == 0)
		m->gnu = 1;
	else
		return err_set(err, -SPACE_E_FORMAT, "not a ustar header (old v7 tar?)");
	/* Bytes 345..499 are the ustar prefix (a path in front of the name);
	 * GNU headers keep atime, ctime and sparse maps there, but readers
	 * such as Python's tarfile take them as the prefix whatever the magic
	 * says. mkova leaves them zero in both forms and headers are not
	 * signed, so any byte there could smuggle a path: refuse them all. */
	for (i = TAR_PREFIX_OFF; i < TAR_PREFIX_END; i++)
		if (blk[i]) {
			return err_set(err, -SPACE_E_FORMAT, "%s",
				       m->gnu ? "GNU header uses bytes 345-499 (read as a path prefix by some tar readers)" :
						"member name uses the ustar prefix field (a path)");
		}
	memcpy(m->name, blk, 100);
	m->name[100] = '\0';
	m->type = blk[156] ? (char)blk[156] : '0';
	if (blk[124] & 0x80) {
		if (!m->gnu || blk[124] != 0x80)
			return err_set(err, -SPACE_E_FORMAT, "base-256 size outside a GNU header");
		for (i = 125; i < 128; i++)
			if (blk[i])
				return err_set(err, -SPACE_E_FORMAT, "member size out of range");
		m->size = 0;
		for (i = 128; i < 136; i++)
			m->size = m->size << 8 | blk[i];
	} else if (parse_octal(blk + 124, 12, &m->size) < 0) {
		return err_set(err, -SPACE_E_FORMAT, "member size is not octal");
	}
	return 1;
}

void tar_writer_init(struct tar_writer *t, int fd, int64_t mtime)
{
	t->fd = fd;
	t->mtime = mtime;
	t->pos = 0;
}

static int write_all(struct tar_writer *t, const void *buf, size_t len)
{
	int r = fd_write_full(t->fd, buf, len);

	if (r == 0)
		t->pos += len;
	return r;
}

static int pad_block(struct tar_writer *t)
{
	static const unsigned char zeros[TAR_BLOCK];
	size_t pad = (TAR_BLOCK - t->pos % TAR_BLOCK) % TAR_BLOCK;

	return pad ? write_all(t, zeros, pad) : 0;
}

int tar_add_buf(struct tar_writer *t, const char *name, const void *buf, size_t len)
{
	unsigned char h[TAR_BLOCK];
	int r = tar_format_header(h, name, len, t->mtime);

	if (r < 0 || (r = write_all(t, h, sizeof(h))) < 0 || (r = write_all(t, buf, len)) < 0)
		return r;
	return pad_block(t);
}

int tar_add_fd(struct tar_writer *t, const char *name, int src_fd)
{
	const size_t bufsz = 1 << 20;
	unsigned char h[TAR_BLOCK], *buf;
	uint64_t left;
	struct stat st;
	off_t off = 0;
	int r;

	if (fstat(src_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	r = tar_format_header(h, name, (uint64_t)st.st_size, t->mtime);
	if (r < 0 || (r = write_all(t, h, sizeof(h))) < 0)
		return r;
	buf = malloc(bufsz);
	if (!buf)
		return -ENOMEM;
	for (left = (uint64_t)st.st_size; left;) {
		ssize_t n = pread(src_fd, buf, left < bufsz ? left : bufsz, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0) {
			r = -EIO; /* the file shrank under us */
			goto out;
		}
		if ((r = write_all(t, buf, (size_t)n)) < 0)
			goto out;
		off += n;
		left -= (uint64_t)n;
	}
	r = pad_block(t);
out:
	free(buf);
	return r;
}

int tar_finish(struct tar_writer *t)
{
	static const unsigned char zeros[TAR_RECORD];
	size_t pad;
	int r = write_all(t, zeros, 2 * TAR_BLOCK);

	if (r < 0)
		return r;
	pad = (TAR_RECORD - t->pos % TAR_RECORD) % TAR_RECORD;
	return pad ? write_all(t, zeros, pad) : 0;
}
