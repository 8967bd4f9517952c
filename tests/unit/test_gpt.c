/* SPDX-License-Identifier: MIT */
/* test_gpt.c - tests for image/lib/gpt.c: layout planning, the writer
 * (CRCs, backup, alignment, names, GUIDs) and the strict reader. */
#include <errno.h>
#include <fcntl.h>
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

static uint32_t crc(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(0L, p, (uInt)n);
}

/* Flip one byte at off, check gpt_read fails, flip it back. */
static void corrupt_check(int fd, uint64_t off, const char *what)
{
	struct disk_layout l;
	uint8_t b;

	pread_all(fd, &b, 1, off);
	b ^= 0x5A;
	pwrite_all(fd, &b, 1, off);
	is_int(gpt_read(fd, &l), -SPACE_E_FORMAT, "reader rejects a corrupted %s", what);
	b ^= 0x5A;
	pwrite_all(fd, &b, 1, off);
	is_int(gpt_read(fd, &l), 0, "reader accepts it again once restored (%s)", what);
}

static void test_guids(void)
{
	struct guid g1, g2, g3;
	char s[37];
	uint8_t disk16[16];

	ok(guid_from_str("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", &g1) == 0 && guid_eq(&g1, &GUID_ESP),
	   "ESP type GUID parses");
	guid_to_disk(&GUID_ESP, disk16);
	ok(disk16[0] == 0x28 && disk16[1] == 0x73 && disk16[2] == 0x2A && disk16[3] == 0xC1 &&
		   disk16[4] == 0x1F && disk16[5] == 0xF8 && disk16[6] == 0xD2 && disk16[7] == 0x11 &&
		   disk16[8] == 0xBA && disk16[15] == 0x3B,
	   "on-disk GUID is mixed-endian (UEFI spec)");
	guid_to_str(&GUID_BIOS_BOOT, s);
	ok(!strcmp(s, "21686148-6449-6E6F-744E-656564454649"), "BIOS boot GUID prints: %s", s);
	ok(guid_from_str("not-a-guid", &g1) == -EINVAL, "bad GUID text rejected");
	is_int(guid_derive("seed", "root-a", &g1), 0, "guid_derive");
	guid_derive("seed", "root-a", &g2);
	guid_derive("seed2", "root-a", &g3);
	ok(guid_eq(&g1, &g2), "same seed and name give the same GUID");
	ok(!guid_eq(&g1, &g3), "another seed gives another GUID");
	ok((g1.b[6] >> 4) == 4 && (g1.b[8] & 0xC0) == 0x80, "derived GUID is version 4, RFC variant");
	is_int(guid_derive("", "x", &g1), -EINVAL, "empty seed refused");
}

/* the default layout, and its sizes */
static void test_layout(void)
{
	struct disk_layout l;
	struct disk_sizes sz = { 0 };
	struct guid g1;
	int aligned = 1;

	is_int(disk_layout_default(&l, NULL, "s"), 0, "default layout");
	is_int(l.disk_bytes, 8192ull * MIB, "default disk is 8 GiB");
	is_int(l.nparts, 5, "five partitions");
	ok(!strcmp(l.parts[0].name, "bios") && !strcmp(l.parts[1].name, "esp") &&
		   !strcmp(l.parts[2].name, "root-a") && !strcmp(l.parts[3].name, "root-b") &&
		   !strcmp(l.parts[4].name, "data"),
	   "names bios esp root-a root-b data");
	is_int(gpt_part_bytes(&l.parts[0]), MIB, "bios 1 MiB");
	is_int(gpt_part_bytes(&l.parts[1]), 64 * MIB, "esp 64 MiB");
	is_int(gpt_part_bytes(&l.parts[2]), 2048 * MIB, "root-a 2 GiB");
	is_int(gpt_part_bytes(&l.parts[3]), 2048 * MIB, "root-b 2 GiB");
	is_int(l.parts[0].first_lba, 2048, "first partition at 1 MiB");
	for (unsigned i = 0; i < l.nparts; i++) {
		if (l.parts[i].first_lba % 2048 || (l.parts[i].last_lba + 1) % 2048)
			aligned = 0;
		if (i && l.parts[i].first_lba != l.parts[i - 1].last_lba + 1)
			aligned = 0;
	}
	ok(aligned, "every partition starts and ends on 1 MiB, no gaps");
	is_int(gpt_part_bytes(&l.parts[4]), 8192 * MIB - 1 * MIB - 1 * MIB - 64 * MIB - 4096 * MIB - MIB,
	       "data takes the rest up to the last whole MiB before the backup table");
	ok(guid_eq(&l.parts[0].type, &GUID_BIOS_BOOT) && guid_eq(&l.parts[1].type, &GUID_ESP) &&
		   guid_eq(&l.parts[2].type, &GUID_LINUX_FS) && guid_eq(&l.parts[4].type, &GUID_LINUX_FS),
	   "type GUIDs");
	guid_derive("s", "root-a", &g1);
	ok(guid_eq(&l.parts[2].uuid, &g1), "partition GUID = guid_derive(seed, name)");
	ok(!guid_eq(&l.parts[2].uuid, &l.parts[3].uuid), "slots have distinct GUIDs");
	ok(disk_layout_find(&l, "root-b") == &l.parts[3] && !disk_layout_find(&l, "nope"),
	   "disk_layout_find");

	sz.disk = 600 * MIB;
	sz.root = 200 * MIB;
	is_int(disk_layout_default(&l, &sz, "s"), 0, "600M disk with 200M slots");
	is_int(gpt_part_bytes(&l.parts[4]), 600 * MIB - 466 * MIB - MIB, "data size on 600M: up to the last whole MiB");
	sz.disk = 466 * MIB + DISK_MIN_DATA - 1 * MIB;
	is_int(disk_layout_default(&l, &sz, "s"), -ENOSPC, "refuses a disk too small for the layout");
	sz.disk = 466 * MIB + DISK_MIN_DATA + 1 * MIB;
	is_int(disk_layout_default(&l, &sz, "s"), 0, "accepts a disk exactly big enough");
	is_int(disk_layout_min_bytes(&sz), 498 * MIB + 33 * 512, "disk_layout_min_bytes");
	sz.disk = disk_layout_min_bytes(&sz);
	is_int(disk_layout_default(&l, &sz, "s"), 0, "the minimum is accepted");
	sz.disk = disk_layout_min_bytes(&sz) - 512;
	is_int(disk_layout_default(&l, &sz, "s"), -ENOSPC, "one sector less is refused");
	sz.disk = 1000 * MIB + 100;
	is_int(disk_layout_default(&l, &sz, "s"), -EINVAL, "refuses a size not a multiple of 512");
	sz.disk = 600 * MIB;
	sz.root = 200 * MIB + 1;
	disk_layout_default(&l, &sz, "s");
	is_int(gpt_part_bytes(&l.parts[2]), 201 * MIB, "sizes are rounded up to whole MiB");
}

/* the writer, then the reader of what it wrote, and of that damaged (one
 * function, 95 lines: each step reads the disk the one before made) */
static void test_write_read(void)
{
	struct disk_layout l, l2, back;
	struct disk_sizes sz = { 0 };
	char path[] = "/tmp/test_gpt.XXXXXX";
	uint8_t hdr[512], bhdr[512], *ents, *bents;
	uint64_t last;
	int fd, aligned;

	/* --- writer */
	sz.disk = 600 * MIB;
	sz.root = 200 * MIB;
	disk_layout_default(&l, &sz, "s");
	fd = mkstemp(path);
	ok(fd >= 0, "temp disk");
	ftruncate(fd, 500 * MIB);
	is_int(gpt_write(fd, &l), -EINVAL, "writer refuses a file of another size");
	ftruncate(fd, (off_t)l.disk_bytes);
	is_int(gpt_write(fd, &l), 0, "gpt_write");
	last = l.disk_bytes / 512 - 1;
	ents = malloc(16384);
	bents = malloc(16384);
	pread_all(fd, hdr, 512, 0);
	ok(hdr[510] == 0x55 && hdr[511] == 0xAA && hdr[446 + 4] == 0xEE && le32(hdr + 446 + 8) == 1 &&
		   le32(hdr + 446 + 12) == last,
	   "protective MBR: type EE from LBA 1 to the end");
	pread_all(fd, hdr, 512, 512);
	pread_all(fd, ents, 16384, 1024);
	ok(!memcmp(hdr, "EFI PART", 8) && le32(hdr + 8) == 0x10000 && le32(hdr + 12) == 92,
	   "primary header signature, revision, size");
	{
		uint8_t tmp[92];
		memcpy(tmp, hdr, 92);
		memset(tmp + 16, 0, 4);
		is_int(le32(hdr + 16), crc(tmp, 92), "primary header CRC32");
	}
	is_int(le32(hdr + 88), crc(ents, 16384), "entries CRC32");
	ok(le64(hdr + 24) == 1 && le64(hdr + 32) == last && le64(hdr + 72) == 2 &&
		   le64(hdr + 40) == 34 && le64(hdr + 48) == last - 33 && le32(hdr + 80) == 128 &&
		   le32(hdr + 84) == 128,
	   "primary header LBAs and entry geometry");
	pread_all(fd, bhdr, 512, last * 512);
	pread_all(fd, bents, 16384, (last - 32) * 512);
	ok(!memcmp(bhdr, "EFI PART", 8) && le64(bhdr + 24) == last && le64(bhdr + 32) == 1 &&
		   le64(bhdr + 72) == last - 32,
	   "backup header at the last LBA, entries just before it");
	ok(!memcmp(ents, bents, 16384) && le32(bhdr + 88) == le32(hdr + 88) &&
		   !memcmp(bhdr + 56, hdr + 56, 16),
	   "backup entries and disk GUID match the primary");
	{
		uint8_t tmp[92];
		memcpy(tmp, bhdr, 92);
		memset(tmp + 16, 0, 4);
		is_int(le32(bhdr + 16), crc(tmp, 92), "backup header CRC32");
	}
	ok(!memcmp(ents + 2 * 128 + 56, "r\0o\0o\0t\0-\0a\0\0\0", 14), "name root-a in UTF-16LE");
	ok(le64(ents + 2 * 128 + 32) == l.parts[2].first_lba &&
		   le64(ents + 2 * 128 + 40) == l.parts[2].last_lba,
	   "entry LBAs");

	/* --- reader */
	is_int(gpt_read(fd, &back), 0, "gpt_read of what we wrote");
	ok(back.nparts == 5 && back.disk_bytes == l.disk_bytes && guid_eq(&back.disk_guid, &l.disk_guid),
	   "read back: size, disk GUID, count");
	aligned = 1;
	for (unsigned i = 0; i < 5; i++)
		if (strcmp(back.parts[i].name, l.parts[i].name) || back.parts[i].first_lba != l.parts[i].first_lba ||
		    back.parts[i].last_lba != l.parts[i].last_lba || !guid_eq(&back.parts[i].uuid, &l.parts[i].uuid) ||
		    !guid_eq(&back.parts[i].type, &l.parts[i].type) || back.parts[i].index != i + 1)
			aligned = 0;
	ok(aligned, "read back: every entry equal");
	disk_layout_default(&l2, &sz, "s");
	ok(!memcmp(&l, &l2, sizeof(l)), "layout is deterministic");

	corrupt_check(fd, 512 + 60, "primary header");
	corrupt_check(fd, 1024 + 2 * 128 + 60, "primary entry array");
	corrupt_check(fd, last * 512 + 40, "backup header");
	corrupt_check(fd, (last - 32) * 512 + 70, "backup entry array");
	corrupt_check(fd, 510, "protective MBR signature");
	/* A consistent but different backup (another table) is also refused. */
	{
		struct disk_layout other = l;
		uint8_t e2[16384], h2[512];
		other.parts[4].last_lba -= 2048;
		gpt_encode_entries(&other, e2);
		gpt_encode_header(&other, e2, 1, h2);
		pwrite_all(fd, e2, sizeof(e2), (last - 32) * 512);
		pwrite_all(fd, h2, 512, last * 512);
		is_int(gpt_read(fd, &back), -SPACE_E_FORMAT, "reader rejects a backup describing another table");
	}
	close(fd);
	unlink(path);
	free(ents);
	free(bents);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/gpt/guids", test_guids },
		{ "/gpt/layout", test_layout },
		{ "/gpt/write_read", test_write_read },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
