/* SPDX-License-Identifier: MIT */
/* test_hotpatch_manifest.c - the hot-patch bundle manifest (pkg/hotpatch/
 * manifest.h): format -> parse round trip, every refusal of the parser
 * (with its line), each table filled to its bound and one past it, the
 * name binding, the release a patch applies to, level ordering. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/hotpatch/manifest.h"
#include "tap.h"
#include "util.h"

#define HA "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HB "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char good[] =
	"format = 1\n"
	"product = space\n"
	"release = 21.3R1\n"
	"patch = 2\n"
	"name = Space-21.3R1-Hotpatch-v2\n"
	"patchme.sha256 = " HA "\n"
	"fix = 1 devgate-bye devgate: devices are told BYE stopping\n"
	"fix = 2 mgmtd-allow mgmtd: a 405 answer names the allowed methods\n"
	"package = devgate 21.3R1.1 2 12345 " HB "\n"
	"package = mgmtd 21.3R1.1 2 678 " HB "\n"
	"service = devgate\n"
	"service = mgmtd\n"
	"backup = etc/mgmtd.conf\n";

static struct hp_manifest m, m2;

/* good with the first occurrence of from replaced by to (malloc'd). */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(good, from);
	char *s;

	if (!at)
		abort();
	s = xasprintf("%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	if (!s)
		abort();
	return s;
}

/* Parse text; ok when refused with an error holding want. */
static void refused(const char *text, const char *want, const char *what)
{
	struct space_err err = { "" };
	int r = hp_manifest_parse(text, strlen(text), &m, &err);

	ok(r == -SPACE_E_FORMAT && strstr(err.msg, want), "%s: refused (%s)", what, err.msg);
	if (!strstr(err.msg, want))
		printf("#   want \"%s\"\n", want);
}

static void refused_edit(const char *from, const char *to, const char *want, const char *what)
{
	char *t = edit(from, to);

	refused(t, want, what);
	free(t);
}

static void test_round_trip(void)
{
	struct space_err err = { "" };
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;

	is_int(hp_manifest_parse(good, strlen(good), &m, &err), 0, "the good manifest parses (%s)", err.msg);
	ok(m.format == 1 && !strcmp(m.product, "space") && !strcmp(m.release, "21.3R1") && m.version.n == 3 &&
		   m.patch == 2 && !strcmp(m.name, "Space-21.3R1-Hotpatch-v2") && m.patchme_sha256[0] == 0xaa,
	   "single keys read");
	ok(m.nfix == 2 && m.fix[0].level == 1 && !strcmp(m.fix[0].id, "devgate-bye") &&
		   !strcmp(m.fix[0].text, "devgate: devices are told BYE stopping") && m.fix[1].level == 2,
	   "fixes read with level, id and the whole text");
	ok(m.npkg == 2 && !strcmp(m.pkg[0].name, "devgate") && !strcmp(m.pkg[0].version, "21.3R1.1") &&
		   !strcmp(m.pkg[0].release, "2") && m.pkg[0].size == 12345 && m.pkg[0].sha256[0] == 0x01 &&
		   m.pkg[1].size == 678,
	   "packages read");
	ok(m.nservice == 2 && !strcmp(m.service[1], "mgmtd") && m.nbackup == 1 &&
		   !strcmp(m.backup[0], "etc/mgmtd.conf"),
	   "services and backups read");
	is_int(hp_manifest_format(&m, &t1, &l1), 0, "format");
	ok(t1 && l1 == strlen(good) && !memcmp(t1, good, l1), "format gives the text it was parsed from");
	is_int(hp_manifest_parse(t1, l1, &m2, &err), 0, "and that text parses");
	is_int(hp_manifest_format(&m2, &t2, &l2), 0, "format again");
	ok(l1 == l2 && !memcmp(t1, t2, l1), "the same m gives the same bytes");
	free(t1);
	free(t2);

	/* keys in another order and extra spaces: accepted, formatted canonically */
	t1 = xasprintf("format = 1\nname = Space-21.3R1-Hotpatch-v1\nrelease = 21.3R1\nproduct = space\n"
		       "package = devgate   21.3R1.1 2 1 " HB "\n# comment\n\npatch = 1\n"
		       "fix =   1   a.b_c-9   text  with  spaces\npatchme.sha256 = \"" HA "\"\n");
	is_int(hp_manifest_parse(t1, strlen(t1), &m, &err), 0, "keys in any order, spaces, comments (%s)", err.msg);
	ok(!strcmp(m.fix[0].text, "text  with  spaces") && m.nservice == 0 && m.nbackup == 0,
	   "text keeps its inner spaces; no service, no backup is fine");
	free(t1);
	t1 = NULL;

	/* format refuses what would not parse back, allocating nothing */
	hp_manifest_parse(good, strlen(good), &m, &err);
	strcpy(m.fix[0].text, "trailing space ");
	ok(hp_manifest_format(&m, &t1, &l1) == -EINVAL && !t1, "format: a text that would not read back: -EINVAL");
	hp_manifest_parse(good, strlen(good), &m, &err);
	m.patch = 3;
	ok(hp_manifest_format(&m, &t1, &l1) == -EINVAL && !t1, "format: name not the bundle name of the patch: -EINVAL");
	hp_manifest_parse(good, strlen(good), &m, &err);
	memset(m.product, 'x', sizeof(m.product));
	ok(hp_manifest_format(&m, &t1, &l1) == -EINVAL && !t1, "format: an unterminated string: -EINVAL");
	hp_manifest_parse(good, strlen(good), &m, &err);
	m.npkg = 0;
	ok(hp_manifest_format(&m, &t1, &l1) == -EINVAL && !t1, "format: no package: -EINVAL");
}

static void test_add(void)
{
	const char *why;

	memset(&m, 0, sizeof(m));
	ok(!hp_manifest_add(&m, "fix", "1 a-fix its text") && m.nfix == 1 && !strcmp(m.fix[0].text, "its text"),
	   "hp_manifest_add: a fix");
	why = hp_manifest_add(&m, "fix", "1 a-fix again");
	ok(why && strstr(why, "listed twice") && m.nfix == 1, "hp_manifest_add: the same id again: %s", why);
	why = hp_manifest_add(&m, "service", "a\tb");
	ok(why && strstr(why, "control") && m.nservice == 0, "hp_manifest_add: a control character: %s", why);
	why = hp_manifest_add(&m, "patch", "2");
	ok(why && !strcmp(why, "unknown key"), "hp_manifest_add: only the repeatable keys: %s", why);
	ok(!hp_manifest_add(&m, "package", "a 1 1 1 " HB) && m.npkg == 1, "hp_manifest_add: a package");
}

/* The manifest's structure: format first, known keys once, none missing,
 * the patch level. */
static void test_refusals(void)
{
	refused_edit("format = 1", "format = 2", "line 1: format is not 1", "format 2");
	refused_edit("format = 1\nproduct = space\n", "product = space\nformat = 1\n", "line 1: the first entry must be format",
		     "format not first");
	refused_edit("backup = etc/mgmtd.conf", "backup = etc/mgmtd.conf\nlevel = 3", "line 14: unknown key", "unknown key");
	refused_edit("patch = 2\n", "patch = 2\npatch = 2\n", "line 5: key given twice", "patch twice");
	refused_edit("product = space\n", "product = space\nproduct = space\n", "line 3: key given twice", "product twice");
	refused_edit("name = Space-21.3R1-Hotpatch-v2\n", "", "missing name", "no name");
	refused_edit("patchme.sha256 = " HA "\n", "", "missing patchme.sha256", "no patchme.sha256");
	refused_edit("fix = 1 devgate-bye devgate: devices are told BYE stopping\nfix = 2 mgmtd-allow mgmtd: a 405 answer names the allowed methods\n",
		     "", "missing fix", "no fix");
	refused_edit("package = devgate 21.3R1.1 2 12345 " HB "\npackage = mgmtd 21.3R1.1 2 678 " HB "\n", "",
		     "missing package", "no package");
	refused_edit("patch = 2", "patch = 0", "line 4: patch is not a level", "patch 0");
	refused_edit("patch = 2", "patch = 10000", "line 4: patch is not a level", "patch 10000");
	refused_edit("patch = 2", "patch = 02", "line 4: patch is not a level", "patch 02 (a second spelling)");
	refused_edit("patch = 2", "patch = +2", "line 4: patch is not a level", "patch +2");
}

/* The fix lines: level, order, id, text. */
static void test_refusals_fix(void)
{
	refused_edit("fix = 1 devgate-bye", "fix = 0 devgate-bye", "line 7: fix: level is not a number", "fix level 0");
	refused_edit("fix = 1 devgate-bye", "fix = 10000 devgate-bye", "line 7: fix: level is not a number", "fix level 10000");
	refused_edit("fix = 2 mgmtd-allow", "fix = 3 mgmtd-allow", "line 8: fix mgmtd-allow: level 3 is above patch 2",
		     "fix level above the patch");
	refused_edit("fix = 1 devgate-bye", "fix = 3 devgate-bye", "line 8: fix: levels decrease", "fix levels decreasing");
	refused_edit("fix = 2 mgmtd-allow", "fix = 2 devgate-bye", "line 8: fix: id listed twice", "duplicate fix id");
	refused_edit("fix = 1 devgate-bye", "fix = 1 devgate/bye", "line 7: fix: id is not", "fix id with a slash");
	refused_edit("fix = 1 devgate-bye", "fix = 1 -devgate", "line 7: fix: id is not", "fix id like an option");
	refused_edit("fix = 1 devgate-bye devgate: devices are told BYE stopping", "fix = 1 devgate-bye",
		     "line 7: fix: want `<level> <id> <text>`", "fix without text");
	refused_edit("fix = 1 devgate-bye", "fix = 1 abcdefghijabcdefghijabcdefghijabc", "line 7: fix: id is not",
		     "fix id of 33 bytes");
}

/* The package lines and the digests. */
static void test_refusals_package(void)
{
	refused_edit("package = devgate 21.3R1.1 2 12345 " HB "\npackage = mgmtd 21.3R1.1 2 678 " HB "\n",
		     "package = mgmtd 21.3R1.1 2 678 " HB "\npackage = devgate 21.3R1.1 2 12345 " HB "\n",
		     "line 10: package: not sorted by name", "packages not sorted");
	refused_edit("package = mgmtd", "package = devgate", "line 10: package: listed twice", "package twice");
	refused_edit("package = devgate 21.3R1.1 2 12345 " HB, "package = devgate 21.3R1.1 2 12345 " HB "0",
		     "line 9: package: want", "sha256 of 65 digits");
	refused_edit("package = devgate 21.3R1.1 2 12345 0123456789abcdef", "package = devgate 21.3R1.1 2 12345 0123456789ABCDEF",
		     "line 9: package: want", "sha256 in upper case");
	refused_edit("package = devgate 21.3R1.1 2 12345 0123456789abcdef", "package = devgate 21.3R1.1 2 12345 0123456789abcdeg",
		     "line 9: package: want", "sha256 not hex");
	refused_edit("patchme.sha256 = " HA, "patchme.sha256 = " HB "ab", "line 6: patchme.sha256 is not", "patchme.sha256 too long");
	refused_edit("package = devgate 21.3R1.1 2 12345 " HB, "package = devgate 21.3R1.1 2 12345 " HB " extra",
		     "line 9: package: want", "package with a sixth field");
	refused_edit("package = devgate 21.3R1.1 2 12345", "package = devgate 21.3R1.1 2 0", "line 9: package: size",
		     "package size 0");
	refused_edit("package = devgate 21.3R1.1 2 12345", "package = devgate 21.3R1.1 2 99999999999999999999",
		     "line 9: package: size", "package size past 2^63");
	refused_edit("package = devgate 21.3R1.1 2", "package = ../devgate 21.3R1.1 2", "line 9: package: name",
		     "package name with a path");
	refused_edit("package = devgate 21.3R1.1 2", "package = devgate 21.3R1.1 2/x", "line 9: package: release",
		     "package release with a slash");
	refused_edit("package = devgate 21.3R1.1", "package = devgate :21", "line 9: package: version",
		     "package version starting with ':'");
}

/* The name, release, product, services and backup paths. */
static void test_refusals_fields(void)
{
	refused_edit("name = Space-21.3R1-Hotpatch-v2", "name = Space-21.3R1-Hotpatch-v3",
		     "line 5: name is not Space-21.3R1-Hotpatch-v2", "name of another level");
	refused_edit("name = Space-21.3R1-Hotpatch-v2", "name = space-21.3R1-Hotpatch-v2",
		     "line 5: name is not Space-21.3R1-Hotpatch-v2", "name in another case");
	refused_edit("release = 21.3R1\n", "release = 21.3R1.1\n", "line 3: release is not a release such as 21.3R1",
		     "release with a build part");
	refused_edit("release = 21.3R1\n", "release = 21.3\n", "line 3: release is not", "release without R part");
	refused_edit("release = 21.3R1\n", "release = 21.03R1\n", "line 3: release is not written canonically",
		     "release 21.03R1");
	refused_edit("product = space", "product = sp/ace", "line 2: product is not", "product with a slash");
	refused_edit("service = mgmtd", "service = devgate", "line 12: service: listed twice", "service twice");
	refused_edit("service = mgmtd", "service = mg md", "line 12: service: not a service name", "service with a space");
	refused_edit("backup = etc/mgmtd.conf", "backup = /etc/mgmtd.conf", "line 13: backup: not a relative path",
		     "absolute backup path");
	refused_edit("backup = etc/mgmtd.conf", "backup = etc/../../x", "line 13: backup: not a relative path",
		     "backup path with ..");
	refused_edit("backup = etc/mgmtd.conf", "backup = usr/lib/pkg/devgate", "line 13: backup: not a relative path",
		     "backup inside the package database");
	refused_edit("backup = etc/mgmtd.conf", "backup = var/lib/hotpatch/journal",
		     "line 13: backup: inside the hot-patch state directory", "backup of the tool's own state");
	refused_edit("backup = etc/mgmtd.conf", "backup = etc/mgmtd.conf\nbackup = etc/mgmtd.conf", "line 14: backup: listed twice",
		     "backup twice");
}

/* Bytes a manifest may not hold: control and non-ASCII characters, a NUL,
 * more than HP_MANIFEST_MAX. */
static void test_refusals_bytes(void)
{
	char big[HP_MANIFEST_MAX + 2];

	refused_edit("mgmtd: a 405", "mgmtd:\ta 405", "line 8: control or non-ASCII character in the value", "tab in a fix text");
	refused_edit("mgmtd: a 405", "mgmtd:\x1b[2Ja 405", "line 8: control or non-ASCII character in the value", "escape in a fix text");
	refused_edit("mgmtd: a 405", "mgmtd: \xc3\xa9 405", "line 8: control or non-ASCII character in the value", "non-ASCII in a fix text");
	refused_edit("service = devgate", "service = dev\rgate", "line 11: control or non-ASCII character", "CR inside a value");

	{
		/* a NUL inside: kv_parse refuses it with its line */
		char t[sizeof(good)];
		struct space_err e = { "" };
		memcpy(t, good, sizeof(good));
		t[strstr(good, "service") - good + 3] = '\0';
		ok(hp_manifest_parse(t, sizeof(good) - 1, &m, &e) == -SPACE_E_FORMAT &&
			   strstr(e.msg, "line 11"),
		   "a NUL byte: refused (%s)", e.msg);
	}
	memset(big, '#', sizeof(big));
	{
		struct space_err e = { "" };
		ok(hp_manifest_parse(big, HP_MANIFEST_MAX + 1, &m, &e) == -SPACE_E_FORMAT &&
			   strstr(e.msg, "larger than"),
		   "a manifest past HP_MANIFEST_MAX: refused (%s)", e.msg);
	}
}

struct buf_s {
	char *p;
	size_t len, cap;
};

static void put(struct buf_s *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void fix_line(struct buf_s *b, unsigned i)
{
	char l[96];
	snprintf(l, sizeof(l), "fix = 2 id%u text %u\n", i, i);
	put(b, l);
}

static void service_line(struct buf_s *b, unsigned i)
{
	char l[96];
	snprintf(l, sizeof(l), "service = svc%u\n", i);
	put(b, l);
}

static void backup_line(struct buf_s *b, unsigned i)
{
	char l[96];
	snprintf(l, sizeof(l), "backup = etc/file%u\n", i);
	put(b, l);
}

/* packages sort after "mgmtd": pkg000, pkg001, ... */
static void package_line(struct buf_s *b, unsigned i)
{
	char l[160];
	snprintf(l, sizeof(l), "package = pkg%03u 1.0 1 10 " HB "\n", i);
	put(b, l);
}

/* good plus n more lines made by line(i); then parsed. */
static int with_lines(unsigned n, void (*line)(struct buf_s *, unsigned), struct space_err *err)
{
	struct buf_s b = { 0 };
	int r;

	put(&b, good);
	for (unsigned i = 0; i < n; i++)
		line(&b, i);
	r = hp_manifest_parse(b.p, b.len, &m, err);
	free(b.p);
	return r;
}

/* The table of line() holds max entries; good already has have of them. */
static void fill(const char *what, void (*line)(struct buf_s *, unsigned), unsigned max, unsigned have,
		 const unsigned *count)
{
	struct space_err err = { "" };
	int r = with_lines(max - have, line, &err);

	ok(r == 0 && *count == max, "%u %s fill the table (%s)", max, what, err.msg);
	r = with_lines(max - have + 1, line, &err);
	ok(r == -SPACE_E_FORMAT && strstr(err.msg, "too many"), "one more of %s: refused (%s)", what, err.msg);
}

static void test_tables(void)
{
	fill("fixes", fix_line, HP_MAX_FIXES, 2, &m.nfix);
	fill("packages", package_line, HP_MAX_PACKAGES, 2, &m.npkg);
	fill("services", service_line, HP_MAX_SERVICES, 2, &m.nservice);
	fill("backup files", backup_line, HP_MAX_BACKUP, 1, &m.nbackup);
}

static void test_names(void)
{
	char n[HP_NAME_MAX], f[HP_PATH_MAX];
	struct space_err err = { "" };
	char long_product[REL_NAME_MAX];

	is_int(hp_bundle_name(n, "space", "21.3R1", 2), 0, "bundle name");
	ok(!strcmp(n, "Space-21.3R1-Hotpatch-v2"), "Space-21.3R1-Hotpatch-v2 (%s)", n);
	memset(long_product, 'p', sizeof(long_product) - 1);
	long_product[sizeof(long_product) - 1] = '\0';
	is_int(hp_bundle_name(n, long_product, "999999.999999R999999", 9999), -ENAMETOOLONG, "a name past HP_NAME_MAX: -ENAMETOOLONG");

	hp_manifest_parse(good, strlen(good), &m, &err);
	is_int(hp_package_file(f, &m.pkg[0]), 0, "package file");
	ok(!strcmp(f, "packages/devgate-21.3R1.1-2.pkg"), "packages/devgate-21.3R1.1-2.pkg (%s)", f);
	memset(m.pkg[0].name, 'n', HP_TOKEN_MAX - 1);
	memset(m.pkg[0].version, 'v', HP_TOKEN_MAX - 1);
	is_int(hp_package_file(f, &m.pkg[0]), -ENAMETOOLONG, "a package file past HP_PATH_MAX: -ENAMETOOLONG");

	hp_manifest_parse(good, strlen(good), &m, &err);
	is_int(hp_check_name(&m, "Space-21.3R1-Hotpatch-v2", &err), 0, "the directory name");
	is_int(hp_check_name(&m, "Space-21.3R1-Hotpatch-v2.tgz", &err), 0, "the .tgz name");
	is_int(hp_check_name(&m, "/var/tmp/up/Space-21.3R1-Hotpatch-v2.tgz", &err), 0,
	       "a path: its last component counts");
	is_int(hp_check_name(&m, "/tmp/x/Space-21.3R1-Hotpatch-v2/", &err), 0, "a directory with a slash");
	ok(hp_check_name(&m, "Space-21.3R1-Hotpatch-v3", &err) == -SPACE_E_FORMAT &&
		   !strcmp(err.msg, "renamed: bundle is Space-21.3R1-Hotpatch-v3, the signed manifest names Space-21.3R1-Hotpatch-v2"),
	   "a renamed directory: refused (%s)", err.msg);
	ok(hp_check_name(&m, "/tmp/Space-21.3R1-Hotpatch-v3.tgz", &err) == -SPACE_E_FORMAT &&
		   strstr(err.msg, "bundle is Space-21.3R1-Hotpatch-v3,"),
	   "a renamed .tgz: refused (%s)", err.msg);
	ok(hp_check_name(&m, "Space-21.3R1-Hotpatch-v2/etc", &err) == -SPACE_E_FORMAT,
	   "a path whose last component is another name: refused (%s)", err.msg);
	ok(hp_check_name(&m, "Space-21.3R1-Hotpatch-v2.tar", &err) == -SPACE_E_FORMAT,
	   "another suffix than .tgz: refused");
	ok(hp_check_name(&m, "a\033[2Jb.tgz", &err) == -SPACE_E_FORMAT && !strchr(err.msg, '\033'),
	   "a name with an escape is shown escaped (%s)", err.msg);
}

static void test_release(void)
{
	char rel[REL_VERSION_MAX];
	struct space_err err = { "" };

	is_int(hp_patch_release("21.3R1.1", rel), 0, "patch release of 21.3R1.1");
	ok(!strcmp(rel, "21.3R1"), "is 21.3R1 (%s)", rel);
	is_int(hp_patch_release("21.3R1", rel), 0, "patch release of 21.3R1");
	ok(!strcmp(rel, "21.3R1"), "is 21.3R1 (%s)", rel);
	is_int(hp_patch_release("21.3R12.4.5", rel), 0, "patch release of 21.3R12.4.5");
	ok(!strcmp(rel, "21.3R12"), "is 21.3R12 (%s)", rel);
	is_int(hp_patch_release("21.3", rel), -SPACE_E_FORMAT, "a train has no patch release");
	is_int(hp_patch_release("junk", rel), -SPACE_E_FORMAT, "junk has none");

	hp_manifest_parse(good, strlen(good), &m, &err); /* release 21.3R1 */
	is_int(hp_check_release(&m, "21.3R1", &err), 0, "21.3R1 applies to 21.3R1");
	is_int(hp_check_release(&m, "21.3R1.1", &err), 0, "21.3R1 applies to 21.3R1.1");
	is_int(hp_check_release(&m, "21.3R1.7", &err), 0, "21.3R1 applies to 21.3R1.7");
	ok(hp_check_release(&m, "21.3R2", &err) == -SPACE_E_FORMAT && strstr(err.msg, "21.3R1") &&
		   strstr(err.msg, "21.3R2"),
	   "not to 21.3R2, both named (%s)", err.msg);
	ok(hp_check_release(&m, "21.2R1", &err) == -SPACE_E_FORMAT && strstr(err.msg, "21.2R1"),
	   "not to 21.2R1 (%s)", err.msg);
	ok(hp_check_release(&m, "21.3R10", &err) == -SPACE_E_FORMAT, "not to 21.3R10 (%s)", err.msg);
	ok(hp_check_release(&m, "21.3", &err) == -SPACE_E_FORMAT, "not to the train 21.3 (%s)", err.msg);
	ok(hp_check_release(&m, "21.3R1\n", &err) == -SPACE_E_FORMAT && !strchr(err.msg, '\n'),
	   "a node release that is no version: refused, shown escaped (%s)", err.msg);
}

static void test_levels(void)
{
	is_int(hp_level_order(0, 1), HP_NEWER, "level 0 -> 1: newer");
	is_int(hp_level_order(1, 2), HP_NEWER, "1 -> 2: newer");
	is_int(hp_level_order(2, 2), HP_SAME, "2 -> 2: same (only with --reinstall)");
	is_int(hp_level_order(2, 1), HP_OLDER, "2 -> 1: older");
	is_int(hp_level_order(9, 10), HP_NEWER, "9 -> 10: newer (numbers, not text)");
	is_int(hp_level_order(10, 9), HP_OLDER, "10 -> 9: older");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/hotpatch_manifest/round_trip", test_round_trip },
		{ "/hotpatch_manifest/add", test_add },
		{ "/hotpatch_manifest/refusals", test_refusals },
		{ "/hotpatch_manifest/refusals/fix", test_refusals_fix },
		{ "/hotpatch_manifest/refusals/package", test_refusals_package },
		{ "/hotpatch_manifest/refusals/fields", test_refusals_fields },
		{ "/hotpatch_manifest/refusals/bytes", test_refusals_bytes },
		{ "/hotpatch_manifest/tables", test_tables },
		{ "/hotpatch_manifest/names", test_names },
		{ "/hotpatch_manifest/release", test_release },
		{ "/hotpatch_manifest/levels", test_levels },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
