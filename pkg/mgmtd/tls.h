/* SPDX-License-Identifier: MIT */
/* tls.h - server certificate bootstrap and the TLS context of mgmtd. */
#ifndef MGMTD_TLS_H
#define MGMTD_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "err.h"

/* If neither cert nor key exists, make an EC P-256 key and a self-signed
 * certificate (CN and SAN = host name, localhost, 127.0.0.1; 10 years),
 * key mode 0600, both written atomically. If exactly one exists, refuse
 * (-EEXIST) rather than overwrite an operator's file. Returns 1 when it
 * generated, 0 when both existed, or a negative errno; err describes. */
int tls_ensure_cert(const char *cert, const char *key, struct space_err *err);

/* Server context: TLS 1.2 minimum, forward-secret AEAD suites only, no
 * renegotiation. NULL on error (err filled). Caller frees. */
SSL_CTX *tls_server_ctx(const char *cert, const char *key, struct space_err *err);

#endif
