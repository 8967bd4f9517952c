/* SPDX-License-Identifier: MIT */
/* proto.h - fabricd's heartbeat datagram and the table of peers it fills.
 *
 * Every node sends one heartbeat a second, over UDP (port 7810) from its
 * fabric address, to every other node of the fabric. The datagram is 56
 * bytes, integers big-endian:
 *
 *   0  "SPFB"        magic
 *   4  u8  1         protocol version
 *   5  u8  flags     bit 0: the sender holds the virtual IP; others 0
 *   6  u8  index     the sender's place in its configuration's node list
 *   7  u8  0         reserved
 *   8  u64           the sender's configuration version
 *  16  u64 seq       the sender's CLOCK_REALTIME in ms when it sent it,
 *                    made strictly increasing within a run
 *  24  HMAC-SHA256 of bytes 0..23 under the fabric key (32 bytes)
 *
 * A datagram is dropped, and counted under its reason, when it is not 56
 * bytes, comes from an address that is no other node's, has a bad magic,
 * version, HMAC or flags, names an index that is not its source's, or is
 * not new (replay). The cheap checks come first, so a flood from outside
 * the node list costs no HMAC.
 *
 * Replay and the restart allowance: seq is the sender's clock, so it goes
 * on rising across the sender's restarts without any state on disk. A
 * receiver takes a heartbeat only when its seq is above the last one it
 * took from that sender AND within FD_SKEW_MS of its own clock. The
 * second rule is the allowance for the receiver's own restart (its table
 * is empty, so "above the last" alone would take any recording): after a
 * restart, only a heartbeat sent in the last FD_SKEW_MS is taken. The
 * cost: the nodes' clocks must agree within FD_SKEW_MS (the fabric needs
 * them in sync anyway: its patch and upgrade prechecks refuse otherwise),
 * and a node whose clock steps back is not heard until its clock has
 * caught up with the last seq it sent. A node not heard is never trusted
 * to be gone: a claim first asks the VIP by ARP (vip.h).
 *
 * The table has one slot per node of the configuration (FABRIC_NODES_MAX),
 * fixed; receiving a datagram allocates nothing.
 */
#ifndef FABRICD_PROTO_H
#define FABRICD_PROTO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "pkg/fabric/conf.h"

#define FD_PORT 7810
#define FD_PROTO_VERSION 1
#define FD_KEY_LEN 32
#define FD_HMAC_LEN 32
#define FD_HDR_LEN 24
#define FD_DGRAM_LEN (FD_HDR_LEN + FD_HMAC_LEN)
#define FD_SKEW_MS 30000LL
#define FD_FLAG_HOLDER 1u

struct fd_hb {
	uint8_t index;
	bool holder;
	uint64_t conf_version;
	uint64_t seq;
};

/* Why a datagram was dropped (FD_OK: it was not). */
enum fd_verdict {
	FD_OK,
	FD_DROP_SIZE,   /* not FD_DGRAM_LEN bytes */
	FD_DROP_SOURCE, /* from an address that is no other node's */
	FD_DROP_MAGIC,
	FD_DROP_VERSION,
	FD_DROP_HMAC,
	FD_DROP_FORMAT, /* authenticated, but unknown flags or reserved bits */
	FD_DROP_INDEX,  /* the index is not the source address's */
	FD_DROP_STALE,  /* seq further than FD_SKEW_MS from our clock */
	FD_DROP_REPLAY, /* seq not above the last taken from that sender */
	FD_VERDICT_COUNT
};

const char *fd_verdict_name(enum fd_verdict v);

/* The HMAC context for one key; made when the key is read, reused for
 * every datagram. */
struct fd_mac {
	void *ctx; /* EVP_MAC_CTX */
};

/* Set m up for key: 0, or -ENOMEM / -EIO (OpenSSL) with err's reason. */
int fd_mac_init(struct fd_mac *m, const uint8_t key[FD_KEY_LEN], struct space_err *err);
void fd_mac_free(struct fd_mac *m);

/* Parse the key file's text: 64 lowercase hex digits, then an optional
 * newline. -SPACE_E_FORMAT otherwise. */
int fd_key_parse(const char *text, size_t len, uint8_t key[FD_KEY_LEN]);

/* Encode and sign h into out: 0, or -EIO when the HMAC fails. */
int fd_hb_encode(struct fd_mac *m, const struct fd_hb *h, uint8_t out[FD_DGRAM_LEN]);

/* Sign the header of dg (bytes 0..23) into its last 32 bytes: 0 or -EIO. */
int fd_hb_sign(struct fd_mac *m, uint8_t dg[FD_DGRAM_LEN]);

/* Check and decode the n bytes at p (format and HMAC only; the source is
 * the table's to check). */
enum fd_verdict fd_hb_decode(struct fd_mac *m, const uint8_t *p, size_t n, struct fd_hb *h);

struct fd_peer {
	struct in_addr addr;
	char name[FABRIC_NAME_MAX + 1];
	uint64_t last_seq;     /* 0: nothing taken yet */
	long long heard_ms;    /* mono ms of the last heartbeat taken; 0: never */
	bool holder;           /* its last heartbeat said it holds the VIP */
	bool live;             /* heard within takeover (fd_peers_scan) */
	uint64_t conf_version; /* of its last heartbeat */
	unsigned long dropped; /* datagrams from its address dropped */
};

struct fd_peers {
	unsigned n; /* nodes in the configuration */
	int self;   /* this node's index */
	long long takeover_ms;
	long long holder_heard_ms; /* a holder's last heartbeat (mono ms) */
	struct fd_peer p[FABRIC_NODES_MAX];
	unsigned long drops[FD_VERDICT_COUNT];
};

/* (Re)fill t from c, this node being c->nodes[self]: a slot whose address
 * was in the table before keeps what was heard from it. */
void fd_peers_set(struct fd_peers *t, const struct fabric_conf *c, int self);

/* Take the datagram (p, n) from src: the verdict, counted in t (and in the
 * source node's slot when src is a node's). now: mono ms; real_ms: our
 * CLOCK_REALTIME in ms. */
enum fd_verdict fd_peers_receive(struct fd_peers *t, struct fd_mac *m, struct in_addr src,
				 const uint8_t *p, size_t n, long long now, int64_t real_ms);

/* Update each peer's live flag (heard within takeover at now). For each
 * change, changed(ctx, index, live) is called (may be NULL). */
void fd_peers_scan(struct fd_peers *t, long long now, void (*changed)(void *ctx, int i, bool live),
		   void *ctx);

/* The first live node in the takeover order, this one counting as live. */
int fd_peers_first_live(const struct fd_peers *t);
/* The first live peer (not this node) whose heartbeat says it holds the
 * VIP, or -1. */
int fd_peers_holder(const struct fd_peers *t);

#endif
