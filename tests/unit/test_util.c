/* SPDX-License-Identifier: MIT */
/* test_util.c - tests for pkg/lib/util.c */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "digest_fd.h"
#include "err.h"
#include "exitcode.h"
#include "openreg.h"
#include "strescape.h"
#include "util.h"
#include "tap.h"

/* open_regular(): every non-regular type is refused at once; a hang (the
 * bug: open() of a FIFO waits for a writer) is ended by the alarm set in
 * main, which fails the test. */
static void test_open_regular(const char *dir)
{
	char f[256], fifo[256], sock[100], lnk[256], nf[256], *buf = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	size_t len;
	int fd, s;

	snprintf(f, sizeof(f), "%s/reg", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(sock, sizeof(sock), "%s/sock", dir);
	snprintf(lnk, sizeof(lnk), "%s/lnk", dir);
	snprintf(nf, sizeof(nf), "%s/new", dir);
	ok(write_file_atomic(f, "abc", 3, 0600) == 0 && mkfifo(fifo, 0600) == 0 && symlink("reg", lnk) == 0,
	   "open_regular: a file, a FIFO and a symlink");

	fd = open_regular(AT_FDCWD, f, O_RDONLY, 0, 0);
	ok(fd >= 0, "a regular file opens (%d)", fd);
	ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "  blocking again: O_NONBLOCK cleared");
	ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "  close-on-exec");
	if (fd >= 0)
		close(fd);
	fd = open_regular(AT_FDCWD, f, O_RDONLY | O_NONBLOCK, 0, 0);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK), "  O_NONBLOCK kept when the caller asks for it");
	if (fd >= 0)
		close(fd);

	is_int(open_regular(AT_FDCWD, fifo, O_RDONLY, 0, 0), -SPACE_E_NOT_REG, "a FIFO to read: refused, no wait");
	is_int(open_regular(AT_FDCWD, fifo, O_WRONLY | O_CREAT | O_TRUNC, 0644, OPEN_REG_BLOCK),
	       -SPACE_E_NOT_REG_BLK, "a FIFO to write, blocks allowed: refused");
	is_int(open_regular(AT_FDCWD, fifo, O_RDWR, 0, 0), -SPACE_E_NOT_REG, "a FIFO O_RDWR: refused");
	is_int(open_regular(AT_FDCWD, dir, O_RDONLY, 0, 0), -SPACE_E_NOT_REG, "a directory: refused");
	is_int(open_regular(AT_FDCWD, "/dev/null", O_RDONLY, 0, OPEN_REG_BLOCK), -SPACE_E_NOT_REG_BLK,
	       "a character device: refused, also where blocks are allowed");
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ok(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0, "a bound unix socket");
	is_int(open_regular(AT_FDCWD, sock, O_RDONLY, 0, 0), -SPACE_E_NOT_REG, "a socket: refused");
	if (s >= 0)
		close(s);
	is_int(open_regular(AT_FDCWD, lnk, O_RDONLY | O_NOFOLLOW, 0, 0), -SPACE_E_NOT_REG,
	       "a symlink with O_NOFOLLOW: refused");
	fd = open_regular(AT_FDCWD, lnk, O_RDONLY, 0, 0);
	ok(fd >= 0, "a symlink to a regular file without O_NOFOLLOW: opens");
	if (fd >= 0)
		close(fd);
	is_int(open_regular(AT_FDCWD, nf, O_RDONLY, 0, 0), -ENOENT, "a missing file: -ENOENT");
	fd = open_regular(AT_FDCWD, nf, O_WRONLY | O_CREAT, 0640, 0);
	ok(fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode), "O_CREAT creates a missing file");
	if (fd >= 0)
		close(fd);
	s = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fd = open_regular(s, "reg", O_RDONLY | O_NOFOLLOW, 0, 0);
	ok(fd >= 0, "relative to a directory fd");
	if (fd >= 0)
		close(fd);
	is_int(open_regular(s, "fifo", O_RDONLY | O_NOFOLLOW, 0, 0), -SPACE_E_NOT_REG,
	       "  a FIFO there: refused");
	close(s);

	/* read_file() loads keys, hardware files and records: it hung */
	is_int(read_file(fifo, 100, &buf, &len), -SPACE_E_NOT_REG, "read_file of a FIFO: refused, no hang");
	is_int(read_file(dir, 100, &buf, &len), -SPACE_E_NOT_REG, "read_file of a directory: refused");
	is_int(read_file_at(AT_FDCWD, lnk, O_NOFOLLOW, 100, &buf, &len), -SPACE_E_NOT_REG,
	       "read_file_at O_NOFOLLOW: a symlink refused");
	is_int(read_file_at(AT_FDCWD, lnk, 0, 100, &buf, &len), 0, "read_file_at: followed without it");
	ok(len == 3 && !strcmp(buf, "abc"), "  the target's content");
	free(buf);
	{
		char hex[65];
		is_int(sha256_file_hex(fifo, hex), -SPACE_E_NOT_REG, "sha256_file_hex of a FIFO: refused");
	}
	ok(!strcmp(space_strerror(-SPACE_E_NOT_REG), "not a regular file") &&
		   !strcmp(space_strerror(-SPACE_E_NOT_REG_BLK), "not a regular file or block device"),
	   "the reasons read as such");
}

/* The exit-code contract (README "Exit codes"): refusals of the input are
 * 1, failures of the machine 111, a timeout 99; die_err() prints one line
 * "prog: verb object: reason" and returns the code. */
static void test_exitcode(const char *dir)
{
	char path[256], line[256] = "";
	FILE *f;
	int save = dup(2), fd;

	is_int(die_code(0), EXIT_OK, "die_code: 0 is success");
	is_int(die_code(-SPACE_E_FORMAT), 1, "die_code: malformed input is refused (1)");
	is_int(die_code(-SPACE_E_SIGNATURE), 1, "die_code: a bad signature is refused (1)");
	is_int(die_code(-SPACE_E_NOT_REG), 1, "die_code: not a regular file is refused (1)");
	is_int(die_code(-EFBIG), 111, "die_code: an errno is the system's (EFBIG: a write over RLIMIT_FSIZE)");
	is_int(die_code(-SPACE_E_CHILD), 111, "die_code: a failed command is a system failure (111)");
	is_int(die_code(-ENOENT), 111, "die_code: a file that cannot be opened is 111");
	is_int(die_code(-EIO), 111, "die_code: an I/O error is 111");
	is_int(die_code(-ENOMEM), 111, "die_code: no memory is 111");
	is_int(die_code(-ETIMEDOUT), 99, "die_code: a timeout is 99 (outcome unknown)");
	is_int(die_code(-SPACE_E_LAST), 111, "die_code: an unknown code is not taken for a refusal");

	snprintf(path, sizeof(path), "%s/stderr", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	space_prog = "tool";
	fflush(stderr);
	dup2(fd, 2);
	is_int(die_err("read", "/x", -ENOENT, NULL), 111, "die_err returns the code of the error");
	is_int(die_err("check", NULL, -SPACE_E_FORMAT, "bad line 3"), 1, "die_err with a reason");
	is_int(die_msg(EXIT_NEGATIVE, "verify", "a.ova", ""), 1, "die_msg returns its code");
	is_int(die_usage("usage: tool\n"), 100, "die_usage returns 100");
	fflush(stderr);
	dup2(save, 2);
	close(save);
	close(fd);
	f = fopen(path, "r");
	ok(f && fgets(line, sizeof(line), f) && !strcmp(line, "tool: read /x: No such file or directory\n"),
	   "  one line: prog: verb object: reason (%s)", line);
	ok(f && fgets(line, sizeof(line), f) && !strcmp(line, "tool: check: bad line 3\n"),
	   "  no object: prog: verb: reason (%s)", line);
	ok(f && fgets(line, sizeof(line), f) && !strcmp(line, "tool: verify a.ova: failed\n"),
	   "  no reason: 'failed' (%s)", line);
	ok(f && fgets(line, sizeof(line), f) && !strcmp(line, "usage: tool\n"), "  the usage text");
	if (f)
		fclose(f);
}

/* err.h: a reason is set, context goes in front level by level, NULL is
 * accepted everywhere, an empty reason falls back to the code's text. */
static void test_err(void)
{
	struct space_err e = { "" }, big;
	char ctx[SPACE_ERR_MAX + 8];

	is_int(err_set(&e, -SPACE_E_FORMAT, "line %d: no '='", 3), -SPACE_E_FORMAT, "err_set returns the code");
	ok(!strcmp(e.msg, "line 3: no '='"), "err_set records the reason");
	is_int(err_prefix(&e, -SPACE_E_FORMAT, "manifest %s", "a.mf"), -SPACE_E_FORMAT, "err_prefix returns the code");
	err_prefix(&e, -SPACE_E_FORMAT, "bundle v2");
	ok(!strcmp(e.msg, "bundle v2: manifest a.mf: line 3: no '='"), "each level's context goes in front: %s", e.msg);
	err_clear(&e);
	err_prefix(&e, -ENOENT, "open x");
	ok(!strcmp(e.msg, "open x: No such file or directory"), "an empty reason becomes the code's text: %s", e.msg);
	is_int(err_set(NULL, -EIO, "x"), -EIO, "err_set accepts NULL");
	is_int(err_prefix(NULL, -EIO, "x"), -EIO, "err_prefix accepts NULL");
	ok(!strcmp(err_msg(NULL, -ENOENT), "No such file or directory"), "err_msg(NULL) is the code's text");
	err_clear(&e);
	ok(!strcmp(err_msg(&e, -SPACE_E_DIGEST), space_strerror(-SPACE_E_DIGEST)), "err_msg of an empty reason");
	memset(ctx, 'c', sizeof(ctx) - 1);
	ctx[sizeof(ctx) - 1] = '\0';
	memset(big.msg, 'r', sizeof(big.msg) - 1);
	big.msg[sizeof(big.msg) - 1] = '\0';
	err_prefix(&big, -EIO, "ctx");
	ok(strlen(big.msg) == SPACE_ERR_MAX - 1 && !strncmp(big.msg, "ctx: rrr", 8), "a long reason is cut at its end, the context kept");
	err_prefix(&big, -EIO, "%s", ctx);
	ok(strlen(big.msg) == SPACE_ERR_MAX - 1, "an over-long context is cut, nothing overflows");
}

static char dir[] = "/tmp/test_util.XXXXXX";

static void test_mkdir_p(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	is_int(mkdir_p(path, 0755), 0, "mkdir_p creates nested directories");
	is_int(mkdir_p(path, 0755), 0, "mkdir_p on an existing directory");
}

static void run_exitcode(void)
{
	test_exitcode(dir);
}

/* write_file_atomic, read_file and the SHA-256 of a file, of an fd */
static void test_files(void)
{
	char path[256], hex[65], *buf = NULL;
	size_t len = 0;
	struct stat st;

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
}

static void test_hex_decode(void)
{
	{
		unsigned char b[4];
		is_int(hex_decode("00ff7a1b", 4, b), 0, "hex_decode");
		ok(b[0] == 0 && b[1] == 0xff && b[2] == 0x7a && b[3] == 0x1b, "  decodes each byte");
		is_int(hex_decode("00FF", 2, b), -SPACE_E_FORMAT, "  upper case is refused");
		is_int(hex_decode("0g", 1, b), -SPACE_E_FORMAT, "  a non-hex character is refused");
		is_int(hex_decode("", 0, b), 0, "  nothing to decode");
	}
}

static void test_run_argv(void)
{
	const char *const t[] = { "true", NULL }, *const f[] = { "false", NULL },
			  *const nx[] = { "/nonexistent/prog", NULL };
	is_int(run_argv(t), 0, "run_argv true");
	is_int(run_argv(f), -SPACE_E_CHILD, "run_argv false reports a failed child");
	is_int(run_argv(nx), -SPACE_E_CHILD, "run_argv of a missing program fails");
	ok(strcmp(space_strerror(-SPACE_E_DIGEST), "digest mismatch") == 0, "space_strerror");
	ok(strcmp(space_strerror(-ENOENT), strerror(ENOENT)) == 0, "space_strerror falls back");
}

static void test_str_escape(void)
{
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
}

static void run_open_regular(void)
{
	alarm(30);
	test_open_regular(dir);
	alarm(0);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/util/mkdir_p", test_mkdir_p },
		{ "/util/exitcode", run_exitcode },
		{ "/util/err", test_err },
		{ "/util/files", test_files },
		{ "/util/hex_decode", test_hex_decode },
		{ "/util/run_argv", test_run_argv },
		{ "/util/str_escape", test_str_escape },
		{ "/util/open_regular", run_open_regular },
		{ NULL, NULL },
	};
	const char *const rm[] = { "rm", "-rf", dir, NULL };
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	run_argv(rm);
	return r;
}
