// SPDX-License-Identifier: MIT
/* Unit tests of the named-test runner (tests/unit/tap.h): the program runs
 * itself (/proc/self/exe) with names on the command line and reads what it
 * printed and its exit status. The /tap/sample/... tests are what those
 * runs select; each prints one point whose text names it. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"

static void sample_a(void)
{
	ok(1, "sample a ran");
}

static void sample_b(void)
{
	ok(1, "sample b ran");
}

static void sample_other(void)
{
	ok(1, "sample other ran");
}

/* Runs this program with ARGS (a shell word list), its stdout and stderr in
 * out, shown as TAP comments ("#   | ..."); returns its exit status, -1 if
 * it could not be run or died. */
static int self(const char *args, char *out, size_t outsz)
{
	char cmd[512];
	size_t n = 0, r;
	FILE *f;
	int st;

	snprintf(cmd, sizeof(cmd), "/proc/%d/exe %s 2>&1", (int)getpid(), args);
	fflush(stdout); /* the child's output must not repeat ours */
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (n + 1 < outsz && (r = fread(out + n, 1, outsz - 1 - n, f)) > 0)
		n += r;
	out[n] = '\0';
	st = pclose(f);
	for (const char *l = out; *l;) {
		const char *e = strchr(l, '\n');
		int len = e ? (int)(e - l) : (int)strlen(l);
		printf("#   | %.*s\n", len, l);
		l += len + (e != NULL);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_all(void)
{
	char out[2048];

	is_int(self("/tap/sample", out, sizeof(out)), 0, "a group runs");
	ok(strstr(out, "# /tap/sample/a\nok 1 - sample a ran\n# /tap/sample/b\nok 2 - sample b ran\n"
		       "# /tap/sample/other\nok 3 - sample other ran\n1..3\n") != NULL,
	   "  every test of the group, each under its name, then the plan");
}

static void test_one(void)
{
	char out[2048];

	is_int(self("/tap/sample/b", out, sizeof(out)), 0, "one test by name");
	ok(!strcmp(out, "# /tap/sample/b\nok 1 - sample b ran\n1..1\n"), "  that test only");
	is_int(self("/tap/sample/other /tap/sample/a", out, sizeof(out)), 0, "two names");
	ok(!strcmp(out, "# /tap/sample/a\nok 1 - sample a ran\n# /tap/sample/other\nok 2 - sample other ran\n1..2\n"),
	   "  both, in table order");
	is_int(self("/tap/sample/", out, sizeof(out)), 0, "a group with a trailing '/'");
	ok(strstr(out, "1..3\n") != NULL, "  the same three tests");
}

static void test_list(void)
{
	char out[2048];

	is_int(self("-l", out, sizeof(out)), 0, "-l");
	ok(!strcmp(out, "/tap/sample/a\n/tap/sample/b\n/tap/sample/other\n/tap/all\n/tap/one\n/tap/list\n/tap/unknown\n"),
	   "  lists every name, runs nothing");
	is_int(self("-l /tap/sample/a", out, sizeof(out)), 0, "-l NAME");
	ok(!strcmp(out, "/tap/sample/a\n"), "  lists the selected ones");
}

static void test_unknown(void)
{
	char out[2048];

	is_int(self("/tap/nope", out, sizeof(out)), 100, "an unknown name is a usage error (100)");
	ok(strstr(out, "no test named /tap/nope (-l lists them)") != NULL && !strstr(out, "ok "),
	   "  says so and runs nothing");
	is_int(self("/tap/samp", out, sizeof(out)), 100, "a name is matched by whole components");
	is_int(self("/tap/sample/a /tap/nope", out, sizeof(out)), 100, "one unknown name among good ones");
	ok(!strstr(out, "ok "), "  nothing runs then");
	is_int(self("-l /tap/nope", out, sizeof(out)), 100, "-l with an unknown name");
	is_int(self("sample", out, sizeof(out)), 100, "a name not starting with '/'");
	ok(strstr(out, "usage:") != NULL, "  prints the usage");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/tap/sample/a", sample_a },
		{ "/tap/sample/b", sample_b },
		{ "/tap/sample/other", sample_other },
		{ "/tap/all", test_all },
		{ "/tap/one", test_one },
		{ "/tap/list", test_list },
		{ "/tap/unknown", test_unknown },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
