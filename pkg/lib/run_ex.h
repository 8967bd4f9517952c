/* SPDX-License-Identifier: MIT */
/* run_ex.h - run_argv() with an extra environment and stderr capture.
 *
 * Image tools must pin the environment of the commands they run
 * (E2FSPROGS_FAKE_TIME, MKE2FS_CONFIG, LC_ALL, ...) without changing their
 * own, and some tools (debugfs -f) report failures only on stderr while
 * exiting 0, so the caller needs that text. Same contract as run_argv():
 * argv is exec'd directly (PATH lookup), never through a shell, and the
 * command line is logged with space_log() first.
 */
#ifndef SPACE_RUN_EX_H
#define SPACE_RUN_EX_H

/* Run argv[0] (PATH lookup) with argv, never through a shell. The command
 * line is logged first. Returns 0 when it exits 0, -SPACE_E_CHILD when it
 * exits non-zero or dies, a negative errno when it cannot be started.
 * stdin_path/stdout_path (either may be NULL) redirect the child's stdin and
 * stdout from/to files. */
int run_argv(const char *const argv[]);
int run_argv_io(const char *const argv[], const char *stdin_path, const char *stdout_path);

struct run_opts {
	/* "NAME=value" strings added to (or replacing in) the child's
	 * environment; NULL-terminated; may be NULL. Borrowed. */
	const char *const *env;
	const char *stdin_path;  /* NULL: inherit */
	const char *stdout_path; /* NULL: inherit; created/truncated 0644 */
	const char *stderr_path; /* NULL: inherit; created/truncated 0644 */
};

/* Returns 0 when the command exits 0, -SPACE_E_CHILD when it exits non-zero
 * or dies, a negative errno when it cannot be started. */
int run_argv_ex(const char *const argv[], const struct run_opts *opts);

#endif
