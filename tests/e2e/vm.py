# SPDX-License-Identifier: MIT
"""vm.py - boot a project image in QEMU (TCG) and drive its serial console.

The image is never modified: each VM runs on a qcow2 overlay in a private
work directory. Everything the console printed goes to a log file, which a
failing test prints.
"""
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import pexpect

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
# Secure Boot: OVMF built with it (SMM), and a variable store with
# Microsoft's keys enrolled, as hardware and hypervisors ship (Debian's ovmf)
OVMF_CODE_SB = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
OVMF_VARS_MS = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
# A kernel message on the console: "[   26.822383] e1000e ...".
KMSG = re.compile(r"^\s*\[\s*\d+\.\d+\] ")
# The shell's prompt, last on the console, or followed by a kernel message
# that came right after it (a NIC's link under load: the prompt was then
# never last, and the wait timed out).
PROMPT = r"[$#] (?:\x1b\[6n)?(?=$|\s*\[\s*\d+\.\d+\] )"
ROOT_PROMPT = r"# (?:\x1b\[6n)?(?=$|\s*\[\s*\d+\.\d+\] )"
# TCG is slow and CI machines are slower; every wait is multiplied.
TIMEOUT_MULT = float(os.environ.get("E2E_TIMEOUT_MULT", "1"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VM:
    def __init__(self, image, firmware="bios", name="vm", mem=1024, logdir=None,
                 nic="virtio-net-pci", disk_if="virtio", extra=(), disk_size=None, nics=1,
                 net_devices=None, buses=(), disk_bootindex=None):
        self.name = name
        self.work = tempfile.mkdtemp(prefix=f"e2e-{name}-")
        self.logpath = os.path.join(logdir or self.work, f"{name}.console.log")
        self.ssh_port = free_port()
        self.https_port = free_port()
        self.dev_port = free_port()
        fmt = {"qcow2": "qcow2", "vmdk": "vmdk"}.get(image.rsplit(".", 1)[-1], "raw")
        overlay = os.path.join(self.work, "disk.qcow2")
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", fmt,
                        "-b", os.path.abspath(image), overlay]
                       # disk_size (e.g. "12G"): a disk bigger than the image,
                       # as operators give VMs (growdata fills it at boot)
                       + ([disk_size] if disk_size else []), check=True)
        argv = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max",
                "-m", str(mem), "-smp", "1", "-display", "none", "-vga", "std",
                "-serial", "stdio", "-monitor", "none", "-no-reboot",
                "-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{self.ssh_port}-:22"
                f",hostfwd=tcp:127.0.0.1:{self.https_port}-:443"
                f",hostfwd=tcp:127.0.0.1:{self.dev_port}-:7804"]
        # net_devices: the NICs as -device specs without netdev (a board
        # with its PCI addresses, tests/e2e/ja2500.py); else nics of type
        # nic in slot order. The first is the forwarded one; the others
        # are unconnected, each in its own subnet (10.0.<2+i>.0/24), so an
        # address tells which NIC's network it came from.
        # buses: -device specs of the bridges (root ports) those NICs sit
        # on, which QEMU must create first.
        for bus in buses:
            argv += ["-device", bus]
        devices = list(net_devices) if net_devices else [nic] * nics
        argv += ["-device", f"{devices[0]},netdev=n0"]
        for i, dev in enumerate(devices[1:], 1):
            argv += ["-netdev", f"user,id=n{i},restrict=on,net=10.0.{2 + i}.0/24", "-device", f"{dev},netdev=n{i}"]
        # disk_bootindex: the disk's place in the firmware's boot order (an
        # installer test puts the installation medium first)
        boot = f",bootindex={disk_bootindex}" if disk_bootindex is not None else ""
        if disk_if == "virtio" and not boot:
            argv += ["-drive", f"file={overlay},if=virtio,format=qcow2"]
        else:
            argv += ["-drive", f"file={overlay},if=none,id=d0,format=qcow2"]
            argv += {"virtio": ["-device", f"virtio-blk-pci,drive=d0{boot}"],
                     "ahci": ["-device", "ahci,id=ahci", "-device", f"ide-hd,drive=d0,bus=ahci.0{boot}"],
                     "pvscsi": ["-device", "pvscsi,id=s0", "-device", f"scsi-hd,drive=d0,bus=s0.0{boot}"],
                     "nvme": ["-device", f"nvme,drive=d0,serial=e2e{boot}"],
                     "megasas": ["-device", "megasas-gen2,id=raid",
                                 "-device", f"scsi-hd,drive=d0,bus=raid.0{boot}"]}[disk_if]
        # firmware: "bios" (SeaBIOS), "uefi" (OVMF with Secure Boot on and
        # Microsoft's keys), "uefi-nosb" (OVMF without Secure Boot)
        if firmware in ("uefi", "uefi-nosb"):
            sb = firmware == "uefi"
            vars_copy = os.path.join(self.work, "OVMF_VARS.fd")
            shutil.copy(OVMF_VARS_MS if sb else OVMF_VARS, vars_copy)
            if sb:
                argv[argv.index("q35,accel=tcg")] = "q35,accel=tcg,smm=on"
                argv += ["-global", "driver=cfi.pflash01,property=secure,value=on"]
            argv += ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE_SB if sb else OVMF_CODE}",
                     "-drive", f"if=pflash,format=raw,file={vars_copy}"]
        argv += list(extra)
        self.argv = argv
        self.log = open(self.logpath, "w", encoding="utf-8", errors="replace")
        self._start()

    def _start(self):
        self.log.write("# " + " ".join(self.argv) + "\n")
        self.p = pexpect.spawn(self.argv[0], self.argv[1:], encoding="utf-8",
                               codec_errors="replace", timeout=60, maxread=65536)
        self.p.logfile_read = self.log
        self.t0 = time.monotonic()

    def reboot(self, timeout=300):
        """Reboot from the logged-in shell: QEMU runs with -no-reboot, so it
        exits, and is started again on the same overlay disk."""
        self.p.sendline("reboot")
        self.rebooted(timeout)

    def rebooted(self, timeout=300):
        """The guest rebooted by itself (or is about to): wait for QEMU to
        exit, then start it again on the same disks."""
        self.expect(pexpect.EOF, timeout)
        self.p.close()
        self._start()

    def expect(self, pattern, timeout):
        return self.p.expect(pattern, timeout=timeout * TIMEOUT_MULT)

    def login(self, user, password, timeout=240):
        """Wait for the serial login prompt, log in; returns boot seconds.
        A boot takes 11-20 s alone under TCG; the bound leaves room for
        four VMs sharing two cores, and a hung boot fails within it."""
        self.expect(r"login: ", timeout)
        boot = time.monotonic() - self.t0
        self.p.sendline(user)
        self.expect(r"Password: ", 60)
        self.p.sendline(password)
        self.expect(PROMPT, 120)
        # No line wrapping, no kernel messages in the middle of output.
        self.run("stty columns 1000 2>/dev/null; dmesg -n 1 2>/dev/null; true")
        return boot

    def first_password(self, password, confirm=None, timeout=60):
        """Answer the first-boot prompt pair (space-getty, busybox passwd):
        PASSWORD, then CONFIRM (default: the same) when asked to retype."""
        self.expect(r"New password: ", timeout)
        self.p.sendline(password)
        self.expect(r"Retype password: ", 60)
        self.p.sendline(password if confirm is None else confirm)

    def run(self, cmd, timeout=300, kmsg=False):
        """Run cmd in the logged-in shell; returns (exit status, output).
        kmsg: keep lines that look like kernel messages (cmd prints dmesg)."""
        marker = f"__RC{int(time.monotonic() * 1000) % 100000}__"
        self.p.sendline(f"{cmd}; echo {marker}$?{marker}")
        self.expect(marker + r"(\d+)" + marker, timeout)
        out = self.p.before
        rc = int(self.p.match.group(1))
        # Drop everything up to the echoed command line (console messages
        # may come before it).
        echo = out.find(f"echo {marker}$?{marker}")
        if echo >= 0:
            nl = out.find("\n", echo)
            out = out[nl + 1:] if nl >= 0 else ""
        self.expect(PROMPT, 60)
        # Kernel messages land on the console between the command's lines
        # (a NIC's link, under load; admin cannot lower the log level):
        # they are not the command's output.
        out = "".join(l for l in out.replace("\r", "").splitlines(True) if kmsg or not KMSG.match(l))
        return rc, out

    def ssh(self, user, password, command, timeout=300):
        """Run command over SSH (port-forwarded); returns (status, output)."""
        opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "PreferredAuthentications=password,keyboard-interactive",
                "-o", "PubkeyAuthentication=no", "-o", "LogLevel=ERROR"]
        return self._password_cmd(["ssh", "-p", str(self.ssh_port)] + opts +
                                  [f"{user}@127.0.0.1", command], password, timeout)

    def scp_to(self, user, password, src, dst, timeout=300):
        opts = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "PubkeyAuthentication=no", "-o", "LogLevel=ERROR"]
        return self._password_cmd(["scp", "-P", str(self.ssh_port)] + opts +
                                  [src, f"{user}@127.0.0.1:{dst}"], password, timeout)

    @staticmethod
    def _password_cmd(argv, password, timeout):
        c = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace",
                          timeout=timeout * TIMEOUT_MULT)
        out = ""
        try:
            i = c.expect([r"[Pp]assword: ?", pexpect.EOF])
            out += c.before
            if i == 0:
                c.sendline(password)
                # A second password prompt means the login was refused.
                if c.expect([pexpect.EOF, r"[Pp]assword: ?"]) == 1:
                    c.close(force=True)
                    return 255, "login refused"
                out += c.before
        finally:
            c.close(force=True)
        return c.exitstatus if c.exitstatus is not None else 255, out.replace("\r", "")

    def su(self, password):
        self.p.sendline("su")
        self.expect(r"Password: ", 60)
        self.p.sendline(password)
        self.expect(ROOT_PROMPT, 60)

    def poweroff(self, timeout=300):
        self.p.sendline("poweroff")
        self.expect(pexpect.EOF, timeout)

    def close(self):
        if self.p.isalive():
            self.p.terminate(force=True)
        self.log.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def dump_log(self, out=sys.stdout):
        self.log.flush()
        with open(self.logpath, encoding="utf-8", errors="replace") as f:
            out.write(f"---- console log of {self.name} ({self.logpath}) ----\n")
            out.write(f.read()[-20000:])
            out.write("\n---- end of console log ----\n")


def api_url(vm, path):
    """The node's management API, port-forwarded from its 443."""
    return f"https://127.0.0.1:{vm.https_port}/api/v1/{path.lstrip('/')}"


def api_context():
    """TLS without a certificate check: mgmtd's is self-signed, made at its
    first start."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def api_login(vm, password, user="admin"):
    """POST /api/v1/login as user: the session token. Raises urllib's
    errors (OSError; HTTPError, which has the status) while mgmtd does not
    answer or does not let the user in."""
    req = urllib.request.Request(api_url(vm, "login"), data=json.dumps(
        {"username": user, "password": password}).encode(), headers={"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req, context=api_context(), timeout=60))["token"]


def api_call(vm, token, method, path, body=None, ctype="application/json", timeout=60):
    """One request in the session of token (body: bytes of type ctype):
    (HTTP status, the JSON answer)."""
    headers = {"Authorization": "Bearer " + token}
    if body is not None:
        headers["Content-Type"] = ctype
    req = urllib.request.Request(api_url(vm, path), data=body, method=method, headers=headers)
    with urllib.request.urlopen(req, context=api_context(), timeout=timeout) as r:
        return r.status, json.load(r)


def check(cond, what):
    """One TAP line; a failed check ends the scenario."""
    print(("ok - " if cond else "not ok - ") + what, flush=True)
    if not cond:
        raise AssertionError(what)


def run_scenario(vm, scenario):
    """Run scenario(vm), then power the VM off. Any failure prints the
    traceback and the console log. Returns the exit status."""
    try:
        scenario(vm)
        vm.poweroff()
        print(f"ok - {vm.name}: powered off", flush=True)
        return 0
    except Exception:
        traceback.print_exc()
        vm.dump_log()
        return 1
    finally:
        vm.close()
