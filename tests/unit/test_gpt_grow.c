/* SPDX-License-Identifier: MIT */
/* test_gpt_grow.c - tests for growing a GPT disk (image/lib/gpt.c:
 * gpt_table_bytes, gpt_read_sized, gpt_grow_last, gpt_write_grown,
 * gpt_restore_primary): the backup moves to the new end, the last partition
 * is extended and aligned, CRCs are right, refusals, no-op, and the disk
 * after a power cut at each step of the write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "image/lib/diskio.h"
#include "image/lib/gpt.h"
#include "tap.h"
#include "util.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* A fresh 600 MiB image (200 MiB slots) in a temp file, grown to grow_to. */
static int make_disk(char *path, struct disk_layout *l, uint64_t grow_to)
{
	struct disk_sizes sz = { .disk = 600 * MIB, .root = 200 * MIB };
	int fd = mkstemp(path);

	if (fd < 0 || disk_layout_default(l, &sz, "grow") < 0 || ftruncate(fd, (off_t)l->disk_bytes) < 0 ||
	    gpt_write(fd, l) < 0)
		return -1;
	if (grow_to && ftruncate(fd, (off_t)grow_to) < 0)
		return -1;
	return fd;
}

/* Plan and write the whole grow; returns gpt_grow_last's result. */
static int grow(int fd, unsigned steps)
{
	struct disk_layout l;
	uint64_t tb, size;
	int r;

	if (gpt_table_bytes(fd, &tb) < 0 || disk_size_fd(fd, &size) < 0 || gpt_read_sized(fd, tb, &l) < 0)
		return -100;
	r = gpt_grow_last(&l, size, "data");
	if (r != 0)
		return r;
	return gpt_write_grown(fd, &l, steps);
}

/* every test grows the 600 MiB disk to this size (1 GiB + 7 sectors more) */
#define GROWN_SIZE (600 * MIB + 1024 * MIB + 7 * 512)
/* where data then ends: the last 1 MiB boundary before the backup table */
#define GROWN_DATA_END ((GROWN_SIZE / 512 - 33 - 1 + 1) / 2048 * 2048 - 1)

/* planning on a layout in memory, then the grow written on disk */
static void test_grow(void)
{
	struct disk_layout l, orig, g;
	char path[] = "/tmp/test_gpt_grow.XXXXXX";
	uint8_t hdr[512];
	uint64_t tb, newsz = GROWN_SIZE, last, want_end;
	int fd;

	/* --- planning on a layout in memory */
	fd = make_disk(path, &orig, 0);
	ok(fd >= 0, "600 MiB test disk");
	g = orig;
	is_int(gpt_grow_last(&g, orig.disk_bytes, "data"), 1, "same size: nothing to do");
	g = orig;
	is_int(gpt_grow_last(&g, orig.disk_bytes - 512, "data"), -EINVAL, "refuses to shrink");
	is_int(gpt_grow_last(&g, orig.disk_bytes + 100, "data"), -EINVAL, "refuses a size not a multiple of 512");
	is_int(gpt_grow_last(&g, orig.disk_bytes + MIB, "root-b"), -EPERM,
	       "refuses when the last partition has another name");
	g = orig;
	is_int(gpt_grow_last(&g, orig.disk_bytes + 4096, "data"), 0, "a few sectors more: backup moves");
	is_int(g.parts[4].last_lba, orig.parts[4].last_lba, "... but data cannot grow to the next MiB");
	g = orig;
	is_int(gpt_grow_last(&g, newsz, "data"), 0, "grow by 1 GiB + 7 sectors");
	want_end = (newsz / 512 - 33 - 1 + 1) / 2048 * 2048 - 1;
	is_int(g.parts[4].last_lba, want_end, "data ends on the last 1 MiB boundary before the backup");
	ok((g.parts[4].last_lba + 1) % 2048 == 0 && g.parts[4].last_lba <= newsz / 512 - 34,
	   "aligned and inside the usable area");
	is_int(g.parts[4].first_lba, orig.parts[4].first_lba, "data keeps its start");
	ok(!memcmp(&g.parts[3], &orig.parts[3], sizeof(g.parts[3])), "other partitions untouched");

	/* --- on disk */
	ftruncate(fd, (off_t)newsz);
	{
		struct disk_layout tmp;
		is_int(gpt_read(fd, &tmp), -SPACE_E_FORMAT, "strict reader rejects the grown disk (backup not at end)");
	}
	is_int(gpt_table_bytes(fd, &tb), 0, "gpt_table_bytes");
	is_int(tb, orig.disk_bytes, "the table was written for 600 MiB");
	is_int(grow(fd, GPT_GROW_STEPS), 0, "grow written");
	is_int(gpt_read(fd, &l), 0, "strict reader accepts the grown disk (CRCs, backup agrees)");
	is_int(l.disk_bytes, newsz, "read at the new size");
	is_int(l.parts[4].last_lba, want_end, "data extended on disk");
	ok(!strcmp(l.parts[4].name, "data") && guid_eq(&l.parts[4].uuid, &orig.parts[4].uuid) &&
		   guid_eq(&l.disk_guid, &orig.disk_guid),
	   "names and GUIDs kept");
	last = newsz / 512 - 1;
	pread_all(fd, hdr, 512, last * 512);
	ok(!memcmp(hdr, "EFI PART", 8) && le64(hdr + 24) == last && le64(hdr + 32) == 1 &&
		   le64(hdr + 72) == last - 32,
	   "backup header at the new last LBA, entries right before it");
	pread_all(fd, hdr, 512, 512);
	ok(le64(hdr + 32) == last && le64(hdr + 48) == last - 33, "primary points at the new backup");
	pread_all(fd, hdr, 512, 0);
	is_int(le32(hdr + 446 + 12), last, "protective MBR covers the new size");
	is_int(grow(fd, GPT_GROW_STEPS), 1, "second run: nothing to do");
	is_int(gpt_restore_primary(fd), 0, "restore: primary valid, nothing done");
	close(fd);
	unlink(path);
}

/* a power cut after each step: the disk is readable, a rerun ends in the
 * same table */
static void test_power_cut(void)
{
	struct disk_layout orig;
	struct disk_sizes sz = { .disk = 600 * MIB, .root = 200 * MIB };
	uint64_t tb, newsz = GROWN_SIZE, want_end = GROWN_DATA_END;

	disk_layout_default(&orig, &sz, "grow"); /* the layout make_disk writes */
	for (unsigned steps = 0; steps < GPT_GROW_STEPS; steps++) {
		char p2[] = "/tmp/test_gpt_grow.XXXXXX";
		struct disk_layout a;
		int fd2 = make_disk(p2, &a, newsz), rest, r;

		is_int(grow(fd2, steps), 0, "cut after %u step(s)", steps);
		rest = gpt_restore_primary(fd2);
		is_int(rest, steps == 4 ? 1 : 0, "after %u: primary restored from the backup only when damaged", steps);
		if (steps == 4) {
			is_int(gpt_read(fd2, &a), 0, "after 4 + restore: the new table is complete");
		} else {
			is_int(gpt_table_bytes(fd2, &tb), 0, "after %u: old primary still valid", steps);
			is_int(gpt_read_sized(fd2, tb, &a), 0, "after %u: the old table reads (both headers)", steps);
			is_int(a.parts[4].last_lba, orig.parts[4].last_lba, "after %u: old data size", steps);
		}
		r = grow(fd2, GPT_GROW_STEPS);
		ok(r == 0 || (steps == 4 && r == 1), "after %u: rerun completes (%d)", steps, r);
		is_int(gpt_read(fd2, &a), 0, "after %u: final table valid", steps);
		is_int(a.parts[4].last_lba, want_end, "after %u: data extended", steps);
		close(fd2);
		unlink(p2);
	}
}

/* refusal on disk: the last partition is not "data" */
static void test_refusal(void)
{
	uint64_t tb, newsz = GROWN_SIZE;

	{
		char p3[] = "/tmp/test_gpt_grow.XXXXXX";
		struct disk_layout a;
		int fd3 = make_disk(p3, &a, 0);

		snprintf(a.parts[4].name, sizeof(a.parts[4].name), "home");
		gpt_write(fd3, &a);
		ftruncate(fd3, (off_t)newsz);
		is_int(grow(fd3, GPT_GROW_STEPS), -EPERM, "a disk whose last partition is not data is refused");
		is_int(gpt_table_bytes(fd3, &tb), 0, "... and left alone");
		is_int(tb, 600 * MIB, "... table still 600 MiB");
		/* Both headers damaged: restore refuses. */
		pwrite_all(fd3, "XXXX", 4, 512);
		is_int(gpt_restore_primary(fd3), -SPACE_E_FORMAT, "restore refuses when no backup at the end");
		close(fd3);
		unlink(p3);
	}
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/gpt_grow/grow", test_grow },
		{ "/gpt_grow/power_cut", test_power_cut },
		{ "/gpt_grow/refusal", test_refusal },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
