/* SPDX-License-Identifier: MIT */
/* hk.c - housekeeping: rotation, age purge and disk guard. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "hk.h"
#include "kv.h"
#include "util.h"

#define HK_MAX_DEPTH 4

void hk_policy_default(struct hk_policy *p)
{
	p->log_dir = "/var/log";
	p->rotate_size = 1024 * 1024;
	p->rotate_keep = 5;
	p->purge_age = 30L * 86400;
	p->tmp_dir = "/tmp";
	p->tmp_age = 7L * 86400;
	p->high_pct = 90;
	p->log_max = 0;
	p->tmp_max = 0;
}

struct load_ctx {
	struct hk_policy *p;
	struct hk_store *s;
};

static int load_cb(void *ctx, const char *key, const char *value, int line)
{
	struct load_ctx *c = ctx;
	long long v;
	int r = 0;

	if (!strcmp(key, "log_dir") || !strcmp(key, "tmp_dir")) {
		char **slot = key[0] == 'l' ? &c->s->log_dir : &c->s->tmp_dir;
		free(*slot);
		if (!(*slot = strdup(value)))
			return -ENOMEM;
		if (key[0] == 'l')
			c->p->log_dir = *value ? *slot : NULL;
		else
			c->p->tmp_dir = *value ? *slot : NULL;
	} else if (!strcmp(key, "rotate_size")) {
		if (!(r = kv_int(value, 1, 1LL << 40, 0, &v)))
			c->p->rotate_size = v;
	} else if (!strcmp(key, "rotate_keep")) {
		if (!(r = kv_int(value, 1, 100, 0, &v)))
			c->p->rotate_keep = (int)v;
	} else if (!strcmp(key, "purge_age")) {
		if (!(r = kv_int(value, 0, 1LL << 32, 1, &v)))
			c->p->purge_age = (long)v;
	} else if (!strcmp(key, "tmp_age")) {
		if (!(r = kv_int(value, 0, 1LL << 32, 1, &v)))
			c->p->tmp_age = (long)v;
	} else if (!strcmp(key, "high_pct")) {
		if (!(r = kv_int(value, 1, 100, 0, &v)))
			c->p->high_pct = (int)v;
	} else if (!strcmp(key, "log_max")) {
		if (!(r = kv_int(value, 0, 1LL << 50, 0, &v)))
			c->p->log_max = v;
	} else if (!strcmp(key, "tmp_max")) {
		if (!(r = kv_int(value, 0, 1LL << 50, 0, &v)))
			c->p->tmp_max = v;
	} else {
		return -SPACE_E_FORMAT;
	}
	return r;
}

int hk_policy_load(const char *path, struct hk_policy *p, struct hk_store *store, int *errline)
{
	struct load_ctx c = { p, store };

	return kv_parse_file(path, 65536, load_cb, &c, errline);
}

void hk_policy_free(struct hk_store *store)
{
	free(store->log_dir);
	free(store->tmp_dir);
	store->log_dir = store->tmp_dir = NULL;
}

/* ------------------------------------------------------------ walking */

struct fent {
	char *rel;
	time_t mtime;
	long long size;
	int rotated;
};

struct flist {
	struct fent *v;
	size_t n;
};

static void flist_free(struct flist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

/* "x.log.<digits>" or "*.gz": a rotated (closed) log. */
static int is_rotated(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (ends_with(name, ".gz"))
		return 1;
	if (!dot || !dot[1] || dot - name < 4)
		return 0;
	for (const char *p = dot + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

typedef int (*walk_fn)(void *ctx, int dfd, const char *name, const char *rel, const struct stat *st);

static int walk(int dfd, const char *rel, dev_t dev, int depth, walk_fn fn, void *ctx)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d))) {
		struct stat st;
		char *sub;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		sub = rel[0] ? xasprintf("%s/%s", rel, e->d_name) : strdup(e->d_name);
		if (!sub) {
			r = -ENOMEM;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth < HK_MAX_DEPTH && st.st_dev == dev) {
				int cfd = openat(dirfd(d), e->d_name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				if (cfd >= 0)
					walk(cfd, sub, dev, depth + 1, fn, ctx);
			}
		} else {
			r = fn(ctx, dirfd(d), e->d_name, sub, &st);
		}
		free(sub);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

static int walk_root(const char *dir, walk_fn fn, void *ctx)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return walk(fd, "", st.st_dev, 0, fn, ctx);
}

/* Unlink root/rel, resolving each directory with O_NOFOLLOW so a swapped-in
 * symlink cannot redirect the deletion outside root. */
static int unlink_beneath(const char *root, const char *rel)
{
	char *copy = strdup(rel), *p, *slash;
	int fd, r;

	if (!copy)
		return -ENOMEM;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	for (p = copy; (slash = strchr(p, '/')); p = slash + 1) {
		int nfd;
		*slash = '\0';
		nfd = openat(fd, p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0) {
			r = -errno;
			fd = -1;
			goto out;
		}
		fd = nfd;
	}
	r = unlinkat(fd, p, 0) < 0 ? -errno : 0;
	close(fd);
out:
	free(copy);
	return r;
}

static int truncate_beneath(const char *root, const char *rel)
{
	char *path = xasprintf("%s/%s", root, rel);
	int fd, r = 0;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	free(path);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, 0) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* ------------------------------------------------------------ rotation */

int hk_rotate_file(const char *path, int keep)
{
	char *from = NULL, *to = NULL;
	int r = 0;

	if (keep < 1)
		keep = 1;
	to = xasprintf("%s.%d", path, keep);
	if (!to)
		return -ENOMEM;
	unlink(to);
	for (int i = keep - 1; i >= 1; i--) {
		free(from);
		from = xasprintf("%s.%d", path, i);
		if (!from) {
			r = -ENOMEM;
			goto out;
		}
		if (rename(from, to) < 0 && errno != ENOENT) {
			r = -errno;
			goto out;
		}
		free(to);
		to = from;
		from = NULL;
	}
	free(to);
	to = xasprintf("%s.1", path);
	if (!to) {
		r = -ENOMEM;
		goto out;
	}
	if (rename(path, to) < 0)
		r = -errno;
out:
	free(from);
	free(to);
	return r;
}

struct rot_ctx {
	const struct hk_policy *p;
	struct hk_report *rep;
};

static int rot_cb(void *ctx, int dfd, const char *name, const char *rel, const struct stat *st)
{
	struct rot_ctx *c = ctx;
	char *path;
	int r;

	if (!S_ISREG(st->st_mode) || !ends_with(name, ".log") || st->st_size <= c->p->rotate_size)
		return 0;
	path = xasprintf("%s/%s", c->p->log_dir, rel);
	if (!path)
		return -ENOMEM;
	r = hk_rotate_file(path, c->p->rotate_keep);
	if (r == 0) {
		c->rep->rotated++;
		space_log("housekeeping: rotated %s (%lld bytes)", path, (long long)st->st_size);
	}
	free(path);
	return 0;
}

int hk_rotate(const struct hk_policy *p, struct hk_report *rep)
{
	struct rot_ctx c = { p, rep };

	if (!p->log_dir)
		return 0;
	return walk_root(p->log_dir, rot_cb, &c);
}

/* ------------------------------------------------------------ purge */

struct list_ctx {
	struct flist *l;
	int only_rotated;
	int with_active;
};

static int list_cb(void *ctx, int dfd, const char *name, const char *rel, const struct stat *st)
{
	struct list_ctx *c = ctx;
	struct fent *nv;
	int rot = is_rotated(name);

	/* Sockets and fifos in /tmp belong to running programs; leave them. */
	if (!S_ISREG(st->st_mode) && !S_ISLNK(st->st_mode))
		return 0;
	if (c->only_rotated && !rot && !(c->with_active && ends_with(name, ".log")))
		return 0;
	nv = realloc(c->l->v, (c->l->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	c->l->v = nv;
	nv[c->l->n].rel = strdup(rel);
	if (!nv[c->l->n].rel)
		return -ENOMEM;
	nv[c->l->n].mtime = st->st_mtime;
	nv[c->l->n].size = S_ISREG(st->st_mode) ? (long long)st->st_size : 0;
	nv[c->l->n].rotated = rot;
	c->l->n++;
	return 0;
}

static int collect(const char *dir, int only_rotated, int with_active, struct flist *l)
{
	struct list_ctx c = { l, only_rotated, with_active };

	return walk_root(dir, list_cb, &c);
}

static int purge_old(const char *dir, int only_rotated, long age, time_t now, int *count,
		     long long *freed)
{
	struct flist l = { 0 };
	int r = collect(dir, only_rotated, 0, &l);

	for (size_t i = 0; r >= 0 && i < l.n; i++) {
		if (now - l.v[i].mtime < age)
			continue;
		if (unlink_beneath(dir, l.v[i].rel) == 0) {
			(*count)++;
			*freed += l.v[i].size;
			space_log("housekeeping: purged %s/%s", dir, l.v[i].rel);
		}
	}
	flist_free(&l);
	return r == -ENOENT ? 0 : r;
}

int hk_purge(const struct hk_policy *p, time_t now, struct hk_report *rep)
{
	int r = 0, r2 = 0;

	if (p->log_dir)
		r = purge_old(p->log_dir, 1, p->purge_age, now, &rep->purged_logs, &rep->freed);
	if (p->tmp_dir)
		r2 = purge_old(p->tmp_dir, 0, p->tmp_age, now, &rep->purged_tmp, &rep->freed);
	return r < 0 ? r : r2;
}

/* ------------------------------------------------------------ guard */

static int by_age(const void *a, const void *b)
{
	const struct fent *x = a, *y = b;

	/* rotated logs first, then oldest first, then biggest first */
	if (x->rotated != y->rotated)
		return y->rotated - x->rotated;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return (x->size < y->size) - (x->size > y->size);
}

static int fs_pct(const char *dir)
{
	struct statvfs vfs;

	if (statvfs(dir, &vfs) < 0 || !vfs.f_blocks)
		return -1;
	return (int)(100 - (100.0 * (double)vfs.f_bavail /
			    (double)(vfs.f_blocks - vfs.f_bfree + vfs.f_bavail)));
}

static long long total(const struct flist *l)
{
	long long t = 0;

	for (size_t i = 0; i < l->n; i++)
		t += l->v[i].size;
	return t;
}

/* Delete (or for live logs truncate) files, rotated and oldest first,
 * until dir is under its budget and its filesystem under high_pct. */
static int guard_dir(const char *dir, int is_log, long long budget, int high_pct, time_t now,
		     struct hk_report *rep)
{
	struct flist l = { 0 };
	long long sum;
	int r, pct;

	r = collect(dir, is_log, is_log, &l);
	if (r < 0) {
		flist_free(&l);
		return r == -ENOENT ? 0 : r;
	}
	sum = total(&l);
	pct = fs_pct(dir);
	if ((budget && sum > budget) || pct >= high_pct) {
		space_log("housekeeping: warning: %s is filling (%lld bytes, filesystem %d%% used)",
			  dir, sum, pct);
		qsort(l.v, l.n, sizeof(*l.v), by_age);
		for (size_t i = 0; i < l.n; i++) {
			if (!((budget && sum > budget) || fs_pct(dir) >= high_pct))
				break;
			/* A file written in the last minute may still be in use in /tmp. */
			if (!is_log && now - l.v[i].mtime < 60)
				continue;
			if (is_log && !l.v[i].rotated)
				r = truncate_beneath(dir, l.v[i].rel);
			else
				r = unlink_beneath(dir, l.v[i].rel);
			if (r == 0) {
				rep->guard_deleted++;
				if (!is_log)
					rep->guard_tmp++;
				else if (l.v[i].rotated)
					rep->guard_logs++;
				else
					rep->guard_truncated++;
				rep->freed += l.v[i].size;
				sum -= l.v[i].size;
				space_log("housekeeping: guard %s %s/%s",
					  is_log && !l.v[i].rotated ? "truncated" : "deleted", dir,
					  l.v[i].rel);
			}
		}
		r = 0;
		if ((budget && sum > budget) || fs_pct(dir) >= high_pct) {
			rep->warnings++;
			space_log("housekeeping: warning: %s still over its limit after purging", dir);
		}
	}
	flist_free(&l);
	return r;
}

int hk_guard(const struct hk_policy *p, time_t now, struct hk_report *rep)
{
	int r = 0, r2 = 0;

	if (p->log_dir)
		r = guard_dir(p->log_dir, 1, p->log_max, p->high_pct, now, rep);
	if (p->tmp_dir)
		r2 = guard_dir(p->tmp_dir, 0, p->tmp_max, p->high_pct, now, rep);
	return r < 0 ? r : r2;
}

int hk_run(const struct hk_policy *p, time_t now, struct hk_report *rep)
{
	int r1 = hk_rotate(p, rep), r2 = hk_purge(p, now, rep), r3 = hk_guard(p, now, rep);

	if (r1 == -ENOENT)
		r1 = 0;
	return r1 < 0 ? r1 : r2 < 0 ? r2 :
				      r3;
}
