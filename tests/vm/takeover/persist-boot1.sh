# Guest job, first boot of the persistence test: bind with --persist. /etc/passthru and
# /etc/modprobe.d live in the results share (state/); the host hands them to the second boot.
. /testbed/lib.sh
mkdir -p /etc/passthru /etc/modprobe.d "$RESULTS/state/etc-passthru" "$RESULTS/state/modprobe.d"
mount -o bind "$RESULTS/state/etc-passthru" /etc/passthru || fail "setup: mount /etc/passthru"
mount -o bind "$RESULTS/state/modprobe.d" /etc/modprobe.d || fail "setup: mount /etc/modprobe.d"
conf=/etc/passthru/bindings.conf
mp=/etc/modprobe.d/passthru-vfio.conf

run nic passthru bind --persist 00:02.0
expect_rc 0 "bind --persist the NIC"
expect_driver 0000:00:02.0 vfio-pci "bind --persist the NIC"
grep -q "^0000:00:02.0 8086:10d3 8086:0000 host=e1000e$" $conf &&
	pass "NIC persisted with its identity and host driver" || fail "NIC not persisted right"
[ -e $mp ] && fail "a NIC alone made $mp" || pass "no modprobe.d for a NIC"

# The boot VGA's guard (console, framebuffer) is forced: the wish records it.
run gpu passthru bind --persist --force --group 01:00.0
expect_rc 0 "bind --persist --group the GPU"
expect_driver 0000:01:00.0 vfio-pci "bind --persist the GPU"
expect_driver 0000:01:00.1 vfio-pci "bind --persist the GPU audio"
grep -q "^0000:01:00.0 1234:1111 1af4:1100 host=bochs-drm force$" $conf &&
	pass "VGA persisted" || fail "VGA not persisted right"
grep -q "^0000:01:00.1 8086:293e 1af4:1100 host=snd_hda_intel force$" $conf &&
	pass "audio persisted" || fail "audio not persisted right"
expect_in "update-initramfs" "$err" "modprobe.d hint"
grep -q "^options vfio-pci ids=1234:1111,8086:293e$" $mp && pass "vfio-pci ids= in $mp" ||
	fail "no vfio-pci ids= line in $mp"
grep -q "^softdep bochs pre: vfio-pci$" $mp && pass "softdep for bochs" || fail "no softdep bochs"
grep -q "^softdep snd_hda_intel pre: vfio-pci$" $mp && pass "softdep for snd_hda_intel" ||
	fail "no softdep snd_hda_intel"
# Two VFs of the NVMe PF for VMs, one of them also in bindings.conf: at the next boot apply
# must make the VFs before it applies that binding.
vfconf=/etc/passthru/vf.d/0000:00:03.0.conf
run sriov passthru sriov 00:03.0 --vfs 2 --bind-vfio --persist
expect_rc 0 "sriov --persist the NVMe PF"
expect_driver 0000:00:03.2 vfio-pci "sriov --bind-vfio"
grep -q "^vfs 2 vfio$" $vfconf && pass "VF count persisted in $vfconf" ||
	fail "VF count not persisted right in $vfconf"
run vf passthru bind --persist 00:03.2
expect_rc 0 "bind --persist a VF"
grep -q "^0000:00:03.2 1b36:0010 " $conf && pass "VF binding persisted" ||
	fail "VF binding not persisted"
echo "--- $conf"; cat $conf
echo "--- $mp"; cat $mp
echo "--- $vfconf"; cat $vfconf
finish
