/* SPDX-License-Identifier: MIT */
/* mutate.h - random mutations of a valid input for the parsers' unit tests:
 * a fixed seed, so a failure reproduces (the fuzzers, make fuzz, go
 * further). A parser fed them must never crash (ASan/UBSan watch) and must
 * answer within its documented set of results. */
#ifndef SPACE_MUTATE_H
#define SPACE_MUTATE_H
#include <string.h>

static inline unsigned mutate_next(unsigned *rnd)
{
	*rnd = *rnd * 1103515245u + 12345u;
	return *rnd;
}

/* Copies seed (not its NUL) into buf, which holds at least as much,
 * changes 1 to 4 of its bytes at random and one time in five cuts it
 * short; returns the length. */
static inline size_t mutate(char *buf, const char *seed, unsigned *rnd)
{
	size_t len = strlen(seed);
	int flips;

	memcpy(buf, seed, len);
	flips = 1 + (int)((mutate_next(rnd) >> 16) % 4);
	for (int f = 0; f < flips; f++) {
		size_t pos = (mutate_next(rnd) >> 8) % len;
		buf[pos] = (char)(mutate_next(rnd) >> 16);
	}
	if ((mutate_next(rnd) >> 16) % 5 == 0)
		len = (*rnd >> 4) % len; /* truncated */
	return len;
}
#endif
