/* SPDX-License-Identifier: MIT */
/* main.c - `mksums`: the signed checksum list of a release's downloads
 * (sums.h): hash the files, write the list in sha256sum's format and sign
 * it with the OVA's signing code, so that an operator can check a download
 * with openssl and sha256sum alone, or with `ova-verify --sums`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/ova/sign.h"
#include "exitcode.h"
#include "sums.h"
#include "util.h"

#define USAGE                                                                                            \
	"usage: mksums --out DIR/LIST (--pki DIR | --key KEY.pem --cert CERT.pem [--chain CHAIN.pem])\n" \
	"              [-j THREADS] FILE...\n"                                                           \
	"       mksums --sign-only --out DIR/FILE (--pki DIR | --key ... --cert ... [--chain ...])\n"    \
	"\n"                                                                                             \
	"Writes DIR/LIST, one `<sha256>  <name>` line per FILE in the order given (GNU\n"                \
	"sha256sum's format: `sha256sum -c LIST` reads it), and beside it LIST.sig (RSA\n"               \
	"PKCS#1 v1.5 SHA-256 signature over LIST, as `openssl dgst -sha256 -sign` makes),\n"             \
	"LIST.cert.pem (the signer certificate) and LIST.chain.pem (the intermediate CAs).\n"            \
	"Every FILE must be in DIR: the list names them by plain file name, so it is\n"                  \
	"checked next to them. --pki DIR signs with the development PKI of `mkova pki`.\n"               \
	"-j hashes that many files at once (default 1). Check the list with\n"                           \
	"`ova-verify --ca ROOT.pem --sums DIR/LIST` (README.md, Check a download).\n"                    \
	"--sign-only signs DIR/FILE as it is (at most 64 KiB; the build record, image/record.mk)\n"      \
	"the same way: FILE.sig, FILE.cert.pem, FILE.chain.pem; `ova-verify --signed` checks it.\n"      \
	"\n"                                                                                             \
	"Exit status: 0 success, 1 refused input (keys, file names), 100 usage, 111 I/O\n"               \
	"or system error (the contract of every space tool: README.md, Exit codes).\n"

/* The largest file --sign-only signs: a build record is a few KiB. */
#define SIGN_ONLY_MAX (64u << 10)

struct args {
	const char *out, *pki, *key, *cert, *chain;
	unsigned threads;
	bool sign_only;
	char **files;
	int nfiles;
};

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "pki", required_argument, NULL, 'P' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "chain", required_argument, NULL, 'C' },
		{ "sign-only", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	a->threads = 1;
	while ((c = getopt_long(argc, argv, "j:", lo, NULL)) != -1) {
		switch (c) {
		case 'o': a->out = optarg; break;
		case 'P': a->pki = optarg; break;
		case 'k': a->key = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'C': a->chain = optarg; break;
		case 'S': a->sign_only = true; break;
		case 'j':
			a->threads = (unsigned)strtoul(optarg, &end, 10);
			if (*end || a->threads < 1 || a->threads > SUMS_MAX_THREADS)
				return -1;
			break;
		default: return -1;
		}
	}
	a->files = argv + optind;
	a->nfiles = argc - optind;
	if (!a->out || (a->nfiles < 1) != a->sign_only || !a->pki == !a->key || (a->key && !a->cert))
		return -1;
	return 0;
}

/* The directory part of path ("." if none), malloc'd. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xasprintf(".");
	return xasprintf("%.*s", slash == path ? 1 : (int)(slash - path), path);
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

/* Is path's directory the list's (dst: its stat)? The list names the file
 * by its plain name, so anywhere else it would not be found. */
static int in_list_dir(const char *path, const struct stat *dst)
{
	char *dir = dir_of(path);
	struct stat st;
	int r;

	if (!dir)
		return -ENOMEM;
	r = stat(dir, &st) < 0 ? -errno : (st.st_dev == dst->st_dev && st.st_ino == dst->st_ino);
	free(dir);
	return r;
}

/* The files' names into l, in order, after checking where they are. */
static int list_names(const struct args *a, int dfd, struct sums_list *l, const char **bad, struct space_err *err)
{
	struct stat dst;
	int r;

	if (fstat(dfd, &dst) < 0)
		return -errno;
	for (int i = 0; i < a->nfiles; i++) {
		static const unsigned char none[32];
		*bad = a->files[i];
		r = in_list_dir(a->files[i], &dst);
		if (r <= 0) {
			if (r < 0)
				return r;
			return err_set(err, -SPACE_E_UNSAFE_PATH, "not in the list's directory: the list names files by plain name");
		}
		r = sums_add(l, base_of(a->files[i]), none);
		if (r < 0) {
			if (r == -ENOMEM)
				return r;
			return err_set(err, -SPACE_E_FORMAT, "%s",
				       r == -EEXIST ? "given twice" : r == -E2BIG ? "more files than a list holds (64)" :
										    "not a plain file name");
		}
	}
	return 0;
}

/* Hash every listed file into l; the first failure names its file. */
static int hash_all(const struct args *a, int dfd, struct sums_list *l, const char **bad)
{
	const char *names[SUMS_MAX_FILES];
	struct sums_hash res[SUMS_MAX_FILES];

	for (unsigned i = 0; i < l->n; i++)
		names[i] = l->e[i].name;
	sums_hash_files(dfd, names, l->n, a->threads, res);
	for (unsigned i = 0; i < l->n; i++) {
		if (res[i].err < 0) {
			*bad = a->files[i];
			return res[i].err;
		}
		memcpy(l->e[i].sha256, res[i].sha256, 32);
	}
	return 0;
}

/* Write dir/name + suffix atomically. */
static int write_companion(const char *dir, const char *list, const char *suffix, const void *data, size_t len,
			   char **path)
{
	char name[OVA_NAME_MAX + 1];
	int r = sums_companion(name, list, suffix);

	if (r < 0)
		return r;
	*path = xasprintf("%s/%s", dir, name);
	if (!*path)
		return -ENOMEM;
	return write_file_atomic(*path, data, len, 0644);
}

/* Sign the list text and write the signature, the certificates and then
 * the list itself: the list appears last, complete with its companions. */
static int sign_and_write(struct signer *sg, const char *dir, const char *list, const char *text, size_t len,
			  char **path)
{
	unsigned char *sig = NULL;
	char *cert = NULL, *chain = NULL;
	size_t siglen = 0, certlen = 0, chainlen = 0;
	int r;

	if ((r = signer_sign(sg, "SHA256", text, len, &sig, &siglen)) < 0 ||
	    (r = signer_cert_pem(sg, &cert, &certlen)) < 0 || (r = signer_chain_pem(sg, &chain, &chainlen)) < 0)
		goto out;
	{
		const struct {
			const char *suffix;
			const void *data;
			size_t len;
		} files[] = {
			{ SUMS_SIG_SUFFIX, sig, siglen },
			{ SUMS_CERT_SUFFIX, cert, certlen },
			{ SUMS_CHAIN_SUFFIX, chain, chainlen },
			{ "", text, len },
		};
		for (size_t i = 0; r == 0 && i < sizeof(files) / sizeof(files[0]); i++) {
			free(*path);
			*path = NULL;
			r = write_companion(dir, list, files[i].suffix, files[i].data, files[i].len, path);
		}
	}
out:
	free(sig);
	free(cert);
	free(chain);
	return r;
}

/* What one run holds from its start to its one cleanup (mksums_free). */
struct mksums {
	struct args a;
	struct sums_list *l;
	struct signer *sg;
	char *dir, *pk, *pc, *pch, *text, *path;
	const char *list;
	size_t len;
	int dfd;
};

static void mksums_free(struct mksums *m)
{
	if (m->dfd >= 0)
		close(m->dfd);
	signer_free(m->sg);
	free(m->l);
	free(m->dir);
	free(m->pk);
	free(m->pc);
	free(m->pch);
	free(m->text);
	free(m->path);
}

/* The list's name and directory, the key paths of --pki. */
static int mksums_start(struct mksums *m)
{
	struct args *a = &m->a;

	m->list = base_of(a->out);
	m->dir = dir_of(a->out);
	if (a->pki && pki_files(a->pki, &m->pk, &m->pc, &m->pch) == 0) {
		a->key = m->pk;
		a->cert = m->pc;
		a->chain = m->pch;
	}
	if (!m->l || !m->dir || !a->key || !a->cert)
		return die_err("sign", a->out, -ENOMEM, NULL);
	if (!sums_list_name_ok(m->list))
		return die_err("sign", a->out, -SPACE_E_FORMAT, "not a plain file name, or too long for its .chain.pem");
	return EXIT_OK;
}

/* Keys first: a wrong key must not cost hashing gigabytes. */
static int mksums_keys(struct mksums *m)
{
	struct space_err err = { "" };
	const char *bad = NULL;
	int r = signer_load(&m->sg, m->a.key, m->a.cert, m->a.chain, &err, &bad);

	if (r < 0)
		return die_err("sign", bad ? bad : m->a.cert, r, err.msg);
	return EXIT_OK;
}

/* --sign-only: the file as it is gets the list's signature files. */
static int mksums_sign_only(struct mksums *m)
{
	int r = read_file(m->a.out, SIGN_ONLY_MAX, &m->text, &m->len);

	if (r < 0)
		return die_err("read", m->a.out, r, r == -EFBIG ? "larger than 64 KiB" : NULL);
	r = sign_and_write(m->sg, m->dir, m->list, m->text, m->len, &m->path);
	if (r < 0)
		return die_err("write", m->path ? m->path : m->a.out, r, NULL);
	printf("%s: %s: signed\n", space_prog, m->path);
	return EXIT_OK;
}

/* The list of the files' SHA-256, signed. */
static int mksums_list(struct mksums *m)
{
	struct space_err err = { "" };
	const char *bad = NULL;
	int r;

	m->dfd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->dfd < 0)
		return die_err("open", m->dir, -errno, NULL);
	if ((r = list_names(&m->a, m->dfd, m->l, &bad, &err)) < 0 || (r = hash_all(&m->a, m->dfd, m->l, &bad)) < 0)
		return die_err("list", bad, r, err.msg);
	if ((r = sums_format(m->l, &m->text, &m->len)) < 0 ||
	    (r = sign_and_write(m->sg, m->dir, m->list, m->text, m->len, &m->path)) < 0)
		return die_err("write", m->path ? m->path : m->a.out, r, NULL);
	printf("%s: %s: %u files, signed\n", space_prog, m->path, m->l->n);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct mksums m = { .l = calloc(1, sizeof(*m.l)), .dfd = -1 };
	int rc;

	space_prog = "mksums";
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(USAGE, stdout);
		rc = EXIT_OK;
	} else if (parse_args(argc, argv, &m.a) < 0) {
		rc = die_usage(USAGE);
	} else if ((rc = mksums_start(&m)) == EXIT_OK && (rc = mksums_keys(&m)) == EXIT_OK) {
		rc = m.a.sign_only ? mksums_sign_only(&m) : mksums_list(&m);
	}
	mksums_free(&m);
	return rc;
}
