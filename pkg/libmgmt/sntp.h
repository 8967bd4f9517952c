/* SPDX-License-Identifier: MIT */
/* sntp.h - how far the local clock is from a time server: one SNTPv4
 * query (RFC 4330) over UDP, the answer checked before it is believed.
 * Used by `spacectl upgrade`: the node's clock must be in sync before an
 * upgrade (certificate validity, log order across the fabric).
 *
 * Return 0 or a negative errno / -SPACE_E_FORMAT with one reason in err
 * (pkg/lib/err.h); never print.
 */
#ifndef MGMT_SNTP_H
#define MGMT_SNTP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SNTP_PACKET 48

/* Check a server's answer pkt (n bytes, untrusted) to the request whose
 * transmit timestamp was t1 (NTP format, as sent); t4 is when it arrived
 * (NTP format). On success *offset is server time minus local time in
 * seconds. Refuses: short packet, not a server reply, version not 3/4,
 * stratum 0 (kiss-o'-death) or > 15, leap indicator "unsynchronised", an
 * originate timestamp that is not ours (a stale or spoofed answer), zero
 * timestamps. */
int sntp_parse(const unsigned char *pkt, size_t n, uint64_t t1, uint64_t t4, double *offset,
	       struct space_err *err);

/* Query server ("host" or "host:port", default port 123), waiting up to
 * timeout_ms. -ETIMEDOUT when no valid answer came. */
int sntp_offset(const char *server, int timeout_ms, double *offset, struct space_err *err);

/* The current time in NTP format (seconds since 1900 << 32 | fraction). */
uint64_t sntp_now(void);

#endif
