/* SPDX-License-Identifier: MIT */
/* fuzz_sntp.c - libFuzzer target: the SNTP answer check (sntp_parse), which
 * reads a UDP datagram from the network before anything about it is known.
 * The request's transmit time t1 and the arrival time t4 are fixed, so a
 * seed whose originate timestamp is FUZZ_T1 reaches the offset. Beyond not
 * crashing: an accepted answer is a version 3/4 server reply of a
 * synchronised server (stratum 1..15, no alarm) that echoes t1, carries
 * non-zero times, and gives a finite offset within 2^31 s (NTP era
 * arithmetic); a refusal says why. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "pkg/libmgmt/sntp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2024-01-01T00:00:00Z in NTP format; t4 is 50 ms later */
#define FUZZ_T1 ((uint64_t)3913056000u << 32)
#define FUZZ_T4 (FUZZ_T1 + ((uint64_t)1 << 32) / 20)

static uint64_t be64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct space_err err = { "" };
	double off = NAN;
	int r = sntp_parse(data, size, FUZZ_T1, FUZZ_T4, &off, &err);
	unsigned vn;

	if (r < 0) {
		if (r != -SPACE_E_FORMAT || !err.msg[0])
			abort();
		return 0;
	}
	if (r != 0 || size < SNTP_PACKET)
		abort();
	vn = data[0] >> 3 & 7;
	if ((data[0] & 7) != 4 || (vn != 3 && vn != 4) || data[0] >> 6 == 3 ||
	    !data[1] || data[1] > 15 || be64_at(data + 24) != FUZZ_T1 || !be64_at(data + 32) ||
	    !be64_at(data + 40) || !isfinite(off) || fabs(off) > 2147483648.0)
		abort();
	return 0;
}
