/* SPDX-License-Identifier: MIT */
/* meta.c - the .PKGINFO metadata format: parser, validator and writer
 * (pkg/FORMAT.md). The parser is strict: it is the first thing that sees
 * an untrusted package. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "libpkg.h"
#include "internal.h"

void pkg_meta_free(struct pkg_meta *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->version);
	free(m->release);
	free(m->arch);
	free(m->summary);
	free(m->previous);
	free(m->app);
	free(m->platform_min);
	free(m->platform_max);
	for (size_t i = 0; i < m->n_depends; i++)
		free(m->depends[i]);
	free(m->depends);
	for (size_t i = 0; i < m->n_entries; i++) {
		free(m->entries[i].path);
		free(m->entries[i].target);
	}
	free(m->entries);
	memset(m, 0, sizeof(*m));
}

/* A version may also carry a Debian epoch ("1:1.35.0-4+b3"). */
bool pkg_version_ok(const char *s)
{
	char buf[129];
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n + 1);
	for (char *p = buf; *p; p++)
		if (*p == ':' && p > buf && p[1])
			*p = '.';
	return pkg_token_ok(buf);
}

bool pkg_token_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
		return false;
	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("+.~_-", *s))
			continue;
		return false;
	}
	return true;
}

bool pkg_path_in_db(const char *path)
{
	size_t n = sizeof(PKG_DB_DIR) - 1;

	return strncmp(path, PKG_DB_DIR, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

const char *pkg_path_reason(const char *path, int r)
{
	if (r == -SPACE_E_UNSAFE_PATH && pkg_path_in_db(path))
		return "inside the package database (" PKG_DB_DIR ")";
	return r == -SPACE_E_UNSAFE_PATH ? "absolute path or '..' component" : "invalid path";
}

int pkg_path_check(const char *path)
{
	const char *c = path;
	size_t n = strlen(path);

	if (n == 0 || n >= PATH_MAX)
		return -SPACE_E_FORMAT;
	if (!str_printable(path, 0))
		return -SPACE_E_FORMAT;
	if (path[0] == '/')
		return -SPACE_E_UNSAFE_PATH;
	if (strcmp(path, PKG_META_NAME) == 0)
		return -SPACE_E_FORMAT;
	for (;;) {
		const char *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);

		if (len == 2 && c[0] == '.' && c[1] == '.')
			return -SPACE_E_UNSAFE_PATH;
		if (len == 0 || (len == 1 && c[0] == '.'))
			return -SPACE_E_FORMAT;
		/* Room for the temporary-name prefix used during install. */
		if (len > NAME_MAX - PKG_TMP_PREFIX_LEN - 4)
			return -SPACE_E_FORMAT;
		if (strncmp(c, PKG_TMP_PREFIX, PKG_TMP_PREFIX_LEN) == 0 ||
		    strncmp(c, PKG_NEW_PREFIX, PKG_TMP_PREFIX_LEN) == 0)
			return -SPACE_E_FORMAT;
		if (!e)
			break;
		c = e + 1;
	}
	/* A package that writes the database could rewrite another
	 * package's record (and so hide a changed file from verify). */
	return pkg_path_in_db(path) ? -SPACE_E_UNSAFE_PATH : 0;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct pkg_entry *)a)->path, ((const struct pkg_entry *)b)->path);
}

struct pkg_entry *pkg_meta_find(const struct pkg_meta *m, const char *path)
{
	struct pkg_entry key = { .path = (char *)path };

	if (!m->n_entries)
		return NULL;
	return bsearch(&key, m->entries, m->n_entries, sizeof(key), cmp_entry);
}

static bool short_token(const char *s, size_t max)
{
	return pkg_token_ok(s) && strlen(s) <= max;
}

/* The application fields: syntax only. Whether the versions follow the
 * release grammar is for the consumer (pkg/libmgmt/apps.c, pkg build):
 * libpkg does not know the release version order. */
static int app_validate(const struct pkg_meta *m, struct space_err *err)
{
	if (m->app && !short_token(m->app, PKG_APP_NAME_MAX))
		return err_set(err, -SPACE_E_FORMAT, "invalid app name");
	if (!m->platform_min != !m->platform_max)
		return err_set(err, -SPACE_E_FORMAT, "platform needs a minimum and a maximum (or -)");
	if (!m->platform_min)
		return 0;
	if (!m->app)
		return err_set(err, -SPACE_E_FORMAT, "platform without app");
	if (!short_token(m->platform_min, PKG_PLATFORM_MAX) ||
	    (strcmp(m->platform_max, "-") && !short_token(m->platform_max, PKG_PLATFORM_MAX)))
		return err_set(err, -SPACE_E_FORMAT, "invalid platform range");
	return 0;
}

/* Checks shared by the parser and the builder; entries already sorted. */
static int meta_validate(const struct pkg_meta *m, struct space_err *err)
{
	int ar;

	if (!pkg_token_ok(m->name))
		return err_set(err, -SPACE_E_FORMAT, "missing or invalid name");
	if (!pkg_version_ok(m->version))
		return err_set(err, -SPACE_E_FORMAT, "missing or invalid version");
	if (!pkg_token_ok(m->release))
		return err_set(err, -SPACE_E_FORMAT, "missing or invalid release");
	if (!pkg_token_ok(m->arch))
		return err_set(err, -SPACE_E_FORMAT, "missing or invalid arch");
	for (size_t i = 0; i < m->n_depends; i++)
		if (!pkg_token_ok(m->depends[i]))
			return err_set(err, -SPACE_E_FORMAT, "invalid dependency name");
	if ((ar = app_validate(m, err)) < 0)
		return ar;
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct pkg_entry *e = &m->entries[i];
		int r = pkg_path_check(e->path);

		if (r < 0)
			return err_set(err, r, "%s: %s", e->path, pkg_path_reason(e->path, r));
		if (i > 0 && strcmp(m->entries[i - 1].path, e->path) == 0)
			return err_set(err, -SPACE_E_FORMAT, "%s: duplicate entry", e->path);
		if ((e->type == PKG_CHR || e->type == PKG_BLK) && !m->base_files)
			return err_set(err, -SPACE_E_FORMAT,
				       "%s: device file in a package that is not base-files", e->path);
		if (e->type == PKG_SYMLINK && (!e->target || !*e->target || !str_printable(e->target, 0) ||
					       strlen(e->target) >= PATH_MAX))
			return err_set(err, -SPACE_E_FORMAT, "%s: invalid symlink target", e->path);
		if (e->config && e->type != PKG_FILE)
			return err_set(err, -SPACE_E_FORMAT, "%s: only files can be config", e->path);
		if (e->mode & ~07777u)
			return err_set(err, -SPACE_E_FORMAT, "%s: invalid mode", e->path);
		/* A path below a symlink (or any non-directory) of the same
		 * package would be resolved through it after install. */
		for (const char *s = strchr(e->path, '/'); s; s = strchr(s + 1, '/')) {
			char prefix[PATH_MAX];
			struct pkg_entry *p;

			memcpy(prefix, e->path, (size_t)(s - e->path));
			prefix[s - e->path] = '\0';
			p = pkg_meta_find(m, prefix);
			if (p && p->type != PKG_DIR)
				return err_set(err, -SPACE_E_UNSAFE_PATH,
					       "%s: path goes through non-directory entry %s",
					       e->path, p->path);
		}
	}
	return 0;
}

int pkg_meta_finish(struct pkg_meta *m, struct space_err *err)
{
	if (m->n_entries)
		qsort(m->entries, m->n_entries, sizeof(*m->entries), cmp_entry);
	return meta_validate(m, err);
}

/* %XX-decode a path or target token in place. */
static int unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r;
			continue;
		}
		unsigned v = 0;
		for (int k = 1; k <= 2; k++) {
			char c = r[k];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else if (c >= 'A' && c <= 'F')
				v |= (unsigned)(c - 'A' + 10);
			else
				return -SPACE_E_FORMAT;
		}
		if (v == 0)
			return -SPACE_E_FORMAT;
		*w++ = (char)v;
		r += 2;
	}
	*w = '\0';
	return 0;
}

static int parse_u64(const char *s, int base, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -SPACE_E_FORMAT;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end || v > max)
		return -SPACE_E_FORMAT;
	*out = v;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	if (*dst)
		return -SPACE_E_FORMAT; /* repeated key */
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

static const struct {
	const char *word;
	char type;
	int nfields; /* after the keyword */
} entry_kinds[] = {
	{ "file", PKG_FILE, 6 },
	{ "dir", PKG_DIR, 4 },
	{ "symlink", PKG_SYMLINK, 5 },
	{ "chardev", PKG_CHR, 6 },
	{ "blockdev", PKG_BLK, 6 },
	{ "fifo", PKG_FIFO, 4 },
};

static const char *kind_word(char type)
{
	for (size_t i = 0; i < sizeof(entry_kinds) / sizeof(entry_kinds[0]); i++)
		if (entry_kinds[i].type == type)
			return entry_kinds[i].word;
	return NULL;
}

static int parse_entry(struct pkg_meta *m, size_t *cap, char type, char **f, int nf, int want)
{
	struct pkg_entry e = { .type = type };
	uint64_t v;
	int r = -SPACE_E_FORMAT;

	if (nf != want && !(type == PKG_FILE && nf == want + 1))
		return -SPACE_E_FORMAT;
	if (unescape(f[0]) < 0)
		return -SPACE_E_FORMAT;
	if (strlen(f[1]) != 4 || parse_u64(f[1], 8, 07777, &v) < 0)
		return -SPACE_E_FORMAT;
	e.mode = (mode_t)v;
	if (parse_u64(f[2], 10, UINT32_MAX - 1, &v) < 0)
		return -SPACE_E_FORMAT;
	e.uid = (uid_t)v;
	if (parse_u64(f[3], 10, UINT32_MAX - 1, &v) < 0)
		return -SPACE_E_FORMAT;
	e.gid = (gid_t)v;
	switch (type) {
	case PKG_FILE:
		if (parse_u64(f[4], 10, INT64_MAX, &e.size) < 0 || strlen(f[5]) != 64 ||
		    strspn(f[5], "0123456789abcdef") != 64)
			return -SPACE_E_FORMAT;
		memcpy(e.sha256, f[5], 65);
		if (nf == want + 1) {
			if (strcmp(f[6], "config") != 0)
				return -SPACE_E_FORMAT;
			e.config = true;
		}
		break;
	case PKG_SYMLINK:
		if (unescape(f[4]) < 0)
			return -SPACE_E_FORMAT;
		break;
	case PKG_CHR:
	case PKG_BLK:
		if (parse_u64(f[4], 10, 4095, &v) < 0)
			return -SPACE_E_FORMAT;
		e.major = (unsigned)v;
		if (parse_u64(f[5], 10, 1048575, &v) < 0)
			return -SPACE_E_FORMAT;
		e.minor = (unsigned)v;
		break;
	}
	if (m->n_entries == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		void *p = realloc(m->entries, ncap * sizeof(*m->entries));
		if (!p)
			return -ENOMEM;
		m->entries = p;
		*cap = ncap;
	}
	e.path = strdup(f[0]);
	if (type == PKG_SYMLINK)
		e.target = strdup(f[4]);
	if (!e.path || (type == PKG_SYMLINK && !e.target)) {
		r = -ENOMEM;
		free(e.path);
		free(e.target);
		return r;
	}
	m->entries[m->n_entries++] = e;
	return 0;
}

/* The state of one pkg_meta_parse() run. */
struct meta_parser {
	struct pkg_meta *m;
	struct space_err *err;
	size_t cap, lineno;
	int flags;
	bool have_base;
};

/* A line whose value is wrong: "invalid 'KEY' line" (out of memory is
 * passed on as is). */
static int line_error(struct meta_parser *p, int r, const char *key)
{
	if (r >= 0 || r == -ENOMEM)
		return r;
	return err_set(p->err, r, "line %zu: invalid '%s' line", p->lineno, key);
}

/* Split single-space separated tokens into f[8]: their number, or 99 for
 * too many or an empty token. */
static int split_fields(char *t, char *f[8])
{
	int nf = 0;

	for (;;) {
		char *e = strchr(t, ' ');

		if (nf == 8 || !*t)
			return 99;
		f[nf++] = t;
		if (!e)
			return nf;
		*e = '\0';
		t = e + 1;
	}
}

/* An entry line (file, dir, ...): a safe path, after the previous one. */
static int entry_line(struct meta_parser *p, const char *key, char type, char **f, int nf, int want)
{
	struct pkg_meta *m = p->m;
	const char *path;
	int r = parse_entry(m, &p->cap, type, f, nf, want);
	int pr, c;

	if (r < 0)
		return line_error(p, r, key);
	path = m->entries[m->n_entries - 1].path;
	pr = pkg_path_check(path);
	if (pr < 0) {
		char pbuf[256];

		return err_set(p->err, pr, "line %zu: %s: %s", p->lineno,
			       str_sanitize(path, pbuf, sizeof(pbuf)), pkg_path_reason(path, pr));
	}
	if (m->n_entries < 2)
		return 0;
	c = strcmp(m->entries[m->n_entries - 2].path, path);
	if (c == 0)
		return err_set(p->err, -SPACE_E_FORMAT, "%s: duplicate entry", path);
	if (c > 0)
		return err_set(p->err, -SPACE_E_FORMAT, "line %zu: entries not sorted by path", p->lineno);
	return 0;
}

/* A header line (name, version, platform, depend, ...); -SPACE_E_FORMAT
 * for an unknown key, a repeated one or a wrong number of fields. */
static int header_line(struct meta_parser *p, const char *key, char **f, int nf)
{
	struct pkg_meta *m = p->m;
	char **d;
	int r;

	if (strcmp(key, "platform") == 0 && nf == 2) {
		r = set_str(&m->platform_min, f[0]);
		return r == 0 ? set_str(&m->platform_max, f[1]) : r;
	}
	if (nf != 1)
		return -SPACE_E_FORMAT;
	if (strcmp(key, "name") == 0)
		return set_str(&m->name, f[0]);
	if (strcmp(key, "version") == 0)
		return set_str(&m->version, f[0]);
	if (strcmp(key, "release") == 0)
		return set_str(&m->release, f[0]);
	if (strcmp(key, "arch") == 0)
		return set_str(&m->arch, f[0]);
	if (strcmp(key, "app") == 0)
		return set_str(&m->app, f[0]);
	if (strcmp(key, "previous") == 0 && (p->flags & PKG_PARSE_DB))
		return set_str(&m->previous, f[0]);
	if (strcmp(key, "base-files") == 0 && !p->have_base && (!strcmp(f[0], "0") || !strcmp(f[0], "1"))) {
		m->base_files = f[0][0] == '1';
		p->have_base = true;
		return 0;
	}
	if (strcmp(key, "depend") != 0)
		return -SPACE_E_FORMAT;
	d = realloc(m->depends, (m->n_depends + 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	m->depends = d;
	d[m->n_depends] = strdup(f[0]);
	if (!d[m->n_depends])
		return -ENOMEM;
	m->n_depends++;
	return 0;
}

/* One line (without its newline), p->lineno counting from 1. */
static int parse_line(struct meta_parser *p, char *line)
{
	char *f[9], *sp;
	int nf;

	if (!str_printable(line, 0))
		return err_set(p->err, -SPACE_E_FORMAT, "line %zu: control character", p->lineno);
	if (p->lineno == 1)
		return strcmp(line, "pkgformat 1") == 0 ? 0 :
							  err_set(p->err, -SPACE_E_FORMAT, "line 1: not 'pkgformat %d'", PKG_FORMAT_VERSION);
	sp = strchr(line, ' ');
	if (!sp || sp == line)
		return err_set(p->err, -SPACE_E_FORMAT, "line %zu: expected 'key value'", p->lineno);
	*sp = '\0';
	if (strcmp(line, "summary") == 0)
		return line_error(p, set_str(&p->m->summary, sp + 1), line);
	/* Every other line is single-space separated tokens. */
	nf = split_fields(sp + 1, f);
	if (nf > 8)
		return err_set(p->err, -SPACE_E_FORMAT, "line %zu: malformed fields", p->lineno);
	for (size_t k = 0; k < sizeof(entry_kinds) / sizeof(entry_kinds[0]); k++)
		if (strcmp(line, entry_kinds[k].word) == 0)
			return entry_line(p, line, entry_kinds[k].type, f, nf, entry_kinds[k].nfields);
	return line_error(p, header_line(p, line, f, nf), line);
}

int pkg_meta_parse(const char *buf, size_t len, int flags, struct pkg_meta *m,
		   struct space_err *err)
{
	struct meta_parser p = { .m = m, .err = err, .flags = flags };
	char *text, *line, *next;
	int r = 0;

	memset(m, 0, sizeof(*m));
	if (len > PKG_META_MAX)
		return err_set(err, -SPACE_E_FORMAT, "metadata too large");
	if (memchr(buf, '\0', len))
		return err_set(err, -SPACE_E_FORMAT, "metadata contains a NUL byte");
	if (len == 0 || buf[len - 1] != '\n')
		return err_set(err, -SPACE_E_FORMAT, "metadata does not end with a newline");
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	memcpy(text, buf, len);
	text[len] = '\0';

	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		*next++ = '\0';
		p.lineno++;
		r = parse_line(&p, line);
		if (r < 0)
			goto out;
	}
	if (p.lineno == 0) {
		r = err_set(err, -SPACE_E_FORMAT, "empty metadata");
		goto out;
	}
	r = meta_validate(m, err);
out:
	free(text);
	if (r < 0)
		pkg_meta_free(m);
	return r;
}

/* Escape space, '%' and anything non-printable as %XX. */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == '%' || c == 0x7f)
			fprintf(f, "%%%02x", c);
		else
			fputc(c, f);
	}
}

int pkg_meta_write(const struct pkg_meta *m, char **out, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	if (!f)
		return -errno;
	fprintf(f, "pkgformat %d\nname %s\nversion %s\nrelease %s\narch %s\n", PKG_FORMAT_VERSION,
		m->name, m->version, m->release, m->arch);
	if (m->summary && *m->summary)
		fprintf(f, "summary %s\n", m->summary);
	for (size_t i = 0; i < m->n_depends; i++)
		fprintf(f, "depend %s\n", m->depends[i]);
	fprintf(f, "base-files %d\n", m->base_files ? 1 : 0);
	if (m->app)
		fprintf(f, "app %s\n", m->app);
	if (m->platform_min)
		fprintf(f, "platform %s %s\n", m->platform_min, m->platform_max);
	if (m->previous)
		fprintf(f, "previous %s\n", m->previous);
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct pkg_entry *e = &m->entries[i];

		fprintf(f, "%s ", kind_word(e->type));
		put_escaped(f, e->path);
		fprintf(f, " %04o %u %u", (unsigned)e->mode, (unsigned)e->uid, (unsigned)e->gid);
		switch (e->type) {
		case PKG_FILE:
			fprintf(f, " %" PRIu64 " %s%s", e->size, e->sha256, e->config ? " config" : "");
			break;
		case PKG_SYMLINK:
			fputc(' ', f);
			put_escaped(f, e->target);
			break;
		case PKG_CHR:
		case PKG_BLK:
			fprintf(f, " %u %u", e->major, e->minor);
			break;
		}
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*out = buf;
	*len = n;
	return 0;
}
