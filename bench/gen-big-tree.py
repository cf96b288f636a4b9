#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Generate the benchmark's fake root: 4096 PCI functions, shaped like a big server.

    bench/gen-big-tree.py OUTDIR [--force]
    bench/gen-big-tree.py --spec          # print the spec as JSON

Layout (domain 0000, four root buses 00/40/80/c0, NUMA 0 for 00/40, 1 for 80/c0):
  - 5 chipset functions on bus 00 (host bridge, xHCI, LPC, audio, SMBus);
  - 31 dual-port SR-IOV NICs, each behind its own root port, both ports with
    63 VFs (1 + 2 + 126 = 129 functions each): 3999 functions;
  - 8 GPUs (VGA + HDMI audio, one shared group) behind root ports: 24;
  - 2 PCIe switches (root port, upstream port, 16 downstream ports with an
    NVMe drive each): 68.
Total 5 + 3999 + 24 + 68 = 4096.

Groups: every function in its own group except the GPU pairs and the two
ports of every other NIC (no ACS between functions). Drivers: PFs bound to
their NIC driver; of each PF's VFs a few are bound to vfio-pci, some left
unbound, the rest bound to the VF driver.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "tests", "fixtures"))
import mksysfs  # noqa: E402

NICS = [
    # vendor, PF device, VF device, PF driver, VF driver, class
    ("8086", "1572", "154c", "i40e", "iavf", "020000"),
    ("8086", "10fb", "10ed", "ixgbe", "ixgbevf", "020000"),
    ("15b3", "1017", "1018", "mlx5_core", "mlx5_core", "020000"),
]
GPUS = [
    # vendor, VGA device, audio device, driver
    ("10de", "1e87", "10f8", "nouveau"),
    ("1002", "73bf", "ab28", "amdgpu"),
]


class Layout:
    def __init__(self):
        self.pci = []
        self.group = 0

    def next_group(self):
        g = self.group
        self.group += 1
        return g

    def add(self, **kw):
        kw.setdefault("group", self.next_group())
        self.pci.append(kw)
        return kw


def root_port(lay, root_bus, slot, fn, secondary, numa):
    return lay.add(addr="0000:%02x:%02x.%d" % (root_bus, slot, fn), vendor="8086",
                   device="2030", class_="060400", bridge=secondary, driver="pcieport",
                   numa=numa, reset=None, pcie={"speed": 8, "width": 16})


def make_spec():
    lay = Layout()
    # Chipset on bus 00.
    lay.add(addr="0000:00:00.0", vendor="8086", device="2020", class_="060000",
            pcie=False, reset=None, numa=0)
    lay.add(addr="0000:00:14.0", vendor="8086", device="a1af", class_="0c0330",
            driver="xhci_hcd", numa=0, reset=None)
    lpc = lay.next_group()
    lay.add(addr="0000:00:1f.0", vendor="8086", device="a1cb", class_="060100", numa=0,
            group=lpc, reset=None)
    lay.add(addr="0000:00:1f.3", vendor="8086", device="a1f0", class_="040300", numa=0,
            driver="snd_hda_intel", group=lpc, reset=None)
    lay.add(addr="0000:00:1f.4", vendor="8086", device="a1a3", class_="0c0500", numa=0,
            driver="i801_smbus", group=lpc, reset=None)

    # Root ports: eight per root bus, secondary buses allocated upwards.
    ports = []
    for root_bus in (0x00, 0x40, 0x80, 0xC0):
        numa = 0 if root_bus < 0x80 else 1
        for i in range(16):
            ports.append((root_bus, 1 + i // 4, i % 4, numa))
    next_bus = {0x00: 0x01, 0x40: 0x41, 0x80: 0x81, 0xC0: 0xC1}

    def take_bus(root_bus, n=1):
        b = next_bus[root_bus]
        next_bus[root_bus] += n
        return b

    port_iter = iter(ports)
    for n in range(31):
        root_bus, slot, fn, numa = next(port_iter)
        bus = take_bus(root_bus)
        root_port(lay, root_bus, slot, fn, bus, numa)
        vendor, pfdev, vfdev, pfdrv, vfdrv, cls = NICS[n % len(NICS)]
        shared = lay.next_group() if n % 2 else None
        for port in range(2):
            # VF 0-3 handed to vfio-pci, 60-62 left unbound, the rest on the VF driver.
            vfs = [{"driver": "vfio-pci"} if i < 4 else
                   {"driver": None} if i >= 60 else {} for i in range(63)]
            lay.add(addr="0000:%02x:00.%d" % (bus, port), vendor=vendor, device=pfdev,
                    subvendor=vendor, subdevice="0000", class_=cls, driver=pfdrv, numa=numa,
                    group=shared if shared is not None else lay.next_group(),
                    pcie={"speed": 8, "width": 8},
                    sriov={"total": 64, "num": 63, "vf_device": vfdev, "vf_driver": vfdrv,
                           "offset": 128, "stride": 2,
                           "vf_groups": [lay.next_group() for _ in range(63)], "vfs": vfs})

    for n in range(8):
        root_bus, slot, fn, numa = next(port_iter)
        bus = take_bus(root_bus)
        root_port(lay, root_bus, slot, fn, bus, numa)
        vendor, vga, audio, drv = GPUS[n % len(GPUS)]
        g = lay.next_group()
        lay.add(addr="0000:%02x:00.0" % bus, vendor=vendor, device=vga, class_="030000",
                driver="vfio-pci" if n >= 6 else drv, numa=numa, group=g,
                pcie={"speed": 16, "width": 16}, reset=["bus"])
        lay.add(addr="0000:%02x:00.1" % bus, vendor=vendor, device=audio, class_="040300",
                driver="vfio-pci" if n >= 6 else "snd_hda_intel", numa=numa, group=g,
                pcie={"speed": 16, "width": 16}, reset=["bus"])

    for n in range(2):
        root_bus, slot, fn, numa = next(port_iter)
        up_bus = take_bus(root_bus)
        down_bus = take_bus(root_bus)
        first = take_bus(root_bus, 16)
        root_port(lay, root_bus, slot, fn, up_bus, numa)
        lay.add(addr="0000:%02x:00.0" % up_bus, vendor="1000", device="c010", class_="060400",
                bridge=down_bus, driver="pcieport", numa=numa, reset=None,
                pcie={"speed": 16, "width": 16})
        for i in range(16):
            lay.add(addr="0000:%02x:%02x.0" % (down_bus, i), vendor="1000", device="c010",
                    class_="060400", bridge=first + i, driver="pcieport", numa=numa,
                    reset=None, pcie={"speed": 16, "width": 4})
            lay.add(addr="0000:%02x:00.0" % (first + i), vendor="144d", device="a824",
                    class_="010802", driver="nvme", numa=numa,
                    pcie={"speed": 16, "width": 4})

    for e in lay.pci:
        e["class"] = e.pop("class_")
    return {
        "iommu": "intel",
        "cpus": 2,
        "console": "ttyS0 tty0",
        "pci_drivers": ["vfio-pci"],
        "pci": lay.pci,
        "usb": [{"bus": 1, "controller": "0000:00:14.0", "ports": 8, "devices": [
            {"port": 1, "vendor": "046b", "product": "ff10", "manufacturer": "AMI",
             "product_name": "Virtual Keyboard and Mouse",
             "interfaces": [{"class": 3, "subclass": 1, "protocol": 1, "driver": "usbhid"}]},
        ]}],
        "serial": [{"name": "ttyS0", "pnp": "00:04", "port": "3f8", "irq": 4,
                    "console": True},
                   {"name": "ttyS1", "pnp": "00:05", "port": "2f8", "irq": 3},
                   {"name": "ttyS2", "type": 0}, {"name": "ttyS3", "type": 0}],
    }


def count_functions(spec):
    return sum(1 + int(e.get("sriov", {}).get("num", 0)) for e in spec["pci"])


def main(argv):
    spec = make_spec()
    if argv[1:] == ["--spec"]:
        json.dump(spec, sys.stdout, indent=1)
        return 0
    args = [a for a in argv[1:] if a != "--force"]
    if len(args) != 1:
        sys.stderr.write("usage: gen-big-tree.py OUTDIR [--force] | --spec\n")
        return 2
    out = args[0]
    if os.path.exists(out):
        if "--force" not in argv:
            sys.stderr.write("gen-big-tree.py: %s exists (use --force)\n" % out)
            return 1
        shutil.rmtree(out)
    tree = mksysfs.build(spec, out)
    assert len(tree.pci) == count_functions(spec) == 4096, len(tree.pci)
    print("%s: %d PCI functions, %d iommu groups" % (
        out, len(tree.pci), len({g for g in tree.groups.values() if g is not None})))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
