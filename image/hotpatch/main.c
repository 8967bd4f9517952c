/* SPDX-License-Identifier: MIT */
/* main.c - `mkhotpatch`: the signed hot-patch bundle
 * Space-<release>-Hotpatch-v<N>.tgz (pkg/hotpatch/manifest.h) from a patch
 * definition of the tree (def.h), the program packages rebuilt from the
 * patched sources, and patchme.sh. Host only: `make hotpatch HOTPATCH=N`
 * (image/hotpatch/module.mk) runs it. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image/ova/sign.h"
#include "def.h"
#include "exitcode.h"
#include "pkg/libpkg/libpkg.h"
#include "tgz.h"
#include "util.h"

#define USAGE                                                                                        \
	"usage: mkhotpatch plan --def DIR/vN.conf [--fixes DIR]\n"                                   \
	"       mkhotpatch build --def DIR/vN.conf [--fixes DIR] --product NAME --version VER\n"     \
	"                  --script patchme.sh --out DIR\n"                                          \
	"                  (--pki DIR | --key KEY.pem --cert CERT.pem [--chain CHAIN.pem]) PKG...\n" \
	"\n"                                                                                         \
	"plan checks the patch definition DIR/vN.conf (image/hotpatch/def.h): it carries\n"          \
	"everything DIR/v(N-1).conf carries (patches are cumulative), and each fix has its\n"        \
	"patch file (--fixes, default DIR/fixes/<id>.patch); then prints one `fix <id>` line\n"      \
	"per fix, in the order to apply them, and one `package <name> <release>` line per\n"         \
	"package to rebuild.\n"                                                                      \
	"\n"                                                                                         \
	"build checks the same, then writes DIR/Space-<release>-Hotpatch-vN.tgz (<release>:\n"       \
	"VER cut after its R part, 21.3R1.1 -> 21.3R1) holding one directory of that name\n"         \
	"with patchme.sh, the manifest, manifest.sig (RSA PKCS#1 v1.5 SHA-256, as `openssl\n"        \
	"dgst -sha256 -sign` makes), manifest.cert.pem, manifest.chain.pem and\n"                    \
	"packages/<name>-<version>-<release>.pkg: every PKG, each a package of the definition\n"     \
	"at its package release and at version VER. Beside it X.tgz.md5 and X.tgz.sha256\n"          \
	"(`md5sum -c`, `sha256sum -c` in DIR). Reproducible: members sorted, mtime\n"                \
	"$SOURCE_DATE_EPOCH (else 0), owner 0:0 without names, gzip without name or time.\n"         \
	"--pki DIR signs with the development PKI of `mkova pki`.\n"                                 \
	"\n"                                                                                         \
	"Exit status: 0 success, 1 refused input (definition, package, keys), 100 usage,\n"          \
	"111 I/O or system error (the contract of every space tool: README.md, Exit codes).\n"

#define SCRIPT_MAX (64u << 10)
#define PACKAGE_MAX (256u << 20)

struct args {
	const char *cmd, *def, *fixes, *product, *version, *script, *out, *pki, *key, *cert, *chain;
	char **pkgs;
	int npkgs;
};

/* A package given on the command line, read whole: the bytes hashed for
 * the manifest are the bytes put into the bundle. */
struct input {
	const char *path;
	char name[HP_TOKEN_MAX], version[HP_TOKEN_MAX], release[HP_TOKEN_MAX];
	char *data;
	size_t len;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "def", required_argument, NULL, 'd' },
		{ "fixes", required_argument, NULL, 'f' },
		{ "product", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'v' },
		{ "script", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "pki", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "chain", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	if (argc < 2)
		return -1;
	a->cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': a->def = optarg; break;
		case 'f': a->fixes = optarg; break;
		case 'p': a->product = optarg; break;
		case 'v': a->version = optarg; break;
		case 's': a->script = optarg; break;
		case 'o': a->out = optarg; break;
		case 'P': a->pki = optarg; break;
		case 'k': a->key = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'C': a->chain = optarg; break;
		default: return -1;
		}
	}
	a->pkgs = argv + optind;
	a->npkgs = argc - optind;
	if (!a->def)
		return -1;
	if (!strcmp(a->cmd, "plan"))
		return a->npkgs ? -1 : 0;
	if (strcmp(a->cmd, "build") || !a->product || !a->version || !a->script || !a->out || a->npkgs < 1 ||
	    !a->pki == !a->key || (a->key && !a->cert))
		return -1;
	return 0;
}

/* ---------------------------------------------------------- definitions */

/* dir/v<level>.conf beside def, malloc'd. */
static char *def_beside(const char *def, unsigned level)
{
	char *copy = strdup(def), *p = NULL;

	if (copy)
		p = xasprintf("%s/v%u.conf", dirname(copy), level);
	free(copy);
	return p;
}

/* Every fix has its patch file in dir. */
static int check_fix_files(const struct hp_def *d, const char *dir)
{
	struct stat st;
	char *p;
	int r = 0;

	for (unsigned i = 0; r == 0 && i < d->m.nfix; i++) {
		errno = 0;
		p = xasprintf("%s/%s.patch", dir, d->m.fix[i].id);
		if (!p)
			return die_err("read", dir, -ENOMEM, NULL);
		if (stat(p, &st) < 0 && errno != ENOENT)
			r = die_err("check", p, -errno, NULL);
		else if (errno == ENOENT || !S_ISREG(st.st_mode))
			r = die_msg(EXIT_REFUSED, "check", p, "unknown fix id: no such patch file");
		free(p);
	}
	return r;
}

/* Load the definition and the one before it, check that it is cumulative
 * and that each fix has its file. An exit code (0: good). */
static int load_defs(const struct args *a, struct hp_def *cur, struct hp_def *prev)
{
	struct space_err err = { "" };
	char *prevpath = NULL, *fixdir = NULL, *copy = NULL;
	int r, rc;

	if ((r = hp_def_load(a->def, cur, &err)) < 0)
		return die_err("read", a->def, r, err.msg);
	if (cur->m.patch > 1) {
		if (!(prevpath = def_beside(a->def, cur->m.patch - 1))) {
			rc = die_err("read", a->def, -ENOMEM, NULL);
			goto out;
		}
		r = hp_def_load(prevpath, prev, &err);
		if (r == -ENOENT)
			r = err_set(&err, -SPACE_E_FORMAT, "missing: v%u carries everything v%u carried, which is not defined",
				    cur->m.patch, cur->m.patch - 1);
		if (r < 0) {
			rc = die_err("read", prevpath, r, err.msg);
			goto out;
		}
		if ((r = hp_def_check_cumulative(prev, cur, &err)) < 0) {
			rc = die_err("check", a->def, r, err.msg);
			goto out;
		}
	}
	copy = strdup(a->def);
	fixdir = a->fixes ? strdup(a->fixes) : copy ? xasprintf("%s/fixes", dirname(copy)) :
						      NULL;
	rc = fixdir ? check_fix_files(cur, fixdir) : die_err("read", a->def, -ENOMEM, NULL);
out:
	free(prevpath);
	free(fixdir);
	free(copy);
	return rc;
}

static int plan(const struct hp_def *d)
{
	for (unsigned i = 0; i < d->m.nfix; i++)
		printf("fix %s\n", d->m.fix[i].id);
	for (unsigned i = 0; i < d->npkg; i++)
		printf("package %s %u\n", d->pkg[i].name, d->pkg[i].release);
	return fflush(stdout) == 0 ? EXIT_OK : die_err("write", "stdout", -errno, NULL);
}

/* ------------------------------------------------------------ packages */

/* Read one package: its metadata must name a package of the definition,
 * at its package release and at version. */
static int load_package(const char *path, const struct hp_def *d, const char *version, struct input *in)
{
	struct pkg_meta meta = { 0 };
	struct space_err perr = { "" };
	const struct hp_def_pkg *want;
	char rel[16], why[512] = "";
	int r = pkg_read_meta(path, &meta, &perr);

	in->path = path;
	if (r < 0)
		return die_err("read", path, r, perr.msg);
	want = hp_def_find_pkg(d, meta.name);
	snprintf(rel, sizeof(rel), "%u", want ? want->release : 0);
	if (!want)
		snprintf(why, sizeof(why), "package %s is not in v%u.conf", meta.name, d->m.patch);
	else if (strcmp(meta.release, rel))
		snprintf(why, sizeof(why), "package %s has release %s, v%u.conf says %s", meta.name, meta.release,
			 d->m.patch, rel);
	else if (strcmp(meta.version, version))
		snprintf(why, sizeof(why), "package %s has version %s, the build is %s", meta.name, meta.version,
			 version);
	snprintf(in->name, sizeof(in->name), "%s", meta.name);
	snprintf(in->version, sizeof(in->version), "%s", meta.version);
	snprintf(in->release, sizeof(in->release), "%s", meta.release);
	pkg_meta_free(&meta);
	if (why[0])
		return die_err("check", path, -SPACE_E_FORMAT, why);
	r = read_file(path, PACKAGE_MAX, &in->data, &in->len);
	return r < 0 ? die_err("read", path, r, NULL) : 0;
}

static int cmp_input(const void *a, const void *b)
{
	return strcmp(((const struct input *)a)->name, ((const struct input *)b)->name);
}

/* Every package given once, all of the definition's there. */
static int load_packages(const struct args *a, const struct hp_def *d, struct input *in)
{
	int rc;

	if ((unsigned)a->npkgs > HP_MAX_PACKAGES)
		return die_msg(EXIT_USAGE, "build", NULL, "more packages than a bundle holds (32)");
	for (int i = 0; i < a->npkgs; i++)
		if ((rc = load_package(a->pkgs[i], d, a->version, &in[i])) != 0)
			return rc;
	qsort(in, (size_t)a->npkgs, sizeof(*in), cmp_input);
	for (int i = 1; i < a->npkgs; i++)
		if (!strcmp(in[i - 1].name, in[i].name))
			return die_err("check", in[i].path, -SPACE_E_FORMAT, "the same package given twice");
	for (unsigned i = 0; i < d->npkg; i++) {
		int k = 0;
		while (k < a->npkgs && strcmp(in[k].name, d->pkg[i].name))
			k++;
		if (k == a->npkgs) {
			char why[256];
			snprintf(why, sizeof(why), "package %s of the definition is not given", d->pkg[i].name);
			return die_err("check", a->def, -SPACE_E_FORMAT, why);
		}
	}
	return 0;
}

/* ------------------------------------------------------------ manifest */

static int sha256(const void *data, size_t len, unsigned char md[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) == 1 && n == 32 ? 0 : -EIO;
}

static int add_package_line(struct hp_manifest *m, const struct input *in)
{
	unsigned char md[32];
	char hex[65], *line;
	const char *why;
	int r = sha256(in->data, in->len, md);

	if (r < 0)
		return die_err("hash", in->path, r, NULL);
	hex_encode(md, 32, hex);
	line = xasprintf("%s %s %s %zu %s", in->name, in->version, in->release, in->len, hex);
	if (!line)
		return die_err("hash", in->path, -ENOMEM, NULL);
	why = hp_manifest_add(m, "package", line);
	free(line);
	return why ? die_err("check", in->path, -SPACE_E_FORMAT, why) : 0;
}

/* The manifest of the bundle: the definition's fixes, services and
 * backups, the packages' digests, patchme.sh's digest. */
static int make_manifest(const struct args *a, const struct hp_def *d, const struct input *in, const char *script,
			 size_t slen, struct hp_manifest *m)
{
	int r, rc;

	*m = d->m;
	m->npkg = 0;
	m->format = HP_FORMAT;
	if (strlen(a->product) >= sizeof(m->product))
		return die_err("build", a->product, -SPACE_E_FORMAT, "product name too long");
	strcpy(m->product, a->product);
	if (hp_patch_release(a->version, m->release) < 0 || rel_version_parse(m->release, &m->version) < 0)
		return die_err("build", a->version, -SPACE_E_FORMAT, "not a release version with an R part (21.3R1.1)");
	if ((r = hp_bundle_name(m->name, m->product, m->release, m->patch)) < 0)
		return die_err("build", a->product, r, "product and release make no bundle name");
	if ((r = sha256(script, slen, m->patchme_sha256)) < 0)
		return die_err("hash", a->script, r, NULL);
	for (int i = 0; i < a->npkgs; i++)
		if ((rc = add_package_line(m, &in[i])) != 0)
			return rc;
	return 0;
}

/* ------------------------------------------------------------- signing */

struct signed_mf {
	char *text, *cert, *chain;
	unsigned char *sig;
	size_t tlen, certlen, chainlen, siglen;
};

static void signed_mf_free(struct signed_mf *s)
{
	free(s->text);
	free(s->cert);
	free(s->chain);
	free(s->sig);
}

/* Format m and sign it like the checksum list (image/sums): keys first
 * loaded and checked (signer_load refuses a key not matching its
 * certificate, or a certificate without code signing). */
static int sign_manifest(const struct args *a, const struct hp_manifest *m, struct signed_mf *s)
{
	struct signer *sg = NULL;
	struct space_err err = { "" };
	const char *bad = NULL;
	char *pk = NULL, *pc = NULL, *pch = NULL;
	const char *key = a->key, *cert = a->cert, *chain = a->chain;
	int r, rc = EXIT_OK;

	if (a->pki) {
		pki_files(a->pki, &pk, &pc, &pch);
		key = pk;
		cert = pc;
		chain = pch;
	}
	if (!key || !cert || (a->pki && !chain)) {
		rc = die_err("sign", "manifest", -ENOMEM, NULL);
		goto out;
	}
	if ((r = signer_load(&sg, key, cert, chain, &err, &bad)) < 0) {
		rc = die_err("sign", bad ? bad : cert, r, err.msg);
		goto out;
	}
	if ((r = hp_manifest_format(m, &s->text, &s->tlen)) < 0 ||
	    (r = signer_sign(sg, "SHA256", s->text, s->tlen, &s->sig, &s->siglen)) < 0 ||
	    (r = signer_cert_pem(sg, &s->cert, &s->certlen)) < 0 || (r = signer_chain_pem(sg, &s->chain, &s->chainlen)) < 0)
		rc = die_err("sign", "manifest", r, r == -EINVAL ? "the manifest would not read back" : NULL);
out:
	signer_free(sg);
	free(pk);
	free(pc);
	free(pch);
	return rc;
}

/* ------------------------------------------------------------- bundle */

struct names {
	char *paths[HP_MAX_PACKAGES + 8];
	unsigned n;
};

static const char *name_add(struct names *nm, char *p)
{
	if (p)
		nm->paths[nm->n++] = p;
	return p;
}

/* The members, named below the bundle's directory. NULL path: no memory. */
static size_t bundle_members(const struct hp_manifest *m, const struct signed_mf *s, const char *script,
			     size_t slen, const struct input *in, struct names *nm, struct tgz_member *mem)
{
	const char *d = m->name;
	size_t n = 0;

	mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s", d)), NULL, 0, 0755, true };
	mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s/%s", d, HP_MEMBER_SCRIPT)), script, slen, 0755, false };
	mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s/%s", d, HP_MEMBER_MANIFEST)), s->text, s->tlen, 0644, false };
	mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s/manifest.sig", d)), s->sig, s->siglen, 0644, false };
	mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s/manifest.cert.pem", d)), s->cert, s->certlen, 0644, false };
	mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s/manifest.chain.pem", d)), s->chain, s->chainlen, 0644, false };
	mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s/%s", d, HP_PACKAGES_DIR)), NULL, 0, 0755, true };
	for (unsigned i = 0; i < m->npkg; i++) {
		char file[HP_PATH_MAX];
		hp_package_file(file, &m->pkg[i]); /* fits: the manifest parsed */
		mem[n++] = (struct tgz_member){ name_add(nm, xasprintf("%s/%s", d, file)), in[i].data, in[i].len, 0644, false };
	}
	return n;
}

/* "<hex>  <name>\n" of data with digest alg, md5sum/sha256sum -c's form. */
static char *sum_line(const char *alg, const void *data, size_t len, const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int n = 0;
	EVP_MD *md_alg = EVP_MD_fetch(NULL, alg, NULL);
	int ok = md_alg && EVP_Digest(data, len, md, &n, md_alg, NULL) == 1;

	EVP_MD_free(md_alg);
	if (!ok)
		return NULL;
	hex_encode(md, n, hex);
	return xasprintf("%s  %s\n", hex, name);
}

/* DIR/X.tgz, then X.tgz.sha256 and X.tgz.md5 beside it: old sums go
 * first, so a failed run never leaves sums of another archive. */
static int write_outputs(const char *dir, const char *name, const unsigned char *tgz, size_t len)
{
	static const char *const algs[][2] = { { "SHA256", "sha256" }, { "MD5", "md5" } };
	char *base = xasprintf("%s.tgz", name), *path = xasprintf("%s/%s.tgz", dir, name), *p = NULL, *line = NULL;
	int r = base && path ? mkdir_p(dir, 0755) : -ENOMEM, rc = EXIT_OK;

	for (size_t i = 0; r == 0 && i < 2; i++) {
		free(p);
		p = xasprintf("%s.%s", path, algs[i][1]);
		r = !p ? -ENOMEM : unlink(p) < 0 && errno != ENOENT ? -errno :
								      0;
	}
	if (r == 0)
		r = write_file_atomic(path, tgz, len, 0644);
	for (size_t i = 0; r == 0 && i < 2; i++) {
		free(p);
		free(line);
		p = xasprintf("%s.%s", path, algs[i][1]);
		line = sum_line(algs[i][0], tgz, len, base);
		r = !p || !line ? -ENOMEM : write_file_atomic(p, line, strlen(line), 0644);
	}
	if (r < 0)
		rc = die_err("write", p ? p : path ? path :
						     dir,
			     r, NULL);
	free(base);
	free(path);
	free(p);
	free(line);
	return rc;
}

static int make_bundle(const struct args *a, const struct hp_manifest *m, const struct signed_mf *s,
		       const char *script, size_t slen, const struct input *in)
{
	struct tgz_member mem[HP_MAX_PACKAGES + 8];
	struct names nm = { .n = 0 };
	unsigned char *tgz = NULL;
	size_t n, len = 0;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	struct space_err err = { "" };
	char *end = NULL;
	long long mtime = sde && *sde ? strtoll(sde, &end, 10) : 0;
	int r, rc;

	if ((end && *end) || mtime < 0 || mtime >= (1ll << 33))
		return die_err("build", "SOURCE_DATE_EPOCH", -SPACE_E_FORMAT, "not a time 0..2^33");
	n = bundle_members(m, s, script, slen, in, &nm, mem);
	r = nm.n == n ? tgz_make(mem, n, mtime, &tgz, &len, &err) : -ENOMEM;
	rc = r < 0 ? die_err("write", m->name, r, err.msg) : write_outputs(a->out, m->name, tgz, len);
	if (rc == EXIT_OK)
		printf("%s: %s/%s.tgz: v%u, %u fixes, %u packages, signed\n", space_prog, a->out, m->name, m->patch,
		       m->nfix, m->npkg);
	while (nm.n)
		free(nm.paths[--nm.n]);
	free(tgz);
	return rc;
}

static int build(const struct args *a, const struct hp_def *d)
{
	struct input in[HP_MAX_PACKAGES] = { 0 };
	struct hp_manifest *m = calloc(1, sizeof(*m));
	struct signed_mf s = { 0 };
	char *script = NULL;
	size_t slen = 0;
	int r, rc;

	if (!m) {
		rc = die_err("build", a->def, -ENOMEM, NULL);
		goto out;
	}
	if ((r = read_file(a->script, SCRIPT_MAX, &script, &slen)) < 0) {
		rc = die_err("read", a->script, r, NULL);
		goto out;
	}
	if ((rc = load_packages(a, d, in)) != 0 || (rc = make_manifest(a, d, in, script, slen, m)) != 0 ||
	    (rc = sign_manifest(a, m, &s)) != 0)
		goto out;
	rc = make_bundle(a, m, &s, script, slen, in);
out:
	for (int i = 0; i < HP_MAX_PACKAGES; i++)
		free(in[i].data);
	signed_mf_free(&s);
	free(script);
	free(m);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct hp_def *cur = calloc(1, sizeof(*cur)), *prev = calloc(1, sizeof(*prev));
	int rc;

	space_prog = "mkhotpatch";
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(USAGE, stdout);
		rc = EXIT_OK;
	} else if (parse_args(argc, argv, &a) < 0) {
		rc = die_usage(USAGE);
	} else if (!cur || !prev) {
		rc = die_err("read", a.def, -ENOMEM, NULL);
	} else if ((rc = load_defs(&a, cur, prev)) == 0) {
		rc = !strcmp(a.cmd, "plan") ? plan(cur) : build(&a, cur);
	}
	free(cur);
	free(prev);
	return rc;
}
