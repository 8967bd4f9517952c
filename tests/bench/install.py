#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""install.py ISO IMG QCOW2 SLOT-RAW ROWS [LOGDIR]

The VM half of tests/bench/install.sh. One QEMU VM at a time, each in the
configuration of tests/e2e/test_install.py's cd run (TCG, 1 vCPU, 1 GiB,
SeaBIOS, the ISO as a CD first in the boot order, a blank 8 GiB virtio
target second):

  plain boot   the release qcow2 QCOW2 on its own (the same machine with
               the ISO out): power-on to the first-boot prompt, and to
               mgmtd's first answer from the host (the watchdog starts
               mgmtd once devgate is ready, so that answer is both up).
               The baseline of the install run.
  install      the ISO: GRUB's menu, the install-serial entry's kernel
               command line typed at grub> with space.action=install
               space.disk=first space.after=reboot (the typing is not
               counted), the installer's lines as pexpect sees them, then
               the installed disk's first boot with the ISO out, timed as
               the plain boot.
  write        the ISO's rescue entry (key 3), the raw slot image SLOT-RAW
               (IMG's slot member unpacked on the host) as a second virtio
               disk. In the rescue shell, times from /proc/uptime: the
               installer (space-install --cmdline FILE --no-reboot, an
               unattended install onto the target) with each output line
               stamped, whose slot phase is "partition tables wiped" to
               "slot A: N bytes written" (write) to "slot A read back"
               (fsync, read back, SHA-256); then at root-a's offset (read
               from the table the installer wrote) `dd bs=1M conv=fsync` of
               the raw slot disk, and `dd bs=1M | sha256sum` back, each
               after dropping the page cache.

Host times are time.monotonic() when pexpect sees a console line or the
host's poller an API answer. Each figure goes to ROWS as one tab-separated
line: figure, value, baseline name, baseline value, ratio (value/baseline:
above 1 is slower for seconds, faster for MB/s).
"""
import os
import re
import shutil
import sys
import tempfile
import time

import pexpect

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
import test_install as ti  # noqa: E402
import upgrade as ub  # noqa: E402
from vm import VM, check  # noqa: E402

PASSWORD = "Bench-Install-42"
GIB = 1024 ** 3
MIB = 1024 ** 2
GRUB_CFG = os.path.join(HERE, "..", "..", "installer", "iso", "grub.cfg")
UNATTENDED = "space.action=install space.disk=first space.after=reboot"


class Rows:
    def __init__(self, path):
        self.f = open(path, "w")

    def put(self, figure, value, base_name, base, ratio):
        self.f.write(f"{figure}\t{value}\t{base_name}\t{base}\t{ratio}\n")
        self.f.flush()
        print(f"install: {figure}: {value}" + (f" ({ratio}x {base_name}, {base})" if base_name != "-" else ""),
              flush=True)

    def add(self, figure, value, base_name, base, unit):
        self.put(figure, f"{value:.1f} {unit}", base_name, f"{base:.1f} {unit}", f"{value / base:.2f}")

    def note(self, figure, text):
        self.put(figure, text, "-", "-", "-")


def serial_entry_linux():
    """The kernel command line of the menu's install-serial entry."""
    with open(GRUB_CFG) as f:
        cfg = f.read()
    m = re.search(r"--id install-serial .*?\n\s*(linux [^\n]+)", cfg, re.S)
    check(m is not None, f"the install-serial entry's linux line in {GRUB_CFG}")
    return m.group(1)


def machine(image, name, logdir, extra=()):
    """test_install.py's machine: SeaBIOS, the disk second in the boot order."""
    return VM(image, firmware="bios", name=name, logdir=logdir, extra=list(extra), disk_bootindex=2)


def to_services(vm, t_start):
    """A first boot from power-on (t_start): the first-boot prompt, then
    mgmtd's first answer from the host. Then checked from inside: the
    password set, root, and watchdogctl saying both services run and are
    ready. Returns (prompt, services up), seconds from t_start."""
    api = ub.ApiPoller(vm.https_port)
    api.start()
    vm.expect(r"New password: ", 600)
    t_prompt = time.monotonic()
    try:
        t_api = api.wait_up(t_start, 600)
    finally:
        api.finish()
    vm.p.sendline(PASSWORD)
    vm.expect(r"Retype password: ", 60)
    vm.p.sendline(PASSWORD)
    vm.login("admin", PASSWORD, timeout=180)
    vm.su(PASSWORD)
    # `status NAME` is 0 when NAME runs: started and, both having a
    # ready_socket, ready
    _, out = vm.run("for s in devgate mgmtd; do watchdogctl status $s >/dev/null && echo UP $s; done; "
                    "watchdogctl status")
    check("UP devgate" in out and "UP mgmtd" in out, f"devgate and mgmtd run ({' '.join(out.split())[:300]})")
    return t_prompt - t_start, t_api - t_start


def plain_boot(qcow2, logdir):
    vm = machine(qcow2, "bench-install-plain", logdir)
    try:
        prompt, up = to_services(vm, vm.t0)
        vm.poweroff()
        return prompt, up
    except Exception:
        vm.dump_log()
        raise
    finally:
        vm.close()


def install_run(iso, work, logdir):
    """Phase ends (host monotonic seconds) of an unattended install from
    power-on to the installed system's services."""
    iso_args = ti.cdrom(iso)
    vm = machine(ti.blank(os.path.join(work, "target.qcow2"), 8 * GIB), "bench-install", logdir, iso_args)
    t = {"start": vm.t0}
    try:
        ti.grub_menu(vm)
        t["menu"] = time.monotonic()
        ti.grub_command_line(vm, (f"{serial_entry_linux()} {UNATTENDED}", "initrd /boot/initrd.img", "boot"))
        t["boot"] = time.monotonic()
        marks = [("ready", r"installer: unattended install \(space\.disk=first, then reboot\)", 600),
                 ("check1", r"image \S+ verified", 900),
                 ("installing", r"Installing \S+ \S+ onto vda ", 300),
                 ("check2", r"image \S+ verified", 900),
                 ("wiped", r"partition tables wiped", 300),
                 ("written", r"slot A: \d+ bytes written", 1800),
                 ("readback", r"slot A read back: SHA-256 matches", 1800),
                 ("installed", r"Installed \S+ \S+ on vda\.", 900),
                 ("rebooting", r"Rebooting\.", 60)]
        for name, pat, timeout in marks:
            vm.expect(pat, timeout)
            t[name] = time.monotonic()
        # the disk alone from now on, as test_install's cd run: with the
        # ISO in, its GRUB would wait out its menu's timeout first
        ti.drop(vm.argv, iso_args)
        vm.rebooted(300)
        t["restart"] = vm.t0
        prompt, up = to_services(vm, vm.t0)
        t["prompt"], t["up"] = vm.t0 + prompt, vm.t0 + up
        vm.poweroff()
        return t
    except Exception:
        vm.dump_log()
        raise
    finally:
        vm.close()


# ---------------------------------------------------------------- write
STAMP = "while IFS= read -r l; do read u _ </proc/uptime; echo \"T $u $l\"; done"


def timed(vm, cmd, what, timeout=1800):
    """cmd in the guest after dropping the page cache; its seconds."""
    ub.drop_caches(vm)
    _, secs, rc, out = ub.uptimes(vm, f"( set -o pipefail; {cmd} )", timeout)
    check(rc == 0, f"{what} in {secs:.1f} s ({' '.join(out.split())[-200:]})")
    return secs, out


def stamped(text, pattern):
    """Guest uptime of the first stamped installer line matching pattern."""
    m = re.search(r"^T ([\d.]+) .*" + pattern, text, re.M)
    check(m is not None, f"the installer printed /{pattern}/")
    return float(m.group(1))


def disks(vm):
    """{name: (512-byte sectors, serial)} of the virtio disks."""
    _, out = vm.run("for b in /sys/block/vd*; do echo DISK ${b##*/} $(cat $b/size) $(cat $b/serial 2>/dev/null); done")
    return {m.group(1): (int(m.group(2)), m.group(3) or "")
            for m in re.finditer(r"^DISK (\w+) (\d+) ?(\S*)", out, re.M)}


def root_a(vm, disk):
    """(start, bytes) of the partition named root-a, from sysfs."""
    _, out = vm.run(f"for p in /sys/block/{disk}/{disk}*; do grep -q '^PARTNAME=root-a$' $p/uevent && "
                    "echo PART $(cat $p/start) $(cat $p/size); done")
    m = re.search(r"^PART (\d+) (\d+)", out, re.M)
    check(m is not None, f"{disk} has a partition named root-a")
    return int(m.group(1)) * 512, int(m.group(2)) * 512


def write_run(iso, raw, m, work, logdir, rows):
    size = int(m["slot.size"])
    sha = m["slot.sha256"]
    extra = ti.cdrom(iso) + ["-drive", f"file={raw},if=none,id=slot,format=raw,readonly=on",
                             "-device", "virtio-blk-pci,drive=slot,serial=slot"]
    vm = machine(ti.blank(os.path.join(work, "wtarget.qcow2"), 8 * GIB), "bench-install-write", logdir, extra)
    try:
        ti.grub_menu(vm)
        vm.p.send("3")
        vm.expect(r"installer: rescue shell", 600)
        vm.expect(r"installer# ", 60)
        vm.run("stty columns 1000 2>/dev/null; dmesg -n 1; true")
        d = disks(vm)
        tgt = [n for n, (s, _) in d.items() if s * 512 == 8 * GIB]
        src = [n for n, (s, ser) in d.items() if ser == "slot" and s * 512 == size]
        check(len(tgt) == 1 and len(src) == 1, f"the target (8 GiB) and the raw slot disk ({size} bytes): {d}")
        tgt, src = tgt[0], src[0]

        vm.run(f"echo 'space.action=install space.disk=/dev/{tgt} space.after=reboot' >/tmp/bench.cmdline")
        secs, _ = timed(vm, "space-install --cmdline /tmp/bench.cmdline --no-reboot 2>&1 "
                        f"| {STAMP} >/tmp/bench-install.out", "space-install --cmdline FILE --no-reboot")
        _, out = vm.run("cat /tmp/bench-install.out")
        check(re.search(rf"Installed \S+ \S+ on {tgt}\.", out) is not None, f"the installer installed onto {tgt}")
        wiped, written, back = (stamped(out, p) for p in (r"partition tables wiped", r"slot A: \d+ bytes written",
                                                           r"slot A read back: SHA-256 matches"))
        start, check1, inst, check2 = (stamped(out, p) for p in (r"Checking ", r"image \S+ verified",
                                                                  r"Installing ", r"layout: "))
        n = re.search(r"slot A: (\d+) bytes written \((\d+) zero bytes skipped\)", out)
        off, plen = root_a(vm, tgt)
        check(off % MIB == 0 and plen >= size, f"root-a of {tgt} at {off >> 20} MiB, {plen >> 20} MiB")

        dd_w, _ = timed(vm, f"dd if=/dev/{src} of=/dev/{tgt} bs=1M seek={off // MIB} conv=fsync",
                        f"dd of the raw slot to {tgt} at {off >> 20} MiB")
        dd_r, out = timed(vm, f"dd if=/dev/{tgt} bs=1M skip={off // MIB} count={size // MIB} 2>/dev/null | sha256sum",
                          "dd | sha256sum of root-a")
        check(sha in out, "root-a after dd hashes to the release image's slot digest")
        dd_src, _ = timed(vm, f"dd if=/dev/{src} of=/dev/null bs=1M", "dd of the raw slot disk to /dev/null")
        vm.p.sendline("poweroff -f")
        vm.expect(pexpect.EOF, 120)
    except Exception:
        vm.dump_log()
        raise
    finally:
        vm.close()

    mb = size / 1e6
    w, r = written - wiped, back - written
    rows.add("slot write: installer's slot phase, write", mb / w, "dd bs=1M conv=fsync", mb / dd_w, "MB/s")
    rows.add("slot write+read-back: installer's slot phase", mb / (w + r),
             "dd conv=fsync, then dd | sha256sum", mb / (dd_w + dd_r), "MB/s")
    rows.add("slot read-back: installer (fsync, read, SHA-256)", mb / r, "dd bs=1M | sha256sum", mb / dd_r, "MB/s")
    rows.note("  installer's slot phase", f"write {w:.1f} s ({int(n.group(1)) >> 20} MiB of the slot, "
              f"{int(n.group(2)) >> 20} MiB zero blocks skipped), read-back {r:.1f} s")
    rows.note("  dd", f"write (raw slot disk to root-a at {off >> 20} MiB, conv=fsync) {dd_w:.1f} s, "
              f"read-back | sha256sum {dd_r:.1f} s, raw slot disk to /dev/null {dd_src:.1f} s")
    zst = int(m["slot.zst.size"]) / 1e6
    rows.note("  installer in the guest", f"whole run {secs:.1f} s: check {check1 - start:.1f} s, "
              f"second check {check2 - inst:.1f} s ({zst / (check2 - inst):.0f} MB/s of the page-cached "
              f"{zst:.0f} MB image), slot {w + r:.1f} s")


def install_rows(t, plain, rows):
    p_prompt, p_up = plain
    typing = t["boot"] - t["menu"]
    total = t["up"] - t["start"] - typing
    rows.add("ISO boot to services up (unattended install)", total, "plain boot of the qcow2 to services up",
             p_up, "s")
    phases = [("GRUB menu (power-on to menu)", "start", "menu"),
              ("installer ready (boot to 'unattended install')", "boot", "ready"),
              ("image checked (two passes, layout, wipe)", "ready", "wiped"),
              ("slot written", "wiped", "written"),
              ("slot read back", "written", "readback"),
              ("filesystems+boot+table+log", "readback", "installed"),
              ("reboot ('Installed' to QEMU's exit)", "installed", "restart")]
    for name, a, b in phases:
        rows.note("  " + name, f"{t[b] - t[a]:.1f} s")
    rows.add("  login prompt of the installed system", t["prompt"] - t["restart"],
             "plain boot to the prompt", p_prompt, "s")
    rows.add("  mgmtd+devgate ready (prompt to mgmtd's answer)", t["up"] - t["prompt"],
             "plain boot, the same", p_up - p_prompt, "s")
    rows.note("  image checked, in detail", f"first pass {t['check1'] - t['ready']:.1f} s, second pass "
              f"{t['check2'] - t['installing']:.1f} s")
    rows.note("  not counted", f"typing the command line at grub> {typing:.1f} s")


def main():
    iso, img, qcow2, raw, rows_path = sys.argv[1:6]
    logdir = sys.argv[6] if len(sys.argv) > 6 else None
    rows = Rows(rows_path)
    m = ti.manifest(img)
    work = tempfile.mkdtemp(prefix="bench-install-")
    try:
        plain = plain_boot(qcow2, logdir)
        print(f"install: plain boot: prompt {plain[0]:.1f} s, services {plain[1]:.1f} s", flush=True)
        install_rows(install_run(iso, work, logdir), plain, rows)
        write_run(iso, raw, m, work, logdir, rows)
        return 0
    except Exception:
        import traceback
        traceback.print_exc()
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
