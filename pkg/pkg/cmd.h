/* SPDX-License-Identifier: MIT */
/* cmd.h - the pkg tool's subcommands and exit-code contract. */
#ifndef SPACE_PKG_CMD_H
#define SPACE_PKG_CMD_H

#include "pkg/libpkg/libpkg.h"
#include "exitcode.h"

/* Exit codes: the shared contract (pkg/lib/exitcode.h). EXIT_NEGATIVE:
 * verify found differences, package not installed; EXIT_REFUSED (the same
 * 1): a bad package or input, nothing written; EXIT_SYSTEM: I/O. */

struct pkg_opts {
	const char *root;
};

/* argv[0] is the verb; handlers return an exit code. */
typedef int (*cmd_fn)(int argc, char **argv, const struct pkg_opts *o);

int cmd_build(int argc, char **argv, const struct pkg_opts *o);
int cmd_install(int argc, char **argv, const struct pkg_opts *o);
int cmd_remove(int argc, char **argv, const struct pkg_opts *o);
int cmd_list(int argc, char **argv, const struct pkg_opts *o);
int cmd_info(int argc, char **argv, const struct pkg_opts *o);
int cmd_files(int argc, char **argv, const struct pkg_opts *o);
int cmd_verify(int argc, char **argv, const struct pkg_opts *o);
int cmd_attrs(int argc, char **argv, const struct pkg_opts *o);

/* Open the database under o->root for verb. On failure print the error
 * (die_err) and return its exit code; on success return EXIT_OK and, when warn is
 * set, print one line per record that was skipped as unreadable. */
int pkg_open_db(const char *verb, const struct pkg_opts *o, bool create, bool warn,
		struct pkg_db *db);
/* The path of a record for messages: ROOT/usr/lib/pkg/installed/NAME. */
const char *pkg_record_path(const struct pkg_opts *o, const char *name, char *buf, size_t n);
/* Usage error for verb: prints the message and the verb's usage line. */
int pkg_usage(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
