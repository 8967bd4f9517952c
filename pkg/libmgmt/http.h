/* SPDX-License-Identifier: MIT */
/* http.h - HTTP/1.x request-head parser with hard limits.
 *
 * The parser is stateless: call http_parse() with everything received so
 * far; it either needs more bytes, or returns the head length and fills a
 * struct http_req whose strings point INTO the caller's buffer (not owned,
 * not NUL-terminated: use the lengths). Limits are enforced before the
 * terminating blank line arrives, so a client cannot make the server
 * buffer more than max_head bytes.
 */
#ifndef MGMT_HTTP_H
#define MGMT_HTTP_H

#include <stddef.h>

#define HTTP_MAX_HEADERS 48

struct http_str {
	const char *p;
	size_t n;
};

struct http_req {
	struct http_str method, target, path, query, version;
	struct http_str hname[HTTP_MAX_HEADERS], hvalue[HTTP_MAX_HEADERS];
	int nheaders;
	int minor;      /* HTTP/1.<minor> */
	int keep_alive; /* after this request */
	long long content_length;
	size_t head_len; /* bytes of the head including the blank line */
};

struct http_limits {
	size_t max_head; /* request line + headers */
	size_t max_body;
};

/* Parse the request head at buf (len bytes).
 * Returns head length (> 0) when complete, 0 when more bytes are needed,
 * or: -SPACE_E_FORMAT (answer 400), -E2BIG (head too large: 431),
 * -EMSGSIZE (body over max_body: 413), -ENOSYS (Transfer-Encoding: 501),
 * -EPROTONOSUPPORT (not HTTP/1.x: 505). */
int http_parse(const char *buf, size_t len, const struct http_limits *lim, struct http_req *req);

/* Header value by case-insensitive name; NULL if absent. */
const struct http_str *http_header(const struct http_req *req, const char *name);

/* Copy the value of cookie name into out (NUL-terminated). Returns its
 * length, -ENOENT if absent, -ENOSPC if longer than outsz-1. */
int http_cookie(const struct http_req *req, const char *name, char *out, size_t outsz);

/* Token from "Authorization: Bearer <tok>"; same returns as http_cookie(). */
int http_bearer(const struct http_req *req, char *out, size_t outsz);

int http_str_eq(struct http_str s, const char *lit);

/* Reason phrase for a status code. */
const char *http_reason(int status);

#endif
