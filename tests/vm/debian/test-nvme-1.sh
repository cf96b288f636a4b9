# debian-nvme, boot 1 (bash, in the Debian guest): the passthru-guest NVMe
# (0000:02:00.0) gets what a VM would have put on it, an LVM volume group and
# an md RAID1, then `passthru bind --persist` and `passthru setup --apply`
# (early claim, storage prevention, the initramfs regenerated). LVM here uses
# its devices file (use_devicesfile = 1, Debian 12's lvm2 2.03.16 has it but
# defaults to 0): the PV is listed in system.devices, and setup takes it out.
set -u
cd "$RESULTS" || exit 1
failed=0
expect() { # DESCRIPTION COMMAND...: records ok/FAIL, the command's output in the log
	local what=$1
	shift
	if "$@" >>expect.1.log 2>&1; then echo "ok   $what"; else echo "FAIL $what"; failed=1; fi
}
guest=0000:02:00.0 host=0000:01:00.0
udevadm settle -t 60
disk_of() { ls "/sys/bus/pci/devices/$1/nvme/"*/ 2>/dev/null | grep -m1 '^nvme[0-9]*n1$'; }
gdisk=$(disk_of $guest) hdisk=$(disk_of $host)
echo "guest disk: $gdisk, host disk: $hdisk"
echo "$gdisk" >gdisk.1
[ -n "$gdisk" ] && [ -n "$hdisk" ] || { echo "FAIL no NVMe disks"; exit 1; }

# The host's own NVMe: a marker it must still read after the next boot.
echo passthru-host-marker | dd of="/dev/$hdisk" bs=512 conv=sync,fsync status=none

# Three partitions (MBR written by hand: the minbase root has no sfdisk):
# p1 LVM, p2 + p3 the members of a RAID1.
byte() { printf "\\x$(printf %02x "$1")"; }
le32() { byte $(($1 & 255)); byte $(($1 >> 8 & 255)); byte $(($1 >> 16 & 255)); byte $(($1 >> 24 & 255)); }
entry() { byte 0; byte 254; byte 255; byte 255; byte "$1"; byte 254; byte 255; byte 255; le32 "$2"; le32 "$3"; }
{
	head -c 446 /dev/zero
	entry 0x8e 2048 204800
	entry 0xfd 206848 151552
	entry 0xfd 358400 151552
	head -c 16 /dev/zero
	byte 0x55
	byte 0xaa
} >/run/mbr
dd if=/run/mbr of="/dev/$gdisk" bs=512 count=1 conv=fsync status=none
blockdev --rereadpt "/dev/$gdisk"
udevadm settle -t 60
expect "partitions on $gdisk" test -b "/dev/${gdisk}p3"
wipefs -aq "/dev/${gdisk}p1" "/dev/${gdisk}p2" "/dev/${gdisk}p3"
# LVM's devices file: on in lvm.conf (after the commented default, as an
# administrator would), the PV listed by lvmdevices.
sed -i 's/^\(\t# use_devicesfile = 0\)$/\1\n\tuse_devicesfile = 1/' /etc/lvm/lvm.conf
expect "lvm.conf: use_devicesfile = 1" grep -q '^	use_devicesfile = 1$' /etc/lvm/lvm.conf
expect "pvcreate" pvcreate -y "/dev/${gdisk}p1"
grep -q "DEVNAME=/dev/${gdisk}p1 " /etc/lvm/devices/system.devices 2>/dev/null ||
	lvmdevices -y --adddev "/dev/${gdisk}p1" >>expect.1.log 2>&1
cp /etc/lvm/devices/system.devices system.devices.1 2>/dev/null
expect "system.devices lists the PV" grep -q "^IDTYPE=.* DEVNAME=/dev/${gdisk}p1 " system.devices.1
expect "vgcreate ptvg" vgcreate ptvg "/dev/${gdisk}p1"
expect "lvcreate ptvg/ptlv" lvcreate -y -L 16M -n ptlv ptvg
expect "mdadm --create ptmd" mdadm --create /dev/md/ptmd --run --level=1 --raid-devices=2 \
	--metadata=1.2 --homehost=any "/dev/${gdisk}p2" "/dev/${gdisk}p3"
udevadm settle -t 60
echo passthru-lv-marker | dd of=/dev/ptvg/ptlv bs=512 conv=sync,fsync status=none
echo passthru-md-marker | dd of=/dev/md/ptmd bs=512 conv=sync,fsync status=none
# The VM's disks are not in use by the host when it is handed over.
expect "vgchange -an ptvg" vgchange -an ptvg
expect "mdadm --stop" mdadm --stop /dev/md/ptmd
udevadm settle -t 60

expect "bind --persist" passthru bind --persist $guest
cp /etc/passthru/bindings.conf bindings.1 2>/dev/null
cp /etc/passthru/lvm-devices lvm-devices.bind.1 2>/dev/null
expect "bind --persist kept the disk's wwid" grep -q "^id $guest sys_wwid " lvm-devices.bind.1
expect "on vfio-pci after bind" test "$(basename "$(readlink /sys/bus/pci/devices/$guest/driver)")" = vfio-pci

# The guest boots by -kernel, without grub: setup's GRUB step gets a
# GRUB_CMDLINE_LINUX that has what it wants and an update-grub that does
# nothing, so that --apply goes through to what is tested here.
echo 'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"' >/etc/default/grub
mkdir -p /boot/grub
printf '#!/bin/sh\nexit 0\n' >/usr/sbin/update-grub
chmod 755 /usr/sbin/update-grub
cp /etc/lvm/devices/system.devices system.devices.1a 2>/dev/null
passthru setup >setup-dry.1 2>&1
echo $? >setup-dry.rc
expect "setup dry run shows the udev rule" grep -q '^+++ b/etc/udev/rules.d/63-passthru-storage.rules' setup-dry.1
expect "setup dry run shows the lvm.conf filter" grep -q 'global_filter = \[ "r|^/dev/disk/by-path/pci-0000:02:00\[.\]0-|" \]' setup-dry.1
expect "setup dry run would update the initramfs" grep -q 'update-initramfs -u -k all' setup-dry.1
expect "setup dry run shows the PV leaving system.devices" \
	grep -q "^-IDTYPE=.* DEVNAME=/dev/${gdisk}p1 " setup-dry.1
expect "setup dry run wrote nothing" test ! -e /etc/passthru/early-claim.sh
start=$(date +%s)
passthru setup --apply >setup-apply.1 2>&1
echo $? >setup-apply.rc
echo "setup --apply took $(($(date +%s) - start)) s"
expect "setup --apply" test "$(cat setup-apply.rc)" = 0
expect "setup again: nothing of it left to change" sh -c '! passthru setup | grep -q passthru-storage'
for f in /etc/passthru/early-claim.sh /etc/modprobe.d/passthru-storage.conf \
	/etc/udev/rules.d/63-passthru-storage.rules /etc/initramfs-tools/hooks/passthru \
	/etc/initramfs-tools/scripts/init-top/passthru; do
	expect "written: $f" test -s "$f"
done
expect "lvm.conf has the filter" grep -q '# BEGIN passthru' /etc/lvm/lvm.conf
cp /etc/lvm/devices/system.devices system.devices.1b 2>/dev/null
cp /etc/passthru/lvm-devices lvm-devices.1 2>/dev/null
expect "system.devices without the PV" sh -c "! grep -q 'DEVNAME=/dev/${gdisk}p1 ' system.devices.1b"
expect "the record has its line" sh -c "grep -qxF \"entry $guest \$(grep 'DEVNAME=/dev/${gdisk}p1 ' system.devices.1a)\" lvm-devices.1"
lsinitramfs /initrd.img >initramfs.1
expect "initramfs has the claim script" grep -q '^etc/passthru/early-claim.sh$' initramfs.1
expect "initramfs has passthru-storage.conf" grep -q '^etc/modprobe.d/passthru-storage.conf$' initramfs.1
expect "initramfs has vfio-pci" grep -q 'vfio-pci.ko' initramfs.1
expect "initramfs has the init-top script" grep -q '^scripts/init-top/passthru$' initramfs.1
expect "initramfs has system.devices (lvm2's hook)" grep -q '^etc/lvm/devices/system.devices$' initramfs.1
passthru check >check.1 2>&1
sync
exit $failed
