#!/usr/bin/env python3
# mgmtd-load.py - load clients for tests/tool/mgmtd.sh (no wrk/ab on the
# build host; curl and s_client cannot hold a thousand connections or write a
# whole pipeline before reading).
#   pipeline PORT FILE        send FILE on one TLS connection in one go, then
#                             read to EOF; print the number of responses
#   hold PORT N SECONDS       open N TLS connections, print "ready K" (K made
#                             it), hold them SECONDS, print how many were open
#   slowgate SOCK DELAY LOG   a device gate that answers each request after
#                             DELAY seconds, and then appends it to LOG
#   mutegate SOCK LOG         a device gate that appends each request to LOG
#                             (carries it out) and closes without an answer
import os, resource, socket, ssl, sys, time

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def tls(port, src="127.0.0.1"):
    return CTX.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0)))


def pipeline(port, path):
    s = tls(port)
    s.sendall(open(path, "rb").read())  # all of it before reading anything
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    print(got.count(b"HTTP/1.1 "))


def hold(port, n, secs):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 64), hard))
    conns = []
    for _ in range(n):
        try:
            conns.append(tls(port))
        except OSError:
            break
    print("ready", len(conns), flush=True)
    time.sleep(secs)
    alive = 0
    for s in conns:
        s.setblocking(False)
        try:
            alive += s.recv(1) != b""
        except ssl.SSLWantReadError:
            alive += 1
        except OSError:
            pass
    print("open", alive, flush=True)


def slowgate(path, delay, log, answer=True):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    while True:
        c, _ = srv.accept()
        line = c.makefile("rb").readline().decode().strip()
        time.sleep(delay)
        with open(log, "a") as f:
            f.write(line + "\n")
        state = "blocked" if line == "block" else "open"
        try:
            if answer:  # else carried out, then gone before answering
                c.sendall(("ok\nstate=%s port=1 devices=0\n" % state).encode())
        except OSError:
            pass  # the client gave up
        c.close()


if __name__ == "__main__":
    if sys.argv[1] == "pipeline":
        pipeline(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "slowgate":
        slowgate(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "mutegate":
        slowgate(sys.argv[2], 0, sys.argv[3], answer=False)
