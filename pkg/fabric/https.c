/* SPDX-License-Identifier: MIT */
/* https.c - one HTTPS request to a peer's mgmtd (https.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "https.h"
#include "util.h"

/* A TCP connection to host:port within timeout_ms. */
static int tcp_connect(const struct https_req *q, struct space_err *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)q->port) };
	struct timeval tv = { q->timeout_ms / 1000, (q->timeout_ms % 1000) * 1000 };
	struct pollfd pf;
	int fd, so = 0;
	socklen_t sl = sizeof(so);

	if (inet_pton(AF_INET, q->host, &sa.sin_addr) != 1)
		return err_set(err, -SPACE_E_FORMAT, "%s: not an IPv4 address", q->host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
		goto out_errno;
	pf = (struct pollfd){ fd, POLLOUT, 0 };
	if (poll(&pf, 1, q->timeout_ms) == 0) {
		close(fd);
		return err_set(err, -ETIMEDOUT, "connect %s:%u: no answer in %d s", q->host, q->port,
			       q->timeout_ms / 1000);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0 || so) {
		errno = so ? so : errno;
		goto out_errno;
	}
	/* blocking from here, each read and write bounded */
	if (fcntl(fd, F_SETFL, 0) < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		goto out_errno;
	return fd;
out_errno:
	so = -errno;
	close(fd);
	return err_set(err, so, "connect %s:%u: %s", q->host, q->port, strerror(-so));
}

static int tls_fail(struct space_err *err, const char *what)
{
	unsigned long e = ERR_get_error();

	return err_set(err, -SPACE_E_UNTRUSTED, "%s: %s", what, e ? ERR_reason_error_string(e) : "failed");
}

/* The peer's certificate: its PEM and fingerprint into r; the pin checked. */
static int peer_cert(SSL *ssl, const struct https_req *q, struct https_resp *r, struct space_err *err)
{
	X509 *c = SSL_get1_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	BIO *bio = NULL;
	int n, rc = 0;

	if (!c)
		return err_set(err, -SPACE_E_UNTRUSTED, "%s: no certificate", q->host);
	if (!X509_digest(c, EVP_sha256(), md, &mdlen) || !(bio = BIO_new(BIO_s_mem())) ||
	    !PEM_write_bio_X509(bio, c)) {
		rc = tls_fail(err, q->host);
		goto out;
	}
	n = snprintf(r->fingerprint, sizeof(r->fingerprint), "SHA256:");
	for (unsigned i = 0; i < mdlen && n + 3 < (int)sizeof(r->fingerprint); i++)
		n += snprintf(r->fingerprint + n, sizeof(r->fingerprint) - (size_t)n, "%s%02X", i ? ":" : "", md[i]);
	n = BIO_read(bio, r->cert_pem, sizeof(r->cert_pem) - 1);
	r->cert_pem[n > 0 ? n : 0] = '\0';
	if (q->pin && strcmp(q->pin, r->cert_pem) != 0)
		rc = err_set(err, -SPACE_E_UNTRUSTED, "%s: certificate %s is not the one pinned when it joined",
			     q->host, r->fingerprint);
out:
	BIO_free(bio);
	X509_free(c);
	return rc;
}

static int send_request(SSL *ssl, const struct https_req *q, struct space_err *err)
{
	struct buf b;
	int rc = 0;

	buf_init(&b);
	buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", q->method, q->path, q->host);
	if (q->bearer)
		buf_printf(&b, "Authorization: Bearer %s\r\n", q->bearer);
	if (q->body)
		buf_printf(&b, "Content-Type: application/json\r\nContent-Length: %zu\r\n", q->bodylen);
	buf_puts(&b, "\r\n");
	if (q->body)
		buf_put(&b, q->body, q->bodylen);
	if (buf_failed(&b) || SSL_write(ssl, b.p, (int)b.len) != (int)b.len)
		rc = tls_fail(err, "send");
	OPENSSL_cleanse(b.p, b.len);
	buf_free(&b);
	return rc;
}

int https_parse_response(const char *raw, size_t len, int *status, struct buf *body)
{
	const char *hend;
	char line[16];

	if (len < 12 || memchr(raw, '\0', len))
		return -SPACE_E_FORMAT;
	memcpy(line, raw, 12);
	line[12] = '\0';
	if (strncmp(line, "HTTP/1.", 7) || (line[7] != '0' && line[7] != '1') || line[8] != ' ' ||
	    sscanf(line + 9, "%3d", status) != 1 || *status < 100 || *status > 599)
		return -SPACE_E_FORMAT;
	hend = memmem(raw, len, "\r\n\r\n", 4);
	if (!hend)
		return -SPACE_E_FORMAT;
	return buf_put(body, hend + 4, len - (size_t)(hend + 4 - raw)) < 0 ? -ENOMEM : 0;
}

/* Read to the end (Connection: close), then split status and body. */
static int read_response(SSL *ssl, struct https_resp *r, struct space_err *err)
{
	struct buf raw;
	char chunk[4096];
	int n, rc = 0;

	buf_init(&raw);
	while ((n = SSL_read(ssl, chunk, sizeof(chunk))) > 0) {
		if (raw.len + (size_t)n > HTTPS_BODY_MAX + 8192) {
			rc = err_set(err, -EFBIG, "response larger than %u bytes", HTTPS_BODY_MAX);
			goto out;
		}
		buf_put(&raw, chunk, (size_t)n);
	}
	if (buf_failed(&raw))
		rc = err_set(err, -ENOMEM, "response: out of memory");
	else if (https_parse_response(raw.p ? raw.p : "", raw.len, &r->status, &r->body) < 0)
		rc = err_set(err, -SPACE_E_FORMAT, "not an HTTP response");
out:
	buf_free(&raw);
	return rc;
}

int https_request(const struct https_req *q, struct https_resp *r, struct space_err *err)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	int fd, rc;

	buf_init(&r->body);
	r->status = 0;
	r->cert_pem[0] = r->fingerprint[0] = '\0';
	fd = tcp_connect(q, err);
	if (fd < 0)
		return fd;
	/* no CA: the certificate is checked by its pin (https.h) */
	if (!(ctx = SSL_CTX_new(TLS_client_method())) || !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !(ssl = SSL_new(ctx)) || !SSL_set_fd(ssl, fd)) {
		rc = tls_fail(err, "TLS setup");
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		rc = tls_fail(err, q->host);
		goto out;
	}
	rc = peer_cert(ssl, q, r, err);
	if (rc == 0)
		rc = send_request(ssl, q, err);
	if (rc == 0)
		rc = read_response(ssl, r, err);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}
