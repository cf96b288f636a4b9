# Guest job: the e1000e to vfio-pci and back; refused while it carries the default route, bound
# with --force and logged; the vfio modules loaded through libkmod; a nested
# QEMU holding the device (unbind refused naming it, a forced unbind that the kernel blocks
# ends in a timeout, never a hang, while a second passthru waiting for the lock names it and
# gives up after its own --timeout); repair afterwards.
. /testbed/lib.sh
nic=0000:00:02.0
group=$(basename "$(readlink /sys/bus/pci/devices/$nic/iommu_group)")
echo "e1000e $nic in IOMMU group $group"

# The host reaches the network through it: refused, naming the route; forced, bound and logged.
eth=$(ls /sys/bus/pci/devices/$nic/net 2>/dev/null | head -n 1)
ip link set "$eth" up && ip addr add 10.0.2.15/24 dev "$eth" && ip route add default via 10.0.2.2 ||
	fail "setup: cannot give $eth the default route"
run guarded passthru bind 00:02.0
expect_rc 1 "bind the NIC with the default route"
expect_in "default route" "$err" "bind names the route"
expect_in "passthru bind --force 0000:00:02.0" "$err" "bind hint"
expect_driver $nic e1000e "refused bind"
run forced-bind passthru bind --force 00:02.0
expect_rc 0 "bind --force the NIC with the default route"
expect_driver $nic vfio-pci "bind --force"
grep -q "bind 0000:00:02.0: forced past a guard: .*default route" /run/passthru/log &&
	pass "forced guard in /run/passthru/log" || fail "forced guard not in /run/passthru/log"
run give-back passthru unbind 00:02.0
expect_driver $nic e1000e "give the NIC back"

# No vfio modules: bind must load vfio_pci and vfio_iommu_type1 itself.
rmmod vfio_pci 2>/dev/null
rmmod vfio_iommu_type1 2>/dev/null
if [ -e /sys/bus/pci/drivers/vfio-pci ] || [ -e /sys/module/vfio_iommu_type1 ]; then
	fail "setup: cannot unload the vfio modules"
fi

run dry passthru bind --dry-run 00:02.0
expect_rc 0 "dry run"
expect_in "bind to vfio-pci" "$out" "dry run"
expect_in "e1000e" "$out" "dry run"
expect_driver $nic e1000e "dry run changes nothing"

run bind passthru bind 00:02.0
expect_rc 0 "bind"
expect_in "e1000e -> vfio-pci" "$out" "bind"
expect_in "no function-level reset" "$err" "bind warns about the reset"
expect_driver $nic vfio-pci "bind"
expect_override $nic vfio-pci "bind"
[ -e /sys/module/vfio_iommu_type1 ] && pass "bind loaded vfio_iommu_type1" ||
	fail "bind did not load vfio_iommu_type1"
[ -e "/dev/vfio/$group" ] && pass "/dev/vfio/$group exists" || fail "no /dev/vfio/$group"
[ -e /run/passthru/journal ] && fail "a journal is left" || pass "no journal left"
grep -q "dev $nic driver=e1000e" /run/passthru/held && pass "held records e1000e" ||
	fail "held does not record e1000e"

run again passthru bind 00:02.0
expect_rc 0 "bind again"
expect_in "already on vfio-pci" "$out" "bind again"

# A VM owns the device.
qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none -S \
	-device vfio-pci,host=$nic -daemonize -pidfile /tmp/qemu.pid
qpid=$(cat /tmp/qemu.pid 2>/dev/null)
held=0
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	ls -l /proc/$qpid/fd 2>/dev/null | grep -q "/dev/vfio/$group" && held=1 && break
	sleep 0.5
done
[ "$held" = 1 ] && pass "nested QEMU $qpid holds /dev/vfio/$group" ||
	fail "nested QEMU does not hold /dev/vfio/$group"

run refused passthru unbind 00:02.0
expect_rc 1 "unbind while a VM holds it"
expect_in "/dev/vfio/$group is open by pid $qpid (qemu-system-x86" "$err" "unbind names the VM"
expect_in "hint:" "$err" "unbind refusal"
expect_driver $nic vfio-pci "refused unbind changes nothing"

# Forced, the kernel's unbind waits for the paused VM to let go: it never will.
start=$(date +%s)
echo "+ passthru unbind --force --timeout 3 00:02.0 &"
passthru unbind --force --timeout 3 00:02.0 >"$RESULTS/forced.out" 2>"$RESULTS/forced.err" &
forced=$!
# Meanwhile it holds the lock: another passthru says who holds it, gives up after its --timeout.
lock_ino=$(ls -i /run/passthru/lock | awk '{ print $1 }')
i=0
while ! grep -q "FLOCK .*:$lock_ino " /proc/locks && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
run lock-wait passthru bind --timeout 1 00:02.0
expect_rc 1 "bind while the forced unbind holds the lock"
expect_in "waiting for the lock held by pid $forced (passthru unbind --force --timeout 3 00:02.0)" \
	"$err" "the waiting bind names the holder"
expect_in "gave up waiting after 1 s" "$err" "the waiting bind honours --timeout"
wait $forced
rc=$?
echo "$rc" >"$RESULTS/forced.rc"
out=$(cat "$RESULTS/forced.out")
err=$(cat "$RESULTS/forced.err")
sed 's/^/  err: /' "$RESULTS/forced.err"
echo "  rc: $rc"
took=$(($(date +%s) - start))
expect_rc 1 "forced unbind of a held device"
expect_in "timed out after 3 s" "$err" "forced unbind"
expect_in "kernel: [" "$err" "forced unbind shows the kernel's messages"
expect_in "still pending in the kernel" "$err" "forced unbind"
expect_in "passthru repair" "$err" "forced unbind hint"
[ "$took" -le 20 ] && pass "forced unbind returned after ${took}s" ||
	fail "forced unbind took ${took}s"
grep -q "forced although" /run/passthru/log && pass "forced unbind logged" ||
	fail "forced unbind not in /run/passthru/log"

kill "$qpid"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -d /proc/$qpid ] || break; sleep 0.5; done
sleep 1
run repair passthru repair
expect_rc 0 "repair after the VM exited"
[ -e /run/passthru/journal ] && fail "repair left the journal" || pass "repair removed the journal"
d=$(driver_of $nic)
case $d in
vfio-pci | e1000e) pass "after repair $nic is on $d (an end, not half-way)" ;;
*) fail "after repair $nic is on $d" ;;
esac

run unbind passthru unbind 00:02.0
if [ "$d" = vfio-pci ]; then
	expect_rc 0 "unbind"
	expect_in "vfio-pci -> e1000e" "$out" "unbind"
fi
expect_driver $nic e1000e "unbind"
expect_override $nic "(null)" "unbind"

run noop passthru unbind 00:02.0
expect_rc 0 "unbind again"
expect_in "not on vfio-pci (driver e1000e)" "$out" "unbind again"

run badaddr passthru bind 00:02
expect_rc 2 "malformed address"
run absent passthru bind 00:1e.7
expect_rc 1 "absent device"
expect_in "0000:00:1e.7: no such PCI device" "$err" "absent device"
finish
