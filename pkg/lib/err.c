/* SPDX-License-Identifier: MIT */
/* err.c - reasons passed back with error codes (err.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "util.h"

int err_set(struct space_err *err, int r, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return r;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return r;
}

/* Append s to the msg being built at *pos, cut at the buffer's end. */
static void put(char *msg, size_t *pos, const char *s)
{
	size_t n = strlen(s), room = SPACE_ERR_MAX - 1 - *pos;

	if (n > room)
		n = room;
	memcpy(msg + *pos, s, n);
	*pos += n;
	msg[*pos] = '\0';
}

int err_prefix(struct space_err *err, int r, const char *fmt, ...)
{
	char ctx[SPACE_ERR_MAX], old[SPACE_ERR_MAX];
	size_t pos;
	va_list ap;

	if (!err)
		return r;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	/* The lower level's reason may contain the context's own words (a
	 * path), so it is copied aside before the buffer is rewritten. */
	snprintf(old, sizeof(old), "%s", err->msg[0] ? err->msg : space_strerror(r));
	pos = 0;
	put(err->msg, &pos, ctx);
	put(err->msg, &pos, ": ");
	put(err->msg, &pos, old);
	return r;
}

const char *err_msg(const struct space_err *err, int r)
{
	if (err && err->msg[0])
		return err->msg;
	return space_strerror(r);
}
