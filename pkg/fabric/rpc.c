/* SPDX-License-Identifier: MIT */
/* rpc.c - a fabric-agent verb on a node (rpc.h). */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "kv.h"
#include "paths.h"
#include "rpc.h"
#include "run_pipe.h"
#include "util.h"

int fabric_rpc(const struct fabric_rpc *q, const char *verb, const char *arg, struct space_err *err)
{
	char ip[INET_ADDRSTRLEN], dest[64], cmd[256], id[4096], why[SPACE_ERR_MAX];
	const char *local[] = { q->root[0] ? "fabric-agent" : FABRIC_AGENT, "--root", q->root[0] ? q->root : "/",
				verb, arg, NULL };
	const char *remote[] = { "dbclient", "-y", "-i", id, dest, cmd, NULL };
	struct buf e;
	struct run_pipe p = {
		.in = q->in,
		.inlen = q->inlen,
		.out = q->out,
		.errout = &e,
		.max = FABRIC_RPC_OUT_MAX,
		.timeout_ms = q->timeout_ms ? q->timeout_ms : FABRIC_RPC_TIMEOUT_MS,
	};
	int r;

	buf_init(&e);
	if (q->node >= 0) {
		inet_ntop(AF_INET, &q->conf->nodes[q->node].addr.ip, ip, sizeof(ip));
		snprintf(dest, sizeof(dest), "root@%s", ip);
		/* the words are checked by the caller (names, levels): no quoting */
		snprintf(cmd, sizeof(cmd), "%s%s%s", verb, arg ? " " : "", arg ? arg : "");
		snprintf(id, sizeof(id), "%s%s", q->root, FABRIC_ID_PATH);
	}
	r = run_pipe(q->node >= 0 ? remote : local, &p);
	run_pipe_last_line(&e, why, sizeof(why));
	if (r < 0)
		err_set(err, r, "%s: %s: %s", q->node >= 0 ? q->conf->nodes[q->node].name : "this node", verb,
			r != -SPACE_E_CHILD ? space_strerror(r) : (why[0] ? why : "no reason given"));
	buf_free(&e);
	return r;
}

static int info_field(void *ctx, const char *key, const char *value, int line)
{
	static const struct {
		const char *key;
		size_t off, n;
	} map[] = {
#define F(k, m) { k, offsetof(struct fabric_info, m), sizeof(((struct fabric_info *)0)->m) }
		F("name", name),
		F("release", release),
		F("hotpatch_level", level),
		F("services_running", running),
		F("services_total", total),
		F("device_communication", gate),
		F("holds_vip", holds),
		F("fabric_version", version),
		F("time", time),
		F("var_free_mb", var_free_mb),
		F("boot_id", boot_id),
		F("upgrade_state", upg_state),
		F("upgrade_release", upg_release),
		F("upgrade_reason", upg_reason),
#undef F
	};

	(void)line;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(key, map[i].key))
			snprintf((char *)ctx + map[i].off, map[i].n, "%s", value);
	return 0;
}

int fabric_rpc_info(const struct fabric_rpc *q, struct fabric_info *fi, struct space_err *err)
{
	struct fabric_rpc qq = *q;
	struct buf out;
	int r;

	memset(fi, 0, sizeof(*fi));
	buf_init(&out);
	qq.out = &out;
	qq.in = NULL;
	qq.inlen = 0;
	r = fabric_rpc(&qq, "info", NULL, err);
	if (r == 0 && (!out.p || kv_parse(out.p, out.len, info_field, fi, NULL) < 0))
		r = err_set(err, -SPACE_E_FORMAT, "%s: info: malformed answer",
			    q->node >= 0 ? q->conf->nodes[q->node].name : "this node");
	buf_free(&out);
	return r;
}
