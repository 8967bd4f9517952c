/* SPDX-License-Identifier: MIT */
/* outfile.h - write a large output file under a temporary name and publish
 * it with fsync + rename, so a failed run never leaves a half-written file
 * under the final name (write_file_atomic() does this for in-memory data).
 *
 *   struct outfile of;
 *   r = outfile_open(&of, "x.vmdk", 0644);   // creates x.vmdk.tmp.<pid>
 *   ... write to of.fd ...
 *   r = r < 0 ? (outfile_abort(&of), r) : outfile_commit(&of);
 *
 * outfile_commit() and outfile_abort() close the fd and free the names; each
 * outfile must end with exactly one of them.
 */
#ifndef SPACE_OUTFILE_H
#define SPACE_OUTFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Write len bytes to path atomically: a temporary file in the same
 * directory (PATH.tmp.<pid>), fsync, rename, fsync of the directory. The
 * file gets mode exactly, whatever the umask. */
int write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* The same for name below the directory fd dirfd (or AT_FDCWD), the one
 * implementation of both. With WRITE_HIDDEN the temporary name is
 * [DIR/].BASE.tmp, which readers of a directory that skip dot names never
 * see, and which is reused (the caller keeps other writers out, by a lock);
 * the directory is then synced through dirfd. With WRITE_UMASK the file's
 * mode is mode less the umask, as open(2) makes it, not mode exactly. */
#define WRITE_HIDDEN 1
#define WRITE_UMASK 2
int write_file_atomic_at(int dirfd, const char *name, const void *buf, size_t len, mode_t mode,
			 int flags);

struct outfile {
	int fd;
	char *path, *tmp;
};

int outfile_open(struct outfile *of, const char *path, mode_t mode);
int outfile_commit(struct outfile *of);
void outfile_abort(struct outfile *of);

#endif
