/* SPDX-License-Identifier: MIT */
/* extract.c - unpack a hot-patch bundle's .tgz (bundle.h), apart from the
 * verification so that the fuzzer (fuzz/fuzz_hotpatch_extract.c) runs it
 * alone: only files and directories, every one below the one bundle
 * directory, opened without following links, bounded in count, length,
 * size and the room it leaves on /var. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "bundle.h"
#include "fdio.h"
#include "openreg.h"
#include "strescape.h"
#include "util.h"

/* A member name: relative, no "." or ".." component, no control bytes;
 * its first component into top (the bundle directory). */
static int member_name_ok(const char *name, char *top, size_t topsz)
{
	const char *p = name, *slash;

	if (!*name || *name == '/' || strlen(name) >= HP_TGZ_NAME_MAX)
		return -SPACE_E_UNSAFE_PATH;
	if (!str_printable(name, 0))
		return -SPACE_E_UNSAFE_PATH;
	for (;;) {
		size_t n;
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') || (n == 0 && slash && slash[1]))
			return -SPACE_E_UNSAFE_PATH;
		if (p == name) {
			if (n == 0 || n >= topsz)
				return -SPACE_E_UNSAFE_PATH;
			memcpy(top, p, n);
			top[n] = 0;
		}
		if (!slash || !slash[1])
			return 0;
		p = slash + 1;
	}
}

/* Open (creating as needed) the directory holding path below wfd, without
 * following any symlink. *base points at the last component. */
static int open_parent(int wfd, char *path, const char **base)
{
	int fd = dup(wfd);
	char *p = path, *slash;

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/')) && slash[1]) {
		int nfd;
		*slash = 0;
		if (mkdirat(fd, p, 0755) < 0 && errno != EEXIST) {
			nfd = -errno;
		} else {
			nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (nfd < 0)
				nfd = -errno;
		}
		*slash = '/';
		close(fd);
		if (nfd < 0)
			return nfd;
		fd = nfd;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

static int extract_file(struct archive *a, int dfd, const char *base, mode_t mode)
{
	char buf[65536];
	la_ssize_t n;
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	int r = 0;

	if (fd < 0)
		return errno == EEXIST ? -SPACE_E_FORMAT : -errno;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
		if ((r = fd_write_full(fd, buf, (size_t)n)) < 0)
			break;
	if (r == 0 && n < 0)
		r = -SPACE_E_FORMAT;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

/* One member: its checks, then a directory or a regular file below wfd. */
static int extract_member(struct archive *a, struct archive_entry *ae, int wfd, char *top, uint64_t *total,
			  struct space_err *err)
{
	const char *name = archive_entry_pathname(ae), *base = NULL, *slash;
	char t[NAME_MAX + 1], path[PATH_MAX], shown[208];
	mode_t type = archive_entry_filetype(ae);
	struct statvfs sv;
	int r, dfd;

	if (!name || member_name_ok(name, t, sizeof(t)) < 0) {
		/* escaped: a newline in it would forge a second message line */
		str_escape(shown, sizeof(shown), name ? name : "(none)", strlen(name ? name : "(none)"), 0);
		return err_set(err, -SPACE_E_UNSAFE_PATH, "member %s: not a plain relative path", shown);
	}
	if (type != AE_IFDIR && (!(slash = strchr(name, '/')) || !slash[1])) {
		return err_set(err, -SPACE_E_FORMAT, "member %.200s: not a directory (a bundle is one directory holding its files)", name);
	}
	if (*top && strcmp(t, top)) {
		return err_set(err, -SPACE_E_UNSAFE_PATH, "member %.200s: outside the bundle directory %s", name, top);
	}
	snprintf(top, NAME_MAX + 1, "%s", t);
	if (archive_entry_hardlink(ae) || (type != AE_IFDIR && type != AE_IFREG)) {
		return err_set(err, -SPACE_E_UNSAFE_PATH, "member %.200s: a %s; a bundle holds only files and directories",
			       name, archive_entry_hardlink(ae) ? "hard link" : type == AE_IFLNK ? "symlink" :
												   "special file");
	}
	*total += (uint64_t)archive_entry_size(ae);
	if (archive_entry_size(ae) < 0 || *total > HP_TGZ_MAX_BYTES) {
		return err_set(err, -SPACE_E_FORMAT, "member %.200s: the bundle is larger than %llu bytes", name,
			       (unsigned long long)HP_TGZ_MAX_BYTES);
	}
	/* a small tgz can unpack to much: /var keeps its margin (the
	 * services log there), checked before each file is written */
	if (type == AE_IFREG && fstatvfs(wfd, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < (uint64_t)archive_entry_size(ae) + HP_TGZ_KEEP_FREE) {
		return err_set(err, -ENOSPC, "member %.200s: %lld bytes do not fit in %s with %u MiB to spare", name,
			       (long long)archive_entry_size(ae), "the work directory", (unsigned)(HP_TGZ_KEEP_FREE >> 20));
	}
	snprintf(path, sizeof(path), "%s", name);
	if ((dfd = open_parent(wfd, path, &base)) < 0) {
		return err_set(err, dfd == -ELOOP || dfd == -ENOTDIR ? -SPACE_E_UNSAFE_PATH : dfd, "member %.200s: %s", name, space_strerror(dfd));
	}
	if (type == AE_IFDIR)
		r = mkdirat(dfd, base, 0755) < 0 && errno != EEXIST ? -errno : 0;
	else
		r = extract_file(a, dfd, base, archive_entry_perm(ae) & 0111 ? 0755 : 0644);
	close(dfd);
	if (r == -SPACE_E_FORMAT)
		err_set(err, r, "member %.200s: listed twice, or its data is damaged", name);
	else if (r < 0)
		err_set(err, r, "member %.200s: %s", name, space_strerror(r));
	return r;
}

int hp_bundle_extract(const char *path, const char *workdir, char dir[PATH_MAX], struct space_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	char top[NAME_MAX + 1] = "";
	uint64_t total = 0;
	unsigned n = 0;
	int fd = -1, wfd = -1, r = -ENOMEM, ar;

	if (!a)
		goto out;
	if ((fd = open_regular(AT_FDCWD, path, O_RDONLY, 0, 0)) < 0) {
		r = fd;
		err_set(err, r, "%s", space_strerror(r));
		goto out;
	}
	if ((wfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = -errno;
		err_set(err, r, "%s: %s", workdir, strerror(errno));
		goto out;
	}
	archive_read_support_filter_gzip(a);
	archive_read_support_format_tar(a);
	r = -SPACE_E_FORMAT;
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		err_set(err, r, "not a gzip-compressed tar archive: %.200s", archive_error_string(a));
		goto out;
	}
	while ((ar = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		if (++n > HP_TGZ_MAX_ENTRIES) {
			/* r was the last member's 0: a refusal, not a success */
			r = err_set(err, -SPACE_E_FORMAT, "more than %d members", HP_TGZ_MAX_ENTRIES);
			goto out;
		}
		if ((r = extract_member(a, ae, wfd, top, &total, err)) < 0)
			goto out;
	}
	r = -SPACE_E_FORMAT;
	if (ar != ARCHIVE_EOF) {
		err_set(err, r, "damaged archive: %.200s", archive_error_string(a));
		goto out;
	}
	if (!*top) {
		err_set(err, r, "empty archive");
		goto out;
	}
	snprintf(dir, PATH_MAX, "%s/%s", workdir, top);
	r = 0;
out:
	if (a)
		archive_read_free(a);
	if (fd >= 0)
		close(fd);
	if (wfd >= 0)
		close(wfd);
	return r;
}
