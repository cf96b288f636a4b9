#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host side of the guard suite: compares what guard-probe reported in the guest
(test-guard.sh, RESULTS/<case>.{out,err,rc}) with what each state must give.

    check-guard.py RESULTS_DIR
"""

import os
import sys

SWAPFILE_HINT = "swapoff /mnt/data/swapfile"
VF_HINT = ("echo 0 > /sys/bus/pci/devices/0000:00:03.0/sriov_numvfs, once nothing uses "
           "its VFs")

VGACON_GUARD = (
    "console|vtcon0|the boot VGA drives the host console: vtcon0 (VGA+) is bound|vtcon0 (VGA+) "
    "is built into the kernel and cannot be unbound; vfio-pci replaces it with the dummy "
    "console when it takes the device (Linux 6.0 and later): bind with --force if the host can "
    "do without this screen until the next boot")

# case -> the exact lines ("kind|resource|reason|hint"), in order.
EXPECTED = {
    "nvme-idle": [],
    "nvme-mounted": ["mount|nvme0n1|/mnt/data is mounted from nvme0n1|umount /mnt/data"],
    "nvme-mounted-short": ["mount|nvme0n1|/mnt/data is mounted from nvme0n1|umount /mnt/data"],
    "nvme-swapfile": [
        "mount|nvme0n1|/mnt/data is mounted from nvme0n1|umount /mnt/data",
        "swap|nvme0n1|swap file /mnt/data/swapfile is active on nvme0n1|" + SWAPFILE_HINT,
    ],
    "nvme-unmounted": [],
    "nvme-swap": ["swap|nvme0n1|swap is active on nvme0n1|swapoff /dev/nvme0n1"],
    "nvme-dm": ["holder|nvme0n1|nvme0n1 is held by dm-0 (guardtest)|dmsetup remove guardtest"],
    # What sits on a holder comes before the holder: the hints in the order to run them.
    "nvme-dm-mounted": [
        "mount|nvme0n1|/mnt/data is mounted from guardtest (dm-0) on nvme0n1|umount /mnt/data",
        "holder|nvme0n1|nvme0n1 is held by dm-0 (guardtest)|dmsetup remove guardtest",
    ],
    "nvme-released": [],
    "nic-down": [],
    "nic-used": [
        "route|eth0|eth0 carries the default route via 10.0.2.2|ip route del default dev eth0",
        "address|eth0|eth0 has the host address 2001:db8::15/64|"
        "ip addr del 2001:db8::15/64 dev eth0",
        "address|eth0|eth0 has the host address 10.0.2.15/24|ip addr del 10.0.2.15/24 dev eth0",
    ],
    "nic-up": [],
    "nic-bond": [
        "upper|eth0|eth0 is a slave of bond bond0, which has the host address 10.0.3.15/24|"
        "ip link set eth0 nomaster",
    ],
    "nic-bond-idle": [],
    "nic-bridge-vlan": [
        "upper|eth0|eth0 is a port of bridge br0, under vlan br0.10, which carries the default "
        "route via 10.0.4.1|ip link set eth0 nomaster",
        "upper|eth0|eth0 is a port of bridge br0, under vlan br0.10, which has the host address "
        "10.0.4.15/24|ip link set eth0 nomaster",
    ],
    "nic-bridge-idle": [],
    "nic-released": [],
    # vgacon is bound on the guest's boot VGA (console=ttyS0 sends the kernel's messages to
    # the UART, but the VGA text console still drives the VTs).
    "vga": [VGACON_GUARD],
    # echo 0 > .../vtcon0/bind, the hint of old: the kernel ignores it for vgacon.
    "vga-vtcon-unbind": [VGACON_GUARD],
    # What the hint says frees it: vfio-pci takes the device and the VTs go to the dummy
    # console. The probe runs with the device on vfio-pci, then given back driverless.
    "vga-on-vfio": [],
    "vga-released": [],
    "vga-audio": [],
    "serial-console": [
        "console|ttyS0|ttyS0 is a host console|boot without console=ttyS0 on the kernel "
        "command line",
    ],
    "serial-console-dev": [
        "console|ttyS0|ttyS0 is a host console|boot without console=ttyS0 on the kernel "
        "command line",
    ],
    "serial-other": [],
    "pci-uart": [],
    "xhci": [],
    "pf-vfs-idle": [],
    "pf-vfs-bound": [
        "vfs-in-use|0000:00:03.2|VF 0000:00:03.2 is bound to vfio-pci; taking the PF would "
        "remove it|" + VF_HINT,
    ],
    "vf": [],
}

# case -> (exit code, text the error must contain)
FAILURES = {
    "serial-phantom": (1, "ttyS3: No such device"),
    "absent": (1, "0000:00:1e.0: No such device"),
    "malformed": (1, "0000:00:03: Invalid argument"),
}


def read(results, name):
    try:
        with open(os.path.join(results, name)) as f:
            return f.read()
    except OSError as e:
        return None if e.errno == 2 else "<%s>" % e


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    results = argv[1]
    failed = 0

    def fail(case, why):
        nonlocal failed
        failed += 1
        print("FAIL %s: %s" % (case, why))

    for case, lines in EXPECTED.items():
        rc = read(results, case + ".rc")
        if rc is None:
            fail(case, "not run (%s)" % (read(results, case + ".err") or "no output").strip())
            continue
        if rc.strip() != "0":
            fail(case, "exit %s: %s" % (rc.strip(), (read(results, case + ".err") or "").strip()))
            continue
        got = (read(results, case + ".out") or "").splitlines()
        if got != lines:
            fail(case, "\n  expected:\n    %s\n  got:\n    %s" % (
                "\n    ".join(lines) or "(nothing)", "\n    ".join(got) or "(nothing)"))
        else:
            print("ok   %s: %d guard(s)" % (case, len(lines)))

    for case, (code, message) in FAILURES.items():
        rc = (read(results, case + ".rc") or "").strip()
        err = read(results, case + ".err") or ""
        out = read(results, case + ".out") or ""
        if rc != str(code) or message not in err or out:
            fail(case, "expected exit %d and %r, got exit %r, stderr %r, stdout %r" % (
                code, message, rc, err.strip(), out.strip()))
        else:
            print("ok   %s: %s" % (case, err.strip()))

    # The link-local address was there when nic-up found nothing.
    if_inet6 = read(results, "if_inet6-nic-up") or ""
    if not any(l.startswith("fe80") and l.split()[-1] == "eth0" for l in if_inet6.splitlines()):
        fail("nic-up", "eth0 had no link-local address: the case proved nothing")

    cost = (read(results, "cost") or "").split()
    if len(cost) == 3:
        n, start, end = int(cost[0]), float(cost[1]), float(cost[2])
        print("info %d functions checked in %.2f s (guest uptime; TCG, a process each)" % (
            n, end - start))

    print("%d failed" % failed if failed else "all guard cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
