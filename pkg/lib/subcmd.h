/* SPDX-License-Identifier: MIT */
/* subcmd.h - `prog VERB ARGS...` dispatch over a static verb table.
 *
 * The table is the one place that lists a tool's verbs (grep finds them
 * all); each handler gets argv starting at the verb, so getopt() in it sees
 * the verb as argv[0].
 */
#ifndef SPACE_SUBCMD_H
#define SPACE_SUBCMD_H

#include <stddef.h>

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
};

/* "--help"/"-h" as the first argument: usage on stdout, returns 0. No verb
 * or an unknown one: usage on stderr, returns usage_rc. Otherwise returns
 * what the verb's handler returns. */
int subcmd_run(const struct subcmd *cmds, size_t n, const char *usage, int usage_rc, int argc,
	       char **argv);

#endif
