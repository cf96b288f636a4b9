#!/bin/sh
# Builds (or finds in the cache) the Debian 12 guest of run-debian.sh and
# prints the directory that holds it: base.ext4 (the root filesystem, never
# written once made), vmlinuz and initrd.img (the kernel and the
# initramfs-tools initramfs the image's own linux-image-amd64 made).
#
#   build-image.sh --builddir DIR
#
# Two cached stages under $cache/debian/:
#   root-<key>/   mkroot.sh: debootstrap of bookworm, rebuilt only when
#                 mkroot.sh, guest/ or its package list change.
#   image-<key>/  root + `meson install --destdir` of DIR + ldconfig, made into
#                 an ext4 image with `mkfs.ext4 -d` (nothing is mounted);
#                 <key> adds a hash of the installed files, so a rebuilt
#                 passthru makes a new one. Images unused for 7 days go.
# Needs root (debootstrap, and mkfs.ext4 -d keeps the files' owners).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}/debian

die() { echo "build-image: $*" >&2; exit 1; }

builddir=
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$2; shift ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ -n "$builddir" ] || die "usage: build-image.sh --builddir DIR"
[ -f "$builddir/build.ninja" ] || die "$builddir is not a meson build directory"
[ "$(id -u)" = 0 ] || die "needs root (mkroot.sh's debootstrap; mkfs.ext4 -d keeps the owners)"
for t in mkfs.ext4 meson sha256sum; do
	command -v "$t" >/dev/null || PATH=$PATH:/usr/sbin:/sbin
	command -v "$t" >/dev/null || die "$t is missing (tools/install-deps.sh installs it)"
done

root=$("$here/mkroot.sh") || die "cannot build the Debian root"
rkey=${root##*/root-}

# passthru, installed the way a distribution package would (meson install
# --destdir), into a directory of its own first: its files make the key.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthru-debian.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
meson install -C "$builddir" --no-rebuild --destdir "$tmp/install" --quiet >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; die "meson install failed"; }
ikey=$( { echo "$rkey"; cd "$tmp/install" && find . -printf '%p %y %m %l\n' | sort &&
	find . -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -c1-16)
img=$cache/image-$ikey

if [ ! -f "$img/.complete" ]; then
	echo "build-image: making $img" >&2
	rm -rf "$img" "$tmp/root"
	# Hard links keep the copy cheap; every file written below is a new one
	# (tar unlinks first, ldconfig renames its cache into place), so
	# the cached root is never written through a link.
	cp -al "$root" "$tmp/root"
	rm -f "$tmp/root/.complete"
	# tar keeps the root's /lib -> usr/lib (merged /usr) where the install
	# has a real lib/ (Debian's systemd.pc says /lib/systemd/system), and
	# unlinks before it writes.
	tar -C "$tmp/install" -cf - . | tar -C "$tmp/root" -xf - --keep-directory-symlink
	ldconfig -r "$tmp/root"
	# Every library an installed program needs must be in the root (mkroot.sh's
	# package list): say which one is missing here, not as a unit failing at boot.
	find "$tmp/install" -type f -perm -u+x | while read -r f; do
		readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
	done | sort -u | while read -r lib; do
		for d in usr/lib/x86_64-linux-gnu lib/x86_64-linux-gnu usr/local/lib/x86_64-linux-gnu \
			usr/local/lib usr/lib lib; do
			[ -e "$tmp/root/$d/$lib" ] && continue 2
		done
		echo "$lib"
	done >"$tmp/missing-libs"
	[ ! -s "$tmp/missing-libs" ] ||
		die "the root lacks libraries installed programs need (add their packages to mkroot.sh): $(tr '\n' ' ' <"$tmp/missing-libs")"
	cp "$tmp/install.log" "$tmp/root/.passthru-install.log" 2>/dev/null || true
	# Two runs may make the same image at once: each in its own directory, the first
	# rename wins and the other run uses it.
	out=$img.tmp.$$
	rm -rf "$out"
	mkdir -p "$out"
	size=$(du -sm "$tmp/root" | cut -f1)
	mkfs.ext4 -q -L guest-root -d "$tmp/root" "$out/base.ext4" "$((size + 1536))M" \
		>"$tmp/mkfs.log" 2>&1 || { cat "$tmp/mkfs.log" >&2; die "mkfs.ext4 -d failed"; }
	chmod 0444 "$out/base.ext4"
	# The kernel and initramfs for -kernel/-initrd, from the root's /boot.
	kver=$(cd "$tmp/root/boot" && ls vmlinuz-* | sed 's/^vmlinuz-//' | sort -V | tail -n 1)
	cp "$tmp/root/boot/vmlinuz-$kver" "$out/vmlinuz"
	cp "$tmp/root/boot/initrd.img-$kver" "$out/initrd.img"
	echo "$kver" >"$out/release"
	find "$tmp/install" -mindepth 1 | sed "s|^$tmp/install||" | sort >"$out/installed-files"
	rm -rf "$tmp/root"
	touch "$out/.complete"
	mv -T "$out" "$img" 2>/dev/null || rm -rf "$out"
	[ -f "$img/.complete" ] || die "$img: not complete after making it"
fi
touch "$img" # its mtime says when it was last used
find "$cache" -maxdepth 1 -name 'image-*' -mtime +7 -exec rm -rf {} + 2>/dev/null || true
echo "$img"
