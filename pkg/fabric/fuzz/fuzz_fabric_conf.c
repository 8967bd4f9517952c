/* SPDX-License-Identifier: MIT */
/* fuzz_fabric_conf.c - libFuzzer target: the fabric's configuration
 * (fabric_conf_parse: a copy arrives from the VIP node). Beyond not
 * crashing: an accepted file has 1..FABRIC_NODES_MAX nodes, and what
 * fabric_conf_format writes of it parses back to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pkg/fabric/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fabric_conf c, d;
	struct space_err e;
	struct buf b;

	if (fabric_conf_parse((const char *)data, size, &c, &e) < 0) {
		if (!e.msg[0] || strchr(e.msg, '\n'))
			abort();
		return 0;
	}
	if (c.nnodes < 1 || c.nnodes > FABRIC_NODES_MAX || c.version < 1)
		abort();
	buf_init(&b);
	if (fabric_conf_format(&c, &b) == 0 &&
	    (fabric_conf_parse(b.p, b.len, &d, &e) < 0 || memcmp(&c, &d, sizeof(c))))
		abort();
	buf_free(&b);
	return 0;
}
