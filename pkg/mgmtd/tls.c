/* SPDX-License-Identifier: MIT */
/* tls.c - self-signed certificate generation and SSL_CTX setup. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tls.h"
#include "util.h"

/* Record OpenSSL's first queued error after what; returns r. */
static int ossl_err(struct space_err *err, int r, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200] = "unknown error";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return err_set(err, r, "%s: %s", what, buf);
}

static int add_ext(X509 *cert, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return 0;
	ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok;
}

/* PEM of key or cert into a malloc'd buffer through a memory BIO. */
static int write_pem(const char *path, EVP_PKEY *pkey, X509 *cert, mode_t mode)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int r;

	if (!b)
		return -ENOMEM;
	if (pkey)
		r = PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL);
	else
		r = PEM_write_bio_X509(b, cert);
	if (r != 1) {
		BIO_free(b);
		return -EIO;
	}
	len = BIO_get_mem_data(b, &data);
	r = write_file_atomic(path, data, (size_t)len, mode);
	/* the memory BIO held the private key: wipe before freeing */
	OPENSSL_cleanse(data, (size_t)len);
	BIO_free(b);
	return r;
}

/* The self-signed certificate of pkey for host: serial, validity,
 * subject = issuer, the extensions of a TLS server; NULL on failure (err
 * filled). */
static X509 *make_cert(EVP_PKEY *pkey, const char *host, struct space_err *err)
{
	unsigned char serial[16];
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	X509_NAME *name;
	char san[400];

	if (!x || !bn || RAND_bytes(serial, sizeof(serial)) != 1) {
		ossl_err(err, -EIO, "certificate");
		goto fail;
	}
	serial[0] &= 0x7f; /* positive */
	if (!BN_bin2bn(serial, sizeof(serial), bn) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
	    !X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) || !X509_set_pubkey(x, pkey)) {
		ossl_err(err, -EIO, "certificate fields");
		goto fail;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)PRODUCT, -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)host, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name)) {
		ossl_err(err, -EIO, "certificate name");
		goto fail;
	}
	snprintf(san, sizeof(san), "DNS:%s,DNS:localhost,IP:127.0.0.1", host);
	if (!add_ext(x, NID_subject_alt_name, san) || !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, NID_ext_key_usage, "serverAuth") || !X509_sign(x, pkey, EVP_sha256())) {
		ossl_err(err, -EIO, "sign certificate");
		goto fail;
	}
	BN_free(bn);
	return x;
fail:
	BN_free(bn);
	X509_free(x);
	return NULL;
}

/* mkdir -p the directory of path (mode for what it creates). */
static void make_parent(const char *path, mode_t mode)
{
	char *dir = strdup(path);

	if (dir && strrchr(dir, '/')) {
		*strrchr(dir, '/') = '\0';
		if (*dir)
			mkdir_p(dir, mode);
	}
	free(dir);
}

int tls_ensure_cert(const char *certp, const char *keyp, struct space_err *err)
{
	struct stat st;
	int have_c = stat(certp, &st) == 0, have_k = stat(keyp, &st) == 0;
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	char host[256] = "space";
	int r = -EIO;

	if (have_c && have_k)
		return 0;
	if (have_c || have_k)
		return err_set(err, -EEXIST, "%s exists without %s: not overwriting it", have_c ? certp : keyp,
			       have_c ? keyp : certp);
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if (!host[0] || strpbrk(host, ",/:"))
		strcpy(host, "space");
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!pkey) {
		ossl_err(err, -EIO, "generate key");
		goto out;
	}
	if (!(x = make_cert(pkey, host, err)))
		goto out;
	make_parent(keyp, 0700);
	make_parent(certp, 0755);
	/* key first: a certificate without its key would block the next start */
	if ((r = write_pem(keyp, pkey, NULL, 0600)) < 0) {
		err_set(err, r, "write %s: %s", keyp, space_strerror(r));
		goto out;
	}
	if ((r = write_pem(certp, NULL, x, 0644)) < 0) {
		err_set(err, r, "write %s: %s", certp, space_strerror(r));
		unlink(keyp);
		goto out;
	}
	r = 1;
out:
	X509_free(x);
	EVP_PKEY_free(pkey);
	return r;
}

SSL_CTX *tls_server_ctx(const char *cert, const char *key, struct space_err *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		ossl_err(err, -EIO, "SSL_CTX_new");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
					 SSL_OP_NO_COMPRESSION);
	/* Idle keep-alive connections give their buffers back. */
	/* No server-side session store: it would hold memory per client for
	 * hours; TLS 1.3 resumption works with stateless tickets anyway. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1) {
		ossl_err(err, -EIO, "cipher list");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		ossl_err(err, -EIO, cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ossl_err(err, -EIO, key);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}
