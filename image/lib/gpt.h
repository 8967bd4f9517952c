/* SPDX-License-Identifier: MIT */
/* gpt.h - GUID partition tables: the appliance disk layout, a writer and a
 * strict reader.
 *
 * The layout (1 MiB aligned, sizes configurable):
 *   p1 "bios"   BIOS boot partition (GRUB core.img), 1 MiB
 *   p2 "esp"    EFI System Partition (FAT), 64 MiB
 *   p3 "root-a" root slot A (ext4), 2 GiB
 *   p4 "root-b" root slot B (ext4), 2 GiB
 *   p5 "data"   /var (ext4), the rest of the disk
 * Every GUID (disk, partitions, filesystems) is derived from a seed string,
 * so the same seed gives the same image; the installer passes a random seed
 * so that installed disks differ.
 *
 * All structures are plain values; nothing here allocates. Functions return
 * 0 or a negative errno / -SPACE_E_* code and never print.
 */
#ifndef SPACE_IMAGE_GPT_H
#define SPACE_IMAGE_GPT_H

#include <stddef.h>
#include <stdint.h>

#define GPT_SECTOR 512u
#define GPT_ALIGN_LBA 2048u /* 1 MiB */
#define GPT_NUM_ENTRIES 128u
#define GPT_ENTRY_SIZE 128u
#define GPT_ENTRIES_LBAS (GPT_NUM_ENTRIES * GPT_ENTRY_SIZE / GPT_SECTOR) /* 32 */
#define GPT_NAME_MAX 36                                                  /* UTF-16 code units in an entry name */

#define MIB (1024ull * 1024ull)

/* A GUID in its textual byte order (RFC 4122: the bytes as printed).
 * gpt_guid_to_disk()/from_disk() convert to the mixed-endian on-disk form. */
struct guid {
	uint8_t b[16];
};

extern const struct guid GUID_BIOS_BOOT; /* 21686148-6449-6E6F-744E-656564454649 */
extern const struct guid GUID_ESP;       /* C12A7328-F81F-11D2-BA4B-00A0C93EC93B */
extern const struct guid GUID_LINUX_FS;  /* 0FC63DAF-8483-4772-8E79-3D69D8477DE4 */

/* Upper-case "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX"; out needs 37 bytes. */
void guid_to_str(const struct guid *g, char out[37]);
/* Lower-case form, as mke2fs -U and blkid print filesystem UUIDs. */
void guid_to_str_lower(const struct guid *g, char out[37]);
int guid_from_str(const char *s, struct guid *g); /* -EINVAL on bad syntax */
void guid_to_disk(const struct guid *g, uint8_t out[16]);
void guid_from_disk(const uint8_t in[16], struct guid *g);
int guid_is_zero(const struct guid *g);
int guid_eq(const struct guid *a, const struct guid *b);
/* SHA-256("<seed>/<what>") shaped as a version-4 GUID. Deterministic. */
int guid_derive(const char *seed, const char *what, struct guid *out);

struct gpt_part {
	char name[GPT_NAME_MAX + 1]; /* ASCII subset of the UTF-16LE name */
	struct guid type;
	struct guid uuid;
	uint64_t first_lba;
	uint64_t last_lba; /* inclusive */
	uint64_t attrs;
	unsigned index; /* 1-based partition number (entry index + 1) */
};

#define DISK_MAX_PARTS 16

struct disk_layout {
	uint64_t disk_bytes;
	struct guid disk_guid;
	unsigned nparts;
	struct gpt_part parts[DISK_MAX_PARTS];
};

/* Sizes in bytes; 0 means the default. Each is rounded up to 1 MiB. */
struct disk_sizes {
	uint64_t disk; /* default 8 GiB */
	uint64_t bios; /* default 1 MiB */
	uint64_t esp;  /* default 64 MiB */
	uint64_t root; /* per slot; default 2 GiB */
};

#define DISK_DEFAULT_SIZE (8192ull * MIB)
#define DISK_DEFAULT_BIOS (1ull * MIB)
#define DISK_DEFAULT_ESP (64ull * MIB)
#define DISK_DEFAULT_ROOT (2048ull * MIB)
#define DISK_MIN_DATA (32ull * MIB)

/* Plans the five-partition layout for sizes (NULL: all defaults) with GUIDs
 * derived from seed. -ENOSPC when the disk cannot hold the partitions plus
 * DISK_MIN_DATA of data; -EINVAL when the disk size is not a multiple of
 * 512 or seed is empty. */
int disk_layout_default(struct disk_layout *l, const struct disk_sizes *sizes, const char *seed);

/* The smallest disk (bytes) disk_layout_default() accepts for sizes. */
uint64_t disk_layout_min_bytes(const struct disk_sizes *sizes);

/* The partition with that name, or NULL. The pointer is into l. */
const struct gpt_part *disk_layout_find(const struct disk_layout *l, const char *name);

static inline uint64_t gpt_part_offset(const struct gpt_part *p)
{
	return p->first_lba * GPT_SECTOR;
}
static inline uint64_t gpt_part_bytes(const struct gpt_part *p)
{
	return (p->last_lba - p->first_lba + 1) * GPT_SECTOR;
}

/* Pure encoders used by gpt_write (and the unit tests): fill the protective
 * MBR partition record (bytes 440..511 of mbr; the boot code area 0..439 is
 * left alone), the entry array (GPT_NUM_ENTRIES * GPT_ENTRY_SIZE bytes) and a
 * header sector (primary: backup=0, backup: backup=1). */
void gpt_encode_pmbr(const struct disk_layout *l, uint8_t mbr[GPT_SECTOR]);
int gpt_encode_entries(const struct disk_layout *l, uint8_t *entries);
void gpt_encode_header(const struct disk_layout *l, const uint8_t *entries, int backup,
		       uint8_t hdr[GPT_SECTOR]);

/* Writes the protective MBR (keeping bytes 0..439, the boot code), the
 * primary header + entries at LBA 1/2 and the backup entries + header at the
 * end of the disk. l->disk_bytes must match the size of fd's file or
 * device (-EINVAL otherwise). Does not fsync. */
int gpt_write(int fd, const struct disk_layout *l);

/* Reads and verifies the table: protective MBR, primary header and entry
 * CRCs, backup header CRCs and agreement with the primary. Any mismatch is
 * -SPACE_E_FORMAT. Fills l (disk_bytes from the file/device size) with the
 * used entries, at most DISK_MAX_PARTS (-E2BIG beyond). */
int gpt_read(int fd, struct disk_layout *l);

/* Size of a regular file or block device in bytes. */
int disk_size_fd(int fd, uint64_t *bytes);

/* ------------------------------------------------------ growing the disk
 * A VM disk is often made bigger than the image (the OVA declares 250 GB,
 * operators resize KVM disks): the table then sits inside a bigger disk
 * with its backup header in the middle. growdata moves the backup to the
 * real end and extends the last partition, in an order that keeps a valid
 * table on disk after a power cut at any point (see gpt_write_grown). */

/* gpt_read() as if fd were size bytes long: the table a disk of that size
 * would carry (backup header at size/512 - 1). Same checks and errors. */
int gpt_read_sized(int fd, uint64_t size, struct disk_layout *l);

/* The disk size the table on fd was written for, from the primary header
 * (CRC checked): (alternate LBA + 1) * 512. -SPACE_E_FORMAT when the
 * protective MBR or the primary header is not valid. */
int gpt_table_bytes(int fd, uint64_t *bytes);

/* Plans the grow of l (read from the disk) to a disk of new_bytes: the
 * backup table moves to the new end and the partition that ends last is
 * extended to the last 1 MiB boundary before the backup entries (never
 * shrunk). That partition must be named last_name: -EPERM otherwise.
 * Returns 1 when there is nothing to do (l already describes new_bytes and
 * the last partition cannot grow), 0 when l was changed, -EINVAL when
 * new_bytes is smaller than l->disk_bytes or not a multiple of 512. */
int gpt_grow_last(struct disk_layout *l, uint64_t new_bytes, const char *last_name);

/* Writes the grown table l (l->disk_bytes = the size of fd) in an order
 * safe against a power cut: protective MBR size, backup entries, backup
 * header at the new end, primary entries, primary header; each followed by
 * fsync. max_steps (GPT_GROW_STEPS for all) stops early: the tests use it
 * to leave the disk as a power cut would. Returns 0 or a negative errno. */
#define GPT_GROW_STEPS 5
int gpt_write_grown(int fd, const struct disk_layout *l, unsigned max_steps);

/* Repairs the state a power cut during the primary write of
 * gpt_write_grown() leaves: when the primary header or its entries are not
 * valid but the backup at the end of fd is, the primary is rewritten from
 * the backup. Returns 1 when it repaired, 0 when the primary was valid
 * (nothing done), -SPACE_E_FORMAT when neither is valid. */
int gpt_restore_primary(int fd);

#endif
