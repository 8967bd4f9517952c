/* SPDX-License-Identifier: MIT */
/* throttle.h - failed logins slow down the address they come from.
 *
 * Why per source and not per account (issue 12 #1, #2): a lock on the
 * account lets anyone keep the real admin out with one wrong password every
 * few minutes, and a table keyed by the names an attacker types can be
 * filled with made-up names until failures are no longer counted. Keyed by
 * the source address (IPv6 by its /64, which one host usually owns), the
 * names typed do not matter, an attacker's guesses get exponentially slower,
 * and the admin logs in at once from any other address.
 *
 * A source's first free_fails - 1 failures cost nothing; failure number
 * k >= free_fails (the free_fails-th already) then refuses every login
 * from it for base * 2^(k - free_fails) seconds,
 * at most max_delay, without checking the password. A source starts
 * afresh forget seconds after both its last failure and the end of its
 * delay. A success clears nothing: logging in to one's own account between
 * guesses must not buy more guesses at another.
 *
 * The table is bounded (max entries). A source that finds it full of
 * entries still in use is counted in one of THROTTLE_OVERFLOW overflow
 * entries, chosen by a keyed hash of its neighbourhood (IPv4 /24, IPv6
 * /48: what one attacker most easily holds whole), so failures are never
 * dropped and an attack from more than max addresses slows down its own
 * neighbourhood and the few that share its bucket, not every new address
 * (one shared entry let 4096 addresses keep the admin out from anywhere).
 * The key is random per process, so which neighbourhoods share a bucket
 * cannot be worked out beforehand.
 */
#ifndef MGMTD_THROTTLE_H
#define MGMTD_THROTTLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define THROTTLE_SRC_MAX 56  /* INET6_ADDRSTRLEN + "/64" */
#define THROTTLE_OVERFLOW 64 /* overflow buckets: 64 * ~80 bytes */

struct throttle_entry {
	char src[THROTTLE_SRC_MAX];
	unsigned fails;
	time_t last_fail, until;
};

struct throttle {
	struct throttle_entry *v;
	size_t max, count;
	struct throttle_entry overflow[THROTTLE_OVERFLOW];
	uint64_t key; /* of the overflow hash; random */
	unsigned free_fails;
	long base, max_delay, forget; /* seconds */
};

/* 0, -ENOMEM, or why no random key (getrandom). */
int throttle_init(struct throttle *t, size_t max, unsigned free_fails, long base, long max_delay,
		  long forget);
void throttle_free(struct throttle *t);

/* The key of a peer address: itself, or its /64 for IPv6 (not for an
 * IPv4-mapped one). out has THROTTLE_SRC_MAX bytes. */
void throttle_source(const char *peer, char *out);

/* Seconds logins from src must still wait (> 0), or 0. */
long throttle_check(struct throttle *t, const char *src, time_t now);

/* Count a failed login from src; returns the delay it now imposes (0:
 * none yet). */
long throttle_fail(struct throttle *t, const char *src, time_t now);

#endif
