#!/bin/sh
# The guest half of ./run.sh: boots the intel-IOMMU test guest with the given passthru and
# prints what tools/main-job.sh printed there, once (the guest console, which also carries
# it, goes to a log that is shown only when the guest fails), then the service's story
# (tools/main-job-service.sh): bind, passthrud, an allocation over its API, a nested QEMU.
# Usage: tools/main-job-in-guest.sh PASSTHRU
set -eu
passthru=$(realpath "${1:?usage: main-job-in-guest.sh PASSTHRU}")
# The service from the same build.
passthrud=$(realpath "$(dirname "$passthru")/../daemon/passthrud")
cd "$(dirname "$0")/.."

./tests/vm/fetch-kernels.sh >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results
status=0
./tests/vm/run-guest.sh --kernel 6.12 --iommu intel --passthru "$passthru" \
    --bin "$passthrud" --bin /usr/bin/curl --with-qemu \
    --file tools/main-job.sh --file tools/main-job-service.sh \
    --script tools/main-job-guest.sh --results "$results" \
    >"$work/console.out" || status=$?
if [ -s "$results/job.log" ]; then
    cat "$results/job.log"
else
    echo "main-job-in-guest: the guest job printed nothing; console:" >&2
    tail -n 40 "$work/console.out" >&2
    [ "$status" != 0 ] || status=1
fi
exit "$status"
