/* SPDX-License-Identifier: MIT */
/* buf.h - a growable byte buffer (binary safe) used by the JSON writer, the
 * HTTP response builder and the control-socket protocol.
 *
 * Ownership: the buffer owns p; buf_free() releases it. After an allocation
 * failure err is set and further appends are ignored, so callers check once
 * at the end (buf_failed()) instead of after every append.
 */
#ifndef MGMT_BUF_H
#define MGMT_BUF_H

#include <stddef.h>

struct buf {
	char *p; /* NUL-terminated when non-NULL (not counted in len) */
	size_t len;
	size_t cap;
	int err; /* -ENOMEM after a failed growth */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_put(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (consumed input). */
void buf_consume(struct buf *b, size_t n);
static inline int buf_failed(const struct buf *b) { return b->err; }

#endif
