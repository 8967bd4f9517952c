/* SPDX-License-Identifier: MIT */
/* digest_fd.h - message digest of a whole file descriptor (OpenSSL EVP).
 *
 * Every OpenSSL step is checked: a digest that silently failed would be
 * written into a manifest or compared as if it were real. */
#ifndef SPACE_DIGEST_FD_H
#define SPACE_DIGEST_FD_H

#include <stddef.h>
#include <stdint.h>

/* Digest the whole of fd (from offset 0 with pread, so the file position
 * is left alone; a pipe is read from where it is) with the OpenSSL digest
 * named evp_name ("SHA256", "SHA512", ...). md needs EVP_MAX_MD_SIZE
 * bytes; *mdlen gets the digest length. The caller keeps fd.
 * Returns 0, -EINVAL for an unknown digest name, -ENOMEM, -EIO when an
 * OpenSSL digest step fails, or the read's negative errno. */
int space_digest_fd(int fd, const char *evp_name, unsigned char *md, size_t *mdlen);
/* The same, and *count (may be NULL) gets the number of bytes digested. */
int space_digest_fd_count(int fd, const char *evp_name, unsigned char *md, size_t *mdlen,
			  uint64_t *count);

#endif
