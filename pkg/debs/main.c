/* SPDX-License-Identifier: MIT */
/* debs - fetch and verify the pinned Debian packages of pkg/debs.lock.
 *
 *   debs fetch --lock FILE --cache DIR         download missing pins, verify all
 *   debs path  --lock FILE --cache DIR NAME    verify one pin, print its path
 *   debs list  --lock FILE                     print "NAME VERSION" per pin
 *
 * Exit codes (pkg/lib/exitcode.h): 0 ok, 1 a digest mismatch, a missing
 * package or a malformed lock, 100 usage, 111 I/O or download failure.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"
#include "lock.h"
#include "util.h"

static const char *lock_path, *cache_dir;

static void log_stderr(const char *msg)
{
	fprintf(stderr, "%s: %s\n", space_prog, msg);
}

static int load_lock(struct deb_lock *lock)
{
	char *text = NULL;
	int line = 0, r;

	r = read_file(lock_path, 1 << 20, &text, NULL);
	if (r < 0)
		return die_err("read", lock_path, r, NULL);
	r = lock_parse(text, lock, &line);
	free(text);
	if (r < 0) {
		char why[160];

		snprintf(why, sizeof(why), "line %d: %s", line, space_strerror(r));
		return die_err("parse", lock_path, r, why);
	}
	return 0;
}

/* Verify the cached file of one pin. Returns 0, -ENOENT, -SPACE_E_DIGEST. */
static int check_pin(const struct deb_pin *pin, char **pathp)
{
	char *name = lock_deb_filename(pin), *path;
	char hex[65];
	int r;

	path = name ? xasprintf("%s/%s", cache_dir, name) : NULL;
	free(name);
	if (!path)
		return -ENOMEM;
	r = sha256_file_hex(path, hex);
	if (r == 0 && strcmp(hex, pin->sha256) != 0)
		r = -SPACE_E_DIGEST;
	if (r == 0 && pathp)
		*pathp = path;
	else
		free(path);
	return r;
}

/* apt-get download writes into the current directory, so run it in a
 * private partial directory and move the verified file into the cache. */
static int download_pin(const struct deb_pin *pin)
{
	char *spec = xasprintf("%s=%s", pin->name, pin->version);
	char *partial = xasprintf("%s/.partial", cache_dir);
	char *name = lock_deb_filename(pin);
	char *src = NULL, *dst = NULL, cwd[4096], hex[65];
	int r;

	if (!spec || !partial || !name || !getcwd(cwd, sizeof(cwd))) {
		r = -ENOMEM;
		goto out;
	}
	r = mkdir_p(partial, 0755);
	if (r < 0)
		goto out;
	if (chdir(partial) < 0) {
		r = -errno;
		goto out;
	}
	const char *const argv[] = { "apt-get", "download", "-q", spec, NULL };
	r = run_argv(argv);
	if (chdir(cwd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		goto out;
	src = xasprintf("%s/%s", partial, name);
	dst = xasprintf("%s/%s", cache_dir, name);
	if (!src || !dst) {
		r = -ENOMEM;
		goto out;
	}
	r = sha256_file_hex(src, hex);
	if (r == 0 && strcmp(hex, pin->sha256) != 0) {
		unlink(src);
		r = -SPACE_E_DIGEST;
	}
	if (r == 0 && rename(src, dst) < 0)
		r = -errno;
	if (r == 0)
		r = fsync_parent(dst);
out:
	free(spec);
	free(partial);
	free(name);
	free(src);
	free(dst);
	return r;
}

/* "debs VERB NAME VERSION: reason" (reason NULL: err's); returns code,
 * or die_code(err) when code is -1. */
static int fail_pin(const char *verb, const struct deb_pin *pin, int code, int err,
		    const char *reason)
{
	char obj[256];

	snprintf(obj, sizeof(obj), "%s %s", pin->name, pin->version);
	return die_msg(code < 0 ? die_code(err) : code, verb, obj,
		       reason ? reason : space_strerror(err));
}

static int cmd_fetch(int argc, char **argv)
{
	struct deb_lock lock;
	int rc = load_lock(&lock), r;

	if (rc)
		return rc;
	r = mkdir_p(cache_dir, 0755);
	if (r < 0) {
		rc = die_err("fetch", cache_dir, r, NULL);
		goto out;
	}
	for (size_t i = 0; i < lock.n && !rc; i++) {
		const struct deb_pin *pin = &lock.pins[i];

		r = check_pin(pin, NULL);
		if (r == -ENOENT) {
			space_log("fetch %s %s", pin->name, pin->version);
			r = download_pin(pin);
		}
		if (r < 0)
			rc = fail_pin("fetch", pin, -1, r,
				      r == -SPACE_E_DIGEST ? "sha256 does not match the lock (remove "
							     "the cached file to fetch it again)" :
							     NULL);
	}
out:
	lock_free(&lock);
	return rc;
}

static int cmd_path(int argc, char **argv)
{
	struct deb_lock lock;
	const struct deb_pin *pin;
	char *path = NULL;
	int rc, r;

	if (argc != 1)
		return die_msg(EXIT_USAGE, "path", NULL, "exactly one package name expected");
	rc = load_lock(&lock);
	if (rc)
		return rc;
	pin = lock_find(&lock, argv[0]);
	if (!pin) {
		char why[PATH_MAX + 16];

		snprintf(why, sizeof(why), "not in %s", lock_path);
		rc = die_msg(EXIT_NEGATIVE, "path", argv[0], why);
		goto out;
	}
	r = check_pin(pin, &path);
	if (r == -ENOENT) {
		/* a pin not fetched yet is the answer "not there" (1), not an I/O error */
		rc = fail_pin("path", pin, EXIT_NEGATIVE, r, "not fetched (run make fetch)");
		goto out;
	}
	if (r < 0) {
		rc = fail_pin("path", pin, -1, r, r == -SPACE_E_DIGEST ? "sha256 does not match the lock" : NULL);
		goto out;
	}
	printf("%s\n", path);
	free(path);
out:
	lock_free(&lock);
	return rc;
}

static int cmd_list(int argc, char **argv)
{
	struct deb_lock lock;
	int rc = load_lock(&lock);

	if (rc)
		return rc;
	for (size_t i = 0; i < lock.n; i++)
		printf("%s %s\n", lock.pins[i].name, lock.pins[i].version);
	lock_free(&lock);
	return 0;
}

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	int needs_cache;
} commands[] = {
	{ "fetch", cmd_fetch, 1 },
	{ "path", cmd_path, 1 },
	{ "list", cmd_list, 0 },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: debs fetch --lock FILE --cache DIR\n"
		   "       debs path  --lock FILE --cache DIR NAME\n"
		   "       debs list  --lock FILE\n"
		   "Fetches the pinned Debian packages with apt-get download and checks\n"
		   "each one's sha256 against the lock before it is used.\n"
		   "Exit: 0 ok, 1 digest mismatch, unknown/missing package or bad lock, 100 usage,\n"
		   "111 I/O (the contract of every space tool: README.md, Exit codes).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lock", required_argument, NULL, 'l' },
		{ "cache", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd = NULL;
	int c;

	space_prog = "debs";
	space_log_fn = log_stderr;
	while ((c = getopt_long(argc, argv, "+l:c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'l': lock_path = optarg; break;
		case 'c': cache_dir = optarg; break;
		case 'v': break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			cmd = &commands[i];
	if (!cmd)
		return die_msg(EXIT_USAGE, argv[optind], NULL, "unknown command");
	optind++;
	/* options may also follow the verb */
	while ((c = getopt_long(argc, argv, "+l:c:v", opts, NULL)) != -1) {
		switch (c) {
		case 'l': lock_path = optarg; break;
		case 'c': cache_dir = optarg; break;
		case 'v': break;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!lock_path || (cmd->needs_cache && !cache_dir)) {
		return die_msg(EXIT_USAGE, cmd->name, NULL,
			       cmd->needs_cache ? "--lock and --cache are required" : "--lock is required");
	}
	return cmd->run(argc - optind, argv + optind);
}
