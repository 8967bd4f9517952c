/* SPDX-License-Identifier: MIT */
/* cmd_query.c - pkg list, info, files, attrs: read-only views of the
 * database (or of a package file for info/files). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "json.h"

/* pkg list --json: one array of the installed packages, one line. A
 * missing summary is "", a missing optional key null. */
static int list_json(const struct pkg_db *db)
{
	struct buf b;
	struct jw w;
	int r;

	buf_init(&b);
	jw_init(&w, &b);
	jw_arr_begin(&w);
	for (size_t i = 0; i < db->n_pkgs; i++) {
		const struct pkg_meta *m = &db->pkgs[i];

		jw_obj_begin(&w);
		jw_kstr(&w, "name", m->name);
		jw_kstr(&w, "version", m->version);
		jw_kstr(&w, "release", m->release);
		jw_kstr(&w, "arch", m->arch);
		jw_kstr(&w, "summary", m->summary ? m->summary : "");
		jw_kstr(&w, "previous", m->previous);
		jw_kstr(&w, "app", m->app);
		jw_kstr(&w, "platform_min", m->platform_min);
		jw_kstr(&w, "platform_max", m->platform_max);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	buf_puts(&b, "\n");
	r = buf_failed(&b);
	if (r == 0 && fwrite(b.p, 1, b.len, stdout) != b.len)
		r = -EIO;
	buf_free(&b);
	return r;
}

int cmd_list(int argc, char **argv, const struct pkg_opts *o)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	struct pkg_db db;
	bool json = false;
	int c, r;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c != 'j')
			return pkg_usage("list", "unknown option %s", argv[optind - 1]);
		json = true;
	}
	if (optind != argc)
		return pkg_usage("list", "no arguments expected");
	r = pkg_open_db("list", o, false, true, &db);
	if (r != EXIT_OK)
		return r;
	for (size_t i = 0; i < db.n_pkgs && !json; i++) {
		const struct pkg_meta *m = &db.pkgs[i];

		printf("%s %s-%s", m->name, m->version, m->release);
		if (m->app)
			printf(" app %s platform %s %s", m->app, m->platform_min ? m->platform_min : "-",
			       m->platform_max ? m->platform_max : "-");
		putchar('\n');
	}
	r = json ? list_json(&db) : 0;
	pkg_db_close(&db);
	if (r < 0)
		return die_err("list", NULL, r, NULL);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_SYSTEM;
}

/* NAME from the database, or a package file (a path with a '/' or an
 * existing file ending in .pkg). *file tells which one it was. */
static int load_target(const char *verb, const struct pkg_opts *o, const char *arg,
		       struct pkg_meta *m, bool *file)
{
	struct space_err err = { "" };
	struct pkg_db db;
	size_t n = strlen(arg);
	int r;

	*file = strchr(arg, '/') || (n > 4 && strcmp(arg + n - 4, ".pkg") == 0 && access(arg, F_OK) == 0);
	if (*file) {
		r = pkg_read_meta(arg, m, &err);
		return r < 0 ? die_err(verb, arg, r, err.msg) : EXIT_OK;
	}
	r = pkg_open_db(verb, o, false, true, &db);
	if (r != EXIT_OK)
		return r;
	{
		struct pkg_meta *found = pkg_db_find(&db, arg);
		if (!found) {
			pkg_db_close(&db);
			die_err(verb, arg, -ENOENT, "not installed");
			return EXIT_NEGATIVE;
		}
		/* Move it out of the handle before closing. */
		*m = *found;
		memset(found, 0, sizeof(*found));
		found->name = strdup(m->name); /* keeps the array sorted/valid */
	}
	pkg_db_close(&db);
	return EXIT_OK;
}

int cmd_info(int argc, char **argv, const struct pkg_opts *o)
{
	struct pkg_meta m = { 0 };
	uint64_t total = 0;
	size_t nconf = 0;
	bool file;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return pkg_usage("info", "expected one NAME or FILE.pkg");
	rc = load_target("info", o, argv[1], &m, &file);
	if (rc != EXIT_OK)
		return rc;
	for (size_t i = 0; i < m.n_entries; i++) {
		total += m.entries[i].size;
		nconf += m.entries[i].config;
	}
	printf("Name: %s\nVersion: %s\nRelease: %s\nArch: %s\nSummary: %s\n", m.name, m.version,
	       m.release, m.arch, m.summary ? m.summary : "");
	printf("Depends:");
	for (size_t i = 0; i < m.n_depends; i++)
		printf(" %s", m.depends[i]);
	printf("\nBase-files: %s\nEntries: %zu\nConfig-files: %zu\nInstalled-size: %" PRIu64 "\n",
	       m.base_files ? "yes" : "no", m.n_entries, nconf, total);
	if (m.previous)
		printf("Previous: %s\n", m.previous);
	if (m.app)
		printf("App: %s\nPlatform: %s %s\n", m.app, m.platform_min ? m.platform_min : "-",
		       m.platform_max ? m.platform_max : "-");
	if (!file)
		printf("Status: installed\n");
	pkg_meta_free(&m);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_SYSTEM;
}

int cmd_files(int argc, char **argv, const struct pkg_opts *o)
{
	struct pkg_meta m = { 0 };
	bool file;
	int rc;

	if (argc != 2 || argv[1][0] == '-')
		return pkg_usage("files", "expected one NAME or FILE.pkg");
	rc = load_target("files", o, argv[1], &m, &file);
	if (rc != EXIT_OK)
		return rc;
	for (size_t i = 0; i < m.n_entries; i++)
		printf("%s\n", m.entries[i].path);
	pkg_meta_free(&m);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_SYSTEM;
}

struct attr_row {
	const struct pkg_entry *e;
	const char *pkg;
};

static int cmp_row(const void *a, const void *b)
{
	const struct attr_row *x = a, *y = b;
	int c = strcmp(x->e->path, y->e->path);

	/* For a path listed by several packages, the one that is not a
	 * directory first (bin -> usr/bin from base-files beats the "bin"
	 * directory of a package installed through it), then by name. */
	if (!c)
		c = (x->e->type == PKG_DIR) - (y->e->type == PKG_DIR);
	return c ? c : strcmp(x->pkg, y->pkg);
}

int cmd_attrs(int argc, char **argv, const struct pkg_opts *o)
{
	struct attr_row *rows;
	struct pkg_db db;
	size_t n = 0, k = 0;
	int r;

	if (argc != 1)
		return pkg_usage("attrs", "no arguments expected");
	r = pkg_open_db("attrs", o, false, true, &db);
	if (r != EXIT_OK)
		return r;
	for (size_t i = 0; i < db.n_pkgs; i++)
		n += db.pkgs[i].n_entries;
	rows = calloc(n + 1, sizeof(*rows));
	if (!rows) {
		pkg_db_close(&db);
		return die_err("attrs", o->root, -ENOMEM, NULL);
	}
	for (size_t i = 0; i < db.n_pkgs; i++)
		for (size_t j = 0; j < db.pkgs[i].n_entries; j++)
			rows[k++] = (struct attr_row){ &db.pkgs[i].entries[j], db.pkgs[i].name };
	qsort(rows, n, sizeof(*rows), cmp_row);
	for (size_t i = 0; i < n; i++) {
		const struct pkg_entry *e = rows[i].e;

		/* A path listed by several packages appears once. */
		if (i > 0 && strcmp(rows[i - 1].e->path, e->path) == 0)
			continue;
		printf("%c %04o %u %u %u %u %s\n", e->type, (unsigned)e->mode, (unsigned)e->uid,
		       (unsigned)e->gid, e->major, e->minor, e->path);
	}
	free(rows);
	/* The image is built from this list: without the skipped records'
	 * entries it is incomplete, which must fail the build. */
	r = db.n_bad ? EXIT_SYSTEM : EXIT_OK;
	pkg_db_close(&db);
	return fflush(stdout) == 0 ? r : EXIT_SYSTEM;
}
