#!/usr/bin/env python3
"""Host side of the inventory suite: compare what `passthru list pci|usb|serial
--json` printed in the guest with the kernel's own view (the sysfs facts,
`lspci -nnk -D` and `lsusb` that test-inventory.sh saved), device by device,
key by key as passthru-list(1) documents them.

Usage: check-inventory.py RESULTS_DIR

It also asserts the guest's device mix (run-guest.sh's fixed layout), so a
harness that lost a device fails here instead of passing on less. Each
mismatch is printed; the exit code is 1 when there was any.
"""

import json
import os
import re
import sys


class Checker:
    def __init__(self):
        self.failures = 0

    def fail(self, what, msg):
        self.failures += 1
        print(f"FAIL: {what}: {msg}")

    def equal(self, what, key, got, want):
        if got != want:
            self.fail(what, f"{key} is {got!r}, the kernel says {want!r}")


def read(results, name):
    try:
        with open(os.path.join(results, name), encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def load_facts(results):
    """sysfs.tsv -> {kind: {name: {attr: value}}}."""
    facts = {"pci": {}, "usb": {}, "tty": {}, "proc": {}}
    for line in (read(results, "sysfs.tsv") or "").splitlines():
        parts = line.split("\t", 3)
        if len(parts) != 4:
            continue
        kind, name, attr, value = parts
        facts.setdefault(kind, {}).setdefault(name, {})[attr] = value
    return facts


LSPCI_HEAD = re.compile(
    r"^(?P<addr>[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (?P<class_name>.*) "
    r"\[(?P<class>[0-9a-f]{4})\]: (?P<names>.*) \[(?P<vid>[0-9a-f]{4}):(?P<did>[0-9a-f]{4})\]"
    r"(?: \(rev [0-9a-f]+\))?(?: \(prog-if .*\))?$"
)


def parse_lspci(text):
    """lspci -nnk -D -> {address: {class_name, names, driver, modules}}."""
    devices = {}
    cur = None
    for line in text.splitlines():
        m = LSPCI_HEAD.match(line)
        if m:
            cur = {
                "class_name": m["class_name"],
                "names": m["names"],
                "driver": None,
                "modules": [],
            }
            devices[m["addr"]] = cur
        elif cur is not None and line.startswith("\tSubsystem: "):
            cur["subsystem"] = line.split(": ", 1)[1]
        elif cur is not None and line.startswith("\tKernel driver in use: "):
            cur["driver"] = line.split(": ", 1)[1]
        elif cur is not None and line.startswith("\tKernel modules: "):
            cur["modules"] = [s.strip() for s in line.split(": ", 1)[1].split(",")]
    return devices


def load_json(c, results, name, key=""):
    """The parsed output saved as NAME.out: its KEY array (NAME by default),
    the whole document with key=None, or None after a failure."""
    key = name if key == "" else key
    what = f"passthru list {name}" if key else "passthru list"
    out, rc, err = (read(results, f"{name}.{x}") for x in ("out", "rc", "err"))
    if rc is None or rc.strip() != "0":
        c.fail(what, f"exit code {rc and rc.strip()}; stderr: {(err or '').strip()}")
        return None
    try:
        doc = json.loads(out)
    except ValueError as e:
        c.fail(what, f"output is not JSON ({e}): {out[:200]!r}")
        return None
    if key is None:
        return doc
    if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
        c.fail(what, f'output is not {{"{key}": [...]}}: {out[:200]!r}')
        return None
    return doc[key]


def by_key(c, verb, items, key):
    table = {}
    for item in items:
        if not isinstance(item, dict) or key not in item:
            c.fail(f"passthru list {verb}", f"entry without {key!r}: {item!r}")
            continue
        if item[key] in table:
            c.fail(f"passthru list {verb}", f"{key} {item[key]!r} listed twice")
        table[item[key]] = item
    return table


def bare_hex(v):
    """A sysfs hex attribute ("0x10D3") as passthru prints it ("10d3")."""
    return v[2:].lower() if v.startswith("0x") else v.lower()


def check_device_mix(c, facts, iommu):
    """The layout run-guest.sh promises; the rest of the checks rely on it."""
    pci, usb, tty = facts["pci"], facts["usb"], facts["tty"]

    def ids(addr):
        d = pci.get(addr, {})
        return f"{bare_hex(d.get('vendor', '?'))}:{bare_hex(d.get('device', '?'))}"

    for addr, want in (
        ("0000:00:02.0", "8086:10d3"),
        ("0000:00:03.0", "1b36:0010"),
        ("0000:00:04.0", "1b36:000d"),
        ("0000:00:06.0", "1b36:0002"),
    ):
        if ids(addr) != want:
            c.fail(f"device mix {addr}", f"is {ids(addr)}, expected {want}")
    pf = pci.get("0000:00:03.0", {})
    vfs = [f"0000:00:03.{i}" for i in range(1, 5)]
    if pf.get("sriov_numvfs") != "4":
        c.fail("device mix 0000:00:03.0", f"sriov_numvfs is {pf.get('sriov_numvfs')}, expected 4")
    for i, vf in enumerate(vfs):
        if pf.get(f"virtfn{i}") != vf:
            c.fail("device mix 0000:00:03.0", f"virtfn{i} is {pf.get(f'virtfn{i}')}, expected {vf}")
        if pci.get(vf, {}).get("physfn") != "0000:00:03.0":
            c.fail(f"device mix {vf}", "is not a VF of 0000:00:03.0")
    gpu, audio = pci.get("0000:01:00.0", {}), pci.get("0000:01:00.1", {})
    if not gpu.get("class", "").startswith("0x0300") or not audio.get("class", "").startswith("0x0403"):
        c.fail("device mix 01:00", "expected a VGA controller at 01:00.0 and an audio device at 01:00.1")
    groups = {a: d.get("iommu_group") for a, d in pci.items()}
    if iommu == "none":
        for a, g in groups.items():
            if g is not None:
                c.fail(f"device mix {a}", f"has IOMMU group {g} without an IOMMU")
    else:
        for a, g in groups.items():
            # The AMD IOMMU's own function is never grouped, and QEMU's IVRS
            # only lists the functions present at boot: the AMD-Vi driver
            # leaves hot-added VFs without a group.
            exempt = iommu == "amd" and (a in vfs or pci[a].get("class", "").startswith("0x0806"))
            if g is None and not exempt:
                c.fail(f"device mix {a}", "has no IOMMU group")
        if groups.get("0000:01:00.0") != groups.get("0000:01:00.1"):
            c.fail("device mix 01:00", "VGA and audio functions are not in one group")
        vf_groups = [groups.get(v) for v in vfs if groups.get(v) is not None]
        if len(set(vf_groups)) != len(vf_groups):
            c.fail("device mix VFs", f"VFs share groups: {vf_groups}")
    vf1 = pci.get("0000:00:03.1", {})
    if "iommu_group" in vf1 and vf1.get("driver") != "vfio-pci":
        c.fail("device mix 0000:00:03.1", "the guest did not bind this VF to vfio-pci")
    for port in ("usb1", "1-1", "1-2", "1-3", "1-3.1"):
        if port not in usb:
            c.fail("device mix USB", f"{port} is missing")
    if usb.get("1-3", {}).get("bDeviceClass") != "09":
        c.fail("device mix USB", "1-3 is not a hub")
    if tty.get("ttyS1", {}).get("type", "0") == "0":
        c.fail("device mix serial", "ttyS1 is not a real UART")
    if "ttyUSB0" not in tty:
        c.fail("device mix serial", "the USB serial adapter has no ttyUSB0")


# The JSON keys of each class, in the order passthru-list(1) documents them.
PCI_KEYS = (
    "address vendor_id device_id subsystem_vendor_id subsystem_device_id revision vendor_name "
    "device_name subsystem_name class class_name prog_if_name type driver modules iommu_group "
    "group_members numa_node boot_vga bridge physfn vfs sriov_totalvfs sriov_numvfs reset_methods "
    "link_speed link_width max_link_speed max_link_width problems"
).split()
USB_KEYS = (
    "port busnum devnum vendor_id product_id vendor_name product_name class speed manufacturer "
    "product serial drivers hub root_hub problems"
).split()
SERIAL_KEYS = "path name port irq uart_type console usb driver".split()
# Keys that only -o/--output-all brings: the PCI details and the table-only id, name.
PCI_DETAIL_KEYS = "sriov_totalvfs sriov_numvfs reset_methods link_speed link_width max_link_speed max_link_width".split()
PCI_ALL_KEYS = PCI_KEYS + ["id", "name"]
PCI_DEFAULT_KEYS = [k for k in PCI_KEYS if k not in PCI_DETAIL_KEYS]


def check_keys(c, what, got, keys):
    """Every documented key, in the documented order; keys may be added."""
    missing = [k for k in keys if k not in got]
    if missing:
        c.fail(what, f"no {', '.join(missing)} key (passthru-list(1) documents them)")
    elif [k for k in got if k in keys] != keys:
        c.fail(what, f"keys are in the order {list(got)}, not passthru-list(1)'s")


def pci_type(k):
    """The built-in passthrough type of passthru-list(1) (the guest has no custom types)."""
    cls, vendor = bare_hex(k["class"]), bare_hex(k["vendor"])
    if cls.startswith("0300"):
        return "GPU-VGA"
    if cls.startswith("0302") or (cls.startswith("0380") and vendor in ("10de", "1002")):
        return "GPU-HPC"
    if cls.startswith("02"):
        return "NIC"
    if cls == "010802":
        return "NVME"
    return "PCI"


def opt_int(v):
    return int(v) if v is not None else None


def check_pci(c, facts, lspci, items):
    sysfs = facts["pci"]
    listed = by_key(c, "pci", items, "address")
    for a in sorted(set(sysfs) - set(listed)):
        c.fail(a, "in sysfs but not listed by passthru")
    for a in sorted(set(listed) - set(sysfs)):
        c.fail(a, "listed by passthru but not in sysfs")
    for a in sorted(set(lspci) ^ set(sysfs)):
        c.fail(a, "lspci and sysfs disagree on this device: the dump is incomplete")
    members = {}
    for a, k in sysfs.items():
        if "iommu_group" in k:
            members.setdefault(k["iommu_group"], []).append(a)

    for a in sorted(set(listed) & set(sysfs)):
        got, k, ls = listed[a], sysfs[a], lspci.get(a, {})
        check_keys(c, a, got, PCI_ALL_KEYS)
        c.equal(a, "id", got.get("id"), f"{bare_hex(k['vendor'])}:{bare_hex(k['device'])}")
        for key, attr in (
            ("vendor_id", "vendor"),
            ("device_id", "device"),
            ("subsystem_vendor_id", "subsystem_vendor"),
            ("subsystem_device_id", "subsystem_device"),
            ("revision", "revision"),
            ("class", "class"),
        ):
            c.equal(a, key, got.get(key), bare_hex(k[attr]))
        c.equal(a, "type", got.get("type"), pci_type(k))
        c.equal(a, "driver", got.get("driver"), k.get("driver"))
        c.equal(a, "driver (lspci)", got.get("driver"), ls.get("driver"))
        # lspci prints libkmod's lookup order; the set is what must agree.
        mods = got.get("modules")
        if not isinstance(mods, list) or sorted(mods) != sorted(ls.get("modules", [])):
            c.fail(a, f"modules are {mods!r}, lspci -k says {ls.get('modules', [])!r}")
        # check_device_mix() has asserted which devices the profile groups.
        group = k.get("iommu_group")
        c.equal(a, "iommu_group", got.get("iommu_group"), opt_int(group))
        c.equal(a, "group_members", got.get("group_members"), sorted(members.get(group, [])))
        c.equal(a, "numa_node", got.get("numa_node"), opt_int(k.get("numa_node")))
        c.equal(a, "boot_vga", got.get("boot_vga"), k.get("boot_vga") == "1")
        c.equal(a, "bridge", got.get("bridge"), bare_hex(k["class"])[:4] in ("0604", "0609"))
        c.equal(a, "physfn", got.get("physfn"), k.get("physfn"))
        want_vfs = [k[f"virtfn{i}"] for i in range(int(k.get("sriov_numvfs") or 0))]
        c.equal(a, "vfs", got.get("vfs"), want_vfs)
        c.equal(a, "sriov_totalvfs", got.get("sriov_totalvfs"), opt_int(k.get("sriov_totalvfs")))
        c.equal(a, "sriov_numvfs", got.get("sriov_numvfs"), opt_int(k.get("sriov_numvfs")))
        c.equal(a, "reset_methods", got.get("reset_methods"), k.get("reset_method", "").split())
        # A function with a link: as the kernel prints it. Without one (the
        # kernel says "Unknown", width 0, max width 255) the man page fixes
        # no value, so only a link is compared.
        if k.get("current_link_speed", "Unknown") != "Unknown":
            for key, attr, conv in (
                ("link_speed", "current_link_speed", str),
                ("link_width", "current_link_width", int),
                ("max_link_speed", "max_link_speed", str),
                ("max_link_width", "max_link_width", int),
            ):
                c.equal(a, key, got.get(key), conv(k[attr]))
        c.equal(a, "problems", got.get("problems"), [])
        # Names: what lspci printed from the same pci.ids/hwdb.
        if got.get("class_name") is not None:
            c.equal(a, "class_name", got.get("class_name"), ls.get("class_name"))
        if got.get("vendor_name") is not None and got.get("device_name") is not None:
            c.equal(a, "vendor_name device_name", f"{got['vendor_name']} {got['device_name']}", ls.get("names"))
        sub = got.get("subsystem_name")
        if sub is not None and not ls.get("subsystem", "").endswith(
            f"{sub} [{bare_hex(k['subsystem_vendor'])}:{bare_hex(k['subsystem_device'])}]"
        ):
            c.fail(a, f"subsystem_name is {sub!r}, lspci says {ls.get('subsystem')!r}")
    return listed


LSUSB_LINE = re.compile(r"^Bus (\d+) Device (\d+): ID [0-9a-f]{4}:[0-9a-f]{4} ?(.*)$")


def check_pci_default(c, full, items):
    """`list pci --json` is `--output-all` without the keys brought on request."""
    for a, got in by_key(c, "pci", items, "address").items():
        extra = [k for k in PCI_DETAIL_KEYS + ["id", "name"] if k in got]
        if extra:
            c.fail(a, f"list pci --json has {', '.join(extra)}, which come only with -o/--output-all")
        check_keys(c, a, got, PCI_DEFAULT_KEYS)
        want = {k: v for k, v in full.get(a, {}).items() if k in PCI_DEFAULT_KEYS}
        if a not in full:
            c.fail(a, "in list pci --json but not with --output-all")
        elif {k: v for k, v in got.items() if k in PCI_DEFAULT_KEYS} != want:
            c.fail(a, "list pci --json and --output-all disagree")


def check_usb(c, facts, lsusb, items):
    sysfs = facts["usb"]
    names = {}
    for line in lsusb.splitlines():
        m = LSUSB_LINE.match(line)
        if m:
            names[(int(m[1]), int(m[2]))] = m[3]
    drivers = {}
    for iface, k in facts.get("usbif", {}).items():
        if "driver" in k:
            # 1-3.1:1.0 belongs to 1-3.1; 1-0:1.0 to the root hub usb1.
            dev = iface.split(":")[0]
            dev = f"usb{dev[:-2]}" if dev.endswith("-0") else dev
            drivers.setdefault(dev, set()).add(k["driver"])
    listed = by_key(c, "usb", items, "port")
    for p in sorted(set(sysfs) - set(listed)):
        c.fail(f"USB {p}", "in sysfs but not listed by passthru")
    for p in sorted(set(listed) - set(sysfs)):
        c.fail(f"USB {p}", "listed by passthru but not in sysfs")
    for p in sorted(set(listed) & set(sysfs)):
        got, k = listed[p], sysfs[p]
        what = f"USB {p}"
        check_keys(c, what, got, USB_KEYS)
        c.equal(what, "busnum", got.get("busnum"), int(k["busnum"]))
        c.equal(what, "devnum", got.get("devnum"), int(k["devnum"]))
        c.equal(what, "vendor_id", got.get("vendor_id"), k["idVendor"].lower())
        c.equal(what, "product_id", got.get("product_id"), k["idProduct"].lower())
        c.equal(what, "class", got.get("class"), k["bDeviceClass"].lower())
        c.equal(what, "speed", got.get("speed"), k.get("speed"))
        for key in ("manufacturer", "product", "serial"):
            c.equal(what, key, got.get(key), k.get(key))
        d = got.get("drivers")
        if not isinstance(d, list) or len(set(d)) != len(d) or set(d) != drivers.get(p, set()):
            c.fail(what, f"drivers are {d!r}, its interfaces have {sorted(drivers.get(p, set()))}")
        c.equal(what, "hub", got.get("hub"), k.get("bDeviceClass") == "09")
        c.equal(what, "root_hub", got.get("root_hub"), p.startswith("usb"))
        c.equal(what, "problems", got.get("problems"), [])
        ls = names.get((int(k["busnum"]), int(k["devnum"])))
        if got.get("vendor_name") is not None and got.get("product_name") is not None:
            c.equal(what, "vendor_name product_name", f"{got['vendor_name']} {got['product_name']}", ls)


def usb_port_of(devpath):
    """The USB port path (1-3.1) in a resolved sysfs path, or None."""
    ports = re.findall(r"/(\d+-[\d.]+)(?=/|$)", devpath or "")
    return ports[-1] if ports else None


def check_serial(c, facts, items):
    tty = facts["tty"]
    consoles = facts["proc"].get("consoles", {}).get("value", "")
    console_ttys = {w.split()[0] for w in consoles.split(";") if w.strip()}
    listed = by_key(c, "serial", items, "path")
    want = {}
    for t, k in tty.items():
        if t.startswith("ttyS") and k.get("type", "0") == "0":
            continue  # a phantom legacy port: nothing answers there
        want[f"/dev/{t}"] = k
    for t in sorted(set(want) - set(listed)):
        c.fail(t, "a real port not listed by passthru")
    for t in sorted(set(listed) - set(want)):
        phantom = t[5:] in tty
        c.fail(t, "a phantom port (type 0) listed by passthru" if phantom else "listed but not in sysfs")
    for t in sorted(set(listed) & set(want)):
        got, k = listed[t], want[t]
        check_keys(c, t, got, SERIAL_KEYS)
        c.equal(t, "name", got.get("name"), t[5:])
        c.equal(t, "console", got.get("console"), t[5:] in console_ttys)
        port = int(k["port"], 16) if k.get("port") else 0
        c.equal(t, "port", got.get("port"), f"0x{port:x}" if port else None)
        c.equal(t, "irq", got.get("irq"), opt_int(k.get("irq")))
        c.equal(t, "uart_type", got.get("uart_type"), opt_int(k.get("type")))
        c.equal(t, "usb", got.get("usb"), usb_port_of(k.get("devpath")))
        c.equal(t, "driver", got.get("driver"), k.get("driver"))
    if listed.get("/dev/ttyS0", {}).get("console") is not True:
        c.fail("/dev/ttyS0", "the console is not marked console=true")
    if listed.get("/dev/ttyS1", {}).get("port") != "0x2f8":
        c.fail("/dev/ttyS1", f"port is {listed.get('/dev/ttyS1', {}).get('port')!r}, expected '0x2f8'")


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        print("usage: check-inventory.py RESULTS_DIR", file=sys.stderr)
        return 2
    results = sys.argv[1]
    c = Checker()
    profile = json.loads(read(results, "testbed.json") or "{}")
    iommu = profile.get("iommu")
    facts = load_facts(results)
    if not facts["pci"]:
        c.fail("guest", "no sysfs facts were saved (sysfs.tsv missing or empty)")
        return 1
    lspci = parse_lspci(read(results, "lspci.out") or "")
    check_device_mix(c, facts, iommu)

    counts = []
    for verb in ("pci", "usb", "serial"):
        items = load_json(c, results, verb)
        if items is None:
            continue
        if verb == "pci":
            full = load_json(c, results, "pci-all", key="pci")
            if full is not None:
                check_pci_default(c, check_pci(c, facts, lspci, full), items)
        elif verb == "usb":
            check_usb(c, facts, read(results, "lsusb.out") or "", items)
        else:
            check_serial(c, facts, items)
        counts.append(f"{len(items)} {verb}")

    # All classes at once is the three documents in one.
    each = {v: json.loads(read(results, f"{v}.out") or "null") for v in ("pci", "usb", "serial")}
    if all(isinstance(d, dict) for d in each.values()):
        combined = {v: d[v] for v, d in each.items()}
        if load_json(c, results, "all", key=None) != combined:
            c.fail("passthru list --json", "differs from list pci, list usb and list serial together")

    where = f"kernel {profile.get('release')}, iommu {iommu}"
    if c.failures:
        print(f"check-inventory: {c.failures} mismatches ({where})")
        return 1
    print(f"check-inventory: ok: {', '.join(counts)} devices agree with the kernel ({where})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
