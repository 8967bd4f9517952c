/* SPDX-License-Identifier: MIT */
/* daemon.c - clock and log-line helpers for the daemons. */
#include <time.h>

#include "daemon.h"

long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int log_vstamp(FILE *f, const char *prog, const char *fmt, va_list ap)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	int n;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = prog ? fprintf(f, "%s %s: ", ts, prog) : fprintf(f, "%s ", ts);
	n += vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
	return n + 1;
}
