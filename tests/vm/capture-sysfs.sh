#!/bin/sh
# Capture the part of a live host's sysfs that passthru reads, as a fixture
# root for `passthru --sysroot DIR` (runs under busybox sh too):
#
#   capture-sysfs.sh [--modules] [--cmdline TEXT] DEST
#
#   DEST/sys/bus/pci/devices/*      links, as the kernel has them
#   DEST/sys/bus/pci/drivers/*      dirs with their device links and empty
#                                   bind, unbind, new_id, remove_id, uevent
#   DEST/sys/bus/usb/devices/*      links
#   DEST/sys/devices/...            the devices' dirs, real dirs holding copies
#                                   of the readable attributes, and the links
#                                   driver, iommu_group, physfn, virtfn*,
#                                   subsystem, device (relative, as in sysfs)
#   DEST/sys/class/tty/*            links of the ttys backed by a device
#   DEST/sys/kernel/iommu_groups/*  type, reserved_regions, devices/* links
#   DEST/proc/cmdline, DEST/proc/consoles, DEST/proc/sys/kernel/osrelease
#   DEST/lib/modules/<release>/modules.{alias,builtin,dep,...}  with --modules
#
# Only files with a read bit are read, each under `timeout`; action files
# (remove, reset, rescan, bind, ...) are never opened. Left out to keep
# fixtures small: /sys/devices/virtual (but the console tty), rom, resource*,
# vpd, power/ and other subdirectories that are not devices. `config` is cut
# at 256 bytes. --cmdline replaces /proc/cmdline's text, for hosts whose
# command line says things a fixture should not carry.
set -eu

modules=0 cmdline=
while [ $# -gt 1 ]; do
	case $1 in
	--modules) modules=1 ;;
	--cmdline) cmdline=$2; shift ;;
	*) echo "capture-sysfs: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ $# = 1 ] || { echo "usage: capture-sysfs.sh [--modules] [--cmdline TEXT] DEST" >&2; exit 2; }
dest=$1
mkdir -p "$dest"
dest=$(cd "$dest" && pwd -P)
[ -z "$(ls -A "$dest")" ] || { echo "capture-sysfs: $dest is not empty" >&2; exit 1; }

# Copy one attribute. Unreadable ones (EIO, EINVAL: no such feature) are dropped.
copy_attr() {
	src=$1 out=$dest$1
	case ${src##*/} in
	config) timeout 5 head -c 256 "$src" >"$out" 2>/dev/null || rm -f "$out" ;;
	*) timeout 5 cat "$src" >"$out" 2>/dev/null || rm -f "$out" ;;
	esac
}

# Recreate a link with its own (relative) target, creating the target dir of
# driver and subsystem links so that they do not dangle.
copy_link() {
	src=$1
	[ -L "$dest$src" ] && return 0
	mkdir -p "$dest${src%/*}"
	target=$(readlink "$src")
	ln -s "$target" "$dest$src"
	case ${src##*/} in
	driver) driver_dir "$(cd "$src" && pwd -P)" ;;
	subsystem) mkdir -p "$dest${src%/*}/$target" ;;
	esac
}

# A driver's dir holds only write-only files (and links): they are created
# empty, which also keeps the dir in git, and never read.
driver_dir() {
	mkdir -p "$dest$1"
	for f in bind unbind new_id remove_id uevent; do
		[ -f "$1/$f" ] && : >"$dest$1/$f"
	done
	return 0
}

seen=" "
# One device (or class) dir: its readable attributes and the links tests use.
capture_dir() {
	dir=$(cd "$1" && pwd -P)
	case $seen in *" $dir "*) return 0 ;; esac
	seen="$seen$dir "
	mkdir -p "$dest$dir"
	for f in "$dir"/*; do
		name=${f##*/}
		if [ -L "$f" ]; then
			case $name in
			driver | iommu_group | physfn | virtfn* | subsystem | device) copy_link "$f" ;;
			esac
			continue
		fi
		[ -f "$f" ] || continue
		case $name in
		remove | reset | rescan | bind | unbind | new_id | remove_id | drivers_probe | \
			drivers_autoprobe | rom | resource* | vpd | *_resource) continue ;;
		esac
		# The read bit, not access(2): root may open write-only attributes.
		[ -n "$(find "$f" -maxdepth 0 -perm -0400)" ] || continue
		copy_attr "$f"
	done
}

# A bus' device list: the links, and each device's dir.
capture_bus() {
	[ -d "/sys/bus/$1/devices" ] || return 0
	mkdir -p "$dest/sys/bus/$1/devices"
	for l in /sys/bus/"$1"/devices/*; do
		[ -L "$l" ] || continue
		copy_link "$l"
		capture_dir "$l"
	done
}

capture_bus pci
capture_bus usb

for d in /sys/bus/pci/drivers/*; do
	[ -d "$d" ] || continue
	driver_dir "$d"
	for l in "$d"/????:??:??.?; do
		[ -L "$l" ] && copy_link "$l"
	done
done

# ttys backed by hardware, and the console's tty (its "active" names the
# console devices).
if [ -d /sys/class/tty ]; then
	mkdir -p "$dest/sys/class/tty"
	for l in /sys/class/tty/*; do
		t=$(cd "$l" && pwd -P)
		case ${l##*/} in
		console) ;;
		*) case $t in /sys/devices/virtual/*) continue ;; esac ;;
		esac
		copy_link "$l"
		capture_dir "$t"
		[ -L "$t/device" ] && capture_dir "$t/device"
	done
fi

for g in /sys/kernel/iommu_groups/*; do
	[ -d "$g/devices" ] || continue
	mkdir -p "$dest$g/devices"
	for f in type reserved_regions; do
		[ -f "$g/$f" ] && copy_attr "$g/$f"
	done
	for l in "$g"/devices/*; do
		[ -L "$l" ] && copy_link "$l"
	done
done
mkdir -p "$dest/sys/kernel/iommu_groups"

mkdir -p "$dest/proc/sys/kernel"
if [ -n "$cmdline" ]; then
	echo "$cmdline" >"$dest/proc/cmdline"
else
	cat /proc/cmdline >"$dest/proc/cmdline"
fi
cat /proc/consoles >"$dest/proc/consoles"
cat /proc/sys/kernel/osrelease >"$dest/proc/sys/kernel/osrelease"

if [ "$modules" = 1 ]; then
	m=/lib/modules/$(uname -r)
	mkdir -p "$dest$m"
	for f in modules.alias modules.alias.bin modules.builtin modules.builtin.bin \
		modules.builtin.alias.bin modules.dep modules.dep.bin modules.softdep; do
		[ -f "$m/$f" ] && cp "$m/$f" "$dest$m/$f"
	done
fi
echo "capture-sysfs: $(find "$dest" -type f | wc -l) files, $(find "$dest" -type l | wc -l) links in $dest"
# git keeps no empty dir: say which ones a checked-in copy will lack.
find "$dest" -type d -empty | sed "s|^$dest|capture-sysfs: empty, lost in git: |"
