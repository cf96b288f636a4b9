#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""passthrud with Kubernetes resources (kubernetes.d) against tests/fixtures/daemon/host.json.

    test-kubernetes.py PASSTHRUD MKSYSFS FIXTURE CASE

The Service helper and the checks are test-passthrud.py's.
"""
import importlib.util
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("passthrud_test",
                                              os.path.join(HERE, "test-passthrud.py"))
T = importlib.util.module_from_spec(spec)
spec.loader.exec_module(T)
check = T.check

CONFIG = {
    "10-lab.conf": "# the lab\n"
                   "passthru.io/nic id=8086:10fb   # a two-function card, group 7\n"
                   "example.com/gpu type=GPU-VGA\n"
                   "this is a bad line\n",
}


def case_owned(s):
    """The kubelet's devices are shown owned by it and refused to the HTTP API (409)."""
    devs = s.devices()
    for addr, res in (("0000:00:06.0", "passthru.io/nic"), ("0000:00:06.1", "passthru.io/nic"),
                      ("0000:00:0b.0", "example.com/gpu"), ("0000:00:0b.1", "example.com/gpu")):
        d = devs.get(addr, {})
        check(d.get("state") == "allocated" and d.get("owner") == "kubelet" and
              d.get("resource") == res, "%s is the kubelet's (%s): %r" % (addr, res, d))
    check(devs["0000:00:09.0"]["state"] == "free" and devs["0000:00:09.0"]["owner"] is None,
          "00:09.0, in no resource, stays free: %r" % devs["0000:00:09.0"])
    status, doc = s.request("POST", "/v1/allocations",
                            {"owner": "vm-a", "devices": ["0000:00:06.1"]})
    check(status == 409 and T.is_error(doc) and "kubelet" in doc["error"] and
          "passthru.io/nic" in doc["error"], "allocating 00:06.1 is 409 naming the kubelet: %d %r"
          % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-a", "type": "NIC",
                                                        "count": 2})
    check(status == 409, "two free NICs are not there (group 7 is the kubelet's): %d %r"
          % (status, doc))
    status, doc = s.request("POST", "/v1/allocations", {"owner": "vm-a", "type": "NIC",
                                                        "count": 1})
    check(status == 201 and doc["devices"] == ["0000:00:09.0"],
          "one NIC by selector is 00:09.0, never the kubelet's: %d %r" % (status, doc))
    log = open(s.log, errors="replace").read()
    check("/etc/passthru/kubernetes.d/10-lab.conf:4: invalid resource name" in log,
          "the bad line is reported with its file and line:\n" + log)


CASES = {"owned": case_owned}


def main():
    name = sys.argv[4]
    tmp = tempfile.mkdtemp(prefix="passthrud-kube-test-")
    extra = ["--group", "nogroup"] if os.geteuid() == 0 else ["--group", "root"]
    s = T.Service(tmp, extra)
    try:
        d = os.path.join(s.root, "etc", "passthru", "kubernetes.d")
        os.makedirs(d)
        for f, text in CONFIG.items():
            with open(os.path.join(d, f), "w") as out:
                out.write(text)
        s.start()
        CASES[name](s)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        T.failures.append("%s: %r" % (name, e))
        print("FAIL: %s: %r" % (name, e), flush=True)
    finally:
        rc = s.stop()
        log = open(s.log, errors="replace").read() if os.path.exists(s.log) else ""
        check(rc == 0, "passthrud exits 0 on SIGTERM, got %s" % rc)
        check("Sanitizer" not in log and "runtime error:" not in log,
              "no sanitizer report in the service's log:\n" + log[-3000:])
        if T.failures and os.environ.get("KEEP"):
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%s: %s" % (name, "FAILED" if T.failures else "ok"))
    return 1 if T.failures else 0


if __name__ == "__main__":
    sys.exit(main())
