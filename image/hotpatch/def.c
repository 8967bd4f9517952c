/* SPDX-License-Identifier: MIT */
/* def.c - the patch definitions of the tree (def.h). The fix, service and
 * backup lines are the manifest's own, checked by its code
 * (hp_manifest_add); only patch and the package lines are read here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "def.h"
#include "kv.h"
#include "pkg/libpkg/libpkg.h"
#include "util.h"

struct ctx {
	struct hp_def *d;
	bool have_patch;
	const char *why;
};

/* "<name> <release>" */
static const char *add_pkg(struct hp_def *d, const char *v)
{
	char name[HP_TOKEN_MAX], rel[8];
	struct hp_def_pkg *p;
	long long n;

	if (d->npkg >= HP_MAX_PACKAGES)
		return "too many packages";
	if (sscanf(v, "%128s %7s", name, rel) != 2 || strlen(v) != strlen(name) + 1 + strlen(rel))
		return "package: want `<name> <package release>`";
	if (!pkg_token_ok(name))
		return "package: name is not a package name";
	if (rel[0] == '0' || kv_int(rel, 2, HP_DEF_MAX_RELEASE, 0, &n) < 0)
		return "package: release is not a number 2..9999 (1 is the release image's)";
	if (d->npkg && strcmp(d->pkg[d->npkg - 1].name, name) >= 0)
		return strcmp(d->pkg[d->npkg - 1].name, name) ? "package: not sorted by name" : "package: listed twice";
	p = &d->pkg[d->npkg++];
	strcpy(p->name, name);
	p->release = (unsigned)n;
	return NULL;
}

static int def_kv(void *vctx, const char *key, const char *value, int line)
{
	struct ctx *c = vctx;
	long long n;

	(void)line;
	if (!strcmp(key, "patch")) {
		if (c->have_patch)
			c->why = "patch given twice";
		else if (value[0] == '0' || kv_int(value, 1, HP_MAX_LEVEL, 0, &n) < 0)
			c->why = "patch is not a level 1..9999";
		else
			c->d->m.patch = (unsigned)n;
		c->have_patch = true;
	} else if (!strcmp(key, "package")) {
		c->why = add_pkg(c->d, value);
	} else {
		c->why = hp_manifest_add(&c->d->m, key, value);
	}
	return c->why ? -SPACE_E_FORMAT : 0;
}

int hp_def_parse(const char *text, size_t len, struct hp_def *d, struct space_err *err)
{
	struct ctx c = { .d = d };
	int line = 0, r;

	memset(d, 0, sizeof(*d));
	r = kv_parse(text, len, def_kv, &c, &line);
	if (r < 0) {
		return err_set(err, r == -ENOMEM ? r : -SPACE_E_FORMAT, "line %d: %s", line,
			       c.why ? c.why : "not KEY = VALUE");
	}
	if (!c.have_patch || !d->m.nfix || !d->npkg)
		return err_set(err, -SPACE_E_FORMAT, "missing %s", !c.have_patch ? "patch" : !d->m.nfix ? "fix" :
													  "package");
	for (unsigned i = 0; i < d->m.nfix; i++)
		if (d->m.fix[i].level > d->m.patch) {
			return err_set(err, -SPACE_E_FORMAT, "fix %s: level %u is above patch %u", d->m.fix[i].id, d->m.fix[i].level,
				       d->m.patch);
		}
	return 0;
}

int hp_def_load(const char *path, struct hp_def *d, struct space_err *err)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char want[32];
	char *text = NULL;
	size_t len;
	int r = read_file(path, HP_DEF_MAX, &text, &len);

	if (r < 0)
		return err_set(err, r, "%s", space_strerror(r));
	r = hp_def_parse(text, len, d, err);
	free(text);
	if (r < 0)
		return r;
	snprintf(want, sizeof(want), "v%u.conf", d->m.patch);
	if (strcmp(base, want))
		return err_set(err, -SPACE_E_FORMAT, "patch = %u must be in %s", d->m.patch, want);
	return 0;
}

const struct hp_def_pkg *hp_def_find_pkg(const struct hp_def *d, const char *name)
{
	for (unsigned i = 0; i < d->npkg; i++)
		if (!strcmp(d->pkg[i].name, name))
			return &d->pkg[i];
	return NULL;
}

static const struct hp_fix *find_fix(const struct hp_manifest *m, const char *id)
{
	for (unsigned i = 0; i < m->nfix; i++)
		if (!strcmp(m->fix[i].id, id))
			return &m->fix[i];
	return NULL;
}

static bool has_str(const char *list, size_t stride, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(list + i * stride, s))
			return true;
	return false;
}

int hp_def_check_cumulative(const struct hp_def *prev, const struct hp_def *cur, struct space_err *err)
{
	const struct hp_manifest *p = &prev->m, *c = &cur->m;

	if (c->patch != p->patch + 1)
		return err_set(err, -SPACE_E_FORMAT, "v%u does not follow v%u", c->patch, p->patch);
	for (unsigned i = 0; i < p->nfix; i++) {
		const struct hp_fix *f = find_fix(c, p->fix[i].id);
		if (!f || f->level != p->fix[i].level) {
			return err_set(err, -SPACE_E_FORMAT, "not cumulative: fix %s of v%u %s", p->fix[i].id, p->patch,
				       f ? "has another level" : "is missing");
		}
	}
	for (unsigned i = 0; i < prev->npkg; i++) {
		const struct hp_def_pkg *k = hp_def_find_pkg(cur, prev->pkg[i].name);
		if (!k || k->release < prev->pkg[i].release) {
			return err_set(err, -SPACE_E_FORMAT, "not cumulative: package %s of v%u (release %u) %s", prev->pkg[i].name,
				       p->patch, prev->pkg[i].release, k ? "has an older release" : "is missing");
		}
	}
	for (unsigned i = 0; i < p->nservice; i++)
		if (!has_str(c->service[0], sizeof(c->service[0]), c->nservice, p->service[i]))
			return err_set(err, -SPACE_E_FORMAT, "not cumulative: service %s of v%u is missing", p->service[i], p->patch);
	for (unsigned i = 0; i < p->nbackup; i++)
		if (!has_str(c->backup[0], sizeof(c->backup[0]), c->nbackup, p->backup[i]))
			return err_set(err, -SPACE_E_FORMAT, "not cumulative: backup %s of v%u is missing", p->backup[i], p->patch);
	return 0;
}
