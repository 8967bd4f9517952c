/* SPDX-License-Identifier: MIT */
/* test_ova_tar.c - ustar headers written by mkova and parsed by ova-verify. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/ova/tar.h"
#include "tap.h"
#include "util.h"

/* Store a header checksum the way a forger would after editing a block. */
static void reseal(unsigned char blk[TAR_BLOCK])
{
	unsigned sum = 0;

	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : blk[i];
	snprintf((char *)blk + 148, 8, "%06o", sum);
	blk[155] = ' ';
}

/* GNU headers (members of 8 GiB or more) reuse bytes 345..499 for atime,
 * ctime and sparse maps that mkova leaves zero. Python's tarfile reads the
 * same bytes as the ustar prefix whatever the magic says, so a name
 * smuggled there becomes a path. Headers are not signed: refuse any byte. */
static void test_gnu_prefix(void)
{
	static const size_t at[] = { 345, 346, 400, 499 };
	unsigned char blk[TAR_BLOCK];
	struct tar_member m;
	struct space_err why;

	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		tar_format_header(blk, "big.vmdk", 9ull << 30, 0);
		blk[at[i]] = 'x';
		reseal(blk);
		err_clear(&why);
		is_int(tar_parse_header(blk, &m, &why), -SPACE_E_FORMAT, "GNU header with byte %zu set refused (%s)",
		       at[i], why.msg[0] ? why.msg : "accepted");
	}
	tar_format_header(blk, "big.vmdk", 9ull << 30, 0);
	memcpy(blk + 345, "..", 2);
	reseal(blk);
	is_int(tar_parse_header(blk, &m, &why), -SPACE_E_FORMAT, "  \"..\" smuggled as a GNU prefix refused");
	tar_format_header(blk, "big.vmdk", 9ull << 30, 0);
	blk[500] = 'x'; /* past the prefix: unused by every reader */
	reseal(blk);
	is_int(tar_parse_header(blk, &m, &why), 1, "  bytes 500..511 are not the prefix");
	tar_format_header(blk, "a.ovf", 10, 0);
	blk[400] = 'x'; /* after the ustar prefix's first byte */
	reseal(blk);
	is_int(tar_parse_header(blk, &m, &why), -SPACE_E_FORMAT, "ustar header with prefix byte 400 set refused");
}

/* a ustar header, and the GNU form of a size of 8 GiB or more */
static void test_header(void)
{
	unsigned char blk[TAR_BLOCK];
	struct tar_member m;
	struct space_err why = { "" };

	is_int(tar_format_header(blk, "a.ovf", 1234, 1700000000), 0, "header formatted");
	ok(!memcmp(blk + 257, "ustar\0"
			      "00",
		   8),
	   "POSIX ustar magic");
	ok(!memcmp(blk + 100, "0000644", 8) && !memcmp(blk + 108, "0000000", 8), "mode 0644, uid 0");
	ok(blk[156] == '0', "regular file type");
	is_int(tar_parse_header(blk, &m, &why), 1, "parses back");
	ok(!strcmp(m.name, "a.ovf") && m.size == 1234 && m.type == '0' && !m.gnu, "same name/size/type");
	blk[0] ^= 1;
	is_int(tar_parse_header(blk, &m, &why), -SPACE_E_FORMAT, "checksum catches a flipped byte");
	is_int(tar_format_header(blk, "big.vmdk", 9ull << 30, 0), 0, "9 GiB member");
	ok(!memcmp(blk + 257, "ustar  \0", 8) && blk[124] == 0x80, "GNU base-256 size for >= 8 GiB");
	is_int(tar_parse_header(blk, &m, &why), 1, "parses back");
	is_int(m.size, 9ull << 30, "big size decoded");
	ok(tar_format_header(blk, "../x", 1, 0) < 0 && tar_format_header(blk, "a/b", 1, 0) < 0, "unsafe names refused");
	memset(blk, 0, sizeof(blk));
	is_int(tar_parse_header(blk, &m, &why), 0, "zero block is the end marker");
}

static void test_writer(void)
{
	unsigned char out[3 * TAR_RECORD];
	struct tar_writer tw;
	char t[] = "/tmp/test_ova_tarXXXXXX";
	int fd = mkstemp(t);
	ssize_t n;

	tar_writer_init(&tw, fd, 1700000000);
	ok(tar_add_buf(&tw, "one.txt", "hello", 5) == 0 && tar_finish(&tw) == 0, "archive written");
	n = pread(fd, out, sizeof(out), 0);
	is_int(n, TAR_RECORD, "padded to one 10240-byte record");
	ok(!memcmp(out + TAR_BLOCK, "hello", 5) && out[TAR_BLOCK + 5] == 0, "data follows header, zero padded");
	close(fd);
	unlink(t);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/ova_tar/header", test_header },
		{ "/ova_tar/gnu_prefix", test_gnu_prefix },
		{ "/ova_tar/writer", test_writer },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
