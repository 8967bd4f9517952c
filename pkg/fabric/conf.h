/* SPDX-License-Identifier: MIT */
/* conf.h - the fabric's configuration: which nodes form the fabric, in
 * which order, and the virtual address the first live one holds.
 *
 * The file is /etc/space-cluster.conf (-> /var/etc/space-cluster.conf,
 * kept across upgrades); a node without it is standalone. It is written
 * only by `spacectl fabric` on the VIP node and copied to every node, so
 * that any node can take over. KEY = VALUE (pkg/lib/kv.h):
 *
 *   version  = 4                 bumped by every change; a node refuses a
 *                                copy older than the one it has
 *   vip      = 10.9.0.100/24     the virtual address and its prefix
 *   dev      = eth0              the interface it goes on (default eth0)
 *   takeover = 6                 seconds without the holder's heartbeat
 *                                before the next node claims it (2..300)
 *   node     = 10.9.0.1/24 n1    one line per node, in takeover order:
 *   node     = 10.9.0.2/24 n2    its fabric address/prefix and its name
 *
 * Ownership: a struct fabric_conf is a plain value (fixed-size arrays, no
 * pointers): copy it freely, nothing to free.
 */
#ifndef SPACE_FABRIC_CONF_H
#define SPACE_FABRIC_CONF_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define FABRIC_CONF_PATH "/etc/space-cluster.conf"
#define FABRIC_CONF_MAX 16384 /* bytes: a larger file is refused */
#define FABRIC_NODES_MAX 8    /* nodes in one fabric */
#define FABRIC_NAME_MAX 31    /* a node's name: [a-z0-9-], NUL excluded */
#define FABRIC_DEV_MAX 15     /* IFNAMSIZ - 1 */
#define FABRIC_TAKEOVER_DEFAULT 6

struct fabric_addr {
	struct in_addr ip;
	unsigned prefix; /* 1..32 */
};

struct fabric_node {
	struct fabric_addr addr;
	char name[FABRIC_NAME_MAX + 1];
};

struct fabric_conf {
	unsigned long version; /* >= 1 */
	struct fabric_addr vip;
	char dev[FABRIC_DEV_MAX + 1];
	unsigned takeover; /* seconds */
	unsigned nnodes;   /* >= 1 */
	struct fabric_node nodes[FABRIC_NODES_MAX];
};

/* Parse len bytes of text into c. Refused (-SPACE_E_FORMAT, err says the
 * line and why): an unknown or repeated key, a malformed or out-of-range
 * value, no version, vip or node, more than FABRIC_NODES_MAX nodes, two
 * nodes with one address or name, a node or the vip outside the others'
 * subnet, the vip equal to a node's address. */
int fabric_conf_parse(const char *text, size_t len, struct fabric_conf *c, struct space_err *err);

/* Read and parse path (at most FABRIC_CONF_MAX bytes, a regular file;
 * /etc/space-cluster.conf is the factory symlink into /var). -ENOENT when
 * there is none: the node is standalone. */
int fabric_conf_load(const char *path, struct fabric_conf *c, struct space_err *err);

/* The text of c, as fabric_conf_parse reads it back (into b, appended). */
struct buf;
int fabric_conf_format(const struct fabric_conf *c, struct buf *b);

/* Write c to path atomically (temporary name, fsync, rename), mode 0644. */
int fabric_conf_save(const char *path, const struct fabric_conf *c, struct space_err *err);

/* Parse "A.B.C.D/P" (P 1..32); "A.B.C.D" alone when prefix_default > 0. */
int fabric_addr_parse(const char *s, unsigned prefix_default, struct fabric_addr *a);
/* "A.B.C.D/P" into out (at least 19 bytes). */
void fabric_addr_str(const struct fabric_addr *a, char *out, size_t n);

/* A node name: 1 to FABRIC_NAME_MAX of a-z, 0-9 and '-', not starting
 * with '-'. */
bool fabric_name_ok(const char *s);

/* The node whose address is addr, or -1. */
int fabric_node_find(const struct fabric_conf *c, struct in_addr addr);

/* Add a node at the end: -ENOSPC when full, -EEXIST for a taken address
 * or name, -SPACE_E_FORMAT outside the first node's subnet. The caller
 * bumps the version. */
int fabric_conf_add_node(struct fabric_conf *c, const struct fabric_node *n, struct space_err *err);
/* Remove the node with that address and bump the version, or -ENOENT. */
int fabric_conf_remove(struct fabric_conf *c, struct in_addr addr, struct space_err *err);

#endif
