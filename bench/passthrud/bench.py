#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""passthrud on the 4096-function tree of bench/gen-big-tree.py: start-up, idle RSS, and
allocate + release of pre-bound devices (VFs already on vfio-pci) through the socket, paced
at a given rate, with the latency of each request as the client sees it.

    bench/passthrud/bench.py PASSTHRUD [--requests N] [--rate PER_S] [--state-on DIR]...

Each --state-on DIR (default: the temporary directory, then /dev/shm when it is a tmpfs) is
one run with the state database below DIR: on a disk every allocation and release waits for
an fsync of the WAL (synchronous=FULL), on a tmpfs that costs nothing, so the tmpfs run is
the service's own cost. GET /v1/devices/ADDRESS at the same rate is the floor: the HTTP round
trip through the event loop, without the database.

Measure a build without sanitizers (meson setup build-nosan; ninja -C build-nosan).
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def rss_kib(pid):
    """VmRSS and its parts: RssAnon (the process's own heap and stacks), RssFile (pages of
    the executable and libraries, shared with every process that maps them), RssShmem."""
    with open("/proc/%d/status" % pid) as f:
        text = f.read()
    return {k: int(re.search(k + r":\s+(\d+)", text).group(1))
            for k in ("VmRSS", "RssAnon", "RssFile", "RssShmem")}


def fs_type(path):
    return subprocess.run(["stat", "-f", "-c", "%T", path], check=True, text=True,
                          capture_output=True).stdout.strip()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def paced(c, rate, requests):
    """Sends requests (kind, method, path or a function of the last answer, body) at rate,
    one at a time; returns {kind: [seconds]}."""
    times = {}
    interval = 1.0 / rate
    nxt = time.monotonic()
    last = None
    for kind, method, path, body, status in requests:
        now = time.monotonic()
        if now < nxt:
            time.sleep(nxt - now)
        nxt += interval
        if callable(path):
            path = path(last)
        s = time.monotonic()
        c.request(method, path, body=body,
                  headers={"Content-Type": "application/json"} if body else {})
        r = c.getresponse()
        data = r.read()
        times.setdefault(kind, []).append(time.monotonic() - s)
        if r.status != status:
            raise SystemExit("%s %s: %d %s" % (method, path, r.status, data))
        last = data
    return times


def run(a, root, tmp, state_parent):
    state = tempfile.mkdtemp(prefix="passthrud-bench-state-", dir=state_parent)
    proc = None
    sock = os.path.join(tmp, "s.sock")
    log = open(os.path.join(tmp, "log"), "w")
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen([a.passthrud, "--sysroot", root, "--socket", sock,
                                 "--state-dir", state], stdout=log, stderr=log)
        while not os.path.exists(sock):
            if proc.poll() is not None or time.monotonic() - t0 > 120:
                raise SystemExit("passthrud did not start: " + open(log.name).read())
            time.sleep(0.005)
        startup = time.monotonic() - t0
        time.sleep(1)
        idle = rss_kib(proc.pid)
        c = UnixHTTPConnection(sock)  # one keep-alive connection, as a control plane would
        c.request("GET", "/v1/devices")
        devices = json.loads(c.getresponse().read())["devices"]
        free = [d["address"] for d in devices if d["state"] == "free"]
        n = a.requests // 2
        times = paced(c, a.rate, [("get", "GET", "/v1/devices/" + free[i % len(free)], None, 200)
                                  for i in range(n)])
        reqs = []
        for i in range(n):
            reqs.append(("post", "POST", "/v1/allocations",
                         json.dumps({"owner": "bench", "devices": [free[i % len(free)]]}), 201))
            reqs.append(("delete", "DELETE",
                         lambda last: "/v1/allocations/%d" % json.loads(last)["id"], None, 204))
        times.update(paced(c, a.rate, reqs))
        busy = rss_kib(proc.pid)
        # The service gives free heap back once the requests pause for a second (http.c).
        time.sleep(1.5)
        rested = rss_kib(proc.pid)
        proc.terminate()
        proc.wait(30)
        return {"functions": len(devices), "free": len(free), "startup": startup, "idle": idle,
                "busy": busy, "rested": rested, "times": times, "fs": fs_type(state)}
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(state, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("passthrud")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--state-on", action="append", metavar="DIR",
                    help="a directory to hold the state database (repeatable)")
    ap.add_argument("--root", metavar="DIR",
                    help="a tree gen-big-tree.py made before (it takes minutes), with an empty "
                         "proc/; made anew in a temporary directory when not given")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="passthrud-bench-")
    try:
        root = a.root or os.path.join(tmp, "root")
        if not a.root:
            subprocess.run([sys.executable, os.path.join(HERE, "..", "gen-big-tree.py"), root],
                           check=True, stdout=subprocess.DEVNULL)
            # The tree has no processes: an empty /proc (release looks for holders there).
            os.makedirs(os.path.join(root, "proc"), exist_ok=True)
        dirs = a.state_on or [tmp] + (["/dev/shm"] if os.path.isdir("/dev/shm") and
                                      fs_type("/dev/shm") == "tmpfs" else [])
        runs = [(d, run(a, root, tmp, d)) for d in dirs]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ms = lambda x: "%.3f" % (x * 1000)  # noqa: E731
    print("functions: %d (free: %d); %d requests of each kind at %.0f/s, one connection"
          % (runs[0][1]["functions"], runs[0][1]["free"], a.requests // 2, a.rate))
    for d, r in runs:
        print("\nstate database on %s (%s)" % (d, r["fs"]))
        print("  start-up to listening: %.0f ms" % (r["startup"] * 1000))
        for when, what in (("idle", "idle RSS"), ("busy", "RSS after the run"),
                           ("rested", "RSS 1.5 s later")):
            m = r[when]
            print("  %s: VmRSS %d KiB = RssAnon %d + RssFile %d + RssShmem %d"
                  % (what, m["VmRSS"], m["RssAnon"], m["RssFile"], m["RssShmem"]))
        for kind, name in (("get", "GET /v1/devices/ADDRESS"), ("post", "POST /v1/allocations"),
                           ("delete", "DELETE /v1/allocations/ID")):
            v = r["times"][kind]
            print("  %-26s p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms"
                  % (name + ":", ms(pct(v, 50)), ms(pct(v, 99)), ms(pct(v, 99.9)), ms(max(v))))


if __name__ == "__main__":
    main()
