/* SPDX-License-Identifier: MIT */
/* conf.c - mgmtd configuration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "kv.h"
#include "util.h"

struct skey {
	const char *key;
	size_t off;
};
struct nkey {
	const char *key;
	size_t off;
	long long min, max;
	int units, is_ll;
};

#define S(k)                                       \
	{                                          \
#k, offsetof(struct mgmtd_conf, k) \
	}
static const struct skey skeys[] = {
	S(listen),
	S(cert),
	S(key),
	S(shadow),
	S(group),
	S(admin_group),
	S(readonly_users),
	S(log_dir),
	S(release_file),
	S(cluster_file),
	S(watchdog_socket),
	S(devgate_socket),
	S(upload_dir),
	S(spacectl),
	S(upgrade_status),
	S(hotpatch),
	S(hotpatch_root),
	S(fabric_agent),
	S(fabric_cache),
};
#undef S
#define N(k, mn, mx, u)                                          \
	{                                                        \
#k, offsetof(struct mgmtd_conf, k), mn, mx, u, 0 \
	}
static const struct nkey nkeys[] = {
	N(idle_timeout, 1, 86400 * 7, 1),
	N(session_lifetime, 1, 86400 * 30, 1),
	N(max_sessions, 1, 100000, 0),
	N(lockout_failures, 1, 1000, 0),
	N(lockout_time, 1, 86400, 1),
	N(lockout_window, 1, 86400, 1),
	N(lockout_sources, 1, 1000000, 0),
	N(max_clients, 1, 60000, 0),
	N(max_header, 512, 1 << 20, 0),
	N(max_sessions_per_user, 1, 100000, 0),
	N(admin_sessions, 0, 100000, 0),
	N(max_body, 0, 16 << 20, 0),
	N(request_timeout, 1, 3600, 1),
	N(keepalive_timeout, 1, 3600, 1),
	N(log_keep, 1, 100, 0),
	{ "log_max", offsetof(struct mgmtd_conf, log_max), 1024, 1LL << 40, 0, 1 },
	{ "upload_max", offsetof(struct mgmtd_conf, upload_max), 1024, 1LL << 40, 0, 1 },
	{ "upload_keep_free", offsetof(struct mgmtd_conf, upload_keep_free), 0, 1LL << 50, 0, 1 },
};
#undef N

int mgmtd_conf_defaults(struct mgmtd_conf *c)
{
	static const char *const sdef[][2] = {
		{ "listen", "0.0.0.0" },
		{ "cert", "/etc/mgmtd/server.crt" },
		{ "key", "/etc/mgmtd/server.key" },
		{ "shadow", "/etc/shadow" },
		{ "group", "/etc/group" },
		{ "admin_group", "admin" },
		{ "readonly_users", "" },
		{ "log_dir", "/var/log/mgmtd" },
		{ "release_file", "/etc/space-release" },
		{ "cluster_file", "/etc/space-cluster.conf" },
		{ "watchdog_socket", "/run/watchdog.sock" },
		{ "devgate_socket", "/run/devgate.sock" },
		{ "upload_dir", "/var/tmp/upgrade" },
		{ "spacectl", "/usr/bin/spacectl" },
		{ "upgrade_status", "/var/lib/upgrade/status" },
		{ "hotpatch", "/usr/sbin/hotpatch" },
		{ "hotpatch_root", "/" },
		{ "fabric_agent", "/usr/sbin/fabric-agent" },
		{ "fabric_cache", "/run/mgmtd-fabric.json" },
	};

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(sdef) / sizeof(sdef[0]); i++)
		for (size_t k = 0; k < sizeof(skeys) / sizeof(skeys[0]); k++)
			if (!strcmp(skeys[k].key, sdef[i][0])) {
				char **slot = (char **)((char *)c + skeys[k].off);
				if (!(*slot = strdup(sdef[i][1])))
					return -ENOMEM;
			}
	c->port = 443;
	c->idle_timeout = 900;
	c->session_lifetime = 8 * 3600;
	c->max_sessions = 256;
	c->max_sessions_per_user = 8;
	c->admin_sessions = 8;
	c->lockout_failures = 5;
	c->lockout_time = 900;
	c->lockout_window = 900;
	c->lockout_sources = 4096;
	c->max_clients = 1024;
	c->max_header = 8192;
	c->max_body = 16384;
	c->request_timeout = 10;
	c->keepalive_timeout = 60;
	c->log_max = 1024 * 1024;
	c->log_keep = 5;
	c->upload_max = 2LL << 30;
	c->upload_keep_free = 64LL << 20;
	return 0;
}

struct lctx {
	struct mgmtd_conf *c;
	struct space_err *err;
};

static int cb(void *vctx, const char *key, const char *v, int line)
{
	struct lctx *x = vctx;
	long long n;
	int r;

	for (size_t k = 0; k < sizeof(skeys) / sizeof(skeys[0]); k++)
		if (!strcmp(skeys[k].key, key)) {
			char **slot = (char **)((char *)x->c + skeys[k].off);
			char *d = strdup(v);
			if (!d)
				return -ENOMEM;
			free(*slot);
			*slot = d;
			return 0;
		}
	if (!strcmp(key, "port")) {
		if ((r = kv_int(v, 1, 65535, 0, &n)) < 0)
			goto bad;
		x->c->port = (int)n;
		return 0;
	}
	for (size_t k = 0; k < sizeof(nkeys) / sizeof(nkeys[0]); k++)
		if (!strcmp(nkeys[k].key, key)) {
			if ((r = kv_int(v, nkeys[k].min, nkeys[k].max, nkeys[k].units, &n)) < 0)
				goto bad;
			if (nkeys[k].is_ll)
				*(long long *)((char *)x->c + nkeys[k].off) = n;
			else
				*(long *)((char *)x->c + nkeys[k].off) = (long)n;
			return 0;
		}
	return err_set(x->err, -SPACE_E_FORMAT, "line %d: %s: unknown key", line, key);
bad:
	return err_set(x->err, -SPACE_E_FORMAT, "line %d: %s: %s", line, key,
		       r == -ERANGE ? "out of range" : "not a number");
}

int mgmtd_conf_load(struct mgmtd_conf *c, const char *path, struct space_err *err)
{
	struct space_err mine = { "" };
	struct lctx x = { c, &mine };
	int line = 0, r;

	r = kv_parse_file(path, 1 << 20, cb, &x, &line);
	if (r == -ENOENT)
		return 0;
	if (r < 0 && !mine.msg[0])
		return err_set(err, r, "line %d: %s", line, space_strerror(r));
	if (r < 0)
		err_set(err, r, "%s", mine.msg);
	return r;
}

void mgmtd_conf_free(struct mgmtd_conf *c)
{
	for (size_t k = 0; k < sizeof(skeys) / sizeof(skeys[0]); k++)
		free(*(char **)((char *)c + skeys[k].off));
	memset(c, 0, sizeof(*c));
}

int conf_list_has(const char *list, const char *user)
{
	size_t n = strlen(user);
	const char *p = list;

	if (!n)
		return 0;
	while (*p) {
		size_t w;
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		w = strcspn(p, ", \t");
		if (w == n && !strncmp(p, user, n))
			return 1;
		p += w;
	}
	return 0;
}
