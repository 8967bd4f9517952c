/* SPDX-License-Identifier: MIT */
/* run_ex.c - run_argv_ex(); see run_ex.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_ex.h"
#include "util.h"

static void log_cmd(const char *const argv[], const char *const *env)
{
	char line[4096];
	size_t off = 0;
	int n;

	line[0] = '\0';
	for (size_t i = 0; env && env[i] && off < sizeof(line) - 1; i++) {
		n = snprintf(line + off, sizeof(line) - off, "%s ", env[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	for (size_t i = 0; argv[i] && off < sizeof(line) - 1; i++) {
		n = snprintf(line + off, sizeof(line) - off, "%s%s", i ? " " : "", argv[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	space_log("run: %s", line);
}

/* In the child only: make fd refer to path. */
static int child_redirect(const char *path, int fd, int flags)
{
	int f = open(path, flags | O_CLOEXEC, 0644);

	if (f < 0 || dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

int run_argv_ex(const char *const argv[], const struct run_opts *opts)
{
	static const struct run_opts none;
	int status;
	pid_t pid;

	if (!opts)
		opts = &none;
	log_cmd(argv, opts->env);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (size_t i = 0; opts->env && opts->env[i]; i++) {
			/* putenv keeps the pointer; the child execs right after. */
			if (putenv((char *)opts->env[i]) != 0)
				_exit(127);
		}
		if (opts->stdin_path && child_redirect(opts->stdin_path, 0, O_RDONLY) < 0)
			_exit(127);
		if (opts->stdout_path &&
		    child_redirect(opts->stdout_path, 1, O_WRONLY | O_CREAT | O_TRUNC) < 0)
			_exit(127);
		if (opts->stderr_path &&
		    child_redirect(opts->stderr_path, 2, O_WRONLY | O_CREAT | O_TRUNC) < 0)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return -SPACE_E_CHILD;
}

int run_argv_io(const char *const argv[], const char *stdin_path, const char *stdout_path)
{
	const struct run_opts o = { .stdin_path = stdin_path, .stdout_path = stdout_path };

	return run_argv_ex(argv, &o);
}

int run_argv(const char *const argv[])
{
	return run_argv_io(argv, NULL, NULL);
}
