/* SPDX-License-Identifier: MIT */
/* rpc.h - run a fabric-agent verb on a node: this one (exec) or a peer
 * (dbclient with this node's fabric key; the peer's authorized_keys makes
 * the agent the key's only command, and the verb arrives there as
 * SSH_ORIGINAL_COMMAND).
 */
#ifndef SPACE_FABRIC_RPC_H
#define SPACE_FABRIC_RPC_H

#include "buf.h"
#include "err.h"
#include "pkg/fabric/conf.h"

#define FABRIC_RPC_TIMEOUT_MS 30000
#define FABRIC_RPC_OUT_MAX (64u << 10)

struct fabric_rpc {
	const char *root; /* "" on a node, or a prefix (tests) */
	const struct fabric_conf *conf;
	int node;       /* index in conf, or -1: this node */
	int timeout_ms; /* 0: FABRIC_RPC_TIMEOUT_MS */
	const void *in; /* its stdin (may be NULL) */
	size_t inlen;
	struct buf *out; /* its stdout (may be NULL) */
};

/* A call on node i of conf, as seen from node self (-1 when this node is
 * in no list): a peer over SSH, or self by a local exec. */
static inline struct fabric_rpc fabric_rpc_to(const struct fabric_conf *conf, int self, unsigned i)
{
	return (struct fabric_rpc){ .root = "", .conf = conf, .node = (int)i == self ? -1 : (int)i };
}

/* 0, or why not in err ("n2: info: <the agent's last stderr line>"). */
int fabric_rpc(const struct fabric_rpc *q, const char *verb, const char *arg, struct space_err *err);

/* What a node says of itself (the agent's info verb). */
struct fabric_info {
	char name[64], release[64], level[16], running[16], total[16], gate[32], holds[8], version[24];
	char time[24], var_free_mb[24];
	/* this boot, and the node's last upgrade (its status file) */
	char boot_id[40], upg_state[16], upg_release[64], upg_reason[512];
};

/* fabric_rpc(q, "info") parsed into fi (fields it did not send stay ""). */
int fabric_rpc_info(const struct fabric_rpc *q, struct fabric_info *fi, struct space_err *err);

#endif
