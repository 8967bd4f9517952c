/* SPDX-License-Identifier: MIT */
/* test_apps.c - application compatibility (pkg/libmgmt/apps.c, issue 7):
 * the decision (own platform range, the release's table, unlisted apps,
 * bad metadata, unreadable release or table), the scan of an application
 * root's database (bounded at APPS_MAX), the watchdog's reply round trip,
 * and the JSON and text views. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/release/release.h"
#include "pkg/libpkg/libpkg.h"
#include "pkg/libmgmt/apps.h"
#include "json.h"
#include "tap.h"
#include "util.h"

#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char table_text[] = "format = 1\nfoo = 2.0 2.9\nbar = 1.0 -\n";

/* Metadata of an application package. */
static void meta_text(char *out, size_t n, const char *name, const char *app, const char *version,
		      const char *platform, const char *svcs)
{
	size_t len = (size_t)snprintf(out, n, "pkgformat 1\nname %s\nversion %s\nrelease 1\narch amd64\n"
					      "base-files 0\n",
				      name, version);
	if (app)
		len += (size_t)snprintf(out + len, n - len, "app %s\n", app);
	if (platform)
		len += (size_t)snprintf(out + len, n - len, "platform %s\n", platform);
	if (svcs) {
		len += (size_t)snprintf(out + len, n - len, "dir etc 0755 0 0\ndir etc/watchdog.d 0755 0 0\n");
		for (const char *p = svcs; *p;) {
			size_t k = strcspn(p, " ");
			len += (size_t)snprintf(out + len, n - len, "file etc/watchdog.d/%.*s 0644 0 0 0 " SHA "\n",
						(int)k, p);
			p += k + (p[k] == ' ');
		}
	}
}

/* Decide for one package on release running with the test table. */
static struct app decide(const char *running, const char *version, const char *platform, const char *app)
{
	static struct rel_manifest table;
	struct apps_basis b = { .table = &table };
	struct space_err err = { "" };
	struct pkg_meta m;
	struct app a = { .pkg = "" };
	char text[1024];

	if (rel_apps_parse(table_text, strlen(table_text), &table, &err) < 0) {
		snprintf(a.reason, sizeof(a.reason), "test table: %.200s", err.msg);
		return a;
	}
	snprintf(b.running, sizeof(b.running), "%s", running);
	meta_text(text, sizeof(text), app ? app : "x", app, version, platform, NULL);
	if (pkg_meta_parse(text, strlen(text), PKG_PARSE_DB, &m, &err) < 0) {
		snprintf(a.reason, sizeof(a.reason), "test metadata: %.200s", err.msg);
		return a;
	}
	apps_decide(&m, &b, &a);
	pkg_meta_free(&m);
	return a;
}

static void expect(const char *running, const char *version, const char *platform, const char *app,
		   const char *reason, const char *what)
{
	struct app a = decide(running, version, platform, app);

	if (!reason) {
		ok(a.enabled && !a.reason[0], "enabled: %s (%s)", what, a.reason);
		return;
	}
	ok(!a.enabled && !strcmp(a.reason, reason), "disabled: %s", what);
	if (strcmp(a.reason, reason))
		printf("#   reason '%s'\n#   want   '%s'\n", a.reason, reason);
}

static void test_decide(void)
{
	struct apps_basis b = { .why = "application table unavailable: /x: No such file or directory" };
	char baz[] = "baz", one[] = "1.0";
	struct pkg_meta m = { .name = baz, .version = one, .app = baz };
	struct app a;

	expect("21.3R2", "1.0", "21.1 21.4", "baz", NULL, "inside its platform range, not in the table");
	expect("21.3R2", "1.0", NULL, "baz", NULL, "no platform range, not in the table");
	expect("21.3R2", "1.0", "21.1 21.2", "baz", "needs platform 21.1-21.2, running 21.3R2",
	       "above its platform range");
	expect("21.0R1", "1.0", "21.1 21.2", "baz", "needs platform 21.1-21.2, running 21.0R1",
	       "below its platform range");
	expect("21.2R3.1", "1.0", "21.1 21.2", "baz", NULL, "a train maximum admits its whole train");
	expect("21.2R4", "1.0", "21.1 21.2R3", "baz", "needs platform 21.1-21.2R3, running 21.2R4",
	       "a release maximum admits its respins only");
	expect("21.2R3.2", "1.0", "21.1 21.2R3", "baz", NULL, "a respin of the maximum");
	expect("21.1", "1.0", "21.1R1 -", "baz", "needs platform 21.1R1 or later, running 21.1",
	       "open range: a train is older than its first release");
	expect("29.9R9", "1.0", "21.1 -", "baz", NULL, "open range: any later release");
	expect("21.3R2", "1.4", NULL, "foo", "release 21.3R2 supports foo 2.0-2.9, installed 1.4",
	       "too old for the release's table");
	expect("21.3R2", "3.0", NULL, "foo", "release 21.3R2 supports foo 2.0-2.9, installed 3.0",
	       "too new for the release's table");
	expect("21.3R2", "2.4R1", "21.1 21.4", "foo", NULL, "in the table's range and its own");
	expect("21.3R2", "0.9", NULL, "bar", "release 21.3R2 supports bar 1.0 or later, installed 0.9",
	       "table row without a maximum");
	expect("21.3R2", "2.4", "21.4 -", "foo", "needs platform 21.4 or later, running 21.3R2",
	       "its own range is checked first");
	expect("21.3R2", "1.4.2", NULL, "baz",
	       "bad metadata: version 1.4.2 is not a release version (MAJOR.MINOR[Rn[.n]...])",
	       "a version the release order cannot compare");
	expect("21.3R2", "1.0", "21.x 21.2", "baz", "bad metadata: platform '21.x 21.2' is not a release range",
	       "a platform range that is not versions");
	expect("21.3R2", "1.0", "21.3 21.2", "baz", "bad metadata: platform minimum 21.3 is after its maximum 21.2",
	       "an inverted platform range");

	memset(&a, 0, sizeof(a));
	apps_decide(&m, &b, &a);
	ok(!a.enabled && !strcmp(a.reason, b.why), "no table: disabled with why (%s)", a.reason);
	m.app = NULL;
	apps_decide(&m, &b, &a);
	ok(!a.enabled && !strcmp(a.reason, "not an application"), "a package without app is no application");
}

/* ------------------------------------------------------------ scan */

static char root[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	int r;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	r = write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		printf("# write %s: %s\n", path, space_strerror(r));
}

static void put_record(const char *name, const char *app, const char *version, const char *platform,
		       const char *svcs)
{
	char text[2048], rel[256];

	meta_text(text, sizeof(text), name, app, version, platform, svcs);
	snprintf(rel, sizeof(rel), "%s/installed/%s", PKG_DB_DIR, name);
	put(rel, text);
}

static const struct app *find(const struct apps_list *l, const char *pkg)
{
	for (unsigned i = 0; i < l->n; i++)
		if (!strcmp(l->app[i].pkg, pkg))
			return &l->app[i];
	return NULL;
}

/* The scan without a usable release or table: every application is
 * disabled, with the reason. */
static void scan_unusable(struct apps_env *env, struct apps_list *l)
{
	char path[256];
	struct space_err why = { "" };
	const struct app *a;

	put("space-release", "PRODUCT=space\n");
	apps_scan(env, l, &why);
	a = find(l, "foo2");
	ok(a && !a->enabled && strstr(a->reason, "running release unknown: ") && strstr(a->reason, "space-release"),
	   "no VERSION: every application disabled (%s)", a ? a->reason : "missing");
	put("space-release", "VERSION=21.3R2\n");
	put("app-compat.conf", "format = 1\nfoo = 2.0\n");
	apps_scan(env, l, &why);
	a = find(l, "foo2");
	ok(a && !a->enabled && strstr(a->reason, "application table unavailable: ") && strstr(a->reason, "line 2"),
	   "a bad table: every application disabled (%s)", a ? a->reason : "missing");
	snprintf(path, sizeof(path), "%s/app-compat.conf", root);
	unlink(path);
	apps_scan(env, l, &why);
	a = find(l, "foo2");
	ok(a && !a->enabled && strstr(a->reason, "No such file"), "no table: disabled (%s)", a ? a->reason : "missing");
	put("app-compat.conf", table_text);
}

/* The list is bounded: fill it. */
static void scan_bounded(struct apps_env *env, struct apps_list *l)
{
	struct space_err why = { "" };
	int r;

	for (int i = 0; i < APPS_MAX + 6; i++) {
		char name[32];
		snprintf(name, sizeof(name), "z%03d", i);
		put_record(name, name, "1.0", NULL, NULL);
	}
	r = apps_scan(env, l, &why);
	ok(r == 0 && l->n == APPS_MAX && l->n_over == 5 + 6, "%d applications listed, the %d others counted",
	   APPS_MAX, 11);
	ok(find(l, "foo") && find(l, "z058") && !find(l, "z059"), "by name: the first %d", APPS_MAX);
}

/* One tree, in order: no database, the records, then the release or the
 * table unusable, then more applications than the list holds. */
static void test_scan(struct apps_list *l)
{
	char path[256];
	struct space_err why = { "" };
	struct apps_env env = { .root = root };
	const struct app *a;
	int r;

	snprintf(path, sizeof(path), "%s/space-release", root);
	env.release_file = strdup(path);
	snprintf(path, sizeof(path), "%s/app-compat.conf", root);
	env.compat_file = strdup(path);

	r = apps_scan(&env, l, &why);
	ok(r == 0 && l->n == 0 && l->n_over == 0, "no database: no applications (%s)", why.msg);

	snprintf(path, sizeof(path), "%s/%s/installed", root, PKG_DB_DIR);
	mkdir_p(path, 0755);
	put("space-release", "PRODUCT=space\nVERSION=21.3R2\nBUILD_ID=x\n");
	put("app-compat.conf", table_text);
	put_record("foo", "foo", "1.4", "21.1 21.4", "foo-web.conf foo.conf");
	put_record("foo2", "foo", "2.1", NULL, "other.conf");
	put_record("old", "old", "1.0", "21.1 21.2", "old.conf");
	put_record("libx", NULL, "7", NULL, "libx.conf");
	put(PKG_DB_DIR "/installed/broken", "pkgformat 1\nname broken\n");
	put(PKG_DB_DIR "/installed/liar", "pkgformat 1\nname foo\nversion 1\nrelease 1\narch a\n");
	put(PKG_DB_DIR "/installed/.tmp", "x");
	r = apps_scan(&env, l, &why);
	is_int(r, 0, "scan (%s)", why.msg);
	ok(!strcmp(l->running, "21.3R2"), "the running release is read");
	is_int(l->n, 5, "applications and unreadable records are listed, other packages not");
	a = find(l, "foo");
	ok(a && !a->enabled && !strcmp(a->reason, "release 21.3R2 supports foo 2.0-2.9, installed 1.4"),
	   "foo 1.4 disabled by the table (%s)", a ? a->reason : "missing");
	ok(a && a->nsvc == 2 && !strcmp(a->svc[0], "foo-web.conf") && !strcmp(a->svc[1], "foo.conf"),
	   "its two service definitions");
	a = find(l, "foo2");
	ok(a && a->enabled, "foo 2.1 enabled");
	a = find(l, "old");
	ok(a && !a->enabled && !strcmp(a->reason, "needs platform 21.1-21.2, running 21.3R2"),
	   "old disabled by its platform range");
	a = find(l, "broken");
	ok(a && !a->enabled && !strncmp(a->reason, "unreadable record: ", 19), "a bad record is listed, disabled (%s)",
	   a ? a->reason : "missing");
	a = find(l, "liar");
	ok(a && !a->enabled && strstr(a->reason, "names package foo"), "a record naming another package (%s)",
	   a ? a->reason : "missing");
	ok(find(l, "libx") == NULL, "a package without app is not listed");
	a = apps_service_owner(l, "other.conf");
	ok(a && !strcmp(a->pkg, "foo2"), "owner of a service definition");
	ok(apps_service_owner(l, "libx.conf") == NULL, "a non-application's service has no owner");
	scan_unusable(&env, l);
	scan_bounded(&env, l);
	free((char *)env.release_file);
	free((char *)env.compat_file);
}

static void test_reply(struct apps_list *l)
{
	struct apps_list back;
	struct buf b;
	const struct app *a;

	buf_init(&b);
	apps_reply(&b, l);
	ok(!buf_failed(&b) && !strncmp(b.p, "ok running=21.3R2 over=11\n", 26), "reply first line");
	is_int(apps_from_reply(b.p, &back), 0, "the reply reads back");
	ok(back.n == l->n && back.n_over == l->n_over && !strcmp(back.running, l->running), "same counts");
	a = find(&back, "foo");
	ok(a && !a->enabled && !strcmp(a->reason, find(l, "foo")->reason) && a->nsvc == 2 &&
		   !strcmp(a->svc[1], "foo.conf") && !strcmp(a->platform, "21.1 21.4") && !strcmp(a->version, "1.4"),
	   "an application's fields survive");
	ok(find(&back, "foo2") && find(&back, "foo2")->enabled, "enabled survives");
	is_int(apps_from_reply("error not running\n", &back), -SPACE_E_CHILD, "an error reply");
	is_int(apps_from_reply("what\n", &back), -SPACE_E_FORMAT, "not a reply");
	is_int(apps_from_reply("ok\nname=\"unterminated\n", &back), -SPACE_E_FORMAT, "a bad record");
	/* more records than APPS_MAX: counted */
	buf_reset(&b);
	buf_puts(&b, "ok running=21.3R2\n");
	for (int i = 0; i < APPS_MAX + 3; i++)
		buf_printf(&b, "name=a%d state=enabled\n", i);
	ok(apps_from_reply(b.p, &back) == 0 && back.n == APPS_MAX && back.n_over == 3,
	   "a longer reply is bounded at %d", APPS_MAX);
	buf_free(&b);
}

static void test_views(struct apps_list *l)
{
	struct apps_list small = { .running = "21.3R2", .n = 2 };
	struct buf b;
	struct jw w;
	char *v = NULL;

	small.app[0] = *find(l, "foo");
	small.app[1] = *find(l, "foo2");
	buf_init(&b);
	apps_text(&b, &small);
	ok(!strcmp(b.p, "applications: 2 (1 disabled)\n"
			"  foo 1.4: disabled: release 21.3R2 supports foo 2.0-2.9, installed 1.4\n"
			"  foo 2.1: enabled\n"),
	   "text view");
	if (strncmp(b.p, "applications: 2", 15))
		printf("# %s", b.p);
	buf_reset(&b);
	small.n = 0;
	apps_text(&b, &small);
	ok(!strcmp(b.p, "applications: none\n"), "text view, none");
	buf_reset(&b);
	apps_text(&b, l);
	ok(strstr(b.p, "  11 more: disabled: over the limit of 64 applications\n") != NULL, "text view, over the limit");

	buf_reset(&b);
	small.n = 2;
	jw_init(&w, &b);
	jw_obj_begin(&w);
	apps_json(&w, &small);
	jw_obj_end(&w);
	ok(!buf_failed(&b) && json_get_string(b.p, b.len, "nothing", &v) == -ENOENT, "JSON is one valid object");
	ok(strstr(b.p, "\"applications\":[{\"name\":\"foo\",\"package\":\"foo\",\"version\":\"1.4\","
		       "\"platform\":\"21.1 21.4\",\"state\":\"disabled\",\"reason\":\"release 21.3R2 supports "
		       "foo 2.0-2.9, installed 1.4\",\"services\":[\"foo-web.conf\",\"foo.conf\"]}") != NULL,
	   "JSON of a disabled application");
	ok(strstr(b.p, "\"state\":\"enabled\",\"reason\":null") && !strstr(b.p, "over_limit"),
	   "JSON of an enabled one; no over_limit when none");
	buf_reset(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	apps_json(&w, l);
	jw_obj_end(&w);
	ok(strstr(b.p, ",\"applications_over_limit\":11}") != NULL, "JSON counts those over the limit");
	buf_free(&b);
}

/* The reply and the views are made from the list the scan read: run alone,
 * they run the scan first (its checks are then part of their output). */
static struct apps_list scanned;
static int scan_done;

static void run_scan(void)
{
	test_scan(&scanned);
	scan_done = 1;
}

static void run_reply(void)
{
	if (!scan_done)
		run_scan();
	test_reply(&scanned);
}

static void run_views(void)
{
	if (!scan_done)
		run_scan();
	test_views(&scanned);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/apps/decide", test_decide },
		{ "/apps/scan", run_scan },
		{ "/apps/reply", run_reply },
		{ "/apps/views", run_views },
		{ NULL, NULL },
	};
	char cmd[128];
	int r;

	snprintf(root, sizeof(root), "/tmp/test_apps.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	r = tap_run(argc, argv, tests);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		printf("# cleanup of %s failed\n", root);
	return r;
}
