#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_hotpatch.py IMAGE.qcow2 PASSWORD-FILE V1.tgz V2.tgz [LOGDIR]

The operator's hot-patch procedure on a running node (README "Hot
patches"), over scp and a shell, with a device and an API client on the
host watching what they see:

  - v1, then v2: copied as admin with their .md5 and .sha256, checked with
    md5sum -c and sha256sum -c, extracted, `sh patchme.sh` as root;
    each time the device client is dropped and sees the port closed while
    the packages change, and is welcomed again after; the markers, the
    packages' releases, `spacectl show hotpatches` and GET
    /api/v1/hotpatches agree; every service is running again;
  - `hotpatch rollback` returns to v1; v2 again as an API job (PUT the
    bundle, POST, GET followed through mgmtd's own restart), rollback;
  - a power cut (QEMU killed) in the middle of the install step of v2: the
    node boots at v1 or v2, says which on the console, its package database
    verifies, its marker matches its packages, and the device gate is open.

Prints the blocked window the device client saw, the API's unavailability
and the apply time as TAP comments (tests/bench/hotpatch.sh reads them;
nothing here is a timed assertion).
"""
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

from vm import VM, api_call, api_context, api_login, check, run_scenario


class DeviceClient(threading.Thread):
    """A managed device: connected to the gate, PING every 50 ms, and
    reconnecting at once whenever it is dropped. Records each interval
    during which it had no working session."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop, self.down = port, False, []
        self.connected = threading.Event()
        self._since = None

    def _session(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.settimeout(5)
            s.sendall(b"HELLO e2e-hotpatch\n")
            if not s.recv(256).startswith(b"WELCOME"):
                raise OSError("not welcomed")
            if self._since is not None:
                self.down.append((self._since, time.monotonic()))
                self._since = None
            self.connected.set()
            while not self.stop:
                s.sendall(b"PING\n")
                if not s.recv(64).startswith(b"PONG"):
                    raise OSError("no PONG")
                time.sleep(0.05)

    def run(self):
        while not self.stop:
            try:
                self._session()
            except OSError:
                self.connected.clear()
                if self._since is None:
                    self._since = time.monotonic()
                time.sleep(0.05)

    def longest(self, t0, t1):
        spans = [b - a for a, b in self.down if a >= t0 and b <= t1]
        return max(spans) if spans else 0.0


class ApiPoller(threading.Thread):
    """GET /api/v1/system without a session every 100 ms: any HTTP answer
    (401) means mgmtd is serving. Records the intervals without one."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.url = f"https://127.0.0.1:{port}/api/v1/system"
        self.ctx = api_context()
        self.stop, self.down, self._since = False, [], None

    def run(self):
        while not self.stop:
            asked = time.monotonic()
            try:
                urllib.request.urlopen(self.url, context=self.ctx, timeout=5)
                up = True
            except urllib.error.HTTPError:
                up = True
            except (OSError, ssl.SSLError):
                up = False
            now = time.monotonic()
            # a request that fails was unanswered from the moment it was
            # sent (one accepted by a mgmtd that then stopped hangs first)
            if not up and self._since is None:
                self._since = asked
            elif up and self._since is not None:
                self.down.append((self._since, now))
                self._since = None
            time.sleep(0.1)

    def longest(self, t0, t1):
        spans = [b - a for a, b in self.down if a >= t0 and b <= t1]
        return max(spans) if spans else 0.0


def api(vm, path, password):
    """GET path of the API as admin, in a new session."""
    return api_call(vm, api_login(vm, password), "GET", path)[1]


def api_job(vm, password, tgz):
    """The API job: the bundle uploaded (PUT) and applied (POST) as admin,
    then followed (GET hotpatch) through mgmtd's own restart."""
    def call(method, path, body=None, ctype="application/json"):
        return api_call(vm, api_login(vm, password), method, path, body, ctype, timeout=120)

    name = os.path.basename(tgz)
    end = time.monotonic() + 180
    while True:  # mgmtd makes its certificate when it first starts
        try:
            call("GET", "/hotpatch")
            break
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(2)
    with open(tgz, "rb") as f:
        code, doc = call("PUT", "/hotpatch/bundle/" + name, f.read(), "application/octet-stream")
    check(code == 201 and doc.get("file") == name, f"PUT /api/v1/hotpatch/bundle/{name}: {code}")
    code, doc = call("POST", "/hotpatch", json.dumps({"file": name}).encode())
    check(code == 202, f"POST /api/v1/hotpatch starts the job: {code}")
    end, job = time.monotonic() + 600, {}
    while time.monotonic() < end:
        try:
            job = call("GET", "/hotpatch")[1].get("job") or {}
        except (OSError, ValueError):
            job = {"state": "running"}  # mgmtd is restarted by the patch
        # until the tool has written this job's progress: right after the
        # POST the file may still describe the previous operation
        if job.get("name") == name[:-len(".tgz")] and job.get("action") == "apply" and \
                job.get("state") not in ("running", None):
            break
        time.sleep(1)
    check(job.get("state") == "ok", f"GET /api/v1/hotpatch: the job ended ok: {job}")


def bundle_name(tgz):
    return os.path.basename(tgz)[:-len(".tgz")]


def copy_bundle(vm, password, tgz):
    for f in (tgz, tgz + ".md5", tgz + ".sha256"):
        rc, out = vm.scp_to("admin", password, f, "/var/tmp/")
        check(rc == 0, f"{os.path.basename(f)} copied to the node with scp as admin")
    name = bundle_name(tgz)
    rc, out = vm.run(f"cd /var/tmp && md5sum -c {name}.tgz.md5 && sha256sum -c {name}.tgz.sha256 && "
                     f"rm -rf {name} && tar -zxf {name}.tgz && ls {name}")
    check(rc == 0 and "patchme.sh" in out, f"{name}: md5sum -c and sha256sum -c pass, extracted")


def level(vm):
    rc, out = vm.run("hotpatch status --json")
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"level": None, "raw": out}


def apply(vm, password, tgz, dev, poller, figures):
    """sh patchme.sh in the extracted directory; the device and API
    windows it caused."""
    name = bundle_name(tgz)
    lvl = int(name.rsplit("-v", 1)[1])
    check(dev.connected.wait(120), "the device client is connected before the patch")
    t0 = time.monotonic()
    rc, out = vm.run(f"cd /var/tmp/{name} && sh patchme.sh", 900)
    t1 = time.monotonic()
    check(rc == 0 and re.search(rf"{name} installed: level v{lvl}", out),
          f"sh patchme.sh: {name} installed (exit {rc}): {out.strip().splitlines()[-1:]}")
    check(dev.connected.wait(120), "device communication is open again: the device client is welcomed")
    blocked = dev.longest(t0 - 1, time.monotonic())
    check(blocked > 0, "the device client was dropped while the packages changed (the gate was blocked)")
    figures.setdefault("apply_s", []).append(t1 - t0)
    figures.setdefault("blocked_s", []).append(blocked)
    figures.setdefault("api_down_s", []).append(poller.longest(t0 - 1, time.monotonic()))
    print(f"# {name}: apply {t1 - t0:.1f} s, device blocked {blocked:.2f} s, "
          f"API unavailable {figures['api_down_s'][-1]:.2f} s", flush=True)
    return out


def check_level(vm, password, lvl, rel, pkgs):
    st = level(vm)
    check(st.get("level") == lvl, f"hotpatch status: level v{lvl} ({st.get('level')})")
    rc, out = vm.run("ls /etc/.Space-* 2>/dev/null; pkg list")
    markers = sorted(int(m) for m in re.findall(rf"/etc/\.Space-{re.escape(rel)}-Hotpatch-v(\d+)", out))
    check(markers == list(range(1, lvl + 1)), f"markers v1..v{lvl} in /etc: {markers}")
    for p, want in pkgs.items():
        m = re.search(rf"^{p} (\S+)", out, re.M)
        check(m and m.group(1).endswith("-" + want), f"{p} is at package release {want}: {m and m.group(1)}")
    rc, out = vm.run("pkg verify --no-owner >/dev/null && echo VERIFIED")
    check("VERIFIED" in out, "pkg verify is clean")
    rc, out = vm.run("spacectl show hotpatches")
    check(f"Hotpatch-v{lvl}" in out if lvl else True, f"spacectl show hotpatches names v{lvl}")
    got = api(vm, "hotpatches", password)
    check(got.get("level") == lvl, f"GET /api/v1/hotpatches: level {got.get('level')}")
    rc, out = vm.run("watchdogctl --json status")
    try:
        svcs = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        svcs = []
    check(svcs and all(s["state"] == "running" and s["ready"] == "yes" for s in svcs),
          f"every service is running and ready: {[(s['name'], s['state'], s['ready']) for s in svcs]}")


def scenario(vm, password, v1, v2, figures):
    vm.login("admin", password)
    vm.su(password)
    rc, out = vm.run("sed -n 's/^VERSION=//p' /etc/space-release")
    ver = out.strip().splitlines()[-1]
    rel = re.match(r"\d+\.\d+R\d+", ver).group(0)
    dev, poller = DeviceClient(vm.dev_port), ApiPoller(vm.https_port)
    dev.start()
    poller.start()
    try:
        check(level(vm).get("level") == 0, "a fresh node is at hot-patch level v0")
        # the baseline of the figures: every service stopped and started
        # again by the watchdog, as the patch does, with nothing installed
        t0 = time.monotonic()
        rc, _ = vm.run("watchdogctl shutdown --hold >/dev/null; rm -f /run/watchdog.hold; for i in $(seq 1200); do "
                       "s=$(watchdogctl --json status 2>/dev/null) && case $s in *'\"ready\":\"no\"'*|*held*|'[]') ;; "
                       "*) break ;; esac; sleep 0.1; done; watchdogctl status >/dev/null")
        figures["restart_s"] = time.monotonic() - t0
        print(f"# baseline: the watchdog's services stopped and started again in {figures['restart_s']:.1f} s",
              flush=True)
        copy_bundle(vm, password, v1)
        apply(vm, password, v1, dev, poller, figures)
        check_level(vm, password, 1, rel, {"devgate": "2"})
        copy_bundle(vm, password, v2)
        apply(vm, password, v2, dev, poller, figures)
        check_level(vm, password, 2, rel, {"devgate": "2", "mgmtd": "2"})
        rc, out = vm.run("hotpatch rollback", 600)
        check(rc == 0 and "rolled back from v2 to v1" in out, f"hotpatch rollback: {out.strip().splitlines()[-1:]}")
        check_level(vm, password, 1, rel, {"devgate": "2", "mgmtd": "1"})
        api_job(vm, password, v2)
        check_level(vm, password, 2, rel, {"devgate": "2", "mgmtd": "2"})
        rc, out = vm.run("hotpatch rollback", 600)
        check(rc == 0, "rolled back to v1 again")
    finally:
        dev.stop = poller.stop = True
    # the power cut, in the install step of v2
    vm.p.sendline(f"cd /var/tmp/{bundle_name(v2)} && sh patchme.sh")
    vm.expect(r"\[5/8\] install", 600)
    vm.p.terminate(force=True)
    vm.p.close()
    check(True, "power cut: QEMU killed in the install step of v2")
    vm._start()
    i = vm.expect([r"recovered: level v(\d)", r"hotpatch: recover[^\r\n]*"], 300)
    check(i == 0, f"at boot the interrupted patch is recovered: {vm.p.match.group(0)}")
    got = int(vm.p.match.group(1))
    vm.login("admin", password)
    vm.su(password)
    check_level(vm, password, got, rel, {"devgate": "2", "mgmtd": "2" if got == 2 else "1"})
    rc, out = vm.run("spacectl devices status")
    check("open" in out or "state=open" in out, f"device communication is open after the recovery: {out.strip()[:80]}")
    print(f"# power cut in the install step: the node came back at v{got}", flush=True)


def main():
    image, pwfile, v1, v2 = sys.argv[1:5]
    logdir = sys.argv[5] if len(sys.argv) > 5 else None
    password = open(pwfile).readline().strip()
    figures = {}
    vm = VM(image, firmware="bios", name="hotpatch", logdir=logdir)
    rc = run_scenario(vm, lambda v: scenario(v, password, v1, v2, figures))
    if rc == 0 and figures.get("blocked_s"):
        print("# figures " + json.dumps(figures), flush=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
