/* SPDX-License-Identifier: MIT */
/* test_run_pipe.c - unit tests for pkg/lib/run_pipe.c: stdin fed, outputs
 * collected, exit codes, and the bounds in size and time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "run_pipe.h"
#include "tap.h"
#include "util.h"

/* stdin reaches the command, its stdout and stderr come back apart */
static void test_io(void)
{
	const char *cat[] = { "sh", "-c", "cat; echo oops >&2", NULL };
	const char *env[] = { "RUN_PIPE_TEST=seen", NULL };
	const char *show[] = { "sh", "-c", "printf %s \"$RUN_PIPE_TEST\"", NULL };
	struct buf out, err;
	struct run_pipe p = { .in = "hello\n", .inlen = 6, .max = 1024, .timeout_ms = 10000 };

	buf_init(&out);
	buf_init(&err);
	p.out = &out;
	p.errout = &err;
	is_int(run_pipe(cat, &p), 0, "a command that exits 0");
	ok(out.len == 6 && !memcmp(out.p, "hello\n", 6), "its stdin came back on stdout");
	ok(err.len == 5 && !memcmp(err.p, "oops\n", 5), "stderr is kept apart");
	buf_reset(&out);
	p.env = env;
	p.in = NULL;
	is_int(run_pipe(show, &p), 0, "an extra environment");
	ok(out.len == 4 && !memcmp(out.p, "seen", 4), "  reaches the command: %s", out.p ? out.p : "");
	buf_free(&out);
	buf_free(&err);
}

/* exit codes, a missing program, a child that does not read its stdin */
static void test_status(void)
{
	const char *f[] = { "sh", "-c", "exit 3", NULL };
	const char *none[] = { "/nonexistent/prog", NULL };
	const char *noread[] = { "true", NULL };
	static char big[1 << 20];
	struct run_pipe p = { .max = 1024, .timeout_ms = 10000 };

	is_int(run_pipe(f, &p), -SPACE_E_CHILD, "exit 3 is a failed command");
	is_int(p.status, 3, "  its status is 3");
	is_int(run_pipe(none, &p), -SPACE_E_CHILD, "a missing program");
	is_int(p.status, 127, "  exits 127");
	p.in = big;
	p.inlen = sizeof(big);
	is_int(run_pipe(noread, &p), 0, "a child that ignores 1 MiB of stdin: no SIGPIPE, no hang");
}

/* the bounds: output past max, a command past its time */
static void test_bounds(void)
{
	const char *loud[] = { "sh", "-c", "yes", NULL };
	const char *slow[] = { "sleep", "30", NULL };
	struct buf out;
	struct run_pipe p = { .max = 4096, .timeout_ms = 10000 };

	buf_init(&out);
	p.out = &out;
	is_int(run_pipe(loud, &p), -EFBIG, "endless output is cut: -EFBIG, the command killed");
	ok(out.len <= 4096, "  no more than max is kept (%zu)", out.len);
	p.timeout_ms = 300;
	is_int(run_pipe(slow, &p), -ETIMEDOUT, "a command past its time is killed: -ETIMEDOUT");
	is_int(p.status, 128 + 9, "  by SIGKILL");
	buf_free(&out);
}

/* the last line of an output: why a command failed */
static void test_last_line(void)
{
	struct buf b;
	char out[16];

	buf_init(&b);
	run_pipe_last_line(&b, out, sizeof(out));
	ok(!strcmp(out, ""), "an empty output has no last line");
	buf_puts(&b, "first\nsecond line\r\n\n");
	run_pipe_last_line(&b, out, sizeof(out));
	ok(!strcmp(out, "second line"), "the last line, newlines dropped: '%s'", out);
	buf_reset(&b);
	buf_puts(&b, "one line, no newline, cut");
	run_pipe_last_line(&b, out, sizeof(out));
	ok(strlen(out) == sizeof(out) - 1 && !strncmp(out, "one line", 8), "a long line is cut to the buffer");
	buf_free(&b);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/run_pipe/io", test_io },
		{ "/run_pipe/status", test_status },
		{ "/run_pipe/bounds", test_bounds },
		{ "/run_pipe/last_line", test_last_line },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
