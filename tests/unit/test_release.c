/* SPDX-License-Identifier: MIT */
/* test_release.c - the release library: version order, the upgrade-path
 * matrix (the SPEC's table, from the data file in the tree), the manifest
 * parser and writer, name binding, application table, and the streaming
 * slot unpacker (memory bound, output bound, damaged frames). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "image/release/release.h"
#include "image/release/slot.h"
#include "tap.h"
#include "util.h"

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char good_mf[] =
	"format = 1\nproduct = space\nrelease = 21.3R1.1\nbuild = 0123abcd\nfile = space-21.3R1.1.img\n"
	"targets = kvm esxi ja2500\nkernel = 6.1.0-28-amd64\nslot.member = rootfs.ext4.zst\n"
	"slot.compression = zstd\nslot.size = 4096\nslot.sha256 = " H64 "\nslot.min-size = 4096\n"
	"slot.zst.size = 100\nslot.zst.sha256 = " H64 "\nslot.zst.window-log = 23\nupgrade-paths = 1\n"
	"upgrade-from = 21.1 21.2\napp.netdirector = 21.1R1 21.3R9\napp.secdir = 21.3R1 -\n";

static int cmpv(const char *a, const char *b)
{
	struct rel_version x, y;

	if (rel_version_parse(a, &x) < 0 || rel_version_parse(b, &y) < 0)
		return 99;
	return rel_version_cmp(&x, &y);
}

static void test_versions(void)
{
	static const char *const order[] = { "18.2", "21.3", "21.3R1", "21.3R1.3", "21.3R2", "21.3R10", "21.4R1", "22.1R1" };
	static const char *const bad[] = { "", "21", "21.", ".3", "21.3R", "21.3R1.", "21.3X1", "21.3r1",
					   "21.3R1.2.3.4.5", "1234567.1", "21.3 R1", "+21.3", "21.3R1-1" };
	struct rel_version v;
	char s[REL_VERSION_MAX];
	bool all = true;

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		for (size_t j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
			int c = cmpv(order[i], order[j]), want = i < j ? -1 : i > j ? 1 :
										      0;
			if ((c < 0 ? -1 : c > 0 ? 1 :
						  0) != want) {
				all = false;
				printf("#   %s vs %s: %d\n", order[i], order[j], c);
			}
		}
	ok(all, "21.3 < 21.3R1 < 21.3R1.3 < 21.3R2 < 21.3R10 < 21.4R1 < 22.1R1, every pair both ways");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(rel_version_parse(bad[i], &v), -SPACE_E_FORMAT, "'%s' is not a version", bad[i]);
	is_int(rel_version_parse("21.3R1.1", &v), 0, "21.3R1.1 parses");
	rel_train_str(&v, s);
	ok(!strcmp(s, "21.3") && v.n == 4, "its train is 21.3 (%s)", s);
}

static int load_paths(struct rel_paths *p)
{
	struct space_err err = { "" };
	const char *top = getenv("TOP");
	char *path = xasprintf("%s/image/release/upgrade-paths.conf", top ? top : ".");
	int r = rel_paths_load(path, p, &err);

	if (r < 0)
		printf("# %s: %s\n", path, err.msg);
	free(path);
	return r;
}

static bool allows(const struct rel_paths *p, const char *from, const char *to)
{
	struct rel_version a, b;

	return rel_version_parse(from, &a) == 0 && rel_version_parse(to, &b) == 0 && rel_paths_allows(p, &a, &b);
}

static void test_matrix(void)
{
	struct rel_paths *p = malloc(sizeof(*p));
	struct rel_version to, src[8];
	struct space_err err;
	char s[REL_VERSION_MAX], *big;
	unsigned n;

	is_int(load_paths(p), 0, "the tree's upgrade-paths.conf parses");
	is_int(p->nrows, 11, "11 rows, as the SPEC's table");
	ok(allows(p, "21.1R1", "21.3R1") && allows(p, "21.2R3", "21.3R1.1") && allows(p, "19.3R1", "20.3R2"),
	   "21.1 -> 21.3, 21.2 -> 21.3, 19.3 -> 20.3 supported");
	ok(!allows(p, "20.3R1", "21.3R1") && !allows(p, "20.1R1", "21.3R1") && !allows(p, "21.3R1", "21.1R1") &&
		   !allows(p, "18.2R1", "19.1R1"),
	   "20.3 -> 21.3, 20.1 -> 21.3, downgrade 21.3 -> 21.1, 18.2 -> 19.1 refused");
	rel_version_parse("21.3R1.1", &to);
	n = rel_paths_sources(p, &to, src, 8);
	rel_train_str(&src[0], s);
	ok(n == 2 && !strcmp(s, "21.1") && src[1].part[1] == 2, "21.3R1.1 may be installed over 21.1 and 21.2 (%u)", n);
	rel_version_parse("20.3R1", &to);
	is_int(rel_paths_sources(p, &to, src, 8), 3, "20.3 is reached from 19.3, 19.4, 20.1");

	is_int(rel_paths_parse("revision = 1\nformat = 1\n", 24, p, &err), -SPACE_E_FORMAT,
	       "format must come first");
	is_int(rel_paths_parse("format = 2\nrevision = 1\n", 24, p, &err), -SPACE_E_FORMAT, "format 2 refused");
	is_int(rel_paths_parse("format = 1\n21.1 = 21.2\n", 23, p, &err), -SPACE_E_FORMAT, "revision missing");
	ok(strstr(err.msg, "missing revision") != NULL, "names it: %s", err.msg);
	is_int(rel_paths_parse("format = 1\nrevision = 1\n21.1 = 21.2\n21.1 = 21.3\n", 47, p, &err),
	       -SPACE_E_FORMAT, "a train twice refused");
	ok(strstr(err.msg, "line 4") != NULL, "names the line: %s", err.msg);
	is_int(rel_paths_parse("format = 1\nrevision = 1\n21.1R1 = 21.2\n", 37, p, &err), -SPACE_E_FORMAT,
	       "a release (not a train) as a row refused");
	is_int(rel_paths_parse("format = 1\nrevision = 1\n21.1 = 21.2R1\n", 37, p, &err), -SPACE_E_FORMAT,
	       "a release as a target refused");
	is_int(rel_paths_parse("format = 1\nrevision = 1\n21.1 = 1.1 1.2 1.3 1.4 1.5 1.6 1.7 1.8 1.9\n", 66, p, &err),
	       -SPACE_E_FORMAT, "9 targets in a row refused (bound 8)");
	/* fill the row table: 64 rows fit, the 65th is refused */
	big = malloc(65 * 16 + 64);
	strcpy(big, "format = 1\nrevision = 1\n");
	for (int i = 1; i <= 64; i++)
		sprintf(big + strlen(big), "%d.1 = %d.2\n", i, i);
	is_int(rel_paths_parse(big, strlen(big), p, &err), 0, "64 rows fit");
	is_int(p->nrows, 64, "all 64 read");
	strcat(big, "65.1 = 65.2\n");
	is_int(rel_paths_parse(big, strlen(big), p, &err), -SPACE_E_FORMAT, "the 65th row is refused");
	ok(strstr(err.msg, "too many rows") != NULL, "named: %s", err.msg);
	free(big);
	free(p);
}

static int mfp(const char *text, struct rel_manifest *m, struct space_err *err)
{
	return rel_manifest_parse(text, strlen(text), m, err);
}

/* good_mf with the line starting with key replaced by repl ("" drops it). */
static int mf_with(const char *key, const char *repl, struct rel_manifest *m, struct space_err *err)
{
	char buf[2048];
	const char *p = strstr(good_mf, key), *e = p ? strchr(p, '\n') + 1 : NULL;

	if (!p)
		return 99;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - good_mf), good_mf, repl, e);
	return mfp(buf, m, err);
}

static void test_manifest(void)
{
	struct rel_manifest *m = malloc(sizeof(*m)), *m2 = malloc(sizeof(*m2));
	struct space_err err;
	char *text = NULL, *big;
	size_t len = 0;

	is_int(mfp(good_mf, m, &err), 0, "well-formed manifest parses");
	ok(!strcmp(m->product, "space") && !strcmp(m->release, "21.3R1.1") && m->ntargets == 3 &&
		   !strcmp(m->targets[2], "ja2500") && m->slot_size == 4096 && m->zst_size == 100 &&
		   m->slot_sha256[1] == 0x23 && m->nfrom == 2 && m->napps == 2 && m->window_log == 23,
	   "fields decoded");
	ok(rel_has_target(m, "esxi") && !rel_has_target(m, "xen"), "targets: esxi yes, xen no");
	is_int(rel_manifest_format(m, &text, &len), 0, "formats back");
	ok(text && len == strlen(good_mf) && !memcmp(text, good_mf, len), "byte-identical round trip");
	is_int(rel_manifest_parse(text, len, m2, &err), 0, "and parses again");
	free(text);

	is_int(mf_with("format", "format = 2\n", m, &err), -SPACE_E_FORMAT, "format 2 refused");
	ok(strstr(err.msg, "line 1") && strstr(err.msg, "format"), "named: %s", err.msg);
	is_int(mfp("product = space\nformat = 1\n", m, &err), -SPACE_E_FORMAT, "format not first refused");
	is_int(mf_with("kernel", "", m, &err), -SPACE_E_FORMAT, "missing kernel refused");
	ok(strstr(err.msg, "missing kernel") != NULL, "named: %s", err.msg);
	is_int(mf_with("kernel", "kernel = a\nkernel = b\n", m, &err), -SPACE_E_FORMAT, "key twice refused");
	is_int(mf_with("kernel", "kernel = a\nkernels = b\n", m, &err), -SPACE_E_FORMAT, "unknown key refused");
	is_int(mf_with("slot.sha256", "slot.sha256 = " H64 "0\n", m, &err), -SPACE_E_FORMAT, "65 hex digits refused");
	is_int(mf_with("slot.sha256", "slot.sha256 = 0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n", m, &err),
	       -SPACE_E_FORMAT, "upper-case hex refused");
	is_int(mf_with("slot.size", "slot.size = -1\n", m, &err), -SPACE_E_FORMAT, "negative size refused");
	is_int(mf_with("slot.size", "slot.size = 99999999999999999999\n", m, &err), -SPACE_E_FORMAT, "huge size refused");
	is_int(mf_with("slot.min-size", "slot.min-size = 4095\n", m, &err), -SPACE_E_FORMAT, "min-size below size refused");
	is_int(mf_with("slot.zst.window-log", "slot.zst.window-log = 31\n", m, &err), -SPACE_E_FORMAT,
	       "a window over 8 MiB refused (reader memory bound)");
	is_int(mf_with("file", "file = ../space.img\n", m, &err), -SPACE_E_FORMAT, "file with a path refused");
	is_int(mf_with("slot.member", "slot.member = other.zst\n", m, &err), -SPACE_E_FORMAT, "another slot member refused");
	is_int(mf_with("release", "release = 21.3\n", m, &err), -SPACE_E_FORMAT, "a train as release refused");
	is_int(mf_with("targets", "targets = kvm kvm\n", m, &err), -SPACE_E_FORMAT, "a target twice refused");
	is_int(mf_with("targets", "targets = a b c d e f g h i\n", m, &err), -SPACE_E_FORMAT, "9 targets refused");
	is_int(mf_with("targets", "targets = kvm ../x\n", m, &err), -SPACE_E_FORMAT, "a path as target refused");
	is_int(mf_with("upgrade-from", "upgrade-from = \n", m, &err), -SPACE_E_FORMAT, "empty upgrade-from refused");
	is_int(mf_with("app.secdir", "app.secdir = 21.3R2 21.3R1\n", m, &err), -SPACE_E_FORMAT, "app min > max refused");
	is_int(mf_with("app.secdir", "app.netdirector = 21.3R1 -\n", m, &err), -SPACE_E_FORMAT, "app twice refused");
	is_int(mf_with("app.secdir", "app.x/y = 21.3R1 -\n", m, &err), -SPACE_E_FORMAT, "app name with / refused");
	is_int(mf_with("app.secdir", "app.secdir = 21.3R1\n", m, &err), -SPACE_E_FORMAT, "app without max refused");
	is_int(mf_with("app.secdir", "", m, &err), 0, "one application is fine");
	{
		char buf[2048];
		snprintf(buf, sizeof(buf), "%.*s", (int)(strstr(good_mf, "app.") - good_mf), good_mf);
		is_int(mfp(buf, m, &err), 0, "an empty application table is fine");
		is_int(m->napps, 0, "no applications");
	}
	is_int(rel_manifest_parse("format = 1\0", 11, m, &err), -SPACE_E_FORMAT, "NUL byte refused");

	/* fill the application table: 64 fit, the 65th is refused */
	big = malloc(8192);
	snprintf(big, 8192, "%.*s", (int)(strstr(good_mf, "app.") - good_mf), good_mf);
	for (int i = 0; i < REL_MAX_APPS; i++)
		sprintf(big + strlen(big), "app.a%d = 1.1R1 -\n", i);
	is_int(mfp(big, m, &err), 0, "64 applications fit");
	is_int(m->napps, REL_MAX_APPS, "all 64 read");
	strcat(big, "app.last = 1.1R1 -\n");
	is_int(mfp(big, m, &err), -SPACE_E_FORMAT, "the 65th application is refused");
	ok(strstr(err.msg, "too many applications") != NULL, "named: %s", err.msg);
	free(big);
	free(m);
	free(m2);
}

static void test_checks(void)
{
	struct rel_manifest *m = malloc(sizeof(*m));
	struct space_err err, why;

	mfp(good_mf, m, &err);
	is_int(rel_check_file_name(m, "/var/tmp/space-21.3R1.1.img", &why), 0, "right name (with a path) ok");
	is_int(rel_check_file_name(m, "space-21.3R2.img", &why), -SPACE_E_FORMAT, "renamed file refused");
	ok(strstr(why.msg, "space-21.3R2.img") && strstr(why.msg, "space-21.3R1.1.img"), "both names given: %s", why.msg);
	is_int(rel_check_file_name(m, "x\x1b[2Jy.img", &why), -SPACE_E_FORMAT, "escape in name refused");
	ok(!strchr(why.msg, '\x1b'), "and not echoed raw: %s", why.msg);

	is_int(rel_check_upgrade(m, "21.1R1", &why), 0, "21.1R1 -> 21.3R1.1 ok");
	is_int(rel_check_upgrade(m, "21.2R3.4", &why), 0, "21.2R3.4 -> 21.3R1.1 ok");
	is_int(rel_check_upgrade(m, "21.3R1", &why), 0, "21.3R1 -> 21.3R1.1 (same train, later) ok");
	is_int(rel_check_upgrade(m, "21.3R1.1", &why), 0, "same release again ok (reinstall)");
	is_int(rel_check_upgrade(m, "21.3R2", &why), -EPERM, "21.3R2 -> 21.3R1.1 refused");
	ok(strstr(why.msg, "downgrade") != NULL, "as a downgrade: %s", why.msg);
	is_int(rel_check_upgrade(m, "20.3R1", &why), -EPERM, "20.3R1 -> 21.3R1.1 refused");
	ok(strstr(why.msg, "20.3R1 -> 21.3R1.1") && strstr(why.msg, "21.1 21.2"), "names the supported paths: %s", why.msg);
	is_int(rel_check_upgrade(m, "22.1R1", &why), -EPERM, "22.1R1 -> 21.3R1.1 refused");
	is_int(rel_check_upgrade(m, "bogus", &why), -SPACE_E_FORMAT, "a bogus running release refused");

	is_int(rel_app_check(m, "netdirector", "21.2R1"), REL_APP_OK, "app in range");
	is_int(rel_app_check(m, "netdirector", "21.1R1"), REL_APP_OK, "app at min");
	is_int(rel_app_check(m, "netdirector", "21.3R9"), REL_APP_OK, "app at max");
	is_int(rel_app_check(m, "netdirector", "20.3R1"), REL_APP_TOO_OLD, "app too old");
	is_int(rel_app_check(m, "netdirector", "21.3R9.1"), REL_APP_TOO_NEW, "app too new");
	is_int(rel_app_check(m, "secdir", "99.1R1"), REL_APP_OK, "no max: any newer ok");
	is_int(rel_app_check(m, "secdir", "21.2R9"), REL_APP_TOO_OLD, "no max: older refused");
	is_int(rel_app_check(m, "other", "1.1R1"), REL_APP_UNLISTED, "unlisted application");
	is_int(rel_app_check(m, "secdir", "x"), -SPACE_E_FORMAT, "bad app version");

	is_int(rel_apps_parse("format = 1\nsecdir = 21.3R1 -\n", 29, m, &err), 0, "apps data file parses");
	is_int(m->napps, 1, "one application");
	is_int(rel_apps_parse("format = 1\n", 11, m, &err), 0, "empty apps data file parses");
	is_int(m->napps, 0, "no applications");
	is_int(rel_apps_parse("secdir = 21.3R1 -\n", 18, m, &err), -SPACE_E_FORMAT, "apps file without format refused");
	free(m);
}

struct sink {
	uint64_t got, next;
	bool in_order;
};

static int sink_fn(void *ctx, const void *p, size_t n, uint64_t off)
{
	struct sink *s = ctx;

	(void)p;
	s->in_order &= off == s->next;
	s->next = off + n;
	s->got += n;
	return 0;
}

static size_t zst(const void *src, size_t n, void *dst, size_t cap, int wlog)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	size_t r;

	ZSTD_CCtx_setParameter(cc, ZSTD_c_windowLog, wlog);
	ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 3);
	r = ZSTD_compress2(cc, dst, cap, src, n);
	ZSTD_freeCCtx(cc);
	return ZSTD_isError(r) ? 0 : r;
}

/* Feed in pieces of step bytes. */
static int unpack(const void *p, size_t n, size_t step, unsigned wlog, uint64_t max, struct sink *s,
		  unsigned char sha[32], uint64_t *out, const char **why)
{
	struct rel_unpack *u;
	int r = rel_unpack_new(&u, wlog, max, sink_fn, s);

	for (size_t i = 0; r == 0 && i < n; i += step)
		r = rel_unpack_feed(u, (const char *)p + i, n - i < step ? n - i : step);
	if (r == 0)
		r = rel_unpack_end(u, sha, out);
	*why = rel_unpack_why(u);
	rel_unpack_free(u);
	return r;
}

static void test_unpack(void)
{
	size_t n = 24u << 20, cap = ZSTD_compressBound(n) + 1024, zn, bign;
	unsigned char *src = malloc(n), *z = malloc(cap), sha[32], want[32];
	struct sink s = { .in_order = true };
	const char *why;
	uint64_t out = 0;

	for (size_t i = 0; i < n; i++) /* compressible, but not runs only */
		src[i] = (unsigned char)(i < (8u << 20) ? 0 : (i * 2654435761u) >> 13);
	zn = zst(src, n, z, cap, REL_ZSTD_WINDOW_LOG);
	ok(zn > 0, "test frame: %zu bytes", zn);
	EVP_Digest(src, n, want, NULL, EVP_sha256(), NULL);
	is_int(unpack(z, zn, 7777, REL_ZSTD_WINDOW_LOG, n, &s, sha, &out, &why), 0, "unpacks (odd feed sizes)");
	ok(out == n && s.got == n && s.in_order && !memcmp(sha, want, 32), "size, order and SHA-256 of the output");
	is_int(unpack(z, zn, zn, REL_ZSTD_WINDOW_LOG, n - 1, &s, sha, &out, &why), -EFBIG, "output over max_out refused");
	ok(why && strstr(why, "more bytes"), "named: %s", why);
	is_int(unpack(z, zn - 10, 65536, REL_ZSTD_WINDOW_LOG, n, &s, sha, &out, &why), -SPACE_E_FORMAT, "truncated frame refused");
	ok(why && strstr(why, "incomplete"), "named: %s", why);
	memcpy(z + zn, "junk", 4);
	is_int(unpack(z, zn + 4, 65536, REL_ZSTD_WINDOW_LOG, n, &s, sha, &out, &why), -SPACE_E_FORMAT, "bytes after the frame refused");
	ok(why && strstr(why, "after the end"), "named: %s", why);
	z[zn / 2] ^= 0x40;
	{
		int r = unpack(z, zn, 65536, REL_ZSTD_WINDOW_LOG, n, &s, sha, &out, &why);
		ok(r == -SPACE_E_FORMAT || (r == 0 && memcmp(sha, want, 32)), "a flipped byte: refused or another SHA-256 (%d)", r);
	}
	is_int(unpack("not zstd at all", 15, 15, REL_ZSTD_WINDOW_LOG, n, &s, sha, &out, &why), -SPACE_E_FORMAT, "not zstd refused");
	/* a frame needing a 32 MiB window: the reader would have to allocate
	 * it; refused instead */
	bign = zst(src, n, z, cap, 25);
	is_int(unpack(z, bign, 65536, REL_ZSTD_WINDOW_LOG, n, &s, sha, &out, &why), -SPACE_E_FORMAT, "a 32 MiB window frame refused");
	ok(why && strstr(why, "window"), "named: %s", why);
	free(src);
	free(z);
}

static void test_pack(void)
{
	char path[] = "/tmp/test_release.XXXXXX", zpath[] = "/tmp/test_release_z.XXXXXX";
	int fd = mkstemp(path), zfd = mkstemp(zpath);
	unsigned char *buf = malloc(1 << 20), *z = NULL, sha[32];
	struct rel_pack_result res, res2;
	struct rel_pack_opts o = { 3, 1 }, o2 = { 3, 2 };
	struct sink s = { .in_order = true };
	const char *why;
	uint64_t out;
	char *zb = NULL;
	size_t zlen = 0;

	/* 64 MiB: 1 MiB of data at 4 MiB, the rest a hole */
	for (int i = 0; i < (1 << 20); i++)
		buf[i] = (unsigned char)(i * 7 + (i >> 9));
	ok(fd >= 0 && zfd >= 0 && ftruncate(fd, 64 << 20) == 0 && pwrite(fd, buf, 1 << 20, 4 << 20) == 1 << 20, "sparse input");
	is_int(rel_pack(fd, 1 << 20, 62 << 20, zfd, &o, &res), 0, "packs a range of it");
	ok(res.in_bytes == 62u << 20 && res.hole_bytes >= (60u << 20) && res.out_bytes < (1u << 20) + 65536,
	   "holes not read (%llu of %llu), small output (%llu)", (unsigned long long)res.hole_bytes,
	   (unsigned long long)res.in_bytes, (unsigned long long)res.out_bytes);
	is_int(read_file(zpath, 16 << 20, &zb, &zlen), 0, "read back");
	is_int(unpack(zb, zlen, 100000, REL_ZSTD_WINDOW_LOG, res.in_bytes, &s, sha, &out, &why), 0, "unpacks");
	ok(out == res.in_bytes && !memcmp(sha, res.in_sha256, 32), "same size and SHA-256 as packed");
	EVP_Digest(zb, zlen, sha, NULL, EVP_sha256(), NULL);
	ok(zlen == res.out_bytes && !memcmp(sha, res.out_sha256, 32), "packed SHA-256 is the frame's");
	ok(ftruncate(zfd, 0) == 0 && lseek(zfd, 0, SEEK_SET) == 0, "reset");
	is_int(rel_pack(fd, 1 << 20, 62 << 20, zfd, &o2, &res2), 0, "packs with 2 threads");
	ok(!memcmp(res.out_sha256, res2.out_sha256, 32), "same bytes with 1 and 2 threads");
	free(zb);
	free(z);
	free(buf);
	close(fd);
	close(zfd);
	unlink(path);
	unlink(zpath);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/release/versions", test_versions },
		{ "/release/matrix", test_matrix },
		{ "/release/manifest", test_manifest },
		{ "/release/checks", test_checks },
		{ "/release/unpack", test_unpack },
		{ "/release/pack", test_pack },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
