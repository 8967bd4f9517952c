#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_upgrade.py SCENARIO OLD.qcow2 NEW.img PASSWORD-FILE OLD-VERSION [LOGDIR [SAME.img]]

A node running OLD (the e2e image) is upgraded with the signed release
image NEW by `spacectl upgrade`, as an operator does it (pkg/spacectl/
UPGRADE.md). The node reaches its time server (tests/lib/sntp_server.py on
the host, 10.0.2.2 from the guest) and a second disk (ext4, made on the
host) that stands for a USB stick: the backup goes there, and in the
fallback and power-cut scenarios the image comes from it.

  upgrade   scp the image as admin, upgrade --reboot: the node runs NEW
            from slot B after its trial; admin's password, the SSH host
            key, the TLS certificate and the device-gate state are kept;
            the API reports NEW; pkg verify is clean
  fallback  NEW was built with TEST_NEVER_READY=1 (a service never gets
            ready): the trial is not confirmed, the node reboots into OLD
            by itself and reports the failed upgrade and why
  powercut  QEMU is killed while the slot is written: the node boots OLD,
            reports the interrupted upgrade, and slot B is marked empty;
            then SAME (the release image of OLD's own release) is
            installed again: both slots now hold the same filesystem (same
            UUID), and the node boots the intended one, slot B
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pexpect

from vm import VM, api_call, api_login, check, run_scenario

HERE = os.path.dirname(os.path.abspath(__file__))


def usb_disk(work, images):
    """An ext4 disk image holding the release images (made without root)."""
    src = os.path.join(work, "usb")
    os.makedirs(src)
    for image in images:
        shutil.copy(image, src)
    disk = os.path.join(work, "usb.raw")
    size_mb = sum(os.path.getsize(i) for i in images) // (1 << 20) + 96
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "usb", "-d", src, disk, f"{size_mb}M"], check=True,
                   env=dict(os.environ, E2FSPROGS_FAKE_TIME=str(int(time.time()))))
    return disk


def sntp_server():
    p = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "lib", "sntp_server.py")],
                         stdout=subprocess.PIPE, text=True)
    return p, int(p.stdout.readline())


def root_shell(vm, password):
    vm.login("admin", password)
    vm.su(password)


def prepare(vm, password, ntp_port):
    """Time server, the USB stick mounted, an off-node backup. The setting
    is synced: the power-cut scenario must not lose it to ext4's delayed
    allocation (an operator's echo is not fsync'd either)."""
    root_shell(vm, password)
    rc, _ = vm.run(f"mkdir -p /var/lib/upgrade && echo 'ntp_server = 10.0.2.2:{ntp_port}' "
                   "> /var/lib/upgrade/upgrade.conf && sync && mkdir -p /mnt/usb && mount /dev/vdb /mnt/usb")
    check(rc == 0, "node set up: time server 10.0.2.2, the USB stick mounted on /mnt/usb")
    rc, out = vm.run("spacectl backup create --to /mnt/usb")
    check(rc == 0 and "/mnt/usb/space-backup-" in out, f"backup taken onto the USB stick: {out.strip()}")


def status(vm):
    rc, out = vm.run("spacectl --json upgrade status")
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"state": "unparsable: " + out}


def api_system(vm, password, timeout=180):
    """GET /api/v1/system as admin, waiting for mgmtd to come up."""
    end = time.monotonic() + timeout
    while True:
        try:
            return _api_system(vm, password)
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(3)


def _api_system(vm, password):
    return api_call(vm, api_login(vm, password), "GET", "system")[1]


def wait_state(vm, want, timeout):
    end = time.monotonic() + timeout
    st = {}
    while time.monotonic() < end:
        st = status(vm)
        if st.get("state") in want:
            return st
        time.sleep(5)
    return st


def scenario_upgrade(vm, new, password, old):
    newver = re.match(r".*-(\d+\.\d+R[\d.]+)\.img$", new).group(1)
    rc, out = vm.scp_to("admin", password, new, "/var/tmp/")
    check(rc == 0, "the release image copied to the node with scp as admin")
    # dropbear makes its host key at the first connection (the scp), mgmtd
    # its certificate when it first starts
    keys = ("for i in $(seq 60); do [ -s /var/etc/mgmtd/server.crt ] && break; sleep 1; done; "
            "cat /var/etc/dropbear/*_host_key | sha256sum | cut -c1-16; sha256sum < /var/etc/mgmtd/server.crt | cut -c1-16")
    rc, before = vm.run(keys + "; spacectl devices block >/dev/null; spacectl devices status")
    check(rc == 0 and "blocked" in before and len(before.split()) > 2,
          f"host key and TLS certificate noted ({' '.join(before.split()[:2])}), device gate blocked")
    t0 = time.monotonic()
    vm.p.sendline(f"spacectl upgrade --reboot /var/tmp/{os.path.basename(new)}")
    i = vm.expect([r"slot B now holds space " + re.escape(newver), r"spacectl: upgrade [^\r\n]*"], 1200)
    check(i == 0, f"spacectl upgrade accepted the image: {vm.p.match.group(0)}")
    check(True, f"spacectl upgrade wrote and checked slot B in {time.monotonic() - t0:.0f} s, then rebooted")
    vm.rebooted(400)
    vm.expect(r"Loading space " + re.escape(newver) + r" \(slot B\)", 120)
    root_shell(vm, password)
    check(True, "the trial boot of slot B comes up; admin's password (set in the old release) works")
    st = wait_state(vm, ("good", "failed"), 600)
    check(st.get("state") == "good" and st.get("release") == newver and st.get("good") == "b",
          f"the new release confirmed itself good once its services were ready: {st}")
    rc, out = vm.run("cat /etc/space-release; cat /proc/cmdline")
    check(f"VERSION={newver}" in out and "space.slot=b" in out, f"running {newver} from slot B")
    rc, after = vm.run(keys + "; spacectl devices status")
    check(rc == 0 and after.split()[:2] == before.split()[:2], "SSH host key and TLS certificate kept")
    check("blocked" in after, "device gate still blocked")
    sysinfo = api_system(vm, password)
    check(sysinfo.get("release") == newver and sysinfo.get("upgrade", {}).get("state") == "good",
          f"the API reports {newver} and the good upgrade")
    rc, out = vm.run("pkg verify >/dev/null && echo clean")
    check("clean" in out, "pkg verify is clean on the new slot")


def scenario_fallback(vm, new, password, old):
    newver = re.match(r".*-(\d+\.\d+R[\d.]+)\.img$", new).group(1)
    vm.run("echo 'trial_timeout = 20s' >> /var/lib/upgrade/upgrade.conf")
    vm.p.sendline(f"spacectl upgrade --reboot /mnt/usb/{os.path.basename(new)}")
    i = vm.expect([r"slot B now holds space " + re.escape(newver), r"spacectl: upgrade [^\r\n]*"], 1200)
    check(i == 0, f"spacectl upgrade accepted the image: {vm.p.match.group(0)}")
    check(True, "a release whose services never get ready written to slot B")
    vm.rebooted(400)
    vm.expect(r"Loading space " + re.escape(newver) + r" \(slot B\)", 120)
    vm.expect(r"services not ready after 20 s: never-ready", 600)
    check(True, "its trial is not confirmed: the services are not ready in time, it reboots")
    vm.rebooted(400)
    vm.expect(r"Loading space " + re.escape(old) + r" \(slot A\)", 120)
    vm.expect(r"upgrade failed, running " + re.escape(old) + r" from slot A", 300)
    check(True, "the next boot is the old release, which reports the failed upgrade")
    vm.p.sendline("")  # the message came after the login prompt: a new one
    root_shell(vm, password)
    st = status(vm)
    check(st.get("state") == "failed" and "never-ready" in st.get("reason", "") and st.get("booted") == "a"
          and st.get("trial") == "", f"spacectl upgrade status: failed, with the reason: {st}")
    rc, out = vm.run("spacectl show status")
    line = next((l.strip() for l in out.splitlines() if l.startswith("upgrade:")), "")
    check("failed" in line and "never-ready" in out, f"spacectl show status reports it: {line}")
    sysinfo = api_system(vm, password)
    up = sysinfo.get("upgrade", {})
    check(sysinfo.get("release") == old and up.get("state") == "failed" and "never-ready" in up.get("reason", ""),
          f"the API reports {old} and the failed upgrade: {up}")


def scenario_powercut(vm, new, password, old, same=None):
    vm.run(f"spacectl upgrade /mnt/usb/{os.path.basename(new)} >/var/tmp/upgrade.out 2>&1 & sleep 0")
    st = wait_state(vm, ("writing",), 600)
    check(st.get("state") == "writing", f"the slot write is under way: {st}")
    time.sleep(3)
    vm.p.terminate(force=True)
    vm.p.close()
    check(True, "power cut: QEMU killed during the slot write")
    vm._start()
    vm.expect(r"Loading space " + re.escape(old) + r" \(slot A\)", 120)
    root_shell(vm, password)
    rc, out = vm.run("cat /etc/space-release")
    check(f"VERSION={old}" in out, "the node boots the old release")
    st = wait_state(vm, ("failed",), 120)
    check(st.get("state") == "failed" and "interrupted while writing" in st.get("reason", "")
          and st.get("slot_b") == "", f"the interrupted upgrade is reported, slot B is marked empty: {st}")
    if not same:
        return
    # The same release again, after the cut: slot B gets the filesystem
    # slot A has (same UUID); GRUB and the initramfs must still pick B.
    vm.run("mkdir -p /mnt/usb && mount /dev/vdb /mnt/usb")  # not mounted since the cut
    vm.p.sendline(f"spacectl upgrade --reboot /mnt/usb/{os.path.basename(same)}")
    i = vm.expect([r"slot B now holds space " + re.escape(old), r"spacectl: upgrade [^\r\n]*"], 1200)
    check(i == 0, f"the same release installed again after the cut: {vm.p.match.group(0)}")
    vm.rebooted(400)
    vm.expect(r"Loading space " + re.escape(old) + r" \(slot B\)", 120)
    root_shell(vm, password)
    st = wait_state(vm, ("good", "failed"), 600)
    rc, out = vm.run("for p in /dev/vda3 /dev/vda4; do dumpe2fs -h $p 2>/dev/null | sed -n 's/^Filesystem UUID: *//p'; "
                     "done; awk '$2 == \"/\" {print $1}' /proc/mounts")
    uu = out.split()
    check(st.get("state") == "good" and st.get("good") == "b" and len(uu) == 3 and uu[0] == uu[1]
          and uu[2] == "/dev/vda4", f"both slots hold the same filesystem ({uu[:2]}); the node runs slot B "
          f"(/dev/vda4) and confirmed it: {st.get('state')}")


def main():
    scenario, old_img, new, pwfile, old = sys.argv[1:6]
    logdir = sys.argv[6] if len(sys.argv) > 6 else None
    same = sys.argv[7] if len(sys.argv) > 7 else None
    password = open(pwfile).readline().strip()
    work = tempfile.mkdtemp(prefix=f"e2e-upgrade-{scenario}-")
    ntp, port = sntp_server()
    try:
        usb = usb_disk(work, [new] + ([same] if same else []))
        vm = VM(old_img, firmware="bios", name=f"upgrade-{scenario}", logdir=logdir,
                extra=["-drive", f"file={usb},if=virtio,format=raw"])
        fn = {"upgrade": scenario_upgrade, "fallback": scenario_fallback, "powercut": scenario_powercut}[scenario]

        def run(vm):
            prepare(vm, password, port)
            if scenario == "powercut":
                scenario_powercut(vm, new, password, old, same)
            else:
                fn(vm, new, password, old)
        return run_scenario(vm, run)
    finally:
        ntp.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
