/* SPDX-License-Identifier: MIT */
/* local.h - this node's own IPv4 addresses (getifaddrs): which fabric node
 * it is, and whether it holds the virtual address. */
#ifndef SPACE_FABRIC_LOCAL_H
#define SPACE_FABRIC_LOCAL_H

#include <netinet/in.h>

#include "pkg/fabric/conf.h"

/* 1 when a is on one of this node's interfaces, 0 when not, or a negative
 * errno. */
int fabric_addr_local(struct in_addr a);

/* The index of this node in c (its address is local), or -1. */
int fabric_self(const struct fabric_conf *c);

/* The first IPv4 address and prefix on interface dev: 0, -ENOENT, or a
 * negative errno. */
int fabric_dev_addr(const char *dev, struct fabric_addr *a);

/* This node's host name as a node name: lowercase letters, digits and
 * '-' kept, at most FABRIC_NAME_MAX; "node" when nothing is left. */
void fabric_host_name(char out[FABRIC_NAME_MAX + 1]);

#endif
