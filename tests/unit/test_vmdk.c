/* SPDX-License-Identifier: MIT */
/* test_vmdk.c - streamOptimized writer/reader: round trip, holes, zero
 * grains, determinism across thread counts, header/descriptor parsing. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../image/vmdk/vmdk.h"
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

int main(void)
{
	struct vmdk_write_opts o = { .threads = 1, .extent_name = "t.vmdk" };
	struct vmdk_write_stats s1, s3;
	struct vmdk_info info;
	const char *why = NULL;
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
		why = NULL;
		is_int(vmdk_extract(o1, ox, &cap, &why), -SPACE_E_FORMAT, "corrupted grain fails");
		ok(why != NULL, "with a reason: %s", why ? why : "(none)");
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
	/* descriptor parser */
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
	free(a);
	free(b);
	close(raw);
	close(o1);
	close(o3);
	close(ox);
	return done_testing();
}
