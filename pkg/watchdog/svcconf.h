/* SPDX-License-Identifier: MIT */
/* svcconf.h - service definitions of the watchdog (/etc/watchdog.d/NAME.conf).
 *
 *   name = mgmtd                      (default: file name without .conf)
 *   exec = /usr/sbin/mgmtd -c /etc/mgmtd.conf   (required; split like a
 *                                      shell word list, never run by a shell)
 *   user = root                       (default: the watchdog's user)
 *   env = KEY=VALUE                   (repeatable; added to the inherited env)
 *   cwd = /                           output = /var/log/mgmtd.out (stdout+stderr)
 *   restart = always | on-failure | never            (default always)
 *   backoff_ms = 500   backoff_max_ms = 30000        exponential back-off
 *   max_restarts = 5   restart_window = 60s          give up: N restarts in T
 *   stop_timeout = 5s                                SIGTERM, then SIGKILL
 *   order = 50                                       start order (ascending)
 *   ready_socket = tcp:127.0.0.1:443 | unix:/run/x.sock
 *   ready_command = /usr/bin/test -e /run/x.ready    ready_timeout = 30s
 *
 * struct svc_conf owns every string and argv in it; svc_conf_free().
 */
#ifndef WATCHDOG_SVCCONF_H
#define WATCHDOG_SVCCONF_H

#include "err.h"

enum restart_policy { RESTART_ALWAYS,
		      RESTART_ON_FAILURE,
		      RESTART_NEVER };

struct svc_conf {
	char *name;
	char **argv;
	char *user;
	char **env; /* NULL-terminated KEY=VALUE list */
	int nenv;
	char *cwd;
	char *output;
	enum restart_policy restart;
	long backoff_ms, backoff_max_ms;
	int max_restarts;
	long restart_window; /* seconds */
	long stop_timeout_ms;
	int order;
	char *ready_socket;
	char **ready_argv;
	long ready_timeout_ms;
};

/* Parse path into *c (zeroed first). On failure c is freed, and err holds
 * "line N: reason". Returns 0, -SPACE_E_FORMAT, or errno. */
int svc_conf_load(const char *path, struct svc_conf *c, struct space_err *err);
void svc_conf_free(struct svc_conf *c);

/* ready_socket "tcp:HOST:PORT" / "unix:PATH" check: 0 when a connect()
 * succeeds now, negative errno otherwise. */
int svc_ready_socket(const char *spec);

#endif
