#!/bin/sh
# Regenerate the sysfs fixtures in captured/ (see README.md):
#   qemu-q35-intel-6.1   a guest of run-guest.sh (intel IOMMU, kernel 6.1)
#   qemu-q35-intel-6.12  the same with kernel 6.12 (serial-base ports, 6.2+ vfio)
#   dev-vm-noiommu       the machine this runs on (a VM without IOMMU or USB)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$here/captured"

for k in 6.1 6.12; do
	"$here/run-guest.sh" --kernel "$k" --iommu intel --results "$tmp/$k" \
		--file "$here/capture-sysfs.sh" --script "$here/capture-guest.sh" </dev/null
	rm -rf "$here/captured/qemu-q35-intel-$k"
	cp -a "$tmp/$k/capture" "$here/captured/qemu-q35-intel-$k"
done

# This machine's command line carries its hypervisor's private arguments:
# the fixture gets a plain one instead.
rm -rf "$here/captured/dev-vm-noiommu"
"$here/capture-sysfs.sh" --cmdline "console=ttyS0 quiet nomodule" "$here/captured/dev-vm-noiommu"
