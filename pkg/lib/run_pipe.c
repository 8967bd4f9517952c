/* SPDX-License-Identifier: MIT */
/* run_pipe.c - a command with its stdin fed and its output collected
 * (run_pipe.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "run_pipe.h"
#include "util.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void log_argv(const char *const argv[])
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; argv[i]; i++)
		buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
	if (!buf_failed(&b))
		space_log("run: %s", b.p);
	buf_free(&b);
}

/* The child: its three pipe ends as 0, 1, 2, the extra environment. */
static void child(const char *const argv[], const struct run_pipe *p, int fds[3])
{
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(127);
	for (const char *const *e = p->env; e && *e; e++)
		if (putenv((char *)*e) != 0)
			_exit(127);
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

/* Read what one output pipe has; 0 at its end (fd closed), 1 for more. */
static int drain(int *fd, struct buf *b, size_t max, int *over)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (b && b->len + (size_t)n > max)
		*over = 1;
	else if (b && buf_put(b, chunk, (size_t)n) < 0)
		return -ENOMEM;
	return 1;
}

/* Feed stdin, collect stdout and stderr until both end or time is up. */
static int pump(struct run_pipe *p, int in, int out, int err)
{
	long long deadline = now_ms() + p->timeout_ms;
	size_t off = 0;
	int over = 0, r = 0;

	if (!p->in || p->inlen == 0) {
		close(in);
		in = -1;
	}
	while ((out >= 0 || err >= 0) && !over && r >= 0) {
		struct pollfd pf[3] = { { in, POLLOUT, 0 }, { out, POLLIN, 0 }, { err, POLLIN, 0 } };
		long long left = deadline - now_ms();

		if (left <= 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (poll(pf, 3, (int)left) < 0) {
			r = errno == EINTR ? 0 : -errno;
			continue;
		}
		if (in >= 0 && (pf[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(in, (const char *)p->in + off, p->inlen - off);

			if (n > 0)
				off += (size_t)n;
			if (n < 0 ? errno != EAGAIN && errno != EINTR : off == p->inlen) {
				close(in);
				in = -1;
			}
		}
		if (out >= 0 && (pf[1].revents & (POLLIN | POLLHUP | POLLERR)))
			r = drain(&out, p->out, p->max, &over);
		if (r >= 0 && err >= 0 && (pf[2].revents & (POLLIN | POLLHUP | POLLERR)))
			r = drain(&err, p->errout, p->max, &over);
	}
	if (r >= 0 && over)
		r = -EFBIG;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	if (err >= 0)
		close(err);
	return r < 0 ? r : 0;
}

static int pipe_pair(int fds[2], int parent_end)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	/* the parent's end does not block: one slow stream must not stall
	 * the others */
	if (fcntl(fds[parent_end], F_SETFL, O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int run_pipe(const char *const argv[], struct run_pipe *p)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, st = 0, r;
	void (*old)(int);
	pid_t pid;

	p->status = -1;
	log_argv(argv);
	if ((r = pipe_pair(in, 1)) < 0 || (r = pipe_pair(out, 0)) < 0 || (r = pipe_pair(err, 0)) < 0)
		goto out_close;
	/* a child that exits before reading its stdin must not kill us */
	old = signal(SIGPIPE, SIG_IGN);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		signal(SIGPIPE, old);
		goto out_close;
	}
	if (pid == 0)
		child(argv, p, (int[3]){ in[0], out[1], err[1] });
	close(in[0]);
	close(out[1]);
	close(err[1]);
	r = pump(p, in[1], out[0], err[0]);
	in[1] = out[0] = err[0] = -1;
	if (r < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	signal(SIGPIPE, old);
	p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (r == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		r = -SPACE_E_CHILD;
	return r;
out_close:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return r;
}

void run_pipe_last_line(const struct buf *b, char *out, size_t n)
{
	size_t len = b->p ? b->len : 0, start;

	while (len && (b->p[len - 1] == '\n' || b->p[len - 1] == '\r'))
		len--;
	for (start = len; start && b->p[start - 1] != '\n';)
		start--;
	snprintf(out, n, "%.*s", (int)(len - start), len ? b->p + start : "");
}
