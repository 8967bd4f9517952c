/* SPDX-License-Identifier: MIT */
/* test_fabricd.c - unit tests for pkg/fabricd: every transition of the
 * virtual IP's table (vip.c) and the decisions that fire them, the
 * heartbeat codec (good, each kind of bad, replay) and the peer table
 * filled (proto.c), the ARP frames (arp.c). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/fabricd/arp.h"
#include "pkg/fabricd/proto.h"
#include "pkg/fabricd/vip.h"
#include "tap.h"
#include "util.h"

static const uint8_t KEY[FD_KEY_LEN] = "0123456789abcdef0123456789abcdef";
static const int64_t REAL = 1800000000000LL; /* "now" on the senders' clocks, ms */

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* A fabric of n nodes 10.9.0.1.. named n1.., takeover 2 s. */
static void fabric(struct fabric_conf *c, unsigned n)
{
	memset(c, 0, sizeof(*c));
	c->version = 7;
	c->takeover = 2;
	snprintf(c->dev, sizeof(c->dev), "eth0");
	fabric_addr_parse("10.9.0.100/24", 0, &c->vip);
	for (unsigned i = 0; i < n; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.9.0.%u/24", i + 1);
		fabric_addr_parse(a, 0, &c->nodes[i].addr);
		snprintf(c->nodes[i].name, sizeof(c->nodes[i].name), "n%u", i + 1);
	}
	c->nnodes = n;
}

static void peers(struct fd_peers *t, unsigned n, int self)
{
	struct fabric_conf c;

	memset(t, 0, sizeof(*t));
	fabric(&c, n);
	fd_peers_set(t, &c, self);
}

/* ------------------------------------------------------------ recorders */

static struct {
	int add, del, probe, probe_end, announce;
	int add_fails, probe_fails;
	char log[4096];
} rec;

static int h_add(void)
{
	rec.add++;
	return rec.add_fails ? -5 : 0;
}
static int h_del(void)
{
	rec.del++;
	return 0;
}
static int h_probe(void)
{
	rec.probe++;
	return rec.probe_fails ? -5 : 0;
}
static void h_probe_end(void) { rec.probe_end++; }
static void h_announce(void) { rec.announce++; }
static void h_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void h_log(const char *fmt, ...)
{
	size_t n = strlen(rec.log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rec.log + n, sizeof(rec.log) - n, fmt, ap);
	va_end(ap);
	n = strlen(rec.log);
	snprintf(rec.log + n, sizeof(rec.log) - n, "\n");
}

struct vip_host vip_host = { h_add, h_del, h_probe, h_probe_end, h_announce, h_log };

static void reset(void)
{
	memset(&rec, 0, sizeof(rec));
}

/* v in state st, node self of three (n1 n2 n3), at now 10000. */
static void machine(struct vip *v, struct fd_peers *t, enum vip_state st, int self)
{
	peers(t, 3, self);
	memset(v, 0, sizeof(*v));
	v->peers = t;
	v->state = st;
	snprintf(v->addr, sizeof(v->addr), "10.9.0.100");
	reset();
}

/* Fire ev in st: the next state, and the recorders' counts in what. */
static enum vip_state fire(enum vip_state st, enum vip_event ev, char *what, size_t n)
{
	struct fd_peers t;
	struct vip v;

	machine(&v, &t, st, 1);
	vip_event(&v, ev, 10000);
	snprintf(what, n, "add %d del %d probe %d end %d announce %d", rec.add, rec.del, rec.probe,
		 rec.probe_end, rec.announce);
	return v.state;
}

struct expect {
	enum vip_state from;
	enum vip_event ev;
	enum vip_state to;
	const char *what;   /* the recorders after it */
	const char *logged; /* a line of the log, or NULL */
};

/* Every transition of vip_table, one by one. */
static void test_transitions(void)
{
	static const struct expect x[] = {
		{ VS_OFF, VE_START, VS_LISTEN, "add 0 del 0 probe 0 end 0 announce 0",
		  "listening 2 s for the holder of vip 10.9.0.100" },
		{ VS_OFF, VE_START_HELD, VS_HOLDER, "add 0 del 0 probe 0 end 0 announce 1",
		  "vip 10.9.0.100 is on dev: held (kept by the last run)" },
		{ VS_LISTEN, VE_LISTENED, VS_STANDBY, "add 0 del 0 probe 0 end 0 announce 0",
		  "listened: vip 10.9.0.100 held by nobody" },
		{ VS_LISTEN, VE_LEAVE, VS_OFF, "add 0 del 0 probe 0 end 1 announce 0", "left the fabric" },
		{ VS_LISTEN, VE_STOP, VS_OFF, "add 0 del 0 probe 0 end 1 announce 0", NULL },
		{ VS_STANDBY, VE_CLAIM, VS_PROBING, "add 0 del 0 probe 1 end 0 announce 0",
		  "no holder heard for 2 s: probing vip 10.9.0.100" },
		{ VS_STANDBY, VE_LEAVE, VS_OFF, "add 0 del 0 probe 0 end 1 announce 0", "left the fabric" },
		{ VS_STANDBY, VE_STOP, VS_OFF, "add 0 del 0 probe 0 end 1 announce 0", NULL },
		{ VS_PROBING, VE_CONFLICT, VS_STANDBY, "add 0 del 0 probe 0 end 1 announce 0",
		  "vip 10.9.0.100 not claimed: aa (answer)" },
		{ VS_PROBING, VE_PROBED, VS_HOLDER, "add 1 del 0 probe 0 end 1 announce 1", "vip 10.9.0.100 claimed" },
		{ VS_PROBING, VE_HOLDER_SEEN, VS_STANDBY, "add 0 del 0 probe 0 end 1 announce 0",
		  "vip 10.9.0.100: nobody holds it: probe abandoned" },
		{ VS_PROBING, VE_LEAVE, VS_OFF, "add 0 del 0 probe 0 end 1 announce 0", "left the fabric" },
		{ VS_PROBING, VE_STOP, VS_OFF, "add 0 del 0 probe 0 end 1 announce 0", NULL },
		{ VS_HOLDER, VE_ADD_FAILED, VS_STANDBY, "add 0 del 0 probe 0 end 1 announce 0",
		  "vip 10.9.0.100 not claimed: aa (answer)" },
		{ VS_HOLDER, VE_YIELD, VS_STANDBY, "add 0 del 1 probe 0 end 0 announce 0",
		  "vip 10.9.0.100 released: nobody holds it too and comes first" },
		{ VS_HOLDER, VE_ADDR_GONE, VS_HOLDER, "add 1 del 0 probe 0 end 0 announce 1",
		  "vip 10.9.0.100 vanished from dev: adding it again" },
		{ VS_HOLDER, VE_LEAVE, VS_OFF, "add 0 del 1 probe 0 end 0 announce 0",
		  "vip 10.9.0.100 released: left the fabric" },
		{ VS_HOLDER, VE_STOP, VS_OFF, "add 0 del 0 probe 0 end 0 announce 0",
		  "stopping: vip 10.9.0.100 kept on dev (the next start holds it)" },
	};
	int valid = 0, listed = (int)(sizeof(x) / sizeof(x[0]));

	for (int i = 0; i < listed; i++) {
		struct fd_peers t;
		struct vip v;
		char what[96];

		machine(&v, &t, x[i].from, 1);
		snprintf(v.conflict, sizeof(v.conflict), "aa (answer)");
		vip_event(&v, x[i].ev, 10000);
		snprintf(what, sizeof(what), "add %d del %d probe %d end %d announce %d", rec.add, rec.del,
			 rec.probe, rec.probe_end, rec.announce);
		ok(v.state == x[i].to && !strcmp(what, x[i].what), "%s + %s -> %s (%s)", vip_state_name(x[i].from),
		   vip_event_name(x[i].ev), vip_state_name(v.state), what);
		if (x[i].logged) {
			ok(strstr(rec.log, x[i].logged) != NULL, "... logs '%s'", x[i].logged);
			if (!strstr(rec.log, x[i].logged))
				printf("#   log: %s", rec.log);
		}
	}
	/* the table has exactly these transitions: the others are ignored */
	for (int s = 0; s < VS_COUNT; s++)
		for (int e = 0; e < VE_COUNT; e++) {
			char what[96];

			if (vip_table[s][e].valid) {
				valid++;
				continue;
			}
			is_int(fire((enum vip_state)s, (enum vip_event)e, what, sizeof(what)), s,
			       "%s + %s is ignored", vip_state_name((enum vip_state)s),
			       vip_event_name((enum vip_event)e));
			ok(!strcmp(what, "add 0 del 0 probe 0 end 0 announce 0"), "... and does nothing (%s)", what);
		}
	is_int(valid, listed, "every transition of the table is tested above");
}

/* Follow-ups: an add that fails, a probe that cannot be sent. */
static void test_follow_ups(void)
{
	struct fd_peers t;
	struct vip v;

	machine(&v, &t, VS_PROBING, 1);
	rec.add_fails = 1;
	vip_event(&v, VE_PROBED, 10000);
	is_int(v.state, VS_STANDBY, "probed, ip addr add fails: standby");
	is_int(rec.announce, 0, "... nothing announced");
	is_int(v.quiet_until_ms, 12000, "... no claim for takeover");
	ok(strstr(rec.log, "not claimed: ip addr add failed") != NULL, "... logged");

	machine(&v, &t, VS_HOLDER, 1);
	rec.add_fails = 1;
	vip_event(&v, VE_ADDR_GONE, 10000);
	is_int(v.state, VS_STANDBY, "holder, the VIP gone and not added again: standby");

	machine(&v, &t, VS_STANDBY, 1);
	rec.probe_fails = 1;
	vip_event(&v, VE_CLAIM, 10000);
	is_int(v.state, VS_STANDBY, "a probe that cannot be sent: standby, never a blind claim");
	is_int(rec.add, 0, "... nothing added");
	ok(strstr(rec.log, "not claimed: the ARP probe could not be sent") != NULL, "... logged");
}

/* heard: a heartbeat from node i at mono ms `at`, holder or not. */
static void heard(struct fd_peers *t, int i, long long at, bool holder)
{
	t->p[i].heard_ms = at;
	t->p[i].holder = holder;
	if (holder)
		t->holder_heard_ms = at;
}

/* vip_decide: the rules of who claims, when. */
static void test_decide(void)
{
	struct fd_peers t;
	struct vip v;

	machine(&v, &t, VS_LISTEN, 1);
	v.deadline_ms = 2000;
	is_int(vip_decide(&v, 1999, false), VE_NONE, "listening: nothing before takeover");
	is_int(vip_decide(&v, 2000, false), VE_LISTENED, "... then listened");

	/* n2 (self 1) in standby; n1 alive (not holding), n3 alive */
	machine(&v, &t, VS_STANDBY, 1);
	t.holder_heard_ms = 0;
	heard(&t, 0, 9500, false);
	heard(&t, 2, 9500, false);
	fd_peers_scan(&t, 10000, NULL, NULL);
	is_int(vip_decide(&v, 10000, false), VE_NONE, "n1 live, earlier in the order: n2 does not claim");
	fd_peers_scan(&t, 11600, NULL, NULL);
	is_int(vip_decide(&v, 11600, false), VE_CLAIM, "n1 silent for takeover: n2, first live, claims");

	machine(&v, &t, VS_STANDBY, 2);
	heard(&t, 1, 9500, false);
	fd_peers_scan(&t, 11000, NULL, NULL);
	is_int(vip_decide(&v, 11000, false), VE_NONE, "n3 waits while n2, before it, is live");
	fd_peers_scan(&t, 11500, NULL, NULL);
	is_int(vip_decide(&v, 11500, false), VE_CLAIM, "... and claims once n1 and n2 are silent");

	machine(&v, &t, VS_STANDBY, 1);
	heard(&t, 2, 9000, true);
	fd_peers_scan(&t, 10000, NULL, NULL);
	is_int(vip_decide(&v, 10000, false), VE_NONE, "a live holder later in the order: no pre-emption");
	fd_peers_scan(&t, 10999, NULL, NULL);
	is_int(vip_decide(&v, 10999, false), VE_NONE, "... 1.999 s since its last heartbeat: still");
	fd_peers_scan(&t, 11000, NULL, NULL);
	is_int(vip_decide(&v, 11000, false), VE_CLAIM, "... silent for takeover: claim");
	v.quiet_until_ms = 12000;
	is_int(vip_decide(&v, 11000, false), VE_NONE, "... but not while backing off after a conflict");
	is_int(vip_decide(&v, 12000, false), VE_CLAIM, "... and once that is over");

	machine(&v, &t, VS_PROBING, 1);
	v.deadline_ms = 11000;
	is_int(vip_decide(&v, 10999, false), VE_NONE, "probing: nothing before the probe's second");
	is_int(vip_decide(&v, 11000, false), VE_PROBED, "... then probed");
	heard(&t, 0, 10500, true);
	fd_peers_scan(&t, 10600, NULL, NULL);
	is_int(vip_decide(&v, 10600, false), VE_HOLDER_SEEN, "... a holder heard meanwhile: abandon");

	machine(&v, &t, VS_HOLDER, 1);
	is_int(vip_decide(&v, 10000, true), VE_NONE, "holding, alone: nothing");
	is_int(vip_decide(&v, 10000, false), VE_ADDR_GONE, "... the address gone from dev: add it again");
	heard(&t, 2, 9900, true);
	fd_peers_scan(&t, 10000, NULL, NULL);
	is_int(vip_decide(&v, 10000, true), VE_NONE, "two holders, the other later: keep");
	is_int(vip_holder(&v), 1, "... the holder is this node");
	heard(&t, 0, 9900, true);
	fd_peers_scan(&t, 10000, NULL, NULL);
	is_int(vip_decide(&v, 10000, true), VE_YIELD, "two holders, the other earlier: yield");
	v.state = VS_STANDBY;
	is_int(vip_holder(&v), 0, "in standby, the holder is the first live one holding");
	v.state = VS_OFF;
	is_int(vip_holder(&v), -1, "off: no holder known");
}

/* ------------------------------------------------------------ datagrams */

static void encode(struct fd_mac *m, uint8_t *dg, int index, bool holder, uint64_t seq)
{
	struct fd_hb h = { .index = (uint8_t)index, .holder = holder, .conf_version = 7, .seq = seq };

	fd_hb_encode(m, &h, dg);
}

/* Good datagrams, each kind of bad, the key file. */
static void test_codec(void)
{
	struct fd_mac m, other;
	struct fd_hb h;
	uint8_t dg[FD_DGRAM_LEN], bad[FD_DGRAM_LEN + 1], key2[FD_KEY_LEN], k[FD_KEY_LEN];
	char hex[2 * FD_KEY_LEN + 2];

	is_int(fd_mac_init(&m, KEY, NULL), 0, "HMAC context");
	encode(&m, dg, 2, true, 12345);
	is_int(fd_hb_decode(&m, dg, sizeof(dg), &h), FD_OK, "a good datagram decodes");
	ok(h.index == 2 && h.holder && h.conf_version == 7 && h.seq == 12345, "... every field back");
	ok(!memcmp(dg, "SPFB\x01\x01\x02\x00", 8), "... the layout of proto.h");
	is_int(fd_hb_decode(&m, dg, FD_DGRAM_LEN - 1, &h), FD_DROP_SIZE, "too short");
	memcpy(bad, dg, sizeof(dg));
	bad[FD_DGRAM_LEN] = 0;
	is_int(fd_hb_decode(&m, bad, sizeof(bad), &h), FD_DROP_SIZE, "too long");
	is_int(fd_hb_decode(&m, dg, 0, &h), FD_DROP_SIZE, "empty");
	memcpy(bad, dg, sizeof(dg));
	bad[0] = 'X';
	is_int(fd_hb_decode(&m, bad, FD_DGRAM_LEN, &h), FD_DROP_MAGIC, "bad magic");
	memcpy(bad, dg, sizeof(dg));
	bad[4] = 2;
	is_int(fd_hb_decode(&m, bad, FD_DGRAM_LEN, &h), FD_DROP_VERSION, "another protocol version");
	{
		size_t i;

		for (i = 5; i < FD_DGRAM_LEN; i++) {
			memcpy(bad, dg, sizeof(dg));
			bad[i] ^= 0x01;
			if (fd_hb_decode(&m, bad, FD_DGRAM_LEN, &h) != FD_DROP_HMAC)
				break;
		}
		is_int(i, FD_DGRAM_LEN, "any bit flipped after the version: bad HMAC");
	}
	memcpy(key2, KEY, sizeof(key2));
	key2[0] ^= 1;
	fd_mac_init(&other, key2, NULL);
	encode(&other, bad, 2, true, 12345);
	is_int(fd_hb_decode(&m, bad, FD_DGRAM_LEN, &h), FD_DROP_HMAC, "signed under another key: bad HMAC");
	fd_mac_free(&other);
	/* authentic, but with bits this version does not know */
	memcpy(bad, dg, sizeof(dg));
	bad[5] = 0x03;
	fd_hb_sign(&m, bad);
	is_int(fd_hb_decode(&m, bad, FD_DGRAM_LEN, &h), FD_DROP_FORMAT, "an unknown flag, signed: format");
	memcpy(bad, dg, sizeof(dg));
	bad[7] = 1;
	fd_hb_sign(&m, bad);
	is_int(fd_hb_decode(&m, bad, FD_DGRAM_LEN, &h), FD_DROP_FORMAT, "the reserved byte set, signed: format");
	fd_mac_free(&m);

	hex_encode(KEY, FD_KEY_LEN, hex);
	is_int(fd_key_parse(hex, strlen(hex), k), 0, "a key file: 64 hex digits");
	ok(!memcmp(k, KEY, FD_KEY_LEN), "... the key");
	strcat(hex, "\n");
	is_int(fd_key_parse(hex, strlen(hex), k), 0, "... with its newline");
	is_int(fd_key_parse(hex, strlen(hex) - 2, k), -SPACE_E_FORMAT, "63 digits: refused");
	hex[3] = 'G';
	is_int(fd_key_parse(hex, strlen(hex), k), -SPACE_E_FORMAT, "a non-hex digit: refused");
	is_int(fd_key_parse("", 0, k), -SPACE_E_FORMAT, "empty: refused");
}

/* ------------------------------------------------------------ peer table */

/* Heartbeats through the table: taken, each kind of drop, replays, the
 * restart allowance, counts per reason and per peer. */
static void test_receive(void)
{
	struct fd_peers t;
	struct fd_mac m;
	uint8_t dg[FD_DGRAM_LEN], junk[FD_DGRAM_LEN] = { 0 };
	struct in_addr n1 = ip("10.9.0.1"), n3 = ip("10.9.0.3");

	fd_mac_init(&m, KEY, NULL);
	peers(&t, 3, 1); /* this node is n2 */
	encode(&m, dg, 0, true, (uint64_t)REAL);
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 5000, REAL), FD_OK, "n1's heartbeat is taken");
	ok(t.p[0].heard_ms == 5000 && t.p[0].holder && t.p[0].conf_version == 7, "... heard, holder, version");
	is_int(t.holder_heard_ms, 5000, "... a holder heard at 5000");
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 5100, REAL), FD_DROP_REPLAY, "the same again: replay");
	encode(&m, dg, 0, true, (uint64_t)REAL - 1);
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 5100, REAL), FD_DROP_REPLAY, "an older one: replay");
	is_int(t.p[0].heard_ms, 5000, "... not heard");
	encode(&m, dg, 0, false, (uint64_t)REAL + 1000);
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 6000, REAL + 1000), FD_OK, "a newer one is taken");
	is_int(t.p[0].holder, 0, "... it no longer holds");

	encode(&m, dg, 0, false, (uint64_t)(REAL + 1000 + FD_SKEW_MS + 1));
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 6000, REAL + 1000), FD_DROP_STALE,
	       "sent further ahead than the skew: stale");
	/* the receiver's restart: an empty table takes only fresh ones */
	peers(&t, 3, 1);
	encode(&m, dg, 0, true, (uint64_t)(REAL - FD_SKEW_MS - 1));
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 100, REAL), FD_DROP_STALE,
	       "after a restart, a recording older than the skew: stale, not taken");
	encode(&m, dg, 0, true, (uint64_t)(REAL - FD_SKEW_MS));
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 100, REAL), FD_OK,
	       "... one sent within the skew is taken (the restart allowance)");
	/* the sender's restart: its clock went on, so its seq did */
	encode(&m, dg, 0, true, (uint64_t)REAL + 5000);
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 5100, REAL + 5000), FD_OK,
	       "the sender restarted: its clock-based seq is above the last");

	encode(&m, dg, 2, false, (uint64_t)REAL + 10);
	is_int(fd_peers_receive(&t, &m, ip("10.9.0.50"), dg, sizeof(dg), 200, REAL), FD_DROP_SOURCE,
	       "from an address outside the node list: source");
	is_int(fd_peers_receive(&t, &m, ip("10.9.0.2"), dg, sizeof(dg), 200, REAL), FD_DROP_SOURCE,
	       "from this node's own address: source");
	is_int(fd_peers_receive(&t, &m, n1, dg, sizeof(dg), 200, REAL), FD_DROP_INDEX,
	       "n3's index from n1's address: index");
	is_int(fd_peers_receive(&t, &m, n3, junk, sizeof(junk), 200, REAL), FD_DROP_MAGIC, "zeros from n3: magic");
	is_int(fd_peers_receive(&t, &m, n3, dg, 10, 200, REAL), FD_DROP_SIZE, "10 bytes from n3: size");
	dg[30] ^= 1;
	is_int(fd_peers_receive(&t, &m, n3, dg, sizeof(dg), 200, REAL), FD_DROP_HMAC, "a bit flipped: hmac");
	is_int(t.drops[FD_DROP_SOURCE], 2, "counted: 2 source");
	is_int(t.drops[FD_DROP_STALE], 1, "... 1 stale");
	is_int(t.drops[FD_OK], 2, "... 2 taken since the table was made");
	is_int(t.p[2].dropped, 3, "... n3's slot counts its 3 dropped");
	is_int(t.p[0].dropped, 2, "... n1's its 2 (stale, index)");
	fd_mac_free(&m);
}

/* A fabric of FABRIC_NODES_MAX nodes: every slot filled, the table does
 * not grow, a ninth address is refused; liveness and who is first. */
static void test_table_full(void)
{
	struct fd_peers t;
	struct fd_mac m;
	uint8_t dg[FD_DGRAM_LEN];
	int changes = 0, filled = 0;

	fd_mac_init(&m, KEY, NULL);
	peers(&t, FABRIC_NODES_MAX, FABRIC_NODES_MAX - 1);
	is_int(t.n, FABRIC_NODES_MAX, "the table has a slot per node: %d", FABRIC_NODES_MAX);
	for (int i = 0; i < FABRIC_NODES_MAX - 1; i++) {
		char a[32];

		snprintf(a, sizeof(a), "10.9.0.%d", i + 1);
		encode(&m, dg, i, false, (uint64_t)REAL + (uint64_t)i);
		filled += fd_peers_receive(&t, &m, ip(a), dg, sizeof(dg), 1000 + i, REAL) == FD_OK;
	}
	is_int(filled, FABRIC_NODES_MAX - 1, "every other node's heartbeat is taken");
	encode(&m, dg, 0, false, (uint64_t)REAL + 100);
	is_int(fd_peers_receive(&t, &m, ip("10.9.0.9"), dg, sizeof(dg), 1500, REAL), FD_DROP_SOURCE,
	       "a ninth address: no slot, dropped");
	fd_peers_scan(&t, 2000, NULL, NULL);
	for (int i = 0; i < FABRIC_NODES_MAX; i++)
		changes += t.p[i].live;
	is_int(changes, FABRIC_NODES_MAX, "all %d live", FABRIC_NODES_MAX);
	is_int(fd_peers_first_live(&t), 0, "n1 is the first live");
	changes = 0;
	fd_peers_scan(&t, 3000, NULL, NULL);
	is_int(fd_peers_first_live(&t), 1, "at 3000 n1 (heard at 1000) is lost: n2 is first");
	is_int(fd_peers_holder(&t), -1, "nobody holds");
	fd_peers_scan(&t, 9000, NULL, NULL);
	is_int(fd_peers_first_live(&t), FABRIC_NODES_MAX - 1, "all lost: this node is first");
	fd_mac_free(&m);
}

static void count_change(void *ctx, int i, bool live)
{
	(void)i;
	(void)live;
	(*(int *)ctx)++;
}

/* A new configuration keeps what was heard from the nodes still in it. */
static void test_table_reset(void)
{
	struct fd_peers t;
	struct fabric_conf c;
	int changes = 0;

	peers(&t, 3, 1);
	t.p[2].heard_ms = 900;
	t.p[2].last_seq = 42;
	fd_peers_scan(&t, 1000, count_change, &changes);
	is_int(changes, 1, "n3 heard: one change reported (this node's own is not)");
	fabric(&c, 3);
	c.nodes[0] = c.nodes[2]; /* n3 first now */
	fabric_addr_parse("10.9.0.7/24", 0, &c.nodes[2].addr);
	snprintf(c.nodes[2].name, sizeof(c.nodes[2].name), "n7");
	fd_peers_set(&t, &c, 1);
	ok(t.p[0].last_seq == 42 && t.p[0].heard_ms == 900, "n3, moved to the front, keeps its last seq");
	ok(t.p[2].last_seq == 0 && t.p[2].heard_ms == 0 && !strcmp(t.p[2].name, "n7"), "n7 starts empty");
}

/* ------------------------------------------------------------ ARP */

static void test_arp(void)
{
	const uint8_t mine[6] = { 2, 0, 0, 0, 0, 1 }, theirs[6] = { 2, 0, 0, 0, 0, 2 };
	struct in_addr vip = ip("10.9.0.100");
	uint8_t f[64] = { 0 };
	char who[64] = "";

	arp_frame(f, mine, vip, 0);
	ok(!memcmp(f, "\x00\x01\x08\x00\x06\x04\x00\x01", 8), "probe: Ethernet/IPv4 request");
	ok(!memcmp(f + 14, "\0\0\0\0", 4) && !memcmp(f + 24, &vip, 4), "... sender IP 0, target the VIP");
	is_int(arp_conflict(f, ARP_LEN, vip, mine, who, sizeof(who)), 0, "our own probe: no conflict");
	is_int(arp_conflict(f, ARP_LEN, vip, theirs, who, sizeof(who)), 1, "another's probe for it: conflict");
	ok(!strcmp(who, "02:00:00:00:00:01 (probe)"), "... %s", who);
	arp_frame(f, theirs, vip, 1);
	ok(!memcmp(f + 14, &vip, 4) && !memcmp(f + 24, &vip, 4), "announcement: sender and target the VIP");
	is_int(arp_conflict(f, 60, vip, mine, who, sizeof(who)), 1, "another's announcement (padded): conflict");
	f[7] = 2; /* a reply */
	is_int(arp_conflict(f, ARP_LEN, vip, mine, who, sizeof(who)), 1, "an answer from its holder: conflict");
	ok(!strcmp(who, "02:00:00:00:00:02 (answer)"), "... %s", who);
	is_int(arp_conflict(f, ARP_LEN, ip("10.9.0.101"), mine, who, sizeof(who)), 0, "about another address: none");
	is_int(arp_conflict(f, ARP_LEN - 1, vip, mine, who, sizeof(who)), 0, "short: none");
	f[3] = 0xdd; /* IPv6's ethertype */
	is_int(arp_conflict(f, ARP_LEN, vip, mine, who, sizeof(who)), 0, "not IPv4: none");
}

int main(int argc, char **argv)
{
	static const struct tap_test tests[] = {
		{ "/fabricd/transitions", test_transitions },
		{ "/fabricd/follow_ups", test_follow_ups },
		{ "/fabricd/decide", test_decide },
		{ "/fabricd/codec", test_codec },
		{ "/fabricd/receive", test_receive },
		{ "/fabricd/table_full", test_table_full },
		{ "/fabricd/table_reset", test_table_reset },
		{ "/fabricd/arp", test_arp },
		{ NULL, NULL },
	};
	return tap_run(argc, argv, tests);
}
