/* SPDX-License-Identifier: MIT */
/* api.h - the /api/v1 REST endpoints of mgmtd, independent of transport:
 * a parsed request in, a status, JSON body and headers out. Owns the
 * session, login-throttle (throttle.h) and job tables. Security events (failed logins,
 * lockouts, role denials) go to space_log(), which mgmtd points at its
 * error log. */
#ifndef MGMTD_API_H
#define MGMTD_API_H

#include <time.h>

#include "conf.h"
#include "buf.h"
#include "pkg/libmgmt/apps.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/http.h"
#include "pkg/libmgmt/session.h"
#include "throttle.h"
#include "upgrade.h"

#define API_JOBS 64
#define API_USER_LABEL 128

struct job {
	int id;
	char action[16];
	char state[16]; /* running, done, failed, unknown */
	char user[API_USER_LABEL];
	time_t created, finished;
	char result[160];
};

struct api {
	const struct mgmtd_conf *c; /* not owned */
	struct sess_table sess;
	struct throttle thr; /* failed logins, per source address */
	/* The jobs, newest API_JOBS kept. A running job keeps its slot: a new
	 * job takes a free or the oldest finished one, or is refused (503). */
	struct job jobs[API_JOBS];
	/* A job devices_post() accepted whose request is not out yet: it gets
	 * its id and slot in api_call_sent(), so a job the transport cannot
	 * even send spends neither. */
	struct job pending;
	int next_job;
	time_t started; /* api_now.mono */
	/* GET /system is the hot path: the release file, hot-patch markers and
	 * cluster flag are re-read at most once per second (a hot patch shows
	 * up within a second) instead of on every request. */
	struct buf sys_cache;        /* {"product":...,"hotpatches":[...],... without the closing } */
	time_t sys_cache_at;         /* api_now.mono */
	struct upload upload;        /* PUT upgrade/image/NAME or hotpatch/bundle/NAME, one at a time */
	struct child_job job;        /* POST upgrade: spacectl upgrade, one at a time */
	struct child_job hp_job;     /* POST hotpatch: hotpatch apply, one at a time */
	struct child_job fabric_job; /* GET fabric: spacectl fabric show refreshing its cache */
	time_t fabric_at;            /* api_now.mono its last run started */
	/* The applications as the watchdog decided them when it started (its
	 * `apps` answer, apps.h), for GET /system: asked for in the background
	 * (api_apps_due) every API_APPS_REFRESH s, never while a client waits. */
	struct apps_list apps;
	int apps_known;  /* apps holds an answer */
	int apps_asking; /* a CALL_APPS is out */
	time_t apps_at;  /* api_now.mono of the last ask */
};

/* A request to a local daemon (watchdog, devgate) that api_handle() leaves
 * to the transport, which must not wait for it (issue 12 #4): it sends
 * call.req to call.sock without blocking, and hands the outcome to
 * api_call_done(). */
enum api_call_kind { CALL_NONE,
		     CALL_LIST,
		     CALL_GATE,
		     CALL_JOB,
		     CALL_APPS };

struct api_call {
	enum api_call_kind kind;
	const char *sock; /* not owned: the configuration's */
	char req[16];
	char what[16]; /* "watchdog", "device gate" */
	int job;       /* CALL_JOB: the job's id */
	int sent;      /* set by api_call_sent() once the request is out */
};

struct api_resp {
	int status;
	struct buf body;           /* JSON */
	char set_cookie[160];      /* value of a Set-Cookie header, or "" */
	char user[API_USER_LABEL]; /* for the logs (api_user_label), "-" if none */
	int retry_after;           /* seconds, 0: no header */
	struct api_call call;      /* kind != CALL_NONE: status 0, answer after the call */
};

/* The two clocks of a request. A stepped wall clock (the first NTP sync,
 * date -s) must not lengthen or cancel a login delay or a session timeout,
 * so every interval (login throttle, session idle time and lifetime,
 * service uptime) is measured on mono, seconds of CLOCK_BOOTTIME (which,
 * unlike CLOCK_MONOTONIC, goes on while the machine is suspended: an idle
 * session expires across a suspend). wall is only for the timestamps shown
 * (a job's created and finished). */
struct api_now {
	time_t wall, mono;
};

/* mono: as api_now.mono. */
int api_init(struct api *a, const struct mgmtd_conf *c, time_t mono);
void api_free(struct api *a);

void api_resp_init(struct api_resp *r);
void api_resp_free(struct api_resp *r);
/* {"error": msg} with status. */
void api_error(struct api_resp *r, int status, const char *msg);

/* A user name as the logs show it: escaped (str_escape: no control
 * bytes, no spaces, one-to-one); a name too long to show whole ends in its
 * length and a SHA-256 prefix, so two names never log the same. */
void api_user_label(char *dst, size_t dsz, const char *user);

/* How long a client waits for a backend answer (ms); a job's call goes on
 * until API_JOB_WAIT_MS, and its outcome is recorded in the job. */
#define API_CALL_WAIT_MS 5000
#define API_JOB_WAIT_MS CTL_CHANGE_WAIT_MS

/* The transport sent call's request: a job's now runs (takes its id and
 * slot). Call before any api_call_pending() or api_call_done() of it. */
void api_call_sent(struct api *a, struct api_call *call);

/* The outcome of call: rc 0, -SPACE_E_CHILD (reply holds "error ..."), or
 * a negative errno (-ETIMEDOUT: no answer in time). Records a job's
 * result; fills r when a client still waits (r may be NULL). */
void api_call_done(struct api *a, const struct api_call *call, int rc, const char *reply, time_t now,
		   struct api_resp *r);
/* The client of a job's call waited API_CALL_WAIT_MS: answer 202 with the
 * running job; api_call_done() records the outcome later. */
void api_call_pending(struct api *a, const struct api_call *call, struct api_resp *r);

/* PUT /api/v1/upgrade/image/NAME, a release image of hundreds of MB, or
 * PUT /api/v1/hotpatch/bundle/NAME, a hot-patch bundle: the transport
 * streams its body to the file (api_upload_data) instead of buffering it,
 * so it asks before it reads the body. Returns 0 when req is not one (r
 * untouched: it goes to api_handle() as usual), else 1 with r filled:
 * status 0 when the upload is open, else the refusal (401, 403, 400 bad
 * name, 411, 413 over upload_max, 409 another upload runs, 507 too little
 * space). */
int api_upload_begin(struct api *a, const struct http_req *req, const char *peer, struct api_now now,
		     struct api_resp *r);
/* n more bytes of the open upload's body. On a write error the upload is
 * dropped, r holds the answer and it returns the negative errno. */
int api_upload_data(struct api *a, const void *p, size_t n, struct api_resp *r);
/* The whole body is in: the image gets its final name; r: 201 with its
 * name, size and SHA-256, or why not (nothing is left under either name). */
void api_upload_end(struct api *a, struct api_resp *r);
/* The client went or stalled: the upload is dropped (no file remains). */
void api_upload_abort(struct api *a, const char *why);
/* Is it time to ask the watchdog for the applications again? Returns 1
 * with call filled (no client waits for it: hand its outcome to
 * api_call_done() with r NULL), else 0. */
#define API_APPS_REFRESH 30
int api_apps_due(struct api *a, time_t mono, struct api_call *call);

/* Reap the upgrade's and the hot patch's child if they ended (SIGCHLD,
 * and every sweep). */
void api_reap(struct api *a, time_t wall);

void api_handle(struct api *a, const struct http_req *req, const char *body, size_t bodylen,
		const char *peer, struct api_now now, struct api_resp *r);

#endif
