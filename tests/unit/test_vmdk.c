/* SPDX-License-Identifier: MIT */
/* test_vmdk.c - streamOptimized writer/reader: round trip, holes, zero
 * grains, determinism across thread counts, header/descriptor parsing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>

#include "image/vmdk/vmdk.h"
#include "tap.h"
#include "util.h"

static int tmpfile_fd(char *tmpl)
{
	int fd = mkstemp(tmpl);
	unlink(tmpl);
	return fd;
}

static unsigned char *read_all(int fd, size_t *len)
{
	struct stat st;
	unsigned char *b;

	fstat(fd, &st);
	b = malloc((size_t)st.st_size + 1);
	*len = (size_t)pread(fd, b, (size_t)st.st_size, 0);
	return b;
}

/* A 40 MiB sparse raw image: text at 0, random at 1 MiB + 100 bytes (not
 * grain aligned, crosses a grain boundary), an explicitly written zero
 * grain at 8 MiB, data in the last partial sector region. */
static int make_raw(void)
{
	char t[] = "/tmp/test_vmdk_rawXXXXXX";
	int fd = tmpfile_fd(t);
	unsigned char buf[200000];

	if (ftruncate(fd, 40 * 1024 * 1024 + 1000) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)("space appliance "[i % 16]);
	if (pwrite(fd, buf, 70000, 0) != 70000)
		return -1;
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rand();
	if (pwrite(fd, buf, sizeof(buf), 1024 * 1024 + 100) != (ssize_t)sizeof(buf))
		return -1;
	memset(buf, 0, VMDK_GRAIN_BYTES);
	if (pwrite(fd, buf, VMDK_GRAIN_BYTES, 8 * 1024 * 1024) != VMDK_GRAIN_BYTES)
		return -1;
	if (pwrite(fd, "tail", 4, 40 * 1024 * 1024 + 990) != 4)
		return -1;
	return fd;
}

/* A descriptor that fills its buffer to the last byte, with no NUL or
 * newline: the buffer ends at a PROT_NONE page, so any read past it
 * faults whether or not the sanitizer intercepts the reading function. */
static int desc_at_guard(const char *tail_line, struct space_err *why)
{
	static const char head[] = "# Disk DescriptorFile\nCID=12345678\ncreateType=\"streamOptimized\"\n";
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char *map = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *text = (char *)map + pg - 4096;
	size_t tl = strlen(tail_line);
	struct vmdk_descriptor d;
	int r;

	if (map == MAP_FAILED || mprotect(map + pg, (size_t)pg, PROT_NONE) < 0)
		return -errno;
	memset(text, '#', 4096);
	memcpy(text, head, sizeof(head) - 1);
	text[4096 - tl - 1] = '\n';
	memcpy(text + 4096 - tl, tail_line, tl); /* last line ends the buffer */
	r = vmdk_parse_descriptor(text, 4096, &d, why);
	munmap(map, 2 * (size_t)pg);
	return r;
}

/* The header of a VMDK whose descriptor (desc_sectors long at sector 1)
 * holds text; gd_offset points inside the file so no footer is needed. */
static void small_vmdk(unsigned char *buf, size_t len, uint64_t desc_sectors, const char *text)
{
	struct vmdk_header h = {
		.version = 3,
		.flags = VMDK_FLAG_NL_TEST,
		.capacity = 8,
		.grain_size = 128,
		.desc_offset = 1,
		.desc_size = desc_sectors,
		.gtes_per_gt = VMDK_GTES_PER_GT,
		.gd_offset = 1,
		.overhead = 1 + desc_sectors,
	};

	memset(buf, 0, len);
	vmdk_format_header(&h, buf);
	memcpy(buf + VMDK_SECTOR, text, strlen(text));
}

/* issue 12 #16: `vmdk info` read past the descriptor in strtoull */
static void test_descriptor_bounds(void)
{
	static const char one[] = "# Disk DescriptorFile\nCID=12345678\ncreateType=\"streamOptimized\"\nRW 8";
	unsigned char buf[3 * VMDK_SECTOR], *file;
	struct vmdk_info vi;
	struct space_err why = { "" };
	char t[] = "/tmp/test_vmdk_descXXXXXX";
	int fd;

	is_int(desc_at_guard("RW 1234567890123", &why), -SPACE_E_FORMAT,
	       "extent size running to the end of a full descriptor: refused, no read past it");
	is_int(desc_at_guard("RW 8 SPARS", &why), -SPACE_E_FORMAT, "  nor for a cut \" SPARSE \"");
	is_int(desc_at_guard("RW 99999999999999999999999 SPARSE \"x\"", &why), -SPACE_E_FORMAT,
	       "  an extent size beyond 2^64 is refused");
	is_int(desc_at_guard("RW 8 SPARSE \"x\"", &why), 0, "  a complete last line still parses");

	/* the digits after the descriptor's last sector are not its own */
	small_vmdk(buf, sizeof(buf), 1, one);
	memset(buf + VMDK_SECTOR + strlen(one), '#', VMDK_SECTOR - strlen(one) - 1);
	buf[VMDK_SECTOR + strlen(one) - 5] = '#'; /* keep "RW 8" at the very end */
	memmove(buf + 2 * VMDK_SECTOR - 4, "RW 8", 4);
	buf[2 * VMDK_SECTOR - 5] = '\n';
	memcpy(buf + 2 * VMDK_SECTOR, "00 SPARSE \"x\"\n", 14);
	err_clear(&why);
	is_int(vmdk_info_from_bytes(buf, sizeof(buf), buf, sizeof(buf), sizeof(buf), &vi, &why), -SPACE_E_FORMAT,
	       "an extent line cut at the descriptor's end does not borrow the next sector's digits (%s, %llu)",
	       why.msg[0] ? why.msg : "accepted", (unsigned long long)vi.desc.extent_sectors);

	/* the file as `vmdk info` reads it: 4096 bytes, descriptor to the end */
	file = calloc(1, 4096);
	small_vmdk(file, 4096, 7, "# Disk DescriptorFile\nCID=12345678\ncreateType=\"streamOptimized\"\n");
	memset(file + VMDK_SECTOR + 64, '#', 4096 - VMDK_SECTOR - 64);
	file[4096 - 17] = '\n';
	memcpy(file + 4096 - 16, "RW 1234567890123", 16);
	fd = tmpfile_fd(t);
	ok(fd >= 0 && pwrite(fd, file, 4096, 0) == 4096, "4096-byte VMDK written");
	err_clear(&why);
	is_int(vmdk_read_info(fd, &vi, &why), -SPACE_E_FORMAT, "vmdk_read_info refuses it (%s)",
	       why.msg[0] ? why.msg : "accepted");
	close(fd);
	free(file);
}

/* issue 12 #17: a few KiB whose grain tables point many entries at the
 * same compressed grain (and the grain directory at one table) expanded
 * into a fully written disk of any capacity. Layout in sectors: 0 header,
 * 1 descriptor, 2 grain, 3..6 grain table, 7 grain directory. markers: the
 * grain carries a marker with LBA 0. Returns the fd of the crafted file. */
static int shared_grain_vmdk(uint64_t capacity, int markers, int share_gt)
{
	char t[] = "/tmp/test_vmdk_ampXXXXXX";
	int fd = tmpfile_fd(t);
	uint64_t ngts = (capacity / 128 + 511) / 512;
	struct vmdk_header h = {
		.version = 3,
		.flags = VMDK_FLAG_NL_TEST | VMDK_FLAG_COMPRESSED,
		.capacity = capacity,
		.grain_size = 128,
		.desc_offset = 1,
		.desc_size = 1,
		.gtes_per_gt = VMDK_GTES_PER_GT,
		.gd_offset = 7,
		.overhead = 8,
		.compress = 1,
	};
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	unsigned char *raw = malloc(VMDK_GRAIN_BYTES), sec[VMDK_SECTOR], gt[4 * VMDK_SECTOR];
	uint32_t gd[128] = { 0 };
	size_t clen;
	char desc[VMDK_SECTOR] = { 0 };

	if (markers)
		h.flags |= VMDK_FLAG_MARKERS;
	vmdk_format_header(&h, sec);
	pwrite(fd, sec, VMDK_SECTOR, 0);
	snprintf(desc, sizeof(desc), "# Disk DescriptorFile\nCID=12345678\ncreateType=\"streamOptimized\"\n"
				     "RW %llu SPARSE \"x\"\n",
		 (unsigned long long)capacity);
	pwrite(fd, desc, VMDK_SECTOR, VMDK_SECTOR);
	memset(raw, 'A', VMDK_GRAIN_BYTES);
	memset(sec, 0, sizeof(sec));
	clen = libdeflate_zlib_compress(c, raw, VMDK_GRAIN_BYTES, sec + (markers ? 12 : 0),
					VMDK_SECTOR - 12);
	if (markers) {
		uint32_t l = (uint32_t)clen;
		memcpy(sec + 8, &l, 4); /* LBA 0 in bytes 0..7 */
	}
	pwrite(fd, sec, VMDK_SECTOR, 2 * VMDK_SECTOR);
	for (size_t i = 0; i < VMDK_GTES_PER_GT; i++) {
		uint32_t g = 2;
		memcpy(gt + 4 * i, &g, 4);
	}
	pwrite(fd, gt, sizeof(gt), 3 * VMDK_SECTOR);
	for (uint64_t i = 0; i < ngts && i < 128; i++)
		gd[i] = share_gt || i == 0 ? 3 : 0;
	pwrite(fd, gd, VMDK_SECTOR, 7 * VMDK_SECTOR);
	libdeflate_free_compressor(c);
	free(raw);
	return fd;
}

static void test_amplification(void)
{
	char t[] = "/tmp/test_vmdk_ampoutXXXXXX";
	int out = tmpfile_fd(t), in;
	struct space_err why = { "" };
	struct stat st;
	uint64_t cap;

	/* 64 MiB: 1024 grain table entries, all naming the grain at sector 2 */
	in = shared_grain_vmdk(64 << 11, 0, 1);
	fstat(in, &st);
	is_int(vmdk_extract(in, out, &cap, &why), -SPACE_E_FORMAT,
	       "%lld-byte VMDK whose 1024 entries share one grain: refused (%s)", (long long)st.st_size,
	       why.msg[0] ? why.msg : "extracted");
	fstat(out, &st);
	ok(st.st_blocks * 512 < (1 << 20), "  and no more than one grain written (%lld KiB allocated)",
	   (long long)st.st_blocks / 2);
	close(in);
	/* one table whose 512 entries share the grain */
	in = shared_grain_vmdk(32 << 11, 0, 0);
	is_int(vmdk_extract(in, out, &cap, &why), -SPACE_E_FORMAT, "  within one grain table too");
	close(in);
	/* with markers the LBA check already ties a grain to one entry */
	in = shared_grain_vmdk(64 << 11, 1, 1);
	is_int(vmdk_extract(in, out, &cap, &why), -SPACE_E_FORMAT, "  and with grain markers");
	close(in);
	close(out);
}

/* A raw disk to a stream-optimized VMDK (1 and 3 threads), read back,
 * extracted, then damaged: a grain, the header (one function, 85 lines:
 * each step reads the file the conversion made). */
static void test_stream(void)
{
	struct vmdk_write_opts o = { .threads = 1, .extent_name = "t.vmdk" };
	struct vmdk_write_stats s1, s3;
	struct vmdk_info info;
	struct space_err why = { "" };
	char t1[] = "/tmp/test_vmdk_o1XXXXXX", t3[] = "/tmp/test_vmdk_o3XXXXXX", tx[] = "/tmp/test_vmdk_xXXXXXX";
	int raw = make_raw(), o1 = tmpfile_fd(t1), o3 = tmpfile_fd(t3), ox = tmpfile_fd(tx);
	unsigned char *a, *b;
	size_t la, lb;
	uint64_t cap = 0;

	ok(raw >= 0 && o1 >= 0 && o3 >= 0 && ox >= 0, "temp files");
	is_int(vmdk_write_stream(raw, o1, &o, &s1), 0, "convert with 1 thread");
	o.threads = 3;
	is_int(vmdk_write_stream(raw, o3, &o, &s3), 0, "convert with 3 threads");
	a = read_all(o1, &la);
	b = read_all(o3, &lb);
	ok(la == lb && memcmp(a, b, la) == 0, "output is byte-identical for 1 and 3 threads");
	is_int(s1.capacity_bytes, 40 * 1024 * 1024 + 1024, "capacity rounded up to a sector");
	/* grains: 0, 1 (70000 bytes), 16..19 (random), the last one */
	is_int(s1.data_grains, 2 + 4 + 1, "only grains holding data are written");
	is_int(s1.zero_grains, 1, "the written all-zero grain is detected and skipped");
	is_int(s1.out_bytes, la, "stats report the file size");
	ok(la % 512 == 0, "file is whole sectors");

	is_int(vmdk_read_info(o1, &info, &why), 0, "read info back");
	is_int(info.header.version, 3, "header version 3");
	is_int(info.header.flags, 0x30001, "flags: newline test, compressed, markers");
	is_int(info.header.grain_size, 128, "grain 128 sectors");
	ok(info.has_footer, "footer found and used");
	ok(!strcmp(info.desc.create_type, "streamOptimized"), "createType streamOptimized");
	ok(!strcmp(info.desc.adapter_type, "lsilogic"), "adapter lsilogic");
	is_int(info.desc.cid, s1.cid, "CID in the descriptor is the content-derived one");
	is_int(info.desc.extent_sectors, info.header.capacity, "extent line = capacity");

	is_int(vmdk_extract(o1, ox, &cap, &why), 0, "extract back to raw");
	{
		size_t lr, lx;
		unsigned char *r = read_all(raw, &lr), *x = read_all(ox, &lx);
		ok(lx == cap && lx >= lr && memcmp(r, x, lr) == 0, "round trip gives the original bytes");
		ok(lx - lr <= 512, "only sector padding added");
		free(r);
		free(x);
	}

	/* a corrupted grain must be reported, not silently zeroed */
	{
		unsigned char junk[64];
		memset(junk, 0xa5, sizeof(junk));
		pwrite(o1, junk, sizeof(junk), 128 * 512 + 20);
		err_clear(&why);
		is_int(vmdk_extract(o1, ox, &cap, &why), -SPACE_E_FORMAT, "corrupted grain fails");
		ok(why.msg[0] != '\0', "with a reason: %s", why.msg[0] ? why.msg : "(none)");
	}
	/* header parser rejects damage */
	{
		unsigned char blk[512];
		struct vmdk_header h;
		memcpy(blk, a, 512);
		blk[0] ^= 1;
		is_int(vmdk_parse_header(blk, &h, &why), -SPACE_E_FORMAT, "bad magic rejected");
		memcpy(blk, a, 512);
		blk[20] = 100; /* grain size not a power of two */
		is_int(vmdk_parse_header(blk, &h, &why), -SPACE_E_FORMAT, "bad grain size rejected");
		memcpy(blk, a, 512);
		blk[74] = '\n'; /* newline test mangled (FTP ASCII mode) */
		is_int(vmdk_parse_header(blk, &h, &why), -SPACE_E_FORMAT, "mangled newline bytes rejected");
		/* found by make fuzz: a huge descriptor offset overflowed `* 512` */
		memcpy(blk, a, 512);
		memset(blk + 28, 0xff, 7);
		is_int(vmdk_parse_header(blk, &h, &why), -SPACE_E_FORMAT, "descriptor offset near 2^56 rejected");
		{
			struct vmdk_info vi;
			is_int(vmdk_info_from_bytes(blk, 512, blk, 512, 512, &vi, &why), -SPACE_E_FORMAT,
			       "info_from_bytes refuses it without arithmetic overflow");
		}
	}
	free(a);
	free(b);
	close(raw);
	close(o1);
	close(o3);
	close(ox);
}

/* the descriptor parser */
static void test_descriptor(void)
{
	struct space_err why = { "" };

	{
		struct vmdk_descriptor d;
		const char *bad = "# Disk DescriptorFile\nCID=zz\ncreateType=\"streamOptimized\"\nRW 8 SPARSE \"x\"\n";
		is_int(vmdk_parse_descriptor(bad, strlen(bad), &d, &why), -SPACE_E_FORMAT, "non-hex CID rejected");
		const char *neg = "# Disk DescriptorFile\nCID=-1\ncreateType=\"streamOptimized\"\nRW 8 SPARSE \"x\"\n";
		is_int(vmdk_parse_descriptor(neg, strlen(neg), &d, &why), -SPACE_E_FORMAT, "signed CID \"-1\" rejected");
		const char *negext = "# Disk DescriptorFile\nCID=12345678\ncreateType=\"streamOptimized\"\nRW -8 SPARSE \"x\"\n";
		is_int(vmdk_parse_descriptor(negext, strlen(negext), &d, &why), -SPACE_E_FORMAT,
		       "negative extent size rejected (would wrap to 2^64 - 8)");
		const char *noext = "# Disk DescriptorFile\nCID=12345678\ncreateType=\"streamOptimized\"\n";
		is_int(vmdk_parse_descriptor(noext, strlen(noext), &d, &why), -SPACE_E_FORMAT,
		       "missing extent rejected");
	}
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/vmdk/stream", test_stream },
		{ "/vmdk/descriptor", test_descriptor },
		{ "/vmdk/descriptor_bounds", test_descriptor_bounds },
		{ "/vmdk/amplification", test_amplification },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
