/* SPDX-License-Identifier: MIT */
/* vip.h - who holds the fabric's virtual IP: fabricd's state machine.
 *
 * As the watchdog's services (pkg/watchdog/sup.c), every change goes
 * through vip_event(), which looks (state, event) up in one table,
 * vip_table[state][event]: the next state and the action. An action may
 * answer with a follow-up event (an `ip addr add` that failed). Pairs the
 * table leaves empty are ignored. vip_decide() turns what the peer table
 * and the clock say into the event of this moment; the ARP listener gives
 * VE_CONFLICT, the configuration VE_START/VE_LEAVE, SIGTERM VE_STOP.
 *
 * The rules (issue 10, item 2):
 * - at start, listen for `takeover` seconds before anything (LISTEN), so a
 *   returning node learns who holds the VIP first;
 * - a holder keeps the VIP while alive: a node earlier in the order that
 *   comes back stays in STANDBY;
 * - when no holder has been heard for `takeover` seconds, the first live
 *   node in the order (this one included) probes the VIP by ARP
 *   (PROBING, RFC 5227, ~1 s); nobody answering, it adds the address and
 *   announces it (HOLDER); an answer sends it back to STANDBY, with no new
 *   claim for `takeover` seconds;
 * - two holders (a healed partition): the one later in the order deletes
 *   the VIP (VE_YIELD);
 * - leaving the fabric (no configuration, no longer listed, no key)
 *   releases the VIP.
 * - SIGTERM keeps the address on dev (VE_STOP in HOLDER logs, deletes
 *   nothing), and a start that finds the VIP on dev holds it at once
 *   (VE_START_HELD). Why: a hot patch stops every service of the VIP node;
 *   a stop shorter than takeover must not move the VIP, and a longer one
 *   should not either, while the node is up and answering on it. With the
 *   address kept, the kernel goes on answering ARP for it, so a peer's
 *   probe finds it taken and the peer does not claim; when the node dies,
 *   the address dies with it, the probes go unanswered, and the next node
 *   claims. Released, a stop would leave the fabric without a VIP for
 *   takeover seconds and hand it to another node on every patch.
 *
 * The machine does no I/O: the address, the ARP socket and the log go
 * through struct vip_host, which main.c fills with the real calls and the
 * unit test with recorders.
 */
#ifndef FABRICD_VIP_H
#define FABRICD_VIP_H

#include <stdbool.h>

#include "proto.h"

enum vip_state { VS_OFF,
		 VS_LISTEN,
		 VS_STANDBY,
		 VS_PROBING,
		 VS_HOLDER,
		 VS_COUNT };

enum vip_event {
	VE_START,       /* in the fabric (now, or again): listen first */
	VE_START_HELD,  /* the same, the VIP already on dev (kept by the last run) */
	VE_LISTENED,    /* takeover seconds of listening are over */
	VE_CLAIM,       /* no holder heard for takeover, and this node is first live */
	VE_CONFLICT,    /* the ARP probe was answered (or met another probe) */
	VE_PROBED,      /* ~1 s of probing without an answer */
	VE_HOLDER_SEEN, /* a live peer holds the VIP (while probing) */
	VE_ADD_FAILED,  /* follow-up: `ip addr add` of the VIP failed */
	VE_YIELD,       /* holding, and a peer earlier in the order holds too */
	VE_ADDR_GONE,   /* holding, and the VIP is no longer on dev */
	VE_LEAVE,       /* no longer in the fabric */
	VE_STOP,        /* SIGTERM */
	VE_COUNT,
	VE_NONE = VE_COUNT
};

#define VIP_PROBE_MS 1000

struct vip {
	enum vip_state state;
	struct fd_peers *peers;
	long long deadline_ms;    /* LISTEN: listening ends; PROBING: the probe ends */
	long long quiet_until_ms; /* no claim before (a conflict, a failed add) */
	char addr[24];            /* the VIP, "A.B.C.D", for the log */
	char conflict[64];        /* who answered the probe (VE_CONFLICT), for the log */
};

struct vip_host {
	int (*addr_add)(void); /* ip addr add VIP/P dev DEV: 0 or negative */
	int (*addr_del)(void);
	int (*probe)(void);      /* open the ARP socket, send the probe(s) */
	void (*probe_end)(void); /* stop listening for answers */
	void (*announce)(void);  /* the 3 gratuitous ARPs */
	void (*log)(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
};

extern struct vip_host vip_host;

typedef enum vip_event (*vip_action)(struct vip *v, long long now);

struct vip_transition {
	enum vip_state next;
	vip_action act; /* NULL: only the state changes */
	int valid;      /* 0: the event is ignored in this state */
};

extern const struct vip_transition vip_table[VS_COUNT][VE_COUNT];

/* Feed ev (and the follow-ups its actions return) through vip_table. */
void vip_event(struct vip *v, enum vip_event ev, long long now);

/* The event the peer table (scanned: fd_peers_scan) and the clock call
 * for now, or VE_NONE. on_dev: whether the VIP is on dev. */
enum vip_event vip_decide(const struct vip *v, long long now, bool on_dev);

/* The node holding the VIP as far as this node knows: its index, or -1. */
int vip_holder(const struct vip *v);

const char *vip_state_name(enum vip_state st);
const char *vip_event_name(enum vip_event ev);

#endif
