/* SPDX-License-Identifier: MIT */
/* tlsload.c - a small HTTPS keep-alive load generator for the mgmtd bench
 * (no wrk/ab on the build host). One thread per connection; each sends
 * GET requests back to back on its TLS connection for a fixed time.
 *
 *   tlsload run  HOST PORT PATH TOKEN CONNS SECONDS   -> "requests N errors E rps R"
 *   tlsload idle HOST PORT PATH TOKEN CONNS SECONDS   -> opens CONNS connections, one
 *        request each, prints "ready", holds them open SECONDS
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

static const char *host, *path, *token;
static int port, seconds, idle;
static SSL_CTX *ctx;
static char request[1024];

struct worker {
	pthread_t th;
	long requests, errors;
	int fd;
	SSL *ssl;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int open_conn(struct worker *w)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;

	inet_pton(AF_INET, host, &sa.sin_addr);
	w->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (w->fd < 0 || connect(w->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	w->ssl = SSL_new(ctx);
	SSL_set_fd(w->ssl, w->fd);
	return SSL_connect(w->ssl) == 1 ? 0 : -1;
}

/* One request/response; 0 when a 200 came back complete. */
static int one_request(struct worker *w)
{
	char buf[16384];
	size_t len = 0;
	long clen = -1;
	char *end = NULL;
	int status = 0;

	if (SSL_write(w->ssl, request, (int)strlen(request)) <= 0)
		return -1;
	for (;;) {
		int n = SSL_read(w->ssl, buf + len, (int)(sizeof(buf) - 1 - len));
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			char *cl = strcasestr(buf, "\ncontent-length:");
			sscanf(buf, "HTTP/1.1 %d", &status);
			if (!cl || cl > end)
				return -1;
			clen = strtol(cl + 16, NULL, 10);
		}
		if (end && (long)(len - (size_t)(end + 4 - buf)) >= clen)
			return status == 200 ? 0 : -1;
		if (len >= sizeof(buf) - 1)
			return -1;
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	double stop = now() + seconds;

	if (open_conn(w) < 0) {
		w->errors++;
		return NULL;
	}
	if (idle) {
		if (one_request(w) < 0)
			w->errors++;
		return NULL;
	}
	while (now() < stop) {
		if (one_request(w) < 0) {
			w->errors++;
			break;
		}
		w->requests++;
	}
	SSL_shutdown(w->ssl);
	SSL_free(w->ssl);
	close(w->fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker *ws;
	long total = 0, errors = 0;
	int conns;
	double t0;

	if (argc != 8) {
		fprintf(stderr, "usage: tlsload run|idle HOST PORT PATH TOKEN CONNS SECONDS\n");
		return 100;
	}
	idle = !strcmp(argv[1], "idle");
	host = argv[2];
	port = atoi(argv[3]);
	path = argv[4];
	token = argv[5];
	conns = atoi(argv[6]);
	seconds = atoi(argv[7]);
	snprintf(request, sizeof(request),
		 "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nCookie: session=%s\r\n\r\n",
		 path, host, token, token);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	ws = calloc((size_t)conns, sizeof(*ws));
	t0 = now();
	for (int i = 0; i < conns; i++)
		pthread_create(&ws[i].th, NULL, run, &ws[i]);
	for (int i = 0; i < conns; i++) {
		pthread_join(ws[i].th, NULL);
		total += ws[i].requests;
		errors += ws[i].errors;
	}
	if (idle) {
		printf("ready %d errors %ld\n", conns, errors);
		fflush(stdout);
		sleep((unsigned)seconds);
		return errors ? 1 : 0;
	}
	printf("requests %ld errors %ld rps %.0f\n", total, errors, (double)total / (now() - t0));
	return errors ? 1 : 0;
}
