#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""passthrud on the 4096-function tree of bench/gen-big-tree.py: start-up, idle RSS, and
allocate + release of pre-bound devices (VFs already on vfio-pci) through the socket, paced
at a given rate, with the latency of each request as the client sees it.

    bench/passthrud/bench.py PASSTHRUD [--requests N] [--rate PER_S]

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
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("passthrud")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=1000.0)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="passthrud-bench-")
    try:
        root = os.path.join(tmp, "root")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "gen-big-tree.py"), root],
                       check=True, stdout=subprocess.DEVNULL)
        # The tree has no processes: an empty /proc (release looks for holders there).
        os.makedirs(os.path.join(root, "proc"), exist_ok=True)
        sock = os.path.join(tmp, "s.sock")
        log = open(os.path.join(tmp, "log"), "w")
        t0 = time.monotonic()
        proc = subprocess.Popen([a.passthrud, "--sysroot", root, "--socket", sock,
                                 "--state-dir", os.path.join(tmp, "state")],
                                stdout=log, stderr=log)
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
        post, delete = [], []
        interval = 1.0 / a.rate
        nxt = time.monotonic()
        for i in range(a.requests // 2):
            addr = free[i % len(free)]
            for kind, method, path, body in (
                    ("post", "POST", "/v1/allocations",
                     json.dumps({"owner": "bench", "devices": [addr]})),
                    ("delete", "DELETE", None, None)):
                now = time.monotonic()
                if now < nxt:
                    time.sleep(nxt - now)
                nxt += interval
                s = time.monotonic()
                c.request(method, path or "/v1/allocations/%d" % aid, body=body,
                          headers={"Content-Type": "application/json"} if body else {})
                r = c.getresponse()
                data = r.read()
                (post if kind == "post" else delete).append(time.monotonic() - s)
                if kind == "post":
                    if r.status != 201:
                        raise SystemExit("POST: %d %s" % (r.status, data))
                    aid = json.loads(data)["id"]
                elif r.status != 204:
                    raise SystemExit("DELETE: %d %s" % (r.status, data))
        busy = rss_kib(proc.pid)
        proc.terminate()
        proc.wait(30)
        ms = lambda x: "%.3f" % (x * 1000)  # noqa: E731
        print("functions: %d (free: %d)" % (len(devices), len(free)))
        print("start-up to listening: %.0f ms" % (startup * 1000))
        print("idle RSS: %d KiB; after the run: %d KiB" % (idle, busy))
        for name, v in (("POST /v1/allocations", post), ("DELETE /v1/allocations/ID", delete)):
            print("%s: %d requests at %.0f/s, p50 %s ms, p99 %s ms, max %s ms"
                  % (name, len(v), a.rate, ms(pct(v, 50)), ms(pct(v, 99)), ms(max(v))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
