/* SPDX-License-Identifier: MIT */
/* apps.c - which installed application may run on the running release;
 * see apps.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/release/release.h"
#include "pkg/libpkg/libpkg.h"
#include "apps.h"
#include "ctl.h"
#include "json.h"
#include "kv.h"
#include "release.h"
#include "util.h"

#define SVC_PREFIX APPS_SVC_DIR "/"

/* ------------------------------------------------------------ decision */

void apps_basis_load(const struct apps_env *env, struct apps_basis *b, struct rel_manifest *table)
{
	const char *relf = env && env->release_file ? env->release_file : APPS_RELEASE;
	const char *compat = env && env->compat_file ? env->compat_file : APPS_COMPAT;
	struct rel_version v;
	struct release rel;
	char err[160], *text = NULL;
	size_t len;
	int r;

	memset(b, 0, sizeof(*b));
	memset(table, 0, sizeof(*table));
	r = release_read(relf, &rel);
	if (r < 0) {
		snprintf(b->why, sizeof(b->why), "running release unknown: %.80s: %.100s", relf, space_strerror(r));
		return;
	}
	if (!rel.version[0]) {
		snprintf(b->why, sizeof(b->why), "running release unknown: %.80s has no VERSION", relf);
		return;
	}
	if (strlen(rel.version) >= sizeof(b->running) || rel_version_parse(rel.version, &v) < 0) {
		snprintf(b->why, sizeof(b->why), "running release unknown: %.80s: VERSION '%.40s' is not a release version",
			 relf, rel.version);
		return;
	}
	strcpy(b->running, rel.version);
	r = read_file(compat, REL_MANIFEST_MAX, &text, &len);
	if (r == 0) {
		struct space_err e = { "" };

		r = rel_apps_parse(text, len, table, &e);
		if (r < 0)
			snprintf(err, sizeof(err), "%s", err_msg(&e, r));
		free(text);
	} else {
		snprintf(err, sizeof(err), "%s", space_strerror(r));
	}
	if (r < 0) {
		snprintf(b->why, sizeof(b->why), "application table unavailable: %.80s: %.100s", compat, err);
		return;
	}
	b->table = table;
}

/* v <= max, where max covers every release it is a prefix of (a platform
 * range up to 21.2 admits 21.2R3: a train bound means the whole train). */
static bool upto(const struct rel_version *v, const struct rel_version *max)
{
	struct rel_version t = *v;

	if (t.n > max->n)
		t.n = max->n;
	return rel_version_cmp(&t, max) <= 0;
}

/* Does the package's own platform range admit the running release? If
 * not, a->reason says why. */
static bool platform_fits(const struct pkg_meta *m, const struct rel_version *run, const char *running,
			  struct app *a)
{
	struct rel_version lo, hi;
	bool has_hi = strcmp(m->platform_max, "-") != 0;
	char range[64];

	if (rel_version_parse(m->platform_min, &lo) < 0 || (has_hi && rel_version_parse(m->platform_max, &hi) < 0)) {
		snprintf(a->reason, sizeof(a->reason), "bad metadata: platform '%s %s' is not a release range",
			 m->platform_min, m->platform_max);
		return false;
	}
	if (has_hi && !upto(&lo, &hi)) {
		snprintf(a->reason, sizeof(a->reason), "bad metadata: platform minimum %s is after its maximum %s",
			 m->platform_min, m->platform_max);
		return false;
	}
	if (rel_version_cmp(run, &lo) >= 0 && (!has_hi || upto(run, &hi)))
		return true;
	if (has_hi)
		snprintf(range, sizeof(range), "%s-%s", m->platform_min, m->platform_max);
	else
		snprintf(range, sizeof(range), "%s or later", m->platform_min);
	snprintf(a->reason, sizeof(a->reason), "needs platform %s, running %s", range, running);
	return false;
}

/* The release table's verdict; false with the reason when it excludes. */
static bool table_admits(const struct pkg_meta *m, const struct apps_basis *b, struct app *a)
{
	int v = rel_app_check(b->table, m->app, m->version);
	char lo[REL_VERSION_MAX], hi[REL_VERSION_MAX] = "";

	if (v != REL_APP_TOO_OLD && v != REL_APP_TOO_NEW)
		return true; /* listed and in range, or not listed */
	for (unsigned i = 0; i < b->table->napps; i++) {
		const struct rel_app *row = &b->table->app[i];

		if (strcmp(row->name, m->app))
			continue;
		rel_version_str(&row->min, lo);
		if (row->has_max)
			rel_version_str(&row->max, hi);
		snprintf(a->reason, sizeof(a->reason), "release %s supports %s %s%s%s, installed %s", b->running,
			 m->app, lo, row->has_max ? "-" : " or later", hi, m->version);
	}
	return false;
}

void apps_decide(const struct pkg_meta *m, const struct apps_basis *b, struct app *a)
{
	struct rel_version run, ver;

	snprintf(a->name, sizeof(a->name), "%s", m->app ? m->app : "");
	snprintf(a->version, sizeof(a->version), "%s", m->version);
	if (m->platform_min)
		snprintf(a->platform, sizeof(a->platform), "%s %s", m->platform_min, m->platform_max);
	else
		a->platform[0] = '\0';
	a->enabled = false;
	a->reason[0] = '\0';
	if (!m->app) {
		snprintf(a->reason, sizeof(a->reason), "not an application");
		return;
	}
	if (!b->table || rel_version_parse(b->running, &run) < 0) {
		snprintf(a->reason, sizeof(a->reason), "%s", b->why[0] ? b->why : "running release unknown");
		return;
	}
	if (rel_version_parse(m->version, &ver) < 0) {
		snprintf(a->reason, sizeof(a->reason),
			 "bad metadata: version %s is not a release version (MAJOR.MINOR[Rn[.n]...])", m->version);
		return;
	}
	if (m->platform_min && !platform_fits(m, &run, b->running, a))
		return;
	if (!table_admits(m, b, a))
		return;
	a->enabled = true;
}

/* ------------------------------------------------------------ scan */

/* Its service definitions: files directly in APPS_SVC_DIR named *.conf. */
static void collect_services(const struct pkg_meta *m, struct app *a)
{
	for (size_t i = 0; i < m->n_entries; i++) {
		const char *p = m->entries[i].path, *base = p + sizeof(SVC_PREFIX) - 1;
		size_t n;

		if (m->entries[i].type != PKG_FILE || strncmp(p, SVC_PREFIX, sizeof(SVC_PREFIX) - 1))
			continue;
		n = strlen(base);
		if (strchr(base, '/') || n < 6 || strcmp(base + n - 5, ".conf"))
			continue;
		if (a->nsvc == APPS_SVC_MAX || n >= sizeof(a->svc[0])) {
			if (a->enabled)
				snprintf(a->reason, sizeof(a->reason),
					 "bad metadata: more than %d service definitions or a name over %zu bytes",
					 APPS_SVC_MAX, sizeof(a->svc[0]) - 1);
			a->enabled = false;
			continue;
		}
		strcpy(a->svc[a->nsvc++], base);
	}
}

/* The next slot of l, or NULL (counted) when the list is full. */
static struct app *next_slot(struct apps_list *l)
{
	if (l->n == APPS_MAX) {
		l->n_over++;
		return NULL;
	}
	memset(&l->app[l->n], 0, sizeof(l->app[0]));
	return &l->app[l->n++];
}

/* One database record; -ENOMEM only. An unreadable record is listed,
 * disabled: it may be an application, and its services stay down. */
static int add_record(struct apps_list *l, int dfd, const char *name, const struct apps_basis *b)
{
	struct space_err err = { "" };
	struct pkg_meta m;
	struct app *a;
	char *text = NULL;
	size_t len;
	int r = read_file_at(dfd, name, O_NOFOLLOW, APPS_RECORD_MAX, &text, &len);

	if (r == 0) {
		r = pkg_meta_parse(text, len, PKG_PARSE_DB, &m, &err);
		free(text);
	} else {
		err_set(&err, r, "%s", space_strerror(r));
	}
	if (r == -ENOMEM)
		return r;
	if (r == 0 && strcmp(m.name, name)) {
		r = err_set(&err, -SPACE_E_FORMAT, "the record names package %s", m.name);
		pkg_meta_free(&m);
	}
	if (r == 0 && !m.app) {
		pkg_meta_free(&m);
		return 0;
	}
	if (!(a = next_slot(l))) {
		if (r == 0)
			pkg_meta_free(&m);
		return 0;
	}
	snprintf(a->pkg, sizeof(a->pkg), "%.128s", name);
	if (r < 0) {
		snprintf(a->reason, sizeof(a->reason), "unreadable record: %.200s", err.msg);
		return 0;
	}
	apps_decide(&m, b, a);
	collect_services(&m, a);
	pkg_meta_free(&m);
	return 0;
}

static int record_name(const struct dirent *de)
{
	return de->d_name[0] != '.' && pkg_token_ok(de->d_name);
}

int apps_scan(const struct apps_env *env, struct apps_list *l, struct space_err *err)
{
	const char *root = env && env->root ? env->root : APPS_ROOT;
	struct rel_manifest *table = malloc(sizeof(*table));
	char *dir = xasprintf("%s/%s/installed", root, PKG_DB_DIR);
	struct dirent **names = NULL;
	struct apps_basis b;
	int n = 0, dfd = -1, r = 0;

	memset(l, 0, sizeof(*l));
	if (!table || !dir) {
		r = -ENOMEM;
		goto out;
	}
	apps_basis_load(env, &b, table);
	snprintf(l->running, sizeof(l->running), "%s", b.running);
	/* by name, so which APPS_MAX are listed does not depend on the disk */
	n = scandir(dir, &names, record_name, alphasort);
	if (n < 0) {
		r = errno == ENOENT ? 0 : -errno;
		n = 0;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = -errno;
		goto out;
	}
	for (int i = 0; i < n && r == 0; i++)
		r = add_record(l, dfd, names[i]->d_name, &b);
out:
	if (r < 0)
		err_set(err, r, "%s: %s", dir ? dir : root, space_strerror(r));
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(table);
	return r;
}

const struct app *apps_service_owner(const struct apps_list *l, const char *file)
{
	for (unsigned i = 0; i < l->n; i++)
		for (unsigned k = 0; k < l->app[i].nsvc; k++)
			if (!strcmp(l->app[i].svc[k], file))
				return &l->app[i];
	return NULL;
}

/* ------------------------------------------------------------ reply */

static void put_field(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, " %s=", key);
	kv_quote(b, value);
}

static void join_services(const struct app *a, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (unsigned k = 0; k < a->nsvc && len < n; k++)
		len += (size_t)snprintf(out + len, n - len, "%s%s", k ? " " : "", a->svc[k]);
}

void apps_reply(struct buf *b, const struct apps_list *l)
{
	char svcs[APPS_SVC_MAX * 64];

	buf_puts(b, "ok");
	put_field(b, "running", l->running);
	if (l->n_over)
		buf_printf(b, " over=%u", l->n_over);
	buf_puts(b, "\n");
	for (unsigned i = 0; i < l->n; i++) {
		const struct app *a = &l->app[i];

		join_services(a, svcs, sizeof(svcs));
		buf_puts(b, "name=");
		kv_quote(b, a->name);
		put_field(b, "package", a->pkg);
		put_field(b, "version", a->version);
		put_field(b, "platform", a->platform);
		put_field(b, "state", a->enabled ? "enabled" : "disabled");
		put_field(b, "reason", a->reason);
		put_field(b, "services", svcs);
		buf_puts(b, "\n");
	}
}

static void set_services(struct app *a, const char *list)
{
	char copy[APPS_SVC_MAX * 64], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *t = strtok_r(copy, " ", &save); t && a->nsvc < APPS_SVC_MAX; t = strtok_r(NULL, " ", &save))
		snprintf(a->svc[a->nsvc++], sizeof(a->svc[0]), "%s", t);
}

/* One field of a record line into a (unknown keys are ignored: a newer
 * watchdog may say more). */
static void set_field(struct app *a, const char *k, const char *v)
{
	if (!strcmp(k, "name"))
		snprintf(a->name, sizeof(a->name), "%s", v);
	else if (!strcmp(k, "package"))
		snprintf(a->pkg, sizeof(a->pkg), "%s", v);
	else if (!strcmp(k, "version"))
		snprintf(a->version, sizeof(a->version), "%s", v);
	else if (!strcmp(k, "platform"))
		snprintf(a->platform, sizeof(a->platform), "%s", v);
	else if (!strcmp(k, "state"))
		a->enabled = !strcmp(v, "enabled");
	else if (!strcmp(k, "reason"))
		snprintf(a->reason, sizeof(a->reason), "%s", v);
	else if (!strcmp(k, "services"))
		set_services(a, v);
}

/* The fields of the line at line: the first line's (running, over) into
 * l, a record's into a. */
static int read_line(const char *line, struct apps_list *l, struct app *a)
{
	size_t pos = 0;
	char *k, *v;
	int r;

	while ((r = kv_field_next(line, &pos, &k, &v)) == 1) {
		if (a)
			set_field(a, k, v);
		else if (!strcmp(k, "running"))
			snprintf(l->running, sizeof(l->running), "%s", v);
		else if (!strcmp(k, "over"))
			l->n_over = (unsigned)strtoul(v, NULL, 10) % 100000;
		free(k);
		free(v);
	}
	return r;
}

int apps_from_reply(const char *reply, struct apps_list *l)
{
	const char *line;
	int r;

	memset(l, 0, sizeof(*l));
	r = ctl_reply_status(reply);
	if (r < 0)
		return r;
	if (reply[2] == ' ' && read_line(reply + 3, l, NULL) < 0)
		return -SPACE_E_FORMAT;
	for (line = strchr(reply, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		struct app *a = next_slot(l);

		if (a && read_line(line + 1, l, a) < 0)
			return -SPACE_E_FORMAT;
	}
	return 0;
}

/* ------------------------------------------------------------ views */

void apps_json(struct jw *w, const struct apps_list *l)
{
	jw_key(w, "applications");
	jw_arr_begin(w);
	for (unsigned i = 0; i < l->n; i++) {
		const struct app *a = &l->app[i];

		jw_obj_begin(w);
		jw_kstr(w, "name", a->name);
		jw_kstr(w, "package", a->pkg);
		jw_kstr(w, "version", a->version);
		jw_kstr(w, "platform", a->platform[0] ? a->platform : NULL);
		jw_kstr(w, "state", a->enabled ? "enabled" : "disabled");
		jw_kstr(w, "reason", a->enabled ? NULL : a->reason);
		jw_key(w, "services");
		jw_arr_begin(w);
		for (unsigned k = 0; k < a->nsvc; k++)
			jw_str(w, a->svc[k]);
		jw_arr_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (l->n_over)
		jw_kint(w, "applications_over_limit", l->n_over);
}

void apps_text(struct buf *b, const struct apps_list *l)
{
	unsigned off = l->n_over;

	for (unsigned i = 0; i < l->n; i++)
		off += !l->app[i].enabled;
	if (!l->n && !l->n_over) {
		buf_puts(b, "applications: none\n");
		return;
	}
	buf_printf(b, "applications: %u (%u disabled)\n", l->n + l->n_over, off);
	for (unsigned i = 0; i < l->n; i++) {
		const struct app *a = &l->app[i];

		buf_printf(b, "  %s %s: %s%s%s\n", a->name[0] ? a->name : a->pkg, a->version[0] ? a->version : "?",
			   a->enabled ? "enabled" : "disabled", a->enabled ? "" : ": ", a->enabled ? "" : a->reason);
	}
	if (l->n_over)
		buf_printf(b, "  %u more: disabled: over the limit of %d applications\n", l->n_over, APPS_MAX);
}
