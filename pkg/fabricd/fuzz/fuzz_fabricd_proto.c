/* SPDX-License-Identifier: MIT */
/* fuzz_fabricd_proto.c - libFuzzer target: heartbeat datagrams (proto.c)
 * through the peer table of a three-node fabric, as they come from the
 * network. The input is a sequence of records: a control byte (bits 0-2:
 * the source address, one of the nodes or two outside; bit 3: sign the
 * datagram with the fabric key, so the checks after the HMAC are reached
 * too; bits 4-7 and the next byte: how many ms the clocks move on), a
 * length byte, then that many bytes of datagram. Beyond not crashing: a
 * datagram is taken only from another node's address, with a seq above
 * the last taken from it and within the skew of the clock; every datagram
 * is counted once; the table never changes size. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/fabricd/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t KEY[FD_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const char *const SOURCES[8] = { "10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4",
					"192.0.2.1", "10.9.0.1", "10.9.0.3", "0.0.0.0" };

static void setup(struct fd_peers *t)
{
	struct fabric_conf c;

	memset(&c, 0, sizeof(c));
	c.version = 1;
	c.takeover = 2;
	c.nnodes = 3;
	for (unsigned i = 0; i < 3; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.9.0.%u/24", i + 1);
		fabric_addr_parse(a, 0, &c.nodes[i].addr);
		snprintf(c.nodes[i].name, sizeof(c.nodes[i].name), "n%u", i + 1);
	}
	memset(t, 0, sizeof(*t));
	fd_peers_set(t, &c, 1);
}

static unsigned long total(const struct fd_peers *t)
{
	unsigned long n = 0;

	for (int v = 0; v < FD_VERDICT_COUNT; v++)
		n += t->drops[v];
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fd_mac m;
	struct fd_peers t;
	long long now = 1000;
	int64_t real = 1800000000000LL;
	unsigned long seen = 0;
	size_t i = 0;

	if (!m.ctx && fd_mac_init(&m, KEY, NULL) < 0)
		abort();
	setup(&t);
	while (i + 3 <= size) {
		uint8_t ctl = data[i], len = data[i + 2], dg[256];
		struct in_addr src;
		uint64_t before[3];
		enum fd_verdict v;
		int slot;

		now += (long long)(ctl >> 4) * 256 + data[i + 1];
		real += (ctl >> 4) * 256 + data[i + 1];
		i += 3;
		if (len > size - i)
			len = (uint8_t)(size - i);
		memcpy(dg, data + i, len);
		i += len;
		if ((ctl & 8) && len == FD_DGRAM_LEN)
			fd_hb_sign(&m, dg);
		inet_pton(AF_INET, SOURCES[ctl & 7], &src);
		for (int k = 0; k < 3; k++)
			before[k] = t.p[k].last_seq;
		v = fd_peers_receive(&t, &m, src, dg, len, now, real);
		seen++;
		if (total(&t) != seen || t.n != 3 || v >= FD_VERDICT_COUNT)
			abort();
		if (v != FD_OK)
			continue;
		slot = (ctl & 7) == 5 ? 0 : (ctl & 7) == 6 ? 2 :
							     (int)(ctl & 7);
		if (slot == 1 || slot > 2 || t.p[slot].last_seq <= before[slot] ||
		    (int64_t)t.p[slot].last_seq > real + FD_SKEW_MS ||
		    (int64_t)t.p[slot].last_seq < real - FD_SKEW_MS || t.p[slot].heard_ms != now)
			abort();
	}
	return 0;
}
