/* SPDX-License-Identifier: MIT */
/* main.c - `mkova`: build the signed OVA for ESXi from a raw disk image, and
 * create the development signing PKI. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "digest_fd.h"
#include "manifest.h"
#include "openreg.h"
#include "outfile.h"
#include "image/ovf/ovf.h"
#include "sign.h"
#include "tar.h"
#include "exitcode.h"
#include "subcmd.h"
#include "util.h"
#include "image/vmdk/vmdk.h"

#define USAGE                                                                                         \
	"usage: mkova build --raw DISK.raw --hw TARGET.hw --out DIR [--product NAME] --version VER\n" \
	"                   (--pki DIR | --key KEY.pem --cert CERT.pem [--chain CHAIN.pem])\n"        \
	"                   [--digest SHA256|SHA1|SHA512] [-j THREADS] [-l LEVEL]\n"                  \
	"       mkova pki --dir DIR [--expired] [--no-codesign]\n"                                    \
	"\n"                                                                                          \
	"build  writes DIR/<product>-<ver>.ova holding, in this order: <product>-<ver>.ovf,\n"        \
	"       .mf (one `SHA256(<file>)= <hex>` line for the .ovf and the disk), .cert\n"            \
	"       (signature over the .mf + signer certificate), <product>-certchain.pem\n"             \
	"       (intermediate CAs) and <product>-<ver>-disk1.vmdk (streamOptimized).\n"               \
	"       Tar members carry mtime $SOURCE_DATE_EPOCH (else 0), owner 0:0, mode 0644,\n"         \
	"       so two builds from the same inputs and keys give the same bytes.\n"                   \
	"       --pki DIR signs with the development PKI in DIR (see `pki`).\n"                       \
	"pki    creates a DEVELOPMENT root CA, intermediate CA and code-signing key in DIR\n"         \
	"       unless DIR/dev-signing.pem exists. --expired and --no-codesign make a leaf\n"         \
	"       that verifiers must reject (for tests).\n"                                            \
	"\n"                                                                                          \
	"Exit status: 0 success, 1 invalid input (hardware file, keys, image), 100 usage,\n"          \
	"111 I/O or system error (the contract of every space tool: README.md, Exit codes).\n"

static int digest_fd(int fd, const char *alg, unsigned char *md, size_t *mdlen)
{
	return space_digest_fd(fd, ova_digest_evp_name(alg), md, mdlen);
}

static int digest_buf(const void *p, size_t len, const char *alg, unsigned char *md, size_t *mdlen)
{
	unsigned int n = 0;

	if (EVP_Digest(p, len, md, &n, EVP_get_digestbyname(ova_digest_evp_name(alg)), NULL) != 1)
		return -ENOMEM;
	*mdlen = n;
	return 0;
}

/* Load the hardware description and the EULA it names (relative to it). */
static int load_hw(const char *path, struct ovf_hw *hw)
{
	struct space_err err = { "" };
	char *text = NULL, *eula_path = NULL;
	const char *slash = strrchr(path, '/');
	size_t len;
	int r = read_file(path, 1 << 16, &text, NULL);

	if (r < 0)
		return die_err("build", path, r, NULL);
	r = ovf_hw_parse(text, hw, &err);
	free(text);
	if (r < 0)
		return die_err("build", path, r, err.msg);
	if (hw->eula_file[0] == '/' || strstr(hw->eula_file, ".."))
		return die_err("build", path, -SPACE_E_UNSAFE_PATH, "eula_file must be relative, without ..");
	eula_path = xasprintf("%.*s%s", slash ? (int)(slash - path + 1) : 0, path, hw->eula_file);
	if (!eula_path)
		return die_err("build", path, -ENOMEM, NULL);
	r = read_file(eula_path, 1 << 20, &hw->eula, &len);
	if (r < 0) {
		r = die_err("build", eula_path, r, NULL);
		free(eula_path);
		return r;
	}
	free(eula_path);
	return 0;
}

/* What a build holds from its start to its one cleanup (ova_build_free). */
struct ova_build {
	const char *raw, *hwpath, *outdir, *product, *version, *pki, *key, *cert, *chain, *alg;
	struct vmdk_write_opts vo;
	struct vmdk_write_stats vs;
	struct ovf_hw hw;
	struct signer *sg;
	struct outfile vmdk_of;
	char *ovf, *certtxt, *chaintxt, *pk, *pc, *pch;
	char *n_ova, *n_ovf, *n_mf, *n_cert, *n_chain, *n_disk, *tmpvmdk;
	char mf[1024];
	size_t ovflen, certlen, chainlen, mflen;
	int64_t mtime;
	int in;
};

static void ova_build_free(struct ova_build *b)
{
	/* the VMDK only ever lives inside the OVA */
	if (b->vmdk_of.fd >= 0)
		outfile_abort(&b->vmdk_of);
	if (b->in >= 0)
		close(b->in);
	signer_free(b->sg);
	ovf_hw_free(&b->hw);
	free(b->ovf);
	free(b->certtxt);
	free(b->chaintxt);
	free(b->pk);
	free(b->pc);
	free(b->pch);
	free(b->n_ova);
	free(b->n_ovf);
	free(b->n_mf);
	free(b->n_cert);
	free(b->n_chain);
	free(b->n_disk);
	free(b->tmpvmdk);
}

/* The options into b; -1 on a usage error. */
static int parse_build_args(int argc, char **argv, struct ova_build *b)
{
	static const struct option lo[] = {
		{ "raw", required_argument, NULL, 'r' },
		{ "hw", required_argument, NULL, 'w' },
		{ "out", required_argument, NULL, 'o' },
		{ "product", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'v' },
		{ "pki", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "chain", required_argument, NULL, 'C' },
		{ "digest", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "j:l:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': b->raw = optarg; break;
		case 'w': b->hwpath = optarg; break;
		case 'o': b->outdir = optarg; break;
		case 'p': b->product = optarg; break;
		case 'v': b->version = optarg; break;
		case 'P': b->pki = optarg; break;
		case 'k': b->key = optarg; break;
		case 'c': b->cert = optarg; break;
		case 'C': b->chain = optarg; break;
		case 'd': b->alg = optarg; break;
		case 'j': b->vo.threads = atoi(optarg); break;
		case 'l': b->vo.level = atoi(optarg); break;
		default: return -1;
		}
	}
	if (optind != argc || !b->raw || !b->hwpath || !b->outdir || !b->version || (!b->pki == !b->key) ||
	    (b->key && !b->cert) || !ova_digest_evp_name(b->alg))
		return -1;
	return 0;
}

/* The key paths of --pki, the members' names, SOURCE_DATE_EPOCH. */
static int build_names(struct ova_build *b)
{
	const char *p = b->product, *v = b->version, *sde = getenv("SOURCE_DATE_EPOCH");

	b->mtime = sde ? strtoll(sde, NULL, 10) : 0;
	if (b->pki && pki_files(b->pki, &b->pk, &b->pc, &b->pch) == 0) {
		b->key = b->pk;
		b->cert = b->pc;
		b->chain = b->pch;
	}
	b->n_ova = xasprintf("%s/%s-%s.ova", b->outdir, p, v);
	b->n_ovf = xasprintf("%s-%s.ovf", p, v);
	b->n_mf = xasprintf("%s-%s.mf", p, v);
	b->n_cert = xasprintf("%s-%s.cert", p, v);
	b->n_chain = xasprintf("%s-certchain.pem", p);
	b->n_disk = xasprintf("%s-%s-disk1.vmdk", p, v);
	b->tmpvmdk = xasprintf("%s/.%s-%s-disk1.vmdk", b->outdir, p, v);
	if (!b->n_ova || !b->n_ovf || !b->n_mf || !b->n_cert || !b->n_chain || !b->n_disk || !b->tmpvmdk ||
	    !b->key || !b->cert)
		return die_err("build", "names", -ENOMEM, NULL);
	if (!ova_name_is_plain(b->n_ovf) || !ova_name_is_plain(b->n_disk) || strlen(b->n_disk) >= 100)
		return die_err("build", b->n_disk, -SPACE_E_FORMAT, "product/version make an unsafe member name");
	if (b->mtime < 0 || b->mtime >= (1ll << 33))
		return die_err("build", "SOURCE_DATE_EPOCH", -SPACE_E_FORMAT, "out of range");
	return EXIT_OK;
}

/* The hardware description, then the keys: both before any disk work. */
static int build_inputs(struct ova_build *b)
{
	struct space_err err = { "" };
	const char *bad = NULL;
	int rc = load_hw(b->hwpath, &b->hw), r;

	if (rc != EXIT_OK)
		return rc;
	r = signer_load(&b->sg, b->key, b->cert, b->chain, &err, &bad);
	if (r < 0)
		return die_err("build", bad, r, err.msg);
	return EXIT_OK;
}

/* 1. the disk, as a streamOptimized VMDK in the temporary file */
static int build_disk(struct ova_build *b)
{
	int r;

	b->in = open_regular(AT_FDCWD, b->raw, O_RDONLY, 0, OPEN_REG_BLOCK);
	if (b->in < 0)
		return die_err("build", b->raw, b->in, NULL);
	r = outfile_open(&b->vmdk_of, b->tmpvmdk, 0644);
	if (r < 0)
		return die_err("build", b->tmpvmdk, r, NULL);
	b->vo.extent_name = b->n_disk;
	r = vmdk_write_stream(b->in, b->vmdk_of.fd, &b->vo, &b->vs);
	if (r < 0)
		return die_err("build", b->raw, r, NULL);
	return EXIT_OK;
}

/* 2. the descriptor, which needs the exact VMDK size */
static int build_descriptor(struct ova_build *b)
{
	struct ovf_disk d = { b->n_disk, b->vs.out_bytes, b->vs.capacity_bytes,
			      b->vs.data_grains * VMDK_GRAIN_BYTES };
	int r = ovf_generate(&b->hw, b->version, &d, &b->ovf, &b->ovflen);

	if (r < 0)
		return die_err("build", b->n_ovf, r, NULL);
	return EXIT_OK;
}

/* 3. manifest and signature */
static int build_manifest(struct ova_build *b)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t mdlen = 0;
	int r;

	if ((r = digest_buf(b->ovf, b->ovflen, b->alg, md, &mdlen)) < 0 ||
	    (r = ova_manifest_line(b->mf, sizeof(b->mf), b->alg, b->n_ovf, md, mdlen)) < 0)
		return die_err("build", b->n_mf, r, NULL);
	b->mflen = (size_t)r;
	if ((r = digest_fd(b->vmdk_of.fd, b->alg, md, &mdlen)) < 0 ||
	    (r = ova_manifest_line(b->mf + b->mflen, sizeof(b->mf) - b->mflen, b->alg, b->n_disk, md, mdlen)) < 0)
		return die_err("build", b->n_mf, r, NULL);
	b->mflen += (size_t)r;
	if ((r = signer_cert_file(b->sg, b->alg, b->n_mf, b->mf, b->mflen, &b->certtxt, &b->certlen)) < 0 ||
	    (r = signer_chain_pem(b->sg, &b->chaintxt, &b->chainlen)) < 0)
		return die_err("build", b->n_cert, r, NULL);
	return EXIT_OK;
}

/* 4. the archive, in the order the OVF spec and ovftool want */
static int build_archive(struct ova_build *b)
{
	struct outfile ova_of;
	struct tar_writer tw;
	int r = outfile_open(&ova_of, b->n_ova, 0644);

	if (r < 0)
		return die_err("build", b->n_ova, r, NULL);
	tar_writer_init(&tw, ova_of.fd, b->mtime);
	if ((r = tar_add_buf(&tw, b->n_ovf, b->ovf, b->ovflen)) < 0 ||
	    (r = tar_add_buf(&tw, b->n_mf, b->mf, b->mflen)) < 0 ||
	    (r = tar_add_buf(&tw, b->n_cert, b->certtxt, b->certlen)) < 0 ||
	    (r = tar_add_buf(&tw, b->n_chain, b->chaintxt, b->chainlen)) < 0 ||
	    (r = tar_add_fd(&tw, b->n_disk, b->vmdk_of.fd)) < 0 || (r = tar_finish(&tw)) < 0) {
		outfile_abort(&ova_of);
		return die_err("build", b->n_ova, r, NULL);
	}
	r = outfile_commit(&ova_of);
	if (r < 0)
		return die_err("build", b->n_ova, r, NULL);
	return EXIT_OK;
}

static int cmd_build(int argc, char **argv)
{
	struct ova_build b = { .product = PRODUCT, .alg = "SHA256", .vmdk_of = { .fd = -1 }, .in = -1 };
	int rc;

	if (parse_build_args(argc, argv, &b) < 0)
		return die_usage(USAGE);
	if ((rc = build_names(&b)) == EXIT_OK && (rc = build_inputs(&b)) == EXIT_OK &&
	    (rc = build_disk(&b)) == EXIT_OK && (rc = build_descriptor(&b)) == EXIT_OK &&
	    (rc = build_manifest(&b)) == EXIT_OK && (rc = build_archive(&b)) == EXIT_OK)
		printf("%s: %s (disk %llu bytes, %llu data grains, capacity %llu)\n", space_prog, b.n_ova,
		       (unsigned long long)b.vs.out_bytes, (unsigned long long)b.vs.data_grains,
		       (unsigned long long)b.vs.capacity_bytes);
	ova_build_free(&b);
	return rc;
}

static int cmd_pki(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "expired", no_argument, NULL, 'e' },
		{ "no-codesign", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	unsigned flags = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'e': flags |= PKI_EXPIRED_LEAF; break;
		case 'n': flags |= PKI_NO_CODESIGN; break;
		default: return die_usage(USAGE);
		}
	}
	if (!dir || optind != argc) {
		return die_usage(USAGE);
	}
	r = pki_create(dir, flags);
	if (r < 0)
		return die_err("pki", dir, r, NULL);
	return 0;
}

static const struct subcmd commands[] = {
	{ "build", cmd_build },
	{ "pki", cmd_pki },
};

int main(int argc, char **argv)
{
	space_prog = "mkova";
	return subcmd_run(commands, sizeof(commands) / sizeof(commands[0]), USAGE, EXIT_USAGE, argc, argv);
}
