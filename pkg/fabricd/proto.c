/* SPDX-License-Identifier: MIT */
/* proto.c - fabricd's heartbeat codec and peer table (proto.h). */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "proto.h"
#include "util.h"

static const uint8_t MAGIC[4] = { 'S', 'P', 'F', 'B' };

static const char *const verdict_names[FD_VERDICT_COUNT] = {
	"ok",
	"size",
	"source",
	"magic",
	"version",
	"hmac",
	"format",
	"index",
	"stale",
	"replay",
};

const char *fd_verdict_name(enum fd_verdict v)
{
	return v < FD_VERDICT_COUNT ? verdict_names[v] : "?";
}

int fd_mac_init(struct fd_mac *m, const uint8_t key[FD_KEY_LEN], struct space_err *err)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	int r = 0;

	/* the context keeps its own reference to the algorithm */
	EVP_MAC_free(mac);
	if (!ctx)
		return err_set(err, -ENOMEM, "HMAC-SHA256: no context");
	if (!EVP_MAC_init(ctx, key, FD_KEY_LEN, params)) {
		EVP_MAC_CTX_free(ctx);
		r = err_set(err, -EIO, "HMAC-SHA256: cannot set the key");
		ctx = NULL;
	}
	m->ctx = ctx;
	return r;
}

void fd_mac_free(struct fd_mac *m)
{
	EVP_MAC_CTX_free(m->ctx);
	m->ctx = NULL;
}

int fd_key_parse(const char *text, size_t len, uint8_t key[FD_KEY_LEN])
{
	if (len == 2 * FD_KEY_LEN + 1 && text[len - 1] == '\n')
		len--;
	if (len != 2 * FD_KEY_LEN)
		return -SPACE_E_FORMAT;
	return hex_decode(text, FD_KEY_LEN, key);
}

/* The HMAC of the header: the key stays set in the context; a NULL key
 * only restarts it, so nothing is allocated per datagram. */
static int hmac(struct fd_mac *m, const uint8_t *hdr, uint8_t out[FD_HMAC_LEN])
{
	size_t n = 0;

	if (!m->ctx || !EVP_MAC_init(m->ctx, NULL, 0, NULL) || !EVP_MAC_update(m->ctx, hdr, FD_HDR_LEN) ||
	    !EVP_MAC_final(m->ctx, out, &n, FD_HMAC_LEN) || n != FD_HMAC_LEN)
		return -EIO;
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int fd_hb_encode(struct fd_mac *m, const struct fd_hb *h, uint8_t out[FD_DGRAM_LEN])
{
	memcpy(out, MAGIC, 4);
	out[4] = FD_PROTO_VERSION;
	out[5] = h->holder ? FD_FLAG_HOLDER : 0;
	out[6] = h->index;
	out[7] = 0;
	put64(out + 8, h->conf_version);
	put64(out + 16, h->seq);
	return fd_hb_sign(m, out);
}

int fd_hb_sign(struct fd_mac *m, uint8_t dg[FD_DGRAM_LEN])
{
	return hmac(m, dg, dg + FD_HDR_LEN);
}

enum fd_verdict fd_hb_decode(struct fd_mac *m, const uint8_t *p, size_t n, struct fd_hb *h)
{
	uint8_t want[FD_HMAC_LEN];

	if (n != FD_DGRAM_LEN)
		return FD_DROP_SIZE;
	if (memcmp(p, MAGIC, 4))
		return FD_DROP_MAGIC;
	if (p[4] != FD_PROTO_VERSION)
		return FD_DROP_VERSION;
	/* constant time: the comparison must not tell how much was right */
	if (hmac(m, p, want) < 0 || CRYPTO_memcmp(want, p + FD_HDR_LEN, FD_HMAC_LEN))
		return FD_DROP_HMAC;
	if ((p[5] & ~FD_FLAG_HOLDER) || p[7])
		return FD_DROP_FORMAT;
	h->holder = p[5] & FD_FLAG_HOLDER;
	h->index = p[6];
	h->conf_version = get64(p + 8);
	h->seq = get64(p + 16);
	return FD_OK;
}

/* ------------------------------------------------------------ peer table */

static int slot_of(const struct fd_peers *t, struct in_addr a)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->p[i].addr.s_addr == a.s_addr)
			return (int)i;
	return -1;
}

void fd_peers_set(struct fd_peers *t, const struct fabric_conf *c, int self)
{
	struct fd_peer old[FABRIC_NODES_MAX];
	unsigned nold = t->n;

	memcpy(old, t->p, sizeof(old));
	memset(t->p, 0, sizeof(t->p));
	t->n = c->nnodes;
	t->self = self;
	t->takeover_ms = (long long)c->takeover * 1000;
	for (unsigned i = 0; i < c->nnodes; i++) {
		struct fd_peer *p = &t->p[i];

		for (unsigned k = 0; k < nold; k++)
			if (old[k].addr.s_addr == c->nodes[i].addr.ip.s_addr)
				*p = old[k];
		p->addr = c->nodes[i].addr.ip;
		memcpy(p->name, c->nodes[i].name, sizeof(p->name));
	}
}

static enum fd_verdict count(struct fd_peers *t, int slot, enum fd_verdict v)
{
	t->drops[v]++;
	if (v != FD_OK && slot >= 0)
		t->p[slot].dropped++;
	return v;
}

enum fd_verdict fd_peers_receive(struct fd_peers *t, struct fd_mac *m, struct in_addr src,
				 const uint8_t *p, size_t n, long long now, int64_t real_ms)
{
	int slot = slot_of(t, src);
	struct fd_peer *peer;
	struct fd_hb h;
	enum fd_verdict v;

	if (n != FD_DGRAM_LEN)
		return count(t, slot, FD_DROP_SIZE);
	if (slot < 0 || slot == t->self)
		return count(t, -1, FD_DROP_SOURCE);
	v = fd_hb_decode(m, p, n, &h);
	if (v != FD_OK)
		return count(t, slot, v);
	if (h.index != slot)
		return count(t, slot, FD_DROP_INDEX);
	peer = &t->p[slot];
	if (h.seq > (uint64_t)INT64_MAX || (int64_t)h.seq > real_ms + FD_SKEW_MS ||
	    (int64_t)h.seq < real_ms - FD_SKEW_MS)
		return count(t, slot, FD_DROP_STALE);
	if (h.seq <= peer->last_seq)
		return count(t, slot, FD_DROP_REPLAY);
	peer->last_seq = h.seq;
	peer->heard_ms = now;
	peer->holder = h.holder;
	peer->conf_version = h.conf_version;
	if (h.holder)
		t->holder_heard_ms = now;
	return count(t, slot, FD_OK);
}

void fd_peers_scan(struct fd_peers *t, long long now, void (*changed)(void *ctx, int i, bool live),
		   void *ctx)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct fd_peer *p = &t->p[i];
		bool live = (int)i == t->self || (p->heard_ms && now - p->heard_ms < t->takeover_ms);

		if (live != p->live && changed && (int)i != t->self)
			changed(ctx, (int)i, live);
		p->live = live;
	}
}

int fd_peers_first_live(const struct fd_peers *t)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->p[i].live || (int)i == t->self)
			return (int)i;
	return t->self;
}

int fd_peers_holder(const struct fd_peers *t)
{
	for (unsigned i = 0; i < t->n; i++)
		if ((int)i != t->self && t->p[i].live && t->p[i].holder)
			return (int)i;
	return -1;
}
