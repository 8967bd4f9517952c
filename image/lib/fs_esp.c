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

void fs_fat_serial_str(uint32_t v, char out[10])
{
	snprintf(out, 10, "%04X-%04X", (unsigned)(v >> 16), (unsigned)(v & 0xFFFF));
}

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

int fs_make_esp(const struct esp_params *p)
{
	char volid[16], blocks[32], *env_sde = NULL, *errf = NULL, **names = NULL;
	const char **argv = NULL;
	size_t n = 0;
	struct stat st;
	int is_blk = 0, r;
	DIR *d = NULL;

	if (p->detail && p->detail_len)
		p->detail[0] = '\0';
	if (!p->out_path || !p->stage_dir || !p->label)
		return -EINVAL;
	if (p->size < FS_ESP_MIN) {
		img_say(p->detail, p->detail_len, "an ESP (FAT32) needs at least %u MiB",
			(unsigned)(FS_ESP_MIN >> 20));
		return -ENOSPC;
	}
	r = fs_set_tree_times(p->stage_dir, p->epoch);
	if (r < 0) {
		img_say(p->detail, p->detail_len, "%s: %s", p->stage_dir, space_strerror(r));
		return r;
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
		r = img_run(mkfs, env, NULL, errf, p->detail, p->detail_len);
		if (r < 0)
			goto out;
	}
	/* mcopy -s -m -i IMG STAGE/<each entry> ::/ (sorted: same order, same
	 * directory layout every time). */
	d = opendir(p->stage_dir);
	if (!d) {
		r = -errno;
		goto out;
	}
	r = img_read_names(d, &names, &n);
	if (r < 0)
		goto out;
	if (!n)
		goto out; /* nothing to copy: an empty ESP */
	argv = calloc(n + 8, sizeof(*argv));
	if (!argv) {
		r = -ENOMEM;
		goto out;
	}
	{
		size_t a = 0;
		argv[a++] = "mcopy";
		argv[a++] = "-s";
		argv[a++] = "-m";
		argv[a++] = "-i";
		argv[a++] = p->out_path;
		for (size_t i = 0; i < n; i++) {
			/* names are relative to stage_dir: make them paths */
			char *full = xasprintf("%s/%s", p->stage_dir, names[i]);
			if (!full) {
				r = -ENOMEM;
				goto out;
			}
			free(names[i]);
			names[i] = full;
			argv[a++] = names[i];
		}
		argv[a++] = "::/";
		argv[a] = NULL;
	}
	r = img_run(argv, env, NULL, errf, p->detail, p->detail_len);
out:
	if (d)
		closedir(d);
	img_free_names(names, n);
	free(argv);
	free(env_sde);
	if (errf)
		unlink(errf);
	free(errf);
	return r;
}
