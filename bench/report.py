#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Turn bench/run.sh's raw results into the markdown of docs/BENCHMARKS.md.

Inputs: hyperfine's JSON exports (rounds, pooled), `strace -c -f` summaries (strace-<tool>.txt in
--strace-dir), the floor's and lspci's output and passthru's JSON, which is
checked against the floor (ids, class, NUMA node, driver, group) and against
the tree's physfn links.
"""

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess

TARGET_VS_LSPCI = 5.0     # passthru at least this many times faster than lspci -nnk
TARGET_VS_FLOOR = 1.5     # and at most this many times slower than the floor

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDR = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$")


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(root):
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    fstype = sh("df", "--output=fstype", root).split()[-1:] or ["?"]
    return [
        ("CPU", "%s, nproc %d" % (model or "unknown", os.cpu_count())),
        ("Memory", mem),
        ("Kernel", os.uname().release),
        ("Load average (1/5/15 min) when the report was written",
         " ".join(open("/proc/loadavg").read().split()[:3])),
        ("Tree", "%s (%s, warm page cache)" % (root, fstype[0])),
        ("lspci", sh("lspci", "--version")),
        ("hyperfine", sh("hyperfine", "--version")),
    ]


def parse_strace(path):
    """strace -c table -> ({syscall: calls}, total calls)."""
    calls, total = {}, 0
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 5 or not fields[3].isdigit():
                continue
            if fields[-1] == "total":
                total = int(fields[3])
            else:
                calls[fields[-1]] = int(fields[3])
    return calls, total


def strace_table(strace_dir, names):
    groups = [
        ("open", ("openat", "openat2", "open")),
        ("read", ("read", "pread64")),
        ("readlink", ("readlinkat", "readlink")),
        ("close", ("close",)),
        ("stat", ("newfstatat", "fstat", "statx", "stat", "lstat")),
        ("getdents64", ("getdents64",)),
    ]
    rows = []
    for name in names:
        path = os.path.join(strace_dir, "strace-%s.txt" % re.sub(r"\W+", "-", name).strip("-"))
        if not os.path.exists(path):
            continue
        calls, total = parse_strace(path)
        cells, seen = [], 0
        for _, members in groups:
            n = sum(calls.get(m, 0) for m in members)
            seen += n
            cells.append(str(n))
        rows.append("| %s | %d | %s | %d |" % (name, total, " | ".join(cells), total - seen))
    head = "| tool | total | %s | other |" % " | ".join(g for g, _ in groups)
    sep = "|---" * (len(groups) + 3) + "|"
    return [head, sep] + rows


# (commit, change, instructions, notes) of passthru --json on the 4096-function tree.
HISTORY = ["| %s | %s | %s | %s |" % row for row in [
    ("5382ca7", "before: one json-c document for the whole listing", "467.9M",
     "max RSS 40 MiB, 8701 page faults; CPU time about 2.1x the floor"),
    ("e8b8cac", "each device printed as it is made", "459.3M",
     "max RSS 11 MiB, 1334 page faults; CPU time about 1.5x the floor"),
    ("04ef8a9", "one JSON object for every device, values replaced in place; ASCII strings not "
     "copied for UTF-8 cleaning", "299.0M", "364M, then 329M, then 299M"),
    ("e28dcbc", "PCI addresses from sysfs checked and copied; modalias without printf",
     "265.8M", "284M after the addresses"),
    ("66f2233", "strings, numbers, booleans updated in the reused object", "253.3M", ""),
    ("668681b", "64 KiB stdout buffer", "253.1M", "807 -> 51 write(2) calls"),
    ("2b911b7", "VF and group member lists made at their size", "251.8M", ""),
    ("2873619", "string values borrowed, not copied", "246.0M", "table 384M -> 366M overall"),
    ("e9d44b4", "attributes opened below their directory (openat2 RESOLVE_BENEATH), "
     "non-blocking, read only when fstat says they are regular files", "252.0M",
     "its parent 97745f0 on the same tree: 250.5M; syscalls 69,470 -> 85,633 (one fstat per "
     "attribute, 16,180); CPU time 119.5 -> 127.2 ms side by side (+6%), 30 runs each"),
]]


def slug(name):
    return re.sub(r"\W+", "-", name).strip("-")


def callgrind_total(path):
    """Instructions a callgrind run counted (its log's "Collected : N"), or None."""
    try:
        with open(path) as f:
            m = re.search(r"Collected : (\d+)", f.read())
    except OSError:
        return None
    return int(m.group(1)) if m else None


def time_stats(path):
    """/usr/bin/time -f "%M %R": (max RSS KiB, minor page faults), or None."""
    try:
        with open(path) as f:
            rss, faults = f.read().split()[-2:]
    except (OSError, ValueError):
        return None
    return int(rss), int(faults)


# Parts of passthru --json, by the function that does each, in callgrind_annotate's inclusive
# listing: (label, function). Inclusive costs: a part counts what it calls.
PARTS = [
    ("reading sysfs (the scan)", "pci.c:passthru_pci_scan"),
    ("values of the columns (names included)", "columns-pci.c:get"),
    ("loading pci.ids (libpci)", ":pci_load_name_list"),
    ("name lookups past the cache (libpci; udev hwdb for ids pci.ids lacks)",
     ":pci_lookup_name"),
    ("JSON printing (json-c)", ":json_object_to_json_string_length"),
    ("freeing the scan", "pci.c:passthru_pci_list_unref"),
]


def callgrind_parts(path, total):
    rows = []
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return rows
    for label, fn in PARTS:
        m = re.search(r"^\s*([\d,]+) \([ \d.]+%\)\s+\S*" + re.escape(fn) + r" \[", text, re.M)
        if m:
            n = int(m.group(1).replace(",", ""))
            rows.append("| %s | `%s` | %.1fM | %.0f%% |" % (
                label, fn.split(":")[-1], n / 1e6, 100.0 * n / total))
    return rows


def count_lspci(path):
    with open(path) as f:
        return sum(1 for line in f if re.match(r"^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7] ", line))


def load_floor(path):
    truth = {}
    with open(path) as f:
        for line in f:
            addr, ids, cls, numa, drv, grp = line.split()
            v, d = ids.split(":")
            truth[addr] = {
                "vendor": int(v, 16), "device": int(d, 16), "class": int(cls, 16),
                "numa": int(numa[5:]), "driver": None if drv == "driver=-" else drv[7:],
                "group": None if grp == "group=-" else int(grp[6:]),
            }
    return truth


def device_objects(doc):
    """Find the list of PCI device objects in passthru's JSON, whatever its envelope."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in ("pci", "devices", "functions"):
            if isinstance(doc.get(key), list):
                return doc[key]
        for value in doc.values():
            found = device_objects(value)
            if found:
                return found
    return []


def pick(obj, *keys):
    for k in keys:
        if k in obj:
            return True, obj[k]
    return False, None


def as_int(value, base=16):
    if isinstance(value, dict):
        ok, value = pick(value, "id", "number", "value")
        if not ok:
            return "?"
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    try:
        return int(str(value), base)
    except ValueError:
        return "?"


def virtfns(root, addr):
    """A PF's VFs in virtfnN order, from the tree's links."""
    out = []
    base = os.path.join(root, "sys/bus/pci/devices", addr)
    while os.path.islink(os.path.join(base, "virtfn%d" % len(out))):
        out.append(os.path.basename(os.readlink(os.path.join(base, "virtfn%d" % len(out)))))
    return out


def check_passthru(json_path, truth, root):
    """Compare passthru's JSON with the floor and the tree; returns report lines."""
    with open(json_path) as f:
        doc = json.load(f)
    objs = device_objects(doc)
    out = ["passthru listed %d PCI functions (the tree has %d)." % (len(objs), len(truth))]
    by_addr = {}
    for o in objs:
        addr = next((v for v in o.values() if isinstance(v, str) and ADDR.match(v)), None)
        if addr:
            by_addr[addr] = o
    missing = sorted(set(truth) - set(by_addr))
    extra = sorted(set(by_addr) - set(truth))
    if missing:
        out.append("Missing: %d (%s)." % (len(missing), ", ".join(missing[:5])))
    if extra:
        out.append("Not in the tree: %d (%s)." % (len(extra), ", ".join(extra[:5])))
    fields = {
        "vendor": (("vendor_id", "vendor"), 16),
        "device": (("device_id", "device"), 16),
        "class": (("class_id", "class", "class_code"), 16),
        "numa": (("numa_node", "numa"), 10),
        "group": (("iommu_group", "group"), 10),
    }
    bad, unchecked = {}, set()
    groups = {}
    for addr in sorted(truth):
        if truth[addr]["group"] is not None:
            groups.setdefault(truth[addr]["group"], []).append(addr)
    for addr, o in by_addr.items():
        t = truth.get(addr)
        if not t:
            continue
        for field, (keys, base) in fields.items():
            ok, v = pick(o, *keys)
            if not ok:
                unchecked.add(field)
                continue
            v = as_int(v, base)
            want = t[field]
            if field == "class" and isinstance(v, int) and v > 0xFFFF:
                v >>= 8
            if field == "numa" and v is None:
                v = -1
            if v != want:
                bad.setdefault(field, []).append("%s: %r, want %r" % (addr, v, want))
        ok, drv = pick(o, "driver")
        if not ok:
            unchecked.add("driver")
        else:
            if isinstance(drv, dict):
                drv = drv.get("name")
            if (drv or None) != t["driver"]:
                bad.setdefault("driver", []).append("%s: %r, want %r" % (addr, drv, t["driver"]))
        ok, pf = pick(o, "physfn", "pf")
        if not ok and isinstance(o.get("sriov"), dict):
            ok, pf = pick(o["sriov"], "physfn", "pf")
        if not ok:
            unchecked.add("physfn")
        else:
            link = os.path.join(root, "sys/bus/pci/devices", addr, "physfn")
            want = os.path.basename(os.readlink(link)) if os.path.islink(link) else None
            if (pf or None) != want:
                bad.setdefault("physfn", []).append("%s: %r, want %r" % (addr, pf, want))
        members = o.get("group_members")
        if members is None:
            unchecked.add("group_members")
        elif sorted(members) != groups.get(t["group"], []):
            bad.setdefault("group_members", []).append(
                "%s: %r, want %r" % (addr, members[:4], groups.get(t["group"], [])[:4]))
        vfs = o.get("vfs")
        if vfs is None and isinstance(o.get("sriov"), dict):
            vfs = o["sriov"].get("vfs")
        if vfs is None:
            unchecked.add("vfs")
        elif list(vfs) != virtfns(root, addr):
            bad.setdefault("vfs", []).append("%s: %d listed, want %d" % (
                addr, len(vfs), len(virtfns(root, addr))))
    for field, items in sorted(bad.items()):
        out.append("Wrong %s on %d functions, e.g. %s." % (field, len(items),
                                                           "; ".join(items[:3])))
    if unchecked:
        out.append("Not found in the JSON, so not checked: %s." % ", ".join(sorted(unchecked)))
    if not bad and not missing and not extra:
        out.append("Ids, class, NUMA node, driver, IOMMU group and its members, physfn and"
                   " VFs agree with the tree.")
    return out


def merge_rounds(paths):
    """Pool the runs of several hyperfine exports of the same commands."""
    pooled = {}
    for path in paths:
        with open(path) as f:
            for r in json.load(f)["results"]:
                p = pooled.setdefault(r["command"], {"command": r["command"], "times": [],
                                                     "user": [], "system": []})
                p["times"] += r["times"]
                p["user"] += [r["user"]] * len(r["times"])
                p["system"] += [r["system"]] * len(r["times"])
    results = []
    for p in pooled.values():
        t = p["times"]
        n = len(t)
        mean = statistics.fmean(t)
        results.append({
            "command": p["command"], "times": t, "mean": mean,
            "stddev": statistics.stdev(t) if n > 1 else 0.0,
            "median": statistics.median(t), "min": min(t), "max": max(t),
            "user": statistics.fmean(p["user"]), "system": statistics.fmean(p["system"]),
        })
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hyperfine", required=True, nargs="+",
                    help="hyperfine JSON exports, one per round")
    ap.add_argument("--root", required=True)
    ap.add_argument("--strace-dir", required=True)
    ap.add_argument("--floor-out", required=True)
    ap.add_argument("--lspci-out", required=True)
    ap.add_argument("--command", action="append", default=[],
                    help="NAME=COMMAND LINE, for the table")
    ap.add_argument("--passthru-json")
    ap.add_argument("--passthru-bin")
    ap.add_argument("--perf-dso", help="perf report --sort dso output for passthru --json")
    ap.add_argument("--callgrind-dir",
                    help="callgrind-<tool>.log of each tool, callgrind-passthru-json.txt")
    ap.add_argument("--time-dir", help="time-<tool>.txt of each tool (/usr/bin/time %%M %%R)")
    args = ap.parse_args()

    results = merge_rounds(args.hyperfine)
    names = [r["command"] for r in results]
    # Ratios use medians: on a shared machine a few slow runs drag the mean.
    median = {r["command"]: r["median"] for r in results}
    fastest = min(r["mean"] for r in results)
    # CPU time (user + system, means) moves less than wall time when other jobs
    # share the cores.
    cpu = {r["command"]: r["user"] + r["system"] for r in results}
    truth = load_floor(args.floor_out)

    md = ["# Benchmarks", ""]
    md += ["Listing every PCI function of a synthetic host with 4096 functions (31 dual-port",
           "NICs with 63 VFs per port, 8 GPUs with their audio functions, 2 PCIe switches with",
           "16 NVMe drives each, 64 root ports) generated by `bench/gen-big-tree.py` with",
           "`tests/fixtures/mksysfs.py`. Reproduce with (the default build; run.sh takes",
           "build/cli/passthru):", "", "    meson setup build && ninja -C build && bench/run.sh",
           "",
           "Generated on %s from commit %s." % (
               datetime.date.today().isoformat(), sh("git", "-C", os.path.dirname(
                   os.path.abspath(__file__)), "rev-parse", "--short", "HEAD") or "?"), ""]
    md += ["| machine | |", "|---|---|"]
    md += ["| %s | %s |" % (k, v) for k, v in machine(args.root)]
    if args.passthru_bin:
        md.append("| passthru | %s (%s) |" % (
            os.path.relpath(os.path.realpath(args.passthru_bin), TOP),
            sh(args.passthru_bin, "--version") or "?"))
    md += ["", "## Time", "",
           "%d hyperfine rounds one after another, each timing every tool side by side;"
           " the runs of all rounds are pooled." % len(args.hyperfine), ""]
    load = float(open("/proc/loadavg").read().split()[0])
    if load >= os.cpu_count():
        md += ["The machine was loaded (load average %.2f on %d CPUs when this was written,"
               % (load, os.cpu_count()),
               "other jobs sharing the cores): wall times are inflated and spread; CPU times,",
               "and the instruction counts below, are the numbers to compare.", ""]
    md += ["| tool | command | mean [ms] | σ [ms] | median [ms] | min [ms] | max [ms] |"
           " user [ms] | sys [ms] | user+sys [ms] | runs | relative |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    root = args.root
    cmdlines = dict(c.split("=", 1) for c in args.command)
    for r in results:
        cmd = cmdlines.get(r["command"], r["command"]).replace(root, "ROOT")
        cmd = re.sub(r"\S*/(floor|passthru) ", r"\1 ", cmd)
        md.append("| %s | `%s` | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %d |"
                  " %.2f |" % (
                      r["command"], cmd, r["mean"] * 1e3, (r.get("stddev") or 0) * 1e3,
                      r["median"] * 1e3, r["min"] * 1e3, r["max"] * 1e3, r["user"] * 1e3,
                      r["system"] * 1e3, cpu[r["command"]] * 1e3, len(r["times"]),
                      r["mean"] / fastest))
    md.append("")
    if "passthru --json" in median:
        median["passthru"] = median["passthru --json"]
        cpu["passthru"] = cpu["passthru --json"]
    if "passthru" in median:
        md += ["The target is measured on `passthru --json`; `passthru (table)` shows the",
               "default table output of the same columns, for the cost of the JSON.", ""]

        def verdict(t):
            vs_lspci, vs_floor = t["lspci -nnk"] / t["passthru"], t["passthru"] / t["floor"]
            return ("passthru at least %.0fx faster than `lspci -nnk`: **%.2fx** (%s); "
                    "within %.1fx of the floor: **%.2fx** (%s)." % (
                        TARGET_VS_LSPCI, vs_lspci,
                        "met" if vs_lspci >= TARGET_VS_LSPCI else "not met",
                        TARGET_VS_FLOOR, vs_floor,
                        "met" if vs_floor <= TARGET_VS_FLOOR else "not met"))
        md += ["Targets in CPU time (user+sys, means; with other jobs on the cores, the steadier",
               "of the two times): " + verdict(cpu), "",
               "In wall time (ratios of medians): " + verdict(median), ""]
    else:
        md += ["passthru was not measured: no working `passthru ... list pci --json` "
               "was available when this was generated.", ""]
    md += ["`lspci -nnk` vs the floor: %.2fx (medians), %.2fx (CPU time)." % (
        median["lspci -nnk"] / median["floor"], cpu["lspci -nnk"] / cpu["floor"]), ""]
    if cpu["lspci -nnk"] / cpu["floor"] < TARGET_VS_LSPCI:
        md += ["Here even the floor is less than %.0fx faster than `lspci -nnk`, so that target "
               "cannot be met on this machine; the ratio to the floor is the one to watch." %
               TARGET_VS_LSPCI, ""]

    if args.callgrind_dir:
        counts = {n: callgrind_total(os.path.join(args.callgrind_dir,
                                                  "callgrind-%s.log" % slug(n))) for n in names}
        stats = {n: time_stats(os.path.join(args.time_dir or args.callgrind_dir,
                                            "time-%s.txt" % slug(n))) for n in names}
        md += ["## Instructions and memory", "",
               "User-space instructions counted by `valgrind --tool=callgrind`, one run each.",
               "They do not depend on the machine's load or on other jobs sharing the cores,",
               "so of all the numbers here they are the ones that hold on a loaded machine and",
               "compare from one run of this script to the next. They leave out the kernel:",
               "the syscalls and page faults, most of the floor's CPU time (see the syscall",
               "table and user vs sys time), so the ratios to the floor are far larger than",
               "in CPU time. Max RSS and minor page faults from `/usr/bin/time`.", "",
               "| tool | instructions | relative to the floor | max RSS [MiB] |"
               " minor page faults |", "|---|---|---|---|---|"]
        floor_count = counts.get("floor")
        for n in names:
            c, st = counts.get(n), stats.get(n)
            md.append("| %s | %s | %s | %s | %s |" % (
                n, "%.1fM" % (c / 1e6) if c else "?",
                "%.2f" % (c / floor_count) if c and floor_count else "?",
                "%.1f" % (st[0] / 1024) if st else "?", st[1] if st else "?"))
        total = counts.get("passthru --json")
        parts = callgrind_parts(os.path.join(args.callgrind_dir,
                                             "callgrind-passthru-json.txt"), total) if total else []
        if parts:
            md += ["", "Where the instructions of `passthru --json` go (inclusive: each part",
                   "counts what it calls, so `get` includes the name lookups; the rest of the",
                   "total is the program's start, the output's indentation, allocation):", "",
                   "| part | function | instructions | share |", "|---|---|---|---|"] + parts
        md.append("")
    md += ["## Syscalls", "", "`strace -c -f`, one run each:", ""]
    md += strace_table(args.strace_dir, names)
    if args.perf_dso:
        md += ["", "`perf record` of `passthru --json`, samples by object:", "",
               "| object | samples |", "|---|---|"]
        with open(args.perf_dso) as f:
            for line in f.read().splitlines()[:8]:
                pct, dso = line.split(None, 1)
                md.append("| %s | %s |" % (dso.strip(), pct))
    md += ["", "## Output checks", ""]
    md.append("- floor: %d functions; lspci: %d functions." % (
        len(truth), count_lspci(args.lspci_out)))
    if args.passthru_json:
        md += ["- " + line for line in check_passthru(args.passthru_json, truth, root)]
    md += ["", "## History", "",
           "Instructions of `passthru --json` (callgrind) after each change to its path,",
           "measured on this tree when the change was made:", "",
           "| commit | change | instructions | notes |", "|---|---|---|---|"] + HISTORY
    md += ["", "## Notes", "",
           "- The floor (`bench/floor.c`) opens `config` (64 bytes), `numa_node`, and",
           "  readlinks `driver` and `iommu_group` relative to one directory fd, writing",
           "  once at the end; for VFs, whose config space reads ffff, it also reads the",
           "  `vendor` and `device` files. It looks up no names.",
           "- `lspci -nnk` also resolves names from pci.ids; on this machine libkmod has no",
           "  `/lib/modules/$(uname -r)`, so its module lookup fails fast (a host with",
           "  modules makes lspci slower).",
           "- valgrind 3.19 does not know `openat2` and answers ENOSYS; passthru then opens",
           "  with `openat`, which costs the same in user space: its instruction count stands.",
           "- The `stat` column of passthru is one `fstat` per attribute it opens (since",
           "  e9d44b4): an attribute is opened with openat2(RESOLVE_BENEATH |",
           "  RESOLVE_NO_MAGICLINKS) and O_NONBLOCK, and read only when `fstat` says it is a",
           "  regular file. O_NONBLOCK alone keeps the open of a FIFO from waiting, but a read",
           "  would then take a writer's data or return an empty value, and a device node",
           "  would be read; the type is known only from the open fd, so the check costs a",
           "  syscall per attribute (user-space instructions barely move: +0.6%).",
           "- The tree is a regular filesystem, not kernfs: reads cost less than on a real",
           "  /sys, path walks through the deep symlinks about the same. Absolute numbers",
           "  move with the machine's load (see the load average above; on a shared VM",
           "  σ is large): compare medians and the ratios within one run. With other",
           "  jobs on the cores, user+sys CPU time is the steadier measure.",
           ""]
    print("\n".join(md))


if __name__ == "__main__":
    main()
