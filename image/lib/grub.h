/* SPDX-License-Identifier: MIT */
/* grub.h - GRUB 2 for BIOS (boot.img + core.img on a GPT disk, without
 * grub-bios-setup, which needs root) and UEFI (BOOTX64.EFI on the ESP), and
 * the grub.cfg of the A/B root slots.
 *
 * BIOS install, as grub-bios-setup does it (images.md 3.4): boot.img's
 * first 440 bytes go to sector 0 with the 64-bit LE LBA of core.img at
 * 0x5C, boot drive 0xFF at 0x64 and the drive check jump at 0x66 replaced
 * by two NOPs; core.img goes to the BIOS boot partition with the LBA of its
 * second sector (u64 LE) at 0x1F4, its first blocklist.
 *
 * Return 0 or negative errno / -SPACE_E_*; no printing. Strings returned
 * through char ** are malloc'd; the caller frees them.
 */
#ifndef SPACE_IMAGE_GRUB_H
#define SPACE_IMAGE_GRUB_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "gpt.h"

#define GRUB_BOOT_KERNEL_SECTOR 0x5C
#define GRUB_BOOT_DRIVE 0x64
#define GRUB_BOOT_DRIVE_CHECK 0x66
#define GRUB_BOOT_CODE_SIZE 440
#define GRUB_CORE_BLOCKLIST 0x1F4 /* 0x200 - 12: {u64 start, u16 len, u16 seg} */

/* Patches a copy of boot.img (512 bytes, 0x55AA) for core.img at core_lba
 * and puts its boot code (bytes 0..439) into sector0, leaving the disk
 * signature and partition records (440..511) of sector0 alone. */
int grub_patch_boot(uint8_t sector0[512], const uint8_t *boot_img, size_t boot_len,
		    uint64_t core_lba);

/* Patches core.img (as grub-mkimage -O i386-pc wrote it: first blocklist
 * start 2, length covering the image) for core_lba. -SPACE_E_FORMAT if it
 * does not look like that. */
int grub_patch_core(uint8_t *core, size_t len, uint64_t core_lba);

/* Reads boot.img and core.img, patches them for the "bios" partition of l
 * and writes them to fd. -ENOSPC if core.img does not fit the partition. */
int grub_install_bios(int fd, const struct disk_layout *l, const char *boot_img_path,
		      const char *core_img_path);

/* Modules built into the BIOS image (and the ISO's): everything grub.cfg
 * uses, so GRUB never needs to load a module from disk. Debian's signed
 * GRUB of the UEFI path has them all built in. */
extern const char *const grub_modules_common[];

/* grub-mkimage -O FORMAT -d MODDIR -p /grub -c EARLY_CFG -o OUT modules...
 * and biosdisk; format must be "i386-pc" (-EINVAL otherwise). On failure
 * err (may be NULL) gets grub-mkimage's complaint. */
int grub_mkimage(const char *format, const char *moddir, const char *early_cfg,
		 const char *out_path, struct space_err *err);

/* A root slot's menu entry. The slot is found by its GPT partition number
 * on the disk GRUB booted from (the ESP's disk), never by filesystem UUID:
 * both slots hold the same filesystem after the same release is installed
 * twice. The kernel gets root=PARTUUID= (unique per partition, probed by
 * GRUB at boot so that grub.cfg fits any disk) and
 * space.slot=<letter>, so the running system knows which slot it is. */
struct grub_slot {
	char letter;        /* 'a' or 'b': entry id "slot-a", env var ver_a */
	unsigned partno;    /* GPT partition number (1-based): ($bootdisk,gptN),
			       whose PARTUUID GRUB probes for root=PARTUUID= */
	const char *kernel; /* path inside the slot, e.g. /boot/vmlinuz */
	const char *initrd;
};

struct grub_menu {
	const char *product, *version; /* version: slot A's release by default */
	const char *cmdline_extra;     /* may be NULL */
	unsigned timeout;
	struct grub_slot slots[2];
	unsigned nslots; /* slots[0] is the default */
};

/* Early config built into core.img/BOOTX64.EFI: find the ESP by its FAT
 * serial and load /grub/grub.cfg from it. */
int grub_early_cfg(uint32_t esp_volume_id, char **out);

/* grub.cfg: serial (115200, unit 0) and VGA console, timeout, one entry
 * per slot, and the A/B boot state machine driven by the environment block
 * (see grub.c: boot_script). grub.cfg never changes after it is written;
 * the upgrader only rewrites grubenv. Rejects titles or command lines with
 * characters GRUB would interpret (-EINVAL). */
int grub_cfg_render(const struct grub_menu *m, char **out);

#endif
