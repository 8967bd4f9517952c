#!/usr/bin/env python3
# mgmtd-race.py - event-loop races for tests/tool/mgmtd.sh, against mgmtd
# with a fake watchdog socket that this script serves, so it decides when a
# backend call is answered.
#   reset PORT SOCK PID TOKEN N   N times: GET /services, the watchdog answers,
#                                 the client resets (SO_LINGER 0) before mgmtd
#                                 collects both events; print "alive K" (the
#                                 rounds mgmtd survived)
#   spin PORT SOCK PID TOKEN      two pipelined requests, the second a call the
#                                 watchdog holds, then one more byte; print the
#                                 CPU ticks mgmtd used in the next 2 s, then
#                                 the number of answers once the call ends
import os, socket, ssl, struct, sys, time

CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def tls(port):
    return CTX.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))


def fake_watchdog(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    s.settimeout(10)
    return s


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        x = f.read().split(")")[1].split()
    return int(x[11]) + int(x[12])


def get(path, token):
    return ("GET /api/v1/%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % (path, token)).encode()


def reset(port, sock, pid, token, n):
    wd = fake_watchdog(sock)
    done = 0
    for _ in range(n):
        t = tls(port)
        t.sendall(get("services", token))
        w, _ = wd.accept()
        w.recv(100)
        time.sleep(0.05)  # mgmtd is back in epoll_wait
        t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.sendall(b"ok\n")  # both land before mgmtd wakes up
        w.close()
        t.close()
        time.sleep(0.01)
        if not alive(pid):
            break
        done += 1
    print("alive %d" % done)


def spin(port, sock, pid, token):
    wd = fake_watchdog(sock)
    t = tls(port)
    t.sendall(get("system", token) + get("services", token))
    w, _ = wd.accept()
    w.recv(100)
    time.sleep(0.2)
    t.sendall(b"G")  # one more byte while the call waits
    c0 = cpu(pid)
    time.sleep(2)
    print("ticks %d" % (cpu(pid) - c0))
    w.sendall(b"ok\n")
    w.close()
    t.settimeout(3)
    got = b""
    try:
        while got.count(b"HTTP/1.1 ") < 2:
            b = t.recv(65536)
            if not b:
                break
            got += b
    except socket.timeout:
        pass
    print("answers %d" % got.count(b"HTTP/1.1 "))


if __name__ == "__main__":
    m = sys.argv[1]
    port, sock, pid, token = int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    if m == "reset":
        reset(port, sock, pid, token, int(sys.argv[6]))
    elif m == "spin":
        spin(port, sock, pid, token)
    else:
        sys.exit("mgmtd-race.py: unknown mode " + m)
