/* SPDX-License-Identifier: MIT */
/* sign.h - signing the OVA manifest, and the development PKI.
 *
 * Development PKI (created once, in a cache directory outside the build
 * output; every name says DEVELOPMENT so nobody ships it by mistake):
 *   dev-root-ca.pem / .key            self-signed, CA:TRUE, keyCertSign|cRLSign
 *   dev-intermediate-ca.pem / .key    CA:TRUE pathlen:0, signed by the root
 *   dev-signing.pem / .key            CA:FALSE, digitalSignature,
 *                                     extendedKeyUsage codeSigning
 * Keys are RSA-2048, files 0600. The chain file shipped in the OVA is the
 * intermediate certificate.
 */
#ifndef SPACE_OVA_SIGN_H
#define SPACE_OVA_SIGN_H

#include <stddef.h>

#include "err.h"

enum {
	PKI_EXPIRED_LEAF = 1 << 0, /* test knob: leaf validity ended yesterday */
	PKI_NO_CODESIGN = 1 << 1,  /* test knob: leaf EKU serverAuth, not codeSigning */
};

/* Create the development PKI in dir unless dev-signing.pem already exists
 * there (then nothing is touched and 0 is returned). */
int pki_create(const char *dir, unsigned flags);

/* The signing files of the development PKI in dir (what --pki DIR means
 * to every signing tool): its signing key, certificate and intermediate
 * CA, each malloc'd. 0, or -ENOMEM with all three NULL. */
int pki_files(const char *dir, char **key, char **cert, char **chain);

/* The signing material, loaded from PEM files. */
struct signer;

/* Load key (PEM private key), cert (PEM signer certificate) and optional
 * chain (PEM intermediates). The key file buffer is wiped after parsing.
 * Fails with -SPACE_E_SIGNATURE if key and certificate do not match, and
 * -SPACE_E_UNTRUSTED if the certificate lacks the codeSigning EKU or is
 * outside its validity period (mkova refuses to make an OVA that every
 * verifier would reject). err receives the reason (none for a read
 * error, told by the return value), file the one of key, cert and chain
 * the failure is about (the object of the caller's message). */
int signer_load(struct signer **out, const char *key, const char *cert, const char *chain,
		struct space_err *err, const char **file);
void signer_free(struct signer *s);

/* Sign data with the signer's key: a detached signature (RSA PKCS#1 v1.5,
 * what `openssl dgst -ALG -sign` makes, deterministic) over data, digest alg
 * SHA1/SHA256/SHA512. *sig malloc'd. -EINVAL for an unknown alg. */
int signer_sign(struct signer *s, const char *alg, const void *data, size_t len, unsigned char **sig,
		size_t *siglen);

/* The signer certificate as PEM text. *out malloc'd, NUL-terminated. */
int signer_cert_pem(struct signer *s, char **out, size_t *outlen);

/* Build the .cert text: "ALG(mf_name)= <hex sig over mf>\n" + signer PEM.
 * alg is SHA1/SHA256/SHA512. *out malloc'd, NUL-terminated. */
int signer_cert_file(struct signer *s, const char *alg, const char *mf_name, const void *mf,
		     size_t mflen, char **out, size_t *outlen);

/* The chain as PEM text (possibly empty string). *out malloc'd. */
int signer_chain_pem(struct signer *s, char **out, size_t *outlen);

#endif
