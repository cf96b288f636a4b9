#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""passthrud against the fixture host tests/fixtures/daemon/host.json, over its unix socket.

    test-passthrud.py PASSTHRUD MKSYSFS FIXTURE [CASE...]

Each case gets a fresh fixture root, state directory and service. The fixture root has no
kernel behind it: devices on vfio-pci can be allocated, a binding of a host device fails after
planning (the fixture's driver links never move), so the guard refusal (422) is what is tested
of the takeover here; the binding itself is the guest test's.
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import stat
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

PASSTHRUD, MKSYSFS, FIXTURE = sys.argv[1:4]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Service:
    def __init__(self, tmp, extra=(), fixture=None):
        self.tmp = tmp
        self.root = os.path.join(tmp, "root")
        self.state = os.path.join(tmp, "state")
        self.sock = os.path.join(tmp, "passthrud.sock")
        self.log = os.path.join(tmp, "passthrud.log")
        self.extra = list(extra)
        if not os.path.exists(self.root):
            subprocess.run([sys.executable, MKSYSFS, fixture or FIXTURE, self.root], check=True,
                           stdout=subprocess.DEVNULL)
        self.proc = None

    def start(self):
        logf = open(self.log, "a")
        self.proc = subprocess.Popen([PASSTHRUD, "--sysroot", self.root, "--socket", self.sock,
                                      "--state-dir", self.state] + self.extra,
                                     stdout=logf, stderr=logf)
        logf.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("passthrud exited: " + open(self.log).read())
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                s.close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("passthrud did not listen within 20 s: " + open(self.log).read())

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                check(False, "passthrud did not stop within 20 s of signal %d" % sig)
        rc = self.proc.returncode if self.proc else 0
        self.proc = None
        return rc

    def request(self, method, path, body=None, raw=None):
        c = UnixHTTPConnection(self.sock)
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        headers = {"Content-Type": "application/json"} if data is not None else {}
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        try:
            doc = json.loads(text) if text else None
        except ValueError:
            doc = text
        return r.status, doc

    def devices(self):
        status, doc = self.request("GET", "/v1/devices")
        check(status == 200, "GET /v1/devices is 200, got %d" % status)
        return {d["address"]: d for d in doc["devices"]}


def is_error(doc):
    return (isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"]
            and isinstance(doc.get("hint"), str) and doc["hint"])


def case_list(s):
    devs = s.devices()
    check(len(devs) == 9, "9 PCI functions listed, got %d" % len(devs))
    d = devs.get("0000:00:06.0", {})
    check(d == {"address": "0000:00:06.0", "type": "NIC", "vendor_id": "8086",
                "device_id": "10fb", "driver": "vfio-pci", "iommu_group": 7, "numa_node": 0,
                "state": "free", "owner": None}, "00:06.0 as the contract shows it: %r" % d)
    check(devs["0000:00:02.0"]["state"] == "host", "00:02.0 (e1000e) is host")
    check(devs["0000:00:05.0"]["state"] == "allocated" and
          devs["0000:00:05.0"]["owner"] == "vm-running",
          "00:05.0, held by QEMU -name guest=vm-running, is adopted: %r" % devs["0000:00:05.0"])
    status, doc = s.request("GET", "/v1/devices/00:09.0")
    check(status == 200 and doc["address"] == "0000:00:09.0" and doc["numa_node"] == 1,
          "GET /v1/devices/00:09.0: %d %r" % (status, doc))
    for path in ("/v1/devices/0000:00:1f.0", "/v1/devices/zzz", "/v1/nothing"):
        status, doc = s.request("GET", path)
        check(status == 404 and is_error(doc), "GET %s is 404 with error and hint: %d %r"
              % (path, status, doc))
    status, doc = s.request("PUT", "/v1/devices")
    check(status == 405 and is_error(doc), "PUT /v1/devices is 405: %d %r" % (status, doc))
    status, doc = s.request("GET", "/v1/allocations")
    check(status == 200 and len(doc["allocations"]) == 1 and doc["allocations"][0]["adopted"]
          and doc["allocations"][0]["vfio"] == ["/dev/vfio/5"],
          "the adopted allocation is listed: %r" % doc)


def case_allocate(s):
    status, doc = s.request("POST", "/v1/allocations",
                            {"owner": "vm-a", "devices": ["00:06.1"]})
    check(status == 201, "allocate 00:06.1: 201, got %d %r" % (status, doc))
    check(doc.get("owner") == "vm-a" and doc.get("devices") == ["0000:00:06.0", "0000:00:06.1"]
          and doc.get("vfio") == ["/dev/vfio/7"] and isinstance(doc.get("id"), int),
          "the whole IOMMU group 7 is allocated: %r" % doc)
    first = doc.get("id")
    devs = s.devices()
    for a in ("0000:00:06.0", "0000:00:06.1"):
        check(devs[a]["state"] == "allocated" and devs[a]["owner"] == "vm-a",
              "%s allocated to vm-a: %r" % (a, devs[a]))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-b", "devices": ["00:06.0"]})
    check(status == 409 and is_error(doc) and "vm-a" in doc["error"],
          "a taken device is 409 naming its owner: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations",
                            {"owner": "vm-b", "type": "nic", "numa_node": 1})
    check(status == 201 and doc["devices"] == ["0000:00:09.0"],
          "selector NIC on node 1 gets 00:09.0: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-c", "type": "NIC"})
    check(status == 409 and is_error(doc), "no free NIC left: 409, got %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-c", "type": "GPU-VGA"})
    check(status == 409 and is_error(doc),
          "the GPU's group is not wholly free (audio on snd_hda_intel): 409, got %d %r"
          % (status, doc))
    status, doc = s.request("POST", "/v1/allocations",
                            {"owner": "vm-c", "vendor_id": "1b36", "device_id": "0010",
                             "count": 1})
    check(status == 201 and doc["devices"] == ["0000:00:0a.0"],
          "selector by vendor_id and device_id: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-d", "devices": ["00:02.0"]})
    check(status == 422 and is_error(doc) and doc.get("refusals") and
          any(r["kind"] == "guard" and "default route" in r["reason"] and
              r["address"] == "0000:00:02.0" for r in doc["refusals"]),
          "the NIC with the default route is refused with the guard's reason: %d %r"
          % (status, doc))
    check(s.devices()["0000:00:02.0"]["state"] == "host", "the refused NIC stays on the host")
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-d", "devices": ["00:1f.0"]})
    check(status == 404 and is_error(doc), "an unknown device is 404: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-d", "devices": ["00:00.0"]})
    check(status == 422 and is_error(doc), "a bridge is 422: %d %r" % (status, doc))
    status, doc = s.request("GET", "/v1/allocations/%d" % first)
    check(status == 200 and doc["owner"] == "vm-a", "GET one allocation: %d %r" % (status, doc))


def case_bad_bodies(s):
    bodies = [
        "", "not json", "[]", "{", '{"owner": "vm-a"}', '{"devices": ["00:06.0"]}',
        '{"owner": "", "type": "NIC"}', '{"owner": "vm a", "type": "NIC"}',
        '{"owner": "vm-a", "devices": []}', '{"owner": "vm-a", "devices": ["zz:00.0"]}',
        '{"owner": "vm-a", "devices": ["00:06.0", "0000:00:06.0"]}',
        '{"owner": "vm-a", "devices": ["00:06.0"], "type": "NIC"}',
        '{"owner": "vm-a", "type": "NIC", "count": 0}',
        '{"owner": "vm-a", "type": "NIC", "count": 1.5}',
        '{"owner": "vm-a", "type": "NIC", "numa-node": 1}',
        '{"owner": "vm-a", "type": "NIC", "numa_node": "1"}',
        '{"owner": "vm-a", "vendor_id": "80861"}', '{"owner": "vm-a", "device_id": "1521"}',
        '{"owner": "vm-a", "type": "NIC"} trailing', '{"owner": "vm-a", "type": "NIC\\u0000x"}',
        '{"owner": "vm-a", "count": 1}', '{"owner": ' + '[' * 100 + ']' * 100 + '}',
    ]
    for b in bodies:
        status, doc = s.request("POST", "/v1/allocations", raw=b)
        check(status == 400 and is_error(doc), "bad body %r is 400 with error and hint: %d %r"
              % (b[:60], status, doc))
    status, doc = s.request("POST", "/v1/allocations", raw="x" * 70000)
    check(status == 413 and is_error(doc), "a 70 kB body is 413: %d %r" % (status, doc))
    check(all(d["state"] != "allocated" or d["owner"] == "vm-running"
              for d in s.devices().values()), "no bad body allocated anything")


def case_release(s):
    status, doc = s.request("GET", "/v1/allocations")
    adopted = [a for a in doc["allocations"] if a["owner"] == "vm-running"][0]
    status, doc = s.request("DELETE", "/v1/allocations/%d" % adopted["id"])
    check(status == 409 and is_error(doc) and doc.get("holders") and
          doc["holders"][0].get("pid") == 4242 and
          doc["holders"][0].get("command") == "qemu-system-x86" and "4242" in doc["error"],
          "release of a held group is 409 naming pid and command: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-a", "type": "NVME"})
    check(status == 201, "allocate the NVMe: %d %r" % (status, doc))
    aid = doc["id"]
    status, doc = s.request("DELETE", "/v1/allocations/%d?to=elsewhere" % aid)
    check(status == 400 and is_error(doc), "?to= other than pool or host: 400, got %d" % status)
    # Back to the host: the fixture's driver links never move, so the unbind fails (and rolls
    # back): the allocation must stay.
    status, doc = s.request("DELETE", "/v1/allocations/%d?to=host" % aid)
    check(status == 500 and is_error(doc) and doc.get("details"),
          "a failed give-back is 500 with details: %d %r" % (status, doc))
    check(s.devices()["0000:00:0a.0"]["state"] == "allocated",
          "the allocation stays when the give-back failed")
    status, doc = s.request("DELETE", "/v1/allocations/%d?to=pool" % aid)
    check(status == 204 and doc is None, "release: 204 without a body, got %d %r" % (status, doc))
    check(s.devices()["0000:00:0a.0"]["state"] == "free", "the released NVMe is free again")
    status, doc = s.request("DELETE", "/v1/allocations/%d" % aid)
    check(status == 404 and is_error(doc), "released twice: 404, got %d %r" % (status, doc))
    for bad in ("abc", "0", "-1", "99999999999999999999"):
        status, doc = s.request("DELETE", "/v1/allocations/" + bad)
        check(status == 404 and is_error(doc), "DELETE of id %r: 404, got %d" % (bad, status))
    # Once QEMU is gone (its fd closed), the release goes through.
    os.unlink(os.path.join(s.root, "proc/4242/fd/7"))
    status, doc = s.request("DELETE", "/v1/allocations/%d" % adopted["id"])
    check(status == 204, "release after the holder closed /dev/vfio/5: 204, got %d %r"
          % (status, doc))


def run_as(user_args, s, method, path, body=None):
    """The request from another user: a child python3 under setpriv, status on stdout."""
    code = ("import http.client,socket,sys,json\n"
            "class C(http.client.HTTPConnection):\n"
            "    def connect(self):\n"
            "        self.sock=socket.socket(socket.AF_UNIX); self.sock.settimeout(10)\n"
            "        self.sock.connect(sys.argv[1])\n"
            "c=C('localhost'); c.request(sys.argv[2], sys.argv[3], body=sys.argv[4] or None)\n"
            "r=c.getresponse(); print(r.status); print(r.read().decode())\n")
    out = subprocess.run(["setpriv"] + user_args + [sys.executable, "-c", code, s.sock, method,
                                                    path, json.dumps(body) if body else ""],
                         capture_output=True, text=True, timeout=30)
    lines = out.stdout.splitlines()
    if out.returncode != 0 or not lines:
        return 0, out.stderr
    return int(lines[0]), json.loads("\n".join(lines[1:]) or "null")


def case_access(s):
    """Peer credentials: nobody (not in the group) gets 403 for everything; a member of the
    read group may read and gets 403 for changes; root may do everything."""
    if os.geteuid() != 0:
        # Without root there is no other user to be: the service's read group is then one the
        # test's user is not in, and the test's own requests are the stranger's.
        status, doc = s.request("GET", "/v1/devices")
        check(status == 403 and is_error(doc), "a non-member's GET is 403: %d %r" % (status, doc))
        status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-x", "type": "NIC"})
        check(status == 403 and is_error(doc), "a non-member's POST is 403: %d" % status)
        return
    os.chmod(s.tmp, 0o755)
    stranger = ["--reuid", "nobody", "--regid", "daemon", "--clear-groups"]
    member = ["--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
    member2 = ["--reuid", "nobody", "--regid", "daemon", "--groups", "nogroup"]
    status, doc = run_as(stranger, s, "GET", "/v1/devices")
    check(status == 403 and is_error(doc), "a stranger's GET is 403: %d %r" % (status, doc))
    status, doc = run_as(stranger, s, "POST", "/v1/allocations", {"owner": "x", "type": "NIC"})
    check(status == 403 and is_error(doc), "a stranger's POST is 403: %d %r" % (status, doc))
    status, doc = run_as(member, s, "GET", "/v1/devices")
    check(status == 200 and len(doc["devices"]) == 9,
          "a member (primary group) may read: %d" % status)
    status, doc = run_as(member2, s, "GET", "/v1/allocations")
    check(status == 200, "a member (supplementary group) may read: %d %r" % (status, doc))
    status, doc = run_as(member, s, "POST", "/v1/allocations", {"owner": "x", "type": "NIC"})
    check(status == 403 and is_error(doc), "a member's POST is 403: %d %r" % (status, doc))
    status, doc = run_as(member, s, "DELETE", "/v1/allocations/1")
    check(status == 403 and is_error(doc), "a member's DELETE is 403: %d %r" % (status, doc))
    check(s.devices()["0000:00:06.0"]["state"] == "free", "nothing was allocated by a member")


def case_race(s):
    """100 clients at once for the one free device of a selector: exactly one 201."""
    # Take all NICs but 00:09.0 first.
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-a", "devices": ["00:06.0"]})
    check(status == 201, "setup: 00:06.0 allocated")
    results = []
    lock = threading.Lock()
    barrier = threading.Barrier(100)

    def client(i):
        try:
            barrier.wait(30)
            st, d = s.request("POST", "/v1/allocations", {"owner": "racer-%d" % i, "type": "NIC"})
        except Exception as e:  # noqa: BLE001 - a failed client is a result too
            st, d = 0, str(e)
        with lock:
            results.append((st, d))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = [r[0] for r in results]
    check(len(results) == 100, "all 100 clients answered (%d)" % len(results))
    check(codes.count(201) == 1, "exactly one 201 among 100 racers: %r" %
          sorted(set(codes)))
    check(codes.count(409) == 99, "the other 99 got 409: %d" % codes.count(409))
    owners = [d["owner"] for d in s.devices().values() if d["state"] == "allocated"]
    check(sum(o.startswith("racer-") for o in owners) == 1, "one racer owns 00:09.0: %r" % owners)


def consistent(s, db_path):
    """Every allocation whole; every allocated device in exactly one allocation; the database
    intact."""
    status, doc = s.request("GET", "/v1/allocations")
    check(status == 200, "GET /v1/allocations after restart")
    devs = s.devices()
    seen = {}
    for a in doc["allocations"]:
        groups = {devs[x]["iommu_group"] for x in a["devices"]}
        whole = {x for x, d in devs.items() if d["iommu_group"] in groups}
        check(set(a["devices"]) == whole, "allocation %d holds whole groups: %r" % (a["id"], a))
        for x in a["devices"]:
            check(x not in seen, "%s in two allocations" % x)
            seen[x] = a["owner"]
    for x, d in devs.items():
        if d["state"] == "allocated":
            check(seen.get(x) == d["owner"], "%s allocated to %r, listed for %r"
                  % (x, d["owner"], seen.get(x)))
        check(d["driver"] is not None or x in ("0000:00:00.0",), "%s is not driverless" % x)
    db = sqlite3.connect(db_path)
    check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "the database is intact")
    orphans = db.execute("SELECT COUNT(*) FROM allocation_devices WHERE allocation NOT IN "
                         "(SELECT id FROM allocations)").fetchone()[0]
    empty = db.execute("SELECT COUNT(*) FROM allocations WHERE id NOT IN "
                       "(SELECT allocation FROM allocation_devices)").fetchone()[0]
    check(orphans == 0 and empty == 0, "no half allocation in the database (%d devices without "
          "allocation, %d allocations without devices)" % (orphans, empty))
    db.close()


def case_kill9(s):
    """kill -9 while clients allocate and release, restart, look: ten times."""
    rng = random.Random(10)
    db_path = os.path.join(s.state, "passthrud.db")
    made = [0]
    for round_ in range(10):
        stop = threading.Event()

        def churn(i):
            while not stop.is_set():
                try:
                    st, d = s.request("POST", "/v1/allocations",
                                      {"owner": "churn-%d" % i, "type": rng.choice(
                                          ["NIC", "NVME"])})
                    if st == 201:
                        made[0] += 1
                        s.request("DELETE", "/v1/allocations/%d" % d["id"])
                except Exception:  # noqa: BLE001 - the service is killed under them
                    return

        threads = [threading.Thread(target=churn, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        # At least one allocation in each round before the kill, however loaded the machine.
        before, deadline = made[0], time.monotonic() + 20
        while made[0] == before and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.3))
        s.stop(signal.SIGKILL)
        stop.set()
        for t in threads:
            t.join(30)
        s.start()
        consistent(s, db_path)
        # What the killed round left allocated goes back, so the next round has devices.
        for a in s.request("GET", "/v1/allocations")[1]["allocations"]:
            if a["owner"].startswith("churn-"):
                st, _ = s.request("DELETE", "/v1/allocations/%d" % a["id"])
                check(st == 204, "release of %r after the restart: %d" % (a, st))
    check(made[0] >= 10, "the clients made allocations between the kills (%d)" % made[0])
    check(s.stop() == 0, "passthrud exits 0 on SIGTERM")


def case_restart(s):
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-a", "type": "NIC"})
    check(status == 201, "allocate before restart")
    before = s.request("GET", "/v1/allocations")[1]
    check(s.stop() == 0, "passthrud exits 0 on SIGTERM")
    check(not os.path.exists(s.sock), "the socket is removed on exit")
    s.start()
    after = s.request("GET", "/v1/allocations")[1]
    check(before == after, "the allocations survive a restart: %r / %r" % (before, after))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-b", "type": "NIC"})
    check(status == 201 and doc["id"] > max(a["id"] for a in before["allocations"]),
          "ids are never reused: %r" % doc)


def open_events(s):
    """GET /v1/events on a socket of its own: the socket and what came up to the headers' end."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(10)
    c.connect(s.sock)
    c.sendall(b"GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += c.recv(4096)
    return c, got


def case_events(s):
    c, got = open_events(s)
    check(got.startswith(b"HTTP/1.1 200") and b"text/event-stream" in got,
          "the stream's headers: %r" % got[:200])
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-e", "type": "NVME"})
    check(status == 201, "allocate while streaming")
    status, _ = s.request("DELETE", "/v1/allocations/%d" % doc["id"])
    deadline = time.monotonic() + 5
    while got.count(b"event: allocation") < 2 and time.monotonic() < deadline:
        got += c.recv(4096)
    c.close()
    check(b'"owner":"vm-e"' in got and b'"released":true' in got and
          got.count(b"event: allocation") == 2,
          "the stream tells the allocation and its release: %r" % got[-600:])


def case_metrics(s):
    s.request("POST", "/v1/allocations", {"owner": "vm-d", "devices": ["00:02.0"]})
    c = UnixHTTPConnection(s.sock)
    c.request("GET", "/metrics")
    r = c.getresponse()
    text = r.read().decode()
    check(r.status == 200 and r.getheader("Content-Type").startswith("text/plain"),
          "GET /metrics is text/plain")
    for line in ('passthrud_devices{state="free",type="NIC"} 3',
                 'passthrud_devices{state="allocated",type="NIC"} 1',
                 "passthrud_allocations 1", "passthrud_refusals_total 1",
                 'passthrud_request_duration_seconds_bucket{le="+Inf"} 1',
                 'passthrud_requests_total{code="4xx"} 1'):
        check(line + "\n" in text, "metrics hold %r" % line)


def case_usage(s):
    out = subprocess.run([PASSTHRUD, "--help"], capture_output=True, text=True)
    check(out.returncode == 0 and "--socket PATH" in out.stdout and "--state-dir" in out.stdout,
          "passthrud --help")
    out = subprocess.run([PASSTHRUD, "--bogus"], capture_output=True, text=True)
    check(out.returncode == 2 and "Usage" in out.stderr, "an unknown option exits 2")
    out = subprocess.run([PASSTHRUD, "--sysroot", s.root, "--socket", s.sock + "-w",
                          "--write-group", "no-such-group-here"], capture_output=True, text=True,
                         timeout=30)
    check(out.returncode == 1 and "--write-group: no group no-such-group-here" in out.stderr,
          "--write-group is an option, and an unknown group is refused: %d %r"
          % (out.returncode, out.stderr))
    # A second service on the same socket refuses to start.
    out = subprocess.run([PASSTHRUD, "--sysroot", s.root, "--socket", s.sock, "--state-dir",
                          os.path.join(s.tmp, "state2")], capture_output=True, text=True,
                         timeout=30)
    check(out.returncode == 1 and "another passthrud" in out.stderr,
          "a second passthrud on the socket exits 1: %r" % out.stderr)


def passthru(s, *args):
    out = subprocess.run([os.environ["PASSTHRU"]] + list(args[:1]) + ["--socket", s.sock] +
                         list(args[1:]), capture_output=True, text=True, timeout=60)
    return out.returncode, out.stdout, out.stderr


def case_cli(s):
    """passthru allocate, release, allocations against the service."""
    rc, out, err = passthru(s, "allocations")
    check(rc == 0 and out.splitlines()[0].split() == ["ID", "OWNER", "DEVICES", "VFIO"] and
          "vm-running" in out and "0000:00:05.0 /dev/vfio/5" in out,
          "passthru allocations: %d %r %r" % (rc, out, err))
    rc, out, err = passthru(s, "allocate", "--owner", "vm-a", "--type", "NIC", "--numa-node", "1")
    check(rc == 0 and out.split()[1:] == ["vm-a", "0000:00:09.0", "/dev/vfio/8"],
          "passthru allocate --type NIC --numa-node 1: %d %r %r" % (rc, out, err))
    aid = out.split()[0] if out else "0"
    rc, out, err = passthru(s, "allocate", "--owner", "vm-b", "--type", "NIC", "--numa-node", "1")
    check(rc == 1 and err.startswith("passthru: 0 free devices match") and "hint: " in err,
          "none left: exit 1 with the error and hint: %d %r" % (rc, err))
    rc, out, err = passthru(s, "allocate", "--owner", "vm-d", "00:02.0")
    check(rc == 1 and "0000:00:02.0: eth0 carries the default route" in err and
          "hint: ip route del default dev eth0" in err,
          "a guard's refusal, with its reasons and hint: %d %r" % (rc, err))
    rc, out, err = passthru(s, "allocate", "--json", "--owner", "vm-b", "0000:00:06.0")
    doc = json.loads(out) if rc == 0 else {}
    check(doc.get("devices") == ["0000:00:06.0", "0000:00:06.1"],
          "passthru allocate --json ADDRESS: %d %r %r" % (rc, out, err))
    rc, out, err = passthru(s, "release", aid)
    check(rc == 0 and out == "released allocation %s\n" % aid, "passthru release: %d %r %r"
          % (rc, out, err))
    rc, out, err = passthru(s, "release", "1")
    check(rc == 1 and err.count("/dev/vfio/5 is open by pid 4242 (qemu-system-x86)") == 1,
          "release of the held allocation names the holder, once: %d %r" % (rc, err))
    rc, out, err = passthru(s, "allocate", "--type", "NIC")
    check(rc == 2 and "--owner" in err, "allocate without --owner: usage, exit 2: %d %r"
          % (rc, err))
    rc, out, err = passthru(s, "release", "x1")
    check(rc == 2, "release of a malformed id: exit 2: %d %r" % (rc, err))
    out = subprocess.run([os.environ["PASSTHRU"], "allocations", "--socket",
                          os.path.join(s.tmp, "nothing.sock")], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 1 and "cannot reach passthrud" in out.stderr,
          "no service: exit 1 saying so: %d %r" % (out.returncode, out.stderr))


def takeover(s, sock, *args):
    env = dict(os.environ, PASSTHRU_SYSROOT=s.root, PASSTHRUD_SOCKET=sock)
    out = subprocess.run([os.environ["PASSTHRU"]] + list(args), capture_output=True, text=True,
                         timeout=60, env=env)
    return out.returncode, out.stdout, out.stderr


def case_takeover(s):
    """bind, unbind and reset of a device the service allocated: refused, naming the owner."""
    status, doc = s.request("POST", "/v1/allocations",
                            {"owner": "vm-t", "devices": ["0000:00:06.0"]})
    check(status == 201, "allocate 00:06.0 to vm-t: %s %r" % (status, doc))
    aid = doc.get("id") if status == 201 else 0
    want = ("passthru: 0000:00:06.0 is allocated to vm-t by passthrud (allocation %s)\n"
            "hint: passthru release %s, then passthru " % (aid, aid))
    for args in (["unbind", "00:06.0"], ["unbind", "--force", "00:06.0"],
                 ["unbind", "--dry-run", "0000:00:06.0"], ["reset", "00:06.0"],
                 ["bind", "--force", "00:06.0"]):
        rc, out, err = takeover(s, s.sock, *args)
        check(rc == 1 and err.startswith(want) and out == "",
              "passthru %s: refused, exit 1: %d %r %r" % (" ".join(args), rc, out, err))
    # The group's other function comes with --group: it is named too.
    rc, out, err = takeover(s, s.sock, "unbind", "--group", "--dry-run", "00:06.1")
    check(rc == 1 and "0000:00:06.1 is allocated to vm-t" in err,
          "unbind --group of the other function: refused: %d %r" % (rc, err))
    # The adopted VM's device too.
    rc, out, err = takeover(s, s.sock, "unbind", "00:05.0")
    check(rc == 1 and "0000:00:05.0 is allocated to vm-running by passthrud" in err,
          "unbind of the adopted VM's device: refused: %d %r" % (rc, err))
    # Devices the service did not allocate go on as before (a dry run, to leave the tree).
    rc, out, err = takeover(s, s.sock, "unbind", "--dry-run", "00:09.0")
    check(rc == 0 and "allocated" not in err, "unbind --dry-run of a free device: %d %r %r"
          % (rc, out, err))
    # No service on the socket: not asked.
    rc, out, err = takeover(s, os.path.join(s.tmp, "nothing.sock"), "unbind", "--dry-run",
                            "00:06.0")
    check(rc == 0 and "passthrud" not in err, "no service: unbind --dry-run goes on: %d %r %r"
          % (rc, out, err))
    # Released: accepted.
    status, _ = s.request("DELETE", "/v1/allocations/%s" % aid)
    check(status == 204, "release: %s" % status)
    rc, out, err = takeover(s, s.sock, "unbind", "--dry-run", "00:06.0")
    check(rc == 0 and "passthrud" not in err, "after the release: unbind --dry-run: %d %r %r"
          % (rc, out, err))


def case_systemd(s):
    """Socket activation (systemd-socket-activate passes the socket as systemd does) and
    Type=notify: READY=1, then a STATUS line with the counts."""
    notify_path = os.path.join(s.tmp, "notify")
    act = os.path.join(s.tmp, "activated.sock")
    own = os.path.join(s.tmp, "own.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    ns.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path)
    with open(os.path.join(s.tmp, "activated.log"), "w") as log:
        proc = subprocess.Popen(["systemd-socket-activate", "-E", "NOTIFY_SOCKET", "-l", act,
                                 PASSTHRUD, "--sysroot", s.root, "--state-dir",
                                 os.path.join(s.tmp, "state-activated"), "--socket", own],
                                env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while not os.path.exists(act) and time.monotonic() < deadline:
            time.sleep(0.05)
        # systemd-socket-activate starts the service on the first connection, as systemd does.
        client = threading.Thread(target=lambda: results.append(
            Service.request(type("S", (), {"sock": act})(), "GET", "/v1/devices")))
        results = []
        client.start()
        messages = [ns.recv(4096).decode(), ns.recv(4096).decode()]
        client.join(30)
        check(messages[0] == "READY=1", "READY=1 first: %r" % messages)
        check(messages[1] == "STATUS=9 PCI functions, 0 USB devices, 0 serial ports: 5 free, "
              "1 allocated in 1 allocations", "a STATUS line with the counts: %r" % messages)
        check(results and results[0][0] == 200 and len(results[0][1]["devices"]) == 9,
              "the first connection is served on systemd's socket: %r" % results[:1])
        check(not os.path.exists(own), "no socket of its own under socket activation")
    finally:
        proc.terminate()
        check(proc.wait(20) == 0, "the activated passthrud exits 0 on SIGTERM")
        ns.close()


def notify_messages(s, n):
    """The first n messages of a second passthrud on s's root (a state and a socket of its
    own) to NOTIFY_SOCKET, a datagram socket of the test's."""
    notify_path = os.path.join(s.tmp, "notify-" + str(n))
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    ns.settimeout(20)
    with open(os.path.join(s.tmp, "notified.log"), "w") as log:
        proc = subprocess.Popen([PASSTHRUD, "--sysroot", s.root, "--state-dir",
                                 os.path.join(s.tmp, "state-notified"), "--socket",
                                 os.path.join(s.tmp, "notified.sock")] + s.extra,
                                env=dict(os.environ, NOTIFY_SOCKET=notify_path),
                                stdout=log, stderr=log)
    try:
        return [ns.recv(4096).decode() for _ in range(n)]
    except socket.timeout:
        return []
    finally:
        proc.terminate()
        check(proc.wait(20) == 0, "the notifying passthrud exits 0 on SIGTERM")
        ns.close()


def case_slow_bind(s):
    """A bind that takes seconds (the fixture's snd_hda_intel/unbind is a FIFO nobody reads:
    the write blocks until --bind-timeout) runs in the worker: reads, the event stream and
    allocations of other devices are answered meanwhile, its devices are reserved."""
    c, got = open_events(s)
    slow = {}

    def bind():
        t0 = time.monotonic()
        slow["status"], slow["doc"] = s.request("POST", "/v1/allocations",
                                                {"owner": "vm-slow", "devices": ["00:0b.0"]})
        slow["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=bind)
    t.start()
    # The reservation is visible once the request is in: then the bind is in the worker.
    deadline, dev = time.monotonic() + 10, {}
    while time.monotonic() < deadline and not dev.get("pending"):
        dev = s.devices()["0000:00:0b.0"]
        time.sleep(0.05)
    check(dev.get("pending") is True and dev.get("owner") == "vm-slow" and
          dev.get("state") == "allocated", "00:0b.0 is reserved while it binds: %r" % dev)
    t0 = time.monotonic()
    devs = s.devices()
    check(time.monotonic() - t0 < 1.5 and len(devs) == 9 and "status" not in slow,
          "GET /v1/devices answers while the bind is pending (%.2f s)" % (time.monotonic() - t0))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-b", "devices": ["00:0b.1"]})
    check(status == 409 and is_error(doc) and "vm-slow" in doc["error"],
          "the group being bound is taken: 409 naming the owner: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-c", "type": "NVME"})
    check(status == 201 and doc["devices"] == ["0000:00:0a.0"] and "status" not in slow,
          "a free device is allocated while the bind is pending: %d %r" % (status, doc))
    status, doc = s.request("GET", "/v1/allocations")
    check(status == 200 and all(a["owner"] != "vm-slow" for a in doc["allocations"]),
          "a reservation is not an allocation yet: %r" % doc)
    status, _ = s.request("DELETE", "/v1/allocations/%d" % doc["allocations"][-1]["id"])
    check(status == 204 and "status" not in slow, "a release while the bind is pending: %d"
          % status)
    t.join(60)
    check(slow.get("seconds", 0) >= 2.5, "the bind was slow (%.2f s)" % slow.get("seconds", 0))
    check(slow.get("status") == 500 and is_error(slow.get("doc")),
          "the bind failed (the unbind timed out) and was answered: %r" % slow)
    dev = s.devices()["0000:00:0b.0"]
    check(dev["state"] == "free" and dev["owner"] is None and "pending" not in dev,
          "the failed reservation is given up: %r" % dev)
    deadline = time.monotonic() + 5
    while got.count(b"event: allocation") < 2 and time.monotonic() < deadline:
        got += c.recv(4096)
    c.close()
    check(b'"owner":"vm-c"' in got and b'"released":true' in got,
          "the stream went on while the bind was pending: %r" % got[-600:])
    # Stopped while a bind runs: the bind ends (its writes have a timeout), the waiting client
    # gets its answer, the service exits 0.
    t = threading.Thread(target=bind)
    slow.clear()
    t.start()
    deadline, dev = time.monotonic() + 10, {}
    while time.monotonic() < deadline and not dev.get("pending"):
        dev = s.devices()["0000:00:0b.0"]
        time.sleep(0.05)
    check(dev.get("pending") is True, "a second slow bind is pending: %r" % dev)
    check(s.stop() == 0, "passthrud exits 0 on SIGTERM while a bind runs")
    t.join(30)
    check(slow.get("status") in (500, 503) and is_error(slow.get("doc")),
          "the waiting request was answered before the service went: %r" % slow)
    s.start()
    status, doc = s.request("GET", "/v1/allocations")
    check(status == 200 and all(a["owner"] != "vm-slow" for a in doc["allocations"]),
          "no half allocation after the restart: %r" % doc)


def prepare_slow_bind(root):
    unbind = os.path.join(root, "sys/bus/pci/drivers/snd_hda_intel/unbind")
    os.unlink(unbind)
    os.mkfifo(unbind)
    return ["--bind-timeout", "3000"]


def case_usb_serial(s):
    """USB devices and serial ports (tests/fixtures/daemon/usb-serial.json): listed with what
    passthru list --json shows of them, allocated by address or by type as a reservation (no
    driver change), 409 when taken, hubs and the console refused, released, kept on restart."""
    devs = s.devices()
    env = dict(os.environ, PASSTHRU_SYSROOT=s.root)
    out = subprocess.run([os.environ["PASSTHRU"], "list", "--json"], capture_output=True,
                         text=True, timeout=60, env=env)
    listed = json.loads(out.stdout)
    check([a for a in devs if not a.startswith("0000:")] ==
          [u["port"] for u in listed["usb"]] + [t["path"] for t in listed["serial"]],
          "every USB device and serial port of passthru list, in its order: %r" % list(devs))
    for u in listed["usb"]:
        d = devs.get(u["port"], {})
        check(all(d.get(k) == v for k, v in u.items()) and d["type"] == "USB" and
              d["vendor_id"] == u["vendor_id"] and d["device_id"] == u["product_id"] and
              d["iommu_group"] is None and d["numa_node"] is None,
              "USB %s has the list's fields: %r / %r" % (u["port"], d, u))
    for t in listed["serial"]:
        d = devs.get(t["path"], {})
        check(all(d.get(k) == v for k, v in t.items()) and d["type"] == "serial",
              "serial %s has the list's fields: %r / %r" % (t["path"], d, t))
    check(devs["1-2"]["state"] == "free" and devs["1-2"]["driver"] == "usbhid" and
          devs["1-2"]["owner"] is None, "the keyboard 1-2 is free: %r" % devs["1-2"])
    check(devs["usb1"]["state"] == "host" and devs["1-3"]["state"] == "host",
          "hubs stay the host's")
    check(devs["/dev/ttyS0"]["state"] == "host" and devs["/dev/ttyS1"]["state"] == "free" and
          "/dev/ttyS2" not in devs, "the console is the host's, ttyS1 free, no phantom ttyS2")
    for path, want in (("/v1/devices/1-3.2", "1-3.2"), ("/v1/devices/ttyS1", "/dev/ttyS1"),
                       ("/v1/devices//dev/ttyUSB0", "/dev/ttyUSB0")):
        status, doc = s.request("GET", path)
        check(status == 200 and doc["address"] == want, "GET %s: %d %r" % (path, status, doc))
    for path in ("/v1/devices/1-9", "/v1/devices/ttyS2", "/v1/devices/1-0"):
        status, doc = s.request("GET", path)
        check(status == 404 and is_error(doc), "GET %s is 404: %d %r" % (path, status, doc))

    status, doc = s.request("POST", "/v1/allocations",
                            {"owner": "vm-u", "devices": ["ttyS1", "1-3.2"]})
    check(status == 201 and doc["devices"] == ["1-3.2", "/dev/ttyS1"] and doc["vfio"] == [],
          "allocate a USB device and a serial port by address: %d %r" % (status, doc))
    first = doc.get("id", 0)
    devs = s.devices()
    check(devs["1-3.2"]["state"] == "allocated" and devs["1-3.2"]["owner"] == "vm-u" and
          devs["1-3.2"]["allocation"] == first and devs["1-3.2"]["driver"] == "ftdi_sio",
          "1-3.2 is vm-u's, its driver untouched: %r" % devs["1-3.2"])
    for dev in ("1-3.2", "/dev/ttyS1"):
        status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-v", "devices": [dev]})
        check(status == 409 and is_error(doc) and "vm-u" in doc["error"],
              "%s taken: 409 naming vm-u: %d %r" % (dev, status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-v", "devices": ["ttyS0"]})
    check(status == 422 and is_error(doc) and doc.get("refusals") and
          doc["refusals"][0]["kind"] == "guard" and "console" in doc["refusals"][0]["reason"],
          "the console is refused by its guard: %d %r" % (status, doc))
    for hub in ("usb1", "1-3"):
        status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-v", "devices": [hub]})
        check(status == 422 and is_error(doc) and "hub" in doc["error"],
              "hub %s: 422: %d %r" % (hub, status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-v", "devices": ["ttyS2"]})
    check(status == 404 and is_error(doc), "the phantom ttyS2: 404: %d %r" % (status, doc))
    # A selector by type: the one free serial port left.
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-w", "type": "serial"})
    check(status == 201 and doc["devices"] == ["/dev/ttyUSB0"],
          "type serial gets ttyUSB0: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-x", "type": "serial"})
    check(status == 409 and is_error(doc), "no serial port left: 409: %d %r" % (status, doc))
    # A PCI function and a USB device in one allocation.
    status, doc = s.request("POST", "/v1/allocations",
                            {"owner": "vm-y", "devices": ["1-2", "00:06.0"]})
    check(status == 201 and doc["devices"] == ["0000:00:06.0", "1-2"] and
          doc["vfio"] == ["/dev/vfio/7"], "PCI and USB together: %d %r" % (status, doc))
    # Restart: the allocations come back from the database.
    before = s.request("GET", "/v1/allocations")[1]
    check(s.stop() == 0, "passthrud exits 0 on SIGTERM")
    s.start()
    after = s.request("GET", "/v1/allocations")[1]
    check(before == after and len(after["allocations"]) == 3,
          "USB and serial allocations survive a restart: %r / %r" % (before, after))
    # A process holding the serial port and one holding the USB device's node: 409 naming both.
    usb = s.devices()["1-3.2"]
    node = "/dev/bus/usb/%03d/%03d" % (usb["busnum"], usb["devnum"])
    holders = {5001: ("minicom", "/dev/ttyS1"), 5002: ("qemu-system-x86", node),
               5003: ("getty", "/dev/ttyS10")}
    for pid, (comm, path) in holders.items():
        os.makedirs(os.path.join(s.root, "proc/%d/fd" % pid))
        with open(os.path.join(s.root, "proc/%d/comm" % pid), "w") as f:
            f.write(comm + "\n")
        os.symlink(path, os.path.join(s.root, "proc/%d/fd/4" % pid))
    status, doc = s.request("DELETE", "/v1/allocations/%d?to=host" % first)
    got = sorted((h.get("pid"), h.get("command"), h.get("path")) for h in doc.get("holders", []))
    check(status == 409 and is_error(doc) and "in use" in doc["error"] and
          got == [(5001, "minicom", "/dev/ttyS1"), (5002, "qemu-system-x86", node)],
          "release of a held port and USB device: 409 naming both: %d %r" % (status, doc))
    check(s.devices()["/dev/ttyS1"]["state"] == "allocated", "a refused release keeps them")
    for pid in holders:
        os.unlink(os.path.join(s.root, "proc/%d/fd/4" % pid))
    status, doc = s.request("DELETE", "/v1/allocations/%d?to=host" % first)
    check(status == 204, "release (to the host: nothing to rebind): %d %r" % (status, doc))
    devs = s.devices()
    check(devs["1-3.2"]["state"] == "free" and devs["/dev/ttyS1"]["state"] == "free" and
          devs["1-3.2"]["owner"] is None, "released: free again")
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-z", "devices": ["ttyS1"]})
    check(status == 201, "a released port can be allocated again: %d %r" % (status, doc))
    c = UnixHTTPConnection(s.sock)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    # sd_notify's STATUS counts the USB devices and serial ports too (a second service on
    # the root, which has no allocation of its own: its own database is empty).
    devs = s.devices()
    messages = notify_messages(s, 2)
    check(messages == ["READY=1", "STATUS=3 PCI functions, 4 USB devices, 3 serial ports: "
                       "5 free, 0 allocated in 0 allocations"] and
          sum(d["type"] == "USB" for d in devs.values()) == 4 and
          sum(d["type"] == "serial" for d in devs.values()) == 3,
          "STATUS counts the USB devices and serial ports: %r" % messages)
    for line in ('passthrud_devices{state="host",type="USB"} 2',
                 'passthrud_devices{state="allocated",type="USB"} 1',
                 'passthrud_devices{state="free",type="USB"} 1',
                 'passthrud_devices{state="allocated",type="serial"} 2',
                 'passthrud_devices{state="host",type="serial"} 1'):
        check(line + "\n" in text, "metrics hold %r" % line)


def case_groups(s):
    """IOMMU groups as the library's group object reads them, the one passthru bind, vm and
    check use (tests/fixtures/daemon/groups.json): a PCI bridge, the IOMMU and an ISA bridge
    share groups with NICs. They are no endpoints: they stay with the host, an allocation never
    holds them and they never keep a group from being free."""
    status, doc = s.request("GET", "/v1/allocations")
    got = doc.get("allocations", []) if status == 200 else []
    check(len(got) == 1 and got[0]["owner"] == "vm-pch" and got[0]["adopted"] and
          got[0]["devices"] == ["0000:00:1f.6"] and got[0]["vfio"] == ["/dev/vfio/4"],
          "the held group 4 is adopted without its ISA bridge: %d %r" % (status, doc))
    devs = s.devices()
    check(devs["0000:00:1f.0"]["state"] == "host" and devs["0000:00:1f.0"]["owner"] is None,
          "the ISA bridge on lpc_ich is the host's, not a lost device: %r"
          % devs["0000:00:1f.0"])
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-a", "devices": ["00:14.0"]})
    check(status == 201 and doc["devices"] == ["0000:00:14.0"] and
          doc["vfio"] == ["/dev/vfio/3"],
          "00:14.0 is allocated without the IOMMU function of its group: %d %r" % (status, doc))
    check(s.devices()["0000:00:14.2"]["state"] == "host", "the IOMMU function stays the host's")
    if status == 201:
        status, _ = s.request("DELETE", "/v1/allocations/%d" % doc["id"])
        check(status == 204, "release of 00:14.0: %d" % status)
    # A selector: groups 3 (the IOMMU function driverless) and 1 (its bridge on pcieport) are
    # wholly free, as their endpoints are all on vfio-pci.
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-b", "type": "NIC",
                                                        "count": 2})
    check(status == 201 and doc["devices"] == ["0000:00:14.0", "0000:01:00.0"] and
          doc["vfio"] == ["/dev/vfio/1", "/dev/vfio/3"],
          "two NICs by selector, groups 3 and 1, their bridges left out: %d %r" % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-c", "type": "NIC"})
    check(status == 409 and is_error(doc), "no free NIC left: %d %r" % (status, doc))
    for addr in ("00:00.0", "00:01.0", "00:14.2", "00:1f.0"):
        status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-c", "devices": [addr]})
        check(status == 422 and is_error(doc) and "bridge" in doc["error"] + "".join(
                  r["kind"] for r in doc.get("refusals", [])),
              "%s, no endpoint, is refused: %d %r" % (addr, status, doc))
    # passthru bind --group, on the same root, takes the same functions and keeps the same.
    env = dict(os.environ, PASSTHRU_SYSROOT=s.root)
    for addr, want in (("00:14.0", ["0000:00:14.0"]), ("00:1f.6", ["0000:00:1f.6"]),
                       ("01:00.0", ["0000:01:00.0"])):
        out = subprocess.run([os.environ["PASSTHRU"], "bind", "--group", "--dry-run", addr],
                             capture_output=True, text=True, timeout=60, env=env)
        rows = [r for r in (ln.split() for ln in out.stdout.splitlines()[1:])
                if len(r) >= 4 and r[1].isdigit()]
        taken = [r[0] for r in rows if "keep" not in r]
        check(out.returncode == 0 and taken == want and len(rows) == 2,
              "passthru bind --group --dry-run %s takes %r as the service does: %d %r %r"
              % (addr, want, out.returncode, out.stdout, out.stderr))
    # A Kubernetes resource's device is the same set: the IOMMU function of group 3 and the
    # ISA bridge of group 4 are neither in its addresses nor make it Unhealthy.
    conf = os.path.join(s.root, "etc/passthru/kubernetes.d")
    os.makedirs(conf, exist_ok=True)
    with open(os.path.join(conf, "nic.conf"), "w") as f:
        f.write("passthru.io/nic type=NIC\n")
    out = subprocess.run([os.environ["PASSTHRU"], "kubernetes", "--json", "--socket",
                          os.path.join(s.tmp, "none.sock")],
                         capture_output=True, text=True, timeout=60, env=env)
    devs = {}
    if out.returncode == 0:
        for d in json.loads(out.stdout)["resources"][0]["devices"]:
            devs[d["iommu_group"]] = (d["addresses"], d["health"])
    check(devs == {3: (["0000:00:14.0"], "Healthy"), 4: (["0000:00:1f.6"], "Healthy"),
                   1: (["0000:01:00.0"], "Healthy")},
          "passthru kubernetes gives each group's endpoints only: %d %r %r"
          % (out.returncode, out.stdout, out.stderr))


# Cases run against another fixture host than host.json.
FIXTURES = {"usb-serial": "usb-serial.json", "groups": "groups.json"}

# Cases that change the fixture root first: the function returns extra options.
PREPARE = {"slow-bind": prepare_slow_bind}

CASES = {
    "systemd": case_systemd, "slow-bind": case_slow_bind, "usb-serial": case_usb_serial,
    "cli": case_cli,
    "usage": case_usage, "list": case_list, "allocate": case_allocate,
    "bad-bodies": case_bad_bodies, "release": case_release, "access": case_access,
    "race": case_race, "kill9": case_kill9, "restart": case_restart, "events": case_events,
    "metrics": case_metrics, "takeover": case_takeover, "groups": case_groups,
}


def release_fifos(root):
    """A sysfs file a case made a FIFO (slow-bind) holds the timed-io helper that passthrud gave
    up on in open(); a reader lets it go, so no helper outlives the case."""
    for top, _, files in os.walk(root):
        for f in files:
            path = os.path.join(top, f)
            if stat.S_ISFIFO(os.lstat(path).st_mode):
                os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))


def main():
    names = sys.argv[4:] or list(CASES)
    for name in names:
        tmp = tempfile.mkdtemp(prefix="passthrud-test-")
        extra = ["--group", "nogroup"] if os.geteuid() == 0 else ["--group", "root"]
        fixture = (os.path.join(os.path.dirname(FIXTURE), FIXTURES[name])
                   if name in FIXTURES else None)
        s = Service(tmp, extra, fixture)
        if name in PREPARE:
            s.extra += PREPARE[name](s.root)
        try:
            s.start()
            before = len(failures)
            CASES[name](s)
            print("%s: %s" % (name, "ok" if len(failures) == before else "FAILED"), flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on with the next case
            failures.append("%s: %r" % (name, e))
            print("FAIL: %s: %r" % (name, e), flush=True)
        finally:
            rc = s.stop()
            release_fifos(s.root)
            log = open(s.log, errors="replace").read() if os.path.exists(s.log) else ""
            check(rc == 0, "%s: passthrud exits 0 on SIGTERM, got %s" % (name, rc))
            check("Sanitizer" not in log and "runtime error:" not in log,
                  "%s: no sanitizer report in the service's log:\n%s" % (name, log[-3000:]))
            if len(failures) and os.environ.get("KEEP"):
                print("kept " + tmp)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
