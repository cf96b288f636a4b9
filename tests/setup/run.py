#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs one `passthru setup` / `passthru check` scenario against a fixture host root.

    run.py --passthru BIN --shim LIB [--update] [--keep] CASE.json

A case (tests/setup/cases/*.json, see README.md) names a host of tests/fixtures/hosts/, edits
files of its root, then runs steps in order: passthru commands whose exit code, output, files,
backups and invoked tools are checked, and simulated reboots. The root is built fresh with
mksysfs.py; the grub tools in it are stubs (stubs/) that record their argv and regenerate
grub.cfg from /etc/default/grub, run by passthru chrooted into the root with busybox as /bin/sh.

--update rewrites the expected files a case names (expected/<case>/...) from what the run
produced; read every changed file before committing it.
"""

import argparse
import fnmatch
import glob
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "fixtures"))
import mksysfs  # noqa: E402

INVOKED = "var/log/passthru-invoked"
STUBS = {
    "grub2-mkconfig": "grub-mkconfig",
    "grub-mkconfig": "grub-mkconfig",
    "update-grub": "grub-mkconfig",
    "update-initramfs": "update-initramfs",
}
BUSYBOX_APPLETS = ["sh", "sed", "cat"]
BACKUP_RE = re.compile(r"\.passthru-\d{8}-\d{6}(-\d+)?")


class Failure(Exception):
    pass


def build_root(case, root):
    with open(os.path.join(TOP, "tests", "fixtures", "hosts", case["host"] + ".json")) as f:
        spec = json.load(f)
    tools = spec.pop("tools", [])
    depmod = spec.pop("depmod", None)
    spec.pop("description", None)
    for path, content in case.get("spec_files", {}).items():
        spec.setdefault("files", {})[path] = content
    for key, value in case.get("spec", {}).items():
        spec[key] = value
    mksysfs.build(spec, root)

    os.makedirs(os.path.join(root, "var", "log"), exist_ok=True)
    os.makedirs(os.path.join(root, "usr", "sbin"), exist_ok=True)
    os.makedirs(os.path.join(root, "bin"), exist_ok=True)
    # Tools redirect to /dev/null (Debian's GRUB_DISTRIBUTOR does): a real one, as on a host.
    os.makedirs(os.path.join(root, "dev"), exist_ok=True)
    if not os.path.lexists(os.path.join(root, "dev", "null")):
        os.mknod(os.path.join(root, "dev", "null"), 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy(busybox, os.path.join(root, "bin", "busybox"))
    for applet in BUSYBOX_APPLETS:
        os.symlink("busybox", os.path.join(root, "bin", applet))
    for tool in tools:
        dest = os.path.join(root, "usr", "sbin", tool)
        shutil.copy(os.path.join(HERE, "stubs", STUBS[tool]), dest)
        os.chmod(dest, 0o755)
    if depmod:
        moddir = os.path.join(root, "lib", "modules", depmod["release"])
        os.makedirs(moddir, exist_ok=True)
        with open(os.path.join(moddir, "modules.builtin"), "w") as f:
            f.write("".join(m + "\n" for m in depmod.get("builtin", [])))
        for name in ("modules.order", "modules.builtin.modinfo"):
            open(os.path.join(moddir, name), "w").close()
        subprocess.run(["depmod", "-b", root, depmod["release"]], check=True,
                       stderr=subprocess.DEVNULL)
    for rel in case.get("remove", []):
        p = os.path.join(root, rel)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
    for rel, content in case.get("write", {}).items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(content)
    for rel, target in case.get("links", {}).items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.symlink(target, p)


def snapshot(root):
    """Every regular file and symlink of the root outside sys/ (sysfs is the kernel's)."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        if rel_dir == "sys" or rel_dir.startswith("sys/"):
            dirnames[:] = []
            continue
        for name in filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st = os.lstat(p)
            if stat.S_ISCHR(st.st_mode):
                continue
            if stat.S_ISLNK(st.st_mode):
                files[rel] = ("link", os.readlink(p))
            elif rel != INVOKED:
                with open(p, "rb") as f:
                    files[rel] = (stat.S_IMODE(st.st_mode), f.read())
    return files


def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return default


def kernel_options(root):
    """The command line the boot loader would pass: first linux line, or the BLS entry."""
    cfgs = [os.path.join(root, "boot/grub/grub.cfg"), os.path.join(root, "boot/grub2/grub.cfg")]
    cfgs += sorted(glob.glob(os.path.join(root, "boot/efi/EFI/*/grub.cfg")))
    for cfg in cfgs:
        for line in read_text(cfg).splitlines():
            words = line.split()
            if words and words[0] in ("linux", "linux16", "linuxefi"):
                return " ".join(words[2:])
    for entry in sorted(glob.glob(os.path.join(root, "boot/loader/entries/*.conf"))):
        for line in read_text(entry).splitlines():
            if line.startswith("options "):
                return line[len("options "):].strip()
    raise Failure("reboot: no kernel command line in the boot configuration")


def size_kib(text):
    """memparse(): a number with an optional K/M/G suffix, in bytes; returned in KiB."""
    m = re.fullmatch(r"(\d+)([KMGkmg]?)", text)
    if not m:
        return None
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()] // 1024


def reboot(root):
    """What a reboot makes of the configuration passthru setup wrote."""
    options = kernel_options(root)
    release = read_text(os.path.join(root, "proc/sys/kernel/osrelease")).strip()
    with open(os.path.join(root, "proc/cmdline"), "w") as f:
        f.write("BOOT_IMAGE=/vmlinuz-%s %s\n" % (release, options))
    params = [w.split("=", 1) if "=" in w else [w, None] for w in options.split()]

    # systemd-modules-load.
    for conf in glob.glob(os.path.join(root, "etc/modules-load.d/*.conf")):
        for line in read_text(conf).splitlines():
            line = line.strip()
            if line and line[0] not in "#;":
                mod = os.path.join(root, "sys/module", line.replace("-", "_"))
                os.makedirs(mod, exist_ok=True)
                with open(os.path.join(mod, "initstate"), "w") as f:
                    f.write("live\n")
    unsafe = any(k.replace("-", "_") == "vfio_iommu_type1.allow_unsafe_interrupts" and
                 v in (None, "1", "Y", "y") for k, v in params)
    type1 = os.path.join(root, "sys/module/vfio_iommu_type1")
    if os.path.isdir(type1):
        os.makedirs(os.path.join(type1, "parameters"), exist_ok=True)
        with open(os.path.join(type1, "parameters", "allow_unsafe_interrupts"), "w") as f:
            f.write("Y\n" if unsafe else "N\n")

    # Blacklisted drivers neither load nor bind.
    for conf in glob.glob(os.path.join(root, "etc/modprobe.d/*.conf")):
        for line in read_text(conf).splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "blacklist":
                shutil.rmtree(os.path.join(root, "sys/module", words[1]), ignore_errors=True)
                for dev in glob.glob(os.path.join(root, "sys/bus/pci/devices/*")):
                    link = os.path.join(dev, "driver")
                    if os.path.islink(link) and os.path.basename(os.readlink(link)) == words[1]:
                        os.unlink(link)

    # Huge pages reserved at boot: hugepages= counts for the size before them, else the default.
    default = 2048
    for k, v in params:
        if k == "default_hugepagesz" and v and size_kib(v):
            default = size_kib(v)
    current = None
    for k, v in params:
        if k == "hugepagesz":
            current = size_kib(v or "")
        elif k == "hugepages" and v is not None:
            pool = os.path.join(root, "sys/kernel/mm/hugepages/hugepages-%dkB" % (current or default))
            if os.path.isdir(pool):
                for name in ("nr_hugepages", "free_hugepages"):
                    with open(os.path.join(pool, name), "w") as f:
                        f.write("%s\n" % v)


def new_backups(before, after):
    return {p for p in after if p not in before and BACKUP_RE.search(p)}


def run_step(args, root, step, index, case_name, update):
    label = "step %d (%s)" % (index + 1, " ".join(step.get("args", ["reboot"])))
    if step.get("reboot"):
        reboot(root)
        return
    before = snapshot(root)
    invoked_before = read_text(os.path.join(root, INVOKED))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSTHRU_")}
    env["LC_ALL"] = "C"
    if "fault" in step:
        env["LD_PRELOAD"] = args.shim
        env["PASSTHRU_FAULT"] = step["fault"]
        # The shim comes before the sanitizer runtime in a sanitized build; that is fine here.
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
    cmd = [args.passthru, "--sysroot", root] + step["args"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    after = snapshot(root)
    invoked = read_text(os.path.join(root, INVOKED))[len(invoked_before):].splitlines()
    out = BACKUP_RE.sub(".passthru-TIMESTAMP", p.stdout)
    err = BACKUP_RE.sub(".passthru-TIMESTAMP", p.stderr)
    problems = []

    want_rc = step.get("rc", 0)
    if want_rc == "killed":
        if p.returncode != -9:
            problems.append("expected to be killed by SIGKILL, exit status %d" % p.returncode)
    elif p.returncode != want_rc:
        problems.append("exit status %d, expected %d" % (p.returncode, want_rc))
    for s in step.get("stdout", []):
        if s not in out:
            problems.append("stdout lacks %r" % s)
    for s in step.get("stdout_not", []):
        if s in out:
            problems.append("stdout has %r" % s)
    for s in step.get("stderr", []):
        if s not in err:
            problems.append("stderr lacks %r" % s)
    if "stdout_file" in step:
        path = os.path.join(HERE, "expected", case_name, step["stdout_file"])
        if update:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(out)
        elif read_text(path, None) != out:
            problems.append("stdout differs from expected/%s/%s:\n%s" %
                            (case_name, step["stdout_file"], out))
    for rel, exp in step.get("files", {}).items():
        path = os.path.join(HERE, "expected", case_name, exp)
        got = after.get(rel)
        if got is None or got[0] == "link":
            problems.append("%s is missing after the step" % rel)
            continue
        if update:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(got[1])
        elif read_text(path, None) != got[1].decode():
            problems.append("%s differs from expected/%s/%s:\n%s" %
                            (rel, case_name, exp, got[1].decode()))
    for rel in step.get("absent", []):
        if rel in after:
            problems.append("%s exists" % rel)
    if step.get("unchanged") and before != after:
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        problems.append("files changed: %s" % ", ".join(changed))
    if "changed" in step:
        # Exactly these paths (glob patterns) changed, besides new backups.
        patterns = step["changed"]
        backups = new_backups(before, after)
        changed = {p for p in set(before) | set(after)
                   if before.get(p) != after.get(p) and p not in backups}
        extra = {p for p in changed if not any(fnmatch.fnmatch(p, pat) for pat in patterns)}
        missing = {pat for pat in patterns if not any(fnmatch.fnmatch(p, pat) for p in changed)}
        if extra:
            problems.append("unexpected changes: %s" % ", ".join(sorted(extra)))
        if missing:
            problems.append("expected changes missing: %s" % ", ".join(sorted(missing)))
    if "invoked" in step and invoked != step["invoked"]:
        problems.append("invoked %r, expected %r" % (invoked, step["invoked"]))
    if "backups" in step:
        backups = new_backups(before, after)
        for rel in step["backups"]:
            mine = [b for b in backups if BACKUP_RE.sub("", b) == rel]
            if len(mine) != 1:
                problems.append("expected one new backup of %s, found %r" % (rel, mine))
                continue
            if after[mine[0]] != before.get(rel):
                problems.append("backup %s is not the original %s (content or mode)" %
                                (mine[0], rel))
        extra = {b for b in backups if BACKUP_RE.sub("", b) not in step["backups"]}
        if extra:
            problems.append("unexpected backups: %s" % ", ".join(sorted(extra)))
    for pattern in step.get("leftover", []):
        if not [p for p in after if fnmatch.fnmatch(p, pattern)]:
            problems.append("no file matches %s" % pattern)
    if "checks" in step:
        try:
            doc = json.loads(p.stdout)
        except ValueError as e:
            problems.append("stdout is not JSON: %s" % e)
            doc = {"checks": []}
        got = {}
        for c in doc["checks"]:
            key = c["id"] + ("@" + c["device"] if c["device"] else "")
            got[key] = c
        for key, want in step["checks"].items():
            c = got.get(key)
            if c is None:
                problems.append("no check %s" % key)
                continue
            want_status, _, want_text = want.partition(" ")
            if c["status"] != want_status:
                problems.append("%s is %s (%s), expected %s" %
                                (key, c["status"], c["seen"], want_status))
            if want_text and want_text not in (c["seen"] + " | " + (c["fix"] or "")):
                problems.append("%s: %r not in seen %r / fix %r" %
                                (key, want_text, c["seen"], c["fix"]))
        if "status" in step and doc.get("status") != step["status"]:
            problems.append("overall status %s, expected %s" % (doc.get("status"), step["status"]))
    if problems:
        raise Failure("%s:\n  %s\n--- stdout\n%s--- stderr\n%s" %
                      (label, "\n  ".join(problems), p.stdout, p.stderr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--passthru", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()
    failed = 0
    for path in args.cases:
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            case = json.load(f)
        tmp = tempfile.mkdtemp(prefix="passthru-setup-%s." % name)
        root = os.path.join(tmp, "root")
        keep = args.keep
        try:
            build_root(case, root)
            for i, step in enumerate(case["steps"]):
                run_step(args, root, step, i, name, args.update)
            print("ok %s" % name)
        except Failure as e:
            failed += 1
            keep = True
            print("FAIL %s: %s\n(root kept in %s)" % (name, e, root))
        finally:
            if not keep:
                shutil.rmtree(tmp)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
