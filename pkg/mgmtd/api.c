/* SPDX-License-Identifier: MIT */
/* api.c - /api/v1 endpoints. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api.h"
#include "auth.h"
#include "fabric.h"
#include "hotpatch.h"
#include "pkg/libmgmt/ctl.h"
#include "json.h"
#include "kv.h"
#include "pkg/libmgmt/records.h"
#include "pkg/libmgmt/release.h"
#include "strescape.h"
#include "platform.h"
#include "util.h"

/* First delay after lockout_failures failed logins from one address (s);
 * it doubles with each further failure up to lockout_time. */
#define THROTTLE_BASE 5

int api_init(struct api *a, const struct mgmtd_conf *c, time_t mono)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->c = c;
	a->started = mono;
	a->next_job = 1;
	r = sess_init(&a->sess, (size_t)c->max_sessions, c->idle_timeout, c->session_lifetime);
	if (r < 0)
		return r;
	r = throttle_init(&a->thr, (size_t)c->lockout_sources, (unsigned)c->lockout_failures,
			  THROTTLE_BASE, c->lockout_time, c->lockout_window);
	if (r < 0)
		sess_free(&a->sess);
	return r;
}

void api_free(struct api *a)
{
	upload_abort(&a->upload);
	buf_free(&a->sys_cache);
	sess_free(&a->sess);
	throttle_free(&a->thr);
}

void api_resp_init(struct api_resp *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body);
	strcpy(r->user, "-");
}

void api_resp_free(struct api_resp *r)
{
	buf_free(&r->body);
}

void api_error(struct api_resp *r, int status, const char *msg)
{
	struct jw w;

	r->status = status;
	buf_reset(&r->body);
	jw_init(&w, &r->body);
	jw_obj_begin(&w);
	jw_kstr(&w, "error", msg);
	jw_obj_end(&w);
}

static const char *role_name(enum role role)
{
	return role == ROLE_ADMIN ? "admin" : role == ROLE_READONLY ? "read-only" :
								      "none";
}

/* 0 for an admin; else r is the 403 and the denial is logged. */
static int need_admin(const struct session *s, const char *what, const char *peer, struct api_resp *r)
{
	if (s->role == ROLE_ADMIN)
		return 0;
	space_log("%s by %s from %s: denied (read-only)", what, r->user, peer);
	api_error(r, 403, "admin role required");
	return -1;
}

/* ------------------------------------------------------------ login */

void api_user_label(char *dst, size_t dsz, const char *user)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[17] = "?";
	size_t n = strlen(user), tail = 56; /* "[<size_t>-bytes-sha256:<16>]" */

	if (dsz <= tail * 2) /* callers pass API_USER_LABEL */
		tail = 0;
	if (str_escape(dst, dsz - tail, user, n, STR_ESCAPE_SPACE) == n || !tail)
		return;
	if (EVP_Digest(user, n, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen >= 8)
		hex_encode(md, 8, hex);
	snprintf(dst + strlen(dst), tail, "[%zu-bytes-sha256:%.16s]", n, hex);
}

/* Why user may not open one more session (issue 12 #3), or NULL: one user
 * never holds more than max_sessions_per_user, and the last admin_sessions
 * slots (at most half the table) are kept for admins, so a read-only
 * account cannot fill the table. *status: the answer's status. */
static const char *no_session_room(struct api *a, const char *user, enum role role, time_t mono,
				   int *status)
{
	const struct mgmtd_conf *c = a->c;
	long keep = c->admin_sessions < c->max_sessions / 2 ? c->admin_sessions : c->max_sessions / 2;

	*status = 429;
	if ((long)sess_count(&a->sess, user, mono) >= c->max_sessions_per_user)
		return "too many sessions for this user; log out of one";
	*status = 503;
	if (role != ROLE_ADMIN && (long)sess_count(&a->sess, NULL, mono) >= c->max_sessions - keep)
		return "too many sessions";
	return NULL;
}

static void login(struct api *a, const char *body, size_t len, const char *peer, time_t mono,
		  struct api_resp *r)
{
	char *user = NULL, *pass = NULL, token[SESS_TOKEN_LEN + 1], src[THROTTLE_SRC_MAX];
	const char *why;
	enum role role;
	long wait;
	int rc;
	struct jw w;

	if (json_get_string(body, len, "username", &user) < 0 ||
	    json_get_string(body, len, "password", &pass) < 0) {
		api_error(r, 400, "expected {\"username\": ..., \"password\": ...}");
		goto out;
	}
	api_user_label(r->user, sizeof(r->user), user);
	throttle_source(peer, src);
	if ((wait = throttle_check(&a->thr, src, mono)) > 0) {
		/* refused before the password is looked at: no guess is made */
		space_log("login %s from %s: refused: too many failed logins from %s, %ld s left", r->user,
			  peer, src, wait);
		r->retry_after = (int)wait;
		api_error(r, 429, "too many failed logins from this address; retry later");
		goto out;
	}
	rc = auth_login(a->c, user, pass, &role);
	if (rc == -EACCES) {
		long delay = throttle_fail(&a->thr, src, mono);
		if (delay)
			space_log("login %s from %s: failed: wrong user name or password; logins from %s wait %ld s",
				  r->user, peer, src, delay);
		else
			space_log("login %s from %s: failed: wrong user name or password", r->user, peer);
		api_error(r, 401, "wrong user name or password");
		goto out;
	}
	if (rc == -EPERM) {
		space_log("login %s from %s: refused: no management role", r->user, peer);
		api_error(r, 403, "no management role for this account");
		goto out;
	}
	if (rc < 0) {
		space_log("login %s from %s: error: %s", r->user, peer, space_strerror(rc));
		api_error(r, 500, "authentication unavailable");
		goto out;
	}
	if ((why = no_session_room(a, user, role, mono, &rc))) {
		space_log("login %s from %s: refused: %s", r->user, peer, why);
		api_error(r, rc, why);
		goto out;
	}
	rc = sess_create(&a->sess, user, role, mono, token);
	if (rc < 0) {
		space_log("login %s from %s: refused: %s", r->user, peer,
			  rc == -EBUSY ? "session table full" : space_strerror(rc));
		api_error(r, 503, rc == -EBUSY ? "too many sessions" : "cannot create session");
		goto out;
	}
	space_log("login %s from %s: ok (%s)", r->user, peer, role_name(role));
	snprintf(r->set_cookie, sizeof(r->set_cookie),
		 "session=%s; Path=/; Secure; HttpOnly; SameSite=Strict", token);
	r->status = 200;
	jw_init(&w, &r->body);
	jw_obj_begin(&w);
	jw_kstr(&w, "token", token);
	jw_kstr(&w, "user", user);
	jw_kstr(&w, "role", role_name(role));
	jw_kint(&w, "idle_timeout", a->c->idle_timeout);
	jw_obj_end(&w);
	OPENSSL_cleanse(token, sizeof(token));
out:
	if (pass) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	free(user);
}

/* ------------------------------------------------------------ read endpoints */

static int sys_refresh(struct api *a)
{
	struct release rel;
	struct hotpatch *hp = NULL;
	struct stat st;
	struct jw w;
	char *etc;
	int n, rc, level, sb;

	rc = release_read(a->c->release_file, &rel);
	if (rc < 0) {
		space_log("read %s: %s", a->c->release_file, space_strerror(rc));
		return rc;
	}
	if (!(etc = xasprintf("%s/" HP_MARKER_DIR, a->c->hotpatch_root)))
		return -ENOMEM;
	n = hotpatch_list(etc, &hp);
	free(etc);
	/* the level GET hotpatches and spacectl report: the running release's */
	level = hp_installed_level(a->c->hotpatch_root, rel.version);
	buf_reset(&a->sys_cache);
	jw_init(&w, &a->sys_cache);
	jw_obj_begin(&w);
	jw_kstr(&w, "product", rel.product);
	jw_kstr(&w, "release", rel.version);
	jw_kstr(&w, "build", rel.build_id);
	jw_key(&w, "hotpatches");
	jw_arr_begin(&w);
	for (int i = 0; i < n; i++)
		jw_str(&w, hp[i].name);
	jw_arr_end(&w);
	jw_kint(&w, "hotpatch_level", level > 0 ? level : 0);
	jw_kstr(&w, "mode", stat(a->c->cluster_file, &st) == 0 ? "cluster" : "standalone");
	/* null: a BIOS boot, or the firmware's variable cannot be read */
	jw_key(&w, "secure_boot");
	if ((sb = platform_secure_boot("/sys")) >= 0)
		jw_bool(&w, sb);
	else
		jw_null(&w);
	jw_key(&w, "upgrade");
	jw_obj_begin(&w);
	upgrade_status_members(&w, a->c->upgrade_status);
	jw_obj_end(&w);
	if (a->apps_known) {
		apps_json(&w, &a->apps);
	} else { /* the watchdog has not answered (yet): not "none" */
		jw_key(&w, "applications");
		jw_null(&w);
	}
	hotpatch_free(hp, n > 0 ? n : 0);
	return buf_failed(&a->sys_cache);
}

static void sys_info(struct api *a, time_t now, struct api_resp *r)
{
	struct sysinfo si;

	if (!a->sys_cache.len || a->sys_cache_at != now) {
		if (sys_refresh(a) < 0) {
			buf_reset(&a->sys_cache);
			api_error(r, 500, "release information unavailable");
			return;
		}
		a->sys_cache_at = now;
	}
	r->status = 200;
	buf_put(&r->body, a->sys_cache.p, a->sys_cache.len);
	buf_printf(&r->body, ",\"uptime\":%lld,\"service_uptime\":%lld}",
		   sysinfo(&si) == 0 ? (long long)si.uptime : -1LL, (long long)(now - a->started));
}

/* GET hotpatches: the installed level, its fixes and packages, an
 * operation in progress, the history and the last job (state.h). */
static void hotpatches(struct api *a, struct api_resp *r)
{
	struct hp_status st;
	struct space_err err;
	struct jw w;

	if (hp_status_read(a->c->hotpatch_root, &st, &err) < 0) {
		space_log("hotpatches: %s", err.msg);
		api_error(r, 500, err.msg);
	} else {
		r->status = 200;
		jw_init(&w, &r->body);
		hp_status_json(&w, &st);
	}
	hp_status_free(&st);
}

/* Ask a local daemon: the transport makes the call (api_call_done). */
static void call_daemon(enum api_call_kind kind, const char *sock, const char *req, const char *what,
			struct api_resp *r)
{
	r->status = 0;
	r->call.kind = kind;
	r->call.sock = sock;
	snprintf(r->call.req, sizeof(r->call.req), "%s", req);
	snprintf(r->call.what, sizeof(r->call.what), "%s", what);
}

/* The message of an "error <message>" reply, up to its first newline. */
static void reply_error(const char *rep, char *out, size_t outsz)
{
	const char *m = rep && !strncmp(rep, "error", 5) ? rep + 5 + (rep[5] == ' ') : "";

	snprintf(out, outsz, "%.*s", (int)strcspn(m, "\n"), m);
}

static void daemon_reply(const struct api_call *call, int rc, const char *rep, struct api_resp *r)
{
	char msg[160], why[120];
	struct jw w;

	if (rc < 0) {
		space_log("%s: %s %s: %s", call->what, call->sock, call->req, space_strerror(rc));
		if (rc == -SPACE_E_CHILD) {
			reply_error(rep, why, sizeof(why));
			snprintf(msg, sizeof(msg), "%s: %s", call->what, why);
			api_error(r, 409, msg);
		} else {
			snprintf(msg, sizeof(msg), "%s unavailable", call->what);
			api_error(r, 503, msg);
		}
		return;
	}
	r->status = 200;
	buf_reset(&r->body);
	jw_init(&w, &r->body);
	if (call->kind == CALL_GATE)
		/* first record: the state; further records: connected devices */
		records_object(rep, "devices", &w);
	else
		records_to_json(rep, &w);
}

static void job_json(const struct job *j, struct jw *w)
{
	jw_obj_begin(w);
	jw_kint(w, "id", j->id);
	jw_kstr(w, "action", j->action);
	jw_kstr(w, "state", j->state);
	jw_kstr(w, "user", j->user);
	jw_kint(w, "created", (long long)j->created);
	if (j->finished)
		jw_kint(w, "finished", (long long)j->finished);
	jw_kstr(w, "result", j->result);
	jw_obj_end(w);
}

static struct job *job_by_id(struct api *a, long long id)
{
	for (int i = 0; i < API_JOBS; i++)
		if (id >= 1 && a->jobs[i].id == id)
			return &a->jobs[i];
	return NULL;
}

/* The slot for a new job: a free one, else the oldest finished one; never
 * a running job's, whose outcome would have nowhere to go. NULL: all run. */
static struct job *job_slot(struct api *a)
{
	struct job *j = NULL;

	for (int i = 0; i < API_JOBS; i++) {
		if (!a->jobs[i].id)
			return &a->jobs[i];
		if (strcmp(a->jobs[i].state, "running") && (!j || a->jobs[i].id < j->id))
			j = &a->jobs[i];
	}
	return j;
}

static void job_reply(const struct job *j, int status, struct api_resp *r)
{
	struct jw w;

	r->status = status;
	buf_reset(&r->body);
	jw_init(&w, &r->body);
	job_json(j, &w);
}

/* Block/unblock: a job that runs while the device gate answers. The client
 * gets the outcome when it comes within API_CALL_WAIT_MS, else 202 and the
 * running job, whose record shows the outcome once it is known. Refused
 * (503) while API_JOBS jobs run: taking over a running job's slot would
 * lose its outcome. */
static void devices_post(struct api *a, const char *body, size_t len, time_t now, struct api_resp *r)
{
	char *action = NULL;
	struct job *j;

	if (json_get_string(body, len, "action", &action) < 0 ||
	    (strcmp(action, "block") && strcmp(action, "unblock"))) {
		api_error(r, 400, "expected {\"action\": \"block\" | \"unblock\"}");
		free(action);
		return;
	}
	if (!job_slot(a)) {
		space_log("devices %s by %s: refused: %d jobs still running", action, r->user, API_JOBS);
		api_error(r, 503, "too many device jobs running; retry when one has finished");
		free(action);
		return;
	}
	j = &a->pending;
	memset(j, 0, sizeof(*j));
	j->id = a->next_job;
	snprintf(j->action, sizeof(j->action), "%s", action);
	snprintf(j->user, sizeof(j->user), "%s", r->user);
	strcpy(j->state, "running");
	j->created = now;
	call_daemon(CALL_JOB, a->c->devgate_socket, action, "device gate", r);
	r->call.job = j->id;
	free(action);
}

/* Record a job's outcome (its request reached the gate: one never sent is
 * no job, job_not_sent()). One without an answer may still take effect, so
 * it is "unknown", never "failed" (issue 12 #4: a block reported failed was
 * applied). */
static int job_finish(struct job *j, int rc, const char *rep, time_t now)
{
	char why[120];

	j->finished = now;
	if (rc == 0) {
		strcpy(j->state, "done");
		snprintf(j->result, sizeof(j->result), "device communication %sed",
			 !strcmp(j->action, "block") ? "block" : "unblock");
		return 200;
	}
	if (rc == -SPACE_E_CHILD) {
		strcpy(j->state, "failed");
		reply_error(rep, why, sizeof(why));
		snprintf(j->result, sizeof(j->result), "device gate: %s", why);
		return 409;
	}
	strcpy(j->state, "unknown");
	snprintf(j->result, sizeof(j->result),
		 "no answer from the device gate (%s): it may have been applied; see GET devices/communication",
		 space_strerror(rc));
	return 504;
}

void api_call_sent(struct api *a, struct api_call *call)
{
	struct job *j;

	call->sent = 1;
	if (call->kind != CALL_JOB || a->pending.id != call->job)
		return;
	/* devices_post() found a slot and nothing ran since: one is free */
	j = job_slot(a);
	if (j) {
		*j = a->pending;
		a->next_job++;
		space_log("devices %s by %s: job %d started", j->action, j->user, j->id);
	}
	a->pending.id = 0;
}

/* A job whose request could not be sent never started: no id, no slot,
 * and the client learns why at once. */
static void job_not_sent(struct api *a, const struct api_call *call, int rc, struct api_resp *r)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "device gate unavailable: %s", space_strerror(rc));
	space_log("devices %s by %s: not started: %s", call->req,
		  a->pending.id == call->job ? a->pending.user : "-", msg);
	a->pending.id = 0;
	if (r)
		api_error(r, 503, msg);
}

int api_apps_due(struct api *a, time_t mono, struct api_call *call)
{
	if (a->apps_asking || (a->apps_at && mono - a->apps_at < API_APPS_REFRESH))
		return 0;
	memset(call, 0, sizeof(*call));
	call->kind = CALL_APPS;
	call->sock = a->c->watchdog_socket;
	strcpy(call->req, "apps");
	strcpy(call->what, "watchdog");
	a->apps_asking = 1;
	a->apps_at = mono;
	return 1;
}

/* The watchdog's `apps` answer. Without one the last list stays (the
 * watchdog decides once, when it starts); never one: null. */
static void apps_done(struct api *a, int rc, const char *reply)
{
	a->apps_asking = 0;
	if (rc == 0 && reply && (rc = apps_from_reply(reply, &a->apps)) == 0)
		a->apps_known = 1;
	else if (rc != -ENOENT && rc != -ECONNREFUSED)
		space_log("watchdog: %s apps: %s", a->c->watchdog_socket, space_strerror(rc));
	buf_reset(&a->sys_cache); /* GET /system shows it at once */
}

void api_call_done(struct api *a, const struct api_call *call, int rc, const char *reply, time_t now,
		   struct api_resp *r)
{
	struct job *j;
	int status;

	if (call->kind == CALL_APPS) {
		apps_done(a, rc, reply);
		return;
	}
	if (call->kind != CALL_JOB) {
		if (r)
			daemon_reply(call, rc, reply, r);
		return;
	}
	if (!call->sent) {
		job_not_sent(a, call, rc, r);
		return;
	}
	j = job_by_id(a, call->job);
	if (!j) {
		/* should not happen (a running job keeps its slot), but a
		 * waiting client must never get a status 0 */
		space_log("device gate: %s: answer for job %d, which is gone", call->req, call->job);
		if (r)
			api_error(r, 500, "the job's record is gone; see GET devices/communication");
		return;
	}
	status = job_finish(j, rc, reply, now);
	space_log("devices %s by %s: job %d %s: %s", j->action, j->user, j->id, j->state, j->result);
	if (r)
		job_reply(j, status, r);
}

void api_call_pending(struct api *a, const struct api_call *call, struct api_resp *r)
{
	struct job *j = job_by_id(a, call->job);

	if (j)
		job_reply(j, 202, r);
	else
		api_error(r, 500, "job lost");
}

static void job_get(struct api *a, const char *idstr, struct api_resp *r)
{
	long long id;
	struct job *j;
	struct jw w;

	if (kv_int(idstr, 1, 1LL << 30, 0, &id) < 0 || idstr[0] == '0') {
		api_error(r, 404, "no such job");
		return;
	}
	j = job_by_id(a, id);
	if (!j) {
		api_error(r, 404, "no such job");
		return;
	}
	r->status = 200;
	jw_init(&w, &r->body);
	job_json(j, &w);
}

/* ------------------------------------------------------------ upgrade */

static const struct session *authenticate(struct api *a, const struct http_req *req, time_t now,
					  char *token)
{
	if (http_bearer(req, token, SESS_TOKEN_LEN + 1) < 0 &&
	    http_cookie(req, "session", token, SESS_TOKEN_LEN + 1) < 0)
		return NULL;
	return sess_lookup(&a->sess, token, now);
}

/* The PUT routes that stream a file (api_upload_begin). */
static const struct upload_route {
	const char *prefix; /* "/api/v1/.../": NAME follows */
	const char *what;   /* for the log */
	const struct upload_kind *kind;
} upload_routes[] = {
	{ "/api/v1/upgrade/image/", "upgrade/image", &upload_image },
	{ "/api/v1/hotpatch/bundle/", "hotpatch/bundle", &upload_bundle },
};

static const struct upload_route *route_of(const struct upload_kind *k)
{
	size_t i = 0;

	while (i + 1 < sizeof(upload_routes) / sizeof(upload_routes[0]) && upload_routes[i].kind != k)
		i++;
	return &upload_routes[i];
}

/* The upgrade's state (status file), the job and the upload. */
static void upgrade_get(struct api *a, int status, struct api_resp *r)
{
	struct jw w;

	r->status = status;
	buf_reset(&r->body);
	jw_init(&w, &r->body);
	jw_obj_begin(&w);
	upgrade_status_members(&w, a->c->upgrade_status);
	jw_key(&w, "job");
	child_job_json(&w, &a->job, "reboot");
	jw_key(&w, "upload");
	upload_json(&w, &a->upload);
	jw_obj_end(&w);
}

static int upload_status(int rc)
{
	switch (rc) {
	case -EBUSY: return 409;
	case -EFBIG: return 413;
	case -ENOSPC: return 507;
	case -EINVAL: return 400;
	default: return 500;
	}
}

/* The name of PUT <route>NAME into name; -1 (r: 400) if too long. */
static int upload_name(const struct http_req *req, const struct upload_route *u, char name[UPG_NAME_MAX],
		       struct api_resp *r)
{
	size_t n = req->path.n - strlen(u->prefix);
	char msg[80];

	if (n >= UPG_NAME_MAX) {
		snprintf(msg, sizeof(msg), "%s name too long (at most %d bytes)", u->kind->what, UPG_NAME_MAX - 1);
		api_error(r, 400, msg);
		return -1;
	}
	memcpy(name, req->path.p + strlen(u->prefix), n);
	name[n] = '\0';
	return 0;
}

/* The upload route req is for, or NULL. */
static const struct upload_route *upload_route(const struct http_req *req)
{
	if (!http_str_eq(req->method, "PUT"))
		return NULL;
	for (size_t i = 0; i < sizeof(upload_routes) / sizeof(upload_routes[0]); i++) {
		size_t n = strlen(upload_routes[i].prefix);
		if (req->path.n >= n && !memcmp(req->path.p, upload_routes[i].prefix, n))
			return &upload_routes[i];
	}
	return NULL;
}

int api_upload_begin(struct api *a, const struct http_req *req, const char *peer, struct api_now now,
		     struct api_resp *r)
{
	char name[UPG_NAME_MAX], token[SESS_TOKEN_LEN + 1] = "", why[320];
	const struct upload_route *u = upload_route(req);
	struct space_err err;
	const struct session *s;
	int rc;

	if (!u)
		return 0;
	s = authenticate(a, req, now.mono, token);
	OPENSSL_cleanse(token, sizeof(token));
	if (!s) {
		api_error(r, 401, "login required");
		return 1;
	}
	api_user_label(r->user, sizeof(r->user), s->user);
	if (need_admin(s, u->what, peer, r) < 0 || upload_name(req, u, name, r) < 0)
		return 1;
	if (!http_header(req, "content-length")) {
		snprintf(why, sizeof(why), "Content-Length required (the %s's size)", u->kind->what);
		api_error(r, 411, why);
		return 1;
	}
	rc = upload_begin(&a->upload, u->kind, a->c, name, req->content_length, r->user, now.wall, &err);
	if (rc < 0) {
		space_log("upload %s by %s from %s: refused: %s", name, r->user, peer, err.msg);
		api_error(r, upload_status(rc), err.msg);
		return 1;
	}
	space_log("upload %s by %s from %s: started, %lld bytes", name, r->user, peer, req->content_length);
	r->status = 0;
	return 1;
}

int api_upload_data(struct api *a, const void *p, size_t n, struct api_resp *r)
{
	char msg[200];
	int rc = upload_write(&a->upload, p, n);

	if (rc == 0)
		return 0;
	snprintf(msg, sizeof(msg), "writing %s/%s: %s", a->c->upload_dir, a->upload.name, space_strerror(rc));
	api_upload_abort(a, msg);
	api_error(r, rc == -ENOSPC || rc == -EDQUOT ? 507 : 500, msg);
	return rc;
}

void api_upload_end(struct api *a, struct api_resp *r)
{
	struct upload u = a->upload; /* upload_commit() clears it */
	char sha[65], msg[200];
	struct jw w;
	int rc = upload_commit(&a->upload, sha);

	if (rc < 0) {
		snprintf(msg, sizeof(msg), "saving %s/%s: %s", a->c->upload_dir, u.name, space_strerror(rc));
		space_log("upload %s by %s: failed: %s", u.name, u.user, msg);
		api_error(r, rc == -ENOSPC || rc == -EDQUOT ? 507 : 500, msg);
		return;
	}
	space_log("upload %s by %s: done, %lld bytes, sha256 %s", u.name, u.user, u.size, sha);
	r->status = 201;
	buf_reset(&r->body);
	jw_init(&w, &r->body);
	jw_obj_begin(&w);
	jw_kstr(&w, "file", u.name);
	jw_kint(&w, "size", u.size);
	jw_kstr(&w, "sha256", sha);
	jw_obj_end(&w);
}

void api_upload_abort(struct api *a, const char *why)
{
	struct upload *u = &a->upload;

	if (!u->active)
		return;
	space_log("upload %s by %s: aborted after %lld of %lld bytes: %s", u->name, u->user, u->received,
		  u->size, why);
	upload_abort(u);
}

/* Log how the child of job (verb: "upgrade") ended, if it did. */
static void reap_one(struct child_job *j, const char *verb, const char *prog, time_t wall)
{
	if (!child_reap(j, wall))
		return;
	if (WIFEXITED(j->wstatus))
		space_log("%s %s by %s: %s exited %d", verb, j->file, j->user, prog, WEXITSTATUS(j->wstatus));
	else
		space_log("%s %s by %s: %s killed by signal %d", verb, j->file, j->user, prog, WTERMSIG(j->wstatus));
}

void api_reap(struct api *a, time_t wall)
{
	reap_one(&a->job, "upgrade", "spacectl", wall);
	reap_one(&a->hp_job, "hotpatch", "hotpatch", wall);
}

/* Why upload_path() refused file (of kind k), as an answer; verb names
 * the job in the log. */
static void upload_refused(struct api *a, const struct upload_kind *k, const char *verb, int rc,
			   const char *file, struct api_resp *r)
{
	const struct upload_route *u = route_of(k);
	char msg[400];
	int status = 400;

	if (rc == -EINVAL) {
		snprintf(msg, sizeof(msg), "%s name must be %s: %s", k->what, k->rule, file);
	} else if (rc == -ENOENT) {
		status = 404;
		snprintf(msg, sizeof(msg), "no %s %s in %s; upload it first (PUT %s%s)", k->what, file,
			 a->c->upload_dir, u->prefix, file);
	} else {
		status = rc == -SPACE_E_NOT_REG ? 400 : 500;
		snprintf(msg, sizeof(msg), "%s/%s: %s", a->c->upload_dir, file, space_strerror(rc));
	}
	space_log("%s %s by %s: refused: %s", verb, file, r->user, msg);
	api_error(r, status, msg);
}

/* Start spacectl upgrade on path; r: 202 and the state, or why not. */
static void upgrade_run(struct api *a, const char *path, const char *file, int reboot, time_t now,
			struct api_resp *r)
{
	char msg[400], *output = xasprintf("%s/upgrade.log", a->c->log_dir);
	int rc = output ? upgrade_start(&a->job, a->c, path, file, reboot, r->user, output, now) : -ENOMEM;

	free(output);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot start %s: %s", a->c->spacectl, space_strerror(rc));
		space_log("upgrade %s by %s: %s", file, r->user, msg);
		api_error(r, 500, msg);
		return;
	}
	space_log("upgrade %s by %s: started %s upgrade%s (pid %ld)", file, r->user, a->c->spacectl,
		  reboot ? " --reboot" : "", (long)a->job.pid);
	upgrade_get(a, 202, r);
}

/* POST upgrade {"file": NAME, "reboot": bool}: spacectl upgrade runs on
 * its own, one at a time; GET upgrade shows how it goes. */
static void upgrade_post(struct api *a, const char *body, size_t len, time_t now, struct api_resp *r)
{
	char *file = NULL, *path = NULL, msg[300];
	int reboot = 0, rc;

	if (json_get_string(body, len, "file", &file) < 0 ||
	    ((rc = json_get_bool(body, len, "reboot", &reboot)) < 0 && rc != -ENOENT)) {
		api_error(r, 400, "expected {\"file\": \"<product>-<version>.img\", \"reboot\": true | false}");
		goto out;
	}
	if (a->job.pid) {
		snprintf(msg, sizeof(msg), "an upgrade is running (%s, started by %s); one at a time", a->job.file,
			 a->job.user);
		space_log("upgrade %s by %s: refused: %s", file, r->user, msg);
		api_error(r, 409, msg);
		goto out;
	}
	if ((rc = upload_path(a->c, &upload_image, file, &path)) < 0)
		upload_refused(a, &upload_image, "upgrade", rc, file, r);
	else
		upgrade_run(a, path, file, reboot, now, r);
out:
	free(file);
	free(path);
}

/* ------------------------------------------------------------ hot patch */

/* GET hotpatch: the document of GET hotpatches (whose "job" is the
 * progress file's: it outlives the mgmtd the patch restarts), plus the
 * process this mgmtd started ("process", null when it started none) and
 * the upload in progress. */
static void hotpatch_get(struct api *a, int status, struct api_resp *r)
{
	struct hp_status st;
	struct space_err err;
	struct jw w;

	buf_reset(&r->body);
	if (hp_status_read(a->c->hotpatch_root, &st, &err) < 0) {
		hp_status_free(&st);
		space_log("hotpatch: %s", err.msg);
		api_error(r, 500, err.msg);
		return;
	}
	r->status = status;
	jw_init(&w, &r->body);
	hp_status_json(&w, &st);
	hp_status_free(&st);
	/* reopen the object hp_status_json closed; each member a fresh writer */
	if (r->body.len && r->body.p[r->body.len - 1] == '}')
		r->body.len--;
	buf_puts(&r->body, ",\"process\":");
	jw_init(&w, &r->body);
	child_job_json(&w, &a->hp_job, "reinstall");
	buf_puts(&r->body, ",\"upload\":");
	jw_init(&w, &r->body);
	upload_json(&w, &a->upload);
	buf_puts(&r->body, "}");
}

/* Refuse a start while a hot patch runs: this mgmtd's child, or one the
 * progress file shows running (hp_status_read: its process is alive;
 * started before mgmtd restarted, or from the shell). The tool's lock refuses a second run anyway; this answers 409
 * at once instead of a job that fails. */
static int hotpatch_busy(struct api *a, const char *file, struct api_resp *r)
{
	struct hp_status st;
	char msg[400];
	int busy;

	hp_status_read(a->c->hotpatch_root, &st, NULL);
	busy = a->hp_job.pid || (st.progress.present && !strcmp(st.progress.state, "running"));
	if (a->hp_job.pid)
		snprintf(msg, sizeof(msg), "a hot patch is running (%s, started by %s); one at a time",
			 a->hp_job.file, a->hp_job.user);
	else if (busy)
		snprintf(msg, sizeof(msg), "a hot patch is running (%s %s, pid %ld, step %s); one at a time",
			 st.progress.action, st.progress.name, st.progress.pid, st.progress.step);
	hp_status_free(&st);
	if (busy) {
		space_log("hotpatch %s by %s: refused: %s", file, r->user, msg);
		api_error(r, 409, msg);
	}
	return busy;
}

/* POST hotpatch {"file": NAME, "reinstall": bool}: `hotpatch apply` runs on
 * its own (it stops and restarts mgmtd), one at a time; GET hotpatch shows
 * how it goes. */
static void hotpatch_post(struct api *a, const char *body, size_t len, time_t now, struct api_resp *r)
{
	char *file = NULL, *path = NULL, *output = NULL, msg[400];
	int reinstall = 0, rc;

	if (json_get_string(body, len, "file", &file) < 0 ||
	    ((rc = json_get_bool(body, len, "reinstall", &reinstall)) < 0 && rc != -ENOENT)) {
		api_error(r, 400, "expected {\"file\": \"Space-<release>-Hotpatch-v<N>.tgz\", \"reinstall\": true | false}");
		goto out;
	}
	if (hotpatch_busy(a, file, r))
		goto out;
	if ((rc = upload_path(a->c, &upload_bundle, file, &path)) < 0) {
		upload_refused(a, &upload_bundle, "hotpatch", rc, file, r);
		goto out;
	}
	output = xasprintf("%s/hotpatch.log", a->c->log_dir);
	rc = output ? hotpatch_start(&a->hp_job, a->c, path, file, reinstall, r->user, output, now) : -ENOMEM;
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "cannot start %s: %s", a->c->hotpatch, space_strerror(rc));
		space_log("hotpatch %s by %s: %s", file, r->user, msg);
		api_error(r, 500, msg);
		goto out;
	}
	space_log("hotpatch %s by %s: started %s apply%s (pid %ld)", file, r->user, a->c->hotpatch,
		  reinstall ? " --reinstall" : "", (long)a->hp_job.pid);
	hotpatch_get(a, 202, r);
out:
	free(file);
	free(path);
	free(output);
}

/* ------------------------------------------------------------ routing */

/* The path below /api/v1/ into path (128 bytes); 0, or -1 when it is not
 * one of ours. */
static int api_path(const struct http_req *req, char path[128])
{
	static const char prefix[] = "/api/v1/";

	if (req->path.n >= 128 || req->path.n < sizeof(prefix) - 1 ||
	    memcmp(req->path.p, prefix, sizeof(prefix) - 1))
		return -1;
	memcpy(path, req->path.p + sizeof(prefix) - 1, req->path.n - (sizeof(prefix) - 1));
	path[req->path.n - (sizeof(prefix) - 1)] = '\0';
	return 0;
}

static void logout(struct api *a, const char *token, const char *peer, struct api_resp *r)
{
	sess_remove(&a->sess, token);
	space_log("logout %s from %s", r->user, peer);
	strcpy(r->set_cookie, "session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
	r->status = 200;
	buf_puts(&r->body, "{\"status\":\"logged out\"}");
}

/* The POST routes an admin may take; 1 when path is one of them (answered,
 * or refused for a user who is no admin), else 0. */
static int admin_post(struct api *a, const struct session *s, const char *path, const char *body, size_t bodylen,
		      const char *peer, struct api_now now, struct api_resp *r)
{
	int devices = !strcmp(path, "devices/communication"), upgrade = !strcmp(path, "upgrade"),
	    trust = !strcmp(path, "fabric/trust"), hotpatch = !strcmp(path, "hotpatch");

	if (!devices && !upgrade && !trust && !hotpatch)
		return 0;
	if (need_admin(s, path, peer, r) < 0)
		return 1;
	if (devices)
		devices_post(a, body, bodylen, now.wall, r);
	else if (upgrade)
		upgrade_post(a, body, bodylen, now.wall, r);
	else if (trust)
		fabric_trust(a, body, bodylen, r);
	else
		hotpatch_post(a, body, bodylen, now.wall, r);
	return 1;
}

/* The GET routes. */
static void get_route(struct api *a, const char *path, struct api_now now, struct api_resp *r)
{
	if (!strcmp(path, "system"))
		sys_info(a, now.mono, r);
	else if (!strcmp(path, "services"))
		call_daemon(CALL_LIST, a->c->watchdog_socket, "status", "watchdog", r);
	else if (!strcmp(path, "hotpatches"))
		hotpatches(a, r);
	else if (!strcmp(path, "upgrade"))
		upgrade_get(a, 200, r);
	else if (!strcmp(path, "hotpatch"))
		hotpatch_get(a, 200, r);
	else if (!strcmp(path, "fabric"))
		fabric_get(a, now.mono, r);
	else if (!strcmp(path, "devices/communication"))
		call_daemon(CALL_GATE, a->c->devgate_socket, "status", "device gate", r);
	else if (!strncmp(path, "jobs/", 5))
		job_get(a, path + 5, r);
	else
		api_error(r, 404, "not found");
}

void api_handle(struct api *a, const struct http_req *req, const char *body, size_t bodylen,
		const char *peer, struct api_now now, struct api_resp *r)
{
	char path[128], token[SESS_TOKEN_LEN + 1] = "";
	const struct session *s;
	int get = http_str_eq(req->method, "GET"), post = http_str_eq(req->method, "POST");

	if (api_path(req, path) < 0) {
		api_error(r, 404, "not found");
		return;
	}
	if (!strcmp(path, "login")) {
		if (!post)
			api_error(r, 405, "use POST");
		else
			login(a, body, bodylen, peer, now.mono, r);
		return;
	}
	s = authenticate(a, req, now.mono, token);
	if (!s) {
		api_error(r, 401, "login required");
		return;
	}
	api_user_label(r->user, sizeof(r->user), s->user);
	if (!strcmp(path, "logout")) {
		if (!post)
			api_error(r, 405, "use POST");
		else
			logout(a, token, peer, r);
	} else if (!(post && admin_post(a, s, path, body, bodylen, peer, now, r))) {
		if (!get)
			api_error(r, 405, "method not allowed");
		else
			get_route(a, path, now, r);
	}
	OPENSSL_cleanse(token, sizeof(token));
}
