/* SPDX-License-Identifier: MIT */
/* archive.c - the package as a tar stream, read once; see archive.h. */
#include <errno.h>
#include <stdint.h>

#include "image/ova/tar.h"
#include "archive.h"

/* Feed size bytes of the stream to the current member (or skip them).
 * Returns bytes consumed or -errno. */
int64_t ov_pump(struct ov *ov, struct rstream *rs, uint64_t size, int feed)
{
	uint64_t left = size;

	while (left) {
		const unsigned char *p;
		ssize_t k = rs_next(rs, left < SIZE_MAX ? (size_t)left : SIZE_MAX, &p);
		if (k < 0)
			return k;
		if (k == 0)
			break;
		if (feed) {
			int r = ov_member_data(ov, p, (size_t)k);
			if (r < 0)
				return r;
		}
		left -= (uint64_t)k;
	}
	return (int64_t)(size - left);
}

/* The package as a tar stream, read once; see archive.h. */
int ov_read_archive(struct ov *ov, int fd)
{
	unsigned char blk[TAR_BLOCK];
	struct rstream *rs;
	unsigned bad_format = 0;
	int r = rs_open(&rs, fd);

	if (r < 0)
		return r;
	for (;;) {
		struct tar_member tm;
		struct space_err err = { "" };
		ssize_t k = rs_read(rs, blk, sizeof(blk));
		uint64_t pad;
		int64_t got;
		int h;

		if (k < 0) {
			r = (int)k;
			break;
		}
		if (k < (ssize_t)sizeof(blk)) {
			ov_check(ov, false, "tar-format", NULL, ov->nm ? "archive truncated: no end-of-archive blocks" : "empty or not a tar archive");
			bad_format++;
			break;
		}
		h = tar_parse_header(blk, &tm, &err);
		if (h == 0)
			break; /* end of archive; trailing zero padding is not read */
		if (h < 0) {
			ov_check(ov, false, "tar-format", NULL, "after %u member(s): %s", ov->nm, err.msg);
			bad_format++;
			break;
		}
		if (tm.type != '0') {
			ov_check(ov, false, "tar-format", tm.name,
				 "member type '%c' (PAX/GNU extension header, link or directory) is not allowed in an OVA",
				 tm.type >= 0x20 && tm.type < 0x7f ? tm.type : '?');
			bad_format++;
		} else if (tm.gnu && tm.size < (1ull << 33)) {
			ov_check(ov, false, "tar-format", tm.name, "GNU header for a member under 8 GiB (want POSIX ustar)");
			bad_format++;
		}
		if (tm.type == '0') {
			r = ov_member_begin(ov, tm.name, tm.size);
			if (r < 0) {
				if (r == -E2BIG) {
					ov_check(ov, false, "tar-format", tm.name, "more than %d members", OV_MAX_MEMBERS);
					bad_format++; /* no "ok tar-format" after this */
					r = 0;
				}
				break;
			}
		}
		got = ov_pump(ov, rs, tm.size, tm.type == '0');
		if (tm.type == '0' && (r = ov_member_end(ov)) < 0 && got >= 0)
			got = r;
		if (got < 0) {
			r = (int)got;
			break;
		}
		if ((uint64_t)got < tm.size) {
			ov_check(ov, false, "tar-format", tm.name, "archive truncated inside this member (%lld of %llu bytes)",
				 (long long)got, (unsigned long long)tm.size);
			bad_format++;
			break;
		}
		pad = (TAR_BLOCK - tm.size % TAR_BLOCK) % TAR_BLOCK;
		got = ov_pump(ov, rs, pad, 0);
		if (got < 0) {
			r = (int)got;
			break;
		}
	}
	if (r == 0 && !bad_format)
		ov_check(ov, true, "tar-format", NULL, "ustar archive, %u regular members", ov->nm);
	rs_close(rs);
	return r;
}
