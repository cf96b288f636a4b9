#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host side of test-hotplug.sh: query-pci before attach (empty root ports), between (the
NIC on rp1, the VGA + audio group as functions 0 and 1 of one slot on rp2, the UART's
pci-serial on rp3) and after the timed-out detach (everything still there); info usb with the
tablet and without it after its detach."""

import vmcheck

ATTACHED = {
    # id: (vendor, device, root port, function)
    "pt-0000-00-02.0": (0x8086, 0x10D3, "rp1", 0),
    "pt-0000-01-00.0": (0x1234, 0x1111, "rp2", 0),
    "pt-0000-01-00.1": (0x8086, 0x293E, "rp2", 1),
    "pt-ttyS1": (0x1B36, 0x0002, "rp3", 0),
}


def run(c):
    before = vmcheck.pci_devices(c.json("query-pci-before.json"))
    c.check(any(d.get("qdev_id") == "rp4" for d, _ in before), "query-pci before lists rp4")
    c.check(not any(p in ("rp1", "rp2", "rp3", "rp4") for _, p in before),
            "before attach, nothing is behind the root ports")
    c.check(not any((d.get("qdev_id") or "").startswith("pt-") for d, _ in before),
            "before attach, no passthru device")

    for when in ("between", "after"):
        pci = vmcheck.by_id(c.json("query-pci-%s.json" % when))
        for qid, (vendor, device, port, fn) in ATTACHED.items():
            d, parent = pci.get(qid, (None, None))
            if not c.check(d is not None, "%s: query-pci lists %s" % (when, qid)):
                continue
            c.check((d["id"]["vendor"], d["id"]["device"]) == (vendor, device),
                    "%s: %s is %04x:%04x" % (when, qid, vendor, device))
            c.check(parent == port and d["slot"] == 0 and d["function"] == fn,
                    "%s: %s at slot 0 function %d behind %s (found %s behind %s)"
                    % (when, qid, fn, port, "%d.%d" % (d["slot"], d["function"]), parent))

    between = c.json("info-usb-between.json") or ""
    after = c.json("info-usb-after.json")
    tablet = [l for l in between.split("\n") if "ID: pt-usb-1-2" in l]
    c.check(bool(tablet) and "QEMU USB Tablet" in tablet[0], "info usb shows the host's tablet")
    c.check(after is not None and "pt-usb-1-2" not in after, "after detach, info usb does not")
    c.check(c.json("status.json") is not None, "QEMU answered after the timed-out detach")


if __name__ == "__main__":
    vmcheck.main(run)
