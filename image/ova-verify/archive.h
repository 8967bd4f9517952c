/* SPDX-License-Identifier: MIT */
/* archive.h - feed a package read as a ustar stream (an OVA or a release
 * image) to the checks of verify.h, in one pass, without seeking: ova-verify
 * and the on-node upgrader read packages this way. */
#ifndef SPACE_OVA_VERIFY_ARCHIVE_H
#define SPACE_OVA_VERIFY_ARCHIVE_H

#include <stdint.h>

#include "stream.h"
#include "verify.h"

/* Feed size bytes of rs to the current member (feed) or skip them.
 * Returns the bytes consumed (short at end of stream) or -errno. */
int64_t ov_pump(struct ov *ov, struct rstream *rs, uint64_t size, int feed);

/* Read the archive on fd to its end-of-archive blocks, every member through
 * ov_member_begin/data/end; tar format problems become tar-format checks.
 * Returns 0, or -errno on an I/O error (or a sink's error, see ov_opts).
 * The caller owns fd and runs ov_finish(). */
int ov_read_archive(struct ov *ov, int fd);

#endif
