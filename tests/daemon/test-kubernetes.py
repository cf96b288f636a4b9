#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""passthrud with Kubernetes resources (kubernetes.d) against tests/fixtures/daemon/host.json.

    test-kubernetes.py PASSTHRUD MKSYSFS FIXTURE CASE

The Service helper and the checks are test-passthrud.py's. The "plugin" case runs a stand-in
kubelet written with python3-grpcio (Debian's python3, /usr/bin/python3): its stubs are made at
test time by grpc_tools from daemon/deviceplugin/api.proto, the file passthrud is built from.
"""
import importlib.util
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

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


def case_refuse(s):
    """bind, unbind and reset of a kubelet-owned device: refused, naming the device, the
    resource and where it is defined; the other devices go on."""
    for args, addr, res, line in (
            (["unbind", "00:06.0"], "0000:00:06.0", "passthru.io/nic", 2),
            (["unbind", "--force", "--dry-run", "00:06.1"], "0000:00:06.1", "passthru.io/nic", 2),
            (["reset", "00:06.0"], "0000:00:06.0", "passthru.io/nic", 2),
            (["bind", "--force", "00:0b.1"], "0000:00:0b.1", "example.com/gpu", 3)):
        rc, out, err = T.takeover(s, s.sock, *args)
        verb = args[0]
        want = ("passthru: %s belongs to the Kubernetes resource %s of passthrud: the kubelet "
                "owns it\nhint: take it out of %s in /etc/passthru/kubernetes.d/10-lab.conf:%d "
                "(passthrud applies the change at once), then passthru %s again\n"
                % (addr, res, res, line, verb))
        # bind plans the whole group: its other function is named too, the same way.
        check(rc == 1 and want in err and out == "" and
              all(" belongs to the Kubernetes resource " in e or e.startswith("hint: take it")
                  for e in err.splitlines()),
              "passthru %s: refused, exit 1: %d %r %r" % (" ".join(args), rc, out, err))
    # --group names the group's other function too, one line each.
    rc, out, err = T.takeover(s, s.sock, "unbind", "--group", "--dry-run", "00:06.1")
    check(rc == 1 and "0000:00:06.0 belongs to the Kubernetes resource" in err and
          "0000:00:06.1 belongs to the Kubernetes resource" in err,
          "unbind --group: both functions refused: %d %r" % (rc, err))
    # A device in no resource: not refused.
    rc, out, err = T.takeover(s, s.sock, "unbind", "--dry-run", "00:09.0")
    check(rc == 0 and "kubelet" not in err, "unbind --dry-run of a device in no resource: "
          "%d %r %r" % (rc, out, err))
    # No service on the socket: not asked.
    rc, out, err = T.takeover(s, os.path.join(s.tmp, "nothing.sock"), "unbind", "--dry-run",
                              "00:06.0")
    check(rc == 0 and "kubelet" not in err, "no service: unbind --dry-run goes on: %d %r %r"
          % (rc, out, err))
    # The hint works: the line taken out of kubernetes.d, passthrud applies it (no restart)
    # and the device is no longer refused.
    path = os.path.join(s.root, "etc", "passthru", "kubernetes.d", "10-lab.conf")
    text = open(path).read()
    write_atomically(path, text.replace("passthru.io/nic id=8086:10fb", "# passthru.io/nic"))
    check(wait_for(lambda: s.devices()["0000:00:06.0"].get("owner") is None),
          "out of the resource, 00:06.0 is nobody's: %r" % s.devices()["0000:00:06.0"])
    rc, out, err = T.takeover(s, s.sock, "unbind", "--dry-run", "00:06.0")
    check(rc == 0 and "kubelet" not in err,
          "after the configuration change: unbind --dry-run goes on: %d %r %r" % (rc, out, err))
    rc, out, err = T.takeover(s, s.sock, "unbind", "--dry-run", "00:0b.0")
    check(rc == 1 and "example.com/gpu in /etc/passthru/kubernetes.d/10-lab.conf:3" in err,
          "the other resource's device is still refused: %d %r" % (rc, err))


PROTO_DIR = os.path.join(HERE, "..", "..", "daemon", "deviceplugin")


def load_stubs(tmp):
    """api_pb2 and api_pb2_grpc made from the same .proto as passthrud's C."""
    out = os.path.join(tmp, "stubs")
    os.makedirs(out)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + PROTO_DIR,
                    "--python_out=" + out, "--grpc_python_out=" + out, "api.proto"], check=True)
    sys.path.insert(0, out)
    import api_pb2  # noqa: E402
    import api_pb2_grpc  # noqa: E402
    return api_pb2, api_pb2_grpc


class Kubelet:
    """The kubelet's side: Registration on kubelet.sock, then a client of each plugin."""

    def __init__(self, directory, pb, pbg):
        import grpc
        self.grpc, self.pb, self.pbg = grpc, pb, pbg
        self.dir = directory
        self.registrations = queue.Queue()
        self.server = None

        kubelet = self

        class Registration(pbg.RegistrationServicer):
            def Register(self, request, context):
                kubelet.registrations.put(request)
                return pb.Empty()

        self.servicer = Registration()

    def start(self):
        self.server = self.grpc.server(__import__("concurrent.futures").futures.ThreadPoolExecutor(4))
        self.pbg.add_RegistrationServicer_to_server(self.servicer, self.server)
        self.server.add_insecure_port("unix:" + os.path.join(self.dir, "kubelet.sock"))
        self.server.start()

    def stop(self):
        if self.server:
            self.server.stop(0).wait()
            self.server = None

    def restart(self):
        """As the kubelet does: down, every socket of the directory deleted, up again."""
        self.stop()
        for name in os.listdir(self.dir):
            if name.endswith(".sock"):
                os.unlink(os.path.join(self.dir, name))
        time.sleep(0.3)
        self.start()

    def wait_registrations(self, n, timeout=15):
        got = {}
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            try:
                r = self.registrations.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            got[r.resource_name] = r
        return got

    def plugin(self, endpoint):
        channel = self.grpc.insecure_channel("unix:" + os.path.join(self.dir, endpoint))
        return channel, self.pbg.DevicePluginStub(channel)


def first_list(stub, pb, timeout=10):
    """The first ListAndWatch answer, and the stream (to read more or cancel)."""
    stream = stub.ListAndWatch(pb.Empty(), timeout=60)
    box = queue.Queue()
    threading.Thread(target=lambda: box.put(next(stream, None)), daemon=True).start()
    return box.get(timeout=timeout), stream


def next_list(stream, timeout=10):
    """The next ListAndWatch answer of an open stream, None when none comes in time."""
    box = queue.Queue()
    threading.Thread(target=lambda: box.put(next(stream, None)), daemon=True).start()
    try:
        return box.get(timeout=timeout)
    except queue.Empty:
        return None


def devices_of(resp):
    return {d.ID: (d.health, [n.ID for n in d.topology.nodes]) for d in resp.devices}


PLUGIN_CONFIG = {
    "10-lab.conf": "passthru.io/nic id=8086:10fb     # group 7: two functions\n"
                   "example.com/gpu type=GPU-VGA      # group 12: its audio is not on vfio-pci\n"
                   "passthru.io/nics type=NIC\n"
                   "passthru.io/bad id=zz\n",
}


def case_plugin(s):
    """Registration, ListAndWatch, GetPreferredAllocation, Allocate, a kubelet restart."""
    pb, pbg = s.stubs
    k = Kubelet(s.kubelet_dir, pb, pbg)
    k.start()
    try:
        regs = k.wait_registrations(3)
        check(sorted(regs) == ["example.com/gpu", "passthru.io/nic", "passthru.io/nics"],
              "the three good resources register (not the bad line's): %r" % sorted(regs))
        for name, r in regs.items():
            check(r.version == "v1beta1" and r.options.get_preferred_allocation_available and
                  "/" not in r.endpoint and
                  os.path.exists(os.path.join(s.kubelet_dir, r.endpoint)),
                  "%s registers v1beta1, a socket file name there, preferred allocation: %r"
                  % (name, r))
        log = open(s.log, errors="replace").read()
        check("/etc/passthru/kubernetes.d/10-lab.conf:4:" in log,
              "the bad line is reported with its file and line:\n" + log)

        ch, nic = k.plugin(regs["passthru.io/nic"].endpoint)
        opts = nic.GetDevicePluginOptions(pb.Empty(), timeout=10)
        check(opts.get_preferred_allocation_available and not opts.pre_start_required,
              "GetDevicePluginOptions: %r" % opts)
        resp, stream = first_list(nic, pb)
        check(devices_of(resp) == {"0000:00:06.0": ("Healthy", [0])},
              "passthru.io/nic: group 7 is one Healthy device on NUMA node 0: %r" % resp)
        a = nic.Allocate(pb.AllocateRequest(container_requests=[
            pb.ContainerAllocateRequest(devices_ids=["0000:00:06.0"])]), timeout=10)
        c = a.container_responses[0]
        check(dict(c.envs) == {"PCI_RESOURCE_PASSTHRU_IO_NIC": "0000:00:06.0,0000:00:06.1"},
              "Allocate's env names every endpoint of the group: %r" % dict(c.envs))
        check([(d.container_path, d.host_path, d.permissions) for d in c.devices] ==
              [("/dev/vfio/vfio", "/dev/vfio/vfio", "mrw"), ("/dev/vfio/7", "/dev/vfio/7", "mrw")],
              "Allocate's device specs: %r" % list(c.devices))
        try:
            nic.Allocate(pb.AllocateRequest(container_requests=[
                pb.ContainerAllocateRequest(devices_ids=["0000:00:09.0"])]), timeout=10)
            check(False, "Allocate of another resource's device fails")
        except k.grpc.RpcError as e:
            check(e.code() == k.grpc.StatusCode.NOT_FOUND and "0000:00:09.0" in e.details(),
                  "Allocate of another resource's device is NOT_FOUND: %r" % e)

        # 00:06.1 leaves vfio-pci: Allocate (which reads the group again) refuses, and the open
        # ListAndWatch stream gets a new list with the device Unhealthy.
        link = os.path.join(s.root, "sys", "devices", "pci0000:00", "0000:00:06.1", "driver")
        os.unlink(link)
        os.symlink("../../../bus/pci/drivers/ixgbe", link)
        try:
            nic.Allocate(pb.AllocateRequest(container_requests=[
                pb.ContainerAllocateRequest(devices_ids=["0000:00:06.0"])]), timeout=10)
            check(False, "Allocate of a group that left vfio-pci fails")
        except k.grpc.RpcError as e:
            check(e.code() == k.grpc.StatusCode.FAILED_PRECONDITION and
                  "0000:00:06.0" in e.details() and "vfio-pci" in e.details(),
                  "Allocate of a group that left vfio-pci is FAILED_PRECONDITION: %r" % e)
        resp = next_list(stream)
        check(resp is not None and
              devices_of(resp) == {"0000:00:06.0": ("Unhealthy", [0])},
              "ListAndWatch sends a new list: 00:06.0 Unhealthy: %r" % resp)
        # Back on vfio-pci: Allocate answers again, and the list says Healthy again.
        os.unlink(link)
        os.symlink("../../../bus/pci/drivers/vfio-pci", link)
        a = nic.Allocate(pb.AllocateRequest(container_requests=[
            pb.ContainerAllocateRequest(devices_ids=["0000:00:06.0"])]), timeout=10)
        check(len(a.container_responses) == 1, "Allocate answers once the group is back")
        resp = next_list(stream)
        check(resp is not None and devices_of(resp) == {"0000:00:06.0": ("Healthy", [0])},
              "ListAndWatch sends a new list: 00:06.0 Healthy again: %r" % resp)
        stream.cancel()
        ch.close()

        ch, gpu = k.plugin(regs["example.com/gpu"].endpoint)
        resp, stream = first_list(gpu, pb)
        check(devices_of(resp) == {"0000:00:0b.0": ("Unhealthy", [1])},
              "example.com/gpu: Unhealthy (its audio is on snd_hda_intel), NUMA 1: %r" % resp)
        try:
            gpu.Allocate(pb.AllocateRequest(container_requests=[
                pb.ContainerAllocateRequest(devices_ids=["0000:00:0b.0"])]), timeout=10)
            check(False, "Allocate of a group not wholly on vfio-pci fails")
        except k.grpc.RpcError as e:
            check(e.code() == k.grpc.StatusCode.FAILED_PRECONDITION and
                  "vfio-pci" in e.details(),
                  "Allocate of a group not on vfio-pci is FAILED_PRECONDITION: %r" % e)
        stream.cancel()
        ch.close()

        ch, nics = k.plugin(regs["passthru.io/nics"].endpoint)
        resp, stream = first_list(nics, pb)
        check(devices_of(resp) == {"0000:00:02.0": ("Unhealthy", [0]),
                                   "0000:00:05.0": ("Healthy", [0]),
                                   "0000:00:09.0": ("Healthy", [1])},
              "passthru.io/nics: groups 1, 5, 8 (7 is passthru.io/nic's): %r" % resp)
        avail = ["0000:00:09.0", "0000:00:02.0", "0000:00:05.0"]
        p = nics.GetPreferredAllocation(pb.PreferredAllocationRequest(container_requests=[
            pb.ContainerPreferredAllocationRequest(available_deviceIDs=avail, allocation_size=2),
            pb.ContainerPreferredAllocationRequest(available_deviceIDs=avail,
                                                   must_include_deviceIDs=["0000:00:09.0"],
                                                   allocation_size=2)]), timeout=10)
        got = [list(r.deviceIDs) for r in p.container_responses]
        check(got == [["0000:00:02.0", "0000:00:05.0"], ["0000:00:09.0", "0000:00:02.0"]],
              "GetPreferredAllocation: the NUMA node with most first, then the must-include's "
              "node, then others: %r" % got)
        stream.cancel()
        ch.close()

        status, doc = s.request("GET", "/v1/kubernetes")
        check(status == 200 and all(r["registration"].startswith("registered")
                                    for r in doc["resources"]),
              "GET /v1/kubernetes: every resource registered: %d %r" % (status, doc))

        cli = subprocess.run([os.environ["PASSTHRU"], "--sysroot", s.root, "kubernetes", "--json",
                              "--socket", s.sock], capture_output=True, text=True)
        doc = json.loads(cli.stdout) if cli.stdout else {}
        check(cli.returncode == 1 and "10-lab.conf:4:" in cli.stderr and
              [r["name"] for r in doc.get("resources", [])] ==
              ["passthru.io/nic", "example.com/gpu", "passthru.io/nics"] and
              all(r["registration"].startswith("registered with the kubelet")
                  for r in doc["resources"]),
              "passthru kubernetes shows the registrations passthrud reports: %d %r %s"
              % (cli.returncode, doc, cli.stderr))

        # The kubelet restarts: passthrud serves again and registers again.
        k.restart()
        regs = k.wait_registrations(3)
        check(len(regs) == 3, "after the kubelet's restart, the three register again: %r"
              % sorted(regs))
        if "passthru.io/nic" in regs:
            ch, nic = k.plugin(regs["passthru.io/nic"].endpoint)
            resp, stream = first_list(nic, pb)
            check(devices_of(resp) == {"0000:00:06.0": ("Healthy", [0])},
                  "ListAndWatch on the socket served again: %r" % resp)
            stream.cancel()
            ch.close()
    finally:
        k.stop()


def write_atomically(path, text):
    """As editors and configuration tools do: a new file renamed over the old."""
    with open(path + ".new", "w") as out:
        out.write(text)
    os.rename(path + ".new", path)


def wait_for(what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.05)
    return what()


def case_reload(s):
    """kubernetes.d changes while passthrud runs: no resource at start, then a new directory
    and file, a second file with a bad line, a changed selector, removed files."""
    pb, pbg = s.stubs
    conf_dir = os.path.join(s.root, "etc", "passthru", "kubernetes.d")
    k = Kubelet(s.kubelet_dir, pb, pbg)
    k.start()
    events = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    events.settimeout(10)
    events.connect(s.sock)
    events.sendall(b"GET /v1/events HTTP/1.1\r\nHost: localhost\r\n\r\n")
    try:
        status, doc = s.request("GET", "/v1/kubernetes")
        check(status == 200 and doc["resources"] == [], "no resource at start: %r" % doc)
        # The directory goes and comes back with a file: the resource is served and registers.
        shutil.rmtree(conf_dir)
        time.sleep(0.3)
        os.makedirs(conf_dir)
        write_atomically(os.path.join(conf_dir, "10-lab.conf"), "passthru.io/nic id=8086:10fb\n")
        regs = k.wait_registrations(1)
        check(sorted(regs) == ["passthru.io/nic"], "the new resource registers: %r" % sorted(regs))
        if "passthru.io/nic" not in regs:
            return
        nic_sock = os.path.join(s.kubelet_dir, regs["passthru.io/nic"].endpoint)
        ch, nic = k.plugin(regs["passthru.io/nic"].endpoint)
        resp, stream = first_list(nic, pb)
        check(devices_of(resp) == {"0000:00:06.0": ("Healthy", [0])},
              "passthru.io/nic lists group 7: %r" % resp)
        check(s.devices()["0000:00:06.0"].get("owner") == "kubelet",
              "00:06.0 is the kubelet's for the HTTP API")

        # A second file, with a bad line: its good resource registers, the bad line is named.
        write_atomically(os.path.join(conf_dir, "20-more.conf"),
                         "passthru.io/nics type=NIC\nthis is a bad line\n")
        regs = k.wait_registrations(1)
        check(sorted(regs) == ["passthru.io/nics"], "the second file's resource registers: %r"
              % sorted(regs))
        log = open(s.log, errors="replace").read()
        check("/etc/passthru/kubernetes.d/20-more.conf:2: invalid resource name" in log,
              "the bad line is named by file and line:\n" + log)
        # (The kubelet has the registration before passthrud reads the answer: waited for.)
        wait_for(lambda: all(r["registration"].startswith("registered")
                             for r in s.request("GET", "/v1/kubernetes")[1]["resources"]))
        status, doc = s.request("GET", "/v1/kubernetes")
        check([r["name"] for r in doc["resources"]] == ["passthru.io/nic", "passthru.io/nics"]
              and all(r["registration"].startswith("registered") for r in doc["resources"]),
              "GET /v1/kubernetes: both, registered: %r" % doc)
        nics_sock = os.path.join(s.kubelet_dir, regs["passthru.io/nics"].endpoint) \
            if "passthru.io/nics" in regs else "/nonexistent"

        # A changed selector: the open stream gets the new list (00:09.0, the first file's
        # resource taking it from the second's), on the same socket.
        write_atomically(os.path.join(conf_dir, "10-lab.conf"), "passthru.io/nic id=8086:1521\n")
        resp = next_list(stream)
        check(resp is not None and devices_of(resp) == {"0000:00:09.0": ("Healthy", [1])},
              "a changed selector sends a new list on the open stream: %r" % resp)
        check(k.registrations.empty(), "a changed selector does not register again")
        # The bad line of 20-more.conf, which did not change, is not told again; an edit of
        # that file that keeps the bad line (a comment: nothing else changes) tells it again.
        bad = "/etc/passthru/kubernetes.d/20-more.conf:2: invalid resource name"
        told = open(s.log, errors="replace").read().count(bad)
        check(told == 1, "the bad line is told once, not again for another file's change: "
              "%d times" % told)
        write_atomically(os.path.join(conf_dir, "20-more.conf"),
                         "passthru.io/nics type=NIC\nthis is a bad line\n# edited\n")
        check(wait_for(lambda: open(s.log, errors="replace").read().count(bad) == 2),
              "an edit of its file tells the bad line again (once): %d times"
              % open(s.log, errors="replace").read().count(bad))
        write_atomically(os.path.join(conf_dir, "20-more.conf"),
                         "passthru.io/nics type=NIC\nthis is a bad line\n# edited\n")
        write_atomically(os.path.join(conf_dir, "10-lab.conf"), "passthru.io/nic id=8086:1521\n")
        time.sleep(1)
        told = open(s.log, errors="replace").read().count(bad)
        check(told == 2, "files written again with the same text tell nothing: %d times" % told)

        # 20-more.conf removed: its resource stops serving and its socket goes.
        os.unlink(os.path.join(conf_dir, "20-more.conf"))
        check(wait_for(lambda: not os.path.exists(nics_sock)),
              "a removed resource's socket is removed: %s" % nics_sock)
        status, doc = s.request("GET", "/v1/kubernetes")
        check([r["name"] for r in doc["resources"]] == ["passthru.io/nic"],
              "GET /v1/kubernetes: only passthru.io/nic left: %r" % doc)
        d = s.devices()["0000:00:06.0"]
        check(d.get("state") == "free" and d.get("owner") is None,
              "00:06.0, in no resource now, is free for the HTTP API: %r" % d)
        check(os.path.exists(nic_sock), "passthru.io/nic keeps serving: %s" % nic_sock)
        status, doc = s.request("POST", "/v1/allocations",
                                {"owner": "vm-a", "devices": ["0000:00:06.0"]})
        check(status == 201, "00:06.0 can be allocated once out of every resource: %d %r"
              % (status, doc))
        stream.cancel()
        ch.close()

        # The last file removed: nothing served.
        os.unlink(os.path.join(conf_dir, "10-lab.conf"))
        check(wait_for(lambda: not os.path.exists(nic_sock)),
              "the last resource's socket is removed too")

        # The event stream told each change of 00:06.0's owner (uevent null: no uevent).
        got = b""
        deadline = time.monotonic() + 5
        while got.count(b'"uevent":null,"address":"0000:00:06.0"') < 3 and \
                time.monotonic() < deadline:
            got += events.recv(65536)
        seen = []
        for block in got.decode(errors="replace").split("\n\n"):
            data = [ln[6:] for ln in block.splitlines() if ln.startswith("data: ")]
            if "event: device" in block and data:
                e = json.loads(data[0])
                if e.get("uevent") is None and e.get("address") == "0000:00:06.0":
                    dv = e["device"]
                    seen.append((e["action"], dv["state"], dv["owner"], dv.get("resource")))
        check(seen == [("change", "allocated", "kubelet", "passthru.io/nic"),
                       ("change", "allocated", "kubelet", "passthru.io/nics"),
                       ("change", "free", None, None)],
              "device events for 00:06.0's owner changes: %r" % seen)
    finally:
        events.close()
        k.stop()


def case_waits(s):
    """No kubelet at start: passthrud waits, and registers once kubelet.sock appears."""
    pb, pbg = s.stubs
    time.sleep(1)
    status, doc = s.request("GET", "/v1/kubernetes")
    check(status == 200 and all(r["registration"].startswith("waiting")
                                for r in doc["resources"]),
          "without a kubelet every resource waits: %d %r" % (status, doc))
    k = Kubelet(s.kubelet_dir, pb, pbg)
    k.start()
    try:
        regs = k.wait_registrations(3)
        check(len(regs) == 3, "the kubelet that came late gets the registrations: %r"
              % sorted(regs))
    finally:
        k.stop()


def case_no_dir(s):
    """A kubelet directory that cannot be made: said in the log, the HTTP API still serves."""
    status, doc = s.request("GET", "/v1/kubernetes")
    check(status == 200 and [r["registration"] for r in doc["resources"]] == ["not served"] * 3,
          "GET /v1/kubernetes: not served: %d %r" % (status, doc))
    devs = s.devices()
    check(devs["0000:00:06.0"]["owner"] == "kubelet", "the resources' devices stay the kubelet's")
    log = open(s.log, errors="replace").read()
    check("the device plugin is not served in /dev/null/device-plugins" in log,
          "the log says why the device plugin is not served:\n" + log)


CASES = {"owned": case_owned, "refuse": case_refuse, "reload": case_reload, "plugin": case_plugin, "waits": case_waits, "no-dir": case_no_dir}
CONFIGS = {"owned": CONFIG, "refuse": CONFIG, "reload": {}, "plugin": PLUGIN_CONFIG, "waits": PLUGIN_CONFIG,
           "no-dir": PLUGIN_CONFIG}


def main():
    name = sys.argv[4]
    tmp = tempfile.mkdtemp(prefix="passthrud-kube-test-")
    extra = ["--group", "nogroup"] if os.geteuid() == 0 else ["--group", "root"]
    kubelet_dir = os.path.join(tmp, "device-plugins")
    os.makedirs(kubelet_dir)
    if name == "no-dir":
        kubelet_dir = "/dev/null/device-plugins"
    s = T.Service(tmp, extra + ["--kubelet-dir", kubelet_dir])
    s.kubelet_dir = kubelet_dir
    try:
        if name in ("plugin", "waits", "reload"):
            s.stubs = load_stubs(tmp)
        d = os.path.join(s.root, "etc", "passthru", "kubernetes.d")
        os.makedirs(d)
        for f, text in CONFIGS[name].items():
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
