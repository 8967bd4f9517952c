/* SPDX-License-Identifier: MIT */
/* spare_fds.c - see spare_fds.h. */
#include <fcntl.h>
#include <unistd.h>

#include "spare_fds.h"

void spare_fds_take(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] < 0)
			fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void spare_fds_release(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}
