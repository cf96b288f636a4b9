#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Host side of the host readiness suite: judges what test-host.sh recorded in a guest.

    check-host.py RESULTS_DIR

The truth is the guest's own state as test-host.sh dumped it (facts.tsv: ACPI tables, IOMMU
units and groups, remapped interrupts, module states, CPU vendor) and the profile run-guest.sh
booted (testbed.json: kernel series, emulated IOMMU, command line). Exit status 0 when every
expectation holds; each failure is printed.
"""

import json
import os
import sys

problems = []


def expect(cond, what):
    if not cond:
        problems.append(what)
    return cond


def load(results, name):
    try:
        with open(os.path.join(results, name + ".out")) as f:
            text = f.read()
        with open(os.path.join(results, name + ".rc")) as f:
            rc = int(f.read().strip())
    except (OSError, ValueError) as e:
        problems.append("%s: %s" % (name, e))
        return None, None
    return text, rc


def load_check(results, name):
    text, rc = load(results, name)
    if text is None:
        return {}, rc
    try:
        doc = json.loads(text)
    except ValueError as e:
        problems.append("%s: not JSON (%s): %r" % (name, e, text[:200]))
        return {}, rc
    return {c["id"] + ("@" + c["device"] if c["device"] else ""): c for c in doc["checks"]}, rc


def item(checks, name, key):
    c = checks.get(key)
    expect(c is not None, "%s: no %s check" % (name, key))
    return c or {"status": None, "seen": "", "fix": None, "details": []}


def status(checks, name, key, want, *texts, where="seen"):
    c = item(checks, name, key)
    ok = expect(c["status"] == want, "%s: %s is %s (%s; fix: %s), expected %s" %
                (name, key, c["status"], c["seen"], c["fix"], want))
    for t in texts:
        hay = c[where] or "" if where != "details" else "\n".join(c["details"])
        ok &= expect(t in hay, "%s: %s %s lacks %r: %r" % (name, key, where, t, hay))
    return c


def table_remapping(data):
    """The interrupt remapping the DMAR flags (bit 0) or the IVRS IVHD entries (the
    southbridge IOAPIC, special entry 48h variety 1, device 00:14.0) declare; None if neither."""
    if data[:4] == b"DMAR":
        return bool(data[37] & 1)
    if data[:4] != b"IVRS":
        return None
    off, end = 48, int.from_bytes(data[4:8], "little")
    while off + 4 <= end:
        typ, size = data[off], int.from_bytes(data[off + 2:off + 4], "little")
        if size < 4:
            break
        if typ in (0x10, 0x11, 0x40):
            e = off + (24 if typ == 0x10 else 40)
            while e + 4 <= off + size:
                t = data[e]
                n = 4 << (t >> 6) if t < 0x80 else (22 + data[e + 21] if t == 0xF0 else 0)
                if n == 0:
                    break
                if t == 0x48 and data[e + 7] == 1 and data[e + 5:e + 7] == b"\xa0\x00":
                    return True
                e += n
        off += size
    return False


def main():
    results = sys.argv[1]
    with open(os.path.join(results, "testbed.json")) as f:
        profile = json.load(f)
    facts = {}
    with open(os.path.join(results, "facts.tsv")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            facts[k] = v
    series, iommu = profile["kernel"], profile["iommu"]
    # Whether the emulated IOMMU (and so its DMAR/IVRS table) offers interrupt remapping.
    intremap = profile.get("intremap", "on") == "on"
    cmdline = facts["cmdline"].split()
    intel_off = "intel_iommu=off" in cmdline
    vendor = facts["vendor_id"]
    vendor_kind = {"GenuineIntel": "intel", "AuthenticAMD": "amd", "HygonGenuine": "amd"}.get(vendor)
    has_virqfd = series == "6.1"
    units = facts["iommu_units"].split()
    groups = int(facts["iommu_groups"])
    remapping = int(facts["ir_chips"]) > 0

    # Facts the profile implies: the emulated hardware must look the way the suite assumes.
    expect(("DMAR" in facts["acpi_tables"].split()) == (iommu == "intel"), "DMAR table vs profile")
    expect(("IVRS" in facts["acpi_tables"].split()) == (iommu == "amd"), "IVRS table vs profile")
    for sig in ("DMAR", "IVRS"):
        path = os.path.join(results, "acpi-" + sig)
        if os.path.exists(path):
            with open(path, "rb") as f:
                expect(table_remapping(f.read()) == intremap,
                       "%s table: interrupt remapping %s, profile intremap %s" %
                       (sig, not intremap, profile.get("intremap", "on")))
    expect(facts["virqfd_in_moddep"] == ("yes" if has_virqfd else "no"),
           "vfio_virqfd in the %s module index: %s" % (series, facts["virqfd_in_moddep"]))

    booted, rc = load_check(results, "check-booted")
    name = "check-booted"

    # CPU vendor: what /proc/cpuinfo says, a warning when it does not go with the IOMMU.
    mismatch = iommu in ("intel", "amd") and vendor_kind not in (None, iommu)
    status(booted, name, "cpu-vendor", "warn" if mismatch or vendor_kind is None else "ok", vendor)

    bios = "BIOS/UEFI setup"
    if iommu == "none":
        c = status(booted, name, "firmware-iommu", "fail", "no DMAR or IVRS table")
        expect(bios in (c["fix"] or ""), "%s: firmware-iommu fix %r lacks the BIOS fix" % (name, c["fix"]))
        c = status(booted, name, "kernel-iommu", "fail", "no IOMMU active")
        expect(bios in (c["fix"] or ""), "%s: kernel-iommu fix %r lacks the BIOS fix" % (name, c["fix"]))
        status(booted, name, "interrupt-remapping", "warn")
        expect(rc == 1, "%s: exit status %s, expected 1" % (name, rc))
    else:
        table = "DMAR" if iommu == "intel" else "IVRS"
        status(booted, name, "firmware-iommu", "ok", table)
        if intel_off:
            # An IOMMU the kernel was told to leave off: the grub fix, not the BIOS one.
            expect(groups == 0, "intel_iommu=off left %d groups" % groups)
            c = status(booted, name, "kernel-iommu", "fail", "did not enable it")
            fix = c["fix"] or ""
            for t in ('add "intel_iommu=on"', 'remove "intel_iommu=off"', "GRUB_CMDLINE_LINUX",
                      "/etc/default/grub"):
                expect(t in fix, "%s: kernel-iommu fix %r lacks %r" % (name, fix, t))
            expect(bios not in fix, "%s: kernel-iommu fix %r names the BIOS" % (name, fix))
            status(booted, name, "kernel-cmdline", "fail", "has intel_iommu=off")
        else:
            c = status(booted, name, "kernel-iommu", "ok", "%d IOMMU groups" % groups)
            for u in units:
                expect(u in c["seen"], "%s: kernel-iommu does not name %s" % (name, u))
            if intremap or remapping:
                status(booted, name, "kernel-cmdline", "ok", "iommu=pt")
            else:
                # The guest boots without the parameter: check asks for what setup adds.
                status(booted, name, "kernel-cmdline", "fail",
                       "lacks vfio_iommu_type1.allow_unsafe_interrupts=1")
            if remapping:
                status(booted, name, "interrupt-remapping",
                       "warn" if facts["unsafe_param"] == "Y" else "ok", "enabled")
            elif intremap:
                # The table promises remapping the kernel did not turn on: its fix, not setup's.
                status(booted, name, "interrupt-remapping",
                       "warn" if facts["unsafe_param"] == "Y" else "fail",
                       "the firmware's %s table says the platform supports it" % table)
            else:
                status(booted, name, "interrupt-remapping",
                       "warn" if facts["unsafe_param"] == "Y" else "fail", "not available")
            expect(intremap or not remapping,
                   "the kernel remaps interrupts although the IOMMU was started with intremap=off")

    # vfio modules: vfio_virqfd on 6.1 only; unloaded -> the modprobe fix; loaded again -> ok.
    c = status(booted, name, "vfio-modules", "ok")
    expect(("vfio_virqfd" in c["seen"]) == has_virqfd,
           "%s: vfio-modules %r vs vfio_virqfd on %s" % (name, c["seen"], series))
    expect(("vfio_virqfd: not needed" in "\n".join(c["details"])) == (not has_virqfd),
           "%s: vfio-modules details %r" % (name, c["details"]))
    unloaded, rc = load_check(results, "check-unloaded")
    gone = [m for m in ("vfio", "vfio_iommu_type1", "vfio_pci", "vfio_virqfd")
            if facts.get("unloaded.module." + m) == "absent" and (m != "vfio_virqfd" or has_virqfd)]
    expect(gone, "the vfio modules could not be unloaded: %r" % facts)
    c = status(unloaded, "check-unloaded", "vfio-modules", "fail", "not loaded: " + " ".join(gone))
    expect((c["fix"] or "").startswith("modprobe -a " + " ".join(gone)),
           "check-unloaded: vfio-modules fix %r" % c["fix"])
    expect(rc == 1, "check-unloaded: exit status %s" % rc)
    reloaded, rc = load_check(results, "check-reloaded")
    status(reloaded, "check-reloaded", "vfio-modules", "ok")

    # Devices.
    devices, rc = load_check(results, "check-devices")
    if iommu == "none" or intel_off:
        # No group anywhere: the IOMMU is off, in bind's words (host_ungrouped_reason()).
        c = status(devices, "check-devices", "device-group@0000:00:02.0", "fail",
                   "it is in no IOMMU group: the IOMMU is off or absent")
        expect("although the IOMMU is on" not in c["seen"] and
               (c["fix"] or "").startswith("enable the IOMMU first"),
               "check-devices: device-group@0000:00:02.0 %r" % c)
        status(devices, "check-devices", "device-driver@0000:00:02.0", "ok", "bound to e1000e")
    else:
        expect(facts.get("nic_driver") == "vfio-pci", "00:02.0 not on vfio-pci: %r" % facts.get("nic_driver"))
        status(devices, "check-devices", "device-driver@0000:00:02.0", "ok", "bound to vfio-pci")
        c = item(devices, "check-devices", "device-group@0000:00:02.0")
        expect(c["status"] != "fail" and "group %s" % facts["nic_group"] in c["seen"],
               "check-devices: device-group@0000:00:02.0 %r" % c)
        if facts.get("nic_reset_method"):
            status(devices, "check-devices", "device-reset@0000:00:02.0",
                   "ok" if set(facts["nic_reset_method"].split()) & {"flr", "bus", "pm"} - {"pm"} else "warn",
                   facts["nic_reset_method"])
        status(devices, "check-devices", "device-acs@0000:00:02.0", "ok", "on a root bus")
        c = item(devices, "check-devices", "device-acs@0000:01:00.0")
        expect(any(d.startswith("0000:00:07.0: ") for d in c["details"]),
               "check-devices: device-acs@0000:01:00.0 does not look at the root port: %r" % c)
        members = facts.get("vga_group_members", "").split()
        c = item(devices, "check-devices", "device-group@0000:01:00.0")
        for m in members:
            if m != "0000:01:00.0":
                expect(any(d.startswith(m) for d in c["details"]),
                       "check-devices: device-group@0000:01:00.0 does not list %s: %r" % (m, c))
        candidates, rc = load_check(results, "check-candidates")
        expect("device-driver@0000:00:02.0" in candidates,
               "check-candidates: the vfio-pci device is not a candidate")

    # setup on the real module index; the root is "/", update-grub runs without chroot.
    # allow_unsafe_interrupts only where remapping is missing: the table says so and the kernel
    # shows none. Without a table (iommu none) nothing says it is missing.
    kind = iommu if iommu != "none" else vendor_kind
    want = {"intel": "intel_iommu=on iommu=pt", "amd": "iommu=pt"}[kind]
    if iommu != "none" and not intremap and not remapping:
        want += " vfio_iommu_type1.allow_unsafe_interrupts=1"
    text, rc = load(results, "setup-dry")
    expect(rc == 0, "setup-dry: exit status %s" % rc)
    if text is not None:
        expect(('+GRUB_CMDLINE_LINUX="%s"' % want) in text, "setup-dry: diff %r" % text)
        expect(("+vfio_virqfd" in text) == has_virqfd, "setup-dry: vfio_virqfd on %s: %r" % (series, text))
    text, rc = load(results, "setup-apply")
    expect(rc == 0, "setup-apply: exit status %s: %s" % (rc, text))
    with open(os.path.join(results, "grub.after")) as f:
        expect('GRUB_CMDLINE_LINUX="%s"\n' % want in f.read(), "grub.after lacks the %s parameters" % kind)
    with open(os.path.join(results, "vfio.conf.after")) as f:
        mods = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    expect(mods == ["vfio", "vfio_iommu_type1", "vfio_pci"] + (["vfio_virqfd"] if has_virqfd else []),
           "vfio.conf on %s: %r" % (series, mods))
    with open(os.path.join(results, "invoked")) as f:
        expect(f.read() == "update-grub\n", "update-grub was not run exactly once")
    with open(os.path.join(results, "etc-default.ls")) as f:
        expect(any(l.startswith("grub.passthru-") for l in f), "no backup of /etc/default/grub")
    text, rc = load(results, "setup-again")
    expect(rc == 0 and text is not None and "Nothing to change." in text, "setup-again: %r" % text)

    for p in problems:
        print("check-host: %s" % p)
    print("check-host: %s, kernel %s, iommu %s, CPU %s: %d problem(s)" %
          (results, facts["release"], iommu + (" (intel_iommu=off)" if intel_off else ""), vendor,
           len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
