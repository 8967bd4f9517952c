/* SPDX-License-Identifier: MIT */
/* sup.c - the per-service state machine of the watchdog; see sup.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "sup.h"

static const char *const state_names[ST_COUNT] = { "stopped", "starting", "running",
						   "stopping", "backoff", "failed" };
static const char *const event_names[EV_COUNT] = {
	"start",
	"stop",
	"ready",
	"ready-timeout",
	"stop-timeout",
	"retry",
	"exit-stopped",
	"exit-done",
	"exit-crash",
	"no-user",
	"fork-failed",
	"give-up",
};

const char *svc_state_name(enum svc_state st)
{
	return st < ST_COUNT ? state_names[st] : "?";
}

const char *svc_event_name(enum svc_event ev)
{
	return ev < EV_COUNT ? event_names[ev] : "none";
}

int svc_init(struct svc *s, const struct svc_conf *c)
{
	memset(s, 0, sizeof(*s));
	/* max_restarts + 1: schedule_backoff() appends after pruning to fewer
	 * than max_restarts, so this never overflows. */
	s->window = calloc((size_t)c->max_restarts + 1, sizeof(*s->window));
	if (!s->window)
		return -ENOMEM;
	s->c = *c;
	s->state = ST_STOPPED;
	strcpy(s->last_exit, "-");
	return 0;
}

void svc_free(struct svc *s)
{
	svc_conf_free(&s->c);
	free(s->window);
	s->window = NULL;
}

/* ------------------------------------------------------------ actions */

static enum svc_event act_spawn(struct svc *s, long long now)
{
	pid_t pid = sup_host.spawn(s);

	if (pid == -ENOENT) {
		sup_host.log("start %s: user %s: no such user", s->c.name, s->c.user);
		snprintf(s->last_exit, sizeof(s->last_exit), "no user %s", s->c.user);
		return EV_NO_USER;
	}
	if (pid < 0) {
		sup_host.log("start %s: fork: %s", s->c.name, strerror(-pid));
		s->pid = 0;
		return EV_FORK_FAILED;
	}
	s->pid = pid;
	s->started_ms = now;
	s->killed = 0;
	s->admin_stopped = 0;
	s->ready = 0;
	sup_host.log("started %s (pid %d)", s->c.name, (int)pid);
	if (!s->c.ready_socket && !s->c.ready_argv)
		return EV_READY;
	s->next_check_ms = now + 50;
	s->deadline_ms = now + s->c.ready_timeout_ms;
	return EV_NONE;
}

/* An administrator's start: the restart history is forgiven. */
static enum svc_event act_start(struct svc *s, long long now)
{
	s->nwindow = 0;
	s->consecutive = 0;
	return act_spawn(s, now);
}

static enum svc_event act_ready(struct svc *s, long long now)
{
	(void)now;
	s->ready = 1;
	if (s->c.ready_socket || s->c.ready_argv)
		sup_host.log("%s is ready", s->c.name);
	sup_host.notify(s, 0);
	return EV_NONE;
}

static enum svc_event act_ready_timeout(struct svc *s, long long now)
{
	(void)now;
	sup_host.log("%s: not ready after %ld s, considered running", s->c.name,
		     s->c.ready_timeout_ms / 1000);
	sup_host.notify(s, 0);
	return EV_NONE;
}

static enum svc_event act_term(struct svc *s, long long now)
{
	s->admin_stopped = 1;
	sup_host.log("stopping %s (pid %d)", s->c.name, (int)s->pid);
	sup_host.kill(s->pid, SIGTERM, 1);
	if (s->check_pid)
		sup_host.kill(s->check_pid, SIGKILL, 0);
	s->deadline_ms = now + s->c.stop_timeout_ms;
	return EV_NONE;
}

static enum svc_event act_kill(struct svc *s, long long now)
{
	(void)now;
	if (s->killed)
		return EV_NONE;
	sup_host.log("%s did not stop in %ld ms: SIGKILL", s->c.name, s->c.stop_timeout_ms);
	sup_host.kill(s->pid, SIGKILL, 1);
	s->killed = 1;
	return EV_NONE;
}

/* Stopped without a process to end (back-off, failed, already stopped). */
static enum svc_event act_stopped(struct svc *s, long long now)
{
	(void)now;
	s->admin_stopped = 1;
	sup_host.notify(s, 1);
	return EV_NONE;
}

/* The process ended as asked; a `restart` client waits for the start. */
static enum svc_event act_exit_stopped(struct svc *s, long long now)
{
	(void)now;
	sup_host.notify(s, 1);
	if (!sup_host.shutting_down && sup_host.restart_waiting(s))
		return EV_START;
	return EV_NONE;
}

/* Start/restart clients hear that it is not running (stopped, failed). */
static enum svc_event act_not_started(struct svc *s, long long now)
{
	(void)now;
	sup_host.notify(s, 0);
	return EV_NONE;
}

/* Keep only the restarts inside restart_window; give up at max_restarts,
 * else wait backoff_ms, doubled per consecutive crash up to backoff_max_ms. */
static enum svc_event act_backoff(struct svc *s, long long now)
{
	long long win = (long long)s->c.restart_window * 1000, delay;
	int k = 0;

	for (int i = 0; i < s->nwindow; i++)
		if (now - s->window[i] < win)
			s->window[k++] = s->window[i];
	s->nwindow = k;
	if (s->nwindow >= s->c.max_restarts)
		return EV_GIVE_UP;
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
	s->deadline_ms = now + delay;
	sup_host.log("%s: restart in %lld ms", s->c.name, delay);
	return EV_NONE;
}

static enum svc_event act_crash(struct svc *s, long long now)
{
	enum svc_event ev;

	s->restarts++;
	ev = act_backoff(s, now);
	if (ev != EV_NONE)
		return ev;
	sup_host.notify(s, 0);
	return EV_NONE;
}

static enum svc_event act_give_up(struct svc *s, long long now)
{
	(void)now;
	sup_host.log("%s exited %d times within %lds: giving up (failed)", s->c.name, s->nwindow,
		     s->c.restart_window);
	sup_host.notify(s, 0);
	return EV_NONE;
}

/* ------------------------------------------------------------ the table */

#define T(next, act)         \
	{                    \
		next, act, 1 \
	}

/* Rows: the state now; columns: the event. Every transition is here. */
const struct sup_transition sup_table[ST_COUNT][EV_COUNT] = {
	[ST_STOPPED] = {
		[EV_START] = T(ST_STARTING, act_start),
		[EV_STOP] = T(ST_STOPPED, act_stopped),
	},
	[ST_STARTING] = {
		[EV_STOP] = T(ST_STOPPING, act_term),
		[EV_READY] = T(ST_RUNNING, act_ready),
		[EV_READY_TIMEOUT] = T(ST_RUNNING, act_ready_timeout),
		[EV_EXIT_STOPPED] = T(ST_STOPPED, act_exit_stopped),
		[EV_EXIT_DONE] = T(ST_STOPPED, act_not_started),
		[EV_EXIT_CRASH] = T(ST_BACKOFF, act_crash),
		[EV_NO_USER] = T(ST_FAILED, act_not_started),
		[EV_FORK_FAILED] = T(ST_BACKOFF, act_backoff),
	},
	[ST_RUNNING] = {
		[EV_STOP] = T(ST_STOPPING, act_term),
		[EV_EXIT_STOPPED] = T(ST_STOPPED, act_exit_stopped),
		[EV_EXIT_DONE] = T(ST_STOPPED, act_not_started),
		[EV_EXIT_CRASH] = T(ST_BACKOFF, act_crash),
	},
	[ST_STOPPING] = {
		[EV_STOP_TIMEOUT] = T(ST_STOPPING, act_kill),
		/* whatever the policy says, a stopped service stays down */
		[EV_EXIT_STOPPED] = T(ST_STOPPED, act_exit_stopped),
		[EV_EXIT_DONE] = T(ST_STOPPED, act_exit_stopped),
		[EV_EXIT_CRASH] = T(ST_STOPPED, act_exit_stopped),
	},
	[ST_BACKOFF] = {
		[EV_START] = T(ST_STARTING, act_start),
		[EV_STOP] = T(ST_STOPPED, act_stopped),
		[EV_RETRY] = T(ST_STARTING, act_spawn),
		[EV_GIVE_UP] = T(ST_FAILED, act_give_up),
	},
	[ST_FAILED] = {
		[EV_START] = T(ST_STARTING, act_start),
		[EV_STOP] = T(ST_STOPPED, act_stopped),
	},
};

#undef T

void svc_event(struct svc *s, enum svc_event ev, long long now)
{
	/* The longest chain is three (exit, start, ready / start, fork
	 * failed, give up); the bound only guards against a table mistake. */
	for (int hop = 0; ev < EV_COUNT && hop < 8; hop++) {
		const struct sup_transition *t = &sup_table[s->state][ev];

		if (!t->valid)
			return;
		s->state = t->next;
		ev = t->act ? t->act(s, now) : EV_NONE;
	}
}

void svc_exited(struct svc *s, int status, long long now)
{
	int failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	enum svc_event ev = EV_EXIT_CRASH;

	if (WIFEXITED(status))
		snprintf(s->last_exit, sizeof(s->last_exit), "exit %d", WEXITSTATUS(status));
	else
		snprintf(s->last_exit, sizeof(s->last_exit), "signal %d", WTERMSIG(status));
	sup_host.log("%s (pid %d) ended: %s", s->c.name, (int)s->pid, s->last_exit);
	s->pid = 0;
	s->ready = 0;
	if (s->check_pid)
		sup_host.kill(s->check_pid, SIGKILL, 0);
	if (s->state == ST_STOPPING || s->admin_stopped || sup_host.shutting_down)
		ev = EV_EXIT_STOPPED;
	else if (s->c.restart == RESTART_NEVER || (s->c.restart == RESTART_ON_FAILURE && !failed))
		ev = EV_EXIT_DONE;
	svc_event(s, ev, now);
}
