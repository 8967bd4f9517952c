/* SPDX-License-Identifier: MIT */
/* conf.c - the fabric's configuration file (conf.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "kv.h"
#include "util.h"

struct parser {
	struct fabric_conf *c;
	struct space_err *err;
	unsigned seen; /* SEEN_* bits of the single-valued keys */
};

enum { SEEN_VERSION = 1,
       SEEN_VIP = 2,
       SEEN_DEV = 4,
       SEEN_TAKEOVER = 8 };

static uint32_t mask_of(unsigned prefix)
{
	return prefix ? htonl(0xffffffffu << (32 - prefix)) : 0;
}

static bool same_subnet(const struct fabric_addr *a, const struct fabric_addr *b)
{
	uint32_t m = mask_of(a->prefix < b->prefix ? a->prefix : b->prefix);

	return (a->ip.s_addr & m) == (b->ip.s_addr & m);
}

int fabric_addr_parse(const char *s, unsigned prefix_default, struct fabric_addr *a)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long long p = prefix_default;

	if (n == 0 || n >= sizeof(ip))
		return -SPACE_E_FORMAT;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &a->ip) != 1)
		return -SPACE_E_FORMAT;
	if (slash && kv_int(slash + 1, 1, 32, 0, &p) < 0)
		return -SPACE_E_FORMAT;
	if (p < 1 || p > 32 || a->ip.s_addr == 0 || a->ip.s_addr == INADDR_BROADCAST)
		return -SPACE_E_FORMAT;
	a->prefix = (unsigned)p;
	return 0;
}

void fabric_addr_str(const struct fabric_addr *a, char *out, size_t n)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->ip, ip, sizeof(ip));
	snprintf(out, n, "%s/%u", ip, a->prefix);
}

bool fabric_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FABRIC_NAME_MAX || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int fabric_node_find(const struct fabric_conf *c, struct in_addr addr)
{
	for (unsigned i = 0; i < c->nnodes; i++)
		if (c->nodes[i].addr.ip.s_addr == addr.s_addr)
			return (int)i;
	return -1;
}

static int find_name(const struct fabric_conf *c, const char *name)
{
	for (unsigned i = 0; i < c->nnodes; i++)
		if (!strcmp(c->nodes[i].name, name))
			return (int)i;
	return -1;
}

/* "ADDR/PREFIX NAME": a new node, checked against the ones before it. */
static int parse_node(const char *v, struct fabric_conf *c, struct space_err *err)
{
	struct fabric_node n = { 0 };
	char addr[64];
	const char *sp = strchr(v, ' ');

	if (!sp || (size_t)(sp - v) >= sizeof(addr))
		return err_set(err, -SPACE_E_FORMAT, "node: want 'ADDRESS/PREFIX NAME'");
	memcpy(addr, v, (size_t)(sp - v));
	addr[sp - v] = '\0';
	while (*sp == ' ')
		sp++;
	if (fabric_addr_parse(addr, 0, &n.addr) < 0)
		return err_set(err, -SPACE_E_FORMAT, "node: bad address '%s' (want A.B.C.D/PREFIX)", addr);
	if (!fabric_name_ok(sp))
		return err_set(err, -SPACE_E_FORMAT, "node: bad name (1 to %d of a-z, 0-9, '-')", FABRIC_NAME_MAX);
	snprintf(n.name, sizeof(n.name), "%s", sp);
	/* in a file, a full table or a repeat is a malformed file */
	return fabric_conf_add_node(c, &n, err) < 0 ? -SPACE_E_FORMAT : 0;
}

int fabric_conf_add_node(struct fabric_conf *c, const struct fabric_node *n, struct space_err *err)
{
	char a[32];

	fabric_addr_str(&n->addr, a, sizeof(a));
	if (c->nnodes == FABRIC_NODES_MAX)
		return err_set(err, -ENOSPC, "node %s: a fabric has at most %d nodes", a, FABRIC_NODES_MAX);
	if (fabric_node_find(c, n->addr.ip) >= 0)
		return err_set(err, -EEXIST, "node %s: listed twice", a);
	if (find_name(c, n->name) >= 0)
		return err_set(err, -EEXIST, "node %s: name %s is taken", a, n->name);
	if (c->nnodes && !same_subnet(&c->nodes[0].addr, &n->addr))
		return err_set(err, -SPACE_E_FORMAT, "node %s: not in the first node's subnet", a);
	c->nodes[c->nnodes++] = *n;
	return 0;
}

static int single(struct parser *p, unsigned bit, const char *key)
{
	if (p->seen & bit)
		return err_set(p->err, -SPACE_E_FORMAT, "%s: given twice", key);
	p->seen |= bit;
	return 0;
}

static int on_entry(void *ctx, const char *key, const char *value, int line)
{
	struct parser *p = ctx;
	struct fabric_conf *c = p->c;
	long long v;
	int r;

	(void)line;
	if (!strcmp(key, "node"))
		return parse_node(value, c, p->err);
	if (!strcmp(key, "version")) {
		if ((r = single(p, SEEN_VERSION, key)) < 0)
			return r;
		if (kv_int(value, 1, 1LL << 40, 0, &v) < 0)
			return err_set(p->err, -SPACE_E_FORMAT, "version: want a number from 1");
		c->version = (unsigned long)v;
	} else if (!strcmp(key, "vip")) {
		if ((r = single(p, SEEN_VIP, key)) < 0)
			return r;
		if (fabric_addr_parse(value, 0, &c->vip) < 0)
			return err_set(p->err, -SPACE_E_FORMAT, "vip: bad address '%s' (want A.B.C.D/PREFIX)", value);
	} else if (!strcmp(key, "dev")) {
		if ((r = single(p, SEEN_DEV, key)) < 0)
			return r;
		if (!*value || strlen(value) > FABRIC_DEV_MAX || strchr(value, '/') ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(value))
			return err_set(p->err, -SPACE_E_FORMAT, "dev: bad interface name");
		snprintf(c->dev, sizeof(c->dev), "%s", value);
	} else if (!strcmp(key, "takeover")) {
		if ((r = single(p, SEEN_TAKEOVER, key)) < 0)
			return r;
		if (kv_int(value, 2, 300, 1, &v) < 0)
			return err_set(p->err, -SPACE_E_FORMAT, "takeover: want 2 to 300 seconds");
		c->takeover = (unsigned)v;
	} else {
		return err_set(p->err, -SPACE_E_FORMAT, "unknown key '%s'", key);
	}
	return 0;
}

/* What must hold once every line is read. */
static int check_whole(const struct parser *p)
{
	const struct fabric_conf *c = p->c;

	if (!(p->seen & SEEN_VERSION))
		return err_set(p->err, -SPACE_E_FORMAT, "no version");
	if (!(p->seen & SEEN_VIP))
		return err_set(p->err, -SPACE_E_FORMAT, "no vip");
	if (c->nnodes == 0)
		return err_set(p->err, -SPACE_E_FORMAT, "no node");
	if (!same_subnet(&c->vip, &c->nodes[0].addr))
		return err_set(p->err, -SPACE_E_FORMAT, "vip: not in the nodes' subnet");
	if (fabric_node_find(c, c->vip.ip) >= 0)
		return err_set(p->err, -SPACE_E_FORMAT, "vip: is a node's own address");
	return 0;
}

int fabric_conf_parse(const char *text, size_t len, struct fabric_conf *c, struct space_err *err)
{
	struct parser p = { .c = c, .err = err };
	int line = 0, r;

	memset(c, 0, sizeof(*c));
	snprintf(c->dev, sizeof(c->dev), "eth0");
	c->takeover = FABRIC_TAKEOVER_DEFAULT;
	err_clear(err);
	r = kv_parse(text, len, on_entry, &p, &line);
	if (r < 0) {
		if (err && !err->msg[0])
			err_set(err, r, "malformed line");
		return err_prefix(err, r, "line %d", line);
	}
	return check_whole(&p);
}

int fabric_conf_load(const char *path, struct fabric_conf *c, struct space_err *err)
{
	char *text;
	size_t len;
	int r;

	r = read_file(path, FABRIC_CONF_MAX, &text, &len);
	if (r < 0)
		return err_set(err, r, "%s: %s", path, space_strerror(r));
	r = fabric_conf_parse(text, len, c, err);
	free(text);
	if (r < 0)
		return err_prefix(err, r, "%s", path);
	return 0;
}

int fabric_conf_format(const struct fabric_conf *c, struct buf *b)
{
	char a[32];

	buf_printf(b, "# The fabric (spacectl fabric writes it on the VIP node and copies it\n"
		      "# to every node; README.md \"Fabric\").\n");
	buf_printf(b, "version = %lu\n", c->version);
	fabric_addr_str(&c->vip, a, sizeof(a));
	buf_printf(b, "vip = %s\ndev = %s\ntakeover = %u\n", a, c->dev, c->takeover);
	for (unsigned i = 0; i < c->nnodes; i++) {
		fabric_addr_str(&c->nodes[i].addr, a, sizeof(a));
		buf_printf(b, "node = %s %s\n", a, c->nodes[i].name);
	}
	return buf_failed(b);
}

int fabric_conf_save(const char *path, const struct fabric_conf *c, struct space_err *err)
{
	struct buf b;
	int r;

	buf_init(&b);
	r = fabric_conf_format(c, &b);
	if (r == 0)
		r = write_file_atomic(path, b.p, b.len, 0644);
	buf_free(&b);
	if (r < 0)
		return err_set(err, r, "write %s: %s", path, space_strerror(r));
	return 0;
}

int fabric_conf_remove(struct fabric_conf *c, struct in_addr addr, struct space_err *err)
{
	int i = fabric_node_find(c, addr);
	char ip[INET_ADDRSTRLEN];

	if (i < 0) {
		inet_ntop(AF_INET, &addr, ip, sizeof(ip));
		return err_set(err, -ENOENT, "node %s: not in the fabric", ip);
	}
	memmove(&c->nodes[i], &c->nodes[i + 1], (c->nnodes - (unsigned)i - 1) * sizeof(c->nodes[0]));
	c->nnodes--;
	c->version++;
	return 0;
}
