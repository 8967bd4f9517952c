/* SPDX-License-Identifier: MIT */
/* strescape.c - one-to-one escaping of outside text for logs and reports. */
#include <string.h>

#include "strescape.h"

static size_t escaped_len(unsigned char c, unsigned flags)
{
	if (c == ' ')
		return flags & STR_ESCAPE_SPACE ? 4 : 1;
	return c > ' ' && c < 0x7f && c != '\\' ? 1 : 4;
}

size_t str_escape(char *dst, size_t dsz, const void *src, size_t n, unsigned flags)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = src;
	size_t need = 0, o = 0, i;

	if (dsz <= sizeof(STR_ESCAPE_CUT))
		return dsz ? (dst[0] = '\0', 0) : 0;
	for (i = 0; i < n; i++)
		need += escaped_len(s[i], flags);
	/* everything fits, or keep room for the cut marker */
	dsz = need < dsz ? dsz : dsz - (sizeof(STR_ESCAPE_CUT) - 1);
	for (i = 0; i < n && o + escaped_len(s[i], flags) < dsz; i++) {
		if (escaped_len(s[i], flags) == 1) {
			dst[o++] = (char)s[i];
			continue;
		}
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hex[s[i] >> 4];
		dst[o++] = hex[s[i] & 15];
	}
	if (i < n) {
		memcpy(dst + o, STR_ESCAPE_CUT, sizeof(STR_ESCAPE_CUT) - 1);
		o += sizeof(STR_ESCAPE_CUT) - 1;
	}
	dst[o] = '\0';
	return i;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool str_printable(const char *s, unsigned flags)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (is_control(*c) || ((flags & STR_PRINTABLE_ASCII) && *c > 0x7e))
			return false;
	return true;
}

const char *str_sanitize(const char *s, char *buf, size_t n)
{
	size_t i = 0;

	for (; *s && i + 1 < n; s++)
		buf[i++] = is_control((unsigned char)*s) ? '?' : *s;
	buf[i] = '\0';
	return buf;
}
