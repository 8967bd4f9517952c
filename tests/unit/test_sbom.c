/* SPDX-License-Identifier: MIT */
/* test_sbom.c - the deb822 parser, DEP-5 copyright files and their SPDX
 * expressions (image/sbom: deb822.c, dep5.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image/sbom/dep5.h"
#include "tap.h"
#include "util.h"

static void refused_n(const char *text, size_t len, const char *want, const char *name)
{
	struct deb822 d;
	struct space_err why = { "" };
	int r = deb822_parse(text, len, &d, &why);

	ok(r == -SPACE_E_FORMAT && strstr(why.msg, want), "refused: %s (%s)", name, why.msg);
}

static void refused(const char *text, const char *want, const char *name)
{
	refused_n(text, strlen(text), want, name);
}

static void expr_is(const char *synopsis, const char *want)
{
	struct buf b;
	int r;

	buf_init(&b);
	r = dep5_to_spdx(synopsis, "p", &b, NULL, NULL);
	ok(r == 0 && b.p && strcmp(b.p, want) == 0, "'%s' -> '%s' (got '%s')", synopsis, want, b.p ? b.p : "");
	buf_free(&b);
}

static void expr_refused(const char *synopsis)
{
	struct buf b;

	buf_init(&b);
	ok(dep5_to_spdx(synopsis, "p", &b, NULL, NULL) == -SPACE_E_FORMAT && b.len == 0,
	   "'%s' is no expression, nothing written", synopsis);
	buf_free(&b);
}

static void test_deb822(void)
{
	const char *t = "Package: a\nDescription: one\n two\n .\n three\n\n# c\nX-y: z \n";
	struct deb822 d;
	struct space_err why;

	is_int(deb822_parse(t, strlen(t), &d, &why), 0, "two paragraphs parse");
	is_int(d.n, 2, "two paragraphs");
	ok(strcmp(deb822_get(&d.p[0], "description"), "one\ntwo\n\nthree") == 0,
	   "continuation lines, ' .' an empty line, names case-insensitive");
	ok(strcmp(deb822_get(&d.p[1], "X-Y"), "z") == 0, "value trimmed, comment skipped");
	ok(deb822_get(&d.p[0], "Nope") == NULL, "absent field");
	deb822_free(&d);
	refused("A: b\nno colon here\n", "line 2: no ':'", "a line without a colon");
	refused(" x\n", "line 1: continuation line without a field", "a continuation first");
	refused("A: b\na: c\n", "line 2: field a repeated", "a repeated field");
	refused_n("A: b\n\0B: c\n", 11, "line 2: NUL byte", "a NUL byte");
	refused("-A: b\n", "starts with '-'", "a name starting with '-'");
}

/* Fill the bounds: the last paragraph and field that fit, then one more. */
static void test_bounds(void)
{
	struct buf b;
	struct deb822 d;
	struct space_err why;

	buf_init(&b);
	for (int i = 0; i < DEB822_MAX_PARAS; i++)
		buf_printf(&b, "A: %d\n\n", i);
	is_int(deb822_parse(b.p, b.len, &d, &why), 0, "%d paragraphs fit", DEB822_MAX_PARAS);
	deb822_free(&d);
	buf_puts(&b, "A: one too many\n");
	ok(deb822_parse(b.p, b.len, &d, &why) == -SPACE_E_FORMAT && strstr(why.msg, "paragraphs"),
	   "one more paragraph refused (%s)", why.msg);
	buf_reset(&b);
	for (int i = 0; i < DEB822_MAX_FIELDS; i++)
		buf_printf(&b, "F%d: x\n", i);
	is_int(deb822_parse(b.p, b.len, &d, &why), 0, "%d fields fit", DEB822_MAX_FIELDS);
	deb822_free(&d);
	buf_puts(&b, "Fmore: x\n");
	ok(deb822_parse(b.p, b.len, &d, &why) == -SPACE_E_FORMAT && strstr(why.msg, "fields"),
	   "one more field refused (%s)", why.msg);
	buf_free(&b);
	ok(deb822_parse("A: b\n", DEB822_MAX_LEN + 1, &d, &why) == -SPACE_E_FORMAT &&
		   strstr(why.msg, "larger than"),
	   "input larger than the bound refused before it is read");
}

static void test_expressions(void)
{
	expr_is("GPL-2+", "GPL-2.0-or-later");
	expr_is("gpl-2+", "GPL-2.0-or-later");
	expr_is("Expat", "MIT");
	expr_is("GPL-2+ or BSD-3-clause", "GPL-2.0-or-later OR BSD-3-Clause");
	expr_is("LGPL-2.1+ and Zlib", "LGPL-2.1-or-later AND Zlib");
	expr_is("GPL-2+ or Artistic, and BSD-3-clause", "(GPL-2.0-or-later OR Artistic-1.0-Perl) AND BSD-3-Clause");
	expr_is("GPL-3+ with Bison exception", "GPL-3.0-or-later WITH Bison-exception-2.2");
	expr_is("GPL-2+ with Texinfo exception", "LicenseRef-p-GPL-2plus-with-Texinfo-exception");
	expr_is("public-domain", "LicenseRef-p-public-domain");
	expr_is("GPL-2+-or-X11", "LicenseRef-p-GPL-2plus-or-X11");
	expr_refused("or GPL-2");
	expr_refused("GPL-2 or");
	expr_refused("GPL-2 and or MIT");
	expr_refused("GPL-2, MIT");
	expr_refused("");
}

struct refs {
	char ids[8][80];
	int n;
};

static int count_ref(const char *id, const char *name, void *ctx)
{
	struct refs *r = ctx;

	if (r->n < 8)
		snprintf(r->ids[r->n++], sizeof(r->ids[0]), "%s", id);
	return 0;
}

static void test_dep5(void)
{
	const char *t = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
			"Files: *\nCopyright: x\nLicense: GPL-2+\n\n"
			"Files: a/*\nCopyright: y\nLicense: BSD-3-clause or Foo\n\n"
			"Files: b/*\nCopyright: y\nLicense: gpl-2+\n\n"
			"Files: c/*\nCopyright: y\nLicense: GPL-2+ and Expat\n\n"
			"License: Foo\n The Foo license.\n .\n Second paragraph.\n";
	struct dep5 c;
	struct refs refs = { .n = 0 };
	struct buf b;

	is_int(dep5_parse(t, strlen(t), &c), 0, "a DEP-5 file parses");
	ok(c.machine_readable, "machine readable");
	is_int(c.n_synopses, 3, "three distinct synopses (names compare case-insensitively)");
	ok(strcmp(dep5_license_text(&c, "foo"), "The Foo license.\n\nSecond paragraph.") == 0,
	   "the standalone License paragraph's text");
	ok(dep5_license_text(&c, "GPL-2+") == NULL, "no text for a license without one");
	buf_init(&b);
	is_int(dep5_file_spdx(&c, "pkg", &b, count_ref, &refs), 0, "the file's expression");
	ok(strcmp(b.p, "(BSD-3-Clause OR LicenseRef-pkg-Foo) AND GPL-2.0-or-later AND MIT") == 0, "is '%s' (each license once)", b.p);
	ok(refs.n == 1 && strcmp(refs.ids[0], "LicenseRef-pkg-Foo") == 0, "the LicenseRef reported");
	dep5_free(&c);

	t = "This package was debianized by someone on a day.\n\nIt is GPL.\n";
	is_int(dep5_parse(t, strlen(t), &c), 0, "a free-text copyright file is no error");
	ok(!c.machine_readable && c.why[0], "not machine readable: %s", c.why);
	buf_reset(&b);
	is_int(dep5_file_spdx(&c, "pkg", &b, NULL, NULL), 0, "its expression");
	ok(strcmp(b.p, "NOASSERTION") == 0, "is NOASSERTION");
	dep5_free(&c);

	t = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: or\n";
	is_int(dep5_parse(t, strlen(t), &c), 0, "a file whose synopsis is no expression");
	buf_reset(&b);
	is_int(dep5_file_spdx(&c, "pkg", &b, NULL, NULL), 0, "gives");
	ok(strcmp(b.p, "NOASSERTION") == 0, "NOASSERTION (%s)", b.p);
	dep5_free(&c);

	/* found by fuzz_dep5: no Files paragraph (qsort of no array) */
	t = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n";
	is_int(dep5_parse(t, strlen(t), &c), 0, "a header alone");
	ok(c.machine_readable && c.n_synopses == 0, "machine readable, no license");
	dep5_free(&c);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/sbom/deb822", test_deb822 },
		{ "/sbom/bounds", test_bounds },
		{ "/sbom/expressions", test_expressions },
		{ "/sbom/dep5", test_dep5 },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
