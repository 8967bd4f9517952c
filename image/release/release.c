/* SPDX-License-Identifier: MIT */
/* release.c - release manifest, versions, upgrade paths, application
 * table; see release.h. The manifest comes from the image (untrusted until
 * its signature is checked, and parsed before that to learn what to
 * check), so every field is bounded and checked here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/ova/manifest.h"
#include "buf.h"
#include "kv.h"
#include "release.h"
#include "util.h"

#define VERSION_PART_MAX 999999u

/* ------------------------------------------------------------- versions */

static int parse_number(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint32_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint32_t)(*s - '0');
		if (v > VERSION_PART_MAX)
			return -1;
	}
	*p = s;
	*out = v;
	return 0;
}

int rel_version_parse(const char *s, struct rel_version *v)
{
	memset(v, 0, sizeof(*v));
	if (strnlen(s, REL_VERSION_MAX) >= REL_VERSION_MAX)
		return -SPACE_E_FORMAT;
	if (parse_number(&s, &v->part[0]) < 0 || *s++ != '.' || parse_number(&s, &v->part[1]) < 0)
		return -SPACE_E_FORMAT;
	v->n = 2;
	if (*s == '\0')
		return 0;
	if (*s++ != 'R' || parse_number(&s, &v->part[v->n++]) < 0)
		return -SPACE_E_FORMAT;
	while (*s == '.') {
		s++;
		if (v->n >= REL_VERSION_PARTS || parse_number(&s, &v->part[v->n++]) < 0)
			return -SPACE_E_FORMAT;
	}
	return *s ? -SPACE_E_FORMAT : 0;
}

int rel_version_cmp(const struct rel_version *a, const struct rel_version *b)
{
	for (unsigned i = 0; i < a->n && i < b->n; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	/* a prefix is older: 21.3 < 21.3R1 < 21.3R1.3 */
	return a->n == b->n ? 0 : a->n < b->n ? -1 :
						1;
}

bool rel_same_train(const struct rel_version *a, const struct rel_version *b)
{
	return a->part[0] == b->part[0] && a->part[1] == b->part[1];
}

void rel_train_str(const struct rel_version *v, char out[REL_VERSION_MAX])
{
	snprintf(out, REL_VERSION_MAX, "%u.%u", v->part[0], v->part[1]);
}

void rel_version_str(const struct rel_version *v, char out[REL_VERSION_MAX])
{
	int n = snprintf(out, REL_VERSION_MAX, "%u.%u", v->part[0], v->part[1]);

	for (unsigned i = 2; i < v->n && n > 0 && n < REL_VERSION_MAX; i++)
		n += snprintf(out + n, REL_VERSION_MAX - (size_t)n, i == 2 ? "R%u" : ".%u", v->part[i]);
}

/* ------------------------------------------------------- small parsers */

static bool word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-' || c == '+';
}

/* A product, target, application, kernel or build name. */
static bool is_word(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == 0 || n >= max || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!word_char(s[i]))
			return false;
	return true;
}

static int copy_word(char *dst, size_t max, const char *s)
{
	if (!is_word(s, max))
		return -1;
	strcpy(dst, s);
	return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
	long long v;

	if (*s < '0' || *s > '9' || kv_int(s, 0, INT64_MAX, 0, &v) < 0)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int parse_sha256(const char *s, unsigned char out[32])
{
	if (strlen(s) != 64 || hex_decode(s, 32, out) < 0)
		return -1;
	return 0;
}

/* Split a space-separated list into words of at most wmax-1 bytes; calls
 * fn for each. Returns the count or -1 (empty word list, bad word, fn
 * refused, more than max). */
typedef int (*word_fn)(void *ctx, unsigned i, const char *w);
static int split_words(const char *s, size_t wmax, unsigned max, word_fn fn, void *ctx)
{
	char w[REL_NAME_MAX];
	unsigned n = 0;

	while (*s) {
		size_t len;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		len = strcspn(s, " \t");
		if (len >= wmax || len >= sizeof(w) || n >= max)
			return -1;
		memcpy(w, s, len);
		w[len] = '\0';
		if (fn(ctx, n, w) < 0)
			return -1;
		n++;
		s += len;
	}
	return n ? (int)n : -1;
}

/* Parse "min max|-" of an application row. */
static const char *parse_app_range(const char *v, struct rel_app *a)
{
	char lo[REL_VERSION_MAX], hi[REL_VERSION_MAX];

	if (sscanf(v, "%31s %31s", lo, hi) != 2 || strlen(v) != strlen(lo) + 1 + strlen(hi))
		return "want `<min-version> <max-version|->`";
	if (rel_version_parse(lo, &a->min) < 0)
		return "minimum is not a release version";
	a->has_max = strcmp(hi, "-") != 0;
	if (a->has_max && rel_version_parse(hi, &a->max) < 0)
		return "maximum is not a release version (or -)";
	if (a->has_max && rel_version_cmp(&a->min, &a->max) > 0)
		return "minimum is newer than maximum";
	return NULL;
}

static const char *add_app(struct rel_manifest *m, const char *name, const char *value)
{
	struct rel_app *a;
	const char *why;

	if (!is_word(name, REL_NAME_MAX))
		return "application name is not a plain name";
	for (unsigned i = 0; i < m->napps; i++)
		if (!strcmp(m->app[i].name, name))
			return "application listed twice";
	if (m->napps >= REL_MAX_APPS)
		return "too many applications";
	a = &m->app[m->napps];
	memset(a, 0, sizeof(*a));
	why = parse_app_range(value, a);
	if (why)
		return why;
	strcpy(a->name, name);
	m->napps++;
	return NULL;
}

/* ------------------------------------------------- upgrade-path matrix */

struct paths_ctx {
	struct rel_paths *p;
	unsigned entries;
	bool have_format, have_revision;
	const char *why;
};

struct train_list {
	struct rel_version *v;
	unsigned max, *n;
};

static int add_train(void *ctx, unsigned i, const char *w)
{
	struct train_list *l = ctx;

	if (i >= l->max || rel_version_parse(w, &l->v[i]) < 0 || l->v[i].n != 2)
		return -1;
	*l->n = i + 1;
	return 0;
}

/* A space-separated list of 1 to max release trains ("21.1 21.2"). */
static int parse_trains(const char *s, struct rel_version *v, unsigned max, unsigned *n)
{
	struct train_list l = { v, max, n };

	*n = 0;
	return split_words(s, REL_VERSION_MAX, max, add_train, &l) < 0 ? -1 : 0;
}

static int paths_kv(void *vctx, const char *key, const char *value, int line)
{
	struct paths_ctx *c = vctx;
	struct rel_paths_row *r;
	long long n;

	(void)line;
	if (c->entries++ == 0 && strcmp(key, "format")) {
		c->why = "the first entry must be format = 1";
		return -SPACE_E_FORMAT;
	}
	if (!strcmp(key, "format")) {
		if (c->have_format || kv_int(value, 1, 1000, 0, &n) < 0 || n != 1)
			c->why = c->have_format ? "format given twice" : "format is not 1 (a newer table?)";
		c->have_format = true;
	} else if (!strcmp(key, "revision")) {
		if (c->have_revision || kv_int(value, 1, 1000000, 0, &n) < 0)
			c->why = c->have_revision ? "revision given twice" : "revision is not a number";
		c->p->revision = (unsigned)n;
		c->have_revision = true;
	} else if (c->p->nrows >= REL_PATHS_MAX_ROWS) {
		c->why = "too many rows";
	} else {
		r = &c->p->row[c->p->nrows];
		memset(r, 0, sizeof(*r));
		if (rel_version_parse(key, &r->from) < 0 || r->from.n != 2)
			c->why = "unknown key (want a release train such as 21.1)";
		else if (parse_trains(value, r->to, REL_PATHS_MAX_TO, &r->nto) < 0)
			c->why = "want up to 8 release trains (such as 21.2 21.3)";
		for (unsigned i = 0; !c->why && i < c->p->nrows; i++)
			if (rel_version_cmp(&c->p->row[i].from, &r->from) == 0)
				c->why = "train listed twice";
		if (!c->why)
			c->p->nrows++;
	}
	return c->why ? -SPACE_E_FORMAT : 0;
}

int rel_paths_parse(const char *text, size_t len, struct rel_paths *p, struct space_err *err)
{
	struct paths_ctx c = { .p = p };
	int line = 0, r;

	memset(p, 0, sizeof(*p));
	r = kv_parse(text, len, paths_kv, &c, &line);
	if (r == 0 && (!c.have_format || !c.have_revision))
		return err_set(err, -SPACE_E_FORMAT, "missing %s", c.have_format ? "revision" : "format");
	if (r < 0)
		return err_set(err, r, "line %d: %s", line, c.why ? c.why : "not KEY = VALUE");
	return 0;
}

int rel_paths_load(const char *path, struct rel_paths *p, struct space_err *err)
{
	char *text;
	size_t len;
	int r = read_file(path, 1 << 16, &text, &len);

	if (r < 0)
		return err_set(err, r, "%s", space_strerror(r));
	r = rel_paths_parse(text, len, p, err);
	free(text);
	return r;
}

bool rel_paths_allows(const struct rel_paths *p, const struct rel_version *from,
		      const struct rel_version *to)
{
	for (unsigned i = 0; i < p->nrows; i++) {
		if (!rel_same_train(&p->row[i].from, from))
			continue;
		for (unsigned k = 0; k < p->row[i].nto; k++)
			if (rel_same_train(&p->row[i].to[k], to))
				return true;
	}
	return false;
}

unsigned rel_paths_sources(const struct rel_paths *p, const struct rel_version *to,
			   struct rel_version *out, unsigned max)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->nrows && n < max; i++)
		if (rel_paths_allows(p, &p->row[i].from, to))
			out[n++] = p->row[i].from;
	return n;
}

/* ------------------------------------------------------------ manifest */

enum key_id {
	K_FORMAT,
	K_PRODUCT,
	K_RELEASE,
	K_BUILD,
	K_FILE,
	K_TARGETS,
	K_KERNEL,
	K_SLOT_MEMBER,
	K_SLOT_COMPRESSION,
	K_SLOT_SIZE,
	K_SLOT_SHA256,
	K_SLOT_MIN_SIZE,
	K_ZST_SIZE,
	K_ZST_SHA256,
	K_WINDOW_LOG,
	K_PATHS,
	K_FROM,
	K_NKEYS,
};

static const char *const key_names[K_NKEYS] = {
	"format",
	"product",
	"release",
	"build",
	"file",
	"targets",
	"kernel",
	"slot.member",
	"slot.compression",
	"slot.size",
	"slot.sha256",
	"slot.min-size",
	"slot.zst.size",
	"slot.zst.sha256",
	"slot.zst.window-log",
	"upgrade-paths",
	"upgrade-from",
};

struct mf_ctx {
	struct rel_manifest *m;
	unsigned seen; /* bit per key_id */
	unsigned entries;
	const char *why;
};

static int add_target(void *ctx, unsigned i, const char *w)
{
	struct rel_manifest *m = ctx;

	if (i >= REL_MAX_TARGETS || !is_word(w, REL_NAME_MAX))
		return -1;
	for (unsigned k = 0; k < i; k++)
		if (!strcmp(m->targets[k], w))
			return -1;
	strcpy(m->targets[i], w);
	m->ntargets = i + 1;
	return 0;
}

int rel_targets_parse(const char *list, struct rel_manifest *m)
{
	m->ntargets = 0;
	return split_words(list, REL_NAME_MAX, REL_MAX_TARGETS, add_target, m) < 0 ? -SPACE_E_FORMAT : 0;
}

/* One known key's value into m; NULL or why not. */
static const char *set_key(struct rel_manifest *m, enum key_id k, const char *v)
{
	long long n;

	switch (k) {
	case K_FORMAT:
		if (kv_int(v, 0, 1000000, 0, &n) < 0 || n != REL_FORMAT)
			return "format is not 1 (made for a newer reader?)";
		m->format = (unsigned)n;
		return NULL;
	case K_PRODUCT: return copy_word(m->product, sizeof(m->product), v) < 0 ? "product is not a plain name" : NULL;
	case K_RELEASE:
		if (strlen(v) >= sizeof(m->release) || rel_version_parse(v, &m->version) < 0 || m->version.n < 3)
			return "release is not a version such as 21.3R1";
		strcpy(m->release, v);
		return NULL;
	case K_BUILD: return copy_word(m->build, sizeof(m->build), v) < 0 ? "build is not a plain name" : NULL;
	case K_FILE:
		if (!ova_name_is_plain(v) || strlen(v) >= sizeof(m->file))
			return "file is not a plain file name";
		strcpy(m->file, v);
		return NULL;
	case K_TARGETS: return rel_targets_parse(v, m) < 0 ? "targets: want 1 to 8 distinct plain names" : NULL;
	case K_KERNEL: return copy_word(m->kernel, sizeof(m->kernel), v) < 0 ? "kernel is not a plain name" : NULL;
	case K_SLOT_MEMBER:
		if (strcmp(v, REL_MEMBER_SLOT))
			return "slot.member is not " REL_MEMBER_SLOT;
		strcpy(m->slot_member, v);
		return NULL;
	case K_SLOT_COMPRESSION: return strcmp(v, "zstd") ? "slot.compression is not zstd" : NULL;
	case K_SLOT_SIZE: return parse_u64(v, &m->slot_size) < 0 || !m->slot_size ? "slot.size is not a size" : NULL;
	case K_SLOT_SHA256: return parse_sha256(v, m->slot_sha256) < 0 ? "slot.sha256 is not 64 lowercase hex digits" : NULL;
	case K_SLOT_MIN_SIZE: return parse_u64(v, &m->slot_min_size) < 0 ? "slot.min-size is not a size" : NULL;
	case K_ZST_SIZE: return parse_u64(v, &m->zst_size) < 0 || !m->zst_size ? "slot.zst.size is not a size" : NULL;
	case K_ZST_SHA256: return parse_sha256(v, m->zst_sha256) < 0 ? "slot.zst.sha256 is not 64 lowercase hex digits" : NULL;
	case K_WINDOW_LOG:
		if (kv_int(v, 10, REL_ZSTD_WINDOW_LOG, 0, &n) < 0)
			return "slot.zst.window-log is not 10 to 23";
		m->window_log = (unsigned)n;
		return NULL;
	case K_PATHS:
		if (kv_int(v, 1, 1000000, 0, &n) < 0)
			return "upgrade-paths is not a revision number";
		m->paths_revision = (unsigned)n;
		return NULL;
	case K_FROM:
		return parse_trains(v, m->from, REL_MAX_FROM, &m->nfrom) < 0 ?
			       "upgrade-from: want 1 to 32 release trains such as 21.1" :
			       NULL;
	case K_NKEYS: break;
	}
	return "unknown key";
}

static int manifest_kv(void *vctx, const char *key, const char *value, int line)
{
	struct mf_ctx *c = vctx;
	int k;

	(void)line;
	if (c->entries++ == 0 && strcmp(key, "format")) {
		c->why = "the first entry must be format = 1";
		return -SPACE_E_FORMAT;
	}
	if (!strncmp(key, "app.", 4)) {
		c->why = add_app(c->m, key + 4, value);
		return c->why ? -SPACE_E_FORMAT : 0;
	}
	for (k = 0; k < K_NKEYS && strcmp(key, key_names[k]); k++)
		;
	if (k == K_NKEYS)
		c->why = "unknown key";
	else if (c->seen & (1u << k))
		c->why = "key given twice";
	else
		c->why = set_key(c->m, (enum key_id)k, value);
	c->seen |= 1u << k;
	return c->why ? -SPACE_E_FORMAT : 0;
}

int rel_manifest_parse(const char *text, size_t len, struct rel_manifest *m, struct space_err *err)
{
	struct mf_ctx c = { .m = m };
	int line = 0, r;

	memset(m, 0, sizeof(*m));
	if (len > REL_MANIFEST_MAX)
		return err_set(err, -SPACE_E_FORMAT, "larger than %u bytes", REL_MANIFEST_MAX);
	r = kv_parse(text, len, manifest_kv, &c, &line);
	if (r < 0) {
		return err_set(err, r == -ENOMEM ? r : -SPACE_E_FORMAT, "line %d: %s", line,
			       c.why ? c.why : "not KEY = VALUE");
	}
	for (int k = 0; k < K_NKEYS; k++)
		if (!(c.seen & (1u << k)))
			return err_set(err, -SPACE_E_FORMAT, "missing %s", key_names[k]);
	if (m->slot_min_size < m->slot_size) {
		return err_set(err, -SPACE_E_FORMAT, "slot.min-size %llu is less than slot.size %llu",
			       (unsigned long long)m->slot_min_size, (unsigned long long)m->slot_size);
	}
	return 0;
}

static void put_list_versions(struct buf *b, const struct rel_version *v, unsigned n)
{
	char s[REL_VERSION_MAX];

	for (unsigned i = 0; i < n; i++) {
		rel_train_str(&v[i], s);
		buf_printf(b, "%s%s", i ? " " : "", s);
	}
}

int rel_manifest_format(const struct rel_manifest *m, char **out, size_t *outlen)
{
	char h1[65], h2[65], lo[REL_VERSION_MAX], hi[REL_VERSION_MAX];
	struct buf b;

	if (!m->ntargets || !m->nfrom || !is_word(m->product, sizeof(m->product)) ||
	    !is_word(m->build, sizeof(m->build)) || !is_word(m->kernel, sizeof(m->kernel)) ||
	    !ova_name_is_plain(m->file) || m->slot_min_size < m->slot_size)
		return -EINVAL;
	hex_encode(m->slot_sha256, 32, h1);
	hex_encode(m->zst_sha256, 32, h2);
	buf_init(&b);
	buf_printf(&b, "format = %d\nproduct = %s\nrelease = %s\nbuild = %s\nfile = %s\ntargets =",
		   REL_FORMAT, m->product, m->release, m->build, m->file);
	for (unsigned i = 0; i < m->ntargets; i++)
		buf_printf(&b, " %s", m->targets[i]);
	buf_printf(&b, "\nkernel = %s\nslot.member = %s\nslot.compression = zstd\n", m->kernel, REL_MEMBER_SLOT);
	buf_printf(&b, "slot.size = %llu\nslot.sha256 = %s\nslot.min-size = %llu\n",
		   (unsigned long long)m->slot_size, h1, (unsigned long long)m->slot_min_size);
	buf_printf(&b, "slot.zst.size = %llu\nslot.zst.sha256 = %s\nslot.zst.window-log = %u\n",
		   (unsigned long long)m->zst_size, h2, m->window_log);
	buf_printf(&b, "upgrade-paths = %u\nupgrade-from = ", m->paths_revision);
	put_list_versions(&b, m->from, m->nfrom);
	buf_put(&b, "\n", 1);
	for (unsigned i = 0; i < m->napps; i++) {
		rel_version_str(&m->app[i].min, lo);
		if (m->app[i].has_max)
			rel_version_str(&m->app[i].max, hi);
		buf_printf(&b, "app.%s = %s %s\n", m->app[i].name, lo, m->app[i].has_max ? hi : "-");
	}
	if (buf_failed(&b) < 0) {
		buf_free(&b);
		return -ENOMEM;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* ------------------------------------------------------------ checks */

int rel_check_file_name(const struct rel_manifest *m, const char *file_name, struct space_err *err)
{
	const char *slash = strrchr(file_name, '/'), *base = slash ? slash + 1 : file_name;
	char shown[3 * REL_FILE_MAX];

	if (!strcmp(base, m->file))
		return 0;
	/* the name on disk is whatever the operator made it: escape it */
	snprintf(shown, sizeof(shown), "%.*s", (int)strnlen(base, REL_FILE_MAX), base);
	for (char *p = shown; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return err_set(err, -SPACE_E_FORMAT, "renamed: the file is %s but the signed manifest names %s", shown, m->file);
}

bool rel_has_target(const struct rel_manifest *m, const char *target)
{
	for (unsigned i = 0; i < m->ntargets; i++)
		if (!strcmp(m->targets[i], target))
			return true;
	return false;
}

int rel_check_upgrade(const struct rel_manifest *m, const char *running, struct space_err *err)
{
	struct rel_version rv;
	char train[REL_VERSION_MAX];
	struct buf b;

	if (rel_version_parse(running, &rv) < 0)
		return err_set(err, -SPACE_E_FORMAT, "running release %.31s is not a version", running);
	if (rel_same_train(&rv, &m->version)) {
		if (rel_version_cmp(&rv, &m->version) <= 0)
			return 0;
		return err_set(err, -EPERM, "%s -> %s is a downgrade", running, m->release);
	}
	for (unsigned i = 0; i < m->nfrom; i++)
		if (rel_same_train(&m->from[i], &rv))
			return 0;
	rel_train_str(&m->version, train);
	buf_init(&b);
	put_list_versions(&b, m->from, m->nfrom);
	err_set(err, -EPERM, "upgrade path %s -> %s is not supported: %s may be installed over %s, or %s releases",
		running, m->release, m->release, buf_failed(&b) < 0 || !b.p ? "?" : b.p, train);
	buf_free(&b);
	return -EPERM;
}

int rel_app_check(const struct rel_manifest *m, const char *name, const char *version)
{
	struct rel_version v;

	if (rel_version_parse(version, &v) < 0)
		return -SPACE_E_FORMAT;
	for (unsigned i = 0; i < m->napps; i++) {
		const struct rel_app *a = &m->app[i];
		if (strcmp(a->name, name))
			continue;
		if (rel_version_cmp(&v, &a->min) < 0)
			return REL_APP_TOO_OLD;
		if (a->has_max && rel_version_cmp(&v, &a->max) > 0)
			return REL_APP_TOO_NEW;
		return REL_APP_OK;
	}
	return REL_APP_UNLISTED;
}

struct apps_ctx {
	struct rel_manifest *m;
	unsigned entries;
	const char *why;
};

static int apps_kv(void *vctx, const char *key, const char *value, int line)
{
	struct apps_ctx *c = vctx;
	long long n;

	(void)line;
	if (c->entries++ == 0) {
		if (strcmp(key, "format") || kv_int(value, 1, 1000, 0, &n) < 0 || n != 1)
			c->why = "the first entry must be format = 1";
	} else {
		c->why = add_app(c->m, key, value);
	}
	return c->why ? -SPACE_E_FORMAT : 0;
}

int rel_apps_parse(const char *text, size_t len, struct rel_manifest *m, struct space_err *err)
{
	struct apps_ctx c = { .m = m };
	int line = 0, r;

	m->napps = 0;
	r = kv_parse(text, len, apps_kv, &c, &line);
	if (r == 0 && c.entries == 0)
		return err_set(err, -SPACE_E_FORMAT, "missing format");
	if (r < 0)
		return err_set(err, r, "line %d: %s", line, c.why ? c.why : "not KEY = VALUE");
	return 0;
}
