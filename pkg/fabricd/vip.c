/* SPDX-License-Identifier: MIT */
/* vip.c - the virtual IP's state machine (vip.h). */
#include <stdio.h>

#include "vip.h"

static const char *const state_names[VS_COUNT] = { "off", "listen", "standby", "probing", "holder" };
static const char *const event_names[VE_COUNT] = {
	"start",
	"start-held",
	"listened",
	"claim",
	"conflict",
	"probed",
	"holder-seen",
	"add-failed",
	"yield",
	"addr-gone",
	"leave",
	"stop",
};

const char *vip_state_name(enum vip_state st)
{
	return st < VS_COUNT ? state_names[st] : "?";
}

const char *vip_event_name(enum vip_event ev)
{
	return ev < VE_COUNT ? event_names[ev] : "none";
}

static const char *node_name(const struct vip *v, int i)
{
	return i >= 0 ? v->peers->p[i].name : "nobody";
}

int vip_holder(const struct vip *v)
{
	if (v->state == VS_HOLDER)
		return v->peers->self;
	if (v->state == VS_OFF)
		return -1;
	return fd_peers_holder(v->peers);
}

/* ------------------------------------------------------------ actions */

static enum vip_event act_listen(struct vip *v, long long now)
{
	v->deadline_ms = now + v->peers->takeover_ms;
	v->quiet_until_ms = 0;
	/* listening counts as not having heard a holder since now */
	v->peers->holder_heard_ms = now;
	vip_host.log("listening %lld s for the holder of vip %s", v->peers->takeover_ms / 1000, v->addr);
	return VE_NONE;
}

/* The last run kept the address (SIGTERM, vip.h): hold it on. A peer that
 * claimed meanwhile is resolved as any two holders are. */
static enum vip_event act_adopt(struct vip *v, long long now)
{
	(void)now;
	vip_host.log("vip %s is on dev: held (kept by the last run)", v->addr);
	vip_host.announce();
	return VE_NONE;
}

static enum vip_event act_listened(struct vip *v, long long now)
{
	(void)now;
	vip_host.log("listened: vip %s held by %s", v->addr, node_name(v, fd_peers_holder(v->peers)));
	return VE_NONE;
}

static enum vip_event act_probe(struct vip *v, long long now)
{
	int r;

	vip_host.log("no holder heard for %lld s: probing vip %s", v->peers->takeover_ms / 1000, v->addr);
	v->deadline_ms = now + VIP_PROBE_MS;
	r = vip_host.probe();
	if (r < 0) {
		/* unable to ask: never claim blind */
		snprintf(v->conflict, sizeof(v->conflict), "the ARP probe could not be sent");
		return VE_CONFLICT;
	}
	return VE_NONE;
}

static enum vip_event act_back_off(struct vip *v, long long now)
{
	vip_host.probe_end();
	v->quiet_until_ms = now + v->peers->takeover_ms;
	vip_host.log("vip %s not claimed: %s", v->addr, v->conflict);
	return VE_NONE;
}

static enum vip_event act_claim(struct vip *v, long long now)
{
	(void)now;
	vip_host.probe_end();
	if (vip_host.addr_add() < 0) {
		snprintf(v->conflict, sizeof(v->conflict), "ip addr add failed");
		return VE_ADD_FAILED;
	}
	vip_host.log("vip %s claimed", v->addr);
	vip_host.announce();
	return VE_NONE;
}

static enum vip_event act_abandon(struct vip *v, long long now)
{
	(void)now;
	vip_host.probe_end();
	vip_host.log("vip %s: %s holds it: probe abandoned", v->addr,
		     node_name(v, fd_peers_holder(v->peers)));
	return VE_NONE;
}

static enum vip_event act_yield(struct vip *v, long long now)
{
	(void)now;
	vip_host.addr_del();
	vip_host.log("vip %s released: %s holds it too and comes first", v->addr,
		     node_name(v, fd_peers_holder(v->peers)));
	return VE_NONE;
}

static enum vip_event act_readd(struct vip *v, long long now)
{
	(void)now;
	vip_host.log("vip %s vanished from dev: adding it again", v->addr);
	if (vip_host.addr_add() < 0) {
		snprintf(v->conflict, sizeof(v->conflict), "ip addr add failed");
		return VE_ADD_FAILED;
	}
	vip_host.announce();
	return VE_NONE;
}

static enum vip_event act_leave(struct vip *v, long long now)
{
	(void)now;
	vip_host.probe_end();
	vip_host.log("left the fabric");
	return VE_NONE;
}

static enum vip_event act_leave_held(struct vip *v, long long now)
{
	(void)now;
	vip_host.addr_del();
	vip_host.log("vip %s released: left the fabric", v->addr);
	return VE_NONE;
}

static enum vip_event act_stop(struct vip *v, long long now)
{
	(void)now;
	(void)v;
	vip_host.probe_end();
	return VE_NONE;
}

static enum vip_event act_stop_held(struct vip *v, long long now)
{
	(void)now;
	vip_host.log("stopping: vip %s kept on dev (the next start holds it)", v->addr);
	return VE_NONE;
}

/* ------------------------------------------------------------ the table */

#define T(next, act)         \
	{                    \
		next, act, 1 \
	}

/* Rows: the state now; columns: the event. Every transition is here. */
const struct vip_transition vip_table[VS_COUNT][VE_COUNT] = {
	[VS_OFF] = {
		[VE_START] = T(VS_LISTEN, act_listen),
		[VE_START_HELD] = T(VS_HOLDER, act_adopt),
	},
	[VS_LISTEN] = {
		[VE_LISTENED] = T(VS_STANDBY, act_listened),
		[VE_LEAVE] = T(VS_OFF, act_leave),
		[VE_STOP] = T(VS_OFF, act_stop),
	},
	[VS_STANDBY] = {
		[VE_CLAIM] = T(VS_PROBING, act_probe),
		[VE_LEAVE] = T(VS_OFF, act_leave),
		[VE_STOP] = T(VS_OFF, act_stop),
	},
	[VS_PROBING] = {
		[VE_CONFLICT] = T(VS_STANDBY, act_back_off),
		[VE_PROBED] = T(VS_HOLDER, act_claim),
		[VE_HOLDER_SEEN] = T(VS_STANDBY, act_abandon),
		[VE_LEAVE] = T(VS_OFF, act_leave),
		[VE_STOP] = T(VS_OFF, act_stop),
	},
	[VS_HOLDER] = {
		[VE_ADD_FAILED] = T(VS_STANDBY, act_back_off),
		[VE_YIELD] = T(VS_STANDBY, act_yield),
		[VE_ADDR_GONE] = T(VS_HOLDER, act_readd),
		[VE_LEAVE] = T(VS_OFF, act_leave_held),
		[VE_STOP] = T(VS_OFF, act_stop_held),
	},
};

#undef T

void vip_event(struct vip *v, enum vip_event ev, long long now)
{
	/* The longest chain is two (a claim whose add fails); the bound
	 * only guards against a table mistake. */
	for (int hop = 0; ev < VE_COUNT && hop < 8; hop++) {
		const struct vip_transition *t = &vip_table[v->state][ev];

		if (!t->valid)
			return;
		v->state = t->next;
		ev = t->act ? t->act(v, now) : VE_NONE;
	}
}

static enum vip_event decide_standby(const struct vip *v, long long now)
{
	const struct fd_peers *t = v->peers;

	if (fd_peers_holder(t) >= 0 || now < v->quiet_until_ms)
		return VE_NONE;
	if (now - t->holder_heard_ms < t->takeover_ms)
		return VE_NONE;
	return fd_peers_first_live(t) == t->self ? VE_CLAIM : VE_NONE;
}

enum vip_event vip_decide(const struct vip *v, long long now, bool on_dev)
{
	int h;

	switch (v->state) {
	case VS_LISTEN:
		return now >= v->deadline_ms ? VE_LISTENED : VE_NONE;
	case VS_STANDBY:
		return decide_standby(v, now);
	case VS_PROBING:
		if (fd_peers_holder(v->peers) >= 0)
			return VE_HOLDER_SEEN;
		return now >= v->deadline_ms ? VE_PROBED : VE_NONE;
	case VS_HOLDER:
		if (!on_dev)
			return VE_ADDR_GONE;
		h = fd_peers_holder(v->peers);
		return h >= 0 && h < v->peers->self ? VE_YIELD : VE_NONE;
	default:
		return VE_NONE;
	}
}
