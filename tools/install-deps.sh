#!/bin/sh
# Installs every Debian 12 package passthru needs to build, test and benchmark.
# Idempotent: when everything is there it only checks.
set -eu

PACKAGES="
build-essential meson ninja-build pkg-config clang llvm libclang-rt-14-dev
libkmod-dev libpci-dev libudev-dev libsmartcols-dev libjson-c-dev libmnl-dev libsqlite3-dev
libmicrohttpd-dev libsystemd-dev libcurl4-openssl-dev curl
libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler python3-grpcio python3-grpc-tools python3-protobuf
pciutils usbutils hwdata udev kmod python3 strace hyperfine groff-base man-db bash-completion
qemu-system-x86 qemu-utils busybox-static cpio xz-utils zstd e2fsprogs
driverctl dpdk libvirt-clients debootstrap
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
