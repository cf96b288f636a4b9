#!/bin/sh
# Download and unpack the guest kernels of the vm test suite, without
# installing them: the current Debian 12 kernel (6.1.0-N) and the newest
# 6.12 backport. Idempotent: a kernel already unpacked is kept.
#
# Cache: ${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}
#   kernels/<release>/boot/vmlinuz-<release>
#   kernels/<release>/lib/modules/<release>/   (depmod'ed)
#   kernels/6.1, kernels/6.12                  (symlinks to the resolved release)
# Prints one line per kernel: "<series> <dir>".
set -eu
export PATH="$PATH:/usr/sbin:/sbin"

here=$(cd "$(dirname "$0")" && pwd)
cache=${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}
mkdir -p "$cache/kernels" "$cache/debs"

log() { echo "fetch-kernels: $*" >&2; }
die() { log "$*"; exit 1; }

# Host tools the harness needs. Installed only when missing, and only as root.
need_pkgs() {
	missing=
	for p in qemu-system-x86 busybox-static cpio kmod pciutils usbutils python3 udev hwdata xz-utils; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages:$missing (install them as root)"
	log "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $missing >&2 ||
		{ apt-get update >&2 && apt-get install -y --no-install-recommends $missing >&2; } ||
		die "cannot install$missing"
}

updated=
apt_update_once() {
	[ -n "$updated" ] && return 1
	updated=1
	log "package lookup failed, running apt-get update"
	apt-get update >&2 || log "apt-get update failed"
	return 0
}

# The 6.1 ABI the linux-image-amd64 metapackage points at.
resolve_61() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n 1
}

# The newest 6.12 backport build; its package is linux-image-<release>, or
# linux-image-<release>-unsigned when only that one exists.
resolve_612() {
	apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64(-unsigned)?$' 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)\(-unsigned\)\{0,1\} .*/\1/p' |
		sort -u -V | tail -n 1
}

package_for() {
	if apt-cache show "linux-image-$1" >/dev/null 2>&1; then
		echo "linux-image-$1"
	elif apt-cache show "linux-image-$1-unsigned" >/dev/null 2>&1; then
		echo "linux-image-$1-unsigned"
	fi
}

# The files of guest-modules.txt's closure.
module_closure() {
	# shellcheck disable=SC2046
	"$here/module-closure.sh" "$1" "$2" $(grep -v '^#' "$here/guest-modules.txt") |
		cut -d' ' -f2 | sort -u
}

unpack() {
	series=$1 rel=$2
	dir=$cache/kernels/$rel
	if [ -f "$dir/.complete" ]; then
		ln -sfn "$rel" "$cache/kernels/$series"
		return 0
	fi
	pkg=$(package_for "$rel")
	[ -n "$pkg" ] || die "no package for kernel $rel"
	log "downloading $pkg"
	(cd "$cache/debs" && rm -f "${pkg}_"*.deb && apt-get download "$pkg" >&2) ||
		die "apt-get download $pkg failed"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	dpkg -x "$cache/debs/${pkg}_"*.deb "$dir.tmp"
	# Debian keeps modules in /lib/modules; with a merged /usr they may be in
	# /usr/lib/modules. The harness always reads lib/modules.
	if [ ! -d "$dir.tmp/lib/modules/$rel" ] && [ -d "$dir.tmp/usr/lib/modules/$rel" ]; then
		mkdir -p "$dir.tmp/lib/modules"
		mv "$dir.tmp/usr/lib/modules/$rel" "$dir.tmp/lib/modules/$rel"
	fi
	[ -f "$dir.tmp/boot/vmlinuz-$rel" ] || die "$pkg has no boot/vmlinuz-$rel"
	[ -d "$dir.tmp/lib/modules/$rel" ] || die "$pkg has no modules for $rel"
	# The package ships no modules.dep; modprobe -d needs one.
	depmod -b "$dir.tmp" "$rel"
	# busybox modprobe loads plain .ko only: decompress what the guest loads.
	compressed=$(module_closure "$dir.tmp" "$rel" | grep -E '\.ko\.(xz|zst)$' || true)
	if [ -n "$compressed" ]; then
		log "decompressing $(echo "$compressed" | wc -l) modules"
		for f in $compressed; do
			case $f in
			*.xz) xz -d "$f" ;;
			*.zst) zstd -q -d --rm "$f" ;;
			esac
		done
		depmod -b "$dir.tmp" "$rel"
	fi
	touch "$dir.tmp/.complete"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	rm -f "$cache/debs/${pkg}_"*.deb
	ln -sfn "$rel" "$cache/kernels/$series"
}

need_pkgs

# One fetch at a time per cache: test runs may start together.
exec 9>"$cache/.fetch.lock"
flock 9

for series in 6.1 6.12; do
	case $series in
	6.1) rel=$(resolve_61) ;;
	6.12) rel=$(resolve_612) ;;
	esac
	if [ -z "$rel" ] && apt_update_once; then
		case $series in
		6.1) rel=$(resolve_61) ;;
		6.12) rel=$(resolve_612) ;;
		esac
	fi
	if [ -z "$rel" ]; then
		# Offline, or the lists lost the package: keep what we have.
		[ -f "$cache/kernels/$series/.complete" ] || die "cannot resolve the $series kernel"
		log "cannot resolve the $series kernel, keeping $(readlink "$cache/kernels/$series")"
	else
		unpack "$series" "$rel"
	fi
	echo "$series $cache/kernels/$(readlink "$cache/kernels/$series")"
done
