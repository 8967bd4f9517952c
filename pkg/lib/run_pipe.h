/* SPDX-License-Identifier: MIT */
/* run_pipe.h - run a command with bytes on its stdin and its output
 * collected, bounded in size and time (a peer's agent over SSH, a key
 * tool). Like run_argv(): argv is exec'd directly (PATH lookup), never
 * through a shell, and the command line is logged first.
 */
#ifndef SPACE_RUN_PIPE_H
#define SPACE_RUN_PIPE_H

#include <stddef.h>

struct buf;

struct run_pipe {
	const char *const *env; /* "NAME=value" added to the child's; may be NULL */
	const void *in;         /* written to its stdin, then closed; may be NULL */
	size_t inlen;
	struct buf *out;    /* its stdout (may be NULL: discarded) */
	struct buf *errout; /* its stderr (may be NULL: discarded) */
	size_t max;         /* bytes kept of each output (more: -EFBIG) */
	int timeout_ms;     /* then it is killed: -ETIMEDOUT */
	int status;         /* out: its exit code, or 128 + signal */
};

/* 0 when it exits 0; -SPACE_E_CHILD when it exits non-zero or dies
 * (p->status says how); -ETIMEDOUT, -EFBIG (after killing it) or a
 * negative errno when it cannot be run. */
int run_pipe(const char *const argv[], struct run_pipe *p);

/* The last line of a command's output in b (its stderr: why it failed),
 * trailing newlines and carriage returns dropped, into out; "" when b is
 * empty. */
void run_pipe_last_line(const struct buf *b, char *out, size_t n);

#endif
