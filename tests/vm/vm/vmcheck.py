# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the vm suite's host checkers share: results files, query-pci, libvirt validation."""

import json
import os
import subprocess
import sys
import tempfile


class Checker:
    def __init__(self, results):
        self.results = results
        self.failures = 0
        self.checks = 0

    def check(self, ok, what):
        self.checks += 1
        if ok:
            print("PASS: " + what)
        else:
            self.failures += 1
            print("FAIL: " + what)
        return ok

    def path(self, name):
        return os.path.join(self.results, name)

    def text(self, name):
        try:
            with open(self.path(name), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            self.check(False, "%s is in the results" % name)
            return ""

    def json(self, name):
        t = self.text(name)
        try:
            return json.loads(t)
        except ValueError:
            self.check(False, "%s holds JSON" % name)
            return None

    def done(self):
        print("%d checks, %d failed" % (self.checks, self.failures))
        return 1 if self.failures else 0


def pci_devices(query_pci):
    """query-pci flattened: (device, parent bridge's qdev_id or None) in QEMU's order."""
    out = []

    def walk(devices, parent):
        for d in devices or []:
            out.append((d, parent))
            bridge = d.get("pci_bridge")
            if bridge:
                walk(bridge.get("devices"), d.get("qdev_id"))

    for bus in query_pci or []:
        walk(bus.get("devices"), None)
    return out


def by_id(query_pci):
    return {d.get("qdev_id"): (d, parent) for d, parent in pci_devices(query_pci) if d.get("qdev_id")}


def virt_xml_validate(elements):
    """virt-xml-validate's verdict on elements inside a minimal q35 domain: (ok, output)."""
    doc = ("<domain type='kvm'>\n  <name>passthru-vm-test</name>\n"
           "  <memory unit='MiB'>512</memory>\n"
           "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n"
           "  <devices>\n%s  </devices>\n</domain>\n" % elements)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(doc)
        name = f.name
    try:
        p = subprocess.run(["virt-xml-validate", name, "domain"], capture_output=True, text=True)
        return p.returncode == 0, (p.stdout + p.stderr).strip()
    except FileNotFoundError:
        return False, "virt-xml-validate not found: install libvirt-clients"
    finally:
        os.unlink(name)


def main(run):
    if len(sys.argv) != 2:
        print("usage: %s RESULTS_DIR" % sys.argv[0], file=sys.stderr)
        sys.exit(2)
    c = Checker(sys.argv[1])
    run(c)
    sys.exit(c.done())
