#!/usr/bin/env python3
"""Helpers for test.sh.

meson-results.py TESTLOG.json LABEL   one line per test: "OK label:suite/name" or "FAIL ..."
meson-results.py --fuzz-targets FILE  the fuzz target names listed in fuzz/meson.build
"""
import json
import re
import sys


def results(path, label):
    with open(path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            ok = t["result"] in ("OK", "EXPECTEDFAIL")
            suite = t.get("suite", ["?"])[0].split(":")[-1]
            print(f"{'OK' if ok else 'FAIL'} {label}:{suite}/{t['name']}")


def fuzz_targets(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"fuzz_targets\s*=\s*\[(.*?)\]", text, re.S)
    for name in re.findall(r"'([^']+)'", m.group(1) if m else ""):
        print(name)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--fuzz-targets":
        fuzz_targets(sys.argv[2])
    elif len(sys.argv) == 3:
        results(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
