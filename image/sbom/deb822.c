/* SPDX-License-Identifier: MIT */
/* deb822.c - the deb822 control-file syntax (deb822.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deb822.h"
#include "util.h"

struct parser {
	struct deb822 *d;
	struct deb822_para *cur; /* the paragraph being read, NULL between */
	unsigned line;
	struct space_err *err;
};

static int refuse(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct parser *ps, const char *fmt, ...)
{
	char reason[SPACE_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return err_set(ps->err, -SPACE_E_FORMAT, "line %u: %s", ps->line, reason);
}

void deb822_free(struct deb822 *d)
{
	for (size_t i = 0; i < d->n; i++) {
		for (size_t j = 0; j < d->p[i].n; j++) {
			free(d->p[i].f[j].name);
			free(d->p[i].f[j].value);
		}
		free(d->p[i].f);
	}
	free(d->p);
	d->p = NULL;
	d->n = 0;
}

const char *deb822_get(const struct deb822_para *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcasecmp(p->f[i].name, name) == 0)
			return p->f[i].value;
	return NULL;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int new_para(struct parser *ps)
{
	struct deb822 *d = ps->d;
	struct deb822_para *np;

	if (d->n >= DEB822_MAX_PARAS)
		return refuse(ps, "more than %d paragraphs", DEB822_MAX_PARAS);
	np = realloc(d->p, (d->n + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	d->p = np;
	ps->cur = &d->p[d->n++];
	memset(ps->cur, 0, sizeof(*ps->cur));
	ps->cur->line = ps->line;
	return 0;
}

/* "Name: value" (line holds n bytes, no newline). */
static int add_field(struct parser *ps, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n), *v, *end = line + n;
	struct deb822_para *p;
	struct deb822_field *nf;
	size_t namelen;
	int r;

	if (!colon)
		return refuse(ps, "no ':' in a field line");
	namelen = (size_t)(colon - line);
	if (namelen == 0 || namelen > 64)
		return refuse(ps, "field name empty or longer than 64 bytes");
	for (size_t i = 0; i < namelen; i++)
		if (line[i] <= ' ' || line[i] >= 0x7f)
			return refuse(ps, "field name with a blank or control byte");
	if (line[0] == '-')
		return refuse(ps, "field name starts with '-'");
	if (!ps->cur && (r = new_para(ps)) < 0)
		return r;
	p = ps->cur;
	for (size_t i = 0; i < p->n; i++)
		if (strlen(p->f[i].name) == namelen && strncasecmp(p->f[i].name, line, namelen) == 0)
			return refuse(ps, "field %.*s repeated", (int)namelen, line);
	if (p->n >= DEB822_MAX_FIELDS)
		return refuse(ps, "more than %d fields in a paragraph", DEB822_MAX_FIELDS);
	for (v = colon + 1; v < end && is_blank(*v); v++)
		;
	while (end > v && is_blank(end[-1]))
		end--;
	nf = realloc(p->f, (p->n + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	p->f = nf;
	nf[p->n].name = strndup(line, namelen);
	nf[p->n].value = strndup(v, (size_t)(end - v));
	p->n++;
	if (!nf[p->n - 1].name || !nf[p->n - 1].value)
		return -ENOMEM;
	return 0;
}

/* A continuation line: appended to the last field after a '\n'. */
static int add_continuation(struct parser *ps, const char *line, size_t n)
{
	struct deb822_field *f;
	size_t old, add;
	char *nv;

	if (!ps->cur || ps->cur->n == 0)
		return refuse(ps, "continuation line without a field");
	f = &ps->cur->f[ps->cur->n - 1];
	line++, n--; /* the one blank that marks it */
	while (n > 0 && is_blank(line[n - 1]))
		n--;
	if (n == 1 && line[0] == '.')
		n = 0; /* " ." is an empty line */
	old = strlen(f->value);
	add = n + 1;
	nv = realloc(f->value, old + add + 1);
	if (!nv)
		return -ENOMEM;
	nv[old] = '\n';
	memcpy(nv + old + 1, line, n);
	nv[old + add] = '\0';
	f->value = nv;
	return 0;
}

static int parse_line(struct parser *ps, const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < n && is_blank(line[i]); i++)
		;
	if (i == n) { /* blank: the paragraph ends */
		ps->cur = NULL;
		return 0;
	}
	if (line[0] == '#')
		return 0;
	if (is_blank(line[0]))
		return add_continuation(ps, line, n);
	return add_field(ps, line, n);
}

int deb822_parse(const char *buf, size_t len, struct deb822 *d, struct space_err *err)
{
	struct parser ps = { .d = d, .err = err };
	const char *p = buf, *end = buf + len, *nl;
	int r = 0;

	memset(d, 0, sizeof(*d));
	err_clear(err);
	if (len > DEB822_MAX_LEN)
		return refuse(&ps, "larger than %u bytes", DEB822_MAX_LEN);
	if (memchr(buf, '\0', len)) {
		ps.line = 1;
		for (const char *q = buf; *q; q++)
			ps.line += *q == '\n';
		return refuse(&ps, "NUL byte");
	}
	while (p < end && r == 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		ps.line++;
		r = parse_line(&ps, p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (r < 0)
		deb822_free(d);
	return r;
}
