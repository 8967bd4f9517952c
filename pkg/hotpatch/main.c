/* SPDX-License-Identifier: MIT */
/* main.c - `hotpatch`: apply, roll back and show the hot patches of a node
 * (issue 9; the operator's entry point is the bundle's patchme.sh). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apply.h"
#include "pkg/fabric/conf.h"
#include "exitcode.h"
#include "buf.h"
#include "json.h"
#include "subcmd.h"
#include "util.h"

#define USAGE                                                                                         \
	"usage: hotpatch VERB [OPTIONS] ...\n"                                                        \
	"  apply [--reinstall] DIR|TGZ   verify the bundle, then: block device communication,\n"      \
	"                                stop the services and the watchdog, back up, install\n"      \
	"                                the packages and the marker, start the services, unblock;\n" \
	"                                any failure puts the node back as it was\n"                  \
	"  rollback                      return to the level before the last patch applied\n"         \
	"  status [--json]               installed level, its fixes and packages, history\n"          \
	"  status --follow               the fabric patch running or last run from this node\n"       \
	"  recover [--boot]              undo or complete an interrupted operation; --boot\n"         \
	"                                (rcS): the services start after it, not waited for\n"        \
	"  verify DIR|TGZ                check a bundle only\n"                                       \
	"On a fabric's VIP node, apply patches every node, all or nothing (README.md Fabric);\n"      \
	"--fabric-member: this node alone, as the VIP node asks its members.\n"                       \
	"Options: --root DIR (an offline root: no device gate, services or remount),\n"               \
	"  --ca FILE (default ROOT/etc/space/root-ca.pem), --services-timeout SEC (180);\n"           \
	"  for a root driven like a node: --live --devgate-socket P --devgate-state P\n"              \
	"  --watchdog-socket P --watchdog-hold P (defaults /run/devgate.sock,\n"                      \
	"  /var/lib/devgate/state, /run/watchdog.sock, /run/watchdog.hold).\n"                        \
	"Exit status: 0 success, 1 refused (bad bundle, signature, release or level),\n"              \
	"100 usage, 111 system or I/O failure (README.md, Exit codes).\n"

struct opts {
	struct hp_ctx c;
	bool json, boot, follow;
	const char *arg;
	char ca[4096], real[4096];
};

static int parse(int argc, char **argv, struct opts *o, bool want_arg)
{
	static const struct option lo[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "ca", required_argument, NULL, 'c' },
		{ "reinstall", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "live", no_argument, NULL, 'L' },
		{ "devgate-socket", required_argument, NULL, 'd' },
		{ "devgate-state", required_argument, NULL, 'D' },
		{ "watchdog-socket", required_argument, NULL, 'w' },
		{ "watchdog-hold", required_argument, NULL, 'H' },
		{ "services-timeout", required_argument, NULL, 't' },
		{ "boot", no_argument, NULL, 'B' },
		{ "fabric-member", no_argument, NULL, 'F' },
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool live = false;
	char *end;
	int ch;

	o->c.root = "/";
	o->c.devgate_socket = "/run/devgate.sock";
	o->c.devgate_state = "/var/lib/devgate/state";
	o->c.watchdog_socket = "/run/watchdog.sock";
	o->c.watchdog_hold = "/run/watchdog.hold";
	o->c.services_timeout = 180;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'r': o->c.root = optarg; break;
		case 'c': o->c.ca = optarg; break;
		case 'R': o->c.reinstall = true; break;
		case 'j': o->json = true; break;
		case 'L': live = true; break;
		case 'B': o->boot = true; break;
		case 'F': o->c.fabric_member = true; break;
		case 'f': o->follow = true; break;
		case 'd': o->c.devgate_socket = optarg; break;
		case 'D': o->c.devgate_state = optarg; break;
		case 'w': o->c.watchdog_socket = optarg; break;
		case 'H': o->c.watchdog_hold = optarg; break;
		case 't':
			o->c.services_timeout = (int)strtol(optarg, &end, 10);
			if (*end || o->c.services_timeout < 1 || o->c.services_timeout > 3600)
				return -1;
			break;
		default: return -1;
		}
	}
	if (argc - optind != (want_arg ? 1 : 0) || !*o->c.root)
		return -1;
	o->arg = want_arg ? argv[optind] : NULL;
	/* "//", "/." or a link to / are the node itself: driven live */
	if (realpath(o->c.root, o->real) && !strcmp(o->real, "/"))
		o->c.root = "/";
	o->c.live = live || !strcmp(o->c.root, "/");
	if (!o->c.ca) {
		snprintf(o->ca, sizeof(o->ca), "%s/etc/space/root-ca.pem", strcmp(o->c.root, "/") ? o->c.root : "");
		o->c.ca = o->ca;
	}
	return 0;
}

static int cmd_apply(int argc, char **argv)
{
	struct opts o = { 0 };
	struct stat st;

	if (parse(argc, argv, &o, true) < 0)
		return die_usage(USAGE);
	/* on a fabric node, the VIP node patches every node */
	if (!o.c.fabric_member && !strcmp(o.c.root, "/") && stat(FABRIC_CONF_PATH, &st) == 0)
		return hp_fabric_apply(&o.c, o.arg);
	return hp_apply(&o.c, o.arg);
}

static int cmd_rollback(int argc, char **argv)
{
	struct opts o = { 0 };

	if (parse(argc, argv, &o, false) < 0 || o.c.reinstall)
		return die_usage(USAGE);
	return hp_rollback(&o.c);
}

static int cmd_recover(int argc, char **argv)
{
	struct opts o = { 0 };

	if (parse(argc, argv, &o, false) < 0)
		return die_usage(USAGE);
	return hp_recover(&o.c, o.boot);
}

static int cmd_verify(int argc, char **argv)
{
	struct opts o = { 0 };

	if (parse(argc, argv, &o, true) < 0)
		return die_usage(USAGE);
	return hp_verify_only(&o.c, o.arg);
}

static void print_status(const struct hp_status *st)
{
	printf("release:    %s\n", st->release);
	printf("hot patch:  %s\n", st->level ? st->name : "none");
	if (st->applied) {
		for (unsigned i = 0; i < st->applied->nfix; i++)
			printf("  fix v%u %s %s\n", st->applied->fix[i].level, st->applied->fix[i].id,
			       st->applied->fix[i].text);
		for (unsigned i = 0; i < st->applied->npkg; i++)
			printf("  package %s %s-%s\n", st->applied->pkg[i].name, st->applied->pkg[i].version,
			       st->applied->pkg[i].release);
	}
	if (st->in_progress)
		printf("in progress: %s v%u -> v%u at %s (completed or undone by the next run or boot)\n", st->action,
		       st->from, st->to, st->step);
	for (unsigned i = 0; i < st->nhist; i++) {
		const struct hp_history *h = &st->hist[i];
		char ts[32];
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", gmtime(&h->time));
		printf("%s %-9s v%u -> v%u %s%s%s\n", ts, h->action, h->from, h->to, h->result, h->reason[0] ? ": " : "",
		       h->reason);
	}
}

static int cmd_status(int argc, char **argv)
{
	struct opts o = { 0 };
	struct hp_status st;
	struct space_err err = { "" };
	int r;

	if (parse(argc, argv, &o, false) < 0)
		return die_usage(USAGE);
	if (o.follow)
		return hp_fabric_follow();
	if ((r = hp_status_read(o.c.root, &st, &err)) < 0)
		return die_err("status", o.c.root, r, err.msg);
	if (o.json) {
		struct buf b;
		struct jw w;
		buf_init(&b);
		jw_init(&w, &b);
		hp_status_json(&w, &st);
		if (buf_failed(&b))
			r = -ENOMEM;
		else
			printf("%.*s\n", (int)b.len, b.p);
		buf_free(&b);
	} else {
		print_status(&st);
	}
	hp_status_free(&st);
	return r < 0 ? die_err("status", o.c.root, r, NULL) : 0;
}

static const struct subcmd cmds[] = {
	{ "apply", cmd_apply },
	{ "rollback", cmd_rollback },
	{ "status", cmd_status },
	{ "recover", cmd_recover },
	{ "verify", cmd_verify },
};

int main(int argc, char **argv)
{
	space_prog = "hotpatch";
	/* A dropped SSH session must not stop a patch half-way: the node
	 * would wait, services down and devices blocked, for the next run or
	 * boot. Output to a terminal that went away fails quietly instead. */
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	return subcmd_run(cmds, sizeof(cmds) / sizeof(cmds[0]), USAGE, EXIT_USAGE, argc, argv);
}
