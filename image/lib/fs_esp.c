/* SPDX-License-Identifier: MIT */
/* fs_esp.c - reproducible FAT ESP without root; see fs.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "run_ex.h"
#include "imgutil.h"
#include "util.h"

static int set_times_at(int dfd, const char *name, const struct timespec ts[2], int depth)
{
	struct stat st;
	int r = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		struct dirent *de;
		DIR *d;
		int fd;

		if (depth > 64)
			return -ELOOP;
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		d = fdopendir(fd);
		if (!d) {
			close(fd);
			return -errno;
		}
		while (r == 0 && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				r = set_times_at(dirfd(d), de->d_name, ts, depth + 1);
		closedir(d);
		if (r < 0)
			return r;
	}
	/* Children first: touching a child does not change the parent's
	 * mtime, but creating files would, so the parent is set last. */
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	return 0;
}

int fs_set_tree_times(const char *path, long long epoch)
{
	struct timespec ts[2] = { { (time_t)epoch, 0 }, { (time_t)epoch, 0 } };

	return set_times_at(AT_FDCWD, path, ts, 0);
}

struct esp_copy {
	const struct esp_params *p;
	const char *const *env;
	const char *errf;
	const char *skel; /* scratch: empty copies of the directories */
	unsigned nskel;
	struct space_err *err;
};

/* Copies stage_dir/rel into ::/rel one entry at a time, in sorted order.
 * Why not one `mcopy -s`: it recurses in readdir order, which differs
 * between filesystems (tmpfs lists newest first), and the FAT directory
 * order would follow. A directory is made by `mcopy -s -m` of an empty
 * directory of the same name (mmd would stamp it with the clock). */
static int esp_copy_dir(struct esp_copy *c, const char *rel, int depth)
{
	const struct esp_params *p = c->p;
	char **names = NULL, *dir = NULL;
	size_t n = 0;
	DIR *d = NULL;
	int r;

	if (depth > 16)
		return -ELOOP;
	dir = *rel ? xasprintf("%s/%s", p->stage_dir, rel) : strdup(p->stage_dir);
	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		r = -errno;
		goto out;
	}
	r = img_read_names(d, &names, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		char *src = xasprintf("%s/%s", dir, names[i]);
		char *sub = *rel ? xasprintf("%s/%s", rel, names[i]) : strdup(names[i]);
		char *dst = NULL, *sk = NULL;
		struct stat st;

		if (!src || !sub) {
			r = -ENOMEM;
		} else if (lstat(src, &st) < 0) {
			r = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			dst = xasprintf("::/%s", rel);
			sk = xasprintf("%s/%u/%s", c->skel, c->nskel++, names[i]);
			r = dst && sk ? mkdir_p(sk, 0755) : -ENOMEM;
			if (r == 0)
				r = fs_set_tree_times(sk, p->epoch);
			if (r == 0) {
				const char *argv[] = { "mcopy", "-s", "-m", "-i", p->out_path, sk, dst, NULL };
				r = img_run(argv, c->env, NULL, c->errf, c->err);
			}
			if (r == 0)
				r = esp_copy_dir(c, sub, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			dst = xasprintf("::/%s", sub);
			if (!dst) {
				r = -ENOMEM;
			} else {
				const char *argv[] = { "mcopy", "-m", "-i", p->out_path, src, dst, NULL };
				r = img_run(argv, c->env, NULL, c->errf, c->err);
			}
		} else {
			r = err_set(c->err, -EINVAL, "%s: not a file or directory", src);
		}
		free(src);
		free(sub);
		free(dst);
		free(sk);
	}
out:
	if (d)
		closedir(d);
	img_free_names(names, n);
	free(dir);
	return r;
}

int fs_make_esp(const struct esp_params *p, struct space_err *err)
{
	char volid[16], blocks[32], *env_sde = NULL, *errf = NULL, *skel = NULL;
	struct stat st;
	int is_blk = 0, r;

	err_clear(err);
	if (!p->out_path || !p->stage_dir || !p->label)
		return -EINVAL;
	if (p->size < FS_ESP_MIN) {
		return err_set(err, -ENOSPC, "an ESP (FAT32) needs at least %u MiB",
			       (unsigned)(FS_ESP_MIN >> 20));
	}
	r = fs_set_tree_times(p->stage_dir, p->epoch);
	if (r < 0) {
		return err_set(err, r, "%s: %s", p->stage_dir, space_strerror(r));
	}
	if (lstat(p->out_path, &st) == 0 && S_ISBLK(st.st_mode))
		is_blk = 1;
	else if (unlink(p->out_path) < 0 && errno != ENOENT)
		return -errno;
	snprintf(volid, sizeof(volid), "%08X", p->volume_id);
	snprintf(blocks, sizeof(blocks), "%llu", (unsigned long long)(p->size / 1024));
	env_sde = xasprintf("SOURCE_DATE_EPOCH=%lld", p->epoch);
	errf = xasprintf("%s.err", p->out_path);
	if (!env_sde || !errf) {
		r = -ENOMEM;
		goto out;
	}
	const char *const env[] = { env_sde, "MTOOLS_SKIP_CHECK=1", "LC_ALL=C", "TZ=UTC", NULL };
	{
		/* --invariant pins what mkfs.fat would take from the clock or
		 * randomness; -i still sets our volume id. */
		const char *mkfs[] = { "mkfs.vfat", "--invariant", "-F", "32", "-S", "512",
				       "-i", volid, "-n", p->label, is_blk ? p->out_path : "-C",
				       is_blk ? blocks : p->out_path, is_blk ? NULL : blocks, NULL };
		r = img_run(mkfs, env, NULL, errf, err);
		if (r < 0)
			goto out;
	}
	skel = xasprintf("%s.skel", p->out_path);
	if (!skel) {
		r = -ENOMEM;
		goto out;
	}
	{
		struct esp_copy c = { p, env, errf, skel, 0, err };
		r = esp_copy_dir(&c, "", 0);
	}
	remove_tree(skel);
out:
	free(skel);
	free(env_sde);
	if (errf)
		unlink(errf);
	free(errf);
	return r;
}
