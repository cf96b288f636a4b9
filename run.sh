#!/bin/sh
# The main job: build passthru and show the device inventory of a host with an IOMMU.
#
# On a host that has IOMMU groups, it runs `passthru list` there. On a machine without an
# IOMMU (most development and CI VMs), it boots the test guest (QEMU with an emulated Intel
# IOMMU, Debian's 6.12 kernel; see tests/vm/README.md) and shows passthru run inside it, then
# the host service's story there: bind the NIC, passthrud starts, a VM is allocated the NIC
# over its API (curl), a nested QEMU from `passthru qemu-args` holds it, release refused while
# it runs and accepted after (tools/main-job-service.sh).
#
#   ./run.sh              inventory (guest when this host has no IOMMU)
#   ./run.sh --guest      always in the guest
#   ./run.sh --host       always on this host
set -eu
cd "$(dirname "$0")"

where=auto
for a in "$@"; do
    case "$a" in
        --guest) where=guest ;;
        --host) where=host ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $a" >&2; exit 2 ;;
    esac
done

./tools/install-deps.sh
if [ -d build-run ]; then
    meson setup --reconfigure build-run >/dev/null
else
    meson setup build-run >/dev/null
fi
ninja -C build-run >/dev/null

if [ "$where" = auto ]; then
    if [ -n "$(ls -A /sys/kernel/iommu_groups 2>/dev/null)" ]; then
        where=host
    else
        where=guest
    fi
fi

if [ "$where" = host ]; then
    exec ./tools/main-job.sh build-run/cli/passthru
fi

echo "This host has no IOMMU: showing a QEMU guest with an emulated Intel IOMMU." >&2
exec ./tools/main-job-in-guest.sh build-run/cli/passthru
