#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host side of test-coldplug.sh: the nested QEMU started from `passthru qemu-args` holds
every device in the layout qemu-args promises, and the libvirt XML of every family passes
libvirt's schema."""

import re

import vmcheck


def run(c):
    groups = c.text("groups").split()
    held = c.text("held-paused").split("\n")
    for g in groups:
        c.check("/dev/vfio/%s" % g in held, "paused nested QEMU holds /dev/vfio/%s" % g)

    pci = vmcheck.by_id(c.json("query-pci.json"))
    expected = {
        # id: (vendor, device, parent root port)
        "pt-0000-00-02.0": (0x8086, 0x10D3, "pt-rp-0000-00-02"),
        "pt-0000-01-00.0": (0x1234, 0x1111, "pt-rp-0000-01-00"),
        "pt-0000-01-00.1": (0x8086, 0x293E, "pt-rp-0000-01-00"),
    }
    for qid, (vendor, device, parent) in expected.items():
        d, p = pci.get(qid, (None, None))
        if not c.check(d is not None, "query-pci lists %s" % qid):
            continue
        c.check((d["id"]["vendor"], d["id"]["device"]) == (vendor, device),
                "%s is %04x:%04x" % (qid, vendor, device))
        c.check(p == parent, "%s is behind %s (is behind %s)" % (qid, parent, p))
    for rp in ("pt-rp-0000-00-02", "pt-rp-0000-01-00"):
        d, p = pci.get(rp, (None, None))
        c.check(d is not None and (d["id"]["vendor"], d["id"]["device"]) == (0x1B36, 0x000C),
                "query-pci lists the pcie-root-port %s" % rp)
    f0 = pci.get("pt-0000-01-00.0", (None, None))[0]
    f1 = pci.get("pt-0000-01-00.1", (None, None))[0]
    if f0 and f1:
        c.check((f0["bus"], f0["slot"]) == (f1["bus"], f1["slot"]),
                "the VGA and its audio function share a guest slot")
        c.check((f0["function"], f1["function"]) == (0, 1),
                "the VGA is function 0, the audio function 1")

    usb = c.json("info-usb.json") or ""
    for port, product in (("1-1", "QEMU USB Keyboard"), ("1-2", "QEMU USB Tablet")):
        line = [l for l in usb.split("\n") if "ID: pt-usb-%s" % port in l]
        c.check(bool(line) and product in line[0],
                "info usb: pt-usb-%s is the host's %s" % (port, product))
    c.check("pt-chr-ttyS1" in (c.json("info-chardev.json") or ""),
            "info chardev lists pt-chr-ttyS1")
    peripherals = {e["name"]: e["type"] for e in c.json("peripherals.json") or []}
    for name, kind in (("pt-ttyS1", "child<isa-serial>"), ("pt-usb-1-1", "child<usb-host>"),
                       ("pt-usb-1-2", "child<usb-host>"), ("pt-xhci", "child<qemu-xhci>")):
        c.check(peripherals.get(name) == kind, "the nested QEMU has %s, a %s" % (name, kind))

    xml = {}
    for name in ("xml-pci", "xml-usb", "xml-usb-address", "xml-serial", "xml-serial-pci"):
        xml[name] = c.text(name + ".out")
        ok, output = vmcheck.virt_xml_validate(xml[name])
        c.check(ok and xml[name].strip() != "", "%s validates against libvirt's schema%s"
                % (name, "" if ok else ": " + output))
    c.check(xml["xml-pci"].count("<hostdev mode='subsystem' type='pci' managed='no'>") == 3,
            "xml-pci: three PCI hostdevs (the NIC, the VGA and its audio function)")
    for a in ("bus='0x00' slot='0x02' function='0x0'", "bus='0x01' slot='0x00' function='0x0'",
              "bus='0x01' slot='0x00' function='0x1'"):
        c.check(a in xml["xml-pci"], "xml-pci has %s" % a)
    c.check("<vendor id='0x0627'/>" in xml["xml-usb"] and "<product id='0x0001'/>" in xml["xml-usb"],
            "xml-usb: by vendor and product")
    c.check(len(re.findall(r"<address bus='1' device='\d+'/>", xml["xml-usb-address"])) == 2,
            "xml-usb-address: by bus and device number")
    c.check("<source path='/dev/ttyS1'/>" in xml["xml-serial"], "xml-serial: /dev/ttyS1")
    c.check("<target type='pci-serial' port='1'>" in xml["xml-serial-pci"],
            "xml-serial-pci: a pci-serial target")


if __name__ == "__main__":
    vmcheck.main(run)
