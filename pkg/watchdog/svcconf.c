/* SPDX-License-Identifier: MIT */
/* svcconf.c - watchdog service definition parser. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kv.h"
#include "svcconf.h"
#include "util.h"

struct ctx {
	struct svc_conf *c;
	struct space_err *err;
};

static int set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = strdup(v);
	return *slot ? 0 : -ENOMEM;
}

static int bad(struct ctx *x, const char *key, const char *why)
{
	return err_set(x->err, -SPACE_E_FORMAT, "%s: %s", key, why);
}

static int num(struct ctx *x, const char *key, const char *v, long long min, long long max,
	       int units, long long *out)
{
	int r = kv_int(v, min, max, units, out);

	if (r < 0)
		return bad(x, key, r == -ERANGE ? "out of range" : "not a number");
	return 0;
}

static int conf_cb(void *vctx, const char *key, const char *v, int line)
{
	struct ctx *x = vctx;
	struct svc_conf *c = x->c;
	long long n;
	int r = 0;

	if (!strcmp(key, "name")) {
		for (const char *p = v; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
				return bad(x, key, "only letters, digits, '-', '_', '.'");
		if (!*v || strlen(v) > 63)
			return bad(x, key, "1 to 63 characters");
		r = set_str(&c->name, v);
	} else if (!strcmp(key, "exec") || !strcmp(key, "ready_command")) {
		char ***slot = key[0] == 'e' ? &c->argv : &c->ready_argv;
		char **argv;
		r = kv_split_argv(v, &argv);
		if (r < 0)
			return r == -ENOMEM ? r : bad(x, key, "empty or unterminated quote");
		if (argv[0][0] != '/') {
			kv_argv_free(argv);
			return bad(x, key, "program must be an absolute path");
		}
		kv_argv_free(*slot);
		*slot = argv;
		r = 0;
	} else if (!strcmp(key, "user")) {
		r = set_str(&c->user, v);
	} else if (!strcmp(key, "env")) {
		char **ne;
		if (!strchr(v, '=') || v[0] == '=')
			return bad(x, key, "expected KEY=VALUE");
		ne = realloc(c->env, (size_t)(c->nenv + 2) * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		c->env = ne;
		if (!(c->env[c->nenv] = strdup(v)))
			return -ENOMEM;
		c->env[++c->nenv] = NULL;
	} else if (!strcmp(key, "cwd") || !strcmp(key, "output")) {
		if (v[0] != '/')
			return bad(x, key, "must be an absolute path");
		r = set_str(key[0] == 'c' ? &c->cwd : &c->output, v);
	} else if (!strcmp(key, "restart")) {
		if (!strcmp(v, "always"))
			c->restart = RESTART_ALWAYS;
		else if (!strcmp(v, "on-failure"))
			c->restart = RESTART_ON_FAILURE;
		else if (!strcmp(v, "never"))
			c->restart = RESTART_NEVER;
		else
			return bad(x, key, "expected always, on-failure or never");
	} else if (!strcmp(key, "backoff_ms")) {
		if (!(r = num(x, key, v, 1, 3600000, 0, &n)))
			c->backoff_ms = (long)n;
	} else if (!strcmp(key, "backoff_max_ms")) {
		if (!(r = num(x, key, v, 1, 86400000, 0, &n)))
			c->backoff_max_ms = (long)n;
	} else if (!strcmp(key, "max_restarts")) {
		if (!(r = num(x, key, v, 1, 100000, 0, &n)))
			c->max_restarts = (int)n;
	} else if (!strcmp(key, "restart_window")) {
		if (!(r = num(x, key, v, 1, 86400, 1, &n)))
			c->restart_window = (long)n;
	} else if (!strcmp(key, "stop_timeout")) {
		if (!(r = num(x, key, v, 1, 3600, 1, &n)))
			c->stop_timeout_ms = (long)n * 1000;
	} else if (!strcmp(key, "ready_timeout")) {
		if (!(r = num(x, key, v, 1, 3600, 1, &n)))
			c->ready_timeout_ms = (long)n * 1000;
	} else if (!strcmp(key, "order")) {
		if (!(r = num(x, key, v, -1000000, 1000000, 0, &n)))
			c->order = (int)n;
	} else if (!strcmp(key, "ready_socket")) {
		if (strncmp(v, "tcp:", 4) && strncmp(v, "unix:", 5))
			return bad(x, key, "expected tcp:HOST:PORT or unix:PATH");
		if (!strncmp(v, "tcp:", 4) && !strrchr(v + 4, ':'))
			return bad(x, key, "expected tcp:HOST:PORT");
		r = set_str(&c->ready_socket, v);
	} else {
		return bad(x, key, "unknown key");
	}
	(void)line;
	return r;
}

void svc_conf_free(struct svc_conf *c)
{
	free(c->name);
	kv_argv_free(c->argv);
	free(c->user);
	kv_argv_free(c->env);
	free(c->cwd);
	free(c->output);
	free(c->ready_socket);
	kv_argv_free(c->ready_argv);
	memset(c, 0, sizeof(*c));
}

int svc_conf_load(const char *path, struct svc_conf *c, struct space_err *err)
{
	struct space_err msg = { "" };
	struct ctx x = { c, &msg };
	int line = 0, r;

	memset(c, 0, sizeof(*c));
	c->restart = RESTART_ALWAYS;
	c->backoff_ms = 500;
	c->backoff_max_ms = 30000;
	c->max_restarts = 5;
	c->restart_window = 60;
	c->stop_timeout_ms = 5000;
	c->order = 50;
	c->ready_timeout_ms = 30000;
	r = kv_parse_file(path, 65536, conf_cb, &x, &line);
	if (r < 0) {
		if (r == -SPACE_E_FORMAT)
			err_set(err, r, "line %d: %s", line, msg.msg[0] ? msg.msg : "expected key = value");
		else
			err_set(err, r, "%s", space_strerror(r));
		goto fail;
	}
	if (!c->argv) {
		r = err_set(err, -SPACE_E_FORMAT, "exec: missing");
		goto fail;
	}
	if (c->backoff_max_ms < c->backoff_ms)
		c->backoff_max_ms = c->backoff_ms;
	if (!c->name) {
		const char *b = strrchr(path, '/');
		size_t n;
		b = b ? b + 1 : path;
		n = strlen(b);
		if (n > 5 && !strcmp(b + n - 5, ".conf"))
			n -= 5;
		if (!(c->name = strndup(b, n))) {
			r = -ENOMEM;
			goto fail;
		}
	}
	return 0;
fail:
	svc_conf_free(c);
	return r;
}

int svc_ready_socket(const char *spec)
{
	int fd, r = 0;

	if (!strncmp(spec, "unix:", 5)) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(spec + 5) >= sizeof(sa.sun_path))
			return -ENAMETOOLONG;
		strcpy(sa.sun_path, spec + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			r = -errno;
		close(fd);
		return r;
	}
	if (!strncmp(spec, "tcp:", 4)) {
		char host[256];
		const char *port = strrchr(spec + 4, ':');
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
		struct addrinfo *ai;
		size_t hl;

		if (!port || (hl = (size_t)(port - spec - 4)) >= sizeof(host))
			return -EINVAL;
		memcpy(host, spec + 4, hl);
		host[hl] = '\0';
		if (getaddrinfo(host, port + 1, &hints, &ai) != 0)
			return -EINVAL;
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			r = -errno;
		} else {
			if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
				r = -errno;
			close(fd);
		}
		freeaddrinfo(ai);
		return r;
	}
	return -EINVAL;
}
