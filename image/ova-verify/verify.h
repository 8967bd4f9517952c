/* SPDX-License-Identifier: MIT */
/* verify.h - the checks of ova-verify, independent of where the bytes come
 * from (an OVA read once as a tar stream, or an extracted .ovf directory).
 *
 * Use: ov_init(); for every member in archive order ov_member_begin(),
 * ov_member_data()..., ov_member_end(); ov_finish() runs the cross checks;
 * the result is the list of checks in ov->checks (each ok or FAIL with the
 * file it concerns). ov_free() releases everything.
 */
#ifndef SPACE_OVA_VERIFY_H
#define SPACE_OVA_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "image/ova/manifest.h"
#include "image/release/release.h"
#include "image/release/slot.h"

#define OV_MAX_MEMBERS 64
#define OV_MAX_CHECKS 256
#define OV_BUFFER_LIMIT (4u << 20) /* descriptor, manifest, cert, chain */
#define OV_HEAD 65536u
#define OV_TAIL 1536u

enum { OV_SHA1,
       OV_SHA256,
       OV_SHA512,
       OV_NALG };

struct ov_member {
	char name[OVA_NAME_MAX + 1];
	uint64_t size, got;
	unsigned char *data;     /* whole member when buffered, else NULL */
	EVP_MD_CTX *md[OV_NALG]; /* streaming digests (unbuffered members) */
	unsigned char digest[OV_NALG][64];
	bool have_digest[OV_NALG];
	bool md_failed;              /* an EVP_DigestUpdate failed */
	unsigned char head[OV_HEAD]; /* first bytes (VMDK header/descriptor) */
	unsigned char tail[OV_TAIL]; /* ring of the last bytes (VMDK footer) */
	size_t headlen;
	/* the release image's slot member: unpacked as it streams */
	struct rel_unpack *unpack;
	bool unpack_done;       /* rel_unpack_end() succeeded */
	const char *unpack_why; /* why unpacking failed (static), else NULL */
	int unpack_err;
	uint64_t unpacked;
	unsigned char unpacked_sha256[32];
};

struct ov_check {
	bool ok;
	char name[32];
	char file[OVA_NAME_MAX + 1];
	char detail[256];
};

struct ov_opts {
	const char *ca_file; /* trusted root(s); NULL: chain not verified */
	bool no_chain;       /* an unverified chain is not a failure */
	bool directory;      /* members come from an extracted .ovf directory */
	/* A release image (image/release) instead of an OVA. */
	bool release;
	const char *file_name; /* its name, for the name binding (NULL: unknown) */
	/* Check the slot member by its digest only, without unpacking it: the
	 * upgrader's first pass, so that a damaged image is refused before
	 * anything is written (unpacking and its checks come in the pass that
	 * writes). */
	bool digest_only;
	/* The unpacked slot image goes to slot_sink (the upgrader's slot
	 * writer), and only once the manifest, its signature and chain, the
	 * name binding and the member order have passed (no FAIL so far): a
	 * package that fails them never reaches the sink. */
	rel_sink_fn slot_sink;
	void *slot_ctx;
	/* Called once, with the verified manifest, just before the sink is
	 * attached: the caller's own checks (the upgrader's product, target,
	 * path and space). A negative return refuses the image: it is recorded
	 * as a FAIL check "policy" with err's reason, the sink never sees a
	 * byte and reading stops with -ECANCELED. */
	int (*slot_begin)(void *ctx, const struct rel_manifest *m, struct space_err *err);
	/* The sink reads the slot back after the pass and compares it with
	 * the manifest's slot.sha256 (slot_writer_verify): the unpacked bytes
	 * are then not hashed here too, and the check records only their
	 * count. The member's own digest is checked as always. Only with a
	 * slot_sink, and the caller MUST do that read-back. */
	bool sink_checks_digest;
};

struct ov {
	struct ov_opts opts;
	struct ov_member *m[OV_MAX_MEMBERS];
	unsigned nm;
	struct ov_member *cur;
	struct ova_manifest mf;
	bool mf_parsed;
	unsigned char alg_mask; /* digests to compute for streamed members */
	struct ov_check checks[OV_MAX_CHECKS];
	unsigned nchecks, nfail;
	/* release mode */
	struct rel_manifest *rm; /* parsed from the manifest member, or NULL */
	bool head_checked;       /* ov_release_head() ran */
	bool sink_attached;      /* the slot member reached opts.slot_sink */
};

void ov_init(struct ov *ov, const struct ov_opts *opts);
void ov_free(struct ov *ov);

/* Record a check result (printf-style detail). */
void ov_check(struct ov *ov, bool ok, const char *name, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Stream one member. begin returns -ENOMEM/-E2BIG (too many members).
 * data and end return 0, or -EIO when an OpenSSL digest step failed (the
 * member's digests are then unknown, never a made-up value); end always
 * files the member, so ov_free() releases it either way. */
int ov_member_begin(struct ov *ov, const char *name, uint64_t size);
int ov_member_data(struct ov *ov, const void *p, size_t n);
int ov_member_end(struct ov *ov);

/* Shared by verify.c and verify_ova.c: the digest names of the .mf
 * ("SHA1", "SHA256", "SHA512") by OV_SHA*, their index (-1 if unknown), and
 * a name suffix test. */
extern const char *const ov_alg_tokens[OV_NALG];
int ov_alg_index(const char *token);
bool ov_ends_with(const char *s, const char *suffix);

/* Is name the chain file that goes with the descriptor ovf_name, i.e.
 * "<product>-certchain.pem" for "<product>-<version>.ovf"? */
bool ov_is_chain_name(const char *name, const char *ovf_name);

/* The member named name, or NULL. */
struct ov_member *ov_find(struct ov *ov, const char *name);

/* After the last member: parse the descriptor, manifest, certificate; run
 * every cross check (verify_ova.c; a release image: ov_release_finish()). */
void ov_finish(struct ov *ov);

/* The signature checks shared by both package kinds: mfm is the signed
 * manifest member, cm the .cert member (signature line + signer
 * certificate), chm the chain member or NULL. */
void ov_check_certificates(struct ov *ov, struct ov_member *mfm, struct ov_member *cm,
			   struct ov_member *chm);

/* A detached signature: digest alg ("SHA256"), the signature bytes. */
struct ov_signature {
	const char *alg;
	const unsigned char *sig;
	size_t siglen;
};

/* The same checks for any signed member sm once its signer certificate
 * leaf is decoded (sig from the file sig_file, leaf from cert_file; the
 * names are for the report): the signature over sm, the signer's purpose
 * and dates, the chain file chm (may be NULL) and the chain to --ca. The
 * caller keeps leaf. The checksum list (verify_sums.c) uses it. */
void ov_check_signed(struct ov *ov, const struct ov_member *sm, const char *sig_file, const struct ov_signature *sig,
		     const char *cert_file, X509 *leaf, const struct ov_member *chm);

/* member-name checks (plain, unique); the number of bad names. */
unsigned ov_check_member_names(struct ov *ov);

/* Release mode (verify_release.c). ov_release_member_begin() sets up the
 * slot member's unpacking, after ov_release_head() has checked everything
 * that precedes it (manifest, name, signature, chain, order): the checks
 * before any slot byte is used. ov_finish() calls ov_release_finish(). */
int ov_release_member_begin(struct ov *ov, struct ov_member *m);
void ov_release_head(struct ov *ov);
void ov_release_finish(struct ov *ov);
/* One whole pass over the release image on fd (read from its start) with
 * opts, as the upgrader and the installer run it: 0 when every check
 * passed (and, with a slot_sink, the slot image reached it; m, if not
 * NULL, gets the verified manifest); -SPACE_E_FORMAT with err = "<check>
 * <file>: <detail>" of the first failed check (a policy refusal too); a
 * negative errno when the file could not be read. */
int ov_release_run(const struct ov_opts *opts, int fd, struct rel_manifest *m, struct space_err *err);
/* After ov_member_end() of the manifest member: parse it into ov->rm. */
void ov_release_manifest_end(struct ov *ov, struct ov_member *m);

/* For directory mode: the file names the descriptor references (after the
 * descriptor member has been fed). Returns the count, names copied to out. */
unsigned ov_referenced_files(struct ov *ov, char out[][OVA_NAME_MAX + 1], unsigned max);

#endif
