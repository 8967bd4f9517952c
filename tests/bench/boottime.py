#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""boottime.py - power-on to prompt of an image under QEMU (TCG, 1 vCPU),
split into phases from the serial console's timestamps.

    boottime.py disk IMAGE [--fw bios|uefi] [--cpu max|default] [--disk virtio|ahci|pvscsi]
    boottime.py floor KERNEL BUSYBOX [--cpu max|default]

disk: boots IMAGE from its disk (an overlay; the image is not changed) and
prints one line of figures:
    firmware+grub   power-on to GRUB's "Loading <product> ..." line (the
                    firmware and the menu's countdown)
    load            GRUB reading the kernel and the initramfs
    kernel          the kernel's first line to "Run /init"
    initramfs       /init to its "switching to" line
    userspace       switch_root to the login or first-boot prompt
floor: the same kernel with a minimal busybox initramfs (an /init that
prints a line and powers off), started by QEMU directly: the least any
boot of this kernel costs on this machine.

Every line the console printed goes to --log; a boot that does not reach
its prompt within --timeout fails (exit 1) and prints where it stopped.
"""
import argparse
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

# UEFI boots with Secure Boot on and Microsoft's keys (tests/e2e/vm.py)
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"

# (phase name, regex that ends it), in boot order.
DISK_MARKS = [
    ("firmware+grub", rb"Loading \S+ \S+ \(slot"),
    ("load", rb"\] Linux version "),
    ("kernel", rb"\] Run /init as init process"),
    ("initramfs", rb"initramfs: switching to "),
    ("userspace", rb"login: |New password: "),
]
FLOOR_MARKS = [("floor", rb"floor: userspace reached")]


def qemu_base(cpu, mem=1024):
    argv = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-m", str(mem), "-smp", "1",
            "-display", "none", "-vga", "std", "-serial", "stdio", "-monitor", "none",
            "-no-reboot", "-nodefaults"]
    if cpu != "default":
        argv += ["-cpu", cpu]
    return argv


def disk_argv(args, work):
    overlay = os.path.join(work, "disk.qcow2")
    fmt = "qcow2" if args.image.endswith(".qcow2") else "raw"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt, "-b",
                    os.path.abspath(args.image), overlay], check=True)
    argv = qemu_base(args.cpu) + ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
    drive = f"file={overlay},format=qcow2"
    if args.disk == "virtio":
        argv += ["-drive", drive + ",if=virtio"]
    elif args.disk == "ahci":
        argv += ["-drive", drive + ",if=none,id=d0", "-device", "ahci,id=ahci",
                 "-device", "ide-hd,drive=d0,bus=ahci.0"]
    elif args.disk == "pvscsi":
        argv += ["-drive", drive + ",if=none,id=d0", "-device", "pvscsi,id=s0",
                 "-device", "scsi-hd,drive=d0,bus=s0.0"]
    if args.fw == "uefi":
        shutil.copy(OVMF_VARS, os.path.join(work, "vars.fd"))
        argv[argv.index("q35,accel=tcg")] = "q35,accel=tcg,smm=on"
        argv += ["-global", "driver=cfi.pflash01,property=secure,value=on",
                 "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                 "-drive", f"if=pflash,format=raw,file={os.path.join(work, 'vars.fd')}"]
    return argv


def floor_argv(args, work):
    """A cpio of busybox and an /init that says so and powers off."""
    root = os.path.join(work, "root")
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(args.busybox, os.path.join(root, "bin", "busybox"))
    os.symlink("busybox", os.path.join(root, "bin", "sh"))
    with open(os.path.join(root, "init"), "w") as f:
        f.write("#!/bin/sh\n/bin/busybox echo 'floor: userspace reached'\n"
                "/bin/busybox poweroff -f\n")
    os.chmod(os.path.join(root, "init"), 0o755)
    cpio = os.path.join(work, "floor.cpio")
    with open(cpio, "wb") as out:
        names = subprocess.run(["find", "."], cwd=root, capture_output=True, check=True).stdout
        subprocess.run(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, input=names,
                       stdout=out, check=True)
    return qemu_base(args.cpu) + ["-kernel", args.kernel, "-initrd", cpio,
                                  "-append", "console=ttyS0,115200n8"]


def watch(argv, marks, timeout, log):
    """Run argv; returns {phase: seconds since power-on} for each mark seen."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    seen, buf, i, bol = {}, b"", 0, True
    try:
        while i < len(marks):
            left = timeout - (time.monotonic() - t0)
            r, _, _ = select.select([p.stdout], [], [], max(left, 0))
            if not r:
                break
            data = os.read(p.stdout.fileno(), 65536)
            if not data:
                break
            now = time.monotonic() - t0
            buf += data
            for line in data.splitlines(keepends=True):
                log.write((f"{now:8.2f} ".encode() if bol else b"") + line)
                bol = line.endswith(b"\n")
            # Marks come in order; several may be in one read.
            while i < len(marks):
                m = re.search(marks[i][1], buf)
                if not m:
                    break
                seen[marks[i][0]] = now
                buf = buf[m.end():]
                i += 1
            buf = buf[-4096:]
    finally:
        p.kill()
        p.wait()
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["disk", "floor"])
    ap.add_argument("image", help="disk image (disk) or kernel (floor)")
    ap.add_argument("busybox", nargs="?", help="static busybox (floor)")
    ap.add_argument("--fw", default="bios", choices=["bios", "uefi"])
    ap.add_argument("--cpu", default="max")
    ap.add_argument("--disk", default="virtio", choices=["virtio", "ahci", "pvscsi"])
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--log", default=None)
    ap.add_argument("--label", default=None)
    args = ap.parse_args()
    args.kernel = args.image
    work = tempfile.mkdtemp(prefix="boottime-")
    logpath = args.log or os.path.join(work, "console.log")
    try:
        argv = disk_argv(args, work) if args.mode == "disk" else floor_argv(args, work)
        marks = DISK_MARKS if args.mode == "disk" else FLOOR_MARKS
        with open(logpath, "wb") as log:
            log.write(("# " + " ".join(argv) + "\n").encode())
            seen = watch(argv, marks, args.timeout, log)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    label = args.label or (f"{os.path.basename(args.image)}, {args.fw}, -cpu {args.cpu}, {args.disk}"
                           if args.mode == "disk" else f"floor, -cpu {args.cpu}")
    if len(seen) < len(marks):
        missing = marks[len(seen)][0]
        print(f"boot: {label}: no end of phase '{missing}' within {args.timeout:.0f} s "
              f"(console log: {logpath})")
        return 1
    total = seen[marks[-1][0]]
    parts, prev = [], 0.0
    for name, _ in marks:
        parts.append(f"{name} {seen[name] - prev:.1f}")
        prev = seen[name]
    print(f"boot: {label}: {total:.1f} s" + (f" ({', '.join(parts)})" if len(marks) > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
