/* SPDX-License-Identifier: MIT */
/* fuzz_fabric_peer.c - libFuzzer target: what another node sends this one
 * outside the configuration: the nodes' keys (keys-put, from the VIP
 * node), a public key line (accept, from mgmtd's trust call) and a peer
 * mgmtd's HTTPS response (add-node). Beyond not crashing: accepted keys
 * are bounded and read back the same after fabric_keys_format; a parsed
 * response has a status in 100..599 and a body no longer than its input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pkg/fabric/https.h"
#include "pkg/fabric/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void keys(const char *text, size_t size)
{
	struct fabric_keys k, back;
	struct space_err e;
	struct buf b;

	if (fabric_keys_parse(text, size, &k, &e) < 0)
		return;
	if (k.n > FABRIC_NODES_MAX)
		abort();
	buf_init(&b);
	fabric_keys_format(&k, &b);
	if (fabric_keys_parse(b.p ? b.p : "", b.len, &back, &e) < 0 || memcmp(&k, &back, sizeof(k)))
		abort();
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), key[FABRIC_PUBKEY_MAX];
	struct buf body;
	int status;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	keys(s, size);
	if (fabric_pubkey_parse(s, key) == 0 && strncmp(key, "ssh-ed25519 ", 12))
		abort();
	buf_init(&body);
	if (https_parse_response(s, size, &status, &body) == 0 && (status < 100 || status > 599 || body.len > size))
		abort();
	buf_free(&body);
	free(s);
	return 0;
}
