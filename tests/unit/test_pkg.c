/* SPDX-License-Identifier: MIT */
/* test_pkg.c - libpkg end to end: build, install, upgrade (config .new),
 * remove, every refusal with a crafted archive (nothing written), and
 * interrupted transactions (fork + SIGKILL at hook points). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "pkg/libpkg/internal.h"
#include "tap.h"

static char T[64];

static void put(const char *path, const char *content, mode_t mode)
{
	char dir[512], *s;

	snprintf(dir, sizeof(dir), "%s", path);
	s = strrchr(dir, '/');
	if (s) {
		*s = '\0';
		mkdir_p(dir, 0755);
	}
	unlink(path);
	if (write_file_atomic(path, content, strlen(content), mode) < 0)
		printf("# cannot write %s\n", path);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;

	if (read_file(path, 1 << 20, &buf, &len) < 0)
		return NULL;
	return buf;
}

static bool has_content(const char *path, const char *want)
{
	char *c = slurp(path);
	bool r = c && strcmp(c, want) == 0;

	free(c);
	return r;
}

/* ------------------------------------------------------------- snapshot */
static FILE *snap_f;
static size_t snap_skip;

static int snap_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	char hex[65] = "-", tgt[256] = "";

	(void)flag;
	(void)ftw;
	if (strlen(path) <= snap_skip || strstr(path, "usr/lib/pkg/lock"))
		return 0;
	if (S_ISREG(st->st_mode))
		sha256_file_hex(path, hex);
	if (S_ISLNK(st->st_mode)) {
		ssize_t n = readlink(path, tgt, sizeof(tgt) - 1);
		tgt[n > 0 ? n : 0] = '\0';
	}
	fprintf(snap_f, "%s %o %u:%u %lld %s %s\n", path + snap_skip, (unsigned)st->st_mode,
		(unsigned)st->st_uid, (unsigned)st->st_gid, (long long)st->st_size, hex, tgt);
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every path below root with type, mode, owner, size, digest, target. */
static char *snapshot(const char *root)
{
	char *buf = NULL, *lines[4096], *out = NULL, *save = NULL;
	size_t len = 0, n = 0, olen = 0;
	FILE *o;

	snap_f = open_memstream(&buf, &len);
	snap_skip = strlen(root) + 1;
	nftw(root, snap_cb, 16, FTW_PHYS);
	fclose(snap_f);
	for (char *t = strtok_r(buf, "\n", &save); t && n < 4096; t = strtok_r(NULL, "\n", &save))
		lines[n++] = t;
	qsort(lines, n, sizeof(*lines), cmp_line);
	o = open_memstream(&out, &olen);
	for (size_t i = 0; i < n; i++)
		fprintf(o, "%s\n", lines[i]);
	fclose(o);
	free(buf);
	return out;
}

/* ------------------------------------------------------ crafted packages */
struct mem {
	char type; /* f d l c */
	const char *path;
	const char *data; /* file content, or symlink target */
};

static void sha_hex(const char *data, size_t n, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, hex);
}

/* Metadata text for the members (sorted by the caller). */
static char *meta_of(const char *name, const char *version, bool base, const struct mem *mm, size_t n)
{
	char *buf = NULL, hex[65];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fprintf(f, "pkgformat 1\nname %s\nversion %s\nrelease 1\narch amd64\nbase-files %d\n", name,
		version, base);
	for (size_t i = 0; i < n; i++) {
		switch (mm[i].type) {
		case 'f':
			sha_hex(mm[i].data, strlen(mm[i].data), hex);
			fprintf(f, "file %s 0644 0 0 %zu %s\n", mm[i].path, strlen(mm[i].data), hex);
			break;
		case 'd': fprintf(f, "dir %s 0755 0 0\n", mm[i].path); break;
		case 'l': fprintf(f, "symlink %s 0777 0 0 %s\n", mm[i].path, mm[i].data); break;
		case 'c': fprintf(f, "chardev %s 0600 0 0 5 1\n", mm[i].path); break;
		}
	}
	fclose(f);
	return buf;
}

/* Write a package: meta as first member (unless meta_last), then mm. */
static void write_pkg(const char *file, const char *meta, const struct mem *mm, size_t n, bool meta_last)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	archive_write_add_filter_gzip(a);
	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, file);
	for (size_t i = 0; i <= n; i++) {
		bool is_meta = meta_last ? i == n : i == 0;
		const struct mem *m = &mm[meta_last ? i : i - 1];

		archive_entry_clear(ae);
		if (is_meta) {
			archive_entry_set_pathname(ae, ".PKGINFO");
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0644);
			archive_entry_set_size(ae, (la_int64_t)strlen(meta));
			archive_write_header(a, ae);
			archive_write_data(a, meta, strlen(meta));
			continue;
		}
		archive_entry_set_pathname(ae, m->path);
		archive_entry_set_perm(ae, 0644);
		switch (m->type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, (la_int64_t)strlen(m->data));
			archive_write_header(a, ae);
			archive_write_data(a, m->data, strlen(m->data));
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_write_header(a, ae);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, m->data);
			archive_write_header(a, ae);
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_rdevmajor(ae, 5);
			archive_entry_set_rdevminor(ae, 1);
			archive_write_header(a, ae);
			break;
		}
	}
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(ae);
}

/* Install with the device-node permission for the package named allow
 * (NULL: for none). */
static int install_allowing(const char *root, const char *file, int flags, const char *allow,
			    struct pkg_install_result *res, struct space_err *err)
{
	struct pkg_install_opts o = { .flags = flags, .allow_devices = &allow, .n_allow_devices = allow ? 1 : 0 };
	struct pkg_db db;
	int r = pkg_db_open(root, true, &db, err);

	if (r < 0)
		return r;
	r = pkg_install(&db, file, &o, res, err);
	if (r < 0)
		pkg_db_discard_new(&db); /* as the tool does */
	pkg_db_close(&db);
	return r;
}

static int install_one(const char *root, const char *file, int flags, struct pkg_install_result *res,
		       struct space_err *err)
{
	return install_allowing(root, file, flags, NULL, res, err);
}

static int flags_for_user(void)
{
	return geteuid() == 0 ? 0 : PKG_NO_CHOWN;
}

/* Install a crafted package into root; it must be refused with want,
 * a reason containing why, and leave root exactly as it was. */
static void refused(const char *root, const char *name, const char *meta, const struct mem *mm,
		    size_t n, int want, const char *why)
{
	char file[256];
	struct space_err err = { "" };
	char *before = snapshot(root), *after;
	int r;

	snprintf(file, sizeof(file), "%s/crafted-%d.pkg", T, rand());
	write_pkg(file, meta, mm, n, false);
	r = install_one(root, file, flags_for_user(), NULL, &err);
	is_int(r, want, "refused: %s (%s)", name, err.msg);
	ok(strstr(err.msg, why) != NULL, "  reason for %s mentions '%s'", name, why);
	after = snapshot(root);
	ok(before && after && strcmp(before, after) == 0, "  %s: nothing written", name);
	if (before && after && strcmp(before, after) != 0)
		printf("# before:\n%s# after:\n%s", before, after);
	free(before);
	free(after);
	unlink(file);
}

static int build(const char *staging, const char *out, const char *name, const char *version,
		 const char *attrs, bool base)
{
	static const char *const config[] = { "etc/tool.conf" };
	struct pkg_build_opts o = {
		.name = name,
		.version = version,
		.release = "1",
		.arch = "amd64",
		.summary = "test package",
		.attrs_file = attrs,
		.base_files = base,
		.mtime = 1700000000,
	};
	struct space_err err = { "" };
	struct stat st;
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/etc/tool.conf", staging);
	if (stat(path, &st) == 0) {
		o.config = config;
		o.n_config = 1;
	}
	r = pkg_build(&o, staging, out, &err);
	if (r < 0)
		printf("# build %s: %s\n", out, err.msg);
	return r;
}

/* ---------------------------------------------------------------- verify */
struct vrec {
	int n, config;
	char last[256];
};

static void vcb(const char *pkg, const char *path, const char *what, bool config, void *ctx)
{
	struct vrec *v = ctx;

	(void)pkg;
	v->n++;
	v->config += config;
	snprintf(v->last, sizeof(v->last), "%s: %s", path, what);
}

static int verify_all(const char *root, int flags, struct vrec *v)
{
	struct space_err err = { "" };
	struct pkg_db db;
	int r, total = 0;

	memset(v, 0, sizeof(*v));
	r = pkg_db_open(root, false, &db, &err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < db.n_pkgs; i++) {
		r = pkg_verify(&db, &db.pkgs[i], flags, vcb, v);
		if (r < 0)
			break;
		total += r;
	}
	pkg_db_close(&db);
	return r < 0 ? r : total;
}

static char *installed_version(const char *root, const char *name)
{
	struct space_err err;
	struct pkg_db db;
	struct pkg_meta *m;
	char *v = NULL;

	if (pkg_db_open(root, false, &db, &err) < 0)
		return NULL;
	m = pkg_db_find(&db, name);
	if (m)
		v = xasprintf("%s%s%s", m->version, m->previous ? " prev " : "",
			      m->previous ? m->previous : "");
	pkg_db_close(&db);
	return v;
}

static bool version_is(const char *root, const char *name, const char *want)
{
	char *v = installed_version(root, name);
	bool r = want ? (v && strcmp(v, want) == 0) : v == NULL;

	if (!r)
		printf("#   installed version of %s: %s, want %s\n", name, v ? v : "(none)",
		       want ? want : "(none)");
	free(v);
	return r;
}

/* ------------------------------------------------------------------ tests */
static void make_staging(const char *s, int version)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/usr/bin/tool", s);
	put(p, version == 1 ? "tool v1\n" : version == 2 ? "tool v2\n" :
							   "tool v3\n",
	    0755);
	snprintf(p, sizeof(p), "%s/etc/tool.conf", s);
	put(p, version == 1 ? "a=1\n" : version == 2 ? "a=2\n" :
						       "a=3\n",
	    0644);
	snprintf(p, sizeof(p), "%s/usr/lib/libx.so.1", s);
	put(p, "lib\n", 0644);
	if (version == 1) {
		/* Larger than one 4 MiB compression chunk. */
		size_t n = (5u << 20) + 123;
		char *big = malloc(n + 1);
		unsigned x = 12345;

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			big[i] = (char)('a' + (x >> 16) % 26);
		}
		big[n] = '\0';
		snprintf(p, sizeof(p), "%s/usr/lib/big", s);
		put(p, big, 0644);
		free(big);
	}
	snprintf(p, sizeof(p), "%s/usr/lib/libx.so", s);
	unlink(p);
	if (symlink("libx.so.1", p) < 0)
		printf("# symlink failed\n");
	snprintf(p, sizeof(p), "%s/usr/share/doc/tool/README", s);
	if (version == 1) {
		put(p, "readme\n", 0644);
	} else {
		unlink(p);
		snprintf(p, sizeof(p), "%s/usr/share/doc/tool", s);
		rmdir(p);
	}
	snprintf(p, sizeof(p), "%s/usr/bin/tool2", s);
	if (version >= 2)
		put(p, "tool2\n", 0755);
}

/* The round trip's upgrades: a local change to the config file, then
 * version 2 (.new); the admin merges, then version 3. */
static void round_trip_upgrade(const char *s, const char *root, const char *attrs)
{
	char p2[128], p3[128], path[256];
	struct pkg_install_result res;
	struct space_err err = { "" };
	struct vrec v;
	int fl = flags_for_user();

	snprintf(p2, sizeof(p2), "%s/tool-2.pkg", T);
	snprintf(p3, sizeof(p3), "%s/tool-3.pkg", T);
	snprintf(path, sizeof(path), "%s/etc/tool.conf", root);
	put(path, "a=local\n", 0640);
	is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 0, "local config change is not corruption");
	ok(v.config == 1 && strstr(v.last, "etc/tool.conf: config changed locally"), "but it is reported");
	make_staging(s, 2);
	is_int(build(s, p2, "tool", "2", attrs, false), 0, "build version 2");
	is_int(install_one(root, p2, fl, &res, &err), 0, "upgrade to 2 (%s)", err.msg);
	ok(res.upgraded && res.n_new_configs == 1 && !strcmp(res.new_configs[0], "etc/tool.conf.new"),
	   "result names the .new file");
	ok(has_content(path, "a=local\n"), "locally changed config kept");
	snprintf(path, sizeof(path), "%s/etc/tool.conf.new", root);
	ok(has_content(path, "a=2\n"), "new config written as .new");
	snprintf(path, sizeof(path), "%s/usr/share/doc/tool/README", root);
	ok(access(path, F_OK) < 0, "file dropped by the new version removed");
	snprintf(path, sizeof(path), "%s/usr/share/doc/tool", root);
	ok(access(path, F_OK) < 0, "directory dropped by the new version removed");
	snprintf(path, sizeof(path), "%s/usr/bin/tool2", root);
	ok(has_content(path, "tool2\n"), "file added by the new version installed");
	ok(version_is(root, "tool", "2 prev 1-1"), "database records 2, previous 1-1");

	/* The admin merges; the next upgrade replaces an unchanged config. */
	snprintf(path, sizeof(path), "%s/etc/tool.conf.new", root);
	unlink(path);
	snprintf(path, sizeof(path), "%s/etc/tool.conf", root);
	put(path, "a=2\n", 0640);
	make_staging(s, 3);
	is_int(build(s, p3, "tool", "3", attrs, false), 0, "build version 3");
	is_int(install_one(root, p3, fl, &res, &err), 0, "upgrade to 3 (%s)", err.msg);
	ok(res.n_new_configs == 0 && has_content(path, "a=3\n"), "unchanged config replaced, no .new");
	is_int(verify_all(root, fl ? PKG_VERIFY_NO_OWNER : 0, &v), 0, "verify clean after upgrade");
}

/* The round trip's verify: it catches content, mode, type, target and
 * missing files. */
static void round_trip_verify(const char *root)
{
	char path[256];
	struct vrec v;

	snprintf(path, sizeof(path), "%s/usr/bin/tool", root);
	put(path, "tool v3\n", 0700);
	is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 1, "verify: mode change");
	put(path, "tool X3\n", 0755);
	is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 1, "verify: same-size content change");
	ok(strstr(v.last, "content differs") != NULL, "  reported as content");
	unlink(path);
	is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 1, "verify: missing file");
	ok(strstr(v.last, "missing") != NULL, "  reported as missing");
	if (mkdir(path, 0755) == 0) {
		is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 1, "verify: type change");
		rmdir(path);
	}
	snprintf(path, sizeof(path), "%s/usr/lib/libx.so", root);
	unlink(path);
	if (symlink("elsewhere", path) == 0) {
		is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 2, "verify: link target change");
		ok(strstr(v.last, "link target elsewhere") != NULL, "  reported as link target");
	}
	if (geteuid() == 0) {
		snprintf(path, sizeof(path), "%s/usr/lib/libx.so.1", root);
		if (chown(path, 1, 1) == 0)
			is_int(verify_all(root, 0, &v), 3, "verify: owner change (as root)");
	}
}

/* The round trip's remove. */
static void round_trip_remove(const char *root)
{
	char path[256];
	struct space_err err = { "" };

	{
		struct pkg_db db;
		ok(pkg_db_open(root, false, &db, &err) == 0 && pkg_remove(&db, "tool", &err) == 0,
		   "remove (%s)", err.msg);
		ok(db.n_pkgs == 0, "database empty after remove");
		pkg_db_close(&db);
	}
	/* usr/lib stays: it holds the database (PKG_DB_DIR). */
	snprintf(path, sizeof(path), "%s/usr/bin", root);
	ok(access(path, F_OK) < 0, "package directories removed");
	snprintf(path, sizeof(path), "%s/var", root);
	ok(access(path, F_OK) < 0, "  up to the top (var/log/tool, var/log, var)");
	ok(version_is(root, "tool", NULL), "not installed any more");
}

/* One tree, in order: build twice, install, upgrade twice, verify, remove. */
static void test_round_trip(void)
{
	char s[128], root[128], p1[128], p1b[128], path[256], attrs[128];
	struct pkg_install_result res;
	struct space_err err = { "" };
	struct vrec v;
	char *a, *b;
	size_t alen, blen;
	int fl = flags_for_user();

	snprintf(s, sizeof(s), "%s/staging", T);
	snprintf(root, sizeof(root), "%s/root", T);
	snprintf(p1, sizeof(p1), "%s/tool-1.pkg", T);
	snprintf(p1b, sizeof(p1b), "%s/tool-1b.pkg", T);
	snprintf(attrs, sizeof(attrs), "%s/attrs", T);
	mkdir(root, 0755);
	make_staging(s, 1);
	put(attrs, "etc/tool.conf f 0640 0 0\nvar/log/tool d 0750 0 0\nvar d 0755 0 0\nvar/log d 0755 0 0\n", 0644);

	is_int(build(s, p1, "tool", "1", attrs, false), 0, "build");
	is_int(build(s, p1b, "tool", "1", attrs, false), 0, "build again");
	ok(read_file(p1, 1 << 24, &a, &alen) == 0 && read_file(p1b, 1 << 24, &b, &blen) == 0 &&
		   alen == blen && memcmp(a, b, alen) == 0,
	   "two builds are byte-identical");
	free(a);
	free(b);

	is_int(install_one(root, p1, fl, &res, &err), 0, "install (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/usr/bin/tool", root);
	ok(has_content(path, "tool v1\n"), "file content installed");
	{
		char h1[65] = "", h2[65] = "", src[256];
		snprintf(src, sizeof(src), "%s/usr/lib/big", s);
		snprintf(path, sizeof(path), "%s/usr/lib/big", root);
		ok(sha256_file_hex(src, h1) == 0 && sha256_file_hex(path, h2) == 0 && !strcmp(h1, h2),
		   "a file spanning several gzip members round-trips");
	}
	snprintf(path, sizeof(path), "%s/var/log/tool", root);
	{
		struct stat st;
		ok(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0750,
		   "directory added by attrs, with its mode");
	}
	is_int(verify_all(root, fl ? PKG_VERIFY_NO_OWNER : 0, &v), 0, "verify clean after install");
	ok(version_is(root, "tool", "1"), "database records version 1");
	round_trip_upgrade(s, root, attrs);
	round_trip_verify(root);
	round_trip_remove(root);
}

/* The refusal tests' root: a crafted base package installed, a symlink on
 * disk that leaves the root (escape) and one that stays inside (bin).
 * Made once, by whichever refusal test runs first. */
static const char *refusals_root(void)
{
	static char root[128];
	char outside[128], base[128], path[256], *meta;
	struct space_err err = { "" };
	static const struct mem base_mm[] = {
		{ 'd', "etc", NULL },
		{ 'f', "etc/base.conf", "base\n" },
		{ 'd', "usr", NULL },
		{ 'd', "usr/bin", NULL },
		{ 'f', "usr/bin/owned", "owned\n" },
	};

	if (root[0])
		return root;
	snprintf(root, sizeof(root), "%s/r2", T);
	snprintf(outside, sizeof(outside), "%s/outside", T);
	snprintf(base, sizeof(base), "%s/base.pkg", T);
	mkdir(root, 0755);
	mkdir(outside, 0755);
	meta = meta_of("base", "1", false, base_mm, 5);
	write_pkg(base, meta, base_mm, 5, false);
	free(meta);
	is_int(install_one(root, base, flags_for_user(), NULL, &err), 0, "install a crafted base package (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/escape", root);
	ok(symlink("../outside", path) == 0, "a symlink on disk that leaves the root");
	snprintf(path, sizeof(path), "%s/bin", root);
	ok(symlink("usr/bin", path) == 0, "a symlink on disk that stays inside (bin -> usr/bin)");
	return root;
}

/* Paths that leave the root. */
static void test_refusals(void)
{
	const char *root = refusals_root();
	char path[256], *meta;

	{
		static const struct mem mm[] = { { 'f', "/etc/x", "x" } };
		meta = meta_of("evil", "1", false, mm, 1);
		refused(root, "absolute path", meta, mm, 1, -SPACE_E_UNSAFE_PATH, "absolute path");
		free(meta);
	}
	{
		static const struct mem mm[] = { { 'f', "etc/../../x", "x" } };
		meta = meta_of("evil", "1", false, mm, 1);
		refused(root, "'..' component", meta, mm, 1, -SPACE_E_UNSAFE_PATH, "'..'");
		free(meta);
	}
	{
		static const struct mem mm[] = { { 'f', "escape/pwned", "x" } };
		meta = meta_of("evil", "1", false, mm, 1);
		refused(root, "path through an on-disk symlink leaving the root", meta, mm, 1,
			-SPACE_E_UNSAFE_PATH, "escape/pwned: reached through the symlink escape");
		free(meta);
		snprintf(path, sizeof(path), "%s/outside/pwned", T);
		ok(access(path, F_OK) < 0, "  nothing written outside the root");
	}
	{
		static const struct mem mm[] = { { 'l', "lnk", ".." }, { 'f', "lnk/pwned", "x" } };
		meta = meta_of("evil", "1", false, mm, 2);
		refused(root, "path through a symlink of the same package", meta, mm, 2,
			-SPACE_E_UNSAFE_PATH, "non-directory entry lnk");
		free(meta);
	}
}

/* Members that do not match the metadata. */
static void test_refusals_members(void)
{
	const char *root = refusals_root();
	char *meta;

	{
		static const struct mem listed[] = { { 'f', "etc/a", "a" } };
		static const struct mem mm[] = { { 'f', "etc/a", "a" }, { 'f', "etc/b", "b" } };
		meta = meta_of("evil", "1", false, listed, 1);
		refused(root, "member not listed in the metadata", meta, mm, 2, -SPACE_E_FORMAT,
			"etc/b: member not listed");
		free(meta);
	}
	{
		static const struct mem listed[] = { { 'f', "etc/a", "a" }, { 'f', "etc/b", "b" } };
		static const struct mem mm[] = { { 'f', "etc/a", "a" } };
		meta = meta_of("evil", "1", false, listed, 2);
		refused(root, "listed file missing from the archive", meta, mm, 1, -SPACE_E_FORMAT,
			"etc/b: listed in the metadata but missing");
		free(meta);
	}
	{
		/* New directories made during the prepare are removed too. */
		static const struct mem listed[] = {
			{ 'd', "new", NULL },
			{ 'd', "new/sub", NULL },
			{ 'f', "new/sub/x", "hello" },
		};
		static const struct mem mm[] = {
			{ 'd', "new", NULL },
			{ 'd', "new/sub", NULL },
			{ 'f', "new/sub/x", "HELLO" },
		};
		meta = meta_of("evil", "1", false, listed, 3);
		refused(root, "digest mismatch below new directories", meta, mm, 3, -SPACE_E_DIGEST,
			"new/sub/x: sha256 mismatch");
		free(meta);
	}
	{
		static const struct mem listed[] = { { 'f', "etc/a", "hello" } };
		static const struct mem mm[] = { { 'f', "etc/a", "HELLO" } };
		meta = meta_of("evil", "1", false, listed, 1);
		refused(root, "digest mismatch", meta, mm, 1, -SPACE_E_DIGEST, "etc/a: sha256 mismatch");
		free(meta);
	}
	{
		static const struct mem listed[] = { { 'f', "etc/a", "hello" } };
		static const struct mem mm[] = { { 'f', "etc/a", "hello!" } };
		meta = meta_of("evil", "1", false, listed, 1);
		refused(root, "size mismatch", meta, mm, 1, -SPACE_E_DIGEST, "etc/a: size mismatch");
		free(meta);
	}
	{
		static const struct mem mm[] = { { 'f', "etc/a", "a" }, { 'f', "etc/a", "a" } };
		meta = meta_of("evil", "1", false, mm, 2);
		refused(root, "duplicate entry in the metadata", meta, mm, 2, -SPACE_E_FORMAT,
			"etc/a: duplicate entry");
		free(meta);
	}
	{
		static const struct mem listed[] = { { 'f', "etc/a", "a" } };
		static const struct mem mm[] = { { 'f', "etc/a", "a" }, { 'f', "etc/a", "a" } };
		meta = meta_of("evil", "1", false, listed, 1);
		refused(root, "duplicate member in the archive", meta, mm, 2, -SPACE_E_FORMAT,
			"etc/a: duplicate member");
		free(meta);
	}
}

/* What a package may not own: device files, another's directory modes or
 * files, the package database. */
static void test_refusals_owners(void)
{
	const char *root = refusals_root();
	struct space_err err = { "" };
	char *meta;

	{
		static const struct mem mm[] = { { 'c', "etc/console", NULL } };
		meta = meta_of("evil", "1", false, mm, 1);
		refused(root, "device file in a package that is not base-files", meta, mm, 1,
			-SPACE_E_FORMAT, "device file");
		free(meta);
	}
	{
		/* Issue 12, defect 13: a shared directory with another mode
		 * or owner than the package that has it already. */
		static const struct mem mm[] = { { 'd', "etc", NULL }, { 'f', "etc/mine", "mine\n" } };
		char *m2, *d;

		meta = meta_of("evil", "1", false, mm, 2);
		m2 = strdup(meta);
		d = strstr(m2, "dir etc 0755 0 0");
		memcpy(d, "dir etc 0700 0 5", 16);
		refused(root, "a shared directory with another mode and owner", m2, mm, 2, -SPACE_E_FORMAT,
			"etc: directory 0700 0:5, package base has it 0755 0:0");
		free(m2);
		free(meta);
	}
	{
		/* Issue 12, defect 12: claiming base-files in the metadata
		 * is not the permission. */
		static const struct mem mm[] = { { 'c', "dev/mem", NULL } };
		meta = meta_of("evil", "1", true, mm, 1);
		refused(root, "device node in a package that claims base-files", meta, mm, 1,
			-SPACE_E_FORMAT, "dev/mem: device node in package evil, which this install does not allow");
		free(meta);
	}
	{
		static const struct mem mm[] = { { 'f', "usr/bin/owned", "mine\n" } };
		meta = meta_of("evil", "1", false, mm, 1);
		refused(root, "conflict with another package's file", meta, mm, 1, -SPACE_E_FORMAT,
			"usr/bin/owned: conflicts with package base");
		free(meta);
	}
	{
		/* Issue 12, defect 9: a package rewriting another's record. */
		static const struct mem mm[] = {
			{ 'f', "usr/lib/pkg/installed/base", "pkgformat 1\nname base\n" },
		};
		meta = meta_of("evil", "1", false, mm, 1);
		refused(root, "a file inside the package database", meta, mm, 1, -SPACE_E_UNSAFE_PATH,
			"usr/lib/pkg/installed/base: inside the package database");
		free(meta);
	}
	{
		/* ... or reaching it through a symlink another package
		 * installed (a directory may meet a symlink). */
		static const struct mem lnk[] = { { 'l', "dbl", "usr/lib/pkg" } };
		static const struct mem mm[] = {
			{ 'd', "dbl", NULL },
			{ 'f', "dbl/installed/base", "pkgformat 1\nname base\n" },
		};
		char file[256];

		meta = meta_of("dblink", "1", false, lnk, 1);
		snprintf(file, sizeof(file), "%s/dblink.pkg", T);
		write_pkg(file, meta, lnk, 1, false);
		free(meta);
		is_int(install_one(root, file, flags_for_user(), NULL, &err), 0,
		       "install a package with a symlink to the database (%s)", err.msg);
		meta = meta_of("evil", "1", false, mm, 2);
		refused(root, "a file inside the package database through a symlink", meta, mm, 2,
			-SPACE_E_UNSAFE_PATH, "dbl/installed/base: reached through the symlink dbl");
		free(meta);
		ok(version_is(root, "base", "1"), "  the record of base is intact");
	}
}

/* A symlink's target or a member's type other than the metadata's. */
static void test_refusals_kinds(void)
{
	const char *root = refusals_root();
	char *meta;

	{
		static const struct mem listed[] = { { 'l', "etc/l", "target" } };
		static const struct mem mm[] = { { 'l', "etc/l", "/etc/shadow" } };
		meta = meta_of("evil", "1", false, listed, 1);
		refused(root, "symlink target differs from the metadata", meta, mm, 1, -SPACE_E_FORMAT,
			"etc/l: symlink target differs");
		free(meta);
	}
	{
		static const struct mem listed[] = { { 'f', "etc/a", "a" } };
		static const struct mem mm[] = { { 'd', "etc/a", NULL } };
		meta = meta_of("evil", "1", false, listed, 1);
		refused(root, "member type differs from the metadata", meta, mm, 1, -SPACE_E_FORMAT,
			"etc/a: member type differs");
		free(meta);
	}
}

/* A refused upgrade keeps the old version; a misplaced metadata member
 * writes nothing. */
static void test_refusals_upgrade(void)
{
	const char *root = refusals_root();
	struct space_err err = { "" };
	char *meta;

	{
		/* An upgrade whose last member is corrupt keeps the old version. */
		static const struct mem listed[] = {
			{ 'd', "etc", NULL },
			{ 'f', "etc/base.conf", "base2\n" },
			{ 'd', "usr", NULL },
			{ 'd', "usr/bin", NULL },
			{ 'f', "usr/bin/owned", "owned2\n" },
		};
		struct mem mm[5];
		memcpy(mm, listed, sizeof(mm));
		mm[4].data = "owned3\n";
		meta = meta_of("base", "2", false, listed, 5);
		refused(root, "corrupt upgrade", meta, mm, 5, -SPACE_E_DIGEST, "usr/bin/owned: sha256 mismatch");
		free(meta);
		ok(version_is(root, "base", "1"), "  version 1 still recorded");
	}
	{
		/* The metadata must be the first member. */
		static const struct mem mm[] = { { 'f', "etc/a", "a" } };
		char file[256], *before = snapshot(root), *after;
		int r;

		meta = meta_of("evil", "1", false, mm, 1);
		snprintf(file, sizeof(file), "%s/last.pkg", T);
		write_pkg(file, meta, mm, 1, true);
		r = install_one(root, file, 0, NULL, &err);
		is_int(r, -SPACE_E_FORMAT, "refused: metadata not the first member (%s)", err.msg);
		after = snapshot(root);
		ok(strcmp(before, after) == 0, "  nothing written");
		free(before);
		free(after);
		free(meta);
	}
}

/* A file through the on-disk symlink bin -> usr/bin. */
static void test_refusals_via_bin(void)
{
	const char *root = refusals_root();
	char path[256], *meta;

	{
		/* Even a symlink on disk that stays inside the root is not
		 * followed to an entry (pkg/FORMAT.md, section 5); the entry
		 * bin itself (a directory meeting the symlink) is fine. */
		static const struct mem mm[] = { { 'd', "bin", NULL }, { 'f', "bin/viabin", "via\n" } };

		meta = meta_of("viabin", "1", false, mm, 2);
		refused(root, "a file through bin -> usr/bin", meta, mm, 2, -SPACE_E_UNSAFE_PATH,
			"bin/viabin: reached through the symlink bin");
		free(meta);
		snprintf(path, sizeof(path), "%s/usr/bin/viabin", root);
		ok(access(path, F_OK) < 0, "  nothing in usr/bin");
	}
}

static const char *kill_point;

static void die_at(const char *point)
{
	if (strcmp(point, kill_point) == 0)
		kill(getpid(), SIGKILL);
}

/* Run fn(root, file) in a child that is SIGKILLed at point. */
static bool killed_install(const char *root, const char *file, const char *point)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct space_err err;
		kill_point = point;
		pkg_test_hook = die_at;
		install_one(root, file, flags_for_user(), NULL, &err);
		_exit(0);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	       WTERMSIG(status) == SIGKILL;
}

static bool leftovers(const char *root)
{
	char *s = snapshot(root);
	bool r = s && (strstr(s, ".pkgtmp~") || strstr(s, ".pkgnew~") || strstr(s, "usr/lib/pkg/txn"));

	free(s);
	return r;
}

static void recover(const char *root)
{
	struct space_err err = { "" };
	struct pkg_db db;

	if (pkg_db_open(root, false, &db, &err) < 0)
		printf("# recovery: %s\n", err.msg);
	else
		pkg_db_close(&db);
}

/* The kill tests after the commit point: the next run completes the
 * upgrade; leftovers of a half-written journal or database are harmless. */
static void kill_after_commit(const char *root, const char *p1, const char *p2)
{
	char path[256];
	struct space_err err = { "" };

	/* Killed after the commit point: the next run completes it. */
	snprintf(path, sizeof(path), "%s/usr/bin/tool", root);
	ok(killed_install(root, p2, "committed"), "install killed right after the commit point");
	ok(has_content(path, "tool v1\n"), "  nothing renamed yet");
	recover(root);
	ok(!leftovers(root) && has_content(path, "tool v2\n") && version_is(root, "tool", "2 prev 1-1"),
	   "  the next run completed the upgrade");

	is_int(install_one(root, p1, flags_for_user(), NULL, &err), 0, "back to version 1 (%s)", err.msg);
	ok(killed_install(root, p2, "renamed"), "install killed in the middle of the renames");
	recover(root);
	snprintf(path, sizeof(path), "%s/usr/share/doc/tool/README", root);
	ok(!leftovers(root) && access(path, F_OK) < 0 && version_is(root, "tool", "2 prev 1-1"),
	   "  the next run completed the upgrade");
	{
		struct vrec v;
		is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 0, "  and the tree verifies");
	}

	/* Leftovers of a journal or database write killed half-way. */
	snprintf(path, sizeof(path), "%s/usr/lib/pkg/txn", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/usr/lib/pkg/txn/.meta.tmp", root);
	put(path, "pkgformat 1\nname tr", 0644);
	snprintf(path, sizeof(path), "%s/usr/lib/pkg/installed/.tool.tmp", root);
	put(path, "pkgformat 1\nname tr", 0644);
	recover(root);
	ok(!leftovers(root) && version_is(root, "tool", "2 prev 1-1"),
	   "a half-written journal and database temporary are harmless");
}

/* Remove killed after its journal entry: completed by the next run. */
static void kill_remove(const char *root)
{
	char path[256];
	struct space_err err = { "" };
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct pkg_db db;
		kill_point = "remove-journalled";
		pkg_test_hook = die_at;
		if (pkg_db_open(root, false, &db, &err) == 0)
			pkg_remove(&db, "tool", &err);
		_exit(0);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "remove killed");
	recover(root);
	snprintf(path, sizeof(path), "%s/usr/bin/tool", root);
	ok(access(path, F_OK) < 0 && version_is(root, "tool", NULL) && !leftovers(root),
	   "  the next run completed the removal");
}

/* One tree, in order: killed before, then after the commit point, then a remove. */
static void test_kill(void)
{
	char root[128], p1[128], p2[128], path[256], *before, *after;
	struct space_err err = { "" };

	snprintf(root, sizeof(root), "%s/r3", T);
	snprintf(p1, sizeof(p1), "%s/tool-1.pkg", T);
	snprintf(p2, sizeof(p2), "%s/tool-2.pkg", T);
	mkdir(root, 0755);
	is_int(install_one(root, p1, flags_for_user(), NULL, &err), 0, "install version 1 (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/usr/bin/tool", root);

	/* Killed before the commit point: the previous state. */
	before = snapshot(root);
	ok(killed_install(root, p2, "prepared"), "install killed after extracting, before commit");
	ok(has_content(path, "tool v1\n"), "  old file intact right after the kill");
	ok(leftovers(root), "  the killed run left temporaries and a journal");
	recover(root);
	ok(!leftovers(root), "  the next run cleaned them up");
	after = snapshot(root);
	ok(strcmp(before, after) == 0, "  tree exactly as before the install");
	if (strcmp(before, after) != 0)
		printf("# before:\n%s# after:\n%s", before, after);
	free(before);
	free(after);
	ok(version_is(root, "tool", "1"), "  database still at version 1");

	/* Killed after the first member: a few temporaries, rolled back. */
	before = snapshot(root);
	ok(killed_install(root, p2, "member"), "install killed in the middle of extracting");
	recover(root);
	after = snapshot(root);
	ok(!leftovers(root) && strcmp(before, after) == 0, "  tree exactly as before the install");
	free(before);
	free(after);
	kill_after_commit(root, p1, p2);
	kill_remove(root);
}

static void test_devices(void)
{
	char s[128], root[128], file[128], attrs[128], path[256];
	struct space_err err = { "" };
	struct stat st;
	struct pkg_db db;

	snprintf(s, sizeof(s), "%s/devstage", T);
	snprintf(root, sizeof(root), "%s/r4", T);
	snprintf(file, sizeof(file), "%s/base-files.pkg", T);
	snprintf(attrs, sizeof(attrs), "%s/devattrs", T);
	snprintf(path, sizeof(path), "%s/etc/hostname", s);
	put(path, "space\n", 0644);
	put(attrs, "dev d 0755 0 0\ndev/console c 0600 0 5 5 1\ndev/sda b 0660 0 6 8 0\n", 0644);
	mkdir(root, 0755);
	ok(build(s, file, "base-files", "1", attrs, false) == -SPACE_E_FORMAT,
	   "device nodes need --base-files at build");
	is_int(build(s, file, "base-files", "1", attrs, true), 0, "build base-files with device nodes");
	{
		char *before = snapshot(root), *after;

		is_int(install_allowing(root, file, PKG_NO_CHOWN, "other", NULL, &err), -SPACE_E_FORMAT,
		       "base-files refused unless the install allows it devices (%s)", err.msg);
		after = snapshot(root);
		ok(before && after && strcmp(before, after) == 0, "  nothing written");
		free(before);
		free(after);
	}
	is_int(install_allowing(root, file, PKG_NO_CHOWN, "base-files", NULL, &err), 0,
	       "install --no-chown --allow-devices base-files (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/dev/console", root);
	ok(lstat(path, &st) < 0, "  no device node created");
	ok(pkg_db_open(root, false, &db, &err) == 0 && db.n_pkgs == 1 &&
		   pkg_meta_find(&db.pkgs[0], "dev/console") &&
		   pkg_meta_find(&db.pkgs[0], "dev/console")->gid == 5,
	   "  but recorded with its owner");
	pkg_db_close(&db);
	if (geteuid() != 0) {
		printf("ok %d # skip mknod needs root\n", ++tap_n);
		return;
	}
	{
		char root2[128];
		snprintf(root2, sizeof(root2), "%s/r5", T);
		mkdir(root2, 0755);
		is_int(install_allowing(root2, file, 0, "base-files", NULL, &err), 0, "install as root (%s)",
		       err.msg);
		snprintf(path, sizeof(path), "%s/dev/console", root2);
		ok(lstat(path, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 5 &&
			   minor(st.st_rdev) == 1 && st.st_gid == 5 && (st.st_mode & 07777) == 0600,
		   "  char device created with owner and mode");
	}
}

/* Issue 12, defect 11: where a locally changed config file's new version
 * goes (BASE.new) is checked before the commit point: a directory there
 * made the upgrade fail after it, and every later command with it. */
static void test_config_new_path(void)
{
	static const struct mem o_mm[] = { { 'f', "etc/tool.conf.new", "other's\n" } };
	char root[128], p1[128], p2[128], po[128], conf[256], newp[256], *before, *after, *meta;
	struct space_err err = { "" };
	struct pkg_db db;
	int r;

	snprintf(root, sizeof(root), "%s/cfgnew", T);
	snprintf(p1, sizeof(p1), "%s/tool-1.pkg", T);
	snprintf(p2, sizeof(p2), "%s/tool-2.pkg", T);
	snprintf(conf, sizeof(conf), "%s/etc/tool.conf", root);
	snprintf(newp, sizeof(newp), "%s/etc/tool.conf.new", root);
	mkdir(root, 0755);
	is_int(install_one(root, p1, flags_for_user(), NULL, &err), 0, "install version 1 (%s)", err.msg);
	put(conf, "a=local\n", 0644);
	ok(mkdir(newp, 0755) == 0, "etc/tool.conf changed locally, etc/tool.conf.new a directory");
	before = snapshot(root);
	r = install_one(root, p2, flags_for_user(), NULL, &err);
	is_int(r, -SPACE_E_FORMAT, "the upgrade is refused before the commit point (%s)", err.msg);
	ok(strstr(err.msg, "etc/tool.conf.new: is a directory on disk") != NULL, "  the reason names it");
	after = snapshot(root);
	ok(before && after && strcmp(before, after) == 0, "  nothing written");
	free(before);
	free(after);
	ok(!leftovers(root) && version_is(root, "tool", "1"), "  no journal left, version 1 recorded");
	r = pkg_db_open(root, false, &db, &err);
	is_int(r, 0, "  the next command opens the database (%s)", err.msg);
	if (r == 0)
		pkg_db_close(&db);
	rmdir(newp);
	is_int(install_one(root, p2, flags_for_user(), NULL, &err), 0, "without it the upgrade works (%s)",
	       err.msg);
	ok(has_content(newp, "a=2\n") && has_content(conf, "a=local\n"), "  new version beside the local one");

	/* BASE.new owned by another package: it would be replaced silently. */
	unlink(newp);
	is_int(install_one(root, p1, flags_for_user(), NULL, &err), 0, "back to version 1 (%s)", err.msg);
	snprintf(po, sizeof(po), "%s/other.pkg", T);
	meta = meta_of("other", "1", false, o_mm, 1);
	write_pkg(po, meta, o_mm, 1, false);
	free(meta);
	is_int(install_one(root, po, flags_for_user(), NULL, &err), 0,
	       "another package owns etc/tool.conf.new (%s)", err.msg);
	put(conf, "a=local\n", 0644);
	r = install_one(root, p2, flags_for_user(), NULL, &err);
	is_int(r, -SPACE_E_FORMAT, "the upgrade is refused (%s)", err.msg);
	ok(strstr(err.msg, "etc/tool.conf.new: belongs to package other") != NULL, "  the reason names it");
	ok(has_content(newp, "other's\n") && version_is(root, "tool", "1 prev 2-1"), "  the other file is intact");
}

static char garbage_path[256];

static void plant_garbage(const char *point)
{
	if (strcmp(point, "committed") == 0)
		put(garbage_path, "garbage\n", 0644);
}

/* Remove of a bad record clears it. */
static void bad_records_remove(const char *root, struct space_err *err)
{
	char path[256];
	struct pkg_db db;
	int r;

	r = pkg_db_open(root, false, &db, err);
	is_int(r, 0, "open for remove (%s)", err->msg);
	if (r == 0) {
		is_int(pkg_remove(&db, "junk", err), 1, "remove of a bad record removes the record (%s)",
		       err->msg);
		ok(db.n_bad == 1 && db.n_pkgs == 2, "  one bad record left, both packages still there");
		is_int(pkg_remove(&db, "nothere", err), -ENOENT, "  a name with no record is not installed");
		pkg_db_close(&db);
	}
	snprintf(path, sizeof(path), "%s/usr/lib/pkg/installed/junk", root);
	ok(access(path, F_OK) < 0, "  the record file is gone");
}

/* A bad record that appears during an install (as when a package could
 * still ship one) does not turn the finished install into "malformed
 * input, nothing written". */
static void bad_record_during_install(struct space_err *err)
{
	static const struct mem c_mm[] = { { 'f', "c", "c\n" } };
	char root2[128], file[256], *meta;

	snprintf(root2, sizeof(root2), "%s/badrec2", T);
	mkdir(root2, 0755);
	snprintf(garbage_path, sizeof(garbage_path), "%s/usr/lib/pkg/installed/junk", root2);
	snprintf(file, sizeof(file), "%s/c.pkg", T);
	meta = meta_of("c", "1", false, c_mm, 1);
	write_pkg(file, meta, c_mm, 1, false);
	free(meta);
	pkg_test_hook = plant_garbage;
	is_int(install_one(root2, file, flags_for_user(), NULL, err), 0,
	       "a bad record written during an install: the install succeeds (%s)", err->msg);
	pkg_test_hook = NULL;
	ok(version_is(root2, "c", "1"), "  and is recorded");
}

/* The list of bad records is bounded; the count is not. */
static void bad_records_bounded(const char *root, struct space_err *err)
{
	char path[256];
	struct pkg_db db;
	int r;

	for (int i = 0; i < PKG_DB_BAD_MAX + 4; i++) {
		snprintf(path, sizeof(path), "%s/usr/lib/pkg/installed/junk%02d", root, i);
		put(path, "", 0644);
	}
	r = pkg_db_open(root, false, &db, err);
	is_int(r, 0, "the database opens with %d bad records (%s)", PKG_DB_BAD_MAX + 5, err->msg);
	if (r == 0) {
		is_int((int)db.n_bad, PKG_DB_BAD_MAX + 5, "  all are counted");
		ok(pkg_db_find_bad(&db, "junk00") && pkg_db_find_bad(&db, "junk15") &&
			   !pkg_db_find_bad(&db, "junk16") && !pkg_db_find_bad(&db, "liar") && db.n_pkgs == 2,
		   "  the first %d by name are kept", PKG_DB_BAD_MAX);
		pkg_db_close(&db);
	}
}

/* Issue 12, defect 10: unreadable records in the database are skipped and
 * listed, never a reason to fail every command; the install that finds
 * them succeeds and says so; remove clears one. */
static void test_bad_records(void)
{
	static const struct mem a_mm[] = { { 'f', "a", "a\n" } };
	static const struct mem b_mm[] = { { 'f', "b", "b\n" } };
	char root[128], file[256], path[256], *meta;
	struct space_err err = { "" };
	struct pkg_db db;
	int r;

	snprintf(root, sizeof(root), "%s/badrec", T);
	mkdir(root, 0755);
	snprintf(file, sizeof(file), "%s/a.pkg", T);
	meta = meta_of("a", "1", false, a_mm, 1);
	write_pkg(file, meta, a_mm, 1, false);
	free(meta);
	is_int(install_one(root, file, flags_for_user(), NULL, &err), 0, "install a (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/usr/lib/pkg/installed/junk", root);
	put(path, "garbage\n", 0644);
	snprintf(path, sizeof(path), "%s/usr/lib/pkg/installed/liar", root);
	meta = meta_of("other", "1", false, b_mm, 1);
	put(path, meta, 0644);
	free(meta);

	r = pkg_db_open(root, false, &db, &err);
	is_int(r, 0, "the database opens with two bad records (%s)", err.msg);
	if (r == 0) {
		ok(db.n_pkgs == 1 && !strcmp(db.pkgs[0].name, "a"), "  the good record is loaded");
		ok(db.n_bad == 2 && !strcmp(db.bad[0].name, "junk") && !strcmp(db.bad[1].name, "liar"),
		   "  both bad records are listed, by name");
		ok(db.n_bad == 2 && strstr(db.bad[0].why, "line 1") &&
			   strstr(db.bad[1].why, "names package other"),
		   "  with their reasons (%s; %s)",
		   db.bad[0].why, db.bad[1].why);
		pkg_db_close(&db);
	}
	snprintf(file, sizeof(file), "%s/b.pkg", T);
	meta = meta_of("b", "1", false, b_mm, 1);
	write_pkg(file, meta, b_mm, 1, false);
	free(meta);
	is_int(install_one(root, file, flags_for_user(), NULL, &err), 0,
	       "an install beside bad records succeeds and says so (%s)", err.msg);
	ok(version_is(root, "b", "1"), "  and is recorded");
	{
		struct vrec v;
		is_int(verify_all(root, PKG_VERIFY_NO_OWNER, &v), 0, "  verify of the good packages works");
	}
	bad_records_remove(root, &err);
	bad_record_during_install(&err);
	bad_records_bounded(root, &err);
}

/* readlink(2) fills the whole buffer for a target it may have cut short:
 * the resolver must refuse it, not walk the prefix (here "d" and slashes,
 * an existing directory). */
static void test_long_symlink(void)
{
	char root[128], link[192], tgt[PATH_MAX];
	int rootfd, r;

	snprintf(root, sizeof(root), "%s/longlink", T);
	snprintf(link, sizeof(link), "%s/d", root);
	mkdir_p(link, 0755);
	memset(tgt, '/', sizeof(tgt));
	tgt[0] = 'd';
	tgt[PATH_MAX - 1] = '\0'; /* PATH_MAX - 1 bytes: the longest symlink(2) takes */
	snprintf(link, sizeof(link), "%s/long", root);
	ok(symlink(tgt, link) == 0, "symlink with a %d-byte target", PATH_MAX - 1);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	r = pkg_resolve_dir(rootfd, "long/sub");
	is_int(r, -ENAMETOOLONG, "resolving through it gives ENAMETOOLONG");
	if (r >= 0)
		close(r);
	r = pkg_resolve_dir(rootfd, "d");
	ok(r >= 0, "the directory itself still resolves");
	if (r >= 0)
		close(r);
	close(rootfd);
}

/* A failed OpenSSL step (a context without a digest fails every update
 * and final) is an error from pkg_hash_final, never a digest. */
static void test_hash_failure(void)
{
	struct pkg_hash h;
	char hex[65] = "x";

	is_int(pkg_hash_init(&h), 0, "pkg_hash_init");
	pkg_hash_update(&h, "abc", 3);
	EVP_MD_CTX_reset(h.ctx);
	is_int(pkg_hash_final(&h, hex), -EIO, "  a failed final is -EIO");
	ok(hex[0] == '\0' && h.ctx == NULL, "  with no digest, context freed");
	is_int(pkg_hash_init(&h), 0, "pkg_hash_init again");
	EVP_MD_CTX_reset(h.ctx);
	pkg_hash_update(&h, "abc", 3);
	is_int(pkg_hash_final(&h, hex), -EIO, "  a failed update is remembered until final");
}

/* The kill and config tests install tool-1.pkg and upgrade to tool-2.pkg,
 * which the round trip builds: run without it, they build them first (the
 * same staging trees, attributes and builds). */
static void tool_packages(void)
{
	char s[128], p[128], attrs[128];

	snprintf(p, sizeof(p), "%s/tool-2.pkg", T);
	if (access(p, F_OK) == 0)
		return;
	snprintf(s, sizeof(s), "%s/staging", T);
	snprintf(attrs, sizeof(attrs), "%s/attrs", T);
	put(attrs, "etc/tool.conf f 0640 0 0\nvar/log/tool d 0750 0 0\nvar d 0755 0 0\nvar/log d 0755 0 0\n", 0644);
	make_staging(s, 1);
	snprintf(p, sizeof(p), "%s/tool-1.pkg", T);
	is_int(build(s, p, "tool", "1", attrs, false), 0, "build tool 1");
	make_staging(s, 2);
	snprintf(p, sizeof(p), "%s/tool-2.pkg", T);
	is_int(build(s, p, "tool", "2", attrs, false), 0, "build tool 2");
}

static void run_kill(void)
{
	tool_packages();
	test_kill();
}

static void run_config_new_path(void)
{
	tool_packages();
	test_config_new_path();
}

int main(int argc, char **argv)
{
	snprintf(T, sizeof(T), "/tmp/test_pkg.XXXXXX");
	if (!mkdtemp(T))
		return 1;
	srand((unsigned)getpid());
	static const struct tap_test tests[] = {
		{ "/pkg/round_trip", test_round_trip },
		{ "/pkg/refusals", test_refusals },
		{ "/pkg/refusals/members", test_refusals_members },
		{ "/pkg/refusals/owners", test_refusals_owners },
		{ "/pkg/refusals/kinds", test_refusals_kinds },
		{ "/pkg/refusals/upgrade", test_refusals_upgrade },
		{ "/pkg/refusals/via_bin", test_refusals_via_bin },
		{ "/pkg/kill", run_kill },
		{ "/pkg/devices", test_devices },
		{ "/pkg/bad_records", test_bad_records },
		{ "/pkg/config_new_path", run_config_new_path },
		{ "/pkg/long_symlink", test_long_symlink },
		{ "/pkg/hash_failure", test_hash_failure },
		{ NULL, NULL },
	};
	int r = tap_run(argc, argv, tests);

	if (!getenv("KEEP"))
		run_argv((const char *const[]){ "rm", "-rf", T, NULL });
	return r;
}
