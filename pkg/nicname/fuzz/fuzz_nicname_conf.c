/* SPDX-License-Identifier: MIT */
/* fuzz_nicname_conf.c - libFuzzer target: the NIC table parser
 * (nn_conf_parse), then a plan against a fixed set of interfaces for
 * every target the table names. Beyond not crashing: an accepted table
 * holds at most NN_MAX_PORTS well-formed, distinct ports, and a plan never
 * gives two interfaces one name nor a port's name to a NIC elsewhere. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/nicname/nicname.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct nn_if ifs[] = {
	{ "eth0", 2, "pci0000:00/0000:00:03.0" },
	{ "eth1", 3, "pci0000:00/0000:00:1c.2/0000:03:00.0" },
	{ "eth2", 4, "pci0000:00/0000:00:1c.2/0000:03:00.1" },
	{ "eth3", 5, "pci0000:00/0000:00:1c.0/0000:01:00.0" },
	{ "nntmp6", 6, "pci0000:00/0000:00:1c.1/0000:02:00.0" },
	{ "eth9", 7, "" },
};
#define NIFS (sizeof(ifs) / sizeof(ifs[0]))

/* The name each interface ends with under plan p. */
static const char *final_name(const struct nn_plan *p, size_t i)
{
	for (size_t k = 0; k < p->nmove; k++)
		if (p->move[k].ifindex == ifs[i].ifindex)
			return p->move[k].to;
	return ifs[i].name;
}

static void check_plan(const struct nn_conf *c, const char *target, const struct nn_plan *p)
{
	for (size_t i = 0; i < NIFS; i++)
		for (size_t j = i + 1; j < NIFS; j++)
			if (!strcmp(final_name(p, i), final_name(p, j)))
				abort();
	for (size_t k = 0; k < c->n; k++) {
		if (strcmp(c->port[k].target, target))
			continue;
		for (size_t i = 0; i < NIFS; i++)
			if (!strcmp(final_name(p, i), c->port[k].name) && strcmp(ifs[i].path, c->port[k].path))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nn_conf c;
	static struct nn_plan p;
	struct space_err err;

	if (nn_conf_parse((const char *)data, size, &c, &err) < 0)
		return 0;
	if (c.n > NN_MAX_PORTS)
		abort();
	for (size_t k = 0; k < c.n; k++) {
		if (strncmp(c.port[k].name, "eth", 3) || strncmp(c.port[k].path, "pci", 3))
			abort();
		if (nn_plan(&c, c.port[k].target, ifs, NIFS, &p, &err) == 0)
			check_plan(&c, c.port[k].target, &p);
	}
	return 0;
}
