/* SPDX-License-Identifier: MIT */
/* svcconf.c - watchdog service definition parser. */
#include <errno.h>
#include <netdb.h>
#include <stddef.h>
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

/* The numeric keys: range, kv_int units, what the value is multiplied by,
 * and where it goes (a long, or an int when is_int). */
static const struct num_key {
	const char *key;
	long long min, max;
	int units, scale, is_int;
	size_t off;
} num_keys[] = {
	{ "backoff_ms", 1, 3600000, 0, 1, 0, offsetof(struct svc_conf, backoff_ms) },
	{ "backoff_max_ms", 1, 86400000, 0, 1, 0, offsetof(struct svc_conf, backoff_max_ms) },
	{ "max_restarts", 1, 100000, 0, 1, 1, offsetof(struct svc_conf, max_restarts) },
	{ "restart_window", 1, 86400, 1, 1, 0, offsetof(struct svc_conf, restart_window) },
	{ "stop_timeout", 1, 3600, 1, 1000, 0, offsetof(struct svc_conf, stop_timeout_ms) },
	{ "ready_timeout", 1, 3600, 1, 1000, 0, offsetof(struct svc_conf, ready_timeout_ms) },
	{ "order", -1000000, 1000000, 0, 1, 1, offsetof(struct svc_conf, order) },
};

static int set_num(struct ctx *x, const struct num_key *k, const char *v)
{
	long long n;
	int r = num(x, k->key, v, k->min, k->max, k->units, &n);

	if (r)
		return r;
	if (k->is_int)
		*(int *)((char *)x->c + k->off) = (int)n;
	else
		*(long *)((char *)x->c + k->off) = (long)n * k->scale;
	return 0;
}

static int set_name(struct ctx *x, const char *key, const char *v)
{
	for (const char *p = v; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return bad(x, key, "only letters, digits, '-', '_', '.'");
	if (!*v || strlen(v) > 63)
		return bad(x, key, "1 to 63 characters");
	return set_str(&x->c->name, v);
}

/* exec, ready_command: a command line, its program an absolute path. */
static int set_argv(struct ctx *x, const char *key, const char *v)
{
	char ***slot = key[0] == 'e' ? &x->c->argv : &x->c->ready_argv;
	char **argv;
	int r = kv_split_argv(v, &argv);

	if (r < 0)
		return r == -ENOMEM ? r : bad(x, key, "empty or unterminated quote");
	if (argv[0][0] != '/') {
		kv_argv_free(argv);
		return bad(x, key, "program must be an absolute path");
	}
	kv_argv_free(*slot);
	*slot = argv;
	return 0;
}

static int set_user(struct ctx *x, const char *key, const char *v)
{
	(void)key;
	return set_str(&x->c->user, v);
}

/* env: one KEY=VALUE more. */
static int add_env(struct ctx *x, const char *key, const char *v)
{
	struct svc_conf *c = x->c;
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
	return 0;
}

/* cwd, output: absolute paths. */
static int set_path(struct ctx *x, const char *key, const char *v)
{
	if (v[0] != '/')
		return bad(x, key, "must be an absolute path");
	return set_str(key[0] == 'c' ? &x->c->cwd : &x->c->output, v);
}

static int set_restart(struct ctx *x, const char *key, const char *v)
{
	if (!strcmp(v, "always"))
		x->c->restart = RESTART_ALWAYS;
	else if (!strcmp(v, "on-failure"))
		x->c->restart = RESTART_ON_FAILURE;
	else if (!strcmp(v, "never"))
		x->c->restart = RESTART_NEVER;
	else
		return bad(x, key, "expected always, on-failure or never");
	return 0;
}

static int set_ready_socket(struct ctx *x, const char *key, const char *v)
{
	if (strncmp(v, "tcp:", 4) && strncmp(v, "unix:", 5))
		return bad(x, key, "expected tcp:HOST:PORT or unix:PATH");
	if (!strncmp(v, "tcp:", 4) && !strrchr(v + 4, ':'))
		return bad(x, key, "expected tcp:HOST:PORT");
	return set_str(&x->c->ready_socket, v);
}

static const struct text_key {
	const char *key;
	int (*set)(struct ctx *x, const char *key, const char *v);
} text_keys[] = {
	{ "name", set_name },
	{ "exec", set_argv },
	{ "ready_command", set_argv },
	{ "user", set_user },
	{ "env", add_env },
	{ "cwd", set_path },
	{ "output", set_path },
	{ "restart", set_restart },
	{ "ready_socket", set_ready_socket },
};

static int conf_cb(void *vctx, const char *key, const char *v, int line)
{
	struct ctx *x = vctx;

	(void)line;
	for (size_t i = 0; i < sizeof(text_keys) / sizeof(text_keys[0]); i++)
		if (!strcmp(key, text_keys[i].key))
			return text_keys[i].set(x, key, v);
	for (size_t i = 0; i < sizeof(num_keys) / sizeof(num_keys[0]); i++)
		if (!strcmp(key, num_keys[i].key))
			return set_num(x, &num_keys[i], v);
	return bad(x, key, "unknown key");
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
