/* SPDX-License-Identifier: MIT */
/* session.c - session table and lockout table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "session.h"
#include "util.h"

int sess_init(struct sess_table *t, size_t max, long idle, long lifetime)
{
	memset(t, 0, sizeof(*t));
	t->v = calloc(max ? max : 1, sizeof(*t->v));
	if (!t->v)
		return -ENOMEM;
	t->max = max ? max : 1;
	t->idle = idle;
	t->lifetime = lifetime;
	return 0;
}

void sess_free(struct sess_table *t)
{
	if (t->v)
		OPENSSL_cleanse(t->v, t->max * sizeof(*t->v));
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static int expired(const struct sess_table *t, const struct session *s, time_t now)
{
	return now - s->last >= t->idle || now - s->created >= t->lifetime || now < s->created;
}

static void drop(struct sess_table *t, struct session *s)
{
	OPENSSL_cleanse(s, sizeof(*s));
	t->count--;
}

size_t sess_expire(struct sess_table *t, time_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < t->max; i++)
		if (t->v[i].used && expired(t, &t->v[i], now)) {
			drop(t, &t->v[i]);
			n++;
		}
	return n;
}

int sess_create(struct sess_table *t, const char *user, enum role role, time_t now,
		char token_out[SESS_TOKEN_LEN + 1])
{
	unsigned char raw[SESS_TOKEN_LEN / 2];
	struct session *s = NULL;

	if (strlen(user) >= SESS_USER_MAX)
		return -ENAMETOOLONG;
	if (t->count >= t->max)
		sess_expire(t, now);
	for (size_t i = 0; i < t->max && !s; i++)
		if (!t->v[i].used)
			s = &t->v[i];
	if (!s)
		return -EBUSY;
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	hex_encode(raw, sizeof(raw), s->token);
	OPENSSL_cleanse(raw, sizeof(raw));
	strcpy(s->user, user);
	s->role = role;
	s->created = s->last = now;
	s->used = 1;
	t->count++;
	memcpy(token_out, s->token, SESS_TOKEN_LEN + 1);
	return 0;
}

static struct session *find(struct sess_table *t, const char *token)
{
	if (strlen(token) != SESS_TOKEN_LEN)
		return NULL;
	/* Constant-time compare: the token is the only credential after login. */
	for (size_t i = 0; i < t->max; i++)
		if (t->v[i].used && !CRYPTO_memcmp(t->v[i].token, token, SESS_TOKEN_LEN))
			return &t->v[i];
	return NULL;
}

const struct session *sess_lookup(struct sess_table *t, const char *token, time_t now)
{
	struct session *s = find(t, token);

	if (!s)
		return NULL;
	if (expired(t, s, now)) {
		drop(t, s);
		return NULL;
	}
	s->last = now;
	return s;
}

int sess_remove(struct sess_table *t, const char *token)
{
	struct session *s = find(t, token);

	if (!s)
		return -ENOENT;
	drop(t, s);
	return 0;
}

int lockout_init(struct lockout *l, size_t max, int max_fails, long window, long lock_secs)
{
	memset(l, 0, sizeof(*l));
	l->v = calloc(max ? max : 1, sizeof(*l->v));
	if (!l->v)
		return -ENOMEM;
	l->max = max ? max : 1;
	l->max_fails = max_fails;
	l->window = window;
	l->lock_secs = lock_secs;
	return 0;
}

void lockout_free(struct lockout *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct lock_entry *lk_find(struct lockout *l, const char *user)
{
	for (size_t i = 0; i < l->count; i++)
		if (!strcmp(l->v[i].user, user))
			return &l->v[i];
	return NULL;
}

long lockout_check(struct lockout *l, const char *user, time_t now)
{
	struct lock_entry *e = lk_find(l, user);

	if (!e || e->locked_until <= now)
		return 0;
	return (long)(e->locked_until - now);
}

int lockout_fail(struct lockout *l, const char *user, time_t now)
{
	struct lock_entry *e = lk_find(l, user);

	if (!e) {
		if (l->count < l->max) {
			e = &l->v[l->count++];
		} else {
			/* Full: reuse the least recently touched entry that is not locked. */
			for (size_t i = 0; i < l->count; i++)
				if (l->v[i].locked_until <= now && (!e || l->v[i].touched < e->touched))
					e = &l->v[i];
			if (!e)
				return 0;
		}
		memset(e, 0, sizeof(*e));
		snprintf(e->user, sizeof(e->user), "%s", user);
	}
	e->touched = now;
	if (e->locked_until && e->locked_until <= now) {
		e->fails = 0;
		e->locked_until = 0;
	}
	if (!e->fails || now - e->first_fail > l->window) {
		e->fails = 0;
		e->first_fail = now;
	}
	e->fails++;
	if (e->fails >= l->max_fails && e->locked_until <= now) {
		e->locked_until = now + l->lock_secs;
		return 1;
	}
	return 0;
}

void lockout_success(struct lockout *l, const char *user)
{
	struct lock_entry *e = lk_find(l, user);

	if (e)
		*e = l->v[--l->count];
}
