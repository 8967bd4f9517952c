#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_fabric.py IMAGE.qcow2 PASSWORD-FILE V1.tgz V2.tgz BROKEN.img [LOGDIR [full NEXT.img]]

Two nodes form a fabric as operators do (README "Fabric"), on a private
network between the VMs (QEMU's socket netdev, a UDP tunnel: eth1 of each,
10.9.0.1 and 10.9.0.2), each with its own user-mode network for the host:

  - n1: `spacectl fabric init`; fabricd puts the virtual address
    10.9.0.100 on n1's eth1;
  - refusals that change nothing: add-node on a node that does not hold
    the VIP, add-node with a wrong password;
  - n1: `spacectl fabric add-node 10.9.0.2` asks n2's admin password once;
    then both nodes have the configuration (version 2), each other's key
    (with the agent as forced command), the heartbeat key; `spacectl
    fabric show` on either node lists both, reachable, with the VIP node's
    role, release, hot-patch level and services; GET /api/v1/fabric says
    the same;
  - hot patches from the VIP node: v1 on both nodes by the API job on n1
    (upload, POST /api/v1/hotpatch, GET until it ends); then `sh
    patchme.sh` on n1 only: v2 with a fault injected in n1's install step (n1 is
    patched last, after n2): n2 is rolled back, both stay at v1 and the
    report names n1 and the reason (and `hotpatch status --follow` shows
    that run again); v2 again: both at v2 (markers, levels
    in `spacectl fabric show`, each node's log gathered on n1);
  - a fabric upgrade from the VIP node (`spacectl upgrade` on n1) to
    BROKEN, a release built with TEST_NEVER_READY=1 (tests/tests.mk): each
    node has a time server (tests/lib/sntp_server.py) and an off-node
    backup (a second disk); both stage it, n2 boots it first (slot B), its
    trial is not confirmed, it falls back to slot A and rejoins the
    fabric (fabricd puts its address back), and n1 cancels its own staged
    slot: both run the old release, the report names n2 and the reason,
    `spacectl upgrade status --follow` shows the run again; a member
    refuses an upgrade run on it directly;
  - n1 is powered off: n2 takes the virtual address, and mgmtd answers on
    it (an SSH tunnel to n2, from the host, to 10.9.0.100:443);
  - full (test-full): n1 comes back: it does not take the address back
    while n2 lives; a fabric upgrade from n2 (the VIP node now) to NEXT
    that every node keeps: n1 first, then n2, whose own confirmation at
    its boot ends the run; then the VIP node removes the other, which
    forgets the fabric. Otherwise n2 forgets the dead n1 (remove-node).

Prints its figures as a TAP comment (tests/bench/fabric.sh reads them;
nothing here is a timed assertion): the fabric's v2 patch against its
nodes' own applies, the longest window a device client on either node had
no session, the VIP takeover time.
"""
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import urllib.error

import pexpect

from test_hotpatch import DeviceClient, api_job
from test_upgrade import sntp_server, status as upgrade_status, usb_disk
from vm import VM, api_call, api_login, check, free_port

FIGURES = {}

VIP = "10.9.0.100"


def udp_ports(n):
    """n free UDP ports on 127.0.0.1."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def fabric_nic(i, own, peer):
    """eth1: the fabric network, a UDP tunnel between the two VMs over the
    host's loopback (unicast: no multicast route needed on the host)."""
    return ["-netdev", f"socket,id=f0,udp=127.0.0.1:{peer},localaddr=127.0.0.1:{own}",
            "-device", f"virtio-net-pci,netdev=f0,mac=52:54:00:fa:00:{i:02x}"]


def up(vm, password, i):
    vm.login("admin", password)
    vm.su(password)
    rc, _ = vm.run(f"ip addr add 10.9.0.{i}/24 dev eth1 && ip link set eth1 up")
    check(rc == 0, f"n{i}: eth1 has 10.9.0.{i}")


def holds_vip(vm):
    rc, out = vm.run("ip addr show dev eth1")
    return f"inet {VIP}/" in out


def wait_vip(vm, timeout):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if holds_vip(vm):
            return time.monotonic() - t0
        time.sleep(1)
    return None


def form(n1, n2, password):
    rc, out = n1.run("spacectl fabric init --vip 10.9.0.100/24 --dev eth1 --takeover 4 --name n1")
    check(rc == 0, "n1: spacectl fabric init")
    rc, out = n1.run("cat /etc/space-cluster.conf")
    check("version = 1" in out and "node = 10.9.0.1/24 n1" in out, "n1: a fabric of one, version 1")
    check(wait_vip(n1, 120) is not None, "n1: fabricd puts the virtual address on eth1")

    rc, out = n2.run("spacectl fabric add-node 10.9.0.1")
    check(rc == 1 and "in no fabric" in out, "add-node on a node in no fabric is refused")
    n1.p.sendline("spacectl fabric add-node 10.9.0.2 --name n2; echo rc=$?")
    n1.expect(r"admin password of 10\.9\.0\.2: ", 120)
    n1.p.sendline("wrong-" + password)
    n1.expect(r"rc=(\d+)", 120)
    rc = int(n1.p.match.group(1))
    check(rc == 1, "add-node with a wrong password is refused (1)")
    rc, out = n2.run("test -e /etc/space-cluster.conf")
    check(rc != 0, "  and n2 is in no fabric")

    n1.p.sendline("spacectl fabric add-node 10.9.0.2 --name n2; echo rc=$?")
    n1.expect(r"admin password of 10\.9\.0\.2: ", 120)
    n1.p.sendline(password)
    n1.expect(r"rc=(\d+)", 300)
    out = n1.p.before
    check(n1.p.match.group(1) == "0" and "node 10.9.0.2 joined: fabric version 2, 2 nodes" in out,
          "n1: spacectl fabric add-node 10.9.0.2 asks n2's admin password once, joins it")
    for vm in (n1, n2):
        rc, out = vm.run("echo conf=$(grep -c 'version = 2' /etc/space-cluster.conf)"
                         " keys=$(grep -c fabric: /root/.ssh/authorized_keys) hkey=$(wc -c < /var/etc/fabric/key);"
                         " grep '^command=' /root/.ssh/authorized_keys | cut -c1-40")
        check("conf=1 keys=2 hkey=65\n" in out and 'command="/usr/sbin/fabric-agent"' in out,
              f"{vm.name}: the configuration (version 2), both nodes' keys (forced command: the agent), the heartbeat key")
    sums = {}
    for vm, other in ((n1, "10.9.0.2"), (n2, "10.9.0.1")):
        rc, out = vm.run(f"sha256sum < /var/etc/mgmtd/server.crt; sha256sum < /var/etc/fabric/peers/{other}.pem")
        sums[vm.name] = out.split()[::2][:2]
    check(len(sums["fabric-n1"]) == 2 and sums["fabric-n1"][0] == sums["fabric-n2"][1]
          and sums["fabric-n2"][0] == sums["fabric-n1"][1],
          "mutual trust: each node pinned the other's mgmtd certificate (peers/ADDRESS.pem)")


def show(n1, n2, password):
    for vm in (n1, n2):
        rc, out = vm.run("spacectl fabric show")
        print("# " + out.replace("\n", "\n# "))
        rows = {l.split()[0]: l.split() for l in out.splitlines() if l.startswith("n")}
        check(rc == 0 and set(rows) == {"n1", "n2"} and rows["n1"][2] == "vip" and rows["n2"][2] == "member"
              and rows["n1"][3] == rows["n2"][3] == "yes", f"{vm.name}: spacectl fabric show: both reachable, n1 the VIP node")
    rc, out = n1.run("spacectl --json fabric show")
    doc = json.loads(out)
    n = {x["name"]: x for x in doc["nodes"]}
    check(doc["version"] == 2 and doc["vip"] == "10.9.0.100/24" and n["n2"]["release"] == n["n1"]["release"]
          and n["n2"]["services_running"] == n["n2"]["services_total"] > 0,
          "--json: release, hot-patch level and services of each node")
    token = api_login(n1, password)
    t0 = time.monotonic()
    while True:
        try:
            status, body = api_call(n1, token, "GET", "fabric")
            break
        except urllib.error.HTTPError as e:
            if e.code != 503 or time.monotonic() - t0 > 120:
                raise
            time.sleep(2)
    check(status == 200 and [x["name"] for x in body["nodes"]] == ["n1", "n2"] and body["nodes"][1]["reachable"],
          "GET /api/v1/fabric: the same document (503 while it is first gathered)")


def bundle_name(tgz):
    return os.path.basename(tgz)[:-len(".tgz")]


def copy_bundle(vm, password, tgz):
    rc, out = vm.scp_to("admin", password, tgz, "/var/tmp/")
    check(rc == 0, f"{os.path.basename(tgz)} copied to n1 with scp as admin")
    name = bundle_name(tgz)
    rc, out = vm.run(f"cd /var/tmp && rm -rf {name} && tar -zxf {name}.tgz && ls {name}")
    check(rc == 0 and "patchme.sh" in out, f"{name}: extracted on n1")


def levels(n1, n2, want):
    for vm in (n1, n2):
        rc, out = vm.run("echo markers=$(ls -a /etc | grep -c '^.Space-.*-Hotpatch-v')")
        check(f"markers={want}\n" in out, f"{vm.name}: {want} hot-patch marker(s)")
    rc, out = n1.run("spacectl --json fabric show")
    got = [x["hotpatch_level"] for x in json.loads(out)["nodes"]]
    check(got == [want, want], f"spacectl fabric show: both nodes at v{want} ({got})")


def fabric_patch(n1, n2, password, v1, v2):
    # v1 as the API job on the VIP node (upload, POST, GET until it ends)
    api_job(n1, password, v1)
    # the job is ok once this node (the last) is patched; the run then
    # opens the gates and reports: --follow waits for its end
    rc, out = n1.run("hotpatch status --follow | tail -3")
    check("installed on every node of the fabric" in out and "[fabric] done: exit 0" in out,
          "v1 by the API job on the VIP node: the fabric's run (its progress file)")
    levels(n1, n2, 1)
    copy_bundle(n1, password, v2)
    rc, out = n1.run(f"cd /var/tmp/{bundle_name(v2)} && HOTPATCH_FAULT=install sh patchme.sh", 900)
    print("# " + "\n# ".join(out.strip().splitlines()[-4:]))
    rep = {l.split()[0]: l for l in out.splitlines() if l.startswith("  n")}
    check(rc == 111 and "rolled back" in rep.get("n2", "") and "failed: hotpatch: apply" in rep.get("n1", ""),
          "v2 with a fault in n1's install step: n2 was rolled back, the report names n1 and its reason (exit 111)")
    rc, out = n1.run("hotpatch status --follow")
    check(rc == 111 and "rolled back" in out and "[fabric] done: exit 111" in out,
          "hotpatch status --follow shows that run again, to its end")
    levels(n1, n2, 1)
    devs = [DeviceClient(vm.dev_port) for vm in (n1, n2)]
    for d in devs:
        d.start()
    for d in devs:
        d.connected.wait(60)
    t0 = time.monotonic()
    rc, out = n1.run(f"cd /var/tmp/{bundle_name(v2)} && sh patchme.sh", 900)
    t1 = time.monotonic()
    time.sleep(3)
    for d in devs:
        d.stop = True
    check(rc == 0 and "installed on every node of the fabric" in out, "v2 from the VIP node: both patched")
    m = re.search(r"fabric time: ([0-9.]+) s in all, ([0-9.]+) s in the nodes' own applies", out)
    FIGURES.update(fabric_s=float(m.group(1)), nodes_s=float(m.group(2)), patchme_s=t1 - t0,
                   blocked_s=max(d.longest(t0, t1 + 3) for d in devs))
    print(f"# v2 on the fabric: {FIGURES['fabric_s']:.1f} s, its nodes' own applies {FIGURES['nodes_s']:.1f} s; "
          f"longest device blocked window on a node {FIGURES['blocked_s']:.2f} s")
    levels(n1, n2, 2)
    rc, out = n1.run("ls /var/log/hotpatch/fabric/; echo n2v2=$(grep -c 'installed: level v2' /var/log/hotpatch/fabric/n2.log)")
    check("n1.log" in out and "n2.log" in out and "n2v2=0" not in out and "n2v2=" in out, "each node's log gathered on n1")
    rc, out = n2.run(f"cd /var/tmp && hotpatch apply /var/tmp/fabric/{bundle_name(v2)}.tgz")
    check(rc == 1 and "from the VIP node" in out, "a member refuses a patch applied on it directly")


def takeover(n1, n2, password):
    t0 = time.monotonic()
    n1.p.kill(9)
    n1.p.close(force=True)
    took = wait_vip(n2, 120)
    check(took is not None, "n1 powered off: n2 takes the virtual address")
    FIGURES.update(takeover_s=time.monotonic() - t0, takeover_conf_s=4)
    print(f"# VIP takeover: {FIGURES['takeover_s']:.1f} s after the VIP node died (takeover 4 s)")
    port = free_port()
    tunnel = pexpect.spawn("ssh", ["-N", "-p", str(n2.ssh_port), "-o", "StrictHostKeyChecking=no",
                                   "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                                   "-o", "PubkeyAuthentication=no",
                                   "-L", f"127.0.0.1:{port}:{VIP}:443", "admin@127.0.0.1"], timeout=120)
    try:
        tunnel.expect(r"[Pp]assword: ?")
        tunnel.sendline(password)

        class Via:
            https_port = port
        ok_ = False
        for _ in range(30):
            try:
                status, body = api_call(Via, api_login(Via, password), "GET", "system")
                ok_ = status == 200
                break
            except (OSError, urllib.error.URLError):
                time.sleep(2)
        check(ok_, "mgmtd answers on the virtual address (from the host through n2)")
    finally:
        tunnel.close(force=True)


def comeback(n1, n2, password):
    n1._start()
    n1.login("admin", password)
    n1.su(password)
    time.sleep(15)
    check(not holds_vip(n1) and holds_vip(n2), "n1 back: it does not take the virtual address from n2")


def leave(n1, n2):
    """The node holding the VIP removes the other, which forgets the fabric."""
    vip, other = (n1, n2) if holds_vip(n1) else (n2, n1)
    addr = "10.9.0.2" if other is n2 else "10.9.0.1"
    rc, out = vip.run(f"spacectl fabric remove-node {addr}")
    check(rc == 0 and "nodes" in out and "removed: fabric version" in out,
          f"{vip.name} (the VIP node): remove-node {addr}")
    rc, out = other.run("test -e /etc/space-cluster.conf || echo standalone; echo keys=$(grep -c fabric: /root/.ssh/authorized_keys)"
                        "; ls -A /var/etc/fabric/peers | wc -l")
    check("standalone" in out and "keys=0\n" in out and out.strip().endswith("0"),
          f"{other.name} left: standalone, no fabric key authorized, no certificate pinned")


def fabric_upgrade_ok(vip, peer, password, nxt):
    """test-full: a fabric upgrade that every node keeps; the VIP node
    reboots last and its own confirmation ends the run."""
    new = re.match(r".*-(\d+\.\d+R[\d.]+)\.img$", nxt).group(1)
    rc, _ = vip.run("grep -q ' /mnt/usb ' /proc/mounts || { mkdir -p /mnt/usb && mount /dev/vdb /mnt/usb; }")
    check(rc == 0, f"{vip.name}: its USB stick mounted again (it rebooted since)")
    t0 = time.monotonic()
    vip.p.sendline(f"spacectl upgrade /mnt/usb/{os.path.basename(nxt)}; echo rc=$?")
    i = vip.expect([r"the other nodes reboot into", r"rc=(\d+)"], 1800)
    check(i == 0, f"{vip.name}: every node staged {new}")
    peer.rebooted(600)
    peer.expect(r"Loading space " + re.escape(new) + r" \(slot B\)", 120)
    peer.expect(r"upgrade: " + re.escape(new) + r" in slot B is good", 600)
    vip.expect(r"rc=(\d+)", 1200)
    out = vip.p.before
    check(vip.p.match.group(1) == "0" and f"runs {new}, confirmed" in out and "reboots into" in out,
          f"{peer.name} staged, booted and confirmed {new}; {vip.name} reboots last (exit 0)")
    vip.rebooted(300)
    vip.expect(r"Loading space " + re.escape(new) + r" \(slot B\)", 120)
    vip.login("admin", password)
    vip.su(password)
    rc, out = vip.run("spacectl upgrade status --follow | tail -4", 900)
    FIGURES.update(upgrade_s=time.monotonic() - t0)
    print(f"# fabric upgrade to {new}, both nodes: {FIGURES['upgrade_s']:.1f} s", flush=True)
    check(f"{new} runs on every node of the fabric" in out and "[fabric] done: exit 0" in out,
          f"{vip.name}'s boot confirmed {new} and ended the run: every node upgraded")
    peer.p.sendline("")
    peer.login("admin", password)
    peer.su(password)
    for vm in (vip, peer):
        st = upgrade_status(vm)
        check(st.get("state") == "good" and st.get("booted") == "b" and st.get("release") == new,
              f"{vm.name}: runs {new} from slot B, kept ({st.get('state')})")


def fabric_upgrade(n1, n2, password, broken, old, ntp_port):
    new = re.match(r".*-(\d+\.\d+R[\d.]+)\.img$", broken).group(1)
    name = os.path.basename(broken)
    for vm in (n1, n2):
        rc, out = vm.run(f"mkdir -p /var/lib/upgrade /mnt/usb && printf 'ntp_server = 10.0.2.2:{ntp_port}\\n"
                         "trial_timeout = 20s\\n' > /var/lib/upgrade/upgrade.conf && mount /dev/vdb /mnt/usb && "
                         "spacectl backup create --to /mnt/usb")
        check(rc == 0, f"{vm.name}: a time server, an off-node backup ({out.strip()[-60:]})")
    rc, out = n2.run(f"spacectl upgrade /var/tmp/{name}")
    check(rc == 1 and "upgrade from the VIP node" in out, "a member refuses an upgrade run on it directly")
    t0 = time.monotonic()
    n1.p.sendline(f"spacectl upgrade /mnt/usb/{name}; echo rc=$?")
    i = n1.expect([r"the other nodes reboot into", r"rc=(\d+)"], 1800)
    check(i == 0, f"n1: every node staged {new}")
    # QEMU runs with -no-reboot: n2's reboots are this test's to restart
    n2.rebooted(600)
    n2.expect(r"Loading space " + re.escape(new) + r" \(slot B\)", 120)
    check(True, f"n2 staged {new} and n1 rebooted it into slot B")
    n2.expect(r"services not ready after 20 s: never-ready", 600)
    n2.rebooted(400)
    n2.expect(r"Loading space " + re.escape(old) + r" \(slot A\)", 120)
    # (read to the end of its boot: a console nobody reads fills its pty,
    # and the guest stops on its next write)
    n2.expect(r"upgrade failed, running " + re.escape(old) + r" from slot A", 600)
    check(True, "its trial is not confirmed: n2 falls back to slot A by itself, and says so")
    n1.expect(r"rc=(\d+)", 1200)
    rc, out = int(n1.p.match.group(1)), n1.p.before
    FIGURES.update(upgrade_fallback_s=time.monotonic() - t0)
    print(f"# fabric upgrade to {new}, n2 falling back: {FIGURES['upgrade_fallback_s']:.1f} s", flush=True)
    rep = {m.group(1): m.group(2) for m in re.finditer(r"^  (n\d) +(.*?)\r?$", out, re.M)}
    check(rc == 1 and "failed: back on " + old in rep.get("n2", "") and "never-ready" in rep.get("n2", "")
          and rep.get("n1", "").startswith("staged, cancelled") and "is back on " + old in out,
          f"the fabric upgrade fails as a whole (1): n2 {rep.get('n2', '?')!r}; n1 {rep.get('n1', '?')!r}")
    st1 = upgrade_status(n1)
    check(st1.get("state") == "cancelled" and st1.get("slot_b") == "" and st1.get("trial") == "",
          f"n1: its staged slot cancelled, slot B marked empty, no trial ({st1.get('state')})")
    n2.p.sendline("")
    n2.login("admin", password)
    n2.su(password)
    st2 = upgrade_status(n2)
    check(st2.get("state") == "failed" and st2.get("booted") == "a" and "never-ready" in st2.get("reason", ""),
          f"n2: runs slot A, its upgrade failed with the reason ({st2.get('reason', '')[:70]})")
    rows = {}
    for _ in range(20):
        rc, out = n1.run("spacectl fabric show")
        rows = {l.split()[0]: l.split() for l in out.splitlines() if re.match(r"n\d ", l)}
        if rows.get("n2", [""] * 4)[3:4] == ["yes"]:
            break
        time.sleep(3)
    check(len(rows) == 2 and all(r[3] == "yes" and r[4] == old for r in rows.values()),
          f"both nodes back in the fabric, reachable, on {old} (fabricd put n2's address back)")
    check(holds_vip(n1) and not holds_vip(n2), "n1 kept the virtual address; n2 did not claim it when it came back")
    rc, out = n1.run("spacectl upgrade status --follow | tail -3")
    check(rc == 0 and "[fabric] done: exit 1" in out, "spacectl upgrade status --follow shows the run to its end")


def forget_dead(n1, n2):
    rc, out = n2.run("spacectl fabric remove-node 10.9.0.1")
    check(rc == 0 and "forgotten anyway" in out and "removed: fabric version 3, 1 nodes" in out,
          "n2 (the VIP node): remove-node 10.9.0.1 forgets the dead n1")


def main():
    image, pwfile, v1, v2, broken = sys.argv[1:6]
    logdir = sys.argv[6] if len(sys.argv) > 6 else None
    full = len(sys.argv) > 8 and sys.argv[7] == "full"
    nxt = sys.argv[8] if full else None
    old = re.match(r".*-(\d+\.\d+R[\d.]+)-[a-z0-9]+\.qcow2$", image).group(1)
    password = open(pwfile).read().strip()
    a, b = udp_ports(2)
    work = tempfile.mkdtemp(prefix="e2e-fabric-")
    ntp, ntp_port = sntp_server()
    disks = [usb_disk(os.path.join(work, "1"), [broken]), usb_disk(os.path.join(work, "2"), [nxt] if full else [])]
    n1, n2 = (VM(image, name=f"fabric-n{i}", logdir=logdir,
                 extra=fabric_nic(i, *((a, b) if i == 1 else (b, a))) +
                 ["-drive", f"file={disks[i - 1]},if=virtio,format=raw"]) for i in (1, 2))
    rc = 1
    try:
        up(n1, password, 1)
        up(n2, password, 2)
        form(n1, n2, password)
        show(n1, n2, password)
        fabric_patch(n1, n2, password, v1, v2)
        fabric_upgrade(n1, n2, password, broken, old, ntp_port)
        takeover(n1, n2, password)
        if full:
            comeback(n1, n2, password)
            fabric_upgrade_ok(n2, n1, password, nxt)
            leave(n1, n2)
        else:
            forget_dead(n1, n2)
        print("# figures " + json.dumps(FIGURES), flush=True)
        rc = 0
    except Exception:
        import traceback
        traceback.print_exc()
        for vm in (n1, n2):
            vm.dump_log()
    finally:
        for vm in (n1, n2):
            vm.close()
        ntp.kill()
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == "__main__":
    sys.exit(main())
