/* SPDX-License-Identifier: MIT */
/* digest_fd.c - digest of a whole fd; see digest_fd.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "digest_fd.h"

int space_digest_fd(int fd, const char *evp_name, unsigned char *md, size_t *mdlen)
{
	return space_digest_fd_count(fd, evp_name, md, mdlen, NULL);
}

int space_digest_fd_count(int fd, const char *evp_name, unsigned char *md, size_t *mdlen,
			  uint64_t *count)
{
	const size_t bufsz = 1 << 18;
	unsigned char *buf = NULL;
	EVP_MD *m = EVP_MD_fetch(NULL, evp_name, NULL);
	EVP_MD_CTX *ctx = NULL;
	unsigned int n = 0;
	bool seekable = true;
	off_t off = 0;
	int r = 0;

	if (!m) {
		r = -EINVAL;
		goto out;
	}
	buf = malloc(bufsz);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx) {
		r = -ENOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, m, NULL) != 1) {
		r = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t k = seekable ? pread(fd, buf, bufsz, off) : read(fd, buf, bufsz);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == ESPIPE && seekable && off == 0) {
			seekable = false;
			continue;
		}
		if (k < 0) {
			r = -errno;
			goto out;
		}
		if (k == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)k) != 1) {
			r = -EIO;
			goto out;
		}
		off += k;
	}
	if (EVP_DigestFinal_ex(ctx, md, &n) != 1) {
		r = -EIO;
		goto out;
	}
	*mdlen = n;
	if (count)
		*count = (uint64_t)off;
out:
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(m);
	free(buf);
	return r;
}
