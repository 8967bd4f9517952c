/* SPDX-License-Identifier: MIT */
/* sign.c - development PKI and manifest signing with OpenSSL 3 EVP/X509. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "manifest.h"
#include "sign.h"
#include "util.h"

struct signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;
};

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -SPACE_E_FORMAT;
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

/* One certificate: subject CN, issued by issuer/ikey (self-signed when NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, long from,
		       long to, const char *const exts[][2])
{
	unsigned char serial[16];
	X509 *c = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIGNUM *bn = NULL;

	if (!c || !name || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)))
		goto fail;
	X509_set_version(c, 2);
	X509_gmtime_adj(X509_getm_notBefore(c), from);
	X509_gmtime_adj(X509_getm_notAfter(c), to);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Space build (DEVELOPMENT)", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(c, name);
	X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
	X509_set_pubkey(c, key);
	for (size_t i = 0; exts[i][0]; i++)
		if (add_ext(c, issuer ? issuer : c, OBJ_txt2nid(exts[i][0]), exts[i][1]) < 0)
			goto fail;
	if (!X509_sign(c, issuer ? ikey : key, EVP_sha256()))
		goto fail;
	BN_free(bn);
	X509_NAME_free(name);
	return c;
fail:
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(c);
	return NULL;
}

static int write_pem(const char *dir, const char *file, X509 *cert, EVP_PKEY *key)
{
	char *path = xasprintf("%s/%s", dir, file), *data = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	long n;
	int r = -ENOMEM;

	if (!path || !b)
		goto out;
	if (cert ? !PEM_write_bio_X509(b, cert) : !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		goto out;
	n = BIO_get_mem_data(b, &data);
	r = write_file_atomic(path, data, (size_t)n, key ? 0600 : 0644);
	if (key)
		OPENSSL_cleanse(data, (size_t)n);
out:
	BIO_free(b);
	free(path);
	return r;
}

static const char *const root_ext[][2] = {
	{ "basicConstraints", "critical,CA:TRUE" },
	{ "keyUsage", "critical,keyCertSign,cRLSign" },
	{ "subjectKeyIdentifier", "hash" },
	{ NULL, NULL },
};
static const char *const int_ext[][2] = {
	{ "basicConstraints", "critical,CA:TRUE,pathlen:0" },
	{ "keyUsage", "critical,keyCertSign,cRLSign" },
	{ "subjectKeyIdentifier", "hash" },
	{ "authorityKeyIdentifier", "keyid:always" },
	{ NULL, NULL },
};
static const char *const leaf_ext[][2] = {
	{ "basicConstraints", "critical,CA:FALSE" },
	{ "keyUsage", "critical,digitalSignature" },
	{ "extendedKeyUsage", "codeSigning" },
	{ "subjectKeyIdentifier", "hash" },
	{ "authorityKeyIdentifier", "keyid:always" },
	{ NULL, NULL },
};
static const char *const leaf_tls_ext[][2] = {
	{ "basicConstraints", "critical,CA:FALSE" },
	{ "keyUsage", "critical,digitalSignature" },
	{ "extendedKeyUsage", "serverAuth" },
	{ "subjectKeyIdentifier", "hash" },
	{ "authorityKeyIdentifier", "keyid:always" },
	{ NULL, NULL },
};

/* The files of the development PKI that a signer loads. */
#define PKI_KEY "dev-signing.key"
#define PKI_CERT "dev-signing.pem"
#define PKI_CHAIN "dev-intermediate-ca.pem"

/* The development PKI in memory: root, intermediate and leaf. */
struct pki {
	EVP_PKEY *rk, *ik, *lk;
	X509 *rc, *ic, *lc;
};

static void pki_free(struct pki *p)
{
	X509_free(p->rc);
	X509_free(p->ic);
	X509_free(p->lc);
	EVP_PKEY_free(p->rk);
	EVP_PKEY_free(p->ik);
	EVP_PKEY_free(p->lk);
}

/* Keys and certificates; the leaf as flags ask (expired, no codeSigning). */
static int pki_make(struct pki *p, unsigned flags)
{
	const long day = 86400;

	p->rk = EVP_RSA_gen(2048);
	p->ik = EVP_RSA_gen(2048);
	p->lk = EVP_RSA_gen(2048);
	if (!p->rk || !p->ik || !p->lk)
		return -ENOMEM;
	p->rc = make_cert(p->rk, "Space DEVELOPMENT Root CA - not for production", NULL, NULL, -day,
			  20 * 365 * day, root_ext);
	p->ic = p->rc ? make_cert(p->ik, "Space DEVELOPMENT Intermediate CA - not for production", p->rc, p->rk,
				  -day, 10 * 365 * day, int_ext) :
			NULL;
	p->lc = p->ic ? make_cert(p->lk, "Space DEVELOPMENT OVA signing - not for production", p->ic, p->ik,
				  (flags & PKI_EXPIRED_LEAF) ? -30 * day : -day,
				  (flags & PKI_EXPIRED_LEAF) ? -day : 5 * 365 * day,
				  (flags & PKI_NO_CODESIGN) ? leaf_tls_ext : leaf_ext) :
			NULL;
	return p->lc ? 0 : -ENOMEM;
}

/* The files, the leaf certificate last: its presence marks a complete PKI. */
static int pki_write(const struct pki *p, const char *dir)
{
	int r;

	if ((r = write_pem(dir, "dev-root-ca.key", NULL, p->rk)) < 0 ||
	    (r = write_pem(dir, "dev-root-ca.pem", p->rc, NULL)) < 0 ||
	    (r = write_pem(dir, "dev-intermediate-ca.key", NULL, p->ik)) < 0 ||
	    (r = write_pem(dir, PKI_CHAIN, p->ic, NULL)) < 0 || (r = write_pem(dir, PKI_KEY, NULL, p->lk)) < 0 ||
	    (r = write_pem(dir, PKI_CERT, p->lc, NULL)) < 0)
		return r;
	return 0;
}

int pki_create(const char *dir, unsigned flags)
{
	struct pki p = { NULL, NULL, NULL, NULL, NULL, NULL };
	char *probe = xasprintf("%s/" PKI_CERT, dir);
	struct stat st;
	int r;

	if (!probe)
		return -ENOMEM;
	if (stat(probe, &st) == 0) {
		free(probe);
		return 0;
	}
	free(probe);
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	r = pki_make(&p, flags);
	if (r == 0)
		r = pki_write(&p, dir);
	pki_free(&p);
	return r;
}

int pki_files(const char *dir, char **key, char **cert, char **chain)
{
	*key = xasprintf("%s/" PKI_KEY, dir);
	*cert = xasprintf("%s/" PKI_CERT, dir);
	*chain = xasprintf("%s/" PKI_CHAIN, dir);
	if (*key && *cert && *chain)
		return 0;
	free(*key);
	free(*cert);
	free(*chain);
	*key = *cert = *chain = NULL;
	return -ENOMEM;
}

static BIO *bio_of_file(const char *path, char **buf, size_t *len, int *err)
{
	BIO *b;

	*err = read_file(path, 1 << 20, buf, len);
	if (*err < 0)
		return NULL;
	b = BIO_new_mem_buf(*buf, (int)*len);
	if (!b)
		*err = -ENOMEM;
	return b;
}

void signer_free(struct signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	X509_free(s->cert);
	sk_X509_pop_free(s->chain, X509_free);
	free(s);
}

/* The private key; its file's buffer is wiped (the key must not linger
 * in freed memory). */
static int load_key(struct signer *s, const char *key, struct space_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = 0;
	BIO *b = bio_of_file(key, &buf, &len, &r);

	if (b) {
		s->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	if (buf) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	if (r < 0)
		return r;
	if (!s->key)
		return err_set(err, -SPACE_E_FORMAT, "signing key: not a PEM private key");
	return 0;
}

/* The certificate: it matches the key, it is for code signing and valid
 * now. */
static int load_cert(struct signer *s, const char *cert, struct space_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = 0;
	BIO *b = bio_of_file(cert, &buf, &len, &r);

	if (b) {
		s->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	free(buf);
	if (r < 0)
		return r;
	if (!s->cert)
		return err_set(err, -SPACE_E_FORMAT, "signing certificate: not a PEM certificate");
	if (X509_check_private_key(s->cert, s->key) != 1)
		return err_set(err, -SPACE_E_SIGNATURE, "signing key does not match the signing certificate");
	if (!(X509_get_extension_flags(s->cert) & EXFLAG_XKUSAGE) ||
	    !(X509_get_extended_key_usage(s->cert) & XKU_CODE_SIGN))
		return err_set(err, -SPACE_E_UNTRUSTED, "signing certificate lacks extendedKeyUsage codeSigning");
	if (X509_cmp_current_time(X509_get0_notAfter(s->cert)) <= 0 ||
	    X509_cmp_current_time(X509_get0_notBefore(s->cert)) >= 0)
		return err_set(err, -SPACE_E_UNTRUSTED, "signing certificate is outside its validity period");
	return 0;
}

/* The intermediates of the chain file into s->chain. */
static int load_chain(struct signer *s, const char *chain, struct space_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int r = 0;
	X509 *x;
	BIO *b = bio_of_file(chain, &buf, &len, &r);

	if (!b) {
		free(buf);
		return r;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		sk_X509_push(s->chain, x);
	BIO_free(b);
	free(buf);
	if (sk_X509_num(s->chain) == 0)
		return err_set(err, -SPACE_E_FORMAT, "chain file holds no PEM certificate");
	return 0;
}

int signer_load(struct signer **out, const char *key, const char *cert, const char *chain,
		struct space_err *err, const char **file)
{
	struct signer *s = calloc(1, sizeof(*s));
	int r;

	*file = key;
	if (!s)
		return -ENOMEM;
	r = load_key(s, key, err);
	if (r == 0) {
		*file = cert;
		r = load_cert(s, cert, err);
	}
	if (r == 0) {
		s->chain = sk_X509_new_null();
		r = s->chain ? 0 : -ENOMEM;
	}
	if (r == 0 && chain && *chain) {
		*file = chain;
		r = load_chain(s, chain, err);
	}
	if (r < 0) {
		signer_free(s);
		return r;
	}
	*out = s;
	return 0;
}

int signer_sign(struct signer *s, const char *alg, const void *data, size_t len, unsigned char **sig,
		size_t *siglen)
{
	const char *evp = ova_digest_evp_name(alg);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int r = -ENOMEM;

	*sig = NULL;
	if (!evp) {
		r = -EINVAL;
		goto out;
	}
	if (!ctx)
		goto out;
	/* RSA keys default to PKCS#1 v1.5 padding, which is deterministic: the
	 * same data and key give the same signature on every build. */
	if (EVP_DigestSignInit_ex(ctx, NULL, evp, NULL, NULL, s->key, NULL) != 1 ||
	    EVP_DigestSign(ctx, NULL, siglen, data, len) != 1) {
		r = -SPACE_E_SIGNATURE;
		goto out;
	}
	*sig = malloc(*siglen);
	if (!*sig)
		goto out;
	if (EVP_DigestSign(ctx, *sig, siglen, data, len) != 1) {
		free(*sig);
		*sig = NULL;
		r = -SPACE_E_SIGNATURE;
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* PEM text of the certificates, malloc'd and NUL-terminated. */
static int pem_of_certs(X509 *const *certs, int n, char **out, size_t *outlen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int r = -ENOMEM;

	if (!b)
		return r;
	for (int i = 0; i < n; i++)
		if (!PEM_write_bio_X509(b, certs[i]))
			goto out;
	len = BIO_get_mem_data(b, &data);
	*out = malloc((size_t)len + 1);
	if (!*out)
		goto out;
	memcpy(*out, data, (size_t)len);
	(*out)[len] = '\0';
	*outlen = (size_t)len;
	r = 0;
out:
	BIO_free(b);
	return r;
}

int signer_cert_pem(struct signer *s, char **out, size_t *outlen)
{
	return pem_of_certs(&s->cert, 1, out, outlen);
}

int signer_cert_file(struct signer *s, const char *alg, const char *mf_name, const void *mf,
		     size_t mflen, char **out, size_t *outlen)
{
	unsigned char *sig = NULL;
	char *hex = NULL, *pem = NULL;
	size_t siglen = 0, pemlen = 0;
	int r;

	if ((r = signer_sign(s, alg, mf, mflen, &sig, &siglen)) < 0 ||
	    (r = signer_cert_pem(s, &pem, &pemlen)) < 0)
		goto out;
	r = -ENOMEM;
	hex = malloc(2 * siglen + 1);
	if (!hex)
		goto out;
	hex_encode(sig, siglen, hex);
	*out = xasprintf("%s(%s)= %s\n%s", alg, mf_name, hex, pem);
	if (!*out)
		goto out;
	*outlen = strlen(*out);
	r = 0;
out:
	free(sig);
	free(hex);
	free(pem);
	return r;
}

int signer_chain_pem(struct signer *s, char **out, size_t *outlen)
{
	X509 **certs = NULL;
	int n = sk_X509_num(s->chain), r;

	/* an empty chain is the empty string */
	if (n > 0 && !(certs = calloc((size_t)n, sizeof(*certs))))
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		certs[i] = sk_X509_value(s->chain, i);
	r = pem_of_certs(certs, n, out, outlen);
	free(certs);
	return r;
}
