/* SPDX-License-Identifier: MIT */
/* daemon.h - small pieces every management daemon needs: a monotonic
 * clock and a time-stamped log line. */
#ifndef MGMT_DAEMON_H
#define MGMT_DAEMON_H

#include <stdarg.h>
#include <stdio.h>

/* CLOCK_MONOTONIC in milliseconds / microseconds. */
long long mono_ms(void);
long long mono_us(void);

/* "2026-01-01T00:00:00Z prog: message\n" to f, flushed. Returns the
 * number of bytes written. prog may be NULL (no prefix). */
int log_vstamp(FILE *f, const char *prog, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
