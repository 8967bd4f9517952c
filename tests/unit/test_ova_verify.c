/* SPDX-License-Identifier: MIT */
/* test_ova_verify.c - the verifier core (image/ova-verify/verify.c) under
 * ASan/UBSan: a package assembled in memory with the real writer pieces
 * (VMDK, OVF, manifest, signature) passes every check; each tampered copy
 * fails the check that names the problem. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image/ova-verify/verify.h"
#include "image/ova/sign.h"
#include "image/ovf/ovf.h"
#include "image/vmdk/vmdk.h"
#include "tap.h"
#include "util.h"

struct pkg {
	char *ovf, *mf, *cert, *chain;
	unsigned char *disk;
	size_t ovflen, mflen, certlen, chainlen, disklen;
};

static char dir[64];

static int build(struct pkg *p)
{
	static const char hwtext[] = "name = t\nos_id = 101\nos_type = other3xLinux64Guest\n"
				     "os_description = Linux\nhardware_family = vmx-14\nfirmware = bios\n"
				     "vcpus = 2\nmemory_mib = 1024\ndisk_gib = 1\nscsi = lsilogic\n"
				     "nic = E1000 net0 Management\nproduct = T\nvendor = V\neula_file = e\n";
	struct vmdk_write_opts vo = { .threads = 2, .extent_name = "t-1-disk1.vmdk" };
	struct vmdk_write_stats vs;
	struct ovf_hw hw;
	struct signer *sg = NULL;
	char *k, *c, *ch, line[256];
	unsigned char md[64];
	unsigned int mdlen;
	struct space_err why;
	const char *bad;
	int raw, out, r;
	char rawp[] = "/tmp/tov_rawXXXXXX", outp[] = "/tmp/tov_vmdkXXXXXX";

	raw = mkstemp(rawp);
	out = mkstemp(outp);
	unlink(rawp);
	unlink(outp);
	if (ftruncate(raw, 4 << 20) < 0 || pwrite(raw, "data", 4, 100000) != 4)
		return -1;
	if (vmdk_write_stream(raw, out, &vo, &vs) < 0)
		return -1;
	p->disklen = vs.out_bytes;
	p->disk = malloc(p->disklen);
	if (pread(out, p->disk, p->disklen, 0) != (ssize_t)p->disklen)
		return -1;
	close(raw);
	close(out);
	if (ovf_hw_parse(hwtext, &hw, &why) < 0)
		return -1;
	hw.eula = strdup("EULA");
	{
		struct ovf_disk d = { "t-1-disk1.vmdk", p->disklen, vs.capacity_bytes, 0 };
		if (ovf_generate(&hw, "1", &d, &p->ovf, &p->ovflen) < 0)
			return -1;
	}
	ovf_hw_free(&hw);
	p->mf = malloc(1024);
	EVP_Digest(p->ovf, p->ovflen, md, &mdlen, EVP_sha256(), NULL);
	p->mflen = (size_t)ova_manifest_line(p->mf, 1024, "SHA256", "t-1.ovf", md, mdlen);
	EVP_Digest(p->disk, p->disklen, md, &mdlen, EVP_sha256(), NULL);
	r = ova_manifest_line(line, sizeof(line), "SHA256", "t-1-disk1.vmdk", md, mdlen);
	memcpy(p->mf + p->mflen, line, (size_t)r + 1);
	p->mflen += (size_t)r;
	k = xasprintf("%s/dev-signing.key", dir);
	c = xasprintf("%s/dev-signing.pem", dir);
	ch = xasprintf("%s/dev-intermediate-ca.pem", dir);
	r = signer_load(&sg, k, c, ch, &why, &bad);
	if (r == 0)
		r = signer_cert_file(sg, "SHA256", "t-1.mf", p->mf, p->mflen, &p->cert, &p->certlen);
	if (r == 0)
		r = signer_chain_pem(sg, &p->chain, &p->chainlen);
	signer_free(sg);
	free(k);
	free(c);
	free(ch);
	return r;
}

static void feed(struct ov *ov, const char *name, const void *data, size_t len)
{
	const unsigned char *b = data;

	ov_member_begin(ov, name, len);
	/* odd chunk sizes exercise the head/tail capture */
	for (size_t off = 0; off < len; off += 7777)
		ov_member_data(ov, b + off, len - off < 7777 ? len - off : 7777);
	ov_member_end(ov);
}

/* A failed OpenSSL step (a context without a digest fails every update
 * and final) must be an error, never a digest. */
static void test_digest_failure(void)
{
	struct ov_opts o = { 0 };
	struct ov *ov = calloc(1, sizeof(*ov));
	struct ov_member *m;

	ov_init(ov, &o);
	is_int(ov_member_begin(ov, "t-1-disk1.vmdk", 6), 0, "streamed member begins");
	m = ov->cur;
	EVP_MD_CTX_reset(m->md[OV_SHA256]);
	is_int(ov_member_data(ov, "abcdef", 6), -EIO, "  a failed digest update is -EIO");
	is_int(ov_member_end(ov), -EIO, "  and so is its end");
	ok(!m->have_digest[OV_SHA256] && !m->have_digest[OV_SHA1], "  with no digest recorded");
	is_int(ov_member_begin(ov, "t-2-disk1.vmdk", 3), 0, "a second member");
	EVP_MD_CTX_reset(ov->cur->md[OV_SHA512]);
	is_int(ov_member_data(ov, "abc", 3), -EIO, "  fails its update too");
	ov_free(ov);
	free(ov);
}

/* Run the verifier over p; return the first failed check's name ("" if none). */
static const char *run(const struct pkg *p, const char *ca, int order_swap, const char **detail)
{
	static char first[64];
	struct ov_opts o = { .ca_file = ca };
	struct ov *ov = malloc(sizeof(*ov));

	ov_init(ov, &o);
	if (order_swap) {
		feed(ov, "t-1.mf", p->mf, p->mflen);
		feed(ov, "t-1.ovf", p->ovf, p->ovflen);
	} else {
		feed(ov, "t-1.ovf", p->ovf, p->ovflen);
		feed(ov, "t-1.mf", p->mf, p->mflen);
	}
	feed(ov, "t-1.cert", p->cert, p->certlen);
	feed(ov, "t-certchain.pem", p->chain, p->chainlen);
	feed(ov, "t-1-disk1.vmdk", p->disk, p->disklen);
	ov_finish(ov);
	first[0] = '\0';
	for (unsigned i = 0; i < ov->nchecks; i++)
		if (!ov->checks[i].ok) {
			snprintf(first, sizeof(first), "%s", ov->checks[i].name);
			if (detail) {
				static char d[256];
				snprintf(d, sizeof(d), "%s", ov->checks[i].detail);
				*detail = d;
			}
			break;
		}
	ov_free(ov);
	free(ov);
	return first;
}

static unsigned count(const struct ov *ov, const char *name, const char *file, bool ok_)
{
	unsigned n = 0;

	for (unsigned i = 0; i < ov->nchecks; i++)
		n += !strcmp(ov->checks[i].name, name) && (!file || !strcmp(ov->checks[i].file, file)) &&
		     ov->checks[i].ok == ok_;
	return n;
}

/* issue 12 #18 and its kind: no check reported both FAIL and ok, none
 * reported twice, and a cut report says so instead of relabelling a line. */
static void test_single_verdicts(const struct pkg *p)
{
	struct ov_opts o = { .no_chain = true };
	struct ov *ov = malloc(sizeof(*ov));

	ov_init(ov, &o);
	feed(ov, "t-1.ovf", p->ovf, p->ovflen);
	feed(ov, "u-1.ovf", p->ovf, p->ovflen);
	ov_finish(ov);
	ok(count(ov, "descriptor", NULL, false) == 1 && count(ov, "descriptor", NULL, true) == 0,
	   "two .ovf members: descriptor FAIL only (%u FAIL, %u ok)", count(ov, "descriptor", NULL, false),
	   count(ov, "descriptor", NULL, true));
	ov_free(ov);

	ov_init(ov, &o);
	feed(ov, "t-1.ovf", p->ovf, p->ovflen);
	for (int i = 0; i < 3; i++)
		feed(ov, "x.txt", "x", 1);
	ov_finish(ov);
	is_int(count(ov, "member-name", "x.txt", false), 2, "a name three times: one line per extra copy");
	ov_free(ov);

	ov_init(ov, &o);
	for (int i = 0; i < OV_MAX_CHECKS + 10; i++)
		ov_check(ov, true, "digest", "f", "SHA256 matches");
	is_int(ov->nchecks, OV_MAX_CHECKS, "a full report keeps %d lines", OV_MAX_CHECKS);
	ok(count(ov, "digest", NULL, false) == 0 && count(ov, "report", NULL, false) == 1 && ov->nfail == 1,
	   "  no ok line turned into a FAIL; the last says the report is cut (%s: %s)",
	   ov->checks[OV_MAX_CHECKS - 1].name, ov->checks[OV_MAX_CHECKS - 1].detail);
	ov_free(ov);
	free(ov);
}

/* The signed package of the tests below, with its development PKI: made
 * once, by whichever of them runs first. */
static struct pkg pk;
static char *root;

static struct pkg *package(void)
{
	if (root)
		return &pk;
	snprintf(dir, sizeof(dir), "/tmp/tov_pkiXXXXXX");
	ok(mkdtemp(dir) != NULL, "temp dir");
	is_int(pki_create(dir, 0), 0, "development PKI");
	is_int(build(&pk), 0, "package assembled");
	root = xasprintf("%s/dev-root-ca.pem", dir);
	return &pk;
}

/* each part of the package changed: the check that catches it fails */
static void test_tamper(void)
{
	struct pkg p = *package();
	const char *d = NULL;

	ok(!strcmp(run(&p, root, 0, &d), ""), "untouched package passes every check (%s)", d ? d : "");
	ok(!strcmp(run(&p, NULL, 0, NULL), "cert-chain"), "without a root the chain check fails");
	ok(!strcmp(run(&p, root, 1, NULL), "ovf-first"), "manifest first: ovf-first fails");

	p.disk[p.disklen / 2] ^= 1;
	ok(!strcmp(run(&p, root, 0, &d), "digest"), "flipped disk byte: digest fails (%s)", d);
	p.disk[p.disklen / 2] ^= 1;
	p.disk[p.disklen - 1000] ^= 1; /* footer sector */
	run(&p, root, 0, &d);
	ok(strstr(d, "match") != NULL, "flipped footer byte is caught (%s)", d);
	p.disk[p.disklen - 1000] ^= 1;

	p.mf[10] ^= 1;
	ok(strcmp(run(&p, root, 0, &d), "") != 0, "flipped manifest byte fails (%s)", d);
	p.mf[10] ^= 1;
	p.cert[20] = p.cert[20] == 'a' ? 'b' : 'a';
	ok(!strcmp(run(&p, root, 0, &d), "signature"), "changed signature hex: signature fails (%s)", d);

	{
		char *pos = strstr(p.ovf, "ovf:size=\"");
		pos[10] = pos[10] == '9' ? '8' : '9';
		ok(!strcmp(run(&p, root, 0, &d), "reference"), "ovf:size changed: reference fails (%s)", d);
		pos[10] = pos[10] == '9' ? '8' : '9';
	}
	p.cert[20] = p.cert[20] == 'a' ? 'b' : 'a';
}

/* a hostile member name must not forge report lines */
static void test_member_name(void)
{
	{
		struct ov_opts o = { .no_chain = true };
		struct ov *ov = malloc(sizeof(*ov));
		const char evil[] = "x.ovf\nok   signature\x1b[2J";

		ov_init(ov, &o);
		feed(ov, evil, "<a/>", 4);
		ov_finish(ov);
		bool clean = ov->nchecks > 0;
		for (unsigned i = 0; i < ov->nchecks; i++)
			for (const char *s = ov->checks[i].file; *s; s++)
				clean &= *s >= 0x20 && *s < 0x7f;
		ok(clean && ov->nfail > 0, "control characters in a member name never reach the report");
		ok(strstr(ov->checks[0].file, "x.ovf\\x0aok   signature\\x1b[2J") != NULL, "  shown escaped (%s)",
		   ov->checks[0].file);
		ov_free(ov);
		free(ov);
	}
}

/* an ovf:size too long for its buffer was ignored, not refused */
static void test_ovf_size(void)
{
	const struct pkg p = *package();
	const char *d = NULL;

	{
		struct pkg q = p;
		char *pos = strstr(p.ovf, "ovf:size=\""), *end = strchr(pos + 10, '"');
		q.ovf = xasprintf("%.*sovf:size=\"%s\"%s", (int)(pos - p.ovf), p.ovf,
				  "9999999999999999999999999999999999999999", end + 1);
		q.ovflen = strlen(q.ovf);
		ok(!strcmp(run(&q, root, 0, &d), "descriptor"), "a 40-digit ovf:size is refused, not skipped (%s)", d);
		free(q.ovf);
	}
}

static void run_single_verdicts(void)
{
	test_single_verdicts(package());
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/ova_verify/digest_failure", test_digest_failure },
		{ "/ova_verify/tamper", test_tamper },
		{ "/ova_verify/member_name", test_member_name },
		{ "/ova_verify/ovf_size", test_ovf_size },
		{ "/ova_verify/single_verdicts", run_single_verdicts },
		{ NULL, NULL },
	};
	int r = tap_run(argc, argv, tests);

	if (!root)
		return r;
	free(root);
	free(pk.ovf);
	free(pk.mf);
	free(pk.cert);
	free(pk.chain);
	free(pk.disk);
	{
		const char *names[] = { "dev-root-ca.key", "dev-root-ca.pem", "dev-intermediate-ca.key",
					"dev-intermediate-ca.pem", "dev-signing.key", "dev-signing.pem" };
		for (size_t i = 0; i < 6; i++) {
			char *f = xasprintf("%s/%s", dir, names[i]);
			unlink(f);
			free(f);
		}
		rmdir(dir);
	}
	return r;
}
