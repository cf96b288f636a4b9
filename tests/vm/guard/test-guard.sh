#!/bin/sh
# Guest side of the guard suite: put host resources on the guest's devices one by one
# (a mounted filesystem, swap, a device-mapper holder, addresses and routes, a bond, a bridge
# with a VLAN, SR-IOV VFs on a driver) and record what guard-probe reports for each state in
# $RESULTS/<case>.{out,err,rc}. check-guard.py judges them on the host. Exits non-zero only
# when setting a state up fails.
set -u
out=${RESULTS:?}
nvme=/sys/bus/pci/devices/0000:00:03.0

probe() {
	name=$1
	shift
	guard-probe "$@" >"$out/$name.out" 2>"$out/$name.err"
	echo $? >"$out/$name.rc"
}
step() {
	"$@" >>"$out/setup.log" 2>&1 || {
		echo "setup failed: $*"
		tail -n 5 "$out/setup.log"
		exit 1
	}
}
: >"$out/setup.log"

# Router advertisements from QEMU's user network would add addresses and routes at their
# own pace: the tests set every address and route themselves. Interfaces made later inherit
# "default"; bond0 exists since bonding was loaded.
no_ra() {
	for f in accept_ra autoconf; do
		echo 0 >"/proc/sys/net/ipv6/conf/$1/$f"
	done
}
for i in all default eth0; do
	no_ra $i
done

# ---- Storage: the NVMe PF at 00:03.0. With nvme-subsys, Debian's kernels put the namespace
# nvme0n1 below /sys/devices/virtual/nvme-subsystem (multipath), not below the PCI device.
probe nvme-idle pci 0000:00:03.0
mkdir -p /mnt/data
step mke2fs -F /dev/nvme0n1
step mount -t ext2 /dev/nvme0n1 /mnt/data
probe nvme-mounted pci 0000:00:03.0
probe nvme-mounted-short pci 00:03.0
dd if=/dev/zero of=/mnt/data/swapfile bs=1024 count=256 2>/dev/null
step mkswap /mnt/data/swapfile
step swapon /mnt/data/swapfile
probe nvme-swapfile pci 0000:00:03.0
step swapoff /mnt/data/swapfile
step umount /mnt/data
probe nvme-unmounted pci 0000:00:03.0

step mkswap /dev/nvme0n1
step swapon /dev/nvme0n1
probe nvme-swap pci 0000:00:03.0
step swapoff /dev/nvme0n1

# A device-mapper device on the namespace: a holder, then a mount through it. No udev in the
# guest: libdevmapper makes the /dev/mapper nodes itself.
export DM_DISABLE_UDEV=1
if command -v dmsetup >/dev/null; then
	sectors=$(cat /sys/block/nvme0n1/size)
	step dmsetup create guardtest --table "0 $sectors linear /dev/nvme0n1 0"
	probe nvme-dm pci 0000:00:03.0
	step mke2fs -F /dev/mapper/guardtest
	step mount -t ext2 /dev/mapper/guardtest /mnt/data
	probe nvme-dm-mounted pci 0000:00:03.0
	step umount /mnt/data
	step dmsetup remove guardtest
else
	echo "dmsetup is not in the image" >"$out/nvme-dm.err"
fi
probe nvme-released pci 0000:00:03.0

# ---- Network: the e1000e at 00:02.0 (eth0).
probe nic-down pci 0000:00:02.0
step ip link set eth0 up
step ip addr add 10.0.2.15/24 dev eth0
step ip route add default via 10.0.2.2
step ip -6 addr add 2001:db8::15/64 dev eth0
probe nic-used pci 0000:00:02.0
step ip route del default
step ip addr del 10.0.2.15/24 dev eth0
step ip -6 addr del 2001:db8::15/64 dev eth0
# The link-local address of an interface that is up is no use of the host's.
i=0
while ! grep -q '^fe80.* eth0$' /proc/net/if_inet6 && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
cp /proc/net/if_inet6 "$out/if_inet6-nic-up"
probe nic-up pci 0000:00:02.0
step ip link set eth0 down

# A bond over eth0 with an address (loading bonding made bond0 already: max_bonds=1).
[ -e /sys/class/net/bond0 ] || step sh -c 'echo +bond0 >/sys/class/net/bonding_masters'
no_ra bond0
step sh -c 'echo +eth0 >/sys/class/net/bond0/bonding/slaves'
step ip link set bond0 up
step ip addr add 10.0.3.15/24 dev bond0
probe nic-bond pci 0000:00:02.0
step ip addr del 10.0.3.15/24 dev bond0
probe nic-bond-idle pci 0000:00:02.0
step sh -c 'echo -eth0 >/sys/class/net/bond0/bonding/slaves'
step sh -c 'echo -bond0 >/sys/class/net/bonding_masters'

# A bridge with eth0 in it and a VLAN on the bridge that carries the default route.
step brctl addbr br0
step brctl addif br0 eth0
step ip link set eth0 up
step ip link set br0 up
step vconfig add br0 10
step ip link set br0.10 up
step ip addr add 10.0.4.15/24 dev br0.10
step ip route add default via 10.0.4.1 dev br0.10
probe nic-bridge-vlan pci 0000:00:02.0
step ip route del default
step ip addr del 10.0.4.15/24 dev br0.10
step vconfig rem br0.10
probe nic-bridge-idle pci 0000:00:02.0
step ip link set br0 down
step brctl delif br0 eth0
step brctl delbr br0
step ip link set eth0 down
probe nic-released pci 0000:00:02.0

# ---- Consoles.
cat /sys/class/vtconsole/vtcon*/name /sys/class/vtconsole/vtcon*/bind >"$out/vtconsoles" 2>&1
probe vga pci 0000:01:00.0
probe vga-audio pci 0000:01:00.1
probe serial-console serial ttyS0
probe serial-console-dev serial /dev/ttyS0
probe serial-other serial ttyS1
probe serial-phantom serial ttyS3
probe pci-uart pci 0000:00:06.0
probe xhci pci 0000:00:04.0

# The boot VGA's console, freed: writing 0 to vgacon's bind is accepted and ignored; vfio-pci
# taking the device (what passthru bind does) hands the VTs to the dummy console. vgacon does
# not come back in this boot: this comes after every other console case.
vga=/sys/bus/pci/devices/0000:01:00.0
step sh -c 'echo 0 >/sys/class/vtconsole/vtcon0/bind'
probe vga-vtcon-unbind pci 0000:01:00.0
step sh -c "echo vfio-pci >$vga/driver_override"
step sh -c 'echo 0000:01:00.0 >/sys/bus/pci/drivers_probe'
probe vga-on-vfio pci 0000:01:00.0
head /sys/class/vtconsole/vtcon*/name /sys/class/vtconsole/vtcon*/bind >"$out/vtconsoles-vfio" 2>&1
step sh -c 'echo 0000:01:00.0 >/sys/bus/pci/drivers/vfio-pci/unbind'
step sh -c "echo >$vga/driver_override"
probe vga-released pci 0000:01:00.0

# ---- SR-IOV: VFs without a driver are nobody's; a VF on vfio-pci is in use.
step sh -c "echo 0 >$nvme/sriov_drivers_autoprobe"
step sh -c "echo 2 >$nvme/sriov_numvfs"
probe pf-vfs-idle pci 0000:00:03.0
step sh -c 'echo vfio-pci >/sys/bus/pci/devices/0000:00:03.2/driver_override'
step sh -c 'echo 0000:00:03.2 >/sys/bus/pci/drivers_probe'
probe pf-vfs-bound pci 0000:00:03.0
probe vf pci 0000:00:03.2
step sh -c 'echo 0000:00:03.2 >/sys/bus/pci/drivers/vfio-pci/unbind'
step sh -c "echo 0 >$nvme/sriov_numvfs"

# ---- Bad requests.
probe absent pci 0000:00:1e.0
probe malformed pci 0000:00:03

# ---- Cost: every function of the guest, checked in a row.
start=$(cut -d' ' -f1 /proc/uptime)
for d in /sys/bus/pci/devices/*; do
	guard-probe pci "${d##*/}" >/dev/null 2>&1
done
end=$(cut -d' ' -f1 /proc/uptime)
echo "$(ls /sys/bus/pci/devices | wc -l) $start $end" >"$out/cost"
exit 0
