/* SPDX-License-Identifier: MIT */
/* verify.c - the verifier core shared by both package kinds (see verify.h):
 * member streaming and digests, check records, the signature and chain,
 * member names. The OVA's own checks (descriptor, VMDK, cross checks) are in
 * verify_ova.c, the release image's in verify_release.c, so that the
 * on-node upgrader links neither libxml2 nor the VMDK reader. Input is
 * hostile: the manifest and .cert go through the strict parsers in
 * image/ova, certificates through OpenSSL. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "strescape.h"
#include "util.h"
#include "verify.h"

const char *const ov_alg_tokens[OV_NALG] = { "SHA1", "SHA256", "SHA512" };

int ov_alg_index(const char *token)
{
	for (int i = 0; i < OV_NALG; i++)
		if (strcmp(token, ov_alg_tokens[i]) == 0)
			return i;
	return -1;
}

void ov_init(struct ov *ov, const struct ov_opts *opts)
{
	memset(ov, 0, sizeof(*ov));
	ov->opts = *opts;
	/* an OVA's .mf may use any of them; a release manifest says SHA-256 */
	ov->alg_mask = opts->release ? 1u << OV_SHA256 : (1u << OV_NALG) - 1;
}

static void member_free(struct ov_member *m)
{
	if (!m)
		return;
	for (int i = 0; i < OV_NALG; i++)
		EVP_MD_CTX_free(m->md[i]);
	rel_unpack_free(m->unpack);
	free(m->data);
	free(m);
}

void ov_free(struct ov *ov)
{
	for (unsigned i = 0; i < ov->nm; i++)
		member_free(ov->m[i]);
	if (ov->cur) {
		bool listed = false;
		for (unsigned i = 0; i < ov->nm; i++)
			listed |= ov->m[i] == ov->cur;
		if (!listed)
			member_free(ov->cur);
	}
	ov->nm = 0;
	ov->cur = NULL;
	free(ov->rm);
	ov->rm = NULL;
}

void ov_check(struct ov *ov, bool ok, const char *name, const char *file, const char *fmt, ...)
{
	char detail[sizeof(ov->checks[0].detail)];
	struct ov_check *c;
	va_list ap;

	if (!ok)
		ov->nfail++;
	if (ov->nchecks >= OV_MAX_CHECKS)
		return;
	if (ov->nchecks == OV_MAX_CHECKS - 1) {
		/* the last line says the report is cut, and the verdict is
		 * INVALID: a reader cannot check what is not listed (relabelling
		 * the last check as FAIL printed an ok reason on a FAIL line) */
		c = &ov->checks[ov->nchecks++];
		*c = (struct ov_check){ .ok = false, .name = "report" };
		snprintf(c->detail, sizeof(c->detail), "more than %d checks: the rest are not listed",
			 OV_MAX_CHECKS - 1);
		ov->nfail++;
		return;
	}
	c = &ov->checks[ov->nchecks++];
	c->ok = ok;
	snprintf(c->name, sizeof(c->name), "%s", name);
	/* Names and details come from the package: a member called "x\nok ..."
	 * or one carrying terminal escapes must not forge report lines, and two
	 * names must not read the same (str_escape is one-to-one). */
	str_escape(c->file, sizeof(c->file), file ? file : "", file ? strlen(file) : 0, 0);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	str_escape(c->detail, sizeof(c->detail), detail, strlen(detail), 0);
}

bool ov_ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool ov_is_chain_name(const char *name, const char *ovf_name)
{
	size_t n = strlen(name), p;

	if (n <= 14 || strcmp(name + n - 14, "-certchain.pem") != 0)
		return false;
	p = n - 13; /* "<product>-" */
	return strlen(ovf_name) > p && strncmp(name, ovf_name, p) == 0;
}

struct ov_member *ov_find(struct ov *ov, const char *name)
{
	for (unsigned i = 0; i < ov->nm; i++)
		if (strcmp(ov->m[i]->name, name) == 0)
			return ov->m[i];
	return NULL;
}

int ov_member_begin(struct ov *ov, const char *name, uint64_t size)
{
	struct ov_member *m;

	if (ov->nm >= OV_MAX_MEMBERS)
		return -E2BIG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->size = size;
	/* the release image's slot is streamed whatever its size */
	if (size <= OV_BUFFER_LIMIT && !ov_ends_with(name, ".vmdk") &&
	    !(ov->opts.release && !strcmp(name, REL_MEMBER_SLOT))) {
		m->data = malloc(size + 1);
		if (!m->data) {
			free(m);
			return -ENOMEM;
		}
	} else {
		for (int i = 0; i < OV_NALG; i++) {
			if (!(ov->alg_mask & (1u << i)))
				continue;
			m->md[i] = EVP_MD_CTX_new();
			if (!m->md[i] || EVP_DigestInit_ex(m->md[i], EVP_get_digestbyname(ov_alg_tokens[i]), NULL) != 1) {
				member_free(m);
				return -ENOMEM;
			}
		}
	}
	if (ov->opts.release && !m->data && !strcmp(name, REL_MEMBER_SLOT)) {
		int r = ov_release_member_begin(ov, m);
		if (r < 0) {
			member_free(m);
			return r;
		}
	}
	ov->cur = m;
	return 0;
}

int ov_member_data(struct ov *ov, const void *p, size_t n)
{
	struct ov_member *m = ov->cur;
	const unsigned char *b = p;

	if (!m || n == 0)
		return 0;
	if (m->got + n > m->size)
		n = (size_t)(m->size - m->got);
	if (m->data) {
		memcpy(m->data + m->got, b, n);
	} else {
		for (int i = 0; i < OV_NALG; i++)
			if (m->md[i] && !m->md_failed && EVP_DigestUpdate(m->md[i], b, n) != 1)
				m->md_failed = true;
		if (m->unpack && !m->unpack_err) {
			int r = rel_unpack_feed(m->unpack, b, n);
			/* a damaged frame is a FAIL of the package; anything else
			 * (the sink could not write) stops the reading */
			if (r < 0 && r != -SPACE_E_FORMAT && r != -EFBIG)
				return r;
			m->unpack_err = r;
			m->unpack_why = r < 0 ? rel_unpack_why(m->unpack) : NULL;
		}
		if (m->headlen < OV_HEAD) {
			size_t k = OV_HEAD - m->headlen < n ? OV_HEAD - m->headlen : n;
			memcpy(m->head + m->headlen, b, k);
			m->headlen += k;
		}
		/* ring buffer of the last OV_TAIL bytes, indexed by stream offset */
		{
			size_t skip = n > OV_TAIL ? n - OV_TAIL : 0;
			for (size_t i = skip; i < n; i++)
				m->tail[(m->got + i) % OV_TAIL] = b[i];
		}
	}
	m->got += n;
	return m->md_failed ? -EIO : 0;
}

int ov_member_end(struct ov *ov)
{
	struct ov_member *m = ov->cur;
	int r = 0;

	if (!m)
		return 0;
	ov->cur = NULL;
	for (int i = 0; i < OV_NALG; i++) {
		unsigned int len = 0;
		if (!m->md[i])
			continue;
		if (!m->md_failed && EVP_DigestFinal_ex(m->md[i], m->digest[i], &len) == 1)
			m->have_digest[i] = true;
		else
			r = -EIO;
		EVP_MD_CTX_free(m->md[i]);
		m->md[i] = NULL;
	}
	if (m->data)
		m->data[m->got] = '\0';
	if (m->unpack && !m->unpack_err) {
		m->unpack_err = rel_unpack_end(m->unpack, m->unpacked_sha256, &m->unpacked);
		m->unpack_done = m->unpack_err == 0;
		m->unpack_why = m->unpack_err ? rel_unpack_why(m->unpack) : NULL;
	}
	rel_unpack_free(m->unpack);
	m->unpack = NULL;
	ov->m[ov->nm++] = m;
	if (ov->opts.release) {
		ov_release_manifest_end(ov, m);
		return r;
	}
	/* the manifest decides which digests the members after it need */
	if (!ov->mf_parsed && m->data && ov_ends_with(m->name, ".mf") &&
	    ova_manifest_parse((char *)m->data, (size_t)m->got, &ov->mf, NULL) == 0) {
		ov->mf_parsed = true;
		ov->alg_mask = 0;
		for (unsigned i = 0; i < ov->mf.n; i++)
			ov->alg_mask |= (unsigned char)(1u << ov_alg_index(ov->mf.e[i].alg));
	}
	return r;
}

static const char *ossl_err(void)
{
	static char buf[200];
	unsigned long e = ERR_get_error();

	if (!e)
		return "unknown OpenSSL error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

/* The .cert file: its signature line names the manifest, and the signer
 * certificate decodes. NULL if not (already reported). */
static X509 *read_signer(struct ov *ov, const struct ov_member *mfm, const struct ov_member *cm,
			 struct ova_cert_file *cf)
{
	struct space_err err = { "" };
	X509 *leaf;
	BIO *b;

	if (ova_cert_parse((char *)cm->data, (size_t)cm->got, cf, &err) < 0) {
		ov_check(ov, false, "cert-format", cm->name, "%s", err.msg);
		return NULL;
	}
	if (strcmp(cf->name, mfm->name) != 0) {
		ov_check(ov, false, "cert-format", cm->name, "signs \"%s\", not the manifest %s", cf->name, mfm->name);
		return NULL;
	}
	b = BIO_new_mem_buf(cm->data + cf->pem_offset, (int)(cm->got - cf->pem_offset));
	leaf = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!leaf) {
		ov_check(ov, false, "cert-format", cm->name, "signer certificate does not decode: %s", ossl_err());
		return NULL;
	}
	ov_check(ov, true, "cert-format", cm->name, "%s signature line + signer certificate", cf->alg);
	return leaf;
}

/* The signature (sig_file's) verifies over the signed member with the
 * signer's key. */
static void check_signature(struct ov *ov, const struct ov_member *sm, const char *sig_file,
			    const struct ov_signature *sig, X509 *leaf)
{
	EVP_MD_CTX *vctx = EVP_MD_CTX_new();

	if (vctx &&
	    EVP_DigestVerifyInit_ex(vctx, NULL, sig->alg, NULL, NULL, X509_get0_pubkey(leaf), NULL) == 1 &&
	    EVP_DigestVerify(vctx, sig->sig, sig->siglen, sm->data, (size_t)sm->got) == 1)
		ov_check(ov, true, "signature", sm->name, "%s signature by the signer certificate verifies", sig->alg);
	else
		ov_check(ov, false, "signature", sm->name,
			 "signature in %s does not verify over %s (modified file or wrong key)", sig_file, sm->name);
	ERR_clear_error();
	EVP_MD_CTX_free(vctx);
}

/* The signer certificate is for code signing, not a CA, and valid now. */
static void check_signer_use(struct ov *ov, const char *cert_file, X509 *leaf)
{
	uint32_t xku = (X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) ? X509_get_extended_key_usage(leaf) : 0;

	if (!(xku & XKU_CODE_SIGN))
		ov_check(ov, false, "cert-purpose", cert_file, "signer certificate lacks extendedKeyUsage codeSigning");
	else if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
		 !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE))
		ov_check(ov, false, "cert-purpose", cert_file, "signer certificate keyUsage lacks digitalSignature");
	else if (X509_check_ca(leaf))
		ov_check(ov, false, "cert-purpose", cert_file, "signer certificate is a CA certificate");
	else
		ov_check(ov, true, "cert-purpose", cert_file, "code signing");
	if (X509_cmp_current_time(X509_get0_notBefore(leaf)) >= 0)
		ov_check(ov, false, "cert-dates", cert_file, "signer certificate is not yet valid");
	else if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0)
		ov_check(ov, false, "cert-dates", cert_file, "signer certificate has expired");
	else
		ov_check(ov, true, "cert-dates", cert_file, "within the validity period");
}

/* The intermediate certificates of the chain file (none without one);
 * NULL only if out of memory. */
static STACK_OF(X509) *read_chain(struct ov *ov, const struct ov_member *chm)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509 *x;
	BIO *b;
	int n = 0;

	if (!chm || !untrusted)
		return untrusted;
	b = BIO_new_mem_buf(chm->data, (int)chm->got);
	while (b && (x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		sk_X509_push(untrusted, x);
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	if (n > 0)
		ov_check(ov, true, "chain-file", chm->name, "%d certificate(s)", n);
	else
		ov_check(ov, false, "chain-file", chm->name, "no PEM certificate in it");
	return untrusted;
}

/* The signer chains to the root given with --ca through the chain file. */
static void check_chain(struct ov *ov, const char *cert_file, const struct ov_member *chm, X509 *leaf,
			STACK_OF(X509) *untrusted)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *sctx = NULL;

	if (!ov->opts.ca_file) {
		if (ov->opts.no_chain)
			ov_check(ov, true, "cert-chain", cert_file, "not verified (--no-chain: no trusted root given)");
		else
			ov_check(ov, false, "cert-chain", cert_file, "not verified: give the root CA with --ca ROOT.pem (or --no-chain)");
		return;
	}
	store = X509_STORE_new();
	sctx = X509_STORE_CTX_new();
	if (!store || !sctx || X509_STORE_load_file(store, ov->opts.ca_file) != 1) {
		ov_check(ov, false, "cert-chain", cert_file, "cannot load --ca %s: %s", ov->opts.ca_file, ossl_err());
		goto out;
	}
	if (X509_STORE_CTX_init(sctx, store, leaf, untrusted) != 1) {
		ov_check(ov, false, "cert-chain", cert_file, "%s", ossl_err());
		goto out;
	}
	if (X509_verify_cert(sctx) == 1) {
		ov_check(ov, true, "cert-chain", cert_file, "chains to the trusted root through %s",
			 chm ? chm->name : "(no chain file)");
	} else {
		int e = X509_STORE_CTX_get_error(sctx);
		ov_check(ov, false, "cert-chain", cert_file, "%s (depth %d)", X509_verify_cert_error_string(e),
			 X509_STORE_CTX_get_error_depth(sctx));
	}
	ERR_clear_error();
out:
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
}

void ov_check_signed(struct ov *ov, const struct ov_member *sm, const char *sig_file, const struct ov_signature *sig,
		     const char *cert_file, X509 *leaf, const struct ov_member *chm)
{
	STACK_OF(X509) *untrusted;

	check_signature(ov, sm, sig_file, sig, leaf);
	check_signer_use(ov, cert_file, leaf);
	untrusted = read_chain(ov, chm);
	check_chain(ov, cert_file, chm, leaf, untrusted);
	sk_X509_pop_free(untrusted, X509_free);
}

void ov_check_certificates(struct ov *ov, struct ov_member *mfm, struct ov_member *cm,
			   struct ov_member *chm)
{
	struct ova_cert_file cf;
	struct ov_signature sig;
	X509 *leaf = read_signer(ov, mfm, cm, &cf);

	if (!leaf)
		return;
	sig = (struct ov_signature){ .alg = cf.alg, .sig = cf.sig, .siglen = cf.siglen };
	ov_check_signed(ov, mfm, cm->name, &sig, cm->name, leaf, chm);
	X509_free(leaf);
}

unsigned ov_check_member_names(struct ov *ov)
{
	unsigned bad = 0;

	/* directory mode may already have refused a file that is not
	 * regular: then no "ok member-names" either */
	for (unsigned i = 0; i < ov->nchecks; i++)
		bad += !ov->checks[i].ok && !strcmp(ov->checks[i].name, "member-name");
	for (unsigned i = 0; i < ov->nm; i++) {
		if (!ova_name_is_plain(ov->m[i]->name)) {
			ov_check(ov, false, "member-name", ov->m[i]->name, "not a plain file name (path, space or control character)");
			bad++;
		}
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(ov->m[i]->name, ov->m[j]->name)) {
				/* once per copy, not once per earlier copy */
				ov_check(ov, false, "member-name", ov->m[i]->name, "appears twice");
				bad++;
				break;
			}
	}
	if (!bad)
		ov_check(ov, true, "member-names", NULL, "%u members, plain and unique", ov->nm);
	return bad;
}
