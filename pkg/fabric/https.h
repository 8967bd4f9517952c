/* SPDX-License-Identifier: MIT */
/* https.h - one HTTPS request to a peer node's management API (mgmtd),
 * for joining a node to the fabric: the only call made before the nodes
 * trust each other's keys.
 *
 * The peer's certificate is self-signed (mgmtd makes its own at first
 * boot), so it cannot be verified against a CA: the caller gets its PEM
 * and SHA-256 fingerprint to show and to pin (trust on first use, as SSH
 * does); when `pin` is given, a different certificate is refused.
 */
#ifndef SPACE_FABRIC_HTTPS_H
#define SPACE_FABRIC_HTTPS_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

#define HTTPS_BODY_MAX (1u << 20)

struct https_req {
	const char *host;   /* an IPv4 address */
	unsigned port;      /* 443 */
	const char *method; /* "GET", "POST" */
	const char *path;   /* "/api/v1/login" */
	const char *bearer; /* session token, or NULL */
	const char *body;   /* JSON, or NULL */
	size_t bodylen;
	const char *pin; /* PEM the peer must present, or NULL */
	int timeout_ms;  /* connect, and each read or write */
};

struct https_resp {
	int status;           /* 200, 401 ... */
	struct buf body;      /* the response body (buf_init'd by the call;
				  * the caller frees it with buf_free) */
	char cert_pem[8192];  /* the peer's certificate */
	char fingerprint[96]; /* "SHA256:AB:CD:..." of its DER */
};

/* 0 when a response was read (whatever its status); a negative errno or
 * -SPACE_E_* with a reason in err otherwise (cannot connect, TLS, a
 * certificate other than the pin, a malformed or too large response). */
int https_request(const struct https_req *q, struct https_resp *r, struct space_err *err);

/* Split a whole response (len bytes, read to the connection's end): its
 * status (100..599) and its body, appended to body. -SPACE_E_FORMAT for
 * anything else. */
int https_parse_response(const char *raw, size_t len, int *status, struct buf *body);

#endif
