/* SPDX-License-Identifier: MIT */
/* tap.h - a minimal TAP producer for the C unit tests.
 *   ok(cond, "name")        one test point
 *   is_int(got, want, name) compares integers and prints both on failure
 *   done_testing()          prints the plan, returns the exit status
 */
#ifndef SPACE_TAP_H
#define SPACE_TAP_H
#include <stdio.h>

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

#define is_int(got, want, ...)                                                     \
	do {                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);          \
		ok(g_ == w_, __VA_ARGS__);                                         \
		if (g_ != w_)                                                      \
			printf("#   got %lld, want %lld\n", g_, w_);           \
	} while (0)

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}
#endif
