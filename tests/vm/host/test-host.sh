#!/bin/sh
# Guest side of the host readiness suite: runs `passthru check --json` in the states the
# suite judges (as booted; vfio modules unloaded; loaded again; one device on vfio-pci) and
# `passthru setup` against a Debian /etc/default/grub, and dumps the facts check-host.py
# compares them with (CPU vendor, ACPI tables, IOMMU units and groups, remapped interrupts,
# module states, the kernel command line). Everything goes to $RESULTS. Exits non-zero only
# when setting a state up fails; judging is the host checker's job.
set -u
out=${RESULTS:?}

run() {
	name=$1
	shift
	"$@" >"$out/$name.out" 2>"$out/$name.err"
	echo $? >"$out/$name.rc"
}
fact() { printf '%s\t%s\n' "$1" "$2" >>"$out/facts.tsv"; }
modstate() {
	if [ -e "/sys/module/$1/initstate" ]; then
		cat "/sys/module/$1/initstate"
	elif [ -d "/sys/module/$1" ]; then
		echo builtin
	else
		echo absent
	fi
}
facts() {
	prefix=$1
	for m in vfio vfio_iommu_type1 vfio_pci vfio_pci_core vfio_virqfd; do
		fact "$prefix.module.$m" "$(modstate $m)"
	done
}
: >"$out/facts.tsv"

fact release "$(uname -r)"
fact cmdline "$(cat /proc/cmdline)"
fact vendor_id "$(sed -n 's/^vendor_id[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)"
fact acpi_tables "$(ls /sys/firmware/acpi/tables | tr '\n' ' ')"
fact iommu_units "$(ls /sys/class/iommu 2>/dev/null | tr '\n' ' ')"
fact iommu_groups "$(ls /sys/kernel/iommu_groups 2>/dev/null | wc -l)"
fact ir_chips "$(grep -c ' IR-' /proc/interrupts)"
# The IOMMU's ACPI table as the emulated firmware wrote it (check-host.py reads its remapping
# bit on its own).
for t in DMAR IVRS; do
	[ -e "/sys/firmware/acpi/tables/$t" ] && cp "/sys/firmware/acpi/tables/$t" "$out/acpi-$t"
done
fact unsafe_param "$(cat /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts 2>/dev/null)"
grep -h 'vfio_virqfd' "/lib/modules/$(uname -r)/modules.dep" >/dev/null 2>&1 &&
	fact virqfd_in_moddep yes || fact virqfd_in_moddep no

# 1. As booted: the image loads vfio, vfio_iommu_type1, vfio-pci (and vfio_virqfd on 6.1).
facts booted
run check-booted passthru check --json

# 2. The vfio modules unloaded: check must fail and say what to modprobe.
for m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio_virqfd vfio; do
	[ -e "/sys/module/$m/initstate" ] && rmmod "$m" >>"$out/setup.log" 2>&1
done
facts unloaded
run check-unloaded passthru check --json

# 3. Loaded again by hand, as the fix says.
modprobe vfio_pci >>"$out/setup.log" 2>&1 || { echo "setup failed: modprobe vfio_pci"; exit 1; }
modprobe vfio_iommu_type1 >>"$out/setup.log" 2>&1 || { echo "setup failed: modprobe vfio_iommu_type1"; exit 1; }
facts reloaded
run check-reloaded passthru check --json

# 4. A device on vfio-pci (only with an IOMMU: vfio-pci refuses it otherwise), then the
# device checks for it and for the VGA + audio pair behind the root port.
nic=0000:00:02.0
if [ -e /sys/kernel/iommu_groups/0 ]; then
	echo "$nic" >"/sys/bus/pci/devices/$nic/driver/unbind" 2>>"$out/setup.log"
	echo vfio-pci >"/sys/bus/pci/devices/$nic/driver_override"
	echo "$nic" >/sys/bus/pci/drivers_probe
	fact nic_driver "$(basename "$(readlink "/sys/bus/pci/devices/$nic/driver")")"
	fact nic_group "$(basename "$(readlink "/sys/bus/pci/devices/$nic/iommu_group")")"
	fact nic_reset_method "$(cat "/sys/bus/pci/devices/$nic/reset_method" 2>/dev/null)"
	fact vga_group_members "$(ls "/sys/bus/pci/devices/0000:01:00.0/iommu_group/devices" | tr '\n' ' ')"
fi
run check-devices passthru check --json "$nic" 0000:01:00.0
run check-candidates passthru check --json

# 5. setup with the real kernel's module index, on a Debian /etc/default/grub; the root is "/"
# here, so --apply runs the update-grub stub directly (no chroot).
mkdir -p /etc/default /boot/grub /var/log
cat >/etc/default/grub <<'GRUB'
GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""
GRUB
run setup-dry passthru setup
run setup-apply passthru setup --apply
cp /etc/default/grub "$out/grub.after"
cp /etc/modules-load.d/vfio.conf "$out/vfio.conf.after" 2>/dev/null
cp /var/log/passthru-invoked "$out/invoked" 2>/dev/null
ls /etc/default >"$out/etc-default.ls"
run setup-again passthru setup --apply
exit 0
