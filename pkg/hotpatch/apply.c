/* SPDX-License-Identifier: MIT */
/* apply.c - the operations of the hotpatch tool as tables of steps with a
 * journal (apply.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "pkg/libpkg/libpkg.h"
#include "apply.h"
#include "backup.h"
#include "bundle.h"
#include "exitcode.h"
#include "fault.h"
#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "kv.h"
#include "pkg/libmgmt/release.h"
#include "util.h"

#define SPACE_MARGIN (8ull << 20) /* kept free on /var and on the slot */

struct journal {
	char action[16];
	char name[HP_NAME_MAX];
	char release[64]; /* struct release's version */
	char build[64];
	unsigned from, to;
	char step[16];
	int blocked; /* the device gate was blocked before: leave it so */
};

struct op;
struct step {
	const char *name;
	int (*fn)(struct op *o);
};

struct op {
	struct hp_ctx *c;
	struct journal j;
	const char *verb; /* for messages: apply, rollback, recover */
	struct hp_bundle b;
	bool have_bundle;
	struct release rel;
	char prel[REL_VERSION_MAX]; /* the patch release of the node */
	unsigned level;             /* installed level */
	const struct step *steps;
	unsigned nsteps, cur;
	bool boot; /* hotpatch recover: services start later */
	bool remounted;
	time_t started;
	char why[512];
};

/* Reasons are cut at their buffer on purpose (a path can be PATH_MAX
 * long; the message stays one line). */
static void put_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}
#define set_why(o, ...) put_why((o)->why, sizeof((o)->why), __VA_ARGS__)

/* ------------------------------------------------------------- paths */

static void spath(const struct op *o, char out[PATH_MAX], const char *name)
{
	if (snprintf(out, PATH_MAX, "%s/%s", o->c->state, name) >= PATH_MAX)
		out[0] = 0;
}

static void rpath(const struct op *o, char out[PATH_MAX], const char *rel)
{
	path_join(out, PATH_MAX, o->c->root, rel); /* "" when too long */
}

static void marker_rel(const struct op *o, char out[PATH_MAX], unsigned level)
{
	snprintf(out, PATH_MAX, HP_MARKER_DIR "/.%c%s-%s-Hotpatch-v%u", 'S', "pace", o->prel, level);
}

/* The marker's temporary while it is written (write_marker: the
 * WRITE_HIDDEN name of outfile.h, DIR/.BASE.tmp). It is one of the paths
 * the backup records, absent: a kill while the marker is written leaves
 * it, and the undo removes it as it removes the marker. */
static void marker_tmp_rel(const struct op *o, char out[PATH_MAX], unsigned level)
{
	snprintf(out, PATH_MAX, HP_MARKER_DIR "/..%c%s-%s-Hotpatch-v%u.tmp", 'S', "pace", o->prel, level);
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

/* ----------------------------------------------------- output and log */

/* One line to stdout and to the log, with the time in the log. */
static void say(struct op *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct op *o, const char *fmt, ...)
{
	char line[700], logp[PATH_MAX], ts[32];
	time_t now = time(NULL);
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("%s\n", line);
	fflush(stdout);
	rpath(o, logp, HP_LOG_DIR);
	mkdir_p(logp, 0750);
	rpath(o, logp, HP_LOG_FILE);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if ((f = fopen(logp, "ae"))) {
		fprintf(f, "%s %s %s: %s\n", ts, o->verb, o->j.name[0] ? o->j.name : "-", line);
		fclose(f);
	}
}

static void progress(struct op *o, const char *state, const char *msg)
{
	struct buf b;
	char p[PATH_MAX], step[48], num[32];
	/* after the last step (done, or recovered) the count stays at the end */
	unsigned cur = o->cur < o->nsteps ? o->cur : o->nsteps - 1;

	buf_init(&b);
	snprintf(step, sizeof(step), "%u/%u %s", cur + 1, o->nsteps, o->steps[cur].name);
	kv_line(&b, HP_P_ACTION, o->j.action);
	kv_line(&b, HP_P_NAME, o->j.name);
	kv_line(&b, HP_P_STATE, state);
	kv_line(&b, HP_P_STEP, step);
	kv_line(&b, HP_P_MESSAGE, msg);
	snprintf(num, sizeof(num), "%lld", (long long)o->started);
	kv_line(&b, HP_P_STARTED, num);
	snprintf(num, sizeof(num), "%lld", strcmp(state, "running") ? (long long)time(NULL) : 0LL);
	kv_line(&b, HP_P_FINISHED, num);
	snprintf(num, sizeof(num), "%ld", (long)getpid());
	kv_line(&b, HP_P_PID, num);
	spath(o, p, "progress");
	if (!buf_failed(&b))
		write_file_atomic(p, b.p, b.len, 0644);
	buf_free(&b);
}

/* One history line; the oldest dropped beyond HP_HISTORY_MAX. */
static void history(struct op *o, const char *result, const char *reason)
{
	char p[PATH_MAX], line[HP_REASON_MAX + 128], r[HP_REASON_MAX], *old = NULL;
	size_t len = 0, keep = 0, lines = 0;
	struct buf b;

	snprintf(r, sizeof(r), "%s", reason);
	for (char *s = r; *s; s++)
		if ((unsigned char)*s < 0x20)
			*s = ' ';
	snprintf(line, sizeof(line), "%lld %s %u %u %s %s\n", (long long)time(NULL), o->j.action, o->j.from,
		 o->j.to, result, r);
	spath(o, p, "history");
	buf_init(&b);
	if (read_file(p, 1u << 20, &old, &len) == 0) {
		for (size_t i = len; i > 0; i--)
			if (old[i - 1] == '\n' && i != len && ++lines == HP_HISTORY_MAX - 1) {
				keep = i;
				break;
			}
		buf_put(&b, old + keep, len - keep);
	}
	buf_puts(&b, line);
	if (!buf_failed(&b))
		write_file_atomic(p, b.p, b.len, 0644);
	buf_free(&b);
	free(old);
}

/* ------------------------------------------------------------ journal */

static int journal_write(struct op *o)
{
	struct buf b;
	char p[PATH_MAX], num[16];
	int r;

	buf_init(&b);
	kv_line(&b, HP_J_ACTION, o->j.action);
	kv_line(&b, HP_J_NAME, o->j.name);
	kv_line(&b, HP_J_RELEASE, o->j.release);
	kv_line(&b, HP_J_BUILD, o->j.build);
	snprintf(num, sizeof(num), "%u", o->j.from);
	kv_line(&b, HP_J_FROM, num);
	snprintf(num, sizeof(num), "%u", o->j.to);
	kv_line(&b, HP_J_TO, num);
	kv_line(&b, HP_J_STEP, o->j.step);
	kv_line(&b, HP_J_BLOCKED, o->j.blocked ? "1" : "0");
	spath(o, p, "journal");
	r = buf_failed(&b) ? -ENOMEM : write_file_atomic(p, b.p, b.len, 0600);
	buf_free(&b);
	return r;
}

/* The journal at step i of the operation's table. */
static int journal_step(struct op *o, unsigned i)
{
	snprintf(o->j.step, sizeof(o->j.step), "%s", o->steps[i].name);
	return journal_write(o);
}

static int journal_kv(void *ctx, const char *k, const char *v, int line)
{
	struct journal *j = ctx;
	(void)line;
	if (!strcmp(k, HP_J_ACTION))
		snprintf(j->action, sizeof(j->action), "%s", v);
	else if (!strcmp(k, HP_J_NAME))
		snprintf(j->name, sizeof(j->name), "%s", v);
	else if (!strcmp(k, HP_J_RELEASE))
		snprintf(j->release, sizeof(j->release), "%s", v);
	else if (!strcmp(k, HP_J_BUILD))
		snprintf(j->build, sizeof(j->build), "%s", v);
	else if (!strcmp(k, HP_J_FROM))
		j->from = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(k, HP_J_TO))
		j->to = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(k, HP_J_STEP))
		snprintf(j->step, sizeof(j->step), "%s", v);
	else if (!strcmp(k, HP_J_BLOCKED))
		j->blocked = !strcmp(v, "1");
	return 0;
}

static int journal_remove(struct op *o)
{
	char p[PATH_MAX];

	spath(o, p, "journal");
	if (unlink(p) < 0 && errno != ENOENT)
		return -errno;
	return fsync_parent(p);
}

/* ---------------------------------------------------- the node itself */

/* Release, patch release and installed level of the root. */
static int read_node(struct op *o)
{
	char p[PATH_MAX];
	struct hotpatch *hp = NULL;
	int n, r;

	rpath(o, p, "etc/space-release");
	if ((r = release_read(p, &o->rel)) < 0) {
		set_why(o, "%s: %s", p, space_strerror(r));
		return r;
	}
	if ((r = hp_patch_release(o->rel.version, o->prel)) < 0) {
		set_why(o, "%s: release %s has no R part", p, o->rel.version);
		return r;
	}
	rpath(o, p, HP_MARKER_DIR);
	if ((n = hotpatch_list(p, &hp)) < 0) {
		set_why(o, "%s: %s", p, space_strerror(n));
		return n;
	}
	o->level = 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(hp[i].release, o->prel) && (unsigned)hp[i].number > o->level)
			o->level = (unsigned)hp[i].number;
	hotpatch_free(hp, n);
	return 0;
}

/* The root slot writable for the install, and read-only again after (the
 * node mounts it so: README, What lives where). */
static int slot_rw(struct op *o)
{
	struct statvfs sv;

	if (!o->c->live || strcmp(o->c->root, "/") || statvfs("/", &sv) < 0 || !(sv.f_flag & ST_RDONLY))
		return 0;
	if (mount(NULL, "/", NULL, MS_REMOUNT, NULL) < 0) {
		set_why(o, "remount / read-write: %s", strerror(errno));
		return -errno;
	}
	o->remounted = true;
	return 0;
}

static void slot_ro(struct op *o)
{
	if (!o->remounted)
		return;
	sync();
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
		say(o, "note: / stays read-write until the next boot (remount read-only: %s)", strerror(errno));
	else
		o->remounted = false;
}

/* ------------------------------------------------ device gate, services */

static int gate_state_file(struct op *o, int blocked)
{
	const char *text = blocked ? "blocked=1\n" : "blocked=0\n";
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", o->c->devgate_state);
	if ((slash = strrchr(dir, '/')))
		*slash = 0;
	mkdir_p(dir, 0755);
	return write_file_atomic(o->c->devgate_state, text, strlen(text), 0644);
}

/* Ask the gate (running or not: its state file) to block or open. */
static int gate_set(struct op *o, int blocked)
{
	char *reply = NULL;
	bool sent = false;
	int r = ctl_call(o->c->devgate_socket, blocked ? "block" : "unblock", 10000, &reply, &sent);

	free(reply);
	if (r == -ENOENT || r == -ECONNREFUSED)
		/* not running (stopped, or at boot): it reads this at start */
		r = gate_state_file(o, blocked);
	if (r < 0)
		set_why(o, "device gate %s: %s", blocked ? "block" : "unblock", space_strerror(r));
	return r;
}

static int gate_blocked_now(struct op *o)
{
	char *reply = NULL, *text = NULL;
	size_t len;
	int blocked = 0;

	if (ctl_request(o->c->devgate_socket, "status", 5000, &reply) == 0)
		blocked = strstr(reply, "state=blocked") != NULL;
	else if (read_file(o->c->devgate_state, 4096, &text, &len) == 0)
		blocked = strstr(text, "blocked=1") != NULL;
	free(reply);
	free(text);
	return blocked;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Every service the watchdog runs is running and ready, and those the
 * patch names are among them. 1 yes, 0 not yet. */
static int all_ready(const char *reply, const struct hp_manifest *m, char *pending, size_t plen)
{
	int n = 0;

	*pending = 0;
	if (strncmp(reply, "ok", 2) || !strncmp(reply, "ok held", 7))
		return snprintf(pending, plen, "the watchdog"), 0;
	for (const char *l = strchr(reply, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
		const char *name = l + 1;
		if (strncmp(name, "name=", 5))
			continue;
		n++;
		if (!strstr(name, " state=running ") || !strstr(name, " ready=yes ")) {
			snprintf(pending, plen, "%.*s", (int)strcspn(name + 5, " \n"), name + 5);
			return 0;
		}
	}
	for (unsigned i = 0; m && i < m->nservice; i++) {
		char want[96];
		snprintf(want, sizeof(want), "\nname=%s ", m->service[i]);
		if (!strstr(reply, want))
			return snprintf(pending, plen, "%s", m->service[i]), 0;
	}
	return n > 0;
}

/* Release the watchdog (init starts it again) and wait for every service. */
static int services_start(struct op *o)
{
	char pending[64] = "the watchdog";
	time_t end = time(NULL) + o->c->services_timeout;

	if (unlink(o->c->watchdog_hold) < 0 && errno != ENOENT) {
		set_why(o, "remove %s: %s", o->c->watchdog_hold, strerror(errno));
		return -errno;
	}
	if (o->boot)
		return 0; /* init starts the watchdog after rcS */
	while (time(NULL) < end) {
		char *reply = NULL;
		int r = ctl_request(o->c->watchdog_socket, "status", 5000, &reply);
		int ok = r == 0 && all_ready(reply, o->have_bundle ? o->b.m : NULL, pending, sizeof(pending));
		free(reply);
		if (ok)
			return 0;
		sleep_ms(250);
	}
	set_why(o, "services not ready within %d s: %s", o->c->services_timeout, pending);
	return -ETIMEDOUT;
}

/* Stop every service and the watchdog, which stays down while the hold
 * file exists. */
static int services_stop(struct op *o)
{
	char *reply = NULL;
	bool sent = false;
	int r = ctl_call(o->c->watchdog_socket, "shutdown hold", 180000, &reply, &sent);

	free(reply);
	if (r == -ENOENT || r == -ECONNREFUSED) /* not running: keep init from starting it */
		r = write_file_atomic(o->c->watchdog_hold, "hotpatch\n", 9, 0644);
	if (r < 0) {
		set_why(o, "watchdog shutdown: %s", space_strerror(r));
		return r;
	}
	/* it exits once the services are down: wait for its socket to close */
	for (int i = 0; i < 300; i++) {
		if (ctl_request(o->c->watchdog_socket, "status", 2000, &reply) < 0 && !reply)
			return 0;
		free(reply);
		reply = NULL;
		sleep_ms(100);
	}
	set_why(o, "the watchdog did not exit after its shutdown");
	return -ETIMEDOUT;
}

/* --------------------------------------------------------- the steps */

static int st_block(struct op *o)
{
	if (!o->c->live)
		return say(o, "  offline root: no device gate"), 0;
	if (o->j.blocked)
		say(o, "  device communication was blocked already: it stays blocked");
	return gate_set(o, 1);
}

static int st_stop(struct op *o)
{
	if (!o->c->live)
		return say(o, "  offline root: no services"), 0;
	return services_stop(o);
}

/* Every path the patch can change: the files of the installed and of the
 * new version of each package, their database records, the configuration
 * files the manifest names (and their .new), and the marker. */
static int patch_paths(struct op *o, struct hp_paths *ps)
{
	struct pkg_db db = { 0 };
	struct space_err err;
	char p[PATH_MAX];
	int r;

	if ((r = pkg_db_open(o->c->root, false, &db, &err)) < 0) {
		set_why(o, "%s", err.msg);
		return r;
	}
	for (unsigned i = 0; i < o->b.m->npkg && r == 0; i++) {
		struct pkg_meta nm = { 0 }, *om = pkg_db_find(&db, o->b.m->pkg[i].name);
		if ((r = pkg_read_meta(o->b.pkgfile[i], &nm, &err)) < 0) {
			set_why(o, "%s", err.msg);
			break;
		}
		for (size_t k = 0; k < nm.n_entries && r == 0; k++) {
			r = hp_paths_add(ps, nm.entries[k].path);
			if (r == 0 && nm.entries[k].config) {
				snprintf(p, sizeof(p), "%s.new", nm.entries[k].path);
				r = hp_paths_add(ps, p);
			}
		}
		for (size_t k = 0; om && k < om->n_entries && r == 0; k++)
			r = hp_paths_add(ps, om->entries[k].path);
		snprintf(p, sizeof(p), PKG_DB_DIR "/installed/%s", nm.name);
		if (r == 0)
			r = hp_paths_add(ps, p);
		pkg_meta_free(&nm);
	}
	for (unsigned i = 0; i < o->b.m->nbackup && r == 0; i++)
		r = hp_paths_add(ps, o->b.m->backup[i]);
	marker_rel(o, p, o->j.to);
	if (r == 0)
		r = hp_paths_add(ps, p);
	marker_tmp_rel(o, p, o->j.to);
	if (r == 0)
		r = hp_paths_add(ps, p);
	pkg_db_close(&db);
	if (r < 0 && !o->why[0])
		set_why(o, "list of paths: %s", space_strerror(r));
	hp_paths_finish(ps);
	return r;
}

/* Free space on the filesystem holding path, in bytes. */
static uint64_t avail(const char *path)
{
	struct statvfs sv;
	return statvfs(path, &sv) == 0 ? (uint64_t)sv.f_bavail * sv.f_frsize : 0;
}

static int st_backup(struct op *o)
{
	struct hp_paths ps = { 0 };
	char dir[PATH_MAX], p[PATH_MAX], why[400];
	struct space_err err;
	uint64_t need = 0, have;
	int r;

	spath(o, dir, "backup.new");
	remove_tree(dir);
	if ((r = patch_paths(o, &ps)) < 0 || (r = hp_backup_size(o->c->root, &ps, &need)) < 0)
		goto out;
	if ((have = avail(o->c->state)) < need + SPACE_MARGIN) {
		set_why(o, "%s: %llu bytes free, the backup needs %llu", o->c->state,
			(unsigned long long)have, (unsigned long long)(need + SPACE_MARGIN));
		r = -ENOSPC;
		goto out;
	}
	if ((r = hp_backup_save(o->c->root, &ps, dir, &err)) < 0) {
		set_why(o, "backup %s", err.msg);
		goto out;
	}
	/* what this backup undoes, and the inventory it returns to */
	spath(o, p, "backup.new/undoes");
	snprintf(why, sizeof(why), "%s\n%u\n", o->j.name, o->j.from);
	if ((r = write_file_atomic(p, why, strlen(why), 0600)) == 0) {
		char src[PATH_MAX], *text = NULL;
		size_t len;
		spath(o, src, "applied");
		spath(o, p, "backup.new/applied");
		if ((r = read_file(src, HP_MANIFEST_MAX, &text, &len)) == 0)
			r = write_file_atomic(p, text, len, 0600);
		else if (r == -ENOENT)
			r = 0;
		free(text);
	}
	if (r < 0)
		set_why(o, "backup %s: %s", dir, space_strerror(r));
	else
		say(o, "  %zu paths, %llu bytes saved in %s", ps.n, (unsigned long long)need, dir);
out:
	hp_paths_free(&ps);
	return r;
}

static int write_marker(struct op *o)
{
	char rel[PATH_MAX], p[PATH_MAX];
	struct buf b;
	int r;

	buf_init(&b);
	for (unsigned i = 0; i < o->b.m->npkg; i++)
		buf_printf(&b, "%s %s-%s\n", o->b.m->pkg[i].name, o->b.m->pkg[i].version, o->b.m->pkg[i].release);
	marker_rel(o, rel, o->j.to);
	rpath(o, p, rel);
	/* its temporary has a fixed name, one of the backup's paths
	 * (marker_tmp_rel): the state lock keeps other writers out */
	r = buf_failed(&b) ? -ENOMEM : write_file_atomic_at(AT_FDCWD, p, b.p, b.len, 0644, WRITE_HIDDEN);
	buf_free(&b);
	if (r < 0)
		set_why(o, "marker %s: %s", p, space_strerror(r));
	return r;
}

static int st_install(struct op *o)
{
	struct pkg_install_opts io = { .flags = geteuid() ? PKG_NO_CHOWN : 0 };
	struct pkg_db db = { 0 };
	struct space_err err;
	int r;

	if ((r = slot_rw(o)) < 0)
		return r;
	if ((r = pkg_db_open(o->c->root, false, &db, &err)) < 0) {
		set_why(o, "%s", err.msg);
		return r;
	}
	for (unsigned i = 0; i < o->b.m->npkg; i++) {
		struct pkg_install_result res = { 0 };
		const struct hp_package *p = &o->b.m->pkg[i];
		err_clear(&err);
		if ((r = pkg_install(&db, o->b.pkgfile[i], &io, &res, &err)) < 0 ||
		    (r = i == 0 ? hp_fault("install-pkg") : 0) < 0) {
			set_why(o, "install %s %s-%s: %s", p->name, p->version, p->release,
				err_msg(&err, r));
			goto out;
		}
		say(o, "  %s %s-%s installed%s", p->name, p->version, p->release,
		    res.n_new_configs ? " (a changed configuration file kept: the new one is beside it as .new)" : "");
		hp_crash("install-pkg");
	}
	if ((r = write_marker(o)) == 0)
		r = syncfs(db.dbfd) < 0 ? -errno : 0;
out:
	pkg_db_close(&db);
	slot_ro(o);
	return r;
}

static int st_start(struct op *o)
{
	if (!o->c->live)
		return say(o, "  offline root: no services"), 0;
	return services_start(o);
}

static int st_unblock(struct op *o)
{
	if (!o->c->live)
		return 0;
	if (o->j.blocked)
		return say(o, "  device communication stays blocked, as it was before"), 0;
	return gate_set(o, 0);
}

/* The backups and the inventory follow the new level. Idempotent: the
 * recovery of a kill inside it runs it again. */
static int finish_apply(struct op *o)
{
	char bnew[PATH_MAX], bcur[PATH_MAX], bold[PATH_MAX], pend[PATH_MAX], applied[PATH_MAX];

	spath(o, bnew, "backup.new");
	spath(o, bcur, "backup");
	spath(o, bold, "backup.old");
	spath(o, pend, "pending.manifest");
	spath(o, applied, "applied");
	if (!strcmp(o->j.action, "reinstall")) {
		/* the level is the one it was: the backup of the state before
		 * it stays what a rollback returns to (this one would return to
		 * the same level, and replace the way back) */
		remove_tree(bnew);
	} else if (exists(bnew)) {
		if (exists(bcur) && rename(bcur, bold) < 0)
			return -errno;
		if (rename(bnew, bcur) < 0)
			return -errno;
	}
	remove_tree(bold);
	if (exists(pend) && rename(pend, applied) < 0)
		return -errno;
	return fsync_parent(applied);
}

static int finish_rollback(struct op *o)
{
	char bcur[PATH_MAX], bold[PATH_MAX], src[PATH_MAX], applied[PATH_MAX], *text = NULL;
	size_t len;
	int r = 0;

	spath(o, bcur, "backup");
	spath(o, bold, "backup.old");
	spath(o, src, "backup/applied");
	spath(o, applied, "applied");
	if (exists(bcur)) {
		if ((r = read_file(src, HP_MANIFEST_MAX, &text, &len)) == 0)
			r = write_file_atomic(applied, text, len, 0644);
		else if (r == -ENOENT)
			r = unlink(applied) < 0 && errno != ENOENT ? -errno : 0;
		free(text);
		if (r == 0 && rename(bcur, bold) < 0)
			r = -errno;
	}
	remove_tree(bold);
	return r < 0 ? r : fsync_parent(applied);
}

static int st_finish(struct op *o)
{
	int r = !strcmp(o->j.action, "rollback") ? finish_rollback(o) : finish_apply(o);

	if (r < 0)
		set_why(o, "%s: %s", o->c->state, space_strerror(r));
	return r;
}

/* rollback's own steps */
static int st_check(struct op *o)
{
	(void)o;
	return 0;
}

static int restore_from(struct op *o, const char *name)
{
	struct pkg_db db = { 0 };
	struct space_err err;
	char dir[PATH_MAX];
	int r;

	spath(o, dir, name);
	if ((r = slot_rw(o)) < 0)
		return r;
	/* pkg's own journal first: a package transaction cut by a kill is
	 * finished or undone now, so that no later pkg command renames its
	 * temporaries over what the backup puts back */
	if ((r = pkg_db_open(o->c->root, false, &db, &err)) < 0) {
		set_why(o, "%s", err.msg);
		slot_ro(o);
		return r;
	}
	pkg_db_close(&db);
	if ((r = hp_backup_restore(o->c->root, dir, geteuid() == 0, &err)) < 0)
		set_why(o, "restore %s", err.msg);
	slot_ro(o);
	return r;
}

static int st_restore(struct op *o)
{
	int r = restore_from(o, "backup");

	if (r == 0)
		hp_crash("restore-done");
	return r;
}

static const struct step apply_steps[] = {
	{ "verify", NULL },
	{ "block", st_block },
	{ "stop", st_stop },
	{ "backup", st_backup },
	{ "install", st_install },
	{ "start", st_start },
	{ "unblock", st_unblock },
	{ "finish", st_finish },
};
static const struct step rollback_steps[] = {
	{ "check", st_check },
	{ "block", st_block },
	{ "stop", st_stop },
	{ "restore", st_restore },
	{ "start", st_start },
	{ "unblock", st_unblock },
	{ "finish", st_finish },
};
#define NSTEPS(t) (unsigned)(sizeof(t) / sizeof((t)[0]))

static unsigned step_index(const struct step *t, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return i;
	return n;
}
/* The step from which the root is changed (install/restore) and from
 * which it is complete (start). */
#define STEP_CHANGE(t, n) step_index(t, n, (t) == rollback_steps ? "restore" : "install")
#define STEP_DONE(t, n) step_index(t, n, "start")

/* -------------------------------------------------------- the driver */

static void op_init(struct op *o, struct hp_ctx *c, const char *verb, const struct step *t, unsigned n)
{
	memset(o, 0, sizeof(*o));
	o->c = c;
	o->verb = verb;
	o->steps = t;
	o->nsteps = n;
	o->started = time(NULL);
	snprintf(c->state, sizeof(c->state), "%s%s" HP_STATE_DIR, c->root,
		 c->root[0] && c->root[strlen(c->root) - 1] == '/' ? "" : "/");
}

/* Run the steps from `from`, journalling each before it runs. */
static int run(struct op *o, unsigned from)
{
	int r;

	for (o->cur = from; o->cur < o->nsteps; o->cur++) {
		const struct step *s = &o->steps[o->cur];
		if ((r = journal_step(o, o->cur)) < 0) {
			set_why(o, "journal %s: %s", o->c->state, space_strerror(r));
			return r;
		}
		say(o, "[%u/%u] %s", o->cur + 1, o->nsteps, s->name);
		progress(o, "running", s->name);
		hp_crash(s->name);
		if ((r = hp_fault(s->name)) < 0) {
			set_why(o, "%s: %s", s->name, space_strerror(r));
			return r;
		}
		if ((r = s->fn(o)) < 0)
			return r;
	}
	return 0;
}

/* Take the node back to where the operation began, from step `at` (the
 * one that failed or was cut): the root from the backup if the step
 * changed it, then the services and the device gate as they were. A
 * failure leaves the journal, so the next run or boot tries again. */
static int undo(struct op *o, unsigned at)
{
	unsigned chg = STEP_CHANGE(o->steps, o->nsteps), stop = step_index(o->steps, o->nsteps, "stop"),
		 block = step_index(o->steps, o->nsteps, "block");
	char p[PATH_MAX], why[sizeof(o->why)];
	int r;

	memcpy(why, o->why, sizeof(why));
	if (!strcmp(o->j.action, "rollback") && at >= chg)
		return -EINVAL; /* a rollback past its restore is completed, not undone */
	if (at >= chg) {
		if (at > chg && o->c->live && !o->boot)
			services_stop(o); /* they run on the new packages */
		/* the journal follows the undo: a restore cut half-way is run
		 * again (never completed from `start` on a half-restored root),
		 * and once the root is back only the cleanup is left (never a
		 * restore from the backup being removed) */
		if ((r = journal_step(o, chg)) < 0 || (r = restore_from(o, "backup.new")) < 0 ||
		    (r = journal_step(o, chg - 1)) < 0)
			return r;
		say(o, "  the root is back as it was before %s", o->j.name);
		hp_crash("undo");
	}
	spath(o, p, "backup.new");
	remove_tree(p);
	spath(o, p, "pending.manifest");
	unlink(p);
	if (o->c->live && at >= stop && (r = services_start(o)) < 0)
		say(o, "  %s", o->why);
	if (o->c->live && at >= block && (r = gate_set(o, o->j.blocked)) < 0)
		say(o, "  %s", o->why);
	memcpy(o->why, why, sizeof(why));
	return journal_remove(o);
}

/* The end of an operation that failed at o->cur: undone, or (past the
 * point where the root is complete) left to be completed. */
static int failed(struct op *o, int err)
{
	unsigned at = o->cur;
	char why[sizeof(o->why)];
	int r;

	snprintf(why, sizeof(why), "%s", o->why[0] ? o->why : space_strerror(err));
	/* a refusal (a package conflict, a damaged backup) found once the
	 * root was being changed: 1 would say that nothing was */
	if (err <= -SPACE_E_FIRST && at >= STEP_CHANGE(o->steps, o->nsteps))
		err = -EIO;
	if (at >= STEP_DONE(o->steps, o->nsteps) && strcmp(o->steps[at].name, "start")) {
		progress(o, "failed", why);
		history(o, "failed", why);
		set_why(o, "%s; at level v%u, the next hotpatch run or boot completes it", why,
			o->j.to);
		return err;
	}
	if (!strcmp(o->j.action, "rollback") && at >= STEP_CHANGE(o->steps, o->nsteps)) {
		/* a restore cut short cannot be undone (there is no backup of a
		 * half-restored root); it is done again: the journal stays */
		progress(o, "failed", why);
		history(o, "failed", why);
		set_why(o, "%s; the rollback to v%u is completed by the next hotpatch run or boot", why, o->j.to);
		return err;
	}
	r = undo(o, at);
	if (r < 0) {
		progress(o, "failed", o->why);
		history(o, "failed", why);
		set_why(o, "%s; undoing it failed too (%s): the next hotpatch run or boot completes the %s",
			why, space_strerror(r), strcmp(o->j.action, "rollback") ? "undo" : "rollback");
		return err;
	}
	/* the outcome is known (undone): 99 would say it is not */
	if (err == -ETIMEDOUT)
		err = -EIO;
	progress(o, "rolled-back", why);
	history(o, at >= STEP_CHANGE(o->steps, o->nsteps) ? "rolled-back" : "failed", why);
	set_why(o, "%s; the node is as it was, at level v%u", why, o->j.from);
	return err;
}

static int lock_state(struct hp_ctx *c, struct space_err *err)
{
	char p[PATH_MAX];
	int r;

	if ((r = mkdir_p(c->state, 0700)) < 0)
		return err_set(err, r, "%s: %s", c->state, space_strerror(r));
	if (snprintf(p, sizeof(p), "%s/lock", c->state) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	if ((c->lockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return err_set(err, -errno, "%s: %s", p, strerror(errno));
	if (flock(c->lockfd, LOCK_EX | LOCK_NB) < 0) {
		close(c->lockfd);
		return err_set(err, -EBUSY, "%s: another hotpatch is running", p);
	}
	return 0;
}

/* Undo or complete what the journal says was cut; 0 if there was none. */
static int recover(struct hp_ctx *c, bool boot, struct space_err *err)
{
	struct op o;
	char p[PATH_MAX];
	unsigned at;
	bool undone;
	int r, line;

	op_init(&o, c, "recover", apply_steps, NSTEPS(apply_steps));
	o.boot = boot;
	spath(&o, p, "journal");
	if (!exists(p))
		return 0;
	if ((r = kv_parse_file(p, 4096, journal_kv, &o.j, &line)) < 0 || (r = read_node(&o)) < 0) {
		return err_set(err, r, "%s: %s", p, o.why[0] ? o.why : "damaged journal");
	}
	if (strcmp(o.j.build, o.rel.build_id) || strcmp(o.j.release, o.rel.version)) {
		return err_set(err, 0, "%s: of release %s build %s, not this slot's: left alone", p, o.j.release,
			       o.j.build);
	}
	if (!strcmp(o.j.action, "rollback")) {
		o.steps = rollback_steps;
		o.nsteps = NSTEPS(rollback_steps);
	}
	if ((at = step_index(o.steps, o.nsteps, o.j.step)) == o.nsteps) {
		return err_set(err, -SPACE_E_FORMAT, "%s: unknown step %s", p, o.j.step);
	}
	say(&o, "an interrupted %s of %s (at %s) is %s", o.j.action, o.j.name, o.j.step,
	    at < STEP_CHANGE(o.steps, o.nsteps) || (at < STEP_DONE(o.steps, o.nsteps) && strcmp(o.j.action, "rollback")) ? "undone" : "completed");
	o.cur = at;
	undone = at < STEP_CHANGE(o.steps, o.nsteps) ||
		 (at < STEP_DONE(o.steps, o.nsteps) && strcmp(o.j.action, "rollback"));
	if (undone) {
		set_why(&o, "interrupted at %s", o.j.step);
		r = undo(&o, at);
		if (r == 0)
			history(&o, at >= STEP_CHANGE(o.steps, o.nsteps) ? "rolled-back" : "failed", o.why);
	} else if ((r = run(&o, at)) == 0) {
		history(&o, "ok", "completed after an interruption");
		r = journal_remove(&o);
	} else if (strcmp(o.j.action, "rollback") && !strcmp(o.steps[o.cur].name, "start")) {
		/* the new level's services do not come up: undone, as the
		 * same failure of a running apply is (not retried forever) */
		char cause[sizeof(o.why)];
		snprintf(cause, sizeof(cause), "%s", o.why);
		if ((r = undo(&o, o.cur)) == 0) {
			history(&o, "rolled-back", cause);
			undone = true;
		}
	}
	progress(&o, r == 0 ? "ok" : "failed", r == 0 ? "recovered" : o.why);
	if (r < 0)
		err_set(err, r, "%s", o.why);
	else
		say(&o, "recovered: level v%u", undone ? o.j.from : o.j.to);
	return r;
}

int hp_recover(struct hp_ctx *c, bool boot)
{
	struct space_err err = { "" };
	struct op o;
	int r;

	op_init(&o, c, "recover", apply_steps, 1);
	if ((r = lock_state(c, &err)) < 0)
		return die_err("recover", c->root, r, err.msg);
	r = recover(c, boot, &err);
	close(c->lockfd);
	if (r < 0)
		return die_err("recover", c->root, r, err.msg);
	if (err.msg[0]) /* left alone: not this slot's journal */
		fprintf(stderr, "hotpatch: recover: %s\n", err.msg);
	return 0;
}

/* ------------------------------------------------------------- apply */

/* Open the bundle (a directory, or a .tgz extracted into the work
 * directory) and verify it; the copies used are in the work directory. */
static int open_bundle(struct op *o, const char *bundle)
{
	char work[PATH_MAX], dir[PATH_MAX];
	const char *base = strrchr(bundle, '/') ? strrchr(bundle, '/') + 1 : bundle;
	struct space_err err;
	struct stat st;
	int r;

	spath(o, work, "work");
	remove_tree(work);
	if (mkdir(work, 0700) < 0)
		return set_why(o, "%s: %s", work, strerror(errno)), -errno;
	if (stat(bundle, &st) < 0)
		return set_why(o, "%s", strerror(errno)), -errno;
	if (S_ISDIR(st.st_mode)) {
		char real[PATH_MAX];
		/* the name bound is the directory's own, also for "." */
		if (!realpath(bundle, real))
			return set_why(o, "%s", strerror(errno)), -errno;
		base = strrchr(real, '/') + 1;
		snprintf(dir, sizeof(dir), "%s/%s", work, base);
		if (mkdir(dir, 0700) < 0)
			return set_why(o, "%s: %s", dir, strerror(errno)), -errno;
		r = hp_bundle_verify(&o->b, real, base, o->c->ca, dir, &err);
	} else if ((r = hp_bundle_extract(bundle, work, dir, &err)) == 0) {
		r = hp_bundle_verify(&o->b, dir, base, o->c->ca, NULL, &err);
	}
	o->have_bundle = true;
	if (r < 0)
		set_why(o, "%s", err.msg);
	return r;
}

/* May this bundle go onto this node now? */
static int check_policy(struct op *o)
{
	const struct hp_manifest *m = o->b.m;
	char p[PATH_MAX];
	struct space_err err;
	enum hp_order ord = hp_level_order(o->level, m->patch);
	uint64_t have;
	struct stat st;

	if (hp_check_release(m, o->rel.version, &err) < 0)
		return set_why(o, "%s (installed level v%u)", err.msg, o->level), -SPACE_E_FORMAT;
	if (ord == HP_OLDER)
		return set_why(o,
			       "v%u is older than the installed level v%u of %s: refused (patches are cumulative: v%u holds it)",
			       m->patch, o->level, o->prel, o->level),
		       -SPACE_E_FORMAT;
	if (ord == HP_SAME && !o->c->reinstall)
		return set_why(o, "v%u of %s is installed already (use --reinstall to install it again)",
			       m->patch, o->prel),
		       -SPACE_E_FORMAT;
	/* a fabric node is patched by its VIP node (fabric.c), which runs
	 * this with --fabric-member on each node */
	rpath(o, p, "etc/space-cluster.conf");
	if (!o->c->fabric_member && stat(p, &st) == 0)
		return set_why(o, "this node is in a fabric (%s): a fabric is patched from its VIP node", p),
		       -SPACE_E_FORMAT;
	/* the new files are written beside the old ones before the renames */
	if ((have = avail(o->c->root)) < o->b.pkg_bytes * 3 + SPACE_MARGIN)
		return set_why(o, "%s: %llu bytes free, the packages need about %llu", o->c->root,
			       (unsigned long long)have, (unsigned long long)(o->b.pkg_bytes * 3 + SPACE_MARGIN)),
		       -ENOSPC;
	return 0;
}

static int save_pending(struct op *o)
{
	char src[PATH_MAX], dst[PATH_MAX], *text = NULL;
	size_t len;
	int r;

	if (snprintf(src, sizeof(src), "%s/" HP_MEMBER_MANIFEST, o->b.dir) >= (int)sizeof(src))
		return -ENAMETOOLONG;
	spath(o, dst, "pending.manifest");
	if ((r = read_file(src, HP_MANIFEST_MAX, &text, &len)) == 0)
		r = write_file_atomic(dst, text, len, 0644);
	free(text);
	if (r < 0)
		set_why(o, "%s: %s", dst, space_strerror(r));
	return r;
}

int hp_apply(struct hp_ctx *c, const char *bundle)
{
	struct op o;
	struct space_err err = { "" };
	char work[PATH_MAX];
	int r;

	op_init(&o, c, "apply", apply_steps, NSTEPS(apply_steps));
	if ((r = lock_state(c, &err)) < 0)
		return die_err("apply", bundle, r, err.msg);
	if ((r = recover(c, false, &err)) < 0) {
		close(c->lockfd);
		return die_err("apply", bundle, r, err.msg);
	}
	snprintf(o.j.action, sizeof(o.j.action), "%s", c->reinstall ? "reinstall" : "apply");
	say(&o, "[1/%u] verify %s", o.nsteps, bundle);
	progress(&o, "running", "verify");
	if ((r = read_node(&o)) < 0 || (r = open_bundle(&o, bundle)) < 0 || (r = check_policy(&o)) < 0) {
		progress(&o, "failed", o.why);
		goto out;
	}
	snprintf(o.j.name, sizeof(o.j.name), "%s", o.b.m->name);
	snprintf(o.j.release, sizeof(o.j.release), "%s", o.rel.version);
	snprintf(o.j.build, sizeof(o.j.build), "%s", o.rel.build_id);
	o.j.from = o.level;
	o.j.to = o.b.m->patch;
	o.j.blocked = c->live ? gate_blocked_now(&o) : 0;
	say(&o, "  %s for %s: signature, chain, name and %u packages verified; level v%u -> v%u", o.b.m->name,
	    o.b.m->release, o.b.m->npkg, o.j.from, o.j.to);
	if ((r = save_pending(&o)) < 0 || (r = run(&o, 1)) < 0) {
		r = failed(&o, r);
		goto out;
	}
	if ((r = journal_remove(&o)) < 0) {
		set_why(&o, "journal: %s", space_strerror(r));
		goto out;
	}
	history(&o, "ok", "");
	progress(&o, "ok", "installed");
	say(&o, "%s installed: level v%u (was v%u)", o.b.m->name, o.j.to, o.j.from);
out:
	if (o.have_bundle)
		hp_bundle_close(&o.b);
	spath(&o, work, "work");
	remove_tree(work);
	close(c->lockfd);
	return r < 0 ? die_err(c->reinstall ? "reinstall" : "apply", bundle, r, o.why) : 0;
}

/* ---------------------------------------------------------- rollback */

int hp_rollback(struct hp_ctx *c)
{
	struct op o;
	struct space_err err = { "" };
	char p[PATH_MAX], *text = NULL;
	size_t len;
	int r;

	op_init(&o, c, "rollback", rollback_steps, NSTEPS(rollback_steps));
	if ((r = lock_state(c, &err)) < 0)
		return die_err("rollback", c->root, r, err.msg);
	if ((r = recover(c, false, &err)) < 0 || (r = read_node(&o)) < 0) {
		close(c->lockfd);
		return die_err("rollback", c->root, r, err.msg[0] ? err.msg : o.why);
	}
	snprintf(o.j.action, sizeof(o.j.action), "rollback");
	hp_bundle_name(o.j.name, "space", o.prel, o.level);
	spath(&o, p, "backup/undoes");
	if (o.level == 0) {
		r = -SPACE_E_FORMAT;
		set_why(&o, "no hot patch of %s is installed", o.prel);
	} else if (read_file(p, 256, &text, &len) < 0 || strncmp(text, o.j.name, strlen(o.j.name)) ||
		   text[strlen(o.j.name)] != '\n') {
		r = -SPACE_E_FORMAT;
		set_why(&o, "no backup of the state before v%u (only the last patch applied can be rolled back)",
			o.level);
	}
	if (r < 0)
		goto out;
	snprintf(o.j.release, sizeof(o.j.release), "%s", o.rel.version);
	snprintf(o.j.build, sizeof(o.j.build), "%s", o.rel.build_id);
	o.j.from = o.level;
	o.j.to = (unsigned)strtoul(text + strlen(o.j.name) + 1, NULL, 10);
	o.j.blocked = c->live ? gate_blocked_now(&o) : 0;
	if ((r = run(&o, 0)) < 0) {
		r = failed(&o, r);
		goto out;
	}
	if ((r = journal_remove(&o)) < 0)
		goto out;
	history(&o, "ok", "");
	progress(&o, "ok", "rolled back");
	say(&o, "rolled back from v%u to v%u", o.j.from, o.j.to);
out:
	free(text);
	close(c->lockfd);
	return r < 0 ? die_err("rollback", o.j.name, r, o.why) : 0;
}

/* ------------------------------------------------------------ verify */

int hp_verify_only(struct hp_ctx *c, const char *bundle)
{
	char tmp[] = "/tmp/hotpatch.XXXXXX", dir[PATH_MAX];
	struct space_err err = { "" };
	const char *base = strrchr(bundle, '/') ? strrchr(bundle, '/') + 1 : bundle;
	struct hp_bundle b = { .dfd = -1 };
	struct stat st;
	int r;

	if (stat(bundle, &st) < 0)
		return die_err("verify", bundle, -errno, NULL);
	if (S_ISDIR(st.st_mode)) {
		char real[PATH_MAX];
		if (!realpath(bundle, real))
			return die_err("verify", bundle, -errno, NULL);
		r = hp_bundle_verify(&b, real, strrchr(real, '/') + 1, c->ca, NULL, &err);
	} else if (!mkdtemp(tmp)) {
		return die_err("verify", bundle, -errno, "temporary directory");
	} else {
		if ((r = hp_bundle_extract(bundle, tmp, dir, &err)) == 0)
			r = hp_bundle_verify(&b, dir, base, c->ca, NULL, &err);
		remove_tree(tmp);
	}
	if (r == 0) {
		printf("%s: verified: release %s, level v%u, %u fixes, %u packages\n", b.m->name, b.m->release,
		       b.m->patch, b.m->nfix, b.m->npkg);
		for (unsigned i = 0; i < b.m->nfix; i++)
			printf("  fix v%u %s %s\n", b.m->fix[i].level, b.m->fix[i].id, b.m->fix[i].text);
		for (unsigned i = 0; i < b.m->npkg; i++)
			printf("  package %s %s-%s\n", b.m->pkg[i].name, b.m->pkg[i].version, b.m->pkg[i].release);
	}
	if (b.m)
		hp_bundle_close(&b);
	return r < 0 ? die_err("verify", bundle, r, err.msg) : 0;
}
