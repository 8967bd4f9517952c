/* SPDX-License-Identifier: MIT */
/* fabric-agent - what a fabric node lets the other nodes do to it.
 *
 * Root's authorized_keys gives each fabric node's key this program as its
 * forced command (pkg/fabric/paths.h), so a peer can run nothing else: the
 * verb it asked for arrives in SSH_ORIGINAL_COMMAND, is split into words
 * without any shell (kv_split_argv) and must be one of the table's. Data
 * (a configuration, keys) comes on stdin, bounded. mgmtd runs `accept`
 * locally when an admin joins this node to a fabric (POST
 * /api/v1/fabric/trust); spacectl runs `pubkey` and the rest locally too.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "buf.h"
#include "exitcode.h"
#include "fdio.h"
#include "json.h"
#include "kv.h"
#include "pkg/fabric/conf.h"
#include "pkg/fabric/keys.h"
#include "pkg/fabric/local.h"
#include "pkg/fabric/paths.h"
#include "pkg/hotpatch/state.h"
#include "pkg/libmgmt/ctl.h"
#include "pkg/libmgmt/records.h"
#include "pkg/libmgmt/release.h"
#include "pkg/libmgmt/upgstatus.h"
#include "run_pipe.h"
#include "subcmd.h"
#include "util.h"

#define USAGE                                                                                     \
	"usage: fabric-agent [--root DIR] VERB (over SSH: the verb is SSH_ORIGINAL_COMMAND)\n"    \
	"  pubkey       this node's fabric SSH public key (made on first use)\n"                  \
	"  accept NAME  stdin: node NAME's public key, which may then run this agent here;\n"     \
	"               prints this node's key\n"                                                 \
	"  info         KEY = VALUE: name, clock, free space on /var, fabric version,\n"          \
	"               whether it holds the VIP, release, hot-patch level, services\n"           \
	"  conf-put     stdin: the fabric configuration (refused if older than this node's)\n"    \
	"  keys-put     stdin: the nodes' keys (NAME ssh-ed25519 KEY); authorized_keys follows\n" \
	"  key-put      stdin: the heartbeat key (64 hex digits)\n"                               \
	"  pin ADDRESS  stdin: the mgmtd certificate (PEM) of the node at ADDRESS, pinned\n"      \
	"               in " FABRIC_PEERS_DIR "/ADDRESS.pem (the VIP node's, at a join)\n"        \
	"  leave        forget the fabric: configuration, keys, authorized fabric keys\n"         \
	"  put NAME     stdin: a hot-patch bundle NAME.tgz or a release image NAME.img,\n"        \
	"               kept in " FABRIC_SPOOL "\n"                                               \
	"  hotpatch-verify NAME | hotpatch-apply NAME | hotpatch-rollback\n"                      \
	"               this node's hotpatch tool on the bundle put here (as a fabric member)\n"  \
	"  gate block|unblock   device communication (spacectl devices)\n"                        \
	"  upgrade-stage NAME   spacectl upgrade (as a fabric member) of the image put here,\n"   \
	"               which is then removed: its slot is written and armed, no reboot\n"        \
	"  upgrade-cancel       disarm a staged upgrade (spacectl upgrade cancel)\n"              \
	"  upgrade-boot         arm the staged release (spacectl upgrade arm) and reboot\n"       \
	"  upgrade-rollback     spacectl upgrade rollback, then reboot\n"                         \
	"  log          the end of this node's hot-patch log\n"                                   \
	"Exit status: 0 success, 1 refused input, 100 usage, 111 system or I/O failure\n"         \
	"(README.md, Exit codes).\n"

#define STDIN_MAX FABRIC_CONF_MAX
#define FABRIC_SPOOL "/var/tmp/fabric" /* bundles sent by the VIP node */
#define BUNDLE_MAX (256ull << 20)
#define IMAGE_MAX (2ull << 30) /* a release image */
#define UPGRADE_STATUS "/var/lib/upgrade/status"
#define REBOOT_DELAY_S 1 /* the answer reaches the VIP node first */
#define LOG_TAIL (16u << 10)

static const char *root = "";

/* root + an absolute path (malloc'd; NULL when out of memory). */
static char *rp(const char *path)
{
	char *s;

	return asprintf(&s, "%s%s", root, path) < 0 ? NULL : s;
}

/* All of stdin, at most STDIN_MAX bytes (NUL-terminated). */
static int read_stdin(struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (b->len + (size_t)n > STDIN_MAX)
			return -EFBIG;
		buf_put(b, chunk, (size_t)n);
	}
	return buf_put(b, "", 0) < 0 ? -ENOMEM : 0;
}

/* This node's public key line; the key pair is made on first use. */
static int own_pubkey(char out[FABRIC_PUBKEY_MAX], struct space_err *err)
{
	char *id = rp(FABRIC_ID_PATH), *pub = NULL, *text = NULL, *dir = rp(FABRIC_DIR);
	const char *gen[] = { "dropbearkey", "-t", "ed25519", "-f", id, NULL };
	const char *show[] = { "dropbearkey", "-y", "-f", id, NULL };
	struct run_pipe p = { .max = 4096, .timeout_ms = 30000 };
	struct buf o;
	size_t len;
	int r;

	buf_init(&o);
	if (!id || !dir || asprintf(&pub, "%s.pub", id) < 0) {
		r = err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	/* the public half is kept beside the key: reading it needs no tool */
	if (read_file(pub, 4096, &text, &len) == 0 && fabric_pubkey_parse(text, out) == 0) {
		r = 0;
		goto out;
	}
	if ((r = mkdir_p(dir, 0700)) < 0 || (access(id, F_OK) < 0 && (r = run_pipe(gen, &p)) < 0)) {
		r = err_set(err, r, "make %s: %s", id, space_strerror(r));
		goto out;
	}
	p.out = &o;
	if ((r = run_pipe(show, &p)) < 0 || !o.p) {
		r = err_set(err, r < 0 ? r : -EIO, "read %s: %s", id, space_strerror(r));
		goto out;
	}
	for (char *l = o.p; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (fabric_pubkey_parse(l, out) == 0) {
			char line[FABRIC_PUBKEY_MAX + 1];

			snprintf(line, sizeof(line), "%s\n", out);
			r = write_file_atomic(pub, line, strlen(line), 0644);
			if (r < 0)
				r = err_set(err, r, "write %s: %s", pub, space_strerror(r));
			goto out;
		}
	r = err_set(err, -SPACE_E_FORMAT, "%s: dropbearkey printed no ssh-ed25519 key", id);
out:
	buf_free(&o);
	free(text);
	free(pub);
	free(id);
	free(dir);
	return r;
}

static int load_keys(struct fabric_keys *k, struct space_err *err)
{
	char *path = rp(FABRIC_KEYS_PATH), *text = NULL;
	size_t len = 0;
	int r;

	if (!path)
		return err_set(err, -ENOMEM, "out of memory");
	r = read_file(path, STDIN_MAX, &text, &len);
	if (r == -ENOENT) {
		memset(k, 0, sizeof(*k));
		r = 0;
	} else if (r < 0) {
		r = err_set(err, r, "read %s: %s", path, space_strerror(r));
	} else {
		r = fabric_keys_parse(text, len, k, err);
		if (r < 0)
			err_prefix(err, r, "%s", path);
	}
	free(text);
	free(path);
	return r;
}

/* nodes.keys and authorized_keys, from k. */
static int save_keys(const struct fabric_keys *k, struct space_err *err)
{
	char *path = rp(FABRIC_KEYS_PATH), *auth = rp(FABRIC_AUTH_PATH), *dir = rp(FABRIC_DIR);
	struct buf b;
	int r;

	buf_init(&b);
	fabric_keys_format(k, &b);
	if (!path || !auth || !dir || buf_failed(&b))
		r = err_set(err, -ENOMEM, "out of memory");
	else if ((r = mkdir_p(dir, 0700)) < 0 || (r = write_file_atomic(path, b.p ? b.p : "", b.len, 0644)) < 0)
		r = err_set(err, r, "write %s: %s", path, space_strerror(r));
	else
		r = fabric_authorize(auth, k, err);
	buf_free(&b);
	free(path);
	free(auth);
	free(dir);
	return r;
}

static int cmd_pubkey(int argc, char **argv)
{
	char key[FABRIC_PUBKEY_MAX];
	struct space_err e = { "" };
	int r;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	if ((r = own_pubkey(key, &e)) < 0)
		return die_err("pubkey", NULL, r, e.msg);
	printf("%s\n", key);
	return EXIT_OK;
}

static int cmd_accept(int argc, char **argv)
{
	char key[FABRIC_PUBKEY_MAX], own[FABRIC_PUBKEY_MAX];
	struct space_err e = { "" };
	struct fabric_keys k;
	struct buf in;
	int r;

	if (argc != 2 || !fabric_name_ok(argv[1]))
		return die_usage(USAGE);
	buf_init(&in);
	if ((r = read_stdin(&in)) < 0) {
		r = die_err("accept", argv[1], r, "reading its key");
		goto out;
	}
	if (fabric_pubkey_parse(in.p, key) < 0) {
		r = die_msg(EXIT_REFUSED, "accept", argv[1], "not an ssh-ed25519 public key");
		goto out;
	}
	if ((r = own_pubkey(own, &e)) < 0 || (r = load_keys(&k, &e)) < 0) {
		r = die_err("accept", argv[1], r, e.msg);
		goto out;
	}
	if (fabric_keys_set(&k, argv[1], key) < 0) {
		r = die_msg(EXIT_REFUSED, "accept", argv[1], "the fabric is full");
		goto out;
	}
	if ((r = save_keys(&k, &e)) < 0) {
		r = die_err("accept", argv[1], r, e.msg);
		goto out;
	}
	printf("%s\n", own);
	r = EXIT_OK;
out:
	buf_free(&in);
	return r;
}

/* The fabric version this node has (0: none), for info. */
static unsigned long conf_version(void)
{
	char *path = rp(FABRIC_CONF_PATH);
	struct fabric_conf c;
	unsigned long v = 0;

	if (path && fabric_conf_load(path, &c, NULL) == 0)
		v = c.version;
	free(path);
	return v;
}

/* The watchdog's services: how many, how many running. */
static void services(const char *sock, int *running, int *total)
{
	char *rep = NULL, st[32];

	*running = *total = -1;
	if (ctl_request(sock, "status", 5000, &rep) == 0) {
		*total = records_count(rep);
		*running = 0;
		for (int i = 0; i < *total; i++) {
			records_field(rep, i, "state", st, sizeof(st));
			*running += !strcmp(st, "running");
		}
	}
	free(rep);
}

/* The boot's id and the last upgrade (pkg/libmgmt/upgstatus.h): the VIP
 * node waits for a node it rebooted to come back and reads how its
 * upgrade ended. */
static void print_upgrade(void)
{
	char *path = rp(UPGRADE_STATUS), boot[37] = "";
	struct upg_status st;
	/* (a /proc file has no size: read_file would read nothing) */
	int line, fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);

	upg_status_init(&st);
	if (!path || upg_status_load(path, &st, &line) < 0)
		snprintf(st.state, sizeof(st.state), "unknown");
	if (fd >= 0 && read(fd, boot, sizeof(boot) - 1) < 0)
		boot[0] = '\0';
	boot[strcspn(boot, "\n")] = '\0';
	if (fd >= 0)
		close(fd);
	printf("boot_id = %s\nupgrade_state = %s\nupgrade_release = %s\nupgrade_reason = %s\n", boot, st.state,
	       st.release, st.reason);
	free(path);
}

/* KEY = VALUE lines about this node, for the node that runs the fabric:
 * its prechecks and `spacectl fabric show`. */
static int cmd_info(int argc, char **argv)
{
	char host[256] = "", gate[32] = "", *rel = rp("/etc/space-release"), *var = rp("/var");
	char *wd = rp("/run/watchdog.sock"), *dg = rp("/run/devgate.sock"), *conf = rp(FABRIC_CONF_PATH), *rep = NULL;
	struct release r = { .version = "" };
	struct fabric_conf c;
	struct statvfs vfs;
	int running, total, have;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	if (!rel || !var || !wd || !dg || !conf)
		return die_err("info", NULL, -ENOMEM, NULL);
	gethostname(host, sizeof(host) - 1);
	release_read(rel, &r);
	services(wd, &running, &total);
	if (ctl_request(dg, "status", 5000, &rep) == 0)
		records_field(rep, 0, "state", gate, sizeof(gate));
	have = fabric_conf_load(conf, &c, NULL) == 0;
	printf("name = %s\ntime = %lld\nvar_free_mb = %lld\nfabric_version = %lu\nholds_vip = %s\n", host,
	       (long long)time(NULL), statvfs(var, &vfs) == 0 ? (long long)(vfs.f_bavail * vfs.f_frsize >> 20) : -1LL,
	       have ? c.version : 0, have && fabric_addr_local(c.vip.ip) == 1 ? "yes" : "no");
	printf("release = %s\nhotpatch_level = %d\nservices_running = %d\nservices_total = %d\n"
	       "device_communication = %s\n",
	       r.version, r.version[0] ? hp_installed_level(root[0] ? root : "/", r.version) : -1,
	       running, total, gate[0] ? gate : "unknown");
	print_upgrade();
	free(rep);
	free(rel);
	free(var);
	free(wd);
	free(dg);
	free(conf);
	return EXIT_OK;
}

/* stdin into a file below the root, after check() accepts it. */
static int put_file(const char *verb, const char *path, mode_t mode,
		    int (*check)(const char *text, size_t len, struct space_err *err))
{
	char *full = rp(path), *dir = NULL, *slash;
	struct space_err e = { "" };
	struct buf in;
	int r;

	buf_init(&in);
	if (!full || !(dir = strdup(full))) {
		r = die_err(verb, path, -ENOMEM, NULL);
		goto out;
	}
	if ((r = read_stdin(&in)) < 0) {
		r = die_err(verb, path, r, "reading stdin");
		goto out;
	}
	if ((r = check(in.p, in.len, &e)) < 0) {
		r = die_err(verb, path, r, e.msg);
		goto out;
	}
	if ((slash = strrchr(dir, '/')) && slash != dir)
		*slash = '\0';
	if ((r = mkdir_p(dir, 0755)) < 0 || (r = write_file_atomic(full, in.p, in.len, mode)) < 0) {
		r = die_err(verb, path, r, NULL);
		goto out;
	}
	r = EXIT_OK;
out:
	buf_free(&in);
	free(full);
	free(dir);
	return r;
}

/* A configuration from the VIP node: valid, and not older than ours. */
static int check_conf(const char *text, size_t len, struct space_err *err)
{
	struct fabric_conf c;
	unsigned long have = conf_version();
	int r = fabric_conf_parse(text, len, &c, err);

	if (r < 0)
		return r;
	if (c.version < have)
		return err_set(err, -SPACE_E_FORMAT, "version %lu is older than this node's %lu", c.version, have);
	return 0;
}

/* fabricd reads a new configuration or key on SIGHUP (else within 10 s):
 * its pid is the watchdog's to tell. Only on a node (not under --root). */
static void reload_fabricd(void)
{
	char *rep = NULL, name[32], pid[16];
	long p;

	if (root[0] || ctl_request("/run/watchdog.sock", "status", 5000, &rep) < 0)
		goto out;
	for (int i = 0; i < records_count(rep); i++) {
		records_field(rep, i, "name", name, sizeof(name));
		records_field(rep, i, "pid", pid, sizeof(pid));
		if (!strcmp(name, "fabricd") && (p = atol(pid)) > 1)
			kill((pid_t)p, SIGHUP);
	}
out:
	free(rep);
}

static int cmd_conf_put(int argc, char **argv)
{
	int r;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	r = put_file("conf-put", FABRIC_CONF_STORE, 0644, check_conf);
	if (r == EXIT_OK)
		reload_fabricd();
	return r;
}

static int check_hexkey(const char *text, size_t len, struct space_err *err)
{
	if (len != 65 || strspn(text, "0123456789abcdef") != 64 || text[64] != '\n')
		return err_set(err, -SPACE_E_FORMAT, "want 64 lowercase hex digits and a newline");
	return 0;
}

static int cmd_key_put(int argc, char **argv)
{
	(void)argv;
	return argc != 1 ? die_usage(USAGE) : put_file("key-put", FABRIC_KEY_PATH, 0600, check_hexkey);
}

static int cmd_keys_put(int argc, char **argv)
{
	struct space_err e = { "" };
	struct fabric_keys k;
	struct buf in;
	int r;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	buf_init(&in);
	if ((r = read_stdin(&in)) < 0)
		r = die_err("keys-put", NULL, r, "reading stdin");
	else if ((r = fabric_keys_parse(in.p, in.len, &k, &e)) < 0 || (r = save_keys(&k, &e)) < 0)
		r = die_err("keys-put", NULL, r, e.msg);
	else
		r = EXIT_OK;
	buf_free(&in);
	return r;
}

/* One X.509 certificate in PEM, nothing else. */
static int check_cert(const char *text, size_t len, struct space_err *err)
{
	BIO *bio = BIO_new_mem_buf(text, (int)len);
	X509 *c = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	int r = c && len < 16384 && !strncmp(text, "-----BEGIN CERTIFICATE-----\n", 28) ? 0 : -SPACE_E_FORMAT;

	X509_free(c);
	BIO_free(bio);
	return r < 0 ? err_set(err, r, "not one PEM certificate") : 0;
}

static int cmd_pin(int argc, char **argv)
{
	struct fabric_addr a;
	char ip[INET_ADDRSTRLEN], path[128];

	if (argc != 2 || fabric_addr_parse(argv[1], 32, &a) < 0 || a.prefix != 32)
		return die_usage(USAGE);
	inet_ntop(AF_INET, &a.ip, ip, sizeof(ip));
	snprintf(path, sizeof(path), FABRIC_PEERS_DIR "/%s.pem", ip);
	return put_file("pin", path, 0644, check_cert);
}

/* The nodes' certificates pinned here: a node that left trusts none. */
static int forget_pins(void)
{
	char *dir = rp(FABRIC_PEERS_DIR);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	int r = 0;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT)
			r = die_err("leave", FABRIC_PEERS_DIR, -errno, e->d_name);
	if (d)
		closedir(d);
	free(dir);
	return r;
}

static int cmd_leave(int argc, char **argv)
{
	static const char *const gone[] = { FABRIC_CONF_STORE, FABRIC_KEY_PATH, FABRIC_KEYS_PATH, FABRIC_SELF_PATH };
	struct space_err e = { "" };
	struct fabric_keys none = { 0 };
	char *auth = rp(FABRIC_AUTH_PATH);
	int r = 0;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	/* the configuration first: from then on the node is standalone */
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]) && r == 0; i++) {
		char *p = rp(gone[i]);

		if (!p || (unlink(p) < 0 && errno != ENOENT))
			r = die_err("leave", gone[i], p ? -errno : -ENOMEM, NULL);
		free(p);
	}
	if (r == 0 && (!auth || (r = fabric_authorize(auth, &none, &e)) < 0))
		r = die_err("leave", FABRIC_AUTH_PATH, auth ? r : -ENOMEM, e.msg);
	if (r == 0)
		r = forget_pins();
	if (r == 0)
		reload_fabricd();
	free(auth);
	return r;
}

/* A spooled file's name: [A-Za-z0-9._-], no leading dot, ending in ext
 * (".tgz": a hot-patch bundle, ".img": a release image). */
static bool spool_name_ok(const char *s, const char *ext)
{
	size_t n = strlen(s);

	return n > 4 && n < 128 && s[0] != '.' && !strcmp(s + n - 4, ext) &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static bool bundle_name_ok(const char *s)
{
	return spool_name_ok(s, ".tgz");
}

/* stdin into SPOOL/NAME: a temporary name, fsync, rename; bounded. */
static int cmd_put(int argc, char **argv)
{
	char *dir = rp(FABRIC_SPOOL), *tmp = NULL, *dst = NULL, chunk[65536];
	uint64_t total = 0, max = BUNDLE_MAX;
	ssize_t n;
	int fd = -1, r;

	if (argc != 2 || (!bundle_name_ok(argv[1]) && !spool_name_ok(argv[1], ".img")))
		return die_usage(USAGE);
	if (!bundle_name_ok(argv[1]))
		max = IMAGE_MAX;
	if (!dir || asprintf(&tmp, "%s/.%s.part", dir, argv[1]) < 0 || asprintf(&dst, "%s/%s", dir, argv[1]) < 0) {
		r = die_err("put", argv[1], -ENOMEM, NULL);
		goto out;
	}
	if ((r = mkdir_p(dir, 0700)) < 0 ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		r = die_err("put", argv[1], r < 0 ? r : -errno, NULL);
		goto out;
	}
	while ((n = read(0, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (total += (uint64_t)n) > max || fd_write_full(fd, chunk, (size_t)n) < 0) {
			r = n < 0 || total <= max ? die_err("put", argv[1], -errno, NULL) : die_msg(EXIT_REFUSED, "put", argv[1], max == BUNDLE_MAX ? "larger than 256 MiB" : "larger than 2 GiB");
			goto out;
		}
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, dst) < 0) {
		fd = -1;
		r = die_err("put", argv[1], -errno, NULL);
		goto out;
	}
	fd = -1;
	r = EXIT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (r != EXIT_OK && tmp)
		unlink(tmp);
	free(dir);
	free(tmp);
	free(dst);
	return r;
}

/* Replace the agent by a tool (its output and exit code are the peer's
 * answer); root-relative paths only in --root mode (tests). */
static int exec_tool(const char *verb, const char *const argv[])
{
	execv(argv[0], (char *const *)argv);
	return die_err(verb, argv[0], -errno, NULL);
}

static int cmd_hotpatch(int argc, char **argv)
{
	const char *what = argv[0] + strlen("hotpatch-");
	char *bundle = NULL;
	int rollback = !strcmp(what, "rollback");

	if (argc != (rollback ? 1 : 2) || (!rollback && !bundle_name_ok(argv[1])))
		return die_usage(USAGE);
	if (!rollback && asprintf(&bundle, "%s/%s", FABRIC_SPOOL, argv[1]) < 0)
		return die_err(argv[0], NULL, -ENOMEM, NULL);
	if (rollback)
		return exec_tool(argv[0], (const char *[]){ "/usr/sbin/hotpatch", "rollback", NULL });
	if (!strcmp(what, "verify"))
		return exec_tool(argv[0], (const char *[]){ "/usr/sbin/hotpatch", "verify", bundle, NULL });
	return exec_tool(argv[0], (const char *[]){ "/usr/sbin/hotpatch", "apply", "--fabric-member", bundle, NULL });
}

static int cmd_gate(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "block") && strcmp(argv[1], "unblock")))
		return die_usage(USAGE);
	return exec_tool("gate", (const char *[]){ "/usr/bin/spacectl", "devices", argv[1], NULL });
}

/* The end of this node's hot-patch log, for the VIP node's report. */
static int cmd_log(int argc, char **argv)
{
	char *path = rp("/var/log/hotpatch/hotpatch.log"), buf[LOG_TAIL];
	ssize_t n = 0;
	off_t size;
	int fd;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (fd < 0) {
		free(path);
		return EXIT_OK; /* no log yet */
	}
	size = lseek(fd, 0, SEEK_END);
	if (size > 0)
		n = pread(fd, buf, sizeof(buf), size > (off_t)sizeof(buf) ? size - (off_t)sizeof(buf) : 0);
	if (n > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	free(path);
	return EXIT_OK;
}

/* Run a tool and wait: its exit code (its output is the peer's answer),
 * or EXIT_SYSTEM when it cannot run. */
static int run_tool(const char *verb, const char *const argv[])
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return die_err(verb, argv[0], -errno, NULL);
	if (pid == 0) {
		execv(argv[0], (char *const *)argv);
		_exit(EXIT_SYSTEM);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return die_err(verb, argv[0], -errno, NULL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_SYSTEM;
}

/* Reboot a moment after this answer has left: a child in its own session,
 * so the SSH session's end does not take it along. */
static int reboot_soon(const char *verb)
{
	pid_t pid;

	if (root[0])
		return EXIT_OK; /* --root (tests): not this machine's reboot */
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return die_err(verb, "reboot", -errno, NULL);
	if (pid == 0) {
		setsid();
		signal(SIGHUP, SIG_IGN);
		sleep(REBOOT_DELAY_S);
		execl("/sbin/reboot", "reboot", (char *)NULL);
		_exit(EXIT_SYSTEM);
	}
	printf("rebooting\n");
	return EXIT_OK;
}

/* The image put here, into the inactive slot, armed; then removed. */
static int cmd_upgrade_stage(int argc, char **argv)
{
	char *dir = NULL, *img = NULL;
	int r;

	if (argc != 2 || !spool_name_ok(argv[1], ".img"))
		return die_usage(USAGE);
	if (!(dir = rp(FABRIC_SPOOL)) || asprintf(&img, "%s/%s", dir, argv[1]) < 0) {
		free(dir);
		return die_err(argv[0], NULL, -ENOMEM, NULL);
	}
	r = run_tool(argv[0], (const char *[]){ "/usr/bin/spacectl", "upgrade", "--fabric-member", img, NULL });
	unlink(img);
	free(img);
	free(dir);
	return r;
}

static int cmd_upgrade_cancel(int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	return exec_tool("upgrade-cancel", (const char *[]){ "/usr/bin/spacectl", "upgrade", "cancel", NULL });
}

/* Arm the staged release and reboot into it: only a release that a
 * fabric upgrade staged here (spacectl upgrade arm refuses otherwise), so
 * a peer cannot reboot a node at will. */
static int cmd_upgrade_boot(int argc, char **argv)
{
	int r;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	r = run_tool("upgrade-boot", (const char *[]){ "/usr/bin/spacectl", "upgrade", "arm", NULL });
	return r == EXIT_OK ? reboot_soon("upgrade-boot") : r;
}

static int cmd_upgrade_rollback(int argc, char **argv)
{
	int r;

	(void)argv;
	if (argc != 1)
		return die_usage(USAGE);
	r = run_tool("upgrade-rollback", (const char *[]){ "/usr/bin/spacectl", "upgrade", "rollback", NULL });
	return r == EXIT_OK ? reboot_soon("upgrade-rollback") : r;
}

static const struct subcmd verbs[] = {
	{ "pubkey", cmd_pubkey },
	{ "accept", cmd_accept },
	{ "info", cmd_info },
	{ "conf-put", cmd_conf_put },
	{ "keys-put", cmd_keys_put },
	{ "key-put", cmd_key_put },
	{ "pin", cmd_pin },
	{ "leave", cmd_leave },
	{ "put", cmd_put },
	{ "hotpatch-verify", cmd_hotpatch },
	{ "hotpatch-apply", cmd_hotpatch },
	{ "hotpatch-rollback", cmd_hotpatch },
	{ "gate", cmd_gate },
	{ "log", cmd_log },
	{ "upgrade-stage", cmd_upgrade_stage },
	{ "upgrade-cancel", cmd_upgrade_cancel },
	{ "upgrade-boot", cmd_upgrade_boot },
	{ "upgrade-rollback", cmd_upgrade_rollback },
};

int main(int argc, char **argv)
{
	const char *remote = getenv("SSH_ORIGINAL_COMMAND");
	char **words = NULL, *av[8];
	int n, r;

	space_prog = "fabric-agent";
	if (remote) {
		/* a peer's request: its words only (never a --root), split
		 * without a shell; a verb takes at most one argument */
		n = kv_split_argv(remote, &words);
		if (n < 1 || n > 2) {
			kv_argv_free(n > 0 ? words : NULL);
			return die_msg(EXIT_USAGE, NULL, NULL, "malformed request");
		}
		av[0] = argv[0];
		for (int i = 0; i < n; i++)
			av[i + 1] = words[i];
		av[n + 1] = NULL;
		r = subcmd_run(verbs, sizeof(verbs) / sizeof(verbs[0]), USAGE, EXIT_USAGE, n + 1, av);
		kv_argv_free(words);
		return r;
	}
	if (argc > 2 && !strcmp(argv[1], "--root")) {
		/* "/" is this machine (fabric_rpc's local calls pass it): no
		 * prefix, and a reboot or fabricd's reload is real */
		root = strcmp(argv[2], "/") ? argv[2] : "";
		argv += 2;
		argc -= 2;
	}
	return subcmd_run(verbs, sizeof(verbs) / sizeof(verbs[0]), USAGE, EXIT_USAGE, argc, argv);
}
