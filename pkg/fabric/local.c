/* SPDX-License-Identifier: MIT */
/* local.c - this node's own addresses (local.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "local.h"

int fabric_addr_local(struct in_addr a)
{
	struct ifaddrs *all, *i;
	int found = 0;

	if (getifaddrs(&all) < 0)
		return -errno;
	for (i = all; i && !found; i = i->ifa_next)
		found = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == a.s_addr;
	freeifaddrs(all);
	return found;
}

int fabric_self(const struct fabric_conf *c)
{
	for (unsigned n = 0; n < c->nnodes; n++)
		if (fabric_addr_local(c->nodes[n].addr.ip) == 1)
			return (int)n;
	return -1;
}

int fabric_dev_addr(const char *dev, struct fabric_addr *a)
{
	struct ifaddrs *all, *i;
	int r = -ENOENT;

	if (getifaddrs(&all) < 0)
		return -errno;
	for (i = all; i && r == -ENOENT; i = i->ifa_next) {
		uint32_t m;

		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || strcmp(i->ifa_name, dev) || !i->ifa_netmask)
			continue;
		a->ip = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
		m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		a->prefix = 0;
		while (m & 0x80000000u) {
			a->prefix++;
			m <<= 1;
		}
		r = a->prefix ? 0 : -ENOENT;
	}
	freeifaddrs(all);
	return r;
}

void fabric_host_name(char out[FABRIC_NAME_MAX + 1])
{
	char host[256] = "";
	size_t n = 0;

	gethostname(host, sizeof(host) - 1);
	for (char *h = host; *h && n < FABRIC_NAME_MAX; h++)
		if ((*h >= 'a' && *h <= 'z') || (*h >= '0' && *h <= '9') || (*h == '-' && n))
			out[n++] = *h;
		else if (*h >= 'A' && *h <= 'Z')
			out[n++] = (char)(*h - 'A' + 'a');
	out[n] = '\0';
	if (!n)
		snprintf(out, FABRIC_NAME_MAX + 1, "node");
}
