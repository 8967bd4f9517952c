/* SPDX-License-Identifier: MIT */
/* arp.c - ARP probe and announcement of the virtual IP (arp.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arp.h"

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int arp_conflict(const uint8_t *p, size_t n, struct in_addr vip, const uint8_t mine[6], char *who,
		 size_t whon)
{
	uint32_t spa, tpa;
	uint16_t op;
	const char *kind;

	/* Ethernet (1), IPv4 (0x0800), 6-byte MACs, 4-byte addresses;
	 * anything longer is padding (a short frame is padded to 46 bytes) */
	if (n < ARP_LEN || get16(p) != ARPHRD_ETHER || get16(p + 2) != ETH_P_IP || p[4] != 6 || p[5] != 4)
		return 0;
	op = get16(p + 6);
	memcpy(&spa, p + 14, 4);
	memcpy(&tpa, p + 24, 4);
	if (!memcmp(p + 8, mine, 6))
		return 0;
	if (spa == vip.s_addr && (op == ARPOP_REPLY || op == ARPOP_REQUEST))
		kind = op == ARPOP_REPLY ? "answer" : "announcement";
	else if (op == ARPOP_REQUEST && spa == 0 && tpa == vip.s_addr)
		kind = "probe";
	else
		return 0;
	snprintf(who, whon, "%02x:%02x:%02x:%02x:%02x:%02x (%s)", p[8], p[9], p[10], p[11], p[12], p[13],
		 kind);
	return 1;
}

void arp_frame(uint8_t out[ARP_LEN], const uint8_t mac[6], struct in_addr vip, int announce)
{
	uint32_t zero = 0;

	put16(out, ARPHRD_ETHER);
	put16(out + 2, ETH_P_IP);
	out[4] = 6;
	out[5] = 4;
	put16(out + 6, ARPOP_REQUEST);
	memcpy(out + 8, mac, 6);
	memcpy(out + 14, announce ? (const void *)&vip.s_addr : (const void *)&zero, 4);
	memset(out + 18, 0, 6); /* the target MAC: unknown, RFC 5227 2.1.1 */
	memcpy(out + 24, &vip.s_addr, 4);
}

int arp_open(struct arp_sock *s, const char *dev, struct space_err *err)
{
	struct sockaddr_ll sa = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP) };
	struct ifreq ifr = { 0 };
	int r;

	s->fd = -1;
	s->ifindex = (int)if_nametoindex(dev);
	if (!s->ifindex)
		return err_set(err, -errno, "interface %s: %s", dev, strerror(errno));
	s->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (s->fd < 0)
		return err_set(err, -errno, "ARP socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	sa.sll_ifindex = s->ifindex;
	if (ioctl(s->fd, SIOCGIFHWADDR, &ifr) < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = err_set(err, -errno, "ARP socket on %s: %s", dev, strerror(errno));
		arp_close(s);
		return r;
	}
	memcpy(s->mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int arp_send(struct arp_sock *s, struct in_addr vip, int announce)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = s->ifindex, .sll_halen = 6 };
	uint8_t f[ARP_LEN];

	memcpy(to.sll_addr, BCAST, 6);
	arp_frame(f, s->mac, vip, announce);
	if (sendto(s->fd, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

int arp_read(struct arp_sock *s, struct in_addr vip, char *who, size_t whon)
{
	uint8_t f[128];
	int found = 0;

	/* bounded: a flood of ARP cannot keep the daemon here */
	for (int k = 0; k < 256; k++) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(s->fd, f, sizeof(f), 0, (struct sockaddr *)&from, &fl);

		if (n < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING || found)
			continue;
		found = arp_conflict(f, (size_t)n, vip, s->mac, who, whon);
	}
	return found;
}

void arp_close(struct arp_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
