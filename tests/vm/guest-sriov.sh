#!/bin/sh
# Guest: give the NVMe PF (00:03.0) its four VFs, kept off the nvme driver so
# that they stay driverless; the first is then bound to vfio-pci if the IOMMU
# gave it a group (vfio-pci refuses a device without one), so both "no
# driver" and "vfio-pci" are seen.
set -e
pf=/sys/bus/pci/devices/0000:00:03.0
echo 0 >"$pf/sriov_drivers_autoprobe"
echo 4 >"$pf/sriov_numvfs"
if [ -e /sys/bus/pci/devices/0000:00:03.1/iommu_group ]; then
	echo vfio-pci >/sys/bus/pci/devices/0000:00:03.1/driver_override
	echo 0000:00:03.1 >/sys/bus/pci/drivers_probe
fi
