#!/usr/bin/env python3
"""Judges the results of debian-boot (test-boot-1.sh, test-boot-2.sh)."""
import json
import sys
from pathlib import Path

res = Path(sys.argv[1])
failures = []


def read(name):
    try:
        return (res / name).read_text().strip()
    except OSError as e:
        failures.append(f"{name}: {e.strerror}")
        return ""


def expect(what, ok, detail=""):
    if not ok:
        failures.append(f"{what}{': ' + detail if detail else ''}")


def props(name):
    return dict(line.split("=", 1) for line in read(name).splitlines() if "=" in line)


expect("PID 1 is systemd", read("pid1") == "systemd", read("pid1"))
unit = props("phase-unit")
expect("the phase ran as testbed-phase.service",
       unit.get("Id") == "testbed-phase.service" and unit.get("ActiveState") == "activating",
       str(unit))
expect("multi-user.target active", read("multi-user") == "active", read("multi-user"))
expect("systemd-udevd active", read("udevd") == "active", read("udevd"))
udev = read("udev-nvme")
for serial in ("passthru-host", "passthru-guest"):
    expect(f"udev knows the NVMe disk {serial}", f"ID_SERIAL_SHORT={serial}" in udev, udev)

sysfs = dict(line.split() for line in read("nvme-sysfs").splitlines())
expect("two NVMe controllers in sysfs, each in an IOMMU group",
       len(sysfs) == 2 and all(g.isdigit() for g in sysfs.values()), str(sysfs))
expect("the two NVMe controllers in different groups", len(set(sysfs.values())) == 2, str(sysfs))

expect("passthru is /usr/local/bin/passthru (meson install)",
       read("passthru-path").endswith("/bin/passthru"), read("passthru-path"))
expect("passthru list --json exits 0", read("list.rc") == "0", read("list.err"))
try:
    listing = json.loads((res / "list.json").read_text())
    nvme = {d["address"]: d for d in listing["pci"]
            if (d["vendor_id"], d["device_id"]) == ("1b36", "0010")}
    expect("passthru list sees both NVMe controllers", set(nvme) == set(sysfs),
           f"{sorted(nvme)} vs sysfs {sorted(sysfs)}")
    for addr, d in nvme.items():
        expect(f"{addr}: iommu_group as in sysfs", str(d["iommu_group"]) == sysfs.get(addr),
               f"{d['iommu_group']} vs {sysfs.get(addr)}")
        expect(f"{addr}: driver nvme", d["driver"] == "nvme", str(d["driver"]))
except (OSError, ValueError, KeyError) as e:
    failures.append(f"list.json: {e}")

# check may find something to fail on this host (exit 1); it must run (not 2,
# not a crash) and its JSON must parse.
expect("passthru check runs", read("check.rc") in ("0", "1"), read("check.out")[-500:])
try:
    json.loads((res / "check.json").read_text())
except (OSError, ValueError) as e:
    failures.append(f"check.json: {e}")

apply = props("apply-unit")
expect("passthru-apply.service installed and loaded",
       apply.get("LoadState") == "loaded"
       and apply.get("FragmentPath", "").endswith("/systemd/system/passthru-apply.service"),
       str(apply))
# meson install puts the unit in place and enables nothing: the admin does
# (passthru-bind(1), "systemctl enable passthru-apply.service").
expect("passthru-apply.service not enabled by the install",
       read("apply-enabled") == "disabled" and apply.get("UnitFileState") == "disabled",
       f"{read('apply-enabled')} / {apply.get('UnitFileState')}")

b1, b2 = read("boot_id.1"), read("boot_id.2")
expect("phase 2 booted anew", b1 and b2 and b1 != b2, f"{b1} {b2}")
expect("phase 2 sees phase 1's marker", read("marker.2") == b1, read("marker.2"))
unit2 = props("phase-unit.2")
expect("phase 2 ran as testbed-phase.service", unit2.get("Id") == "testbed-phase.service",
       str(unit2))
expect("systemd-udevd active in phase 2", read("udevd.2") == "active", read("udevd.2"))
expect("phase 2 booted the kernel and initramfs of the disk's /vmlinuz, /initrd.img",
       read("boot-pair.disk") and read("boot-pair.disk") == read("boot-pair.booted"),
       f"{read('boot-pair.disk')} vs {read('boot-pair.booted')}")

for f in failures:
    print(f"check-boot: FAIL: {f}")
if not failures:
    print("check-boot: all good")
sys.exit(1 if failures else 0)
