# Guest job, second boot of the persistence test: the first boot's /etc/passthru and the
# modprobe.d file it generated are in this boot's initramfs, its root filesystem (modules load
# from there too). The job stands for passthru-apply.service: `passthru apply` before any VM.
# Between the boots the host added a wish for a card that is no longer at its address
# (00:06.0 now holds the PCI UART).
. /testbed/lib.sh
conf=/etc/passthru/bindings.conf
if [ -f $conf ]; then pass "the first boot's $conf is here"; else fail "setup: no $conf"; fi

# vfio-pci loaded with ids= claimed the GPU's functions before bochs and snd_hda_intel.
expect_driver 0000:01:00.0 vfio-pci "at boot, by modprobe.d ids="
expect_driver 0000:01:00.1 vfio-pci "at boot, by modprobe.d ids="
expect_driver 0000:00:02.0 e1000e "at boot, before apply"
[ -e /run/passthru/held ] && fail "held record survived the reboot" || pass "/run is fresh"

expect_driver 0000:00:03.0 nvme "at boot, before apply"
[ -e /sys/bus/pci/devices/0000:00:03.2 ] && fail "the VFs are there before apply" ||
	pass "no VFs before apply"

run apply passthru apply
expect_rc 1 "apply with a changed device"
# The persisted VFs first, then the binding of one of them.
expect_in "0000:00:03.0: 2 VFs made (it had 0), on vfio-pci" "$out" "apply makes the VFs"
expect_driver 0000:00:03.1 vfio-pci "apply makes the VFs on vfio-pci"
expect_driver 0000:00:03.2 vfio-pci "apply binds the persisted VF"
expect_not_in "0000:00:03.2" "$err" "apply finds the persisted VF"
expect_in "0000:00:06.0: saved for 8086:1533 (subsystem 8086:0000), but the address now holds 1b36:0002" \
	"$err" "apply names what is there now"
expect_in "passthru unbind --persist 0000:00:06.0" "$err" "apply hint"
expect_in "0000:00:02.0: e1000e -> vfio-pci" "$out" "apply binds the NIC"
expect_in "already on vfio-pci" "$out" "apply leaves the GPU"
expect_driver 0000:00:02.0 vfio-pci "apply"
expect_driver 0000:00:06.0 serial "the changed device is left alone"

run forget passthru unbind --persist 00:06.0
expect_rc 0 "forget the old card"
expect_in "no longer bound at boot" "$out" "forget the old card"
run apply2 passthru apply
expect_rc 0 "apply again"
expect_in "0000:00:03.0: 2 VFs (already there), on vfio-pci" "$out" "apply again keeps the VFs"

# Back to the host: the NIC from this boot's record, the GPU from the persisted host drivers.
run nic passthru unbind --persist 00:02.0
expect_rc 0 "unbind --persist the NIC"
expect_driver 0000:00:02.0 e1000e "unbind --persist the NIC"
run gpu passthru unbind --persist --group 01:00.0
expect_rc 0 "unbind --persist the GPU"
expect_driver 0000:01:00.0 bochs-drm "GPU back on its persisted host driver"
expect_driver 0000:01:00.1 snd_hda_intel "audio back on its persisted host driver"
[ -e /etc/modprobe.d/passthru-vfio.conf ] && fail "modprobe.d file kept" ||
	pass "modprobe.d file removed"
run vf passthru unbind --persist 00:03.2
expect_rc 0 "unbind --persist the VF"
grep -q "^0000" $conf && fail "wishes left in $conf" || pass "no wishes left"
run apply-vfs-only passthru apply
expect_rc 0 "apply with only SR-IOV settings persisted"
expect_not_in "Nothing is persisted" "$out" "apply with only SR-IOV settings persisted"
rm /etc/passthru/vf.d/0000:00:03.0.conf
run apply3 passthru apply
expect_rc 0 "apply with nothing persisted"
expect_in "Nothing is persisted." "$out" "apply with nothing persisted"
finish
