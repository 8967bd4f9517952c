/* SPDX-License-Identifier: MIT */
/* test_watchdog.c - service definition parser and per-service state
 * machine (sup.h: every transition of sup_table, one case each) of the
 * watchdog. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/watchdog/sup.h"
#include "pkg/watchdog/svcconf.h"
#include "tap.h"
#include "util.h"

static char dir[64];

static int load(const char *name, const char *text, struct svc_conf *c, char *err)
{
	struct space_err e = { "" };
	char path[128];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file_atomic(path, text, strlen(text), 0644);
	r = svc_conf_load(path, c, &e);
	snprintf(err, 256, "%.255s", e.msg); /* the callers' buffers are 256 bytes */
	return r;
}

/* ------------------------------------------------------------ state machine */

/* The host of the state machine, recording instead of acting. */
static struct {
	pid_t spawn_ret; /* what spawn() returns */
	int restart_waiting;
	int spawns, kills, last_sig, groups, stop_notes, start_notes;
	enum svc_state noted_in; /* state at the last notify */
} fk;

static pid_t fk_spawn(struct svc *s)
{
	(void)s;
	fk.spawns++;
	return fk.spawn_ret;
}

static void fk_kill(pid_t pid, int sig, int group)
{
	(void)pid;
	fk.kills++;
	fk.last_sig = sig;
	fk.groups += group;
}

static void fk_notify(struct svc *s, int stopped)
{
	if (stopped)
		fk.stop_notes++;
	else
		fk.start_notes++;
	fk.noted_in = s->state;
}

static int fk_restart_waiting(const struct svc *s)
{
	(void)s;
	return fk.restart_waiting;
}

static void fk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fk_log(const char *fmt, ...)
{
	(void)fmt;
}

struct sup_host sup_host = { fk_spawn, fk_kill, fk_notify, fk_restart_waiting, fk_log, 0 };

/* calloc() fails while fail_calloc is set (linked with --wrap=calloc). */
static int fail_calloc;
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	return fail_calloc ? NULL : __real_calloc(n, size);
}

#define NOW 100000LL

/* Flags of a case: the service's configuration and the host's answers. */
enum {
	F_READY_CHECK = 1,  /* ready_socket set: a start waits in "starting" */
	F_NO_USER = 2,      /* spawn finds no such user */
	F_NO_FORK = 4,      /* spawn's fork() fails */
	F_RESTART_WAIT = 8, /* a `restart` client waits */
	F_WINDOW_FULL = 16, /* max_restarts restarts within the window already */
	F_KILLED = 32,      /* SIGKILL already sent */
};

struct tcase {
	enum svc_state from;
	enum svc_event ev;
	int flags;
	enum svc_state to;
	int spawns, kills, stop_notes, start_notes;
	const char *what;
};

static const struct tcase cases[] = {
	{ ST_STOPPED, EV_START, F_READY_CHECK, ST_STARTING, 1, 0, 0, 0, "start waits for the ready check" },
	{ ST_STOPPED, EV_START, 0, ST_RUNNING, 1, 0, 0, 1, "start without a check: running (start, ready)" },
	{ ST_STOPPED, EV_START, F_NO_USER, ST_FAILED, 1, 0, 0, 1, "start, no such user: failed" },
	{ ST_STOPPED, EV_START, F_NO_FORK, ST_BACKOFF, 1, 0, 0, 0, "start, fork failed: back-off" },
	{ ST_STOPPED, EV_STOP, 0, ST_STOPPED, 0, 0, 1, 0, "stop of a stopped service answers at once" },
	{ ST_STARTING, EV_STOP, 0, ST_STOPPING, 0, 1, 0, 0, "stop while starting: SIGTERM" },
	{ ST_STARTING, EV_READY, F_READY_CHECK, ST_RUNNING, 0, 0, 0, 1, "ready: running, clients told" },
	{ ST_STARTING, EV_READY_TIMEOUT, F_READY_CHECK, ST_RUNNING, 0, 0, 0, 1, "ready timeout: running" },
	{ ST_STARTING, EV_EXIT_STOPPED, 0, ST_STOPPED, 0, 0, 1, 0, "exit while starting, stopping: stopped" },
	{ ST_STARTING, EV_EXIT_STOPPED, F_RESTART_WAIT | F_READY_CHECK, ST_STARTING, 1, 0, 1, 0,
	  "exit with a restart client: started again" },
	{ ST_STARTING, EV_EXIT_DONE, 0, ST_STOPPED, 0, 0, 0, 1, "exit, policy stays down: stopped" },
	{ ST_STARTING, EV_EXIT_CRASH, 0, ST_BACKOFF, 0, 0, 0, 1, "crash while starting: back-off" },
	{ ST_STARTING, EV_NO_USER, 0, ST_FAILED, 0, 0, 0, 1, "no user: failed" },
	{ ST_STARTING, EV_FORK_FAILED, 0, ST_BACKOFF, 0, 0, 0, 0, "fork failed: back-off" },
	{ ST_RUNNING, EV_STOP, 0, ST_STOPPING, 0, 1, 0, 0, "stop: SIGTERM, stopping" },
	{ ST_RUNNING, EV_EXIT_STOPPED, 0, ST_STOPPED, 0, 0, 1, 0, "exit during shutdown: stopped" },
	{ ST_RUNNING, EV_EXIT_DONE, 0, ST_STOPPED, 0, 0, 0, 1, "exit, restart=never: stopped" },
	{ ST_RUNNING, EV_EXIT_CRASH, 0, ST_BACKOFF, 0, 0, 0, 1, "crash: back-off" },
	{ ST_RUNNING, EV_EXIT_CRASH, F_WINDOW_FULL, ST_FAILED, 0, 0, 0, 1, "crash, max_restarts: failed" },
	{ ST_STOPPING, EV_STOP_TIMEOUT, 0, ST_STOPPING, 0, 1, 0, 0, "stop timeout: SIGKILL" },
	{ ST_STOPPING, EV_STOP_TIMEOUT, F_KILLED, ST_STOPPING, 0, 0, 0, 0, "stop timeout again: one SIGKILL" },
	{ ST_STOPPING, EV_EXIT_STOPPED, 0, ST_STOPPED, 0, 0, 1, 0, "exit after stop: stopped" },
	{ ST_STOPPING, EV_EXIT_DONE, 0, ST_STOPPED, 0, 0, 1, 0, "exit after stop, policy never: stopped" },
	{ ST_STOPPING, EV_EXIT_CRASH, 0, ST_STOPPED, 0, 0, 1, 0, "crash after stop: stays stopped" },
	{ ST_BACKOFF, EV_START, F_WINDOW_FULL, ST_RUNNING, 1, 0, 0, 1, "start in back-off: history forgiven" },
	{ ST_BACKOFF, EV_STOP, 0, ST_STOPPED, 0, 0, 1, 0, "stop in back-off: stopped" },
	{ ST_BACKOFF, EV_RETRY, F_READY_CHECK, ST_STARTING, 1, 0, 0, 0, "back-off over: started" },
	{ ST_BACKOFF, EV_GIVE_UP, 0, ST_FAILED, 0, 0, 0, 1, "give up: failed" },
	{ ST_FAILED, EV_START, 0, ST_RUNNING, 1, 0, 0, 1, "start of a failed service" },
	{ ST_FAILED, EV_STOP, 0, ST_STOPPED, 0, 0, 1, 0, "stop of a failed service: stopped" },
};

static void mk_svc(struct svc *s, enum svc_state st, int flags)
{
	struct svc_conf c;
	char err[256];

	load("t.conf", flags & F_READY_CHECK ? "exec=/bin/true\nmax_restarts=2\nready_socket=unix:/x\n" : "exec=/bin/true\nmax_restarts=2\n", &c, err);
	if (svc_init(s, &c) < 0)
		abort();
	s->state = st;
	s->pid = st == ST_STARTING || st == ST_RUNNING || st == ST_STOPPING ? 4242 : 0;
	s->killed = !!(flags & F_KILLED);
	if (flags & F_WINDOW_FULL)
		s->window[0] = s->window[1] = NOW - 10, s->nwindow = 2;
	memset(&fk, 0, sizeof(fk));
	fk.spawn_ret = flags & F_NO_USER ? -ENOENT : flags & F_NO_FORK ? -EAGAIN :
									 4343;
	fk.restart_waiting = !!(flags & F_RESTART_WAIT);
}

static void test_transitions(void)
{
	int covered[ST_COUNT][EV_COUNT] = { { 0 } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *t = &cases[i];
		struct svc s;

		mk_svc(&s, t->from, t->flags);
		svc_event(&s, t->ev, NOW);
		ok(s.state == t->to && fk.spawns == t->spawns && fk.kills == t->kills &&
			   fk.stop_notes == t->stop_notes && fk.start_notes == t->start_notes,
		   "%s + %s -> %s: %s", svc_state_name(t->from), svc_event_name(t->ev),
		   svc_state_name(t->to), t->what);
		if (s.state != t->to)
			printf("#   ended in %s\n", svc_state_name(s.state));
		covered[t->from][t->ev] = 1;
		svc_free(&s);
	}
	/* every transition of the table has a case above; every other pair
	 * leaves the state alone and does nothing */
	for (int st = 0; st < ST_COUNT; st++) {
		for (int ev = 0; ev < EV_COUNT; ev++) {
			struct svc s;

			if (sup_table[st][ev].valid) {
				ok(covered[st][ev], "transition %s + %s has a test", svc_state_name(st),
				   svc_event_name(ev));
				continue;
			}
			mk_svc(&s, st, 0);
			svc_event(&s, ev, NOW);
			if (s.state != (enum svc_state)st || fk.spawns || fk.kills || fk.stop_notes ||
			    fk.start_notes)
				ok(0, "%s + %s is ignored", svc_state_name(st), svc_event_name(ev));
			svc_free(&s);
		}
	}
}

/* What the transitions do besides the state. */
static void test_effects(void)
{
	struct svc s;

	mk_svc(&s, ST_RUNNING, 0);
	svc_event(&s, EV_STOP, NOW);
	ok(fk.last_sig == SIGTERM && fk.groups == 1 && s.admin_stopped &&
		   s.deadline_ms == NOW + s.c.stop_timeout_ms,
	   "stop: SIGTERM to the process group, stop deadline set");
	svc_event(&s, EV_STOP_TIMEOUT, NOW);
	ok(fk.last_sig == SIGKILL && s.killed, "stop timeout: SIGKILL");
	svc_free(&s);

	mk_svc(&s, ST_RUNNING, 0);
	s.started_ms = NOW - 10;
	svc_event(&s, EV_EXIT_CRASH, NOW);
	ok(s.restarts == 1 && s.nwindow == 1 && s.deadline_ms == NOW + s.c.backoff_ms,
	   "first crash: counted, back-off backoff_ms");
	ok(fk.noted_in == ST_BACKOFF, "start clients hear of it in back-off (not running)");
	svc_event(&s, EV_RETRY, NOW + 600);
	is_int(s.nwindow, 1, "a retry keeps the restart history");
	svc_event(&s, EV_EXIT_CRASH, NOW + 610);
	is_int(s.deadline_ms - (NOW + 610), 2 * s.c.backoff_ms, "second crash: back-off doubled");
	svc_event(&s, EV_START, NOW + 620);
	ok(s.nwindow == 0 && s.consecutive == 0 && s.state == ST_RUNNING,
	   "an administrator's start forgives the history");
	svc_free(&s);

	mk_svc(&s, ST_STOPPED, F_NO_USER);
	free(s.c.user);
	s.c.user = strdup("nosuchuser");
	svc_event(&s, EV_START, NOW);
	ok(!strcmp(s.last_exit, "no user nosuchuser") && fk.noted_in == ST_FAILED,
	   "no such user: failed, named in last_exit");
	svc_free(&s);

	mk_svc(&s, ST_STARTING, F_READY_CHECK);
	s.check_pid = 777;
	svc_exited(&s, 0, NOW); /* wait status of exit 0 */
	ok(s.state == ST_BACKOFF && !strcmp(s.last_exit, "exit 0") && s.pid == 0 && fk.last_sig == SIGKILL,
	   "exit 0 with restart=always: back-off, ready check killed");
	svc_free(&s);

	mk_svc(&s, ST_RUNNING, 0);
	s.c.restart = RESTART_ON_FAILURE;
	svc_exited(&s, 0, NOW);
	ok(s.state == ST_STOPPED && fk.start_notes == 1, "exit 0 with restart=on-failure: stopped");
	svc_free(&s);

	mk_svc(&s, ST_RUNNING, 0);
	s.c.restart = RESTART_NEVER;
	sup_host.shutting_down = 1;
	svc_exited(&s, 9, NOW); /* killed by SIGKILL */
	sup_host.shutting_down = 0;
	ok(s.state == ST_STOPPED && !strcmp(s.last_exit, "signal 9") && fk.stop_notes == 1,
	   "exit during shutdown: stopped, stop clients told");
	svc_free(&s);

	mk_svc(&s, ST_STOPPING, F_RESTART_WAIT);
	sup_host.shutting_down = 1;
	svc_exited(&s, 0, NOW);
	sup_host.shutting_down = 0;
	ok(s.state == ST_STOPPED && fk.spawns == 0, "no restart during shutdown");
	svc_free(&s);
}

/* The window of restarts is allocated; without memory the service is
 * refused, never used with a NULL window (issue 13: unchecked calloc). */
static void test_init_nomem(void)
{
	struct svc_conf c;
	struct svc s;
	char err[256];

	load("t.conf", "exec=/bin/true\n", &c, err);
	fail_calloc = 1;
	is_int(svc_init(&s, &c), -ENOMEM, "svc_init without memory: -ENOMEM");
	fail_calloc = 0;
	svc_conf_free(&c);
}

/* a service definition: every key */
static void test_conf(void)
{
	struct svc_conf c;
	char err[256];

	is_int(load("mgmtd.conf",
		    "# the API\nexec = /usr/sbin/mgmtd -c \"/etc/my conf\"\nuser=root\nenv=A=1\nenv=B=x y\n"
		    "restart=on-failure\nbackoff_ms=100\nbackoff_max_ms=50\nmax_restarts=3\n"
		    "restart_window=2m\nstop_timeout=2\norder=10\nready_socket=tcp:127.0.0.1:443\n",
		    &c, err),
	       0, "full definition parses");
	ok(c.name && !strcmp(c.name, "mgmtd"), "name defaults to the file name");
	ok(c.argv && !strcmp(c.argv[2], "/etc/my conf") && !c.argv[3], "exec split with quotes");
	is_int(c.nenv, 2, "env entries");
	ok(!strcmp(c.env[1], "B=x y"), "env value with a space");
	is_int(c.restart, RESTART_ON_FAILURE, "restart policy");
	is_int(c.backoff_max_ms, 100, "back-off ceiling never below the initial delay");
	is_int(c.restart_window, 120, "window with unit");
	is_int(c.stop_timeout_ms, 2000, "stop timeout");
	is_int(c.order, 10, "order");
	svc_conf_free(&c);
}

static void test_conf_refusals(void)
{
	struct svc_conf c;
	char err[256];

	is_int(load("x.conf", "name=x\n", &c, err), -SPACE_E_FORMAT, "exec is required");
	ok(strstr(err, "exec: missing") != NULL, "says what is missing: %s", err);
	is_int(load("x.conf", "exec=/bin/true\nrestrat=always\n", &c, err), -SPACE_E_FORMAT, "typo key");
	ok(!strcmp(err, "line 2: restrat: unknown key"), "line and key named: %s", err);
	is_int(load("x.conf", "exec=bin/true\n", &c, err), -SPACE_E_FORMAT, "relative program refused");
	is_int(load("x.conf", "exec=/bin/true\nname=../etc\n", &c, err), -SPACE_E_FORMAT,
	       "name with a slash refused");
	is_int(load("x.conf", "exec=/bin/true\nmax_restarts=0\n", &c, err), -SPACE_E_FORMAT,
	       "max_restarts 0 refused");
	is_int(load("x.conf", "exec=/bin/true\nready_socket=udp:1\n", &c, err), -SPACE_E_FORMAT,
	       "bad ready socket");
	is_int(load("x.conf", "exec='/bin/true\n", &c, err), -SPACE_E_FORMAT, "unterminated quote");
	is_int(svc_conf_load("/nonexistent/x.conf", &c, NULL), -2, "missing file: -ENOENT");

	ok(svc_ready_socket("tcp:127.0.0.1:1") < 0, "nothing listens on port 1");
	ok(svc_ready_socket("unix:/nonexistent/sock") < 0, "missing unix socket not ready");
}

/* the definitions shipped in the appliance package */
static void test_packaged(void)
{
	struct svc_conf c;
	struct space_err err = { "" };

	is_int(svc_conf_load("pkg/watchdog/files/etc/watchdog.d/mgmtd.conf", &c, &err), 0,
	       "packaged mgmtd.conf parses: %s", err.msg);
	ok(c.name && !strcmp(c.name, "mgmtd") && c.ready_socket, "mgmtd waits for its port");
	svc_conf_free(&c);
	is_int(svc_conf_load("pkg/watchdog/files/etc/watchdog.d/devgate.conf", &c, &err), 0,
	       "packaged devgate.conf parses: %s", err.msg);
	is_int(c.order, 10, "devgate starts before mgmtd");
	svc_conf_free(&c);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/watchdog/transitions", test_transitions },
		{ "/watchdog/effects", test_effects },
		{ "/watchdog/init_nomem", test_init_nomem },
		{ "/watchdog/conf", test_conf },
		{ "/watchdog/conf_refusals", test_conf_refusals },
		{ "/watchdog/packaged", test_packaged },
		{ NULL, NULL },
	};
	const char *rm[] = { "rm", "-rf", dir, NULL };
	int r;

	strcpy(dir, "/tmp/test_watchdog.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	run_argv(rm);
	return r;
}
