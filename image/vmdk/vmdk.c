/* SPDX-License-Identifier: MIT */
/* vmdk.c - VMDK header/descriptor parsing and the stream -> raw reader. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>

#include "fdio.h"
#include "util.h"
#include "vmdk.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "on-disk VMDK integers are little-endian");

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

#define FAIL(msg) return err_set(err, -SPACE_E_FORMAT, "%s", (msg))

int vmdk_parse_header(const unsigned char blk[VMDK_SECTOR], struct vmdk_header *h,
		      struct space_err *err)
{
	uint16_t comp;

	if (get32(blk) != VMDK_MAGIC)
		FAIL("not a sparse VMDK (bad magic)");
	h->version = get32(blk + 4);
	h->flags = get32(blk + 8);
	h->capacity = get64(blk + 12);
	h->grain_size = get64(blk + 20);
	h->desc_offset = get64(blk + 28);
	h->desc_size = get64(blk + 36);
	h->gtes_per_gt = get32(blk + 44);
	h->rgd_offset = get64(blk + 48);
	h->gd_offset = get64(blk + 56);
	h->overhead = get64(blk + 64);
	memcpy(&comp, blk + 77, 2);
	h->compress = comp;
	if (h->version < 1 || h->version > 3)
		FAIL("unsupported VMDK version");
	if (h->grain_size < 8 || h->grain_size > 2048 || (h->grain_size & (h->grain_size - 1)))
		FAIL("grain size not a power of two in 8..2048 sectors");
	if (h->gtes_per_gt != VMDK_GTES_PER_GT)
		FAIL("numGTEsPerGT is not 512");
	if (h->capacity == 0 || h->capacity > (1ull << 40))
		FAIL("capacity is zero or beyond 512 TiB");
	if ((h->flags & VMDK_FLAG_NL_TEST) &&
	    (blk[73] != '\n' || blk[74] != ' ' || blk[75] != '\r' || blk[76] != '\n'))
		FAIL("newline test bytes corrupted (file went through a text transfer?)");
	if (h->compress > 1)
		FAIL("unknown compression algorithm");
	if ((h->flags & VMDK_FLAG_COMPRESSED) && h->compress != 1)
		FAIL("compressed flag without deflate");
	if (h->desc_size > 2048 || (h->desc_size && h->desc_offset == 0))
		FAIL("descriptor offset/size out of range");
	/* offsets are sectors; bounding them keeps every `* 512` in range */
	if (h->desc_offset >= (1ull << 48) || h->rgd_offset >= (1ull << 48) || h->overhead >= (1ull << 48) ||
	    (h->gd_offset >= (1ull << 48) && h->gd_offset != VMDK_GD_AT_END))
		FAIL("metadata offset beyond 128 PiB");
	return 0;
}

void vmdk_format_header(const struct vmdk_header *h, unsigned char blk[VMDK_SECTOR])
{
	memset(blk, 0, VMDK_SECTOR);
	put32(blk, VMDK_MAGIC);
	put32(blk + 4, h->version);
	put32(blk + 8, h->flags);
	put64(blk + 12, h->capacity);
	put64(blk + 20, h->grain_size);
	put64(blk + 28, h->desc_offset);
	put64(blk + 36, h->desc_size);
	put32(blk + 44, h->gtes_per_gt);
	put64(blk + 48, h->rgd_offset);
	put64(blk + 56, h->gd_offset);
	put64(blk + 64, h->overhead);
	blk[72] = 0;
	blk[73] = '\n';
	blk[74] = ' ';
	blk[75] = '\r';
	blk[76] = '\n';
	memcpy(blk + 77, &h->compress, 2);
}

/* Copy the quoted value of `key = "value"` or `key=value` from line. */
static bool desc_value(const char *line, const char *end, const char *key, char *out, size_t outsz)
{
	size_t kl = strlen(key), n = 0;
	const char *p = line;

	if ((size_t)(end - p) < kl || memcmp(p, key, kl) != 0)
		return false;
	p += kl;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '=')
		return false;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p < end && *p == '"') {
		p++;
		while (p < end && *p != '"' && n + 1 < outsz)
			out[n++] = *p++;
		if (p >= end || *p != '"')
			return false;
	} else {
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && n + 1 < outsz)
			out[n++] = *p++;
	}
	out[n] = '\0';
	return n > 0;
}

/* Decimal digits from p, never reading at or past end (the descriptor
 * need not be NUL-terminated: strtoull would run past it, and would take a
 * sign or wrap on overflow). Returns the first byte after the digits, or
 * NULL when there is none or the value exceeds 64 bits. */
static const char *parse_dec(const char *p, const char *end, uint64_t *v)
{
	const char *start = p;

	*v = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return NULL;
		*v = *v * 10 + d;
	}
	return p == start ? NULL : p;
}

int vmdk_parse_descriptor(const char *text, size_t len, struct vmdk_descriptor *d,
			  struct space_err *err)
{
	const char *p = text, *end;
	bool sig = false, cid = false, ext = false;
	char val[64];

	memset(d, 0, sizeof(*d));
	end = memchr(text, '\0', len);
	if (!end)
		end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		if (le - p >= 21 && memcmp(p, "# Disk DescriptorFile", 21) == 0)
			sig = true;
		else if (desc_value(p, le, "createType", d->create_type, sizeof(d->create_type)))
			;
		else if (desc_value(p, le, "ddb.adapterType", d->adapter_type, sizeof(d->adapter_type)))
			;
		else if (desc_value(p, le, "CID", val, sizeof(val))) {
			char *e;
			unsigned long v = strtoul(val, &e, 16);
			/* strtoul takes a sign and spaces: "-1" would pass as ffffffff */
			if (*e || strlen(val) > 8 || strspn(val, "0123456789abcdefABCDEF") != strlen(val))
				FAIL("descriptor CID is not 8 hex digits");
			d->cid = (uint32_t)v;
			cid = true;
		} else if (le - p > 3 && memcmp(p, "RW ", 3) == 0) {
			const char *e = parse_dec(p + 3, le, &d->extent_sectors);
			if (!e || le - e < 8 || memcmp(e, " SPARSE ", 8) != 0)
				FAIL("descriptor extent line is not `RW <sectors> SPARSE \"file\"`");
			if (ext)
				FAIL("descriptor has more than one extent");
			ext = true;
		}
		p = nl ? nl + 1 : end;
	}
	if (!sig)
		FAIL("descriptor lacks `# Disk DescriptorFile`");
	if (!d->create_type[0])
		FAIL("descriptor lacks createType");
	if (!cid)
		FAIL("descriptor lacks CID");
	if (!ext)
		FAIL("descriptor lacks an extent line");
	return 0;
}

int vmdk_info_from_bytes(const unsigned char *head, size_t headlen, const unsigned char *tail,
			 size_t taillen, uint64_t file_size, struct vmdk_info *info, struct space_err *err)
{
	int r;

	memset(info, 0, sizeof(*info));
	if (headlen < VMDK_SECTOR)
		FAIL("file shorter than a VMDK header");
	r = vmdk_parse_header(head, &info->header, err);
	if (r < 0)
		return r;
	if (info->header.desc_size) {
		uint64_t off = info->header.desc_offset * VMDK_SECTOR;
		uint64_t dl = info->header.desc_size * VMDK_SECTOR;
		if (off + dl > headlen)
			FAIL(off + dl > file_size ? "descriptor beyond end of file" :
						    "descriptor beyond the first 64 KiB");
		r = vmdk_parse_descriptor((const char *)head + off, (size_t)dl, &info->desc, err);
		if (r < 0)
			return r;
	}
	if (info->header.gd_offset == VMDK_GD_AT_END) {
		struct vmdk_header lead = info->header;

		/* the footer takes precedence over a header that defers the GD */
		if (taillen < 3 * VMDK_SECTOR || file_size < 4 * VMDK_SECTOR)
			FAIL("stream too short for footer");
		tail += taillen - 3 * VMDK_SECTOR;
		if (get32(tail + 8) != 0 || get32(tail + 12) != VMDK_MARKER_FOOTER)
			FAIL("footer marker missing at end of stream");
		for (size_t i = 2 * VMDK_SECTOR; i < 3 * VMDK_SECTOR; i++)
			if (tail[i])
				FAIL("end-of-stream marker missing");
		r = vmdk_parse_header(tail + VMDK_SECTOR, &info->header, err);
		if (r < 0)
			return r;
		if (info->header.gd_offset == VMDK_GD_AT_END || info->header.gd_offset >= file_size / VMDK_SECTOR)
			FAIL("footer does not locate the grain directory inside the file");
		if (info->header.capacity != lead.capacity || info->header.grain_size != lead.grain_size ||
		    info->header.flags != lead.flags)
			FAIL("footer disagrees with the header (capacity, grain or flags)");
		info->has_footer = 1;
	}
	return 0;
}

/* Header and descriptor from the first 64 KiB, footer from the last three
 * sectors. */
int vmdk_read_info(int fd, struct vmdk_info *info, struct space_err *err)
{
	unsigned char *head, tail[3 * VMDK_SECTOR];
	size_t hl, tl;
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	hl = st.st_size < 65536 ? (size_t)st.st_size : 65536;
	tl = st.st_size < (off_t)sizeof(tail) ? (size_t)st.st_size : sizeof(tail);
	head = malloc(hl ? hl : 1);
	if (!head)
		return -ENOMEM;
	r = fd_pread_full(fd, head, hl, 0);
	if (r == 0)
		r = fd_pread_full(fd, tail, tl, (uint64_t)st.st_size - tl);
	if (r == 0)
		r = vmdk_info_from_bytes(head, hl, tail, tl, (uint64_t)st.st_size, info, err);
	free(head);
	return r;
}

/* State of one extraction. used has one bit per sector of the input: every
 * grain and grain table claims the sectors it is read from, and a second
 * claim is refused. A valid VMDK never shares them, and without sharing
 * the output is bounded by the input: at most one grain of output per
 * input sector (deflate itself expands at most about 1032:1). With
 * sharing, a few KiB of grain tables pointing at one grain wrote a fully
 * allocated disk of any capacity (issue 12 #17). */
struct extract {
	int in_fd;
	uint64_t file_size, grain_bytes;
	const struct vmdk_header *h;
	struct libdeflate_decompressor *dec;
	unsigned char *cbuf, *grain, *used;
	struct space_err *err;
};

/* Claim the input sectors holding bytes [off, off + len). */
static int claim(struct extract *x, uint64_t off, uint64_t len)
{
	struct space_err *err = x->err;
	uint64_t s = off / VMDK_SECTOR, e = (off + len + VMDK_SECTOR - 1) / VMDK_SECTOR;

	if (len == 0 || off + len > x->file_size)
		FAIL("grain or grain table outside the file");
	for (; s < e; s++) {
		if (x->used[s / 8] & (1u << (s % 8)))
			FAIL("grain or grain table shares input sectors with another (refused: it would "
			     "multiply the output)");
		x->used[s / 8] |= (unsigned char)(1u << (s % 8));
	}
	return 0;
}

/* Grain g (its want bytes) at byte offset off into x->grain. */
static int read_grain(struct extract *x, uint64_t g, uint64_t off, uint64_t want)
{
	struct space_err *err = x->err;
	uint64_t max = 2 * x->grain_bytes + VMDK_SECTOR;
	size_t hdr = (x->h->flags & VMDK_FLAG_MARKERS) ? 12 : 0, rd, got = 0, in_used = 0;
	uint32_t clen;
	int r;

	if (!(x->h->flags & VMDK_FLAG_COMPRESSED)) {
		r = claim(x, off, want);
		return r < 0 ? r : fd_pread_full(x->in_fd, x->grain, want, off);
	}
	if (off >= x->file_size)
		FAIL("grain outside the file");
	rd = x->file_size - off < max ? (size_t)(x->file_size - off) : (size_t)max;
	if (rd < hdr + 2)
		FAIL("grain outside the file");
	r = fd_pread_full(x->in_fd, x->cbuf, rd, off);
	if (r < 0)
		return r;
	if (hdr && get64(x->cbuf) != g * x->h->grain_size)
		FAIL("grain marker LBA does not match its grain table entry");
	clen = hdr ? get32(x->cbuf + 8) : (uint32_t)(rd - hdr);
	if (clen == 0 || clen > rd - hdr)
		FAIL("grain marker size out of range");
	if (libdeflate_zlib_decompress_ex(x->dec, x->cbuf + hdr, clen, x->grain, x->grain_bytes, &in_used, &got) !=
		    LIBDEFLATE_SUCCESS ||
	    got < want)
		FAIL("grain does not decompress (corrupted data)");
	/* without a marker the zlib stream's own end says where the grain ends */
	return claim(x, off, hdr + (hdr ? clen : in_used));
}

/* The grains of grain table t (at sector gto). */
static int extract_table(struct extract *x, int out_fd, unsigned char *gt, uint64_t t, uint32_t gto,
			 uint64_t ngrains, uint64_t cap_bytes)
{
	struct space_err *err = x->err;
	int r = claim(x, (uint64_t)gto * VMDK_SECTOR, VMDK_GTES_PER_GT * 4);

	if (r == 0)
		r = fd_pread_full(x->in_fd, gt, VMDK_GTES_PER_GT * 4, (uint64_t)gto * VMDK_SECTOR);
	for (uint64_t e = 0; r == 0 && e < VMDK_GTES_PER_GT; e++) {
		uint64_t g = t * VMDK_GTES_PER_GT + e, off = get32(gt + 4 * e) * (uint64_t)VMDK_SECTOR;
		uint64_t want = x->grain_bytes;

		if (off <= VMDK_SECTOR) /* 0 unallocated, 1 zeroed grain */
			continue;
		if (g >= ngrains)
			FAIL("grain table entry beyond capacity");
		if (g * x->grain_bytes + want > cap_bytes)
			want = cap_bytes - g * x->grain_bytes;
		r = read_grain(x, g, off, want);
		if (r == 0 && !mem_is_zero(x->grain, want))
			r = fd_pwrite_full(out_fd, x->grain, want, g * x->grain_bytes);
	}
	return r;
}

int vmdk_extract(int in_fd, int out_fd, uint64_t *capacity_bytes, struct space_err *err)
{
	struct extract x = { .in_fd = in_fd, .err = err };
	unsigned char *gd = NULL, *gt = NULL;
	struct vmdk_info info;
	struct stat st;
	uint64_t ngrains, ngts, cap_bytes;
	int r;

	r = vmdk_read_info(in_fd, &info, err);
	if (r < 0)
		return r;
	if (fstat(in_fd, &st) < 0)
		return -errno;
	x.h = &info.header;
	x.file_size = (uint64_t)st.st_size;
	x.grain_bytes = info.header.grain_size * VMDK_SECTOR;
	cap_bytes = info.header.capacity * VMDK_SECTOR;
	ngrains = (info.header.capacity + info.header.grain_size - 1) / info.header.grain_size;
	ngts = (ngrains + VMDK_GTES_PER_GT - 1) / VMDK_GTES_PER_GT;
	if (info.header.gd_offset == 0 || (info.header.gd_offset + (ngts * 4 + 511) / 512) * VMDK_SECTOR > x.file_size)
		FAIL("grain directory outside the file");
	gd = malloc(ngts * 4);
	gt = malloc(VMDK_GTES_PER_GT * 4);
	x.cbuf = malloc(2 * x.grain_bytes + VMDK_SECTOR);
	x.grain = malloc(x.grain_bytes);
	x.used = calloc(1, x.file_size / VMDK_SECTOR / 8 + 1);
	x.dec = libdeflate_alloc_decompressor();
	if (!gd || !gt || !x.cbuf || !x.grain || !x.used || !x.dec) {
		r = -ENOMEM;
		goto out;
	}
	r = fd_pread_full(in_fd, gd, ngts * 4, info.header.gd_offset * VMDK_SECTOR);
	if (r < 0)
		goto out;
	if (ftruncate(out_fd, 0) < 0 || ftruncate(out_fd, (off_t)cap_bytes) < 0) {
		r = -errno;
		goto out;
	}
	for (uint64_t t = 0; r == 0 && t < ngts; t++) {
		uint32_t gto = get32(gd + 4 * t);
		if (gto)
			r = extract_table(&x, out_fd, gt, t, gto, ngrains, cap_bytes);
	}
	if (r == 0 && capacity_bytes)
		*capacity_bytes = cap_bytes;
out:
	libdeflate_free_decompressor(x.dec);
	free(gd);
	free(gt);
	free(x.cbuf);
	free(x.grain);
	free(x.used);
	return r;
}
