/* SPDX-License-Identifier: MIT */
/* test_sums.c - the checksum list format and file hashing (image/sums). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image/sums/sums.h"
#include "util.h"
#include "tap.h"

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

/* sums_parse of len bytes, its reason copied into err[160] */
static int parse_n(const char *text, size_t len, struct sums_list *l, char *err)
{
	struct space_err e = { "" };
	int r = sums_parse(text, len, l, &e);

	snprintf(err, 160, "%.159s", e.msg);
	return r;
}

static int parse(const char *text, struct sums_list *l, char *err)
{
	return parse_n(text, strlen(text), l, err);
}

static void test_parse(void)
{
	static struct sums_list l;
	char err[160];

	is_int(parse(ABC "  space-1.iso\n" ABC "  space-1.ova\n", &l, err), 0, "parse: two lines");
	ok(l.n == 2 && !strcmp(l.e[0].name, "space-1.iso") && !strcmp(l.e[1].name, "space-1.ova"),
	   "  names in order");
	ok(l.e[0].sha256[0] == 0xba && l.e[0].sha256[31] == 0xad, "  digest decoded");
	is_int(parse("", &l, err), -SPACE_E_FORMAT, "empty list refused");
	ok(strstr(err, "empty") != NULL, "  %s", err);
	is_int(parse(ABC "  a\n" ABC "  a\n", &l, err), -SPACE_E_FORMAT, "a name twice refused");
	ok(!strcmp(err, "line 2: file listed twice"), "  %s", err);
	is_int(parse(ABC "  ../a\n", &l, err), -SPACE_E_FORMAT, "a path refused");
	is_int(parse(ABC "  a b\n", &l, err), -SPACE_E_FORMAT, "a space in a name refused");
	is_int(parse(ABC " *a\n", &l, err), -SPACE_E_FORMAT, "binary-mode marker refused (mksums writes two spaces)");
	is_int(parse(ABC "  a\r\n", &l, err), -SPACE_E_FORMAT, "CRLF refused");
	is_int(parse(ABC "  a", &l, err), -SPACE_E_FORMAT, "a last line without newline refused");
	ok(strstr(err, "newline") != NULL, "  %s", err);
	is_int(parse("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD  a\n", &l, err),
	       -SPACE_E_FORMAT, "upper-case hex refused");
	is_int(parse(ABC "ab  a\n", &l, err), -SPACE_E_FORMAT, "a longer digest refused");
	is_int(parse("ba78  a\n", &l, err), -SPACE_E_FORMAT, "a short line refused");
	is_int(parse("\\" ABC "  a\\nb\n", &l, err), -SPACE_E_FORMAT, "GNU's escaped-name form refused");
	is_int(parse_n(ABC "  a\0b\n", 70, &l, err), -SPACE_E_FORMAT, "a NUL in a name refused");
	is_int(parse("\n", &l, err), -SPACE_E_FORMAT, "an empty line refused");
}

/* The bounds: SUMS_MAX_FILES lines pass, one more does not; a line longer
 * than SUMS_LINE_MAX is refused without reading past it. */
static void test_bounds(void)
{
	static struct sums_list l;
	char *t = malloc(SUMS_MAX_BYTES + SUMS_LINE_MAX + 2), err[160], name[OVA_NAME_MAX + 2];
	size_t n = 0;

	for (int i = 0; i < SUMS_MAX_FILES; i++)
		n += (size_t)sprintf(t + n, ABC "  f%03d\n", i);
	is_int(parse_n(t, n, &l, err), 0, "%d files fill the list", SUMS_MAX_FILES);
	is_int(l.n, SUMS_MAX_FILES, "  all listed");
	n += (size_t)sprintf(t + n, ABC "  f%03d\n", SUMS_MAX_FILES);
	is_int(parse_n(t, n, &l, err), -SPACE_E_FORMAT, "one more is refused");
	ok(strstr(err, "too many files") != NULL, "  %s", err);

	memset(name, 'a', OVA_NAME_MAX);
	name[OVA_NAME_MAX] = '\0';
	n = (size_t)sprintf(t, ABC "  %s\n", name);
	is_int(parse_n(t, n, &l, err), 0, "a %d-byte name passes", OVA_NAME_MAX);
	strcat(name, "a");
	n = (size_t)sprintf(t, ABC "  %s\n", name);
	is_int(parse_n(t, n, &l, err), -SPACE_E_FORMAT, "one byte more is refused");
	ok(strstr(err, "line too long") != NULL, "  %s", err);
	memset(t, 'a', SUMS_MAX_BYTES + 1);
	is_int(parse_n(t, SUMS_MAX_BYTES + 1, &l, err), -SPACE_E_FORMAT,
	       "a list over %d bytes is refused", SUMS_MAX_BYTES);
	free(t);
}

static void test_format(void)
{
	static struct sums_list l, back;
	unsigned char md[32] = { 0xba, 0x78 };
	char err[160], *text = NULL, c[OVA_NAME_MAX + 1], lname[OVA_NAME_MAX + 1];
	size_t len = 0;

	l.n = 0;
	is_int(sums_add(&l, "space-1.iso", md), 0, "sums_add");
	is_int(sums_add(&l, "space-1.iso", md), -EEXIST, "  the same name again: -EEXIST");
	is_int(sums_add(&l, "a/b", md), -SPACE_E_FORMAT, "  a path: refused");
	is_int(sums_add(&l, "space-1.img", md), 0, "  a second file");
	is_int(sums_format(&l, &text, &len), 0, "sums_format");
	ok(len == 2 * (64 + 2 + 11 + 1) && !strncmp(text, "ba78", 4) && !strncmp(text + 64, "  space-1.iso\n", 14),
	   "  sha256sum's text-mode lines");
	is_int(parse_n(text, len, &back, err), 0, "  parses back");
	ok(back.n == 2 && !memcmp(back.e[1].sha256, md, 32) && !strcmp(back.e[1].name, "space-1.img"),
	   "  the same entries");
	free(text);

	is_int(sums_companion(c, "space-1.sha256sums", SUMS_SIG_SUFFIX), 0, "sums_companion");
	ok(!strcmp(c, "space-1.sha256sums.sig"), "  %s", c);
	ok(sums_list_name_ok("space-1.sha256sums"), "a list name");
	ok(!sums_list_name_ok("a/space-1.sha256sums") && !sums_list_name_ok(".sha256sums"),
	   "  a path or a dot file is not");
	memset(lname, 'a', OVA_NAME_MAX - strlen(SUMS_CHAIN_SUFFIX));
	lname[OVA_NAME_MAX - strlen(SUMS_CHAIN_SUFFIX)] = '\0';
	ok(sums_list_name_ok(lname), "  a name that leaves just room for %s", SUMS_CHAIN_SUFFIX);
	strcat(lname, "a");
	ok(!sums_list_name_ok(lname), "  one byte longer does not");
}

static void write_at(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ok(fd >= 0 && write(fd, p, n) == (ssize_t)n && close(fd) == 0, "write %s (%zu bytes)", name, n);
}

/* Every file is hashed and each failure is its own; 1 and 4 threads agree. */
static void test_hash(const char *dir)
{
	const char *const names[] = { "abc", "big", "missing", "fifo", "link" };
	struct sums_hash r1[5], r4[5];
	unsigned char want[32];
	size_t bigsz = (3u << 20) + 7; /* many read chunks and a partial one */
	unsigned char *big = malloc(bigsz);
	char path[512], hex[65];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);

	for (size_t i = 0; i < bigsz; i++)
		big[i] = (unsigned char)(i * 7 + (i >> 12));
	write_at(dir, "abc", "abc", 3);
	write_at(dir, "big", big, bigsz);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	ok(mkfifo(path, 0600) == 0, "mkfifo");
	snprintf(path, sizeof(path), "%s/link", dir);
	ok(symlink("abc", path) == 0, "symlink");
	EVP_Digest(big, bigsz, want, NULL, EVP_sha256(), NULL);

	sums_hash_files(dfd, names, 5, 1, r1);
	sums_hash_files(dfd, names, 5, 4, r4);
	hex_encode(r1[0].sha256, 32, hex);
	ok(r1[0].err == 0 && !strcmp(hex, ABC), "abc hashes to the FIPS 180-2 vector");
	ok(r1[1].err == 0 && !memcmp(r1[1].sha256, want, 32), "a 3 MiB file hashes as one EVP_Digest");
	is_int(r1[2].err, -ENOENT, "a missing file is -ENOENT");
	is_int(r1[3].err, -SPACE_E_NOT_REG, "a FIFO is refused, not waited on");
	ok(r1[4].err == 0 && !memcmp(r1[4].sha256, r1[0].sha256, 32), "a symlink is followed (as sha256sum does)");
	for (int i = 0; i < 5; i++)
		ok(r4[i].err == r1[i].err && (r1[i].err || !memcmp(r4[i].sha256, r1[i].sha256, 32)),
		   "4 threads: the same result for %s", names[i]);
	sums_hash_files(dfd, names, 1, 64, r4);
	ok(r4[0].err == 0, "more threads than files, and than SUMS_MAX_THREADS: fine");
	close(dfd);
	free(big);
}

static char dir[] = "/tmp/test_sums.XXXXXX";

static void run_hash(void)
{
	test_hash(dir);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/sums/parse", test_parse },
		{ "/sums/bounds", test_bounds },
		{ "/sums/format", test_format },
		{ "/sums/hash", run_hash },
		{ NULL, NULL },
	};
	char cmd[600];
	int r;

	alarm(60); /* a FIFO that blocked open() would hang: fail instead */
	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# cleanup of %s failed\n", dir);
	return r;
}
