#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_esxi.py OVA [LOGDIR] - boot the disk inside the signed OVA on the
hardware ESXi gives it: VMware PVSCSI and four E1000 NICs. It reaches the
first-boot prompt, admin logs in, the four ports are eth0..eth3 in slot
order, root is on the SCSI disk, and only the drivers the appliance uses
are loaded."""
import os
import shutil
import subprocess
import sys
import tempfile

from vm import VM, check, run_scenario

PASSWORD = "Esxi-Pw-42"


def main():
    ova = sys.argv[1]
    logdir = sys.argv[2] if len(sys.argv) > 2 else None
    # The VMDK as ESXi receives it (streamOptimized; QEMU reads it).
    tmp = tempfile.mkdtemp(prefix="e2e-esxi-")
    try:
        names = subprocess.run(["tar", "tf", ova], capture_output=True, text=True, check=True).stdout.split()
        vmdk = next(n for n in names if n.endswith(".vmdk"))
        subprocess.run(["tar", "xf", os.path.abspath(ova), vmdk], cwd=tmp, check=True)
        vm = VM(os.path.join(tmp, vmdk), firmware="bios", name="esxi", logdir=logdir,
                nic="e1000", disk_if="pvscsi", nics=4)

        def scenario(vm):
            vm.first_password(PASSWORD, timeout=240)
            vm.login("admin", PASSWORD, timeout=120)
            check(True, "the OVA's disk boots behind PVSCSI to the first-boot prompt")
            rc, out = vm.run("grep ' / ' /proc/mounts")
            check(out.startswith("/dev/sda3 "), f"root is the SCSI disk's slot A ({out.split()[0] if out else '?'})")
            rc, out = vm.run("for i in /sys/class/net/eth*; do echo ${i##*/} $(basename $(readlink $i/device/driver)); done")
            ports = [l.split() for l in out.splitlines() if l.strip()]
            check([p[0] for p in ports] == ["eth0", "eth1", "eth2", "eth3"] and all(p[1] == "e1000" for p in ports),
                  f"four E1000 ports eth0..eth3 ({out.strip()!r})")
            rc, out = vm.run("cut -d' ' -f1 /proc/modules | sort | tr '\\n' ' '")
            mods = set(out.split())
            check("vmw_pvscsi" in mods and "e1000" in mods, "vmw_pvscsi and e1000 are loaded")
            check(not mods & {"parport_pc", "pcspkr", "powernow_k8", "i2c_i801", "bochs"},
                  "no driver the appliance does not use is loaded")
            vm.su(PASSWORD)
            rc, out = vm.run("dmesg | grep -ci 'rcu.*stall'")
            check(out.strip() == "0", "the kernel logged no RCU stall")

        return run_scenario(vm, scenario)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
