# debian-nvme-swap, boot 1 (bash, in the Debian guest): the passthru-guest
# NVMe (0000:02:00.0) is persisted and its early claim written, as in
# debian-nvme; the next boot finds another model in its slot.
set -u
cd "$RESULTS" || exit 1
failed=0
expect() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >>expect.1.log 2>&1; then echo "ok   $what"; else echo "FAIL $what"; failed=1; fi
}
guest=0000:02:00.0
udevadm settle -t 60
expect "bind --persist" passthru bind --persist $guest
# No grub in this guest (-kernel): see test-nvme-1.sh.
echo 'GRUB_CMDLINE_LINUX="intel_iommu=on iommu=pt"' >/etc/default/grub
mkdir -p /boot/grub
printf '#!/bin/sh\nexit 0\n' >/usr/sbin/update-grub
chmod 755 /usr/sbin/update-grub
passthru setup --apply >setup-apply.1 2>&1
expect "setup --apply" test $? = 0
expect "early claim written" test -s /etc/passthru/early-claim.sh
sync
exit $failed
