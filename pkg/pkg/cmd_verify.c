/* SPDX-License-Identifier: MIT */
/* cmd_verify.c - pkg verify: installed entries against the database. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void print_diff(const char *pkg, const char *path, const char *what, bool config, void *ctx)
{
	(void)config;
	(void)ctx;
	printf("%s: %s: %s\n", pkg, path, what);
}

int cmd_verify(int argc, char **argv, const struct pkg_opts *o)
{
	static const struct option lo[] = { { "no-owner", no_argument, NULL, 'O' },
					    { NULL, 0, NULL, 0 } };
	struct pkg_err err = { "" };
	struct pkg_db db;
	int c, r, flags = 0, rc = EXIT_OK, bad = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'O')
			return pkg_usage("verify", "unknown option %s", argv[optind - 1]);
		flags |= PKG_VERIFY_NO_OWNER;
	}
	r = pkg_db_open(o->root, false, &db, &err);
	if (r < 0)
		return pkg_error("verify", o->root, r, err.msg);
	for (int i = optind; i < argc; i++) {
		if (!pkg_db_find(&db, argv[i])) {
			pkg_error("verify", argv[i], -ENOENT, "not installed");
			pkg_db_close(&db);
			return EXIT_NEGATIVE;
		}
	}
	for (size_t i = 0; i < db.n_pkgs; i++) {
		bool wanted = optind == argc;

		for (int k = optind; k < argc && !wanted; k++)
			wanted = strcmp(argv[k], db.pkgs[i].name) == 0;
		if (!wanted)
			continue;
		r = pkg_verify(&db, &db.pkgs[i], flags, print_diff, NULL);
		if (r < 0) {
			rc = pkg_error("verify", db.pkgs[i].name, r, NULL);
			goto out;
		}
		bad += r;
	}
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	else if (bad)
		rc = EXIT_NEGATIVE;
out:
	pkg_db_close(&db);
	return rc;
}
