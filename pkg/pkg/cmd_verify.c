/* SPDX-License-Identifier: MIT */
/* cmd_verify.c - pkg verify: installed entries against the database. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void print_diff(const char *pkg, const char *path, const char *what, bool config, void *ctx)
{
	(void)config;
	(void)ctx;
	printf("%s: %s: %s\n", pkg, path, what);
}

/* An unreadable record is a finding: that package cannot be verified.
 * With names given, only theirs are reported. */
static int report_bad(const struct pkg_db *db, const struct pkg_opts *o, int n, char **names)
{
	char path[PATH_MAX];
	int count = 0;

	for (size_t i = 0; i < db->n_bad && i < PKG_DB_BAD_MAX; i++) {
		bool wanted = n == 0;

		for (int k = 0; k < n && !wanted; k++)
			wanted = strcmp(names[k], db->bad[i].name) == 0;
		if (!wanted)
			continue;
		printf("%s: %s: unreadable record: %s\n", db->bad[i].name,
		       pkg_record_path(o, db->bad[i].name, path, sizeof(path)), db->bad[i].why);
		count++;
	}
	if (n == 0 && db->n_bad > PKG_DB_BAD_MAX) {
		printf("(database): %s: %zu more unreadable records\n",
		       pkg_record_path(o, "", path, sizeof(path)), db->n_bad - PKG_DB_BAD_MAX);
		count++;
	}
	return count;
}

int cmd_verify(int argc, char **argv, const struct pkg_opts *o)
{
	static const struct option lo[] = { { "no-owner", no_argument, NULL, 'O' },
					    { NULL, 0, NULL, 0 } };
	struct pkg_db db;
	int c, r, flags = 0, rc = EXIT_OK, bad = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'O')
			return pkg_usage("verify", "unknown option %s", argv[optind - 1]);
		flags |= PKG_VERIFY_NO_OWNER;
	}
	rc = pkg_open_db("verify", o, false, false, &db);
	if (rc != EXIT_OK)
		return rc;
	for (int i = optind; i < argc; i++) {
		if (!pkg_db_find(&db, argv[i]) && !pkg_db_find_bad(&db, argv[i])) {
			die_err("verify", argv[i], -ENOENT, "not installed");
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
			rc = die_err("verify", db.pkgs[i].name, r, NULL);
			goto out;
		}
		bad += r;
	}
	bad += report_bad(&db, o, argc - optind, argv + optind);
	if (fflush(stdout) != 0)
		rc = EXIT_SYSTEM;
	else if (bad)
		rc = EXIT_NEGATIVE;
out:
	pkg_db_close(&db);
	return rc;
}
