/* SPDX-License-Identifier: MIT */
/* subcmd.c - verb dispatch; see subcmd.h. */
#include <stdio.h>
#include <string.h>

#include "subcmd.h"

int subcmd_run(const struct subcmd *cmds, size_t n, const char *usage, int usage_rc, int argc,
	       char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; argc >= 2 && i < n; i++) {
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	}
	fputs(usage, stderr);
	return usage_rc;
}
