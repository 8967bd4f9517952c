/* SPDX-License-Identifier: MIT */
/* gpt.c - GPT layout, writer and reader; see gpt.h. CRC32 is zlib's (the
 * same IEEE polynomial the UEFI spec uses), SHA-256 is OpenSSL's. */
#include <errno.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "diskio.h"
#include "gpt.h"
#include "imgutil.h"
#include "util.h"

const struct guid GUID_BIOS_BOOT = { { 0x21, 0x68, 0x61, 0x48, 0x64, 0x49, 0x6E, 0x6F, 0x74, 0x4E,
				       0x65, 0x65, 0x64, 0x45, 0x46, 0x49 } };
const struct guid GUID_ESP = { { 0xC1, 0x2A, 0x73, 0x28, 0xF8, 0x1F, 0x11, 0xD2, 0xBA, 0x4B, 0x00,
				 0xA0, 0xC9, 0x3E, 0xC9, 0x3B } };
const struct guid GUID_LINUX_FS = { { 0x0F, 0xC6, 0x3D, 0xAF, 0x84, 0x83, 0x47, 0x72, 0x8E, 0x79,
				      0x3D, 0x69, 0xD8, 0x47, 0x7D, 0xE4 } };

/* ------------------------------------------------------------------ GUIDs */

static void guid_fmt(const struct guid *g, char out[37], const char *hex)
{
	static const int dash[] = { 4, 6, 8, 10 };
	size_t o = 0, d = 0;

	for (int i = 0; i < 16; i++) {
		if (d < 4 && i == dash[d]) {
			out[o++] = '-';
			d++;
		}
		out[o++] = hex[g->b[i] >> 4];
		out[o++] = hex[g->b[i] & 15];
	}
	out[o] = '\0';
}

void guid_to_str(const struct guid *g, char out[37])
{
	guid_fmt(g, out, "0123456789ABCDEF");
}

void guid_to_str_lower(const struct guid *g, char out[37])
{
	guid_fmt(g, out, "0123456789abcdef");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int guid_from_str(const char *s, struct guid *g)
{
	int n = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (int i = 0; i < 36;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			i++;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		g->b[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

/* On disk the first three fields are little-endian (UEFI spec, appendix A). */
static const int disk_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

void guid_to_disk(const struct guid *g, uint8_t out[16])
{
	for (int i = 0; i < 16; i++)
		out[i] = g->b[disk_order[i]];
}

void guid_from_disk(const uint8_t in[16], struct guid *g)
{
	for (int i = 0; i < 16; i++)
		g->b[disk_order[i]] = in[i];
}

int guid_is_zero(const struct guid *g)
{
	static const struct guid zero;
	return memcmp(g, &zero, sizeof(zero)) == 0;
}

int guid_eq(const struct guid *a, const struct guid *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

int guid_derive(const char *seed, const char *what, struct guid *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *msg;
	int r = 0;

	if (!seed || !*seed || !what)
		return -EINVAL;
	msg = xasprintf("%s/%s", seed, what);
	if (!msg)
		return -ENOMEM;
	if (EVP_Digest(msg, strlen(msg), md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16) {
		r = -EIO;
		goto out;
	}
	memcpy(out->b, md, 16);
	out->b[6] = (uint8_t)((out->b[6] & 0x0F) | 0x40); /* version 4 */
	out->b[8] = (uint8_t)((out->b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
out:
	free(msg);
	return r;
}

static uint32_t crc(const uint8_t *p, size_t n)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* ----------------------------------------------------------------- layout */

static uint64_t round_mib(uint64_t v)
{
	return (v + MIB - 1) / MIB * MIB;
}

static int add_part(struct disk_layout *l, const char *seed, const char *name,
		    const struct guid *type, uint64_t first, uint64_t last)
{
	struct gpt_part *p = &l->parts[l->nparts];
	int r;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->type = *type;
	p->first_lba = first;
	p->last_lba = last;
	p->index = l->nparts + 1;
	r = guid_derive(seed, name, &p->uuid);
	if (r < 0)
		return r;
	l->nparts++;
	return 0;
}

int disk_layout_default(struct disk_layout *l, const struct disk_sizes *sizes, const char *seed)
{
	static const struct disk_sizes dflt;
	uint64_t disk, bios, esp, root, total, last_usable, lba, data_end;
	const char *names[2] = { "root-a", "root-b" };
	int r;

	if (!sizes)
		sizes = &dflt;
	if (!seed || !*seed)
		return -EINVAL;
	disk = sizes->disk ? sizes->disk : DISK_DEFAULT_SIZE;
	bios = round_mib(sizes->bios ? sizes->bios : DISK_DEFAULT_BIOS);
	esp = round_mib(sizes->esp ? sizes->esp : DISK_DEFAULT_ESP);
	root = round_mib(sizes->root ? sizes->root : DISK_DEFAULT_ROOT);
	if (disk % GPT_SECTOR)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->disk_bytes = disk;
	total = disk / GPT_SECTOR;
	/* Room for both tables and the first aligned partition at all? */
	if (total < 2u * GPT_ALIGN_LBA + 2 + GPT_ENTRIES_LBAS)
		return -ENOSPC;
	last_usable = total - 2 - GPT_ENTRIES_LBAS;
	r = guid_derive(seed, "disk", &l->disk_guid);
	if (r < 0)
		return r;

	lba = GPT_ALIGN_LBA;
	/* Each partition: [lba, lba + size/512 - 1]; sizes are MiB multiples,
	 * so every start stays 1 MiB aligned. */
	r = add_part(l, seed, "bios", &GUID_BIOS_BOOT, lba, lba + bios / GPT_SECTOR - 1);
	if (r < 0)
		return r;
	lba += bios / GPT_SECTOR;
	r = add_part(l, seed, "esp", &GUID_ESP, lba, lba + esp / GPT_SECTOR - 1);
	if (r < 0)
		return r;
	lba += esp / GPT_SECTOR;
	for (int i = 0; i < 2; i++) {
		r = add_part(l, seed, names[i], &GUID_LINUX_FS, lba, lba + root / GPT_SECTOR - 1);
		if (r < 0)
			return r;
		lba += root / GPT_SECTOR;
	}
	/* data: the rest, ending on a 1 MiB boundary before the backup table. */
	data_end = (last_usable + 1) / GPT_ALIGN_LBA * GPT_ALIGN_LBA;
	if (data_end < lba || (data_end - lba) * GPT_SECTOR < DISK_MIN_DATA)
		return -ENOSPC;
	return add_part(l, seed, "data", &GUID_LINUX_FS, lba, data_end - 1);
}

uint64_t disk_layout_min_bytes(const struct disk_sizes *sizes)
{
	static const struct disk_sizes dflt;
	uint64_t end;

	if (!sizes)
		sizes = &dflt;
	/* 1 MiB before p1, the partitions, the minimum data, then the backup
	 * table (33 sectors). */
	end = MIB + round_mib(sizes->bios ? sizes->bios : DISK_DEFAULT_BIOS) +
	      round_mib(sizes->esp ? sizes->esp : DISK_DEFAULT_ESP) +
	      2 * round_mib(sizes->root ? sizes->root : DISK_DEFAULT_ROOT) + DISK_MIN_DATA;
	return end + (1 + GPT_ENTRIES_LBAS) * GPT_SECTOR;
}

const struct gpt_part *disk_layout_find(const struct disk_layout *l, const char *name)
{
	for (unsigned i = 0; i < l->nparts; i++)
		if (strcmp(l->parts[i].name, name) == 0)
			return &l->parts[i];
	return NULL;
}

/* ---------------------------------------------------------------- encoders */

static uint64_t last_lba(const struct disk_layout *l)
{
	return l->disk_bytes / GPT_SECTOR - 1;
}

void gpt_encode_pmbr(const struct disk_layout *l, uint8_t mbr[GPT_SECTOR])
{
	uint64_t size = last_lba(l);
	uint8_t *pe = mbr + 446;

	memset(mbr + 440, 0, GPT_SECTOR - 440);
	pe[0] = 0x00;                             /* not bootable */
	pe[1] = 0x00, pe[2] = 0x02, pe[3] = 0x00; /* CHS of LBA 1 */
	pe[4] = 0xEE;                             /* GPT protective */
	pe[5] = 0xFF, pe[6] = 0xFF, pe[7] = 0xFF;
	le_put32(pe + 8, 1);
	le_put32(pe + 12, size > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)size);
	mbr[510] = 0x55;
	mbr[511] = 0xAA;
}

int gpt_encode_entries(const struct disk_layout *l, uint8_t *entries)
{
	memset(entries, 0, GPT_NUM_ENTRIES * GPT_ENTRY_SIZE);
	for (unsigned i = 0; i < l->nparts; i++) {
		const struct gpt_part *p = &l->parts[i];
		uint8_t *e;
		size_t n = strlen(p->name);

		if (p->index < 1 || p->index > GPT_NUM_ENTRIES || n > GPT_NAME_MAX)
			return -EINVAL;
		e = entries + (p->index - 1) * GPT_ENTRY_SIZE;
		guid_to_disk(&p->type, e);
		guid_to_disk(&p->uuid, e + 16);
		le_put64(e + 32, p->first_lba);
		le_put64(e + 40, p->last_lba);
		le_put64(e + 48, p->attrs);
		for (size_t k = 0; k < n; k++)
			le_put16(e + 56 + 2 * k, (uint8_t)p->name[k]); /* ASCII -> UTF-16LE */
	}
	return 0;
}

void gpt_encode_header(const struct disk_layout *l, const uint8_t *entries, int backup,
		       uint8_t hdr[GPT_SECTOR])
{
	uint64_t last = last_lba(l);
	uint8_t g[16];

	memset(hdr, 0, GPT_SECTOR);
	memcpy(hdr, "EFI PART", 8);
	le_put32(hdr + 8, 0x00010000);
	le_put32(hdr + 12, 92);
	le_put64(hdr + 24, backup ? last : 1);
	le_put64(hdr + 32, backup ? 1 : last);
	le_put64(hdr + 40, 2 + GPT_ENTRIES_LBAS);
	le_put64(hdr + 48, last - 1 - GPT_ENTRIES_LBAS);
	guid_to_disk(&l->disk_guid, g);
	memcpy(hdr + 56, g, 16);
	le_put64(hdr + 72, backup ? last - GPT_ENTRIES_LBAS : 2);
	le_put32(hdr + 80, GPT_NUM_ENTRIES);
	le_put32(hdr + 84, GPT_ENTRY_SIZE);
	le_put32(hdr + 88, crc(entries, GPT_NUM_ENTRIES * GPT_ENTRY_SIZE));
	le_put32(hdr + 16, crc(hdr, 92));
}

int disk_size_fd(int fd, uint64_t *bytes)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode)) {
		*bytes = (uint64_t)st.st_size;
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, bytes) < 0 ? -errno : 0;
	return -ENOTBLK;
}

int gpt_write(int fd, const struct disk_layout *l)
{
	uint8_t *entries = NULL, mbr[GPT_SECTOR], hdr[GPT_SECTOR];
	uint64_t size, last;
	int r;

	r = disk_size_fd(fd, &size);
	if (r < 0)
		return r;
	if (size != l->disk_bytes || size / GPT_SECTOR < 2u * (GPT_ENTRIES_LBAS + 2))
		return -EINVAL;
	last = last_lba(l);
	entries = malloc(GPT_NUM_ENTRIES * GPT_ENTRY_SIZE);
	if (!entries)
		return -ENOMEM;
	r = gpt_encode_entries(l, entries);
	if (r < 0)
		goto out;
	/* Keep whatever boot code sector 0 holds (GRUB's boot.img). */
	r = pread_all(fd, mbr, sizeof(mbr), 0);
	if (r < 0)
		goto out;
	gpt_encode_pmbr(l, mbr);
	r = pwrite_all(fd, mbr, sizeof(mbr), 0);
	if (r < 0)
		goto out;
	gpt_encode_header(l, entries, 0, hdr);
	r = pwrite_all(fd, hdr, sizeof(hdr), 1 * GPT_SECTOR);
	if (r < 0)
		goto out;
	r = pwrite_all(fd, entries, GPT_NUM_ENTRIES * GPT_ENTRY_SIZE, 2 * GPT_SECTOR);
	if (r < 0)
		goto out;
	r = pwrite_all(fd, entries, GPT_NUM_ENTRIES * GPT_ENTRY_SIZE,
		       (last - GPT_ENTRIES_LBAS) * GPT_SECTOR);
	if (r < 0)
		goto out;
	gpt_encode_header(l, entries, 1, hdr);
	r = pwrite_all(fd, hdr, sizeof(hdr), last * GPT_SECTOR);
out:
	free(entries);
	return r;
}

/* ------------------------------------------------------------------ reader */

struct hdr_info {
	uint64_t my, alt, first_usable, last_usable, entries_lba;
	uint32_t nentries, entry_size, entries_crc;
	uint8_t disk_guid[16];
};

static int parse_header(const uint8_t *h, uint64_t want_lba, struct hdr_info *hi)
{
	uint8_t tmp[GPT_SECTOR];
	uint32_t hsize = le_get32(h + 12);

	if (memcmp(h, "EFI PART", 8) != 0 || hsize < 92 || hsize > GPT_SECTOR)
		return -SPACE_E_FORMAT;
	memcpy(tmp, h, hsize);
	memset(tmp + 16, 0, 4);
	if (crc(tmp, hsize) != le_get32(h + 16))
		return -SPACE_E_FORMAT;
	hi->my = le_get64(h + 24);
	hi->alt = le_get64(h + 32);
	hi->first_usable = le_get64(h + 40);
	hi->last_usable = le_get64(h + 48);
	hi->entries_lba = le_get64(h + 72);
	hi->nentries = le_get32(h + 80);
	hi->entry_size = le_get32(h + 84);
	hi->entries_crc = le_get32(h + 88);
	memcpy(hi->disk_guid, h + 56, 16);
	if (hi->my != want_lba || hi->entry_size < 128 || hi->entry_size % 8 ||
	    hi->nentries == 0 || hi->nentries > 4096 || hi->entry_size > 4096)
		return -SPACE_E_FORMAT;
	return 0;
}

static int read_entries(int fd, const struct hdr_info *hi, uint64_t total, uint8_t **out)
{
	size_t len = (size_t)hi->nentries * hi->entry_size;
	uint8_t *e;
	int r;

	if (hi->entries_lba >= total || hi->entries_lba + len / GPT_SECTOR > total)
		return -SPACE_E_FORMAT;
	e = malloc(len);
	if (!e)
		return -ENOMEM;
	r = pread_all(fd, e, len, hi->entries_lba * GPT_SECTOR);
	if (r == 0 && crc(e, len) != hi->entries_crc)
		r = -SPACE_E_FORMAT;
	if (r < 0) {
		free(e);
		return r;
	}
	*out = e;
	return 0;
}

int gpt_read(int fd, struct disk_layout *l)
{
	uint64_t size;
	int r;

	memset(l, 0, sizeof(*l));
	r = disk_size_fd(fd, &size);
	if (r < 0)
		return r;
	return gpt_read_sized(fd, size, l);
}

/* Check the protective MBR and parse the primary header at LBA 1 (CRC
 * checked); shared by the strict reader and gpt_table_bytes(). */
static int read_primary(int fd, struct hdr_info *pri)
{
	uint8_t sec[GPT_SECTOR];
	int r, pmbr = 0;

	r = pread_all(fd, sec, sizeof(sec), 0);
	if (r < 0)
		return r;
	for (int i = 0; i < 4; i++)
		if (sec[446 + 16 * i + 4] == 0xEE)
			pmbr = 1;
	if (sec[510] != 0x55 || sec[511] != 0xAA || !pmbr)
		return -SPACE_E_FORMAT;
	r = pread_all(fd, sec, sizeof(sec), GPT_SECTOR);
	if (r < 0)
		return r;
	return parse_header(sec, 1, pri);
}

int gpt_read_sized(int fd, uint64_t size, struct disk_layout *l)
{
	uint8_t sec[GPT_SECTOR], *ents = NULL, *bents = NULL;
	struct hdr_info pri, bak;
	uint64_t total;
	int r;

	memset(l, 0, sizeof(*l));
	total = size / GPT_SECTOR;
	if (total < 2u * (GPT_ENTRIES_LBAS + 2))
		return -SPACE_E_FORMAT;
	l->disk_bytes = size;

	r = read_primary(fd, &pri);
	if (r < 0)
		return r;
	if (pri.alt != total - 1 || pri.first_usable > pri.last_usable || pri.last_usable >= total)
		return -SPACE_E_FORMAT;
	r = read_entries(fd, &pri, total, &ents);
	if (r < 0)
		return r;

	/* The backup must be intact and describe the same table. */
	r = pread_all(fd, sec, sizeof(sec), pri.alt * GPT_SECTOR);
	if (r < 0)
		goto out;
	r = parse_header(sec, pri.alt, &bak);
	if (r < 0)
		goto out;
	if (bak.alt != 1 || bak.entries_crc != pri.entries_crc || bak.nentries != pri.nentries ||
	    bak.entry_size != pri.entry_size || memcmp(bak.disk_guid, pri.disk_guid, 16) != 0 ||
	    bak.first_usable != pri.first_usable || bak.last_usable != pri.last_usable) {
		r = -SPACE_E_FORMAT;
		goto out;
	}
	r = read_entries(fd, &bak, total, &bents);
	if (r < 0)
		goto out;

	guid_from_disk(pri.disk_guid, &l->disk_guid);
	for (uint32_t i = 0; i < pri.nentries; i++) {
		const uint8_t *e = ents + (size_t)i * pri.entry_size;
		struct gpt_part *p;
		struct guid type;

		guid_from_disk(e, &type);
		if (guid_is_zero(&type))
			continue;
		if (l->nparts == DISK_MAX_PARTS) {
			r = -E2BIG;
			goto out;
		}
		p = &l->parts[l->nparts++];
		p->type = type;
		guid_from_disk(e + 16, &p->uuid);
		p->first_lba = le_get64(e + 32);
		p->last_lba = le_get64(e + 40);
		p->attrs = le_get64(e + 48);
		p->index = i + 1;
		if (p->first_lba < pri.first_usable || p->last_lba > pri.last_usable ||
		    p->first_lba > p->last_lba) {
			r = -SPACE_E_FORMAT;
			goto out;
		}
		for (int k = 0; k < GPT_NAME_MAX; k++) {
			uint16_t c = (uint16_t)(e[56 + 2 * k] | e[57 + 2 * k] << 8);
			if (!c)
				break;
			p->name[k] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
		}
	}
out:
	free(ents);
	free(bents);
	return r;
}

/* ---------------------------------------------------------------- growing */

int gpt_table_bytes(int fd, uint64_t *bytes)
{
	struct hdr_info pri;
	int r;

	r = read_primary(fd, &pri);
	if (r < 0)
		return r;
	if (pri.alt < 2u * (GPT_ENTRIES_LBAS + 2) || pri.alt > UINT64_MAX / GPT_SECTOR - 1)
		return -SPACE_E_FORMAT;
	*bytes = (pri.alt + 1) * GPT_SECTOR;
	return 0;
}

int gpt_grow_last(struct disk_layout *l, uint64_t new_bytes, const char *last_name)
{
	struct gpt_part *last = NULL;
	uint64_t total, last_usable, end;

	if (new_bytes % GPT_SECTOR || new_bytes < l->disk_bytes || l->nparts == 0)
		return -EINVAL;
	for (unsigned i = 0; i < l->nparts; i++)
		if (!last || l->parts[i].last_lba > last->last_lba)
			last = &l->parts[i];
	if (strcmp(last->name, last_name) != 0)
		return -EPERM;
	total = new_bytes / GPT_SECTOR;
	last_usable = total - 2 - GPT_ENTRIES_LBAS;
	/* The same rule as disk_layout_default(): end on a 1 MiB boundary. */
	end = (last_usable + 1) / GPT_ALIGN_LBA * GPT_ALIGN_LBA - 1;
	if (new_bytes == l->disk_bytes && end <= last->last_lba)
		return 1;
	l->disk_bytes = new_bytes;
	if (end > last->last_lba)
		last->last_lba = end;
	return 0;
}

static int write_sync(int fd, const void *buf, size_t len, uint64_t off)
{
	int r = pwrite_all(fd, buf, len, off);

	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	return r;
}

int gpt_write_grown(int fd, const struct disk_layout *l, unsigned max_steps)
{
	uint8_t *entries = NULL, mbr[GPT_SECTOR], hdr[GPT_SECTOR];
	const size_t elen = GPT_NUM_ENTRIES * GPT_ENTRY_SIZE;
	uint64_t size, last;
	int r;

	r = disk_size_fd(fd, &size);
	if (r < 0)
		return r;
	if (size != l->disk_bytes || size / GPT_SECTOR < 2u * (GPT_ENTRIES_LBAS + 2))
		return -EINVAL;
	last = last_lba(l);
	entries = malloc(elen);
	if (!entries)
		return -ENOMEM;
	r = gpt_encode_entries(l, entries);
	if (r < 0)
		goto out;
	/* Why this order survives a power cut at any point (a single-sector
	 * write is taken as atomic, as every GPT tool does):
	 * 1. MBR size field: only informative; readers (Linux, gpt_read) do
	 *    not reject a larger value, and the old table stays untouched.
	 * 2. backup entries at the new end: outside the old table and the
	 *    old partitions' extent, nothing valid refers to them yet.
	 * 3. backup header at the new end: from now on the disk has two
	 *    valid tables: the old primary (with its old backup, still intact
	 *    in the middle of the disk) and the new backup at the last LBA,
	 *    where Linux and gpt_restore_primary() look for it.
	 * 4. primary entries: the primary header's entries CRC no longer
	 *    matches, so the primary is invalid; the new backup at the end is
	 *    valid and describes the same table (gpt_restore_primary()).
	 * 5. primary header: new primary and new backup agree.
	 * A run after 1-3 sees the old primary, re-plans and rewrites the same
	 * bytes; after 4, growdata first restores the primary from the backup. */
	for (unsigned step = 1; step <= max_steps && step <= GPT_GROW_STEPS && r == 0; step++) {
		switch (step) {
		case 1:
			r = pread_all(fd, mbr, sizeof(mbr), 0); /* keep the boot code */
			if (r == 0) {
				gpt_encode_pmbr(l, mbr);
				r = write_sync(fd, mbr, sizeof(mbr), 0);
			}
			break;
		case 2:
			r = write_sync(fd, entries, elen, (last - GPT_ENTRIES_LBAS) * GPT_SECTOR);
			break;
		case 3:
			gpt_encode_header(l, entries, 1, hdr);
			r = write_sync(fd, hdr, sizeof(hdr), last * GPT_SECTOR);
			break;
		case 4:
			r = write_sync(fd, entries, elen, 2 * GPT_SECTOR);
			break;
		case 5:
			gpt_encode_header(l, entries, 0, hdr);
			r = write_sync(fd, hdr, sizeof(hdr), GPT_SECTOR);
			break;
		}
	}
out:
	free(entries);
	return r;
}

int gpt_restore_primary(int fd)
{
	uint8_t sec[GPT_SECTOR], *ents = NULL;
	struct hdr_info pri, bak;
	uint64_t size, total;
	int r;

	r = disk_size_fd(fd, &size);
	if (r < 0)
		return r;
	total = size / GPT_SECTOR;
	if (total < 2u * (GPT_ENTRIES_LBAS + 2))
		return -SPACE_E_FORMAT;
	r = pread_all(fd, sec, sizeof(sec), GPT_SECTOR);
	if (r < 0)
		return r;
	if (parse_header(sec, 1, &pri) == 0) {
		r = read_entries(fd, &pri, total, &ents);
		free(ents);
		ents = NULL;
		if (r == 0)
			return 0;
		if (r != -SPACE_E_FORMAT)
			return r;
	}
	/* The primary is damaged: take the backup at the last LBA, if it is
	 * one of ours (standard entry array right before it). */
	r = pread_all(fd, sec, sizeof(sec), (total - 1) * GPT_SECTOR);
	if (r < 0)
		return r;
	r = parse_header(sec, total - 1, &bak);
	if (r < 0)
		return r;
	if (bak.alt != 1 || bak.nentries != GPT_NUM_ENTRIES || bak.entry_size != GPT_ENTRY_SIZE ||
	    bak.entries_lba != total - 1 - GPT_ENTRIES_LBAS ||
	    bak.first_usable != 2 + GPT_ENTRIES_LBAS || bak.last_usable != total - 2 - GPT_ENTRIES_LBAS)
		return -SPACE_E_FORMAT;
	r = read_entries(fd, &bak, total, &ents);
	if (r < 0)
		return r;
	/* Entries first, header last: the same reasoning as steps 4-5 of
	 * gpt_write_grown(). */
	r = write_sync(fd, ents, GPT_NUM_ENTRIES * GPT_ENTRY_SIZE, 2 * GPT_SECTOR);
	if (r == 0) {
		le_put64(sec + 24, 1);
		le_put64(sec + 32, total - 1);
		le_put64(sec + 72, 2);
		le_put32(sec + 16, 0);
		le_put32(sec + 16, crc(sec, le_get32(sec + 12)));
		r = write_sync(fd, sec, sizeof(sec), GPT_SECTOR);
	}
	free(ents);
	return r < 0 ? r : 1;
}
