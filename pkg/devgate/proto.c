/* SPDX-License-Identifier: MIT */
/* proto.c - framing and parsing of the device line protocol (proto.h). */
#include <string.h>

#include "proto.h"

char *dg_space(struct dg_in *in, size_t *room)
{
	*room = sizeof(in->buf) - in->len;
	return in->buf + in->len;
}

void dg_filled(struct dg_in *in, size_t n)
{
	in->len += n;
}

static int valid_name(const char *s, size_t n)
{
	if (n == 0 || n >= DG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* Lines are compared by length, not as C strings: a NUL byte from the
 * network must not end a name early ("HELLO a\0junk" is not "HELLO a"). */
static enum dg_event parse(struct dg_in *in, const char *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	if (!in->greeted) {
		if (n < 6 || memcmp(s, "HELLO ", 6) || !valid_name(s + 6, n - 6))
			return DG_BAD_HELLO;
		memcpy(in->name, s + 6, n - 6);
		in->name[n - 6] = '\0';
		in->greeted = 1;
		return DG_HELLO;
	}
	if (n == 4 && !memcmp(s, "PING", 4))
		return DG_PING;
	if (n == 4 && !memcmp(s, "QUIT", 4))
		return DG_QUIT;
	return DG_OTHER;
}

enum dg_event dg_next(struct dg_in *in)
{
	char *nl = memchr(in->buf, '\n', in->len);
	enum dg_event ev;
	size_t used;

	if (!nl)
		return in->len >= sizeof(in->buf) ? DG_TOO_LONG : DG_MORE;
	ev = parse(in, in->buf, (size_t)(nl - in->buf));
	used = (size_t)(nl - in->buf) + 1;
	in->len -= used;
	memmove(in->buf, in->buf + used, in->len);
	return ev;
}
