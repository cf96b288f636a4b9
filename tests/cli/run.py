#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Golden tests of the passthru command.

    run.py --passthru EXE CASE.json...             # run, diff with tests/expected/
    run.py --passthru EXE --update CASE.json...    # regenerate tests/expected/<case>.*

Each case (tests/cli/cases/<case>.json) names a fixture (tests/cli/fixtures/<name>.json, a
tests/fixtures/mksysfs.py spec), runs one or more passthru commands against a root built from
it, and compares stdout, stderr and the exit codes with tests/expected/<case>.{out,err,rc}.
The case format is described in tests/cli/README.md. Python 3 standard library only.
"""

import argparse
import copy
import difflib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "fixtures")
EXPECTED = os.path.join(SOURCE, "tests", "expected")
CAPTURED = os.path.join(SOURCE, "tests", "vm", "captured")
sys.path.insert(0, os.path.join(SOURCE, "tests", "fixtures"))

import mksysfs  # noqa: E402

CASE_KEYS = {"description", "fixture", "spec", "remove", "write", "sysroot", "args", "commands",
             "env", "schema", "dump"}

# --------------------------------------------------------------------------------------------
# The documented JSON format (man/passthru-list.1, "JSON OUTPUT"): key -> (types, pattern).
# "string", "integer", "boolean", "array" (of strings); "null" where the key may be null.
# Every key of a class is always present, except the table-only keys in OPTIONAL_KEYS, which
# appear only when asked for with -o.

HEX2 = r"[0-9a-f]{2}"
HEX4 = r"[0-9a-f]{4}"
# The domain has four digits, or five to eight without a leading zero (32-bit domains).
PCI_ADDRESS = r"(?:[0-9a-f]{4}|[1-9a-f][0-9a-f]{4,7}):[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]"

PCI_SCHEMA = {
    "address": ({"string"}, PCI_ADDRESS),
    "vendor_id": ({"string", "null"}, HEX4),
    "device_id": ({"string", "null"}, HEX4),
    "subsystem_vendor_id": ({"string", "null"}, HEX4),
    "subsystem_device_id": ({"string", "null"}, HEX4),
    "revision": ({"string", "null"}, HEX2),
    "vendor_name": ({"string", "null"}, None),
    "device_name": ({"string", "null"}, None),
    "subsystem_name": ({"string", "null"}, None),
    "class": ({"string", "null"}, r"[0-9a-f]{6}"),
    "class_name": ({"string", "null"}, None),
    "prog_if_name": ({"string", "null"}, None),
    "type": ({"string"}, None),
    "driver": ({"string", "null"}, None),
    "modules": ({"array"}, None),
    "iommu_group": ({"integer", "null"}, None),
    "group_members": ({"array"}, PCI_ADDRESS),
    "numa_node": ({"integer", "null"}, None),
    "boot_vga": ({"boolean"}, None),
    "bridge": ({"boolean"}, None),
    "physfn": ({"string", "null"}, PCI_ADDRESS),
    "vfs": ({"array"}, PCI_ADDRESS),
    "sriov_totalvfs": ({"integer", "null"}, None),
    "sriov_numvfs": ({"integer", "null"}, None),
    "reset_methods": ({"array"}, None),
    "link_speed": ({"string", "null"}, None),
    "link_width": ({"integer", "null"}, None),
    "max_link_speed": ({"string", "null"}, None),
    "max_link_width": ({"integer", "null"}, None),
    "problems": ({"array"}, None),
    "id": ({"string", "null"}, HEX4 + ":" + HEX4),
    "name": ({"string", "null"}, None),
}

USB_SCHEMA = {
    "port": ({"string"}, r"usb[0-9]+|[0-9]+-[0-9]+(\.[0-9]+)*"),
    "busnum": ({"integer", "null"}, None),
    "devnum": ({"integer", "null"}, None),
    "vendor_id": ({"string", "null"}, HEX4),
    "product_id": ({"string", "null"}, HEX4),
    "vendor_name": ({"string", "null"}, None),
    "product_name": ({"string", "null"}, None),
    "class": ({"string", "null"}, HEX2),
    "speed": ({"string", "null"}, r"[0-9]+(\.[0-9]+)?"),
    "manufacturer": ({"string", "null"}, None),
    "product": ({"string", "null"}, None),
    "serial": ({"string", "null"}, None),
    "drivers": ({"array"}, None),
    "hub": ({"boolean"}, None),
    "root_hub": ({"boolean"}, None),
    "problems": ({"array"}, None),
    "id": ({"string", "null"}, HEX4 + ":" + HEX4),
    "name": ({"string", "null"}, None),
}

SERIAL_SCHEMA = {
    "path": ({"string"}, r"/dev/tty[A-Za-z]+[0-9]+"),
    "name": ({"string"}, r"tty[A-Za-z]+[0-9]+"),
    "port": ({"string", "null"}, r"0x[0-9a-f]+"),
    "irq": ({"integer", "null"}, None),
    "uart_type": ({"integer", "null"}, None),
    "console": ({"boolean"}, None),
    "usb": ({"string", "null"}, r"[0-9]+-[0-9]+(\.[0-9]+)*"),
    "driver": ({"string", "null"}, None),
}

SCHEMAS = {"pci": PCI_SCHEMA, "usb": USB_SCHEMA, "serial": SERIAL_SCHEMA}
# The PCI details that cost extra reads per function: in `list --json` only when asked for
# with -o or --output-all, always in `show --json`.
PCI_DETAIL_KEYS = {"sriov_totalvfs", "sriov_numvfs", "reset_methods", "link_speed", "link_width",
                   "max_link_speed", "max_link_width"}
OPTIONAL_KEYS = {"pci": {"id", "name"} | PCI_DETAIL_KEYS, "usb": {"id", "name"}, "serial": set()}


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def check_device(cls, obj, where, show=False):
    """Problems of one device object against the documented schema of its class."""
    problems = []
    schema = SCHEMAS[cls]
    if not isinstance(obj, dict):
        return ["%s: not an object" % where]
    for key, (types, pattern) in schema.items():
        if key not in obj:
            # show --json has every key; list has the optional ones only on request.
            if show or key not in OPTIONAL_KEYS[cls]:
                problems.append("%s: key %r missing" % (where, key))
            continue
        value = obj[key]
        t = json_type(value)
        if t not in types:
            problems.append("%s.%s: %s, expected %s" % (where, key, t, "|".join(sorted(types))))
            continue
        values = value if t == "array" else [value] if t == "string" else []
        for v in values:
            if not isinstance(v, str):
                problems.append("%s.%s: array element %r is not a string" % (where, key, v))
            elif not v:
                problems.append("%s.%s: empty string (unknown values are null)" % (where, key))
            elif pattern and not re.fullmatch(pattern, v):
                problems.append("%s.%s: %r does not match %s" % (where, key, v, pattern))
    for key in obj:
        if key not in schema:
            problems.append("%s: undocumented key %r" % (where, key))
    return problems


def check_schema(kind, text):
    """Validates a JSON document printed by list --json or show --json."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        return ["stdout is not JSON: %s" % e]
    if kind == "list":
        if not isinstance(doc, dict) or not doc:
            return ["list: expected an object with pci, usb and/or serial"]
        problems = []
        for cls, devices in doc.items():
            if cls not in SCHEMAS:
                problems.append("list: unknown class key %r" % cls)
                continue
            if not isinstance(devices, list):
                problems.append("list.%s: not an array" % cls)
                continue
            for i, dev in enumerate(devices):
                problems += check_device(cls, dev, "%s[%d]" % (cls, i))
        return problems
    if kind.startswith("show-"):
        return check_device(kind[5:], doc, "show", show=True)
    if kind == "types":
        return check_types(doc)
    return ["unknown schema %r in the case" % kind]


def check_types(doc):
    """`passthru type list --json`: {"types": [...], "problems": [...]}."""
    problems = []
    if not isinstance(doc, dict) or set(doc) != {"types", "problems"}:
        return ["type list: expected an object with exactly 'types' and 'problems'"]
    for i, rule in enumerate(doc["types"]):
        where = "types[%d]" % i
        if not isinstance(rule, dict) or set(rule) != {"name", "match", "file", "line"}:
            problems.append("%s: expected keys name, match, file, line" % where)
            continue
        if not isinstance(rule["name"], str) or not rule["name"]:
            problems.append("%s.name: not a non-empty string" % where)
        if not isinstance(rule["match"], str) or not re.fullmatch(
                HEX4 + ":" + HEX4 + "(:" + HEX4 + ":" + HEX4 + ")?", rule["match"]):
            problems.append("%s.match: %r is not VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE]"
                            % (where, rule["match"]))
        if not isinstance(rule["file"], str) or not rule["file"].startswith("/"):
            problems.append("%s.file: not an absolute path" % where)
        if json_type(rule["line"]) != "integer":
            problems.append("%s.line: not an integer" % where)
    if not isinstance(doc["problems"], list) or not all(
            isinstance(p, str) for p in doc["problems"]):
        problems.append("problems: not an array of strings")
    return problems


# --------------------------------------------------------------------------------------------

def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def fixture_spec(case):
    """The mksysfs spec of a case: its fixture file, or its inline spec."""
    if "spec" in case:
        spec = copy.deepcopy(case["spec"])
    else:
        spec = load_json(os.path.join(FIXTURES, case["fixture"] + ".json"))
    spec.pop("description", None)
    # Files whose content lives beside the fixtures (pci.ids, configuration).
    files = spec.setdefault("files", {})
    for dest, src in spec.pop("files_from", {}).items():
        with open(os.path.join(FIXTURES, src), encoding="utf-8") as f:
            files[dest] = f.read()
    return spec


# Verbs (and "type list") that never write below the root: their cases may share one cached
# root per fixture instead of building it again (mksysfs writes over a thousand files).
READ_ONLY_VERBS = {"list", "show"}


def read_only(commands):
    for args in commands:
        if not args:
            continue
        if args[0] in READ_ONLY_VERBS or args[:2] == ["type", "list"]:
            continue
        return False
    return True


def cached_root(case, cache):
    """A root built once per fixture content and mksysfs version into cache, kept between
    runs and used read-only."""
    spec = fixture_spec(case)
    key = hashlib.sha256()
    key.update(json.dumps(spec, sort_keys=True).encode())
    key.update(json.dumps([case.get("remove", []), case.get("write", {})], sort_keys=True).encode())
    with open(mksysfs.__file__, "rb") as f:
        key.update(f.read())
    if spec.get("captured"):
        tree_digest(os.path.join(CAPTURED, spec["captured"]), key)
    root = os.path.join(cache, key.hexdigest()[:32])
    if os.path.isdir(root):
        return root
    os.makedirs(cache, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="building-", dir=cache)
    build_root(case, os.path.join(tmp, "root"))
    try:
        # Atomic: a concurrent test either sees no root or a complete one.
        os.rename(os.path.join(tmp, "root"), root)
    except OSError:
        if not os.path.isdir(root):
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def tree_digest(top, key):
    """Feeds a directory tree (names, link targets, contents) into a hash."""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            key.update(os.path.relpath(path, top).encode() + b"\0")
            if os.path.islink(path):
                key.update(b"L" + os.readlink(path).encode() + b"\0")
            elif os.path.isfile(path):
                with open(path, "rb") as f:
                    key.update(b"F" + f.read() + b"\0")


def build_root(case, root):
    spec = fixture_spec(case)
    captured = spec.pop("captured", None)
    if captured:
        # A tree captured from a real kernel, copied as it is (relative links and all),
        # plus the files the fixture adds (its own pci.ids).
        shutil.copytree(os.path.join(CAPTURED, captured), root, symlinks=True)
        for rel, content in spec.pop("files", {}).items():
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(content)
        if spec:
            raise ValueError("a captured fixture takes only files and files_from, not %s"
                             % ", ".join(sorted(spec)))
    else:
        mksysfs.build(spec, root)
    for rel in case.get("remove", []):
        path = os.path.join(root, rel)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    # Files written over the built tree, e.g. a regular file where a directory should be.
    for rel, content in case.get("write", {}).items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)


def command_line(exe, root, args, how):
    if how == "before":
        return [exe, "--sysroot", root] + args, {}
    if how == "after":
        return [exe] + args + ["--sysroot", root], {}
    if how == "env":
        return [exe] + args, {"PASSTHRU_SYSROOT": root}
    raise ValueError("sysroot must be before, after or env, not %r" % how)


def run_case(exe, case_path, cache=None):
    """Runs a case; returns (out, err, rc, schema problems) as the golden files hold them."""
    case = load_json(case_path)
    unknown = set(case) - CASE_KEYS
    if unknown:
        raise ValueError("%s: unknown keys %s" % (case_path, ", ".join(sorted(unknown))))
    if ("args" in case) == ("commands" in case):
        raise ValueError("%s: give exactly one of args and commands" % case_path)
    commands = [case["args"]] if "args" in case else case["commands"]
    several = "commands" in case

    tmp = tempfile.mkdtemp(prefix="passthru-cli-")
    try:
        if cache and read_only(commands):
            root = cached_root(case, cache)
        else:
            root = os.path.join(tmp, "root")
            build_root(case, root)
        env = dict(os.environ)
        env.pop("PASSTHRU_SYSROOT", None)
        env.pop("COLUMNS", None)
        env["LC_ALL"] = "C"
        env.update(case.get("env", {}))
        outs, errs, rcs, problems = [], [], [], []
        for args in commands:
            argv, extra_env = command_line(exe, root, args, case.get("sysroot", "before"))
            p = subprocess.run(argv, env=dict(env, **extra_env), cwd=tmp,
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            # Golden files hold the exact bytes: surrogateescape carries bytes that are not
            # UTF-8 through str and back.
            out = p.stdout.decode("utf-8", "surrogateescape")
            err = p.stderr.decode("utf-8", "surrogateescape")
            if case.get("schema") and p.returncode == 0:
                try:
                    text = p.stdout.decode("utf-8")
                except UnicodeDecodeError as e:
                    problems.append("%s: stdout is not UTF-8: %s" % (" ".join(args), e))
                else:
                    problems += ["%s: %s" % (" ".join(args), m)
                                 for m in check_schema(case["schema"], text)]
            if several:
                header = "$ passthru %s\n" % " ".join(args)
                out, err = header + out, (header + err if err else "")
            outs.append(out)
            errs.append(err)
            rcs.append("%d\n" % p.returncode)
        for rel in case.get("dump", []):
            path = os.path.join(root, rel)
            if os.path.isfile(path):
                with open(path, encoding="utf-8", errors="surrogateescape") as f:
                    outs.append("--- %s ---\n%s" % (rel, f.read()))
            else:
                outs.append("--- %s: absent ---\n" % rel)
        # The root is a temporary directory: expected files name it @ROOT@.
        out = "".join(outs).replace(root, "@ROOT@")
        err = "".join(errs).replace(root, "@ROOT@")
        return out, err, "".join(rcs), problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_expected(path):
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()
    except FileNotFoundError:
        return None


def diff(name, expected, actual):
    if expected is None:
        return "%s: missing (run with --update to create it)\n" % name
    text = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        "expected/" + name, "actual/" + name))
    # Show bytes that are not UTF-8 as \xHH.
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def check_registered(directory, names):
    """Every case file is a meson test, and every meson test has its case and golden files."""
    on_disk = {os.path.splitext(f)[0] for f in os.listdir(directory) if f.endswith(".json")}
    registered = set(names)
    problems = ["%s.json is not registered in tests/cli/meson.build" % n
                for n in sorted(on_disk - registered)]
    problems += ["%s is registered but has no case file" % n for n in sorted(registered - on_disk)]
    for n in sorted(registered & on_disk):
        for ext in (".out", ".err", ".rc"):
            if not os.path.exists(os.path.join(EXPECTED, n + ext)):
                problems.append("tests/expected/%s%s is missing" % (n, ext))
    # Golden files nobody checks any more are stale truths.
    for f in sorted(os.listdir(EXPECTED)):
        base, ext = os.path.splitext(f)
        if ext in (".out", ".err", ".rc") and base not in on_disk:
            problems.append("tests/expected/%s belongs to no case" % f)
    for p in problems:
        print("FAIL " + p)
    if not problems:
        print("ok %d cases registered" % len(registered))
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--passthru", help="the passthru executable")
    ap.add_argument("--update", action="store_true",
                    help="write tests/expected/<case>.* instead of comparing")
    ap.add_argument("--check-registered", metavar="DIR",
                    help="check that the names given are exactly the cases of DIR")
    ap.add_argument("--cache", metavar="DIR",
                    help="keep the roots of read-only cases in DIR between runs (meson gives "
                         "each test its own below the build directory); without it every case "
                         "builds its root anew")
    ap.add_argument("cases", nargs="+", help="case files (tests/cli/cases/*.json)")
    opts = ap.parse_args()
    if opts.check_registered:
        return check_registered(opts.check_registered, opts.cases)
    if not opts.passthru:
        ap.error("--passthru is required")
    exe = os.path.abspath(opts.passthru)

    failed = 0
    for case_path in opts.cases:
        name = os.path.splitext(os.path.basename(case_path))[0]
        try:
            out, err, rc, problems = run_case(exe, case_path, opts.cache)
        except (OSError, ValueError, KeyError, subprocess.TimeoutExpired) as e:
            print("FAIL %s: %s" % (name, e))
            failed += 1
            continue
        files = {".out": out, ".err": err, ".rc": rc}
        if opts.update:
            for ext, text in files.items():
                with open(os.path.join(EXPECTED, name + ext), "w", encoding="utf-8",
                          errors="surrogateescape") as f:
                    f.write(text)
            print("updated %s" % name)
        else:
            report = ""
            for ext, text in files.items():
                report += diff(name + ext, read_expected(os.path.join(EXPECTED, name + ext)),
                               text)
            if report:
                print("FAIL %s\n%s" % (name, report))
                failed += 1
                continue
        if problems:
            print("FAIL %s: the JSON does not follow the documented format:" % name)
            for p in problems:
                print("  " + p)
            failed += 1
            continue
        if not opts.update:
            print("ok %s" % name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
