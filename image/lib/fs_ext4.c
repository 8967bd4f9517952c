/* SPDX-License-Identifier: MIT */
/* fs_ext4.c - reproducible ext4 without root; see fs.h.
 *
 * e2fsprogs 1.47.0 (Debian 12) ignores SOURCE_DATE_EPOCH and copies each
 * source file's ctime (which nobody can set), so identical trees created at
 * different times gave different images: debugfs rewrites every inode's
 * times afterwards. debugfs -f exits 0 even when a command fails, so its
 * stderr is captured and any line but the version banner is an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrs.h"
#include "fs.h"
#include "run_ex.h"
#include "imgutil.h"
#include "openreg.h"
#include "util.h"

/* Features pinned here rather than taken from the host's /etc/mke2fs.conf,
 * so another build machine makes the same filesystem. GRUB 2.06 reads all
 * of them. */
static const char mke2fs_conf[] =
	"[defaults]\n"
	"\tbase_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr\n"
	"\tdefault_mntopts = acl,user_xattr\n"
	"\tenable_periodic_fsck = 0\n"
	"\tblocksize = 4096\n"
	"\tinode_size = 256\n"
	"\tinode_ratio = 16384\n"
	"[fs_types]\n"
	"\text4 = {\n"
	"\t\tfeatures = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize\n"
	"\t}\n"
	/* mke2fs adds a size class; define them as Debian's mke2fs.conf does
	 * (else it warns and uses the defaults). */
	"\tsmall = {\n\t\tinode_ratio = 4096\n\t}\n"
	"\tfloppy = {\n\t\tinode_ratio = 8192\n\t}\n"
	"\tbig = {\n\t\tinode_ratio = 32768\n\t}\n"
	"\thuge = {\n\t\tinode_ratio = 65536\n\t}\n";

/* Prepare out_path: a regular file becomes a sparse file of size bytes; a
 * block device must be at least that big. */
static int prepare_target(const char *path, uint64_t offset, uint64_t size)
{
	struct stat st;
	uint64_t have;
	int fd, r = 0;

	/* In place (offset > 0): the disk exists and holds the partition. */
	fd = open_regular(AT_FDCWD, path, (offset ? O_RDWR : O_WRONLY | O_CREAT) | O_NOFOLLOW, 0644,
			  OPEN_REG_BLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
	} else if (offset) {
		r = disk_size_fd(fd, &have);
		if (r == 0 && have < offset + size)
			r = -ENOSPC;
	} else if (S_ISREG(st.st_mode)) {
		if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)size) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

/* Runs debugfs -f script on img; fails on any stderr line except the
 * banner. stdout goes to out_path (may be NULL: discarded to a file). */
static int run_debugfs(const char *img, int writable, const char *script_path,
		       const char *out_path, const char *err_path, const char *const env[],
		       char *why, size_t whylen)
{
	const char *argv[] = { "debugfs", writable ? "-w" : "-f", writable ? "-f" : script_path,
			       writable ? script_path : img, writable ? img : NULL, NULL };
	struct run_opts o = { env, "/dev/null", out_path, err_path };
	char *err = NULL, *line, *save = NULL;
	size_t len;
	int r;

	r = run_argv_ex(argv, &o);
	if (read_file(err_path, 1u << 20, &err, &len) < 0) {
		free(err);
		err = NULL;
	}
	for (line = err ? strtok_r(err, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "debugfs ", 8))
			continue; /* "debugfs 1.47.0 (5-Feb-2023)" */
		img_say(why, whylen, "debugfs: %s", line);
		r = r < 0 ? r : -SPACE_E_CHILD;
		break;
	}
	if (r == -SPACE_E_CHILD && (!why || !*why))
		img_say(why, whylen, "debugfs failed");
	free(err);
	return r;
}

int fs_make_ext4(const struct ext4_params *p)
{
	char uuid[37], size_k[32], *conf = NULL, *env_fake = NULL, *env_conf = NULL;
	char *ls_script = NULL, *ls_out = NULL, *apply = NULL, *errf = NULL;
	char *scr1 = NULL, *scr2 = NULL, *opts = NULL, *text = NULL, *dev = NULL;
	struct tree_list tree = { NULL, 0, 0 };
	struct attr_list attrs = { NULL, 0 };
	size_t len;
	int r;

	if (p->detail && p->detail_len)
		p->detail[0] = '\0';
	if (!p->out_path || !p->label || !p->work_dir || p->size < (8u << 20) || p->size % 4096 ||
	    p->offset % 4096)
		return -EINVAL;
	if (p->offset && strchr(p->out_path, '?')) {
		/* e2fsprogs reads "name?offset=N": a '?' in the name breaks it */
		img_say(p->detail, p->detail_len, "%s: '?' in the path", p->out_path);
		return -EINVAL;
	}
	guid_to_str_lower(&p->uuid, uuid);
	snprintf(size_k, sizeof(size_k), "%lluk", (unsigned long long)(p->size / 1024));
	conf = xasprintf("%s/mke2fs.conf", p->work_dir);
	env_fake = xasprintf("E2FSPROGS_FAKE_TIME=%lld", p->epoch);
	env_conf = xasprintf("MKE2FS_CONFIG=%s", conf ? conf : "");
	scr1 = xasprintf("%s/%s.ls", p->work_dir, p->label);
	scr2 = xasprintf("%s/%s.debugfs", p->work_dir, p->label);
	ls_out = xasprintf("%s/%s.ls.out", p->work_dir, p->label);
	errf = xasprintf("%s/%s.err", p->work_dir, p->label);
	/* no_copy_xattrs: the build host's xattrs (SELinux labels, user.*)
	 * would make the image depend on the machine that built it. */
	opts = xasprintf("hash_seed=%s,root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0,"
			 "no_copy_xattrs,offset=%llu",
			 uuid, (unsigned long long)p->offset);
	dev = p->offset ? xasprintf("%s?offset=%llu", p->out_path, (unsigned long long)p->offset)
			: strdup(p->out_path);
	if (!conf || !env_fake || !env_conf || !scr1 || !scr2 || !ls_out || !errf || !opts || !dev) {
		r = -ENOMEM;
		goto out;
	}
	const char *const env[] = { env_fake, env_conf, "LC_ALL=C", "TZ=UTC", NULL };

	/* Check the inputs before spending time on mke2fs. */
	if (p->attrs_path) {
		r = attrs_load(p->attrs_path, &attrs, p->detail, p->detail_len);
		if (r < 0) {
			char tmp[256];
			snprintf(tmp, sizeof(tmp), "%s", p->detail ? p->detail : "");
			img_say(p->detail, p->detail_len, "attrs %s: %s", p->attrs_path, tmp);
			goto out;
		}
	}
	if (p->tree) {
		r = tree_walk(p->tree, &tree, p->detail, p->detail_len);
		if (r < 0)
			goto out;
		/* Not exact (metadata, journal), but catches the common case
		 * with a clear message instead of mke2fs's. */
		if (tree.bytes > p->size) {
			img_say(p->detail, p->detail_len,
				"tree %s (%llu MiB) does not fit in %llu MiB", p->tree,
				(unsigned long long)(tree.bytes >> 20),
				(unsigned long long)(p->size >> 20));
			r = -ENOSPC;
			goto out;
		}
	}
	/* Validate attrs against the tree now (inode numbers come later). */
	for (size_t i = 0; i < tree.n; i++)
		tree.v[i].ino = 1;
	r = attrs_script_apply(&tree, &attrs, p->epoch, &apply, p->detail, p->detail_len);
	free(apply);
	apply = NULL;
	if (r < 0)
		goto out;

	r = write_file_atomic(conf, mke2fs_conf, sizeof(mke2fs_conf) - 1, 0644);
	if (r < 0)
		goto out;
	r = prepare_target(p->out_path, p->offset, p->size);
	if (r < 0) {
		img_say(p->detail, p->detail_len, "%s: %s", p->out_path, space_strerror(r));
		goto out;
	}
	{
		const char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-U", uuid, "-E", opts,
				       "-L", p->label, "-d", p->tree, p->out_path, size_k, NULL };
		if (!p->tree) { /* drop "-d TREE" */
			argv[11] = p->out_path;
			argv[12] = size_k;
			argv[13] = NULL;
		}
		r = img_run(argv, env, NULL, errf, p->detail, p->detail_len);
		if (r < 0)
			goto out;
	}

	if (tree.n) {
		ls_script = attrs_script_lsdirs(&tree);
		if (!ls_script) {
			r = -ENOMEM;
			goto out;
		}
		r = write_file_atomic(scr1, ls_script, strlen(ls_script), 0644);
		if (r < 0)
			goto out;
		r = run_debugfs(dev, 0, scr1, ls_out, errf, env, p->detail, p->detail_len);
		if (r < 0)
			goto out;
		r = read_file(ls_out, 1u << 30, &text, &len);
		if (r < 0)
			goto out;
		r = attrs_parse_lsdirs(&tree, text, p->detail, p->detail_len);
		if (r < 0)
			goto out;
	}
	r = attrs_script_apply(&tree, &attrs, p->epoch, &apply, p->detail, p->detail_len);
	if (r < 0)
		goto out;
	r = write_file_atomic(scr2, apply, strlen(apply), 0644);
	if (r < 0)
		goto out;
	r = run_debugfs(dev, 1, scr2, "/dev/null", errf, env, p->detail, p->detail_len);
out:
	tree_free(&tree);
	attrs_free(&attrs);
	free(conf);
	free(env_fake);
	free(env_conf);
	free(ls_script);
	free(ls_out);
	free(apply);
	free(errf);
	free(scr1);
	free(scr2);
	free(opts);
	free(dev);
	free(text);
	return r;
}
