/* SPDX-License-Identifier: MIT */
/* main.c - `mksbom`: the SPDX 2.3 document of a root tree (sbom.h), from
 * its package database, the .pkg files it was installed from, the pinned
 * Debian packages (pkg/debs.lock) and what image/sbom/debinfo.sh took out
 * of each .deb (its control data, its copyright file). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkg/debs/lock.h"
#include "dep5.h"
#include "deb822.h"
#include "exitcode.h"
#include "sbom.h"
#include "util.h"

#define USAGE                                                                                   \
	"usage: mksbom --root DIR --lock DEBS.LOCK --debinfo DIR --product P --version V\n"     \
	"              --build ID [--license SPDX-EXPR] [--self NAME] --out FILE PKG...\n"      \
	"\n"                                                                                    \
	"Writes FILE (temporary name, fsync, rename), the SPDX 2.3 JSON document of the root\n" \
	"tree DIR: one package per installed package of DIR/usr/lib/pkg, with the sha256 of\n"  \
	"the .pkg it came from (every PKG is checked against the installed record). A\n"        \
	"package pinned in DEBS.LOCK is described with its .deb (digest from the lock), the\n"  \
	"Debian source package and version of DIR/NAME.control (debinfo.sh) and the license\n"  \
	"of its machine-readable copyright file DIR/NAME.copyright (or that of the package\n"   \
	"DIR/NAME.doclink names), mapped to SPDX ids; the others have SPDX-EXPR (MIT).\n"       \
	"--self NAME: the package that will carry FILE, listed without a digest.\n"             \
	"The creation time is SOURCE_DATE_EPOCH (required).\n"                                  \
	"\n"                                                                                    \
	"Exit status: 0 success, 1 refused input, 100 usage, 111 I/O or system error\n"         \
	"(the contract of every space tool: README.md, Exit codes).\n"

struct args {
	const char *root, *lock, *debinfo, *product, *version, *build, *license, *self, *out;
	char **pkgs;
	int n_pkgs;
	long long epoch;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "lock", required_argument, NULL, 'l' },
		{ "debinfo", required_argument, NULL, 'd' },
		{ "product", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'v' },
		{ "build", required_argument, NULL, 'b' },
		{ "license", required_argument, NULL, 'L' },
		{ "self", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;
	int c;

	a->license = "MIT";
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'r': a->root = optarg; break;
		case 'l': a->lock = optarg; break;
		case 'd': a->debinfo = optarg; break;
		case 'p': a->product = optarg; break;
		case 'v': a->version = optarg; break;
		case 'b': a->build = optarg; break;
		case 'L': a->license = optarg; break;
		case 's': a->self = optarg; break;
		case 'o': a->out = optarg; break;
		default: return -1;
		}
	}
	a->pkgs = argv + optind;
	a->n_pkgs = argc - optind;
	if (!a->root || !a->lock || !a->debinfo || !a->product || !a->version || !a->build || !a->out ||
	    a->n_pkgs < 1)
		return -1;
	if (!sde || !*sde)
		return -2;
	errno = 0;
	a->epoch = strtoll(sde, &end, 10);
	return *end || errno || a->epoch < 0 ? -2 : 0;
}

/* What a run needs to free. */
struct run {
	struct args a;
	struct deb_lock lock;
	struct pkg_db db;
	int db_open;
	struct sbom s;
	const char *verb, *object; /* for the one message */
	char why[512];
	char *object_buf;
};

static int fail(struct run *rn, const char *verb, const char *object, int r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int fail(struct run *rn, const char *verb, const char *object, int r, const char *fmt, ...)
{
	va_list ap;

	rn->verb = verb;
	free(rn->object_buf);
	rn->object_buf = strdup(object);
	rn->object = rn->object_buf ? rn->object_buf : object;
	rn->why[0] = '\0';
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(rn->why, sizeof(rn->why), fmt, ap);
		va_end(ap);
	}
	return r;
}

static int load_lock(struct run *rn)
{
	char *text = NULL;
	size_t len;
	int line = 0, r = read_file(rn->a.lock, 1u << 20, &text, &len);

	if (r < 0)
		return fail(rn, "read", rn->a.lock, r, NULL);
	r = lock_parse(text, &rn->lock, &line);
	free(text);
	if (r < 0)
		return fail(rn, "read", rn->a.lock, r, "line %d: not NAME VERSION ARCH SHA256", line);
	return 0;
}

/* DIR/NAME.EXT read whole (at most the deb822 bound); *text NULL and 0
 * when absent and optional. */
static int read_info(struct run *rn, const char *name, const char *ext, int optional, char **text, size_t *len)
{
	char *path = xasprintf("%s/%s.%s", rn->a.debinfo, name, ext);
	int r;

	*text = NULL;
	if (!path)
		return fail(rn, "read", name, -ENOMEM, NULL);
	r = read_file(path, DEB822_MAX_LEN, text, len);
	if (r == -ENOENT && optional)
		r = 0;
	else if (r == -EFBIG)
		r = fail(rn, "read", path, -SPACE_E_FORMAT, "larger than %u bytes", DEB822_MAX_LEN);
	else if (r < 0)
		r = fail(rn, "read", path, r, NULL);
	free(path);
	return r;
}

/* "src" or "src (version)" of the Source field; the binary's own name
 * and version without one. */
static int source_of(struct run *rn, struct sbom_pkg *p, const char *control, const char *version)
{
	const char *src = control, *paren;

	if (!src || !*src)
		src = p->pin->name;
	paren = strchr(src, '(');
	if (paren) {
		const char *close = strchr(paren, ')');
		size_t n = (size_t)(paren - src);
		while (n > 0 && src[n - 1] == ' ')
			n--;
		if (!close || close[1] || n == 0 || close == paren + 1)
			return fail(rn, "read", p->pin->name, -SPACE_E_FORMAT,
				    "control data: Source field '%s' is not NAME [(VERSION)]", src);
		p->src = strndup(src, n);
		p->src_version = strndup(paren + 1, (size_t)(close - paren - 1));
	} else {
		p->src = strdup(src);
		p->src_version = strdup(version);
	}
	return p->src && p->src_version ? 0 : fail(rn, "read", p->pin->name, -ENOMEM, NULL);
}

/* NAME.control: the binary package must be the pinned one. */
static int read_control(struct run *rn, struct sbom_pkg *p)
{
	struct deb822 d = { 0 };
	const char *pk, *ver;
	struct space_err err = { "" };
	char *text;
	size_t len;
	int r = read_info(rn, p->pin->name, "control", 0, &text, &len);

	if (r < 0)
		return r;
	r = deb822_parse(text, len, &d, &err);
	if (r < 0)
		r = fail(rn, "read", p->pin->name, r, "control data: %.199s", r == -ENOMEM ? "no memory" : err.msg);
	else if (d.n != 1 || !(pk = deb822_get(&d.p[0], "Package")) || !(ver = deb822_get(&d.p[0], "Version")))
		r = fail(rn, "read", p->pin->name, -SPACE_E_FORMAT, "control data: not one paragraph with Package and Version");
	else if (strcmp(pk, p->pin->name) != 0 || strcmp(ver, p->pin->version) != 0)
		r = fail(rn, "read", p->pin->name, -SPACE_E_FORMAT,
			 "control data names %s %s, the lock pins %s %s", pk, ver, p->pin->name, p->pin->version);
	else
		r = source_of(rn, p, deb822_get(&d.p[0], "Source"), ver);
	deb822_free(&d);
	free(text);
	return r;
}

struct ref_ctx {
	struct run *rn;
	const struct dep5 *c;
	const char *pkg;
};

static int declare_ref(const char *id, const char *name, void *ctx)
{
	struct ref_ctx *rc = ctx;
	const char *text = dep5_license_text(rc->c, name);
	char *t = text ? NULL : xasprintf("The license '%s' of the Debian package %s: its copyright file "
					  "(/usr/share/doc/%s/copyright) has no text for it.",
					  name, rc->pkg, rc->pkg);
	int r;

	if (!text && !t)
		return -ENOMEM;
	r = sbom_add_ref(&rc->rn->s, id, name, text ? text : t);
	free(t);
	return r;
}

/* The copyright file of p, or of the package its doc directory links to;
 * *from names whose it is. NULL text: there is none to read. */
static int copyright_text(struct run *rn, struct sbom_pkg *p, char **text, size_t *len, char **note)
{
	char *link = NULL;
	size_t n;
	int r = read_info(rn, p->pin->name, "copyright", 1, text, len);

	*note = NULL;
	if (r < 0 || *text)
		return r;
	if ((r = read_info(rn, p->pin->name, "doclink", 1, &link, &n)) < 0)
		return r;
	if (!link) {
		*note = xasprintf("no copyright file in the Debian package %s", p->pin->name);
		return *note ? 0 : -ENOMEM;
	}
	link[strcspn(link, "\n")] = '\0';
	if (!lock_find(&rn->lock, link) || strchr(link, '/')) {
		*note = xasprintf("its copyright file is in the Debian package %s, which is not pinned",
				  link);
	} else {
		r = read_info(rn, link, "copyright", 1, text, len);
		if (r == 0 && !*text)
			*note = xasprintf("no copyright file in the Debian package %s", link);
	}
	free(link);
	return r < 0 ? r : (*text || *note) ? 0 :
					      -ENOMEM;
}

static int read_license(struct run *rn, struct sbom_pkg *p)
{
	struct dep5 c = { 0 };
	struct ref_ctx rc = { rn, &c, p->pin->name };
	struct buf e;
	char *text = NULL, *note = NULL;
	size_t len = 0;
	int r = copyright_text(rn, p, &text, &len, &note);

	buf_init(&e);
	if (r == 0 && text && (r = dep5_parse(text, len, &c)) == 0 && !c.machine_readable)
		note = xasprintf("copyright file not machine readable: %s", c.why);
	if (r == 0)
		r = note || c.n_synopses == 0 ? buf_puts(&e, "NOASSERTION") :
						dep5_file_spdx(&c, p->pin->name, &e, declare_ref, &rc);
	if (r == 0 && !note && strcmp(e.p, "NOASSERTION") == 0)
		note = xasprintf("copyright file names no license it can be mapped from");
	if (r == 0 && !(p->license = strdup(e.p)))
		r = -ENOMEM;
	p->comment = note;
	dep5_free(&c);
	buf_free(&e);
	free(text);
	return r < 0 && !rn->verb ? fail(rn, "read", p->pin->name, r, NULL) : r;
}

/* A Debian package: its record is the pin's, and its .deb describes it. */
static int describe_deb(struct run *rn, struct sbom_pkg *p)
{
	int r;

	if (strcmp(p->meta->version, p->pin->version) != 0)
		return fail(rn, "check", p->meta->name, -SPACE_E_FORMAT, "installed version %s, the lock pins %s",
			    p->meta->version, p->pin->version);
	if (!(p->deb_file = lock_deb_filename(p->pin)))
		return fail(rn, "check", p->meta->name, -ENOMEM, NULL);
	if ((r = read_control(rn, p)) < 0)
		return r;
	return read_license(rn, p);
}

/* Each PKG: its digest, for the installed record of the same name and
 * version (a .pkg that is not what the tree holds is refused). */
static int hash_pkgs(struct run *rn)
{
	for (int i = 0; i < rn->a.n_pkgs; i++) {
		const char *f = rn->a.pkgs[i];
		struct pkg_meta m = { 0 };
		struct space_err err = { "" };
		struct sbom_pkg *p = NULL;
		int r = pkg_read_meta(f, &m, &err);

		if (r < 0)
			return fail(rn, "read", f, r, "%s", err.msg);
		for (size_t j = 0; j < rn->s.n_pkgs; j++)
			if (strcmp(rn->s.pkgs[j].meta->name, m.name) == 0)
				p = &rn->s.pkgs[j];
		if (!p)
			r = fail(rn, "check", f, -SPACE_E_FORMAT, "package %s is not installed in %s", m.name, rn->a.root);
		else if (strcmp(p->meta->version, m.version) || strcmp(p->meta->release, m.release))
			r = fail(rn, "check", f, -SPACE_E_FORMAT, "it is %s %s-%s, the tree has %s-%s", m.name, m.version,
				 m.release, p->meta->version, p->meta->release);
		else if (p->pkg_sha256[0])
			r = fail(rn, "check", f, -SPACE_E_FORMAT, "a second .pkg of %s", m.name);
		pkg_meta_free(&m);
		if (r == 0 && (r = sha256_file_hex(f, p->pkg_sha256)) < 0)
			return fail(rn, "read", f, r, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int collect(struct run *rn)
{
	struct space_err err = { "" };
	char *db = xasprintf("%s/%s/installed", rn->a.root, PKG_DB_DIR);
	struct stat st;
	int r = !db ? -ENOMEM : stat(db, &st) < 0 ? -errno :
						    0;

	free(db);
	/* opened without create, an empty root would give an empty list */
	if (r < 0)
		return fail(rn, "open", rn->a.root, r, "no package database %s/installed: %s", PKG_DB_DIR,
			    strerror(-r));
	r = pkg_db_open(rn->a.root, false, &rn->db, &err);
	if (r < 0)
		return fail(rn, "open", rn->a.root, r, "%s", err.msg);
	rn->db_open = 1;
	if (rn->db.n_bad)
		return fail(rn, "open", rn->a.root, -SPACE_E_FORMAT, "package record %s unreadable: %s",
			    rn->db.bad[0].name, rn->db.bad[0].why);
	if (!(rn->s.pkgs = calloc(rn->db.n_pkgs + 1, sizeof(*rn->s.pkgs))))
		return fail(rn, "open", rn->a.root, -ENOMEM, NULL);
	for (size_t i = 0; i < rn->db.n_pkgs; i++) {
		struct sbom_pkg *p = &rn->s.pkgs[rn->s.n_pkgs++];
		p->meta = &rn->db.pkgs[i];
		p->pin = lock_find(&rn->lock, p->meta->name);
	}
	if ((r = hash_pkgs(rn)) < 0)
		return r;
	for (size_t i = 0; i < rn->s.n_pkgs; i++) {
		struct sbom_pkg *p = &rn->s.pkgs[i];
		int self = rn->a.self && strcmp(rn->a.self, p->meta->name) == 0;
		if (!p->pkg_sha256[0] && !self)
			return fail(rn, "check", p->meta->name, -SPACE_E_FORMAT, "installed in %s, but no .pkg of it given",
				    rn->a.root);
		if (p->pin && (r = describe_deb(rn, p)) < 0)
			return r;
	}
	return 0;
}

/* --self: the document's own package, installed after it is written; an
 * earlier run's record of it is replaced, so a rerun gives the same bytes. */
static int add_self(struct run *rn, struct pkg_meta *self)
{
	struct sbom_pkg *p = NULL;

	for (size_t i = 0; i < rn->s.n_pkgs; i++)
		if (strcmp(rn->s.pkgs[i].meta->name, rn->a.self) == 0)
			p = &rn->s.pkgs[i];
	if (!pkg_token_ok(rn->a.self))
		return fail(rn, "check", rn->a.self, -SPACE_E_FORMAT, "not a package name");
	self->name = (char *)rn->a.self;
	self->version = (char *)rn->a.version;
	self->release = (char *)"1";
	self->summary = (char *)"the SPDX document of this tree";
	if (!p) {
		size_t at = rn->s.n_pkgs++;
		while (at > 0 && strcmp(rn->s.pkgs[at - 1].meta->name, rn->a.self) > 0) {
			rn->s.pkgs[at] = rn->s.pkgs[at - 1];
			at--;
		}
		p = &rn->s.pkgs[at];
		memset(p, 0, sizeof(*p));
	}
	p->meta = self;
	p->pkg_sha256[0] = '\0';
	return 0;
}

static int run(struct run *rn)
{
	struct pkg_meta self = { 0 };
	struct space_err err = { "" };
	struct buf out;
	int r;

	if ((r = load_lock(rn)) < 0 || (r = collect(rn)) < 0)
		return r;
	if (rn->a.self && (r = add_self(rn, &self)) < 0)
		return r;
	rn->s.product = rn->a.product;
	rn->s.version = rn->a.version;
	rn->s.build = rn->a.build;
	rn->s.license = rn->a.license;
	rn->s.self = rn->a.self;
	rn->s.created = rn->a.epoch;
	buf_init(&out);
	r = sbom_write(&rn->s, &out, &err);
	if (r < 0)
		fail(rn, "write", rn->a.out, r, "%s", r == -ENOMEM ? "" : err.msg);
	else if ((r = write_file_atomic(rn->a.out, out.p, out.len, 0644)) < 0)
		fail(rn, "write", rn->a.out, r, NULL);
	buf_free(&out);
	return r;
}

int main(int argc, char **argv)
{
	struct run rn;
	int r;

	space_prog = "mksbom";
	memset(&rn, 0, sizeof(rn));
	r = parse_args(argc, argv, &rn.a);
	if (r == -2)
		return die_msg(EXIT_USAGE, "check", "SOURCE_DATE_EPOCH", "not set to seconds since 1970");
	if (r < 0)
		return die_usage(USAGE);
	r = run(&rn);
	if (r < 0)
		r = die_err(rn.verb, rn.object, r, rn.why[0] ? rn.why : NULL);
	sbom_free(&rn.s);
	if (rn.db_open)
		pkg_db_close(&rn.db);
	lock_free(&rn.lock);
	free(rn.object_buf);
	return r;
}
