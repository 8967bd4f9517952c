/* SPDX-License-Identifier: MIT */
/* test_pkg_meta.c - the .PKGINFO parser and writer (pkg/libpkg/meta.c):
 * a good document round-trips; every malformed variant is refused. */
#include <stdlib.h>
#include <string.h>

#include "pkg/libpkg/libpkg.h"
#include "tap.h"

#define SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static const char good[] =
	"pkgformat 1\n"
	"name base-files\n"
	"version 1:12.4+deb12u1\n"
	"release 3\n"
	"arch amd64\n"
	"summary Debian base system, with spaces\n"
	"depend libc6\n"
	"depend busybox\n"
	"base-files 1\n"
	"dir dev 0755 0 0\n"
	"chardev dev/console 0600 0 5 5 1\n"
	"blockdev dev/sda 0660 0 6 8 0\n"
	"fifo dev/xconsole 0640 0 4\n"
	"dir etc 0755 0 0\n"
	"file etc/motd 0644 0 0 0 " SHA " config\n"
	"symlink etc/mtab 0777 0 0 ../proc/self/mounts\n"
	"file etc/shadow 0640 0 42 0 " SHA "\n"
	"file etc/with%20space 0644 0 0 0 " SHA "\n";

static int parse(const char *text, struct pkg_meta *m, struct space_err *err)
{
	return pkg_meta_parse(text, strlen(text), 0, m, err);
}

/* Replace the first occurrence of from in good by to; parse; expect r. */
static void bad(const char *from, const char *to, int want, const char *name)
{
	char buf[4096], *p;
	struct pkg_meta m;
	struct space_err err = { "" };
	int r;

	p = strstr(good, from);
	if (!p) {
		ok(0, "%s (pattern '%s' not in the sample)", name, from);
		return;
	}
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - good), good, to, p + strlen(from));
	r = parse(buf, &m, &err);
	is_int(r, want, "refused: %s (%s)", name, err.msg);
	ok(err.msg[0] != '\0' && !strchr(err.msg, '\n'), "  one-line reason for: %s", name);
	if (r == 0)
		pkg_meta_free(&m);
}

/* good metadata: its fields, and written back byte for byte */
static void test_good(void)
{
	struct pkg_meta m, m2;
	struct space_err err = { "" };
	char *out = NULL;
	size_t len = 0;
	int r;

	r = parse(good, &m, &err);
	is_int(r, 0, "good metadata parses (%s)", err.msg);
	if (r == 0) {
		ok(!strcmp(m.name, "base-files") && !strcmp(m.version, "1:12.4+deb12u1") &&
			   !strcmp(m.release, "3") && !strcmp(m.arch, "amd64"),
		   "header fields");
		ok(!strcmp(m.summary, "Debian base system, with spaces"), "summary keeps spaces");
		ok(m.n_depends == 2 && !strcmp(m.depends[1], "busybox"), "depends");
		ok(m.base_files, "base-files flag");
		is_int(m.n_entries, 9, "entry count");
		struct pkg_entry *e = pkg_meta_find(&m, "dev/console");
		ok(e && e->type == PKG_CHR && e->major == 5 && e->minor == 1 && e->gid == 5 &&
			   e->mode == 0600,
		   "char device fields");
		e = pkg_meta_find(&m, "dev/sda");
		ok(e && e->type == PKG_BLK && e->major == 8 && e->minor == 0, "block device fields");
		e = pkg_meta_find(&m, "etc/motd");
		ok(e && e->type == PKG_FILE && e->config && e->size == 0 && !strcmp(e->sha256, SHA),
		   "config file fields");
		e = pkg_meta_find(&m, "etc/with space");
		ok(e && !e->config, "%%20 decodes to a space");
		e = pkg_meta_find(&m, "etc/mtab");
		ok(e && e->type == PKG_SYMLINK && !strcmp(e->target, "../proc/self/mounts"),
		   "symlink target");
		e = pkg_meta_find(&m, "dev/xconsole");
		ok(e && e->type == PKG_FIFO && e->mode == 0640, "fifo");
		ok(pkg_meta_find(&m, "etc/nothere") == NULL, "lookup of an absent path");

		is_int(pkg_meta_write(&m, &out, &len), 0, "write");
		ok(len == strlen(good) && memcmp(out, good, len) == 0, "write reproduces the input byte for byte");
		is_int(pkg_meta_parse(out, len, 0, &m2, &err), 0, "re-parse the written text");
		pkg_meta_free(&m2);
		free(out);
		pkg_meta_free(&m);
	}
}

/* previous is a database-only key. */
static void test_previous(void)
{
	struct pkg_meta m;
	struct space_err err = { "" };
	int r;

	{
		char buf[4096];
		snprintf(buf, sizeof(buf), "%sprevious 1.0-1\n", good);
		ok(parse(buf, &m, &err) == -SPACE_E_FORMAT, "'previous' refused in a package");
	}
	{
		const char db[] = "pkgformat 1\nname a\nversion 1\nrelease 1\narch amd64\nbase-files 0\n"
				  "previous 0.9-2\n";
		r = pkg_meta_parse(db, strlen(db), PKG_PARSE_DB, &m, &err);
		is_int(r, 0, "'previous' accepted in the database");
		if (r == 0) {
			ok(!strcmp(m.previous, "0.9-2"), "previous value");
			pkg_meta_free(&m);
		}
	}
}

static void test_refusals(void)
{
	struct pkg_meta m;
	struct space_err err = { "" };

	bad("pkgformat 1\n", "pkgformat 2\n", -SPACE_E_FORMAT, "unknown format version");
	bad("name base-files\n", "", -SPACE_E_FORMAT, "missing name");
	bad("name base-files\n", "name base files\n", -SPACE_E_FORMAT, "name with a space");
	bad("name base-files\n", "name -x\n", -SPACE_E_FORMAT, "name starting with '-'");
	bad("version 1:12.4+deb12u1\n", "version 1\nversion 2\n", -SPACE_E_FORMAT, "repeated key");
	bad("arch amd64\n", "arch amd64\ncolour blue\n", -SPACE_E_FORMAT, "unknown key");
	bad("base-files 1\n", "base-files yes\n", -SPACE_E_FORMAT, "base-files not 0/1");
	bad("base-files 1\n", "base-files 0\n", -SPACE_E_FORMAT, "device in a non-base-files package");
	bad("dir etc 0755 0 0\n", "dir /etc 0755 0 0\n", -SPACE_E_UNSAFE_PATH, "absolute path");
	bad("dir etc 0755 0 0\n", "dir etc/../.. 0755 0 0\n", -SPACE_E_UNSAFE_PATH, "'..' component");
	bad("dir etc 0755 0 0\n", "dir etc//x 0755 0 0\n", -SPACE_E_FORMAT, "empty component");
	bad("dir etc 0755 0 0\n", "dir etc/ 0755 0 0\n", -SPACE_E_FORMAT, "trailing slash");
	bad("dir etc 0755 0 0\n", "dir ./etc 0755 0 0\n", -SPACE_E_FORMAT, "'.' component");
	bad("dir etc 0755 0 0\n", "dir etc%0a 0755 0 0\n", -SPACE_E_FORMAT, "escaped newline in a path");
	bad("dir etc 0755 0 0\n", "dir etc%zz 0755 0 0\n", -SPACE_E_FORMAT, "bad escape");
	bad("dir etc 0755 0 0\n", "dir etc\t 0755 0 0\n", -SPACE_E_FORMAT, "raw control character");
	bad("dir etc 0755 0 0\n", "dir etc 755 0 0\n", -SPACE_E_FORMAT, "mode not 4 octal digits");
	bad("dir etc 0755 0 0\n", "dir etc 0855 0 0\n", -SPACE_E_FORMAT, "mode not octal");
	bad("dir etc 0755 0 0\n", "dir etc 0755 -1 0\n", -SPACE_E_FORMAT, "negative uid");
	bad("dir etc 0755 0 0\n", "dir etc 0755 0 0 extra\n", -SPACE_E_FORMAT, "extra field");
	bad("dir etc 0755 0 0\n", "dir etc 0755  0 0\n", -SPACE_E_FORMAT, "double space");
	bad("dir etc 0755 0 0\n", "dir etc 0755 0 0 \n", -SPACE_E_FORMAT, "trailing space");
	bad("dir etc 0755 0 0\n", "dir .pkgtmp~etc 0755 0 0\n", -SPACE_E_FORMAT, "reserved temporary prefix");
	bad("dir etc 0755 0 0\n", "dir .PKGINFO 0755 0 0\n", -SPACE_E_FORMAT, "reserved metadata name");
	bad("dir etc 0755 0 0\n", "dir etc 0755 0 0\ndir etc 0755 0 0\n", -SPACE_E_FORMAT, "duplicate entry");
	bad("dir etc 0755 0 0\n", "dir etc 0755 0 0\ndir dev/zzz 0755 0 0\n", -SPACE_E_FORMAT,
	    "entries out of order");
	bad(" 0 " SHA " config", " 0 " SHA " conf", -SPACE_E_FORMAT, "unknown file flag");
	bad(" 0 " SHA " config", " 0 " SHA "0 config", -SPACE_E_FORMAT, "digest too long");
	bad(" 0 " SHA " config", " x " SHA " config", -SPACE_E_FORMAT, "size not a number");
	bad(" 0 " SHA " config", " 0 E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855 config",
	    -SPACE_E_FORMAT, "upper-case digest");
	bad("chardev dev/console 0600 0 5 5 1\n", "chardev dev/console 0600 0 5 5\n", -SPACE_E_FORMAT,
	    "device without minor");
	bad("chardev dev/console 0600 0 5 5 1\n", "chardev dev/console 0600 0 5 4096 1\n", -SPACE_E_FORMAT,
	    "major out of range");
	bad("symlink etc/mtab 0777 0 0 ../proc/self/mounts\n", "symlink etc/mtab 0777 0 0\n", -SPACE_E_FORMAT,
	    "symlink without target");
	bad("symlink etc/mtab 0777 0 0 ../proc/self/mounts\n",
	    "symlink etc/mtab 0777 0 0 ..\nfile etc/mtab/x 0644 0 0 0 " SHA "\n", -SPACE_E_UNSAFE_PATH,
	    "path through a symlink of the same package");
	bad("file etc/with%20space 0644 0 0 0 " SHA "\n", "file etc/with%20space 0644 0 0 0 " SHA "",
	    -SPACE_E_FORMAT, "no final newline");

	ok(pkg_version_ok("1:1.35.0-4+b3") && !pkg_version_ok(":1") && !pkg_version_ok("1:") &&
		   !pkg_token_ok("1:2"),
	   "a Debian epoch is allowed in versions only");
	bad("version 1:12.4+deb12u1\n", "version 12.4 deb12u1\n", -SPACE_E_FORMAT, "version with a space");
	ok(parse("", &m, &err) == -SPACE_E_FORMAT, "empty input refused");
	ok(pkg_meta_parse("pkgformat 1\n\0x\n", 14, 0, &m, &err) == -SPACE_E_FORMAT, "NUL byte refused");
	ok(pkg_path_check("a/b c/d") == 0, "path with a space is allowed");
	ok(pkg_path_check("a/b\nc") < 0, "path with a newline is refused");
}

/* The database is not package content (issue 12, defect 9). */
static void test_database(void)
{
	struct pkg_meta m;
	struct space_err err = { "" };
	int r;

	bad("file etc/with%20space", "file usr/lib/pkg/installed/login", -SPACE_E_UNSAFE_PATH,
	    "a file inside the package database");
	is_int(pkg_path_check(PKG_DB_DIR), -SPACE_E_UNSAFE_PATH, "the database directory itself is refused");
	is_int(pkg_path_check(PKG_DB_DIR "/lock"), -SPACE_E_UNSAFE_PATH, "its lock file is refused");
	is_int(pkg_path_check(PKG_DB_DIR "/installed/x"), -SPACE_E_UNSAFE_PATH, "a record is refused");
	{
		const char t[] = "pkgformat 1\nname a\nversion 1\nrelease 1\narch amd64\n"
				 "file " PKG_DB_DIR "/lock 0644 0 0 0 " SHA "\n";
		r = parse(t, &m, &err);
		ok(r < 0 && strstr(err.msg, PKG_DB_DIR "/lock: inside the package database"),
		   "  the reason names the path and the database (%s)", r < 0 ? err.msg : "accepted");
		if (r == 0)
			pkg_meta_free(&m);
	}
	ok(pkg_path_check("usr/lib") == 0 && pkg_path_check("usr/lib/pkgs") == 0 &&
		   pkg_path_check("usr/lib/pk") == 0,
	   "its parents and lookalike names are allowed");
}

/* Application fields (issue 7): round trip, and what is refused. */
static void test_app(void)
{
	struct pkg_meta m;
	struct space_err err = { "" };
	char *out = NULL;
	size_t len = 0;
	int r;

	{
		const char app[] = "pkgformat 1\nname foo\nversion 2.4\nrelease 1\narch amd64\n"
				   "base-files 0\napp foo\nplatform 21.1 -\n";
		r = parse(app, &m, &err);
		is_int(r, 0, "an application's metadata parses (%s)", err.msg);
		if (r == 0) {
			ok(!strcmp(m.app, "foo") && !strcmp(m.platform_min, "21.1") && !strcmp(m.platform_max, "-"),
			   "app and platform fields");
			ok(pkg_meta_write(&m, &out, &len) == 0 && len == strlen(app) && !memcmp(out, app, len),
			   "an application's metadata is written back byte for byte");
			free(out);
			pkg_meta_free(&m);
		}
	}
	bad("base-files 1\n", "base-files 1\nplatform 21.1 21.2\n", -SPACE_E_FORMAT, "platform without app");
	bad("base-files 1\n", "base-files 1\napp a b\n", -SPACE_E_FORMAT, "app with two words");
	bad("base-files 1\n", "base-files 1\napp -a\n", -SPACE_E_FORMAT, "app name not a token");
	bad("base-files 1\n", "base-files 1\napp a\napp b\n", -SPACE_E_FORMAT, "app twice");
	bad("base-files 1\n", "base-files 1\napp a\nplatform 21.1\n", -SPACE_E_FORMAT, "platform without maximum");
	bad("base-files 1\n", "base-files 1\napp a\nplatform 21.1 21.2 21.3\n", -SPACE_E_FORMAT,
	    "platform with three fields");
	bad("base-files 1\n", "base-files 1\napp a\nplatform 21.1 -\nplatform 21.1 -\n", -SPACE_E_FORMAT,
	    "platform twice");
	bad("base-files 1\n", "base-files 1\napp a\nplatform 21.1 *\n", -SPACE_E_FORMAT, "platform maximum not a token");
	bad("base-files 1\n",
	    "base-files 1\napp a\nplatform 21.1 12345678901234567890123456789012\n", -SPACE_E_FORMAT,
	    "platform version over 31 bytes");
	bad("base-files 1\n",
	    "base-files 1\napp a123456789012345678901234567890123456789012345678901234567890123\n", -SPACE_E_FORMAT,
	    "app name over 63 bytes");
	ok(pkg_path_check("var/lib/pkg/x") == 0, "the old place on /var is ordinary content (issue 7)");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/pkg_meta/good", test_good },
		{ "/pkg_meta/previous", test_previous },
		{ "/pkg_meta/refusals", test_refusals },
		{ "/pkg_meta/database", test_database },
		{ "/pkg_meta/app", test_app },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
