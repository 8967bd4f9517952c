/* SPDX-License-Identifier: MIT */
/* spare_fds.h - fds held in reserve against running out of them.
 *
 * A daemon holds a few fds on /dev/null while fds are plentiful. When
 * accept() fails with EMFILE it releases them, which makes room for one
 * control client (and what its request needs), so the daemon can still be
 * asked for its status; once fds are back it takes them again.
 */
#ifndef SPACE_SPARE_FDS_H
#define SPACE_SPARE_FDS_H

/* Open the missing ones (fds[i] < 0); those that cannot be opened stay -1. */
void spare_fds_take(int *fds, int n);

/* Close them all (each becomes -1). */
void spare_fds_release(int *fds, int n);

#endif
