/* SPDX-License-Identifier: MIT */
/* progress.c - a fabric run's lines (progress.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "pkg/fabric/progress.h"
#include "util.h"

static int progress_fd = -1;

void fabric_progress_open(const char *path, int append)
{
	char dir[256];
	const char *slash = strrchr(path, '/');

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
	if (dir[0])
		mkdir_p(dir, 0755);
	progress_fd = open(path, O_WRONLY | O_CREAT | (append ? 0 : O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_APPEND, 0644);
}

void fabric_say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stdout);
	fflush(stdout);
	if (progress_fd >= 0)
		fd_write_full(progress_fd, line, (size_t)n);
}

void fabric_say_block(const struct buf *b)
{
	const char *p = b->p, *end = b->p + b->len;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int n = (int)((nl ? nl : end) - p);

		fabric_say("    %.*s", n, p);
		p = nl ? nl + 1 : end;
	}
}

int fabric_progress_close(int code)
{
	fabric_say("%s%d", FABRIC_DONE, code);
	if (progress_fd >= 0)
		close(progress_fd);
	progress_fd = -1;
	return code;
}

/* Whether the chunk ends the run: its "[fabric] done: exit N" line (the
 * line may span chunks: tail keeps its start). */
static int scan_done(const char *buf, ssize_t n, char *tail, size_t tailsz, size_t *keep, int *code)
{
	int done = 0;

	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			tail[*keep] = '\0';
			if (!strncmp(tail, FABRIC_DONE, strlen(FABRIC_DONE))) {
				done = 1;
				*code = atoi(tail + strlen(FABRIC_DONE));
			}
			*keep = 0;
		} else if (*keep < tailsz - 1) {
			tail[(*keep)++] = buf[i];
		}
	}
	return done;
}

int fabric_follow(const char *path)
{
	char buf[4096], tail[sizeof(FABRIC_DONE) + 8] = "";
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), code = 0;
	size_t keep = 0;
	off_t off = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0) {
			code = -errno;
			break;
		}
		if (n == 0) {
			usleep(300000);
			continue;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
		off += n;
		if (scan_done(buf, n, tail, sizeof(tail), &keep, &code))
			break;
	}
	close(fd);
	return code;
}
