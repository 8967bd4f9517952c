/* SPDX-License-Identifier: MIT */
/* fs.c - safe path resolution below an install root, streaming digests,
 * atomic small-file writes relative to a directory fd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fdio.h"
#include "internal.h"

#ifdef UNIT_TEST
void (*pkg_test_hook)(const char *point);
#endif

void pkg_hook(const char *point)
{
#ifdef UNIT_TEST
	if (pkg_test_hook)
		pkg_test_hook(point);
#else
	(void)point;
#endif
}

void pkg_walk_init(struct pkg_walk *w, int rootfd)
{
	w->rootfd = rootfd;
	w->pfd = -1;
	w->parent[0] = '\0';
	w->canon[0] = '\0';
	w->link[0] = '\0';
}

void pkg_walk_reset(struct pkg_walk *w)
{
	if (w->pfd >= 0)
		close(w->pfd);
	w->pfd = -1;
	w->parent[0] = '\0';
	w->canon[0] = '\0';
	w->link[0] = '\0';
}

#define WALK_MAX_DEPTH 256
#define WALK_MAX_HOPS 40

int pkg_resolve_dir(int rootfd, const char *rel)
{
	return pkg_resolve_dir_canon(rootfd, rel, NULL);
}

static int resolve_dir(int rootfd, const char *rel, char *canon, char *link);

int pkg_resolve_dir_canon(int rootfd, const char *rel, char *canon)
{
	return resolve_dir(rootfd, rel, canon, NULL);
}

/* Keep canon (may be NULL) the path of the directory st[depth] from the
 * root, as the walk descends, climbs and restarts at the root. */
static int canon_push(char *canon, const char *comp)
{
	size_t n = canon ? strlen(canon) : 0;

	if (!canon)
		return 0;
	if (n + 1 + strlen(comp) >= PATH_MAX)
		return -ENAMETOOLONG;
	if (n)
		canon[n++] = '/';
	strcpy(canon + n, comp);
	return 0;
}

static void canon_pop(char *canon)
{
	char *s = canon ? strrchr(canon, '/') : NULL;

	if (canon)
		*(s ? s : canon) = '\0';
}

/* The state of one resolve_dir() walk: the open directories from the root
 * (st[0] is rootfd, not owned), and what is left of the path to walk. */
struct resolver {
	int st[WALK_MAX_DEPTH];
	int depth, hops;
	const char *rel;
	char *rest, *p; /* rest: the path buffer; p: the next component in it */
	char *canon, *link;
};

/* The next path component (NUL-terminated in place), NULL at the end. */
static char *next_comp(struct resolver *w)
{
	char *comp, *slash;

	while (*w->p == '/')
		w->p++;
	if (!*w->p)
		return NULL;
	comp = w->p;
	slash = strchr(w->p, '/');
	if (slash) {
		*slash = '\0';
		w->p = slash + 1;
	} else {
		w->p += strlen(w->p);
	}
	return comp;
}

/* comp is a symlink: the rest of the walk becomes its target followed by
 * what was left; an absolute target restarts at the root. */
static int follow_link(struct resolver *w, const char *comp)
{
	char tgt[PATH_MAX], *nrest;
	size_t left = strlen(w->p), tl;
	ssize_t n;

	/* rest is still rel itself until the first link */
	if (w->link && w->hops == 0)
		snprintf(w->link, PATH_MAX, "%.*s", (int)(comp - w->rest + strlen(comp)), w->rel);
	if (++w->hops > WALK_MAX_HOPS)
		return -ELOOP;
	n = readlinkat(w->st[w->depth], comp, tgt, sizeof(tgt) - 1);
	if (n < 0)
		return -errno;
	/* a full buffer may be a truncated target: never walk a prefix */
	if ((size_t)n >= sizeof(tgt) - 1)
		return -ENAMETOOLONG;
	tgt[n] = '\0';
	tl = (size_t)n;
	if (tgt[0] == '/') {
		while (w->depth > 0)
			close(w->st[w->depth--]);
		if (w->canon)
			w->canon[0] = '\0';
	}
	nrest = malloc(tl + left + 2);
	if (!nrest)
		return -ENOMEM;
	memcpy(nrest, tgt, tl);
	nrest[tl] = '/';
	memcpy(nrest + tl + 1, w->p, left + 1);
	free(w->rest);
	w->rest = w->p = nrest;
	return 0;
}

/* One component: ".", "..", a symlink to follow or a directory to enter. */
static int walk_comp(struct resolver *w, const char *comp)
{
	struct stat sb;
	int fd;

	if (strcmp(comp, ".") == 0)
		return 0;
	if (strcmp(comp, "..") == 0) {
		if (w->depth == 0)
			return -SPACE_E_UNSAFE_PATH;
		close(w->st[w->depth--]);
		canon_pop(w->canon);
		return 0;
	}
	if (fstatat(w->st[w->depth], comp, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISLNK(sb.st_mode))
		return follow_link(w, comp);
	if (!S_ISDIR(sb.st_mode))
		return -ENOTDIR;
	if (w->depth + 1 >= WALK_MAX_DEPTH || canon_push(w->canon, comp) < 0)
		return -ENAMETOOLONG;
	fd = openat(w->st[w->depth], comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w->st[++w->depth] = fd;
	return 0;
}

/* Resolve rel (a directory) below rootfd; returns an owned O_PATH fd.
 * link (PATH_MAX bytes, may be NULL) gets the prefix of rel that is the
 * first symlink followed, "" if none. */
static int resolve_dir(int rootfd, const char *rel, char *canon, char *link)
{
	struct resolver w = { .rel = rel, .canon = canon, .link = link };
	size_t restlen = strlen(rel);
	char *comp;
	int r = 0;

	w.rest = malloc(restlen + 1);
	if (!w.rest)
		return -ENOMEM;
	memcpy(w.rest, rel, restlen + 1);
	if (canon)
		canon[0] = '\0';
	if (link)
		link[0] = '\0';
	w.st[0] = rootfd;
	w.p = w.rest;
	while (r == 0 && (comp = next_comp(&w)))
		r = walk_comp(&w, comp);
	if (r < 0)
		goto out;
	if (w.depth == 0) {
		r = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
		if (r < 0)
			r = -errno;
		goto out;
	}
	r = w.st[w.depth--];
out:
	while (w.depth > 0)
		close(w.st[w.depth--]);
	free(w.rest);
	return r;
}

int pkg_walk_parent(struct pkg_walk *w, const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t plen;
	int fd;

	if (!slash) {
		pkg_walk_reset(w); /* so that canon is the root's */
		*base = path;
		return w->rootfd;
	}
	*base = slash + 1;
	plen = (size_t)(slash - path);
	if (plen >= sizeof(w->parent))
		return -ENAMETOOLONG;
	if (w->pfd >= 0 && strlen(w->parent) == plen && memcmp(w->parent, path, plen) == 0)
		return w->pfd;
	pkg_walk_reset(w);
	memcpy(w->parent, path, plen);
	w->parent[plen] = '\0';
	fd = resolve_dir(w->rootfd, w->parent, w->canon, w->link);
	if (fd < 0) {
		w->parent[0] = '\0';
		return fd;
	}
	w->pfd = fd;
	return fd;
}

bool pkg_walk_in_db(const struct pkg_walk *w, const char *base)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", w->canon, *w->canon ? "/" : "", base) >=
	    sizeof(path))
		return true; /* cannot tell: treat as inside, callers refuse */
	return pkg_path_in_db(path);
}

ssize_t pkg_read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int pkg_hash_init(struct pkg_hash *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	h->size = 0;
	h->err = 0;
	h->ctx = ctx;
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		pkg_hash_free(h);
		return -EIO;
	}
	return 0;
}

void pkg_hash_update(struct pkg_hash *h, const void *buf, size_t n)
{
	if (!h->err && EVP_DigestUpdate(h->ctx, buf, n) != 1)
		h->err = -EIO;
	h->size += n;
}

int pkg_hash_final(struct pkg_hash *h, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int r = h->err;

	if (!r && EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1)
		r = -EIO;
	if (r == 0)
		hex_encode(md, mdlen, hex);
	else
		hex[0] = '\0';
	pkg_hash_free(h);
	return r;
}

void pkg_hash_free(struct pkg_hash *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

DIR *pkg_opendir_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

int pkg_read_at(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
	/* never following a link; a FIFO among the records must not block */
	return read_file_at(dirfd, name, O_NOFOLLOW, max, out, len);
}
