/* SPDX-License-Identifier: MIT */
/* bootenv.h - the GRUB environment block (/grub/grubenv on the ESP) as the
 * running system reads and rewrites it: located by walking the ESP's FAT32
 * directly, then read and rewritten in place, one 512-byte sector, as
 * GRUB's own save_env does through the file's blocklist. No mount and no
 * vfat driver: the ESP is never mounted, so nothing caches it, and a
 * rewrite is a single-sector write that a power cut cannot tear.
 *
 * The ESP's bytes are read through a callback so that the FAT walk can be
 * fuzzed from memory. Return 0 or a negative errno / -SPACE_E_FORMAT with
 * one reason in err; never print.
 */
#ifndef SPACE_IMAGE_BOOTENV_H
#define SPACE_IMAGE_BOOTENV_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The boot-state variables of grubenv (all optional; grub.cfg has the
 * defaults):
 *   slot_good  a|b   the slot that boots by default (default a)
 *   slot_try   a|b   a slot to boot once on trial ("" none)
 *   try_left   1|0   1: the trial has not been started; GRUB sets 0 and
 *                    saves before booting it, so a trial that never
 *                    confirms falls back at the next boot
 *   ver_a, ver_b     the release each slot holds (menu titles); "" marks a
 *                    slot that holds nothing bootable (empty or being
 *                    written): its entry refuses to boot
 *   next_entry       slot-a|slot-b: one boot of that entry (manual)
 */
#define GRUBENV_SLOT_GOOD "slot_good"
#define GRUBENV_SLOT_TRY "slot_try"
#define GRUBENV_TRY_LEFT "try_left"
#define GRUBENV_VER_PREFIX "ver_"

/* An empty GRUB environment block. Ours is one 512-byte sector, not
 * grub-editenv's 1024 bytes (GRUB reads a block of any size), so that every
 * rewrite - GRUB's save_env and the upgrader's - is a single-sector write,
 * which a power cut cannot tear. */
#define GRUBENV_SIZE 512
void grub_env_block(char out[GRUBENV_SIZE]);

/* Sets key=value in a block (value NULL: removes key), keeping the other
 * variables: what the upgrader does with the boot-state variables above. -EINVAL for a key that
 * is empty or has '=' / '\n', or a value with '\\' or '\n' (we do not
 * write GRUB's escapes); -ENOSPC when the block would overflow;
 * -SPACE_E_FORMAT when env is not an environment block. */
int grub_env_set(char env[GRUBENV_SIZE], const char *key, const char *value);

/* The value of key into out. -ENOENT if unset, -ENAMETOOLONG if out is too
 * small, -SPACE_E_FORMAT when env is not an environment block. */
int grub_env_get(const char env[GRUBENV_SIZE], const char *key, char *out, size_t outlen);

/* Reads n bytes at off (from the ESP's first byte); 0 or -errno. */
typedef int (*bootenv_read_fn)(void *ctx, void *buf, size_t n, uint64_t off);

/* Walks the FAT32 of an ESP of esp_len bytes to /GRUB/GRUBENV and returns
 * the byte offset of its block (relative to the ESP). -SPACE_E_FORMAT when
 * the ESP is not FAT32 with 512-byte sectors, the file is missing, or it is
 * not exactly GRUBENV_SIZE bytes; err says which. Bounded: at most
 * BOOTENV_MAX_CLUSTERS clusters of each directory are read. */
#define BOOTENV_MAX_CLUSTERS 64
int bootenv_locate(bootenv_read_fn rd, void *ctx, uint64_t esp_len, uint64_t *env_off, struct space_err *err);

/* The block of the ESP at [esp_off, esp_off + esp_len) of fd (a disk
 * device or image file). */
struct bootenv {
	int fd;       /* not owned */
	uint64_t off; /* absolute offset of the block in fd */
	char block[GRUBENV_SIZE];
};

/* Locate and read the block; checks it is an environment block. */
int bootenv_load(struct bootenv *e, int fd, uint64_t esp_off, uint64_t esp_len, struct space_err *err);

/* Locate the "esp" partition of the GPT disk on fd, then bootenv_load(). */
int bootenv_load_disk(struct bootenv *e, int fd, struct space_err *err);

/* Write e->block back (one pwrite of the sector), fdatasync, read it back
 * and compare: -EIO when the disk does not return what was written. */
int bootenv_commit(struct bootenv *e);

#endif
