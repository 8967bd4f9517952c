/* SPDX-License-Identifier: MIT */
/* paths.h - where a node keeps its fabric state (all below /var, so an A/B
 * upgrade keeps it; README.md "What lives where"). Tools take --root DIR
 * and put it in front (tests run them on a scratch tree).
 */
#ifndef SPACE_FABRIC_PATHS_H
#define SPACE_FABRIC_PATHS_H

/* The configuration is read as /etc/space-cluster.conf (conf.h), a
 * symlink in the read-only slot to the file written here. */
#define FABRIC_CONF_STORE "/var/etc/space-cluster.conf"
#define FABRIC_DIR "/var/etc/fabric"
#define FABRIC_KEY_PATH FABRIC_DIR "/key"             /* heartbeat HMAC key, hex, 0600 */
#define FABRIC_ID_PATH FABRIC_DIR "/id_ed25519"       /* this node's SSH key (dropbear) */
#define FABRIC_KEYS_PATH FABRIC_DIR "/nodes.keys"     /* "NAME ssh-ed25519 KEY" per node */
#define FABRIC_PEERS_DIR FABRIC_DIR "/peers"          /* ADDR.pem: mgmtd certs pinned at join */
#define FABRIC_AUTH_PATH "/root/.ssh/authorized_keys" /* root -> /var/root */
/* This node's name, which fabricd keeps once it has found itself by its
 * address: at the next boot the address is not yet up, and fabricd puts
 * it back on the fabric's interface from this. */
#define FABRIC_SELF_PATH FABRIC_DIR "/self"
#define FABRIC_STATE_PATH "/run/fabricd.state" /* fabricd's view (holder, peers) */
#define FABRIC_AGENT "/usr/sbin/fabric-agent"
/* this node's mgmtd certificate (the appliance's /etc/mgmtd.conf), which a new
 * node pins at its join */
#define FABRIC_MGMTD_CERT "/var/etc/mgmtd/server.crt"
/* What a fabric key may do on a node: only run the agent, which reads
 * its verb from SSH_ORIGINAL_COMMAND. */
#define FABRIC_KEY_OPTIONS \
	"command=\"" FABRIC_AGENT "\",no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty"
#define FABRIC_KEY_COMMENT "fabric:" /* + node name */
#define FABRIC_LINE_MAX 1024         /* an authorized_keys line */

#endif
