/* SPDX-License-Identifier: MIT */
/* backup.c - save and restore the paths a hot patch touches (backup.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup.h"
#include "fault.h"
#include "fdio.h"
#include "util.h"

#define RESTORE_TMP ".hprestore~"

int hp_paths_add(struct hp_paths *ps, const char *path)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		char **np;
		if (cap > HP_BACKUP_MAX_PATHS)
			return -E2BIG;
		if (!(np = realloc(ps->p, cap * sizeof(*np))))
			return -ENOMEM;
		ps->p = np;
		ps->cap = cap;
	}
	if (!(ps->p[ps->n] = strdup(path)))
		return -ENOMEM;
	ps->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void hp_paths_finish(struct hp_paths *ps)
{
	size_t j = 0;

	if (!ps->n)
		return;
	qsort(ps->p, ps->n, sizeof(*ps->p), cmp_str);
	for (size_t i = 1; i < ps->n; i++) {
		if (!strcmp(ps->p[i], ps->p[j]))
			free(ps->p[i]);
		else
			ps->p[++j] = ps->p[i];
	}
	ps->n = j + 1;
}

void hp_paths_free(struct hp_paths *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free(ps->p[i]);
	free(ps->p);
	memset(ps, 0, sizeof(*ps));
}

int hp_backup_size(const char *root, const struct hp_paths *ps, uint64_t *bytes)
{
	char p[PATH_MAX];
	struct stat st;

	*bytes = 0;
	for (size_t i = 0; i < ps->n; i++) {
		if (path_join(p, PATH_MAX, root, ps->p[i]) < 0)
			return -ENAMETOOLONG;
		if (lstat(p, &st) < 0) {
			if (errno != ENOENT && errno != ENOTDIR)
				return -errno;
		} else if (S_ISREG(st.st_mode)) {
			*bytes += (uint64_t)st.st_size;
		}
	}
	return 0;
}

/* mkdir -p of the parent of path (below a directory this tool owns). */
static int make_parent(const char *path)
{
	char d[PATH_MAX];
	char *slash;

	snprintf(d, sizeof(d), "%s", path);
	if (!(slash = strrchr(d, '/')) || slash == d)
		return 0;
	*slash = 0;
	return mkdir_p(d, 0700);
}

/* One path's state: its index line, and its content into files/. */
static int save_one(const char *root, const char *rel, const char *files, FILE *idx, unsigned *nfiles)
{
	char src[PATH_MAX], dst[PATH_MAX], target[PATH_MAX];
	struct stat st;
	ssize_t n;
	int r;

	if ((r = path_join(src, PATH_MAX, root, rel)) < 0 || (r = path_join(dst, PATH_MAX, files, rel)) < 0)
		return r;
	if (lstat(src, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		fprintf(idx, "- 0 0 0 %s\n", rel);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(idx, "d %04o %u %u %s\n", (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
			(unsigned)st.st_gid, rel);
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return -SPACE_E_NOT_REG;
	if ((r = make_parent(dst)) < 0)
		return r;
	if (S_ISLNK(st.st_mode)) {
		if ((n = readlink(src, target, sizeof(target) - 1)) < 0)
			return -errno;
		target[n] = 0;
		if (symlink(target, dst) < 0)
			return -errno;
	} else {
		/* a failure injected after the first file: a backup cut short
		 * by a full /var, with part of it written */
		if (++*nfiles == 2 && (r = hp_fault("backup-copy")) < 0)
			return r;
		if ((r = file_copy(src, dst, 0600)) < 0)
			return r;
	}
	fprintf(idx, "%c %04o %u %u %s\n", S_ISLNK(st.st_mode) ? 'l' : 'f', (unsigned)(st.st_mode & 07777),
		(unsigned)st.st_uid, (unsigned)st.st_gid, rel);
	return 0;
}

/* Is a directory above rel in root a symlink? pkg installs nothing
 * through one, and a backup of such a path would follow it twice: reading
 * the root through it, and writing into files/ through the copy of the link
 * saved just before (sorted first): outside the backup, or over the very
 * file it reads. 1, with the link's length in *len. */
static int below_symlink(const char *root, const char *rel, size_t *len)
{
	char pre[PATH_MAX], p[PATH_MAX];
	struct stat st;

	for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
		*len = (size_t)(s - rel);
		snprintf(pre, sizeof(pre), "%.*s", (int)*len, rel);
		if (path_join(p, PATH_MAX, root, pre) == 0 && lstat(p, &st) == 0 && S_ISLNK(st.st_mode))
			return 1;
	}
	return 0;
}

/* fsync the file at path (an index, a backup's directory). */
static int sync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (syncfs(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int hp_backup_save(const char *root, const struct hp_paths *ps, const char *dir, struct space_err *err)
{
	char files[PATH_MAX], index[PATH_MAX], *text = NULL;
	size_t len = 0;
	unsigned nfiles = 0;
	FILE *idx = open_memstream(&text, &len);
	int r;

	err_clear(err);
	if (!idx)
		return -ENOMEM;
	if (mkdir(dir, 0700) < 0) {
		r = -errno;
		err_set(err, r, "%s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(files, sizeof(files), "%s/" HP_BACKUP_FILES, dir);
	snprintf(index, sizeof(index), "%s/" HP_BACKUP_INDEX, dir);
	if (mkdir(files, 0700) < 0) {
		r = -errno;
		goto out;
	}
	for (size_t i = 0; i < ps->n; i++) {
		size_t k;
		if (below_symlink(root, ps->p[i], &k)) {
			r = -SPACE_E_UNSAFE_PATH;
			err_set(err, r, "%s: reached through the symlink %.*s", ps->p[i], (int)k, ps->p[i]);
			goto out;
		}
		if ((r = save_one(root, ps->p[i], files, idx, &nfiles)) < 0) {
			err_set(err, r, "%s: %s", ps->p[i], space_strerror(r));
			goto out;
		}
	}
	if (fclose(idx) != 0) {
		idx = NULL;
		r = -ENOMEM;
		goto out;
	}
	idx = NULL;
	/* the files first, then the index that makes the backup whole */
	if ((r = sync_path(dir, O_DIRECTORY)) < 0 || (r = write_file_atomic(index, text, len, 0600)) < 0)
		err_set(err, r, "%s: %s", dir, space_strerror(r));
out:
	if (idx)
		fclose(idx);
	free(text);
	return r;
}

/* ------------------------------------------------------------ restore */

struct ent {
	char type;
	unsigned mode, uid, gid;
	const char *path;
};

/* A path of the index: relative, without an empty, "." or ".." component
 * (a name that merely holds "..", "a..b", is a package's legal path). */
static bool rel_ok(const char *path)
{
	for (const char *c = path;;) {
		size_t n = strcspn(c, "/");
		if (!n || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (!c[n])
			return true;
		c += n + 1;
	}
}

/* Parse the index text in place into *ents. */
static int parse_index(char *text, struct ent **ents, size_t *n)
{
	size_t cap = 0;
	char *line, *save = NULL;

	*ents = NULL;
	*n = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct ent e;
		int off = 0;
		if (sscanf(line, "%c %o %u %u %n", &e.type, &e.mode, &e.uid, &e.gid, &off) != 4 || !off ||
		    !strchr("fld-", e.type) || !rel_ok(line + off))
			return -SPACE_E_FORMAT;
		e.path = line + off;
		if (*n == cap) {
			struct ent *ne;
			cap = cap ? cap * 2 : 64;
			if (cap > HP_BACKUP_MAX_PATHS || !(ne = realloc(*ents, cap * sizeof(*ne))))
				return -ENOMEM;
			*ents = ne;
		}
		(*ents)[(*n)++] = e;
	}
	return 0;
}

static int restore_dir(const char *p, const struct ent *e, bool do_chown)
{
	struct stat st;

	if (mkdir(p, e->mode) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(p, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (do_chown && lchown(p, e->uid, e->gid) < 0)
		return -errno;
	return chmod(p, e->mode) < 0 ? -errno : 0;
}

/* A file or symlink: beside its path under a temporary name, then renamed
 * over it (each path is either the patch's or the backup's, never torn). */
static int restore_file(const char *p, const char *saved, const struct ent *e, bool do_chown)
{
	char tmp[PATH_MAX], target[PATH_MAX];
	const char *slash = strrchr(p, '/');
	ssize_t n;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%.*s/" RESTORE_TMP "%s", (int)(slash - p), p, slash + 1) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	if (e->type == 'l') {
		if ((n = readlink(saved, target, sizeof(target) - 1)) < 0)
			return -errno;
		target[n] = 0;
		if (symlink(target, tmp) < 0)
			return -errno;
	} else if ((r = file_copy(saved, tmp, 0600)) < 0) {
		goto fail;
	}
	if (do_chown && lchown(tmp, e->uid, e->gid) < 0) {
		r = -errno;
		goto fail;
	}
	if (e->type == 'f' && chmod(tmp, e->mode) < 0) {
		r = -errno;
		goto fail;
	}
	if (rename(tmp, p) < 0) {
		r = -errno;
		goto fail;
	}
	hp_crash("restore-file"); /* a restore cut half-way */
	return 0;
fail:
	unlink(tmp);
	return r;
}

static int restore_absent(const char *p)
{
	struct stat st;

	if (lstat(p, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		/* a directory the patch made that holds something else now
		 * stays: the files in it are not the patch's */
		return rmdir(p) < 0 && errno != ENOTEMPTY && errno != EEXIST ? -errno : 0;
	return unlink(p) < 0 ? -errno : 0;
}

int hp_backup_restore(const char *root, const char *dir, bool do_chown, struct space_err *err)
{
	char index[PATH_MAX], p[PATH_MAX], saved[PATH_MAX], files[PATH_MAX], *text = NULL;
	struct ent *e = NULL;
	size_t len, n = 0;
	int r;

	err_clear(err);
	snprintf(index, sizeof(index), "%s/" HP_BACKUP_INDEX, dir);
	snprintf(files, sizeof(files), "%s/" HP_BACKUP_FILES, dir);
	if ((r = read_file(index, 64u << 20, &text, &len)) < 0 || (r = parse_index(text, &e, &n)) < 0) {
		err_set(err, r, "%s: %s", index, r == -SPACE_E_FORMAT ? "damaged backup index" : space_strerror(r));
		goto out;
	}
	for (int pass = 0; pass < 3; pass++) {
		for (size_t k = 0; k < n; k++) {
			/* directories in path order (parents first); files; the
			 * absent ones in reverse order (children first) */
			const struct ent *x = &e[pass == 2 ? n - 1 - k : k];
			if ((pass == 0) != (x->type == 'd') || (pass == 2) != (x->type == '-') ||
			    (pass == 1 && x->type != 'f' && x->type != 'l'))
				continue;
			if ((r = path_join(p, PATH_MAX, root, x->path)) < 0 || (r = path_join(saved, PATH_MAX, files, x->path)) < 0)
				goto fail;
			r = pass == 0 ? restore_dir(p, x, do_chown) : pass == 1 ? restore_file(p, saved, x, do_chown) :
										  restore_absent(p);
			if (r < 0)
				goto fail;
			continue;
fail:
			err_set(err, r, "%s: %s", x->path, space_strerror(r));
			goto out;
		}
	}
	r = sync_path(root, O_DIRECTORY);
	if (r < 0)
		err_set(err, r, "%s: %s", root, space_strerror(r));
out:
	free(e);
	free(text);
	return r;
}
