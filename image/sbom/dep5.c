/* SPDX-License-Identifier: MIT */
/* dep5.c - DEP-5 copyright files and SPDX license expressions (dep5.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dep5.h"
#include "util.h"

/* Debian's short names (copyright-format 1.0, "License specification")
 * and the common ones of the archive, to SPDX identifiers. */
static const struct {
	const char *deb, *spdx;
} license_map[] = {
	{ "AGPL-3", "AGPL-3.0-only" },
	{ "AGPL-3+", "AGPL-3.0-or-later" },
	{ "Apache-2", "Apache-2.0" },
	{ "Apache-2.0", "Apache-2.0" },
	{ "Artistic", "Artistic-1.0-Perl" },
	{ "Artistic-2.0", "Artistic-2.0" },
	{ "BSD-2-clause", "BSD-2-Clause" },
	{ "BSD-3-clause", "BSD-3-Clause" },
	{ "BSD-4-clause", "BSD-4-Clause" },
	{ "BSL-1.0", "BSL-1.0" },
	{ "CC0", "CC0-1.0" },
	{ "CC0-1.0", "CC0-1.0" },
	{ "Expat", "MIT" },
	{ "GFDL-1.2", "GFDL-1.2-only" },
	{ "GFDL-1.2+", "GFDL-1.2-or-later" },
	{ "GFDL-1.3", "GFDL-1.3-only" },
	{ "GFDL-1.3+", "GFDL-1.3-or-later" },
	{ "GPL-1", "GPL-1.0-only" },
	{ "GPL-1+", "GPL-1.0-or-later" },
	{ "GPL-2", "GPL-2.0-only" },
	{ "GPL-2+", "GPL-2.0-or-later" },
	{ "GPL-3", "GPL-3.0-only" },
	{ "GPL-3+", "GPL-3.0-or-later" },
	{ "ICU", "ICU" },
	{ "ISC", "ISC" },
	{ "LGPL-2", "LGPL-2.0-only" },
	{ "LGPL-2+", "LGPL-2.0-or-later" },
	{ "LGPL-2.1", "LGPL-2.1-only" },
	{ "LGPL-2.1+", "LGPL-2.1-or-later" },
	{ "LGPL-3", "LGPL-3.0-only" },
	{ "LGPL-3+", "LGPL-3.0-or-later" },
	{ "MIT", "MIT" },
	{ "MPL-1.1", "MPL-1.1" },
	{ "MPL-2.0", "MPL-2.0" },
	{ "OpenSSL", "OpenSSL" },
	{ "Unlicense", "Unlicense" },
	{ "WTFPL", "WTFPL" },
	{ "WTFPL-2", "WTFPL" },
	{ "X11", "X11" },
	{ "Zlib", "Zlib" },
	{ "0BSD", "0BSD" },
	{ "bzip2-1.0.6", "bzip2-1.0.6" },
};

/* "with X exception": the SPDX exceptions that are unambiguous. */
static const struct {
	const char *deb, *spdx;
} exception_map[] = {
	{ "Bison", "Bison-exception-2.2" },
	{ "Classpath", "Classpath-exception-2.0" },
	{ "Linux-syscall-note", "Linux-syscall-note" },
};

static const char *map_name(const char *name)
{
	for (size_t i = 0; i < sizeof(license_map) / sizeof(license_map[0]); i++)
		if (strcasecmp(license_map[i].deb, name) == 0)
			return license_map[i].spdx;
	return NULL;
}

static const char *map_exception(const char *name)
{
	for (size_t i = 0; i < sizeof(exception_map) / sizeof(exception_map[0]); i++)
		if (strcasecmp(exception_map[i].deb, name) == 0)
			return exception_map[i].spdx;
	return NULL;
}

/* Drop what out holds from len on (it stays NUL-terminated). */
static void buf_truncate(struct buf *out, size_t len)
{
	if (out->p && len <= out->len) {
		out->len = len;
		out->p[len] = '\0';
	}
}

void dep5_put_idchars(struct buf *out, const char *s)
{
	for (; *s; s++) {
		char c = *s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '-')
			buf_put(out, &c, 1);
		else
			buf_puts(out, c == '+' ? "plus" : "-");
	}
}

int dep5_ref_id(const char *scope, const char *name, struct buf *out)
{
	buf_puts(out, "LicenseRef-");
	dep5_put_idchars(out, scope);
	buf_puts(out, "-");
	dep5_put_idchars(out, name);
	return buf_failed(out);
}

static int put_ref(const char *scope, const char *name, struct buf *out, dep5_ref_fn fn, void *ctx)
{
	struct buf id;
	int r;

	buf_init(&id);
	r = dep5_ref_id(scope, name, &id);
	if (r == 0)
		r = fn ? fn(id.p, name, ctx) : 0;
	if (r == 0)
		r = buf_puts(out, id.p);
	buf_free(&id);
	return r;
}

/* One term: words[0..n) without operators, "NAME" or "NAME with X
 * exception"; anything else is one name of several words. */
static int put_term(char **w, size_t n, const char *scope, struct buf *out, dep5_ref_fn fn, void *ctx)
{
	const char *spdx = n == 1 ? map_name(w[0]) : NULL, *exc = NULL;
	struct buf name;
	int r;

	if (spdx)
		return buf_puts(out, spdx);
	if (n >= 4 && strcasecmp(w[1], "with") == 0 && strcasecmp(w[n - 1], "exception") == 0 && n == 4) {
		spdx = map_name(w[0]);
		exc = map_exception(w[2]);
		if (spdx && exc)
			return buf_printf(out, "%s WITH %s", spdx, exc);
	}
	buf_init(&name);
	for (size_t i = 0; i < n; i++)
		buf_printf(&name, "%s%s", i ? " " : "", w[i]);
	r = buf_failed(&name) ? -ENOMEM : put_ref(scope, name.p, out, fn, ctx);
	buf_free(&name);
	return r;
}

static int is_op(const char *w)
{
	return strcasecmp(w, "or") == 0 || strcasecmp(w, "and") == 0;
}

/* Wrap what out holds from start on in parentheses (a comma in DEP-5
 * groups what comes before it). */
static int parenthesize(struct buf *out, size_t start)
{
	size_t n = out->len - start;
	char *copy = malloc(n + 1);

	if (!copy)
		return -ENOMEM;
	memcpy(copy, out->p + start, n);
	buf_truncate(out, start);
	buf_printf(out, "(%.*s)", (int)n, copy);
	free(copy);
	return buf_failed(out);
}

static int split_words(char *s, char **w, size_t *n, int *comma)
{
	char *save = NULL;

	*n = 0;
	for (char *t = strtok_r(s, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		size_t len = strlen(t);
		if (*n >= DEP5_WORDS_MAX)
			return -SPACE_E_FORMAT;
		comma[*n] = len > 0 && t[len - 1] == ',';
		if (comma[*n])
			t[len - 1] = '\0';
		if (!*t)
			return -SPACE_E_FORMAT;
		w[(*n)++] = t;
	}
	return 0;
}

/* A comma must end a term and come before an operator. */
static int commas_ok(char **w, const int *comma, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (comma[j] && (j + 1 >= n || is_op(w[j]) || !is_op(w[j + 1])))
			return 0;
	return 1;
}

int dep5_to_spdx(const char *synopsis, const char *scope, struct buf *out, dep5_ref_fn fn, void *ctx)
{
	char *w[DEP5_WORDS_MAX], *copy;
	int comma[DEP5_WORDS_MAX];
	size_t n = 0, start = out->len, term = 0;
	int r, ops = 0;

	if (strlen(synopsis) > DEP5_SYNOPSIS_MAX)
		return -SPACE_E_FORMAT;
	if (!(copy = strdup(synopsis)))
		return -ENOMEM;
	r = split_words(copy, w, &n, comma);
	if (r == 0 && (n == 0 || !commas_ok(w, comma, n)))
		r = -SPACE_E_FORMAT;
	for (size_t i = 0; r == 0 && i <= n; i++) {
		if (i < n && !is_op(w[i]))
			continue;
		if (i == term) {
			r = -SPACE_E_FORMAT; /* an operator without a term */
			break;
		}
		r = put_term(w + term, i - term, scope, out, fn, ctx);
		if (r == 0 && i < n) {
			if (comma[i - 1] && ops)
				r = parenthesize(out, start);
			buf_printf(out, " %s ", strcasecmp(w[i], "or") == 0 ? "OR" : "AND");
			ops++;
		}
		term = i + 1;
	}
	free(copy);
	if (r == 0)
		r = buf_failed(out);
	if (r < 0)
		buf_truncate(out, start);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The License synopsis (first line) of paragraph p, malloc'd; NULL when
 * there is none or it is empty. */
static char *synopsis_of(const struct deb822_para *p)
{
	const char *v = deb822_get(p, "License");
	size_t n;

	if (!v)
		return NULL;
	n = strcspn(v, "\n");
	return n ? strndup(v, n) : NULL;
}

static int add_synopsis(struct dep5 *c, char *s)
{
	char **ns;

	for (size_t i = 0; i < c->n_synopses; i++)
		if (strcasecmp(c->synopses[i], s) == 0) {
			free(s);
			return 0;
		}
	ns = realloc(c->synopses, (c->n_synopses + 1) * sizeof(*ns));
	if (!ns) {
		free(s);
		return -ENOMEM;
	}
	c->synopses = ns;
	ns[c->n_synopses++] = s;
	return 0;
}

static int collect_synopses(struct dep5 *c)
{
	int r = 0;

	for (size_t i = 1; i < c->d.n && r == 0; i++) {
		char *s;
		if (!deb822_get(&c->d.p[i], "Files"))
			continue;
		if ((s = synopsis_of(&c->d.p[i])))
			r = add_synopsis(c, s);
		else if (!deb822_get(&c->d.p[i], "License"))
			r = -ENOENT;
	}
	if (r == -ENOENT) {
		snprintf(c->why, sizeof(c->why), "a Files paragraph without a License field");
		c->machine_readable = 0;
		return 0;
	}
	if (c->n_synopses > 1)
		qsort(c->synopses, c->n_synopses, sizeof(char *), cmp_str);
	return r;
}

int dep5_parse(const char *buf, size_t len, struct dep5 *c)
{
	struct space_err err = { "" };
	const char *fmt;
	int r;

	memset(c, 0, sizeof(*c));
	/* a free-text file: say that, not where its text breaks the syntax */
	if (len < 7 || strncasecmp(buf, "Format:", 7) != 0) {
		snprintf(c->why, sizeof(c->why), "it does not start with a Format field");
		return 0;
	}
	r = deb822_parse(buf, len, &c->d, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(c->why, sizeof(c->why), "%.199s", err.msg);
		return 0;
	}
	fmt = c->d.n ? deb822_get(&c->d.p[0], "Format") : NULL;
	if (!fmt || !(strstr(fmt, "copyright-format/1.0") || strstr(fmt, "dep5"))) {
		snprintf(c->why, sizeof(c->why), "its Format field does not name the copyright format");
		return 0;
	}
	c->machine_readable = 1;
	return collect_synopses(c);
}

void dep5_free(struct dep5 *c)
{
	for (size_t i = 0; i < c->n_synopses; i++)
		free(c->synopses[i]);
	free(c->synopses);
	deb822_free(&c->d);
	memset(c, 0, sizeof(*c));
}

/* The text after the synopsis line of p's License field, if it is the
 * license called name. */
static const char *text_of(const struct deb822_para *p, const char *name)
{
	const char *v = deb822_get(p, "License"), *nl;
	size_t n = strlen(name);

	if (!v || strncasecmp(v, name, n) != 0 || (v[n] != '\n' && v[n] != '\0'))
		return NULL;
	nl = strchr(v, '\n');
	return nl && nl[1] ? nl + 1 : NULL;
}

const char *dep5_license_text(const struct dep5 *c, const char *name)
{
	const char *t;

	/* a standalone License paragraph first: it is where the text lives */
	for (size_t i = 1; i < c->d.n; i++)
		if (!deb822_get(&c->d.p[i], "Files") && (t = text_of(&c->d.p[i], name)))
			return t;
	for (size_t i = 1; i < c->d.n; i++)
		if ((t = text_of(&c->d.p[i], name)))
			return t;
	return NULL;
}

struct strs {
	char **s;
	size_t n;
};

static int strs_add(struct strs *l, const char *s, size_t n)
{
	char **ns = realloc(l->s, (l->n + 1) * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	l->s = ns;
	return (ns[l->n] = strndup(s, n)) ? (l->n++, 0) : -ENOMEM;
}

/* The terms of the file's license: each synopsis's expression, cut at its
 * ANDs when it has no OR (so that "MIT and BSD-3-clause" and "Expat" give
 * MIT once), an OR in parentheses. */
static int synopsis_terms(const struct dep5 *c, const char *scope, struct strs *l, dep5_ref_fn fn, void *ctx)
{
	struct buf b;
	int r = 0;

	buf_init(&b);
	for (size_t i = 0; i < c->n_synopses && r == 0; i++) {
		buf_reset(&b);
		r = dep5_to_spdx(c->synopses[i], scope, &b, fn, ctx);
		if (r == 0 && strstr(b.p, " OR ")) {
			r = c->n_synopses > 1 ? parenthesize(&b, 0) : 0;
			r = r ? r : strs_add(l, b.p, b.len);
			continue;
		}
		for (const char *t = b.p, *e; r == 0 && t; t = e ? e + 5 : NULL) {
			e = strstr(t, " AND ");
			r = strs_add(l, t, e ? (size_t)(e - t) : strlen(t));
		}
	}
	buf_free(&b);
	if (l->n > 1)
		qsort(l->s, l->n, sizeof(char *), cmp_str);
	return r;
}

int dep5_file_spdx(const struct dep5 *c, const char *scope, struct buf *out, dep5_ref_fn fn, void *ctx)
{
	struct strs l = { NULL, 0 };
	size_t start = out->len;
	int r;

	if (!c->machine_readable || c->n_synopses == 0)
		return buf_puts(out, "NOASSERTION");
	r = synopsis_terms(c, scope, &l, fn, ctx);
	for (size_t i = 0; i < l.n && r == 0; i++)
		if (i == 0 || strcmp(l.s[i], l.s[i - 1]) != 0)
			buf_printf(out, "%s%s", out->len > start ? " AND " : "", l.s[i]);
	for (size_t i = 0; i < l.n; i++)
		free(l.s[i]);
	free(l.s);
	if (r == 0)
		r = buf_failed(out);
	if (r < 0)
		buf_truncate(out, start);
	/* a synopsis that is no expression: the file says nothing usable */
	if (r < 0 && r != -ENOMEM)
		r = buf_puts(out, "NOASSERTION");
	return r;
}
