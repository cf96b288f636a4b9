# Guest job: hot-plug into a running nested QEMU (SeaBIOS only, no OS) with spare root ports,
# and out again. attach --bind takes the e1000e to vfio-pci itself; the VGA + audio group goes
# in as two functions of one slot, function 0 last; the UART as chardev + pci-serial; the USB
# tablet as usb-host. USB detach completes (QEMU needs nobody's consent); a PCI detach needs
# the guest OS to acknowledge the unplug, which a VM without an OS never does: it must time out
# promptly and say so. check-hotplug.py judges query-pci before, between and after.
. /testbed/lib.sh
nic=0000:00:02.0
vga=0000:01:00.0
echo "$(group_of $nic) $(group_of $vga)" >"$RESULTS/groups"

# The VGA drives vgacon: only a forced bind takes it (attach --bind does not force).
run bindgpu passthru bind --force --group 01:00.0
expect_rc 0 "bind the VGA group"

start_qemu -device pcie-root-port,id=rp1,chassis=1,slot=1 \
	-device pcie-root-port,id=rp2,chassis=1,slot=2 \
	-device pcie-root-port,id=rp3,chassis=1,slot=3 \
	-device pcie-root-port,id=rp4,chassis=1,slot=4 \
	-device qemu-xhci,id=xhci
# The firmware numbers the buses: no root port left on secondary bus 0.
wait_for 180 /tmp/numbered '^yes$' sh -c \
	"qmp-probe $qmp query-pci >/tmp/pci.json && { grep -q '\"secondary\":0,' /tmp/pci.json && echo no || echo yes; } >/tmp/numbered" &&
	pass "the nested firmware numbered the buses" || fail "the buses were never numbered"
cp /tmp/pci.json "$RESULTS/query-pci-before.json"

run notready passthru attach --qmp "$qmp" 00:02.0
expect_rc 1 "attach before binding"
expect_in "passthru: 0000:00:02.0: is on e1000e, not vfio-pci" "$err" "attach before binding"
expect_in "hint: passthru bind 0000:00:02.0 --group" "$err" "attach before binding"
expect_in "attach --bind" "$err" "attach before binding"

run attach passthru attach --qmp "$qmp" --bind 00:02.0 01:00.0
expect_rc 0 "attach --bind"
expect_in "0000:00:02.0: e1000e -> vfio-pci" "$out" "attach --bind binds first"
expect_in "0000:00:02.0: attached as pt-0000-00-02.0 on rp1 at 0.0" "$out" "attach"
expect_in "0000:01:00.0: attached as pt-0000-01-00.0 on rp2 at 0.0" "$out" "attach"
expect_in "0000:01:00.1: attached as pt-0000-01-00.1 on rp2 at 0.1" "$out" "attach"
expect_held "/dev/vfio/$(group_of $nic)" "attached"
expect_held "/dev/vfio/$(group_of $vga)" "attached"

run attach-serial passthru attach --qmp "$qmp" /dev/ttyS1
expect_rc 0 "attach a serial port"
expect_in "/dev/ttyS1: attached as pt-ttyS1 on rp3 at 0.0" "$out" "attach a serial port"
expect_held /dev/ttyS1 "serial attached"
run console passthru attach --qmp "$qmp" /dev/ttyS0
expect_rc 1 "attach the console port"
expect_in "ttyS0 is a host console" "$err" "attach the console port"

qmp_to "$RESULTS/query-pci-between.json" query-pci

run attach-usb passthru attach --qmp "$qmp" 1-2
expect_rc 0 "attach the USB tablet"
expect_in "1-2: attached as pt-usb-1-2" "$out" "attach the USB tablet"
wait_for 60 /tmp/usb.json 'pt-usb-1-2' hmp_to /tmp/usb.json "info usb" &&
	pass "info usb shows the tablet" || fail "info usb never showed the tablet"
cp /tmp/usb.json "$RESULTS/info-usb-between.json"
run detach-usb passthru detach --qmp "$qmp" 1-2
expect_rc 0 "detach the USB tablet"
expect_in "1-2: detached" "$out" "detach the USB tablet"
hmp_to "$RESULTS/info-usb-after.json" "info usb"
run detach-usb-again passthru detach --qmp "$qmp" 1-2
expect_rc 1 "detach what is not there"
expect_in "1-2: not in the VM (no device with id pt-usb-1-2)" "$err" "detach what is not there"

# Several devices, the first not in the VM: it keeps no other in the VM, and each is reported.
run attach-usb-again passthru attach --qmp "$qmp" 1-2
expect_rc 0 "attach the USB tablet again"
run detach-two passthru detach --qmp "$qmp" 1-1 1-2
expect_rc 1 "detach a device that is not there and one that is"
expect_in "1-2: detached" "$out" "detach a device that is not there and one that is"
expect_in "1-1: not in the VM (no device with id pt-usb-1-1)" "$err" \
	"detach a device that is not there and one that is"
run detach-two-again passthru detach --qmp "$qmp" 1-2
expect_rc 1 "the tablet is gone after detaching two"

# QEMU's own words when it refuses: the NIC is in the VM already.
run again passthru attach --qmp "$qmp" 00:02.0
expect_rc 1 "attach twice"
expect_in "passthru: 0000:00:02.0: QEMU refused device_add: " "$err" "attach twice"

# No OS in the nested VM to acknowledge a PCI unplug: a clean, prompt timeout.
start=$(date +%s)
run detach passthru detach --qmp "$qmp" --timeout 5 00:02.0
took=$(($(date +%s) - start))
echo "$took" >"$RESULTS/detach-seconds"
expect_rc 1 "detach from a VM without an OS"
expect_in "passthru: 0000:00:02.0: no DEVICE_DELETED for pt-0000-00-02.0 within 5.0 s" "$err" \
	"detach from a VM without an OS"
[ "$took" -ge 5 ] && [ "$took" -le 15 ] && pass "detach gave up after ${took}s" ||
	fail "detach gave up after ${took}s, expected 5 to 15"
qmp_to "$RESULTS/query-pci-after.json" query-pci
qmp-probe "$qmp" query-status >"$RESULTS/status.json" && pass "QEMU still answers" ||
	fail "QEMU does not answer after the detach"
finish
