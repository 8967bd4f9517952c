/* SPDX-License-Identifier: MIT */
/* manifest.h - the OVF manifest (.mf) and certificate file (.cert) text
 * formats, written by mkova and parsed by ova-verify.
 *
 *   .mf   : one line per file, exactly `SHA256(<name>)= <lowercase hex>\n`
 *           (SHA1 and SHA512 also accepted); never OpenSSL 3's `SHA2-256`.
 *   .cert : `SHA256(<name>.mf)= <hex signature>\n` then the signer's PEM
 *           certificate. The signature is RSA PKCS#1 v1.5 over the .mf bytes.
 *
 * Parsers never allocate: they fill caller-provided structs and report the
 * first problem as "line N: reason" in err.
 */
#ifndef SPACE_OVA_MANIFEST_H
#define SPACE_OVA_MANIFEST_H

#include <stddef.h>

#include "err.h"

#define OVA_NAME_MAX 100 /* ustar name field; we never use prefix/long names */
#define OVA_MF_MAX_ENTRIES 32
#define OVA_MAX_DIGEST 64
#define OVA_MAX_SIG 1024 /* RSA-8192 */

/* Digest algorithm token <-> OpenSSL name. Returns NULL if unknown. */
const char *ova_digest_evp_name(const char *token);
/* Digest length in bytes for a token, 0 if unknown. */
size_t ova_digest_len(const char *token);

struct ova_mf_entry {
	char alg[8];
	char name[OVA_NAME_MAX + 1];
	unsigned char digest[OVA_MAX_DIGEST];
	size_t dlen;
};

struct ova_manifest {
	struct ova_mf_entry e[OVA_MF_MAX_ENTRIES];
	unsigned n;
};

/* Is name a plain member name: 1..100 bytes of [A-Za-z0-9._+-], not
 * starting with '.' or '-'? (No '/', no spaces, no control characters.) */
int ova_name_is_plain(const char *name);

/* Parse a .mf. Lines must be well formed, names plain and unique.
 * Returns 0 or -SPACE_E_FORMAT (err says why). */
int ova_manifest_parse(const char *text, size_t len, struct ova_manifest *mf, struct space_err *err);

/* Format one manifest line into out (size >= 16 + name + 2*dlen). */
int ova_manifest_line(char *out, size_t outsz, const char *alg, const char *name,
		      const unsigned char *digest, size_t dlen);

/* First line of a .cert, parsed. The PEM text starts at pem_offset. */
struct ova_cert_file {
	char alg[8];
	char name[OVA_NAME_MAX + 1];
	unsigned char sig[OVA_MAX_SIG];
	size_t siglen;
	size_t pem_offset;
};

/* Parse a .cert's signature line and check that exactly one PEM
 * certificate block follows (the block itself is decoded by OpenSSL). */
int ova_cert_parse(const char *text, size_t len, struct ova_cert_file *cf, struct space_err *err);

#endif
