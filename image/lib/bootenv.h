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
 * one reason in why; never print.
 */
#ifndef SPACE_IMAGE_BOOTENV_H
#define SPACE_IMAGE_BOOTENV_H

#include <stddef.h>
#include <stdint.h>

#include "grub.h"

/* Reads n bytes at off (from the ESP's first byte); 0 or -errno. */
typedef int (*bootenv_read_fn)(void *ctx, void *buf, size_t n, uint64_t off);

/* Walks the FAT32 of an ESP of esp_len bytes to /GRUB/GRUBENV and returns
 * the byte offset of its block (relative to the ESP). -SPACE_E_FORMAT when
 * the ESP is not FAT32 with 512-byte sectors, the file is missing, or it is
 * not exactly GRUBENV_SIZE bytes; why says which. Bounded: at most
 * BOOTENV_MAX_CLUSTERS clusters of each directory are read. */
#define BOOTENV_MAX_CLUSTERS 64
int bootenv_locate(bootenv_read_fn rd, void *ctx, uint64_t esp_len, uint64_t *env_off, char *why,
		   size_t whylen);

/* The block of the ESP at [esp_off, esp_off + esp_len) of fd (a disk
 * device or image file). */
struct bootenv {
	int fd;          /* not owned */
	uint64_t off;    /* absolute offset of the block in fd */
	char block[GRUBENV_SIZE];
};

/* Locate and read the block; checks it is an environment block. */
int bootenv_load(struct bootenv *e, int fd, uint64_t esp_off, uint64_t esp_len, char *why, size_t whylen);

/* Locate the "esp" partition of the GPT disk on fd, then bootenv_load(). */
int bootenv_load_disk(struct bootenv *e, int fd, char *why, size_t whylen);

/* Write e->block back (one pwrite of the sector), fdatasync, read it back
 * and compare: -EIO when the disk does not return what was written. */
int bootenv_commit(struct bootenv *e);

#endif
