# SPDX-License-Identifier: MIT
"""ja2500.py - a JA2500-like machine in QEMU, and the checks of its NIC names
and drivers.

The board (pkg/nicname/README.md has the table): three PCIe root ports at
00:1c.0-2; port 0 and port 1 are Intel 82574L (e1000e) at 01:00.0 and
02:00.0, ports 2 and 3 a dual-port I350 (igb) at 03:00.0 and 03:00.1.
QEMU 7.2 has no igb, so the two functions of 03:00 are e1000 (82540EM), a
driver that, like igb on the real board, is not e1000e: the kernel names
NICs in the order their drivers load (modload loads e1000 first), not in
PCI order. An add-in card (e1000 at 00:03.0) is probed first of all. So
the kernel's names are: add-in eth0, port 2 eth1, port 3 eth2, port 0
eth3, port 1 eth4; nicname must make them ports 0-3 = eth0-eth3 and the
add-in card eth4. The forwarded (DHCP, SSH) NIC is port 0.

DMI says JA2500 (product name), which is how the node knows its target
(pkg/lib/platform.h). E2E_JA2500_PRODUCT overrides the product name: any
other (e.g. "Standard PC") boots the same machine as a KVM, where the
names stay the kernel's and check_nic_names fails; this is how the check
is shown to fail without the naming.
"""
import os
import re

from vm import check

PRODUCT = os.environ.get("E2E_JA2500_PRODUCT", "JA2500")

# The four onboard ports, in name order: (name, sysfs device path, driver).
PORTS = [
    ("eth0", "pci0000:00/0000:00:1c.0/0000:01:00.0", "e1000e"),
    ("eth1", "pci0000:00/0000:00:1c.1/0000:02:00.0", "e1000e"),
    ("eth2", "pci0000:00/0000:00:1c.2/0000:03:00.0", "e1000"),
    ("eth3", "pci0000:00/0000:00:1c.2/0000:03:00.1", "e1000"),
]
ADDIN = ("eth4", "pci0000:00/0000:00:03.0", "e1000")

# QEMU: the DMI, the root ports, the NICs (the first gets the forwarded netdev).
EXTRA = ["-smbios", f"type=1,manufacturer=Juniper Networks,product={PRODUCT}"]
BUSES = [f"pcie-root-port,id=rp{i},bus=pcie.0,addr=1c.{i},chassis={i + 1}" + (",multifunction=on" if i == 0 else "")
         for i in range(3)]
# romfile= : no PXE option ROM (the appliance never network-boots; five of
# them cost the firmware seconds under TCG).
NET_DEVICES = [
    "e1000e,bus=rp0,addr=0.0,romfile=",
    "e1000e,bus=rp1,addr=0.0,romfile=",
    "e1000,bus=rp2,addr=0.0,multifunction=on,romfile=",
    "e1000,bus=rp2,addr=0.1,romfile=",
    "e1000,bus=pcie.0,addr=3.0,romfile=",
]


def vm_args():
    """Keyword arguments of VM() for this machine (the disk on AHCI)."""
    return {"buses": BUSES, "net_devices": NET_DEVICES, "extra": EXTRA, "disk_if": "ahci"}


def check_nic_names(vm):
    """eth0..eth3 are the onboard ports by PCI path, the add-in card is
    eth4, the kernel named them otherwise (so the names were applied), and
    DHCP configured eth0 from port 0's network (10.0.2.0/24; the others
    are 10.0.3.0/24 on, tests/e2e/vm.py)."""
    rc, out = vm.run("for i in /sys/class/net/eth*; do echo ${i##*/} $(readlink -f $i/device)"
                     " $(basename $(readlink $i/device/driver)); done")
    got = [tuple(l.split()) for l in out.splitlines() if l.strip()]
    want = [(n, "/sys/devices/" + p, d) for n, p, d in PORTS + [ADDIN]]
    check(got == want, f"the onboard ports are eth0..eth3 by PCI path, the add-in card eth4 ({got})")
    # The kernel's own names, from the drivers' probe lines: proof that the
    # names above were applied, not the kernel's by chance.
    rc, out = vm.run("dmesg | grep -E '] e1000e? [0-9a-f:.]+ eth[0-9]+: '", kmsg=True)
    probed = {}
    for m in re.finditer(r"\] e1000e? (\S+) (eth\d+): ", out):
        probed.setdefault(m.group(1), m.group(2))
    kernel = [probed.get(p.rsplit("/", 1)[1]) for _, p, _ in PORTS]
    check(None not in kernel and kernel != [n for n, _, _ in PORTS],
          f"the kernel had named ports 0-3 {kernel}: its probe order is not the PCI order")
    rc, out = vm.run("for i in $(seq 60); do ip -4 -o addr show eth0 | grep -q inet && break; sleep 1; done;"
                     " ip -4 -o addr show eth0")
    addr = out.split()[3] if len(out.split()) > 3 else out.strip()
    check(" 10.0.2.15/24 " in out, f"DHCP configured eth0 from port 0's network ({addr})")


# The JA2500's own controllers, which QEMU 7.2 cannot emulate (I350) or the
# test machine does not carry (MegaRAID): their PCI module aliases.
JA2500_ALIASES = {
    "igb": "pci:v00008086d00001521sv00008086sd00000001bc02sc00i00",           # I350
    "e1000e": "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00",        # 82574L
    "megaraid_sas": "pci:v00001000d0000005Dsv00001000sd00009361bc01sc04i00",  # SAS3108
}


def check_drivers(vm):
    """As root: the board's drivers are in the image and modload's allow
    list lets them load for their devices; ttyS0 is the preferred console."""
    rc, out = vm.run("modload " + " ".join(JA2500_ALIASES.values()) + "; cut -d' ' -f1 /proc/modules")
    mods = set(out.split())
    want = set(JA2500_ALIASES) | {"ahci", "dca", "i2c_algo_bit"}
    check(want <= mods, f"modload loads igb, e1000e, megaraid_sas for the JA2500's devices, and ahci ({sorted(want - mods)} missing)")
    rc, out = vm.run("grep '^ttyS0 ' /proc/consoles")
    # /proc/consoles flags: C is the console /dev/console is (the last console=)
    check(re.search(r"\([^)]*C[^)]*\)", out) is not None, f"ttyS0 is the preferred console ({out.strip()})")
