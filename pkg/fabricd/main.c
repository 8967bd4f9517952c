/* SPDX-License-Identifier: MIT */
/* fabricd - the fabric's virtual-IP daemon (issue 10, item 2), started by
 * the watchdog on every node.
 *
 * Standalone (no /etc/space-cluster.conf) it reports ready and idles,
 * reading the configuration again on SIGHUP and every 10 s. In a fabric it
 * finds itself in the node list by its interfaces' addresses, puts its own
 * fabric address on dev when missing, sends a heartbeat a second to every
 * other node (proto.h) and follows who holds the virtual IP (vip.h). Its
 * state is in /run/fabricd.state (KEY = VALUE, written atomically, once a
 * second), its events one line each on stderr (the watchdog's output).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "arp.h"
#include "buf.h"
#include "exitcode.h"
#include "kv.h"
#include "pkg/fabric/conf.h"
#include "pkg/fabric/paths.h"
#include "pkg/libmgmt/daemon.h"
#include "proto.h"
#include "util.h"
#include "vip.h"

#define USAGE                                                                                   \
	"usage: fabricd [--conf PATH] [--key PATH] [--state PATH] [--port N] [--ip-cmd PATH]\n" \
	"               [--self PATH]\n"                                                        \
	"  --conf    the fabric's configuration (default /etc/space-cluster.conf;\n"            \
	"            none: standalone, idle)\n"                                                 \
	"  --key     the fabric key, 64 hex digits, mode 0600 (default /var/etc/fabric/key)\n"  \
	"  --state   the status file (default /run/fabricd.state)\n"                            \
	"  --port    heartbeat UDP port (default 7810)\n"                                       \
	"  --ip-cmd  the ip command that adds and deletes addresses (default ip)\n"             \
	"  --self    this node's name, kept to find itself when its address is not up\n"        \
	"            (default /var/etc/fabric/self)\n"                                          \
	"Reads the configuration again on SIGHUP and every 10 s; SIGTERM stops it\n"            \
	"and keeps the virtual IP on dev if held (the next start holds it on).\n"               \
	"Exit: 0 stopped by SIGTERM/SIGINT, 100 usage, 111 cannot start\n"                      \
	"      (the contract of every space tool: README.md, Exit codes).\n"

#define RECHECK_MS 10000 /* configuration and key read again */
#define TICK_MS 100      /* the loop's resolution: claims, probes */
#define RECV_BATCH 256   /* datagrams taken per round: a flood yields */
#define PROBE_GAP_MS 500 /* a second probe, in case the first is lost */
#define ANNOUNCES 3
#define ANNOUNCE_GAP_MS 1000
#define DROP_LOG_MS 10000 /* dropped datagrams summed up at most this often */

enum mode { M_STANDALONE,
	    M_BADCONF,
	    M_OUTSIDE,
	    M_NOKEY,
	    M_FABRIC };
static const char *const mode_names[] = { "standalone", "error", "outside", "nokey", "fabric" };

static struct {
	const char *conf, *key, *state, *ip, *self;
	long long port;
} opt = { FABRIC_CONF_PATH, FABRIC_KEY_PATH, FABRIC_STATE_PATH, "ip", FABRIC_SELF_PATH, FD_PORT };

static struct {
	enum mode mode;
	char why[SPACE_ERR_MAX]; /* the last reason logged for not being in the fabric */
	struct fabric_conf conf;
	bool have_conf, have_key;
	uint8_t key[FD_KEY_LEN];
	struct fd_mac mac;
	int udp;
	struct arp_sock arp;
	bool probing, stopped, on_dev;
	int probes_left, announces_left;
	long long next_probe, next_announce;
	struct fd_peers peers;
	struct vip vip;
	uint64_t seq;
	long long next_hb, next_check, next_state, next_droplog;
	unsigned long drops_logged[FD_VERDICT_COUNT];
} d = { .udp = -1, .arp = { .fd = -1 } };

static void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vstamp(stderr, "fabricd", fmt, ap);
	va_end(ap);
}

static void log_hook(const char *msg)
{
	logmsg("%s", msg);
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct fabric_node *self_node(void)
{
	return &d.conf.nodes[d.peers.self];
}

/* ------------------------------------------------------------ addresses */

static unsigned prefix_of(const struct sockaddr *mask)
{
	uint32_t m = mask ? ntohl(((const struct sockaddr_in *)mask)->sin_addr.s_addr) : 0;
	unsigned n = 0;

	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return n;
}

/* Whether ip (with prefix, unless 0) is on dev (NULL: on any interface). */
static bool addr_on(const char *dev, struct in_addr ip, unsigned prefix)
{
	struct ifaddrs *all, *a;
	bool found = false;

	if (getifaddrs(&all) < 0)
		return false;
	for (a = all; a && !found; a = a->ifa_next) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)a->ifa_addr;

		if (!sin || sin->sin_family != AF_INET || sin->sin_addr.s_addr != ip.s_addr)
			continue;
		if (dev && strcmp(a->ifa_name, dev))
			continue;
		found = !prefix || prefix_of(a->ifa_netmask) == prefix;
	}
	freeifaddrs(all);
	return found;
}

/* This node in c: by an address it has, else (a boot: the address is
 * not up yet) by the name it kept when it last found itself. */
static int find_self(const struct fabric_conf *c)
{
	char *kept = NULL, line[FABRIC_NAME_MAX + 2];
	size_t len = 0;
	int self = -1;

	for (unsigned i = 0; i < c->nnodes && self < 0; i++)
		if (addr_on(NULL, c->nodes[i].addr.ip, 0))
			self = (int)i;
	if (read_file(opt.self, sizeof(line), &kept, &len) < 0)
		kept = NULL;
	if (self >= 0) {
		snprintf(line, sizeof(line), "%s\n", c->nodes[self].name);
		if (!kept || strcmp(kept, line))
			write_file_atomic(opt.self, line, strlen(line), 0644);
	}
	for (unsigned i = 0; i < c->nnodes && self < 0 && kept; i++) {
		snprintf(line, sizeof(line), "%s\n", c->nodes[i].name);
		if (!strcmp(kept, line))
			self = (int)i;
	}
	free(kept);
	return self;
}

/* ip addr add|del A/P dev DEV: one argv, never a shell string. */
static int ip_addr(const char *verb, const struct fabric_addr *a)
{
	char s[32];
	const char *argv[] = { opt.ip, "addr", verb, s, "dev", d.conf.dev, NULL };

	fabric_addr_str(a, s, sizeof(s));
	return run_argv(argv);
}

static int vip_add(void)
{
	int r = ip_addr("add", &d.conf.vip);

	/* already there (a race with ourselves, an admin): that is the goal */
	if (r < 0 && addr_on(d.conf.dev, d.conf.vip.ip, 0))
		r = 0;
	if (r < 0)
		logmsg("vip: ip addr add: %s", space_strerror(r));
	return r;
}

static int vip_del(void)
{
	int r = ip_addr("del", &d.conf.vip);

	if (r < 0 && !addr_on(d.conf.dev, d.conf.vip.ip, 0))
		r = 0;
	if (r < 0)
		logmsg("vip: ip addr del: %s", space_strerror(r));
	return r;
}

/* ------------------------------------------------------------ ARP */

static int arp_ensure(void)
{
	struct space_err err = { "" };
	int r;

	if (d.arp.fd >= 0)
		return 0;
	r = arp_open(&d.arp, d.conf.dev, &err);
	if (r < 0)
		logmsg("arp: %s", err_msg(&err, r));
	return r;
}

static void arp_done_maybe(void)
{
	if (!d.probing && !d.announces_left)
		arp_close(&d.arp);
}

static int host_probe(void)
{
	int r = arp_ensure();

	if (r == 0)
		r = arp_send(&d.arp, d.conf.vip.ip, 0);
	if (r < 0) {
		logmsg("arp: probe on %s: %s", d.conf.dev, space_strerror(r));
		return r;
	}
	d.probing = true;
	d.probes_left = 1;
	d.next_probe = mono_ms() + PROBE_GAP_MS;
	return 0;
}

static void host_probe_end(void)
{
	d.probing = false;
	d.probes_left = 0;
	arp_done_maybe();
}

static void host_announce(void)
{
	if (arp_ensure() < 0)
		return;
	d.announces_left = ANNOUNCES;
	d.next_announce = mono_ms();
}

struct vip_host vip_host = {
	.addr_add = vip_add,
	.addr_del = vip_del,
	.probe = host_probe,
	.probe_end = host_probe_end,
	.announce = host_announce,
	.log = logmsg,
};

/* The second probe and the announcements, when due. */
static void arp_timers(long long now)
{
	if (d.probing && d.probes_left && now >= d.next_probe) {
		d.probes_left--;
		arp_send(&d.arp, d.conf.vip.ip, 0);
	}
	if (d.announces_left && now >= d.next_announce && d.arp.fd >= 0) {
		int r = arp_send(&d.arp, d.conf.vip.ip, 1);

		if (r < 0)
			logmsg("arp: announcement on %s: %s", d.conf.dev, space_strerror(r));
		d.announces_left--;
		d.next_announce = now + ANNOUNCE_GAP_MS;
		arp_done_maybe();
	}
}

static void arp_input(long long now)
{
	if (!arp_read(&d.arp, d.conf.vip.ip, d.vip.conflict, sizeof(d.vip.conflict)) || !d.probing)
		return;
	vip_event(&d.vip, VE_CONFLICT, now);
}

/* ------------------------------------------------------------ heartbeats */

static int udp_open(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port), .sin_addr = self_node()->addr.ip };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static void send_heartbeats(void)
{
	struct fd_hb h = { .index = (uint8_t)d.peers.self, .holder = d.vip.state == VS_HOLDER, .conf_version = d.conf.version };
	uint8_t dg[FD_DGRAM_LEN];
	int64_t now = real_ms();

	/* the sender's clock, but never the same twice (proto.h) */
	d.seq = (uint64_t)now > d.seq ? (uint64_t)now : d.seq + 1;
	h.seq = d.seq;
	if (fd_hb_encode(&d.mac, &h, dg) < 0)
		return;
	for (unsigned i = 0; i < d.peers.n; i++) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port), .sin_addr = d.peers.p[i].addr };

		if ((int)i != d.peers.self)
			sendto(d.udp, dg, sizeof(dg), MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
	}
}

static void receive(long long now)
{
	uint8_t buf[FD_DGRAM_LEN + 1]; /* one more: a longer datagram is seen as such */

	for (int k = 0; k < RECV_BATCH; k++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(d.udp, buf, sizeof(buf), MSG_TRUNC, (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		fd_peers_receive(&d.peers, &d.mac, from.sin_addr, buf, (size_t)n, now, real_ms());
	}
}

/* One line for the datagrams dropped since the last, at most every 10 s:
 * a flood must not flood the log too. */
static void log_drops(long long now)
{
	struct buf b;
	unsigned long total = 0;

	if (now < d.next_droplog)
		return;
	d.next_droplog = now + DROP_LOG_MS;
	buf_init(&b);
	for (int v = FD_OK + 1; v < FD_VERDICT_COUNT; v++) {
		unsigned long k = d.peers.drops[v] - d.drops_logged[v];

		if (k)
			buf_printf(&b, "%s%s %lu", total ? ", " : "", fd_verdict_name((enum fd_verdict)v), k);
		total += k;
		d.drops_logged[v] = d.peers.drops[v];
	}
	if (total && !buf_failed(&b))
		logmsg("dropped %lu datagrams (%s)", total, b.p);
	buf_free(&b);
}

static void peer_changed(void *ctx, int i, bool live)
{
	(void)ctx;
	logmsg("peer %s %s", d.peers.p[i].name, live ? "heard" : "lost");
}

/* ------------------------------------------------------------ status */

static const char *state_name(void)
{
	if (d.stopped)
		return "stopped";
	return d.mode == M_FABRIC ? vip_state_name(d.vip.state) : mode_names[d.mode];
}

static void status_peers(struct buf *b, long long now)
{
	char ip[INET_ADDRSTRLEN];

	for (unsigned i = 0; i < d.peers.n; i++) {
		const struct fd_peer *p = &d.peers.p[i];

		if ((int)i == d.peers.self)
			continue;
		inet_ntop(AF_INET, &p->addr, ip, sizeof(ip));
		buf_printf(b, "peer.%s.address = %s\n", p->name, ip);
		if (p->heard_ms)
			buf_printf(b, "peer.%s.heard = %.1f\n", p->name, (double)(now - p->heard_ms) / 1000);
		else
			buf_printf(b, "peer.%s.heard = never\n", p->name);
		buf_printf(b, "peer.%s.live = %d\npeer.%s.holder = %d\npeer.%s.conf_version = %llu\n", p->name,
			   p->live, p->name, p->live && p->holder, p->name, (unsigned long long)p->conf_version);
		buf_printf(b, "peer.%s.dropped = %lu\n", p->name, p->dropped);
	}
}

static void status_fabric(struct buf *b, long long now)
{
	char a[32], ip[INET_ADDRSTRLEN];
	int h = vip_holder(&d.vip);

	fabric_addr_str(&d.conf.vip, a, sizeof(a));
	buf_printf(b, "vip = %s\ndev = %s\ntakeover = %u\n", a, d.conf.dev, d.conf.takeover);
	inet_ntop(AF_INET, &self_node()->addr.ip, ip, sizeof(ip));
	buf_printf(b, "node = %s\naddress = %s\n", self_node()->name, ip);
	if (h >= 0) {
		inet_ntop(AF_INET, &d.peers.p[h].addr, ip, sizeof(ip));
		buf_printf(b, "holder = %s\nholder_address = %s\n", d.peers.p[h].name, ip);
	} else {
		buf_printf(b, "holder = -\nholder_address = -\n");
	}
	for (int v = FD_OK + 1; v < FD_VERDICT_COUNT; v++)
		buf_printf(b, "dropped.%s = %lu\n", fd_verdict_name((enum fd_verdict)v), d.peers.drops[v]);
	status_peers(b, now);
}

static int write_status(long long now)
{
	struct buf b;
	int r;

	buf_init(&b);
	buf_printf(&b, "# fabricd's status (rewritten every second)\nstate = %s\n", state_name());
	if (d.mode != M_FABRIC && d.why[0])
		kv_line(&b, "reason", d.why);
	if (d.have_conf)
		buf_printf(&b, "conf_version = %lu\n", d.conf.version);
	if (d.mode == M_FABRIC)
		status_fabric(&b, now);
	r = buf_failed(&b);
	if (r == 0)
		r = write_file_atomic(opt.state, b.p, b.len, 0644);
	buf_free(&b);
	d.next_state = now + 1000;
	return r;
}

/* ------------------------------------------------------------ membership */

/* Leave the fabric: release what is held, stop the heartbeats. */
static void leave(long long now, enum vip_event ev)
{
	vip_event(&d.vip, ev, now);
	if (d.udp >= 0)
		close(d.udp);
	d.udp = -1;
	d.on_dev = true;
	d.probing = false;
	d.announces_left = 0;
	arp_close(&d.arp);
}

/* Not in the fabric (or no longer): say why once. */
static void idle(long long now, enum mode m, const char *why)
{
	if (d.vip.state != VS_OFF)
		leave(now, VE_LEAVE);
	if (d.mode != m || strcmp(d.why, why))
		logmsg("%s: idle", why);
	/* a VIP kept by a run that was stopped (SIGTERM keeps it) on a node
	 * that is no longer in the fabric: not this node's to hold */
	if (m != M_STANDALONE && d.have_conf && addr_on(d.conf.dev, d.conf.vip.ip, 0) && vip_del() == 0) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &d.conf.vip.ip, a, sizeof(a));
		logmsg("vip %s released: this node is not in the fabric", a);
	}
	d.mode = m;
	snprintf(d.why, sizeof(d.why), "%s", why);
}

static int load_key(struct space_err *err)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	uint8_t key[FD_KEY_LEN];
	int r;

	if (stat(opt.key, &st) < 0)
		return err_set(err, -errno, "key %s: %s", opt.key, strerror(errno));
	if (st.st_mode & 077)
		return err_set(err, -SPACE_E_FORMAT, "key %s: mode %04o, want 0600", opt.key,
			       (unsigned)(st.st_mode & 07777));
	r = read_file(opt.key, 256, &text, &len);
	if (r < 0)
		return err_set(err, r, "key %s: %s", opt.key, space_strerror(r));
	r = fd_key_parse(text, len, key);
	explicit_bzero(text, len);
	free(text);
	if (r < 0)
		return err_set(err, r, "key %s: want 64 lowercase hex digits", opt.key);
	if (d.have_key && !memcmp(key, d.key, sizeof(key)))
		return 0;
	fd_mac_free(&d.mac);
	r = fd_mac_init(&d.mac, key, err);
	d.have_key = r == 0;
	memcpy(d.key, key, sizeof(key));
	explicit_bzero(key, sizeof(key));
	return r;
}

/* Put this node's fabric address on dev, open the heartbeat socket and
 * start the machine. */
static int enter(long long now)
{
	const struct fabric_node *me = self_node();
	char a[32];
	int r;

	fabric_addr_str(&me->addr, a, sizeof(a));
	if (!addr_on(d.conf.dev, me->addr.ip, me->addr.prefix)) {
		logmsg("node %s: %s is not on %s: adding it", me->name, a, d.conf.dev);
		r = ip_addr("add", &me->addr);
		if (r < 0) {
			logmsg("node %s: ip addr add %s dev %s: %s", me->name, a, d.conf.dev, space_strerror(r));
			return r;
		}
	}
	d.udp = udp_open();
	if (d.udp < 0) {
		logmsg("node %s: heartbeat socket %s:%lld: %s", me->name, a, opt.port, space_strerror(d.udp));
		return d.udp;
	}
	inet_ntop(AF_INET, &d.conf.vip.ip, d.vip.addr, sizeof(d.vip.addr));
	d.vip.peers = &d.peers;
	d.next_hb = now;
	d.on_dev = true;
	logmsg("node %s (%s) in fabric version %lu of %u nodes, vip %s on %s, takeover %u s", me->name, a,
	       d.conf.version, d.conf.nnodes, d.vip.addr, d.conf.dev, d.conf.takeover);
	d.mode = M_FABRIC;
	d.why[0] = '\0';
	vip_event(&d.vip, addr_on(d.conf.dev, d.conf.vip.ip, 0) ? VE_START_HELD : VE_START, now);
	return 0;
}

/* Whether c changes what the machine is built on (then: leave, enter). */
static bool conf_moved(const struct fabric_conf *c, int self)
{
	return memcmp(&c->vip, &d.conf.vip, sizeof(c->vip)) || strcmp(c->dev, d.conf.dev) ||
	       c->takeover != d.conf.takeover ||
	       c->nodes[self].addr.ip.s_addr != self_node()->addr.ip.s_addr;
}

/* A configuration that is there but cannot be read: keep the one in use
 * (a bad copy must not take the VIP away), and say so once. */
static void conf_unreadable(long long now, const struct space_err *err, int r)
{
	if (!d.have_conf) {
		idle(now, M_BADCONF, err_msg(err, r));
		return;
	}
	if (strcmp(d.why, err_msg(err, r)))
		logmsg("%s: version %lu stays in use", err_msg(err, r), d.conf.version);
	snprintf(d.why, sizeof(d.why), "%s", err_msg(err, r));
}

static void recheck(long long now)
{
	struct fabric_conf c;
	struct space_err err = { "" };
	int r, self;

	d.next_check = now + RECHECK_MS;
	r = fabric_conf_load(opt.conf, &c, &err);
	if (r == -ENOENT) {
		d.have_conf = false;
		idle(now, M_STANDALONE, "no fabric configuration: standalone");
		return;
	}
	if (r < 0) {
		conf_unreadable(now, &err, r);
		return;
	}
	self = find_self(&c);
	if (self < 0) {
		d.conf = c;
		d.have_conf = true;
		idle(now, M_OUTSIDE, "none of this node's addresses is in the fabric's node list");
		return;
	}
	if ((r = load_key(&err)) < 0) {
		d.conf = c;
		d.have_conf = true;
		idle(now, M_NOKEY, err_msg(&err, r));
		return;
	}
	if (d.mode == M_FABRIC && conf_moved(&c, self))
		leave(now, VE_LEAVE);
	if (d.have_conf && d.conf.version != c.version)
		logmsg("configuration version %lu (was %lu)", c.version, d.conf.version);
	d.conf = c;
	d.have_conf = true;
	fd_peers_set(&d.peers, &c, self);
	/* a failure is logged and tried again at the next check */
	if (d.vip.state == VS_OFF && enter(now) < 0) {
		d.mode = M_BADCONF;
		snprintf(d.why, sizeof(d.why), "cannot join the fabric (see the log)");
	}
}

/* ------------------------------------------------------------ the loop */

static void tick(long long now)
{
	enum vip_event ev;

	if (d.mode != M_FABRIC)
		return;
	if (now >= d.next_hb) {
		send_heartbeats();
		d.next_hb += 1000;
		if (d.next_hb <= now)
			d.next_hb = now + 1000;
		/* whether the VIP is still on dev: once a second is enough
		 * (getifaddrs is a netlink dump) */
		d.on_dev = d.vip.state != VS_HOLDER || addr_on(d.conf.dev, d.conf.vip.ip, 0);
	}
	fd_peers_scan(&d.peers, now, peer_changed, NULL);
	ev = vip_decide(&d.vip, now, d.on_dev);
	/* after a transition the cached answer may be stale: holding again
	 * (re-added, claimed, adopted) means the address is there */
	if (ev != VE_NONE)
		d.on_dev = true;
	if (ev != VE_NONE)
		vip_event(&d.vip, ev, now);
	arp_timers(now);
	log_drops(now);
}

/* 1: SIGTERM/SIGINT, 0: go on (SIGHUP: read the configuration now). */
static int on_signal(int sfd)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			d.next_check = 0;
		else
			stop = 1;
	}
	return stop;
}

static int run(int sfd)
{
	for (;;) {
		struct pollfd p[3] = { { sfd, POLLIN, 0 }, { d.udp, POLLIN, 0 }, { d.arp.fd, POLLIN, 0 } };
		long long now;

		if (poll(p, 3, TICK_MS) < 0 && errno != EINTR)
			return -errno;
		now = mono_ms();
		if ((p[0].revents & POLLIN) && on_signal(sfd))
			return 0;
		if (now >= d.next_check)
			recheck(now);
		if (d.udp >= 0 && (p[1].revents & POLLIN))
			receive(now);
		if (d.arp.fd >= 0 && (p[2].revents & POLLIN))
			arp_input(now);
		tick(now);
		if (now >= d.next_state)
			write_status(now);
	}
}

static int parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "state", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "ip-cmd", required_argument, NULL, 'i' },
		{ "self", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (o) {
		case 'c': opt.conf = optarg; break;
		case 'k': opt.key = optarg; break;
		case 's': opt.state = optarg; break;
		case 'i': opt.ip = optarg; break;
		case 'S': opt.self = optarg; break;
		case 'p':
			if (kv_int(optarg, 1, 65535, 0, &opt.port) < 0)
				return die_msg(EXIT_USAGE, "option", "--port", "want a port number (1-65535)");
			break;
		case 'h': fputs(USAGE, stdout); return EXIT_OK;
		default: return die_usage(USAGE);
		}
	}
	if (optind != argc)
		return die_usage(USAGE);
	return -1;
}

int main(int argc, char **argv)
{
	sigset_t mask;
	int sfd, r;

	space_prog = "fabricd";
	if ((r = parse_options(argc, argv)) >= 0)
		return r;
	space_log_fn = log_hook;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		return die_err("start", "signalfd", -errno, NULL);
	/* the watchdog's ready check is this file: not the last run's */
	unlink(opt.state);
	recheck(mono_ms());
	if ((r = write_status(mono_ms())) < 0)
		return die_err("write", opt.state, r, NULL);
	r = run(sfd);
	leave(mono_ms(), VE_STOP);
	d.stopped = true;
	write_status(mono_ms());
	fd_mac_free(&d.mac);
	close(sfd);
	if (r < 0)
		return die_err("run", "poll", r, NULL);
	logmsg("stopped");
	return EXIT_OK;
}
