/* SPDX-License-Identifier: MIT */
/* main.c - pkg: build, install and inspect space packages. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static const struct command {
	const char *name, *usage, *summary;
	cmd_fn fn;
} commands[] = {
	{ "build", "build --name N --version V [--release R] [--arch A] [--summary S] "
		   "[--depends a,b] [--config PATH]... [--attrs FILE] [--base-files] "
		   "[--app NAME [--platform 'MIN MAX|-']] STAGING OUT.pkg",
	  "package a staging tree (owners 0:0 unless --attrs says otherwise)", cmd_build },
	{ "install", "install [--no-chown] [--allow-devices NAME]... FILE.pkg...",
	  "install or upgrade packages (--no-chown: no chown, no device nodes; "
	  "--allow-devices: package NAME may carry device nodes)",
	  cmd_install },
	{ "remove", "remove NAME...", "remove installed packages", cmd_remove },
	{ "list", "list [--json]", "installed packages: NAME VERSION-RELEASE", cmd_list },
	{ "info", "info NAME|FILE.pkg", "package metadata", cmd_info },
	{ "files", "files NAME|FILE.pkg", "paths of a package, one per line", cmd_files },
	{ "verify", "verify [--no-owner] [NAME...]",
	  "report installed entries that differ from the database", cmd_verify },
	{ "attrs", "attrs", "TYPE MODE UID GID MAJOR MINOR PATH of every installed entry", cmd_attrs },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void help(FILE *f)
{
	fprintf(f, "usage: pkg [--root DIR] VERB [OPTIONS] [ARGS]\n"
		   "Options may come before or after the verb. --root DIR (default /) is the\n"
		   "tree to install into; its database is DIR/" PKG_DB_DIR ".\n\nverbs:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n           pkg %s\n", commands[i].name, commands[i].summary,
			commands[i].usage);
	fprintf(f, "\nexit codes (the contract of every space tool: README.md, Exit codes):\n"
		   "  0    success\n"
		   "  1    negative answer (verify found differences, package not installed)\n"
		   "       or refused: bad package or input (nothing was changed)\n"
		   "  100  usage error\n"
		   "  111  I/O or system error\n"
		   "Format and transaction guarantees: pkg/FORMAT.md\n");
}

const char *pkg_record_path(const struct pkg_opts *o, const char *name, char *buf, size_t n)
{
	size_t len = strlen(o->root);
	const char *sep = len && o->root[len - 1] == '/' ? "" : "/";

	snprintf(buf, n, "%s%s" PKG_DB_DIR "/installed/%s", o->root, sep, name);
	return buf;
}

int pkg_open_db(const char *verb, const struct pkg_opts *o, bool create, bool warn,
		struct pkg_db *db)
{
	struct space_err err = { "" };
	char path[PATH_MAX];
	int r = pkg_db_open(o->root, create, db, &err);

	if (r < 0)
		return die_err(verb, o->root, r, err.msg);
	for (size_t i = 0; warn && i < db->n_bad && i < PKG_DB_BAD_MAX; i++)
		fprintf(stderr, "pkg: %s %s: unreadable record skipped: %s\n", verb,
			pkg_record_path(o, db->bad[i].name, path, sizeof(path)), db->bad[i].why);
	if (warn && db->n_bad > PKG_DB_BAD_MAX)
		fprintf(stderr, "pkg: %s %s: %zu more unreadable records skipped\n", verb,
			pkg_record_path(o, "", path, sizeof(path)), db->n_bad - PKG_DB_BAD_MAX);
	return EXIT_OK;
}

int pkg_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: %s: ", space_prog, verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, verb) == 0)
			fprintf(stderr, "usage: pkg %s\n", commands[i].usage);
	return EXIT_USAGE;
}

/* Options of every verb that take a value: needed to find the verb when
 * options come before it. */
static const char *const value_opts[] = { "--root", "--name", "--version", "--release",
					  "--arch", "--summary", "--depends", "--config",
					  "--attrs", "--allow-devices", NULL };

static bool takes_value(const char *arg)
{
	for (size_t i = 0; value_opts[i]; i++)
		if (strcmp(arg, value_opts[i]) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct pkg_opts o = { .root = "/" };
	const struct command *cmd = NULL;
	char **args;
	int nargs = 1, verb = -1;

	space_prog = "pkg";
	/* Find the verb; take --root and --help out of the argument list. */
	args = calloc((size_t)argc + 1, sizeof(char *));
	if (!args)
		return EXIT_SYSTEM;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			for (; i < argc; i++)
				args[nargs++] = argv[i];
			break;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			help(stdout);
			free(args);
			return EXIT_OK;
		}
		if (strcmp(a, "--root") == 0 || strncmp(a, "--root=", 7) == 0) {
			if (a[6] == '=') {
				o.root = a + 7;
			} else if (i + 1 < argc) {
				o.root = argv[++i];
			} else {
				o.root = ""; /* reported once the verb is known */
			}
			continue;
		}
		if (a[0] == '-' && a[1]) {
			args[nargs++] = argv[i];
			if (takes_value(a) && i + 1 < argc)
				args[nargs++] = argv[++i];
			continue;
		}
		if (verb < 0) {
			verb = i;
			continue;
		}
		args[nargs++] = argv[i];
	}
	if (verb < 0) {
		help(stderr);
		free(args);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, argv[verb]) == 0)
			cmd = &commands[i];
	if (!cmd) {
		die_msg(EXIT_USAGE, argv[verb], NULL, "unknown verb (pkg --help lists them)");
		free(args);
		return EXIT_USAGE;
	}
	if (!*o.root) {
		/* one line, "pkg: verb object: reason" like every other error */
		die_msg(EXIT_USAGE, cmd->name, "--root", "no directory given");
		free(args);
		return EXIT_USAGE;
	}
	args[0] = argv[verb];
	{
		int r = cmd->fn(nargs, args, &o);
		free(args);
		return r;
	}
}
