#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_sb_tamper.py IMAGE.qcow2 [LOGDIR] - Secure Boot refuses a kernel
with one byte changed.

A copy of the image gets its kernel (/boot/vmlinuz's target in root slot A)
rewritten with one byte flipped in the middle, made on the host with
debugfs (no root needed). Booted under OVMF with Secure Boot on and
Microsoft's keys: shim and Debian's signed GRUB start, GRUB's check of the
kernel through shim fails and says so on the console, and no kernel runs.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from vm import VM, check, run_scenario


def sh(*argv):
    return subprocess.run(list(argv), check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True).stdout


def tampered_copy(image, work):
    raw = os.path.join(work, "disk.raw")
    sh("qemu-img", "convert", "-O", "raw", image, raw)
    dump = sh("sfdisk", "--dump", raw)
    m = re.search(r"start=\s*(\d+), size=\s*(\d+),.*name=\"root-a\"", dump)
    start, size = int(m.group(1)), int(m.group(2))
    root = os.path.join(work, "root.img")
    sh("dd", f"if={raw}", f"of={root}", "bs=512", f"skip={start}", f"count={size}", "conv=sparse", "status=none")
    link = sh("debugfs", "-R", "stat /boot/vmlinuz", root)
    name = re.search(r'Fast link dest: "([^"]+)"', link).group(1)
    kernel = os.path.join(work, "vmlinuz")
    sh("debugfs", "-R", f"dump /boot/{name} {kernel}", root)
    data = bytearray(open(kernel, "rb").read())
    data[len(data) // 2] ^= 0x01
    open(kernel, "wb").write(data)
    cmds = os.path.join(work, "cmds")
    with open(cmds, "w") as f:
        f.write(f"cd /boot\nrm {name}\nwrite {kernel} {name}\n")
    sh("debugfs", "-w", "-f", cmds, root)
    sh("debugfs", "-R", f"dump /boot/{name} {kernel}.back", root)
    sh("dd", f"if={root}", f"of={raw}", "bs=512", f"seek={start}", "conv=notrunc,sparse", "status=none")
    return raw, len(data), open(kernel + ".back", "rb").read() == bytes(data)


def main():
    image = sys.argv[1]
    logdir = sys.argv[2] if len(sys.argv) > 2 else None
    work = tempfile.mkdtemp(prefix="e2e-sb-tamper-")
    try:
        raw, size, written = tampered_copy(image, work)
        check(written, f"a copy of the image whose kernel ({size} bytes) has one byte flipped")
        vm = VM(raw, firmware="uefi", name="sb-tamper", logdir=logdir)

        def scenario(v):
            i = v.expect([r"bad shim signature|[Vv]erification failed|[Ss]ecure [Bb]oot [Vv]iolation"
                          r"|prohibited by secure boot policy|[Ii]nvalid signature",
                          r"EFI stub|Linux version"], 300)
            check(i == 0, f"the tampered kernel is refused at boot: {v.p.match.group(0)!r}")
            log = open(v.logpath, errors="replace").read()
            check("Linux version" not in log and "EFI stub" not in log, "no kernel ran")

        def run(v):
            scenario(v)
            v.p.terminate(force=True)  # GRUB waits at its menu: nothing to power off

        vm.poweroff = lambda timeout=0: None
        return run_scenario(vm, run)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
