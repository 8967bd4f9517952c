#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_install.py SCENARIO ISO RELEASE-IMG VERSION LOGDIR [INSTALLED-QCOW2]

The installer ISO in QEMU (TCG), driven over the serial console:

  cd       SeaBIOS, the ISO as a CD; a blank virtio disk and a 4 GiB one.
           GRUB's default (no installed disk: the installer), bad menu input
           re-prompts, install chosen by number, the too-small disk refused,
           the confirmation, the install; it reboots by itself and the disk
           then boots alone, without the ISO.
  usb      OVMF, the ISO as a USB stick, the target an installed system
           (INSTALLED-QCOW2, the e2e image): unattended reinstall from the
           kernel command line (typed at GRUB's prompt), which reboots by
           itself; the ISO is still in, and GRUB's default (an installed
           disk: boot from local disk) starts the new system.
  ahci     SeaBIOS, CD; the target on AHCI; install chosen by word.
  megasas  SeaBIOS, CD (OVMF has no MegaRAID driver); the target behind an emulated MegaRAID SAS
           (megasas-gen2); unattended install, powers off.

Each installed system is then checked: it boots on its own to the first-boot
password prompt (a fresh /var), runs the release with its services up, its
/var/log/install.log records the checks, and root slot A hashes to the
release image's slot digest.
"""
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import time

from vm import VM, check, run_scenario

PASSWORD = "Install-Pw-42"
GIB = 1024 ** 3


def manifest(img):
    with tarfile.open(img) as t:
        text = t.extractfile("manifest").read().decode()
    return dict(re.findall(r"^(\S+) = (.*)$", text, re.M))


def blank(path, size):
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, str(size)], check=True)
    return path


def cdrom(iso):
    # the ISO first in the boot order (bootindex), on the q35 AHCI
    return ["-drive", f"file={iso},if=none,id=cd,media=cdrom,readonly=on,format=raw",
            "-device", "ide-cd,drive=cd,bus=ide.2,bootindex=1"]


def usb_stick(iso):
    return ["-drive", f"file={iso},if=none,id=stick,readonly=on,format=raw",
            "-device", "qemu-xhci,id=xhci", "-device", "usb-storage,bus=xhci.0,drive=stick,bootindex=1"]


def drop(argv, sub):
    """Remove the run sub from argv: the ISO, for the boots after the install."""
    for i in range(len(argv) - len(sub) + 1):
        if argv[i:i + len(sub)] == sub:
            del argv[i:i + len(sub)]
            return
    raise ValueError("not in argv")


def type_line(vm, line):
    """Type a line at GRUB's prompt a key at a time: GRUB on a serial line
    (under OVMF above all) drops keys that come faster than it echoes."""
    for ch in line:
        vm.p.send(ch)
        time.sleep(0.05)
    vm.p.send("\r")


def grub_command_line(vm, lines):
    """At GRUB's menu: 'c', then each line at the grub> prompt (the last
    one, 'boot', is not followed by a prompt)."""
    vm.p.send("c")
    vm.expect(r"grub> ", 60)
    for line in lines:
        type_line(vm, line)
        if line != "boot":
            vm.expect(r"grub> ", 120)


def grub_menu(vm):
    vm.expect(r"install \(serial console\)", 240)


def installer_menu(vm):
    vm.expect(r"Choice \[1-6 or a word\]: ", 300)


def disk_numbers(text):
    """{name: (number, size)} from the installer's disk list."""
    return {m.group(2): (m.group(1), m.group(3))
            for m in re.finditer(r"^\s+(\d+)\s+(\w+)\s+(\d+\.\d \w+)", text, re.M)}


def wait_installed(vm, disk):
    vm.expect(rf"Installed \S+ \S+ on {disk}\.", 1500)
    check(True, f"installed onto {disk}: written, read back and verified")
    vm.expect(r"Rebooting|Powering off", 60)
    return vm.p.match.group(0)


def check_installed(vm, version, slot_sha, disk, slot_part):
    """The installed disk's first boot up to the checks."""
    vm.expect(r"the admin account has no password yet", 400)
    check(True, "the installed disk boots to the first-boot password prompt (a fresh /var)")
    vm.first_password(PASSWORD)
    vm.login("admin", PASSWORD, timeout=180)
    rc, out = vm.run("cat /etc/space-release")
    check(rc == 0 and f"VERSION={version}" in out, f"the installed system runs {version}")
    vm.su(PASSWORD)
    rc, out = vm.run("for s in mgmtd devgate; do for i in $(seq 90); do watchdogctl status $s >/dev/null 2>&1 "
                     "&& break; sleep 1; done; watchdogctl status $s >/dev/null 2>&1 || echo DOWN $s; done; "
                     "mount | grep -E ' on (/|/var) '", timeout=240)
    check("DOWN" not in out, f"its services (mgmtd, devgate) are up ({out.strip()})")
    check(re.search(rf"^/dev/{disk}{slot_part} on / type ext4 \(ro", out, re.M) is not None and
          re.search(rf"^/dev/{disk}5 on /var type ext4", out, re.M) is not None,
          f"root is slot A of {disk} (read-only), /var its data partition")
    rc, out = vm.run("grep -c -e 'slot A read back: SHA-256 matches' -e 'partition table written' "
                     "/var/log/install.log; ls -l /var/log/install.log")
    check(rc == 0 and out.split()[0] == "2", f"/var/log/install.log records the checks ({out.strip()})")
    # O_DIRECT: the disk's bytes, not the page cache, where the mounted
    # root's ext4 keeps in-memory metadata a read-only mount never writes
    rc, out = vm.run(f"dd if=/dev/{disk}{slot_part} bs=1M iflag=direct 2>/dev/null | sha256sum", timeout=600)
    # the digest's own line: a kernel message may land in the output
    m = re.search(r"^([0-9a-f]{64})  -", out, re.M)
    got = m.group(1) if m else out.strip()[:40]
    check(rc == 0 and got == slot_sha, f"root slot A hashes to the release image's slot digest ({got[:16]}...)")


def scenario_cd(vm, a):
    grub_menu(vm)
    check(True, "SeaBIOS boots the ISO as a CD: GRUB's menu on the serial console")
    # no installed disk: the default after the timeout is the installer
    installer_menu(vm)
    check(True, "GRUB's default (no installed disk) starts the installer on the serial console")
    vm.p.sendline("frobnicate")
    vm.expect(r"'frobnicate' is not a choice", 60)
    vm.expect(r"1  install", 30)
    installer_menu(vm)
    check(True, "bad input is named and the menu shown again")
    vm.p.sendline("1")
    vm.expect(r"Disk \[1-\d or a name", 600)
    disks = disk_numbers(vm.p.before)
    check("sr0" not in disks, "the boot medium is not offered")
    small = [n for n, (_, size) in disks.items() if size == "4.0 GiB"]
    target = [n for n, (_, size) in disks.items() if size == "8.0 GiB"]
    check(len(small) == 1 and len(target) == 1, f"the disks are listed with their sizes ({disks})")
    vm.p.sendline(disks[small[0]][0])
    vm.expect(rf"{small[0]} is too small: 4\.0 GiB", 60)
    check(True, "the 4 GiB disk is refused: too small")
    vm.p.sendline(disks[target[0]][0])
    vm.expect(r"\[y/N\]: ", 60)
    vm.p.sendline("y")
    wait_installed(vm, target[0])
    # the disk alone from now on: it boots on its own
    drop(vm.argv, a["iso_args"])
    vm.rebooted(120)
    check(True, "the installer rebooted by itself")
    check_installed(vm, a["version"], a["slot_sha"], target[0], 3)


def scenario_usb(vm, a):
    grub_menu(vm)
    check(True, "OVMF boots the ISO as a USB stick: GRUB's menu")
    # unattended: the command line typed at GRUB's prompt
    grub_command_line(vm, ("linux /boot/vmlinuz space.installer=1 panic=10 no_timer_check console=ttyS0,115200n8 "
                           "space.action=reinstall space.disk=first space.after=reboot",
                           "initrd /boot/initrd.img", "boot"))
    vm.expect(r"unattended reinstall \(space.disk=first, then reboot\)", 300)
    check(True, "space.action=reinstall: unattended, no question asked")
    wait_installed(vm, "vda")
    vm.rebooted(120)
    check(True, "the installer rebooted by itself")
    grub_menu(vm)
    vm.expect(r"Loading \S+ \S+ \(slot A\)", 120)
    check(True, "with the stick still in, GRUB's default is the installed disk (boot from local disk)")
    check_installed(vm, a["version"], a["slot_sha"], "vda", 3)


def scenario_ahci(vm, a):
    grub_menu(vm)
    installer_menu(vm)
    vm.p.sendline("Install")
    vm.expect(r"Disk \[1-\d or a name, Enter for (\w+)", 600)
    disk = vm.p.match.group(1)
    check(disk.startswith("sd"), f"the AHCI disk is the one blank disk ({disk}), offered as the default")
    vm.p.sendline("")
    vm.expect(r"\[y/N\]: ", 60)
    vm.p.sendline("yes")
    wait_installed(vm, disk)
    drop(vm.argv, a["iso_args"])
    vm.rebooted(120)
    check_installed(vm, a["version"], a["slot_sha"], disk, 3)


def scenario_megasas(vm, a):
    grub_menu(vm)
    grub_command_line(vm, ("linux /boot/vmlinuz space.installer=1 console=ttyS0,115200n8 space.action=install "
                           "space.disk=first space.after=poweroff", "initrd /boot/initrd.img", "boot"))
    vm.expect(r"Installing \S+ \S+ onto (\w+) ", 900)
    disk = vm.p.match.group(1)
    check(wait_installed(vm, disk) == "Powering off", "space.after=poweroff: the machine powers off")
    drop(vm.argv, a["iso_args"])
    vm.rebooted(120)
    check_installed(vm, a["version"], a["slot_sha"], disk, 3)


SCENARIOS = {
    # name: (firmware, medium, disk interface, scenario)
    "cd": ("bios", cdrom, "virtio", scenario_cd),
    "usb": ("uefi", usb_stick, "virtio", scenario_usb),
    "ahci": ("bios", cdrom, "ahci", scenario_ahci),
    "megasas": ("bios", cdrom, "megasas", scenario_megasas),
}


def main():
    name, iso, img, version, logdir = sys.argv[1:6]
    installed = sys.argv[6] if len(sys.argv) > 6 else None
    firmware, medium, disk_if, scenario = SCENARIOS[name]
    m = manifest(img)
    work = tempfile.mkdtemp(prefix=f"e2e-install-{name}-")
    target = installed if name == "usb" else blank(os.path.join(work, "target.qcow2"), 8 * GIB)
    extra = medium(iso)
    if name == "cd":
        extra += ["-drive", f"file={blank(os.path.join(work, 'small.qcow2'), 4 * GIB)},if=none,id=small,format=qcow2",
                  "-device", "virtio-blk-pci,drive=small,serial=small"]
    a = {"version": version, "slot_sha": m["slot.sha256"], "iso_args": medium(iso)}
    vm = VM(target, firmware=firmware, name=f"install-{name}", logdir=logdir, disk_if=disk_if, extra=extra,
            disk_bootindex=2)
    try:
        return run_scenario(vm, lambda v: scenario(v, a))
    finally:
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
