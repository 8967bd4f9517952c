/* SPDX-License-Identifier: MIT */
/* bootkit.h - the boot kit: what the installer needs, besides the release
 * image, to make a disk boot, taken from the very build that made the
 * release's disk (identical bytes):
 *
 *   boot.img   GRUB's i386-pc boot.img (unpatched)
 *   core.img   GRUB's i386-pc core.img for this release (unpatched)
 *   esp.img    the ESP's FAT image (EFI/BOOT/BOOTX64.EFI, grub/grub.cfg,
 *              grub/grubenv: slot A good, holding the release), cut after
 *              its last non-zero 4 KiB block; the rest of the ESP is zeros
 *   kit.conf   KEY = VALUE (pkg/lib/kv.h): format = 1, product,
 *              release, bios.size, esp.size, root.size, esp.image.size
 *
 * grub.cfg names no partition or filesystem UUID (GRUB finds the slots by
 * partition number on the ESP's disk and probes their PARTUUID), so the
 * one ESP image boots any disk laid out with these sizes and any seed.
 *
 * Return 0 or a negative errno / -SPACE_E_*; never print; on failure a
 * one-line reason goes to err.
 */
#ifndef SPACE_IMAGE_BOOTKIT_H
#define SPACE_IMAGE_BOOTKIT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gpt.h"

#define KIT_CONF "kit.conf"
#define KIT_BOOT "boot.img"
#define KIT_CORE "core.img"
#define KIT_ESP "esp.img"
#define KIT_NAME_MAX 64

struct bootkit {
	char dir[512];
	char product[KIT_NAME_MAX], release[KIT_NAME_MAX];
	struct disk_sizes sizes; /* bios, esp, root (disk: 0) */
	uint64_t esp_image_size;
};

/* Writes the kit into dir (created if missing; each file under a temporary
 * name, then renamed) from GRUB's images, the full ESP image and k's
 * identity and sizes. */
int kit_save(const char *dir, const struct bootkit *k, const char *boot_img, const char *core_img,
	     const char *esp_img, struct space_err *err);

/* Reads dir/kit.conf (strictly: every key once, known, sizes that make a
 * layout) and checks that the three files are there with the sizes it
 * says. -SPACE_E_FORMAT or -ENOENT with err saying why. */
int kit_load(const char *dir, struct bootkit *k, struct space_err *err);

/* Makes the disk on fd (laid out as l, whose bios and esp partitions have
 * the kit's sizes) boot: the ESP image into the "esp" partition and the
 * rest of it zeroed, then GRUB for BIOS (grub_install_bios: core.img into
 * the "bios" partition, boot.img's code into sector 0). The partition
 * table is the caller's (gpt_write keeps the boot code). */
int kit_install(int fd, const struct disk_layout *l, const struct bootkit *k, struct space_err *err);

#endif
