#!/usr/bin/env python3
"""Judges the results of debian-passthrud (debian-phase.sh)."""
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
    print(("ok: " if ok else "FAIL: ") + what + ("" if ok else ": " + detail))
    if not ok:
        failures.append(what)


def props(name):
    return dict(line.split("=", 1) for line in read(name).splitlines() if "=" in line)


def doc(name):
    try:
        return json.loads(read(name + ".json") or "null")
    except ValueError:
        return None


expect("passthrud.socket starts", read("socket-start.rc") == "0", read("socket-start.rc"))
expect("the service waits for its first connection", read("service-before") == "inactive",
       read("service-before"))
expect("the socket is open to everyone (srw-rw-rw-)", read("socket-ls").startswith("srw-rw-rw-"),
       read("socket-ls"))
expect("GET /v1/devices through the activated socket: 200", read("devices.code") == "200",
       read("devices.code") + " " + read("devices.json"))
devices = {d["address"]: d for d in (doc("devices") or {}).get("devices", [])}
expect("the NVMe to pass through is listed on nvme, state host",
       devices.get("0000:02:00.0", {}).get("driver") == "nvme" and
       devices.get("0000:02:00.0", {}).get("state") == "host", str(devices.get("0000:02:00.0")))
svc = props("service-after")
expect("passthrud.service is Type=notify and active (running)",
       svc.get("Type") == "notify" and svc.get("ActiveState") == "active" and
       svc.get("SubState") == "running", str(svc))
expect("its STATUS says the counts", "PCI functions" in svc.get("StatusText", ""), str(svc))
expect("the group passthru exists (sysusers.d)", read("group").startswith("passthru:"),
       read("group") + " / " + read("sysusers-file"))
expect("a member of passthru may read: 200", read("member.code") == "200",
       read("member.code") + " " + read("member.json"))
expect("a stranger gets 403 with error and hint", read("stranger.code") == "403" and
       "hint" in (doc("stranger") or {}), read("stranger.code") + " " + read("stranger.json"))
expect("the NVMe starts on nvme", read("driver-before") == "nvme", read("driver-before"))
alloc = doc("alloc") or {}
expect("allocate the NVMe by address: 201", read("alloc.code") == "201",
       read("alloc.code") + " " + read("alloc.json"))
expect("the allocation names the device and its group",
       alloc.get("devices") == ["0000:02:00.0"] and len(alloc.get("vfio", [])) == 1, str(alloc))
expect("bound to vfio-pci under the service's hardening", read("driver-allocated") == "vfio-pci",
       read("driver-allocated") + "\n" + read("journal.txt"))
one = doc("one") or {}
expect("the NVMe is allocated to vm-debian",
       one.get("state") == "allocated" and one.get("owner") == "vm-debian", str(one))
expect("the state database is in the StateDirectory", "passthrud.db" in read("state-dir"),
       read("state-dir"))
expect("the StateDirectory is 0700 root", read("state-dir-mode") == "700 root",
       read("state-dir-mode"))
expect("release to the host: 204", read("release.code") == "204",
       read("release.code") + " " + read("release.json"))
expect("the NVMe is back on nvme", read("driver-released") == "nvme", read("driver-released"))
metrics = read("metrics.json")
expect("metrics count the binding", "passthrud_bind_seconds_count 1" in metrics, metrics[-400:])
after = doc("after-restart") or {}
expect("after systemctl restart: 200 and no allocation left",
       read("after-restart.code") == "200" and after.get("allocations") == [], str(after))
stopped = props("service-stopped")
expect("systemctl stop ends it cleanly",
       stopped.get("ActiveState") == "inactive" and stopped.get("Result") == "success",
       str(stopped))
journal = read("journal.txt")
expect("no sanitizer, crash or seccomp kill in the journal",
       not any(w in journal for w in ("Sanitizer", "SIGSYS", "core-dump", "code=killed")),
       journal[-2000:])
if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
