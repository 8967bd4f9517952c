/* SPDX-License-Identifier: MIT */
/* sup.h - the watchdog's per-service state machine.
 *
 * Every change of a service's state goes through svc_event(), which looks
 * the pair (state, event) up in one table, sup_table[state][event]: the
 * next state and the action to run (s6-supervise keeps its transitions the
 * same way). An action may answer with a follow-up event (a start that
 * found no such user, a back-off that ran out of restarts), dispatched the
 * same way. Pairs the table leaves empty are ignored: the event cannot
 * change that state (an exit of a service that has no process, a start of
 * one that is starting).
 *
 * The state machine does no I/O of its own: forking, signals, answering
 * waiting clients and logging go through struct sup_host, which main.c
 * fills with the real calls and the unit test with recorders.
 */
#ifndef WATCHDOG_SUP_H
#define WATCHDOG_SUP_H

#include <sys/types.h>

#include "svcconf.h"

enum svc_state { ST_STOPPED,
		 ST_STARTING,
		 ST_RUNNING,
		 ST_STOPPING,
		 ST_BACKOFF,
		 ST_FAILED,
		 ST_COUNT };

enum svc_event {
	EV_START,         /* admin start/restart, boot sequence: a fresh restart budget */
	EV_STOP,          /* admin stop, shutdown */
	EV_READY,         /* the ready check passed (or there is none) */
	EV_READY_TIMEOUT, /* still not ready after ready_timeout: considered running */
	EV_STOP_TIMEOUT,  /* still alive stop_timeout after SIGTERM */
	EV_RETRY,         /* the back-off delay is over */
	EV_EXIT_STOPPED,  /* the process ended after a stop or during shutdown */
	EV_EXIT_DONE,     /* it ended and its restart policy says stay down */
	EV_EXIT_CRASH,    /* it ended and is to be restarted */
	EV_NO_USER,       /* follow-up of a start: its user does not exist */
	EV_FORK_FAILED,   /* follow-up of a start: fork() failed, try later */
	EV_GIVE_UP,       /* follow-up of a back-off: max_restarts in restart_window */
	EV_COUNT,
	EV_NONE = EV_COUNT
};

struct svc {
	struct svc_conf c;
	enum svc_state state;
	pid_t pid, check_pid;
	long long started_ms, deadline_ms, next_check_ms;
	int restarts, consecutive, ready, admin_stopped, killed;
	long long *window; /* restart times within restart_window (ms), max_restarts + 1 */
	int nwindow;
	char last_exit[48];
};

struct sup_host {
	/* fork and exec s: the pid, -ENOENT when s->c.user does not exist,
	 * another negative errno when fork() failed */
	pid_t (*spawn)(struct svc *s);
	/* send sig to pid, and to its process group too when group is set */
	void (*kill)(pid_t pid, int sig, int group);
	/* answer the clients waiting on s: stopped=1 the stop waiters,
	 * stopped=0 the start/restart waiters (ok if running, error if not) */
	void (*notify)(struct svc *s, int stopped);
	/* a client waits for s to restart (start it again once stopped) */
	int (*restart_waiting)(const struct svc *s);
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
	int shutting_down; /* nothing restarts any more */
};

extern struct sup_host sup_host;

typedef enum svc_event (*sup_action)(struct svc *s, long long now);

struct sup_transition {
	enum svc_state next;
	sup_action act; /* NULL: only the state changes */
	int valid;      /* 0: the event is ignored in this state */
};

extern const struct sup_transition sup_table[ST_COUNT][EV_COUNT];

/* Initialise s for conf c (takes ownership of c's strings). Returns 0 or
 * -ENOMEM (s then owns nothing). */
int svc_init(struct svc *s, const struct svc_conf *c);
void svc_free(struct svc *s);

/* Feed ev (and the follow-ups its actions return) through sup_table. */
void svc_event(struct svc *s, enum svc_event ev, long long now);

/* The process of s ended with wait status: record it, then the right
 * EV_EXIT_* for the stop in progress and the restart policy. */
void svc_exited(struct svc *s, int status, long long now);

const char *svc_state_name(enum svc_state st);
const char *svc_event_name(enum svc_event ev);

#endif
