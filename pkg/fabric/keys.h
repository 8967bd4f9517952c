/* SPDX-License-Identifier: MIT */
/* keys.h - the nodes' SSH public keys: checked, listed, and written into
 * root's authorized_keys with the agent as their forced command.
 *
 * A key line is "ssh-ed25519 BASE64": the only type fabric nodes make
 * (dropbearkey -t ed25519), base64 of the 51-byte public key blob.
 */
#ifndef SPACE_FABRIC_KEYS_H
#define SPACE_FABRIC_KEYS_H

#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "pkg/fabric/conf.h"

#define FABRIC_PUBKEY_MAX 128 /* "ssh-ed25519 " + 68 base64 + slack */

struct fabric_key {
	char name[FABRIC_NAME_MAX + 1];
	char key[FABRIC_PUBKEY_MAX]; /* "ssh-ed25519 AAAA..." */
};

struct fabric_keys {
	unsigned n;
	struct fabric_key k[FABRIC_NODES_MAX];
};

/* Take the "ssh-ed25519 BASE64" part of a public key line (a comment
 * after it is dropped) into out; -SPACE_E_FORMAT for anything else. */
int fabric_pubkey_parse(const char *line, char out[FABRIC_PUBKEY_MAX]);

/* nodes.keys: "NAME ssh-ed25519 BASE64" per line, at most
 * FABRIC_NODES_MAX, names unique. */
int fabric_keys_parse(const char *text, size_t len, struct fabric_keys *k, struct space_err *err);
void fabric_keys_format(const struct fabric_keys *k, struct buf *b);
/* Add or replace the key of name. -ENOSPC when full. */
int fabric_keys_set(struct fabric_keys *k, const char *name, const char *key);

/* Rewrite authorized_keys at path: every line that is not a fabric line
 * is kept as it is; the fabric lines become exactly k's, each with the
 * agent as forced command (paths.h). Atomic, mode 0600. */
int fabric_authorize(const char *path, const struct fabric_keys *k, struct space_err *err);

#endif
