#!/bin/sh
# Runs every test of passthru on a fresh Debian 12 machine: installs what is missing, builds
# three ways (plain with -Werror, AddressSanitizer+UBSan, libFuzzer), runs the unit, CLI,
# fuzz-smoke and real-kernel (QEMU guest) suites, fuzzes each parser briefly, and ends with
# the line "N passed, N failed".
#
#   ./test.sh                 everything
#   ./test.sh --no-vm         everything but the real-kernel guest suites
#   FUZZ_SECONDS=60 ./test.sh longer fuzzing (default 10 s per target)
set -eu
cd "$(dirname "$0")"

with_vm=1
for a in "$@"; do
    case "$a" in
        --no-vm) with_vm=0 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "test.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

./tools/install-deps.sh
if [ "$with_vm" = 1 ]; then
    ./tests/vm/fetch-kernels.sh >/dev/null
    # The Debian guest's root (debootstrap, several minutes on a loaded machine) is made before
    # the tests, outside their time limits; when it cannot be, the debian tests say why.
    ./tests/vm/debian/mkroot.sh >/dev/null ||
        echo "test.sh: cannot build the Debian guest's root now; the debian tests will retry" >&2
fi

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# One line per test into $results/all: "<result> <name>".
record_meson() { # build dir, label
    python3 tools/meson-results.py "$1/meson-logs/testlog.json" "$2" >>"$results/all"
}

# Configures and builds; on failure shows why, records a failed "build" test and returns 1.
setup() { # dir, options...
    dir=$1
    shift
    if [ -d "$dir" ]; then
        set -- --reconfigure "$@"
    fi
    if meson setup "$dir" "$@" >"$results/$dir.setup.log" 2>&1 &&
            ninja -C "$dir" >"$results/$dir.build.log" 2>&1; then
        echo "OK build:$dir" >>"$results/all"
        return 0
    fi
    tail -40 "$results/$dir.setup.log" "$results/$dir.build.log" 2>/dev/null >&2
    echo "FAIL build:$dir" >>"$results/all"
    return 1
}

echo "== plain build (-Werror), all suites" >&2
if setup build-ci -Dwerror=true; then
    suites="--suite unit --suite cli --suite daemon --suite fuzz-smoke --suite tools"
    [ "$with_vm" = 1 ] && suites="$suites --suite vm"
    # shellcheck disable=SC2086
    meson test -C build-ci --print-errorlogs $suites >&2 || true
    record_meson build-ci plain
fi

echo "== AddressSanitizer + UBSan build, unit/cli/fuzz-smoke" >&2
if setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        meson test -C build-asan --print-errorlogs --suite unit --suite cli --suite fuzz-smoke >&2 || true
    record_meson build-asan asan
fi

echo "== libFuzzer build, ${FUZZ_SECONDS:-10} s per target" >&2
if CC=clang setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false; then
    for t in $(python3 tools/meson-results.py --fuzz-targets fuzz/meson.build); do
        corpus=$(mktemp -d)
        cp -r "fuzz/corpus/$t/." "$corpus/" 2>/dev/null || true
        if (cd "$corpus" && "$OLDPWD/build-fuzz/fuzz/$t" -max_total_time="${FUZZ_SECONDS:-10}" \
                -timeout=10 -rss_limit_mb=2048 .) >"$results/$t.log" 2>&1; then
            echo "OK fuzz:$t" >>"$results/all"
        else
            echo "FAIL fuzz:$t" >>"$results/all"
            tail -40 "$results/$t.log" >&2
        fi
        rm -rf "$corpus"
    done
fi

echo >&2
grep -v '^OK ' "$results/all" >&2 || true
passed=$(grep -c '^OK ' "$results/all" || true)
failed=$(grep -vc '^OK ' "$results/all" || true)
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
