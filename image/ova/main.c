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

#define USAGE                                                                                   \
	"usage: mkova build --raw DISK.raw --hw TARGET.hw --out DIR [--product NAME] --version VER\n" \
	"                   (--pki DIR | --key KEY.pem --cert CERT.pem [--chain CHAIN.pem])\n"     \
	"                   [--digest SHA256|SHA1|SHA512] [-j THREADS] [-l LEVEL]\n"              \
	"       mkova pki --dir DIR [--expired] [--no-codesign]\n"                              \
	"\n"                                                                                     \
	"build  writes DIR/<product>-<ver>.ova holding, in this order: <product>-<ver>.ovf,\n"   \
	"       .mf (one `SHA256(<file>)= <hex>` line for the .ovf and the disk), .cert\n"     \
	"       (signature over the .mf + signer certificate), <product>-certchain.pem\n"     \
	"       (intermediate CAs) and <product>-<ver>-disk1.vmdk (streamOptimized).\n"        \
	"       Tar members carry mtime $SOURCE_DATE_EPOCH (else 0), owner 0:0, mode 0644,\n"  \
	"       so two builds from the same inputs and keys give the same bytes.\n"            \
	"       --pki DIR signs with the development PKI in DIR (see `pki`).\n"               \
	"pki    creates a DEVELOPMENT root CA, intermediate CA and code-signing key in DIR\n" \
	"       unless DIR/dev-signing.pem exists. --expired and --no-codesign make a leaf\n" \
	"       that verifiers must reject (for tests).\n"                                    \
	"\n"                                                                                     \
	"Exit status: 0 success, 1 invalid input (hardware file, keys, image), 100 usage,\n"  \
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

static int cmd_build(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "raw", required_argument, NULL, 'r' },   { "hw", required_argument, NULL, 'w' },
		{ "out", required_argument, NULL, 'o' },   { "product", required_argument, NULL, 'p' },
		{ "version", required_argument, NULL, 'v' }, { "pki", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },   { "cert", required_argument, NULL, 'c' },
		{ "chain", required_argument, NULL, 'C' }, { "digest", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *raw = NULL, *hwpath = NULL, *outdir = NULL, *product = PRODUCT, *version = NULL;
	const char *pki = NULL, *key = NULL, *cert = NULL, *chain = NULL, *alg = "SHA256";
	const char *bad = NULL;
	struct space_err err = { "" };
	struct vmdk_write_opts vo = { 0 };
	struct vmdk_write_stats vs;
	struct ovf_hw hw = { 0 };
	struct signer *sg = NULL;
	struct outfile vmdk_of = { .fd = -1 }, ova_of;
	struct tar_writer tw;
	char *ovf = NULL, *certtxt = NULL, *chaintxt = NULL, *pk = NULL, *pc = NULL, *pch = NULL;
	char *n_ova = NULL, *n_ovf = NULL, *n_mf = NULL, *n_cert = NULL, *n_chain = NULL, *n_disk = NULL;
	char *tmpvmdk = NULL, mf[1024];
	unsigned char md[EVP_MAX_MD_SIZE];
	size_t ovflen = 0, certlen = 0, chainlen = 0, mdlen = 0, mflen = 0;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	int64_t mtime = sde ? strtoll(sde, NULL, 10) : 0;
	int c, in = -1, rc = EXIT_SYSTEM, r;

	while ((c = getopt_long(argc, argv, "j:l:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': raw = optarg; break;
		case 'w': hwpath = optarg; break;
		case 'o': outdir = optarg; break;
		case 'p': product = optarg; break;
		case 'v': version = optarg; break;
		case 'P': pki = optarg; break;
		case 'k': key = optarg; break;
		case 'c': cert = optarg; break;
		case 'C': chain = optarg; break;
		case 'd': alg = optarg; break;
		case 'j': vo.threads = atoi(optarg); break;
		case 'l': vo.level = atoi(optarg); break;
		default: return die_usage(USAGE);
		}
	}
	if (optind != argc || !raw || !hwpath || !outdir || !version || (!pki == !key) ||
	    (key && !cert) || !ova_digest_evp_name(alg)) {
		return die_usage(USAGE);
	}
	if (pki) {
		key = pk = xasprintf("%s/dev-signing.key", pki);
		cert = pc = xasprintf("%s/dev-signing.pem", pki);
		chain = pch = xasprintf("%s/dev-intermediate-ca.pem", pki);
	}
	n_ova = xasprintf("%s/%s-%s.ova", outdir, product, version);
	n_ovf = xasprintf("%s-%s.ovf", product, version);
	n_mf = xasprintf("%s-%s.mf", product, version);
	n_cert = xasprintf("%s-%s.cert", product, version);
	n_chain = xasprintf("%s-certchain.pem", product);
	n_disk = xasprintf("%s-%s-disk1.vmdk", product, version);
	tmpvmdk = xasprintf("%s/.%s-%s-disk1.vmdk", outdir, product, version);
	if (!n_ova || !n_ovf || !n_mf || !n_cert || !n_chain || !n_disk || !tmpvmdk || !key || !cert) {
		rc = die_err("build", "names", -ENOMEM, NULL);
		goto out;
	}
	if (!ova_name_is_plain(n_ovf) || !ova_name_is_plain(n_disk) || strlen(n_disk) >= 100) {
		rc = die_err("build", n_disk, -SPACE_E_FORMAT, "product/version make an unsafe member name");
		goto out;
	}
	if (mtime < 0 || mtime >= (1ll << 33)) {
		rc = die_err("build", "SOURCE_DATE_EPOCH", -SPACE_E_FORMAT, "out of range");
		goto out;
	}
	if ((rc = load_hw(hwpath, &hw)) != 0)
		goto out;
	rc = EXIT_SYSTEM;
	r = signer_load(&sg, key, cert, chain, &err, &bad);
	if (r < 0) {
		rc = die_err("build", bad, r, err.msg);
		goto out;
	}
	/* 1. the disk */
	in = open_regular(AT_FDCWD, raw, O_RDONLY, 0, OPEN_REG_BLOCK);
	if (in < 0) {
		rc = die_err("build", raw, in, NULL);
		goto out;
	}
	r = outfile_open(&vmdk_of, tmpvmdk, 0644);
	if (r < 0) {
		rc = die_err("build", tmpvmdk, r, NULL);
		goto out;
	}
	vo.extent_name = n_disk;
	r = vmdk_write_stream(in, vmdk_of.fd, &vo, &vs);
	if (r < 0) {
		rc = die_err("build", raw, r, NULL);
		goto out;
	}
	/* 2. the descriptor, which needs the exact VMDK size */
	{
		struct ovf_disk d = { n_disk, vs.out_bytes, vs.capacity_bytes,
				      vs.data_grains * VMDK_GRAIN_BYTES };
		r = ovf_generate(&hw, version, &d, &ovf, &ovflen);
		if (r < 0) {
			rc = die_err("build", n_ovf, r, NULL);
			goto out;
		}
	}
	/* 3. manifest and signature */
	if ((r = digest_buf(ovf, ovflen, alg, md, &mdlen)) < 0 ||
	    (r = ova_manifest_line(mf, sizeof(mf), alg, n_ovf, md, mdlen)) < 0) {
		rc = die_err("build", n_mf, r, NULL);
		goto out;
	}
	mflen = (size_t)r;
	if ((r = digest_fd(vmdk_of.fd, alg, md, &mdlen)) < 0 ||
	    (r = ova_manifest_line(mf + mflen, sizeof(mf) - mflen, alg, n_disk, md, mdlen)) < 0) {
		rc = die_err("build", n_mf, r, NULL);
		goto out;
	}
	mflen += (size_t)r;
	if ((r = signer_cert_file(sg, alg, n_mf, mf, mflen, &certtxt, &certlen)) < 0 ||
	    (r = signer_chain_pem(sg, &chaintxt, &chainlen)) < 0) {
		rc = die_err("build", n_cert, r, NULL);
		goto out;
	}
	/* 4. the archive, in the order the OVF spec and ovftool want */
	r = outfile_open(&ova_of, n_ova, 0644);
	if (r < 0) {
		rc = die_err("build", n_ova, r, NULL);
		goto out;
	}
	tar_writer_init(&tw, ova_of.fd, mtime);
	if ((r = tar_add_buf(&tw, n_ovf, ovf, ovflen)) < 0 || (r = tar_add_buf(&tw, n_mf, mf, mflen)) < 0 ||
	    (r = tar_add_buf(&tw, n_cert, certtxt, certlen)) < 0 ||
	    (r = tar_add_buf(&tw, n_chain, chaintxt, chainlen)) < 0 ||
	    (r = tar_add_fd(&tw, n_disk, vmdk_of.fd)) < 0 || (r = tar_finish(&tw)) < 0) {
		outfile_abort(&ova_of);
		rc = die_err("build", n_ova, r, NULL);
		goto out;
	}
	r = outfile_commit(&ova_of);
	if (r < 0) {
		rc = die_err("build", n_ova, r, NULL);
		goto out;
	}
	printf("%s: %s (disk %llu bytes, %llu data grains, capacity %llu)\n", space_prog, n_ova,
	       (unsigned long long)vs.out_bytes, (unsigned long long)vs.data_grains,
	       (unsigned long long)vs.capacity_bytes);
	rc = 0;
out:
	/* the VMDK only ever lives inside the OVA */
	if (vmdk_of.fd >= 0)
		outfile_abort(&vmdk_of);
	if (in >= 0)
		close(in);
	signer_free(sg);
	ovf_hw_free(&hw);
	free(ovf);
	free(certtxt);
	free(chaintxt);
	free(pk);
	free(pc);
	free(pch);
	free(n_ova);
	free(n_ovf);
	free(n_mf);
	free(n_cert);
	free(n_chain);
	free(n_disk);
	free(tmpvmdk);
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
