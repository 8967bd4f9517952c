/* SPDX-License-Identifier: MIT */
/* fuzz_http.c - libFuzzer target: mgmtd's HTTP request-head parser
 * (libmgmt/http.c), the first code to see a client's bytes, and the
 * header helpers the API calls on what it accepts. Beyond not crashing:
 * every string it returns lies inside the head it reported, the limits
 * hold, and a shorter prefix is never taken for the same complete head. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/libmgmt/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct http_str s, const char *buf, size_t end)
{
	if (s.n && (s.p < buf || s.p + s.n > buf + end))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the first byte picks small limits, so they are reached often */
	struct http_limits lim = { 512 + (size ? data[0] : 0) * 8, size ? data[0] : 0 };
	const char *buf = (const char *)data;
	struct http_req req, again;
	char out[64];
	int h = http_parse(buf, size, &lim, &req);

	if (h <= 0)
		return 0;
	if ((size_t)h > size || (size_t)h > lim.max_head || req.head_len != (size_t)h ||
	    req.content_length < 0 || req.content_length > (long long)lim.max_body ||
	    req.nheaders > HTTP_MAX_HEADERS)
		abort();
	inside(req.method, buf, (size_t)h);
	inside(req.path, buf, (size_t)h);
	inside(req.query, buf, (size_t)h);
	inside(req.version, buf, (size_t)h);
	for (int i = 0; i < req.nheaders; i++) {
		inside(req.hname[i], buf, (size_t)h);
		inside(req.hvalue[i], buf, (size_t)h);
	}
	if (http_parse(buf, (size_t)h - 1, &lim, &again) == h)
		abort();
	http_header(&req, "host");
	if (http_cookie(&req, "session", out, sizeof(out)) >= (int)sizeof(out) ||
	    http_bearer(&req, out, sizeof(out)) >= (int)sizeof(out))
		abort();
	return 0;
}
