#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_boot.py IMAGE FIRMWARE PASSWORD_FILE VERSION [LOGDIR [HARDWARE]] - boot
the image to the serial login, log in as admin and check what an operator
relies on: release file, package list, package verification, mounts, and
power-off. HARDWARE is kvm (virtio disk and NIC, the default) or ja2500:
a JA2500-like machine (tests/e2e/ja2500.py: AHCI, four onboard NICs whose
probe order is not their PCI order, an add-in NIC, DMI product JA2500),
where the NIC names and the board's drivers are checked too."""
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error

import ja2500
from vm import VM, api_login, check, run_scenario



def api(vm, path, body=None, token=None):
    """curl -k against the node's management API (port-forwarded 443)."""
    argv = ["curl", "-ks", "--max-time", "30", "-w", "\n%{http_code}",
            f"https://127.0.0.1:{vm.https_port}/api/v1/{path}"]
    if body is not None:
        argv += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
    if token:
        argv += ["-H", f"Authorization: Bearer {token}"]
    r = subprocess.run(argv, capture_output=True, text=True)
    text, _, code = r.stdout.rpartition("\n")
    return int(code or 0), text


def check_services(vm, password, version, firmware="bios"):
    """The watchdog started mgmtd and the device gate: log in over HTTPS,
    read the system status, and say hello on the device port."""
    deadline = time.monotonic() + 300
    code, token = 0, None
    while time.monotonic() < deadline:
        try:
            token, code = api_login(vm, password), 200
            break
        except urllib.error.HTTPError as e:
            code = e.code
        except OSError:
            code = 0
        time.sleep(5)
    check(code == 200, f"mgmtd: admin logs in over HTTPS (last answer {code})")
    code, text = api(vm, "system", token=token)
    check(code == 200 and version in text, "mgmtd: GET /api/v1/system answers with the release")
    sb = json.loads(text).get("secure_boot", "absent")
    check(sb is (True if firmware == "uefi" else None), f"mgmtd: GET /api/v1/system says secure_boot {sb}")
    code, _ = api(vm, "system")
    check(code == 401, "mgmtd: without a session the API answers 401")
    code, _ = api(vm, "logout", body={}, token=token)
    code, _ = api(vm, "system", token=token)
    check(code == 401, "mgmtd: the session ends at logout")
    with socket.create_connection(("127.0.0.1", vm.dev_port), timeout=30) as s:
        s.sendall(b"HELLO e2e-device\n")
        reply = s.recv(256).decode(errors="replace")
    check(reply.startswith("WELCOME"), f"devgate: a device is welcomed on port 7804 ({reply.strip()!r})")


def check_drivers(vm, hardware):
    """Only the drivers the appliance uses are loaded (modload.allow), and
    the kernel never stalled (under TCG, unneeded CPU-feature modules once
    caused RCU stalls of 25 s)."""
    rc, out = vm.run("cut -d' ' -f1 /proc/modules | sort | tr '\\n' ' '")
    mods = set(out.split())
    need = {"ahci", "e1000e", "e1000", "ext4"} if hardware == "ja2500" else {"virtio_net", "virtio_blk", "ext4"}
    check(need <= mods, f"the disk, NIC and filesystem drivers are loaded ({len(mods)} modules)")
    unwanted = sorted(mods & {"parport", "parport_pc", "pcspkr", "powernow_k8", "bochs", "i2c_i801",
                              "iTCO_wdt", "ghash_clmulni_intel", "sha256_ssse3", "kvm"})
    check(not unwanted, f"no driver the appliance does not use is loaded ({' '.join(unwanted) or 'none'})")
    rc, out = vm.run("dmesg | grep -ci 'rcu.*stall'")
    check(out.strip() == "0", "the kernel logged no RCU stall")


def check_state_on_var(vm):
    """What the node changes lives on the data partition (README.md, "What
    lives where"), and nothing tried to write the read-only slot at boot."""
    # The console first: later commands echo the words themselves.
    console = open(vm.logpath, encoding="utf-8", errors="replace").read()
    bad = [l.strip() for l in console.splitlines() if re.search(r"read-only file system|EROFS", l, re.I)]
    check(not bad, f"no 'Read-only file system' on the console during boot ({bad[:3]})")
    rc, out = vm.run("dmesg | grep -ci 'read-only file system'; grep -ci 'read-only file system' /var/log/messages")
    check(out.split() == ["0", "0"], f"none in the kernel log or /var/log/messages ({out.split()})")
    rc, out = vm.run("touch /etc/x /usr/x /x 2>&1; true")
    check(out.count("Read-only file system") == 3, "/, /etc and /usr cannot be written")
    links = ["/etc/passwd", "/etc/group", "/etc/shadow", "/etc/dropbear", "/home/admin", "/root", "/etc/resolv.conf"]
    rc, out = vm.run(f"for f in {' '.join(links)}; do readlink -f $f; done")
    check(out.split() == ["/var/etc/passwd", "/var/etc/group", "/var/etc/shadow", "/var/etc/dropbear",
                          "/var/home/admin", "/var/root", "/run/resolv.conf"],
          f"accounts, SSH host keys, the homes and resolv.conf resolve off the slot ({out.split()})")
    rc, out = vm.run("ls /var/etc/dropbear/")
    check(rc == 0 and "dropbear_ed25519_host_key" in out, "the SSH host keys were made on /var")
    rc, out = vm.run("stat -c '%u %a' /var/etc/shadow /var/etc/mgmtd/server.key /var/home/admin")
    check(out.split() == ["0", "600", "0", "600", "1000", "750"],
          f"/var/etc/shadow and the TLS key are root's 0600, /var/home/admin admin's 0750 ({out.split()})")
    rc, _ = vm.run("cmp /usr/share/factory/etc/shadow /var/etc/shadow")
    check(rc == 0, "/var/etc/shadow is the factory copy (the build's admin password)")
    rc, out = vm.run("grep -c nameserver /etc/resolv.conf")
    check(rc == 0 and out.strip() not in ("", "0"), "DHCP wrote the resolver through /etc/resolv.conf -> /run")


def main():
    image, firmware, pwfile, version = sys.argv[1:5]
    logdir = sys.argv[5] if len(sys.argv) > 5 else None
    hardware = sys.argv[6] if len(sys.argv) > 6 else "kvm"
    password = open(pwfile).read().splitlines()[0]
    machine = ja2500.vm_args() if hardware == "ja2500" else {}
    vm = VM(image, firmware=firmware, name=f"boot-{firmware}", logdir=logdir, disk_size="12G", **machine)

    def scenario(vm):
        boot = vm.login("admin", password)
        print(f"# {firmware}: login prompt after {boot:.1f} s", flush=True)
        rc, out = vm.run("cat /etc/space-release")
        check(rc == 0 and f"VERSION={version}" in out, "release file names the version")
        rc, out = vm.run("id -un")
        # a kernel line (a NIC's link coming up) may land in the output:
        # admin cannot lower the console's log level
        check(rc == 0 and "admin" in (l.strip() for l in out.splitlines()), "logged in as admin")
        rc, out = vm.run("pkg list")
        names = {l.split()[0] for l in out.splitlines() if l.strip()}
        for want in ("base-files", "busybox-static", "pkg", "initramfs", "dropbear-bin", "libc6"):
            check(want in names, f"pkg list shows {want}")
        check(any(n.startswith("linux-image-") for n in names), "pkg list shows the kernel")
        rc, out = vm.run("mount")
        check(re.search(r"^/dev/\S+ on / type ext4", out, re.M) is not None, "root is ext4")
        check(re.search(r"^/dev/\S+ on / type ext4 \(ro[,)]", out, re.M) is not None,
              "the root slot stays mounted read-only")
        check(re.search(r" on /var type ext4", out) is not None, "/var is the data partition")
        check(re.search(r" on /tmp type tmpfs", out) is not None, "/tmp is a tmpfs")
        rc, out = vm.run("df -k /var | tail -n 1")
        kib = int(out.split()[1]) if rc == 0 and len(out.split()) > 1 and out.split()[1].isdigit() else 0
        check(kib > 7 * 1024 * 1024, f"/var grew to fill the 12G disk ({kib} KiB > 7 GiB)")
        rc, out = vm.run("ps")
        check("getty" in out and "tty1" in out, "a getty runs on VGA (tty1)")
        check("syslogd" in out and "dropbear" in out, "syslogd and dropbear run")
        rc, out = vm.ssh("admin", password, "cat /etc/space-release")
        check(rc == 0 and f"VERSION={version}" in out, "admin logs in over SSH")
        rc, out = vm.scp_to("admin", password, pwfile, "/tmp/copied")
        check(rc == 0, "scp copies a file to the node as admin")
        rc, out = vm.run("cmp /tmp/copied /tmp/copied && wc -c < /tmp/copied")
        check(rc == 0 and out.strip().isdigit() and int(out.strip()) > 0, "the copied file arrived")
        rc, out = vm.ssh("root", password, "true", timeout=120)
        check(rc != 0, "root cannot log in over SSH")
        check_services(vm, password, version, firmware)
        rc, out = vm.run("spacectl show status; spacectl --json show status")
        want = "UEFI, Secure Boot on" if firmware == "uefi" else "BIOS"
        check(f"boot:      {want}" in out and ('"secure_boot":true' if firmware == "uefi" else
                                                '"secure_boot":null') in out,
              f"spacectl show status reports the boot: {want}")
        if firmware == "uefi":
            check("UEFI Secure Boot is enabled" in open(vm.logpath, errors="replace").read(),
                  "the kernel booted with Secure Boot on (shim, Debian's signed GRUB and kernel)")
        vm.su(password)
        # What VGA shows: the text of virtual console 1.
        rc, out = vm.run("tr -s ' ' < /dev/vcs1", kmsg=True)  # the screen starts with kernel lines
        check(rc == 0 and "login:" in out, "the VGA console (tty1) shows a login prompt")
        rc, out = vm.run("watchdogctl status")
        check(rc == 0 and "mgmtd" in out and "devgate" in out, "watchdogctl status lists the services")
        print("# " + out.strip().replace("\n", "\n# "))
        check_drivers(vm, hardware)
        if hardware == "ja2500":
            ja2500.check_nic_names(vm)
            ja2500.check_drivers(vm)
        rc, out = vm.run("pkg verify", timeout=600)
        check(rc == 0, "pkg verify is clean as root")
        if rc != 0:
            print(out)
        check_state_on_var(vm)
        rc, out = vm.run("ls -ln /etc/shadow /bin/busybox /dev/console")
        print("# " + out.replace("\n", "\n# "))

    return run_scenario(vm, scenario)


if __name__ == "__main__":
    sys.exit(main())
