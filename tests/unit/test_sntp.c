/* SPDX-License-Identifier: MIT */
/* test_sntp.c - tests for pkg/libmgmt/sntp.c: the check of a time server's
 * answer (sntp_parse) - the offset of a valid reply, and each refusal. */
#include <math.h>
#include <string.h>

#include "pkg/libmgmt/sntp.h"
#include "tap.h"
#include "util.h"

#define SEC ((uint64_t)1 << 32)
#define T1 ((uint64_t)3913056000u * SEC) /* 2024-01-01 in NTP format */

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

/* A server reply to a request sent at T1: LI 0, VN 4, mode 4, stratum 2,
 * received at t2 = T1 + 1.5 s, sent at t3 = t2 + 0.25 s (server time). */
static void reply(unsigned char p[SNTP_PACKET])
{
	memset(p, 0, SNTP_PACKET);
	p[0] = 0 << 6 | 4 << 3 | 4;
	p[1] = 2;
	memcpy(p + 12, "GPS", 3);
	put64(p + 16, T1);
	put64(p + 24, T1);
	put64(p + 32, T1 + 3 * SEC / 2);
	put64(p + 40, T1 + 7 * SEC / 4);
}

/* sntp_parse of p with t4 = T1 + 0.5 s; why into why */
static int parse(const unsigned char *p, size_t n, double *off, char *why, size_t whylen)
{
	struct space_err err = { "" };
	int r = sntp_parse(p, n, T1, T1 + SEC / 2, off, &err);

	snprintf(why, whylen, "%s", err.msg);
	return r;
}

static void refused(const unsigned char *p, size_t n, const char *reason, const char *name)
{
	char why[128];
	double off = 42;
	int r = parse(p, n, &off, why, sizeof(why));

	ok(r == -SPACE_E_FORMAT && strstr(why, reason) && off == 42, "%s refused (%s)", name, why);
}

/* answers a client takes, and the offset it computes from them */
static void test_accepted(void)
{
	unsigned char p[SNTP_PACKET + 8];
	char why[128];
	double off = 0;

	/* offset = ((t2 - t1) + (t3 - t4)) / 2 = (1.5 + 1.25) / 2 */
	reply(p);
	is_int(parse(p, SNTP_PACKET, &off, why, sizeof(why)), 0, "valid reply accepted");
	ok(off == 1.375, "offset computed (got %f, want 1.375)", off);
	/* the server behind: t2 = T1 - 10 s, t3 = t2 */
	put64(p + 32, T1 - 10 * SEC);
	put64(p + 40, T1 - 10 * SEC);
	ok(parse(p, SNTP_PACKET, &off, why, sizeof(why)) == 0 && off == -10.25,
	   "negative offset (got %f, want -10.25)", off);
	reply(p);
	p[0] = 0 << 6 | 3 << 3 | 4;
	ok(parse(p, SNTP_PACKET + 8, &off, why, sizeof(why)) == 0 && off == 1.375,
	   "version 3 with trailing bytes (an extension) accepted");
	reply(p);
	p[0] = 1 << 6 | 4 << 3 | 4;
	is_int(parse(p, SNTP_PACKET, &off, why, sizeof(why)), 0, "leap second warning (LI 1) accepted");
	reply(p);
	p[1] = 15;
	is_int(parse(p, SNTP_PACKET, &off, why, sizeof(why)), 0, "stratum 15 accepted");
}

static void test_refused(void)
{
	unsigned char p[SNTP_PACKET + 8];

	reply(p);
	refused(p, SNTP_PACKET - 1, "47 bytes", "short packet");
	refused(p, 0, "0 bytes", "empty packet");
	p[0] = 4 << 3 | 3;
	refused(p, SNTP_PACKET, "mode 3", "a client request (mode 3)");
	p[0] = 4 << 3 | 5;
	refused(p, SNTP_PACKET, "mode 5", "a broadcast (mode 5)");
	p[0] = 2 << 3 | 4;
	refused(p, SNTP_PACKET, "version 2", "version 2");
	p[0] = 5 << 3 | 4;
	refused(p, SNTP_PACKET, "version 5", "version 5");
	reply(p);
	p[1] = 0;
	memcpy(p + 12, "RATE", 4);
	refused(p, SNTP_PACKET, "stratum 0", "kiss-o'-death (stratum 0)");
	p[1] = 16;
	refused(p, SNTP_PACKET, "stratum 16", "stratum 16 (unsynchronised)");
	reply(p);
	p[0] = 3 << 6 | 4 << 3 | 4;
	refused(p, SNTP_PACKET, "alarm", "leap indicator 3 (alarm)");
	reply(p);
	put64(p + 24, T1 + 1);
	refused(p, SNTP_PACKET, "originate", "originate timestamp not ours");
	put64(p + 24, 0);
	refused(p, SNTP_PACKET, "originate", "originate timestamp zero");
	reply(p);
	put64(p + 32, 0);
	refused(p, SNTP_PACKET, "no time", "receive timestamp zero");
	reply(p);
	put64(p + 40, 0);
	refused(p, SNTP_PACKET, "no time", "transmit timestamp zero");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/sntp/accepted", test_accepted },
		{ "/sntp/refused", test_refused },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
