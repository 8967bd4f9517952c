/* SPDX-License-Identifier: MIT */
/* fs.h - filesystems for the disk image, built without root and
 * reproducibly (same inputs and epoch -> same bytes).
 *
 * Both builders write into out_path: a regular file is (re)created at the
 * given size, sparse; a block device (the installer's partition) is used as
 * it is. Scratch files go to work_dir, which must exist; the caller removes
 * it. Return 0 or a negative errno / -SPACE_E_*; on failure err (may be
 * NULL) holds a one-line reason. Strings are borrowed.
 */
#ifndef SPACE_IMAGE_FS_H
#define SPACE_IMAGE_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "fat.h"
#include "gpt.h"

struct ext4_params {
	const char *out_path;   /* see offset */
	uint64_t offset;        /* 0: out_path is the filesystem (file or partition
				   device); else out_path is the whole disk (image
				   or device, at least offset + size bytes) and the
				   filesystem is built in place at this byte offset
				   (mke2fs -E offset, debugfs "path?offset=") */
	uint64_t size;          /* bytes, multiple of 4096 */
	const char *tree;       /* root of the files to copy; NULL: empty fs */
	const char *attrs_path; /* `pkg attrs` output; NULL: all root:root */
	const char *label;      /* <= 16 bytes */
	struct guid uuid;       /* filesystem UUID and directory hash seed */
	long long epoch;        /* SOURCE_DATE_EPOCH: every timestamp */
	const char *work_dir;
	/* Leave the inode tables for the kernel to zero after the first
	 * mount (lazy_itable_init=1): the installer's /var on a large disk,
	 * where writing GBs of empty tables would only delay the install. An
	 * image is never lazy (it would not be fully initialised). */
	bool lazy_itable;
};

/* mke2fs -t ext4 -d TREE with pinned features (our own mke2fs.conf), UUID,
 * hash seed and E2FSPROGS_FAKE_TIME, then debugfs passes that apply the
 * attributes (owners, modes, device nodes) and set every inode's times to
 * epoch. See attrs.h for the attributes format. Extended attributes of the
 * tree are not copied (they would be the build host's). */
int fs_make_ext4(const struct ext4_params *p, struct space_err *err);

/* Writes the file src into the ext4 on dev (at byte offset, 0: dev is
 * the filesystem) as /dir/name, creating dir (one level) if needed; owner
 * root, mode 0640 (debugfs -w, no mount); dir must not exist yet (a
 * filesystem just made). Names debugfs would not read as they are (empty,
 * whitespace, control characters, '"'; a '/' in dir or name; a '?' in dev
 * with an offset) are -EINVAL. Scratch files go to work_dir. */
int fs_ext4_add_file(const char *dev, uint64_t offset, const char *src, const char *dir, const char *name,
		     const char *work_dir, struct space_err *err);

#define FS_ESP_MIN (34u << 20) /* FAT32 needs 65525 clusters */

struct esp_params {
	const char *out_path;
	uint64_t size;         /* bytes, >= FS_ESP_MIN */
	const char *stage_dir; /* its contents become the ESP root */
	uint32_t volume_id;    /* FAT serial, shown by GRUB/blkid as XXXX-XXXX */
	const char *label;     /* <= 11 characters */
	long long epoch;
};

/* mkfs.vfat -C (FAT32, fixed volume id, --invariant) and `mcopy -s -m` of
 * the staged tree, whose mtimes are first set to epoch (mcopy -m keeps
 * them). No mmd: mcopy -s creates the directories. */
int fs_make_esp(const struct esp_params *p, struct space_err *err);

/* Sets the mtime/atime of path and everything below it (not following
 * symlinks) to epoch. */
int fs_set_tree_times(const char *path, long long epoch);

#endif
