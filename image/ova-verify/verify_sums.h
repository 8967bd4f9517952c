/* SPDX-License-Identifier: MIT */
/* verify_sums.h - ova-verify's third mode: the signed checksum list of a
 * release's downloads (image/sums/sums.h), checked as an operator would
 * with openssl and `sha256sum -c`. */
#ifndef SPACE_OVA_VERIFY_SUMS_H
#define SPACE_OVA_VERIFY_SUMS_H

#include <stddef.h>

#include "verify.h"

struct ov_sums_opts {
	unsigned threads; /* files hashed at once */
	/* Check only these listed files (an operator who downloaded just the
	 * ISO); each must be in the list. nonly 0: every listed file. */
	const char *const *only;
	unsigned nonly;
};

/* Check the list at path: read it and its .sig, .cert.pem and .chain.pem
 * from its directory, check the signature over the list, the signer and
 * its chain (verify.c), then, only if all of that passed, parse the list
 * and hash the listed files (all, or so->only) next to it. Each result is
 * a check in ov (a missing, renamed or modified file is a FAIL naming
 * it). Returns 0, or a negative errno when the list or a listed file
 * could not be read (I/O), what then naming it. */
int ov_sums_verify(struct ov *ov, const char *path, const struct ov_sums_opts *so, char *what, size_t whatlen);

/* Any file signed the way the list is (a hot-patch manifest): read name
 * (at most max bytes) from dfd with its .sig, .cert.pem and .chain.pem and
 * run the signature, signer and chain checks. *m is the file's member (its
 * bytes in (*m)->data) or NULL when it could not be read (a FAIL says
 * why); the file is trusted only when ov->nfail is 0 afterwards. Returns 0
 * or a negative errno for I/O. */
int ov_signed_file(struct ov *ov, int dfd, const char *name, size_t max, struct ov_member **m);

/* ova-verify --signed: the file at path (at most max bytes), signed as
 * the list is (the build record, image/record.mk), with its .sig,
 * .cert.pem and .chain.pem beside it: the signature, signer and chain
 * checks of ov_signed_file(), nothing else. Returns 0 or a negative errno
 * for I/O (what naming the file). */
int ov_signed_verify(struct ov *ov, const char *path, size_t max, char *what, size_t whatlen);

#endif
