/* SPDX-License-Identifier: MIT */
/* exitcode.c - the exit-code contract; see exitcode.h. */
#include <errno.h>
#include <stdio.h>

#include "exitcode.h"
#include "util.h"

const char *space_prog = "space";

int die_code(int err)
{
	if (err >= 0)
		return EXIT_OK;
	switch (-err) {
	case ETIMEDOUT:
		return EXIT_TIMEOUT;
	case SPACE_E_CHILD: /* a command we ran failed: not the input's fault */
		return EXIT_SYSTEM;
	}
	/* Libraries refuse input with -SPACE_E_*; an errno is the system's
	 * (EFBIG may be RLIMIT_FSIZE on a write, EINVAL a bad syscall
	 * argument). A tool that knows an errno means bad input in its
	 * context maps it at the call site. */
	return -err >= SPACE_E_FIRST && -err < SPACE_E_LAST ? EXIT_REFUSED : EXIT_SYSTEM;
}

int die_msg(int code, const char *verb, const char *object, const char *reason)
{
	/* One fprintf: the line reaches stderr in one write, not interleaved. */
	fprintf(stderr, "%s: %s%s%s: %s\n", space_prog, verb ? verb : "",
		verb && object ? " " : "", object ? object : "", reason && *reason ? reason : "failed");
	return code;
}

int die_err(const char *verb, const char *object, int err, const char *reason)
{
	return die_msg(die_code(err), verb, object,
		       reason && *reason ? reason : space_strerror(err));
}

int die_usage(const char *usage)
{
	fputs(usage, stderr);
	return EXIT_USAGE;
}
