/* SPDX-License-Identifier: MIT */
/* main.c - `ova-verify`: check a signed OVA in one pass, without extracting
 * it, and report every check on its own line. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "image/ova/tar.h"
#include "openreg.h"
#include "archive.h"
#include "buf.h"
#include "json.h"
#include "stream.h"
#include "exitcode.h"
#include "util.h"
#include "verify.h"
#include "verify_sums.h"

#define USAGE                                                                                               \
	"usage: ova-verify [--ca ROOT.pem | --no-chain] [--json] PACKAGE.ova|PACKAGE.ovf|-\n"               \
	"       ova-verify [--ca ROOT.pem | --no-chain] [--json] [--release [--name NAME]] RELEASE.img|-\n" \
	"       ova-verify [--ca ROOT.pem | --no-chain] [--json] [--sums] LIST.sha256sums [FILE...]\n"      \
	"       ova-verify [--ca ROOT.pem | --no-chain] [--json] --signed FILE\n"                           \
	"\n"                                                                                                \
	"Checks a signed OVA the way an operator would with tar, sha256sum and openssl,\n"                  \
	"in one pass over the file (read as a stream; nothing is written to disk).\n"                       \
	"`-` reads the OVA from standard input. An extracted package can be checked\n"                      \
	"by naming its .ovf: the .mf, .cert, <product>-certchain.pem and the\n"                             \
	"referenced files"                                                                                  \
	"are read from the same directory.\n"                                                               \
	"\n"                                                                                                \
	"Options:\n"                                                                                        \
	"  --ca ROOT.pem  trusted root certificate(s) (PEM). The signer certificate in\n"                   \
	"                 the .cert must chain to it through the *certchain.pem member.\n"                  \
	"  --no-chain     do not require a trusted root (signature, manifest and\n"                         \
	"                 certificate purpose/dates are still checked). Without --ca\n"                     \
	"                 and without --no-chain the chain check FAILs.\n"                                  \
	"  --json         one JSON object instead of the text report.\n"                                    \
	"  --release      the file is a release image (<product>-<ver>.img; implied by\n"                   \
	"                 the .img suffix): manifest, manifest.cert, certchain.pem and\n"                   \
	"                 rootfs.ext4.zst, checked in one pass, the slot image unpacked\n"                  \
	"                 and hashed as it streams (memory bounded by the manifest).\n"                     \
	"  --name NAME    the release image's file name when it is read from `-`.\n"                        \
	"  --sums         the file is the signed checksum list of a release's downloads\n"                  \
	"                 (implied by the .sha256sums suffix): LIST.sig, LIST.cert.pem and\n"               \
	"                 LIST.chain.pem beside it are checked, then every listed file\n"                   \
	"                 next to it is hashed (README.md, Check a download). FILE...:\n"                   \
	"                 only these file names, each of which must be listed.\n"                           \
	"  --signed       FILE is signed as a checksum list is (FILE.sig, FILE.cert.pem,\n"                 \
	"                 FILE.chain.pem beside it; at most 64 KiB): the build record\n"                    \
	"                 <product>-<ver>.buildrecord. Only the signature, signer and chain.\n"             \
	"  -h, --help     this text.\n"                                                                     \
	"\n"                                                                                                \
	"Checks (one line each: `ok` or `FAIL`, the check, the file, the reason):\n"                        \
	"  tar-format         ustar headers only: no PAX/GNU extensions, links, dirs\n"                     \
	"  ovf-first          the .ovf descriptor is the first member\n"                                    \
	"  member-names       plain names (no paths), no duplicates\n"                                      \
	"  member-order       .ovf, .mf, .cert, certchain, then References order\n"                         \
	"  descriptor         well-formed OVF 1.x envelope with References\n"                               \
	"  reference          each referenced file is present and its ovf:size matches\n"                   \
	"  unexpected-member  a member nobody references\n"                                                 \
	"  manifest           .mf lines are exactly ALG(file)= lowercase-hex\n"                             \
	"  manifest-coverage  .mf lists the .ovf and every referenced file, nothing else\n"                 \
	"  digest             each listed file hashes to its manifest value\n"                              \
	"  vmdk-header        disk is a version 3 streamOptimized VMDK with footer\n"                       \
	"  disk-capacity      ovf:capacity covers the VMDK capacity\n"                                      \
	"  cert-format        .cert is `ALG(x.mf)= hex` + one PEM certificate\n"                            \
	"  signature          that signature verifies over the .mf bytes\n"                                 \
	"  cert-purpose       signer certificate has extendedKeyUsage codeSigning\n"                        \
	"  cert-dates         signer certificate is within its validity period\n"                           \
	"  chain-file         the chain member holds PEM certificates\n"                                    \
	"  cert-chain         signer -> chain -> --ca root verifies (OpenSSL)\n"                            \
	"  report             more checks than one report holds (then INVALID)\n"                           \
	"Release images (the certificate checks above apply to manifest.cert):\n"                           \
	"  manifest           the signed release manifest parses (format 1)\n"                              \
	"  name-binding       the file has the name the manifest was signed for\n"                          \
	"  member-order       manifest, manifest.cert, certchain.pem, rootfs.ext4.zst\n"                    \
	"  digest             rootfs.ext4.zst has the manifest's size and SHA-256\n"                        \
	"  slot-image         it unpacks to the manifest's slot size and SHA-256\n"                         \
	"Checksum lists (the certificate checks above apply to LIST.cert.pem):\n"                           \
	"  signature-file     LIST.sig is there (a detached signature over LIST)\n"                         \
	"  list-format        `<sha256>  <name>` lines, plain unique names, at most 64\n"                   \
	"  digest             each listed file is next to the list with that SHA-256\n"                     \
	"\n"                                                                                                \
	"Example:  ova-verify --ca SpaceRootCA.pem space-21.3R1.1.ova\n"                                    \
	"The last line says VALID or INVALID. Do not import an INVALID package: the\n"                      \
	"FAIL lines name the file that was modified, is missing or is not trusted.\n"                       \
	"\n"                                                                                                \
	"Exit status: 0 valid, 1 invalid (at least one FAIL, or not an OVA/release at all),\n"              \
	"100 usage, 111 the package could not be read (I/O): the contract of every space\n"                 \
	"tool (README.md, Exit codes).\n"

/* One file of an extracted package, never following a symlink. Missing
 * files are left to the checks to report. */
static int read_dir_member(struct ov *ov, int dfd, const char *name)
{
	struct rstream *rs = NULL;
	struct stat st;
	int64_t got;
	int fd, r;

	if (!ova_name_is_plain(name) || ov_find(ov, name))
		return 0;
	/* a FIFO would block open(), a symlink could lead out of the package */
	fd = open_regular(dfd, name, O_RDONLY | O_NOFOLLOW, 0, 0);
	if (fd == -SPACE_E_NOT_REG)
		ov_check(ov, false, "member-name", name, "%s", space_strerror(fd));
	if (fd < 0)
		return fd == -ENOENT || fd == -SPACE_E_NOT_REG ? 0 : fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = rs_open(&rs, fd);
	if (r == 0)
		r = ov_member_begin(ov, name, (uint64_t)st.st_size);
	if (r == 0) {
		got = ov_pump(ov, rs, (uint64_t)st.st_size, 1);
		r = ov_member_end(ov);
		if (got < 0)
			r = (int)got;
	}
	rs_close(rs);
	close(fd);
	return r;
}

static int read_dir(struct ov *ov, const char *ovf_path)
{
	char dir[4096], base[OVA_NAME_MAX + 1], name[OVA_NAME_MAX + 16];
	char refs[OV_MAX_MEMBERS][OVA_NAME_MAX + 1];
	const char *slash = strrchr(ovf_path, '/'), *file = slash ? slash + 1 : ovf_path;
	unsigned n;
	struct dirent *de;
	DIR *dh;
	int dfd, r;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - ovf_path) + 1 : 1, slash ? ovf_path : ".");
	if (strlen(file) > OVA_NAME_MAX || strlen(file) < 5)
		return -ENAMETOOLONG;
	snprintf(base, sizeof(base), "%.*s", (int)strlen(file) - 4, file);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	r = read_dir_member(ov, dfd, file);
	if (r == 0 && !ov_find(ov, file))
		r = -ENOENT;
	snprintf(name, sizeof(name), "%s.mf", base);
	if (r == 0)
		r = read_dir_member(ov, dfd, name);
	snprintf(name, sizeof(name), "%s.cert", base);
	if (r == 0)
		r = read_dir_member(ov, dfd, name);
	dh = r == 0 ? fdopendir(dup(dfd)) : NULL;
	while (dh && r == 0 && (de = readdir(dh)))
		if (ov_is_chain_name(de->d_name, file))
			r = read_dir_member(ov, dfd, de->d_name);
	if (dh)
		closedir(dh);
	n = r == 0 ? ov_referenced_files(ov, refs, OV_MAX_MEMBERS) : 0;
	for (unsigned i = 0; r == 0 && i < n; i++)
		r = read_dir_member(ov, dfd, refs[i]);
	close(dfd);
	return r;
}

/* The report as one JSON object (pkg/lib/json.h) on stdout. */
static void report_json(const struct ov *ov, const char *path)
{
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "file", path);
	jw_kbool(&w, "valid", !ov->nfail);
	jw_kint(&w, "failed", ov->nfail);
	jw_key(&w, "checks");
	jw_arr_begin(&w);
	for (unsigned i = 0; i < ov->nchecks; i++) {
		const struct ov_check *c = &ov->checks[i];

		jw_obj_begin(&w);
		jw_kstr(&w, "check", c->name);
		jw_kstr(&w, "file", c->file);
		jw_kbool(&w, "ok", c->ok);
		jw_kstr(&w, "detail", c->detail);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	buf_put(&b, "\n", 1);
	if (buf_failed(&b) == 0)
		fwrite(b.p, 1, b.len, stdout);
	buf_free(&b);
}

static void report(const struct ov *ov, const char *path, int json)
{
	if (json) {
		report_json(ov, path);
		return;
	}
	for (unsigned i = 0; i < ov->nchecks; i++) {
		const struct ov_check *c = &ov->checks[i];
		printf("%-4s %-17s %s%s%s\n", c->ok ? "ok" : "FAIL", c->name, c->file, c->file[0] ? ": " : "",
		       c->detail);
	}
	if (ov->nfail)
		printf("%s: %s: INVALID: %u of %u checks failed\n", space_prog, path, ov->nfail, ov->nchecks);
	else
		printf("%s: %s: VALID (%u checks ok)\n", space_prog, path, ov->nchecks);
}

/* --signed: the build record is a few KiB (mksums --sign-only's bound). */
#define SIGNED_FILE_MAX (64u << 10)

/* Files hashed at once in --sums mode: one per CPU, at most 4 (past
 * that the disk, not SHA-256, is the limit). */
static unsigned sums_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 4 ? 4 :
				   (unsigned)n;
}

/* What the command line asks for. */
struct cli {
	struct ov_opts o;
	struct ov_sums_opts so;
	const char *path;
	bool sums, signed_file;
	int json;
};

/* The options into c and the kind of file they name: 0, 1 when --help
 * was printed, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct cli *c)
{
	static const struct option lo[] = {
		{ "ca", required_argument, NULL, 'c' },
		{ "no-chain", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "release", no_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'N' },
		{ "sums", no_argument, NULL, 's' },
		{ "signed", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ov_opts *o = &c->o;
	const char *path;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'c': o->ca_file = optarg; break;
		case 'n': o->no_chain = true; break;
		case 'j': c->json = 1; break;
		case 'r': o->release = true; break;
		case 'N': o->file_name = optarg; break;
		case 's': c->sums = true; break;
		case 'S': c->signed_file = true; break;
		case 'h': fputs(USAGE, stdout); return 1;
		default: return -1;
		}
	}
	if (argc - optind < 1 || (o->ca_file && o->no_chain) ||
	    (o->file_name && (!o->release || strcmp(argv[optind], "-"))))
		return -1;
	path = c->path = argv[optind];
	c->sums |= !c->signed_file && ov_ends_with(path, ".sha256sums");
	if ((!c->sums && argc - optind != 1) || ((c->sums || c->signed_file) && (o->release || !strcmp(path, "-"))) ||
	    (c->sums && c->signed_file))
		return -1;
	c->so.only = (const char *const *)argv + optind + 1;
	c->so.nonly = (unsigned)(argc - optind - 1);
	c->so.threads = sums_threads();
	o->release |= !c->sums && !c->signed_file && strlen(path) > 4 && !strcmp(path + strlen(path) - 4, ".img");
	o->directory = !o->release && !c->sums && !c->signed_file && strlen(path) > 4 &&
		       !strcmp(path + strlen(path) - 4, ".ovf");
	if (strcmp(path, "-"))
		o->file_name = path;
	return 0;
}

/* Read what c names through ov's checks; what gets the name of the file
 * a read error is about. */
static int read_input(struct ov *ov, const struct cli *c, char *what, size_t whatlen)
{
	int fd, r;

	snprintf(what, whatlen, "%s", c->path);
	if (c->signed_file)
		return ov_signed_verify(ov, c->path, SIGNED_FILE_MAX, what, whatlen);
	if (c->sums)
		return ov_sums_verify(ov, c->path, &c->so, what, whatlen);
	if (c->o.directory)
		return read_dir(ov, c->path);
	fd = strcmp(c->path, "-") ? open(c->path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0)
		return -errno;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = ov_read_archive(ov, fd);
	if (fd)
		close(fd);
	return r;
}

int main(int argc, char **argv)
{
	struct cli c = { .json = 0 };
	struct ov *ov;
	char what[4096];
	int r, rc;

	space_prog = "ova-verify";
	r = parse_args(argc, argv, &c);
	if (r != 0)
		return r > 0 ? EXIT_OK : die_usage(USAGE);
	if (c.o.ca_file && access(c.o.ca_file, R_OK) < 0)
		return die_err("read", c.o.ca_file, -errno, NULL);
	ov = malloc(sizeof(*ov));
	if (!ov)
		return die_err("verify", c.path, -ENOMEM, NULL);
	ov_init(ov, &c.o);
	xmlInitParser();
	r = read_input(ov, &c, what, sizeof(what));
	if (r < 0) {
		/* Unreadable (111), or not an archive at all (1, refused). */
		rc = die_err("read", what, r, NULL);
	} else {
		if (!c.sums && !c.signed_file)
			ov_finish(ov);
		report(ov, c.path, c.json);
		rc = ov->nfail ? EXIT_NEGATIVE : EXIT_OK;
	}
	ov_free(ov);
	free(ov);
	xmlCleanupParser();
	return rc;
}
