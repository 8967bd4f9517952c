/* SPDX-License-Identifier: MIT */
/* conf.h - mgmtd configuration (/etc/mgmtd.conf, KEY=VALUE, see kv.h).
 * Every path the daemon touches is here so tests can run it in a temp
 * root. struct mgmtd_conf owns its strings; mgmtd_conf_free(). */
#ifndef MGMTD_CONF_H
#define MGMTD_CONF_H

#include <stddef.h>

#include "err.h"

struct mgmtd_conf {
	char *listen;          /* address, default 0.0.0.0 */
	int port;              /* default 443 */
	char *cert, *key;      /* generated at first start when both missing */
	char *shadow, *group;  /* /etc/shadow, /etc/group */
	char *admin_group;     /* members get the admin role (default "admin") */
	char *readonly_users;  /* comma/space separated, read-only role */
	long idle_timeout;     /* s, default 900 */
	long session_lifetime; /* s, default 28800 */
	long max_sessions;
	long max_sessions_per_user; /* default 8 */
	long admin_sessions;        /* kept for admin logins, at most max_sessions / 2, default 8 */
	/* failed logins slow down their source address (throttle.h) */
	long lockout_failures; /* failures before the first delay, default 5 */
	long lockout_time;     /* s, longest delay, default 900 */
	long lockout_window;   /* s, a source without failures for this long is forgotten, default 900 */
	long lockout_sources;  /* addresses remembered at once, default 4096 */
	long max_clients;
	long max_header, max_body;
	long request_timeout;   /* s: whole request incl. handshake */
	long keepalive_timeout; /* s: idle between requests */
	char *log_dir;          /* access.log, error.log */
	long long log_max;      /* rotate above this size */
	long log_keep;
	char *release_file, *cluster_file;
	char *watchdog_socket, *devgate_socket;
	/* upgrades through the API (upgrade.h) */
	char *upload_dir;           /* PUT upgrade/image/NAME lands here, default /var/tmp/upgrade */
	long long upload_max;       /* bytes of one image, default 2 GiB */
	long long upload_keep_free; /* bytes an upload must leave free there, default 64 MiB */
	char *spacectl;             /* what POST upgrade runs, default /usr/bin/spacectl */
	char *upgrade_status;       /* written by spacectl upgrade, default /var/lib/upgrade/status */
	/* hot patches (hotpatch.h): the markers in ROOT/etc, the tool's state in
	 * ROOT/var/lib/hotpatch (pkg/hotpatch/state.h) */
	char *hotpatch;      /* what POST hotpatch runs, default /usr/sbin/hotpatch */
	char *hotpatch_root; /* default /; another root: `hotpatch apply --root` (tests) */
	/* the fabric (fabric.h) */
	char *fabric_agent; /* what POST fabric/trust runs, default /usr/sbin/fabric-agent */
	char *fabric_cache; /* GET fabric's document, default /run/mgmtd-fabric.json */
};

/* Defaults for the appliance. */
int mgmtd_conf_defaults(struct mgmtd_conf *c);
/* Apply path (missing file: defaults stay). err gets "line N: key: reason". */
int mgmtd_conf_load(struct mgmtd_conf *c, const char *path, struct space_err *err);
void mgmtd_conf_free(struct mgmtd_conf *c);
/* Is user in the comma/space separated list? */
int conf_list_has(const char *list, const char *user);

#endif
