#!/bin/sh
# What ./run.sh shows: the inventory and the host's readiness, as an operator would look.
# Usage: main-job.sh [PASSTHRU]
set -u
p=${1:-passthru}
section() { printf '\n### %s\n' "$*"; }
section "passthru list"
"$p" list
section "passthru list pci --tree"
"$p" list pci --tree
if "$p" --help 2>/dev/null | grep -q '^  check'; then
    section "passthru check"
    "$p" check
fi
exit 0
