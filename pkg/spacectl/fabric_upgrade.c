/* SPDX-License-Identifier: MIT */
/* fabric_upgrade.c - `spacectl upgrade FILE` on a fabric's VIP node: every
 * node upgraded, all or nothing (README.md "Fabric", UPGRADE.md; issue 10).
 *
 * 1. prechecks on every node, before any change: reachable, at this
 *    node's release, no upgrade of its own armed or on trial, its clock
 *    within FABRIC_CLOCK_SKEW s of this one, room on /var for the image;
 * 2. stage, this node first: each node's own `spacectl upgrade
 *    --fabric-member` (its checks: backup, its clock against the time
 *    server, the image's signature and policy; the slot written and read
 *    back) leaves the slot unarmed ("staged"), so a node reset during the
 *    run comes back on its old release; the other nodes get the image
 *    through their agent (put);
 * 3. the journal (UPG_DIR/fabric), then the other nodes one at a time:
 *    armed, rebooted, waited for until the node has confirmed the new
 *    release (good) or fallen back to the old one (failed);
 * 4. this node last: armed and rebooted. Its own `upgrade confirm` at the
 *    next boot ends the run (fabric_upgrade_resume): good, or, when it
 *    fell back or the run was cut short, the fabric goes back.
 * When a node fails, the nodes already upgraded are rolled back (rollback,
 * reboot, wait) and the staged ones cancelled: the whole fabric stays on
 * the old release, and the report names the node and its reason.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "kv.h"
#include "openreg.h"
#include "pkg/fabric/conf.h"
#include "pkg/fabric/local.h"
#include "pkg/fabric/progress.h"
#include "pkg/fabric/rpc.h"
#include "pkg/libmgmt/release.h"
#include "run_pipe.h"
#include "upgrade.h"
#include "util.h"

#define FABRIC_CLOCK_SKEW 5                 /* seconds between two nodes' clocks */
#define STAGE_TIMEOUT_MS (30 * 60 * 1000)   /* sending or writing an image */
#define BOOT_WAIT_S (30 * 60)               /* a reboot, a trial and maybe a fallback */
#define POLL_S 5                            /* asking a rebooting node */
#define JOURNAL UPG_DIR "/fabric"           /* the run's state, for this node's next boot */
#define PROGRESS UPG_DIR "/fabric.progress" /* spacectl upgrade status --follow */
#define LIST_MAX (FABRIC_NODES_MAX * (FABRIC_NAME_MAX + 1) + 1)

enum fu_state { F_WAITING,
		F_STAGED,
		F_UPGRADED,
		F_FAILED,
		F_CANCELLED,
		F_ROLLED_BACK,
		F_ROLLBACK_FAILED };

static const char *const state_text[] = {
	[F_WAITING] = "not changed",
	[F_STAGED] = "staged",
	[F_UPGRADED] = "upgraded",
	[F_FAILED] = "failed",
	[F_CANCELLED] = "staged, cancelled",
	[F_ROLLED_BACK] = "rolled back",
	[F_ROLLBACK_FAILED] = "ROLLBACK FAILED",
};

struct fu_node {
	struct fabric_info fi;
	enum fu_state state;
	char why[SPACE_ERR_MAX];
};

/* The journal: what this node's next boot needs to end the run. */
struct fu_journal {
	char state[16];          /* peers, self, done, rolled-back */
	char from[64], to[64];   /* releases */
	char staged[LIST_MAX];   /* node names, space-separated */
	char upgraded[LIST_MAX]; /* those running the new release */
};

struct fu {
	const struct opts *o;
	struct fabric_conf conf;
	int self;
	const char *file, *name; /* the image, its base name */
	struct fu_journal j;
	struct fu_node n[FABRIC_NODES_MAX];
};

static struct fabric_rpc rpc_of(const struct fu *f, unsigned i)
{
	return fabric_rpc_to(&f->conf, f->self, i);
}

static const char *name_of(const struct fu *f, unsigned i)
{
	return f->conf.nodes[i].name;
}

/* ------------------------------------------------------------ journal */

static int journal_field(void *ctx, const char *key, const char *value, int line)
{
	struct fu_journal *j = ctx;

	(void)line;
	if (!strcmp(key, "state"))
		snprintf(j->state, sizeof(j->state), "%s", value);
	else if (!strcmp(key, "from"))
		snprintf(j->from, sizeof(j->from), "%s", value);
	else if (!strcmp(key, "to"))
		snprintf(j->to, sizeof(j->to), "%s", value);
	else if (!strcmp(key, "staged"))
		snprintf(j->staged, sizeof(j->staged), "%s", value);
	else if (!strcmp(key, "upgraded"))
		snprintf(j->upgraded, sizeof(j->upgraded), "%s", value);
	return 0;
}

static int journal_read(const struct opts *o, struct fu_journal *j)
{
	char *path = rpath(o, JOURNAL);
	int r = path ? kv_parse_file(path, 4096, journal_field, j, NULL) : -ENOMEM;

	free(path);
	return r;
}

static void journal_write(const struct fu *f, const char *state)
{
	char *path = rpath(f->o, JOURNAL);
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "# spacectl upgrade: a fabric upgrade run from this node (fabric_upgrade.c)\n");
	kv_line(&b, "state", state);
	kv_line(&b, "from", f->j.from);
	kv_line(&b, "to", f->j.to);
	kv_line(&b, "staged", f->j.staged);
	kv_line(&b, "upgraded", f->j.upgraded);
	/* the run goes on when it cannot be written: the report says so */
	if (!path || buf_failed(&b) || write_file_atomic(path, b.p, b.len, 0644) < 0)
		fabric_say("  warning: %s not written: this node's next boot cannot end the run", JOURNAL);
	buf_free(&b);
	free(path);
}

static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static void list_add(char *list, const char *name)
{
	if (!listed(list, name))
		snprintf(list + strlen(list), LIST_MAX - strlen(list), "%s%s", list[0] ? " " : "", name);
}

/* ------------------------------------------------------------ steps */

/* A node's agent verb; its output shown under its name. */
static int node_call(struct fu *f, unsigned i, const char *verb, const char *arg, int timeout_ms)
{
	struct fabric_rpc q = rpc_of(f, i);
	struct space_err e = { "" };
	struct buf out;
	int r;

	buf_init(&out);
	q.out = &out;
	q.timeout_ms = timeout_ms;
	r = fabric_rpc(&q, verb, arg, &e);
	fabric_say_block(&out);
	if (r < 0)
		snprintf(f->n[i].why, sizeof(f->n[i].why), "%s", e.msg);
	buf_free(&out);
	return r;
}

static int check_node(struct fu *f, unsigned i, const struct fabric_info *me, off_t size, char *why, size_t n)
{
	const struct fabric_info *fi = &f->n[i].fi;
	struct fabric_rpc q = rpc_of(f, i);
	struct space_err e = { "" };
	long long t0 = time(NULL), t, need = (long long)(size >> 20) + 64;

	if (fabric_rpc_info(&q, &f->n[i].fi, &e) < 0)
		return snprintf(why, n, "unreachable: %s", e.msg), -1;
	t = atoll(fi->time);
	if (strcmp(fi->release, me->release))
		return snprintf(why, n, "runs %s, not %s like this node", fi->release, me->release), -1;
	if (!strcmp(fi->upg_state, "ready") || !strcmp(fi->upg_state, "staged") || !strcmp(fi->upg_state, "trial"))
		return snprintf(why, n, "an upgrade of its own is %s (spacectl upgrade status)", fi->upg_state), -1;
	if (t < t0 - FABRIC_CLOCK_SKEW || t > time(NULL) + FABRIC_CLOCK_SKEW)
		return snprintf(why, n, "its clock is %+lld s off this node's (at most %d s)", t - t0, FABRIC_CLOCK_SKEW),
		       -1;
	if ((int)i != f->self && atoll(fi->var_free_mb) < need)
		return snprintf(why, n, "/var has %s MiB free, the image needs %lld", fi->var_free_mb, need), -1;
	return 0;
}

static int prechecks(struct fu *f, off_t size)
{
	struct fabric_info me;
	struct fabric_rpc q = rpc_of(f, (unsigned)f->self);
	struct space_err e = { "" };
	int bad = 0;

	if (fabric_rpc_info(&q, &me, &e) < 0) {
		fabric_say("  this node: %s", e.msg);
		return -1;
	}
	snprintf(f->j.from, sizeof(f->j.from), "%s", me.release);
	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		char why[SPACE_ERR_MAX] = "";

		if (check_node(f, i, &me, size, why, sizeof(why)) < 0) {
			memcpy(f->n[i].why, why, sizeof(why));
			fabric_say("  %s: %s", name_of(f, i), why);
			bad = 1;
		} else {
			fabric_say("  %s: ready (%s, clock in sync)", name_of(f, i), f->n[i].fi.release);
		}
	}
	return bad ? -1 : 0;
}

/* This node's own upgrade of the image, staged. */
static int stage_self(struct fu *f)
{
	const char *argv[] = { "/usr/bin/spacectl", "upgrade", "--fabric-member", f->file, NULL };
	struct buf out, err;
	struct run_pipe p = { .out = &out, .errout = &err, .max = FABRIC_RPC_OUT_MAX, .timeout_ms = STAGE_TIMEOUT_MS };
	unsigned i = (unsigned)f->self;
	int r;

	buf_init(&out);
	buf_init(&err);
	fabric_say("%s: spacectl upgrade %s (staged)", name_of(f, i), f->name);
	r = run_pipe(argv, &p);
	fabric_say_block(&out);
	if (r < 0)
		run_pipe_last_line(&err, f->n[i].why, sizeof(f->n[i].why));
	buf_free(&out);
	buf_free(&err);
	return r;
}

/* The image sent to node i, then its own upgrade of it, staged. */
static int stage_peer(struct fu *f, unsigned i, const char *data, size_t len)
{
	struct fabric_rpc q = rpc_of(f, i);
	struct space_err e = { "" };

	fabric_say("%s: image sent, spacectl upgrade %s (staged)", name_of(f, i), f->name);
	q.in = data;
	q.inlen = len;
	q.timeout_ms = STAGE_TIMEOUT_MS;
	if (fabric_rpc(&q, "put", f->name, &e) < 0) {
		snprintf(f->n[i].why, sizeof(f->n[i].why), "sending the image: %s", e.msg);
		return -1;
	}
	return node_call(f, i, "upgrade-stage", f->name, STAGE_TIMEOUT_MS);
}

/* The image, mapped read-only: sent to each node without a copy in
 * memory; NULL on failure (why in this node's record). */
static void *map_image(struct fu *f, size_t *len)
{
	int fd = open_regular(AT_FDCWD, f->file, O_RDONLY, 0, 0);
	struct stat st;
	void *p = MAP_FAILED;

	if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
		*len = (size_t)st.st_size;
		p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	}
	if (p == MAP_FAILED)
		snprintf(f->n[f->self].why, sizeof(f->n[f->self].why), "read %s: %s", f->file,
			 space_strerror(fd < 0 ? fd : -errno));
	if (fd >= 0)
		close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int stage_all(struct fu *f)
{
	void *data = NULL;
	size_t len = 0;
	int r = 0;

	for (unsigned k = 0; k < f->conf.nnodes && r == 0; k++) {
		/* this node first: its checks cost no transfer */
		unsigned i = k == 0 ? (unsigned)f->self : k - (k <= (unsigned)f->self);

		if ((int)i != f->self && !data && !(data = map_image(f, &len))) {
			f->n[f->self].state = F_FAILED;
			r = -EIO;
			break;
		}
		r = (int)i == f->self ? stage_self(f) : stage_peer(f, i, data, len);
		f->n[i].state = r < 0 ? F_FAILED : F_STAGED;
		if (r == 0)
			list_add(f->j.staged, name_of(f, i));
	}
	if (data)
		munmap(data, len);
	return r;
}

/* Wait until node i runs another boot than old_boot and its upgrade has
 * ended (good, failed, or idle: a rollback's record); its info in fi. */
static int wait_back(struct fu *f, unsigned i, const char *old_boot)
{
	struct fabric_info *fi = &f->n[i].fi;
	time_t end = time(NULL) + BOOT_WAIT_S;

	while (time(NULL) < end) {
		struct fabric_rpc q = rpc_of(f, i);
		struct fabric_info now;
		struct space_err e = { "" };

		sleep(POLL_S);
		q.timeout_ms = 15000;
		if (fabric_rpc_info(&q, &now, &e) < 0 || !strcmp(now.boot_id, old_boot))
			continue;
		/* ended: kept (good), or fell back; a trial that has just
		 * failed still runs the release it tried, and reboots */
		if (strcmp(now.upg_state, "good") &&
		    (!strcmp(now.upg_state, "trial") || !strcmp(now.upg_state, "ready") ||
		     !strcmp(now.release, now.upg_release)))
			continue;
		*fi = now;
		return 0;
	}
	snprintf(f->n[i].why, sizeof(f->n[i].why), "not back from its reboot within %d min", BOOT_WAIT_S / 60);
	return -1;
}

/* Node i armed and rebooted; upgraded when it comes back confirmed on the
 * new release. */
static int boot_peer(struct fu *f, unsigned i)
{
	char old_boot[sizeof(f->n[i].fi.boot_id)];
	struct fabric_info *fi = &f->n[i].fi;

	snprintf(old_boot, sizeof(old_boot), "%s", fi->boot_id);
	fabric_say("%s: reboot into %s, waiting for its confirmation", name_of(f, i), f->j.to);
	if (node_call(f, i, "upgrade-boot", NULL, 0) < 0 || wait_back(f, i, old_boot) < 0) {
		f->n[i].state = F_FAILED;
		return -1;
	}
	if (strcmp(fi->release, f->j.to) || strcmp(fi->upg_state, "good")) {
		char why[SPACE_ERR_MAX];

		snprintf(why, sizeof(why), "back on %s (%s): %s", fi->release, fi->upg_state,
			 fi->upg_reason[0] ? fi->upg_reason : "no reason recorded");
		memcpy(f->n[i].why, why, sizeof(why));
		f->n[i].state = F_FAILED;
		return -1;
	}
	fabric_say("%s: runs %s, confirmed", name_of(f, i), fi->release);
	f->n[i].state = F_UPGRADED;
	list_add(f->j.upgraded, name_of(f, i));
	journal_write(f, "peers");
	return 0;
}

/* Node i back to the old release: rolled back (upgraded) or its staged
 * slot dropped. */
static void undo_node(struct fu *f, unsigned i, bool upgraded)
{
	char old_boot[sizeof(f->n[i].fi.boot_id)];

	if (!upgraded) {
		fabric_say("%s: cancel the staged %s", name_of(f, i), f->j.to);
		f->n[i].state = node_call(f, i, "upgrade-cancel", NULL, 0) < 0 ? F_ROLLBACK_FAILED : F_CANCELLED;
		return;
	}
	snprintf(old_boot, sizeof(old_boot), "%s", f->n[i].fi.boot_id);
	fabric_say("%s: roll back to %s, waiting for its confirmation", name_of(f, i), f->j.from);
	if (node_call(f, i, "upgrade-rollback", NULL, 0) < 0 || wait_back(f, i, old_boot) < 0 ||
	    strcmp(f->n[i].fi.release, f->j.from)) {
		char why[SPACE_ERR_MAX];

		snprintf(why, sizeof(why), "runs %s after the rollback", f->n[i].fi.release);
		if (!f->n[i].why[0])
			memcpy(f->n[i].why, why, sizeof(why));
		f->n[i].state = F_ROLLBACK_FAILED;
		return;
	}
	f->n[i].state = F_ROLLED_BACK;
}

/* Every node the journal lists back on the old release; 0 when all are. */
static int undo(struct fu *f)
{
	int bad = 0;

	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		const char *nm = name_of(f, i);

		/* its own upgrade put it back (a refusal marks the slot
		 * empty, a trial falls back), or it cannot be reached */
		if (f->n[i].state == F_FAILED)
			continue;
		if (listed(f->j.upgraded, nm))
			undo_node(f, i, true);
		else if (listed(f->j.staged, nm))
			undo_node(f, i, false);
		bad |= f->n[i].state == F_ROLLBACK_FAILED;
	}
	journal_write(f, bad ? "rollback-failed" : "rolled-back");
	return bad ? -1 : 0;
}

static void report(const struct fu *f)
{
	fabric_say("fabric upgrade %s -> %s:", f->j.from, f->j.to);
	for (unsigned i = 0; i < f->conf.nnodes; i++)
		fabric_say("  %-12s %s%s%s", name_of(f, i), state_text[f->n[i].state], f->n[i].why[0] ? ": " : "",
			   f->n[i].why);
}

/* This node's conf, its place in it, and whether it holds the VIP. */
static int fu_load(struct fu *f, const char *conf, struct space_err *err)
{
	char a[32];
	int r = fabric_conf_load(conf, &f->conf, err);

	if (r < 0)
		return r;
	f->self = fabric_self(&f->conf);
	if (f->self < 0)
		return err_set(err, -SPACE_E_FORMAT, "this node is not in its fabric's node list");
	fabric_addr_str(&f->conf.vip, a, sizeof(a));
	if (fabric_addr_local(f->conf.vip.ip) != 1)
		return err_set(err, -SPACE_E_FORMAT,
			       "this node is in a fabric and does not hold its virtual address %s: upgrade from the VIP node",
			       a);
	return 0;
}

/* The name of a release image: its release is what the nodes will run
 * ("space-21.3R2.img" -> "21.3R2"; the image's manifest binds the name). */
static int image_release(struct fu *f, struct space_err *err)
{
	const char *dash = strrchr(f->name, '-');
	size_t n = strlen(f->name);

	if (!dash || n < 5 || strcmp(f->name + n - 4, ".img") || dash + 1 >= f->name + n - 4)
		return err_set(err, -SPACE_E_FORMAT, "not a release image name (PRODUCT-RELEASE.img)");
	snprintf(f->j.to, sizeof(f->j.to), "%.*s", (int)(f->name + n - 4 - dash - 1), dash + 1);
	return 0;
}

/* Stage every node, then reboot the others one at a time; this node last. */
static int run(struct fu *f, off_t size)
{
	int failed = -1;

	fabric_say("[fabric] upgrade to %s on %u nodes, this node (%s) last: prechecks", f->j.to, f->conf.nnodes,
		   name_of(f, (unsigned)f->self));
	if (prechecks(f, size) < 0) {
		report(f);
		fabric_say("no node was changed");
		return EX_NEGATIVE;
	}
	fabric_say("[fabric] every node stages %s (its own checks, its slot written and read back)", f->j.to);
	if (stage_all(f) < 0) {
		undo(f);
		report(f);
		fabric_say("the fabric stays on %s", f->j.from);
		return EX_NEGATIVE;
	}
	journal_write(f, "peers");
	fabric_say("[fabric] the other nodes reboot into %s one at a time", f->j.to);
	for (unsigned i = 0; i < f->conf.nnodes && failed < 0; i++)
		if ((int)i != f->self && boot_peer(f, i) < 0)
			failed = (int)i;
	if (failed >= 0) {
		int bad = undo(f);

		report(f);
		fabric_say("the fabric %s on %s", bad ? "could NOT be brought back entirely" : "is back", f->j.from);
		return bad ? EX_SYSTEM : EX_NEGATIVE;
	}
	journal_write(f, "self");
	report(f);
	fabric_say("[fabric] this node reboots into %s last: its boot confirms the fabric's upgrade, or rolls "
		   "every node back (spacectl upgrade status --follow)",
		   f->j.to);
	if (node_call(f, (unsigned)f->self, "upgrade-boot", NULL, 0) < 0) {
		fabric_say("  this node: %s", f->n[f->self].why);
		undo(f);
		report(f);
		return EX_SYSTEM;
	}
	return EX_OK;
}

int fabric_upgrade_maybe(const struct opts *o)
{
	char *conf = rpath(o, FABRIC_CONF_PATH);
	struct space_err e = { "" };
	struct stat st;
	struct fu *f;
	int rc;

	if (!conf)
		return fail("upgrade", -ENOMEM);
	if (access(conf, F_OK) < 0) {
		free(conf);
		return -1; /* in no fabric: this node's own upgrade */
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		free(conf);
		return fail("upgrade", -ENOMEM);
	}
	f->o = o;
	f->file = o->file;
	f->name = strrchr(o->file, '/') ? strrchr(o->file, '/') + 1 : o->file;
	if ((rc = fu_load(f, conf, &e)) < 0 || (rc = image_release(f, &e)) < 0 ||
	    (rc = stat(o->file, &st) < 0 ? -errno : 0) < 0) {
		rc = die_msg(rc == -SPACE_E_FORMAT || rc == -ENOENT ? EX_NEGATIVE : EX_SYSTEM, "upgrade", o->file,
			     e.msg[0] ? e.msg : space_strerror(rc));
		goto out;
	}
	/* the run outlives a dropped SSH session: its lines are in PROGRESS */
	signal(SIGHUP, SIG_IGN);
	fabric_progress_open(PROGRESS, 0);
	rc = run(f, st.st_size);
	if (rc != EX_OK)
		fabric_progress_close(rc);
out:
	free(conf);
	free(f);
	return rc;
}

/* At boot the fabric address comes with fabricd, and the other nodes may
 * be booting too: wait until this node finds itself (wait_self) and each
 * node listed answers (wait_peers: its boot id is then known). */
static void wait_self(struct fu *f)
{
	time_t end = time(NULL) + 300;

	while ((f->self = fabric_self(&f->conf)) < 0 && time(NULL) < end)
		sleep(2);
}

static void wait_peers(struct fu *f)
{
	time_t end = time(NULL) + 300;

	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		struct fabric_rpc q = rpc_of(f, i);
		struct space_err e = { "" };

		if ((int)i == f->self || (!listed(f->j.staged, name_of(f, i)) && !listed(f->j.upgraded, name_of(f, i))))
			continue;
		while (fabric_rpc_info(&q, &f->n[i].fi, &e) < 0 && time(NULL) < end)
			sleep(POLL_S);
	}
}

/* How this node's boot ends the run: it confirmed the new release, or
 * it did not (fell back, or the run was cut short: a reset). */
static int resume(struct fu *f, const char *running, const struct upg_status *st)
{
	unsigned me;

	wait_self(f);
	if (f->self < 0) {
		fabric_say("[fabric] this node is not in its fabric's node list: the others are left as they are");
		return EX_SYSTEM;
	}
	me = (unsigned)f->self;
	if (!strcmp(f->j.state, "self") && !strcmp(running, f->j.to) && !strcmp(st->state, "good")) {
		for (unsigned i = 0; i < f->conf.nnodes; i++)
			f->n[i].state = listed(f->j.upgraded, name_of(f, i)) || i == me ? F_UPGRADED : F_WAITING;
		journal_write(f, "done");
		report(f);
		fabric_say("%s runs on every node of the fabric", f->j.to);
		return EX_OK;
	}
	fabric_say("[fabric] this node runs %s (%s%s%s): every node goes back to %s", running, st->state,
		   st->reason[0] ? ": " : "", st->reason, f->j.from);
	if (!strcmp(f->j.state, "self")) {
		/* its trial fell back: nothing of its own to undo */
		f->n[me].state = F_FAILED;
		snprintf(f->n[me].why, sizeof(f->n[me].why), "%s", st->reason[0] ? st->reason : "its trial fell back");
	}
	wait_peers(f);
	return undo(f) < 0 ? EX_SYSTEM : EX_NEGATIVE;
}

void fabric_upgrade_resume(const struct opts *o)
{
	char *conf = rpath(o, FABRIC_CONF_PATH), *relp = rpath(o, "/etc/space-release");
	struct release rel = { .version = "" };
	struct upg_status st;
	struct space_err e = { "" };
	struct fu *f = calloc(1, sizeof(*f));

	if (!f || !conf || !relp || journal_read(o, &f->j) < 0 ||
	    (strcmp(f->j.state, "peers") && strcmp(f->j.state, "self")))
		goto out;
	f->o = o;
	fabric_progress_open(PROGRESS, 1);
	if (fabric_conf_load(conf, &f->conf, &e) < 0) {
		fabric_say("[fabric] %s: the upgrade run cannot end: %s", conf, e.msg);
		fabric_progress_close(EX_SYSTEM);
		goto out;
	}
	release_read(relp, &rel);
	upg_status_read(o, &st);
	fabric_progress_close(resume(f, rel.version, &st));
out:
	free(conf);
	free(relp);
	free(f);
}

int fabric_upgrade_follow(const struct opts *o)
{
	char *path = rpath(o, PROGRESS);
	int r = path ? fabric_follow(path) : -ENOMEM;

	free(path);
	if (r == -ENOENT)
		return die_msg(EX_NEGATIVE, "upgrade status --follow", NULL, "no fabric upgrade has run on this node");
	return r < 0 ? fail("upgrade status --follow", r) : r;
}
