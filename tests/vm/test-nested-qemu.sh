#!/bin/sh
# Guest: the --with-qemu image works: a nested QEMU (TCG) takes the e1000e
# through vfio-pci and holds its group, the container and a device fd.
set -u
d=0000:00:02.0
sysd=/sys/bus/pci/devices/$d
group=$(basename "$(readlink "$sysd/iommu_group")")
echo vfio-pci >"$sysd/driver_override"
echo "$d" >"$sysd/driver/unbind"
echo "$d" >/sys/bus/pci/drivers_probe
driver=$(basename "$(readlink "$sysd/driver")")
[ "$driver" = vfio-pci ] || { echo "FAIL: $d is on '$driver', not vfio-pci"; exit 1; }

qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none -S \
	-device vfio-pci,host=$d -qmp unix:/tmp/qmp.sock,server=on,wait=off \
	-daemonize -pidfile /tmp/qemu.pid || { echo "FAIL: nested qemu did not start"; exit 1; }
pid=$(cat /tmp/qemu.pid)
fds=$(ls -l "/proc/$pid/fd" | sed -n 's/.* -> //p')
kill "$pid"
rc=0
for want in "/dev/vfio/$group" /dev/vfio/vfio "anon_inode:[vfio-device]"; do
	if echo "$fds" | grep -qxF "$want"; then
		echo "ok: the nested qemu holds $want"
	else
		echo "FAIL: the nested qemu does not hold $want"
		rc=1
	fi
done
exit $rc
