/* SPDX-License-Identifier: MIT */
/* kv.c - KEY=VALUE configuration parser and argv splitter. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kv.h"
#include "util.h"

static int key_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

int kv_parse(const char *text, size_t len, kv_cb cb, void *ctx, int *errline)
{
	size_t i = 0;
	int line = 0, r = 0;
	char *copy = NULL;

	if (memchr(text, '\0', len)) {
		/* Report the line of the NUL so the operator can find it. */
		const char *z = memchr(text, '\0', len);
		int l = 1;
		for (const char *p = text; p < z; p++)
			l += *p == '\n';
		if (errline)
			*errline = l;
		return -SPACE_E_FORMAT;
	}
	while (i < len) {
		const char *ls = text + i, *le, *nl = memchr(ls, '\n', len - i);
		const char *k, *ke, *v, *ve, *eq;

		le = nl ? nl : text + len;
		i = (size_t)(le - text) + (nl ? 1 : 0);
		line++;
		while (ls < le && isspace((unsigned char)*ls))
			ls++;
		while (le > ls && isspace((unsigned char)le[-1]))
			le--;
		if (ls == le || *ls == '#')
			continue;
		eq = memchr(ls, '=', (size_t)(le - ls));
		if (!eq)
			goto bad;
		k = ls, ke = eq;
		while (ke > k && isspace((unsigned char)ke[-1]))
			ke--;
		if (ke == k)
			goto bad;
		for (const char *p = k; p < ke; p++)
			if (!key_char(*p))
				goto bad;
		v = eq + 1, ve = le;
		while (v < ve && isspace((unsigned char)*v))
			v++;
		if (ve - v >= 2 && *v == '"' && ve[-1] == '"')
			v++, ve--;
		copy = malloc((size_t)(ke - k) + (size_t)(ve - v) + 2);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, k, (size_t)(ke - k));
		copy[ke - k] = '\0';
		memcpy(copy + (ke - k) + 1, v, (size_t)(ve - v));
		copy[(ke - k) + 1 + (ve - v)] = '\0';
		r = cb(ctx, copy, copy + (ke - k) + 1, line);
		free(copy);
		copy = NULL;
		if (r < 0) {
			if (errline)
				*errline = line;
			return r;
		}
	}
	return 0;
bad:
	if (errline)
		*errline = line;
	return -SPACE_E_FORMAT;
}

int kv_parse_file(const char *path, size_t max, kv_cb cb, void *ctx, int *errline)
{
	char *text;
	size_t len;
	int r;

	if (errline)
		*errline = 0;
	r = read_file(path, max, &text, &len);
	if (r < 0)
		return r;
	r = kv_parse(text, len, cb, ctx, errline);
	free(text);
	return r;
}

void kv_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

int kv_split_argv(const char *s, char ***argvp)
{
	char **argv = NULL, **na;
	size_t n = 0;
	struct buf w;
	int r = 0;

	*argvp = NULL;
	buf_init(&w);
	for (;;) {
		int in_word = 0;
		char q = 0;

		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		buf_reset(&w);
		buf_put(&w, "", 0);
		while (*s) {
			if (q) {
				if (*s == q) {
					q = 0;
				} else if (q == '"' && *s == '\\' && s[1]) {
					s++;
					buf_put(&w, s, 1);
				} else {
					buf_put(&w, s, 1);
				}
			} else if (isspace((unsigned char)*s)) {
				break;
			} else if (*s == '\'' || *s == '"') {
				q = *s;
			} else if (*s == '\\' && s[1]) {
				s++;
				buf_put(&w, s, 1);
			} else {
				buf_put(&w, s, 1);
			}
			in_word = 1;
			s++;
		}
		if (q) {
			r = -SPACE_E_FORMAT;
			goto fail;
		}
		if (!in_word)
			break;
		if ((r = buf_failed(&w)) < 0)
			goto fail;
		na = realloc(argv, (n + 2) * sizeof(*argv));
		if (!na) {
			r = -ENOMEM;
			goto fail;
		}
		argv = na;
		argv[n++] = w.p;
		argv[n] = NULL;
		buf_init(&w);
	}
	buf_free(&w);
	if (!n)
		return -SPACE_E_FORMAT;
	*argvp = argv;
	return (int)n;
fail:
	buf_free(&w);
	if (argv) {
		argv[n] = NULL;
		kv_argv_free(argv);
	}
	return r;
}

int kv_int(const char *s, long long min, long long max, int units, long long *out)
{
	char *end;
	long long v, mul = 1;

	if (!*s || isspace((unsigned char)*s))
		return -SPACE_E_FORMAT;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s)
		return -SPACE_E_FORMAT;
	if (errno == ERANGE)
		return -ERANGE;
	if (*end && units && !end[1]) {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -SPACE_E_FORMAT;
		}
		end++;
	}
	if (*end)
		return -SPACE_E_FORMAT;
	if (v > max / mul || v < min / mul || v * mul < min || v * mul > max)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int kv_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(s, no[i]))
			return *out = 0, 0;
	}
	return -SPACE_E_FORMAT;
}

int kv_field_next(const char *line, size_t *pos, char **key, char **value)
{
	const char *p = line + *pos, *ks;
	struct buf v;

	*key = *value = NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n')
		return 0;
	ks = p;
	while (key_char(*p))
		p++;
	if (p == ks || *p != '=')
		return -SPACE_E_FORMAT;
	*key = strndup(ks, (size_t)(p - ks));
	if (!*key)
		return -ENOMEM;
	p++;
	buf_init(&v);
	buf_put(&v, "", 0);
	if (*p == '"') {
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			if (*p == '\n')
				break;
			buf_put(&v, p, 1);
			p++;
		}
		if (*p != '"')
			goto bad;
		p++;
	} else {
		const char *vs = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		buf_put(&v, vs, (size_t)(p - vs));
	}
	if (buf_failed(&v))
		goto bad;
	*value = v.p;
	*pos = (size_t)(p - line);
	return 1;
bad:
	buf_free(&v);
	free(*key);
	*key = NULL;
	return -SPACE_E_FORMAT;
}

void kv_quote(struct buf *b, const char *value)
{
	int plain = *value != '\0';

	for (const char *p = value; *p; p++)
		if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\\' || *p == '\n' ||
		    (unsigned char)*p < 0x20)
			plain = 0;
	if (plain) {
		buf_puts(b, value);
		return;
	}
	buf_put(b, "\"", 1);
	for (const char *p = value; *p; p++) {
		/* Newlines and control bytes would break the record framing. */
		if (*p == '\n' || ((unsigned char)*p < 0x20 && *p != '\t'))
			buf_put(b, "?", 1);
		else {
			if (*p == '"' || *p == '\\')
				buf_put(b, "\\", 1);
			buf_put(b, p, 1);
		}
	}
	buf_put(b, "\"", 1);
}

void kv_line(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, "%s = ", key);
	for (const char *p = value; *p; p++)
		buf_printf(b, "%c", (unsigned char)*p < 0x20 || *p == '"' || *p == 0x7f ? '\'' : *p);
	buf_puts(b, "\n");
}
