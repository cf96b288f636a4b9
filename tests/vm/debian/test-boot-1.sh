# debian-boot, phase 1 (bash, in the Debian guest as the testbed-phase unit):
# collects what check-boot.py judges, and leaves a marker for phase 2.
# Exits non-zero only when the facts cannot be collected.
set -u
cd "$RESULTS" || exit 1

# systemd runs us, as the phase unit, after multi-user.target.
cat /proc/1/comm >pid1
systemctl show -p Id,ActiveState,SubState testbed-phase.service >phase-unit
systemctl is-active multi-user.target >multi-user 2>&1
systemctl is-active systemd-udevd.service >udevd 2>&1
# udev did its work: the NVMe block devices it announced have its properties.
udevadm settle -t 30
for d in /dev/nvme0n1 /dev/nvme1n1; do
	udevadm info -q property "$d" | grep -E '^(ID_SERIAL_SHORT|DEVNAME)=' || echo "none $d"
done >udev-nvme 2>&1

# The NVMe controllers as the kernel sees them: address -> IOMMU group.
for dev in /sys/bus/pci/devices/*; do
	[ "$(cat "$dev/vendor"):$(cat "$dev/device")" = 0x1b36:0x0010 ] || continue
	echo "$(basename "$dev") $(basename "$(readlink "$dev/iommu_group")")"
done >nvme-sysfs

command -v passthru >passthru-path
passthru list --json >list.json 2>list.err
echo $? >list.rc
passthru check >check.out 2>&1
echo $? >check.rc
passthru check --json >check.json 2>/dev/null
echo $? >check-json.rc

# The unit meson installed, and whether anything enabled it.
systemctl show -p FragmentPath,UnitFileState,LoadState passthru-apply.service >apply-unit
systemctl is-enabled passthru-apply.service >apply-enabled 2>&1

cat /proc/sys/kernel/random/boot_id >boot_id.1
mkdir -p /var/lib/testbed
cp boot_id.1 /var/lib/testbed/marker
sync
