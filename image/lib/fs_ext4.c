/* SPDX-License-Identifier: MIT */
/* fs_ext4.c - reproducible ext4 without root; see fs.h.
 *
 * e2fsprogs 1.47.0 (Debian 12) ignores SOURCE_DATE_EPOCH and copies each
 * source file's ctime (which nobody can set), so identical trees created at
 * different times gave different images: debugfs rewrites every inode's
 * times afterwards. debugfs -f exits 0 even when a command fails, so its
 * stderr is captured and any line but the version banner is an error. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
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
		       struct space_err *err)
{
	const char *argv[] = { "debugfs", writable ? "-w" : "-f", writable ? "-f" : script_path,
			       writable ? script_path : img, writable ? img : NULL, NULL };
	struct run_opts o = { env, "/dev/null", out_path, err_path };
	char *msgs = NULL, *line, *save = NULL;
	size_t len;
	int r;

	r = run_argv_ex(argv, &o);
	if (read_file(err_path, 1u << 20, &msgs, &len) < 0) {
		free(msgs);
		msgs = NULL;
	}
	for (line = msgs ? strtok_r(msgs, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "debugfs ", 8))
			continue; /* "debugfs 1.47.0 (5-Feb-2023)" */
		r = err_set(err, r < 0 ? r : -SPACE_E_CHILD, "debugfs: %s", line);
		break;
	}
	if (r == -SPACE_E_CHILD && err && !err->msg[0])
		err_set(err, r, "debugfs failed");
	free(msgs);
	return r;
}

/* What fs_make_ext4()'s phases share: the parameters, the work files and
 * the environment of e2fsprogs, the tree and its attributes. */
struct ext4_job {
	const struct ext4_params *p;
	struct space_err *err;
	char uuid[37], size_k[32];
	char *conf, *env_fake, *env_conf, *scr1, *scr2, *ls_out, *errf, *opts, *dev;
	const char *env[5];
	struct tree_list tree;
	struct attr_list attrs;
};

static int job_init(struct ext4_job *j, const struct ext4_params *p)
{
	j->p = p;
	guid_to_str_lower(&p->uuid, j->uuid);
	snprintf(j->size_k, sizeof(j->size_k), "%lluk", (unsigned long long)(p->size / 1024));
	j->conf = xasprintf("%s/mke2fs.conf", p->work_dir);
	j->env_fake = xasprintf("E2FSPROGS_FAKE_TIME=%lld", p->epoch);
	j->env_conf = xasprintf("MKE2FS_CONFIG=%s", j->conf ? j->conf : "");
	j->scr1 = xasprintf("%s/%s.ls", p->work_dir, p->label);
	j->scr2 = xasprintf("%s/%s.debugfs", p->work_dir, p->label);
	j->ls_out = xasprintf("%s/%s.ls.out", p->work_dir, p->label);
	j->errf = xasprintf("%s/%s.err", p->work_dir, p->label);
	/* no_copy_xattrs: the build host's xattrs (SELinux labels, user.*)
	 * would make the image depend on the machine that built it. */
	j->opts = xasprintf("hash_seed=%s,root_owner=0:0,lazy_itable_init=%d,lazy_journal_init=0,"
			    "no_copy_xattrs,offset=%llu",
			    j->uuid, p->lazy_itable ? 1 : 0, (unsigned long long)p->offset);
	j->dev = p->offset ? xasprintf("%s?offset=%llu", p->out_path, (unsigned long long)p->offset) : strdup(p->out_path);
	j->env[0] = j->env_fake;
	j->env[1] = j->env_conf;
	j->env[2] = "LC_ALL=C";
	j->env[3] = "TZ=UTC";
	j->env[4] = NULL;
	if (!j->conf || !j->env_fake || !j->env_conf || !j->scr1 || !j->scr2 || !j->ls_out || !j->errf ||
	    !j->opts || !j->dev)
		return -ENOMEM;
	return 0;
}

static void job_free(struct ext4_job *j)
{
	tree_free(&j->tree);
	attrs_free(&j->attrs);
	free(j->conf);
	free(j->env_fake);
	free(j->env_conf);
	free(j->ls_out);
	free(j->errf);
	free(j->scr1);
	free(j->scr2);
	free(j->opts);
	free(j->dev);
}

/* Check the inputs before spending time on mke2fs: the attributes load,
 * the tree fits, and the attributes name only what the tree holds. */
static int check_inputs(struct ext4_job *j)
{
	const struct ext4_params *p = j->p;
	char *apply = NULL;
	int r;

	if (p->attrs_path) {
		r = attrs_load(p->attrs_path, &j->attrs, j->err);
		if (r < 0)
			return err_prefix(j->err, r, "attrs %s", p->attrs_path);
	}
	if (p->tree) {
		r = tree_walk(p->tree, &j->tree, j->err);
		if (r < 0)
			return r;
		/* Not exact (metadata, journal), but catches the common case
		 * with a clear message instead of mke2fs's. */
		if (j->tree.bytes > p->size) {
			return err_set(j->err, -ENOSPC, "tree %s (%llu MiB) does not fit in %llu MiB", p->tree,
				       (unsigned long long)(j->tree.bytes >> 20), (unsigned long long)(p->size >> 20));
		}
	}
	/* Validate attrs against the tree now (inode numbers come later). */
	for (size_t i = 0; i < j->tree.n; i++)
		j->tree.v[i].ino = 1;
	r = attrs_script_apply(&j->tree, &j->attrs, p->epoch, &apply, j->err);
	free(apply);
	return r;
}

/* mke2fs with the pinned configuration, filled from the tree. */
static int run_mke2fs(struct ext4_job *j)
{
	const struct ext4_params *p = j->p;
	const char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-U", j->uuid, "-E", j->opts,
			       "-L", p->label, "-d", p->tree, p->out_path, j->size_k, NULL };
	int r = write_file_atomic(j->conf, mke2fs_conf, sizeof(mke2fs_conf) - 1, 0644);

	if (r < 0)
		return r;
	r = prepare_target(p->out_path, p->offset, p->size);
	if (r < 0) {
		return err_set(j->err, r, "%s: %s", p->out_path, space_strerror(r));
	}
	if (!p->tree) { /* drop "-d TREE" */
		argv[11] = p->out_path;
		argv[12] = j->size_k;
		argv[13] = NULL;
	}
	return img_run(argv, j->env, NULL, j->errf, j->err);
}

/* The inode numbers mke2fs gave the tree's files, listed by debugfs. */
static int read_inodes(struct ext4_job *j)
{
	char *ls_script, *text = NULL;
	size_t len;
	int r;

	if (!j->tree.n)
		return 0;
	ls_script = attrs_script_lsdirs(&j->tree);
	if (!ls_script)
		return -ENOMEM;
	r = write_file_atomic(j->scr1, ls_script, strlen(ls_script), 0644);
	if (r >= 0)
		r = run_debugfs(j->dev, 0, j->scr1, j->ls_out, j->errf, j->env, j->err);
	if (r >= 0)
		r = read_file(j->ls_out, 1u << 30, &text, &len);
	if (r >= 0)
		r = attrs_parse_lsdirs(&j->tree, text, j->err);
	free(ls_script);
	free(text);
	return r;
}

/* Owners, modes, device nodes and fixed times, set by debugfs. */
static int apply_attrs(struct ext4_job *j)
{
	const struct ext4_params *p = j->p;
	char *apply = NULL;
	int r = attrs_script_apply(&j->tree, &j->attrs, p->epoch, &apply, j->err);

	if (r >= 0)
		r = write_file_atomic(j->scr2, apply, strlen(apply), 0644);
	if (r >= 0)
		r = run_debugfs(j->dev, 1, j->scr2, "/dev/null", j->errf, j->env, j->err);
	free(apply);
	return r;
}

/* e2fsprogs reads "name?offset=N": a '?' in the name breaks it. */
static bool offset_path_ok(const char *path, uint64_t offset)
{
	return !offset || !strchr(path, '?');
}

/* A name debugfs reads as one word, unchanged: it splits at whitespace,
 * takes '"' as quoting (a"b"c is abc) and reads its script line by line. */
static bool debugfs_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s == '"' || *s == ' ' || iscntrl((unsigned char)*s))
			return false;
	return true;
}

int fs_make_ext4(const struct ext4_params *p, struct space_err *err)
{
	struct ext4_job j = { .err = err, .tree = { NULL, 0, 0 }, .attrs = { NULL, 0 } };
	int r;

	err_clear(err);
	if (!p->out_path || !p->label || !p->work_dir || p->size < (8u << 20) || p->size % 4096 ||
	    p->offset % 4096)
		return -EINVAL;
	if (!offset_path_ok(p->out_path, p->offset)) {
		return err_set(err, -EINVAL, "%s: '?' in the path", p->out_path);
	}
	r = job_init(&j, p);
	if (r >= 0)
		r = check_inputs(&j);
	if (r >= 0)
		r = run_mke2fs(&j);
	if (r >= 0)
		r = read_inodes(&j);
	if (r >= 0)
		r = apply_attrs(&j);
	job_free(&j);
	return r;
}

/* Any debugfs complaint fails it, "mkdir" of an existing directory too:
 * it is meant for a filesystem just made. */
int fs_ext4_add_file(const char *dev, uint64_t offset, const char *src, const char *dir, const char *name,
		     const char *work_dir, struct space_err *err)
{
	char *img = offset ? xasprintf("%s?offset=%llu", dev, (unsigned long long)offset) : strdup(dev);
	char *scr = xasprintf("%s/add-file.debugfs", work_dir), *errf = xasprintf("%s/add-file.err", work_dir);
	char *text = xasprintf("mkdir %s\nwrite %s %s/%s\nsif %s/%s mode 0100640\nsif %s/%s uid 0\nsif %s/%s gid 0\n",
			       dir, src, dir, name, dir, name, dir, name, dir, name);
	const char *env[] = { "LC_ALL=C", NULL };
	int r = img && scr && errf && text ? 0 : -ENOMEM;

	/* what debugfs would split or unquote would name another file */
	if (r == 0 && (!debugfs_word(src) || !debugfs_word(dir) || !debugfs_word(name) || strchr(dir, '/') ||
		       strchr(name, '/') || !offset_path_ok(dev, offset))) {
		r = err_set(err, -EINVAL, "%s, %s/%s: a name debugfs would not read as it is", src, dir, name);
	}
	if (r == 0)
		r = write_file_atomic(scr, text, strlen(text), 0644);
	if (r == 0)
		r = run_debugfs(img, 1, scr, "/dev/null", errf, env, err);
	if (scr)
		unlink(scr);
	if (errf)
		unlink(errf);
	free(img);
	free(scr);
	free(errf);
	free(text);
	return r;
}
