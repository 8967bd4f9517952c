/* SPDX-License-Identifier: MIT */
/* watchdog - the appliance's service supervisor, started by init.
 *
 * One event loop (poll) over a signalfd and a root-only control socket.
 * Services come from CONFDIR/NAME.conf (see svcconf.h) and from the
 * enabled applications' APPROOT/etc/watchdog.d/NAME.conf (libmgmt/apps.h:
 * a disabled application's services are not loaded), start in `order`,
 * each after the previous one is ready; a service that exits is restarted
 * with exponential back-off until it exits max_restarts times within
 * restart_window, then it is marked failed. Services run in their own
 * session (process group) so stop signals reach their children too; the
 * watchdog is a child subreaper, so it reaps everything they leave behind.
 * Housekeeping (hk.h) runs every interval. Every state change of a
 * service goes through the transition table of sup.h. Control clients are
 * read without blocking, bounded (CTL_MAX_CONNS), and survive running out
 * of fds (README: "control connections, fd exhaustion").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pkg/libmgmt/apps.h"
#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/daemon.h"
#include "pkg/libmgmt/hk.h"
#include "kv.h"
#include "spare_fds.h"
#include "sup.h"
#include "svcconf.h"
#include "exitcode.h"
#include "util.h"

#define USAGE                                                                             \
	"usage: watchdog [-d CONFDIR] [-s SOCKET] [-H HOUSEKEEPING.conf|none]\n"          \
	"                [-i SECONDS] [-l LOGFILE]\n"                                     \
	"  -d  service definitions (env WATCHDOG_CONFDIR, default /etc/watchdog.d)\n"     \
	"  -s  control socket (env WATCHDOG_SOCKET, default /run/watchdog.sock)\n"        \
	"  -H  housekeeping policy (env WATCHDOG_HOUSEKEEPING, default\n"                 \
	"      /etc/housekeeping.conf; defaults apply if it is missing; none = off)\n"    \
	"  -i  housekeeping interval in seconds (default 300)\n"                          \
	"  -l  log file (default stderr)\n"                                               \
	"  -a  application root (env WATCHDOG_APPS, default /var/apps; none = no\n"       \
	"      applications): the services of its enabled applications are\n"             \
	"      APPROOT/etc/watchdog.d/NAME.conf (pkg/FORMAT.md, Applications)\n"          \
	"  -r  running release file (env WATCHDOG_RELEASE, default /etc/space-release)\n" \
	"  -C  the release's application table (env WATCHDOG_APP_COMPAT, default\n"       \
	"      /usr/share/space/app-compat.conf)\n"                                       \
	"  -P  hold file (env WATCHDOG_HOLD, default /run/watchdog.hold): while it\n"     \
	"      exists the watchdog starts no service (`watchdogctl shutdown --hold`\n"    \
	"      writes it so init's respawn does not restart services during a hot\n"      \
	"      patch; `watchdogctl release` removes it and starts them in order)\n"       \
	"Exit: 0 after `watchdogctl shutdown` or SIGTERM, 100 usage, 111 failure\n"       \
	"      (the contract of every space tool: README.md, Exit codes).\n"

/* Control connections at once: clients still sending their request line
 * plus clients waiting for a service to start or stop, or for the
 * shutdown. While all are taken the listener is not polled, and further
 * clients wait in its listen queue. At most CTL_MAX_WAITING of them may
 * wait for a service (one more is told "error too many waiting clients"),
 * so CTL_MAX_CONNS - CTL_MAX_WAITING slots always turn over within
 * CTL_REQUEST_MS and `status` is answered however many clients wait. The
 * appliance's clients (mgmtd, spacectl, scripts) hold a few at most; 32
 * fds are nothing against the open-file limit. */
#define CTL_MAX_CONNS 32
#define CTL_MAX_WAITING 24
#define CTL_REQUEST_MS 1000   /* a client has this long to send its line */
#define ACCEPT_PAUSE_MS 1000  /* listener not polled after EMFILE & co */
#define ACCEPT_QUIET_MS 10000 /* an episode of accept failures ends after this without one */
/* fds in reserve (spare_fds.h): a control client + the hold file + its directory */
#define SPARE_FDS 3

enum wait_op { W_STOP,
	       W_START,
	       W_RESTART,
	       W_SHUTDOWN };
enum conn_kind { C_FREE,
		 C_READING,
		 C_WAITING };

struct conn {
	enum conn_kind kind;
	int fd;
	long long deadline; /* C_READING: mono ms by which the line must be in */
	size_t n;
	char line[256];
	struct svc *s; /* C_WAITING: the service waited for (NULL: shutdown) */
	enum wait_op op;
};

static struct svc *svcs;
static int nsvcs;
static struct apps_list apps; /* decided once, at start (answer of `apps`) */
static FILE *logfp;
static int seq_next; /* boot sequencing: next index to start */
static int held;     /* hold file present: start nothing */
static const char *hold_path;
static int exit_now;
static struct conn conns[CTL_MAX_CONNS];
static int spare[SPARE_FDS] = { -1, -1, -1 };
static long long accept_paused_until; /* mono ms; 0: not paused */
static long long accept_failed_at;    /* mono ms of the last failure of an episode; 0: none */

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vstamp(logfp, "watchdog", fmt, ap);
	va_end(ap);
}

static void log_hook(const char *msg)
{
	logmsg("%s", msg);
}

/* ------------------------------------------------------------ config */

static int svc_cmp(const void *a, const void *b)
{
	const struct svc *x = a, *y = b;

	if (x->c.order != y->c.order)
		return x->c.order < y->c.order ? -1 : 1;
	return strcmp(x->c.name, y->c.name);
}

/* Add one definition; returns 0, or -1 when it is skipped (logged). */
static int add_service(const char *dir, const char *file)
{
	char *path = xasprintf("%s/%s", dir, file);
	struct space_err err;
	struct svc_conf c;
	struct svc *nv;

	if (!path)
		return -1;
	if (svc_conf_load(path, &c, &err) < 0) {
		logmsg("load %s: %s (service skipped)", path, err.msg);
		free(path);
		return -1;
	}
	free(path);
	for (int i = 0; i < nsvcs; i++) {
		if (!strcmp(svcs[i].c.name, c.name)) {
			logmsg("load %s/%s: service %s defined twice (skipped)", dir, file, c.name);
			svc_conf_free(&c);
			return -1;
		}
	}
	nv = realloc(svcs, (size_t)(nsvcs + 1) * sizeof(*nv));
	if (nv)
		svcs = nv;
	if (!nv || svc_init(&svcs[nsvcs], &c) < 0) {
		logmsg("load %s/%s: %s (service skipped)", dir, file, strerror(ENOMEM));
		svc_conf_free(&c);
		return -1;
	}
	nsvcs++;
	return 0;
}

/* May the application service definition `file` be loaded? Only when an
 * enabled application's package ships it (logged when not). */
static int app_service_ok(const char *dir, const char *file)
{
	const struct app *a = apps_service_owner(&apps, file);

	if (!a)
		logmsg("load %s/%s: not part of an installed application (skipped)", dir, file);
	else if (!a->enabled)
		logmsg("load %s/%s: application %s %s is disabled: %s (not started)", dir, file, a->name,
		       a->version, a->reason);
	return a && a->enabled;
}

/* Load every NAME.conf of dir (an application root's: only those of
 * enabled applications). A broken file is logged and skipped so one bad
 * definition cannot keep the rest of the appliance from starting. */
static int load_services(const char *dir, int app_dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n < 6 || strcmp(e->d_name + n - 5, ".conf") || e->d_name[0] == '.')
			continue;
		if (!app_dir || app_service_ok(dir, e->d_name))
			add_service(dir, e->d_name);
	}
	closedir(d);
	return 0;
}

/* Decide which applications may run on this release (apps.h) and load
 * the services of those that may. A failure leaves no application
 * service loaded. */
static void load_apps(const struct apps_env *env)
{
	struct space_err err;
	char *dir;
	int r;

	if (apps_scan(env, &apps, &err) < 0) {
		logmsg("applications: %s (none started)", err.msg);
		memset(&apps, 0, sizeof(apps));
		return;
	}
	for (unsigned i = 0; i < apps.n; i++)
		if (!apps.app[i].enabled)
			logmsg("application %s (package %s %s) disabled: %s", apps.app[i].name, apps.app[i].pkg,
			       apps.app[i].version, apps.app[i].reason);
	if (apps.n_over)
		logmsg("applications: %u over the limit of %d are not started", apps.n_over, APPS_MAX);
	dir = xasprintf("%s/%s", env->root, APPS_SVC_DIR);
	if (!dir)
		return;
	r = load_services(dir, 1);
	if (r < 0 && r != -ENOENT)
		logmsg("load %s: %s (no application services)", dir, space_strerror(r));
	free(dir);
}

static struct svc *find_svc(const char *name)
{
	for (int i = 0; i < nsvcs; i++)
		if (!strcmp(svcs[i].c.name, name))
			return &svcs[i];
	return NULL;
}

/* ------------------------------------------------------------ replies */

static void put_record(struct buf *b, const struct svc *s, long long now)
{
	int alive = s->state == ST_RUNNING || s->state == ST_STARTING;

	buf_puts(b, "name=");
	kv_quote(b, s->c.name);
	buf_printf(b, " state=%s pid=%d uptime=%lld restarts=%d ready=%s order=%d last_exit=",
		   svc_state_name(s->state), (alive || s->state == ST_STOPPING) ? (int)s->pid : 0,
		   alive ? (now - s->started_ms) / 1000 : 0, s->restarts, s->ready ? "yes" : "no",
		   s->c.order);
	kv_quote(b, s->last_exit);
	buf_puts(b, "\n");
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->kind = C_FREE;
	spare_fds_take(spare, SPARE_FDS);
}

/* Answer c with the first line (and the record of s), then close it. */
static void reply(struct conn *c, const char *first, const struct svc *s)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, first);
	buf_puts(&b, "\n");
	if (s)
		put_record(&b, s, mono_ms());
	if (!buf_failed(&b))
		ctl_write_all(c->fd, b.p, b.len);
	buf_free(&b);
	conn_close(c);
}

static void notify(struct svc *s, int stopped)
{
	for (int i = 0; i < CTL_MAX_CONNS; i++) {
		struct conn *c = &conns[i];

		if (c->kind != C_WAITING || c->s != s)
			continue;
		if (stopped && c->op == W_STOP)
			reply(c, "ok", s);
		else if (!stopped && (c->op == W_START || c->op == W_RESTART))
			reply(c, s->state == ST_RUNNING ? "ok" : "error service did not start", s);
	}
}

static int restart_waiting(const struct svc *s)
{
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		if (conns[i].kind == C_WAITING && conns[i].s == s && conns[i].op == W_RESTART)
			return 1;
	return 0;
}

static int waiters_full(void)
{
	int n = 0;

	for (int i = 0; i < CTL_MAX_CONNS; i++)
		n += conns[i].kind == C_WAITING;
	return n >= CTL_MAX_WAITING;
}

/* c waits for s (op); refused when CTL_MAX_WAITING clients wait already.
 * Returns 0 or -1 (c answered and closed). */
static int add_waiter(struct conn *c, struct svc *s, enum wait_op op)
{
	if (waiters_full()) {
		reply(c, "error too many waiting clients", NULL);
		return -1;
	}
	c->kind = C_WAITING;
	c->s = s;
	c->op = op;
	return 0;
}

/* ------------------------------------------------------------ control verbs */

static void do_status(struct conn *c, struct svc *s, const char *arg, long long now)
{
	struct buf b;

	if (arg && !s) {
		reply(c, "error no such service", NULL);
		return;
	}
	buf_init(&b);
	buf_puts(&b, held ? "ok held\n" : "ok\n");
	for (int i = 0; i < nsvcs; i++)
		if (!s || s == &svcs[i])
			put_record(&b, &svcs[i], now);
	if (!buf_failed(&b))
		ctl_write_all(c->fd, b.p, b.len);
	buf_free(&b);
	conn_close(c);
}

/* `apps`: the applications and whether each may run (decided at start). */
static void do_apps(struct conn *c, struct svc *s, const char *arg, long long now)
{
	struct buf b;

	(void)s, (void)arg, (void)now;
	buf_init(&b);
	apps_reply(&b, &apps);
	if (!buf_failed(&b))
		ctl_write_all(c->fd, b.p, b.len);
	buf_free(&b);
	conn_close(c);
}

static void do_release(struct conn *c, struct svc *s, const char *arg, long long now)
{
	(void)s, (void)arg, (void)now;
	if (held && unlink(hold_path) < 0 && errno != ENOENT) {
		char msg[300];
		snprintf(msg, sizeof(msg), "error remove %s: %s", hold_path, strerror(errno));
		reply(c, msg, NULL);
		return;
	}
	if (held)
		logmsg("released: starting services");
	held = 0;
	reply(c, "ok", NULL);
}

/* `shutdown` or `shutdown hold`; the answer comes once all are stopped. */
static void do_shutdown(struct conn *c, struct svc *s, const char *arg, long long now)
{
	static const char note[] = "held by watchdogctl shutdown --hold\n";

	(void)s, (void)now;
	if (arg && strcmp(arg, "hold")) {
		reply(c, "error unknown command", NULL);
		return;
	}
	if (waiters_full()) {
		reply(c, "error too many waiting clients", NULL);
		return;
	}
	if (arg) {
		int r = write_file_atomic(hold_path, note, sizeof(note) - 1, 0644);
		if (r < 0) {
			char msg[300];
			snprintf(msg, sizeof(msg), "error write %s: %s", hold_path, space_strerror(r));
			reply(c, msg, NULL);
			return;
		}
		logmsg("hold file %s written: services stay down until `watchdogctl release`", hold_path);
	}
	add_waiter(c, NULL, W_SHUTDOWN);
	if (!sup_host.shutting_down)
		logmsg("shutdown requested: stopping all services");
	sup_host.shutting_down = 1;
}

static void do_start(struct conn *c, struct svc *s, const char *arg, long long now)
{
	(void)arg;
	if (s->state == ST_RUNNING) {
		reply(c, "ok", s);
		return;
	}
	add_waiter(c, s, W_START);
	svc_event(s, EV_START, now);
}

static void do_stop(struct conn *c, struct svc *s, const char *arg, long long now)
{
	(void)arg;
	add_waiter(c, s, W_STOP);
	svc_event(s, EV_STOP, now);
}

static void do_restart(struct conn *c, struct svc *s, const char *arg, long long now)
{
	int up = s->state == ST_RUNNING || s->state == ST_STARTING || s->state == ST_STOPPING;

	(void)arg;
	add_waiter(c, s, W_RESTART);
	svc_event(s, up ? EV_STOP : EV_START, now);
}

/* The control verbs. subcmd.h's table does not fit here: its handlers
 * take a command line's argc/argv and it prints usage to stdout/stderr,
 * where a daemon verb needs the client to answer and the service named. */
static const struct verb {
	const char *name;
	int needs_svc; /* NAME must name a service, and not during shutdown */
	void (*fn)(struct conn *c, struct svc *s, const char *arg, long long now);
} verbs[] = {
	{ "status", 0, do_status },
	{ "release", 0, do_release },
	{ "shutdown", 0, do_shutdown },
	{ "start", 1, do_start },
	{ "stop", 1, do_stop },
	{ "restart", 1, do_restart },
	{ "apps", 0, do_apps },
};

/* One request line "VERB [ARG]" of c. */
static void handle_request(struct conn *c, char *line, long long now)
{
	char *arg = strchr(line, ' ');
	struct svc *s = NULL;
	const struct verb *v = NULL;

	if (arg) {
		*arg++ = '\0';
		s = find_svc(arg);
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && !v; i++)
		if (!strcmp(line, verbs[i].name))
			v = &verbs[i];
	if (!v) {
		reply(c, "error unknown command", NULL);
		return;
	}
	if (v->needs_svc && !s) {
		reply(c, arg ? "error no such service" : "error service name missing", NULL);
		return;
	}
	if (v->needs_svc && sup_host.shutting_down) {
		reply(c, "error shutting down", s);
		return;
	}
	v->fn(c, s, arg, now);
}

/* ------------------------------------------------------------ control connections */

/* Out of fds or memory: leave the clients in the listen queue for a while
 * rather than retrying at once (a busy loop that starved everything else,
 * issue 12). Logged once per episode: failures less than ACCEPT_QUIET_MS
 * apart (a queue of clients served one by one from the spares fails again
 * and again). */
static void accept_failed(int err, long long now)
{
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
		return;
	if (!accept_failed_at)
		logmsg("accept: %s: control clients wait (retried every %d ms)", strerror(err),
		       ACCEPT_PAUSE_MS);
	accept_failed_at = now;
	accept_paused_until = now + ACCEPT_PAUSE_MS;
}

static void accept_episode_end(long long now)
{
	if (accept_failed_at && now - accept_failed_at > ACCEPT_QUIET_MS) {
		logmsg("accept: no failure for %d s, control clients served again",
		       ACCEPT_QUIET_MS / 1000);
		accept_failed_at = 0;
	}
}

static struct conn *free_conn(void)
{
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		if (conns[i].kind == C_FREE)
			return &conns[i];
	return NULL;
}

/* Accept the pending clients while there is a free slot, each to be read
 * when its line comes (never waiting for it here: a silent client must
 * not stall the supervisor). Out of fds, the spares make room for one
 * client per round, and the rest of them for its request (the hold file). */
static void accept_clients(int lfd, long long now)
{
	struct conn *c;

	while ((c = free_conn())) {
		int fd = ctl_accept(lfd, 1000), spared = 0;

		if (fd == -EMFILE || fd == -ENFILE) {
			spare_fds_release(spare, SPARE_FDS);
			fd = ctl_accept(lfd, 1000);
			spared = 1;
		}
		if (fd == -EPERM)
			continue;
		if (fd < 0) {
			accept_failed(-fd, now);
			return;
		}
		*c = (struct conn){ .kind = C_READING, .fd = fd, .deadline = now + CTL_REQUEST_MS };
		if (spared)
			return;
	}
}

/* Read what c sent; handle the line once it is complete (a newline, or
 * the end of the stream). Over-long lines and NULs are refused, as by
 * ctl_read_line(). */
static void read_client(struct conn *c, long long now)
{
	ssize_t k = read(c->fd, c->line + c->n, sizeof(c->line) - 1 - c->n);
	size_t len;
	char *nl;

	if (k < 0) {
		if (errno != EINTR && errno != EAGAIN)
			conn_close(c);
		return;
	}
	c->n += (size_t)k;
	c->line[c->n] = '\0';
	nl = memchr(c->line, '\n', c->n);
	if (!nl && k > 0 && c->n < sizeof(c->line) - 1)
		return; /* more to come */
	len = nl ? (size_t)(nl - c->line) : c->n;
	if ((!nl && k > 0) || memchr(c->line, '\0', len)) {
		reply(c, "error bad request", NULL);
		return;
	}
	c->line[len] = '\0';
	handle_request(c, c->line, now);
}

/* Clients that did not send their line within CTL_REQUEST_MS. */
static void expire_clients(long long now)
{
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		if (conns[i].kind == C_READING && now >= conns[i].deadline)
			reply(&conns[i], "error bad request", NULL);
}

/* ------------------------------------------------------------ process control */

static void child_exec(struct svc *s, uid_t uid, gid_t gid, int have_user)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (s->c.output) {
		int fd = open(s->c.output, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
	}
	{
		int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			dup2(fd, 0);
	}
	for (int i = 0; i < s->c.nenv; i++)
		putenv(s->c.env[i]);
	if (s->c.cwd && chdir(s->c.cwd) < 0) {
		fprintf(stderr, "watchdog: start %s: chdir %s: %s\n", s->c.name, s->c.cwd, strerror(errno));
		_exit(126);
	}
	if (have_user && (initgroups(s->c.user, gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0)) {
		fprintf(stderr, "watchdog: start %s: user %s: %s\n", s->c.name, s->c.user, strerror(errno));
		_exit(126);
	}
	execv(s->c.argv[0], s->c.argv);
	fprintf(stderr, "watchdog: start %s: %s: %s\n", s->c.name, s->c.argv[0], strerror(errno));
	_exit(127);
}

/* sup_host.spawn */
static pid_t spawn(struct svc *s)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int have_user = 0;
	pid_t pid;

	if (s->c.user) {
		struct passwd *pw = getpwnam(s->c.user);
		if (!pw)
			return -ENOENT;
		uid = pw->pw_uid, gid = pw->pw_gid, have_user = 1;
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(s, uid, gid, have_user);
	return pid;
}

/* sup_host.kill: services run in their own session, so the group too */
static void kill_pid(pid_t pid, int sig, int group)
{
	if (group)
		kill(-pid, sig);
	kill(pid, sig);
}

static void reap(long long now)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid <= 0)
			return;
		for (int i = 0; i < nsvcs; i++) {
			struct svc *s = &svcs[i];
			if (pid == s->check_pid) {
				s->check_pid = 0;
				if (WIFEXITED(status) && !WEXITSTATUS(status))
					svc_event(s, EV_READY, now);
			} else if (pid == s->pid) {
				svc_exited(s, status, now);
			}
		}
		/* anything else: an orphan we adopted as subreaper, now reaped */
	}
}

static void check_ready(struct svc *s, long long now)
{
	if (s->c.ready_socket) {
		if (svc_ready_socket(s->c.ready_socket) == 0) {
			svc_event(s, EV_READY, now);
			return;
		}
	} else if (s->c.ready_argv && !s->check_pid) {
		pid_t pid = fork();
		if (pid == 0) {
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			execv(s->c.ready_argv[0], s->c.ready_argv);
			_exit(127);
		}
		if (pid > 0)
			s->check_pid = pid;
	}
	s->next_check_ms = now + 100;
}

/* The timers of s: events when they are due; returns the next due time. */
static long long svc_timers(struct svc *s, long long now, long long next)
{
	switch (s->state) {
	case ST_STARTING:
		if (now >= s->deadline_ms) {
			svc_event(s, EV_READY_TIMEOUT, now);
			break;
		}
		if (now >= s->next_check_ms)
			check_ready(s, now);
		if (s->state == ST_STARTING && s->next_check_ms < next)
			next = s->next_check_ms;
		break;
	case ST_STOPPING:
		if (now >= s->deadline_ms)
			svc_event(s, EV_STOP_TIMEOUT, now);
		if (!s->killed && s->deadline_ms < next)
			next = s->deadline_ms;
		break;
	case ST_BACKOFF:
		if (now >= s->deadline_ms && !sup_host.shutting_down)
			svc_event(s, EV_RETRY, now);
		else if (s->deadline_ms < next)
			next = s->deadline_ms;
		break;
	default:
		break;
	}
	return next;
}

/* Boot sequencing: start in order, each once the previous is ready. */
static void start_in_order(long long now)
{
	while (!sup_host.shutting_down && !held && seq_next < nsvcs) {
		struct svc *s = &svcs[seq_next];
		if (s->state == ST_STOPPED && !s->admin_stopped && !s->started_ms) {
			svc_event(s, EV_START, now);
			if (s->state == ST_STARTING)
				break;
		} else if (s->state == ST_STARTING) {
			break;
		}
		seq_next++;
	}
}

/* Shutdown: stop in reverse order, one at a time; exit once all are down. */
static void stop_in_order(long long now)
{
	int i;

	for (i = nsvcs - 1; i >= 0; i--) {
		struct svc *s = &svcs[i];
		if (s->state == ST_STOPPING)
			break;
		if (s->state != ST_STOPPED && s->state != ST_FAILED) {
			svc_event(s, EV_STOP, now);
			if (s->state == ST_STOPPING)
				break;
		}
	}
	if (i < 0)
		exit_now = 1;
}

/* Advance every timer; returns the poll timeout in ms. */
static int tick(long long now)
{
	long long next = now + 1000;

	for (int i = 0; i < nsvcs; i++)
		next = svc_timers(&svcs[i], now, next);
	start_in_order(now);
	if (sup_host.shutting_down)
		stop_in_order(now);
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		if (conns[i].kind == C_READING && conns[i].deadline < next)
			next = conns[i].deadline;
	if (accept_paused_until && accept_paused_until < next)
		next = accept_paused_until;
	next -= now;
	return next < 0 ? 0 : next > 1000 ? 1000 :
					    (int)next;
}

/* ------------------------------------------------------------ main */

struct opts {
	const char *confdir, *sock, *hkconf, *logpath;
	long long hk_interval;
	struct apps_env apps; /* root NULL: no applications */
};

struct sup_host sup_host = {
	.spawn = spawn,
	.kill = kill_pid,
	.notify = notify,
	.restart_waiting = restart_waiting,
	.log = logmsg,
};

/* Returns -1 to go on, else the exit code. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int opt;

	*o = (struct opts){
		getenv("WATCHDOG_CONFDIR"),
		getenv("WATCHDOG_SOCKET"),
		getenv("WATCHDOG_HOUSEKEEPING"),
		NULL,
		300,
		{ getenv("WATCHDOG_APPS"), getenv("WATCHDOG_RELEASE"), getenv("WATCHDOG_APP_COMPAT") },
	};
	if (!o->confdir)
		o->confdir = "/etc/watchdog.d";
	if (!o->sock)
		o->sock = "/run/watchdog.sock";
	if (!o->hkconf)
		o->hkconf = "/etc/housekeeping.conf";
	hold_path = getenv("WATCHDOG_HOLD");
	if (!hold_path)
		hold_path = "/run/watchdog.hold";
	if (!o->apps.root)
		o->apps.root = APPS_ROOT;
	while ((opt = getopt(argc, argv, "d:s:H:i:l:P:a:r:C:h")) != -1) {
		switch (opt) {
		case 'a': o->apps.root = optarg; break;
		case 'r': o->apps.release_file = optarg; break;
		case 'C': o->apps.compat_file = optarg; break;
		case 'd': o->confdir = optarg; break;
		case 's': o->sock = optarg; break;
		case 'H': o->hkconf = optarg; break;
		case 'l': o->logpath = optarg; break;
		case 'P': hold_path = optarg; break;
		case 'i':
			if (kv_int(optarg, 1, 86400 * 7, 1, &o->hk_interval) < 0) {
				fprintf(stderr, "watchdog: option -i %s: not a duration\n%s", optarg, USAGE);
				return EXIT_USAGE;
			}
			break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: fputs(USAGE, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(o->apps.root, "none"))
		o->apps.root = NULL;
	return -1;
}

static void handle_signals(int sfd, long long now)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(now);
		else if (si.ssi_signo == SIGHUP)
			logmsg("SIGHUP: reload is not supported; use restart");
		else if (!sup_host.shutting_down) {
			logmsg("signal %d: stopping all services", (int)si.ssi_signo);
			sup_host.shutting_down = 1;
		}
	}
}

static void housekeeping(const struct hk_policy *pol)
{
	struct hk_report rep = { 0 };

	hk_run(pol, time(NULL), &rep);
	if (rep.rotated || rep.purged_logs || rep.purged_tmp || rep.guard_deleted)
		logmsg("housekeeping: rotated %d, purged %d logs and %d tmp files, guard %d, freed %lld bytes",
		       rep.rotated, rep.purged_logs, rep.purged_tmp, rep.guard_deleted, rep.freed);
}

/* On the way out: the shutdown clients hear "ok" once all is stopped
 * (done), every other client is closed, services and spares freed. */
static void close_all(int done)
{
	for (int i = 0; i < CTL_MAX_CONNS; i++) {
		if (done && conns[i].kind == C_WAITING && conns[i].op == W_SHUTDOWN)
			reply(&conns[i], "ok", NULL);
		else if (conns[i].kind != C_FREE)
			conn_close(&conns[i]);
	}
	spare_fds_release(spare, SPARE_FDS);
	for (int i = 0; i < nsvcs; i++)
		svc_free(&svcs[i]);
	free(svcs);
}

/* SIGCHLD, SIGTERM, SIGINT and SIGHUP arrive on the returned signalfd. */
static int open_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* One turn of the event loop: timers, housekeeping, poll, then signals,
 * client lines and new clients. Returns 0, or -1 when poll() failed. */
static int loop_once(int sfd, int lfd, const struct hk_policy *pol, long long hk_interval,
		     long long *hk_next)
{
	struct pollfd p[2 + CTL_MAX_CONNS];
	struct conn *pc[2 + CTL_MAX_CONNS];
	long long now = mono_ms();
	int timeout = tick(now), n = 2;

	if (exit_now)
		return 0;
	if (pol && now >= *hk_next) {
		housekeeping(pol);
		*hk_next = now + hk_interval * 1000;
	}
	if (pol && *hk_next - now < timeout)
		timeout = (int)(*hk_next - now > 0 ? *hk_next - now : 0);
	if (accept_paused_until && now >= accept_paused_until)
		accept_paused_until = 0;
	accept_episode_end(now);
	p[0] = (struct pollfd){ sfd, POLLIN, 0 };
	/* -1 (ignored): resting after EMFILE, or every slot taken (then new
	 * clients wait in the listen queue) */
	p[1] = (struct pollfd){ accept_paused_until || !free_conn() ? -1 : lfd, POLLIN, 0 };
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		if (conns[i].kind == C_READING)
			pc[n] = &conns[i], p[n++] = (struct pollfd){ conns[i].fd, POLLIN, 0 };
	if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) {
		logmsg("poll: %s", strerror(errno));
		return -1;
	}
	now = mono_ms();
	if (p[0].revents & POLLIN)
		handle_signals(sfd, now);
	for (int i = 2; i < n; i++)
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
			read_client(pc[i], now);
	expire_clients(now);
	if (p[1].revents & POLLIN)
		accept_clients(lfd, now);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct stat hst;
	long long hk_next;
	struct hk_policy pol;
	struct hk_store store = { 0 };
	int use_hk = 1, sfd = -1, lfd = -1, rc, r;

	if ((rc = parse_opts(argc, argv, &o)) >= 0)
		return rc;
	rc = EXIT_SYSTEM;
	logfp = stderr;
	if (o.logpath && !(logfp = fopen(o.logpath, "ae"))) {
		fprintf(stderr, "watchdog: open log %s: %s\n", o.logpath, strerror(errno));
		return EXIT_SYSTEM;
	}
	space_log_fn = log_hook;
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		conns[i].fd = -1;
	hk_policy_default(&pol);
	if (!strcmp(o.hkconf, "none")) {
		use_hk = 0;
	} else {
		int line = 0;
		r = hk_policy_load(o.hkconf, &pol, &store, &line);
		if (r < 0 && r != -ENOENT) {
			fprintf(stderr, "watchdog: load %s: line %d: %s\n", o.hkconf, line, space_strerror(r));
			goto out;
		}
	}
	sfd = open_signals();
	if (sfd < 0) {
		fprintf(stderr, "watchdog: signalfd: %s\n", strerror(errno));
		goto out;
	}
	/* Daemons that double-fork are re-parented to us, not to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	lfd = ctl_listen(o.sock);
	if (lfd < 0) {
		fprintf(stderr, "watchdog: listen %s: %s\n", o.sock, space_strerror(lfd));
		goto out;
	}
	r = load_services(o.confdir, 0);
	if (r < 0)
		logmsg("load %s: %s (no services)", o.confdir, space_strerror(r));
	if (o.apps.root)
		load_apps(&o.apps);
	if (nsvcs)
		qsort(svcs, (size_t)nsvcs, sizeof(*svcs), svc_cmp);
	logmsg("supervising %d service(s) from %s%s%s, control socket %s", nsvcs, o.confdir,
	       o.apps.root ? " and the applications in " : "", o.apps.root ? o.apps.root : "", o.sock);
	if (lstat(hold_path, &hst) == 0) {
		held = 1;
		logmsg("%s exists: holding all services until `watchdogctl release`", hold_path);
	}
	spare_fds_take(spare, SPARE_FDS);
	hk_next = mono_ms() + 1000 * 5;
	while (!exit_now)
		if (loop_once(sfd, lfd, use_hk ? &pol : NULL, o.hk_interval, &hk_next) < 0)
			break;
	logmsg("all services stopped; exiting");
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(o.sock);
	}
	if (sfd >= 0)
		close(sfd);
	close_all(rc == 0);
	hk_policy_free(&store);
	if (logfp != stderr)
		fclose(logfp);
	return rc;
}
