/* SPDX-License-Identifier: MIT */
/* sntp.c - one SNTP query; see sntp.h. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sntp.h"
#include "util.h"

#define NTP_UNIX_DELTA 2208988800ull /* 1900-01-01 to 1970-01-01, seconds */

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

uint64_t sntp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + NTP_UNIX_DELTA) << 32 |
	       (uint64_t)(((unsigned __int128)ts.tv_nsec << 32) / 1000000000u);
}

/* b - a in seconds, for NTP timestamps within 68 years of each other */
static double ntp_diff(uint64_t b, uint64_t a)
{
	return (double)(int64_t)(b - a) / 4294967296.0;
}

int sntp_parse(const unsigned char *pkt, size_t n, uint64_t t1, uint64_t t4, double *offset,
	       struct space_err *err)
{
	unsigned li, vn, mode, stratum;
	uint64_t org, t2, t3;

	if (n < SNTP_PACKET)
		return err_set(err, -SPACE_E_FORMAT, "answer of %zu bytes, not an NTP packet", n);
	li = pkt[0] >> 6;
	vn = (pkt[0] >> 3) & 7;
	mode = pkt[0] & 7;
	stratum = pkt[1];
	org = be64(pkt + 24);
	t2 = be64(pkt + 32);
	t3 = be64(pkt + 40);
	if (mode != 4 || (vn != 3 && vn != 4))
		return err_set(err, -SPACE_E_FORMAT, "not an NTP server reply (mode %u, version %u)", mode, vn);
	if (stratum == 0 || stratum > 15 || li == 3)
		return err_set(err, -SPACE_E_FORMAT, "the server is not synchronised itself (stratum %u%s)",
			       stratum, li == 3 ? ", alarm" : "");
	if (org != t1)
		return err_set(err, -SPACE_E_FORMAT, "the answer is not to our request (originate timestamp differs)");
	if (!t2 || !t3)
		return err_set(err, -SPACE_E_FORMAT, "the answer carries no time");
	*offset = (ntp_diff(t2, t1) + ntp_diff(t3, t4)) / 2;
	return 0;
}

static int split_server(const char *server, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon = strrchr(server, ':');
	size_t hl = colon ? (size_t)(colon - server) : strlen(server);

	/* a bare IPv6 address has several colons: no port then */
	if (colon && strchr(server, ':') != colon)
		colon = NULL, hl = strlen(server);
	if (!hl || hl >= hostlen || (colon && (!colon[1] || strlen(colon + 1) >= portlen)))
		return -EINVAL;
	memcpy(host, server, hl);
	host[hl] = '\0';
	snprintf(port, portlen, "%s", colon ? colon + 1 : "123");
	return 0;
}

int sntp_offset(const char *server, int timeout_ms, double *offset, struct space_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
	unsigned char req[SNTP_PACKET] = { 0x23 }, ans[SNTP_PACKET + 16]; /* LI 0, VN 4, mode 3 */
	char host[256], port[16];
	struct pollfd pfd;
	uint64_t t1;
	int fd = -1, r;

	if (split_server(server, host, sizeof(host), port, sizeof(port)) < 0)
		return err_set(err, -EINVAL, "'%s' is not host or host:port", server);
	r = getaddrinfo(host, port, &hints, &ai);
	if (r)
		return err_set(err, -EHOSTUNREACH, "%s: %s", host, gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		r = err_set(err, -errno, "%s: %s", server, strerror(errno));
		goto out;
	}
	t1 = sntp_now();
	put_be64(req + 40, t1);
	if (send(fd, req, sizeof(req), 0) != (ssize_t)sizeof(req)) {
		r = err_set(err, -errno, "%s: send: %s", server, strerror(errno));
		goto out;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	/* Answers that fail the checks (stale, spoofed) are dropped; the
	 * wait is not restarted by them. */
	r = err_set(err, -ETIMEDOUT, "%s: no answer in %d ms", server, timeout_ms);
	for (int64_t left = timeout_ms; left > 0;) {
		struct timespec a, b;
		ssize_t k;
		int pr;

		clock_gettime(CLOCK_MONOTONIC, &a);
		pr = poll(&pfd, 1, (int)left);
		if (pr <= 0)
			break;
		k = recv(fd, ans, sizeof(ans), 0);
		if (k >= 0 && sntp_parse(ans, (size_t)k, t1, sntp_now(), offset, err) == 0) {
			r = 0;
			break;
		}
		if (k < 0 && errno == ECONNREFUSED) {
			r = err_set(err, -ECONNREFUSED, "%s: no NTP service (connection refused)", server);
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		left -= (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	}
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}
