/* SPDX-License-Identifier: MIT */
/* fuzz_fabricd_arp.c - libFuzzer target: the ARP frames fabricd reads on
 * dev while it probes the virtual IP (arp.c). Beyond not crashing: an
 * answer is 0 or 1, a conflict names a MAC that is not ours, and a frame
 * from our own MAC is never one. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/fabricd/arp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mine[6] = { 2, 0, 0, 0, 0, 1 };
	struct in_addr vip;
	char who[64] = "";
	int r;

	inet_pton(AF_INET, "10.9.0.100", &vip);
	r = arp_conflict(data, size, vip, mine, who, sizeof(who));
	if (r != 0 && r != 1)
		abort();
	if (r && (strlen(who) < 17 || !memcmp(data + 8, mine, 6) || !strncmp(who, "02:00:00:00:00:01", 17)))
		abort();
	return 0;
}
