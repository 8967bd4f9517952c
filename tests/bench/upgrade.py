#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""upgrade.py OLD.qcow2 NEW.img PASSWORD-FILE ZSTD ROWS [LOGDIR]

The VM half of tests/bench/upgrade.sh: one QEMU VM (TCG, 1 vCPU) of the
e2e image OLD, set up as tests/e2e/test_upgrade.py sets up its node (its
functions, imported: the USB stick, the SNTP server, prepare), with the
host's ZSTD and NEW's slot member on the stick beside NEW. In order:

  plain reboot   `reboot` of OLD while the host polls the API: the
                 baseline boot (command to login prompt) and API gap
  zstd|dd        the slot member unpacked into slot B (/dev/vda4) by
                 `zstd -dc | dd bs=1M`, then `sync`: the write baseline
  upgrade        `spacectl upgrade NEW` (no reboot, nothing else
                 running), its state and progress polled in the guest by a
                 shell loop reading the status file (builtins but sleep)
  upgrade+reboot `spacectl upgrade --reboot NEW` again while the host
                 polls the API: command to slot written, to the login
                 prompt of the trial boot, to "is good" on the console

Guest times come from /proc/uptime (10 ms), host times from the console
as pexpect sees it. Each figure is written to ROWS as one tab-separated
line: figure, value, baseline name, baseline value, ratio.
"""
import http.client
import os
import re
import shutil
import ssl
import sys
import tarfile
import tempfile
import threading
import time

import pexpect

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import test_upgrade as tu  # noqa: E402
from vm import VM, check  # noqa: E402

POLL = 0.25        # the API poller's period, seconds
SLOT_DEV = "/dev/vda4"  # root-b in image/disk.mk's layout: the inactive slot of a fresh node


class ApiPoller(threading.Thread):
    """GET /api/v1/system without a session every POLL seconds, a new TLS
    connection each time: any HTTP answer (401 is mgmtd's, after its TLS
    handshake and request parsing) counts as the API being up."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.answers = []
        self.stop = threading.Event()
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE

    def ask(self):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=2, context=self.ctx)
        try:
            c.request("GET", "/api/v1/system")
            return c.getresponse().status in (200, 401)
        except (OSError, http.client.HTTPException):
            return False
        finally:
            c.close()

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            if self.ask():
                self.answers.append(time.monotonic())
            self.stop.wait(max(0.0, t + POLL - time.monotonic()))

    def wait_up(self, after, timeout):
        """Until an answer later than `after`; returns its time."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            late = [a for a in self.answers if a > after]
            if late:
                return late[0]
            time.sleep(POLL)
        raise AssertionError(f"the API did not answer within {timeout} s")

    def finish(self):
        self.stop.set()
        self.join()
        a = self.answers
        return max((b - x for x, b in zip(a, a[1:])), default=0.0)


class Rows:
    def __init__(self, path):
        self.f = open(path, "w")

    def add(self, figure, value, base_name, base, unit):
        ratio = value / base if base else float("nan")
        self.f.write(f"{figure}\t{value:.1f} {unit}\t{base_name}\t{base:.1f} {unit}\t{ratio:.2f}\n")
        self.f.flush()
        print(f"upgrade: {figure}: {value:.1f} {unit} ({ratio:.2f}x {base_name}, {base:.1f} {unit})", flush=True)

    def note(self, figure, text):
        """A figure with no baseline of its own (a breakdown)."""
        self.f.write(f"{figure}\t{text}\t-\t-\t-\n")
        self.f.flush()
        print(f"upgrade: {figure}: {text}", flush=True)


def usb_stick(work, new, zstd):
    """test_upgrade's stick, holding NEW, zstd and NEW's slot member."""
    zst = os.path.join(work, "rootfs.ext4.zst")
    with tarfile.open(new) as t, open(zst, "wb") as out:
        shutil.copyfileobj(t.extractfile("rootfs.ext4.zst"), out, 1 << 20)
    return tu.usb_disk(work, [new, zstd, zst])


def uptimes(vm, cmd, timeout):
    """Run cmd in the guest between two /proc/uptime reads; returns
    (start uptime, seconds, rc of cmd, output)."""
    rc, out = vm.run(f"read _t0 _ </proc/uptime; {cmd}; _rc=$?; read _t1 _ </proc/uptime; "
                     "echo BENCH $_t0 $_t1 $_rc", timeout)
    m = re.search(r"BENCH ([\d.]+) ([\d.]+) (\d+)", out)
    check(m is not None, f"timed in the guest: {cmd}")
    return float(m.group(1)), float(m.group(2)) - float(m.group(1)), int(m.group(3)), out


def drop_caches(vm):
    vm.run("sync; echo 3 >/proc/sys/vm/drop_caches")


def slot_size(new):
    with tarfile.open(new) as t:
        man = t.extractfile("manifest").read().decode()
    return int(re.search(r"^slot\.size = (\d+)$", man, re.M).group(1))


# In the guest: state and progress of the status file, with the uptime, each
# time they change; shell builtins only but `sleep`, so the poll costs
# little of the one vCPU.
STATE_POLL = ("( o=; while :; do read up _ </proc/uptime; s=; p=; "
              "while read k _ v; do case $k in state) s=$v;; progress) p=$v;; esac; done "
              "</var/lib/upgrade/status; [ \"$s $p\" != \"$o\" ] && echo \"$up $s $p\" >>/var/tmp/bench-state; "
              "o=\"$s $p\"; sleep 0.2; done ) </dev/null >/dev/null 2>&1 & echo $! >/var/tmp/bench-state.pid")


def first(states, want):
    return next(t for t, s in states if s == want)


def bench_write(vm, new, rows, size):
    name = os.path.basename(new)
    drop_caches(vm)
    # busybox dd has no byte count: the pipeline's status (pipefail) says
    # zstd unpacked the whole member and dd took all of it
    t0, _, rc, out = uptimes(vm, f"( set -o pipefail; /mnt/usb/zstd -dc /mnt/usb/rootfs.ext4.zst | "
                             f"dd of={SLOT_DEV} bs=1M 2>/var/tmp/bench-dd.err ); _ddrc=$?; "
                             "read _t2 _ </proc/uptime; sync; read _t3 _ </proc/uptime; echo DD $_t2 $_t3 $_ddrc", 1800)
    t2, t3, ddrc = re.search(r"DD ([\d.]+) ([\d.]+) (\d+)", out).groups()
    t2, t3 = float(t2), float(t3)
    _, err = vm.run("cat /var/tmp/bench-dd.err")
    check(ddrc == "0", f"zstd -dc | dd of={SLOT_DEV} bs=1M in {t2 - t0:.1f} s: {' '.join(err.split())}")
    dd, dd_sync = t2 - t0, t3 - t0

    drop_caches(vm)
    vm.run("rm -f /var/tmp/bench-state; " + STATE_POLL)
    t_check, up, rc, out = uptimes(vm, f"spacectl upgrade /mnt/usb/{name} >/var/tmp/bench-upgrade.out 2>&1", 1800)
    _, st = vm.run("kill $(cat /var/tmp/bench-state.pid); cat /var/tmp/bench-upgrade.out; "
                   "cat /var/tmp/bench-state")
    check(rc == 0, f"spacectl upgrade {name} (no reboot) in {up:.1f} s")
    states = [(float(m.group(1)), m.group(2))
              for m in re.finditer(r"^([\d.]+) (\w+) \d+$", st, re.M)]
    t_write, t_verify, t_ready = (first(states, s) for s in ("writing", "verifying", "ready"))
    write = t_verify - t_write
    mb = size / 1e6
    rows.add("slot write: spacectl upgrade, write phase", mb / write, "zstd -dc | dd bs=1M", mb / dd, "MB/s")
    rows.add("slot write: whole spacectl upgrade", mb / up, "zstd -dc | dd bs=1M; sync", mb / dd_sync, "MB/s")
    rows.note("  spacectl upgrade phases", f"checking {t_write - t_check:.1f} s, writing {write:.1f} s, "
              f"verifying (fsync, read back) {t_ready - t_verify:.1f} s, whole {up:.1f} s "
              f"({size >> 20} MiB slot image)")
    rows.note("  zstd -dc | dd bs=1M", f"{dd:.1f} s, then sync {dd_sync - dd:.1f} s")


def plain_reboot(vm, password, port):
    api = ApiPoller(vm.https_port)
    api.start()
    api.wait_up(0, 300)
    time.sleep(2)
    t_cmd = time.monotonic()
    vm.reboot()
    t_start = vm.t0
    vm.expect(r"login: ", 300)
    t_login = time.monotonic()
    t_api = api.wait_up(t_start, 300)
    time.sleep(5)
    gap = api.finish()
    vm.p.sendline("")
    tu.prepare(vm, password, port)
    return t_login - t_cmd, t_api - t_cmd, gap


def upgrade_reboot(vm, new, password):
    newver = re.match(r".*-(\d+\.\d+R[\d.]+)\.img$", new).group(1)
    api = ApiPoller(vm.https_port)
    api.start()
    api.wait_up(0, 300)
    time.sleep(2)
    t_cmd = time.monotonic()
    vm.p.sendline(f"spacectl upgrade --reboot /mnt/usb/{os.path.basename(new)}")
    i = vm.expect([r"slot B now holds space " + re.escape(newver), r"spacectl: upgrade [^\r\n]*"], 1800)
    check(i == 0, f"spacectl upgrade --reboot accepted the image: {vm.p.match.group(0)}")
    t_written = time.monotonic()
    vm.rebooted()
    t_start = vm.t0
    vm.expect(r"Loading space " + re.escape(newver) + r" \(slot B\)", 300)
    good = r"upgrade: " + re.escape(newver) + r" in slot B is good"
    seen = {}
    while "good" not in seen or "login" not in seen:
        i = vm.expect([r"login: ", good], 900)
        seen.setdefault(("login", "good")[i], time.monotonic())
    t_api = api.wait_up(t_start, 300)
    time.sleep(5)
    gap = api.finish()
    vm.p.sendline("")  # the login prompt again (it was read above)
    tu.root_shell(vm, password)
    st = tu.status(vm)
    check(st.get("state") == "good" and st.get("release") == newver, f"the upgrade is good: {st}")
    return t_cmd, t_written, seen["login"], seen["good"], t_api, gap


def main():
    old, new, pwfile, zstd, rows_path = sys.argv[1:6]
    logdir = sys.argv[6] if len(sys.argv) > 6 else None
    password = open(pwfile).readline().strip()
    rows = Rows(rows_path)
    work = tempfile.mkdtemp(prefix="bench-upgrade-")
    ntp, port = tu.sntp_server()
    vm = None
    try:
        usb = usb_stick(work, new, zstd)
        size = slot_size(new)
        vm = VM(old, firmware="bios", name="bench-upgrade", logdir=logdir,
                extra=["-drive", f"file={usb},if=virtio,format=raw"])
        tu.prepare(vm, password, port)
        boot, boot_api, gap0 = plain_reboot(vm, password, port)
        bench_write(vm, new, rows, size)
        t_cmd, t_written, t_login, t_good, t_api, gap = upgrade_reboot(vm, new, password)
        rows.add("upgrade --reboot to good", t_good - t_cmd, "plain reboot to login", boot, "s")
        rows.add("  write+verify (to 'slot B now holds')", t_written - t_cmd, "plain reboot to login", boot, "s")
        rows.add("  reboot to login (trial boot)", t_login - t_written, "plain reboot to login", boot, "s")
        rows.note("  login prompt to 'is good' (confirm)", f"{t_good - t_login:.1f} s")
        rows.add("API gap, upgrade --reboot", gap, "API gap, plain reboot", gap0, "s")
        rows.add("  reboot to API up (trial boot)", t_api - t_written, "plain reboot to API up", boot_api, "s")
        vm.poweroff()
        return 0
    except Exception:
        import traceback
        traceback.print_exc()
        if vm:
            vm.dump_log()
        return 1
    finally:
        if vm:
            vm.close()
        ntp.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
