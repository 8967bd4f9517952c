/* SPDX-License-Identifier: MIT */
/* stream.h - sequential read-ahead over a file descriptor: a reader thread
 * fills a ring of buffers while the caller hashes the previous ones, so
 * verification runs at the digest's speed rather than digest + read().
 * Works on pipes (no seeking). The caller owns fd. */
#ifndef SPACE_OVA_VERIFY_STREAM_H
#define SPACE_OVA_VERIFY_STREAM_H

#include <stddef.h>
#include <sys/types.h>

struct rstream;

int rs_open(struct rstream **out, int fd);

/* Up to max bytes of the stream, without copying: *p stays valid until
 * the next call. Returns the count, 0 at end of stream, or -errno. */
ssize_t rs_next(struct rstream *rs, size_t max, const unsigned char **p);

/* Exactly n bytes into dst; returns the count copied (short only at end
 * of stream) or -errno. */
ssize_t rs_read(struct rstream *rs, void *dst, size_t n);

void rs_close(struct rstream *rs);

#endif
