/* SPDX-License-Identifier: MIT */
/* test_mgmtd.c - mgmtd without sockets: configuration, shadow
 * authentication and roles, the API routing with sessions (idle timeout,
 * logout, lockout, role denial) driven by a fake clock, and the
 * certificate bootstrap. */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pkg/libmgmt/http.h"
#include "pkg/mgmtd/api.h"
#include "pkg/mgmtd/auth.h"
#include "pkg/mgmtd/conf.h"
#include "pkg/mgmtd/hotpatch.h"
#include "pkg/mgmtd/tls.h"
#include "pkg/mgmtd/upgrade.h"
#include "tap.h"
#include "util.h"

static char dir[64];
static struct api api;

static void put(const char *name, const char *text)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	write_file_atomic(p, text, strlen(text), 0644);
}

/* Send one request from peer at the clocks now; returns the status and
 * leaves the body in *r. */
static int req_clk(const char *peer, const char *method, const char *path, const char *hdrs,
		   const char *body, struct api_now now, struct api_resp *r)
{
	static char raw[4096];
	struct http_limits lim = { 4096, 4096 };
	struct http_req q;
	int h;

	snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nContent-Length: %zu\r\n%s\r\n%s", method, path,
		 body ? strlen(body) : 0, hdrs ? hdrs : "", body ? body : "");
	h = http_parse(raw, strlen(raw), &lim, &q);
	if (h <= 0)
		return -1;
	api_resp_free(r);
	api_resp_init(r);
	api_handle(&api, &q, raw + h, (size_t)q.content_length, peer, now, r);
	return r->status;
}

/* The same, with a wall clock that never steps. */
static int req_from(const char *peer, const char *method, const char *path, const char *hdrs,
		    const char *body, time_t now, struct api_resp *r)
{
	return req_clk(peer, method, path, hdrs, body, (struct api_now){ now, now }, r);
}

static int req(const char *method, const char *path, const char *hdrs, const char *body, time_t now,
	       struct api_resp *r)
{
	return req_from("test", method, path, hdrs, body, now, r);
}

#define LOGIN(u, p) "{\"username\":\"" u "\",\"password\":\"" p "\"}"

/* The last line the daemon logged (space_log), for the log-escaping tests. */
static char last_log[4096];
static void capture_log(const char *msg)
{
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

/* Issue 12 #7: a user name reaches error.log escaped, and two different
 * names never log the same (no cut at a space, no silent cut of long ones). */
static void test_log_names(void)
{
	struct api_resp r;
	char a[4096], b[4096], body[2200], longname[2001];

	space_log_fn = capture_log;
	api_resp_init(&r);
	req("POST", "/api/v1/login", NULL, "{\"username\":\"ad\\u001b[2Jmin\\r\\nok\",\"password\":\"x\"}",
	    100000, &r);
	ok(!has_control(last_log), "no control byte from a user name reaches the log");
	ok(strstr(last_log, "ad\\x1b[2Jmin\\x0d\\x0aok from") != NULL, "escaped, whole: %s", last_log);
	ok(!has_control(r.user), "access-log user escaped too");
	req("POST", "/api/v1/login", NULL, "{\"username\":\"admin x\",\"password\":\"x\"}", 100000, &r);
	ok(strstr(last_log, "login admin\\x20x from") != NULL, "not cut at a space: %s", last_log);
	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"x\"}", longname);
	req("POST", "/api/v1/login", NULL, body, 100000, &r);
	snprintf(a, sizeof(a), "%s", last_log);
	longname[sizeof(longname) - 2] = 'v';
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"x\"}", longname);
	req("POST", "/api/v1/login", NULL, body, 100000, &r);
	snprintf(b, sizeof(b), "%s", last_log);
	ok(strcmp(a, b) && strlen(a) < 300, "two long names log differently, bounded: %s", b);
	api_resp_free(&r);
	space_log_fn = NULL;
}

static int token_of(struct api_resp *r, char *tok)
{
	const char *p = r->body.p ? strstr(r->body.p, "\"token\":\"") : NULL;

	if (!p)
		return -1;
	memcpy(tok, p + 9, 32);
	tok[32] = 0;
	return 0;
}

/* Log in as admin from peer and log out again; 1 when both worked. */
static int admin_in_out(const char *peer, time_t now, struct api_resp *r)
{
	char tok[33], hdr[80];

	if (req_from(peer, "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), now, r) != 200 ||
	    token_of(r, tok) < 0)
		return 0;
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
	return req_from(peer, "POST", "/api/v1/logout", hdr, NULL, now, r) == 200;
}

/* Issue 12 #1: wrong logins under made-up names (4096 names failing twice
 * each filled the old per-name table, after which nothing was counted) do
 * not open the way to guessing admin's password from that address. */
static void test_made_up_names(void)
{
	struct api_resp r;
	char body[128];
	int checked = 0;

	api_resp_init(&r);
	for (int i = 0; i < 8192; i++) {
		snprintf(body, sizeof(body), "{\"username\":\"u%d\",\"password\":\"x\"}", i / 2);
		checked += req_from("192.0.2.7", "POST", "/api/v1/login", NULL, body, 10000, &r) == 401;
	}
	ok(checked <= 2, "8192 wrong logins under 4096 names: %d reached a password check", checked);
	for (int i = 0; i < 3; i++)
		req_from("192.0.2.7", "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), 10001, &r);
	is_int(req_from("192.0.2.7", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 10002, &r), 429,
	       "then even admin's right password from there is refused");
	ok(r.retry_after > 0, "with Retry-After (%d)", r.retry_after);
	ok(admin_in_out("192.0.2.8", 10002, &r), "admin from another address logs in");
	api_resp_free(&r);
}

/* Issue 12 #2, both sides: a wrong admin password every 5 s for 10 minutes
 * (it kept admin locked) never keeps the admin out from elsewhere, and the
 * guessing address gets exponentially few password checks. */
static void test_guessing_no_dos(void)
{
	struct api_resp r;
	int checked = 0, admin_ok = 1, st;

	api_resp_init(&r);
	for (time_t t = 20000; t <= 20600; t += 5) {
		st = req_from("198.51.100.9", "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), t, &r);
		checked += st == 401;
		ok(st == 401 || st == 429, "guess at %ld: %d", (long)(t - 20000), st);
		if ((t - 20000) % 60 == 30)
			admin_ok &= admin_in_out("203.0.113.5", t, &r);
	}
	ok(admin_ok, "admin logged in from its own address every minute throughout");
	ok(checked <= 9, "121 guesses in 10 minutes, %d checked (delays 5, 10, 20 ... s)", checked);
	is_int(req_from("198.51.100.9", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 20601, &r),
	       429, "the right password from the guessing address waits out its delay");
	/* IPv6: one host owns a /64 and can pick any address in it */
	req_from("2001:db8:1:2::1", "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), 30000, &r);
	req_from("2001:db8:1:2::2", "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), 30000, &r);
	is_int(req_from("2001:db8:1:2::3", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 30000, &r),
	       429, "IPv6: counted per /64");
	ok(admin_in_out("2001:db8:1:3::1", 30000, &r), "the next /64 is not affected");
	api_resp_free(&r);
}

/* The throttle table is bounded; filled with addresses still being
 * counted, further addresses are counted in overflow buckets by
 * neighbourhood (IPv4 /24, IPv6 /48), so no failure goes uncounted and an
 * attacker's overflow blocks its own neighbourhood, not every new address
 * (one shared entry did: 4096 addresses kept admin out from anywhere). */
static void test_throttle_full(struct mgmtd_conf *c)
{
	struct api_resp r;
	char peer[48];

	c->lockout_sources = 4;
	api_init(&api, c, 1000);
	api.thr.key = 1; /* fixed: which neighbourhoods share a bucket is known */
	api_resp_init(&r);
	for (int i = 1; i <= 6; i++) {
		snprintf(peer, sizeof(peer), "10.0.0.%d", i);
		req_from(peer, "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), 1000, &r);
		req_from(peer, "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), 1000, &r);
	}
	is_int(api.thr.count, 4, "throttle table bounded (lockout_sources = 4)");
	is_int(req_from("10.0.0.9", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 1001, &r), 429,
	       "full: a new address in the attackers' /24 shares their overflow bucket, which counted the failures");
	ok(admin_in_out("10.0.1.9", 1001, &r), "the next /24 is not affected");
	ok(admin_in_out("::ffff:10.0.1.10", 1001, &r), "nor its IPv4-mapped form");
	is_int(req_from("::ffff:10.0.0.10", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 1001, &r),
	       429, "the attackers' /24 IPv4-mapped: the same bucket");
	for (int i = 1; i <= 3; i++) {
		snprintf(peer, sizeof(peer), "2001:db8:aa:%d::1", i);
		req_from(peer, "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), 1000, &r);
	}
	is_int(req_from("2001:db8:aa:ff::1", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 1001, &r),
	       429, "IPv6: a new /64 in the attackers' /48 waits");
	ok(admin_in_out("2001:db8:bb::1", 1001, &r), "another /48 is not affected");
	/* many neighbourhoods: the buckets, not the table, take them */
	for (int i = 0; i < 1000; i++) {
		snprintf(peer, sizeof(peer), "172.%d.%d.1", 16 + i / 256, i % 256);
		req_from(peer, "POST", "/api/v1/login", NULL, LOGIN("admin", "guess"), 1002, &r);
	}
	is_int(api.thr.count, 4, "1000 more /24s: the table stays at 4 entries (and %d buckets)",
	       THROTTLE_OVERFLOW);
	ok(admin_in_out("10.0.1.9", 1000 + c->lockout_time + c->lockout_window + 1, &r),
	   "entries expire after lockout_window");
	api_resp_free(&r);
	api_free(&api);
}

/* Issue 12 #3: a read-only user logging in a few hundred times filled the
 * session table, and admin's login got 503. */
static void test_session_hog(struct mgmtd_conf *c)
{
	struct api_resp r;
	int ok200 = 0;
	long saved = c->max_sessions;

	c->max_sessions = 20;
	api_init(&api, c, 1000);
	api_resp_init(&r);
	for (int i = 0; i < 300; i++)
		ok200 += req("POST", "/api/v1/login", NULL, LOGIN("ro", "secret"), 5000, &r) == 200;
	ok(ok200 >= 1 && ok200 <= 8, "300 logins by one read-only user: %d sessions", ok200);
	is_int(r.status, 429, "then refused: per-user cap");
	ok(strstr(r.body.p, "too many sessions for this user") != NULL, "%s", r.body.p);
	ok(admin_in_out("192.0.2.1", 5001, &r), "admin still logs in");
	api_resp_free(&r);
	api_free(&api);
	c->max_sessions = saved;
}

/* Issue 12 #4: backend calls are made by the transport without waiting
 * (api_call_done); a block whose answer is late is "running", then shows
 * its real outcome, and one without an answer is "unknown", never
 * "failed" (a block reported failed had been applied). */
static void test_backend_calls(void)
{
	struct api_resp r, late;
	char tok[33], hdr[80], path[32];
	struct api_call call;

	api_resp_init(&r);
	api_resp_init(&late);
	req_from("192.0.2.50", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 50000, &r);
	token_of(&r, tok);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
	is_int(req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", 50000, &r), 0,
	       "block: left to the transport");
	ok(r.call.kind == CALL_JOB && !strcmp(r.call.req, "block") && r.call.job > 0, "a job call");
	call = r.call;
	api_call_sent(&api, &call);
	snprintf(path, sizeof(path), "/api/v1/jobs/%d", call.job);
	req("GET", path, hdr, NULL, 50001, &r);
	ok(strstr(r.body.p, "\"state\":\"running\"") != NULL, "job running meanwhile: %s", r.body.p);
	api_call_pending(&api, &call, &late);
	is_int(late.status, 202, "no answer within the wait: 202");
	ok(strstr(late.body.p, "\"state\":\"running\"") != NULL, "with the running job");
	api_call_done(&api, &call, 0, "ok\nstate=blocked port=7804 devices=0\n", 50008, NULL);
	req("GET", path, hdr, NULL, 50009, &r);
	ok(strstr(r.body.p, "\"state\":\"done\"") && strstr(r.body.p, "\"finished\":50008"),
	   "the late answer is recorded: %s", r.body.p);

	req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"unblock\"}", 50010, &r);
	call = r.call;
	api_call_sent(&api, &call);
	api_call_done(&api, &call, -ETIMEDOUT, NULL, 50040, &late);
	ok(late.status == 504 && strstr(late.body.p, "\"state\":\"unknown\""),
	   "sent, never answered: unknown, not failed: %d %s", late.status, late.body.p);
	req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", 50041, &r);
	call = r.call;
	api_call_done(&api, &call, -ECONNREFUSED, NULL, 50041, &late);
	ok(late.status == 503 && !strcmp(late.body.p, "{\"error\":\"device gate unavailable: Connection refused\"}"),
	   "never sent: 503 with the reason: %s", late.body.p);
	req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", 50042, &r);
	call = r.call;
	api_call_sent(&api, &call);
	api_call_done(&api, &call, -SPACE_E_CHILD, "error block: Read-only file system\n", 50042, &late);
	ok(late.status == 409 && strstr(late.body.p, "device gate: block: Read-only file system"),
	   "refused by the gate: failed with its reason: %s", late.body.p);

	/* issue 12 #6: the gate's status object holds "devices" once */
	req("GET", "/api/v1/devices/communication", hdr, NULL, 50043, &r);
	call = r.call;
	api_call_done(&api, &call, 0, "ok\nstate=open port=7804 devices=1\nname=r1 peer=10.0.0.1 since=5\n",
		      50043, &r);
	ok(r.status == 200 && !strcmp(r.body.p, "{\"state\":\"open\",\"port\":7804,\"devices\":"
						"[{\"name\":\"r1\",\"peer\":\"10.0.0.1\",\"since\":5}]}"),
	   "gate status: %s", r.body.p);
	api_resp_free(&r);
	api_resp_free(&late);
}

/* Jobs POSTed by hdr's session at now: started (sent) and, if done, answered. */
static struct api_call job_run(const char *hdr, time_t now, int done)
{
	struct api_resp r;
	struct api_call call;

	api_resp_init(&r);
	req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", now, &r);
	call = r.call;
	if (call.kind == CALL_JOB) {
		api_call_sent(&api, &call);
		if (done)
			api_call_done(&api, &call, 0, "ok\n", now, NULL);
	}
	api_resp_free(&r);
	return call;
}

/* The job table (API_JOBS): a running job kept its slot only until
 * API_JOBS newer jobs, and its late answer then left the waiting client
 * with status 0 ("HTTP/1.1 0", no body); a job the transport could not
 * even send spent an id and a slot. */
static void test_job_ring(void)
{
	struct api_resp r, late;
	char tok[33], hdr[80];
	struct api_call a, b, run[API_JOBS];
	int st;

	api_resp_init(&r);
	api_resp_init(&late);
	req_from("192.0.2.51", "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 60000, &r);
	token_of(&r, tok);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
	a = job_run(hdr, 60000, 0);
	for (int i = 0; i < API_JOBS; i++)
		job_run(hdr, 60001, 1);
	api_call_done(&api, &a, 0, "ok\n", 60002, &late);
	ok(late.status == 200 && strstr(late.body.p, "\"state\":\"done\""),
	   "a running job outlives %d newer ones: %d %s", API_JOBS, late.status, late.body.p);

	/* refused at once: no id spent */
	a = job_run(hdr, 60003, 1);
	req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", 60003, &r);
	b = r.call;
	api_call_done(&api, &b, -EBUSY, NULL, 60003, &late);
	is_int(late.status, 503, "not sent: 503");
	b = job_run(hdr, 60003, 1);
	is_int(b.job, a.job + 1, "a job not sent spends no id");

	/* all slots running: refused, none taken over */
	for (int i = 0; i < API_JOBS; i++)
		run[i] = job_run(hdr, 60004, 0);
	st = req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", 60004, &r);
	ok(st == 503 && r.call.kind == CALL_NONE &&
		   !strcmp(r.body.p, "{\"error\":\"too many device jobs running; retry when one has finished\"}"),
	   "%d jobs running: the next is refused: %d %s", API_JOBS, st, r.body.p);
	for (int i = 0; i < API_JOBS; i++) {
		api_call_done(&api, &run[i], 0, "ok\n", 60005, &late);
		st += late.status == 200;
	}
	is_int(st, 503 + API_JOBS, "every running job got its answer");

	/* a job gone (never, now) still gets an answer with a reason */
	b.job = 1 << 20;
	api_resp_free(&late);
	api_resp_init(&late);
	api_call_done(&api, &b, 0, "ok\n", 60006, &late);
	ok(late.status == 500 && strstr(late.body.p, "\"error\"") != NULL, "job gone: 500 with a reason: %d %s",
	   late.status, late.body.p ? late.body.p : "");
	api_resp_free(&r);
	api_resp_free(&late);
}

/* The wall clock steps (first NTP sync, date -s): the login delay and the
 * session idle timeout went by it, so a step back lengthened them by the
 * step and a step forward cancelled them. They follow the monotonic
 * clock now; the wall clock only stamps jobs. */
static void test_clock_steps(void)
{
	const char *p = "192.0.2.77";
	struct api_resp r;
	char tok[33], hdr[80];
	time_t w = 1800000000, m = 70000;

#define AT(dw, dm) ((struct api_now){ w + (dw), m + (dm) })
	api_resp_init(&r);
	/* lockout_failures = 2: the second failure imposes 5 s */
	req_clk(p, "POST", "/api/v1/login", NULL, LOGIN("admin", "x"), AT(0, 0), &r);
	req_clk(p, "POST", "/api/v1/login", NULL, LOGIN("admin", "x"), AT(0, 0), &r);
	is_int(req_clk(p, "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), AT(3600, 1), &r), 429,
	       "wall clock 1 h ahead: the delay still runs");
	is_int(req_clk(p, "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), AT(-3600, 6), &r), 200,
	       "wall clock 1 h back: the delay is over all the same");
	token_of(&r, tok);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
	is_int(req_clk(p, "GET", "/api/v1/system", hdr, NULL, AT(7200, 36), &r), 200,
	       "wall clock 2 h ahead: the session is not idle");
	is_int(req_clk(p, "GET", "/api/v1/system", hdr, NULL, AT(-7200, 36 + 61), &r), 401,
	       "wall clock 2 h back: idle 61 s is still expired");
	/* a job's timestamps are the wall clock's */
	req_clk(p, "POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), AT(0, 100), &r);
	token_of(&r, tok);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
	req_clk(p, "POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", AT(5, 100), &r);
	{
		struct api_call call = r.call;
		api_call_sent(&api, &call);
		api_call_done(&api, &call, 0, "ok\n", w + 6, &r);
	}
	ok(strstr(r.body.p, "\"created\":1800000005,") && strstr(r.body.p, "\"finished\":1800000006,"),
	   "job stamped by the wall clock: %s", r.body.p);
#undef AT
	api_resp_free(&r);
}

/* Found by fuzz_http: four leading empty lines put the parser's position
 * past the end of the head it found, and it read far past the buffer
 * (memchr with a wrapped length). */
static void test_http_leading_blank_lines(void)
{
	static const char text[] = "\n\n\n\non: \ra\rb";
	struct http_limits lim = { 2048, 1024 };
	struct http_req q;
	char *b = malloc(sizeof(text) - 1); /* exact size: ASan sees any overread */

	memcpy(b, text, sizeof(text) - 1);
	is_int(http_parse(b, sizeof(text) - 1, &lim, &q), 0, "leading blank lines: no overread, needs more");
	free(b);
	b = strdup("\r\n\r\nGET / HTTP/1.1\n\n");
	ok(b && http_parse(b, 20, &lim, &q) == 20 && http_str_eq(q.method, "GET"), "two leading CRLFs tolerated");
	free(b);
	b = strdup("\n\n\n\n\n\nGET / HTTP/1.1\n\n");
	is_int(http_parse(b, strlen(b), &lim, &q), -SPACE_E_FORMAT, "more blank lines than tolerated: 400");
	free(b);
}

/* With the defaults the delay reaches its cap (lockout_time 900 s) and
 * lockout_window (900 s) is counted from the end of the delay, not from the
 * failure that set it: waiting out the delay plus one second must not buy
 * free guesses again. */
static void test_throttle_forget(void)
{
	struct mgmtd_conf d;
	struct api a;
	time_t t = 10000;
	long delay = 0;

	mgmtd_conf_defaults(&d);
	is_int(api_init(&a, &d, t), 0, "api with the default lockout settings");
	while (delay < d.lockout_time) {
		t += delay;
		delay = throttle_fail(&a.thr, "10.9.9.9", t);
	}
	is_int(delay, d.lockout_time, "delay capped at lockout_time (%ld s)", d.lockout_time);
	t += delay + 1;
	is_int(throttle_check(&a.thr, "10.9.9.9", t), 0, "delay over");
	is_int(throttle_fail(&a.thr, "10.9.9.9", t), d.lockout_time,
	       "a guess just after the capped delay is delayed again, not free");
	t += delay + d.lockout_window;
	is_int(throttle_check(&a.thr, "10.9.9.9", t), 0, "lockout_window after the delay's end");
	is_int(throttle_fail(&a.thr, "10.9.9.9", t + 1), 0, "... then it is forgotten: a free guess");
	is_int(throttle_fail(&a.thr, "10.9.9.8", t), 0, "below the threshold, no delay");
	is_int(throttle_fail(&a.thr, "10.9.9.8", t + d.lockout_window), 0, "second failure a window later, no delay");
	for (int i = 2; i < (int)d.lockout_failures; i++)
		throttle_fail(&a.thr, "10.9.9.8", t + d.lockout_window);
	ok(throttle_check(&a.thr, "10.9.9.8", t + d.lockout_window) > 0,
	   "failures below the threshold still remembered for lockout_window");
	api_free(&a);
	mgmtd_conf_free(&d);
}

/* GET /system lists the applications as the watchdog's `apps` answer says
 * (issue 7), asked for in the background: null until it answers, the last
 * list kept when it does not. */
static void test_system_apps(void)
{
	struct apps_list l;
	struct api_resp r;
	struct api_call call;
	struct buf b;
	char tok[33], hdr[80];

	api_resp_init(&r);
	req("POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 60000, &r);
	token_of(&r, tok);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok);
	req("GET", "/api/v1/system", hdr, NULL, 60000, &r);
	ok(strstr(r.body.p, "\"applications\":null") != NULL, "no answer yet: null: %s", r.body.p);
	is_int(api_apps_due(&api, 60000, &call), 1, "the list is due");
	ok(call.kind == CALL_APPS && !strcmp(call.req, "apps") && call.sock == api.c->watchdog_socket,
	   "an apps call to the watchdog");
	is_int(api_apps_due(&api, 60001, &call), 0, "one call at a time");
	memset(&l, 0, sizeof(l));
	strcpy(l.running, "21.3R1.3");
	l.n = 1;
	strcpy(l.app[0].pkg, "old-app");
	strcpy(l.app[0].name, "old");
	strcpy(l.app[0].version, "1.0");
	strcpy(l.app[0].platform, "21.1 21.2");
	strcpy(l.app[0].reason, "needs platform 21.1-21.2, running 21.3R1.3");
	buf_init(&b);
	apps_reply(&b, &l);
	api_call_sent(&api, &call);
	api_call_done(&api, &call, 0, b.p, 60001, NULL);
	req("GET", "/api/v1/system", hdr, NULL, 60001, &r);
	ok(strstr(r.body.p, "\"applications\":[{\"name\":\"old\",\"package\":\"old-app\",\"version\":\"1.0\","
			    "\"platform\":\"21.1 21.2\",\"state\":\"disabled\","
			    "\"reason\":\"needs platform 21.1-21.2, running 21.3R1.3\"") != NULL,
	   "the watchdog's list, at once: %s", r.body.p);
	is_int(api_apps_due(&api, 60000 + API_APPS_REFRESH - 1, &call), 0, "not asked again before the refresh");
	is_int(api_apps_due(&api, 60000 + API_APPS_REFRESH, &call), 1, "asked again after it");
	api_call_done(&api, &call, -ECONNREFUSED, NULL, 60040, NULL);
	req("GET", "/api/v1/system", hdr, NULL, 60002 + API_APPS_REFRESH, &r);
	ok(strstr(r.body.p, "\"name\":\"old\"") != NULL, "watchdog gone: the last list stays");
	buf_free(&b);
	api_resp_free(&r);
}

/* ------------------------------------------------------------ upgrade (issue 7) */

static void test_upgrade_names(void)
{
	static const char *const good[] = { "space-21.3R2.img", "space-21.3R1.3.img", "a_b2-1.img" };
	static const char *const bad[] = { "../space-21.3R2.img", "x/space-1.img", ".img", "space-1.tar",
					   "space-1..2.img", "Space-1.img", "space-.img", "space1.img",
					   "space-1.img.", "space-1.img/", "-1.img", "space-1.2.img\n",
					   "space-a1.img", "space-1..img", "space-1 2.img", "" };
	char longname[120];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(upgrade_name_ok(good[i]), "image name %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!upgrade_name_ok(bad[i]), "not an image name: %s", bad[i]);
	memset(longname, '1', sizeof(longname));
	memcpy(longname, "space-", 6);
	strcpy(longname + 96, ".img"); /* 100 bytes */
	ok(upgrade_name_ok(longname), "100 bytes: fits the manifest's file =");
	memset(longname + 96, '1', 1);
	strcpy(longname + 97, ".img");
	ok(!upgrade_name_ok(longname), "101 bytes: too long");
}

/* The test's upgrade settings in c: everything below dir. */
static void upgrade_conf(struct mgmtd_conf *c)
{
	free(c->upload_dir);
	free(c->upgrade_status);
	free(c->spacectl);
	c->upload_dir = xasprintf("%s/up", dir);
	c->upgrade_status = xasprintf("%s/status", dir);
	c->spacectl = xasprintf("%s/fake-spacectl", dir);
	c->upload_max = 1024;
	c->upload_keep_free = 0;
}

static int exists(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/up/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void test_upload(struct mgmtd_conf *c)
{
	struct upload u = { 0 };
	struct space_err why = { "" };
	char sha[65], path[256];
	int r;

	is_int(upload_begin(&u, &upload_image, c, "space-1.2.img", 1025, "admin", 1, &why), -EFBIG,
	       "over upload_max: %s", why.msg);
	is_int(upload_begin(&u, &upload_image, c, "../x-1.img", 3, "admin", 1, &why), -EINVAL, "bad name: %s", why.msg);
	snprintf(path, sizeof(path), "%s/up/space-1.2.img.tmp.%ld", dir, (long)getpid());
	is_int(upload_begin(&u, &upload_image, c, "space-1.2.img", 6, "admin", 1, &why), 0, "upload begins");
	ok(access(path, F_OK) == 0 && !exists("space-1.2.img"), "a temporary file, nothing under the final name");
	is_int(upload_begin(&u, &upload_image, c, "space-1.3.img", 3, "bob", 1, &why), -EBUSY,
	       "one at a time: %s", why.msg);
	is_int(upload_write(&u, "abc", 3), 0, "part 1");
	is_int(upload_write(&u, "defg", 4), -EINVAL, "never more than announced");
	is_int(upload_write(&u, "def", 3), 0, "part 2");
	is_int(upload_commit(&u, sha), 0, "committed");
	ok(!strcmp(sha, "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721"), "SHA-256: %s", sha);
	ok(exists("space-1.2.img") && !u.active, "final name, upload closed");
	ok(access(path, F_OK) < 0, "no temporary file");
	snprintf(path, sizeof(path), "%s/up/space-1.4.img.tmp.%ld", dir, (long)getpid());

	is_int(upload_begin(&u, &upload_image, c, "space-1.4.img", 6, "admin", 1, &why), 0, "another");
	is_int(upload_write(&u, "abc", 3), 0, "half of it");
	upload_abort(&u);
	ok(!exists("space-1.4.img") && access(path, F_OK) < 0 && !u.active, "aborted: nothing remains");
	is_int(upload_begin(&u, &upload_image, c, "space-1.5.img", 6, "admin", 1, &why), 0, "one more");
	is_int(upload_write(&u, "abc", 3), 0, "half of it");
	is_int(upload_commit(&u, sha), -EIO, "commit of a short upload fails");
	ok(!exists("space-1.5.img") && !u.active, "... and leaves nothing");

	c->upload_keep_free = 1LL << 50;
	r = upload_begin(&u, &upload_image, c, "space-1.6.img", 6, "admin", 1, &why);
	is_int(r, -ENOSPC, "filesystem without the room to keep free: %s", why.msg);
	ok(strstr(why.msg, "not enough space in") && !exists("space-1.6.img") && !u.active, "nothing created");
	c->upload_keep_free = 0;

	put("up/space-1.7.img.tmp.99", "");
	put("up/Space-21.3R1-Hotpatch-v3.tgz.tmp.99", "");
	put("up/notes.tmp.99", "");
	upload_clean(c->upload_dir);
	ok(!exists("space-1.7.img.tmp.99") && !exists("Space-21.3R1-Hotpatch-v3.tgz.tmp.99") && exists("notes.tmp.99"),
	   "leftovers of a crash removed (images and bundles), only those");

	/* a bundle: its own name rule, the same one-at-a-time slot */
	is_int(upload_begin(&u, &upload_bundle, c, "space-1.2.img", 3, "admin", 1, &why), -EINVAL,
	       "an image name is no bundle name: %s", why.msg);
	ok(strstr(why.msg, "bundle name must be Space-<release>-Hotpatch-v<N>.tgz") != NULL, "the rule said");
	is_int(upload_begin(&u, &upload_image, c, "Space-21.3R1-Hotpatch-v2.tgz", 3, "admin", 1, &why),
	       -EINVAL, "nor the other way round");
	is_int(upload_begin(&u, &upload_bundle, c, "Space-21.3R1-Hotpatch-v2.tgz", 3, "admin", 1, &why),
	       0, "a bundle upload begins");
	is_int(upload_begin(&u, &upload_image, c, "space-1.8.img", 3, "admin", 1, &why), -EBUSY,
	       "one upload at a time, of any kind: %s", why.msg);
	is_int(upload_write(&u, "abc", 3), 0, "the bundle's bytes");
	is_int(upload_commit(&u, sha), 0, "committed");
	ok(exists("Space-21.3R1-Hotpatch-v2.tgz"), "under its name");
}

static const char *status_json(const char *path)
{
	static struct buf b;
	struct jw w;

	buf_free(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	upgrade_status_members(&w, path);
	jw_obj_end(&w);
	return b.p;
}

static void test_upgrade_status(struct mgmtd_conf *c)
{
	const char *j;

	unlink(c->upgrade_status);
	j = status_json(c->upgrade_status);
	ok(!strcmp(j, "{\"state\":\"idle\",\"release\":\"\",\"from\":\"\",\"slot\":\"\",\"progress\":null,"
		      "\"started\":null,\"finished\":null,\"reason\":\"\",\"log\":\"\"}"),
	   "absent: idle: %s", j);
	put("status", "state = writing\nrelease = 21.3R2\nfrom = 21.3R1.1\nslot = b\nprogress = 42\n"
		      "started = 1764441600\nlog = /var/log/upgrade/u.log\nnewer_key = x\n");
	j = status_json(c->upgrade_status);
	ok(!strcmp(j, "{\"state\":\"writing\",\"release\":\"21.3R2\",\"from\":\"21.3R1.1\",\"slot\":\"b\","
		      "\"progress\":42,\"started\":1764441600,\"finished\":null,\"reason\":\"\","
		      "\"log\":\"/var/log/upgrade/u.log\"}"),
	   "the contract's fields, unknown keys ignored: %s", j);
	put("status", "state = failed\nreason = \"trial failed: mgmtd not ready\"\nprogress = -3\n");
	j = status_json(c->upgrade_status);
	ok(strstr(j, "\"state\":\"failed\"") && strstr(j, "\"reason\":\"trial failed: mgmtd not ready\"") &&
		   strstr(j, "\"progress\":null"),
	   "failed with its reason; a bad number is null: %s", j);
	put("status", "progress = 1\n");
	j = status_json(c->upgrade_status);
	ok(strstr(j, "\"state\":\"unknown\"") && strstr(j, "no state"), "no state: unknown: %s", j);
	put("status", "state writing\n");
	j = status_json(c->upgrade_status);
	ok(strstr(j, "\"state\":\"unknown\"") && strstr(j, "line 1"), "malformed: unknown, the line: %s", j);
	{
		char big[5000];
		memset(big, '#', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		put("status", big);
		j = status_json(c->upgrade_status);
		ok(strstr(j, "\"state\":\"unknown\"") != NULL, "over 4 KiB: not read: %s", j);
	}
	unlink(c->upgrade_status);
}

static void test_upgrade_job(struct mgmtd_conf *c)
{
	struct child_job j = { 0 };
	char out[256], *path = NULL, script[512];
	int reaped = 0;

	snprintf(out, sizeof(out), "%s/upgrade.out", dir);
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$*\" > %s/args\nexit 3\n", dir);
	put("fake-spacectl", script);
	chmod(c->spacectl, 0755);
	is_int(upload_path(c, &upload_image, "space-9.9.img", &path), -ENOENT, "no such image");
	is_int(upload_path(c, &upload_image, "../status.img", &path), -EINVAL, "not an image name");
	is_int(upload_path(c, &upload_image, "space-1.2.img", &path), 0, "an uploaded image");
	is_int(upgrade_start(&j, c, path, "space-1.2.img", 1, "admin", out, 100), 0, "started");
	ok(j.pid > 0 && j.ran, "running");
	is_int(upgrade_start(&j, c, path, "space-1.2.img", 0, "admin", out, 100), -EBUSY, "one at a time");
	for (int i = 0; i < 500 && !reaped; i++) {
		reaped = child_reap(&j, 101);
		if (!reaped)
			usleep(10000);
	}
	ok(reaped && !j.pid && WIFEXITED(j.wstatus) && WEXITSTATUS(j.wstatus) == 3, "reaped, exit 3");
	{
		char p[256], *txt = NULL, want[300];
		size_t n;
		snprintf(p, sizeof(p), "%s/args", dir);
		snprintf(want, sizeof(want), "upgrade --reboot %s\n", path);
		ok(read_file(p, 4096, &txt, &n) == 0 && !strcmp(txt, want), "argv: %s", txt ? txt : "-");
		free(txt);
	}
	free(c->spacectl);
	c->spacectl = xasprintf("%s/nonexistent", dir);
	is_int(upgrade_start(&j, c, path, "space-1.2.img", 0, "admin", out, 102), -ENOENT,
	       "a spacectl that is not there: its errno");
	ok(!j.pid && j.finished == 101, "the last job stays as it was");
	free(path);
}

static void test_upgrade(struct mgmtd_conf *c)
{
	upgrade_conf(c);
	test_upgrade_names();
	mkdir_p(c->upload_dir, 0750);
	test_upload(c);
	test_upgrade_status(c);
	test_upgrade_job(c);
}

/* ------------------------------------------------------------ hot patch (issue 9) */

static void test_hotpatch_names(void)
{
	static const char *const good[] = { "Space-21.3R1-Hotpatch-v1.tgz", "Space-21.3R12-Hotpatch-v9999.tgz",
					    "Space-9.0R2-Hotpatch-v10.tgz" };
	static const char *const bad[] = {
		"space-21.3R1-Hotpatch-v1.tgz",
		"Space-21.3R1-Hotpatch-v01.tgz",
		"Space-21.3R1-Hotpatch-v0.tgz",
		"Space-21.3R1-Hotpatch-v10000.tgz",
		"Space-21.3R1.1-Hotpatch-v1.tgz",
		"Space-21.3-Hotpatch-v1.tgz",
		"Space-21.3R1-Hotpatch-v1.tar.gz",
		"Space-21.3R1-Hotpatch-v1",
		"../Space-21.3R1-Hotpatch-v1.tgz",
		"Space-21.3R1-Hotpatch-v1.tgz/",
		"Space-21.3R1-Hotpatch-v+1.tgz",
		"Space-21.3R1-Hotpatch-v1 .tgz",
		"Space-x/21.3R1-Hotpatch-v1.tgz",
		"Space--Hotpatch-v1.tgz",
		"",
		"Space-21.3R1-Hotpatch-v1.tgz\n",
		"Space-21.3R01-Hotpatch-v1.tgz",
		"Other-21.3R1-Hotpatch-v1.tgz",
		"Space-21.3R1-Hotpatch-v1-Hotpatch-v2.tgz",
		"Space-21.3R1-hotpatch-v1.tgz",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(hotpatch_name_ok(good[i]), "bundle name %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!hotpatch_name_ok(bad[i]), "not a bundle name: %s", bad[i]);
}

/* PUT path with a Content-Length of n through api_upload_begin (the head
 * only); the status (0: the upload is open), r the answer. */
static int put_begin(const char *path, const char *hdrs, long long n, time_t now, struct api_resp *r)
{
	static char raw[1024];
	struct http_limits lim = { 4096, (size_t)1 << 40 };
	struct http_req q;
	int h;

	snprintf(raw, sizeof(raw), "PUT %s HTTP/1.1\r\nContent-Length: %lld\r\n%s\r\n", path, n, hdrs);
	h = http_parse(raw, strlen(raw), &lim, &q);
	if (h <= 0)
		return -1;
	api_resp_free(r);
	api_resp_init(r);
	if (!api_upload_begin(&api, &q, "test", (struct api_now){ now, now }, r))
		return -2;
	return r->status;
}

/* Wait up to 5 s for the file dir/name. */
static int wait_file(const char *name)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	for (int i = 0; i < 500; i++) {
		if (access(p, F_OK) == 0)
			return 1;
		usleep(10000);
	}
	return 0;
}

/* The fake `hotpatch`, a test double of the external tool: records its
 * argv, writes the progress file as the tool does (running, with its pid),
 * waits for dir/go, then writes it finished and exits 0. */
static void fake_hotpatch(struct mgmtd_conf *c)
{
	char script[1024];

	snprintf(script, sizeof(script),
		 "#!/bin/sh\nd=%s\necho \"$*\" > $d/hp-args\nmkdir -p $d/var/lib/hotpatch\n"
		 "printf 'action = apply\\nname = Space-21.3R1-Hotpatch-v3\\nstate = running\\nstep = 5/8 install\\n"
		 "started = 1700000000\\nfinished = 0\\npid = %%s\\n' $$ > $d/var/lib/hotpatch/progress.tmp\n"
		 "mv $d/var/lib/hotpatch/progress.tmp $d/var/lib/hotpatch/progress\ntouch $d/hp-started\n"
		 "while [ ! -e $d/go ]; do sleep 0.02; done\necho 'hotpatch: apply: done'\n"
		 "printf 'action = apply\\nname = Space-21.3R1-Hotpatch-v3\\nstate = ok\\nstep = 8/8 done\\n"
		 "started = 1700000000\\nfinished = 1700000060\\npid = %%s\\n' $$ > $d/var/lib/hotpatch/progress\n",
		 dir);
	put("fake-hotpatch", script);
	free(c->hotpatch);
	c->hotpatch = xasprintf("%s/fake-hotpatch", dir);
	chmod(c->hotpatch, 0755);
	free(c->log_dir);
	c->log_dir = strdup(dir);
}

/* The hot patch of test_hotpatch_job stops mgmtd: the restarted one takes
 * the job from the progress file, sees it finish, and then one whose
 * process is gone. */
static void hotpatch_job_restarted(struct mgmtd_conf *c, pid_t pid, struct api_resp *r)
{
	char want[512], p[256], *txt = NULL;
	size_t n;
	int reaped = 0;

	api_free(&api);
	api_init(&api, c, 5000);
	is_int(req("POST", "/api/v1/login", NULL, LOGIN("ro", "secret"), 5004, r), 200, "login after the restart");
	snprintf(want, sizeof(want), "Authorization: Bearer %.32s\r\n", strstr(r->body.p, "\"token\":\"") + 9);
	is_int(req("GET", "/api/v1/hotpatch", want, NULL, 5004, r), 200, "GET hotpatch, read-only");
	ok(strstr(r->body.p, "\"job\":{\"action\":\"apply\",\"name\":\"Space-21.3R1-Hotpatch-v3\","
			     "\"state\":\"running\",\"step\":\"5/8 install\"") &&
		   strstr(r->body.p, "\"process\":null,\"upload\":null}"),
	   "a restarted mgmtd reports the running job from the progress file: %s", r->body.p);
	req("POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 5004, r);
	snprintf(p, sizeof(p), "Authorization: Bearer %.32s\r\n", strstr(r->body.p, "\"token\":\"") + 9);
	is_int(req("POST", "/api/v1/hotpatch", p, "{\"file\":\"Space-21.3R1-Hotpatch-v3.tgz\"}", 5005, r), 409,
	       "a job the progress file shows alive: 409: %s", r->body.p);

	put("go", "");
	for (int i = 0; i < 500 && !reaped; i++) {
		reaped = waitpid(pid, NULL, WNOHANG) == pid;
		if (!reaped)
			usleep(10000);
	}
	ok(reaped, "the tool finished");
	req("GET", "/api/v1/hotpatch", want, NULL, 5006, r);
	ok(strstr(r->body.p, "\"state\":\"ok\",\"step\":\"8/8 done\"") && strstr(r->body.p, "\"finished\":1700000060"),
	   "GET hotpatch: finished: %s", r->body.p);
	snprintf(want, sizeof(want), "%s/hotpatch.log", dir);
	ok(read_file(want, 4096, &txt, &n) == 0 && strstr(txt, "hotpatch: apply: done"), "its output in hotpatch.log");
	free(txt);

	/* a progress file that says running for a process that is gone */
	pid = fork();
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	snprintf(want, sizeof(want), "action = apply\nname = Space-21.3R1-Hotpatch-v3\nstate = running\npid = %ld\n",
		 (long)pid);
	put("var/lib/hotpatch/progress", want);
	req("GET", "/api/v1/hotpatches", p, NULL, 5007, r);
	ok(strstr(r->body.p, "\"state\":\"interrupted\"") != NULL, "a killed job is interrupted, not running: %s",
	   r->body.p);
	unlink(c->hotpatch);
	is_int(req("POST", "/api/v1/hotpatch", p, "{\"file\":\"Space-21.3R1-Hotpatch-v3.tgz\",\"reinstall\":true}", 5008,
		   r),
	       500, "... and does not block a new one (here: a tool that is not there, 500)");
	ok(strstr(r->body.p, "cannot start") != NULL, "%s", r->body.p);
}

static void test_hotpatch_job(struct mgmtd_conf *c, const char *admin, const char *ro, struct api_resp *r)
{
	char want[512], p[256], *txt = NULL;
	pid_t pid;
	size_t n;

	is_int(req("POST", "/api/v1/hotpatch", ro, "{\"file\":\"Space-21.3R1-Hotpatch-v3.tgz\"}", 5000, r), 403,
	       "a read-only user cannot start a hot patch");
	is_int(req("POST", "/api/v1/hotpatch", admin, "{\"file\":\"Space-21.3R1-Hotpatch-v3.tgz\"}", 5000, r), 404,
	       "not uploaded: 404");
	ok(strstr(r->body.p, "PUT /api/v1/hotpatch/bundle/Space-21.3R1-Hotpatch-v3.tgz") != NULL, "says how: %s",
	   r->body.p);
	is_int(req("POST", "/api/v1/hotpatch", admin, "{\"file\":\"../etc/space-release\"}", 5000, r), 400,
	       "not a bundle name: 400");
	is_int(req("POST", "/api/v1/hotpatch", admin, "{\"file\":1}", 5000, r), 400, "no file: 400");

	is_int(put_begin("/api/v1/hotpatch/bundle/Space-21.3R1-Hotpatch-v3.tgz", ro, 3, 5001, r), 403,
	       "a read-only user cannot upload a bundle");
	is_int(put_begin("/api/v1/hotpatch/bundle/Space-21.3R1-Hotpatch-v3.tar", admin, 3, 5001, r), 400,
	       "a bundle with another name: 400");
	is_int(put_begin("/api/v1/hotpatch/bundle/Space-21.3R1-Hotpatch-v3.tgz", admin, 3, 5001, r), 0,
	       "an admin's bundle upload is open");
	is_int(api_upload_data(&api, "tgz", 3, r), 0, "its body");
	api_upload_end(&api, r);
	is_int(r->status, 201, "uploaded: %s", r->body.p);

	is_int(req("POST", "/api/v1/hotpatch", admin, "{\"file\":\"Space-21.3R1-Hotpatch-v3.tgz\"}", 5002, r), 202,
	       "the hot patch starts: %s", r->body.p);
	ok(strstr(r->body.p, "\"process\":{\"file\":\"Space-21.3R1-Hotpatch-v3.tgz\",\"reinstall\":false,"
			     "\"user\":\"admin\",\"started\":5002,\"running\":true") != NULL,
	   "the answer names the process: %s", r->body.p);
	pid = api.hp_job.pid;
	ok(wait_file("hp-started"), "the tool runs");
	is_int(req("POST", "/api/v1/hotpatch", admin, "{\"file\":\"Space-21.3R1-Hotpatch-v3.tgz\"}", 5003, r), 409,
	       "one at a time: %s", r->body.p);
	snprintf(p, sizeof(p), "%s/hp-args", dir);
	snprintf(want, sizeof(want), "apply --root %s %s/Space-21.3R1-Hotpatch-v3.tgz\n", dir, c->upload_dir);
	ok(read_file(p, 4096, &txt, &n) == 0 && !strcmp(txt, want), "argv: %s", txt ? txt : "-");
	free(txt);
	hotpatch_job_restarted(c, pid, r);
}

static void test_hotpatch(struct mgmtd_conf *c)
{
	char admin[80], ro[80];
	struct api_resp r;

	test_hotpatch_names();
	fake_hotpatch(c);
	api_init(&api, c, 5000);
	api_resp_init(&r);
	req("POST", "/api/v1/login", NULL, LOGIN("admin", "secret"), 5000, &r);
	snprintf(admin, sizeof(admin), "Authorization: Bearer %.32s\r\n", strstr(r.body.p, "\"token\":\"") + 9);
	req("POST", "/api/v1/login", NULL, LOGIN("ro", "secret"), 5000, &r);
	snprintf(ro, sizeof(ro), "Authorization: Bearer %.32s\r\n", strstr(r.body.p, "\"token\":\"") + 9);
	is_int(req("GET", "/api/v1/hotpatch", ro, NULL, 5000, &r), 200, "GET hotpatch, read-only");
	ok(r.body.p && strstr(r.body.p, "\"level\":2,") && strstr(r.body.p, "\"job\":null,\"process\":null,\"upload\":null}"),
	   "no job yet: %s", r.body.p);
	test_hotpatch_job(c, admin, ro, &r);
	api_resp_free(&r);
	api_free(&api);
}

/* configuration: defaults, the packaged file, refusals */
static void test_conf(void)
{
	struct mgmtd_conf c;
	struct space_err err = { "" };
	char path[256];

	is_int(mgmtd_conf_defaults(&c), 0, "defaults");
	is_int(c.port, 443, "default port 443");
	is_int(c.idle_timeout, 900, "default idle timeout 15 min");
	is_int(mgmtd_conf_load(&c, "pkg/mgmtd/files/etc/mgmtd.conf", &err), 0,
	       "packaged mgmtd.conf loads: %s", err.msg);
	is_int(c.idle_timeout, 900, "packaged idle timeout 15 min");
	put("bad.conf", "port = 99999\n");
	snprintf(path, sizeof(path), "%s/bad.conf", dir);
	is_int(mgmtd_conf_load(&c, path, &err), -SPACE_E_FORMAT, "port out of range");
	ok(!strcmp(err.msg, "line 1: port: out of range"), "names line and key: %s", err.msg);
	put("typo.conf", "# c\nidle_timeut = 5\n");
	snprintf(path, sizeof(path), "%s/typo.conf", dir);
	is_int(mgmtd_conf_load(&c, path, &err), -SPACE_E_FORMAT, "unknown key");
	ok(!strcmp(err.msg, "line 2: idle_timeut: unknown key"), "%s", err.msg);
	ok(conf_list_has("a, operator ,b", "operator") && !conf_list_has("operators", "operator") &&
		   !conf_list_has("", ""),
	   "user lists match whole names only");
	mgmtd_conf_free(&c);
}

/* The configuration of the tests below (accounts, roles, limits, files in
 * dir), written and loaded once, by whichever of them runs first. */
static struct mgmtd_conf test_c;
static int test_c_loaded;

static struct mgmtd_conf *fixture_conf(void)
{
	struct mgmtd_conf *cp = &test_c;
	struct space_err err = { "" };
	char path[256];
	struct crypt_data cd;

	if (test_c_loaded)
		return cp;
	test_c_loaded = 1;
	/* over the packaged file, as mgmtd reads it */
	mgmtd_conf_defaults(cp);
	mgmtd_conf_load(cp, "pkg/mgmtd/files/etc/mgmtd.conf", &err);
	{
		char shadow[1024], conf[1024];
		const char *h;
		memset(&cd, 0, sizeof(cd));
		h = crypt_r("secret", "$6$abcdefgh", &cd);
		snprintf(shadow, sizeof(shadow),
			 "root:%s:1::::::\nadmin:%s:1::::::\nbob:%s:1::::::\nro:%s:1::::::\n"
			 "md5:$1$abc$xyz:1::::::\nlk:!%s:1::::::\n",
			 h, h, h, h, h);
		put("shadow", shadow);
		put("group", "wheel:x:0:root\nspaceadm:x:900:carol,bob\n");
		snprintf(conf, sizeof(conf),
			 "shadow = %s/shadow\ngroup = %s/group\nadmin_group = spaceadm\nreadonly_users = ro\n"
			 "idle_timeout = 60\nsession_lifetime = 1h\nmax_sessions = 3\nlockout_failures = 2\n"
			 "lockout_time = 5m\nrelease_file = %s/etc/space-release\nhotpatch_root = %s\n"
			 "cluster_file = %s/cluster\nwatchdog_socket = %s/none.sock\ndevgate_socket = %s/none.sock\n",
			 dir, dir, dir, dir, dir, dir, dir);
		put("mgmtd.conf", conf);
	}
	/* the node's release and hot-patch markers */
	snprintf(path, sizeof(path), "%s/etc", dir);
	mkdir(path, 0755);
	put("etc/space-release", "PRODUCT=space\nVERSION=21.3R1.3\nBUILD_ID=42\n");
	put("etc/.Space-21.3R1-Hotpatch-v2", "mgmtd 1.0-2\n");
	put("etc/.Space-21.2R1-Hotpatch-v5", "mgmtd 0.9-5\n"); /* another release's */
	snprintf(path, sizeof(path), "%s/mgmtd.conf", dir);
	is_int(mgmtd_conf_load(cp, path, &err), 0, "test configuration: %s", err.msg);
	is_int(cp->session_lifetime, 3600, "duration units");
	return cp;
}

/* authentication and roles */
static void test_auth(void)
{
	struct mgmtd_conf c = *fixture_conf();
	enum role role;

	is_int(auth_login(&c, "admin", "secret", &role), 0, "admin logs in");
	is_int(role, ROLE_ADMIN, "admin role for the admin account");
	is_int(auth_login(&c, "bob", "secret", &role), 0, "group member logs in");
	is_int(role, ROLE_ADMIN, "admin group gives admin");
	is_int(auth_login(&c, "ro", "secret", &role), 0, "listed user logs in");
	is_int(role, ROLE_READONLY, "read-only role");
	is_int(auth_login(&c, "root", "secret", &role), -EPERM, "root has no management role");
	is_int(auth_login(&c, "admin", "Secret", &role), -EACCES, "wrong password");
	is_int(auth_login(&c, "nobody", "secret", &role), -EACCES, "unknown user: same answer");
	is_int(auth_login(&c, "md5", "x", &role), -EACCES, "non-SHA-512 hash never matches");
	is_int(auth_login(&c, "lk", "secret", &role), -EACCES, "locked (!) hash never matches");
	is_int(auth_login(&c, "admin:x", "secret", &role), -EACCES, "colon in the name");
	is_int(auth_login(&c, "", "secret", &role), -EACCES, "empty name");
	{
		char *saved = c.shadow;
		c.shadow = (char *)"/nonexistent/shadow";
		is_int(auth_login(&c, "admin", "secret", &role), -ENOENT,
		       "unreadable shadow: an error, not a wrong password");
		c.shadow = saved;
	}
}

/* The API with a fake clock: login, cookie and bearer, expiry, roles,
 * logout. */
static void test_api(void)
{
	struct api_resp r;
	char tok[33], tok2[33], hdr[128];

	api_init(&api, fixture_conf(), 1000);
	api_resp_init(&r);
	is_int(req("GET", "/api/v1/system", NULL, NULL, 1000, &r), 401, "login required");
	is_int(req("GET", "/api/v1/login", NULL, NULL, 1000, &r), 405, "login needs POST");
	is_int(req("POST", "/api/v1/login", NULL, "{\"username\":\"admin\"}", 1000, &r), 400,
	       "password missing: 400");
	is_int(req("POST", "/api/v1/login", NULL, "{\"username\":\"admin\",\"password\":\"secret\"}", 1000, &r),
	       200, "login");
	ok(!strncmp(r.set_cookie, "session=", 8) && strstr(r.set_cookie, "HttpOnly") &&
		   strstr(r.set_cookie, "Secure"),
	   "cookie: %s", r.set_cookie);
	token_of(&r, tok);
	snprintf(hdr, sizeof(hdr), "Cookie: other=1; session=%s\r\n", tok);
	is_int(req("GET", "/api/v1/system", hdr, NULL, 1030, &r), 200, "cookie accepted");
	ok(strstr(r.body.p, "\"release\":\"21.3R1.3\"") && strstr(r.body.p, "\"Space-21.3R1-Hotpatch-v2\"") &&
		   strstr(r.body.p, "\"hotpatch_level\":2,") && strstr(r.body.p, "\"mode\":\"standalone\""),
	   "system: %s", r.body.p);
	ok(!strcmp(r.user, "admin"), "user for the access log");
	put("cluster", "nodes=2\n");
	req("GET", "/api/v1/system", hdr, NULL, 1031, &r);
	ok(strstr(r.body.p, "\"mode\":\"cluster\"") != NULL, "cluster mode");
	is_int(req("GET", "/api/v1/system", hdr, NULL, 1091, &r), 401, "idle 60 s: expired");
	is_int(req("GET", "/api/v1/system?x", "Authorization: Bearer 0123\r\n", NULL, 1091, &r), 401,
	       "bogus bearer");

	req("POST", "/api/v1/login", NULL, "{\"username\":\"ro\",\"password\":\"secret\"}", 2000, &r);
	token_of(&r, tok2);
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", tok2);
	is_int(req("POST", "/api/v1/devices/communication", hdr, "{\"action\":\"block\"}", 2001, &r), 403,
	       "read-only cannot block");
	is_int(req("GET", "/api/v1/devices/communication", hdr, NULL, 2001, &r), 0,
	       "gate status: left to the transport");
	ok(r.call.kind == CALL_GATE && !strcmp(r.call.req, "status"), "a status call to the gate");
	api_call_done(&api, &r.call, -ECONNREFUSED, NULL, 2001, &r);
	is_int(r.status, 503, "gate down: 503, not a crash");
	is_int(req("GET", "/api/v1/hotpatches", hdr, NULL, 2002, &r), 200, "hotpatches, for a read-only user too");
	ok(!strcmp(r.body.p, "{\"release\":\"21.3R1.3\",\"level\":2,\"name\":\"Space-21.3R1-Hotpatch-v2\","
			     "\"fixes\":[],\"packages\":[],\"in_progress\":null,\"history\":[],\"job\":null}"),
	   "the node's hot-patch state (state.h), the running release's level: %s", r.body.p);
	is_int(req("GET", "/api/v1/jobs/1", hdr, NULL, 2002, &r), 404, "no job yet");
	is_int(req("GET", "/api/v1/jobs/x", hdr, NULL, 2002, &r), 404, "non-numeric job");
	is_int(req("GET", "/api/v1/../system", hdr, NULL, 2002, &r), 404, "no path games");
	is_int(req("POST", "/api/v1/logout", hdr, NULL, 2003, &r), 200, "logout");
	ok(strstr(r.set_cookie, "Max-Age=0") != NULL, "logout clears the cookie");
	is_int(req("GET", "/api/v1/hotpatches", hdr, NULL, 2003, &r), 401, "dead after logout");
	api_resp_free(&r);
	api_free(&api);
}

/* session bound: max_sessions = 3 */
static void test_session_bound(void)
{
	struct api_resp r;

	api_init(&api, fixture_conf(), 1000);
	api_resp_init(&r);
	for (int i = 0; i < 3; i++)
		req("POST", "/api/v1/login", NULL, "{\"username\":\"admin\",\"password\":\"secret\"}", 3000, &r);
	is_int(req("POST", "/api/v1/login", NULL, "{\"username\":\"admin\",\"password\":\"secret\"}", 3000, &r),
	       503, "session table full: refused");
	is_int(req("POST", "/api/v1/login", NULL, "{\"username\":\"admin\",\"password\":\"secret\"}", 3061, &r),
	       200, "idle sessions reclaimed");
	api_resp_free(&r);
	api_free(&api);
}

/* throttle: after 2 failures from an address it waits 5 s */
static void test_throttle(void)
{
	struct api_resp r;

	api_init(&api, fixture_conf(), 1000);
	api_resp_init(&r);
	req("POST", "/api/v1/login", NULL, "{\"username\":\"bob\",\"password\":\"x\"}", 4000, &r);
	req("POST", "/api/v1/login", NULL, "{\"username\":\"bob\",\"password\":\"x\"}", 4001, &r);
	is_int(req("POST", "/api/v1/login", NULL, "{\"username\":\"bob\",\"password\":\"secret\"}", 4002, &r),
	       429, "throttled");
	is_int(r.retry_after, 4, "Retry-After");
	is_int(req("POST", "/api/v1/login", NULL, "{\"username\":\"bob\",\"password\":\"secret\"}", 4006, &r),
	       200, "let in after the delay");
	api_resp_free(&r);
	api_free(&api);
}

/* FN on an API of the test configuration, started at 1000 */
static void with_api(void (*fn)(void))
{
	api_init(&api, fixture_conf(), 1000);
	fn();
	api_free(&api);
}

static void run_made_up_names(void)
{
	with_api(test_made_up_names);
}

static void run_backend_calls(void)
{
	with_api(test_backend_calls);
}

static void run_job_ring(void)
{
	with_api(test_job_ring);
}

static void run_system_apps(void)
{
	with_api(test_system_apps);
}

static void run_clock_steps(void)
{
	with_api(test_clock_steps);
}

static void run_guessing_no_dos(void)
{
	with_api(test_guessing_no_dos);
}

static void run_log_names(void)
{
	with_api(test_log_names);
}

static void run_throttle_full(void)
{
	test_throttle_full(fixture_conf());
}

static void run_session_hog(void)
{
	test_session_hog(fixture_conf());
}

static void run_upgrade(void)
{
	test_upgrade(fixture_conf());
}

/* the hot patch's bundle is uploaded where the upgrade's is */
static void run_hotpatch(void)
{
	struct mgmtd_conf *c = fixture_conf();

	upgrade_conf(c);
	mkdir_p(c->upload_dir, 0750);
	test_hotpatch(c);
}

/* certificate bootstrap */
static void test_tls(void)
{
	struct space_err err = { "" };

	{
		char cert[200], key[200];
		struct stat st;
		SSL_CTX *ctx;
		snprintf(cert, sizeof(cert), "%s/tls/server.crt", dir);
		snprintf(key, sizeof(key), "%s/tls/server.key", dir);
		is_int(tls_ensure_cert(cert, key, &err), 1, "generated: %s", err.msg);
		ok(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600, "key mode 0600");
		is_int(tls_ensure_cert(cert, key, &err), 0, "kept on the next start");
		ctx = tls_server_ctx(cert, key, &err);
		ok(ctx != NULL, "context loads the pair: %s", err.msg);
		ok(ctx && SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION, "TLS 1.2 minimum");
		SSL_CTX_free(ctx);
		unlink(key);
		is_int(tls_ensure_cert(cert, key, &err), -EEXIST, "lone certificate not overwritten");
	}
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/mgmtd/http_leading_blank_lines", test_http_leading_blank_lines },
		{ "/mgmtd/throttle_forget", test_throttle_forget },
		{ "/mgmtd/conf", test_conf },
		{ "/mgmtd/auth", test_auth },
		{ "/mgmtd/api", test_api },
		{ "/mgmtd/session_bound", test_session_bound },
		{ "/mgmtd/throttle", test_throttle },
		{ "/mgmtd/made_up_names", run_made_up_names },
		{ "/mgmtd/backend_calls", run_backend_calls },
		{ "/mgmtd/job_ring", run_job_ring },
		{ "/mgmtd/system_apps", run_system_apps },
		{ "/mgmtd/clock_steps", run_clock_steps },
		{ "/mgmtd/guessing_no_dos", run_guessing_no_dos },
		{ "/mgmtd/throttle_full", run_throttle_full },
		{ "/mgmtd/session_hog", run_session_hog },
		{ "/mgmtd/upgrade", run_upgrade },
		{ "/mgmtd/hotpatch", run_hotpatch },
		{ "/mgmtd/log_names", run_log_names },
		{ "/mgmtd/tls", test_tls },
		{ NULL, NULL },
	};
	const char *rm[] = { "rm", "-rf", dir, NULL };
	int r;

	strcpy(dir, "/tmp/test_mgmtd.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	r = tap_run(argc, argv, tests);
	if (test_c_loaded)
		mgmtd_conf_free(&test_c);
	run_argv(rm);
	return r;
}
