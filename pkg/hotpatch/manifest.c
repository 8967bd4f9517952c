/* SPDX-License-Identifier: MIT */
/* manifest.c - the manifest of a hot-patch bundle: parser, formatter, name
 * and level helpers (manifest.h). The node parses the manifest before its
 * signature is checked (to learn what to check), so every field is bounded
 * and checked here; nothing is allocated beyond kv_parse's line copy. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "kv.h"
#include "pkg/libpkg/libpkg.h"
#include "manifest.h"
#include "state.h"
#include "strescape.h"
#include "util.h"

/* ------------------------------------------------------- small parsers */

/* A decimal number in [1, max] without sign, leading zero or spaces:
 * the formatter writes numbers so, and a second spelling of the same
 * number would be a second text for one signed meaning. */
static int parse_dec(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (d > 9 || d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A fix id or a service name: [A-Za-z0-9._-], not starting with '.' or
 * '-' (never an option, never a hidden file), 1..max-1 bytes. */
static bool is_word(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == 0 || n >= max || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

/* The next space-separated field of a value: *s advances past it and the
 * spaces after it; returns its length (0 at the end). */
static size_t next_field(const char **s, const char **field)
{
	size_t n;

	*field = *s;
	n = strcspn(*s, " ");
	*s += n;
	while (**s == ' ')
		(*s)++;
	return n;
}

/* Copy a field of n bytes into dst (max bytes with the NUL); -1 if it does
 * not fit or is empty. */
static int copy_field(char *dst, size_t max, const char *f, size_t n)
{
	if (n == 0 || n >= max)
		return -1;
	memcpy(dst, f, n);
	dst[n] = '\0';
	return 0;
}

static int parse_sha256(const char *s, size_t n, unsigned char out[32])
{
	return n == 64 && hex_decode(s, 32, out) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------- parser */

enum key_id { K_FORMAT,
	      K_PRODUCT,
	      K_RELEASE,
	      K_PATCH,
	      K_NAME,
	      K_PATCHME,
	      K_NSINGLE };
static const char *const single_keys[K_NSINGLE] = {
	"format",
	"product",
	"release",
	"patch",
	"name",
	"patchme.sha256",
};

struct ctx {
	struct hp_manifest *m;
	unsigned seen; /* bit per enum key_id */
	unsigned entries;
	int name_line; /* for the checks that need every key */
	int fix_line[HP_MAX_FIXES];
	const char *why;
};

/* "<level> <id> <text>" */
static const char *add_fix(struct hp_manifest *m, const char *v)
{
	struct hp_fix *f;
	const char *field;
	uint64_t level;
	size_t n;

	if (m->nfix >= HP_MAX_FIXES)
		return "too many fixes";
	f = &m->fix[m->nfix];
	memset(f, 0, sizeof(*f));
	n = next_field(&v, &field);
	if (parse_dec(field, n, HP_MAX_LEVEL, &level) < 0)
		return "fix: level is not a number 1..9999";
	n = next_field(&v, &field);
	if (copy_field(f->id, sizeof(f->id), field, n) < 0 || !is_word(f->id, sizeof(f->id)))
		return "fix: id is not 1..31 of [A-Za-z0-9._-]";
	if (!*v || strlen(v) >= sizeof(f->text))
		return "fix: want `<level> <id> <text>`, text 1..159 bytes";
	strcpy(f->text, v);
	f->level = (unsigned)level;
	if (m->nfix && f->level < m->fix[m->nfix - 1].level)
		return "fix: levels decrease (fixes are ordered by level)";
	for (unsigned i = 0; i < m->nfix; i++)
		if (!strcmp(m->fix[i].id, f->id))
			return "fix: id listed twice";
	m->nfix++;
	return NULL;
}

/* "<name> <version> <release> <size> <sha256>" */
static const char *add_package(struct hp_manifest *m, const char *v)
{
	struct hp_package *p;
	char file[HP_PATH_MAX];
	const char *field;
	size_t n;

	if (m->npkg >= HP_MAX_PACKAGES)
		return "too many packages";
	p = &m->pkg[m->npkg];
	memset(p, 0, sizeof(*p));
	n = next_field(&v, &field);
	if (copy_field(p->name, sizeof(p->name), field, n) < 0 || !pkg_token_ok(p->name))
		return "package: name is not a package name";
	n = next_field(&v, &field);
	if (copy_field(p->version, sizeof(p->version), field, n) < 0 || !pkg_version_ok(p->version))
		return "package: version is not a package version";
	n = next_field(&v, &field);
	if (copy_field(p->release, sizeof(p->release), field, n) < 0 || !pkg_token_ok(p->release))
		return "package: release is not a package release";
	n = next_field(&v, &field);
	if (parse_dec(field, n, INT64_MAX, &p->size) < 0)
		return "package: size is not a number of bytes";
	n = next_field(&v, &field);
	if (parse_sha256(field, n, p->sha256) < 0 || *v)
		return "package: want `<name> <version> <release> <size> <sha256>`, sha256 64 lowercase hex";
	if (hp_package_file(file, p) < 0)
		return "package: file name too long";
	if (m->npkg && strcmp(m->pkg[m->npkg - 1].name, p->name) >= 0)
		return strcmp(m->pkg[m->npkg - 1].name, p->name) ? "package: not sorted by name" :
								   "package: listed twice";
	m->npkg++;
	return NULL;
}

static const char *add_service(struct hp_manifest *m, const char *v)
{
	if (m->nservice >= HP_MAX_SERVICES)
		return "too many services";
	if (!is_word(v, REL_NAME_MAX))
		return "service: not a service name";
	for (unsigned i = 0; i < m->nservice; i++)
		if (!strcmp(m->service[i], v))
			return "service: listed twice";
	strcpy(m->service[m->nservice++], v);
	return NULL;
}

static const char *add_backup(struct hp_manifest *m, const char *v)
{
	size_t sl = strlen(HP_STATE_DIR);

	if (m->nbackup >= HP_MAX_BACKUP)
		return "too many backup files";
	if (strlen(v) >= HP_PATH_MAX || pkg_path_check(v) < 0)
		return "backup: not a relative path below the root";
	/* the tool's own state is not the patch's to save or restore */
	if (!strncmp(v, HP_STATE_DIR, sl) && (v[sl] == '\0' || v[sl] == '/'))
		return "backup: inside the hot-patch state directory";
	for (unsigned i = 0; i < m->nbackup; i++)
		if (!strcmp(m->backup[i], v))
			return "backup: listed twice";
	strcpy(m->backup[m->nbackup++], v);
	return NULL;
}

static const char *set_single(struct ctx *c, enum key_id k, const char *v, int line)
{
	struct hp_manifest *m = c->m;
	char canon[REL_VERSION_MAX];
	uint64_t n;

	switch (k) {
	case K_FORMAT:
		if (parse_dec(v, strlen(v), 1000000, &n) < 0 || n != HP_FORMAT)
			return "format is not 1 (made for a newer tool?)";
		m->format = (unsigned)n;
		return NULL;
	case K_PRODUCT:
		if (!is_word(v, sizeof(m->product)))
			return "product is not a plain name";
		strcpy(m->product, v);
		return NULL;
	case K_RELEASE:
		if (strlen(v) >= sizeof(m->release) || rel_version_parse(v, &m->version) < 0 || m->version.n != 3)
			return "release is not a release such as 21.3R1";
		rel_version_str(&m->version, canon);
		if (strcmp(canon, v))
			return "release is not written canonically (no leading zeros)";
		strcpy(m->release, v);
		return NULL;
	case K_PATCH:
		if (parse_dec(v, strlen(v), HP_MAX_LEVEL, &n) < 0)
			return "patch is not a level 1..9999";
		m->patch = (unsigned)n;
		return NULL;
	case K_NAME:
		if (strlen(v) >= sizeof(m->name) || !str_printable(v, STR_PRINTABLE_ASCII))
			return "name is not a bundle name";
		strcpy(m->name, v);
		c->name_line = line;
		return NULL;
	case K_PATCHME:
		return parse_sha256(v, strlen(v), m->patchme_sha256) < 0 ?
			       "patchme.sha256 is not 64 lowercase hex digits" :
			       NULL;
	case K_NSINGLE: break;
	}
	return "unknown key";
}

static const char *const list_keys[] = { "fix", "package", "service", "backup" };

static bool is_list_key(const char *key)
{
	for (size_t i = 0; i < sizeof(list_keys) / sizeof(list_keys[0]); i++)
		if (!strcmp(key, list_keys[i]))
			return true;
	return false;
}

const char *hp_manifest_add(struct hp_manifest *m, const char *key, const char *value)
{
	if (!str_printable(value, STR_PRINTABLE_ASCII))
		return "control or non-ASCII character in the value";
	if (!strcmp(key, "fix"))
		return add_fix(m, value);
	if (!strcmp(key, "package"))
		return add_package(m, value);
	if (!strcmp(key, "service"))
		return add_service(m, value);
	if (!strcmp(key, "backup"))
		return add_backup(m, value);
	return "unknown key";
}

static const char *one_entry(struct ctx *c, const char *key, const char *v, int line)
{
	const char *why;
	int k;

	if (is_list_key(key)) {
		why = hp_manifest_add(c->m, key, v);
		if (!why && !strcmp(key, "fix"))
			c->fix_line[c->m->nfix - 1] = line;
		return why;
	}
	if (!str_printable(v, STR_PRINTABLE_ASCII))
		return "control or non-ASCII character in the value";
	for (k = 0; k < K_NSINGLE && strcmp(key, single_keys[k]); k++)
		;
	if (k == K_NSINGLE)
		return "unknown key";
	if (c->seen & (1u << k))
		return "key given twice";
	c->seen |= 1u << k;
	return set_single(c, (enum key_id)k, v, line);
}

static int manifest_kv(void *vctx, const char *key, const char *value, int line)
{
	struct ctx *c = vctx;

	if (c->entries++ == 0 && strcmp(key, "format"))
		c->why = "the first entry must be format = 1";
	else
		c->why = one_entry(c, key, value, line);
	return c->why ? -SPACE_E_FORMAT : 0;
}

/* The checks that need every key: the lists' bounds, each fix's level
 * within the patch, the name binding. */
static int check_whole(const struct ctx *c, struct space_err *err)
{
	const struct hp_manifest *m = c->m;
	char want[HP_NAME_MAX];

	for (int k = 0; k < K_NSINGLE; k++)
		if (!(c->seen & (1u << k)))
			return err_set(err, -SPACE_E_FORMAT, "missing %s", single_keys[k]);
	if (!m->nfix || !m->npkg)
		return err_set(err, -SPACE_E_FORMAT, "missing %s", m->nfix ? "package" : "fix");
	for (unsigned i = 0; i < m->nfix; i++)
		if (m->fix[i].level > m->patch)
			return err_set(err, -SPACE_E_FORMAT, "line %d: fix %s: level %u is above patch %u",
				       c->fix_line[i], m->fix[i].id, m->fix[i].level, m->patch);
	if (hp_bundle_name(want, m->product, m->release, m->patch) < 0)
		return err_set(err, -SPACE_E_FORMAT, "product and release too long for a bundle name");
	if (strcmp(want, m->name))
		return err_set(err, -SPACE_E_FORMAT, "line %d: name is not %s", c->name_line, want);
	return 0;
}

int hp_manifest_parse(const char *text, size_t len, struct hp_manifest *m, struct space_err *err)
{
	struct ctx c = { .m = m };
	int line = 0, r;

	memset(m, 0, sizeof(*m));
	if (len > HP_MANIFEST_MAX)
		return err_set(err, -SPACE_E_FORMAT, "larger than %u bytes", HP_MANIFEST_MAX);
	r = kv_parse(text, len, manifest_kv, &c, &line);
	if (r < 0)
		return err_set(err, r == -ENOMEM ? r : -SPACE_E_FORMAT, "line %d: %s", line,
			       c.why ? c.why : "not KEY = VALUE");
	return check_whole(&c, err);
}

/* ---------------------------------------------------------- formatter */

static void put_manifest(struct buf *b, const struct hp_manifest *m)
{
	char hex[65];

	hex_encode(m->patchme_sha256, 32, hex);
	buf_printf(b, "format = %d\nproduct = %s\nrelease = %s\npatch = %u\nname = %s\npatchme.sha256 = %s\n",
		   HP_FORMAT, m->product, m->release, m->patch, m->name, hex);
	for (unsigned i = 0; i < m->nfix; i++)
		buf_printf(b, "fix = %u %s %s\n", m->fix[i].level, m->fix[i].id, m->fix[i].text);
	for (unsigned i = 0; i < m->npkg; i++) {
		const struct hp_package *p = &m->pkg[i];
		hex_encode(p->sha256, 32, hex);
		buf_printf(b, "package = %s %s %s %llu %s\n", p->name, p->version, p->release,
			   (unsigned long long)p->size, hex);
	}
	for (unsigned i = 0; i < m->nservice; i++)
		buf_printf(b, "service = %s\n", m->service[i]);
	for (unsigned i = 0; i < m->nbackup; i++)
		buf_printf(b, "backup = %s\n", m->backup[i]);
}

/* Does the text parse back to itself? The parser is the one definition
 * of a valid manifest, so the formatter asks it rather than repeating its
 * rules; formatting what it read must give the same bytes (a fix text
 * with spaces at its ends, say, would not). */
static int parses_back(const char *text, size_t len)
{
	struct hp_manifest *back = malloc(sizeof(*back));
	struct buf again;
	int r;

	if (!back)
		return -ENOMEM;
	buf_init(&again);
	r = hp_manifest_parse(text, len, back, NULL);
	if (r == 0) {
		put_manifest(&again, back);
		r = buf_failed(&again);
		if (r == 0 && (again.len != len || memcmp(again.p, text, len)))
			r = -EINVAL;
	}
	buf_free(&again);
	free(back);
	return r == -ENOMEM ? r : r < 0 ? -EINVAL :
					  0;
}

/* Every string of m ends inside its array (m may come from anywhere). */
static bool terminated(const struct hp_manifest *m)
{
#define T(a) (memchr((a), 0, sizeof(a)) != NULL)
	bool ok = T(m->product) && T(m->release) && T(m->name);

	for (unsigned i = 0; ok && i < m->nfix; i++)
		ok = T(m->fix[i].id) && T(m->fix[i].text);
	for (unsigned i = 0; ok && i < m->npkg; i++)
		ok = T(m->pkg[i].name) && T(m->pkg[i].version) && T(m->pkg[i].release);
	for (unsigned i = 0; ok && i < m->nservice; i++)
		ok = T(m->service[i]);
	for (unsigned i = 0; ok && i < m->nbackup; i++)
		ok = T(m->backup[i]);
	return ok;
#undef T
}

int hp_manifest_format(const struct hp_manifest *m, char **out, size_t *outlen)
{
	struct buf b;
	int r;

	if (m->nfix > HP_MAX_FIXES || m->npkg > HP_MAX_PACKAGES || m->nservice > HP_MAX_SERVICES ||
	    m->nbackup > HP_MAX_BACKUP || !terminated(m))
		return -EINVAL;
	buf_init(&b);
	put_manifest(&b, m);
	r = buf_failed(&b);
	if (r == 0)
		r = parses_back(b.p, b.len);
	if (r < 0) {
		buf_free(&b);
		return r;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

/* -------------------------------------------------------- name, levels */

int hp_bundle_name(char out[HP_NAME_MAX], const char *product, const char *release, unsigned patch)
{
	int n;

	out[0] = '\0';
	if (!*product || !*release)
		return -EINVAL;
	n = snprintf(out, HP_NAME_MAX, "%c%s-%s-Hotpatch-v%u", toupper((unsigned char)product[0]), product + 1,
		     release, patch);
	if (n < 0 || n >= HP_NAME_MAX) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int hp_package_file(char out[HP_PATH_MAX], const struct hp_package *p)
{
	int n = snprintf(out, HP_PATH_MAX, HP_PACKAGES_DIR "/%s-%s-%s.pkg", p->name, p->version, p->release);

	if (n < 0 || n >= HP_PATH_MAX) {
		out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int hp_check_name(const struct hp_manifest *m, const char *base, struct space_err *err)
{
	size_t n = strlen(base), start;
	char shown[3 * HP_NAME_MAX];

	while (n > 1 && base[n - 1] == '/') /* "DIR/" names DIR */
		n--;
	for (start = n; start > 0 && base[start - 1] != '/'; start--)
		;
	base += start;
	n -= start;
	if (n > 4 && !memcmp(base + n - 4, ".tgz", 4))
		n -= 4;
	if (n == strlen(m->name) && !memcmp(base, m->name, n))
		return 0;
	/* the name on disk is whatever the operator made it: escaped */
	str_escape(shown, sizeof(shown), base, n, 0);
	return err_set(err, -SPACE_E_FORMAT, "renamed: bundle is %s, the signed manifest names %s", shown,
		       m->name);
}

int hp_patch_release(const char *node_release, char out[REL_VERSION_MAX])
{
	struct rel_version v;

	out[0] = '\0';
	if (rel_version_parse(node_release, &v) < 0 || v.n < 3)
		return -SPACE_E_FORMAT;
	v.n = 3;
	rel_version_str(&v, out);
	return 0;
}

int hp_check_release(const struct hp_manifest *m, const char *node_release, struct space_err *err)
{
	char rel[REL_VERSION_MAX], shown[3 * REL_VERSION_MAX];

	if (hp_patch_release(node_release, rel) < 0) {
		str_escape(shown, sizeof(shown), node_release, strnlen(node_release, REL_VERSION_MAX), 0);
		return err_set(err, -SPACE_E_FORMAT, "this node's release %s is not a release such as 21.3R1.1",
			       shown);
	}
	if (!strcmp(rel, m->release))
		return 0;
	return err_set(err, -SPACE_E_FORMAT, "wrong release: the patch is for %s, this node runs %s",
		       m->release, node_release);
}

enum hp_order hp_level_order(unsigned have, unsigned offer)
{
	return offer > have ? HP_NEWER : offer == have ? HP_SAME :
							 HP_OLDER;
}
