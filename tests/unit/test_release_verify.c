/* SPDX-License-Identifier: MIT */
/* test_release_verify.c - ova-verify's release mode as the upgrader will
 * drive it: a sink gets the unpacked slot image while the archive streams,
 * and only from an image whose manifest, name, signature and chain have
 * passed; a sink error stops the reading. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image/ova-verify/archive.h"
#include "image/ova-verify/verify.h"
#include "image/ova/sign.h"
#include "image/ova/tar.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/test_release_verify.XXXXXX";
static struct signer *sg;

struct sink {
	uint64_t got;
	int fail_with;
};

static int sink_fn(void *ctx, const void *p, size_t n, uint64_t off)
{
	struct sink *s = ctx;

	(void)p;
	(void)off;
	if (s->fail_with)
		return s->fail_with;
	s->got += n;
	return 0;
}

/* A release image in dir/name; tamper (0 none, 1 manifest edited after
 * signing) */
static int make_image(const char *name, int tamper)
{
	struct rel_manifest *m = calloc(1, sizeof(*m));
	struct rel_pack_result res;
	struct tar_writer tw;
	char *path = xasprintf("%s/%s", dir, name), *zpath = xasprintf("%s/slot.zst", dir);
	char *mf = NULL, *cert = NULL, *chain = NULL, *src = xasprintf("%s/slot.raw", dir);
	size_t mflen, certlen, chainlen;
	int in = open(src, O_RDWR | O_CREAT | O_TRUNC, 0600), z = open(zpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
	int out = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), r = -1;

	if (in < 0 || z < 0 || out < 0 || ftruncate(in, 8 << 20) < 0 || pwrite(in, "data", 4, 1 << 20) != 4)
		goto done;
	if (rel_pack(in, 0, 8 << 20, z, NULL, &res) < 0)
		goto done;
	strcpy(m->product, "space");
	strcpy(m->release, "21.3R1.1");
	rel_version_parse(m->release, &m->version);
	strcpy(m->build, "b1");
	strcpy(m->file, "space-21.3R1.1.img");
	rel_targets_parse("kvm", m);
	strcpy(m->kernel, "k");
	m->slot_size = m->slot_min_size = res.in_bytes;
	memcpy(m->slot_sha256, res.in_sha256, 32);
	m->zst_size = res.out_bytes;
	memcpy(m->zst_sha256, res.out_sha256, 32);
	m->window_log = REL_ZSTD_WINDOW_LOG;
	m->paths_revision = 1;
	rel_version_parse("21.1", &m->from[0]);
	m->nfrom = 1;
	if (rel_manifest_format(m, &mf, &mflen) < 0 ||
	    signer_cert_file(sg, "SHA256", REL_MEMBER_MANIFEST, mf, mflen, &cert, &certlen) < 0 ||
	    signer_chain_pem(sg, &chain, &chainlen) < 0)
		goto done;
	if (tamper)
		mf[strstr(mf, "build = b1") - mf + 9] = '2'; /* after signing */
	tar_writer_init(&tw, out, 0);
	if (tar_add_buf(&tw, REL_MEMBER_MANIFEST, mf, mflen) == 0 && tar_add_buf(&tw, REL_MEMBER_CERT, cert, certlen) == 0 &&
	    tar_add_buf(&tw, REL_MEMBER_CHAIN, chain, chainlen) == 0 && tar_add_fd(&tw, REL_MEMBER_SLOT, z) == 0 &&
	    tar_finish(&tw) == 0)
		r = 0;
done:
	if (in >= 0)
		close(in);
	if (z >= 0)
		close(z);
	if (out >= 0)
		close(out);
	unlink(src);
	unlink(zpath);
	free(src);
	free(zpath);
	free(path);
	free(mf);
	free(cert);
	free(chain);
	free(m);
	return r;
}

/* Verify dir/name as the file named as_name; returns ov_read_archive's
 * result, *nfail the FAIL count. */
static bool sink_checks;      /* ov_opts.sink_checks_digest of the next verify() */
static char slot_detail[256]; /* the slot-image check's detail */

static int verify(const char *name, const char *as_name, struct sink *s, unsigned *nfail, bool *attached)
{
	char *path = xasprintf("%s/%s", dir, name), *ca = xasprintf("%s/dev-root-ca.pem", dir);
	struct ov_opts o = {
		.ca_file = ca,
		.release = true,
		.file_name = as_name,
		.slot_sink = sink_fn,
		.slot_ctx = s,
		.sink_checks_digest = sink_checks,
	};
	struct ov *ov = malloc(sizeof(*ov));
	int fd = open(path, O_RDONLY), r;

	ov_init(ov, &o);
	r = ov_read_archive(ov, fd);
	if (r == 0)
		ov_finish(ov);
	slot_detail[0] = '\0';
	for (unsigned i = 0; i < ov->nchecks; i++) {
		if (!ov->checks[i].ok)
			printf("#   FAIL %s %s: %s\n", ov->checks[i].name, ov->checks[i].file, ov->checks[i].detail);
		if (!strcmp(ov->checks[i].name, "slot-image"))
			snprintf(slot_detail, sizeof(slot_detail), "%s", ov->checks[i].detail);
	}
	*nfail = ov->nfail;
	*attached = ov->sink_attached;
	ov_free(ov);
	free(ov);
	close(fd);
	free(path);
	free(ca);
	return r;
}

/* The development PKI, its signer, and the images good.img and bad.img
 * (its manifest changed after signing): made once, by whichever test runs
 * first. */
static void images(void)
{
	char *key, *cert, *chain;
	struct space_err why;
	const char *file;

	if (sg)
		return;
	is_int(pki_create(dir, 0), 0, "development PKI");
	key = xasprintf("%s/dev-signing.key", dir);
	cert = xasprintf("%s/dev-signing.pem", dir);
	chain = xasprintf("%s/dev-intermediate-ca.pem", dir);
	is_int(signer_load(&sg, key, cert, chain, &why, &file), 0, "signer");
	is_int(make_image("good.img", 0), 0, "a good image");
	is_int(make_image("bad.img", 1), 0, "an image whose manifest changed after signing");
	free(cert);
	free(chain);
	free(key);
}

/* a valid image reaches the sink whole; a renamed or tampered one not at
 * all */
static void test_verify(void)
{
	struct sink s = { 0 };
	unsigned nfail;
	bool att;

	images();
	is_int(verify("good.img", "space-21.3R1.1.img", &s, &nfail, &att), 0, "read");
	ok(nfail == 0 && att && s.got == 8u << 20, "valid; the sink got the whole slot (%llu bytes)", (unsigned long long)s.got);

	s.got = 0;
	is_int(verify("good.img", "space-21.3R2.img", &s, &nfail, &att), 0, "renamed: read");
	ok(nfail > 0 && !att && s.got == 0, "renamed: invalid, and the sink got nothing (%llu)", (unsigned long long)s.got);

	s.got = 0;
	is_int(verify("bad.img", "space-21.3R1.1.img", &s, &nfail, &att), 0, "tampered: read");
	ok(nfail > 0 && !att && s.got == 0, "tampered: invalid, and the sink got nothing (%llu)", (unsigned long long)s.got);

	ok(strstr(slot_detail, "SHA-256 matches the manifest") != NULL, "the unpacked SHA-256 is checked (%s)", slot_detail);
}

/* ov_opts.sink_checks_digest: the digest is left to the sink's read-back */
static void test_sink_checks_digest(void)
{
	struct sink s = { 0 };
	unsigned nfail;
	bool att;

	images();
	sink_checks = true;
	is_int(verify("good.img", "space-21.3R1.1.img", &s, &nfail, &att), 0, "sink_checks_digest: read");
	ok(nfail == 0 && att && s.got == 8u << 20 && strstr(slot_detail, "checked by the read-back"),
	   "sink_checks_digest: valid, the whole slot reached the sink, its digest left to the read-back (%s)", slot_detail);
	s.got = 0;
	is_int(verify("bad.img", "space-21.3R1.1.img", &s, &nfail, &att), 0, "sink_checks_digest, tampered: read");
	ok(nfail > 0 && !att && s.got == 0, "sink_checks_digest: a tampered image still never reaches the sink");
	sink_checks = false;
}

static void test_sink_error(void)
{
	struct sink s = { .fail_with = -ENOSPC };
	unsigned nfail;
	bool att;

	images();
	is_int(verify("good.img", "space-21.3R1.1.img", &s, &nfail, &att), -ENOSPC, "a sink error stops the reading");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/release_verify/verify", test_verify },
		{ "/release_verify/sink_checks_digest", test_sink_checks_digest },
		{ "/release_verify/sink_error", test_sink_error },
		{ NULL, NULL },
	};
	char *rm;
	int r;

	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	if (sg)
		signer_free(sg);
	rm = xasprintf("rm -rf '%s'", dir);
	if (!rm || system(rm) != 0)
		printf("# cleanup of %s failed\n", dir);
	free(rm);
	return r;
}
