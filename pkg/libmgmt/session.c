/* SPDX-License-Identifier: MIT */
/* session.c - session table. */
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

size_t sess_count(const struct sess_table *t, const char *user, time_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < t->max; i++)
		if (t->v[i].used && !expired(t, &t->v[i], now) && (!user || !strcmp(t->v[i].user, user)))
			n++;
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
