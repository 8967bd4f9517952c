/* SPDX-License-Identifier: MIT */
/* throttle.c - per-source exponential delay after failed logins. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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
	if (getrandom(&t->key, sizeof(t->key), 0) != (ssize_t)sizeof(t->key)) {
		int e = errno ? -errno : -EIO;
		throttle_free(t);
		return e;
	}
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

/* The neighbourhood of a source key (throttle_source()): its IPv4 /24 or
 * IPv6 /48 prefix; a key that is no address, whole. Returns its length. */
static size_t neighbourhood(const char *src, unsigned char *out)
{
	static const unsigned char v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	char a[THROTTLE_SRC_MAX];
	unsigned char b[16];

	snprintf(a, sizeof(a), "%.*s", (int)strcspn(src, "/"), src);
	if (inet_pton(AF_INET, a, b) == 1) {
		memcpy(out, b, 3);
		return 3;
	}
	if (inet_pton(AF_INET6, a, b) == 1) {
		if (!memcmp(b, v4mapped, sizeof(v4mapped))) {
			memcpy(out, b + 12, 3);
			return 3;
		}
		memcpy(out, b, 6);
		return 6;
	}
	memcpy(out, src, strnlen(src, THROTTLE_SRC_MAX));
	return strnlen(src, THROTTLE_SRC_MAX);
}

/* splitmix64's finalizer: every input bit moves about half the output */
static uint64_t mix(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The overflow entry of src: a keyed hash of its neighbourhood. */
static struct throttle_entry *overflow_of(struct throttle *t, const char *src)
{
	unsigned char p[THROTTLE_SRC_MAX];
	size_t n = neighbourhood(src, p);
	uint64_t h = mix(t->key ^ n);

	for (size_t i = 0; i < n; i++)
		h = mix(h ^ p[i]);
	return &t->overflow[h % THROTTLE_OVERFLOW];
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
	/* a new source would land in its overflow entry */
	return table_full(t, now) ? wait_of(overflow_of(t, src), now) : 0;
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
		e = overflow_of(t, src);
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
