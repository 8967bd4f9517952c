/* SPDX-License-Identifier: MIT */
/* spacectl.h - shared state of the admin CLI's subcommands. */
#ifndef SPACECTL_H
#define SPACECTL_H

#include <stddef.h>

#include "exitcode.h"

/* The exit-code contract is pkg/lib/exitcode.h (README "Exit codes");
 * spacectl's short names for it. */
enum {
	EX_OK = EXIT_OK,
	EX_NEGATIVE = EXIT_NEGATIVE, /* a negative answer: refused, not running, ... */
	EX_TIMEOUT = EXIT_TIMEOUT,
	EX_USAGE = EXIT_USAGE,
	EX_SYSTEM = EXIT_SYSTEM,
};

struct opts {
	const char *root; /* "" or a prefix for every appliance path */
	const char *wd_sock, *dg_sock;
	const char *to;   /* --to DIR */
	const char *file; /* upgrade FILE */
	int json, force, reboot, no_reboot;
	int fabric_member; /* upgrade FILE: this node's part of a fabric's upgrade */
	int follow;        /* upgrade status: a fabric upgrade's progress */
};

/* root + path (malloc'd). */
char *rpath(const struct opts *o, const char *path);
/* Print "spacectl: what: reason" and return the exit code for err. */
int fail(const char *what, int err);

/* Print a JSON document built in b, one line, and free b. */
struct buf;
void print_json(struct buf *b);

int cmd_backup(const struct opts *o);
int cmd_support_bundle(const struct opts *o);
int cmd_show_hotpatches(const struct opts *o);
/* `spacectl ... fabric VERB ...` (fabric.c): its own options and verbs,
 * from spacectl's whole argv. */
int cmd_fabric(int argc, char **argv);

#endif
