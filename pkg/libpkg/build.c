/* SPDX-License-Identifier: MIT */
/* build.c - `pkg build`: package a staging tree, reproducibly.
 * Owners come from the attrs file (default 0:0), never from the staging
 * tree, so an unprivileged build gives the same bytes as a root one. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <libdeflate.h>

#include "fdio.h"
#include "internal.h"
#include "openreg.h"

struct builder {
	struct pkg_meta m;
	size_t cap;
	struct space_err *err;
};

static struct pkg_entry *add_entry(struct builder *b, const char *path, char type)
{
	struct pkg_entry *e;

	if (b->m.n_entries == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 256;
		void *p = realloc(b->m.entries, ncap * sizeof(*b->m.entries));
		if (!p)
			return NULL;
		b->m.entries = p;
		b->cap = ncap;
	}
	e = &b->m.entries[b->m.n_entries];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path)
		return NULL;
	e->type = type;
	b->m.n_entries++;
	return e;
}

static int walk(struct builder *b, int dfd, char *rel, size_t rlen);

/* The package type of a file mode; 0 when it has none. */
static char mode_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return PKG_FILE;
	case S_IFDIR: return PKG_DIR;
	case S_IFLNK: return PKG_SYMLINK;
	case S_IFCHR: return PKG_CHR;
	case S_IFBLK: return PKG_BLK;
	case S_IFIFO: return PKG_FIFO;
	default: return 0;
	}
}

/* What the entry e of dfd/name (package path rel) records besides its
 * type: mode, size, device numbers, a symlink's target; a directory's
 * contents are walked. */
static int entry_details(struct builder *b, struct pkg_entry *e, int dfd, const char *name,
			 const struct stat *st, char *rel)
{
	char tgt[PATH_MAX];
	ssize_t n;
	int sub, r;

	e->mode = st->st_mode & 07777;
	if (e->type == PKG_FILE)
		e->size = (uint64_t)st->st_size;
	if (e->type == PKG_CHR || e->type == PKG_BLK) {
		e->major = major(st->st_rdev);
		e->minor = minor(st->st_rdev);
	}
	if (e->type == PKG_SYMLINK) {
		n = readlinkat(dfd, name, tgt, sizeof(tgt) - 1);
		if (n < 0)
			return err_set(b->err, -errno, "%s: %s", rel, strerror(errno));
		tgt[n] = '\0';
		e->mode = 0777;
		e->target = strdup(tgt);
		if (!e->target)
			return -ENOMEM;
	}
	if (e->type != PKG_DIR)
		return 0;
	sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return err_set(b->err, -errno, "%s: %s", rel, strerror(errno));
	r = walk(b, sub, rel, strlen(rel));
	close(sub);
	return r;
}

/* One directory entry name of dfd, whose package path is rel (rlen bytes)
 * plus name: checked, recorded, and walked when a directory. rel is
 * extended in place (the caller cuts it back). */
static int walk_entry(struct builder *b, int dfd, const char *name, char *rel, size_t rlen)
{
	size_t nlen = strlen(name);
	struct pkg_entry *e;
	struct stat st;
	char pbuf[256], type;
	int r;

	if (rlen + nlen + 2 >= PATH_MAX)
		return err_set(b->err, -ENAMETOOLONG, "%s: path too long", rel);
	if (rlen)
		rel[rlen] = '/';
	memcpy(rel + rlen + (rlen ? 1 : 0), name, nlen + 1);
	r = pkg_path_check(rel);
	if (r < 0)
		return err_set(b->err, r, "%s: path not allowed in a package: %s",
			       str_sanitize(rel, pbuf, sizeof(pbuf)), pkg_path_reason(rel, r));
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(b->err, -errno, "%s: %s", rel, strerror(errno));
	if (!(type = mode_type(st.st_mode)))
		return err_set(b->err, -SPACE_E_FORMAT, "%s: unsupported file type", rel);
	e = add_entry(b, rel, type);
	if (!e)
		return -ENOMEM;
	return entry_details(b, e, dfd, name, &st, rel);
}

/* Record every entry below dfd, whose package path is rel (rlen bytes,
 * PATH_MAX of room); rel is as it was on return. */
static int walk(struct builder *b, int dfd, char *rel, size_t rlen)
{
	DIR *d = pkg_opendir_at(dfd, ".");
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = walk_entry(b, dfd, de->d_name, rel, rlen);
		rel[rlen] = '\0';
		if (r < 0)
			break;
	}
	if (r == 0 && errno)
		r = -errno;
	closedir(d);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct pkg_entry *)a)->path, ((const struct pkg_entry *)b)->path);
}

static int parse_num(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, base);
	return (errno || *end || *out > max) ? -1 : 0;
}

/* attrs file: "PATH TYPE MODE UID GID [MAJOR MINOR]" per line. */
static int apply_attrs(struct builder *b, const char *file)
{
	char *buf = NULL, *line, *next;
	size_t len, lineno = 0;
	int r;

	r = read_file(file, 16u << 20, &buf, &len);
	if (r < 0)
		return err_set(b->err, r, "%s: %s", file, space_strerror(r));
	for (line = buf; line && *line; line = next) {
		char *f[8], *save = NULL, *t;
		unsigned long mode, uid, gid, maj = 0, min = 0;
		struct pkg_entry *e;
		int nf = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		for (t = strtok_r(line, " \t", &save); t && nf < 8; t = strtok_r(NULL, " \t", &save))
			f[nf++] = t;
		if (nf == 0 || f[0][0] == '#')
			continue;
		if ((nf != 5 && nf != 7) || strlen(f[1]) != 1 || !strchr("fdlcbp", f[1][0]) ||
		    parse_num(f[2], 8, 07777, &mode) < 0 || parse_num(f[3], 10, 0xfffffffe, &uid) < 0 ||
		    parse_num(f[4], 10, 0xfffffffe, &gid) < 0 ||
		    (nf == 7 && (parse_num(f[5], 10, 4095, &maj) < 0 ||
				 parse_num(f[6], 10, 1048575, &min) < 0))) {
			r = err_set(b->err, -SPACE_E_FORMAT, "%s: line %zu: expected 'PATH TYPE MODE UID GID [MAJOR MINOR]'",
				    file, lineno);
			goto out;
		}
		if ((f[1][0] == 'c' || f[1][0] == 'b') != (nf == 7)) {
			r = err_set(b->err, -SPACE_E_FORMAT,
				    "%s: line %zu: MAJOR MINOR are for (only) device nodes", file, lineno);
			goto out;
		}
		while (f[0][0] == '/' && f[0][1])
			f[0]++; /* "/dev/console" and "dev/console" are the same */
		r = pkg_path_check(f[0]);
		if (r < 0) {
			r = err_set(b->err, r, "%s: line %zu: path not allowed: %s", file, lineno,
				    pkg_path_reason(f[0], r));
			goto out;
		}
		e = pkg_meta_find(&b->m, f[0]);
		if (e && e->type != f[1][0]) {
			r = err_set(b->err, -SPACE_E_FORMAT, "%s: line %zu: %s is type %c in the tree",
				    file, lineno, f[0], e->type);
			goto out;
		}
		if (!e) {
			if (!strchr("dcbp", f[1][0])) {
				r = err_set(b->err, -SPACE_E_FORMAT,
					    "%s: line %zu: %s: not in the staging tree (only d c b p can be added)",
					    file, lineno, f[0]);
				goto out;
			}
			e = add_entry(b, f[0], f[1][0]);
			if (!e) {
				r = -ENOMEM;
				goto out;
			}
		}
		if (e->type != PKG_SYMLINK)
			e->mode = (mode_t)mode;
		e->uid = (uid_t)uid;
		e->gid = (gid_t)gid;
		e->major = (unsigned)maj;
		e->minor = (unsigned)min;
		/* Keep the array sorted for the lookups of the next lines. */
		qsort(b->m.entries, b->m.n_entries, sizeof(*b->m.entries), cmp_entry);
	}
	r = 0;
out:
	free(buf);
	return r;
}

static int set_archive_entry(struct archive_entry *ae, const struct pkg_entry *e, long long mtime)
{
	static const mode_t ftype[128] = {
		[PKG_FILE] = AE_IFREG,
		[PKG_DIR] = AE_IFDIR,
		[PKG_SYMLINK] = AE_IFLNK,
		[PKG_CHR] = AE_IFCHR,
		[PKG_BLK] = AE_IFBLK,
		[PKG_FIFO] = AE_IFIFO,
	};

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_filetype(ae, ftype[(unsigned char)e->type & 127]);
	archive_entry_set_perm(ae, e->mode);
	archive_entry_set_uid(ae, e->uid);
	archive_entry_set_gid(ae, e->gid);
	archive_entry_set_mtime(ae, (time_t)mtime, 0);
	if (e->type == PKG_FILE)
		archive_entry_set_size(ae, (la_int64_t)e->size);
	if (e->type == PKG_SYMLINK)
		archive_entry_set_symlink(ae, e->target);
	if (e->type == PKG_CHR || e->type == PKG_BLK) {
		archive_entry_set_rdevmajor(ae, e->major);
		archive_entry_set_rdevminor(ae, e->minor);
	}
	return 0;
}

/* Copy one staged file into the archive, hashing what is written: the
 * content must still be what the metadata (already written) says. */
static int copy_file(struct archive *a, int sfd, const struct pkg_entry *e, unsigned char *buf,
		     size_t bufsz, struct space_err *err)
{
	struct pkg_hash h;
	char hex[65];
	ssize_t n;
	int fd, r;

	/* still a regular file: the scan saw one, a FIFO since would block */
	fd = open_regular(sfd, e->path, O_RDONLY | O_NOFOLLOW, 0, 0);
	if (fd < 0)
		return err_set(err, fd, "%s: %s", e->path, space_strerror(fd));
	r = pkg_hash_init(&h);
	if (r < 0)
		goto out;
	/* A file that grew since it was hashed is cut at the recorded size;
	 * the digest check below catches any other change. */
	while ((n = pkg_read_retry(fd, buf, bufsz)) > 0 && h.size + (uint64_t)n <= e->size) {
		pkg_hash_update(&h, buf, (size_t)n);
		if (archive_write_data(a, buf, (size_t)n) != n) {
			pkg_hash_free(&h);
			r = err_set(err, -EIO, "write: %s", archive_error_string(a));
			goto out;
		}
	}
	if (n < 0) {
		pkg_hash_free(&h);
		r = err_set(err, (int)n, "%s: %s", e->path, strerror((int)-n));
		goto out;
	}
	n = (ssize_t)(h.size == e->size);
	if ((r = pkg_hash_final(&h, hex)) < 0)
		r = err_set(err, r, "%s: sha256: %s", e->path, space_strerror(r));
	else if (!n || strcmp(hex, e->sha256) != 0)
		r = err_set(err, -EAGAIN, "%s: changed during the build", e->path);
out:
	close(fd);
	return r;
}

/* gzip output: the tar stream is cut into fixed 4 MiB chunks, each
 * compressed by libdeflate (2-3x faster than zlib at the same level) into
 * its own gzip member. Concatenated members are one valid gzip stream
 * (RFC 1952, read by gzip, tar and libarchive); fixed chunk boundaries and
 * libdeflate's fixed header (no mtime, no name) keep the bytes
 * reproducible. */
#define GZ_CHUNK (4u << 20)
#define GZ_LEVEL 6

struct gzout {
	int fd;
	int err;
	struct libdeflate_compressor *c;
	unsigned char *in, *out;
	size_t inlen, outcap;
};

static int gz_flush(struct gzout *g)
{
	size_t n;
	int r;

	if (!g->inlen)
		return 0;
	n = libdeflate_gzip_compress(g->c, g->in, g->inlen, g->out, g->outcap);
	if (n == 0)
		return -EIO;
	if ((r = fd_write_full(g->fd, g->out, n)) < 0)
		return r;
	g->inlen = 0;
	return 0;
}

static la_ssize_t gz_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	struct gzout *g = ctx;
	const unsigned char *p = buf;
	size_t left = n;

	while (left > 0) {
		size_t k = GZ_CHUNK - g->inlen < left ? GZ_CHUNK - g->inlen : left;

		memcpy(g->in + g->inlen, p, k);
		g->inlen += k;
		p += k;
		left -= k;
		if (g->inlen == GZ_CHUNK && (g->err = gz_flush(g)) < 0) {
			archive_set_error(a, -g->err, "%s", strerror(-g->err));
			return -1;
		}
	}
	return (la_ssize_t)n;
}

static int gz_close(struct archive *a, void *ctx)
{
	struct gzout *g = ctx;

	if ((g->err = gz_flush(g)) < 0) {
		archive_set_error(a, -g->err, "%s", strerror(-g->err));
		return ARCHIVE_FATAL;
	}
	return ARCHIVE_OK;
}

static int write_archive(const struct pkg_build_opts *o, const struct pkg_meta *m, int sfd,
			 int outfd, struct space_err *err)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	struct gzout g = { .fd = outfd };
	size_t bufsz = 1 << 17;
	unsigned char *buf = malloc(bufsz);
	char *text = NULL;
	size_t tlen;
	int r;

	g.c = libdeflate_alloc_compressor(GZ_LEVEL);
	if (g.c) {
		g.outcap = libdeflate_gzip_compress_bound(g.c, GZ_CHUNK);
		g.in = malloc(GZ_CHUNK);
		g.out = malloc(g.outcap);
	}
	if (!a || !ae || !buf || !g.c || !g.in || !g.out) {
		r = -ENOMEM;
		goto out;
	}
	r = pkg_meta_write(m, &text, &tlen);
	if (r < 0)
		goto out;
	/* pax "restricted" only adds extended headers for long names. */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
	    archive_write_open(a, &g, NULL, gz_write, gz_close) != ARCHIVE_OK) {
		r = err_set(err, -EIO, "archive setup: %s", archive_error_string(a));
		goto out;
	}
	archive_entry_set_pathname(ae, PKG_META_NAME);
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_mtime(ae, (time_t)o->mtime, 0);
	archive_entry_set_size(ae, (la_int64_t)tlen);
	if (archive_write_header(a, ae) != ARCHIVE_OK ||
	    archive_write_data(a, text, tlen) != (la_ssize_t)tlen) {
		r = err_set(err, -EIO, "write: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct pkg_entry *e = &m->entries[i];

		set_archive_entry(ae, e, o->mtime);
		if (archive_write_header(a, ae) != ARCHIVE_OK) {
			r = err_set(err, -EIO, "%s: %s", e->path, archive_error_string(a));
			goto out;
		}
		if (e->type == PKG_FILE) {
			r = copy_file(a, sfd, e, buf, bufsz, err);
			if (r < 0)
				goto out;
		}
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		r = err_set(err, -EIO, "write: %s", archive_error_string(a));
		goto out;
	}
	r = 0;
out:
	free(text);
	free(buf);
	archive_entry_free(ae);
	archive_write_free(a);
	free(g.in);
	free(g.out);
	if (g.c)
		libdeflate_free_compressor(g.c);
	return r;
}

/* The metadata header from the options: name, version, release, arch,
 * summary (one line), app, platform range, dependencies. */
static int header_from_opts(struct pkg_meta *m, const struct pkg_build_opts *o, struct space_err *err)
{
	m->name = o->name ? strdup(o->name) : NULL;
	m->version = o->version ? strdup(o->version) : NULL;
	m->release = strdup(o->release ? o->release : "1");
	m->arch = strdup(o->arch ? o->arch : "amd64");
	m->summary = strdup(o->summary ? o->summary : "");
	m->base_files = o->base_files;
	if ((o->app && !(m->app = strdup(o->app))) ||
	    (o->platform_min && !(m->platform_min = strdup(o->platform_min))) ||
	    (o->platform_max && !(m->platform_max = strdup(o->platform_max))))
		return -ENOMEM;
	if (m->summary && strpbrk(m->summary, "\n\r\t"))
		return err_set(err, -SPACE_E_FORMAT, "summary: control character");
	if (!o->n_depends)
		return 0;
	m->depends = calloc(o->n_depends, sizeof(char *));
	if (!m->depends)
		return -ENOMEM;
	for (; m->n_depends < o->n_depends; m->n_depends++)
		if (!(m->depends[m->n_depends] = strdup(o->depends[m->n_depends])))
			return -ENOMEM;
	return 0;
}

/* --config: each names a regular file of the staging tree. */
static int mark_config(struct pkg_meta *m, const struct pkg_build_opts *o, struct space_err *err)
{
	for (size_t i = 0; i < o->n_config; i++) {
		const char *p = o->config[i];
		struct pkg_entry *e;

		while (*p == '/')
			p++;
		e = pkg_meta_find(m, p);
		if (!e || e->type != PKG_FILE)
			return err_set(err, -SPACE_E_FORMAT, "--config %s: not a file in the staging tree",
				       o->config[i]);
		e->config = true;
	}
	return 0;
}

/* The size and SHA-256 of every regular file. */
static int hash_files(struct pkg_meta *m, int sfd, struct space_err *err)
{
	for (size_t i = 0; i < m->n_entries; i++) {
		struct pkg_entry *e = &m->entries[i];
		uint64_t size;
		int fd, r;

		if (e->type != PKG_FILE)
			continue;
		fd = open_regular(sfd, e->path, O_RDONLY | O_NOFOLLOW, 0, 0);
		if (fd < 0)
			return err_set(err, fd, "%s: %s", e->path, space_strerror(fd));
		r = sha256_fd_hex(fd, e->sha256, &size);
		close(fd);
		if (r < 0)
			return err_set(err, r, "%s: %s", e->path, space_strerror(r));
		e->size = size;
	}
	return 0;
}

/* The archive under a temporary name, synced, then renamed to out. */
static int write_package(const struct pkg_build_opts *o, const struct pkg_meta *m, int sfd,
			 const char *out, struct space_err *err)
{
	char *tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
	int outfd, r;

	if (!tmp)
		return -ENOMEM;
	outfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (outfd < 0) {
		r = err_set(err, -errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	r = write_archive(o, m, sfd, outfd, err);
	if (r == 0 && fsync(outfd) < 0)
		r = err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (close(outfd) < 0 && r == 0)
		r = err_set(err, -errno, "%s: %s", tmp, strerror(errno));
	if (r == 0 && rename(tmp, out) < 0)
		r = err_set(err, -errno, "%s: %s", out, strerror(errno));
	if (r < 0)
		unlink(tmp);
	else
		r = fsync_parent(out);
out:
	free(tmp);
	return r;
}

int pkg_build(const struct pkg_build_opts *o, const char *staging, const char *out,
	      struct space_err *err)
{
	struct builder b = { .err = err };
	char rel[PATH_MAX] = "";
	int sfd, r;

	sfd = open(staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return err_set(err, -errno, "%s: %s", staging, strerror(errno));
	r = header_from_opts(&b.m, o, err);
	if (r >= 0)
		r = walk(&b, sfd, rel, 0);
	if (r < 0)
		goto out;
	if (b.m.n_entries)
		qsort(b.m.entries, b.m.n_entries, sizeof(*b.m.entries), cmp_entry);
	if (o->attrs_file)
		r = apply_attrs(&b, o->attrs_file);
	if (r >= 0)
		r = mark_config(&b.m, o, err);
	if (r >= 0)
		r = pkg_meta_finish(&b.m, err);
	if (r >= 0)
		r = hash_files(&b.m, sfd, err);
	if (r >= 0)
		r = write_package(o, &b.m, sfd, out, err);
out:
	close(sfd);
	pkg_meta_free(&b.m);
	return r;
}
