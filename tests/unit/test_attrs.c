/* SPDX-License-Identifier: MIT */
/* test_attrs.c - tests for image/lib/attrs.c (attributes file, tree walk,
 * debugfs scripts), tree_resolve() and copy_sparse(). */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/lib/attrs.h"
#include "image/lib/disk.h"
#include "image/lib/diskio.h"
#include "image/lib/fs.h"
#include "tap.h"
#include "util.h"

static int has(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle) != NULL;
}

static int parse_err(const char *text)
{
	struct attr_list a;
	struct space_err why;
	int r = attrs_parse(text, &a, &why);
	if (r == 0)
		attrs_free(&a);
	return r;
}

static void mk(const char *dir, const char *rel, const char *content)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	write_file_atomic(p, content, strlen(content), 0644);
}

static char dir[] = "/tmp/test_attrs.XXXXXX";

/* the attrs file parser */
static void test_parse(void)
{
	struct attr_list a;
	const struct attr_entry *e;
	struct space_err why;
	const char *text = "# comment\n"
			   "\n"
			   "d 0755 0 0 0 0 dev\n"
			   "c 0600 0 5 5 1 dev/console\n"
			   "f 4755 0 0 0 0 usr/bin/su\n"
			   "f 0644 1000 100 0 0 home/a file with spaces\r\n"
			   "d 0700 0 0 0 0 .\n";

	/* --- parser */
	is_int(attrs_parse(text, &a, &why), 0, "attrs_parse");
	is_int(a.n, 5, "five entries (comments and blank lines skipped)");
	e = attrs_find(&a, "dev/console");
	ok(e && e->type == 'c' && e->mode == 0600 && e->gid == 5 && e->major == 5 && e->minor == 1,
	   "char device fields");
	e = attrs_find(&a, "usr/bin/su");
	ok(e && e->mode == 04755, "setuid bit kept in MODE");
	e = attrs_find(&a, "home/a file with spaces");
	ok(e && e->uid == 1000 && e->gid == 100, "PATH is the rest of the line (spaces, CRLF)");
	ok(attrs_find(&a, "") != NULL, "'.' is the root");
	attrs_free(&a);
	is_int(parse_err("x 0755 0 0 0 0 a\n"), -SPACE_E_FORMAT, "unknown type refused");
	is_int(parse_err("f 0855 0 0 0 0 a\n"), -SPACE_E_FORMAT, "non-octal mode refused");
	is_int(parse_err("f 17777 0 0 0 0 a\n"), -SPACE_E_FORMAT, "mode beyond 07777 refused");
	is_int(parse_err("f 0644 0 0 0 a\n"), -SPACE_E_FORMAT, "missing field refused");
	is_int(parse_err("f 0644 0 0 0 0 /etc/passwd\n"), -SPACE_E_UNSAFE_PATH, "absolute path refused");
	is_int(parse_err("f 0644 0 0 0 0 a/../../b\n"), -SPACE_E_UNSAFE_PATH, "'..' refused");
	is_int(parse_err("f 0644 0 0 0 0 a//b\n"), -SPACE_E_UNSAFE_PATH, "empty component refused");
	is_int(parse_err("f 0644 0 0 0 0 a\"b\n"), -SPACE_E_UNSAFE_PATH, "double quote refused");
	is_int(parse_err("f 0644 0 0 0 0 a\nf 0600 0 0 0 0 a\n"), -SPACE_E_FORMAT, "duplicate path refused");
}

/* A tree in dir: symlinks resolved inside it, the walk, then the two
 * debugfs scripts made from the walk (one function, 106 lines: the second
 * script needs the inode numbers the first one's listing gave). */
static void test_tree(void)
{
	struct attr_list a;
	struct tree_list t;
	struct space_err why;
	char p[512], out[256], *script = NULL;

	snprintf(p, sizeof(p), "%s/boot", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/dev", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc", dir);
	mkdir(p, 0755);
	mk(dir, "boot/vmlinuz-6.1", "k");
	mk(dir, "etc/passwd", "root:x:0:0\n");
	snprintf(p, sizeof(p), "%s/boot/vmlinuz", dir);
	symlink("vmlinuz-6.1", p);
	snprintf(p, sizeof(p), "%s/boot/abs", dir);
	symlink("/boot/vmlinuz", p); /* absolute: must stay inside the tree */
	snprintf(p, sizeof(p), "%s/boot/up", dir);
	symlink("../../../../etc/passwd", p); /* climbs: stops at the tree root */
	snprintf(p, sizeof(p), "%s/boot/loop", dir);
	symlink("loop", p);
	is_int(tree_resolve(dir, "/boot/vmlinuz", out, sizeof(out)), 0, "resolve a relative symlink");
	ok(!strcmp(out, "/boot/vmlinuz-6.1"), "-> /boot/vmlinuz-6.1 (%s)", out);
	is_int(tree_resolve(dir, "/boot/abs", out, sizeof(out)), 0, "resolve an absolute symlink chain");
	ok(!strcmp(out, "/boot/vmlinuz-6.1"), "absolute target resolved inside the tree (%s)", out);
	is_int(tree_resolve(dir, "/boot/up", out, sizeof(out)), 0, "'..' beyond the root");
	ok(!strcmp(out, "/etc/passwd"), "stays inside the tree (%s)", out);
	is_int(tree_resolve(dir, "/boot/loop", out, sizeof(out)), -ELOOP, "symlink loop refused");
	is_int(tree_resolve(dir, "/boot/missing", out, sizeof(out)), -ENOENT, "missing file");
	is_int(tree_resolve(dir, "/boot", out, sizeof(out)), -EINVAL, "a directory is not a kernel");

	is_int(tree_walk(dir, &t, &why), 0, "tree_walk");
	is_int(t.n, 10, "root + 3 dirs + 6 entries");
	ok(t.n > 4 && !strcmp(t.v[0].path, "") && !strcmp(t.v[1].path, "boot") &&
		   !strcmp(t.v[2].path, "boot/abs") && S_ISLNK(t.v[2].mode),
	   "sorted, parents first, symlinks not followed");

	/* --- pass 1 script and its output */
	script = attrs_script_lsdirs(&t);
	ok(has(script, "ls -p \"/\"\n") && has(script, "ls -p \"/boot\"\n") && has(script, "ls -p \"/etc\"\n") &&
		   !has(script, "ls -p \"/boot/vmlinuz\""),
	   "one ls per directory");
	free(script);
	{
		/* Fake debugfs output: inode = 100 + tree index. */
		char buf[4096];
		size_t o = 0;
		for (size_t d = 0; d < t.n; d++) {
			if (!S_ISDIR(t.v[d].mode))
				continue;
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "debugfs: ls -p \"/%s\"\n/2/040755/0/0/.//\n", t.v[d].path);
			for (size_t i = 1; i < t.n; i++) {
				const char *slash = strrchr(t.v[i].path, '/');
				if (t.v[i].parent == d)
					o += (size_t)snprintf(buf + o, sizeof(buf) - o, "/%zu/0100644/0/0/%s/1/\n", 100 + i,
							      slash ? slash + 1 : t.v[i].path);
			}
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "\n");
		}
		is_int(attrs_parse_lsdirs(&t, buf, &why), 0, "attrs_parse_lsdirs");
		ok(t.v[0].ino == 2 && t.v[3].ino == 103 && t.v[t.n - 1].ino == 100 + t.n - 1,
		   "inode numbers assigned from the listing");
	}

	/* --- pass 2 script */
	is_int(attrs_parse("c 0600 0 5 5 1 dev/console\nf 4755 1000 1000 0 0 etc/passwd\np 0600 0 0 0 0 dev/initctl\n", &a, &why), 0,
	       "attrs for the tree");
	is_int(attrs_script_apply(&t, &a, 1700000000, &script, &why), 0, "attrs_script_apply");
	ok(has(script, "cd \"/dev\"\nmknod \"console\" c 5 1\nsif \"console\" mode 020600\nsif \"console\" uid 0\nsif \"console\" gid 5\n"),
	   "device node: cd into the directory, mknod by name, fix mode and owner");
	ok(has(script, "mknod \"initctl\" p\nsif \"initctl\" mode 010600\n"), "fifo created");
	ok(!has(script, "mknod \"/dev") && !has(script, "mknod \"dev/"), "never mknod with a path");
	{
		char want[128];
		size_t pw = 0;
		for (size_t i = 0; i < t.n; i++)
			if (!strcmp(t.v[i].path, "etc/passwd"))
				pw = i;
		snprintf(want, sizeof(want), "sif <%u> uid 1000\nsif <%u> gid 1000\nsif <%u> mode 0104755\n", t.v[pw].ino,
			 t.v[pw].ino, t.v[pw].ino);
		ok(has(script, want), "listed file: owner and setuid mode by inode number");
		snprintf(want, sizeof(want), "sif <%u> uid 0\nsif <%u> gid 0\nsif <%u> atime_extra 0\n", t.v[1].ino, t.v[1].ino,
			 t.v[1].ino);
		ok(has(script, want), "unlisted entry: root:root, mode untouched");
		snprintf(want, sizeof(want), "sif <%u> ctime @1700000000\nsif <%u> mtime @1700000000\nsif <%u> crtime @1700000000\n",
			 t.v[2].ino, t.v[2].ino, t.v[2].ino);
		ok(has(script, want), "every inode's times set to the epoch");
	}
	ok(has(script, "set_current_time @1700000000\n"), "debugfs clock pinned");
	ok(has(script, "sif <11> crtime @1700000000"), "lost+found times too");
	free(script);
	attrs_free(&a);
	attrs_parse("f 0644 0 0 0 0 etc/shadow\n", &a, &why);
	is_int(attrs_script_apply(&t, &a, 1, &script, &why), -SPACE_E_FORMAT, "attrs path missing from the tree refused");
	ok(has(why.msg, "etc/shadow") && has(why.msg, "not in the tree"), "reason names the path: %s", why.msg);
	attrs_free(&a);
	attrs_parse("d 0755 0 0 0 0 etc/passwd\n", &a, &why);
	is_int(attrs_script_apply(&t, &a, 1, &script, &why), -SPACE_E_FORMAT, "type mismatch refused");
	attrs_free(&a);
	attrs_parse("c 0600 0 0 1 1 nodir/null\n", &a, &why);
	is_int(attrs_script_apply(&t, &a, 1, &script, &why), -SPACE_E_FORMAT, "device in a missing directory refused");
	attrs_free(&a);
	tree_free(&t);
}

static void test_copy_sparse(void)
{
	{
		char src[600], dst[600];
		struct copy_stats st;
		static char blk[65536];
		int s, d, same = 1;

		snprintf(src, sizeof(src), "%s/src", dir);
		snprintf(dst, sizeof(dst), "%s/dst", dir);
		s = open(src, O_RDWR | O_CREAT, 0644);
		d = open(dst, O_RDWR | O_CREAT, 0644);
		ftruncate(s, 16 << 20);
		memset(blk, 'x', sizeof(blk));
		pwrite_all(s, blk, sizeof(blk), 1 << 20);
		pwrite_all(s, blk, 100, (8 << 20) + 5);
		memset(blk, 0, sizeof(blk));
		pwrite_all(s, blk, sizeof(blk), 12 << 20); /* written zeros: data, but zero */
		ftruncate(d, 32 << 20);
		is_int(copy_sparse(d, 4 << 20, 16 << 20, src, COPY_DST_ZEROED, &st), 0, "copy_sparse");
		ok(st.data_bytes == 65536 + 4096, "only the non-zero extents written, not the zero block (%llu)",
		   (unsigned long long)st.data_bytes);
		{
			char *a1 = malloc(16 << 20), *b1 = malloc(16 << 20);
			pread_all(s, a1, 16 << 20, 0);
			pread_all(d, b1, 16 << 20, 4 << 20);
			same = !memcmp(a1, b1, 16 << 20);
			free(a1);
			free(b1);
		}
		ok(same, "destination range equals the source");
		is_int(copy_sparse(d, 0, 1 << 20, src, COPY_DST_ZEROED, NULL), -EFBIG, "source larger than the partition refused");
		/* Without COPY_DST_ZEROED old contents are zeroed. */
		memset(blk, 'o', sizeof(blk));
		pwrite_all(d, blk, sizeof(blk), (4 << 20) + (3 << 20));
		is_int(copy_sparse(d, 4 << 20, 16 << 20, src, 0, NULL), 0, "copy over old contents");
		pread_all(d, blk, sizeof(blk), (4 << 20) + (3 << 20));
		ok(blk[0] == 0 && blk[65535] == 0, "old contents in a hole are zeroed");
		/* dig_holes: zero data (written, or fallocated) becomes holes,
		 * other data stays. */
		{
			struct stat sb1, sb2;
			uint64_t punched = 0;
			char *a1 = malloc(1 << 20), *b1 = malloc(1 << 20);

			ftruncate(d, 0);
			ftruncate(d, 8 << 20);
			memset(blk, 0, sizeof(blk));
			for (int i = 0; i < 16; i++)
				pwrite_all(d, blk, sizeof(blk), (uint64_t)(1 << 20) + (uint64_t)i * sizeof(blk));
			memset(blk, 'd', sizeof(blk));
			pwrite_all(d, blk, 4096, (1 << 20) + 8192);
			fallocate(d, FALLOC_FL_ZERO_RANGE, 4 << 20, 1 << 20);
			fsync(d);
			fstat(d, &sb1);
			pread_all(d, a1, 1 << 20, 1 << 20);
			is_int(dig_holes(d, 0, 8 << 20, &punched), 0, "dig_holes");
			fstat(d, &sb2);
			pread_all(d, b1, 1 << 20, 1 << 20);
			ok(!memcmp(a1, b1, 1 << 20), "content unchanged");
			ok(punched >= 15 * 65536 && sb2.st_blocks * 512 <= 65536,
			   "zero blocks and unwritten extents punched (%lld -> %lld bytes allocated)",
			   (long long)sb1.st_blocks * 512, (long long)sb2.st_blocks * 512);
			is_int(dig_holes(d, 100, 4096, NULL), -EINVAL, "unaligned range refused");
			free(a1);
			free(b1);
		}
		close(s);
		close(d);
	}
}

/* A FIFO in place of a file to read or write: refused at once. Both
 * hung in open() before (the alarm fails the test then). */
static void test_fifo(void)
{
	{
		char fifo[600];
		struct space_err detail = { "" };
		struct ext4_params ep = { 0 };
		int d = open("/dev/null", O_WRONLY | O_CLOEXEC);

		snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
		ok(mkfifo(fifo, 0600) == 0, "mkfifo");
		alarm(30);
		is_int(copy_sparse(d, 0, 1 << 20, fifo, 0, NULL), -SPACE_E_NOT_REG, "copy_sparse from a FIFO: refused");
		ep.out_path = fifo;
		ep.size = 8 << 20;
		ep.label = "t";
		ep.work_dir = dir;
		is_int(fs_make_ext4(&ep, &detail), -SPACE_E_NOT_REG_BLK, "fs_make_ext4 onto a FIFO: refused");
		ok(has(detail.msg, "fifo: not a regular file or block device"), "  naming it: %s", detail.msg);
		alarm(0);
		close(d);
	}
}

/* fs_ext4_add_file builds a debugfs script from its names: debugfs
 * takes '"' as quoting, so a name with '"' became another name (the
 * source dir/"a"b was read as dir/ab) and the call succeeded. */
static void test_ext4_add_file(void)
{
	{
		char img[600], src[600], plain[600], cmd[1400], got[64] = "";
		struct space_err why2 = { "" };
		struct ext4_params ep = { 0 };
		FILE *f;

		snprintf(img, sizeof(img), "%s/fs.img", dir);
		snprintf(src, sizeof(src), "%s/\"a\"b", dir);
		snprintf(plain, sizeof(plain), "%s/ab", dir);
		mk(dir, "\"a\"b", "QUOTED\n");
		mk(dir, "ab", "PLAIN\n");
		ep.out_path = img;
		ep.size = 8 << 20;
		ep.label = "data";
		ep.work_dir = dir;
		is_int(fs_make_ext4(&ep, NULL), 0, "an ext4 to add files to");
		is_int(fs_ext4_add_file(img, 0, src, "log", "a", dir, &why2), -EINVAL,
		       "add_file: a source with '\"' refused (debugfs would read another file)");
		is_int(fs_ext4_add_file(img, 0, plain, "log", "i\"n\"stall.log", dir, &why2), -EINVAL,
		       "add_file: a name with '\"' refused");
		is_int(fs_ext4_add_file(img, 0, plain, "l\"o\"g", "a", dir, &why2), -EINVAL,
		       "add_file: a directory with '\"' refused");
		is_int(fs_ext4_add_file(img, 0, plain, "log", "a\x1b", dir, &why2), -EINVAL,
		       "add_file: a name with a control character refused");
		is_int(fs_ext4_add_file(img, 0, plain, "", "a", dir, &why2), -EINVAL,
		       "add_file: an empty directory name refused");
		is_int(fs_ext4_add_file("/x?offset=0", 4096, plain, "log", "a", dir, &why2), -EINVAL,
		       "add_file: '?' in a device at an offset refused");
		err_clear(&why2);
		is_int(fs_ext4_add_file(img, 0, plain, "log", "install.log", dir, &why2), 0,
		       "add_file: plain names (%s)", why2.msg);
		snprintf(cmd, sizeof(cmd), "debugfs -R 'cat log/install.log' '%s' 2>/dev/null", img);
		f = popen(cmd, "r");
		if (f) {
			if (!fgets(got, sizeof(got), f))
				got[0] = '\0';
			pclose(f);
		}
		ok(!strcmp(got, "PLAIN\n"), "  /log/install.log holds the source's bytes");
		snprintf(cmd, sizeof(cmd), "debugfs -R 'ls -p log' '%s' 2>/dev/null", img);
		f = popen(cmd, "r");
		{
			char line[256];
			int n = 0;
			while (f && fgets(line, sizeof(line), f))
				n += strstr(line, "/install.log/") != NULL || strstr(line, "/a/") != NULL;
			if (f)
				pclose(f);
			is_int(n, 1, "  /log holds install.log only (nothing under another name)");
		}
	}
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/attrs/parse", test_parse },
		{ "/attrs/tree", test_tree },
		{ "/attrs/copy_sparse", test_copy_sparse },
		{ "/attrs/fifo", test_fifo },
		{ "/attrs/ext4_add_file", test_ext4_add_file },
		{ NULL, NULL },
	};
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	remove_tree(dir);
	return r;
}
