/* SPDX-License-Identifier: MIT */
/* ctl.c - unix control-socket server and client helpers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "daemon.h"
#include "util.h"

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int ctl_listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int fd, r;

	if ((r = fill_addr(&sa, path)) < 0)
		return r;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* umask, not chmod after bind: no window where others could connect. */
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int ctl_accept(int lfd, int timeout_ms)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		close(fd);
		return -EPERM;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int ctl_read_line(int fd, char *line, size_t max)
{
	size_t n = 0;

	while (n + 1 < max) {
		ssize_t k = read(fd, line + n, 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		if (k == 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (n + 1 >= max)
		return -E2BIG;
	if (memchr(line, '\0', n))
		return -SPACE_E_FORMAT;
	return (int)n;
}

int ctl_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int ctl_request(const char *path, const char *req, int timeout_ms, char **reply)
{
	struct sockaddr_un sa;
	struct buf b;
	int fd, r;
	char tmp[4096];

	*reply = NULL;
	if ((r = fill_addr(&sa, path)) < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	buf_init(&b);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	if ((r = ctl_write_all(fd, req, strlen(req))) < 0 || (r = ctl_write_all(fd, "\n", 1)) < 0)
		goto out;
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;

		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			goto out;
		}
		if (r == 0) {
			r = -ETIMEDOUT;
			goto out;
		}
		k = read(fd, tmp, sizeof(tmp));
		if (k < 0) {
			r = errno == EINTR ? 0 : -errno;
			if (r)
				goto out;
			continue;
		}
		if (k == 0)
			break;
		if (b.len + (size_t)k > CTL_REPLY_MAX) {
			r = -EFBIG;
			goto out;
		}
		buf_put(&b, tmp, (size_t)k);
	}
	if ((r = buf_failed(&b)) < 0)
		goto out;
	buf_put(&b, "", 0);
	*reply = b.p;
	b.p = NULL;
	r = ctl_reply_status(*reply);
out:
	buf_free(&b);
	close(fd);
	return r;
}

int ctl_reply_status(const char *reply)
{
	if (!strncmp(reply, "ok", 2) && (reply[2] == '\n' || reply[2] == ' ' || !reply[2]))
		return 0;
	if (!strncmp(reply, "error", 5))
		return -SPACE_E_CHILD;
	return -SPACE_E_FORMAT;
}

int ctl_start(const char *path, const char *req)
{
	struct sockaddr_un sa;
	int fd, r;

	if ((r = fill_addr(&sa, path)) < 0)
		return r;
	if (strlen(req) + 1 > CTL_START_MAX)
		return -E2BIG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix stream connect does not wait for the server's accept(): it
	 * succeeds at once or fails (EAGAIN: backlog full), and the short
	 * request fits the empty socket buffer, so neither blocks. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	{
		char line[CTL_START_MAX + 1];
		size_t n = (size_t)snprintf(line, sizeof(line), "%s\n", req);
		ssize_t k = send(fd, line, n, MSG_NOSIGNAL);
		if (k < 0 || (size_t)k != n) {
			r = k < 0 ? -errno : -EAGAIN;
			goto fail;
		}
	}
	return fd;
fail:
	close(fd);
	return r;
}

int ctl_recv(int fd, struct buf *b)
{
	char tmp[4096];

	for (;;) {
		ssize_t k = read(fd, tmp, sizeof(tmp));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		if (k == 0)
			break;
		if (b->len + (size_t)k > CTL_REPLY_MAX)
			return -EFBIG;
		buf_put(b, tmp, (size_t)k);
	}
	if (buf_failed(b))
		return buf_failed(b);
	buf_put(b, "", 0); /* NUL-terminate */
	return 1;
}

/* ctl_start(), retried while the daemon's backlog is full (-EAGAIN: not
 * sent) until deadline. */
static int start_until(const char *path, const char *req, long long deadline)
{
	int fd;

	while ((fd = ctl_start(path, req)) == -EAGAIN && mono_ms() < deadline)
		poll(NULL, 0, 50);
	return fd;
}

int ctl_call(const char *path, const char *req, int timeout_ms, char **reply, bool *sent)
{
	long long deadline = mono_ms() + timeout_ms;
	struct buf b;
	int fd, r = 0;

	*reply = NULL;
	*sent = false;
	fd = start_until(path, req, deadline);
	if (fd < 0)
		return fd;
	*sent = true;
	buf_init(&b);
	while (r == 0) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - mono_ms();
		int n;

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		n = poll(&p, 1, (int)left);
		if (n < 0 && errno != EINTR)
			r = -errno;
		else if (n > 0)
			r = ctl_recv(fd, &b);
	}
	/* the reply is kept for "ok" and "error ..." only */
	if (r == 1 && (r = ctl_reply_status(b.p)) != -SPACE_E_FORMAT) {
		*reply = b.p;
		b.p = NULL;
	}
	buf_free(&b);
	close(fd);
	return r;
}
