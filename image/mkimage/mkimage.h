/* SPDX-License-Identifier: MIT */
/* mkimage.h - the mkimage tool: one handler per output format or verb,
 * listed in one static table in main.c (no constructor registration). */
#ifndef SPACE_MKIMAGE_H
#define SPACE_MKIMAGE_H

#include <stdint.h>

#include "exitcode.h"

/* Exit codes: the shared contract (pkg/lib/exitcode.h, also in --help). */
enum {
	MK_EXIT_OK = EXIT_OK,
	MK_EXIT_REJECTED = EXIT_REFUSED, /* bad input: tree, attrs, sizes, not a valid GPT */
	MK_EXIT_USAGE = EXIT_USAGE,
	MK_EXIT_SYSTEM = EXIT_SYSTEM, /* system call or external command failed */
};

struct mk_handler {
	const char *name;
	const char *usage; /* options after the verb */
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the verb; returns an exit code */
};

extern const struct mk_handler fmt_disk, fmt_qcow2, fmt_layout, fmt_bootenv;

extern int mk_verbose;
void mk_verbose_on(void); /* -v: space_log() lines go to stderr */

/* Prints "mkimage: VERB OBJECT: reason" to stderr once; returns the exit
 * code matching err (a negative errno / SPACE_E code) for the result of
 * work on an opened input, where ENOENT, ENOSPC, EINVAL ... mean the input
 * is wrong (1). A failed open is die_err's (111). */
int mk_fail(const char *verb, const char *object, int err, const char *detail);
int mk_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "8G", "600M", "512K", "4096": binary units. -EINVAL on bad syntax. */
int mk_parse_size(const char *s, uint64_t *out);

#endif
