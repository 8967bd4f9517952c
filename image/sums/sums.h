/* SPDX-License-Identifier: MIT */
/* sums.h - the signed checksum list of a release's downloads.
 *
 * <product>-<ver>.sha256sums is in GNU sha256sum's format, exactly
 *   <64 lowercase hex>  <name>\n          (two spaces: `sha256sum -c` reads it)
 * one line per output (ISO, OVA, qcow2, release image), each named by its
 * plain file name (image/ova's rules: [A-Za-z0-9._+-], no '/', at most
 * OVA_NAME_MAX bytes), unique, in the order mksums was given them. Beside it:
 *   <list>.sig        detached signature over the list's bytes: RSA PKCS#1
 *                     v1.5 with SHA-256 (what `openssl dgst -sha256 -sign`
 *                     makes), by the OVA's signing code (image/ova/sign.c)
 *   <list>.cert.pem   the signer certificate (PEM)
 *   <list>.chain.pem  the intermediate CA certificate(s) (PEM)
 * The signature covers the names: a renamed file is missing from the list.
 *
 * The parser is strict (it reads what mksums writes, nothing else) and
 * bounded: SUMS_MAX_FILES lines of at most SUMS_LINE_MAX bytes. It never
 * allocates and reports the first problem as "line N: reason".
 */
#ifndef SPACE_SUMS_H
#define SPACE_SUMS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "image/ova/manifest.h"

#define SUMS_SUFFIX ".sha256sums"
#define SUMS_SIG_SUFFIX ".sig"
#define SUMS_CERT_SUFFIX ".cert.pem"
#define SUMS_CHAIN_SUFFIX ".chain.pem"

#define SUMS_MAX_FILES 64
#define SUMS_HEX 64 /* SHA-256 in hex */
#define SUMS_LINE_MAX (SUMS_HEX + 2 + OVA_NAME_MAX + 1)
#define SUMS_MAX_BYTES (SUMS_MAX_FILES * SUMS_LINE_MAX)
#define SUMS_MAX_THREADS 16

struct sums_entry {
	char name[OVA_NAME_MAX + 1];
	unsigned char sha256[32];
};

struct sums_list {
	struct sums_entry e[SUMS_MAX_FILES];
	unsigned n;
};

/* Parse a list (len bytes, need not be NUL-terminated). Returns 0, or
 * -SPACE_E_FORMAT with err saying why. An empty list is refused. */
int sums_parse(const char *text, size_t len, struct sums_list *l, struct space_err *err);

/* Append name with its digest. -E2BIG when the list is full, -EEXIST for a
 * name already listed, -SPACE_E_FORMAT for a name that is not plain. */
int sums_add(struct sums_list *l, const char *name, const unsigned char sha256[32]);

/* The list's text. *out malloc'd, NUL-terminated. */
int sums_format(const struct sums_list *l, char **out, size_t *outlen);

/* The name of a file that goes with the list: list_name + suffix, into out
 * (OVA_NAME_MAX + 1 bytes). -ENAMETOOLONG if it does not fit, then every
 * companion name must fit for a list to be made or checked. */
int sums_companion(char *out, const char *list_name, const char *suffix);

/* Is name fit to be a list's name: plain, and with room for the longest
 * companion name? */
bool sums_list_name_ok(const char *name);

/* SHA-256 of the files names[0..n) in the directory dfd, threads at a time
 * (each file read in one thread, sequentially, in big chunks); a symlink
 * is followed as sha256sum does. res[i] gets the digest, or err < 0:
 * -ENOENT (missing), -SPACE_E_NOT_REG (not a regular file) or the errno
 * of a failed read. Every file is hashed: with fewer threads when one
 * cannot be started. */
struct sums_hash {
	int err;
	unsigned char sha256[32];
};
void sums_hash_files(int dfd, const char *const names[], unsigned n, unsigned threads, struct sums_hash *res);

#endif
