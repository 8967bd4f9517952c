/* SPDX-License-Identifier: MIT */
/* install.h - the installer's core, with no user interface: put the
 * signed release image and the boot kit onto one disk.
 *
 * inst_run() does, in order (one function per phase, install.c):
 *   open     the target, exclusively (refused while anything on it is in
 *            use), and its size
 *   verify   the release image through the release verifier (signature,
 *            chain, name binding, members, the slot member's SHA-256)
 *            without unpacking it; the manifest's product and release
 *            must be the kit's; the disk must hold the layout
 *   wipe     the partition tables at both ends: from here until the last
 *            phase the disk boots nothing (firmware goes on to the next
 *            boot device: the installation medium again)
 *   slot     the slot image unpacked into root slot A while it is
 *            verified a second time, then read back and compared
 *            (image/release/slotwrite: the upgrader's slot writer)
 *   fs       root slot B (empty ext4, marked empty in grubenv) and the
 *            data filesystem (/var)
 *   boot     the kit's ESP and GRUB for BIOS (image/lib/bootkit.h)
 *   table    the GPT (a random seed: every installed disk has its own
 *            GUIDs), read back, and the kernel told to re-read it
 *   log      the install log into the data filesystem: /var/log/install.log
 * A failure stops there. From "wipe" on, the disk has no partition table
 * until "table"; a failure in "table" or "log" wipes both tables again, so
 * a disk boots only a complete install (j->state says what it was left in).
 *
 * The library never prints: lines for the log and progress go through the
 * callbacks; a failure returns a negative errno / -SPACE_E_* with one
 * reason in err (may be NULL).
 */
#ifndef SPACE_INSTALL_INSTALL_H
#define SPACE_INSTALL_INSTALL_H

#include <stdbool.h>
#include <stdint.h>

#include "image/lib/bootkit.h"
#include "image/release/release.h"

/* The data filesystem gets at least this much: logs, uploads of release
 * images (/var/tmp), backups. */
#define INST_MIN_DATA (1024ull * MIB)

/* What a run left on the target. */
enum inst_state {
	INST_UNTOUCHED, /* nothing written (a failure before "wipe") */
	INST_NO_TABLE,  /* written, but without a partition table: boots nothing */
	INST_DONE,      /* installed */
	INST_UNKNOWN,   /* "table" or "log" failed, and wiping the table again too */
};

struct inst_job {
	const char *image;   /* the release image (path; its name is bound) */
	const char *ca_file; /* trusted root CA */
	const struct bootkit *kit;
	const char *target;      /* block device, or an image file (tests) */
	const char *target_desc; /* for the log: size, model, by-id (may be NULL) */
	const char *work_dir;    /* scratch (mke2fs configuration, log copy) */
	const char *log_path;    /* the log as it is written (copied at the end) */
	/* callbacks (any may be NULL) */
	void (*progress)(void *ctx, const char *what, uint64_t done, uint64_t total);
	void (*say)(void *ctx, const char *line);
	void *ctx;
	/* results */
	struct rel_manifest m; /* the verified manifest */
	uint64_t disk_bytes;
	enum inst_state state;
};

/* The smallest disk the kit's layout and INST_MIN_DATA fit on. */
uint64_t inst_min_disk(const struct bootkit *k);

/* Checks the image (first verification pass) without touching any disk:
 * j->m is filled. The menu runs it once before it asks for a disk. */
int inst_check_image(struct inst_job *j, struct space_err *err);

/* The whole install onto j->target. */
int inst_run(struct inst_job *j, struct space_err *err);

#endif
