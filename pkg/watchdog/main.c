/* SPDX-License-Identifier: MIT */
/* watchdog - the appliance's service supervisor, started by init.
 *
 * One event loop (poll) over a signalfd and a root-only control socket.
 * Services come from CONFDIR/NAME.conf (see svcconf.h), start in `order`,
 * each after the previous one is ready; a service that exits is restarted
 * with exponential back-off until it exits max_restarts times within
 * restart_window, then it is marked failed. Services run in their own
 * session (process group) so stop signals reach their children too; the
 * watchdog is a child subreaper, so it reaps everything they leave behind.
 * Housekeeping (hk.h) runs every interval.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmgmt/buf.h"
#include "libmgmt/ctl.h"
#include "libmgmt/daemon.h"
#include "libmgmt/hk.h"
#include "libmgmt/kv.h"
#include "svcconf.h"
#include "util.h"

#define USAGE                                                                        \
	"usage: watchdog [-d CONFDIR] [-s SOCKET] [-H HOUSEKEEPING.conf|none]\n"   \
	"                [-i SECONDS] [-l LOGFILE]\n"                                 \
	"  -d  service definitions (env WATCHDOG_CONFDIR, default /etc/watchdog.d)\n" \
	"  -s  control socket (env WATCHDOG_SOCKET, default /run/watchdog.sock)\n"    \
	"  -H  housekeeping policy (env WATCHDOG_HOUSEKEEPING, default\n"             \
	"      /etc/housekeeping.conf; defaults apply if it is missing; none = off)\n" \
	"  -i  housekeeping interval in seconds (default 300)\n"                      \
	"  -l  log file (default stderr)\n"                                           \
	"  -P  hold file (env WATCHDOG_HOLD, default /run/watchdog.hold): while it\n" \
	"      exists the watchdog starts no service (`watchdogctl shutdown --hold`\n" \
	"      writes it so init's respawn does not restart services during a hot\n"  \
	"      patch; `watchdogctl release` removes it and starts them in order)\n"   \
	"Exit: 0 after `watchdogctl shutdown` or SIGTERM, 100 usage, 111 failure.\n"

enum state { ST_STOPPED, ST_STARTING, ST_RUNNING, ST_STOPPING, ST_BACKOFF, ST_FAILED };
static const char *const state_name[] = { "stopped", "starting", "running",
					  "stopping", "backoff", "failed" };

enum wait_op { W_STOP, W_START, W_RESTART };
#define MAX_WAITERS 8

struct waiter {
	int fd;
	enum wait_op op;
};

struct svc {
	struct svc_conf c;
	enum state state;
	pid_t pid, check_pid;
	long long started_ms, deadline_ms, next_check_ms;
	int restarts, consecutive, ready, admin_stopped, killed;
	long long *window;          /* restart times within restart_window (ms) */
	int nwindow;
	char last_exit[48];
	struct waiter w[MAX_WAITERS];
	int nw;
};

static struct svc *svcs;
static int nsvcs;
static FILE *logfp;
static int seq_next;             /* boot sequencing: next index to start */
static int held;                 /* hold file present: start nothing */
static const char *hold_path;
static int shutting_down, shutdown_fds[MAX_WAITERS], nshutdown_fds;
static int exit_now;

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

/* Load every NAME.conf. A broken file is logged and skipped so one bad
 * definition cannot keep the rest of the appliance from starting. */
static int load_services(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *path, err[300];
		struct svc *nv;
		struct svc_conf c;
		int dup = 0;

		if (n < 6 || strcmp(e->d_name + n - 5, ".conf") || e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (!path)
			continue;
		if (svc_conf_load(path, &c, err, sizeof(err)) < 0) {
			logmsg("load %s: %s (service skipped)", path, err);
			free(path);
			continue;
		}
		free(path);
		for (int i = 0; i < nsvcs; i++)
			dup |= !strcmp(svcs[i].c.name, c.name);
		if (dup) {
			logmsg("load %s/%s: service %s defined twice (skipped)", dir, e->d_name, c.name);
			svc_conf_free(&c);
			continue;
		}
		nv = realloc(svcs, (size_t)(nsvcs + 1) * sizeof(*nv));
		if (!nv) {
			svc_conf_free(&c);
			break;
		}
		svcs = nv;
		memset(&svcs[nsvcs], 0, sizeof(svcs[nsvcs]));
		svcs[nsvcs].c = c;
		svcs[nsvcs].window = calloc((size_t)c.max_restarts + 1, sizeof(long long));
		strcpy(svcs[nsvcs].last_exit, "-");
		nsvcs++;
	}
	closedir(d);
	if (nsvcs)
		qsort(svcs, (size_t)nsvcs, sizeof(*svcs), svc_cmp);
	return 0;
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
	buf_puts(b, "name=");
	kv_quote(b, s->c.name);
	buf_printf(b, " state=%s pid=%d uptime=%lld restarts=%d ready=%s order=%d last_exit=",
		   state_name[s->state], (s->state == ST_RUNNING || s->state == ST_STARTING ||
					  s->state == ST_STOPPING) ? (int)s->pid : 0,
		   (s->state == ST_RUNNING || s->state == ST_STARTING) ? (now - s->started_ms) / 1000 : 0,
		   s->restarts, s->ready ? "yes" : "no", s->c.order);
	kv_quote(b, s->last_exit);
	buf_puts(b, "\n");
}

static void reply(int fd, const char *first, const struct svc *s)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, first);
	buf_puts(&b, "\n");
	if (s)
		put_record(&b, s, mono_ms());
	if (!buf_failed(&b))
		ctl_write_all(fd, b.p, b.len);
	buf_free(&b);
	close(fd);
}

static void notify(struct svc *s, int stopped)
{
	int keep = 0;

	for (int i = 0; i < s->nw; i++) {
		struct waiter w = s->w[i];
		if (stopped && w.op == W_STOP) {
			reply(w.fd, "ok", s);
		} else if (!stopped && (w.op == W_START || w.op == W_RESTART)) {
			if (s->state == ST_RUNNING)
				reply(w.fd, "ok", s);
			else
				reply(w.fd, "error service did not start", s);
		} else {
			s->w[keep++] = w;
		}
	}
	s->nw = keep;
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

static void schedule_restart(struct svc *s, long long now);

static void start_svc(struct svc *s, long long now)
{
	uid_t uid = 0;
	gid_t gid = 0;
	int have_user = 0;
	pid_t pid;

	if (s->c.user) {
		struct passwd *pw = getpwnam(s->c.user);
		if (!pw) {
			logmsg("start %s: user %s: no such user", s->c.name, s->c.user);
			snprintf(s->last_exit, sizeof(s->last_exit), "no user %s", s->c.user);
			s->state = ST_FAILED;
			notify(s, 0);
			return;
		}
		uid = pw->pw_uid, gid = pw->pw_gid, have_user = 1;
	}
	pid = fork();
	if (pid < 0) {
		logmsg("start %s: fork: %s", s->c.name, strerror(errno));
		s->pid = 0;
		schedule_restart(s, now);
		return;
	}
	if (pid == 0)
		child_exec(s, uid, gid, have_user);
	s->pid = pid;
	s->started_ms = now;
	s->killed = 0;
	s->admin_stopped = 0;
	s->ready = 0;
	if (s->c.ready_socket || s->c.ready_argv) {
		s->state = ST_STARTING;
		s->next_check_ms = now + 50;
		s->deadline_ms = now + s->c.ready_timeout_ms;
	} else {
		s->state = ST_RUNNING;
		s->ready = 1;
		notify(s, 0);
	}
	logmsg("started %s (pid %d)", s->c.name, (int)pid);
}

static void stop_svc(struct svc *s, long long now)
{
	s->admin_stopped = 1;
	switch (s->state) {
	case ST_STARTING:
	case ST_RUNNING:
		logmsg("stopping %s (pid %d)", s->c.name, (int)s->pid);
		kill(-s->pid, SIGTERM);
		kill(s->pid, SIGTERM);
		if (s->check_pid)
			kill(s->check_pid, SIGKILL);
		s->state = ST_STOPPING;
		s->deadline_ms = now + s->c.stop_timeout_ms;
		break;
	case ST_BACKOFF:
	case ST_FAILED:
		s->state = ST_STOPPED;
		notify(s, 1);
		break;
	case ST_STOPPED:
		notify(s, 1);
		break;
	case ST_STOPPING:
		break;
	}
}

static void schedule_restart(struct svc *s, long long now)
{
	long long win = (long long)s->c.restart_window * 1000, delay;
	int k = 0;

	/* keep only the restarts inside the window */
	for (int i = 0; i < s->nwindow; i++)
		if (now - s->window[i] < win)
			s->window[k++] = s->window[i];
	s->nwindow = k;
	if (s->nwindow >= s->c.max_restarts) {
		logmsg("%s exited %d times within %lds: giving up (failed)", s->c.name, s->nwindow,
		       s->c.restart_window);
		s->state = ST_FAILED;
		notify(s, 0);
		return;
	}
	/* A run that lasted longer than the back-off ceiling was a healthy one. */
	if (s->started_ms && now - s->started_ms > s->c.backoff_max_ms)
		s->consecutive = 0;
	delay = s->c.backoff_ms;
	for (int i = 0; i < s->consecutive && delay < s->c.backoff_max_ms; i++)
		delay *= 2;
	if (delay > s->c.backoff_max_ms)
		delay = s->c.backoff_max_ms;
	s->consecutive++;
	s->window[s->nwindow++] = now;
	s->state = ST_BACKOFF;
	s->deadline_ms = now + delay;
	logmsg("%s: restart in %lld ms", s->c.name, delay);
}

static void on_exit_status(struct svc *s, int status, long long now)
{
	int failed;

	if (WIFEXITED(status))
		snprintf(s->last_exit, sizeof(s->last_exit), "exit %d", WEXITSTATUS(status));
	else
		snprintf(s->last_exit, sizeof(s->last_exit), "signal %d", WTERMSIG(status));
	logmsg("%s (pid %d) ended: %s", s->c.name, (int)s->pid, s->last_exit);
	failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	s->pid = 0;
	s->ready = 0;
	if (s->check_pid)
		kill(s->check_pid, SIGKILL);
	if (s->state == ST_STOPPING || s->admin_stopped || shutting_down) {
		s->state = ST_STOPPED;
		notify(s, 1);
		/* restart: the waiter is still there, start again */
		for (int i = 0; i < s->nw; i++)
			if (s->w[i].op == W_RESTART && !shutting_down) {
				s->window[0] = 0, s->nwindow = 0, s->consecutive = 0;
				start_svc(s, now);
				break;
			}
		return;
	}
	if (s->c.restart == RESTART_NEVER || (s->c.restart == RESTART_ON_FAILURE && !failed)) {
		s->state = ST_STOPPED;
		notify(s, 0);
		return;
	}
	s->restarts++;
	schedule_restart(s, now);
	if (s->state == ST_FAILED)
		return;
	if (s->nw)
		notify(s, 0);
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
				if (s->state == ST_STARTING && WIFEXITED(status) && !WEXITSTATUS(status)) {
					s->state = ST_RUNNING;
					s->ready = 1;
					logmsg("%s is ready", s->c.name);
					notify(s, 0);
				}
			} else if (pid == s->pid) {
				on_exit_status(s, status, now);
			}
		}
		/* anything else: an orphan we adopted as subreaper, now reaped */
	}
}

static void check_ready(struct svc *s, long long now)
{
	if (s->c.ready_socket) {
		if (svc_ready_socket(s->c.ready_socket) == 0) {
			s->state = ST_RUNNING;
			s->ready = 1;
			logmsg("%s is ready", s->c.name);
			notify(s, 0);
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

/* Advance every timer; returns the poll timeout in ms. */
static int tick(long long now)
{
	long long next = now + 1000;

	for (int i = 0; i < nsvcs; i++) {
		struct svc *s = &svcs[i];

		switch (s->state) {
		case ST_STARTING:
			if (now >= s->deadline_ms) {
				logmsg("%s: not ready after %ld s, considered running", s->c.name,
				       s->c.ready_timeout_ms / 1000);
				s->state = ST_RUNNING;
				notify(s, 0);
				break;
			}
			if (now >= s->next_check_ms)
				check_ready(s, now);
			if (s->next_check_ms < next)
				next = s->next_check_ms;
			break;
		case ST_STOPPING:
			if (now >= s->deadline_ms && !s->killed) {
				logmsg("%s did not stop in %ld ms: SIGKILL", s->c.name, s->c.stop_timeout_ms);
				kill(-s->pid, SIGKILL);
				kill(s->pid, SIGKILL);
				s->killed = 1;
			}
			if (!s->killed && s->deadline_ms < next)
				next = s->deadline_ms;
			break;
		case ST_BACKOFF:
			if (now >= s->deadline_ms && !shutting_down)
				start_svc(s, now);
			else if (s->deadline_ms < next)
				next = s->deadline_ms;
			break;
		default:
			break;
		}
	}
	/* boot sequencing: start in order, each once the previous is ready */
	while (!shutting_down && !held && seq_next < nsvcs) {
		struct svc *s = &svcs[seq_next];
		if (s->state == ST_STOPPED && !s->admin_stopped && !s->started_ms) {
			start_svc(s, now);
			if (s->state == ST_STARTING)
				break;
		} else if (s->state == ST_STARTING) {
			break;
		}
		seq_next++;
	}
	/* shutdown: stop in reverse order, one at a time */
	if (shutting_down) {
		int i;
		for (i = nsvcs - 1; i >= 0; i--) {
			struct svc *s = &svcs[i];
			if (s->state == ST_STOPPING)
				break;
			if (s->state != ST_STOPPED && s->state != ST_FAILED) {
				stop_svc(s, now);
				if (s->state == ST_STOPPING)
					break;
			}
		}
		if (i < 0)
			exit_now = 1;
	}
	next -= now;
	return next < 0 ? 0 : next > 1000 ? 1000 : (int)next;
}

/* ------------------------------------------------------------ control */

static void add_waiter(struct svc *s, int fd, enum wait_op op)
{
	if (s->nw >= MAX_WAITERS) {
		reply(fd, "error too many waiting clients", NULL);
		return;
	}
	s->w[s->nw].fd = fd;
	s->w[s->nw].op = op;
	s->nw++;
}

static void handle_client(int fd, long long now)
{
	char line[256], *arg;
	struct svc *s = NULL;

	if (ctl_read_line(fd, line, sizeof(line)) < 0) {
		reply(fd, "error bad request", NULL);
		return;
	}
	arg = strchr(line, ' ');
	if (arg) {
		*arg++ = '\0';
		s = find_svc(arg);
	}
	if (!strcmp(line, "status")) {
		struct buf b;
		if (arg && !s) {
			reply(fd, "error no such service", NULL);
			return;
		}
		buf_init(&b);
		buf_puts(&b, held ? "ok held\n" : "ok\n");
		for (int i = 0; i < nsvcs; i++)
			if (!s || s == &svcs[i])
				put_record(&b, &svcs[i], now);
		if (!buf_failed(&b))
			ctl_write_all(fd, b.p, b.len);
		buf_free(&b);
		close(fd);
		return;
	}
	if (!strcmp(line, "release")) {
		if (held && unlink(hold_path) < 0 && errno != ENOENT) {
			char msg[300];
			snprintf(msg, sizeof(msg), "error remove %s: %s", hold_path, strerror(errno));
			reply(fd, msg, NULL);
			return;
		}
		if (held)
			logmsg("released: starting services");
		held = 0;
		reply(fd, "ok", NULL);
		return;
	}
	if (!strcmp(line, "shutdown") && arg && !strcmp(arg, "hold")) {
		int r = write_file_atomic(hold_path, "held by watchdogctl shutdown --hold\n", 36, 0644);
		if (r < 0) {
			char msg[300];
			snprintf(msg, sizeof(msg), "error write %s: %s", hold_path, space_strerror(r));
			reply(fd, msg, NULL);
			return;
		}
		logmsg("hold file %s written: services stay down until `watchdogctl release`", hold_path);
		strcpy(line, "shutdown");
		arg = NULL;
	}
	if (!strcmp(line, "shutdown") && !arg) {
		if (nshutdown_fds < MAX_WAITERS)
			shutdown_fds[nshutdown_fds++] = fd;
		else
			close(fd);
		if (!shutting_down)
			logmsg("shutdown requested: stopping all services");
		shutting_down = 1;
		return;
	}
	if (strcmp(line, "start") && strcmp(line, "stop") && strcmp(line, "restart")) {
		reply(fd, "error unknown command", NULL);
		return;
	}
	if (!s) {
		reply(fd, arg ? "error no such service" : "error service name missing", NULL);
		return;
	}
	if (shutting_down) {
		reply(fd, "error shutting down", s);
		return;
	}
	if (!strcmp(line, "stop")) {
		add_waiter(s, fd, W_STOP);
		stop_svc(s, now);
	} else if (!strcmp(line, "start")) {
		if (s->state == ST_RUNNING) {
			reply(fd, "ok", s);
			return;
		}
		add_waiter(s, fd, W_START);
		if (s->state == ST_STOPPED || s->state == ST_FAILED || s->state == ST_BACKOFF) {
			s->nwindow = 0;
			s->consecutive = 0;
			start_svc(s, now);
		}
	} else {
		add_waiter(s, fd, W_RESTART);
		if (s->state == ST_RUNNING || s->state == ST_STARTING || s->state == ST_STOPPING) {
			stop_svc(s, now);
		} else {
			s->nwindow = 0;
			s->consecutive = 0;
			start_svc(s, now);
		}
	}
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	const char *confdir = getenv("WATCHDOG_CONFDIR"), *sock = getenv("WATCHDOG_SOCKET");
	const char *hkconf = getenv("WATCHDOG_HOUSEKEEPING"), *logpath = NULL;
	struct stat hst;
	long long hk_interval = 300, hk_next;
	struct hk_policy pol;
	struct hk_store store = { 0 };
	int use_hk = 1, sfd = -1, lfd = -1, rc = 111, opt, r;
	sigset_t mask;

	if (!confdir)
		confdir = "/etc/watchdog.d";
	if (!sock)
		sock = "/run/watchdog.sock";
	if (!hkconf)
		hkconf = "/etc/housekeeping.conf";
	hold_path = getenv("WATCHDOG_HOLD");
	if (!hold_path)
		hold_path = "/run/watchdog.hold";
	logfp = stderr;
	while ((opt = getopt(argc, argv, "d:s:H:i:l:P:h")) != -1) {
		switch (opt) {
		case 'd': confdir = optarg; break;
		case 's': sock = optarg; break;
		case 'H': hkconf = optarg; break;
		case 'l': logpath = optarg; break;
		case 'P': hold_path = optarg; break;
		case 'i':
			if (kv_int(optarg, 1, 86400 * 7, 1, &hk_interval) < 0) {
				fprintf(stderr, "watchdog: option -i %s: not a duration\n%s", optarg, USAGE);
				return 100;
			}
			break;
		case 'h': fputs(USAGE, stdout); return 0;
		default: fputs(USAGE, stderr); return 100;
		}
	}
	if (optind != argc) {
		fputs(USAGE, stderr);
		return 100;
	}
	if (logpath && !(logfp = fopen(logpath, "ae"))) {
		fprintf(stderr, "watchdog: open log %s: %s\n", logpath, strerror(errno));
		return 111;
	}
	space_log_fn = log_hook;
	hk_policy_default(&pol);
	if (!strcmp(hkconf, "none")) {
		use_hk = 0;
	} else {
		int line = 0;
		r = hk_policy_load(hkconf, &pol, &store, &line);
		if (r < 0 && r != -ENOENT) {
			fprintf(stderr, "watchdog: load %s: line %d: %s\n", hkconf, line, space_strerror(r));
			goto out;
		}
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "watchdog: signalfd: %s\n", strerror(errno));
		goto out;
	}
	/* Daemons that double-fork are re-parented to us, not to init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	lfd = ctl_listen(sock);
	if (lfd < 0) {
		fprintf(stderr, "watchdog: listen %s: %s\n", sock, space_strerror(lfd));
		goto out;
	}
	r = load_services(confdir);
	if (r < 0)
		logmsg("load %s: %s (no services)", confdir, space_strerror(r));
	logmsg("supervising %d service(s) from %s, control socket %s", nsvcs, confdir, sock);
	if (lstat(hold_path, &hst) == 0) {
		held = 1;
		logmsg("%s exists: holding all services until `watchdogctl release`", hold_path);
	}
	hk_next = mono_ms() + 1000 * 5;
	while (!exit_now) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { lfd, POLLIN, 0 } };
		long long now = mono_ms();
		int timeout = tick(now);

		if (exit_now)
			break;
		if (use_hk && now >= hk_next) {
			struct hk_report rep = { 0 };
			hk_run(&pol, time(NULL), &rep);
			if (rep.rotated || rep.purged_logs || rep.purged_tmp || rep.guard_deleted)
				logmsg("housekeeping: rotated %d, purged %d logs and %d tmp files, guard %d, freed %lld bytes",
				       rep.rotated, rep.purged_logs, rep.purged_tmp, rep.guard_deleted, rep.freed);
			hk_next = now + hk_interval * 1000;
		}
		if (use_hk && hk_next - now < timeout)
			timeout = (int)(hk_next - now > 0 ? hk_next - now : 0);
		if (poll(p, 2, timeout) < 0 && errno != EINTR) {
			logmsg("poll: %s", strerror(errno));
			break;
		}
		now = mono_ms();
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGCHLD)
					reap(now);
				else if (si.ssi_signo == SIGHUP)
					logmsg("SIGHUP: reload is not supported; use restart");
				else if (!shutting_down) {
					logmsg("signal %d: stopping all services", (int)si.ssi_signo);
					shutting_down = 1;
				}
			}
		}
		if (p[1].revents & POLLIN) {
			int cfd;
			while ((cfd = ctl_accept(lfd, 1000)) != -EAGAIN) {
				if (cfd >= 0)
					handle_client(cfd, now);
				else if (cfd != -EPERM)
					break;
			}
		}
	}
	logmsg("all services stopped; exiting");
	for (int i = 0; i < nshutdown_fds; i++)
		reply(shutdown_fds[i], "ok", NULL);
	rc = 0;
out:
	if (lfd >= 0) {
		close(lfd);
		unlink(sock);
	}
	if (sfd >= 0)
		close(sfd);
	for (int i = 0; i < nsvcs; i++) {
		for (int k = 0; k < svcs[i].nw; k++)
			close(svcs[i].w[k].fd);
		svc_conf_free(&svcs[i].c);
		free(svcs[i].window);
	}
	free(svcs);
	hk_policy_free(&store);
	if (logfp != stderr)
		fclose(logfp);
	return rc;
}
