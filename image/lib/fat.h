/* SPDX-License-Identifier: MIT */
/* fat.h - the FAT volume serial as text, shared by the ESP builder
 * (fs_esp.c) and GRUB's early config (grub.c). A leaf header: grub.c
 * includes it instead of fs.h, so that GRUB, the ESP and the disk builder
 * (which uses both) no longer include each other in a loop. */
#ifndef SPACE_IMAGE_FAT_H
#define SPACE_IMAGE_FAT_H

#include <stdint.h>
#include <stdio.h>

/* "XXXX-XXXX", as GRUB's search --fs-uuid expects a FAT serial. */
static inline void fs_fat_serial_str(uint32_t volume_id, char out[10])
{
	snprintf(out, 10, "%04X-%04X", (unsigned)(volume_id >> 16), (unsigned)(volume_id & 0xFFFF));
}

#endif
