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
    def __init__(self, tmp, extra=()):
        self.tmp = tmp
        self.root = os.path.join(tmp, "root")
        self.state = os.path.join(tmp, "state")
        self.sock = os.path.join(tmp, "passthrud.sock")
        self.log = os.path.join(tmp, "passthrud.log")
        self.extra = list(extra)
        if not os.path.exists(self.root):
            subprocess.run([sys.executable, MKSYSFS, FIXTURE, self.root], check=True,
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


def case_events(s):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(10)
    c.connect(s.sock)
    c.sendall(b"GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        got += c.recv(4096)
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
    check(rc == 1 and "/dev/vfio/5 is open by pid 4242 (qemu-system-x86)" in err,
          "release of the held allocation names the holder: %d %r" % (rc, err))
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
        check(messages[1].startswith("STATUS=9 PCI functions, 5 free, 1 allocated"),
              "a STATUS line with the counts: %r" % messages)
        check(results and results[0][0] == 200 and len(results[0][1]["devices"]) == 9,
              "the first connection is served on systemd's socket: %r" % results[:1])
        check(not os.path.exists(own), "no socket of its own under socket activation")
    finally:
        proc.terminate()
        check(proc.wait(20) == 0, "the activated passthrud exits 0 on SIGTERM")
        ns.close()


CASES = {
    "systemd": case_systemd,
    "cli": case_cli,
    "usage": case_usage, "list": case_list, "allocate": case_allocate,
    "bad-bodies": case_bad_bodies, "release": case_release, "access": case_access,
    "race": case_race, "kill9": case_kill9, "restart": case_restart, "events": case_events,
    "metrics": case_metrics, "takeover": case_takeover,
}


def main():
    names = sys.argv[4:] or list(CASES)
    for name in names:
        tmp = tempfile.mkdtemp(prefix="passthrud-test-")
        extra = ["--group", "nogroup"] if os.geteuid() == 0 else ["--group", "root"]
        s = Service(tmp, extra)
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
