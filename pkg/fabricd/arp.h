/* SPDX-License-Identifier: MIT */
/* arp.h - the ARP frames of an RFC 5227 claim of the virtual IP, sent and
 * read on dev through an AF_PACKET socket (no arping on the node).
 *
 *   probe:        "who has VIP?", sender IP 0.0.0.0 (it says nothing about
 *                 who holds the address, so no cache is changed by it);
 *   announcement: "VIP is at MAC", sender and target IP both the VIP (a
 *                 gratuitous ARP: neighbours update the entry they have).
 * While probing, an ARP from another MAC whose sender IP is the VIP (an
 * answer, or its holder's announcement), or another probe for the VIP,
 * means the address is taken: arp_conflict().
 */
#ifndef FABRICD_ARP_H
#define FABRICD_ARP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ARP_LEN 28 /* Ethernet/IPv4 ARP, without the Ethernet header */

struct arp_sock {
	int fd;
	int ifindex;
	uint8_t mac[6];
};

/* Does the ARP frame (p, n) say another host has or wants vip? 1 (and who
 * gets "MAC (answer|probe|announcement)"), 0 for any other frame, short
 * or foreign ones included. mine: this node's MAC on dev. */
int arp_conflict(const uint8_t *p, size_t n, struct in_addr vip, const uint8_t mine[6], char *who,
		 size_t whon);

/* The frame of a probe (sender IP 0) or an announcement of vip from mac. */
void arp_frame(uint8_t out[ARP_LEN], const uint8_t mac[6], struct in_addr vip, int announce);

/* Open an ARP socket on dev: 0 or a negative errno with err's reason. */
int arp_open(struct arp_sock *s, const char *dev, struct space_err *err);
/* Broadcast a probe (announce 0) or an announcement (1) of vip. */
int arp_send(struct arp_sock *s, struct in_addr vip, int announce);
/* Read every frame waiting: 1 when one was a conflict (who filled), 0. */
int arp_read(struct arp_sock *s, struct in_addr vip, char *who, size_t whon);
void arp_close(struct arp_sock *s);

#endif
