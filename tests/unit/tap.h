/* SPDX-License-Identifier: MIT */
/* tap.h - a minimal TAP producer for the C unit tests, with named tests
 * that run one at a time (RAUC's g_test_add("/signature/...")).
 *   ok(cond, "name")        one test point
 *   is_int(got, want, name) compares integers and prints both on failure
 *   done_testing()          prints the plan, returns the exit status
 *   tap_run(argc, argv, t)  runs the tests of the table t: all of them, or
 *                           those named on the command line, then returns
 *                           done_testing()
 *
 * A test program's main() is its table:
 *   static const struct tap_test tests[] = {
 *           { "/pkg/round_trip", test_round_trip },
 *           { "/pkg/refusals", test_refusals },
 *           { NULL, NULL },
 *   };
 *   return tap_run(argc, argv, tests);
 * A name is "/PROGRAM/FUNCTION" (the program without "test_", the function
 * without "test_"), so a name found in the output leads to its code. Each
 * test sets up what it needs: any one of them runs alone.
 *
 *   test_pkg                   every test, in table order
 *   test_pkg /pkg/refusals     that test only
 *   test_pkg /pkg              a group: every name equal to it or under it
 *                              ("/pkg/..."); several arguments add up
 *   test_pkg -l [NAME...]      list the names (those selected), run nothing
 * A NAME that selects no test is a usage error: a message on stderr and
 * exit 100 (README "Exit codes"), so a typo never passes as "no failure".
 */
#ifndef SPACE_TAP_H
#define SPACE_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                        \
	do {                                                                 \
		int ok_ = !!(cond);                                          \
		tap_n++;                                                     \
		if (!ok_)                                                    \
			tap_failed++;                                        \
		printf("%sok %d - ", ok_ ? "" : "not ", tap_n);              \
		printf(__VA_ARGS__);                                         \
		printf("\n");                                                \
		if (!ok_)                                                    \
			printf("#   failed at %s:%d\n", __FILE__, __LINE__); \
	} while (0)

#define is_int(got, want, ...)                                           \
	do {                                                             \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		ok(g_ == w_, __VA_ARGS__);                               \
		if (g_ != w_)                                            \
			printf("#   got %lld, want %lld\n", g_, w_);     \
	} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/* One named test; a table ends with { NULL, NULL }. */
struct tap_test {
	const char *name;
	void (*fn)(void);
};

#define TAP_EXIT_USAGE 100 /* pkg/lib/exitcode.h EXIT_USAGE; tap.h stands alone */

/* Whether pattern selects name: the same name, or a group above it
 * ("/pkg" and "/pkg/" select "/pkg/refusals", "/pk" does not). */
static inline int tap_selects(const char *pattern, const char *name)
{
	size_t n = strlen(pattern);

	if (strncmp(pattern, name, n))
		return 0;
	return name[n] == '\0' || name[n] == '/' || (n && pattern[n - 1] == '/');
}

static inline int tap_run(int argc, char **argv, const struct tap_test *tests)
{
	const char *prog = argc > 0 ? argv[0] : "test";
	int list = 0, first = 1;

	if (argc > 1 && !strcmp(argv[1], "-l")) {
		list = 1;
		first = 2;
	}
	for (int a = first; a < argc; a++) {
		int found = 0;
		if (argv[a][0] != '/') {
			fprintf(stderr, "usage: %s [-l] [/NAME...]\n", prog);
			return TAP_EXIT_USAGE;
		}
		for (const struct tap_test *t = tests; t->name; t++)
			found |= tap_selects(argv[a], t->name);
		if (!found) {
			fprintf(stderr, "%s: no test named %s (-l lists them)\n", prog, argv[a]);
			return TAP_EXIT_USAGE;
		}
	}
	for (const struct tap_test *t = tests; t->name; t++) {
		int run = first == argc;
		for (int a = first; a < argc && !run; a++)
			run = tap_selects(argv[a], t->name);
		if (!run)
			continue;
		if (list) {
			printf("%s\n", t->name);
			continue;
		}
		printf("# %s\n", t->name);
		fflush(stdout);
		t->fn();
	}
	return list ? 0 : done_testing();
}
#endif
