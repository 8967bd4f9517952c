/* SPDX-License-Identifier: MIT */
/* fabric.c - a hot patch applied to every node of a fabric from its VIP
 * node, all or nothing (README.md "Fabric"; issue 10).
 *
 * The phases, in order: prechecks on every node before any change (each
 * reachable, at this node's release and level, with room on /var and its
 * clock within FABRIC_CLOCK_SKEW s of this one; the bundle sent and
 * verified there); device communication blocked on every node; the other
 * nodes patched one at a time, this node last, each by its own hotpatch
 * tool with its own steps and journal (`hotpatch apply --fabric-member`);
 * when one fails, the nodes already patched are rolled back; the gates
 * opened again (those that were open); a report line per node; each
 * node's hot-patch log gathered into /var/log/hotpatch/fabric/NAME.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "exitcode.h"
#include "fdio.h"
#include "pkg/fabric/conf.h"
#include "pkg/fabric/local.h"
#include "pkg/fabric/progress.h"
#include "pkg/fabric/rpc.h"
#include "run_pipe.h"
#include "util.h"

#define FABRIC_CLOCK_SKEW 5 /* seconds between two nodes' clocks */
#define BUNDLE_MAX (256u << 20)
#define APPLY_TIMEOUT_MS (15 * 60 * 1000)
#define LOG_DIR "/var/log/hotpatch/fabric"
#define FABRIC_PROGRESS "/var/lib/hotpatch/fabric.progress"

enum node_state { N_WAITING,
		  N_PATCHED,
		  N_FAILED,
		  N_ROLLED_BACK,
		  N_ROLLBACK_FAILED };

static const char *const state_text[] = {
	[N_WAITING] = "not patched",
	[N_PATCHED] = "patched",
	[N_FAILED] = "failed",
	[N_ROLLED_BACK] = "rolled back",
	[N_ROLLBACK_FAILED] = "ROLLBACK FAILED",
};

struct fnode {
	int idx; /* in conf; -1 for this node in rpc calls */
	struct fabric_info fi;
	int was_blocked; /* the operator's block is kept */
	enum node_state state;
	double secs; /* its own apply, as this node timed it */
	char why[SPACE_ERR_MAX];
};

struct fab {
	struct hp_ctx *c;
	struct fabric_conf conf;
	int self;
	const char *bundle; /* the .tgz */
	const char *name;   /* its base name */
	char *data;         /* its bytes, sent to each node */
	size_t len;
	struct fnode n[FABRIC_NODES_MAX];
};

static struct fabric_rpc rpc_of(const struct fab *f, unsigned i)
{
	return fabric_rpc_to(&f->conf, f->self, i);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int hp_fabric_follow(void)
{
	int r = fabric_follow(FABRIC_PROGRESS);

	if (r == -ENOENT)
		return die_msg(EXIT_NEGATIVE, "status --follow", NULL, "no fabric hot patch has run on this node");
	return r < 0 ? die_err("status --follow", FABRIC_PROGRESS, r, NULL) : r;
}

/* patchme.sh passes the bundle's directory: the fabric sends the signed
 * .tgz beside it (the operator extracted it there), which every node
 * verifies for itself. */
static int find_bundle(struct fab *f, const char *arg, char *tgz, size_t n, struct space_err *err)
{
	struct stat st;
	size_t l = strlen(arg);

	while (l > 1 && arg[l - 1] == '/')
		l--;
	if (l > 4 && !strncmp(arg + l - 4, ".tgz", 4))
		snprintf(tgz, n, "%.*s", (int)l, arg);
	else
		snprintf(tgz, n, "%.*s.tgz", (int)l, arg);
	if (stat(tgz, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(err, -SPACE_E_FORMAT, "%s: not there: a fabric is patched with the bundle file", tgz);
	f->bundle = tgz;
	f->name = strrchr(tgz, '/') ? strrchr(tgz, '/') + 1 : tgz;
	return read_file(tgz, BUNDLE_MAX, &f->data, &f->len) < 0 ? err_set(err, -EIO, "read %s", tgz) : 0;
}

/* One node's prechecks: 0, or -1 with why it cannot be patched in why
 * (a buffer of its own: the node's answer is formatted into it). */
static int check_node(struct fab *f, unsigned i, const struct fabric_info *me, char *why, size_t n)
{
	const struct fabric_info *fi = &f->n[i].fi;
	struct fabric_rpc q = rpc_of(f, i);
	struct space_err e = { "" };
	long long t0 = time(NULL), t, need = (long long)(f->len * 3 >> 20) + 64;

	if (fabric_rpc_info(&q, &f->n[i].fi, &e) < 0)
		return snprintf(why, n, "unreachable: %s", e.msg), -1;
	t = atoll(fi->time);
	f->n[i].was_blocked = !strcmp(fi->gate, "blocked");
	if (strcmp(fi->release, me->release) || strcmp(fi->level, me->level))
		return snprintf(why, n, "at %s v%s, not %s v%s like this node", fi->release, fi->level, me->release,
				me->level),
		       -1;
	if (atoll(fi->var_free_mb) < need)
		return snprintf(why, n, "/var has %s MiB free, the patch needs %lld", fi->var_free_mb, need), -1;
	if (t < t0 - FABRIC_CLOCK_SKEW || t > time(NULL) + FABRIC_CLOCK_SKEW)
		return snprintf(why, n, "its clock is %+lld s off this node's (at most %d s)", t - t0, FABRIC_CLOCK_SKEW),
		       -1;
	if ((int)i == f->self)
		return 0; /* the bundle is here; hotpatch apply verifies it */
	q.in = f->data;
	q.inlen = f->len;
	if (fabric_rpc(&q, "put", f->name, &e) < 0)
		return snprintf(why, n, "sending the bundle: %s", e.msg), -1;
	q.in = NULL;
	q.inlen = 0;
	if (fabric_rpc(&q, "hotpatch-verify", f->name, &e) < 0)
		return snprintf(why, n, "the bundle does not verify there: %s", e.msg), -1;
	return 0;
}

static int precheck(struct fab *f, unsigned i, const struct fabric_info *me)
{
	char why[SPACE_ERR_MAX] = "";
	int r = check_node(f, i, me, why, sizeof(why));

	memcpy(f->n[i].why, why, sizeof(why));
	return r;
}

static int prechecks(struct fab *f)
{
	struct fabric_info me;
	struct fabric_rpc q = rpc_of(f, (unsigned)f->self);
	struct space_err e = { "" };
	int bad = 0;

	if (fabric_rpc_info(&q, &me, &e) < 0) {
		fabric_say("  this node: %s", e.msg);
		return -1;
	}
	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		f->n[i].idx = (int)i;
		if (precheck(f, i, &me) < 0) {
			fabric_say("  %s: %s", f->conf.nodes[i].name, f->n[i].why);
			bad = 1;
		} else {
			fabric_say("  %s: ready (%s v%s)", f->conf.nodes[i].name, f->n[i].fi.release, f->n[i].fi.level);
		}
	}
	return bad ? -1 : 0;
}

/* Block (or open again) every node's gate that the operator had open. */
static void gates(struct fab *f, const char *how)
{
	struct space_err e = { "" };

	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		struct fabric_rpc q = rpc_of(f, i);

		if (!f->n[i].was_blocked && fabric_rpc(&q, "gate", how, &e) < 0)
			fabric_say("  %s: device communication not %sed: %s", f->conf.nodes[i].name, how, e.msg);
	}
}

/* Node i's own hotpatch apply: a peer's over SSH, this node's as a child;
 * its steps are shown indented once it is done. */
static int patch_node(struct fab *f, unsigned i)
{
	const char *argv[] = { "/usr/sbin/hotpatch", "apply", "--fabric-member", f->bundle, NULL };
	struct fabric_rpc q = rpc_of(f, i);
	struct space_err e = { "" };
	struct buf out, err;
	struct run_pipe p = { .out = &out, .errout = &err, .max = FABRIC_RPC_OUT_MAX, .timeout_ms = APPLY_TIMEOUT_MS };
	int r;

	double t0 = now_s();

	buf_init(&out);
	buf_init(&err);
	fabric_say("%s: hotpatch apply %s", f->conf.nodes[i].name, f->name);
	if ((int)i == f->self) {
		r = run_pipe(argv, &p);
		if (r < 0)
			run_pipe_last_line(&err, f->n[i].why, sizeof(f->n[i].why));
	} else {
		q.timeout_ms = APPLY_TIMEOUT_MS;
		q.out = &out;
		r = fabric_rpc(&q, "hotpatch-apply", f->name, &e);
		if (r < 0)
			snprintf(f->n[i].why, sizeof(f->n[i].why), "%s", e.msg);
	}
	fabric_say_block(&out);
	f->n[i].secs = now_s() - t0;
	f->n[i].state = r < 0 ? N_FAILED : N_PATCHED;
	buf_free(&out);
	buf_free(&err);
	return r;
}

static void roll_back(struct fab *f)
{
	struct space_err e = { "" };

	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		struct fabric_rpc q = rpc_of(f, i);

		if (f->n[i].state != N_PATCHED)
			continue;
		fabric_say("%s: hotpatch rollback", f->conf.nodes[i].name);
		q.timeout_ms = APPLY_TIMEOUT_MS;
		if (fabric_rpc(&q, "hotpatch-rollback", NULL, &e) == 0) {
			f->n[i].state = N_ROLLED_BACK;
		} else {
			f->n[i].state = N_ROLLBACK_FAILED;
			snprintf(f->n[i].why, sizeof(f->n[i].why), "%s", e.msg);
		}
	}
}

/* Each node's hot-patch log, kept on this node beside its own. */
static void gather_logs(struct fab *f)
{
	struct space_err e = { "" };

	mkdir_p(LOG_DIR, 0755);
	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		struct fabric_rpc q = rpc_of(f, i);
		struct buf out;
		char path[256];

		buf_init(&out);
		q.out = &out;
		snprintf(path, sizeof(path), LOG_DIR "/%s.log", f->conf.nodes[i].name);
		if (fabric_rpc(&q, "log", NULL, &e) == 0 && out.p)
			write_file_atomic(path, out.p, out.len, 0644);
		buf_free(&out);
	}
}

/* One line per node; the time of the whole against its nodes' applies
 * (make bench reads it). */
static void report(const struct fab *f, double t0)
{
	double sum = 0;

	fabric_say("fabric %s:", f->name);
	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		sum += f->n[i].secs;
		fabric_say("  %-12s %s%s%s", f->conf.nodes[i].name, state_text[f->n[i].state], f->n[i].why[0] ? ": " : "",
			   f->n[i].why);
	}
	fabric_say("fabric time: %.1f s in all, %.1f s in the nodes' own applies", now_s() - t0, sum);
}

/* This node may run the fabric's patch: it is in the list and holds the
 * virtual address. */
static int check_vip_node(struct fab *f, struct space_err *err)
{
	char a[32];
	int r = fabric_conf_load(FABRIC_CONF_PATH, &f->conf, err);

	if (r < 0)
		return r;
	f->self = fabric_self(&f->conf);
	fabric_addr_str(&f->conf.vip, a, sizeof(a));
	if (f->self < 0)
		return err_set(err, -SPACE_E_FORMAT, "this node is not in its fabric's node list");
	if (fabric_addr_local(f->conf.vip.ip) != 1)
		return err_set(err, -SPACE_E_FORMAT,
			       "this node is in a fabric and does not hold its virtual address %s: patch from the VIP node",
			       a);
	return 0;
}

int hp_fabric_apply(struct hp_ctx *c, const char *arg)
{
	struct fab *f = calloc(1, sizeof(*f));
	struct space_err e = { "" };
	char tgz[4096];
	double t0 = 0;
	int r, failed = -1;

	if (!f)
		return die_err("apply", arg, -ENOMEM, NULL);
	f->c = c;
	if (c->reinstall) {
		r = die_msg(EXIT_REFUSED, "apply", arg, "--reinstall is for one node, not a fabric");
		goto out;
	}
	if ((r = check_vip_node(f, &e)) < 0 || (r = find_bundle(f, arg, tgz, sizeof(tgz), &e)) < 0) {
		r = die_err("apply", arg, r, e.msg);
		goto out;
	}
	t0 = now_s();
	fabric_progress_open(FABRIC_PROGRESS, 0);
	fabric_say("[fabric] %s on %u nodes, this node (%s) last: prechecks", f->name, f->conf.nnodes,
		   f->conf.nodes[f->self].name);
	if (prechecks(f) < 0) {
		report(f, t0);
		r = die_msg(EXIT_REFUSED, "apply", f->name, "a node failed the prechecks: no node was changed");
		goto out;
	}
	fabric_say("[fabric] device communication blocked on every node");
	gates(f, "block");
	for (unsigned i = 0; i < f->conf.nnodes && failed < 0; i++)
		if ((int)i != f->self && patch_node(f, i) < 0)
			failed = (int)i;
	if (failed < 0 && patch_node(f, (unsigned)f->self) < 0)
		failed = f->self;
	if (failed >= 0)
		roll_back(f);
	gates(f, "unblock");
	gather_logs(f);
	report(f, t0);
	if (failed >= 0) {
		r = die_msg(EXIT_SYSTEM, "apply", f->name, "the fabric stays at its level before the patch: see the report");
		goto out;
	}
	fabric_say("%s installed on every node of the fabric", f->name);
	r = EXIT_OK;
out:
	if (t0 > 0)
		fabric_progress_close(r);
	free(f->data);
	free(f);
	return r;
}
