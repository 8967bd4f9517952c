/* SPDX-License-Identifier: MIT */
/* util.c - shared helpers; see util.h for the contract. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "digest_fd.h"
#include "fdio.h"
#include "openreg.h"
#include "util.h"

space_log_fn_t space_log_fn;

static const char *const space_errors[] = {
	[SPACE_E_FORMAT - SPACE_E_FIRST] = "malformed input",
	[SPACE_E_DIGEST -
		SPACE_E_FIRST] = "digest mismatch",
	[SPACE_E_UNSAFE_PATH -
		SPACE_E_FIRST] = "unsafe path",
	[SPACE_E_SIGNATURE -
		SPACE_E_FIRST] = "signature does not verify",
	[SPACE_E_UNTRUSTED -
		SPACE_E_FIRST] = "certificate not trusted",
	[SPACE_E_CHILD -
		SPACE_E_FIRST] = "command failed",
	[SPACE_E_NOT_REG -
		SPACE_E_FIRST] = "not a regular file",
	[SPACE_E_NOT_REG_BLK -
		SPACE_E_FIRST] = "not a regular file or block device",
};

const char *space_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= SPACE_E_FIRST && err < SPACE_E_LAST)
		return space_errors[err - SPACE_E_FIRST];
	return strerror(err);
}

void space_log(const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	if (!space_log_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	space_log_fn(buf);
}

char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

/* The length of root without its trailing slashes, and rel without its
 * leading ones: the two halves path_join() puts one '/' between. */
static size_t join_parts(const char *root, const char **rel)
{
	size_t n = strlen(root);

	while (n && root[n - 1] == '/')
		n--;
	while (**rel == '/')
		(*rel)++;
	return n;
}

int path_join(char *out, size_t n, const char *root, const char *rel)
{
	size_t rn = join_parts(root, &rel);
	int k = snprintf(out, n, "%.*s/%s", (int)rn, root, rel);

	if (k < 0 || (size_t)k >= n) {
		if (n)
			out[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

char *path_join_alloc(const char *root, const char *rel)
{
	size_t rn = join_parts(root, &rel);

	return xasprintf("%.*s/%s", (int)rn, root, rel);
}

int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;
	int fd, r = 0;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
	} else {
		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (!slash)
			strcpy(dir, ".");
		else if (slash == dir)
			dir[1] = '\0';
		else
			*slash = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int read_file(const char *path, size_t max, char **out, size_t *len)
{
	return read_file_at(AT_FDCWD, path, 0, max, out, len);
}

int read_file_at(int dfd, const char *path, int flags, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t off = 0;
	int fd, r = 0;

	fd = open_regular(dfd, path, O_RDONLY | flags, 0, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close;
	}
	if ((size_t)st.st_size > max) {
		r = -EFBIG;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out_close;
	}
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_free;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	buf[off] = '\0';
	*out = buf;
	if (len)
		*len = off;
	buf = NULL;
out_free:
	/* read_file() loads private keys: a part read before an error must
	 * not stay behind in freed heap */
	if (buf)
		OPENSSL_cleanse(buf, off);
	free(buf);
out_close:
	close(fd);
	return r;
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int sha256_fd_hex(int fd, char out[65], uint64_t *size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	int r = space_digest_fd_count(fd, "SHA256", md, &mdlen, size);

	if (r == 0)
		hex_encode(md, mdlen, out);
	return r;
}

int sha256_file_hex(const char *path, char out[65])
{
	int fd, r;

	fd = open_regular(AT_FDCWD, path, O_RDONLY, 0, 0);
	if (fd < 0)
		return fd;
	r = sha256_fd_hex(fd, out, NULL);
	close(fd);
	return r;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int hex_decode(const char *in, size_t n, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = hex_nibble(in[2 * i]), lo = hex_nibble(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -SPACE_E_FORMAT;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

int mem_is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	/* memcmp against itself shifted by one: zero iff the first byte is 0
	 * and all bytes are equal (libc's memcmp is the fast loop) */
	return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int remove_tree(const char *path)
{
	int r = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (r < 0 && errno == ENOENT)
		return 0;
	return r > 0 ? -r : (r < 0 ? -errno : 0);
}
