/* SPDX-License-Identifier: MIT */
/* attrs.c - attributes file, tree walk and debugfs scripts; see attrs.h.
 *
 * Why two debugfs passes: debugfs resolves a path with a linear scan of
 * each directory, so one `sif PATH ...` per field on a tree with large
 * directories is quadratic (seconds for 5000 files in one directory). Pass 1
 * lists every directory once to learn inode numbers; pass 2 addresses
 * inodes as <N>, which costs nothing to resolve. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrs.h"
#include "imgutil.h"
#include "util.h"

/* ------------------------------------------------------------- strbuf */

struct sb {
	char *p;
	size_t len, cap;
	int oom;
};

static void sb_add(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap - b->len <= (size_t)n)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

static char *sb_finish(struct sb *b)
{
	if (b->oom || !b->p) {
		free(b->p);
		return b->oom ? NULL : strdup("");
	}
	return b->p;
}

/* ------------------------------------------------------------ attributes */

static int cmp_attr(const void *a, const void *b)
{
	return strcmp(((const struct attr_entry *)a)->path, ((const struct attr_entry *)b)->path);
}

/* Relative, no "..", no empty or "." components; "." alone is the root. */
static int path_ok(const char *p)
{
	const char *c = p;

	if (strcmp(p, ".") == 0)
		return 1;
	if (!*p || *p == '/' || strpbrk(p, "\"\r\n"))
		return 0;
	while (*c) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += n;
		if (*c == '/')
			c++;
		if (e && !*c)
			return 0; /* trailing slash */
	}
	return 1;
}

void attrs_free(struct attr_list *l)
{
	for (size_t i = 0; l && i < l->n; i++)
		free(l->v[i].path);
	if (l) {
		free(l->v);
		l->v = NULL;
		l->n = 0;
	}
}

static int parse_num(const char **s, int base, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	if (**s < '0' || **s > '9')
		return -1;
	errno = 0;
	v = strtoul(*s, &end, base);
	if (errno || v > max || (*end != ' ' && *end != '\t'))
		return -1;
	*s = end;
	*out = (unsigned)v;
	return 0;
}

/* One line (s, up to nl or the end) into e, its path malloc'd. */
static int parse_line(const char *s, const char *nl, size_t lineno, struct attr_entry *e, struct space_err *err)
{
	const char *end;
	char *path;

	if (!strchr("fdlcbph", s[0]) || (s[1] != ' ' && s[1] != '\t'))
		return err_set(err, -SPACE_E_FORMAT, "line %zu: bad type", lineno);
	e->type = s[0];
	s++;
	if (parse_num(&s, 8, 07777, &e->mode) < 0 || parse_num(&s, 10, 0xFFFFFFFEul, &e->uid) < 0 ||
	    parse_num(&s, 10, 0xFFFFFFFEul, &e->gid) < 0 || parse_num(&s, 10, 0xFFFFFFFul, &e->major) < 0 ||
	    parse_num(&s, 10, 0xFFFFFFFul, &e->minor) < 0)
		return err_set(err, -SPACE_E_FORMAT, "line %zu: bad mode/uid/gid/major/minor", lineno);
	while (*s == ' ' || *s == '\t')
		s++;
	end = nl ? nl : s + strlen(s);
	if (end > s && end[-1] == '\r')
		end--;
	path = strndup(s, (size_t)(end - s));
	if (!path)
		return -ENOMEM;
	if (!path_ok(path)) {
		int r = err_set(err, -SPACE_E_UNSAFE_PATH, "line %zu: unsafe path '%s'", lineno, path);

		free(path);
		return r;
	}
	if (strcmp(path, ".") == 0)
		path[0] = '\0';
	e->path = path;
	return 0;
}

/* Append e to l (cap: its room); e's path is freed on failure. */
static int push_entry(struct attr_list *l, size_t *cap, const struct attr_entry *e)
{
	if (l->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct attr_entry *nv = realloc(l->v, ncap * sizeof(*nv));

		if (!nv) {
			free(e->path);
			return -ENOMEM;
		}
		l->v = nv;
		*cap = ncap;
	}
	l->v[l->n++] = *e;
	return 0;
}

int attrs_parse(const char *text, struct attr_list *out, struct space_err *err)
{
	struct attr_list l = { NULL, 0 };
	size_t cap = 0, lineno = 0;
	const char *line = text;
	int r = 0;

	while (r == 0 && line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		struct attr_entry e = { 0 };
		const char *s = line;

		lineno++;
		line = nl ? nl + 1 : NULL;
		if (len == 0 || s[0] == '#')
			continue;
		r = parse_line(s, nl, lineno, &e, err);
		if (r == 0)
			r = push_entry(&l, &cap, &e);
	}
	if (r == 0 && l.n)
		qsort(l.v, l.n, sizeof(*l.v), cmp_attr);
	for (size_t i = 1; r == 0 && i < l.n; i++)
		if (strcmp(l.v[i].path, l.v[i - 1].path) == 0)
			r = err_set(err, -SPACE_E_FORMAT, "duplicate path '%s'", l.v[i].path);
	if (r < 0) {
		attrs_free(&l);
		return r;
	}
	*out = l;
	return 0;
}

int attrs_load(const char *path, struct attr_list *out, struct space_err *err)
{
	char *text = NULL;
	size_t len;
	int r;

	r = read_file(path, 256u << 20, &text, &len);
	if (r < 0)
		return err_set(err, r, "%s", space_strerror(r));
	if (strlen(text) != len) {
		err_set(err, -SPACE_E_FORMAT, "contains a NUL byte");
		free(text);
		return -SPACE_E_FORMAT;
	}
	r = attrs_parse(text, out, err);
	free(text);
	return r;
}

const struct attr_entry *attrs_find(const struct attr_list *l, const char *path)
{
	struct attr_entry key = { .path = (char *)path };

	if (!l || !l->n)
		return NULL;
	return bsearch(&key, l->v, l->n, sizeof(key), cmp_attr);
}

/* ------------------------------------------------------------- tree walk */

void tree_free(struct tree_list *t)
{
	for (size_t i = 0; t && i < t->n; i++)
		free(t->v[i].path);
	if (t) {
		free(t->v);
		t->v = NULL;
		t->n = 0;
		t->bytes = 0;
	}
}

struct walk {
	struct tree_list *t;
	size_t cap;
	struct space_err *err;
};

static int push(struct walk *w, char *path, size_t parent, mode_t mode)
{
	if (w->t->n == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 256;
		struct tree_entry *nv = realloc(w->t->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		w->t->v = nv;
		w->cap = ncap;
	}
	w->t->v[w->t->n] = (struct tree_entry){ path, parent, mode, 0 };
	w->t->n++;
	return 0;
}

/* Children of the directory dfd (tree entry self), sorted, recursively. */
static int walk_dir(struct walk *w, int dfd, size_t self, int depth)
{
	char **names = NULL;
	size_t n = 0;
	DIR *d;
	int r = 0;

	if (depth > 128) {
		err_set(w->err, -ELOOP, "'%s': directories nested too deeply", w->t->v[self].path);
		close(dfd);
		return -ELOOP;
	}
	d = fdopendir(dfd);
	if (!d) {
		r = -errno;
		close(dfd);
		return r;
	}
	r = img_read_names(d, &names, &n);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *ppath = w->t->v[self].path;
		struct stat st;
		char *path;
		size_t idx;

		if (strpbrk(names[i], "\"\r\n")) {
			r = err_set(w->err, -SPACE_E_UNSAFE_PATH, "'%s/%s': name cannot be quoted for debugfs", ppath,
				    names[i]);
			goto out;
		}
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = err_set(w->err, -errno, "'%s/%s': %s", ppath, names[i], strerror(errno));
			goto out;
		}
		path = *ppath ? xasprintf("%s/%s", ppath, names[i]) : strdup(names[i]);
		if (!path) {
			r = -ENOMEM;
			goto out;
		}
		idx = w->t->n;
		w->t->bytes += (uint64_t)st.st_blocks * 512;
		r = push(w, path, self, st.st_mode);
		if (r < 0) {
			free(path);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			int cfd = openat(dirfd(d), names[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				r = err_set(w->err, -errno, "'%s': %s", path, strerror(errno));
				goto out;
			}
			r = walk_dir(w, cfd, idx, depth + 1);
			if (r < 0)
				goto out;
		}
	}
out:
	img_free_names(names, n);
	closedir(d);
	return r;
}

int tree_walk(const char *dir, struct tree_list *out, struct space_err *err)
{
	struct walk w = { out, 0, err };
	struct stat st;
	char *root;
	int fd, r;

	out->v = NULL;
	out->n = 0;
	out->bytes = 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = err_set(err, -errno, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	root = strdup("");
	if (!root || push(&w, root, 0, st.st_mode) < 0) {
		free(root);
		close(fd);
		return -ENOMEM;
	}
	r = walk_dir(&w, fd, 0, 0);
	if (r < 0)
		tree_free(out);
	return r;
}

/* --------------------------------------------------------------- scripts */

char *attrs_script_lsdirs(const struct tree_list *t)
{
	struct sb b = { 0 };

	for (size_t i = 0; i < t->n; i++)
		if (S_ISDIR(t->v[i].mode))
			sb_add(&b, "ls -p \"/%s\"\n", t->v[i].path);
	return sb_finish(&b);
}

struct lsrec {
	size_t dir; /* tree index of the directory listed */
	const char *name;
	size_t namelen;
	uint32_t ino;
};

static int cmp_lsrec(const void *a, const void *b)
{
	const struct lsrec *x = a, *y = b;
	size_t n;
	int c;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	n = x->namelen < y->namelen ? x->namelen : y->namelen;
	c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	return x->namelen < y->namelen ? -1 : x->namelen > y->namelen;
}

static const char *basename_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

int attrs_parse_lsdirs(struct tree_list *t, const char *out, struct space_err *err)
{
	size_t *dirs = NULL, ndirs = 0, nrec = 0, cap = 0;
	struct lsrec *rec = NULL;
	const char *line = out;
	long k = -1;
	int r = 0;

	dirs = malloc((t->n ? t->n : 1) * sizeof(*dirs));
	if (!dirs)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		if (S_ISDIR(t->v[i].mode))
			dirs[ndirs++] = i;
	/* "debugfs: <cmd>" starts the k-th listing; entries look like
	 * "/ino/mode/uid/gid/name/size/" (a name cannot contain '/'). */
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		const char *end = nl ? nl : line + strlen(line);
		const char *f[6];
		int nf = 0;

		if (!strncmp(line, "debugfs: ", 9)) {
			k++;
		} else if (line[0] == '/' && k >= 0 && (size_t)k < ndirs) {
			for (const char *c = line; c < end && nf < 6; c++)
				if (*c == '/')
					f[nf++] = c;
			if (nf == 6) {
				const char *name = f[4] + 1;
				size_t nlen = (size_t)(f[5] - name);
				if (nrec == cap) {
					size_t ncap = cap ? cap * 2 : 1024;
					struct lsrec *nr = realloc(rec, ncap * sizeof(*nr));
					if (!nr) {
						r = -ENOMEM;
						goto out;
					}
					rec = nr;
					cap = ncap;
				}
				rec[nrec++] = (struct lsrec){ dirs[k], name, nlen,
							      (uint32_t)strtoul(line + 1, NULL, 10) };
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	if (nrec)
		qsort(rec, nrec, sizeof(*rec), cmp_lsrec);
	if (t->n)
		t->v[0].ino = 2; /* EXT2_ROOT_INO */
	for (size_t i = 1; i < t->n; i++) {
		const char *name = basename_of(t->v[i].path);
		struct lsrec key = { t->v[i].parent, name, strlen(name), 0 }, *hit;

		hit = nrec ? bsearch(&key, rec, nrec, sizeof(key), cmp_lsrec) : NULL;
		if (!hit || hit->ino == 0) {
			r = err_set(err, -SPACE_E_FORMAT, "'%s' missing from the image listing", t->v[i].path);
			goto out;
		}
		t->v[i].ino = hit->ino;
	}
out:
	free(rec);
	free(dirs);
	return r;
}

static void add_times(struct sb *b, const char *who, long long epoch)
{
	/* _extra first: setting a time rewrites the epoch bits of _extra,
	 * zeroing _extra clears the nanoseconds mke2fs may have copied. */
	static const char *const f[] = { "atime", "ctime", "mtime", "crtime" };

	for (int i = 0; i < 4; i++)
		sb_add(b, "sif %s %s_extra 0\n", who, f[i]);
	for (int i = 0; i < 4; i++)
		sb_add(b, "sif %s %s @%lld\n", who, f[i], epoch);
}

static int type_matches(char type, mode_t m)
{
	switch (type) {
	case 'f': return S_ISREG(m);
	case 'd': return S_ISDIR(m);
	case 'l': return S_ISLNK(m);
	case 'h': return !S_ISDIR(m);
	case 'p': return S_ISFIFO(m);
	case 'c': return S_ISCHR(m);
	case 'b': return S_ISBLK(m);
	}
	return 0;
}

static int cmp_idx_path(const void *a, const void *b, void *arg)
{
	const struct tree_list *t = arg;
	return strcmp(t->v[*(const size_t *)a].path, t->v[*(const size_t *)b].path);
}

static long find_tree(const struct tree_list *t, const size_t *sorted, const char *path)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(t->v[sorted[mid]].path, path);
		if (!c)
			return (long)sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* What attrs_script_apply()'s phases share. */
struct apply_ctx {
	const struct tree_list *t;
	const size_t *sorted; /* indexes of t->v by path */
	char *skip;           /* tree entries replaced by a created node */
	struct sb *b;
	long long epoch;
	struct space_err *err;
};

/* The directory of e->path in the tree (strdup'ed, "" for the root), or
 * NULL with r set. */
static char *node_parent(struct apply_ctx *c, const struct attr_entry *e, const char *slash, int *r)
{
	char *parent = slash ? strndup(e->path, (size_t)(slash - e->path)) : strdup("");
	long pi;

	*r = -ENOMEM;
	if (!parent)
		return NULL;
	pi = find_tree(c->t, c->sorted, parent);
	if (pi < 0 || !S_ISDIR(c->t->v[pi].mode)) {
		*r = err_set(c->err, -SPACE_E_FORMAT, "attrs: '%s': parent directory not in the tree", e->path);
		free(parent);
		return NULL;
	}
	*r = 0;
	return parent;
}

/* A node the tree cannot hold (built without root): a device or FIFO,
 * created by debugfs in its parent, over a placeholder file if one is
 * there (tree index ti, or -1). */
static int create_node(struct apply_ctx *c, const struct attr_entry *e, long ti)
{
	const char *slash = strrchr(e->path, '/');
	const char *name = slash ? slash + 1 : e->path;
	char *parent, *who;
	unsigned ftype;
	int r;

	if (!strchr("cbp", e->type) || !*e->path) {
		return err_set(c->err, -SPACE_E_FORMAT, "attrs: '%s': %s", e->path,
			       ti < 0 ? "not in the tree" : "type differs from the tree");
	}
	if (ti >= 0 && !S_ISREG(c->t->v[ti].mode))
		return err_set(c->err, -SPACE_E_FORMAT, "attrs: '%s': type differs from the tree", e->path);
	parent = node_parent(c, e, slash, &r);
	if (!parent)
		return r;
	/* debugfs mknod takes a name in the current directory: with a
	 * path it would create an entry literally named "a/b". */
	sb_add(c->b, "cd \"/%s\"\n", parent);
	free(parent);
	if (ti >= 0) { /* a placeholder file stands where the node goes */
		sb_add(c->b, "rm \"%s\"\n", name);
		c->skip[ti] = 1;
	}
	if (e->type == 'p') {
		sb_add(c->b, "mknod \"%s\" p\n", name);
		ftype = S_IFIFO;
	} else {
		sb_add(c->b, "mknod \"%s\" %c %u %u\n", name, e->type, e->major, e->minor);
		ftype = e->type == 'c' ? S_IFCHR : S_IFBLK;
	}
	/* mknod leaves mode 0000 and the debugfs user's ids. */
	sb_add(c->b, "sif \"%s\" mode 0%o\n", name, ftype | e->mode);
	sb_add(c->b, "sif \"%s\" uid %u\nsif \"%s\" gid %u\n", name, e->uid, name, e->gid);
	who = xasprintf("\"%s\"", name);
	if (!who)
		return -ENOMEM;
	add_times(c->b, who, c->epoch);
	free(who);
	sb_add(c->b, "cd /\n");
	return 0;
}

/* Every tree entry, by inode number: owner, mode from attrs (else root
 * and the tree's mode), fixed times; then the root of an empty
 * filesystem and lost+found. */
static int set_tree_attrs(struct apply_ctx *c, const struct attr_list *a)
{
	const struct tree_list *t = c->t;
	int have_lf = 0;

	for (size_t i = 0; i < t->n; i++) {
		const struct tree_entry *te = &t->v[i];
		const struct attr_entry *e = attrs_find(a, te->path);
		char who[16];

		if (c->skip[i])
			continue;
		if (!te->ino)
			return err_set(c->err, -EINVAL, "'%s': inode number unknown", te->path);
		if (te->ino == 11)
			have_lf = 1;
		snprintf(who, sizeof(who), "<%u>", te->ino);
		sb_add(c->b, "sif %s uid %u\nsif %s gid %u\n", who, e ? e->uid : 0, who, e ? e->gid : 0);
		if (e)
			sb_add(c->b, "sif %s mode 0%o\n", who, (unsigned)(te->mode & S_IFMT) | e->mode);
		add_times(c->b, who, c->epoch);
	}
	if (!t->n) { /* empty filesystem: the root is still there */
		sb_add(c->b, "sif <2> uid 0\nsif <2> gid 0\n");
		add_times(c->b, "<2>", c->epoch);
	}
	if (!have_lf) /* lost+found, made by mke2fs as inode 11 */
		add_times(c->b, "<11>", c->epoch);
	return 0;
}

int attrs_script_apply(const struct tree_list *t, const struct attr_list *a, long long epoch,
		       char **script, struct space_err *err)
{
	static const struct attr_list none;
	size_t *sorted = NULL;
	struct sb b = { 0 };
	struct apply_ctx c = { .t = t, .b = &b, .epoch = epoch, .err = err };
	int r = 0;

	if (!a)
		a = &none;
	sorted = malloc((t->n ? t->n : 1) * sizeof(*sorted));
	c.skip = calloc(t->n ? t->n : 1, 1);
	if (!sorted || !c.skip) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		sorted[i] = i;
	qsort_r(sorted, t->n, sizeof(*sorted), cmp_idx_path, (void *)t);
	c.sorted = sorted;

	sb_add(&b, "set_current_time @%lld\n", epoch);
	for (size_t i = 0; i < a->n && r == 0; i++) {
		long ti = find_tree(t, sorted, a->v[i].path);

		if (ti < 0 || !type_matches(a->v[i].type, t->v[ti].mode))
			r = create_node(&c, &a->v[i], ti);
	}
	if (r == 0)
		r = set_tree_attrs(&c, a);
	if (r < 0)
		goto out;
	*script = sb_finish(&b);
	if (!*script)
		r = -ENOMEM;
	b.p = NULL;
out:
	if (r < 0)
		free(b.p);
	free(sorted);
	free(c.skip);
	return r;
}
