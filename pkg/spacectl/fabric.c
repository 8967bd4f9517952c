/* SPDX-License-Identifier: MIT */
/* fabric.c - `spacectl fabric`: form a fabric of nodes and see it
 * (README.md "Fabric"; issue 10).
 *
 * Everything a node keeps about the fabric is written by its own
 * fabric-agent: here through a local exec, on the other nodes through
 * dbclient with this node's fabric key, whose only command there is the
 * agent. The one call made before the nodes trust each other is the join:
 * admin's password for the new node opens a session on its management API
 * (HTTPS, its certificate pinned from then on), and POST
 * /api/v1/fabric/trust swaps the two nodes' keys.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "kv.h"
#include "pkg/fabric/conf.h"
#include "pkg/fabric/https.h"
#include "pkg/fabric/keys.h"
#include "pkg/fabric/local.h"
#include "pkg/fabric/paths.h"
#include "pkg/fabric/rpc.h"
#include "spacectl.h"
#include "subcmd.h"
#include "util.h"

#define FABRIC_USAGE                                                                               \
	"usage: spacectl [--json] [--root DIR] fabric VERB ...\n"                                  \
	"  init --vip A.B.C.D/P [--dev IF] [--takeover SEC] [--address A.B.C.D/P] [--name NAME]\n" \
	"                   make this node a fabric of one that will hold the virtual address\n"   \
	"  add-node ADDRESS [--name NAME]\n"                                                       \
	"                   on the VIP node: asks for ADDRESS's admin password once, joins it\n"   \
	"  remove-node ADDRESS\n"                                                                  \
	"                   on the VIP node: the node leaves, the others forget it\n"              \
	"  show             each node's address, role, reachability, release, hot-patch level\n"   \
	"                   and services (--json: the same as GET /api/v1/fabric)\n"               \
	"Exit status: 0 success, 1 refused or a node unreachable (show), 100 usage,\n"             \
	"111 system or I/O failure (README.md, Exit codes).\n"

struct fab {
	const char *root; /* "" or a prefix (tests) */
	int json;
	const char *vip, *dev, *address, *name, *takeover;
	struct fabric_conf conf;
	struct fabric_keys keys;
	char conf_path[4096];
};

static void path_in(const struct fab *f, char *out, size_t n, const char *path)
{
	snprintf(out, n, "%s%s", f->root, path);
}

/* Run the agent's verb (with one argument or none) on node i, or here
 * when i < 0: in on its stdin, its stdout into out. */
static int agent(const struct fab *f, int i, const char *verb, const char *arg, const struct buf *in,
		 struct buf *out, struct space_err *err)
{
	struct fabric_rpc q = { .root = f->root, .conf = &f->conf, .node = i, .in = in ? in->p : NULL, .inlen = in ? in->len : 0, .out = out };

	return fabric_rpc(&q, verb, arg, err);
}

static int load(struct fab *f, struct space_err *err)
{
	char kp[4096], *text = NULL;
	size_t len;
	int r;

	path_in(f, f->conf_path, sizeof(f->conf_path), FABRIC_CONF_PATH);
	r = fabric_conf_load(f->conf_path, &f->conf, err);
	if (r == -ENOENT)
		return err_set(err, -SPACE_E_FORMAT, "this node is in no fabric (spacectl fabric init first)");
	if (r < 0)
		return r;
	path_in(f, kp, sizeof(kp), FABRIC_KEYS_PATH);
	r = read_file(kp, FABRIC_CONF_MAX, &text, &len);
	if (r < 0)
		return err_set(err, r, "read %s: %s", kp, space_strerror(r));
	r = fabric_keys_parse(text, len, &f->keys, err);
	free(text);
	return r < 0 ? err_prefix(err, r, "%s", kp) : 0;
}

/* Send the keys, the heartbeat key and the configuration to node i (-1:
 * this node), in that order: a node never has a configuration naming a
 * peer whose key it does not accept. */
static int push(const struct fab *f, int i, struct space_err *err)
{
	char kp[4096], *hk = NULL;
	size_t len;
	struct buf keys, conf, hkey = { 0 };
	int r;

	buf_init(&keys);
	buf_init(&conf);
	fabric_keys_format(&f->keys, &keys);
	fabric_conf_format(&f->conf, &conf);
	path_in(f, kp, sizeof(kp), FABRIC_KEY_PATH);
	r = read_file(kp, 128, &hk, &len);
	if (r < 0) {
		err_set(err, r, "read %s: %s", kp, space_strerror(r));
		goto out;
	}
	hkey.p = hk;
	hkey.len = len;
	if ((r = agent(f, i, "keys-put", NULL, &keys, NULL, err)) == 0 &&
	    (r = agent(f, i, "key-put", NULL, &hkey, NULL, err)) == 0)
		r = agent(f, i, "conf-put", NULL, &conf, NULL, err);
out:
	if (hk)
		explicit_bzero(hk, len);
	free(hk);
	buf_free(&keys);
	buf_free(&conf);
	return r;
}

/* What the nodes will accept: the configuration as the agent reads it. */
static int check_conf(const struct fabric_conf *c, struct space_err *err)
{
	struct fabric_conf back;
	struct buf b;
	int r;

	buf_init(&b);
	r = fabric_conf_format(c, &b);
	if (r == 0)
		r = fabric_conf_parse(b.p, b.len, &back, err);
	buf_free(&b);
	return r;
}

/* This node's name: --name, else its host name as a node name. */
static void own_name(const struct fab *f, char out[FABRIC_NAME_MAX + 1])
{
	if (f->name)
		snprintf(out, FABRIC_NAME_MAX + 1, "%s", f->name);
	else
		fabric_host_name(out);
}

/* A new heartbeat key: 32 random bytes as hex, and a newline. */
static int new_hkey(struct buf *b)
{
	unsigned char k[32];
	char hex[65];

	if (getrandom(k, sizeof(k), 0) != sizeof(k))
		return -errno;
	hex_encode(k, sizeof(k), hex);
	explicit_bzero(k, sizeof(k));
	buf_printf(b, "%s\n", hex);
	explicit_bzero(hex, sizeof(hex));
	return buf_failed(b);
}

static int fab_init(struct fab *f, struct space_err *err)
{
	struct fabric_node self = { 0 };
	struct buf out, hk;
	char key[FABRIC_PUBKEY_MAX];
	long long t = FABRIC_TAKEOVER_DEFAULT;
	int r;

	path_in(f, f->conf_path, sizeof(f->conf_path), FABRIC_CONF_PATH);
	if (access(f->conf_path, F_OK) == 0)
		return err_set(err, -SPACE_E_FORMAT, "this node is in a fabric already (%s)", f->conf_path);
	memset(&f->conf, 0, sizeof(f->conf));
	snprintf(f->conf.dev, sizeof(f->conf.dev), "%s", f->dev ? f->dev : "eth0");
	if (!f->vip || fabric_addr_parse(f->vip, 0, &f->conf.vip) < 0)
		return err_set(err, -SPACE_E_FORMAT, "--vip: want A.B.C.D/PREFIX");
	if (f->takeover && kv_int(f->takeover, 2, 300, 1, &t) < 0)
		return err_set(err, -SPACE_E_FORMAT, "--takeover: want 2 to 300 seconds");
	if (f->address ? fabric_addr_parse(f->address, f->conf.vip.prefix, &self.addr) < 0 : fabric_dev_addr(f->conf.dev, &self.addr) < 0)
		return err_set(err, -SPACE_E_FORMAT, f->address ? "--address: want A.B.C.D[/PREFIX]" : "%s has no IPv4 address: give --address", f->conf.dev);
	f->conf.takeover = (unsigned)t;
	f->conf.version = 1;
	own_name(f, self.name);
	if ((r = fabric_conf_add_node(&f->conf, &self, err)) < 0 || (r = check_conf(&f->conf, err)) < 0)
		return r;
	buf_init(&out);
	buf_init(&hk);
	r = agent(f, -1, "pubkey", NULL, NULL, &out, err);
	if (r == 0 && fabric_pubkey_parse(out.p ? out.p : "", key) < 0)
		r = err_set(err, -SPACE_E_FORMAT, "fabric-agent pubkey: not a key");
	if (r == 0 && (r = fabric_keys_set(&f->keys, self.name, key)) == 0 && (r = new_hkey(&hk)) == 0)
		r = agent(f, -1, "key-put", NULL, &hk, NULL, err);
	if (r == 0)
		r = push(f, -1, err);
	if (hk.p)
		explicit_bzero(hk.p, hk.len);
	buf_free(&hk);
	buf_free(&out);
	return r;
}

/* admin's password for the node being joined: from the terminal without
 * echo, else one line of stdin (a script). */
static int ask_password(const char *addr, char *pw, size_t n)
{
	struct termios old, quiet;
	FILE *tty = fopen("/dev/tty", "r+");
	FILE *in = tty ? tty : stdin;
	int noecho = tty && tcgetattr(fileno(tty), &old) == 0;
	int r = 0;

	if (tty) {
		fprintf(tty, "admin password of %s: ", addr);
		fflush(tty);
	}
	if (noecho) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	if (!fgets(pw, (int)n, in))
		r = -EIO;
	if (noecho) {
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
		fputc('\n', tty);
	}
	if (tty)
		fclose(tty);
	pw[strcspn(pw, "\r\n")] = '\0';
	return r;
}

/* One call to the new node's API; a status other than 200 is refused
 * with the API's own error text. */
static int api(struct https_req *q, struct https_resp *resp, struct space_err *err)
{
	char *msg = NULL;
	int r = https_request(q, resp, err);

	if (r < 0 || resp->status == 200)
		return r;
	json_get_string(resp->body.p ? resp->body.p : "", resp->body.len, "error", &msg);
	r = err_set(err, resp->status == 401 || resp->status == 403 ? -SPACE_E_UNTRUSTED : -SPACE_E_FORMAT, "%s %s: %d %s",
		    q->method, q->path, resp->status, msg ? msg : "");
	free(msg);
	return r;
}

/* The join's one authenticated exchange with the new node's mgmtd: our
 * key for its key and name; its certificate is pinned. */
static int trust(struct fab *f, const char *addr, const char *mykey, char *peerkey, char *peername,
		 struct space_err *err)
{
	char pw[256] = "", *token = NULL, *k = NULL, *nm = NULL, dir[2048], pin[4096], *cert = NULL;
	char myaddr[INET_ADDRSTRLEN];
	const struct fabric_node *self;
	size_t certlen = 0;
	struct https_req q = { .host = addr, .port = 443, .method = "POST", .timeout_ms = 15000 };
	struct https_resp resp;
	struct buf body;
	struct jw w;
	int r;

	buf_init(&body);
	if ((r = ask_password(addr, pw, sizeof(pw))) < 0) {
		err_set(err, r, "no password given");
		goto out;
	}
	jw_init(&w, &body);
	jw_obj_begin(&w);
	jw_kstr(&w, "username", "admin");
	jw_kstr(&w, "password", pw);
	jw_obj_end(&w);
	explicit_bzero(pw, sizeof(pw));
	q.path = "/api/v1/login";
	q.body = body.p;
	q.bodylen = body.len;
	r = api(&q, &resp, err);
	explicit_bzero(body.p, body.len);
	if (r == 0 && json_get_string(resp.body.p, resp.body.len, "token", &token) < 0)
		r = err_set(err, -SPACE_E_FORMAT, "login: no token in the answer");
	buf_free(&resp.body);
	if (r < 0)
		goto out;
	fprintf(stderr, "spacectl: fabric add-node %s: its certificate %s is pinned\n", addr, resp.fingerprint);
	buf_reset(&body);
	jw_init(&w, &body);
	jw_obj_begin(&w);
	self = &f->conf.nodes[fabric_self(&f->conf) < 0 ? 0 : fabric_self(&f->conf)];
	inet_ntop(AF_INET, &self->addr.ip, myaddr, sizeof(myaddr));
	jw_kstr(&w, "name", self->name);
	jw_kstr(&w, "ssh_key", mykey);
	/* the new node pins this node's certificate, as this one pins its */
	path_in(f, dir, sizeof(dir), FABRIC_MGMTD_CERT);
	if (read_file(dir, 16384, &cert, &certlen) == 0) {
		jw_kstr(&w, "cert", cert);
		jw_kstr(&w, "address", myaddr);
	}
	jw_obj_end(&w);
	q.path = "/api/v1/fabric/trust";
	q.body = body.p;
	q.bodylen = body.len;
	q.bearer = token;
	q.pin = resp.cert_pem[0] ? strdup(resp.cert_pem) : NULL;
	r = api(&q, &resp, err);
	if (r == 0 && (json_get_string(resp.body.p, resp.body.len, "ssh_key", &k) < 0 ||
		       json_get_string(resp.body.p, resp.body.len, "name", &nm) < 0 ||
		       fabric_pubkey_parse(k, peerkey) < 0 || strlen(nm) > FABRIC_NAME_MAX))
		r = err_set(err, -SPACE_E_FORMAT, "fabric/trust: no key or name in the answer");
	if (r == 0) {
		snprintf(peername, FABRIC_NAME_MAX + 1, "%s", nm);
		path_in(f, dir, sizeof(dir), FABRIC_PEERS_DIR);
		snprintf(pin, sizeof(pin), "%s/%s.pem", dir, addr);
		if ((r = mkdir_p(dir, 0700)) == 0)
			r = write_file_atomic(pin, q.pin, strlen(q.pin), 0644);
		if (r < 0)
			err_set(err, r, "pin %s: %s", addr, space_strerror(r));
	}
	buf_free(&resp.body);
	q.path = "/api/v1/logout";
	q.body = NULL;
	if (https_request(&q, &resp, NULL) == 0)
		buf_free(&resp.body);
	free((char *)q.pin);
out:
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	free(k);
	free(nm);
	free(cert);
	buf_free(&body);
	return r;
}

/* add-node and remove-node run on the node that holds the virtual
 * address: the one place that changes the fabric. */
static int on_vip_node(const struct fab *f, struct space_err *err)
{
	char a[32];

	if (f->root[0] || fabric_addr_local(f->conf.vip.ip) == 1)
		return 0;
	fabric_addr_str(&f->conf.vip, a, sizeof(a));
	return err_set(err, -SPACE_E_FORMAT, "this node does not hold the virtual address %s: run it on the VIP node",
		       a);
}

/* Send the changed fabric to every node, this one last. */
static int push_all(const struct fab *f, struct space_err *err)
{
	int self = fabric_self(&f->conf), r;

	for (int i = 0; i < (int)f->conf.nnodes; i++)
		if (i != self && (r = push(f, i, err)) < 0)
			return r;
	return push(f, -1, err);
}

static int fab_add(struct fab *f, const char *arg, struct space_err *err)
{
	char addr[INET_ADDRSTRLEN], mykey[FABRIC_PUBKEY_MAX], peerkey[FABRIC_PUBKEY_MAX], peername[FABRIC_NAME_MAX + 1];
	struct fabric_node n = { 0 };
	struct buf out;
	int r;

	if ((r = load(f, err)) < 0 || (r = on_vip_node(f, err)) < 0)
		return r;
	if (fabric_addr_parse(arg, f->conf.nodes[0].addr.prefix, &n.addr) < 0)
		return err_set(err, -SPACE_E_FORMAT, "want A.B.C.D[/PREFIX]");
	inet_ntop(AF_INET, &n.addr.ip, addr, sizeof(addr));
	if (fabric_node_find(&f->conf, n.addr.ip) >= 0)
		return err_set(err, -SPACE_E_FORMAT, "already in the fabric");
	buf_init(&out);
	r = agent(f, -1, "pubkey", NULL, NULL, &out, err);
	if (r == 0 && fabric_pubkey_parse(out.p ? out.p : "", mykey) < 0)
		r = err_set(err, -SPACE_E_FORMAT, "fabric-agent pubkey: not a key");
	buf_free(&out);
	if (r < 0 || (r = trust(f, addr, mykey, peerkey, peername, err)) < 0)
		return r;
	snprintf(n.name, sizeof(n.name), "%s", f->name ? f->name : peername);
	if ((r = fabric_conf_add_node(&f->conf, &n, err)) < 0)
		return r;
	f->conf.version++;
	if ((r = check_conf(&f->conf, err)) < 0)
		return r;
	if (fabric_keys_set(&f->keys, n.name, peerkey) < 0)
		return err_set(err, -ENOSPC, "the fabric is full");
	return push_all(f, err);
}

static int fab_remove(struct fab *f, const char *arg, struct space_err *err)
{
	struct fabric_addr a;
	int i, r;

	if ((r = load(f, err)) < 0 || (r = on_vip_node(f, err)) < 0)
		return r;
	if (fabric_addr_parse(arg, 32, &a) < 0)
		return err_set(err, -SPACE_E_FORMAT, "want A.B.C.D");
	if ((i = fabric_node_find(&f->conf, a.ip)) < 0)
		return err_set(err, -SPACE_E_FORMAT, "not in the fabric");
	if (i == fabric_self(&f->conf))
		return err_set(err, -SPACE_E_FORMAT, "this is the VIP node: remove the others first, or move the VIP");
	/* a node that cannot be reached is forgotten all the same */
	if (agent(f, i, "leave", NULL, NULL, NULL, err) < 0)
		fprintf(stderr, "spacectl: fabric remove-node %s: %s (forgotten anyway)\n", arg, err->msg);
	for (unsigned k = 0; k < f->keys.n; k++)
		if (!strcmp(f->keys.k[k].name, f->conf.nodes[i].name)) {
			memmove(&f->keys.k[k], &f->keys.k[k + 1], (f->keys.n - k - 1) * sizeof(f->keys.k[0]));
			f->keys.n--;
			break;
		}
	if ((r = fabric_conf_remove(&f->conf, a.ip, err)) < 0)
		return r;
	return push_all(f, err);
}

/* ------------------------------------------------------------ show */

/* What node i said of itself (agent info), or why it did not answer. */
struct node_info {
	int reachable;
	char err[SPACE_ERR_MAX];
	struct fabric_info fi;
};

static void ask_info(const struct fab *f, int i, struct node_info *ni)
{
	struct fabric_rpc q = { .root = f->root, .conf = &f->conf, .node = i == fabric_self(&f->conf) ? -1 : i, .timeout_ms = 10000 };
	struct space_err e = { "" };

	memset(ni, 0, sizeof(*ni));
	ni->reachable = fabric_rpc_info(&q, &ni->fi, &e) == 0;
	snprintf(ni->err, sizeof(ni->err), "%s", ni->reachable ? "" : e.msg);
}

static void show_json(const struct fab *f, const struct node_info *ni)
{
	struct buf b;
	struct jw w;
	char a[32];

	buf_init(&b);
	jw_init(&w, &b);
	jw_obj_begin(&w);
	jw_kint(&w, "version", (long long)f->conf.version);
	fabric_addr_str(&f->conf.vip, a, sizeof(a));
	jw_kstr(&w, "vip", a);
	jw_kstr(&w, "dev", f->conf.dev);
	jw_kint(&w, "takeover", f->conf.takeover);
	jw_key(&w, "nodes");
	jw_arr_begin(&w);
	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		jw_obj_begin(&w);
		jw_kstr(&w, "name", f->conf.nodes[i].name);
		fabric_addr_str(&f->conf.nodes[i].addr, a, sizeof(a));
		jw_kstr(&w, "address", a);
		jw_kstr(&w, "role", !strcmp(ni[i].fi.holds, "yes") ? "vip" : "member");
		jw_kbool(&w, "reachable", ni[i].reachable);
		jw_kstr(&w, "release", ni[i].reachable ? ni[i].fi.release : NULL);
		jw_kint(&w, "hotpatch_level", ni[i].reachable ? atoi(ni[i].fi.level) : -1);
		jw_kint(&w, "services_running", ni[i].reachable ? atoi(ni[i].fi.running) : -1);
		jw_kint(&w, "services_total", ni[i].reachable ? atoi(ni[i].fi.total) : -1);
		jw_kstr(&w, "device_communication", ni[i].reachable ? ni[i].fi.gate : NULL);
		jw_kstr(&w, "error", ni[i].reachable ? NULL : ni[i].err);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
	print_json(&b);
}

static void show_text(const struct fab *f, const struct node_info *ni)
{
	char a[32];

	fabric_addr_str(&f->conf.vip, a, sizeof(a));
	printf("fabric version %lu, virtual address %s on %s, takeover after %u s\n", f->conf.version, a, f->conf.dev,
	       f->conf.takeover);
	printf("%-12s %-18s %-7s %-9s %-12s %-8s %-9s %s\n", "NODE", "ADDRESS", "ROLE", "REACHABLE", "RELEASE",
	       "HOTPATCH", "SERVICES", "DEVICES");
	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		char svc[40];

		fabric_addr_str(&f->conf.nodes[i].addr, a, sizeof(a));
		snprintf(svc, sizeof(svc), "%s/%s", ni[i].fi.running, ni[i].fi.total);
		if (!ni[i].reachable) {
			printf("%-12s %-18s %-7s %-9s %s\n", f->conf.nodes[i].name, a, "-", "no", ni[i].err);
			continue;
		}
		printf("%-12s %-18s %-7s %-9s %-12s v%-7s %-9s %s\n", f->conf.nodes[i].name, a,
		       !strcmp(ni[i].fi.holds, "yes") ? "vip" : "member", "yes", ni[i].fi.release, ni[i].fi.level, svc, ni[i].fi.gate);
	}
}

static int fab_show(struct fab *f, struct space_err *err)
{
	struct node_info ni[FABRIC_NODES_MAX];
	int r, all = 1;

	if ((r = load(f, err)) < 0)
		return r;
	for (unsigned i = 0; i < f->conf.nnodes; i++) {
		ask_info(f, (int)i, &ni[i]);
		all &= ni[i].reachable;
	}
	if (f->json)
		show_json(f, ni);
	else
		show_text(f, ni);
	return all ? 0 : 1;
}

/* ------------------------------------------------------------ verbs */

static struct fab fab;

static int verb_init(int argc, char **argv)
{
	struct space_err e = { "" };
	int r;

	(void)argv;
	if (argc != 1)
		return die_usage(FABRIC_USAGE);
	r = fab_init(&fab, &e);
	return r < 0 ? die_err("fabric init", NULL, r, e.msg) : EX_OK;
}

static int verb_add(int argc, char **argv)
{
	struct space_err e = { "" };
	int r;

	if (argc != 2)
		return die_usage(FABRIC_USAGE);
	r = fab_add(&fab, argv[1], &e);
	if (r < 0)
		return die_err("fabric add-node", argv[1], r, e.msg);
	printf("node %s joined: fabric version %lu, %u nodes\n", argv[1], fab.conf.version, fab.conf.nnodes);
	return EX_OK;
}

static int verb_remove(int argc, char **argv)
{
	struct space_err e = { "" };
	int r;

	if (argc != 2)
		return die_usage(FABRIC_USAGE);
	r = fab_remove(&fab, argv[1], &e);
	if (r < 0)
		return die_err("fabric remove-node", argv[1], r, e.msg);
	printf("node %s removed: fabric version %lu, %u nodes\n", argv[1], fab.conf.version, fab.conf.nnodes);
	return EX_OK;
}

static int verb_show(int argc, char **argv)
{
	struct space_err e = { "" };
	int r;

	(void)argv;
	if (argc != 1)
		return die_usage(FABRIC_USAGE);
	r = fab_show(&fab, &e);
	return r < 0 ? die_err("fabric show", NULL, r, e.msg) : r;
}

/* `spacectl [--json] [--root DIR] fabric VERB [OPTIONS] [ARG]`: argv from
 * spacectl's own argv[0]; fabric has options of its own. */
int cmd_fabric(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "root", required_argument, NULL, 'r' },
		{ "vip", required_argument, NULL, 'v' },
		{ "dev", required_argument, NULL, 'd' },
		{ "address", required_argument, NULL, 'a' },
		{ "name", required_argument, NULL, 'n' },
		{ "takeover", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct subcmd verbs[] = {
		{ "init", verb_init },
		{ "add-node", verb_add },
		{ "remove-node", verb_remove },
		{ "show", verb_show },
	};
	char *args[8];
	int opt, n = 0;

	fab.root = "";
	while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case 'j': fab.json = 1; break;
		case 'r': fab.root = strcmp(optarg, "/") ? optarg : ""; break;
		case 'v': fab.vip = optarg; break;
		case 'd': fab.dev = optarg; break;
		case 'a': fab.address = optarg; break;
		case 'n': fab.name = optarg; break;
		case 't': fab.takeover = optarg; break;
		case 'h': fputs(FABRIC_USAGE, stdout); return EX_OK;
		default: return die_usage(FABRIC_USAGE);
		}
	}
	/* what is left: "fabric", the verb and its argument */
	if (argc - optind < 2 || argc - optind > 3 || strcmp(argv[optind], "fabric"))
		return die_usage(FABRIC_USAGE);
	args[n++] = argv[optind];
	for (int i = optind + 1; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	return subcmd_run(verbs, sizeof(verbs) / sizeof(verbs[0]), FABRIC_USAGE, EX_USAGE, n, args);
}
