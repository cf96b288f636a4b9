#!/bin/sh
# Download and unpack the guest kernels of the vm test suite, without
# installing them: the newest Debian 12 kernel (6.1.0-N) and the newest 6.12
# backport that the archive lets us download (resolve-kernel.sh), falling back
# to older builds, then to the cache. Idempotent: a kernel already unpacked is
# kept.
#
# Cache: ${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}
#   kernels/<release>/boot/vmlinuz-<release>
#   kernels/<release>/lib/modules/<release>/   (depmod'ed)
#   kernels/6.1, kernels/6.12                  (symlinks to the resolved release)
# Prints one line per kernel: "<series> <dir>".
# APT_CACHE and APT_GET name the apt-cache and apt-get used to resolve and download (the
# tests replay recorded archive states through them).
set -eu
export PATH="$PATH:/usr/sbin:/sbin"

here=$(cd "$(dirname "$0")" && pwd)
cache=${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}
mkdir -p "$cache/kernels" "$cache/debs"

apt_get=${APT_GET:-apt-get}
export APT_CACHE="${APT_CACHE:-apt-cache}"

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
	$apt_get update >&2 || log "apt-get update failed"
	return 0
}

# "<release> <package>" lines, best first, that have a download candidate.
resolve() {
	"$here/resolve-kernel.sh" "$1"
}

# The files of guest-modules.txt's closure.
module_closure() {
	# shellcheck disable=SC2046
	"$here/module-closure.sh" "$1" "$2" $(grep -v '^#' "$here/guest-modules.txt") |
		cut -d' ' -f2 | sort -u
}

# Downloads one package into $cache/debs; returns 1 (after saying why) when it cannot.
download() {
	log "downloading $1"
	(cd "$cache/debs" && rm -f "${1}_"*.deb && $apt_get download "$1" >&2) && return 0
	log "apt-get download $1 failed"
	return 1
}

# Unpacks a downloaded package into the cache as the series' kernel.
unpack() {
	series=$1 rel=$2 pkg=$3
	dir=$cache/kernels/$rel
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
	list=$(resolve "$series")
	if [ -z "$list" ] && apt_update_once; then
		list=$(resolve "$series")
	fi
	# Newest first; a build that cannot be downloaded falls back to the next one.
	got=
	while read -r rel pkg; do
		[ -n "$rel" ] || continue
		if [ -f "$cache/kernels/$rel/.complete" ]; then
			ln -sfn "$rel" "$cache/kernels/$series"
			got=1
			break
		fi
		if download "$pkg"; then
			unpack "$series" "$rel" "$pkg"
			got=1
			break
		fi
	done <<EOF
$list
EOF
	if [ -z "$got" ]; then
		# Offline, or the archive lost every build: keep what we have.
		[ -f "$cache/kernels/$series/.complete" ] ||
			die "cannot get a $series kernel: no package with a download candidate (apt-cache policy) could be unpacked, and none is in $cache"
		log "cannot download a $series kernel, keeping $(readlink "$cache/kernels/$series")"
	fi
	echo "$series $cache/kernels/$(readlink "$cache/kernels/$series")"
done
