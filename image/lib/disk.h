/* SPDX-License-Identifier: MIT */
/* disk.h - the whole appliance disk image: GPT, ESP with GRUB for UEFI,
 * GRUB for BIOS, root slots A (the given tree) and B (empty ext4) and the
 * data partition (empty ext4), all reproducible from (inputs, seed, epoch).
 *
 * Identity derived from the seed (see gpt.h guid_derive):
 *   partition GUIDs  guid_derive(seed, "<partname>")
 *   disk GUID        guid_derive(seed, "disk")
 *   ext4 UUIDs       disk_fs_uuid(seed, "<partname>")
 *   ESP FAT serial   disk_esp_volume_id(seed)
 * The installer and the upgrader use gpt_read() and these names ("root-a",
 * "root-b", "esp", "data", "bios") to find the slots.
 *
 * Installer (initramfs, whole disk): disk_layout_default() with the size
 * from disk_size_fd() and a random seed, then disk_write() on /dev/sdX,
 * then BLKRRPART. Upgrader (running node, one slot): gpt_read() of the
 * boot disk, fs_make_ext4() with out_path = the inactive slot's partition
 * device (e.g. /dev/sda4, offset 0: mke2fs refuses a whole disk with
 * mounted partitions), then grub_cfg_render() with the new slot's fs UUID,
 * kernel and version written to the mounted ESP's grub/grub.cfg, and
 * grub_env_set(next_entry=slot-b) in grub/grubenv for a one-shot trial
 * boot (saved_entry=slot-b once the new system is confirmed good).
 */
#ifndef SPACE_IMAGE_DISK_H
#define SPACE_IMAGE_DISK_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#include "err.h"
#include "gpt.h"

struct disk_spec {
	const char *out_path;   /* raw image; written under a temporary name next
				   to it and renamed at the end, removed on failure */
	const char *rootfs;     /* tree of root slot A: needs boot/vmlinuz and
				   boot/initrd.img (files or symlinks in the tree),
				   and the signed UEFI chain: usr/lib/shim/
				   shimx64.efi.signed, usr/lib/grub/x86_64-efi-
				   signed/grubx64.efi.signed (disk.c efi_chain) */
	const char *attrs_path; /* `pkg attrs` file; NULL: everything root:root */
	const char *seed;       /* non-empty */
	const char *product, *version;
	const char *cmdline_extra; /* NULL or appended to the kernel command line */
	struct disk_sizes sizes;   /* zeros: defaults */
	long long epoch;           /* SOURCE_DATE_EPOCH */
	const char *grub_pc_dir;   /* NULL: /usr/lib/grub/i386-pc */
	const char *kit_dir;       /* NULL, or where the installer's boot kit
				      (bootkit.h) of this disk is written */
};

/* Builds the image. On success *layout (may be NULL) is the table written.
 * -ENOSPC: the disk or a partition is too small; -SPACE_E_FORMAT /
 * -SPACE_E_UNSAFE_PATH: bad rootfs or attrs; -SPACE_E_CHILD: a tool failed.
 * On failure err (may be NULL) holds a one-line reason. */
int disk_build(const struct disk_spec *s, struct disk_layout *layout, struct space_err *err);

/* Writes the whole layout l onto target, open read-write as fd: an image
 * file of l->disk_bytes or a block device such as /dev/sda from the
 * installer (l from disk_layout_default() with the device's size). Old
 * contents are overwritten or zeroed wherever the new filesystems care. Filesystems are built in place (mke2fs -E offset), so scratch
 * space in work_dir (must exist; the caller removes it) is small: the 64 MiB
 * ESP image, GRUB images and debugfs scripts. s->out_path is not used. The
 * caller re-reads the partition table of a device (BLKRRPART) afterwards. */
int disk_write(const struct disk_spec *s, const struct disk_layout *l, const char *target,
	       int fd, const char *work_dir, struct space_err *err);

int disk_fs_uuid(const char *seed, const char *partname, struct guid *out);
int disk_esp_volume_id(const char *seed, uint32_t *out);

/* Resolves path (absolute, inside the tree) following symlinks inside the
 * tree only: an absolute link target restarts at the tree's root and ".."
 * stops there, so nothing outside tree is ever looked at. The result (a
 * regular file) is written to out as an absolute in-tree path.
 * -ENOENT, -ELOOP, -ENAMETOOLONG, -EINVAL (not a regular file). */
int tree_resolve(const char *tree, const char *path, char *out, size_t outlen);

#endif
