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
				 "[A-Za-z0-9][A-Za-z0-9+.~_-]*", o->app, PKG_APP_NAME_MAX);
	if (!release_version_ok(o->version))
		return pkg_usage("build", "--version %s: an application's version must be a release "
				 "version (MAJOR.MINOR[Rn[.n]...], e.g. 2.4 or 2.4R1)", o->version);
	if (!*platform)
		return EXIT_OK;
	if (!sp || strchr(sp + 1, ' '))
		return pkg_usage("build", "--platform '%s': expected 'MIN MAX' or 'MIN -'", platform);
	*sp = '\0';
	if (!release_version_ok(platform) || (strcmp(sp + 1, "-") && !release_version_ok(sp + 1)))
		return pkg_usage("build", "--platform '%s %s': not release versions (e.g. '21.1 21.3R2' "
				 "or '21.1 -')", platform, sp + 1);
	o->platform_min = platform;
	o->platform_max = sp + 1;
	return EXIT_OK;
}

int cmd_build(int argc, char **argv, const struct pkg_opts *po)
{
	static const struct option lo[] = {
		{ "name", required_argument, NULL, 'n' },    { "version", required_argument, NULL, 'v' },
		{ "release", required_argument, NULL, 'r' }, { "arch", required_argument, NULL, 'a' },
		{ "summary", required_argument, NULL, 's' }, { "depends", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },  { "attrs", required_argument, NULL, 't' },
		{ "base-files", no_argument, NULL, 'B' },    { "app", required_argument, NULL, 'A' },
		{ "platform", required_argument, NULL, 'P' }, { NULL, 0, NULL, 0 },
	};
	const char *depends[MAX_LIST], *config[MAX_LIST];
	struct pkg_build_opts o = { .depends = depends, .config = config };
	char *deplist[MAX_LIST];
	size_t n_deplist = 0;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char platform[2 * PKG_PLATFORM_MAX + 2] = "";
	struct space_err err = { "" };
	int c, r, rc = EXIT_USAGE;

	(void)po;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n': o.name = optarg; break;
		case 'v': o.version = optarg; break;
		case 'r': o.release = optarg; break;
		case 'a': o.arch = optarg; break;
		case 's': o.summary = optarg; break;
		case 't': o.attrs_file = optarg; break;
		case 'B': o.base_files = true; break;
		case 'A': o.app = optarg; break;
		case 'P': snprintf(platform, sizeof(platform), "%s", optarg); break;
		case 'c':
			if (o.n_config == MAX_LIST) {
				rc = pkg_usage("build", "too many --config");
				goto out;
			}
			config[o.n_config++] = optarg;
			break;
		case 'd': {
			char *copy = strdup(optarg), *save = NULL;

			if (!copy || n_deplist == MAX_LIST) {
				free(copy);
				rc = pkg_usage("build", "too many --depends");
				goto out;
			}
			deplist[n_deplist++] = copy;
			for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
				if (o.n_depends == MAX_LIST) {
					rc = pkg_usage("build", "too many --depends");
					goto out;
				}
				depends[o.n_depends++] = t;
			}
			break;
		}
		default:
			rc = pkg_usage("build", "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (argc - optind != 2) {
		rc = pkg_usage("build", "expected STAGING and OUT.pkg");
		goto out;
	}
	if (!o.name || !o.version) {
		rc = pkg_usage("build", "--name and --version are required");
		goto out;
	}
	if (!pkg_token_ok(o.name) || !pkg_version_ok(o.version) ||
	    (o.release && !pkg_token_ok(o.release)) || (o.arch && !pkg_token_ok(o.arch))) {
		rc = pkg_usage("build", "name, version, release and arch must match "
					     "[A-Za-z0-9][A-Za-z0-9+.~_-]* (version: also ':')");
		goto out;
	}
	if ((rc = app_opts(&o, platform)) != EXIT_OK)
		goto out;
	rc = EXIT_USAGE;
	if (sde && *sde) {
		char *end;
		errno = 0;
		o.mtime = strtoll(sde, &end, 10);
		if (errno || *end || o.mtime < 0) {
			rc = pkg_usage("build", "SOURCE_DATE_EPOCH is not a number of seconds");
			goto out;
		}
	}
	r = pkg_build(&o, argv[optind], argv[optind + 1], &err);
	rc = r < 0 ? die_err("build", argv[optind + 1], r, err.msg) : EXIT_OK;
out:
	for (size_t i = 0; i < n_deplist; i++)
		free(deplist[i]);
	return rc;
}
