/* SPDX-License-Identifier: MIT */
/* fault.c - HOTPATCH_FAULT and HOTPATCH_CRASH (fault.h). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"

static const struct {
	const char *name;
	int err;
} errnos[] = { { "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES }, { "ETIMEDOUT", ETIMEDOUT } };

/* Does the variable name point, and what follows ':' (or NULL)? */
static const char *match(const char *var, const char *point, int *hit)
{
	const char *v = getenv(var);
	size_t n = strlen(point);

	*hit = v && !strncmp(v, point, n) && (v[n] == 0 || v[n] == ':');
	return *hit && v[n] == ':' ? v + n + 1 : NULL;
}

int hp_fault(const char *point)
{
	int hit;
	const char *arg = match("HOTPATCH_FAULT", point, &hit);

	if (!hit)
		return 0;
	for (size_t i = 0; arg && i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(arg, errnos[i].name))
			return -errnos[i].err;
	return -EIO;
}

void hp_crash(const char *point)
{
	static unsigned calls;
	int hit;
	const char *arg = match("HOTPATCH_CRASH", point, &hit);

	if (hit && ++calls >= (arg ? strtoul(arg, NULL, 10) : 1))
		kill(getpid(), SIGKILL);
}
