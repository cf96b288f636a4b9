#!/bin/sh
# Guest side of the inventory suite: set up SR-IOV VFs, run passthru's list
# verbs and lspci, and dump the sysfs facts check-inventory.py compares them
# with. Everything goes to $RESULTS. Fails only when the setup itself fails;
# judging the output is the host checker's job.
set -u
out=${RESULTS:?}
sh /testbed/guest-sriov.sh || exit 1

run() {
	name=$1
	shift
	"$@" >"$out/$name.out" 2>"$out/$name.err"
	echo $? >"$out/$name.rc"
}
run pci passthru list pci --json
run pci-all passthru list pci --json --output-all
run usb passthru list usb --json
run serial passthru list serial --json
run all passthru list --json
run lspci lspci -nnk -D
run lsusb lsusb

# Facts, one per line: kind <TAB> name <TAB> attribute <TAB> value. A missing
# attribute is absent; a link's value is its target's basename. Reads use the
# shell's read builtin: a fork per attribute costs seconds under TCG.
fact() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4"; }
attrs() {
	kind=$1 name=$2 dir=$3
	shift 3
	for f in "$@"; do
		[ -r "$dir/$f" ] && read -r v <"$dir/$f" 2>/dev/null && fact "$kind" "$name" "$f" "$v"
	done
}
{
	for d in /sys/bus/pci/devices/*; do
		a=${d##*/}
		fact pci "$a" present 1
		attrs pci "$a" "$d" vendor device subsystem_vendor subsystem_device class revision \
			numa_node boot_vga sriov_totalvfs sriov_numvfs reset_method current_link_speed \
			current_link_width max_link_speed max_link_width
		for l in "$d/driver" "$d/iommu_group" "$d/physfn" "$d"/virtfn*; do
			[ -L "$l" ] || continue
			t=$(readlink "$l")
			fact pci "$a" "${l##*/}" "${t##*/}"
		done
	done
	for d in /sys/bus/usb/devices/*; do
		u=${d##*/}
		# Interfaces (1-3:1.0) have no devnum; devices and root hubs do.
		if [ ! -r "$d/devnum" ]; then
			[ -L "$d/driver" ] && t=$(readlink "$d/driver") && fact usbif "$u" driver "${t##*/}"
			continue
		fi
		attrs usb "$u" "$d" busnum devnum idVendor idProduct bDeviceClass maxchild speed \
			manufacturer product serial
		[ -L "$d/driver" ] && t=$(readlink "$d/driver") && fact usb "$u" driver "${t##*/}"
	done
	for d in /sys/class/tty/ttyS* /sys/class/tty/ttyUSB* /sys/class/tty/ttyACM*; do
		[ -e "$d" ] || continue
		t=${d##*/}
		fact tty "$t" present 1
		attrs tty "$t" "$d" type port iomem_base irq
		# The resolved path names the PCI function or USB port behind the tty.
		[ -L "$d/device" ] && fact tty "$t" devpath "$(readlink -f "$d/device")"
		# Since 6.5 a UART's tty hangs below serial-base port and controller
		# devices (driver "port"): the driver that counts is the UART's own.
		dev=$(readlink -f "$d/device")
		while [ -L "$dev/subsystem" ] && [ "$(basename "$(readlink "$dev/subsystem")")" = serial-base ]; do
			dev=${dev%/*}
		done
		[ -L "$dev/driver" ] && fact tty "$t" driver "$(basename "$(readlink "$dev/driver")")"
	done
	fact proc cmdline value "$(cat /proc/cmdline)"
	fact proc osrelease value "$(cat /proc/sys/kernel/osrelease)"
	fact proc consoles value "$(tr '\n' ';' </proc/consoles)"
} >"$out/sysfs.tsv"
exit 0
