/* SPDX-License-Identifier: MIT */
/* test_lock.c - tests for the debs.lock parser (pkg/debs/lock.c). */
#include <stdlib.h>
#include <string.h>

#include "pkg/debs/lock.h"
#include "tap.h"
#include "util.h"

#define SHA "3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744"

static int parse_err(const char *text, int want_line, const char *name)
{
	struct deb_lock lock;
	int line = 0, r = lock_parse(text, &lock, &line);

	ok(r == -SPACE_E_FORMAT && line == want_line, "refused: %s (line %d)", name, line);
	return r;
}

static void test_parse(void)
{
	struct deb_lock lock;
	int line = 0;
	char *fn;

	is_int(lock_parse("# comment\n\nbusybox-static 1:1.35.0-4+deb12u1+b1 amd64 " SHA "\n"
			  "libc6 2.36-9+deb12u14 amd64 " SHA " # trailing comment\n",
			  &lock, &line),
	       0, "a valid lock parses");
	is_int(lock.n, 2, "two pins");
	ok(strcmp(lock.pins[0].version, "1:1.35.0-4+deb12u1+b1") == 0, "version with epoch kept");
	ok(lock_find(&lock, "libc6") == &lock.pins[1], "lock_find");
	ok(lock_find(&lock, "nope") == NULL, "lock_find of an unknown name");
	fn = lock_deb_filename(&lock.pins[0]);
	ok(fn && strcmp(fn, "busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb") == 0,
	   "file name encodes the epoch colon as apt-get download does");
	free(fn);
	fn = lock_deb_filename(&lock.pins[1]);
	ok(fn && strcmp(fn, "libc6_2.36-9+deb12u14_amd64.deb") == 0, "file name without epoch");
	free(fn);
	lock_free(&lock);

	is_int(lock_parse("", &lock, &line), 0, "an empty lock parses");
	is_int(lock.n, 0, "and has no pins");
}

static void test_refusals(void)
{
	parse_err("a 1 amd64 " SHA "\n", 1, "one-letter name");
	parse_err("libc6 2.36 amd64\n", 1, "missing digest");
	parse_err("libc6 2.36 amd64 " SHA " extra\n", 1, "extra field");
	parse_err("ok-pkg 1.0 amd64 " SHA "\nlibc6 2.36 amd64 3D3F\n", 2, "short digest");
	parse_err("libc6 2.36 amd64 "
		  "3D3FDBE91D4660C873E14B092C213FE81C1DA6362DAA236EB25D0171EB108744\n",
		  1, "uppercase digest");
	parse_err("libc6 2.36 amd64 " SHA "\nlibc6 2.37 amd64 " SHA "\n", 2, "duplicate name");
	parse_err("../evil 1.0 amd64 " SHA "\n", 1, "path in name");
	parse_err("libc6 1.0/../x amd64 " SHA "\n", 1, "slash in version");
	parse_err("libc6 v1 amd64 " SHA "\n", 1, "version not starting with a digit");
	parse_err("Libc6 1 amd64 " SHA "\n", 1, "uppercase name");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/lock/parse", test_parse },
		{ "/lock/refusals", test_refusals },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
