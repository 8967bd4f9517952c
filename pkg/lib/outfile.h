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

#include <sys/types.h>

struct outfile {
	int fd;
	char *path, *tmp;
};

int outfile_open(struct outfile *of, const char *path, mode_t mode);
int outfile_commit(struct outfile *of);
void outfile_abort(struct outfile *of);

#endif
