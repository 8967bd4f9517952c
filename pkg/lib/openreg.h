/* SPDX-License-Identifier: MIT */
/* openreg.h - open an input file only when it is a regular file (or, where
 * the caller says so, a block device).
 *
 * open(2) of a FIFO without a writer blocks forever, and opening a device can
 * act (a watchdog arms, a tty becomes the controlling terminal) before any
 * fstat could refuse it: a tool given a FIFO in place of its input hung
 * instead of saying what is wrong. open_regular() looks at the type first,
 * opens with O_NONBLOCK|O_NOCTTY (so a file swapped for a FIFO in between
 * still cannot block open()), checks the type of what it opened, and clears
 * O_NONBLOCK again unless the caller asked for it.
 */
#ifndef SPACE_OPENREG_H
#define SPACE_OPENREG_H

#include <sys/types.h>

/* allow: also accept a block device (a disk image written to /dev/sdX). */
#define OPEN_REG_BLOCK 1u

/* openat(dfd, path, flags | O_CLOEXEC, mode) for a regular file (dfd may be
 * AT_FDCWD). flags are the caller's (O_RDONLY, O_RDWR, O_WRONLY | O_CREAT,
 * O_NOFOLLOW ...); with O_NOFOLLOW a symlink is refused like any other
 * non-regular file. Returns the fd, -SPACE_E_NOT_REG (-SPACE_E_NOT_REG_BLK
 * with OPEN_REG_BLOCK) for anything else, or the negative errno of a failed
 * stat or open. */
int open_regular(int dfd, const char *path, int flags, mode_t mode, unsigned allow);

#endif
