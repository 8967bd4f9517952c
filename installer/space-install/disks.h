/* SPDX-License-Identifier: MIT */
/* disks.h - the installer's view of the machine's disks, from sysfs alone
 * (the installer's initramfs has no udev): name, size, model, a by-id
 * style name, whether it is the installation medium, and what it holds.
 *
 * Everything is read under a root prefix ("" on the machine, a fake tree
 * in the tests): ROOT/sys/block/NAME/..., ROOT/dev/NAME. Return 0 or a
 * negative errno; never print.
 */
#ifndef SPACE_INSTALL_DISKS_H
#define SPACE_INSTALL_DISKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define DISKS_MAX 32 /* disks listed: the first by name; more are counted */

enum disk_holds {
	HOLDS_NOTHING, /* the first MiB and the GPT backup are zeros */
	HOLDS_SYSTEM,  /* our GPT layout: what names the release it holds */
	HOLDS_TABLE,   /* another partition table (GPT or MBR) */
	HOLDS_DATA,    /* no table, but not blank (a filesystem, old data) */
};

struct disk {
	char name[32]; /* "sda" */
	char dev[300]; /* ROOT/dev/sda */
	uint64_t bytes;
	char model[112]; /* vendor and model, or the bus ("virtio disk") */
	char id[160];    /* by-id style: ata-MODEL_SERIAL, virtio-SERIAL,
			    nvme-MODEL_SERIAL, scsi-WWID, or by-path pci-... */
	bool medium;     /* holds the installation medium: never a target */
	bool readonly;
	enum disk_holds holds;
	char what[96]; /* "space 21.3R1.1", "a GPT partition table", ... */
};

struct disk_list {
	struct disk d[DISKS_MAX];
	unsigned n;
	unsigned dropped; /* disks beyond DISKS_MAX */
};

/* Every whole disk in ROOT/sys/block except loop, ram, zram, CD-ROMs and
 * floppies, sorted by name: the first DISKS_MAX names, whatever order
 * readdir gives. medium is the st_dev of a file on the installation
 * medium (0: none); the disk it lives on is marked. What a disk holds is
 * read from its first MiB and GPT (a disk that cannot be read says so in
 * what). */
int disks_scan(const char *root, dev_t medium, struct disk_list *out);

/* "8.0 GiB" style size into out (16 bytes). */
void disks_size_str(uint64_t bytes, char out[16]);

/* The disk named name ("sda" or "/dev/sda"), or NULL. */
const struct disk *disks_find(const struct disk_list *l, const char *name);

#endif
