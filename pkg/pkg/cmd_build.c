/* SPDX-License-Identifier: MIT */
/* cmd_build.c - pkg build: package a staging tree. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/release/release.h"
#include "cmd.h"

#define MAX_LIST 1024

static bool release_version_ok(const char *s)
{
	struct rel_version v;

	return rel_version_parse(s, &v) == 0;
}

/* --app NAME [--platform 'MIN MAX|-']: the versions are compared in the
 * release order (image/release/release.h), so they must follow its
 * grammar; refused here rather than disabled on the node. platform is
 * split in place. */
static int app_opts(struct pkg_build_opts *o, char *platform)
{
	char *sp = strchr(platform, ' ');

	if (!o->app)
		return *platform ? pkg_usage("build", "--platform needs --app") : EXIT_OK;
	if (!pkg_token_ok(o->app) || strlen(o->app) > PKG_APP_NAME_MAX)
		return pkg_usage("build", "--app %s: not a name of at most %d characters "
					  "[A-Za-z0-9][A-Za-z0-9+.~_-]*",
				 o->app, PKG_APP_NAME_MAX);
	if (!release_version_ok(o->version))
		return pkg_usage("build", "--version %s: an application's version must be a release "
					  "version (MAJOR.MINOR[Rn[.n]...], e.g. 2.4 or 2.4R1)",
				 o->version);
	if (!*platform)
		return EXIT_OK;
	if (!sp || strchr(sp + 1, ' '))
		return pkg_usage("build", "--platform '%s': expected 'MIN MAX' or 'MIN -'", platform);
	*sp = '\0';
	if (!release_version_ok(platform) || (strcmp(sp + 1, "-") && !release_version_ok(sp + 1)))
		return pkg_usage("build", "--platform '%s %s': not release versions (e.g. '21.1 21.3R2' "
					  "or '21.1 -')",
				 platform, sp + 1);
	o->platform_min = platform;
	o->platform_max = sp + 1;
	return EXIT_OK;
}

/* The options of one build; the depends lists are split into deplist
 * copies that depends[] points into. */
struct build_args {
	struct pkg_build_opts o;
	const char *depends[MAX_LIST], *config[MAX_LIST];
	char *deplist[MAX_LIST];
	size_t n_deplist;
	char platform[2 * PKG_PLATFORM_MAX + 2];
};

/* --depends a,b (or "a b"): each name into depends[]. */
static int add_depends(struct build_args *ba, const char *arg)
{
	char *copy = strdup(arg), *save = NULL;

	if (!copy || ba->n_deplist == MAX_LIST) {
		free(copy);
		return pkg_usage("build", "too many --depends");
	}
	ba->deplist[ba->n_deplist++] = copy;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (ba->o.n_depends == MAX_LIST)
			return pkg_usage("build", "too many --depends");
		ba->depends[ba->o.n_depends++] = t;
	}
	return EXIT_OK;
}

static int parse_opts(int argc, char **argv, struct build_args *ba)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "version", required_argument, NULL, 'v' },
		{ "release", required_argument, NULL, 'r' },
		{ "arch", required_argument, NULL, 'a' },
		{ "summary", required_argument, NULL, 's' },
		{ "depends", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "attrs", required_argument, NULL, 't' },
		{ "base-files", no_argument, NULL, 'B' },
		{ "app", required_argument, NULL, 'A' },
		{ "platform", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct pkg_build_opts *o = &ba->o;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o->name = optarg; break;
		case 'v': o->version = optarg; break;
		case 'r': o->release = optarg; break;
		case 'a': o->arch = optarg; break;
		case 's': o->summary = optarg; break;
		case 't': o->attrs_file = optarg; break;
		case 'B': o->base_files = true; break;
		case 'A': o->app = optarg; break;
		case 'P': snprintf(ba->platform, sizeof(ba->platform), "%s", optarg); break;
		case 'c':
			if (o->n_config == MAX_LIST)
				return pkg_usage("build", "too many --config");
			ba->config[o->n_config++] = optarg;
			break;
		case 'd':
			if ((rc = add_depends(ba, optarg)) != EXIT_OK)
				return rc;
			break;
		default:
			return pkg_usage("build", "unknown option %s", argv[optind - 1]);
		}
	}
	return EXIT_OK;
}

/* What the options must say together, and SOURCE_DATE_EPOCH. */
static int check_args(int argc, struct build_args *ba)
{
	struct pkg_build_opts *o = &ba->o;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	int rc;

	if (argc - optind != 2)
		return pkg_usage("build", "expected STAGING and OUT.pkg");
	if (!o->name || !o->version)
		return pkg_usage("build", "--name and --version are required");
	if (!pkg_token_ok(o->name) || !pkg_version_ok(o->version) ||
	    (o->release && !pkg_token_ok(o->release)) || (o->arch && !pkg_token_ok(o->arch)))
		return pkg_usage("build", "name, version, release and arch must match "
					  "[A-Za-z0-9][A-Za-z0-9+.~_-]* (version: also ':')");
	if ((rc = app_opts(o, ba->platform)) != EXIT_OK)
		return rc;
	if (sde && *sde) {
		char *end;
		errno = 0;
		o->mtime = strtoll(sde, &end, 10);
		if (errno || *end || o->mtime < 0)
			return pkg_usage("build", "SOURCE_DATE_EPOCH is not a number of seconds");
	}
	return EXIT_OK;
}

int cmd_build(int argc, char **argv, const struct pkg_opts *po)
{
	struct build_args ba = { .n_deplist = 0 };
	struct space_err err = { "" };
	int r, rc;

	(void)po;
	ba.o.depends = ba.depends;
	ba.o.config = ba.config;
	if ((rc = parse_opts(argc, argv, &ba)) == EXIT_OK && (rc = check_args(argc, &ba)) == EXIT_OK) {
		r = pkg_build(&ba.o, argv[optind], argv[optind + 1], &err);
		rc = r < 0 ? die_err("build", argv[optind + 1], r, err.msg) : EXIT_OK;
	}
	for (size_t i = 0; i < ba.n_deplist; i++)
		free(ba.deplist[i]);
	return rc;
}
