/* SPDX-License-Identifier: MIT */
/* archive.c - open a package file and read its metadata member. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"

int pkg_archive_open(const char *file, struct archive **ap, struct pkg_meta *m,
		     struct space_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char *buf = NULL;
	la_int64_t size;
	la_ssize_t n;
	int r;

	memset(m, 0, sizeof(*m));
	if (!a)
		return -ENOMEM;
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, 1 << 16) != ARCHIVE_OK) {
		int e = archive_errno(a);
		if (e > 0 && e != EINVAL && e != EILSEQ)
			r = err_set(err, -e, "%s", strerror(e));
		else
			r = err_set(err, -SPACE_E_FORMAT, "not a package: %s",
				    archive_error_string(a));
		goto out;
	}
	if (archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		r = err_set(err, -SPACE_E_FORMAT, "not a package: %s",
			    archive_error_string(a) ? archive_error_string(a) : "empty archive");
		goto out;
	}
	if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
		r = err_set(err, -SPACE_E_FORMAT, "not a package: not gzip-compressed");
		goto out;
	}
	if (strcmp(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "", PKG_META_NAME) != 0 ||
	    archive_entry_filetype(ae) != AE_IFREG) {
		r = err_set(err, -SPACE_E_FORMAT, "first member is not %s", PKG_META_NAME);
		goto out;
	}
	size = archive_entry_size(ae);
	if (size <= 0 || size > PKG_META_MAX) {
		r = err_set(err, -SPACE_E_FORMAT, "%s: bad size", PKG_META_NAME);
		goto out;
	}
	buf = malloc((size_t)size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	n = archive_read_data(a, buf, (size_t)size);
	if (n != size) {
		r = err_set(err, -SPACE_E_FORMAT, "%s: truncated", PKG_META_NAME);
		goto out;
	}
	r = pkg_meta_parse(buf, (size_t)size, 0, m, err);
	if (r < 0) {
		err_prefix(err, r, "%s", PKG_META_NAME);
		goto out;
	}
	*ap = a;
	a = NULL;
out:
	free(buf);
	if (a)
		archive_read_free(a);
	return r;
}

int pkg_read_meta(const char *file, struct pkg_meta *m, struct space_err *err)
{
	struct archive *a = NULL;
	int r = pkg_archive_open(file, &a, m, err);

	if (r == 0)
		archive_read_free(a);
	return r;
}
