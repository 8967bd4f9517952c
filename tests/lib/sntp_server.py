#!/usr/bin/env python3
"""sntp_server.py [--offset SECONDS] [--port N] - a minimal SNTP server for
tests (RFC 4330): answers each request with the host's time plus OFFSET,
stratum 2, echoing the client's transmit timestamp as the originate one.
Prints the UDP port it listens on (0: any free port), then serves until
killed. Used by tests/tool/upgrade.sh and the QEMU upgrade test (the guest
reaches it through QEMU's user network at 10.0.2.2)."""
import argparse
import socket
import struct
import sys
import time

NTP_DELTA = 2208988800


def ntp(t):
    return (int(t) + NTP_DELTA) << 32 | int((t % 1) * (1 << 32))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--offset', type=float, default=0.0)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--bind', default='127.0.0.1')
    a = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    print(s.getsockname()[1], flush=True)
    while True:
        data, peer = s.recvfrom(512)
        if len(data) < 48:
            continue
        recv = ntp(time.time() + a.offset)
        org = data[40:48]
        head = struct.pack('!BBbb', (0 << 6) | (4 << 3) | 4, 2, 6, -20)
        pkt = head + b'\0' * 8 + b'TEST' + struct.pack('!Q', recv) + org + struct.pack('!QQ', recv, ntp(time.time() + a.offset))
        s.sendto(pkt, peer)


if __name__ == '__main__':
    sys.exit(main())
