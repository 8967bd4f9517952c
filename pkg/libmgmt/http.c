/* SPDX-License-Identifier: MIT */
/* http.c - HTTP/1.x request-head parser (RFC 9112 subset). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "util.h"

static int tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr(extra, c));
}

int http_str_eq(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && !memcmp(s.p, lit, n);
}

static int str_ieq(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && !strncasecmp(s.p, lit, n);
}

/* Find the end of the head: "\r\n\r\n" or, tolerated per RFC 9112 2.2,
 * bare "\n\n" / mixed. Returns the length including the blank line or 0. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Next line in [*pos, end): sets s/n without the line terminator. */
static int next_line(const char *buf, size_t end, size_t *pos, struct http_str *line)
{
	const char *nl = memchr(buf + *pos, '\n', end - *pos);
	size_t e;

	if (!nl)
		return 0;
	e = (size_t)(nl - buf);
	line->p = buf + *pos;
	line->n = e - *pos;
	if (line->n && line->p[line->n - 1] == '\r')
		line->n--;
	*pos = e + 1;
	return 1;
}

static int parse_request_line(struct http_str l, struct http_req *req)
{
	const char *p = l.p, *e = l.p + l.n, *sp;
	size_t i;

	sp = memchr(p, ' ', l.n);
	if (!sp || sp == p)
		return -SPACE_E_FORMAT;
	req->method = (struct http_str){ p, (size_t)(sp - p) };
	for (i = 0; i < req->method.n; i++)
		if (!tchar((unsigned char)p[i]))
			return -SPACE_E_FORMAT;
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(e - p));
	if (!sp || sp == p)
		return -SPACE_E_FORMAT;
	req->target = (struct http_str){ p, (size_t)(sp - p) };
	if (*p != '/')
		return -SPACE_E_FORMAT;
	for (i = 0; i < req->target.n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f)
			return -SPACE_E_FORMAT;
	}
	{
		const char *q = memchr(p, '?', req->target.n);
		req->path = (struct http_str){ p, q ? (size_t)(q - p) : req->target.n };
		req->query = q ? (struct http_str){ q + 1, (size_t)(sp - q - 1) } : (struct http_str){ sp, 0 };
	}
	p = sp + 1;
	req->version = (struct http_str){ p, (size_t)(e - p) };
	if (req->version.n != 8 || memcmp(p, "HTTP/", 5) || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -SPACE_E_FORMAT;
	if (p[5] != '1')
		return -EPROTONOSUPPORT;
	req->minor = p[7] - '0';
	return 0;
}

/* What the headers said about the connection and the body. */
struct head_state {
	int have_cl, conn_close, conn_keep;
};

static struct http_str trim_ows(struct http_str t)
{
	while (t.n && (*t.p == ' ' || *t.p == '\t'))
		t.p++, t.n--;
	while (t.n && (t.p[t.n - 1] == ' ' || t.p[t.n - 1] == '\t'))
		t.n--;
	return t;
}

/* "name: value" into its two parts, each checked. */
static int split_header(struct http_str l, struct http_str *name, struct http_str *val)
{
	const char *colon = memchr(l.p, ':', l.n);

	/* obs-fold and whitespace before the colon are request smuggling vectors */
	if (!colon || colon == l.p || l.p[0] == ' ' || l.p[0] == '\t')
		return -SPACE_E_FORMAT;
	*name = (struct http_str){ l.p, (size_t)(colon - l.p) };
	for (size_t i = 0; i < name->n; i++)
		if (!tchar((unsigned char)name->p[i]))
			return -SPACE_E_FORMAT;
	*val = trim_ows((struct http_str){ colon + 1, l.n - name->n - 1 });
	for (size_t i = 0; i < val->n; i++) {
		unsigned char c = (unsigned char)val->p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -SPACE_E_FORMAT;
	}
	return 0;
}

/* Content-Length: digits only; a repeated one must say the same. */
static int content_length(struct http_str val, struct http_req *req, struct head_state *hs)
{
	long long v = 0;

	if (!val.n || val.n > 18)
		return val.n > 18 ? -EMSGSIZE : -SPACE_E_FORMAT;
	for (size_t i = 0; i < val.n; i++) {
		if (val.p[i] < '0' || val.p[i] > '9')
			return -SPACE_E_FORMAT;
		v = v * 10 + (val.p[i] - '0');
	}
	if (hs->have_cl && v != req->content_length)
		return -SPACE_E_FORMAT;
	hs->have_cl = 1;
	req->content_length = v;
	return 0;
}

/* Connection: comma-separated tokens; only close/keep-alive matter here. */
static void connection_tokens(struct http_str val, struct head_state *hs)
{
	const char *p = val.p, *e = val.p + val.n;

	while (p < e) {
		const char *c = memchr(p, ',', (size_t)(e - p));
		struct http_str t = trim_ows((struct http_str){ p, c ? (size_t)(c - p) : (size_t)(e - p) });

		if (str_ieq(t, "close"))
			hs->conn_close = 1;
		else if (str_ieq(t, "keep-alive"))
			hs->conn_keep = 1;
		p = c ? c + 1 : e;
	}
}

/* One header line: recorded, and the ones that matter read. */
static int parse_header(struct http_str l, struct http_req *req, struct head_state *hs)
{
	struct http_str name, val;
	int r = split_header(l, &name, &val);

	if (r < 0)
		return r;
	if (req->nheaders >= HTTP_MAX_HEADERS)
		return -E2BIG;
	req->hname[req->nheaders] = name;
	req->hvalue[req->nheaders] = val;
	req->nheaders++;
	if (str_ieq(name, "content-length"))
		return content_length(val, req, hs);
	if (str_ieq(name, "transfer-encoding"))
		return -ENOSYS;
	if (str_ieq(name, "connection"))
		connection_tokens(val, hs);
	return 0;
}

/* Where the head ends (*end, after its blank line) and where its request
 * line starts (*pos). 1 when found, 0 when more bytes are needed, or a
 * negative refusal. */
static int find_head(const char *buf, size_t len, const struct http_limits *lim, size_t *pos, size_t *end)
{
	/* Tolerate empty lines before the request line (RFC 9112 2.2). */
	while (*pos < len && (buf[*pos] == '\r' || buf[*pos] == '\n') && *pos < 4)
		(*pos)++;
	/* the head ends after them: a blank line among them is not its end
	 * (that left pos past end, and next_line read past the buffer) */
	*end = head_end(buf + *pos, len - *pos);
	if (*end)
		*end += *pos;
	if (!*end || *end > lim->max_head) {
		if (len > lim->max_head || (*end && *end > lim->max_head))
			return -E2BIG;
		/* A request line cannot start with a control byte; fail early. */
		if (len > *pos && !tchar((unsigned char)buf[*pos]))
			return -SPACE_E_FORMAT;
		return 0;
	}
	if (memchr(buf, '\0', *end))
		return -SPACE_E_FORMAT;
	return 1;
}

int http_parse(const char *buf, size_t len, const struct http_limits *lim, struct http_req *req)
{
	struct head_state hs = { 0, 0, 0 };
	size_t end = 0, pos = 0;
	struct http_str l;
	int r;

	memset(req, 0, sizeof(*req));
	if ((r = find_head(buf, len, lim, &pos, &end)) <= 0)
		return r;
	if (!next_line(buf, end, &pos, &l))
		return -SPACE_E_FORMAT;
	if ((r = parse_request_line(l, req)) < 0)
		return r;
	while (next_line(buf, end, &pos, &l) && l.n)
		if ((r = parse_header(l, req, &hs)) < 0)
			return r;
	if (req->content_length > (long long)lim->max_body)
		return -EMSGSIZE;
	req->keep_alive = hs.conn_close ? 0 : req->minor >= 1 ? 1 :
								hs.conn_keep;
	req->head_len = end;
	return (int)end;
}

const struct http_str *http_header(const struct http_req *req, const char *name)
{
	for (int i = 0; i < req->nheaders; i++)
		if (str_ieq(req->hname[i], name))
			return &req->hvalue[i];
	return NULL;
}

static int copy_out(const char *p, size_t n, char *out, size_t outsz)
{
	if (n + 1 > outsz)
		return -ENOSPC;
	memcpy(out, p, n);
	out[n] = '\0';
	return (int)n;
}

int http_cookie(const struct http_req *req, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);

	for (int h = 0; h < req->nheaders; h++) {
		const char *p, *e;

		if (!str_ieq(req->hname[h], "cookie"))
			continue;
		p = req->hvalue[h].p;
		e = p + req->hvalue[h].n;
		while (p < e) {
			const char *semi = memchr(p, ';', (size_t)(e - p));
			const char *pe = semi ? semi : e;
			while (p < pe && *p == ' ')
				p++;
			if ((size_t)(pe - p) > nl && !memcmp(p, name, nl) && p[nl] == '=')
				return copy_out(p + nl + 1, (size_t)(pe - p - nl - 1), out, outsz);
			p = semi ? semi + 1 : e;
		}
	}
	return -ENOENT;
}

int http_bearer(const struct http_req *req, char *out, size_t outsz)
{
	const struct http_str *v = http_header(req, "authorization");

	if (!v || v->n < 7 || strncasecmp(v->p, "bearer ", 7))
		return -ENOENT;
	return copy_out(v->p + 7, v->n - 7, out, outsz);
}

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return "Unknown";
	}
}
