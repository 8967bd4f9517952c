/* SPDX-License-Identifier: MIT */
/* main.c - `mkrelease`: write the signed release image space-<ver>.img from
 * the root slot A of a raw disk, and answer upgrade-path questions from the
 * matrix data file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/ova/manifest.h"
#include "image/ova/sign.h"
#include "image/ova/tar.h"
#include "openreg.h"
#include "outfile.h"
#include "release.h"
#include "slot.h"
#include "exitcode.h"
#include "subcmd.h"
#include "util.h"

#define USAGE                                                                                         \
	"usage: mkrelease build --raw DISK.raw --out DIR [--product NAME] --version VER --build ID\n" \
	"                       --kernel KVER --targets 'kvm esxi ja2500' --paths PATHS.conf\n"       \
	"                       [--apps APPS.conf]\n"                                                 \
	"                       (--pki DIR | --key KEY.pem --cert CERT.pem [--chain CHAIN.pem])\n"    \
	"                       [-l LEVEL (1-19, default 6)] [-j THREADS]\n"                          \
	"       mkrelease path --paths PATHS.conf FROM TO\n"                                          \
	"       mkrelease compare VERSION VERSION\n"                                                  \
	"\n"                                                                                          \
	"build    writes DIR/<product>-<ver>.img, a ustar archive holding, in this order:\n"          \
	"         manifest (signed; names the file, release, targets, slot image size and\n"          \
	"         SHA-256, upgrade paths, application table), manifest.cert (signature +\n"           \
	"         signer certificate), certchain.pem (intermediate CAs) and rootfs.ext4.zst\n"        \
	"         (the partition labelled root-a of DISK.raw, one zstd frame; holes are not\n"        \
	"         read). Members carry mtime $SOURCE_DATE_EPOCH (else 0): the same inputs\n"          \
	"         and keys give the same bytes, whatever -j. --pki DIR signs with the\n"              \
	"         development PKI made by `mkova pki --dir DIR`. Check it with\n"                     \
	"         `ova-verify --ca ROOT.pem <product>-<ver>.img`.\n"                                  \
	"path     exit 0 when a node on release FROM may install release TO by the matrix\n"          \
	"         (or TO is a later build of FROM's train), else 1 naming the supported paths.\n"     \
	"compare  prints <, = or > (release order: 21.3R1 < 21.3R1.3 < 21.3R2 < 21.4R1).\n"           \
	"\n"                                                                                          \
	"Exit status: 0 success, 1 invalid input (disk, keys, data files), 100 usage,\n"              \
	"111 I/O or system error (the contract of every space tool: README.md, Exit codes).\n"

struct build_args {
	const char *raw, *outdir, *product, *version, *build, *kernel, *targets, *paths, *apps;
	const char *pki, *key, *cert, *chain;
	struct rel_pack_opts po;
};

static int parse_build_args(int argc, char **argv, struct build_args *a)
{
	static const struct option lo[] = {
		{ "raw", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "product", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'v' },
		{ "build", required_argument, NULL, 'b' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "targets", required_argument, NULL, 't' },
		{ "paths", required_argument, NULL, 'm' },
		{ "apps", required_argument, NULL, 'a' },
		{ "pki", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "chain", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->product = PRODUCT;
	while ((c = getopt_long(argc, argv, "j:l:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': a->raw = optarg; break;
		case 'o': a->outdir = optarg; break;
		case 'p': a->product = optarg; break;
		case 'v': a->version = optarg; break;
		case 'b': a->build = optarg; break;
		case 'K': a->kernel = optarg; break;
		case 't': a->targets = optarg; break;
		case 'm': a->paths = optarg; break;
		case 'a': a->apps = optarg; break;
		case 'P': a->pki = optarg; break;
		case 'k': a->key = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'C': a->chain = optarg; break;
		case 'j': a->po.threads = atoi(optarg); break;
		case 'l': a->po.level = atoi(optarg); break;
		default: return -1;
		}
	}
	if (optind != argc || !a->raw || !a->outdir || !a->version || !a->build || !a->kernel || !a->targets ||
	    !a->paths || (!a->pki == !a->key) || (a->key && !a->cert) || a->po.threads < 0 || a->po.threads > 64 ||
	    a->po.level < 0 || a->po.level > 19)
		return -1;
	return 0;
}

/* The manifest fields that come from the command line and the data files.
 * obj gets the object of a failure, err its reason. */
static int fill_manifest(const struct build_args *a, struct rel_manifest *m, char *obj, size_t objlen,
			 struct space_err *err)
{
	struct rel_paths *paths = malloc(sizeof(*paths));
	char *text = NULL;
	size_t len;
	int r;

	if (!paths)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	snprintf(obj, objlen, "%s", a->version);
	if (rel_version_parse(a->version, &m->version) < 0 || m->version.n < 3) {
		r = err_set(err, -SPACE_E_FORMAT, "not a release version such as 21.3R1");
		goto out;
	}
	snprintf(m->release, sizeof(m->release), "%s", a->version);
	for (unsigned i = 0; i < 3; i++) {
		const char *v[] = { a->product, a->build, a->kernel }, *name[] = { "--product", "--build", "--kernel" };
		snprintf(obj, objlen, "%s", name[i]);
		if (!ova_name_is_plain(v[i]) || strlen(v[i]) >= REL_NAME_MAX) {
			r = err_set(err, -SPACE_E_FORMAT, "%s is not a plain name of at most %d bytes", v[i], REL_NAME_MAX - 1);
			goto out;
		}
	}
	snprintf(m->product, sizeof(m->product), "%s", a->product);
	snprintf(m->build, sizeof(m->build), "%s", a->build);
	snprintf(m->kernel, sizeof(m->kernel), "%s", a->kernel);
	snprintf(m->file, sizeof(m->file), "%s-%s.img", a->product, a->version);
	snprintf(m->slot_member, sizeof(m->slot_member), "%s", REL_MEMBER_SLOT);
	m->window_log = REL_ZSTD_WINDOW_LOG;
	snprintf(obj, objlen, "--targets");
	if (rel_targets_parse(a->targets, m) < 0) {
		r = err_set(err, -SPACE_E_FORMAT, "want 1 to %d distinct plain names", REL_MAX_TARGETS);
		goto out;
	}
	snprintf(obj, objlen, "%s", a->paths);
	r = rel_paths_load(a->paths, paths, err);
	if (r < 0)
		goto out;
	m->paths_revision = paths->revision;
	m->nfrom = rel_paths_sources(paths, &m->version, m->from, REL_MAX_FROM);
	if (!m->nfrom) {
		r = err_set(err, -SPACE_E_FORMAT, "no release train may go to %s", a->version);
		goto out;
	}
	if (a->apps) {
		snprintf(obj, objlen, "%s", a->apps);
		r = read_file(a->apps, 1 << 16, &text, &len);
		if (r == 0)
			r = rel_apps_parse(text, len, m, err);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(text);
	free(paths);
	return r;
}

/* The slot image: root-a of the raw disk, packed into tmp. */
static int pack_slot(const struct build_args *a, int tmp_fd, struct rel_manifest *m, struct space_err *err)
{
	struct rel_pack_result res;
	uint64_t off, len;
	int fd = open_regular(AT_FDCWD, a->raw, O_RDONLY, 0, OPEN_REG_BLOCK), r;

	if (fd < 0)
		return fd;
	r = rel_find_slot(fd, &off, &len);
	if (r == -ENOENT) {
		/* the disk lacks the slot: refused input (exit 1), not a missing file */
		r = err_set(err, -SPACE_E_FORMAT, "no GPT partition labelled %s", REL_SLOT_PART);
	} else if (r == -SPACE_E_FORMAT)
		err_set(err, r, "not a raw disk with a valid GPT");
	if (r == 0)
		r = rel_pack(fd, off, len, tmp_fd, &a->po, &res);
	close(fd);
	if (r < 0)
		return r;
	m->slot_size = res.in_bytes;
	/* the slot image is the whole partition: a slot must hold all of it */
	m->slot_min_size = res.in_bytes;
	memcpy(m->slot_sha256, res.in_sha256, 32);
	m->zst_size = res.out_bytes;
	memcpy(m->zst_sha256, res.out_sha256, 32);
	return 0;
}

static int write_image(const char *path, int64_t mtime, const char *mf, size_t mflen, const char *cert,
		       size_t certlen, const char *chain, size_t chainlen, int slot_fd)
{
	struct tar_writer tw;
	struct outfile of;
	int r = outfile_open(&of, path, 0644);

	if (r < 0)
		return r;
	tar_writer_init(&tw, of.fd, mtime);
	if ((r = tar_add_buf(&tw, REL_MEMBER_MANIFEST, mf, mflen)) < 0 ||
	    (r = tar_add_buf(&tw, REL_MEMBER_CERT, cert, certlen)) < 0 ||
	    (r = tar_add_buf(&tw, REL_MEMBER_CHAIN, chain, chainlen)) < 0 ||
	    (r = tar_add_fd(&tw, REL_MEMBER_SLOT, slot_fd)) < 0 || (r = tar_finish(&tw)) < 0) {
		outfile_abort(&of);
		return r;
	}
	return outfile_commit(&of);
}

/* What a build holds from its start to its one cleanup (build_free). */
struct build {
	struct build_args a;
	struct rel_manifest *m;
	struct signer *sg;
	struct outfile slot;
	char *pk, *pc, *pch, *img, *tmp;
	char *mf, *cert, *chain;
	size_t mflen, certlen, chainlen;
	int64_t mtime;
};

static void build_free(struct build *b)
{
	/* the packed slot only ever lives inside the image */
	if (b->slot.fd >= 0)
		outfile_abort(&b->slot);
	signer_free(b->sg);
	free(b->m);
	free(b->mf);
	free(b->cert);
	free(b->chain);
	free(b->img);
	free(b->tmp);
	free(b->pk);
	free(b->pc);
	free(b->pch);
}

/* The key paths of --pki, the manifest's memory, SOURCE_DATE_EPOCH. */
static int build_start(struct build *b)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");

	b->mtime = sde ? strtoll(sde, NULL, 10) : 0;
	if (b->a.pki && pki_files(b->a.pki, &b->pk, &b->pc, &b->pch) == 0) {
		b->a.key = b->pk;
		b->a.cert = b->pc;
		b->a.chain = b->pch;
	}
	b->m = malloc(sizeof(*b->m));
	if (!b->m || !b->a.key || !b->a.cert)
		return die_err("build", "release", -ENOMEM, NULL);
	if (b->mtime < 0 || b->mtime >= (1ll << 33))
		return die_err("build", "SOURCE_DATE_EPOCH", -SPACE_E_FORMAT, "out of range");
	return EXIT_OK;
}

/* The manifest's fields and the names of the image and its packed slot. */
static int build_manifest(struct build *b)
{
	struct space_err err = { "" };
	char obj[4096];
	int r = fill_manifest(&b->a, b->m, obj, sizeof(obj), &err);

	if (r < 0)
		return die_err("build", obj, r, err.msg);
	b->img = xasprintf("%s/%s", b->a.outdir, b->m->file);
	b->tmp = xasprintf("%s/.%s.zst", b->a.outdir, b->m->file);
	if (!b->img || !b->tmp)
		return die_err("build", "release", -ENOMEM, NULL);
	if (!ova_name_is_plain(b->m->file))
		return die_err("build", b->m->file, -SPACE_E_FORMAT, "product and version make an unsafe file name");
	return EXIT_OK;
}

/* Keys first: a wrong key must not cost a compression run. */
static int build_load_keys(struct build *b)
{
	struct space_err err = { "" };
	const char *file = NULL;
	int r = signer_load(&b->sg, b->a.key, b->a.cert, b->a.chain, &err, &file);

	if (r < 0)
		return die_err("build", file ? file : b->a.cert, r, err.msg);
	return EXIT_OK;
}

/* The slot, packed into the temporary file. */
static int build_pack(struct build *b)
{
	struct space_err err = { "" };
	int r = outfile_open(&b->slot, b->tmp, 0600);

	if (r < 0)
		return die_err("build", b->tmp, r, NULL);
	r = pack_slot(&b->a, b->slot.fd, b->m, &err);
	if (r < 0)
		return die_err("build", b->a.raw, r, err.msg);
	return EXIT_OK;
}

/* The signed manifest, its certificate and chain, and the image. */
static int build_sign_write(struct build *b)
{
	int r;

	if ((r = rel_manifest_format(b->m, &b->mf, &b->mflen)) < 0 ||
	    (r = signer_cert_file(b->sg, "SHA256", REL_MEMBER_MANIFEST, b->mf, b->mflen, &b->cert, &b->certlen)) < 0 ||
	    (r = signer_chain_pem(b->sg, &b->chain, &b->chainlen)) < 0)
		return die_err("build", REL_MEMBER_MANIFEST, r, NULL);
	r = write_image(b->img, b->mtime, b->mf, b->mflen, b->cert, b->certlen, b->chain, b->chainlen, b->slot.fd);
	if (r < 0)
		return die_err("build", b->img, r, NULL);
	return EXIT_OK;
}

static int cmd_build(int argc, char **argv)
{
	struct build b = { .slot = { .fd = -1 } };
	int rc;

	if (parse_build_args(argc, argv, &b.a) < 0)
		return die_usage(USAGE);
	if ((rc = build_start(&b)) == EXIT_OK && (rc = build_manifest(&b)) == EXIT_OK &&
	    (rc = build_load_keys(&b)) == EXIT_OK && (rc = build_pack(&b)) == EXIT_OK &&
	    (rc = build_sign_write(&b)) == EXIT_OK)
		printf("%s: %s (slot %llu bytes, packed %llu)\n", space_prog, b.img, (unsigned long long)b.m->slot_size,
		       (unsigned long long)b.m->zst_size);
	build_free(&b);
	return rc;
}

static int cmd_path(int argc, char **argv)
{
	static const struct option lo[] = { { "paths", required_argument, NULL, 'm' }, { NULL, 0, NULL, 0 } };
	struct rel_paths *paths = NULL;
	struct rel_manifest *m = NULL;
	const char *file = NULL;
	struct space_err err = { "" };
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'm') {
			return die_usage(USAGE);
		}
		file = optarg;
	}
	if (!file || argc - optind != 2) {
		return die_usage(USAGE);
	}
	paths = malloc(sizeof(*paths));
	m = calloc(1, sizeof(*m));
	if (!paths || !m) {
		rc = die_err("path", file, -ENOMEM, NULL);
		goto out;
	}
	r = rel_paths_load(file, paths, &err);
	if (r < 0) {
		rc = die_err("path", file, r, err.msg);
		goto out;
	}
	/* the upgrader's question, asked of the manifest this table makes */
	if (rel_version_parse(argv[optind + 1], &m->version) < 0) {
		rc = die_err("path", argv[optind + 1], -SPACE_E_FORMAT, "not a release version");
		goto out;
	}
	snprintf(m->release, sizeof(m->release), "%s", argv[optind + 1]);
	m->nfrom = rel_paths_sources(paths, &m->version, m->from, REL_MAX_FROM);
	r = rel_check_upgrade(m, argv[optind], &err);
	if (r < 0) {
		/* -EPERM: the matrix says no, the answer asked for (1) */
		rc = r == -EPERM ? die_msg(EXIT_NEGATIVE, "path", argv[optind], err.msg) : die_err("path", argv[optind], r, err.msg);
		goto out;
	}
	printf("%s -> %s: supported\n", argv[optind], argv[optind + 1]);
	rc = 0;
out:
	free(paths);
	free(m);
	return rc;
}

static int cmd_compare(int argc, char **argv)
{
	struct rel_version a, b;
	int c;

	if (argc != 3) {
		return die_usage(USAGE);
	}
	if (rel_version_parse(argv[1], &a) < 0)
		return die_err("compare", argv[1], -SPACE_E_FORMAT, "not a release version");
	if (rel_version_parse(argv[2], &b) < 0)
		return die_err("compare", argv[2], -SPACE_E_FORMAT, "not a release version");
	c = rel_version_cmp(&a, &b);
	printf("%s\n", c < 0 ? "<" : c > 0 ? ">" :
					     "=");
	return 0;
}

static const struct subcmd commands[] = {
	{ "build", cmd_build },
	{ "path", cmd_path },
	{ "compare", cmd_compare },
};

int main(int argc, char **argv)
{
	space_prog = "mkrelease";
	return subcmd_run(commands, sizeof(commands) / sizeof(commands[0]), USAGE, EXIT_USAGE, argc, argv);
}
