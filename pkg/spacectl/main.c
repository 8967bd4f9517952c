/* SPDX-License-Identifier: MIT */
/* spacectl - the appliance's admin CLI. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "pkg/hotpatch/state.h"
#include "pkg/libmgmt/apps.h"
#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/hk.h"
#include "json.h"
#include "kv.h"
#include "pkg/libmgmt/records.h"
#include "pkg/libmgmt/release.h"
#include "spacectl.h"
#include "upgrade.h"
#include "platform.h"
#include "util.h"

#define USAGE                                                                                      \
	"usage: spacectl [--json] [--root DIR] COMMAND\n"                                          \
	"  show version          product, release, build\n"                                        \
	"  show status           release, uptime, mode, services, device communication\n"          \
	"  show services         the watchdog's services (pid, state, uptime, restarts)\n"         \
	"  show hotpatches       the installed hot-patch level, its fixes and packages, an\n"      \
	"                        operation in progress, the last job and the history\n"            \
	"  devices status        device communication state and connected devices\n"               \
	"  devices block         close the device port, drop devices (persisted)\n"                \
	"  devices unblock       reopen the device port\n"                                         \
	"  backup create [--to DIR] [--force]\n"                                                   \
	"                        tar.gz of /etc and /var/lib with a sha256 manifest; DIR must\n"   \
	"                        be on another filesystem than /var unless --force\n"              \
	"  support-bundle [--to DIR]\n"                                                            \
	"                        tar.gz of /var/log (hot-patch and upgrade logs included) and\n"   \
	"                        the hot-patch state (/var/lib/hotpatch: history, journal, ...)\n" \
	"  logs purge            rotate, purge old logs and stale /tmp files now\n"                \
	"  upgrade [--reboot] FILE\n"                                                              \
	"                        check the signed release image FILE (signature, name, product,\n" \
	"                        target, upgrade path, an off-node backup, the clock, space),\n"   \
	"                        write it into the inactive root slot, read it back, and arm\n"    \
	"                        one trial boot of it (--reboot: now). In a fabric: on the VIP\n"  \
	"                        node, every node, all or nothing (README.md \"Fabric\")\n"        \
	"  upgrade arm|cancel    a fabric member's staged release: arm its trial, or drop it\n"    \
	"  fabric VERB ...       init, add-node, remove-node, show: spacectl fabric --help\n"      \
	"  upgrade status [--follow]\n"                                                            \
	"                        the last upgrade (state, release, progress, reason, log) and\n"   \
	"                        what each root slot holds (--follow: a fabric upgrade's run)\n"   \
	"  upgrade rollback [--reboot]\n"                                                          \
	"                        boot the other slot's release once on trial\n"                    \
	"  upgrade confirm [--no-reboot]\n"                                                        \
	"                        at boot: keep a trial slot once every service is ready (else\n"   \
	"                        reboot into the old one), or record why a trial fell back\n"      \
	"Options: --json machine-readable output; --root DIR prefix for appliance paths\n"         \
	"  (env SPACE_ROOT); env WATCHDOG_SOCKET, DEVGATE_SOCKET override the sockets.\n"          \
	"Exit: 0 done; 1 negative answer (a service down, a backup target refused);\n"             \
	"      99 timeout: no answer in time (devices block/unblock: sent but not answered,\n"     \
	"      the outcome is unknown: see devices status); 100 usage; 111 system or I/O\n"        \
	"      failure (the contract of every space tool: README.md, Exit codes).\n"

#define CTL_TIMEOUT_MS 10000

char *rpath(const struct opts *o, const char *path)
{
	return path_join_alloc(o->root, path);
}

/* What spacectl's own calls fail with is the node's failure (a garbled
 * daemon reply included), never the admin's input: 111, or 99 when a
 * timeout leaves the outcome unknown. A refusal reaches the admin as a
 * daemon's negative answer (report()). */
int fail(const char *what, int err)
{
	return die_msg(err == -ETIMEDOUT ? EX_TIMEOUT : EX_SYSTEM, what, NULL, space_strerror(err));
}

void print_json(struct buf *b)
{
	printf("%s\n", b->p ? b->p : "null");
	buf_free(b);
}

/* A daemon's answer r (rep: its reply) as an exit code; on failure one
 * line on stderr. */
static int report(const char *sock, const char *what, int r, const char *rep)
{
	if (r == -SPACE_E_CHILD) {
		const char *nl = strchr(rep, '\n');
		fprintf(stderr, "spacectl: %s: %.*s\n", what, (int)(nl ? nl - rep - 6 : (long)strlen(rep) - 6),
			rep + 6);
		return EX_NEGATIVE;
	}
	if (r < 0) {
		char w[160];
		snprintf(w, sizeof(w), "%s: %s", what, sock);
		return fail(w, r);
	}
	return EX_OK;
}

/* Ask a daemon; on failure print one line and return its exit code. */
static int ask(const char *sock, const char *req, const char *what, char **rep)
{
	int r = ctl_request(sock, req, CTL_TIMEOUT_MS, rep);

	return report(sock, what, r, *rep);
}

/* Ask devgate for a change (block/unblock): wait for its answer up to
 * CTL_CHANGE_WAIT_MS, as mgmtd does. A request that was sent and not
 * answered is not a failure: devgate may have applied it or still will
 * (issue 12 #4, same class), so the outcome is reported unknown, exit 99,
 * with where to see the real state. */
static int ask_change(const char *sock, const char *req, const char *what, char **rep)
{
	bool sent;
	int r = ctl_call(sock, req, CTL_CHANGE_WAIT_MS, rep, &sent);

	/* answered, refused, or never sent (nothing changed) */
	if (r == 0 || r == -SPACE_E_CHILD || !sent)
		return report(sock, what, r, *rep);
	fprintf(stderr,
		"spacectl: %s: %s: sent, no answer from devgate (%s; waited up to %d s): the outcome "
		"is unknown, it may be applied; see 'spacectl devices status'\n",
		what, sock, space_strerror(r), CTL_CHANGE_WAIT_MS / 1000);
	return EX_TIMEOUT;
}

/* ------------------------------------------------------------ show */

static int show_version(const struct opts *o)
{
	char *p = rpath(o, "/etc/space-release");
	struct release rel;
	int r = p ? release_read(p, &rel) : -ENOMEM;

	if (r < 0) {
		char w[300];
		snprintf(w, sizeof(w), "show version: %s", p ? p : "release file");
		free(p);
		return fail(w, r);
	}
	free(p);
	if (o->json) {
		struct buf b;
		struct jw w;
		buf_init(&b);
		jw_init(&w, &b);
		jw_obj_begin(&w);
		jw_kstr(&w, "product", rel.product);
		jw_kstr(&w, "release", rel.version);
		jw_kstr(&w, "build", rel.build_id);
		jw_obj_end(&w);
		print_json(&b);
	} else {
		printf("%s %s (build %s)\n", rel.product, rel.version, rel.build_id[0] ? rel.build_id : "-");
	}
	return EX_OK;
}

static int show_services(const struct opts *o)
{
	char *rep = NULL, f[7][64];
	int rc = ask(o->wd_sock, "status", "show services", &rep);

	if (rc) {
		free(rep);
		return rc;
	}
	if (o->json) {
		struct buf b;
		struct jw w;
		buf_init(&b);
		jw_init(&w, &b);
		records_to_json(rep, &w);
		print_json(&b);
	} else {
		static const char *const keys[] = { "name", "state", "pid", "uptime", "restarts", "last_exit" };
		printf("%-16s %-9s %7s %9s %8s  %s\n", "SERVICE", "STATE", "PID", "UPTIME", "RESTARTS", "LAST-EXIT");
		for (int i = 0; i < records_count(rep); i++) {
			for (int k = 0; k < 6; k++)
				records_field(rep, i, keys[k], f[k], sizeof(f[k]));
			printf("%-16s %-9s %7s %8ss %8s  %s\n", f[0], f[1], f[2], f[3], f[4], f[5]);
		}
	}
	/* a service that is not running is the negative answer */
	for (int i = 0; i < records_count(rep); i++) {
		records_field(rep, i, "state", f[6], sizeof(f[6]));
		if (strcmp(f[6], "running"))
			rc = EX_NEGATIVE;
	}
	free(rep);
	return rc;
}

/* What `show status` reports, gathered once for both views. */
struct status {
	struct release rel;
	struct hotpatch *hp;
	int nhp;
	unsigned hp_level;         /* installed level of the running release */
	char hp_name[HP_NAME_MAX]; /* its bundle name, "" at level 0 */
	const char *mode;
	int secure_boot; /* platform_secure_boot(): 1, 0, or < 0 unknown / BIOS */
	char *wrep;      /* the watchdog's status reply, NULL if unreachable */
	int nsvc, nrun;
	char gate[32];
	struct upg_status ug;   /* the last upgrade */
	struct apps_list *apps; /* as the watchdog decided them, NULL if unknown */
};

/* The applications as the watchdog decided them; NULL when unknown. */
static struct apps_list *watchdog_apps(const struct opts *o)
{
	struct apps_list *apps = calloc(1, sizeof(*apps));
	char *rep = NULL;

	if (apps && (ctl_request(o->wd_sock, "apps", CTL_TIMEOUT_MS, &rep) < 0 || apps_from_reply(rep, apps) < 0)) {
		free(apps);
		apps = NULL;
	}
	free(rep);
	return apps;
}

/* The installed hot-patch level of the running release, as `show
 * hotpatches` and GET /api/v1/system count it (the markers of other
 * releases do not count). */
static void installed_patch(const struct opts *o, struct status *s)
{
	char prel[REL_VERSION_MAX];
	int n = hp_installed_level(o->root, s->rel.version);

	if (n > 0 && hp_patch_release(s->rel.version, prel) == 0 &&
	    hp_bundle_name(s->hp_name, s->rel.product, prel, (unsigned)n) == 0)
		s->hp_level = (unsigned)n;
}

static void status_json(const struct status *s)
{
	struct sysinfo si;
	struct buf b;
	struct jw w;

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kstr(&w, "product", s->rel.product);
	jw_kstr(&w, "release", s->rel.version);
	jw_kstr(&w, "build", s->rel.build_id);
	jw_kint(&w, "uptime", sysinfo(&si) == 0 ? (long long)si.uptime : -1);
	jw_kstr(&w, "mode", s->mode);
	jw_key(&w, "secure_boot"); /* null: not a UEFI boot, or not readable */
	if (s->secure_boot >= 0)
		jw_bool(&w, s->secure_boot);
	else
		jw_null(&w);
	jw_key(&w, "hotpatches");
	jw_arr_begin(&w);
	for (int i = 0; i < s->nhp; i++)
		jw_str(&w, s->hp[i].name);
	jw_arr_end(&w);
	jw_kint(&w, "hotpatch_level", s->hp_level);
	jw_key(&w, "services");
	if (s->wrep)
		records_to_json(s->wrep, &w);
	else
		jw_null(&w);
	jw_kstr(&w, "device_communication", s->gate);
	jw_key(&w, "upgrade");
	jw_obj_begin(&w);
	upg_status_json(&w, &s->ug);
	jw_obj_end(&w);
	if (s->apps)
		apps_json(&w, s->apps);
	jw_obj_end(&w);
	print_json(&b);
}

static void status_text(const struct status *s)
{
	const struct upg_status *ug = &s->ug;
	struct sysinfo si;
	long up = sysinfo(&si) == 0 ? si.uptime : 0;

	printf("release:   %s %s (build %s)\n", s->rel.product, s->rel.version, s->rel.build_id);
	printf("uptime:    %ldd %02ld:%02ld\n", up / 86400, up % 86400 / 3600, up % 3600 / 60);
	printf("mode:      %s\n", s->mode);
	printf("boot:      %s\n", s->secure_boot == 1 ? "UEFI, Secure Boot on" : s->secure_boot == 0 ? "UEFI, Secure Boot off" :
									 s->secure_boot == -ENODEV   ? "BIOS" :
												       "UEFI, Secure Boot unknown");
	if (s->hp_level)
		printf("hotpatch:  level %u (%s)\n", s->hp_level, s->hp_name);
	else
		printf("hotpatch:  none\n");
	if (s->wrep)
		printf("services:  %d of %d running\n", s->nrun, s->nsvc);
	else
		printf("services:  unknown (watchdog not reachable)\n");
	printf("devices:   communication %s\n", s->gate);
	if (strcmp(ug->state, "idle"))
		printf("upgrade:   %s %s%s%s%s\n", ug->state, ug->release, ug->from[0] ? " (from " : "", ug->from,
		       ug->from[0] ? ")" : "");
	if (ug->reason[0])
		printf("           %s\n", ug->reason);
	if (s->apps) {
		struct buf b;
		buf_init(&b);
		apps_text(&b, s->apps);
		printf("%s", b.p ? b.p : "");
		buf_free(&b);
	}
}

static int show_status(const struct opts *o)
{
	char *relp = rpath(o, "/etc/space-release"), *etc = rpath(o, "/etc");
	char *cl = rpath(o, "/etc/space-cluster.conf"), *drep = NULL, *sys = NULL, st[64];
	struct status s = { .gate = "unknown" };
	struct stat sb;
	int r, rc = EX_OK;

	if (!relp || !etc || !cl) {
		rc = fail("show status", -ENOMEM);
		goto out;
	}
	if ((r = release_read(relp, &s.rel)) < 0) {
		rc = fail(relp, r);
		goto out;
	}
	s.nhp = hotpatch_list(etc, &s.hp);
	installed_patch(o, &s);
	s.mode = stat(cl, &sb) == 0 ? "cluster" : "standalone";
	s.secure_boot = (sys = rpath(o, "/sys")) ? platform_secure_boot(sys) : -ENOMEM;
	if (ctl_request(o->wd_sock, "status", CTL_TIMEOUT_MS, &s.wrep) == 0) {
		s.nsvc = records_count(s.wrep);
		for (int i = 0; i < s.nsvc; i++) {
			records_field(s.wrep, i, "state", st, sizeof(st));
			s.nrun += !strcmp(st, "running");
		}
	} else {
		free(s.wrep);
		s.wrep = NULL;
	}
	if (ctl_request(o->dg_sock, "status", CTL_TIMEOUT_MS, &drep) == 0)
		records_field(drep, 0, "state", s.gate, sizeof(s.gate));
	upg_status_read(o, &s.ug);
	s.apps = watchdog_apps(o);
	if (!s.wrep || s.nrun != s.nsvc)
		rc = EX_NEGATIVE;
	if (o->json)
		status_json(&s);
	else
		status_text(&s);
	hotpatch_free(s.hp, s.nhp > 0 ? s.nhp : 0);
out:
	free(s.wrep);
	free(drep);
	free(s.apps);
	free(relp);
	free(etc);
	free(cl);
	free(sys);
	return rc;
}

/* ------------------------------------------------------------ devices */

static int devices(const struct opts *o, const char *verb)
{
	char *rep = NULL, state[32], port[16], what[64];
	int rc, n;

	snprintf(what, sizeof(what), "devices %s", verb);
	rc = strcmp(verb, "status") ? ask_change(o->dg_sock, verb, what, &rep) : ask(o->dg_sock, verb, what, &rep);
	if (rc) {
		free(rep);
		return rc;
	}
	records_field(rep, 0, "state", state, sizeof(state));
	records_field(rep, 0, "port", port, sizeof(port));
	n = records_count(rep) - 1;
	if (o->json) {
		struct buf b;
		struct jw w;
		buf_init(&b);
		jw_init(&w, &b);
		records_object(rep, "devices", &w);
		print_json(&b);
	} else {
		printf("device communication %s (port %s), %d device(s) connected\n", state, port, n);
		for (int i = 1; i <= n; i++) {
			char name[64], peer[64];
			records_field(rep, i, "name", name, sizeof(name));
			records_field(rep, i, "peer", peer, sizeof(peer));
			printf("  %-24s %s\n", name, peer);
		}
	}
	free(rep);
	return EX_OK;
}

/* ------------------------------------------------------------ logs */

static int logs_purge(const struct opts *o)
{
	char *conf = rpath(o, "/etc/housekeeping.conf"), *logd = NULL, *tmpd = NULL;
	struct hk_policy pol;
	struct hk_store st = { 0 };
	struct hk_report rep = { 0 };
	int line = 0, r, rc = EX_OK;

	if (!conf)
		return fail("logs purge", -ENOMEM);
	hk_policy_default(&pol);
	r = hk_policy_load(conf, &pol, &st, &line);
	if (r < 0 && r != -ENOENT) {
		char w[300];
		snprintf(w, sizeof(w), "logs purge: %s line %d", conf, line);
		rc = fail(w, r);
		goto out;
	}
	/* the policy names appliance paths; with --root they live below it */
	if (pol.log_dir)
		pol.log_dir = logd = rpath(o, pol.log_dir);
	if (pol.tmp_dir)
		pol.tmp_dir = tmpd = rpath(o, pol.tmp_dir);
	r = hk_run(&pol, time(NULL), &rep);
	if (r < 0 && r != -ENOENT) {
		rc = fail("logs purge", r);
		goto out;
	}
	if (o->json) {
		struct buf b;
		struct jw w;
		buf_init(&b);
		jw_init(&w, &b);
		jw_obj_begin(&w);
		jw_kint(&w, "rotated", rep.rotated);
		jw_kint(&w, "purged_logs", rep.purged_logs);
		jw_kint(&w, "purged_tmp", rep.purged_tmp);
		jw_kint(&w, "purged_logs_for_size", rep.guard_logs);
		jw_kint(&w, "truncated_logs_for_size", rep.guard_truncated);
		jw_kint(&w, "purged_tmp_for_size", rep.guard_tmp);
		jw_kint(&w, "guard_deleted", rep.guard_deleted);
		jw_kint(&w, "freed_bytes", rep.freed);
		jw_kint(&w, "warnings", rep.warnings);
		jw_obj_end(&w);
		print_json(&b);
	} else {
		/* by age and for size apart: the guard deletes young logs too */
		printf("rotated %d log(s), purged %d old log(s) and %d stale temporary file(s)", rep.rotated,
		       rep.purged_logs, rep.purged_tmp);
		if (rep.guard_logs || rep.guard_tmp)
			printf(", purged %d log(s) and %d temporary file(s) for size", rep.guard_logs,
			       rep.guard_tmp);
		if (rep.guard_truncated)
			printf(", truncated %d live log(s) for size", rep.guard_truncated);
		printf(", freed %lld bytes\n", rep.freed);
		if (rep.warnings)
			printf("warning: a log or temporary directory is still over its limit\n");
	}
	if (rep.warnings)
		rc = EX_NEGATIVE;
out:
	hk_policy_free(&st);
	free(conf);
	free(logd);
	free(tmpd);
	return rc;
}

/* ------------------------------------------------------------ table */

struct command {
	const char *verb, *object;
	int (*fn)(const struct opts *o);
	const char *arg; /* passed to handlers that take a verb */
};

static int dev_status(const struct opts *o) { return devices(o, "status"); }
static int dev_block(const struct opts *o) { return devices(o, "block"); }
static int dev_unblock(const struct opts *o) { return devices(o, "unblock"); }

static const struct command commands[] = {
	{ "show", "version", show_version, NULL },
	{ "show", "status", show_status, NULL },
	{ "show", "services", show_services, NULL },
	{ "show", "hotpatches", cmd_show_hotpatches, NULL },
	{ "devices", "status", dev_status, NULL },
	{ "devices", "block", dev_block, NULL },
	{ "devices", "unblock", dev_unblock, NULL },
	{ "backup", "create", cmd_backup, NULL },
	{ "support-bundle", NULL, cmd_support_bundle, NULL },
	{ "logs", "purge", logs_purge, NULL },
	{ "upgrade", "status", cmd_upgrade_status, NULL },
	{ "upgrade", "rollback", cmd_upgrade_rollback, NULL },
	{ "upgrade", "confirm", cmd_upgrade_confirm, NULL },
	{ "upgrade", "arm", cmd_upgrade_arm, NULL },
	{ "upgrade", "cancel", cmd_upgrade_cancel, NULL },
	{ "upgrade", "", cmd_upgrade, NULL }, /* upgrade FILE */
};

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, 'r' },
		{ "to", required_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "reboot", no_argument, NULL, 'R' },
		{ "no-reboot", no_argument, NULL, 'N' },
		{ "fabric-member", no_argument, NULL, 'M' },
		{ "follow", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	const char *env;
	int opt, nargs;
	char *wd = NULL, *dg = NULL;
	int rc;

	space_prog = "spacectl";
	/* fabric's verbs take options of their own */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "fabric"))
			return cmd_fabric(argc, argv);
		if (argv[i][0] != '-')
			break;
		i += !strcmp(argv[i], "--root");
	}
	o.root = (env = getenv("SPACE_ROOT")) ? env : "";
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'j': o.json = 1; break;
		case 'r': o.root = optarg; break;
		case 't': o.to = optarg; break;
		case 'f': o.force = 1; break;
		case 'R': o.reboot = 1; break;
		case 'N': o.no_reboot = 1; break;
		case 'M': o.fabric_member = 1; break;
		case 'F': o.follow = 1; break;
		case 'h': fputs(USAGE, stdout); return EX_OK;
		default: fputs(USAGE, stderr); return EX_USAGE;
		}
	}
	if (!strcmp(o.root, "/"))
		o.root = "";
	nargs = argc - optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		int want = c->object ? 2 : 1;

		if (nargs != want || strcmp(argv[optind], c->verb) ||
		    (c->object && *c->object && strcmp(argv[optind + 1], c->object)))
			continue;
		if (c->object && !*c->object)
			o.file = argv[optind + 1];
		if (o.reboot && c->fn != cmd_upgrade && c->fn != cmd_upgrade_rollback && c->fn != cmd_upgrade_arm)
			break;
		if ((o.fabric_member && c->fn != cmd_upgrade) || (o.follow && c->fn != cmd_upgrade_status))
			break;
		if (o.no_reboot && c->fn != cmd_upgrade_confirm)
			break;
		if (o.to && c->fn != cmd_backup && c->fn != cmd_support_bundle)
			break;
		if (o.force && c->fn != cmd_backup)
			break;
		o.wd_sock = getenv("WATCHDOG_SOCKET");
		o.dg_sock = getenv("DEVGATE_SOCKET");
		if (!o.wd_sock)
			o.wd_sock = wd = rpath(&o, "/run/watchdog.sock");
		if (!o.dg_sock)
			o.dg_sock = dg = rpath(&o, "/run/devgate.sock");
		if (!o.wd_sock || !o.dg_sock)
			return EX_SYSTEM;
		rc = c->fn(&o);
		free(wd);
		free(dg);
		return rc;
	}
	fputs(USAGE, stderr);
	return EX_USAGE;
}
