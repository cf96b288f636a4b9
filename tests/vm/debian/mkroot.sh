#!/bin/sh
# Builds (or finds in the cache) the Debian 12 root of the vm tests' Debian
# guest and prints its directory: $cache/debian/root-<key>, a debootstrap of
# bookworm from the archive apt uses here, with the testbed-phase unit of
# guest/ enabled. <key> hashes this script, the guest/ files and the package
# list: only a change there rebuilds it (about 2 minutes, 800 MB). build-image.sh
# calls it. Needs root.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}/debian
suite=bookworm

# What the guest needs: issue 11's userspace (systemd, udev, lvm2, mdadm,
# initramfs-tools), a kernel through the metapackage (the archive's newest
# build; its name is never spelled here) and passthru's runtime libraries (passthrud's
# too, and curl to talk to it).
PACKAGES="systemd-sysv udev lvm2 mdadm initramfs-tools busybox kmod linux-image-amd64
iproute2 pciutils e2fsprogs
libkmod2 libpci3 libudev1 libsmartcols1 libjson-c5 libmnl0
libmicrohttpd12 libsqlite3-0 libcurl4 curl libprotobuf-c1 libnghttp2-14"
# The nested QEMU that owns the passthrough drive in debian-nvme's boot 2
# (Debian's own, with its firmware and libraries: about 90 MB).
PACKAGES="$PACKAGES qemu-system-x86"

die() { echo "mkroot: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap)"
command -v debootstrap >/dev/null || PATH=$PATH:/usr/sbin:/sbin
command -v debootstrap >/dev/null || die "debootstrap is missing (tools/install-deps.sh installs it)"

# The archive apt already uses on this machine, for the suite we want.
mirror() {
	{
		cat /etc/apt/sources.list 2>/dev/null |
			awk -v s="$suite" '$1 == "deb" && $0 ~ " "s" " { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }'
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			# deb822 stanzas: the URIs of one whose Suites has the suite itself.
			awk -v s="$suite" '
				/^$/ { if (u != "" && ok) print u; u = ""; ok = 0; next }
				/^URIs:/ { u = $2 }
				/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) ok = 1 }
				END { if (u != "" && ok) print u }' "$f"
		done
	} | head -n 1
}

mkdir -p "$cache"
key=$( { cat "$0" "$here"/guest/*; echo "$PACKAGES"; } | sha256sum | cut -c1-16)
root=$cache/root-$key

# One build at a time: a second run (meson starts two guest tests at once, or a second checkout
# shares the cache) waits for the first one's root instead of removing its half-made one.
exec 9>"$cache/root-$key.lock"
flock -w 1800 9 || die "another mkroot has held $cache/root-$key.lock for 30 minutes"

if [ ! -f "$root/.complete" ]; then
	url=$(mirror)
	[ -n "$url" ] || die "apt has no source for $suite (/etc/apt/sources.list{,.d})"
	echo "mkroot: debootstrap $suite from $url into $root (about 2 minutes)" >&2
	rm -rf "$root" "$root.tmp"
	include=$(echo $PACKAGES | tr ' ' ,)
	debootstrap --variant=minbase --include="$include" "$suite" "$root.tmp" "$url" \
		>"$cache/debootstrap-$key.log" 2>&1 ||
		die "debootstrap failed; see $cache/debootstrap-$key.log"
	r=$root.tmp
	# The kernel's postinst made an initramfs with initramfs-tools' default
	# MODULES=most: 40 MB that TCG needs 25 s more per boot to unpack (and
	# minutes to rebuild in the guest). The guest's own disks need only these
	# (the lvm2 and mdadm hooks add theirs); MODULES=dep cannot be used here,
	# it would look at the build machine's root.
	printf 'MODULES=list\nCOMPRESS=gzip\n' >"$r/etc/initramfs-tools/conf.d/testbed"
	printf '%s\n' virtio_pci virtio_blk nvme ext4 crc32c_generic >>"$r/etc/initramfs-tools/modules"
	chroot "$r" update-initramfs -u -k all >>"$cache/debootstrap-$key.log" 2>&1 ||
		die "update-initramfs failed in the root; see $cache/debootstrap-$key.log"
	ls "$r"/boot/vmlinuz-* "$r"/boot/initrd.img-* >/dev/null 2>&1 ||
		die "the root has no kernel or no initramfs in /boot"
	echo guest >"$r/etc/hostname"
	printf '/dev/vda / ext4 defaults 0 1\n' >"$r/etc/fstab"
	chroot "$r" passwd -d root >/dev/null # a console login for debugging by hand
	install -m 0755 "$here/guest/testbed-phase" "$r/usr/local/libexec/testbed-phase" 2>/dev/null || {
		mkdir -p "$r/usr/local/libexec"
		install -m 0755 "$here/guest/testbed-phase" "$r/usr/local/libexec/testbed-phase"
	}
	install -m 0644 "$here/guest/testbed-phase.service" "$r/etc/systemd/system/"
	systemctl --root="$r" enable testbed-phase.service >/dev/null 2>&1
	systemctl --root="$r" set-default multi-user.target >/dev/null 2>&1
	# The login prompt on ttyS0 only when there is no phase (--shell): its
	# vhangup() would cut the phase's console output (tee: EIO), seen.
	mkdir -p "$r/etc/systemd/system/serial-getty@ttyS0.service.d"
	printf '[Unit]\nConditionKernelCommandLine=!testbed.phase\n' \
		>"$r/etc/systemd/system/serial-getty@ttyS0.service.d/testbed.conf"
	# Timers that would start apt or fsck work in the middle of a phase, and
	# systemd-firstboot, which would wait on the console for a locale (the
	# machine-id debootstrap leaves is empty: each boot makes one, so each is
	# a first boot).
	systemctl --root="$r" mask apt-daily.timer apt-daily-upgrade.timer \
		e2scrub_all.timer e2scrub_reap.service fstrim.timer \
		systemd-firstboot.service >/dev/null 2>&1 || true
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*_Packages
	touch "$r/.complete"
	mv "$r" "$root"
fi
# Roots of older scripts or package lists, unused for 7 days, go (the images
# made from them do not need them).
touch "$root"
find "$cache" -maxdepth 1 \( -name 'root-*' ! -name '*.tmp' -o -name 'debootstrap-*.log' \) -mtime +7 \
	-exec rm -rf {} + 2>/dev/null || true
echo "$root"
