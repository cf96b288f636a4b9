#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Benchmark `passthru list pci --json` against `lspci -nnk` and the floor
# (bench/floor.c) on a fake root of 4096 PCI functions (bench/gen-big-tree.py).
# Wall and CPU time (hyperfine), syscalls (strace -c), user-space instructions
# (valgrind --tool=callgrind: deterministic, the number that holds on a loaded
# machine), page faults and memory (/usr/bin/time).
#
#   bench/run.sh [--no-docs] [--quick]     (--quick: one round of 5 runs, for trying it out)
#
# Environment:
#   PASSTHRU   passthru binary (default: build/cli/passthru, else build*/cli/passthru)
#   FLOOR      floor binary (default: built here with $CC, default cc)
#   BENCH_DIR  cache for the tree, the floor and the raw results (default /tmp/passthru-bench)
#
# Prints a markdown report and, unless --no-docs, writes it to docs/BENCHMARKS.md.
# The tree is regenerated only when gen-big-tree.py or mksysfs.py change.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${BENCH_DIR:-/tmp/passthru-bench}
root=$cache/tree
write_docs=1
runs=(--warmup 1 --runs 6)
rounds=5
for a in "$@"; do
	case $a in
	--no-docs) write_docs=0 ;;
	--quick) runs=(--warmup 1 --runs 5); rounds=1 ;;
	*) echo "usage: bench/run.sh [--no-docs] [--quick]" >&2; exit 2 ;;
	esac
done
mkdir -p "$cache"

need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "run.sh: installing $2" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
	fi
	command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 is missing (package $2)" >&2; exit 1; }
}
need hyperfine hyperfine
need strace strace
need valgrind valgrind
need callgrind_annotate valgrind
need /usr/bin/time time
need lspci pciutils
need python3 python3

# The floor.
floor=${FLOOR:-$cache/floor}
if [ -z "${FLOOR:-}" ] && { [ ! -x "$floor" ] || [ "$here/floor.c" -nt "$floor" ]; }; then
	${CC:-cc} -O2 -Wall -Wextra -o "$floor" "$here/floor.c"
fi

# The tree, cached by the hash of its generators.
stamp=$(cat "$here/gen-big-tree.py" "$top/tests/fixtures/mksysfs.py" | sha256sum | cut -c1-16)
if [ "$(cat "$cache/tree.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -d "$root/sys" ]; then
	rm -f "$cache/tree.stamp"
	python3 "$here/gen-big-tree.py" "$root" --force >&2
	echo "$stamp" >"$cache/tree.stamp"
fi

# passthru: the first candidate that can list the tree; skipped (and said so) if none.
if [ -n "${PASSTHRU:-}" ]; then
	candidates=("$PASSTHRU")
else
	candidates=("$top/build/cli/passthru" "$top"/build?*/cli/passthru)
fi
passthru=
for p in "${candidates[@]}"; do
	[ -x "$p" ] || continue
	if [ -z "${PASSTHRU:-}" ] && ldd "$p" 2>/dev/null | grep -q 'libasan\|libubsan'; then
		echo "run.sh: skipping $p: built with sanitizers" >&2
		continue
	fi
	if "$p" --sysroot "$root" list pci --json >"$cache/passthru.json" 2>"$cache/passthru.err"
	then
		passthru=$p
		break
	fi
	echo "run.sh: $p --sysroot $root list pci --json failed:" >&2
	head -5 "$cache/passthru.err" >&2
done
[ -n "$passthru" ] || echo "run.sh: no working passthru; benchmarking lspci and the floor only" >&2

lspci_cmd=(lspci -nnk -O "sysfs.path=$root/sys/bus/pci")
floor_cmd=("$floor" "$root")
passthru_cmd=("$passthru" --sysroot "$root" list pci --json)
table_cmd=("$passthru" --sysroot "$root" list pci)
names=("lspci -nnk" floor)
cmds=("${lspci_cmd[*]}" "${floor_cmd[*]}")
if [ -n "$passthru" ]; then
	names=("passthru --json" "passthru (table)" "${names[@]}")
	cmds=("${passthru_cmd[*]}" "${table_cmd[*]}" "${cmds[@]}")
fi

# Timing: all tools side by side, in rounds so that a burst of load from other
# jobs hits every tool alike (-N: no shell, hyperfine splits the words).
args=()
for i in "${!names[@]}"; do
	args+=(-n "${names[$i]}" "${cmds[$i]}")
done
rm -f "$cache"/hyperfine-*.json
for r in $(seq "$rounds"); do
	hyperfine -N "${runs[@]}" --export-json "$cache/hyperfine-$r.json" "${args[@]}" >&2
done

# Syscalls per tool, and the outputs the report checks.
"${lspci_cmd[@]}" >"$cache/lspci.out" 2>/dev/null
"${floor_cmd[@]}" >"$cache/floor.out"
strace -c -f -o "$cache/strace-lspci-nnk.txt" "${lspci_cmd[@]}" >/dev/null 2>&1
strace -c -f -o "$cache/strace-floor.txt" "${floor_cmd[@]}" >/dev/null 2>&1
rm -f "$cache"/strace-passthru-*.txt
if [ -n "$passthru" ]; then
	strace -c -f -o "$cache/strace-passthru-json.txt" "${passthru_cmd[@]}" >/dev/null 2>&1
	strace -c -f -o "$cache/strace-passthru-table.txt" "${table_cmd[@]}" >/dev/null 2>&1
fi

# Instructions, page faults and memory per tool; valgrind is slow, so one run each
# (the counts do not depend on the machine's load).
slug() { echo "$1" | sed -E 's/[^A-Za-z0-9_]+/-/g; s/^-+|-+$//g'; }
rm -f "$cache"/callgrind-*.log "$cache"/callgrind-*.out "$cache"/time-*.txt
for i in "${!names[@]}"; do
	s=$(slug "${names[$i]}")
	read -r -a cmd <<<"${cmds[$i]}"
	valgrind --tool=callgrind --callgrind-out-file="$cache/callgrind-$s.out" "${cmd[@]}" \
		>/dev/null 2>"$cache/callgrind-$s.log"
	/usr/bin/time -f "%M %R" -o "$cache/time-$s.txt" "${cmd[@]}" >/dev/null 2>&1
done
# Where passthru --json's instructions go (inclusive costs of its main parts).
if [ -n "$passthru" ]; then
	callgrind_annotate --inclusive=yes "$cache/callgrind-passthru-json.out" \
		>"$cache/callgrind-passthru-json.txt" 2>/dev/null || true
fi

# Where passthru's time goes, by library, when perf is there (not installed for this).
rm -f "$cache/perf-dso.txt"
if [ -n "$passthru" ] && command -v perf >/dev/null 2>&1 &&
	perf record -q -F 5000 -o "$cache/perf.data" "${passthru_cmd[@]}" >/dev/null 2>&1; then
	perf report -i "$cache/perf.data" --no-children --sort dso --stdio 2>/dev/null |
		grep '%' >"$cache/perf-dso.txt" || true
fi

report=$cache/BENCHMARKS.md
args=()
for i in "${!names[@]}"; do
	args+=(--command "${names[$i]}=${cmds[$i]}")
done
[ -n "$passthru" ] && args+=(--passthru-json "$cache/passthru.json" --passthru-bin "$passthru")
[ -s "$cache/perf-dso.txt" ] && args+=(--perf-dso "$cache/perf-dso.txt")
python3 "$here/report.py" --hyperfine "$cache"/hyperfine-*.json --root "$root" \
	--floor-out "$cache/floor.out" --lspci-out "$cache/lspci.out" --strace-dir "$cache" \
	--callgrind-dir "$cache" --time-dir "$cache" "${args[@]}" >"$report"
cat "$report"
if [ "$write_docs" = 1 ]; then
	mkdir -p "$top/docs"
	# The bind benchmark's section (bench/bind/run.sh) is kept as it stands.
	bind_section=$(sed -n '/^<!-- bench\/bind: begin/,/^<!-- bench\/bind: end/p' \
		"$top/docs/BENCHMARKS.md" 2>/dev/null || true)
	cp "$report" "$top/docs/BENCHMARKS.md"
	if [ -n "$bind_section" ]; then
		printf '%s\n' "$bind_section" >>"$top/docs/BENCHMARKS.md"
	fi
	echo "run.sh: wrote docs/BENCHMARKS.md" >&2
fi
