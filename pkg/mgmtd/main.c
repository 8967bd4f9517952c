/* SPDX-License-Identifier: MIT */
/* mgmtd - the management API daemon: HTTPS (OpenSSL, TLS 1.2+) with a JSON
 * REST API under /api/v1 (api.h).
 *
 * One thread, one epoll loop, non-blocking sockets and SSL objects. Every
 * connection has a deadline: request_timeout for the handshake and for
 * each request from its first byte to its last, keepalive_timeout while
 * idle between requests, so slow clients cannot hold the daemon. Heads and
 * bodies are bounded (max_header, max_body); malformed requests get a 4xx
 * and the connection is closed. Signals come through a signalfd.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "api.h"
#include "conf.h"
#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/daemon.h"
#include "pkg/libmgmt/hk.h"
#include "pkg/libmgmt/http.h"
#include "kv.h"
#include "strescape.h"
#include "tls.h"
#include "exitcode.h"
#include "util.h"

#define USAGE                                                                            \
	"usage: mgmtd [-c CONF] [-p PORT] [--check]\n"                                   \
	"  -c  configuration (env MGMTD_CONF, default /etc/mgmtd.conf)\n"                \
	"  -p  port, overrides the configuration\n"                                      \
	"  --check  load the configuration and certificate, then exit\n"                 \
	"Exit: 0 stopped by SIGTERM/SIGINT (or --check passed), 100 usage,\n"            \
	"      111 cannot start (configuration, certificate, listen): the contract of\n" \
	"      every space tool (README.md, Exit codes).\n"

/* C_BACKEND: the request waits for a watchdog/devgate answer (struct call);
 * C_UPLOAD: an upgrade image's body goes to its file as it comes;
 * C_DRAIN: a refusal was sent before the body: what the client still sends
 * is read and dropped until it stops or the deadline, so that closing
 * with unread bytes (a TCP reset) does not destroy the answer */
enum cstate { C_HANDSHAKE,
	      C_READ,
	      C_WRITE,
	      C_BACKEND,
	      C_SHUTDOWN,
	      C_UPLOAD,
	      C_DRAIN };
/* first member of what epoll reports: a client or a backend call */
enum tag { TAG_CONN = 1,
	   TAG_CALL };
/* what epoll watches for a connection */
enum cwant { W_READ,
	     W_WRITE,
	     W_NONE };

struct conn {
	enum tag tag;
	int fd;
	SSL *ssl;
	enum cstate st;
	struct buf in, out;
	size_t out_off, req_len;
	long long deadline, req_start_us;
	int keep, status, keep_next;
	struct call *call; /* C_BACKEND */
	enum cwant want;
	struct conn *rprev, *rnext; /* on the ready list: a pipelined request waits */
	int ready;
	long long up_left;  /* C_UPLOAD: body bytes still to come */
	int cont;           /* writing "100 Continue": C_UPLOAD after it */
	int drain;          /* C_DRAIN after the answer is out */
	int dead;           /* closed, freed after this epoll batch */
	int lost;           /* epoll could not be told what it waits for:
				     * closed by the next sweep */
	struct conn *dnext; /* on the dead list */
	char peer[INET6_ADDRSTRLEN + 8];
	char method[16], path[128], user[API_USER_LABEL];
};

/* A call to a local daemon made for a client (issue 12 #4): never waited
 * for, so one slow daemon holds up no other client. The client gets an
 * answer within API_CALL_WAIT_MS; a job's call goes on until
 * API_JOB_WAIT_MS, so its outcome is recorded even when the client has
 * had its 202 or has gone. */
#define MAX_CALLS 32 /* in flight; more are answered 503 at once */
/* An upload reads at most this much per turn of the event loop, then the
 * other clients have theirs. */
#define UPLOAD_TURN (1 << 20)
/* A refused upload's client is read and ignored this long at most. */
#define DRAIN_MS 2000
struct call {
	enum tag tag;
	int fd;
	struct api_call ac;
	struct buf reply;
	struct conn *c;                  /* the client still waiting, or NULL */
	long long answer_at, give_up_at; /* mono ms */
};

struct logfile {
	char *path;
	FILE *f;
	long long size;
};

static struct mgmtd_conf conf;
static struct api api;
static SSL_CTX *ctx;
static int epfd = -1;
static struct conn **conns; /* by fd */
static int max_fd, nconns;
static struct logfile access_log, error_log;
/* Connections with a complete pipelined request buffered, in arrival
 * order. Each gets one request per turn of the event loop, so one client
 * that pipelines thousands of requests (a password hash each for logins)
 * cannot hold every other client up (issue 12 #5). */
static struct conn *ready_head, *ready_tail;
static struct call *calls[MAX_CALLS];
static int ncalls;
/* Connections closed during an epoll batch. A backend answer drives its
 * client, which may close it, while that client's own event is still
 * later in the same batch: its memory must stay valid (and not be reused
 * by an accept) until the batch is over. */
static struct conn *dead_head;

/* api_now.mono: CLOCK_BOOTTIME seconds (see api.h why not the wall clock). */
static time_t boot_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec;
}

static struct api_now clocks_now(void)
{
	return (struct api_now){ .wall = time(NULL), .mono = boot_s() };
}

/* ------------------------------------------------------------ logs */

static int log_open(struct logfile *l, const char *dir, const char *name)
{
	struct stat st;
	int fd;

	l->path = xasprintf("%s/%s", dir, name);
	if (!l->path)
		return -ENOMEM;
	fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	l->f = fdopen(fd, "a");
	if (!l->f) {
		close(fd);
		return -errno;
	}
	l->size = fstat(fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

static void log_reopen(struct logfile *l)
{
	int fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	FILE *f;

	if (fd < 0)
		return;
	f = fdopen(fd, "a");
	if (!f) {
		close(fd);
		return;
	}
	fclose(l->f);
	l->f = f;
	l->size = 0;
}

/* Rotate our own logs by size; also follow an external rotation (the
 * watchdog's housekeeping renames *.log) by reopening when the path no
 * longer names our file. */
static void log_check(struct logfile *l)
{
	struct stat a, b;

	if (!l->f)
		return;
	if (l->size > conf.log_max) {
		fflush(l->f);
		if (hk_rotate_file(l->path, (int)conf.log_keep) == 0)
			log_reopen(l);
		return;
	}
	if (stat(l->path, &a) < 0 || fstat(fileno(l->f), &b) < 0 || a.st_ino != b.st_ino)
		log_reopen(l);
}

static void log_line(struct logfile *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(struct logfile *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	l->size += log_vstamp(l->f ? l->f : stderr, NULL, fmt, ap);
	va_end(ap);
	if (l->size > conf.log_max)
		log_check(l);
}

static void error_hook(const char *msg)
{
	log_line(&error_log, "%s", msg);
}

/* ------------------------------------------------------------ connections */

static void ready_remove(struct conn *c)
{
	if (!c->ready)
		return;
	if (c->rprev)
		c->rprev->rnext = c->rnext;
	else
		ready_head = c->rnext;
	if (c->rnext)
		c->rnext->rprev = c->rprev;
	else
		ready_tail = c->rprev;
	c->rprev = c->rnext = NULL;
	c->ready = 0;
}

static void ready_push(struct conn *c)
{
	if (c->ready)
		return;
	c->rprev = ready_tail;
	c->rnext = NULL;
	if (ready_tail)
		ready_tail->rnext = c;
	else
		ready_head = c;
	ready_tail = c;
	c->ready = 1;
}

static void conn_close(struct conn *c)
{
	ready_remove(c);
	if (c->st == C_UPLOAD || c->cont)
		api_upload_abort(&api, "the connection closed");
	if (c->call)
		c->call->c = NULL; /* the call still records a job's outcome */
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	conns[c->fd] = NULL;
	close(c->fd);
	c->fd = -1;
	SSL_free(c->ssl);
	c->ssl = NULL;
	buf_free(&c->in);
	buf_free(&c->out);
	c->dead = 1;
	c->dnext = dead_head;
	dead_head = c;
	nconns--;
}

/* Free what conn_close() left for after the epoll batch. */
static void conns_reap(void)
{
	while (dead_head) {
		struct conn *c = dead_head;

		dead_head = c->dnext;
		free(c);
	}
}

static void set_events(struct conn *c, enum cwant want)
{
	struct epoll_event ev = { .events = want == W_WRITE ? EPOLLOUT : want == W_READ ? EPOLLIN :
											  0,
				  .data.ptr = c };

	if (want == c->want)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) {
		c->want = want;
	} else {
		/* A failed change (ENOMEM) would leave the connection waiting
		 * for an event that never comes, holding a client slot: it is
		 * closed by the next sweep (within 250 ms) rather than left
		 * hanging; not here, as the caller still uses it. */
		if (!c->lost)
			log_line(&error_log, "%s: epoll: %s (connection closed)", c->peer, strerror(errno));
		c->lost = 1;
	}
}

static void respond(struct conn *c, int status, const struct api_resp *r, int keep)
{
	buf_reset(&c->out);
	buf_printf(&c->out,
		   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		   "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
		   "Strict-Transport-Security: max-age=31536000\r\n",
		   status, http_reason(status), r->body.len);
	if (r->set_cookie[0])
		buf_printf(&c->out, "Set-Cookie: %s\r\n", r->set_cookie);
	if (r->retry_after)
		buf_printf(&c->out, "Retry-After: %d\r\n", r->retry_after);
	buf_printf(&c->out, "Connection: %s\r\n\r\n", keep ? "keep-alive" : "close");
	buf_put(&c->out, r->body.p ? r->body.p : "", r->body.len);
	c->out_off = 0;
	c->keep = keep;
	c->status = status;
	snprintf(c->user, sizeof(c->user), "%s", r->user);
	c->st = C_WRITE;
}

static void respond_error(struct conn *c, int status, const char *msg)
{
	struct api_resp r;

	api_resp_init(&r);
	api_error(&r, status, msg);
	respond(c, status, &r, 0);
	api_resp_free(&r);
	if (!c->method[0])
		strcpy(c->method, "-");
	log_line(&error_log, "%s: %d %s", c->peer, status, msg);
}

static void access_line(struct conn *c)
{
	log_line(&access_log, "%s %s %s %s %d %zu %lldus", c->peer, c->user[0] ? c->user : "-",
		 c->method[0] ? c->method : "-", c->path[0] ? c->path : "-", c->status, c->out.len,
		 mono_us() - c->req_start_us);
}

/* ------------------------------------------------------------ backend calls */

static void drive(struct conn *c);

/* The answer to a client whose request waited for a call. */
static void call_answer(struct conn *c, struct api_resp *r)
{
	c->call = NULL;
	snprintf(r->user, sizeof(r->user), "%s", c->user);
	if (buf_failed(&r->body))
		api_error(r, 500, "out of memory");
	respond(c, r->status, r, c->keep_next);
	c->deadline = mono_ms() + conf.request_timeout * 1000;
}

static void call_free(struct call *k)
{
	for (int i = 0; i < ncalls; i++)
		if (calls[i] == k)
			calls[i] = calls[--ncalls];
	if (k->c)
		k->c->call = NULL;
	epoll_ctl(epfd, EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	buf_free(&k->reply);
	free(k);
}

/* The call is over (rc: 0, -SPACE_E_CHILD, or why there is no answer). */
static void call_finish(struct call *k, int rc)
{
	struct conn *c = k->c;
	struct api_resp r;

	api_resp_init(&r);
	api_call_done(&api, &k->ac, rc, k->reply.p, time(NULL), c ? &r : NULL);
	k->c = NULL;
	call_free(k);
	if (c) {
		call_answer(c, &r);
		drive(c);
	}
	api_resp_free(&r);
}

static void call_input(struct call *k)
{
	int rc = ctl_recv(k->fd, &k->reply);

	if (rc == 0)
		return;
	call_finish(k, rc < 0 ? rc : ctl_reply_status(k->reply.p));
}

/* Send ac's request and watch for the answer: the call, or NULL with
 * *err (too many calls, the daemon is down). */
static struct call *call_open(struct api_call *ac, int *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	long long now = mono_ms();
	struct call *k = NULL;
	int fd = ncalls >= MAX_CALLS ? -EBUSY : ctl_start(ac->sock, ac->req);

	if (fd >= 0 && !(k = calloc(1, sizeof(*k)))) {
		close(fd);
		fd = -ENOMEM;
	}
	if (fd >= 0) {
		ev.data.ptr = k;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int e = -errno;
			close(fd);
			free(k);
			fd = e;
		}
	}
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	k->tag = TAG_CALL;
	k->fd = fd;
	k->ac = *ac;
	api_call_sent(&api, &k->ac);
	buf_init(&k->reply);
	k->answer_at = now + API_CALL_WAIT_MS;
	k->give_up_at = now + (ac->kind == CALL_JOB ? API_JOB_WAIT_MS : API_CALL_WAIT_MS);
	calls[ncalls++] = k;
	return k;
}

/* Start the call c's request needs; c waits in C_BACKEND (or is answered
 * at once when the call cannot be made). */
static void call_start(struct conn *c, struct api_call *ac)
{
	struct api_resp r;
	int err = 0;
	struct call *k = call_open(ac, &err);

	if (!k) {
		api_resp_init(&r);
		api_call_done(&api, ac, err, NULL, time(NULL), &r);
		call_answer(c, &r);
		api_resp_free(&r);
		return;
	}
	k->c = c;
	c->call = k;
	c->st = C_BACKEND;
	set_events(c, W_NONE);
}

/* A call no client waits for (the applications for GET /system). */
static void call_background(void)
{
	struct api_call ac;
	int err = 0;

	if (api_apps_due(&api, boot_s(), &ac) && !call_open(&ac, &err))
		api_call_done(&api, &ac, err, NULL, time(NULL), NULL);
}

/* Calls past their time: a waiting client is answered (a job's with 202,
 * the call goes on), a call nobody waits for any more is given up. */
static void calls_sweep(long long now)
{
	for (int i = 0; i < ncalls;) {
		struct call *k = calls[i];

		if (k->c && now >= k->answer_at && now < k->give_up_at) {
			struct api_resp r;
			struct conn *c = k->c;

			k->c = NULL;
			api_resp_init(&r);
			api_call_pending(&api, &k->ac, &r);
			call_answer(c, &r);
			api_resp_free(&r);
			drive(c);
		} else if (now >= k->give_up_at) {
			call_finish(k, -ETIMEDOUT);
			continue; /* calls[i] is another call now */
		}
		i++;
	}
}

/* ------------------------------------------------------------ uploads */

/* Up to n bytes of an upload's body (the rest is the next request's):
 * returns how many it took. Each arrival gives the client request_timeout
 * more, so a stalled upload is dropped and a slow but steady one is not. */
static size_t upload_feed(struct conn *c, const char *p, size_t n)
{
	size_t take = (long long)n > c->up_left ? (size_t)c->up_left : n;
	struct api_resp r;

	api_resp_init(&r);
	snprintf(r.user, sizeof(r.user), "%s", c->user);
	if (take && api_upload_data(&api, p, take, &r) < 0) {
		c->drain = 1;
		respond(c, r.status, &r, 0);
		api_resp_free(&r);
		return n;
	}
	c->up_left -= (long long)take;
	c->deadline = mono_ms() + conf.request_timeout * 1000;
	if (!c->up_left) {
		api_upload_end(&api, &r);
		if (buf_failed(&r.body))
			api_error(&r, 500, "out of memory");
		respond(c, r.status, &r, r.status == 201 && c->keep_next);
	}
	api_resp_free(&r);
	return take;
}

/* api_upload_begin() answered r for the head at c->in (h bytes): a
 * refusal goes out at once, without reading the body (the client learns
 * it before it sends 700 MB, at once if it asked with Expect:
 * 100-continue); an accepted upload gets what is buffered, then C_UPLOAD. */
static void upload_start(struct conn *c, const struct http_req *req, size_t h, struct api_resp *r)
{
	const struct http_str *expect = http_header(req, "expect");
	size_t take;

	snprintf(c->user, sizeof(c->user), "%s", r->user);
	if (r->status) {
		c->drain = c->in.len < h + (size_t)req->content_length;
		respond(c, r->status, r, 0);
		return;
	}
	c->keep_next = req->keep_alive;
	c->up_left = req->content_length;
	c->req_len = 0;
	buf_consume(&c->in, h);
	c->st = C_UPLOAD;
	take = upload_feed(c, c->in.p, c->in.len);
	buf_consume(&c->in, take);
	if (c->st == C_UPLOAD && !take && expect && expect->n == 12 && !strncasecmp(expect->p, "100-continue", 12)) {
		buf_reset(&c->out);
		buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
		c->out_off = 0;
		c->cont = 1;
		c->st = C_WRITE;
	}
}

/* After a refusal sent before the body: no more TLS, read and drop. */
static void drain_start(struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	buf_free(&c->in);
	c->st = C_DRAIN;
	c->deadline = mono_ms() + DRAIN_MS;
	set_events(c, W_READ);
}

/* ------------------------------------------------------------ requests */

/* Parse what we have; produce a response when a request is complete. */
static void try_request(struct conn *c)
{
	/* the body's limit depends on the request: an upload's is not buffered
	 * (upload_start) and upload_max applies (api_upload_begin); every
	 * other body must fit max_body (below) */
	struct http_limits lim = { (size_t)conf.max_header, (size_t)LLONG_MAX };
	struct http_req req;
	struct api_resp r;
	int h = http_parse(c->in.p ? c->in.p : "", c->in.len, &lim, &req);

	if (c->in.len && !c->req_start_us) {
		c->req_start_us = mono_us();
		c->deadline = mono_ms() + conf.request_timeout * 1000;
	}
	if (h == 0)
		return;
	if (h < 0) {
		switch (h) {
		case -E2BIG: respond_error(c, 431, "request head too large"); break;
		case -EMSGSIZE: respond_error(c, 413, "request body too large"); break;
		case -ENOSYS: respond_error(c, 501, "transfer-encoding not supported"); break;
		case -EPROTONOSUPPORT: respond_error(c, 505, "HTTP/1.x only"); break;
		default: respond_error(c, 400, "malformed request"); break;
		}
		return;
	}
	str_escape(c->method, sizeof(c->method), req.method.p, req.method.n, STR_ESCAPE_SPACE);
	str_escape(c->path, sizeof(c->path), req.path.p, req.path.n, STR_ESCAPE_SPACE);
	api_resp_init(&r);
	if (api_upload_begin(&api, &req, c->peer, clocks_now(), &r)) {
		upload_start(c, &req, (size_t)h, &r);
		api_resp_free(&r);
		return;
	}
	if (req.content_length > conf.max_body) {
		api_resp_free(&r);
		respond_error(c, 413, "request body too large");
		return;
	}
	if (c->in.len < (size_t)h + (size_t)req.content_length) {
		api_resp_free(&r);
		return; /* body still arriving */
	}
	c->req_len = (size_t)h + (size_t)req.content_length;
	api_handle(&api, &req, c->in.p + h, (size_t)req.content_length, c->peer, clocks_now(), &r);
	if (r.call.kind != CALL_NONE) {
		c->keep_next = req.keep_alive;
		snprintf(c->user, sizeof(c->user), "%s", r.user);
		call_start(c, &r.call);
	} else {
		if (buf_failed(&r.body))
			api_error(&r, 500, "out of memory");
		respond(c, r.status, &r, req.keep_alive);
	}
	api_resp_free(&r);
}

static int ssl_want(struct conn *c, int ret)
{
	int e = SSL_get_error(c->ssl, ret);

	if (e == SSL_ERROR_WANT_READ) {
		set_events(c, W_READ);
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		set_events(c, W_WRITE);
		return 0;
	}
	if (e == SSL_ERROR_SSL && c->st == C_HANDSHAKE) {
		char b[160];
		ERR_error_string_n(ERR_peek_last_error(), b, sizeof(b));
		log_line(&error_log, "%s: TLS handshake failed: %s", c->peer, b);
	}
	ERR_clear_error();
	return -1;
}

/* Go back to epoll instead of calling SSL_read on a socket that is most
 * likely empty: that read costs a syscall per request (it only returns
 * EAGAIN; the bench went from about 37k to 55k req/s without it) and
 * re-allocates OpenSSL's read buffer for the idle time. epoll is
 * level-triggered, so bytes already in the socket still wake us; bytes
 * already inside OpenSSL do not, hence the SSL_has_pending() check. */
static int idle_wait(struct conn *c)
{
	if (SSL_has_pending(c->ssl))
		return 0;
	set_events(c, W_READ);
	return 1;
}

/* C_UPLOAD: one read of the body. Returns 1 to go on, 0 when drive()
 * must return. turn: bytes read in this turn of the loop. */
static int upload_read(struct conn *c, size_t *turn)
{
	char tmp[16384];
	size_t take;
	int n;

	if (*turn >= UPLOAD_TURN) {
		/* the others' turn; bytes inside OpenSSL wake no epoll */
		if (SSL_has_pending(c->ssl))
			ready_push(c);
		return 0;
	}
	n = SSL_read(c->ssl, tmp, sizeof(tmp));
	if (n <= 0) {
		if (ssl_want(c, n) < 0)
			conn_close(c); /* aborts the upload */
		return 0;
	}
	*turn += (size_t)n;
	take = upload_feed(c, tmp, (size_t)n);
	if (take < (size_t)n && c->keep)
		buf_put(&c->in, tmp + take, (size_t)n - take); /* pipelined */
	return 1;
}

/* C_DRAIN: read and drop; closed at EOF, error or the deadline. */
static int drain_read(struct conn *c, size_t *turn)
{
	char tmp[16384];
	ssize_t n;

	if (*turn >= UPLOAD_TURN)
		return 0;
	n = recv(c->fd, tmp, sizeof(tmp), 0);
	if (n > 0) {
		*turn += (size_t)n;
		return 1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	conn_close(c);
	return 0;
}

/* The steps of drive(), one per state: 1 to go on with the connection's
 * next step, 0 to wait for epoll (or the connection was closed). */
static int handshake_step(struct conn *c)
{
	int n = SSL_accept(c->ssl);

	if (n <= 0) {
		if (ssl_want(c, n) < 0)
			conn_close(c);
		return 0;
	}
	c->st = C_READ;
	c->deadline = mono_ms() + conf.keepalive_timeout * 1000;
	return !idle_wait(c);
}

static int read_step(struct conn *c)
{
	char tmp[16384];
	size_t cap = (size_t)conf.max_header + (size_t)conf.max_body + 1;
	int n = SSL_read(c->ssl, tmp, sizeof(tmp));

	if (n <= 0) {
		if (ssl_want(c, n) < 0)
			conn_close(c);
		return 0;
	}
	if (c->in.len + (size_t)n > cap + sizeof(tmp)) {
		respond_error(c, 413, "request too large");
		return 1;
	}
	buf_put(&c->in, tmp, (size_t)n);
	try_request(c);
	return !(c->st == C_READ && idle_wait(c));
}

/* An answer is out: close (or drain), or be ready for the next request. */
static int answered(struct conn *c)
{
	access_line(c);
	if (!c->keep) {
		SSL_shutdown(c->ssl);
		if (c->drain)
			drain_start(c);
		else
			conn_close(c);
		return 0;
	}
	buf_consume(&c->in, c->req_len);
	c->req_len = 0;
	c->req_start_us = 0;
	c->method[0] = c->path[0] = c->user[0] = '\0';
	c->st = C_READ;
	c->deadline = mono_ms() + conf.keepalive_timeout * 1000;
	if (c->in.len) {
		/* pipelined: wait for this connection's next turn, reading
		 * nothing more meanwhile, so what one client can queue is
		 * bounded by one buffered request */
		set_events(c, W_NONE);
		ready_push(c);
		return 0;
	}
	buf_free(&c->in); /* idle: keep nothing per connection */
	return !idle_wait(c);
}

static int write_step(struct conn *c)
{
	int n = SSL_write(c->ssl, c->out.p + c->out_off, (int)(c->out.len - c->out_off));

	if (n <= 0) {
		if (ssl_want(c, n) < 0)
			conn_close(c);
		return 0;
	}
	c->out_off += (size_t)n;
	if (c->out_off < c->out.len)
		return 1;
	if (c->cont) { /* "100 Continue" is out: now the body */
		c->cont = 0;
		c->st = C_UPLOAD;
		set_events(c, W_READ);
		return 1;
	}
	return answered(c);
}

/* Move a connection on as far as it goes without waiting. turn bounds
 * what an upload or a drain reads in one turn of the event loop. */
static void drive(struct conn *c)
{
	size_t turn = 0;
	int go = 1;

	while (go) {
		switch (c->st) {
		case C_HANDSHAKE: go = handshake_step(c); break;
		case C_READ: go = read_step(c); break;
		case C_WRITE: go = write_step(c); break;
		case C_BACKEND: go = 0; break; /* call_finish() or calls_sweep() answers */
		case C_UPLOAD: go = upload_read(c, &turn); break;
		case C_DRAIN: go = drain_read(c, &turn); break;
		case C_SHUTDOWN:
			conn_close(c);
			go = 0;
			break;
		}
	}
}

/* One turn for every connection that was waiting with a pipelined
 * request when the turn began (later arrivals wait for the next one). */
static void ready_run(void)
{
	struct conn *last = ready_tail, *c;

	while ((c = ready_head)) {
		int was_last = c == last;

		ready_remove(c);
		if (c->st == C_READ) { /* else the sweep answered it meanwhile */
			try_request(c);
			/* a request now waiting for a call (C_BACKEND) must not
			 * watch for input: drive() reads nothing then, and
			 * level-triggered epoll would spin on the socket */
			if (c->st == C_WRITE || c->st == C_UPLOAD)
				drive(c);
			else if (c->st == C_READ && !idle_wait(c))
				drive(c);
		} else if (c->st == C_UPLOAD) { /* its next UPLOAD_TURN bytes */
			drive(c);
		}
		if (was_last)
			break;
	}
}

static void accept_all(int lfd)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC), one = 1;
		struct conn *c;
		struct epoll_event ev;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_line(&error_log, "accept: %s", strerror(errno));
			return;
		}
		if (nconns >= conf.max_clients || fd >= max_fd) {
			/* over the limit: refuse at once rather than queue */
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c || !(c->ssl = SSL_new(ctx))) {
			free(c);
			close(fd);
			continue;
		}
		c->tag = TAG_CONN;
		c->fd = fd;
		SSL_set_fd(c->ssl, fd);
		if (sa.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
			inet_ntop(AF_INET6, &s6->sin6_addr, c->peer, sizeof(c->peer));
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
			inet_ntop(AF_INET, &s4->sin_addr, c->peer, sizeof(c->peer));
		}
		c->st = C_HANDSHAKE;
		c->deadline = mono_ms() + conf.request_timeout * 1000;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			SSL_free(c->ssl);
			free(c);
			close(fd);
			continue;
		}
		conns[fd] = c;
		nconns++;
		drive(c);
	}
}

static void sweep(long long now)
{
	for (int fd = 0; fd < max_fd; fd++) {
		struct conn *c = conns[fd];
		if (c && c->lost) {
			conn_close(c);
			continue;
		}
		if (!c || now < c->deadline || c->st == C_BACKEND)
			continue;
		if (c->st == C_UPLOAD) {
			log_line(&error_log, "%s: upload stalled for %ld s", c->peer, conf.request_timeout);
			api_upload_abort(&api, "no data within request_timeout");
			c->deadline = now + 1000;
			respond_error(c, 408, "request timeout");
			drive(c);
		} else if (c->st == C_READ && c->in.len) {
			/* a request started but did not finish in time: say so, once */
			log_line(&error_log, "%s: request timeout after %ld s", c->peer, conf.request_timeout);
			c->deadline = now + 1000;
			respond_error(c, 408, "request timeout");
			c->st = C_WRITE;
			drive(c);
		} else {
			conn_close(c);
		}
	}
	calls_sweep(now);
	sess_expire(&api.sess, boot_s());
	api_reap(&api, time(NULL)); /* SIGCHLD does it; this in case */
	call_background();
}

static int listen_on(const char *addr, int port)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd, one = 1, v6 = strchr(addr, ':') != NULL;

	if (v6 ? inet_pton(AF_INET6, addr, &s6.sin6_addr) != 1 : inet_pton(AF_INET, addr, &s4.sin_addr) != 1)
		return -EINVAL;
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((v6 ? bind(fd, (struct sockaddr *)&s6, sizeof(s6)) : bind(fd, (struct sockaddr *)&s4, sizeof(s4))) < 0 ||
	    listen(fd, 512) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* max_clients connections need that many descriptors; the default soft
 * limit (1024) would cap it silently. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max_fd) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)max_fd ? rl.rlim_max : (rlim_t)max_fd;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)max_fd)
			log_line(&error_log, "open-file limit %ld caps max_clients", (long)rl.rlim_cur);
	}
}

/* One event of a batch. The listener and the signalfd are told apart by
 * the address of their descriptor variable (serve()'s parameters). */
static void dispatch(const struct epoll_event *ev, const int *lfd, const int *sfd, int *stop)
{
	if (ev->data.ptr == lfd) {
		accept_all(*lfd);
	} else if (ev->data.ptr == sfd) {
		struct signalfd_siginfo si;
		while (read(*sfd, &si, sizeof(si)) == sizeof(si))
			if (si.ssi_signo == SIGCHLD)
				api_reap(&api, time(NULL));
			else if (si.ssi_signo != SIGHUP)
				*stop = 1;
	} else if (*(enum tag *)ev->data.ptr == TAG_CALL) {
		call_input(ev->data.ptr);
	} else {
		struct conn *c = ev->data.ptr;
		if (c->dead) /* closed earlier in this batch */
			return;
		if (ev->events & (EPOLLERR | EPOLLHUP) && !(ev->events & EPOLLIN))
			conn_close(c);
		else
			drive(c);
	}
}

/* The event loop, until SIGTERM or SIGINT: a batch of events, then the
 * connections freed in it, the ready queue, and every 250 ms the sweep of
 * timeouts and the log rotation check. */
static int serve(int lfd, int sfd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &lfd };
	struct epoll_event es = { .events = EPOLLIN, .data.ptr = &sfd };
	long long next_sweep = mono_ms() + 250;
	int stop = 0;

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &es) < 0)
		return -errno;
	log_line(&error_log, "mgmtd listening on %s:%d", conf.listen, conf.port);
	while (!stop) {
		struct epoll_event evs[128];
		long long now = mono_ms();
		int n = epoll_wait(epfd, evs, 128, ready_head ? 0 : (int)(next_sweep > now ? next_sweep - now : 0));

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++)
			dispatch(&evs[i], &lfd, &sfd, &stop);
		conns_reap();
		ready_run();
		now = mono_ms();
		if (now >= next_sweep) {
			sweep(now);
			log_check(&access_log);
			log_check(&error_log);
			next_sweep = now + 250;
		}
		conns_reap();
	}
	log_line(&error_log, "mgmtd stopping");
	return 0;
}

/* Options: returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, const char **cpath, long long *port, int *check)
{
	static const struct option lo[] = { { "check", no_argument, NULL, 'C' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "c:p:h", lo, NULL)) != -1) {
		switch (opt) {
		case 'c': *cpath = optarg; break;
		case 'p':
			if (kv_int(optarg, 1, 65535, 0, port) < 0) {
				fprintf(stderr, "mgmtd: option -p %s: not a port\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'C': *check = 1; break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: fputs(USAGE, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* The configuration (defaults, then the file, then -p), the certificate
 * (made at the first start) and the TLS context; -1 when one fails (said
 * on stderr). */
static int load_tls(const char *cpath, long long port)
{
	struct space_err err = { "" };
	int r;

	if (mgmtd_conf_load(&conf, cpath, &err) < 0) {
		fprintf(stderr, "mgmtd: load %s: %s\n", cpath, err.msg);
		return -1;
	}
	if (port)
		conf.port = (int)port;
	r = tls_ensure_cert(conf.cert, conf.key, &err);
	if (r < 0) {
		fprintf(stderr, "mgmtd: certificate %s: %s\n", conf.cert, err.msg);
		return -1;
	}
	if (r == 1)
		fprintf(stderr, "mgmtd: generated a self-signed certificate %s\n", conf.cert);
	ctx = tls_server_ctx(conf.cert, conf.key, &err);
	if (!ctx) {
		fprintf(stderr, "mgmtd: TLS: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* The logs, then the API (which logs through space_log); -1 when one
 * fails (said on stderr). */
static int open_logs_api(void)
{
	int r;

	if ((r = mkdir_p(conf.log_dir, 0750)) < 0 || (r = log_open(&access_log, conf.log_dir, "access.log")) < 0 ||
	    (r = log_open(&error_log, conf.log_dir, "error.log")) < 0) {
		fprintf(stderr, "mgmtd: logs in %s: %s\n", conf.log_dir, space_strerror(r));
		return -1;
	}
	space_log_fn = error_hook;
	if ((r = api_init(&api, &conf, boot_s())) < 0) {
		fprintf(stderr, "mgmtd: init: %s\n", space_strerror(r));
		return -1;
	}
	return 0;
}

/* The connection table, the listener, the signals (read from a signalfd)
 * and the epoll set; -1 when one fails (said on stderr). */
static int start(int *lfd, int *sfd)
{
	sigset_t mask;

	upload_clean(conf.upload_dir);
	max_fd = (int)conf.max_clients + 64;
	raise_fd_limit();
	conns = calloc((size_t)max_fd, sizeof(*conns));
	*lfd = listen_on(conf.listen, conf.port);
	if (!conns || *lfd < 0) {
		fprintf(stderr, "mgmtd: listen %s:%d: %s\n", conf.listen, conf.port, space_strerror(*lfd));
		return -1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD); /* the upgrade's child: reaped in the loop */
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	*sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (*sfd < 0 || epfd < 0) {
		fprintf(stderr, "mgmtd: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Every call and connection, then the API. */
static void stop_api(void)
{
	while (ncalls)
		call_free(calls[0]);
	for (int fd = 0; conns && fd < max_fd; fd++)
		if (conns[fd])
			conn_close(conns[fd]);
	conns_reap();
	free(conns);
	api_free(&api);
}

/* The descriptors, the TLS context, the logs and the configuration. */
static void release(int lfd, int sfd)
{
	if (lfd >= 0)
		close(lfd);
	if (sfd >= 0)
		close(sfd);
	if (epfd >= 0)
		close(epfd);
	SSL_CTX_free(ctx);
	if (access_log.f)
		fclose(access_log.f);
	if (error_log.f)
		fclose(error_log.f);
	free(access_log.path);
	free(error_log.path);
	mgmtd_conf_free(&conf);
}

int main(int argc, char **argv)
{
	const char *cpath = getenv("MGMTD_CONF");
	long long port = 0;
	int check = 0, r, lfd = -1, sfd = -1, rc = EXIT_SYSTEM;

	if (!cpath)
		cpath = "/etc/mgmtd.conf";
	if ((r = parse_args(argc, argv, &cpath, &port, &check)) >= 0)
		return r;
	if (mgmtd_conf_defaults(&conf) < 0)
		return EXIT_SYSTEM;
	if (load_tls(cpath, port) < 0)
		goto out;
	if (check) {
		rc = 0;
		goto out;
	}
	if (open_logs_api() < 0)
		goto out;
	if (start(&lfd, &sfd) == 0) {
		if ((r = serve(lfd, sfd)) < 0)
			fprintf(stderr, "mgmtd: epoll: %s\n", strerror(-r));
		else
			rc = 0;
	}
	stop_api();
out:
	release(lfd, sfd);
	return rc;
}
