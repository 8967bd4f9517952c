/* SPDX-License-Identifier: MIT */
/* test_fabric_conf.c - unit tests for pkg/fabric/conf.c: the fabric's
 * configuration file read, refused, written back and changed. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "pkg/fabric/conf.h"
#include "tap.h"
#include "util.h"

static const char GOOD[] = "# two nodes\n"
			   "version = 3\n"
			   "vip = 10.9.0.100/24\n"
			   "dev = eth1\n"
			   "takeover = 8\n"
			   "node = 10.9.0.1/24 n1\n"
			   "node = 10.9.0.2/24 n2\n";

static int parse(const char *text, struct fabric_conf *c, struct space_err *e)
{
	return fabric_conf_parse(text, strlen(text), c, e);
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* A whole file: every key, the nodes in their order, the defaults. */
static void test_parse(void)
{
	struct fabric_conf c;
	struct space_err e = { "" };
	char a[32];

	is_int(parse(GOOD, &c, &e), 0, "a fabric of two nodes parses (%s)", e.msg);
	is_int(c.version, 3, "version");
	fabric_addr_str(&c.vip, a, sizeof(a));
	ok(!strcmp(a, "10.9.0.100/24"), "vip %s", a);
	ok(!strcmp(c.dev, "eth1"), "dev");
	is_int(c.takeover, 8, "takeover");
	is_int(c.nnodes, 2, "two nodes");
	ok(!strcmp(c.nodes[0].name, "n1") && !strcmp(c.nodes[1].name, "n2"), "in the file's order");
	is_int(fabric_node_find(&c, ip("10.9.0.2")), 1, "the second node is found by its address");
	is_int(fabric_node_find(&c, ip("10.9.0.3")), -1, "an address not in the fabric");
	is_int(parse("version=1\nvip=10.0.0.9/8\nnode=10.1.2.3/8 a\n", &c, &e), 0, "defaults apply");
	ok(!strcmp(c.dev, "eth0") && c.takeover == FABRIC_TAKEOVER_DEFAULT, "dev eth0, takeover %d s",
	   FABRIC_TAKEOVER_DEFAULT);
	is_int(parse("version=1\nvip=10.0.0.9/8\nnode=10.1.2.3/8 a\ntakeover=2m\n", &c, &e), 0,
	       "takeover in minutes");
	is_int(c.takeover, 120, "  2m is 120 s");
}

/* Every refusal names the line and the reason. */
static void test_refusals(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "vip=10.9.0.100/24\nnode=10.9.0.1/24 a\n", "no version" },
		{ "version=1\nnode=10.9.0.1/24 a\n", "no vip" },
		{ "version=1\nvip=10.9.0.100/24\n", "no node" },
		{ "version=0\nvip=10.9.0.100/24\nnode=10.9.0.1/24 a\n", "line 1: version: want a number from 1" },
		{ "version=1\nversion=2\n", "line 2: version: given twice" },
		{ "version=1\ncolour=red\n", "line 2: unknown key 'colour'" },
		{ "version=1\nvip=10.9.0.300/24\n", "line 2: vip: bad address '10.9.0.300/24' (want A.B.C.D/PREFIX)" },
		{ "version=1\nvip=10.9.0.3/33\n", "line 2: vip: bad address '10.9.0.3/33' (want A.B.C.D/PREFIX)" },
		{ "version=1\nvip=10.9.0.3\n", "line 2: vip: bad address '10.9.0.3' (want A.B.C.D/PREFIX)" },
		{ "version=1\nnode=10.9.0.1/24\n", "line 2: node: want 'ADDRESS/PREFIX NAME'" },
		{ "version=1\nnode=10.9.0.1/24 Bad_Name\n", "line 2: node: bad name (1 to 31 of a-z, 0-9, '-')" },
		{ "version=1\nnode=10.9.0.1/24 a\nnode=10.9.0.1/24 b\n", "line 3: node 10.9.0.1/24: listed twice" },
		{ "version=1\nnode=10.9.0.1/24 a\nnode=10.9.0.2/24 a\n", "line 3: node 10.9.0.2/24: name a is taken" },
		{ "version=1\nnode=10.9.0.1/24 a\nnode=10.9.1.2/24 b\n",
		  "line 3: node 10.9.1.2/24: not in the first node's subnet" },
		{ "version=1\nvip=10.8.0.100/24\nnode=10.9.0.1/24 a\n", "vip: not in the nodes' subnet" },
		{ "version=1\nvip=10.9.0.1/24\nnode=10.9.0.1/24 a\n", "vip: is a node's own address" },
		{ "version=1\ndev=../x\n", "line 2: dev: bad interface name" },
		{ "version=1\ndev=abcdefghijklmnop\n", "line 2: dev: bad interface name" },
		{ "version=1\ntakeover=1\n", "line 2: takeover: want 2 to 300 seconds" },
		{ "version=1\nno equals sign\n", "line 2: malformed line" },
	};
	struct fabric_conf c;
	struct space_err e;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err_clear(&e);
		is_int(parse(bad[i].text, &c, &e), -SPACE_E_FORMAT, "refused: %s", bad[i].msg);
		ok(!strcmp(e.msg, bad[i].msg), "  says so: '%s'", e.msg);
	}
	is_int(fabric_conf_parse("version=1\0", 10, &c, &e), -SPACE_E_FORMAT, "a NUL byte is refused");
}

/* The node table is bounded: FABRIC_NODES_MAX nodes fill it, one more is
 * refused, in a file and through fabric_conf_add_node. */
static void test_full(void)
{
	struct fabric_conf c;
	struct fabric_node n = { 0 };
	struct space_err e;
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "version=1\nvip=10.9.0.100/24\n");
	for (int i = 1; i <= FABRIC_NODES_MAX; i++)
		buf_printf(&b, "node = 10.9.0.%d/24 n%d\n", i, i);
	is_int(fabric_conf_parse(b.p, b.len, &c, &e), 0, "%d nodes fill the table", FABRIC_NODES_MAX);
	buf_printf(&b, "node = 10.9.0.%d/24 n%d\n", FABRIC_NODES_MAX + 1, FABRIC_NODES_MAX + 1);
	is_int(fabric_conf_parse(b.p, b.len, &c, &e), -SPACE_E_FORMAT, "one more is refused");
	ok(strstr(e.msg, "a fabric has at most 8 nodes") != NULL, "  says so: %s", e.msg);
	buf_free(&b);

	is_int(parse(GOOD, &c, &e), 0, "two nodes");
	for (int i = 3; i <= FABRIC_NODES_MAX; i++) {
		fabric_addr_parse("10.9.0.50/24", 0, &n.addr);
		n.addr.ip.s_addr = htonl(ntohl(n.addr.ip.s_addr) + (unsigned)i);
		snprintf(n.name, sizeof(n.name), "x%d", i);
		if (fabric_conf_add_node(&c, &n, &e) < 0)
			break;
	}
	is_int(c.nnodes, FABRIC_NODES_MAX, "fabric_conf_add_node fills the table");
	n.addr.ip = ip("10.9.0.99");
	snprintf(n.name, sizeof(n.name), "last");
	is_int(fabric_conf_add_node(&c, &n, &e), -ENOSPC, "and refuses one more");
}

/* Written, read back the same; add and remove change the version. */
static void test_round_trip(void)
{
	char dir[] = "/tmp/test_fabric_conf.XXXXXX", path[64];
	struct fabric_conf c, d;
	struct fabric_node n = { 0 };
	struct space_err e;
	struct buf b;

	ok(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(path, sizeof(path), "%s/space-cluster.conf", dir);
	is_int(fabric_conf_load(path, &c, &e), -ENOENT, "no file: standalone (-ENOENT)");
	is_int(parse(GOOD, &c, &e), 0, "parse");
	is_int(fabric_conf_save(path, &c, &e), 0, "save");
	is_int(fabric_conf_load(path, &d, &e), 0, "load what was saved");
	ok(!memcmp(&c, &d, sizeof(c)), "the same configuration comes back");
	buf_init(&b);
	fabric_conf_format(&c, &b);
	ok(strstr(b.p, "node = 10.9.0.2/24 n2\n") != NULL, "a node line as the operator reads it");
	buf_free(&b);

	fabric_addr_parse("10.9.0.3/24", 0, &n.addr);
	snprintf(n.name, sizeof(n.name), "n3");
	is_int(fabric_conf_add_node(&c, &n, &e), 0, "add a third node");
	is_int(fabric_conf_add_node(&c, &n, &e), -EEXIST, "not twice");
	ok(!strcmp(e.msg, "node 10.9.0.3/24: listed twice"), "  says so: %s", e.msg);
	is_int(fabric_conf_remove(&c, ip("10.9.0.1"), &e), 0, "remove the first");
	ok(c.version == 4 && c.nnodes == 2 && !strcmp(c.nodes[0].name, "n2"), "the others move up, version 4");
	is_int(fabric_conf_remove(&c, ip("10.9.0.1"), &e), -ENOENT, "removing it again");
	ok(!strcmp(e.msg, "node 10.9.0.1: not in the fabric"), "  says so: %s", e.msg);
	unlink(path);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/fabric_conf/parse", test_parse },
		{ "/fabric_conf/refusals", test_refusals },
		{ "/fabric_conf/full", test_full },
		{ "/fabric_conf/round_trip", test_round_trip },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
