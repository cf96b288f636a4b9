# Guest job: the NVMe PF's SR-IOV VFs (00:03.0, sriov_totalvfs 4) made, changed through 0,
# given to vfio-pci, refused while a nested QEMU holds one or one is on a driver not its own,
# removed afterwards; progress with -v; the boot hook; passthru vf on PFs that are no NIC's.
# Checks print PASS/FAIL (lib.sh of the takeover suite); any FAIL fails the job.
. /testbed/lib.sh
pf=0000:00:03.0
sys=/sys/bus/pci/devices/$pf

# The VF addresses the PF has now, in index order, on one line.
vfs_of() {
	i=0
	list=""
	while [ -L "$sys/virtfn$i" ]; do
		list="$list${list:+ }$(basename "$(readlink "$sys/virtfn$i")")"
		i=$((i + 1))
	done
	echo "$list"
}

expect_vfs() { # "ADDRESSES" WHAT
	v=$(vfs_of)
	if [ "$v" = "$1" ]; then pass "$2: VFs '$v'"; else fail "$2: VFs '$v', expected '$1'"; fi
}

expect_file() { # FILE VALUE WHAT
	c=$(cat "$1")
	if [ "$c" = "$2" ]; then pass "$3: $(basename "$1") $c"; else
		fail "$3: $(basename "$1") $c, expected $2"; fi
}

expect_driver $pf nvme "setup"
expect_file $sys/sriov_totalvfs 4 "setup"
expect_vfs "" "setup"

run show passthru sriov 00:03.0
expect_rc 0 "show"
expect_in "0000:00:03.0: 0 of 4 VFs, driver nvme, autoprobe on" "$out" "show"

run too-many passthru sriov 00:03.0 --vfs 5
expect_rc 1 "5 VFs"
expect_in "it offers at most 4 (sriov_totalvfs)" "$err" "5 VFs"

# Four, kept off the host's nvme driver, with the progress of each count seen.
run make4 passthru -v sriov 00:03.0 --vfs 4 --autoprobe off
expect_rc 0 "make 4"
expect_vfs "0000:00:03.1 0000:00:03.2 0000:00:03.3 0000:00:03.4" "make 4"
expect_file $sys/sriov_numvfs 4 "make 4"
expect_file $sys/sriov_drivers_autoprobe 0 "make 4"
for v in 0000:00:03.1 0000:00:03.2 0000:00:03.3 0000:00:03.4; do expect_driver $v none "make 4"; done
expect_in "0000:00:03.0: 4 VFs (it had 0)" "$out" "make 4"
expect_in "0000:00:03.0: 4 of 4 VFs made" "$err" "make 4 progress"
expect_not_in "writing 0 to sriov_numvfs" "$err" "make 4 from 0"

# The kernel's rule passthru works around: a count that is not 0 cannot change directly.
if echo 2 >$sys/sriov_numvfs 2>/dev/null; then
	fail "the kernel changed 4 VFs to 2 directly"
else
	pass "the kernel refuses to change 4 VFs to 2 directly"
fi

run make2 passthru -v sriov 00:03.0 --vfs 2
expect_rc 0 "4 -> 2"
expect_vfs "0000:00:03.1 0000:00:03.2" "4 -> 2"
expect_in "0000:00:03.0: 2 VFs (it had 4)" "$out" "4 -> 2"
# -v shows each write: 0 first, then 2, and the count falling to 0 before rising to 2.
first=$(echo "$err" | grep -n "writing 0 to sriov_numvfs" | cut -d: -f1)
second=$(echo "$err" | grep -n "writing 2 to sriov_numvfs" | cut -d: -f1)
if [ -n "$first" ] && [ -n "$second" ] && [ "$first" -lt "$second" ]; then
	pass "4 -> 2 went through 0 (lines $first, $second)"
else
	fail "4 -> 2 did not write 0 then 2 ('$first' '$second')"
fi
expect_in "0000:00:03.0: 0 VFs left" "$err" "4 -> 2 progress"
expect_in "0000:00:03.0: 2 of 2 VFs made" "$err" "4 -> 2 progress"

run dry passthru sriov 00:03.0 --vfs 3 --bind-vfio --dry-run
expect_rc 0 "dry run"
expect_in "removes 0000:00:03.2" "$out" "dry run"
expect_in "would write 3 to /sys/bus/pci/devices/0000:00:03.0/sriov_numvfs" "$out" "dry run"
expect_in "would bind the new VFs to vfio-pci" "$out" "dry run"
expect_vfs "0000:00:03.1 0000:00:03.2" "dry run changes nothing"

# Three, straight to vfio-pci.
run vfio passthru sriov 00:03.0 --vfs 3 --bind-vfio
expect_rc 0 "3 to vfio-pci"
expect_vfs "0000:00:03.1 0000:00:03.2 0000:00:03.3" "3 to vfio-pci"
for v in 0000:00:03.1 0000:00:03.2 0000:00:03.3; do expect_driver $v vfio-pci "3 to vfio-pci"; done
expect_in "0000:00:03.1: no driver -> vfio-pci" "$out" "3 to vfio-pci"
expect_file $sys/sriov_drivers_autoprobe 0 "3 to vfio-pci"

run show3 passthru sriov 00:03.0
expect_rc 0 "show 3"
expect_in "0000:00:03.0: 3 of 4 VFs, driver nvme, autoprobe off" "$out" "show 3"
expect_in "vfio-pci" "$out" "show 3"

# A VM holds the first VF: no change, not even forced.
vf=0000:00:03.1
group=$(basename "$(readlink /sys/bus/pci/devices/$vf/iommu_group)")
qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none -S \
	-device vfio-pci,host=$vf -daemonize -pidfile /tmp/qemu.pid
qpid=$(cat /tmp/qemu.pid 2>/dev/null)
held=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	ls -l /proc/$qpid/fd 2>/dev/null | grep -q "/dev/vfio/$group" && held=1 && break
	sleep 0.5
done
[ "$held" = 1 ] && pass "nested QEMU $qpid holds /dev/vfio/$group" ||
	fail "nested QEMU does not hold /dev/vfio/$group"

run held passthru sriov 00:03.0 --vfs 0
expect_rc 1 "remove while a VM holds a VF"
expect_in "$vf: /dev/vfio/$group is open by pid $qpid (qemu-system-x86" "$err" "names the VM"
expect_in "nothing overrides" "$err" "hint"
expect_vfs "0000:00:03.1 0000:00:03.2 0000:00:03.3" "refused removal changes nothing"
run held-force passthru sriov 00:03.0 --vfs 2 --force
expect_rc 1 "forced change while a VM holds a VF"
expect_vfs "0000:00:03.1 0000:00:03.2 0000:00:03.3" "refused forced change changes nothing"
expect_driver $vf vfio-pci "refused change"

kill "$qpid"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ -d /proc/$qpid ] || break
	sleep 0.5
done
[ -d /proc/$qpid ] && fail "nested QEMU $qpid did not exit" || pass "nested QEMU exited"

run free passthru sriov 00:03.0 --vfs 0
expect_rc 0 "remove once the VM is gone"
expect_vfs "" "remove once the VM is gone"
expect_in "0000:00:03.0: 0 VFs (it had 3)" "$out" "remove"

# A VF on a driver not its own (pci-stub) is the host's business: --force only. (A VF on its
# default driver is the unit tests': QEMU's NVMe VFs stay offline until NVMe virtualization
# management gives them resources, and 6.12's nvme gives up on them, "Device not ready".)
run make1 passthru sriov 00:03.0 --vfs 1 --autoprobe off
expect_rc 0 "1 VF"
echo pci-stub >/sys/bus/pci/devices/0000:00:03.1/driver_override
echo 0000:00:03.1 >/sys/bus/pci/drivers_probe
expect_driver 0000:00:03.1 pci-stub "setup: VF on pci-stub"
run stub passthru sriov 00:03.0 --vfs 0
expect_rc 1 "remove a VF on pci-stub"
expect_in "0000:00:03.1: it is on pci-stub, not on its default driver or vfio-pci" "$err" "pci-stub"
expect_in "--force" "$err" "pci-stub hint"
expect_vfs "0000:00:03.1" "refused pci-stub"
run stub-force passthru sriov 00:03.0 --vfs 0 --force
expect_rc 0 "forced removal of a VF on pci-stub"
expect_in "forced: 0000:00:03.1" "$err" "forced removal said"
expect_vfs "" "forced removal"
grep -q "removing VF 0000:00:03.1 although it is on pci-stub" /run/passthru/log &&
	pass "forced removal logged" || fail "forced removal not in /run/passthru/log"

# Saved, then applied at boot (here: after the VFs are gone, as after a reboot).
run persist passthru sriov 00:03.0 --vfs 2 --bind-vfio --persist
expect_rc 0 "persist"
expect_in "saved in /etc/passthru/vf.d/0000:00:03.0.conf" "$out" "persist"
grep -qx "vfs 2 vfio" /etc/passthru/vf.d/0000:00:03.0.conf && pass "vf.d says vfs 2 vfio" ||
	fail "vf.d: $(cat /etc/passthru/vf.d/0000:00:03.0.conf)"
echo 0 >$sys/sriov_numvfs
echo 1 >$sys/sriov_drivers_autoprobe
run apply-dry sriov-apply-probe --dry-run
expect_rc 0 "boot hook, dry run"
expect_in "0000:00:03.0 0 would write 2 to" "$out" "boot hook, dry run"
expect_vfs "" "dry run changes nothing"
run apply sriov-apply-probe
expect_rc 0 "boot hook"
expect_in "0000:00:03.0 0 2 VFs made (it had 0), on vfio-pci" "$out" "boot hook"
expect_vfs "0000:00:03.1 0000:00:03.2" "boot hook"
for v in 0000:00:03.1 0000:00:03.2; do expect_driver $v vfio-pci "boot hook"; done
run apply-again sriov-apply-probe
expect_rc 0 "boot hook again"
expect_in "0000:00:03.0 0 2 VFs (already there), on vfio-pci" "$out" "boot hook again"

# VF link settings belong to NIC PFs with VFs; neither PF here is one.
run vf-nvme passthru vf 00:03.0 0 --mac 02:11:22:33:44:55
expect_rc 1 "vf on the NVMe PF"
expect_in "it has no network interface" "$err" "vf on the NVMe PF"
run vf-e1000e passthru vf 00:02.0 0 --vlan 10
expect_rc 1 "vf on the e1000e"
expect_in "not an SR-IOV PF" "$err" "vf on the e1000e"
run vf-bad passthru vf 00:03.0 0 --mac ff:ff:ff:ff:ff:ff
expect_rc 2 "vf with a broadcast MAC"

run cleanup passthru sriov 00:03.0 --vfs 0
expect_rc 0 "cleanup"
finish
