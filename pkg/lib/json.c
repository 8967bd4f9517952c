/* SPDX-License-Identifier: MIT */
/* json.c - JSON writer and flat-object string reader. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

void jw_init(struct jw *w, struct buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->first[0] = 1;
}

/* Comma before every element but the first of its container; none after a key. */
static void jw_sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (!w->first[w->depth])
		buf_put(w->b, ",", 1);
	w->first[w->depth] = 0;
}

static void jw_open(struct jw *w, char c)
{
	jw_sep(w);
	buf_put(w->b, &c, 1);
	if (w->depth + 1 >= JW_MAX_DEPTH) {
		w->b->err = -E2BIG;
		return;
	}
	w->depth++;
	w->first[w->depth] = 1;
}

static void jw_close(struct jw *w, char c)
{
	buf_put(w->b, &c, 1);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj_begin(struct jw *w) { jw_open(w, '{'); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr_begin(struct jw *w) { jw_open(w, '['); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

/* Length of a valid UTF-8 sequence at s (max n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_put_string(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	buf_put(b, "\"", 1);
	while (i < n) {
		unsigned char c = u[i];
		size_t l;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			buf_put(b, e, 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			i++;
		} else if ((l = utf8_len(u + i, n - i)) == 0) {
			buf_puts(b, "\\ufffd");
			i++;
		} else {
			buf_put(b, u + i, l);
			i += l;
		}
	}
	buf_put(b, "\"", 1);
}

void jw_key(struct jw *w, const char *key)
{
	jw_sep(w);
	json_put_string(w->b, key, strlen(key));
	buf_put(w->b, ":", 1);
	w->after_key = 1;
}

void jw_strn(struct jw *w, const char *s, size_t n)
{
	jw_sep(w);
	json_put_string(w->b, s, n);
}

void jw_str(struct jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_strn(w, s, strlen(s));
}

void jw_int(struct jw *w, long long v)
{
	jw_sep(w);
	buf_printf(w->b, "%lld", v);
}

void jw_bool(struct jw *w, int v)
{
	jw_sep(w);
	buf_puts(w->b, v ? "true" : "false");
}

void jw_null(struct jw *w)
{
	jw_sep(w);
	buf_puts(w->b, "null");
}

void jw_kstr(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_str(w, s);
}
void jw_kint(struct jw *w, const char *key, long long v)
{
	jw_key(w, key);
	jw_int(w, v);
}
void jw_kbool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

/* ---------------------------------------------------------------- reader */

struct jr {
	const char *s;
	size_t n, i;
};

static void jr_ws(struct jr *r)
{
	while (r->i < r->n && (r->s[r->i] == ' ' || r->s[r->i] == '\t' ||
			       r->s[r->i] == '\n' || r->s[r->i] == '\r'))
		r->i++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int jr_hex4(struct jr *r, uint32_t *out)
{
	uint32_t v = 0;
	int k, h;

	if (r->n - r->i < 4)
		return -SPACE_E_FORMAT;
	for (k = 0; k < 4; k++) {
		h = hexval(r->s[r->i + k]);
		if (h < 0)
			return -SPACE_E_FORMAT;
		v = (v << 4) | (uint32_t)h;
	}
	r->i += 4;
	*out = v;
	return 0;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	unsigned char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		o[0] = (unsigned char)(0xf0 | (cp >> 18));
		o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[3] = (unsigned char)(0x80 | (cp & 0x3f)), n = 4;
	}
	buf_put(b, o, n);
}

/* Parse a string at r->i (on the opening quote); decoded into out if non-NULL. */
static int jr_string(struct jr *r, struct buf *out)
{
	r->i++;
	while (r->i < r->n) {
		unsigned char c = (unsigned char)r->s[r->i];
		size_t l;

		if (c == '"') {
			r->i++;
			return out ? buf_failed(out) : 0;
		}
		if (c < 0x20)
			return -SPACE_E_FORMAT;
		if (c == '\\') {
			char e;
			uint32_t cp, lo;

			if (++r->i >= r->n)
				return -SPACE_E_FORMAT;
			e = r->s[r->i++];
			switch (e) {
			case '"':
			case '\\':
			case '/':
				cp = (uint32_t)e;
				break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (jr_hex4(r, &cp) < 0)
					return -SPACE_E_FORMAT;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (r->n - r->i < 2 || r->s[r->i] != '\\' || r->s[r->i + 1] != 'u')
						return -SPACE_E_FORMAT;
					r->i += 2;
					if (jr_hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
						return -SPACE_E_FORMAT;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return -SPACE_E_FORMAT;
				}
				/* A NUL would silently truncate the C string the caller sees. */
				if (cp == 0)
					return -SPACE_E_FORMAT;
				break;
			default:
				return -SPACE_E_FORMAT;
			}
			if (out)
				put_utf8(out, cp);
			continue;
		}
		l = utf8_len((const unsigned char *)r->s + r->i, r->n - r->i);
		if (!l)
			return -SPACE_E_FORMAT;
		if (out)
			buf_put(out, r->s + r->i, l);
		r->i += l;
	}
	return -SPACE_E_FORMAT;
}

static int jr_literal(struct jr *r, const char *lit)
{
	size_t l = strlen(lit);

	if (r->n - r->i < l || memcmp(r->s + r->i, lit, l))
		return -SPACE_E_FORMAT;
	r->i += l;
	return 0;
}

static int jr_number(struct jr *r)
{
	size_t start = r->i, digits = 0;

	if (r->i < r->n && r->s[r->i] == '-')
		r->i++;
	if (r->i < r->n && r->s[r->i] == '0') {
		r->i++, digits = 1;
	} else {
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++, digits++;
	}
	if (!digits)
		return -SPACE_E_FORMAT;
	if (r->i < r->n && r->s[r->i] == '.') {
		r->i++, digits = 0;
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++, digits++;
		if (!digits)
			return -SPACE_E_FORMAT;
	}
	if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
		r->i++, digits = 0;
		if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-'))
			r->i++;
		while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9')
			r->i++, digits++;
		if (!digits)
			return -SPACE_E_FORMAT;
	}
	return r->i > start ? 0 : -SPACE_E_FORMAT;
}

static int jr_value(struct jr *r, int depth);

static int jr_container(struct jr *r, int depth, char close, int is_obj)
{
	int r2;

	if (depth >= JW_MAX_DEPTH)
		return -SPACE_E_FORMAT;
	r->i++;
	jr_ws(r);
	if (r->i < r->n && r->s[r->i] == close) {
		r->i++;
		return 0;
	}
	for (;;) {
		jr_ws(r);
		if (is_obj) {
			if (r->i >= r->n || r->s[r->i] != '"')
				return -SPACE_E_FORMAT;
			if ((r2 = jr_string(r, NULL)) < 0)
				return r2;
			jr_ws(r);
			if (r->i >= r->n || r->s[r->i] != ':')
				return -SPACE_E_FORMAT;
			r->i++;
		}
		if ((r2 = jr_value(r, depth + 1)) < 0)
			return r2;
		jr_ws(r);
		if (r->i >= r->n)
			return -SPACE_E_FORMAT;
		if (r->s[r->i] == ',') {
			r->i++;
			continue;
		}
		if (r->s[r->i] == close) {
			r->i++;
			return 0;
		}
		return -SPACE_E_FORMAT;
	}
}

static int jr_value(struct jr *r, int depth)
{
	jr_ws(r);
	if (r->i >= r->n)
		return -SPACE_E_FORMAT;
	switch (r->s[r->i]) {
	case '{': return jr_container(r, depth, '}', 1);
	case '[': return jr_container(r, depth, ']', 0);
	case '"': return jr_string(r, NULL);
	case 't': return jr_literal(r, "true");
	case 'f': return jr_literal(r, "false");
	case 'n': return jr_literal(r, "null");
	default: return jr_number(r);
	}
}

/* Validate text as one JSON object and leave r at the value of its first
 * member named key. Returns 0, -SPACE_E_FORMAT or -ENOENT. */
static int json_member(const char *text, size_t len, const char *key, struct jr *r)
{
	struct buf k;
	int rc;

	*r = (struct jr){ text, len, 0 };
	jr_ws(r);
	/* Validate the whole document first so a bad tail is never half-accepted. */
	if (r->i >= r->n || r->s[r->i] != '{' || jr_value(r, 0) < 0)
		return -SPACE_E_FORMAT;
	jr_ws(r);
	if (r->i != r->n)
		return -SPACE_E_FORMAT;
	buf_init(&k);
	r->i = 0;
	jr_ws(r);
	r->i++;
	for (;;) {
		jr_ws(r);
		if (r->s[r->i] == '}') {
			rc = -ENOENT;
			break;
		}
		buf_reset(&k);
		if ((rc = jr_string(r, &k)) < 0)
			break;
		jr_ws(r);
		r->i++; /* ':' */
		jr_ws(r);
		if (k.len == strlen(key) && !memcmp(k.p, key, k.len)) {
			rc = 0;
			break;
		}
		if ((rc = jr_value(r, 1)) < 0)
			break;
		jr_ws(r);
		if (r->s[r->i] == ',')
			r->i++;
	}
	buf_free(&k);
	return rc;
}

int json_get_string(const char *text, size_t len, const char *key, char **out)
{
	struct jr r;
	struct buf v;
	int rc;

	*out = NULL;
	if ((rc = json_member(text, len, key, &r)) < 0)
		return rc;
	if (r.s[r.i] != '"')
		return -EINVAL;
	buf_init(&v);
	buf_put(&v, "", 0);
	if ((rc = jr_string(&r, &v)) < 0) {
		if (v.p && v.len)
			explicit_bzero(v.p, v.len);
		buf_free(&v);
		return rc;
	}
	*out = v.p;
	return 0;
}

int json_get_bool(const char *text, size_t len, const char *key, int *out)
{
	struct jr r;
	int rc = json_member(text, len, key, &r);

	if (rc < 0)
		return rc;
	if (jr_literal(&r, "true") == 0)
		*out = 1;
	else if (jr_literal(&r, "false") == 0)
		*out = 0;
	else
		return -EINVAL;
	return 0;
}
