/* SPDX-License-Identifier: MIT */
/* shell.h - a shell command line for the unit tests that check their
 * output with the build's host tools (mkfs.vfat, mtools, e2fsprogs): run
 * in the test's directory, with /usr/sbin and /sbin on PATH and mtools'
 * geometry check off (a partition of a disk image is no floppy). */
#ifndef SPACE_SHELL_H
#define SPACE_SHELL_H
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* system("cd DIR && ... && FMT..."): its wait status, 0 for success */
static int sh_in(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int sh_in(const char *dir, const char *fmt, ...)
{
	char cmd[4096];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && export PATH=$PATH:/usr/sbin:/sbin MTOOLS_SKIP_CHECK=1 && ", dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return system(cmd);
}
#endif
