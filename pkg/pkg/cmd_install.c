/* SPDX-License-Identifier: MIT */
/* cmd_install.c - pkg install and pkg remove. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#define MAX_ALLOW 16

int cmd_install(int argc, char **argv, const struct pkg_opts *o)
{
	static const struct option lo[] = {
		{ "no-chown", no_argument, NULL, 'C' },
		{ "allow-devices", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char *allow[MAX_ALLOW];
	struct pkg_install_opts io = { .allow_devices = allow };
	struct space_err err = { "" };
	struct pkg_db db;
	int c, r, rc = EXIT_OK;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == 'C') {
			io.flags |= PKG_NO_CHOWN;
		} else if (c == 'D' && pkg_token_ok(optarg) && io.n_allow_devices < MAX_ALLOW) {
			allow[io.n_allow_devices++] = optarg;
		} else if (c == 'D') {
			return pkg_usage("install", "--allow-devices: a package name, at most %d times",
					 MAX_ALLOW);
		} else {
			return pkg_usage("install", "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return pkg_usage("install", "expected FILE.pkg...");
	rc = pkg_open_db("install", o, true, true, &db);
	if (rc != EXIT_OK)
		return rc;
	for (int i = optind; i < argc; i++) {
		struct pkg_install_result res;

		err_clear(&err);
		r = pkg_install(&db, argv[i], &io, &res, &err);
		if (r < 0) {
			rc = die_err("install", argv[i], r, err.msg);
			pkg_db_discard_new(&db);
			break;
		}
		for (size_t k = 0; k < res.n_new_configs; k++)
			printf("pkg: install %s: %s: config file changed locally, kept; new version beside it\n",
			       argv[i], res.new_configs[k]);
	}
	pkg_db_close(&db);
	return rc;
}

int cmd_remove(int argc, char **argv, const struct pkg_opts *o)
{
	struct space_err err = { "" };
	struct pkg_db db;
	int r, rc = EXIT_OK;

	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return pkg_usage("remove", "unknown option %s", argv[i]);
	if (argc < 2)
		return pkg_usage("remove", "expected NAME...");
	rc = pkg_open_db("remove", o, false, true, &db);
	if (rc != EXIT_OK)
		return rc;
	for (int i = 1; i < argc; i++) {
		err_clear(&err);
		r = pkg_remove(&db, argv[i], &err);
		if (r == 1)
			printf("pkg: remove %s: the record was unreadable: removed it; the package's "
			       "files, unknown, stay\n",
			       argv[i]);
		if (r == -ENOENT && !pkg_db_find(&db, argv[i])) {
			rc = die_msg(EXIT_NEGATIVE, "remove", argv[i], "not installed");
			break;
		}
		if (r < 0) {
			rc = die_err("remove", argv[i], r, err.msg);
			break;
		}
	}
	pkg_db_close(&db);
	return rc;
}
