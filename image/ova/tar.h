/* SPDX-License-Identifier: MIT */
/* tar.h - the OVA container: a plain ustar archive writer and a strict
 * header parser for ova-verify.
 *
 * Written members: ustar (magic "ustar\0" "00"), type '0', mode 0644, owner
 * 0:0 with empty user/group names, mtime given by the caller
 * (SOURCE_DATE_EPOCH); a member of 8 GiB or more gets a GNU header with a
 * base-256 size, the form vSphere accepts. Never PAX headers, never long
 * names. The archive ends with two zero blocks, padded to 10240 bytes like
 * GNU tar's default record size.
 */
#ifndef SPACE_OVA_TAR_H
#define SPACE_OVA_TAR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TAR_BLOCK 512u
#define TAR_RECORD 10240u

/* Fill one 512-byte header. name must be plain and < 100 bytes. */
int tar_format_header(unsigned char blk[TAR_BLOCK], const char *name, uint64_t size, int64_t mtime);

struct tar_member {
	char name[101];
	uint64_t size;
	char type; /* typeflag as found ('0' for '\0') */
	int gnu;   /* GNU magic "ustar  \0" (else POSIX ustar) */
};

/* Parse a header block: 1 = member header, 0 = zero block (end marker),
 * -SPACE_E_FORMAT with err saying why on a damaged or unsupported header (bad
 * checksum, bad magic, any of bytes 345..499 - the ustar prefix, GNU
 * atime/ctime/sparse - non-zero, non-octal numbers). */
int tar_parse_header(const unsigned char blk[TAR_BLOCK], struct tar_member *m, struct space_err *err);

/* Streaming writer over a file descriptor. */
struct tar_writer {
	int fd;
	int64_t mtime;
	uint64_t pos;
};

void tar_writer_init(struct tar_writer *t, int fd, int64_t mtime);
/* Add a member from memory. */
int tar_add_buf(struct tar_writer *t, const char *name, const void *buf, size_t len);
/* Add a member copied from the regular file open on src_fd (from offset 0). */
int tar_add_fd(struct tar_writer *t, const char *name, int src_fd);
/* End-of-archive blocks and record padding. */
int tar_finish(struct tar_writer *t);

#endif
