#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_initramfs.py DISK KERNEL INITRD [LOGDIR] - the initramfs's /init
(rootfs/dracut/90space-boot) on its own, started by QEMU directly with a
chosen command line and disk controller:
  - root=LABEL= on AHCI finds /dev/sda3 and switches to the appliance;
  - root=UUID= on NVMe finds /dev/nvme0n1p3;
  - a root that is not there fails after rootdelay with a message naming
    it, and leaves a working shell on the console."""
import json
import os
import subprocess
import sys
import time
import uuid

import pexpect

from vm import TIMEOUT_MULT


def fs_uuid(disk, partno):
    """The ext4 UUID of a partition of a raw disk (superblock at 1024)."""
    table = json.loads(subprocess.run(["sfdisk", "--json", disk], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    start = table["partitions"][partno - 1]["start"] * table.get("sectorsize", 512)
    with open(disk, "rb") as f:
        f.seek(start + 1024 + 104)
        return str(uuid.UUID(bytes=f.read(16)))


def boot(disk, kernel, initrd, controller, cmdline, log):
    drive = f"file={disk},format=raw,if=none,id=d0,snapshot=on"
    dev = {"ahci": ["-device", "ahci,id=ahci", "-device", "ide-hd,drive=d0,bus=ahci.0"],
           "nvme": ["-device", "nvme,drive=d0,serial=e2e"],
           "virtio": ["-device", "virtio-blk-pci,drive=d0"]}[controller]
    argv = ["-machine", "q35,accel=tcg", "-m", "512", "-smp", "1", "-nodefaults",
            "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd,
            "-append", f"console=ttyS0,115200n8 {cmdline}", "-drive", drive] + dev
    p = pexpect.spawn("qemu-system-x86_64", argv, encoding="utf-8", codec_errors="replace",
                      timeout=120 * TIMEOUT_MULT)
    p.logfile_read = log
    return p


def main():
    disk, kernel, initrd = sys.argv[1:4]
    logdir = sys.argv[4] if len(sys.argv) > 4 else "."
    status = 0
    with open(os.path.join(logdir, "initramfs.console.log"), "w") as log:
        cases = [
            ("ahci", "root=LABEL=root-a ro", r"initramfs: switching to /dev/sda3 \(LABEL=root-a\)",
             "root=LABEL= on AHCI: /init switches to /dev/sda3"),
            ("nvme", f"root=UUID={fs_uuid(disk, 3)} ro", r"initramfs: switching to /dev/nvme0n1p3 \(UUID=",
             "root=UUID= on NVMe: /init switches to /dev/nvme0n1p3"),
        ]
        for controller, cmdline, want, what in cases:
            p = boot(disk, kernel, initrd, controller, cmdline, log)
            try:
                p.expect(want)
                ok = True
                if controller == "ahci":
                    # and the appliance comes up from it
                    p.expect(r"New password: |login: ")
            except (pexpect.TIMEOUT, pexpect.EOF):
                ok = False
            p.terminate(force=True)
            print(("ok - " if ok else "not ok - ") + what, flush=True)
            status |= not ok

        missing = "PARTUUID=0badc0de-0000-4000-8000-000000000001"
        # rootdelay bounds the wait; the disks it lists are those found by
        # then (under load, possibly none yet), so they are not checked.
        p = boot(disk, kernel, initrd, "virtio", f"root={missing} rootdelay=3", log)
        try:
            p.expect(rf"initramfs: root device {missing} not found after 3 s \(disks: ")
            p.expect(r"starting a shell")
            time.sleep(1)
            p.sendline("echo shell-$((6 * 7))")
            p.expect(r"shell-42")
            ok = True
        except (pexpect.TIMEOUT, pexpect.EOF):
            ok = False
        p.terminate(force=True)
        print(("ok - " if ok else "not ok - ") +
              "a missing root is named after rootdelay and leaves a working shell", flush=True)
        status |= not ok
    if status:
        with open(os.path.join(logdir, "initramfs.console.log"), errors="replace") as f:
            print(f.read()[-6000:])
    return status


if __name__ == "__main__":
    sys.exit(main())
