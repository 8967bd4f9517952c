/* SPDX-License-Identifier: MIT */
/* throttle.c - per-source exponential delay after failed logins. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

int throttle_init(struct throttle *t, size_t max, unsigned free_fails, long base, long max_delay,
		  long forget)
{
	memset(t, 0, sizeof(*t));
	t->v = calloc(max ? max : 1, sizeof(*t->v));
	if (!t->v)
		return -ENOMEM;
	t->max = max ? max : 1;
	t->free_fails = free_fails ? free_fails : 1;
	t->base = base > 0 ? base : 1;
	t->max_delay = max_delay > 0 ? max_delay : 1;
	t->forget = forget;
	strcpy(t->overflow.src, "*");
	return 0;
}

void throttle_free(struct throttle *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void throttle_source(const char *peer, char *out)
{
	unsigned char a[16];
	char s[INET6_ADDRSTRLEN];

	if (strchr(peer, ':') && strncmp(peer, "::ffff:", 7) && inet_pton(AF_INET6, peer, a) == 1) {
		memset(a + 8, 0, 8);
		inet_ntop(AF_INET6, a, s, sizeof(s));
		snprintf(out, THROTTLE_SRC_MAX, "%s/64", s);
		return;
	}
	snprintf(out, THROTTLE_SRC_MAX, "%s", peer);
}

/* Nothing left to remember: no delay running, and forget seconds since
 * the later of the last failure and the end of its delay. Counted from the
 * failure alone, a delay as long as forget (the defaults: 900 s each) would
 * be forgotten one second after it ended, and the count with it. */
static int stale(const struct throttle *t, const struct throttle_entry *e, time_t now)
{
	time_t since = e->until > e->last_fail ? e->until : e->last_fail;

	return e->until <= now && now - since > t->forget;
}

static struct throttle_entry *find(struct throttle *t, const char *src)
{
	for (size_t i = 0; i < t->count; i++)
		if (!strcmp(t->v[i].src, src))
			return &t->v[i];
	return NULL;
}

/* A slot for a new source: a free one, else the stalest reclaimable one,
 * else NULL (full of sources still being counted). */
static struct throttle_entry *slot(struct throttle *t, time_t now)
{
	struct throttle_entry *e = NULL;

	if (t->count < t->max)
		return &t->v[t->count++];
	for (size_t i = 0; i < t->count; i++)
		if (stale(t, &t->v[i], now) && (!e || t->v[i].last_fail < e->last_fail))
			e = &t->v[i];
	return e;
}

static int table_full(struct throttle *t, time_t now)
{
	if (t->count < t->max)
		return 0;
	for (size_t i = 0; i < t->count; i++)
		if (stale(t, &t->v[i], now))
			return 0;
	return 1;
}

static long wait_of(const struct throttle_entry *e, time_t now)
{
	return e->until > now ? (long)(e->until - now) : 0;
}

long throttle_check(struct throttle *t, const char *src, time_t now)
{
	struct throttle_entry *e = find(t, src);

	if (e)
		return wait_of(e, now);
	/* a new source would land in the overflow entry */
	return table_full(t, now) ? wait_of(&t->overflow, now) : 0;
}

long throttle_fail(struct throttle *t, const char *src, time_t now)
{
	struct throttle_entry *e = find(t, src);
	unsigned k;
	long d;

	if (!e && (e = slot(t, now))) {
		memset(e, 0, sizeof(*e));
		snprintf(e->src, sizeof(e->src), "%s", src);
	}
	if (!e)
		e = &t->overflow;
	if (stale(t, e, now))
		e->fails = 0;
	e->fails++;
	e->last_fail = now;
	if (e->fails < t->free_fails)
		return 0;
	k = e->fails - t->free_fails;
	/* base << k without overflow: stop doubling once past the cap */
	for (d = t->base; k && d < t->max_delay; k--)
		d *= 2;
	if (d > t->max_delay)
		d = t->max_delay;
	e->until = now + d;
	return d;
}
