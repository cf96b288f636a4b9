# Guest job: NVMe SR-IOV. The VFs go to vfio-pci; the PF cannot be taken from nvme while they
# are there; the VFs come back to no driver, as they started; resets.
. /testbed/lib.sh
pf=0000:00:03.0
echo 0 >/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe
echo 4 >/sys/bus/pci/devices/$pf/sriov_numvfs
vfs="0000:00:03.1 0000:00:03.2 0000:00:03.3 0000:00:03.4"
for v in $vfs; do expect_driver $v none "setup"; done

run vfs passthru bind 00:03.1 00:03.2 00:03.3 00:03.4
expect_rc 0 "bind the VFs"
for v in $vfs; do expect_driver $v vfio-pci "bind the VFs"; done

run pf passthru bind 00:03.0
expect_rc 1 "take the PF while its VFs are on vfio-pci"
expect_in "0000:00:03.1" "$err" "names a bound VF"
expect_driver $pf nvme "refused PF"
for v in $vfs; do expect_driver $v vfio-pci "refused PF keeps the VFs"; done

# reset runs the guards of bind: a PF's reset resets its VFs, which VMs may hold.
run reset-pf passthru reset 00:03.0
expect_rc 1 "reset the PF while its VFs are on vfio-pci"
expect_in "VF 0000:00:03.1 is bound to vfio-pci; resetting the PF resets the VF too" "$err" \
	"reset names the bound VFs, in words that fit a reset"
expect_not_in "would remove" "$err" "a PF's reset removes no VF"
expect_not_in "sriov_numvfs" "$err" "reset's hint frees the VFs instead of removing them"

run reset passthru reset 00:03.1
expect_rc 0 "reset a VF"
before=$(cat /sys/bus/pci/devices/0000:00:03.2/reset_method)
run reset-flr passthru reset --method flr 00:03.2
expect_rc 0 "reset --method flr"
after=$(cat /sys/bus/pci/devices/0000:00:03.2/reset_method)
[ "$before" = "$after" ] && pass "reset_method restored ($after)" ||
	fail "reset_method was '$before', now '$after'"
run reset-bus passthru reset --method bus 00:03.2
expect_rc 1 "reset with a method the VF lacks"
expect_in "no reset method 'bus'" "$err" "reset --method bus"

run back passthru unbind 00:03.1 00:03.2 00:03.3 00:03.4
expect_rc 0 "give the VFs back"
expect_not_in "left without a driver" "$err" "VFs had no driver to begin with"
for v in $vfs; do
	expect_driver $v none "VFs given back"
	expect_override $v "(null)" "VFs given back"
done
expect_driver $pf nvme "PF untouched"

# ...and what the host uses on the device: active swap on the PF's namespace.
mkswap /dev/nvme0n1 >/dev/null 2>&1 && swapon /dev/nvme0n1 || fail "swap on nvme0n1"
run reset-swap passthru reset 00:03.0
expect_rc 1 "reset the PF while it holds active swap"
expect_in "swap is active on nvme0n1" "$err" "reset names the swap"
expect_in "passthru reset --force 0000:00:03.0" "$err" "reset hint"
swapoff /dev/nvme0n1

# Last, as it leaves the VFs unusable here: forced, the PF's reset keeps a bound VF listed and
# on vfio-pci (nothing removes it), but QEMU's NVMe VF stops answering (config space all ones)
# until the VFs are created again. The refusal says both.
run vf-again passthru bind 00:03.1
expect_rc 0 "bind a VF again"
run reset-pf-force passthru reset --force 00:03.0
expect_rc 0 "reset --force of the PF"
expect_in "forced past a guard: VF 0000:00:03.1 is bound to vfio-pci; resetting the PF" "$err" \
	"the forced reset names the VF"
expect_driver $pf nvme "PF back on nvme after its reset"
[ -e /sys/bus/pci/devices/0000:00:03.1 ] && pass "0000:00:03.1 still listed after the PF's reset" ||
	fail "0000:00:03.1 gone after the PF's reset"
expect_driver 0000:00:03.1 vfio-pci "a PF's reset leaves its VF on vfio-pci"
vendor=$(od -An -tx2 -N2 /sys/bus/pci/devices/0000:00:03.1/config 2>/dev/null | tr -d ' ')
echo "after the PF's reset, 0000:00:03.1 reads vendor '$vendor' from its config space"
finish
