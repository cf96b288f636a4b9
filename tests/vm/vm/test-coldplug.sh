# Guest job: a nested QEMU started from `passthru qemu-args` output holds every device given:
# the e1000e, the VGA + HD audio group (two functions of one guest slot), the USB keyboard and
# tablet (usb-host by port) and the second UART. Before binding, the devices are refused with
# the bind that fixes it; the console port, and a USB serial adapter named both as USB device
# and as tty, are always refused. check-coldplug.py judges the nested QEMU's query-pci, info
# usb and the libvirt XML of every family.
. /testbed/lib.sh
nic=0000:00:02.0
vga=0000:01:00.0
echo "$(group_of $nic) $(group_of $vga)" >"$RESULTS/groups"

run notready passthru qemu-args 00:02.0 01:00.0
expect_rc 1 "qemu-args before binding"
expect_in "passthru: 0000:00:02.0: is on e1000e, not vfio-pci" "$err" "qemu-args before binding"
expect_in "hint: passthru bind 0000:00:02.0 --group" "$err" "qemu-args before binding"
expect_in "hint: passthru bind 0000:01:00.0 --group" "$err" "qemu-args before binding"
expect_in "not viable: 0000:01:00.1" "$err" "qemu-args names the group member"
[ -z "$out" ] && pass "qemu-args refused prints no options" || fail "qemu-args refused printed options"

run console passthru qemu-args /dev/ttyS0
expect_rc 1 "the console port"
expect_in "passthru: /dev/ttyS0: ttyS0 is a host console" "$err" "the console port"

# The FTDI adapter as a USB device and as its tty: usb-host would take the tty away.
run usbtwice passthru qemu-args 1-3.1 /dev/ttyUSB0
expect_rc 1 "a USB serial adapter given twice"
expect_in "passthru: /dev/ttyUSB0: is the tty of USB device 1-3.1, which is handed over too" \
	"$err" "a USB serial adapter given twice"
[ -z "$out" ] && pass "a USB serial adapter given twice: no options" ||
	fail "a USB serial adapter given twice: printed options"

run bindnic passthru bind --group 00:02.0
expect_rc 0 "bind the NIC"
# The VGA drives vgacon: the guard says so, the guest can do without it.
run bindgpu passthru bind --force --group 01:00.0
expect_rc 0 "bind the VGA group"

devices="00:02.0 01:00.0 1-1 1-2 /dev/ttyS1"
# shellcheck disable=SC2086
run lines passthru qemu-args $devices
expect_rc 0 "qemu-args"
expect_in "-device vfio-pci,host=0000:01:00.0,id=pt-0000-01-00.0,bus=pt-rp-0000-01-00,addr=0.0,multifunction=on" "$out" "qemu-args"
expect_in "-chardev serial,id=pt-chr-ttyS1,path=/dev/ttyS1" "$out" "qemu-args"
# shellcheck disable=SC2086
run shell passthru qemu-args --format shell $devices
expect_rc 0 "qemu-args --format shell"
args=$out

run byid passthru qemu-args --usb-by-id 1-2
expect_rc 0 "qemu-args --usb-by-id"
expect_in "usb-host,vendorid=0x0627,productid=0x0001,id=pt-usb-1-2" "$out" "qemu-args --usb-by-id"
expect_in "1-1 has the same ids 0627:0001" "$err" "qemu-args --usb-by-id"

# libvirt XML of each family; check-coldplug.py validates it with virt-xml-validate.
run xml-pci passthru libvirt-xml 00:02.0 01:00.0
expect_rc 0 "libvirt-xml PCI"
run xml-usb passthru libvirt-xml 1-2
expect_rc 0 "libvirt-xml USB"
run xml-usb-address passthru libvirt-xml --usb-by-address 1-1 1-2
expect_rc 0 "libvirt-xml USB by address"
run xml-serial passthru libvirt-xml /dev/ttyS1
expect_rc 0 "libvirt-xml serial"
run xml-serial-pci passthru libvirt-xml --serial-device pci-serial /dev/ttyS1
expect_rc 0 "libvirt-xml pci-serial"
run xml-console passthru libvirt-xml /dev/ttyS0
expect_rc 1 "libvirt-xml of the console port"

# Paused, the nested QEMU already holds the groups and the tty.
eval "set -- $args"
start_qemu -S "$@"
expect_held "/dev/vfio/$(group_of $nic)" "paused"
expect_held "/dev/vfio/$(group_of $vga)" "paused"
expect_held /dev/vfio/vfio "paused"
expect_held /dev/ttyS1 "paused"
held_by_qemu >"$RESULTS/held-paused"
qmp_to "$RESULTS/peripherals.json" qom-list '{"path": "/machine/peripheral"}'

# Running, its firmware numbers the buses (query-pci then shows what is behind the root
# ports) and usb-host takes the USB devices.
qmp-probe "$qmp" cont >/dev/null && pass "cont" || fail "cont"
wait_for 180 /tmp/pci.json '"qdev_id":"pt-0000-01-00.1"' qmp_to /tmp/pci.json query-pci &&
	pass "query-pci shows the devices behind the root ports" ||
	fail "query-pci never showed the devices behind the root ports"
cp /tmp/pci.json "$RESULTS/query-pci.json"
wait_for 120 /tmp/usb.json 'pt-usb-1-1.*pt-usb-1-2|pt-usb-1-2.*pt-usb-1-1' hmp_to /tmp/usb.json "info usb" &&
	pass "info usb shows both USB devices" || fail "info usb never showed both USB devices"
cp /tmp/usb.json "$RESULTS/info-usb.json"
hmp_to "$RESULTS/info-chardev.json" "info chardev"
held_by_qemu >"$RESULTS/held-running"
held_by_qemu | grep -q '^/dev/bus/usb/001/' && pass "the nested QEMU holds a USB device node" ||
	fail "the nested QEMU holds no /dev/bus/usb/001 node"
finish
