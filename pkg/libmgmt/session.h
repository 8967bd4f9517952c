/* SPDX-License-Identifier: MIT */
/* session.h - login sessions for mgmtd (failed logins: pkg/mgmtd/throttle.h).
 *
 * A session is named by a random 128-bit token (32 lowercase hex chars,
 * OpenSSL RAND_bytes). Every lookup enforces both the idle timeout (since
 * the last request) and the absolute lifetime (since login); an expired
 * session is removed at the lookup that finds it expired. The table is
 * bounded: when full, expired sessions are reclaimed and otherwise new
 * logins are refused (-EBUSY) rather than silently ending someone else's
 * session. Tables own their arrays; *_free() releases them.
 */
#ifndef MGMT_SESSION_H
#define MGMT_SESSION_H

#include <stddef.h>
#include <time.h>

#define SESS_TOKEN_LEN 32
#define SESS_USER_MAX 64

enum role { ROLE_NONE = 0,
	    ROLE_READONLY = 1,
	    ROLE_ADMIN = 2 };

struct session {
	char token[SESS_TOKEN_LEN + 1];
	char user[SESS_USER_MAX];
	enum role role;
	time_t created, last;
	int used;
};

struct sess_table {
	struct session *v;
	size_t max, count;
	long idle, lifetime; /* seconds */
};

int sess_init(struct sess_table *t, size_t max, long idle, long lifetime);
void sess_free(struct sess_table *t);
/* New session for user; the token is copied to token_out. Returns 0,
 * -EBUSY when the table is full, -ENAMETOOLONG, or -EIO (no randomness). */
int sess_create(struct sess_table *t, const char *user, enum role role, time_t now,
		char token_out[SESS_TOKEN_LEN + 1]);
/* The live session for token (touching its idle timer), or NULL. The
 * pointer is valid until the next call that modifies the table. */
const struct session *sess_lookup(struct sess_table *t, const char *token, time_t now);
/* End a session; returns 0 or -ENOENT. */
int sess_remove(struct sess_table *t, const char *token);
/* Live sessions of user (all sessions when user is NULL). */
size_t sess_count(const struct sess_table *t, const char *user, time_t now);
/* Drop every expired session; returns how many. */
size_t sess_expire(struct sess_table *t, time_t now);

#endif
