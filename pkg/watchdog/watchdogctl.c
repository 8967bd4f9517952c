/* SPDX-License-Identifier: MIT */
/* watchdogctl - talk to the watchdog's control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/libmgmt/apps.h"
#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "json.h"
#include "kv.h"
#include "pkg/libmgmt/records.h"
#include "exitcode.h"
#include "util.h"

#define USAGE                                                                           \
	"usage: watchdogctl [-s SOCKET] [-t SECONDS] [--json] COMMAND\n"                \
	"  status [NAME]    pid, state, uptime, restarts, last exit of each service\n"  \
	"  start NAME       start and wait until it is ready\n"                         \
	"  stop NAME        stop (SIGTERM, then SIGKILL) and wait until it has ended\n" \
	"  restart NAME     stop, then start\n"                                         \
	"  shutdown [--hold] stop every service in reverse start order, then the\n"     \
	"                   watchdog exits; --hold keeps services down across init's\n" \
	"                   respawn of the watchdog until `release` (hot patches)\n"    \
	"  release          remove the hold and start services in order\n"              \
	"  apps             installed applications: enabled, or disabled and why\n"     \
	"                   (as decided when the watchdog started)\n"                   \
	"  -s  control socket (env WATCHDOG_SOCKET, default /run/watchdog.sock)\n"      \
	"  -t  reply timeout (default 60)\n"                                            \
	"Exit: 0 done; 1 refused (no such service, did not start, `status NAME` of a\n" \
	"service that is not running); 99 timeout; 100 usage; 111 cannot reach the\n"   \
	"watchdog (the contract of every space tool: README.md, Exit codes).\n"

static const char *const cmds[] = { "status", "start", "stop", "restart", "shutdown", "release", "apps" };

struct rec {
	char *k[16], *v[16];
	int n;
};

static void rec_free(struct rec *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->k[i]), free(r->v[i]);
	r->n = 0;
}

static const char *rec_get(const struct rec *r, const char *key)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->k[i], key))
			return r->v[i];
	return "";
}

static int rec_parse(const char *line, struct rec *r)
{
	size_t pos = 0;
	char *k, *v;
	int x;

	r->n = 0;
	while ((x = kv_field_next(line, &pos, &k, &v)) == 1) {
		if (r->n == 16) {
			free(k), free(v);
			continue;
		}
		r->k[r->n] = k, r->v[r->n] = v, r->n++;
	}
	return x;
}

static void print_reply(const char *reply, int json)
{
	const char *line = strchr(reply, '\n');
	struct buf b;
	struct jw w;
	int first = 1;

	buf_init(&b);
	jw_init(&w, &b);
	if (json) {
		records_to_json(reply, &w);
		printf("%s\n", b.p ? b.p : "[]");
		buf_free(&b);
		return;
	}
	while (line && *++line) {
		const char *nl = strchr(line, '\n');
		char *one = strndup(line, nl ? (size_t)(nl - line) : strlen(line));
		struct rec r;

		if (one && rec_parse(one, &r) == 0) {
			if (!json) {
				if (first)
					printf("%-16s %-9s %7s %9s %8s  %s\n", "NAME", "STATE", "PID",
					       "UPTIME", "RESTARTS", "LAST-EXIT");
				first = 0;
				printf("%-16s %-9s %7s %8ss %8s  %s\n", rec_get(&r, "name"),
				       rec_get(&r, "state"), rec_get(&r, "pid"), rec_get(&r, "uptime"),
				       rec_get(&r, "restarts"), rec_get(&r, "last_exit"));
			}
			rec_free(&r);
		}
		free(one);
		line = nl;
	}
	buf_free(&b);
}

/* `apps`: the text or JSON view of libmgmt/apps.h; 1 when any
 * application is disabled (the negative answer, as for `status NAME`). */
static int print_apps(const char *reply, int json)
{
	static struct apps_list l;
	struct buf b;
	struct jw w;
	int r = apps_from_reply(reply, &l), disabled = l.n_over > 0;

	if (r < 0) {
		fprintf(stderr, "watchdogctl: apps: %s\n", space_strerror(r));
		return EXIT_SYSTEM;
	}
	buf_init(&b);
	if (json) {
		jw_init(&w, &b);
		jw_obj_begin(&w);
		jw_kstr(&w, "running", l.running);
		apps_json(&w, &l);
		jw_obj_end(&w);
		buf_puts(&b, "\n");
	} else {
		apps_text(&b, &l);
	}
	if (buf_failed(&b) < 0) {
		buf_free(&b);
		fprintf(stderr, "watchdogctl: apps: %s\n", strerror(ENOMEM));
		return EXIT_SYSTEM;
	}
	fputs(b.p, stdout);
	buf_free(&b);
	for (unsigned i = 0; i < l.n; i++)
		disabled |= !l.app[i].enabled;
	return disabled;
}

/* The options of one run. */
struct ctl_args {
	const char *sock;
	long long timeout; /* seconds */
	int json, hold;
};

/* Options; -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, struct ctl_args *a)
{
	static const struct option lo[] = { { "json", no_argument, NULL, 'j' },
					    { "hold", no_argument, NULL, 'H' },
					    { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	int opt;

	while ((opt = getopt_long(argc, argv, "s:t:h", lo, NULL)) != -1) {
		switch (opt) {
		case 's': a->sock = optarg; break;
		case 't':
			if (kv_int(optarg, 1, 3600, 0, &a->timeout) < 0) {
				fprintf(stderr, "watchdogctl: option -t %s: not a number of seconds\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j': a->json = 1; break;
		case 'H': a->hold = 1; break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: fputs(USAGE, stderr); return EXIT_USAGE;
		}
	}
	return -1;
}

/* The verb and its operand (n words at w): a known verb, a NAME where one
 * is taken (status, or required), --hold with shutdown only. 0 or
 * EXIT_USAGE (said on stderr). */
static int check_words(char **w, int n, int hold)
{
	int known = 0, bare;

	if (n < 1) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		known |= !strcmp(w[0], cmds[i]);
	/* the verbs without a NAME; status takes one or none */
	bare = !strcmp(w[0], "shutdown") || !strcmp(w[0], "release") || !strcmp(w[0], "apps");
	if (!known || n > 2 || (hold && strcmp(w[0], "shutdown")) || (n == 2 && bare) ||
	    (n == 1 && strcmp(w[0], "status") && !bare)) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	if (n == 2 && (strchr(w[1], '\n') || strchr(w[1], ' '))) {
		fprintf(stderr, "watchdogctl: %s %s: invalid service name\n", w[0], w[1]);
		return EXIT_USAGE;
	}
	return 0;
}

/* The exit code of an answered request (rep: "ok ..."), its output
 * printed. */
static int answered(char **w, int n, const char *rep, int json)
{
	int rc = 0;

	if (!strcmp(w[0], "status") && !strncmp(rep, "ok held", 7) && !json)
		printf("watchdog: held (services stay down until `watchdogctl release`)\n");
	if (!strcmp(w[0], "apps"))
		rc = print_apps(rep, json);
	else if (!strcmp(w[0], "status") || json)
		print_reply(rep, json);
	/* `status NAME` answers the question "is it running?" */
	if (n == 2 && !strcmp(w[0], "status") && !strstr(rep, " state=running "))
		rc = EXIT_NEGATIVE;
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl_args a = { .sock = getenv("WATCHDOG_SOCKET"), .timeout = 60 };
	char *req, *rep = NULL, **w;
	int r, n, rc;

	if (!a.sock)
		a.sock = "/run/watchdog.sock";
	if ((r = parse_opts(argc, argv, &a)) >= 0)
		return r;
	w = argv + optind;
	n = argc - optind;
	if ((r = check_words(w, n, a.hold)) != 0)
		return r;
	if (a.hold)
		req = strdup("shutdown hold");
	else
		req = n == 2 ? xasprintf("%s %s", w[0], w[1]) : strdup(w[0]);
	if (!req)
		return EXIT_SYSTEM;
	r = ctl_request(a.sock, req, (int)a.timeout * 1000, &rep);
	if (r == 0) {
		rc = answered(w, n, rep, a.json);
	} else if (r == -SPACE_E_CHILD) {
		const char *nl = strchr(rep, '\n');
		fprintf(stderr, "watchdogctl: %s: %.*s\n", req, (int)(nl ? nl - rep - 6 : (long)strlen(rep) - 6),
			rep + 6);
		if (a.json)
			print_reply(rep, 1);
		rc = EXIT_NEGATIVE;
	} else if (r == -ETIMEDOUT) {
		fprintf(stderr, "watchdogctl: %s: no answer within %lld s\n", req, a.timeout);
		rc = EXIT_TIMEOUT;
	} else {
		fprintf(stderr, "watchdogctl: %s: %s: %s\n", req, a.sock, space_strerror(r));
		rc = EXIT_SYSTEM;
	}
	free(rep);
	free(req);
	return rc;
}
