# debian-nvme, boot 2: the persisted NVMe went to vfio-pci from the initramfs
# on and nvme never probed it; the host activated no volume of its group and
# assembled no array from it; the host's own NVMe works. Then the prevention
# without the early claim: given to nvme at run time, its disks are still not
# assembled or activated and `check` says the host opened it. Last,
# `passthru unbind --persist` removes it all and regenerates the initramfs.
# In between, a VM owns the drive: a nested QEMU holds it through vfio-pci.
# LVM uses its devices file here (boot 1): the PV's entry is out of it until
# the give-back puts the same line back.
set -u
cd "$RESULTS" || exit 1
failed=0
expect() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >>expect.2.log 2>&1; then echo "ok   $what"; else echo "FAIL $what"; failed=1; fi
}
guest=0000:02:00.0 host=0000:01:00.0
udevadm settle -t 60
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver")"; }
disk_of() { ls "/sys/bus/pci/devices/$1/nvme/"*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n1$'; }
dmesg >dmesg.2
journalctl -b -o short-monotonic --no-pager >journal.2 2>&1
expect "the guest NVMe is on vfio-pci" test "$(driver_of $guest)" = vfio-pci
expect "nvme never probed it (kernel log)" sh -c "! grep -q 'pci function $guest' dmesg.2"
expect "nvme probed the host's NVMe" grep -q "pci function $host" dmesg.2
expect "no block device of the guest NVMe" test -z "$(disk_of $guest)"
hdisk=$(disk_of $host)
expect "the host's NVMe works" sh -c "head -c 20 /dev/$hdisk | grep -q passthru-host-marker"
vgs --noheadings -o vg_name >vgs.2 2>&1
lvs --noheadings -o lv_name,lv_active >lvs.2 2>&1
cat /proc/mdstat >mdstat.2
expect "no volume group ptvg" sh -c '! grep -q ptvg vgs.2'
expect "no md array" sh -c '! grep -q "^md" mdstat.2'
passthru check >check.2a 2>&1
expect "check: claimed early" grep -q 'ok .*Persisted storage .*claimed early' check.2a
# The PV's line in system.devices as LVM wrote it in boot 1.
pvline=$(grep "^IDTYPE=.* DEVNAME=/dev/$(cat gdisk.1)p1 " system.devices.1a)
expect "boot 1's system.devices had the PV" test -n "$pvline"
expect "system.devices still without the PV" sh -c \
	'! grep -qxF "$1" /etc/lvm/devices/system.devices' - "$pvline"

# A VM owns the drive: a nested QEMU (TCG, paused before its first
# instruction) takes it through vfio-pci and holds its IOMMU group.
group=$(basename "$(readlink /sys/bus/pci/devices/$guest/iommu_group)")
rm -f /run/nested-qemu.pid
start=$(date +%s)
timeout 120 qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none -S \
	-device vfio-pci,host=$guest -qmp unix:/run/nested-qmp.sock,server=on,wait=off \
	-daemonize -pidfile /run/nested-qemu.pid >nested-qemu.2 2>&1
qpid=$(cat /run/nested-qemu.pid 2>/dev/null)
echo "nested QEMU: pid ${qpid:-none}, up in $(($(date +%s) - start)) s"
expect "a nested QEMU started with the drive" test -n "$qpid" -a -d "/proc/${qpid:-none}"
ls -l "/proc/${qpid:-none}/fd" >nested-fds.2 2>&1
expect "it holds /dev/vfio/$group" grep -q " -> /dev/vfio/$group\$" nested-fds.2
expect "it holds the container /dev/vfio/vfio" grep -q ' -> /dev/vfio/vfio$' nested-fds.2
expect "it holds the drive's vfio device" grep -qF ' -> anon_inode:[vfio-device]' nested-fds.2
expect "the drive stayed on vfio-pci" test "$(driver_of $guest)" = vfio-pci
if [ -n "$qpid" ]; then
	kill "$qpid"
	for i in $(seq 30); do [ -d "/proc/$qpid" ] || break; sleep 1; done
fi
expect "the nested QEMU is gone" test ! -d "/proc/${qpid:-none}"
dmesg >dmesg.2q
expect "nvme never probed it (kernel log, after the nested QEMU)" sh -c "! grep -q 'pci function $guest' dmesg.2q"

# Prevention: the host driver gets the drive after all (a manual give-back).
passthru unbind $guest >unbind.2 2>&1
udevadm settle -t 60
sleep 5
udevadm settle -t 60
gdisk=$(disk_of $guest)
expect "given to nvme at run time" test "$(driver_of $guest)" = nvme
expect "its disk appeared" test -n "$gdisk" -a -b "/dev/${gdisk:-none}p1"
udevadm info -q property "/dev/${gdisk}p2" >udev-p2.2 2>&1
expect "udev: PASSTHRU_STORAGE on its partitions" grep -q "^PASSTHRU_STORAGE=$guest" udev-p2.2
expect "udev: SYSTEMD_READY=0" grep -q '^SYSTEMD_READY=0' udev-p2.2
expect "udev: UDISKS_IGNORE=1" grep -q '^UDISKS_IGNORE=1' udev-p2.2
expect "udev: DM_UDEV_DISABLE_OTHER_RULES_FLAG=1" grep -q '^DM_UDEV_DISABLE_OTHER_RULES_FLAG=1' udev-p2.2
# What LVM's boot-time activation would do, by hand: the global_filter hides it.
vgchange -aay >vgchange.2b 2>&1
cat /proc/mdstat >mdstat.2b
vgs --noheadings -o vg_name >vgs.2b 2>&1
pvs >pvs.2b 2>&1
ls /dev/mapper >mapper.2b
expect "still no md array" sh -c '! grep -q "^md" mdstat.2b'
expect "LVM does not see ptvg (devices file, global_filter)" sh -c '! grep -q ptvg vgs.2b'
expect "no ptvg volume active" sh -c '! grep -q ptvg mapper.2b'
# Each of the two on its own: with the global_filter overridden the devices
# file still hides the PV; with the devices file off too, LVM sees it (the
# disk is readable, so it is the devices file that hides it).
pvs --config 'devices { global_filter = [ "a|.*|" ] }' >pvs.2c 2>&1
pvs --config 'devices { global_filter = [ "a|.*|" ] use_devicesfile = 0 }' >pvs.2d 2>&1
expect "the devices file alone hides the PV" sh -c "! grep -q '/dev/${gdisk}p1 ' pvs.2c"
expect "without it LVM sees the PV" grep -q "/dev/${gdisk}p1 .*ptvg" pvs.2d
passthru check >check.2b 2>&1
expect "check: the host opened it" grep -q "fail .*Persisted storage .*the host opened it: ${gdisk}" check.2b

# Give it back for good.
start=$(date +%s)
passthru unbind --persist $guest >unbind-persist.2 2>&1
echo $? >unbind-persist.rc
echo "unbind --persist took $(($(date +%s) - start)) s"
expect "unbind --persist" test "$(cat unbind-persist.rc)" = 0
expect "unbind --persist says the initramfs was regenerated" grep -q '^Ran update-initramfs -u -k all' unbind-persist.2
for f in /etc/passthru/early-claim.sh /etc/modprobe.d/passthru-storage.conf \
	/etc/udev/rules.d/63-passthru-storage.rules /etc/initramfs-tools/hooks/passthru \
	/etc/initramfs-tools/scripts/init-top/passthru; do
	expect "removed: $f" test ! -e "$f"
done
expect "lvm.conf without the filter" sh -c '! grep -q "passthru" /etc/lvm/lvm.conf'
cp /etc/lvm/devices/system.devices system.devices.2 2>/dev/null
expect "system.devices has the PV's line again, word for word" \
	grep -qxF "$pvline" system.devices.2
expect "the record is gone" test ! -e /etc/passthru/lvm-devices
lsinitramfs /initrd.img >initramfs.2
expect "initramfs without the claim script" sh -c '! grep -q early-claim initramfs.2'
sync
exit $failed
