/* SPDX-License-Identifier: MIT */
/* test_watchdog.c - service definition parser of the watchdog. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "watchdog/svcconf.h"
#include "tap.h"
#include "util.h"

static char dir[64];

static int load(const char *name, const char *text, struct svc_conf *c, char *err)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file_atomic(path, text, strlen(text), 0644);
	return svc_conf_load(path, c, err, 256);
}

int main(void)
{
	struct svc_conf c;
	char err[256];

	strcpy(dir, "/tmp/test_watchdog.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	is_int(load("mgmtd.conf",
		    "# the API\nexec = /usr/sbin/mgmtd -c \"/etc/my conf\"\nuser=root\nenv=A=1\nenv=B=x y\n"
		    "restart=on-failure\nbackoff_ms=100\nbackoff_max_ms=50\nmax_restarts=3\n"
		    "restart_window=2m\nstop_timeout=2\norder=10\nready_socket=tcp:127.0.0.1:443\n",
		    &c, err),
	       0, "full definition parses");
	ok(c.name && !strcmp(c.name, "mgmtd"), "name defaults to the file name");
	ok(c.argv && !strcmp(c.argv[2], "/etc/my conf") && !c.argv[3], "exec split with quotes");
	is_int(c.nenv, 2, "env entries");
	ok(!strcmp(c.env[1], "B=x y"), "env value with a space");
	is_int(c.restart, RESTART_ON_FAILURE, "restart policy");
	is_int(c.backoff_max_ms, 100, "back-off ceiling never below the initial delay");
	is_int(c.restart_window, 120, "window with unit");
	is_int(c.stop_timeout_ms, 2000, "stop timeout");
	is_int(c.order, 10, "order");
	svc_conf_free(&c);

	is_int(load("x.conf", "name=x\n", &c, err), -SPACE_E_FORMAT, "exec is required");
	ok(strstr(err, "exec: missing") != NULL, "says what is missing: %s", err);
	is_int(load("x.conf", "exec=/bin/true\nrestrat=always\n", &c, err), -SPACE_E_FORMAT, "typo key");
	ok(!strcmp(err, "line 2: restrat: unknown key"), "line and key named: %s", err);
	is_int(load("x.conf", "exec=bin/true\n", &c, err), -SPACE_E_FORMAT, "relative program refused");
	is_int(load("x.conf", "exec=/bin/true\nname=../etc\n", &c, err), -SPACE_E_FORMAT,
	       "name with a slash refused");
	is_int(load("x.conf", "exec=/bin/true\nmax_restarts=0\n", &c, err), -SPACE_E_FORMAT,
	       "max_restarts 0 refused");
	is_int(load("x.conf", "exec=/bin/true\nready_socket=udp:1\n", &c, err), -SPACE_E_FORMAT,
	       "bad ready socket");
	is_int(load("x.conf", "exec='/bin/true\n", &c, err), -SPACE_E_FORMAT, "unterminated quote");
	is_int(svc_conf_load("/nonexistent/x.conf", &c, err, sizeof(err)), -2, "missing file: -ENOENT");

	ok(svc_ready_socket("tcp:127.0.0.1:1") < 0, "nothing listens on port 1");
	ok(svc_ready_socket("unix:/nonexistent/sock") < 0, "missing unix socket not ready");

	/* the definitions shipped in the appliance package */
	is_int(svc_conf_load("pkg/watchdog/files/etc/watchdog.d/mgmtd.conf", &c, err, sizeof(err)), 0,
	       "packaged mgmtd.conf parses: %s", err);
	ok(c.name && !strcmp(c.name, "mgmtd") && c.ready_socket, "mgmtd waits for its port");
	svc_conf_free(&c);
	is_int(svc_conf_load("pkg/watchdog/files/etc/watchdog.d/devgate.conf", &c, err, sizeof(err)), 0,
	       "packaged devgate.conf parses: %s", err);
	is_int(c.order, 10, "devgate starts before mgmtd");
	svc_conf_free(&c);

	const char *rm[] = { "rm", "-rf", dir, NULL };
	run_argv(rm);
	return done_testing();
}
