#!/bin/sh
# Build the gzip'd initramfs of a vm test guest and print its path.
#
#   mkinitrd.sh --kernel DIR [--passthru PATH] [--bin PATH]... [--module NAME]...
#               [--file SRC[:DEST]]... [--with-qemu] [--output FILE]
#
# DIR is an unpacked kernel from fetch-kernels.sh (boot/vmlinuz-*,
# lib/modules/<release>). The image holds busybox-static, the closure of
# guest-modules.txt (plus --module), lspci with pci.ids/usb.ids, udev's
# hwdb.bin, the given binaries with their ldd closure, extra files (a
# directory SRC is copied whole; DEST defaults to /testbed/<name>) and, with
# --with-qemu, a nested qemu-system-x86_64 that runs with TCG.
#
# The image is two gzip'd cpio archives back to back, which the kernel
# unpacks in turn: the base (everything but --file) is cached under
# $cache/initrd, keyed by its inputs' paths, sizes and mtimes, so a second
# run costs a few ldd calls; the --file part is small and built every time.
# With --file, --output is required (the result is not cached).
set -eu
export PATH="$PATH:/usr/sbin:/sbin"

here=$(cd "$(dirname "$0")" && pwd)
cache=${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}

die() { echo "mkinitrd: $*" >&2; exit 1; }

kdir= output= with_qemu=0 bins= extra_modules= files= passthru=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kdir=$2; shift ;;
	--passthru) passthru=$(readlink -f "$2"); bins="$bins $passthru"; shift ;;
	--bin) bins="$bins $(readlink -f "$2")"; shift ;;
	--module) extra_modules="$extra_modules $2"; shift ;;
	--file) files="$files $2"; shift ;;
	--with-qemu) with_qemu=1 ;;
	--output) output=$2; shift ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ -n "$kdir" ] || die "--kernel DIR is required"
kdir=$(cd "$kdir" && pwd -P)
rel=$(ls "$kdir/lib/modules")
[ -f "$kdir/boot/vmlinuz-$rel" ] || die "$kdir is not an unpacked kernel"

bins="/usr/bin/lspci$bins"
data="/usr/share/misc/pci.ids /usr/share/misc/usb.ids /etc/os-release"
[ -f /usr/lib/udev/hwdb.bin ] && data="$data /usr/lib/udev/hwdb.bin"
if [ "$with_qemu" = 1 ]; then
	qemu_mods=/usr/lib/x86_64-linux-gnu/qemu
	bins="$bins /usr/bin/qemu-system-x86_64 $qemu_mods/accel-tcg-x86_64.so"
	# usb-host lives in a module of Debian's QEMU; it brings libusb.
	[ -f "$qemu_mods/hw-usb-host.so" ] && bins="$bins $qemu_mods/hw-usb-host.so"
	# Firmware, at the paths QEMU searches (qemu-system-x86_64 -L help).
	for f in bios-256k.bin kvmvapic.bin linuxboot_dma.bin linuxboot.bin vgabios-stdvga.bin efi-e1000e.rom; do
		for d in /usr/share/qemu /usr/share/seabios /usr/lib/ipxe/qemu; do
			[ -e "$d/$f" ] && { data="$data $d/$f"; break; }
		done
	done
fi

# Shared libraries of the binaries, resolved by the host's loader. Paths are
# kept as ldd prints them: the image has the same merged-/usr layout.
for b in $bins; do
	[ -f "$b" ] || die "no such binary: $b"
done
libs=$(for b in $bins; do
	ldd "$b" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'
done | sort -u)

# The modules to load at boot, in the list's order: those this kernel has as
# modules (vfio_virqfd is in vfio since 6.2, virtio_pci built in on 6.12).
# shellcheck disable=SC2046
closure=$("$here/module-closure.sh" "$kdir" "$rel" $(grep -v '^#' "$here/guest-modules.txt") $extra_modules)
modlist=$(echo "$closure" | cut -d' ' -f1 | uniq)
modfiles=$(echo "$closure" | cut -d' ' -f2 | sort -u)

[ -z "$files" ] || [ -n "$output" ] || die "--file needs --output"

# shellcheck disable=SC2086
key=$( {
	echo "$rel $with_qemu $modlist $passthru"
	cat "$0" "$here/guest-init.sh"
	stat -L -c '%n %s %Y' "$kdir/.complete" /bin/busybox $bins $libs $data
} | sha256sum | cut -c1-16)
pack() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6
}

mkdir -p "$cache/initrd"
image=$cache/initrd/$rel-$key.cpio.gz
if [ -f "$image" ]; then
	touch "$image"
else
	find "$cache/initrd" -name '*.cpio.gz' -mtime +7 -delete 2>/dev/null || true
	root=$(mktemp -d "$cache/initrd/root.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	trap 'exit 130' INT TERM
	mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib" "$root/usr/lib64" \
		"$root/etc/testbed" "$root/testbed" "$root/root" "$root/proc" "$root/sys" \
		"$root/dev" "$root/run" "$root/tmp" "$root/mnt" "$root/var"
	for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done
	ln -s ../run "$root/var/run"

	cp /bin/busybox "$root/usr/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		case $a in */busybox | linuxrc) continue ;; esac
		ln -sf /usr/bin/busybox "$root/usr/${a#usr/}"
	done

	for f in $bins $libs $data; do
		mkdir -p "$root$(dirname "$f")"
		# Never through a busybox applet link: that would overwrite busybox.
		rm -f "$root$f"
		cp -L "$f" "$root$f"
	done
	# Tests call it by name, wherever the build put it.
	[ -n "$passthru" ] && [ ! -e "$root/usr/bin/passthru" ] && ln -s "$passthru" "$root/usr/bin/passthru"

	mdir=lib/modules/$rel
	mkdir -p "$root/$mdir"
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "$kdir/$mdir/$f" ] && cp "$kdir/$mdir/$f" "$root/$mdir/"
	done
	for f in $modfiles; do
		dest=$root/$mdir/${f#"$kdir/$mdir/"}
		mkdir -p "$(dirname "$dest")"
		# busybox modprobe wants plain .ko files.
		case $f in
		*.xz) xz -dc "$f" >"${dest%.xz}" ;;
		*.zst) zstd -qdc "$f" >"${dest%.zst}" ;;
		*) cp "$f" "$dest" ;;
		esac
	done
	depmod -b "$root" "$rel"
	echo "$modlist" >"$root/etc/testbed/modules"

	cp "$here/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\n' >"$root/etc/group"
	echo testbed >"$root/etc/hostname"
	echo "$rel" >"$root/etc/testbed/kernel"

	pack "$root" >"$image.tmp.$$"
	mv -f "$image.tmp.$$" "$image"
	rm -rf "$root"
fi

if [ -z "$output" ]; then
	echo "$image"
	exit 0
fi
cp "$image" "$output.tmp"
if [ -n "$files" ]; then
	extra=$(mktemp -d "${TMPDIR:-/tmp}/mkinitrd.XXXXXX")
	trap 'rm -rf "$extra"' EXIT
	for spec in $files; do
		src=${spec%%:*}
		dest=${spec#*:}
		[ "$dest" = "$spec" ] && dest=/testbed/$(basename "$src")
		[ -e "$src" ] || die "no such file: $src"
		mkdir -p "$extra$(dirname "$dest")"
		cp -RL "$src" "$extra$dest"
	done
	pack "$extra" >>"$output.tmp"
fi
mv -f "$output.tmp" "$output"
echo "$output"
