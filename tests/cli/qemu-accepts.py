#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Does QEMU take what `passthru qemu-args` prints? The real qemu-system-x86_64 of this machine
starts (paused, TCG, no display) with the options for a fixture host shaped like real hardware:

- two NICs with the same bus and slot in domains 0000 and 10000 (Intel VMD): every
  pcie-root-port needs its own id and (chassis, slot) pair;
- a GPU with its audio function: two functions of one guest slot;
- two functions of one host slot in separate IOMMU groups (ACS): two guest slots, two ports;
- five serial ports: QEMU has at most four isa-serial.

There are no host devices to pass here: each vfio-pci becomes a pci-testdev with the same id,
bus, address and multifunction, and each serial chardev a null one with the same id, so what
QEMU judges is the layout (ids, root ports, slots, serial models). The guest tests
(tests/vm/vm) start QEMU with real host devices.

    qemu-accepts.py --passthru BUILD/cli/passthru --mksysfs tests/fixtures/mksysfs.py

Exit 77 (skipped) without qemu-system-x86_64.
"""

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile

SPEC = {
    "iommu": "intel",
    "pci_drivers": ["vfio-pci"],
    "pci": [
        {"addr": "0000:00:00.0", "vendor": "8086", "device": "29c0", "class": "060000"},
        {"addr": "0000:00:02.0", "vendor": "8086", "device": "10d3", "class": "020000",
         "driver": "vfio-pci", "group": 1},
        {"addr": "10000:00:02.0", "vendor": "8086", "device": "10d3", "class": "020000",
         "driver": "vfio-pci", "group": 2},
        {"addr": "0000:01:00.0", "vendor": "10de", "device": "1b80", "class": "030000",
         "driver": "vfio-pci", "group": 3},
        {"addr": "0000:01:00.1", "vendor": "10de", "device": "10f0", "class": "040300",
         "driver": "vfio-pci", "group": 3},
        {"addr": "0000:03:00.0", "vendor": "8086", "device": "1521", "class": "020000",
         "driver": "vfio-pci", "group": 4},
        {"addr": "0000:03:00.1", "vendor": "8086", "device": "1521", "class": "020000",
         "driver": "vfio-pci", "group": 5},
    ],
    "serial": [
        {"name": "ttyS0", "port": "3f8", "irq": 4},
        {"name": "ttyS1", "port": "2f8", "irq": 3},
        {"name": "ttyS2", "port": "3e8", "irq": 4},
        {"name": "ttyS3", "port": "2e8", "irq": 3},
        {"name": "ttyS4", "port": "e000", "irq": 17},
    ],
    "cmdline": "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro intel_iommu=on",
}
# Each judged on its own, so that one refusal does not hide the other.
CASES = [
    ("root ports", ["00:02.0", "10000:00:02.0", "01:00.0"]),
    ("one host slot, two groups", ["03:00.0", "03:00.1"]),
    ("serial ports", ["ttyS0", "ttyS1", "ttyS2", "ttyS3", "ttyS4"]),
]


def without_host_devices(words):
    """The options with stand-ins for the host devices, placement kept."""
    out = []
    for opt, value in zip(words[::2], words[1::2]):
        driver, _, props = value.partition(",")
        kept = [p for p in props.split(",") if p.split("=")[0] not in ("host", "sysfsdev", "path")]
        if opt == "-device" and driver == "vfio-pci":
            driver = "pci-testdev"
        elif opt == "-chardev" and driver == "serial":
            driver = "null"
        out += [opt, ",".join([driver] + kept)]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--passthru", required=True)
    ap.add_argument("--mksysfs", required=True)
    args = ap.parse_args()
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("qemu-system-x86_64 not installed: skipped")
        return 77

    with tempfile.TemporaryDirectory(prefix="passthru-qemu-accepts-") as tmp:
        root = tmp + "/root"
        subprocess.run([sys.executable, args.mksysfs, "-", root], input=json.dumps(SPEC),
                       text=True, check=True, stdout=subprocess.DEVNULL)
        failed = [name for name, devices in CASES
                  if not qemu_takes(qemu, args.passthru, root, devices)]
    if failed:
        print("FAIL: " + ", ".join(failed))
        return 1
    return 0


def qemu_takes(qemu, passthru, root, devices):
    p = subprocess.run([passthru, "--sysroot", root, "qemu-args", "--format", "shell"]
                       + devices, capture_output=True, text=True)
    print("$ passthru qemu-args --format shell " + " ".join(devices))
    print(p.stdout + p.stderr, end="")
    if p.returncode != 0:
        print("qemu-args exited %d" % p.returncode)
        return False
    words = without_host_devices(shlex.split(p.stdout))
    cmd = [qemu, "-machine", "q35", "-accel", "tcg", "-nodefaults", "-display", "none",
           "-S", "-qmp", "stdio"] + words
    print("$ " + shlex.join(cmd))
    try:
        q = subprocess.run(cmd, input='{"execute": "qmp_capabilities"}\n'
                           '{"execute": "quit"}\n', capture_output=True, text=True,
                           timeout=120)
    except subprocess.TimeoutExpired:
        print("QEMU did not quit")
        return False
    print(q.stderr, end="")
    if q.returncode != 0 or '"return"' not in q.stdout:
        print("QEMU refused the command line (exit %d)" % q.returncode)
        return False
    print("QEMU started with the options")
    return True


if __name__ == "__main__":
    sys.exit(main())
