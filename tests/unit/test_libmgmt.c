/* SPDX-License-Identifier: MIT */
/* test_libmgmt.c - unit tests for pkg/libmgmt, one named test per module:
 * the HTTP parser, the session table, the release and hot-patch inventory
 * with housekeeping, ctl_call()'s outcomes. (The JSON and KEY=VALUE code
 * is pkg/lib's: test_json.c, test_kv.c.) */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/hk.h"
#include "pkg/libmgmt/http.h"
#include "mutate.h"
#include "pkg/libmgmt/release.h"
#include "pkg/libmgmt/session.h"
#include "tap.h"
#include "util.h"

static const struct http_limits lim = { 1024, 4096 };

static int parse(const char *s, struct http_req *req)
{
	return http_parse(s, strlen(s), &lim, req);
}

static void test_http(void)
{
	struct http_req req;
	char tok[64];
	const char *full = "POST /api/v1/login?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n"
			   "Cookie: a=b; session=abc123\r\nAuthorization: Bearer tt\r\n\r\nBODY";
	int r = parse(full, &req);

	is_int(r, (int)(strlen(full) - 4), "complete head: length up to the blank line");
	ok(http_str_eq(req.method, "POST"), "method");
	ok(http_str_eq(req.path, "/api/v1/login"), "path without the query");
	ok(http_str_eq(req.query, "x=1"), "query");
	is_int(req.content_length, 12, "content-length");
	ok(req.keep_alive, "HTTP/1.1 keeps alive by default");
	is_int(http_cookie(&req, "session", tok, sizeof(tok)), 6, "cookie found among others");
	ok(!strcmp(tok, "abc123"), "cookie value");
	is_int(http_cookie(&req, "nope", tok, sizeof(tok)), -ENOENT, "absent cookie");
	is_int(http_cookie(&req, "session", tok, 4), -ENOSPC, "cookie longer than buffer");
	is_int(http_bearer(&req, tok, sizeof(tok)), 2, "bearer token");
	ok(http_header(&req, "HOST") != NULL, "header lookup is case-insensitive");

	is_int(parse("GET / HTTP/1.1\r\nHost: a\r\n", &req), 0, "incomplete head needs more");
	is_int(parse("GET / HTTP/1.0\n\n", &req), 16, "bare LF line ends tolerated");
	ok(!req.keep_alive, "HTTP/1.0 closes by default");
	parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &req);
	ok(!req.keep_alive, "Connection: close honoured in a token list");

	is_int(parse("GET /\r\n\r\n", &req), -SPACE_E_FORMAT, "missing version: 400");
	is_int(parse("GET x HTTP/1.1\r\n\r\n", &req), -SPACE_E_FORMAT, "target not origin-form");
	is_int(parse("G(T / HTTP/1.1\r\n\r\n", &req), -SPACE_E_FORMAT, "bad method token");
	is_int(parse("GET / HTTP/2.0\r\n\r\n", &req), -EPROTONOSUPPORT, "HTTP/2 request line: 505");
	is_int(parse("GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", &req), -SPACE_E_FORMAT,
	       "obs-fold rejected");
	is_int(parse("GET / HTTP/1.1\r\nX : a\r\n\r\n", &req), -SPACE_E_FORMAT,
	       "space before colon rejected");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", &req),
	       -SPACE_E_FORMAT, "conflicting content-length");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", &req), -SPACE_E_FORMAT,
	       "negative content-length");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", &req), -EMSGSIZE,
	       "body over the limit: 413");
	is_int(parse("GET / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", &req),
	       -EMSGSIZE, "huge content-length does not overflow");
	is_int(parse("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &req), -ENOSYS,
	       "chunked: 501");
	is_int(parse("\x16\x03\x01 junk", &req), -SPACE_E_FORMAT, "TLS hello on plain port: 400 early");
	{
		char big[2048], nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
		memset(big, 'a', sizeof(big));
		memcpy(big, "GET /", 5);
		is_int(http_parse(big, sizeof(big), &lim, &req), -E2BIG,
		       "head over max_head without a terminator: 431");
		is_int(http_parse(nul, sizeof(nul) - 1, &lim, &req), -SPACE_E_FORMAT,
		       "NUL byte in head rejected");
	}
	{
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "GET / HTTP/1.1\r\n");
		for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
			buf_printf(&b, "X%d: y\r\n", i);
		buf_puts(&b, "\r\n");
		struct http_limits big = { 1 << 16, 10 };
		is_int(http_parse(b.p, b.len, &big, &req), -E2BIG, "too many header fields");
		buf_free(&b);
	}
}

static void test_session(void)
{
	struct sess_table t;
	const struct session *s;
	char a[SESS_TOKEN_LEN + 1], b2[SESS_TOKEN_LEN + 1], c[SESS_TOKEN_LEN + 1];

	sess_init(&t, 2, 10, 100);
	is_int(sess_create(&t, "admin", ROLE_ADMIN, 1000, a), 0, "create session");
	is_int(strlen(a), 32, "token is 128 bits in hex");
	is_int(sess_create(&t, "admin", ROLE_ADMIN, 1000, b2), 0, "a second login is its own session");
	ok(strcmp(a, b2), "distinct tokens");
	is_int(sess_create(&t, "ro", ROLE_READONLY, 1001, c), -EBUSY, "bounded: full table refuses");
	s = sess_lookup(&t, a, 1005);
	ok(s && s->role == ROLE_ADMIN && !strcmp(s->user, "admin"), "lookup finds user and role");
	ok(sess_lookup(&t, "0123", 1005) == NULL, "short token never matches");
	ok(sess_lookup(&t, a, 1014) != NULL, "idle timer refreshed by a request");
	ok(sess_lookup(&t, b2, 1014) == NULL, "idle session expired after 10s");
	is_int(sess_create(&t, "ro", ROLE_READONLY, 1014, c), 0, "expired slot reused");
	is_int(sess_remove(&t, a), 0, "logout removes");
	ok(sess_lookup(&t, a, 1015) == NULL, "logged-out token is dead at once");
	is_int(sess_remove(&t, a), -ENOENT, "double logout");
	for (time_t now = 1020; now < 1130; now += 5)
		sess_lookup(&t, c, now);
	ok(sess_lookup(&t, c, 1130) == NULL, "absolute lifetime ends an active session");
	is_int(t.count, 0, "count back to zero");
	sess_free(&t);
}

static void put(const char *path, const char *data, time_t mtime)
{
	struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };

	write_file_atomic(path, data, strlen(data), 0644);
	if (mtime)
		utimes(path, tv);
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static void test_release_hk(void)
{
	char tmpl[] = "/tmp/test_libmgmt.XXXXXX", *dir = mkdtemp(tmpl), p[1024];
	struct release rel;
	struct hotpatch *hp;
	int n;
	const char *rm[] = { "rm", "-rf", dir, NULL };

	snprintf(p, sizeof(p), "%s/space-release", dir);
	put(p, "PRODUCT=space\nVERSION=21.3R1.3\nBUILD_ID=42\n", 0);
	is_int(release_read(p, &rel), 0, "release file");
	ok(!strcmp(rel.version, "21.3R1.3") && !strcmp(rel.build_id, "42"), "release fields");
	snprintf(p, sizeof(p), "%s/.Space-21.3R1-Hotpatch-v10", dir);
	put(p, "mgmtd\nwatchdog\n", 0);
	snprintf(p, sizeof(p), "%s/.Space-21.3R1-Hotpatch-v2", dir);
	put(p, "# comment\nmgmtd\n", 0);
	snprintf(p, sizeof(p), "%s/.Space-21.3R1-Hotpatch-vx", dir);
	put(p, "x\n", 0);
	n = hotpatch_list(dir, &hp);
	is_int(n, 2, "two valid markers, the malformed name ignored");
	ok(n == 2 && hp[0].number == 2 && hp[1].number == 10 && !strcmp(hp[1].release, "21.3R1"),
	   "sorted numerically");
	ok(n == 2 && hp[1].packages[1] && !strcmp(hp[1].packages[1], "watchdog") &&
		   !hp[0].packages[1],
	   "package lists");
	hotpatch_free(hp, n);
	run_argv(rm);
}

/* Housekeeping's rotation: only the log over the size, generations shift. */
static void hk_rotate_tree(struct hk_policy *pol)
{
	char p[1024], big[5000];
	struct hk_report rep = { 0 };

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	snprintf(p, sizeof(p), "%s/sub/a.log", pol->log_dir);
	put(p, big, 0);
	snprintf(p, sizeof(p), "%s/sub/a.log.1", pol->log_dir);
	put(p, "gen1", 0);
	snprintf(p, sizeof(p), "%s/sub/a.log.2", pol->log_dir);
	put(p, "gen2", 0);
	snprintf(p, sizeof(p), "%s/small.log", pol->log_dir);
	put(p, "small", 0);
	is_int(hk_rotate(pol, &rep), 0, "rotate");
	is_int(rep.rotated, 1, "only the log over the size rotated");
	snprintf(p, sizeof(p), "%s/sub/a.log.2", pol->log_dir);
	{
		char *t = NULL;
		size_t l;
		read_file(p, 100, &t, &l);
		ok(t && !strcmp(t, "gen1"), "generations shift, oldest beyond keep dropped");
		free(t);
	}
	snprintf(p, sizeof(p), "%s/sub/a.log", pol->log_dir);
	ok(!exists(p), "active log renamed away (the daemon reopens it)");
}

/* Housekeeping's purge by age: rotated logs and stale tmp files, never a
 * live log or what a symlink in tmp points to. */
static void hk_purge_tree(struct hk_policy *pol, const char *dir, time_t now)
{
	char p[1024];
	struct hk_report rep = { 0 };

	snprintf(p, sizeof(p), "%s/old.log.3", pol->log_dir);
	put(p, "old", now - 7200);
	snprintf(p, sizeof(p), "%s/old.log", pol->log_dir);
	put(p, "live but old", now - 7200);
	snprintf(p, sizeof(p), "%s/stale", pol->tmp_dir);
	put(p, "stale", now - 7200);
	snprintf(p, sizeof(p), "%s/fresh", pol->tmp_dir);
	put(p, "fresh", 0);
	{
		char l1[200], l2[200];
		snprintf(l1, sizeof(l1), "%s/victim", dir);
		put(l1, "must survive", now - 7200);
		snprintf(l2, sizeof(l2), "%s/link", pol->tmp_dir);
		symlink(dir, l2);
	}
	is_int(hk_purge(pol, now, &rep), 0, "purge");
	is_int(rep.purged_logs, 1, "old rotated log purged");
	is_int(rep.purged_tmp, 1, "stale tmp file purged");
	snprintf(p, sizeof(p), "%s/old.log", pol->log_dir);
	ok(exists(p), "a live log is never purged by age");
	snprintf(p, sizeof(p), "%s/fresh", pol->tmp_dir);
	ok(exists(p), "fresh tmp file kept");
	snprintf(p, sizeof(p), "%s/victim", dir);
	ok(exists(p), "symlink in tmp not followed");
	snprintf(p, sizeof(p), "%s/link", pol->tmp_dir);
	ok(exists(p), "fresh symlink itself kept");
}

/* Housekeeping's guard: a 20 kB budget on a log dir holding ~40 kB. */
static void hk_guard_tree(struct hk_policy *pol, time_t now)
{
	char p[1024];
	struct hk_report rep = { 0 };

	for (int i = 1; i <= 4; i++) {
		snprintf(p, sizeof(p), "%s/fill.log.%d", pol->log_dir, i);
		char *blob = malloc(10001);
		memset(blob, 'y', 10000);
		blob[10000] = 0;
		put(p, blob, now - 100 * i);
		free(blob);
	}
	pol->log_max = 20000;
	memset(&rep, 0, sizeof(rep));
	is_int(hk_guard(pol, now, &rep), 0, "guard");
	ok(rep.guard_deleted >= 2, "guard deleted the oldest rotated logs (%d)", rep.guard_deleted);
	ok(rep.guard_logs == rep.guard_deleted && !rep.purged_logs && !rep.guard_tmp && !rep.guard_truncated,
	   "counted as logs deleted for size, not by age (issue 12 #20)");
	snprintf(p, sizeof(p), "%s/fill.log.4", pol->log_dir);
	ok(!exists(p), "oldest went first");
	snprintf(p, sizeof(p), "%s/fill.log.1", pol->log_dir);
	ok(exists(p), "newest kept once under budget");
	is_int(rep.warnings, 0, "no warning left once under budget");
	pol->log_max = 1;
	memset(&rep, 0, sizeof(rep));
	hk_guard(pol, now, &rep);
	snprintf(p, sizeof(p), "%s/old.log", pol->log_dir);
	{
		struct stat st;
		ok(lstat(p, &st) == 0 && st.st_size == 0, "live log truncated as a last resort");
		ok(rep.guard_truncated >= 1 && rep.guard_deleted == rep.guard_logs + rep.guard_truncated,
		   "truncations counted apart (%d)", rep.guard_truncated);
	}
	pol->tmp_max = 1;
	memset(&rep, 0, sizeof(rep));
	hk_guard(pol, now, &rep);
	is_int(rep.warnings, 1, "warns when files in use keep tmp over its budget");
	is_int(rep.guard_tmp, rep.guard_deleted, "tmp files deleted for size counted as such");
	snprintf(p, sizeof(p), "%s/fresh", pol->tmp_dir);
	ok(exists(p), "a file written in the last minute is not deleted by the guard");
}

/* Housekeeping on a filled temp tree, in order: rotate, purge, guard. */
static void test_release_hk_housekeeping(void)
{
	char tmpl[] = "/tmp/test_libmgmt.XXXXXX", *dir = mkdtemp(tmpl), p[1024];
	char logd[100], tmpd[100];
	struct hk_policy pol;
	time_t now = time(NULL);
	const char *rm[] = { "rm", "-rf", dir, NULL };

	snprintf(logd, sizeof(logd), "%s/log", dir);
	snprintf(tmpd, sizeof(tmpd), "%s/tmp", dir);
	mkdir(logd, 0755);
	mkdir(tmpd, 0755);
	snprintf(p, sizeof(p), "%s/sub", logd);
	mkdir(p, 0755);
	hk_policy_default(&pol);
	pol.log_dir = logd;
	pol.tmp_dir = tmpd;
	pol.rotate_size = 1000;
	pol.rotate_keep = 2;
	pol.purge_age = 3600;
	pol.tmp_age = 3600;
	pol.high_pct = 100;
	hk_rotate_tree(&pol);
	hk_purge_tree(&pol, dir, now);
	hk_guard_tree(&pol, now);
	run_argv(rm);
}

/* The packaged housekeeping.conf. */
static void test_release_hk_policy_file(void)
{
	struct hk_policy d;
	struct hk_store st = { 0 };
	int line = 0;

	hk_policy_default(&d);
	is_int(hk_policy_load("pkg/watchdog/files/etc/housekeeping.conf", &d, &st, &line), 0,
	       "packaged housekeeping.conf loads (line %d)", line);
	is_int(d.purge_age, 30L * 86400, "30 days");
	hk_policy_free(&st);
}

/* mutated requests: only documented results (mutate.h) */
static void test_http_mutations(void)
{
	static const char seed_http[] = "POST /api/v1/login HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n"
					"Cookie: session=0123456789abcdef0123456789abcdef\r\n\r\n";
	unsigned int rnd = 12345;
	int bad_http = 0, n = 10000;

	for (int i = 0; i < n; i++) {
		char buf[256], tok[40];
		size_t len = mutate(buf, seed_http, &rnd);
		struct http_req req;
		int r = http_parse(buf, len, &lim, &req);

		if (r > (int)len || (r < 0 && r != -SPACE_E_FORMAT && r != -E2BIG && r != -EMSGSIZE &&
				     r != -ENOSYS && r != -EPROTONOSUPPORT))
			bad_http++;
		if (r > 0)
			http_cookie(&req, "session", tok, sizeof(tok));
	}
	is_int(bad_http, 0, "%d mutated requests: only documented results", n);
}

/* A one-shot daemon on lfd in a child: reads the request line, answers
 * ans (NULL: closes unanswered, as a daemon that dies mid-request). */
static pid_t one_shot(int lfd, const char *ans)
{
	pid_t pid = fork();

	if (pid == 0) {
		char line[64];
		int fd, tries = 0;
		while ((fd = ctl_accept(lfd, 2000)) == -EAGAIN && tries++ < 5000)
			usleep(1000);
		if (fd >= 0 && ctl_read_line(fd, line, sizeof(line)) >= 0 && ans)
			ctl_write_all(fd, ans, strlen(ans));
		_exit(0);
	}
	return pid;
}

/* sent tells "nothing changed" from "outcome unknown" (spacectl devices
 * block/unblock, issue 12 #4 same class) */
static void test_ctl_call(void)
{
	char dir[] = "/tmp/test-ctl.XXXXXX", path[64], *rep = NULL;
	bool sent = true;
	pid_t pid;
	int lfd, r;

	if (!mkdtemp(dir))
		return;
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	r = ctl_call(path, "block", 1000, &rep, &sent);
	ok(r == -ENOENT && !sent && !rep, "no daemon: -ENOENT, not sent (%d)", r);
	lfd = ctl_listen(path);
	ok(lfd >= 0, "listen");
	pid = one_shot(lfd, "ok\nstate=blocked\n");
	r = ctl_call(path, "block", 5000, &rep, &sent);
	waitpid(pid, NULL, 0);
	ok(r == 0 && sent && rep && !strcmp(rep, "ok\nstate=blocked\n"), "answered: 0, sent, the reply (%d)", r);
	free(rep);
	pid = one_shot(lfd, "error refused\n");
	r = ctl_call(path, "block", 5000, &rep, &sent);
	waitpid(pid, NULL, 0);
	ok(r == -SPACE_E_CHILD && sent && rep && !strncmp(rep, "error", 5), "refused: -SPACE_E_CHILD, reply kept (%d)", r);
	free(rep);
	pid = one_shot(lfd, NULL);
	r = ctl_call(path, "block", 5000, &rep, &sent);
	waitpid(pid, NULL, 0);
	ok(r < 0 && r != -SPACE_E_CHILD && sent && !rep, "closed unanswered: an error with sent (unknown) (%d)", r);
	/* nobody accepts: the request waits in the backlog until the bound */
	r = ctl_call(path, "block", 200, &rep, &sent);
	ok(r == -ETIMEDOUT && sent && !rep, "no answer within the bound: -ETIMEDOUT, sent (%d)", r);
	close(lfd);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/libmgmt/http", test_http },
		{ "/libmgmt/http_mutations", test_http_mutations },
		{ "/libmgmt/session", test_session },
		{ "/libmgmt/release_hk", test_release_hk },
		{ "/libmgmt/release_hk/housekeeping", test_release_hk_housekeeping },
		{ "/libmgmt/release_hk/policy_file", test_release_hk_policy_file },
		{ "/libmgmt/ctl_call", test_ctl_call },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
