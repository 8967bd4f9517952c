/* SPDX-License-Identifier: MIT */
/* test_util.c - tests for pkg/lib/util.c */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest_fd.h"
#include "strescape.h"
#include "util.h"
#include "tap.h"

int main(void)
{
	char dir[] = "/tmp/test_util.XXXXXX";
	char path[256], hex[65], *buf = NULL;
	size_t len = 0;
	struct stat st;

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	is_int(mkdir_p(path, 0755), 0, "mkdir_p creates nested directories");
	is_int(mkdir_p(path, 0755), 0, "mkdir_p on an existing directory");

	snprintf(path, sizeof(path), "%s/f", dir);
	is_int(write_file_atomic(path, "abc", 3, 0600), 0, "write_file_atomic");
	ok(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode is applied");
	is_int(read_file(path, 100, &buf, &len), 0, "read_file");
	ok(len == 3 && strcmp(buf, "abc") == 0, "content round-trips");
	free(buf);
	is_int(read_file(path, 2, &buf, &len), -EFBIG, "read_file refuses a file over the limit");

	is_int(sha256_file_hex(path, hex), 0, "sha256_file_hex");
	ok(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	   "sha256(abc) is the FIPS 180-2 vector");
	{
		unsigned char md[64];
		size_t mdlen = 0;
		int fd = open(path, O_RDONLY | O_CLOEXEC), pfd[2];

		lseek(fd, 0, SEEK_END);
		is_int(space_digest_fd(fd, "SHA256", md, &mdlen), 0, "space_digest_fd");
		hex_encode(md, mdlen, hex);
		ok(mdlen == 32 && strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
		   "  digests the whole file whatever the file position");
		is_int(space_digest_fd(fd, "NO-SUCH-DIGEST", md, &mdlen), -EINVAL,
		       "  an unknown digest name is -EINVAL, not a digest");
		close(fd);
		ok(pipe(pfd) == 0 && write(pfd[1], "abc", 3) == 3, "pipe");
		close(pfd[1]);
		is_int(space_digest_fd(pfd[0], "SHA256", md, &mdlen), 0, "  a pipe is read as a stream");
		hex_encode(md, mdlen, hex);
		ok(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
		   "  with the same digest");
		close(pfd[0]);
	}

	const char *const t[] = {"true", NULL}, *const f[] = {"false", NULL},
			  *const nx[] = {"/nonexistent/prog", NULL};
	is_int(run_argv(t), 0, "run_argv true");
	is_int(run_argv(f), -SPACE_E_CHILD, "run_argv false reports a failed child");
	is_int(run_argv(nx), -SPACE_E_CHILD, "run_argv of a missing program fails");
	ok(strcmp(space_strerror(-SPACE_E_DIGEST), "digest mismatch") == 0, "space_strerror");
	ok(strcmp(space_strerror(-ENOENT), strerror(ENOENT)) == 0, "space_strerror falls back");

	{
		char e[32];
		is_int(str_escape(e, sizeof(e), "a\x1b[2J b\\", 8, STR_ESCAPE_SPACE), 8, "str_escape: all of it");
		ok(!strcmp(e, "a\\x1b[2J\\x20b\\x5c"), "control, space and backslash escaped: %s", e);
		str_escape(e, sizeof(e), "a? b", 4, 0);
		ok(!strcmp(e, "a? b"), "printable kept, space too without STR_ESCAPE_SPACE: %s", e);
		is_int(str_escape(e, 12, "abcdefghijklmnop", 16, STR_ESCAPE_SPACE), 7, "cut to fit");
		ok(!strcmp(e, "abcdefg" STR_ESCAPE_CUT), "cut is marked: %s", e);
		is_int(str_escape(e, 12, "abcdef\n\n", 8, STR_ESCAPE_SPACE), 6, "an escape is never split");
		ok(!strcmp(e, "abcdef" STR_ESCAPE_CUT), "%s", e);
		is_int(str_escape(e, 12, "abcdefghijk", 11, STR_ESCAPE_SPACE), 11, "exact fit is not cut");
		is_int(str_escape(e, 12, "", 0, STR_ESCAPE_SPACE), 0, "empty");
		ok(!e[0], "empty stays empty");
	}

	const char *const rm[] = {"rm", "-rf", dir, NULL};
	run_argv(rm);
	return done_testing();
}
