# debian-boot, phase 2: the same disk, a new boot; the marker phase 1 wrote is
# still on it.
set -u
cd "$RESULTS" || exit 1
cat /proc/sys/kernel/random/boot_id >boot_id.2
cat /var/lib/testbed/marker >marker.2 2>&1
systemctl show -p Id,ActiveState,SubState testbed-phase.service >phase-unit.2
systemctl is-active systemd-udevd.service >udevd.2 2>&1
# This boot came through the kernel and initramfs the disk names.
cat /vmlinuz /initrd.img | sha256sum | cut -d' ' -f1 >boot-pair.disk
cp /run/testbed/in/boot.sha256 boot-pair.booted
