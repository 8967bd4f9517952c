/* SPDX-License-Identifier: MIT */
/* upgrade.c - `spacectl upgrade FILE | status | rollback | confirm`; see
 * upgrade.h and UPGRADE.md.
 *
 * upgrade FILE, in this order, and nothing is written before step 4:
 *   1. one upgrade at a time (a lock on /var/lib/upgrade/lock); not during
 *      a trial boot
 *   2. the node's checks: an off-node backup recent enough, the clock
 *      within clock_max_offset of the time server, free space on /var
 *   3. the image, read once without unpacking: manifest, name binding,
 *      signature and chain against the root CA the running release
 *      carries, member order, the slot member's SHA-256; then, read again,
 *      the policy (product, target, upgrade path, slot size)
 *   4. the inactive slot is marked empty in grubenv (ver_x=""), then the
 *      slot image streams into it while it is hashed; the digests of the
 *      member and of the unpacked image must match the manifest
 *   5. read back from the disk and compared; only then grubenv gets
 *      ver_x=<release>, slot_try=x, try_left=1 (one sector)
 * The reboot boots slot x once; `upgrade confirm` (run at boot) keeps it
 * when every service is ready, else the next boot is the old slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "image/ova-verify/verify.h"
#include "image/release/slotwrite.h"
#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/records.h"
#include "json.h"
#include "kv.h"
#include "pkg/libmgmt/sntp.h"
#include "openreg.h"
#include "upgrade.h"
#include "util.h"

struct upg {
	const struct opts *o;
	struct node n;
	struct upg_conf c;
	struct upg_status st;
	FILE *log;
	char slot; /* the slot being written */
	int slot_fd;
	struct slot_writer w;
	bool touched;          /* the slot was marked empty */
	unsigned char sha[32]; /* of the slot image, from the manifest */
	int pct;               /* last progress shown */
	const char *verb;      /* for messages without a file: "confirm" */
	bool tty;
	struct space_err err; /* the reason of the last failure */
};

static char up(char s)
{
	return (char)(s - 'a' + 'A');
}

/* Record the outcome of a failed step: status file, log, one message. */
static int refuse(struct upg *u, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(struct upg *u, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->st.reason, sizeof(u->st.reason), fmt, ap);
	va_end(ap);
	if (u->touched)
		snprintf(u->st.reason + strlen(u->st.reason), sizeof(u->st.reason) - strlen(u->st.reason),
			 " (slot %c is marked empty; the running release is unaffected)", up(u->slot));
	snprintf(u->st.state, sizeof(u->st.state), "failed");
	u->st.finished = (long long)time(NULL);
	upg_status_write(u->o, &u->st);
	upg_log(u->log, "failed: %s", u->st.reason);
	if (u->tty)
		fputc('\n', stderr);
	fprintf(stderr, "spacectl: upgrade%s%s: %s\n", " ", u->o->file ? u->o->file : u->verb,
		u->st.reason);
	return rc;
}

/* A zeroed upgrade context for verb ("" for upgrade FILE), with the
 * status file read; NULL when out of memory. */
static struct upg *upg_new(const struct opts *o, const char *verb)
{
	struct upg *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->o = o;
	u->verb = verb;
	u->slot_fd = -1;
	u->n.fd = -1;
	upg_status_read(o, &u->st);
	return u;
}

static int env_commit(struct upg *u, const char *what)
{
	int r = bootenv_commit(&u->n.env);

	if (r < 0)
		err_set(&u->err, r, "grubenv (%s): %s", what, space_strerror(r));
	else
		upg_log(u->log, "grubenv: %s", what);
	return r;
}

static int env_set(struct upg *u, const char *k, const char *v)
{
	return grub_env_set(u->n.env.block, k, v);
}

/* ------------------------------------------------------ node checks */

static int check_backup(struct upg *u)
{
	struct {
		long long time;
		char where[256], offnode[8];
	} b = { 0 };
	char *p = rpath(u->o, UPG_DIR "/backup"), *text = NULL, *save = NULL;
	size_t len;
	int r = p ? read_file(p, 16 << 10, &text, &len) : -ENOMEM;

	free(p);
	if (r == -ENOENT)
		return refuse(u, EX_NEGATIVE, "no backup of this node: take one off the node first "
					      "(spacectl backup create --to DIR on other storage: a USB stick, another "
					      "disk, a network share)");
	if (r < 0)
		return refuse(u, EX_SYSTEM, "backup record: %s", space_strerror(r));
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "time = ", 7))
			b.time = atoll(l + 7);
		else if (!strncmp(l, "where = ", 8))
			snprintf(b.where, sizeof(b.where), "%s", l + 8);
		else if (!strncmp(l, "offnode = ", 10))
			snprintf(b.offnode, sizeof(b.offnode), "%s", l + 10);
	}
	free(text);
	if (strcmp(b.offnode, "yes"))
		return refuse(u, EX_NEGATIVE, "the last backup (%s) did not leave the node: take one off the node",
			      b.where);
	if ((long long)time(NULL) - b.time > u->c.backup_max_age)
		return refuse(u, EX_NEGATIVE, "the last backup (%s) is %lld h old, the limit is %lld h: take a new one",
			      b.where, ((long long)time(NULL) - b.time) / 3600, u->c.backup_max_age / 3600);
	upg_log(u->log, "backup: %s, %lld s old", b.where, (long long)time(NULL) - b.time);
	return 0;
}

static int check_clock(struct upg *u)
{
	double off;
	struct space_err err;
	int r;

	if (!u->c.ntp_server[0])
		return refuse(u, EX_NEGATIVE, "no time server to check the clock against: set ntp_server in %s/upgrade.conf",
			      UPG_DIR);
	r = sntp_offset(u->c.ntp_server, 3000, &off, &err);
	if (r < 0)
		return refuse(u, EX_NEGATIVE, "cannot check the clock: %s", err.msg);
	if (fabs(off) > (double)u->c.clock_max_offset)
		return refuse(u, EX_NEGATIVE, "the clock is %.1f s off %s (the limit is %lld s): set the time first",
			      off, u->c.ntp_server, u->c.clock_max_offset);
	upg_log(u->log, "clock: %.3f s off %s", off, u->c.ntp_server);
	return 0;
}

static int check_space(struct upg *u)
{
	char *var = rpath(u->o, "/var");
	struct statvfs sv;
	int r = var && statvfs(var, &sv) == 0 ? 0 : -errno;

	free(var);
	if (r < 0)
		return refuse(u, EX_SYSTEM, "/var: %s", space_strerror(r));
	if ((long long)(sv.f_bavail * sv.f_frsize) < u->c.var_min_free)
		return refuse(u, EX_NEGATIVE, "/var has %llu MiB free, the upgrade needs %lld MiB",
			      (unsigned long long)(sv.f_bavail * sv.f_frsize >> 20), u->c.var_min_free >> 20);
	return 0;
}

/* --------------------------------------------- image policy and write */

static void progress(void *ctx, uint64_t done, uint64_t size)
{
	struct upg *u = ctx;
	int pct = size ? (int)(done * 100 / size) : 100;

	if (pct == u->pct)
		return;
	u->pct = pct;
	u->st.progress = pct;
	upg_status_write(u->o, &u->st);
	if (u->tty)
		fprintf(stderr, "\r%s slot %c: %3d%%", !strcmp(u->st.state, "writing") ? "writing" : "reading back",
			up(u->slot), pct);
	else if (pct % 25 == 0)
		upg_log(u->log, "%s: %d%%", u->st.state, pct);
}

/* The verifier's slot_begin: the manifest is authentic; may it go here? */
static int policy(void *ctx, const struct rel_manifest *m, struct space_err *err)
{
	struct upg *u = ctx;
	const struct gpt_part *p = node_slot_part(&u->n, u->slot);
	uint64_t off, len;
	int r;

	snprintf(u->st.release, sizeof(u->st.release), "%s", m->release);
	if (strcmp(m->product, u->n.rel.product))
		return err_set(err, -EPERM, "the image is for product '%s', this node runs '%s'", m->product,
			       u->n.rel.product);
	if (!rel_has_target(m, u->n.target)) {
		char list[REL_MAX_TARGETS * REL_NAME_MAX] = "";
		for (unsigned i = 0; i < m->ntargets; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " " : "", m->targets[i]);
		return err_set(err, -EPERM, "the image boots on %s, this node is %s", list, u->n.target);
	}
	r = rel_check_upgrade(m, u->n.rel.version, err);
	if (r < 0)
		return r;
	if (gpt_part_bytes(p) < m->slot_min_size)
		return err_set(err, -ENOSPC, "slot %c is %llu MiB, the image needs %llu MiB", up(u->slot),
			       (unsigned long long)(gpt_part_bytes(p) >> 20), (unsigned long long)(m->slot_min_size >> 20));
	memcpy(u->sha, m->slot_sha256, 32);
	upg_log(u->log, "image: %s %s build %s, accepted over %s on %s", m->product, m->release, m->build,
		u->n.rel.version, u->n.target);
	/* From here on the slot is not bootable until it is verified. */
	{
		char key[8] = GRUBENV_VER_PREFIX "a", cur[8];
		key[4] = u->slot;
		node_env_get(&u->n, GRUBENV_SLOT_TRY, cur, sizeof(cur));
		r = env_set(u, key, "");
		if (r == 0 && cur[0] == u->slot)
			r = env_set(u, GRUBENV_SLOT_TRY, "");
		if (r == 0)
			r = env_commit(u, "slot marked empty");
	}
	if (r < 0)
		return err_set(err, r, "%s", u->err.msg);
	u->touched = true;
	r = node_slot_open(&u->n, u->slot, &u->slot_fd, &off, &len, err);
	if (r < 0)
		return r;
	r = slot_writer_open(&u->w, u->slot_fd, off, len, m->slot_size);
	if (r < 0)
		return r;
	snprintf(u->st.state, sizeof(u->st.state), "writing");
	u->pct = -1;
	upg_log(u->log, "writing %llu bytes into slot %c%s", (unsigned long long)m->slot_size, up(u->slot),
		u->w.zeroed ? " (zeroed first; zero blocks skipped)" : "");
	return 0;
}

static int sink(void *ctx, const void *p, size_t n, uint64_t off)
{
	struct upg *u = ctx;

	return slot_writer_sink(&u->w, p, n, off);
}

/* One pass over the image through the release verifier. The first
 * (write false) checks everything it can without unpacking: manifest,
 * name, signature and chain, member order, and the slot member's SHA-256
 * against the manifest; a damaged or forged image is refused before
 * anything is written. The second unpacks the slot image into the slot
 * once policy() has accepted it, and checks the unpacked SHA-256 as well
 * (the file is read again: a swap in between is caught there, after the
 * slot was marked empty). */
static int verify_pass(struct upg *u, int fd, const char *name, bool write)
{
	char *ca = rpath(u->o, UPG_CA);
	struct space_err err = { "" };
	struct ov_opts oo = {
		.ca_file = ca,
		.release = true,
		.file_name = name,
		.digest_only = !write,
		.slot_sink = write ? sink : NULL,
		.slot_ctx = u,
		.slot_begin = write ? policy : NULL,
		/* the slot is read back against the digest after this pass */
		.sink_checks_digest = true,
	};
	int r;

	if (!ca)
		return refuse(u, EX_SYSTEM, "out of memory");
	u->w.progress = progress;
	u->w.pctx = u;
	r = ov_release_run(&oo, fd, NULL, &err);
	free(ca);
	if (r < 0)
		return refuse(u, r == -SPACE_E_FORMAT ? EX_NEGATIVE : EX_SYSTEM, "%s", err.msg);
	if (!write)
		upg_log(u->log, "image verified: signature, chain, name, members and the slot member's SHA-256");
	return 0;
}

/* Written and verified: make it the slot to try once at the next boot. */
static int arm_trial(struct upg *u)
{
	char key[8] = GRUBENV_VER_PREFIX "a", s[2] = { u->slot, 0 };
	int r;

	key[4] = u->slot;
	r = env_set(u, key, u->st.release);
	if (r == 0)
		r = env_set(u, GRUBENV_SLOT_TRY, s);
	if (r == 0)
		r = env_set(u, GRUBENV_TRY_LEFT, "1");
	if (r == 0)
		r = env_commit(u, "trial armed");
	return r;
}

/* Written and verified for a fabric: the slot holds the release, and
 * nothing boots it until the VIP node has the node arm it (upgrade arm),
 * so a node reset in the middle of the fabric's run comes back on its
 * old release. */
static int stage(struct upg *u)
{
	char key[8] = GRUBENV_VER_PREFIX "a";
	int r;

	key[4] = u->slot;
	r = env_set(u, key, u->st.release);
	if (r == 0)
		r = env_commit(u, "slot staged for the fabric");
	return r;
}

static int do_reboot(FILE *log)
{
	const char *argv[] = { "reboot", NULL };

	upg_log(log, "rebooting");
	fflush(NULL);
	return run_argv(argv);
}

/* Steps 1-2: a lock, no trial in progress, the node's checks. */
static int upgrade_prepare(struct upg *u, int *lockfd)
{
	char *lock = rpath(u->o, UPG_DIR "/lock"), *dir = rpath(u->o, UPG_DIR), cur[8];
	int r;

	r = lock && dir ? mkdir_p(dir, 0755) : -ENOMEM;
	*lockfd = r == 0 ? open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600) : -1;
	free(lock);
	free(dir);
	if (*lockfd < 0 || flock(*lockfd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "spacectl: upgrade %s: %s\n", u->o->file,
			errno == EWOULDBLOCK ? "another upgrade is running" : strerror(errno));
		return errno == EWOULDBLOCK ? EX_NEGATIVE : EX_SYSTEM;
	}
	u->log = upg_log_open(u->o, u->st.log, sizeof(u->st.log));
	r = upg_conf_load(u->o, &u->c, &u->err);
	if (r < 0)
		return refuse(u, EX_SYSTEM, "settings: %s", u->err.msg);
	r = node_open(u->o, &u->n, &u->err);
	if (r < 0)
		return refuse(u, EX_SYSTEM, "%s", u->err.msg);
	snprintf(u->st.from, sizeof(u->st.from), "%s", u->n.rel.version);
	u->slot = node_other(&u->n);
	u->st.slot[0] = u->slot;
	upg_log(u->log, "upgrade %s: running %s %s from slot %c on %s (%s)", u->o->file, u->n.rel.product,
		u->n.rel.version, up(u->n.booted), u->n.target, u->n.disk);
	node_env_get(&u->n, GRUBENV_SLOT_TRY, cur, sizeof(cur));
	if (cur[0] == u->n.booted)
		return refuse(u, EX_NEGATIVE, "this boot is the trial of slot %c: wait until it is confirmed "
					      "(spacectl upgrade status)",
			      up(u->n.booted));
	if ((r = check_backup(u)) || (r = check_clock(u)) || (r = check_space(u)))
		return r;
	return 0;
}

int cmd_upgrade(const struct opts *o)
{
	struct upg *u = upg_new(o, "");
	const char *name;
	int lockfd = -1, fd = -1, rc;

	if (!u)
		return fail("upgrade", -ENOMEM);
	if (!o->fabric_member && (rc = fabric_upgrade_maybe(o)) >= 0) {
		free(u);
		return rc;
	}
	/* a new upgrade: nothing of the last one's record carries over */
	upg_status_init(&u->st);
	u->tty = isatty(STDERR_FILENO);
	u->st.started = (long long)time(NULL);
	snprintf(u->st.state, sizeof(u->st.state), "checking");
	rc = upgrade_prepare(u, &lockfd);
	if (rc)
		goto out;
	upg_status_write(o, &u->st);
	fd = open_regular(AT_FDCWD, o->file, O_RDONLY, 0, 0);
	if (fd < 0) {
		rc = refuse(u, fd == -ENOENT || fd == -EINVAL ? EX_NEGATIVE : EX_SYSTEM, "%s", space_strerror(fd));
		goto out;
	}
	name = strrchr(o->file, '/') ? strrchr(o->file, '/') + 1 : o->file;
	rc = verify_pass(u, fd, name, false);
	if (rc == 0)
		rc = verify_pass(u, fd, name, true);
	if (rc)
		goto out;
	snprintf(u->st.state, sizeof(u->st.state), "verifying");
	u->pct = -1;
	int r = slot_writer_verify(&u->w, u->sha);
	if (r < 0) {
		rc = refuse(u, EX_SYSTEM, "slot %c read back: %s", up(u->slot),
			    r == -EIO ? "differs from the image (disk error?)" : space_strerror(r));
		goto out;
	}
	upg_log(u->log, "slot %c read back: SHA-256 matches the manifest (%llu bytes written, %llu zero bytes skipped)",
		up(u->slot), (unsigned long long)(u->w.size - u->w.skipped), (unsigned long long)u->w.skipped);
	r = o->fabric_member ? stage(u) : arm_trial(u);
	if (r < 0) {
		rc = refuse(u, EX_SYSTEM, "%s", u->err.msg);
		goto out;
	}
	snprintf(u->st.state, sizeof(u->st.state), o->fabric_member ? "staged" : "ready");
	u->st.progress = 100;
	u->st.finished = (long long)time(NULL);
	u->st.reason[0] = '\0';
	upg_status_write(o, &u->st);
	if (u->tty)
		fputc('\n', stderr);
	if (o->fabric_member)
		printf("slot %c now holds %s %s, staged: it boots when the fabric's VIP node arms it\n", up(u->slot),
		       u->n.rel.product, u->st.release);
	else
		printf("slot %c now holds %s %s: it boots once on trial at the next reboot and is kept when its "
		       "services come up\n",
		       up(u->slot), u->n.rel.product, u->st.release);
	rc = EX_OK;
	if (o->reboot && do_reboot(u->log) != 0)
		rc = fail("upgrade: reboot", -ECHILD);
out:
	if (fd >= 0)
		close(fd);
	if (u->slot_fd >= 0)
		close(u->slot_fd);
	if (u->log)
		fclose(u->log);
	node_close(&u->n);
	if (lockfd >= 0)
		close(lockfd);
	free(u);
	return rc;
}

/* --------------------------------------------------------- confirm */

/* Are all the watchdog's services running and ready? *what lists the
 * ones that are not ("mgmtd (starting)"). */
static bool services_ready(const struct opts *o, char *what, size_t whatlen)
{
	char *rep = NULL, name[64], st[32], ready[8];
	int n;
	bool all = true;

	what[0] = '\0';
	if (ctl_request(o->wd_sock, "status", 5000, &rep) < 0) {
		snprintf(what, whatlen, "the watchdog does not answer");
		free(rep);
		return false;
	}
	n = records_count(rep);
	for (int i = 0; i < n; i++) {
		records_field(rep, i, "name", name, sizeof(name));
		records_field(rep, i, "state", st, sizeof(st));
		records_field(rep, i, "ready", ready, sizeof(ready));
		if (!strcmp(st, "running") && !strcmp(ready, "yes"))
			continue;
		all = false;
		snprintf(what + strlen(what), whatlen - strlen(what), "%s%s (%s%s)", what[0] ? ", " : "", name, st,
			 strcmp(st, "running") ? "" : ", not ready");
	}
	if (!n) {
		snprintf(what, whatlen, "no services");
		all = false;
	}
	free(rep);
	return all;
}

/* This boot is the trial: keep it when the services come up, else record
 * why and reboot into the good slot (try_left is already 0). */
static int confirm_trial(struct upg *u)
{
	char what[400], s[2] = { u->n.booted, 0 };
	time_t end = time(NULL) + u->c.trial_timeout;
	int r;

	snprintf(u->st.state, sizeof(u->st.state), "trial");
	upg_status_write(u->o, &u->st);
	upg_log(u->log, "trial of %s in slot %c: waiting up to %lld s for the services", u->n.rel.version,
		up(u->n.booted), u->c.trial_timeout);
	while (!services_ready(u->o, what, sizeof(what)) && time(NULL) < end)
		sleep(2);
	if (!services_ready(u->o, what, sizeof(what))) {
		refuse(u, EX_NEGATIVE, "trial of %s in slot %c: services not ready after %lld s: %s", u->n.rel.version,
		       up(u->n.booted), u->c.trial_timeout, what);
		if (!u->o->no_reboot)
			do_reboot(u->log);
		return EX_NEGATIVE;
	}
	r = env_set(u, GRUBENV_SLOT_GOOD, s);
	if (r == 0)
		r = env_set(u, GRUBENV_SLOT_TRY, "");
	if (r == 0)
		r = env_set(u, GRUBENV_TRY_LEFT, "0");
	if (r == 0)
		r = env_commit(u, "slot marked good");
	if (r < 0)
		return refuse(u, EX_SYSTEM, "%s", u->err.msg);
	snprintf(u->st.state, sizeof(u->st.state), "good");
	u->st.finished = (long long)time(NULL);
	u->st.reason[0] = '\0';
	upg_status_write(u->o, &u->st);
	printf("spacectl: upgrade: %s in slot %c is good: every service is ready\n", u->n.rel.version,
	       up(u->n.booted));
	return EX_OK;
}

/* Back on the good slot after a trial that did not confirm. */
static int confirm_fallback(struct upg *u, char tried)
{
	int r;

	if (strcmp(u->st.state, "failed") || !u->st.reason[0] || u->st.slot[0] != tried)
		snprintf(u->st.reason, sizeof(u->st.reason),
			 "the new release in slot %c did not come up: no confirmation before the reset (kernel panic, "
			 "hang or power loss)",
			 up(tried));
	snprintf(u->st.state, sizeof(u->st.state), "failed");
	u->st.slot[0] = tried;
	u->st.finished = (long long)time(NULL);
	upg_status_write(u->o, &u->st);
	upg_log(u->log, "fell back to slot %c (%s): %s", up(u->n.booted), u->n.rel.version, u->st.reason);
	r = env_set(u, GRUBENV_SLOT_TRY, "");
	if (r == 0)
		r = env_commit(u, "trial cleared");
	if (r < 0)
		return refuse(u, EX_SYSTEM, "%s", u->err.msg);
	fprintf(stderr, "spacectl: upgrade failed, running %s from slot %c: %s\n", u->n.rel.version, up(u->n.booted),
		u->st.reason);
	return EX_NEGATIVE;
}

int cmd_upgrade_confirm(const struct opts *o)
{
	struct upg *u = upg_new(o, "confirm");
	char tried[8], left[8];
	int rc = EX_OK, r;

	if (!u)
		return fail("upgrade confirm", -ENOMEM);
	r = upg_conf_load(o, &u->c, &u->err);
	if (r == 0)
		r = node_open(o, &u->n, &u->err);
	if (r < 0) {
		/* nothing pending: a node that cannot upgrade has nothing to confirm */
		if (!strcmp(u->st.state, "idle") || !strcmp(u->st.state, "good"))
			goto out;
		fprintf(stderr, "spacectl: upgrade confirm: %s\n", u->err.msg);
		rc = EX_SYSTEM;
		goto out;
	}
	node_env_get(&u->n, GRUBENV_SLOT_TRY, tried, sizeof(tried));
	node_env_get(&u->n, GRUBENV_TRY_LEFT, left, sizeof(left));
	if (tried[0] || !strcmp(u->st.state, "writing") || !strcmp(u->st.state, "verifying") ||
	    !strcmp(u->st.state, "checking"))
		u->log = upg_log_open(o, u->st.log, sizeof(u->st.log));
	if (tried[0] == u->n.booted)
		rc = confirm_trial(u);
	else if (tried[0] && strcmp(left, "1"))
		rc = confirm_fallback(u, tried[0]);
	else if (!strcmp(u->st.state, "writing") || !strcmp(u->st.state, "verifying") ||
		 !strcmp(u->st.state, "checking"))
		/* the upgrader died with the node: a reset or power cut */
		rc = refuse(u, EX_NEGATIVE, "interrupted while %s (reset or power loss)", u->st.state);
	/* a trial that failed is rebooting: the next boot resumes */
	if (!(tried[0] == u->n.booted && rc != EX_OK))
		fabric_upgrade_resume(o);
out:
	if (u->log)
		fclose(u->log);
	node_close(&u->n);
	free(u);
	return rc;
}

/* ---------------------------------------------------- status, rollback */

static int status_show(const struct opts *o)
{
	struct upg_status st;
	struct node n;
	struct space_err err = { "" };
	char ver[2][40], good[4], tried[4];
	int r = upg_status_read(o, &st), nr = node_open(o, &n, &err);

	if (r < 0)
		return fail("upgrade status: " UPG_DIR "/status", r);
	for (int i = 0; i < 2; i++) {
		char key[8] = GRUBENV_VER_PREFIX "a";
		key[4] = (char)('a' + i);
		if (nr == 0)
			node_env_get(&n, key, ver[i], sizeof(ver[i]));
		else
			ver[i][0] = '\0';
	}
	if (nr == 0) {
		node_env_get(&n, GRUBENV_SLOT_GOOD, good, sizeof(good));
		node_env_get(&n, GRUBENV_SLOT_TRY, tried, sizeof(tried));
	}
	if (o->json) {
		struct buf b;
		struct jw w;
		buf_init(&b);
		jw_init(&w, &b);
		jw_obj_begin(&w);
		upg_status_json(&w, &st);
		if (nr == 0) {
			char b1[2] = { n.booted, 0 };
			jw_kstr(&w, "booted", b1);
			jw_kstr(&w, "good", good[0] ? good : "a");
			jw_kstr(&w, "trial", tried);
			jw_kstr(&w, "slot_a", ver[0]);
			jw_kstr(&w, "slot_b", ver[1]);
		}
		jw_obj_end(&w);
		print_json(&b);
	} else {
		printf("upgrade:   %s%s%s%s%s\n", st.state, st.release[0] ? " " : "", st.release,
		       st.slot[0] ? " (slot " : "", st.slot[0] ? (char[]){ up(st.slot[0]), ')', 0 } : "");
		if (!strcmp(st.state, "writing") || !strcmp(st.state, "verifying"))
			printf("progress:  %lld%%\n", st.progress);
		if (st.reason[0])
			printf("reason:    %s\n", st.reason);
		if (st.log[0])
			printf("log:       %s\n", st.log);
		for (int i = 0; nr == 0 && i < 2; i++) {
			char s = (char)('a' + i);
			printf("slot %c:    %s%s%s%s\n", up(s), ver[i][0] ? ver[i] : "(empty)",
			       n.booted == s ? ", running" : "", (good[0] ? good[0] : 'a') == s ? ", good" : "",
			       tried[0] == s ? ", on trial" : "");
		}
		if (nr < 0)
			printf("slots:     unknown (%s)\n", err.msg);
	}
	if (nr == 0)
		node_close(&n);
	return EX_OK;
}

/* Arm the other slot's release for one trial boot (rollback: whatever it
 * holds; arm: the release a fabric staged there, state "staged"). */
static int arm_other(const struct opts *o, const char *verb)
{
	struct upg *u = upg_new(o, verb);
	bool arm = !strcmp(verb, "arm");
	char ver[40], key[8] = GRUBENV_VER_PREFIX "a";
	int rc, r;

	if (!u)
		return fail(arm ? "upgrade arm" : "upgrade rollback", -ENOMEM);
	r = node_open(o, &u->n, &u->err);
	if (r < 0) {
		fprintf(stderr, "spacectl: upgrade %s: %s\n", verb, u->err.msg);
		rc = EX_SYSTEM;
		goto out;
	}
	u->slot = node_other(&u->n);
	key[4] = u->slot;
	node_env_get(&u->n, key, ver, sizeof(ver));
	if (!ver[0] || (arm && (strcmp(u->st.state, "staged") || u->st.slot[0] != u->slot))) {
		if (!ver[0])
			fprintf(stderr, "spacectl: upgrade %s: slot %c holds no release\n", verb, up(u->slot));
		else
			fprintf(stderr, "spacectl: upgrade arm: no release is staged (spacectl upgrade status)\n");
		rc = EX_NEGATIVE;
		goto out;
	}
	u->log = upg_log_open(o, u->st.log, sizeof(u->st.log));
	snprintf(u->st.release, sizeof(u->st.release), "%s", ver);
	snprintf(u->st.from, sizeof(u->st.from), "%s", u->n.rel.version);
	u->st.slot[0] = u->slot;
	u->st.slot[1] = '\0';
	if (!arm)
		u->st.started = (long long)time(NULL);
	r = arm_trial(u);
	if (r < 0) {
		rc = refuse(u, EX_SYSTEM, "%s", u->err.msg);
		goto out;
	}
	snprintf(u->st.state, sizeof(u->st.state), "ready");
	if (arm)
		u->st.reason[0] = '\0';
	else
		snprintf(u->st.reason, sizeof(u->st.reason), "rollback to %s", ver);
	u->st.finished = (long long)time(NULL);
	upg_status_write(o, &u->st);
	upg_log(u->log, "%s: slot %c (%s) armed for a trial boot", verb, up(u->slot), ver);
	printf("slot %c (%s) boots once on trial at the next reboot and is kept when its services come up\n",
	       up(u->slot), ver);
	rc = EX_OK;
	if (o->reboot && do_reboot(u->log) != 0)
		rc = fail(arm ? "upgrade arm: reboot" : "upgrade rollback: reboot", -ECHILD);
out:
	if (u->log)
		fclose(u->log);
	node_close(&u->n);
	free(u);
	return rc;
}

int cmd_upgrade_status(const struct opts *o)
{
	return o->follow ? fabric_upgrade_follow(o) : status_show(o);
}

int cmd_upgrade_rollback(const struct opts *o)
{
	return arm_other(o, "rollback");
}

int cmd_upgrade_arm(const struct opts *o)
{
	return arm_other(o, "arm");
}

/* A staged or armed release that has not booted yet: its slot marked
 * empty, no trial; the node stays on the release it runs. */
int cmd_upgrade_cancel(const struct opts *o)
{
	struct upg *u = upg_new(o, "cancel");
	char key[8] = GRUBENV_VER_PREFIX "a";
	int rc = EX_OK, r;

	if (!u)
		return fail("upgrade cancel", -ENOMEM);
	if (strcmp(u->st.state, "staged") && strcmp(u->st.state, "ready")) {
		printf("nothing to cancel: the last upgrade is %s\n", u->st.state);
		goto out;
	}
	r = node_open(o, &u->n, &u->err);
	if (r < 0) {
		fprintf(stderr, "spacectl: upgrade cancel: %s\n", u->err.msg);
		rc = EX_SYSTEM;
		goto out;
	}
	u->log = upg_log_open(o, u->st.log, sizeof(u->st.log));
	u->slot = node_other(&u->n);
	key[4] = u->slot;
	r = env_set(u, key, "");
	if (r == 0)
		r = env_set(u, GRUBENV_SLOT_TRY, "");
	if (r == 0)
		r = env_set(u, GRUBENV_TRY_LEFT, "0");
	if (r == 0)
		r = env_commit(u, "staged release cancelled");
	if (r < 0) {
		rc = refuse(u, EX_SYSTEM, "%s", u->err.msg);
		goto out;
	}
	snprintf(u->st.state, sizeof(u->st.state), "cancelled");
	snprintf(u->st.reason, sizeof(u->st.reason), "%s in slot %c cancelled before it booted", u->st.release,
		 up(u->slot));
	u->st.finished = (long long)time(NULL);
	upg_status_write(o, &u->st);
	upg_log(u->log, "cancel: %s", u->st.reason);
	printf("%s: slot %c is marked empty, this node stays on %s\n", u->st.reason, up(u->slot), u->n.rel.version);
out:
	if (u->log)
		fclose(u->log);
	node_close(&u->n);
	free(u);
	return rc;
}
