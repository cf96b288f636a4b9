#!/bin/sh
# Boots the Debian 12 guest (build-image.sh) under QEMU/TCG once per phase,
# all boots on the same disk, and returns the first failing phase's exit code
# (0 when all pass). See ../README.md, "The Debian guest".
#
#   run-debian.sh --builddir DIR --phase FILE [--phase FILE]...
#                 [--state DIR] [--results DIR] [--check PROGRAM]
#                 [--timeout SEC] [--other-model-from N] [--shell]
#
# Phase N (1, 2, ...) runs in the guest as a oneshot systemd unit after
# multi-user.target, under bash, with $PHASE=N and $RESULTS (a 9p share of the
# results directory); its output goes to the console and results/phaseN.log,
# its exit code to results/rc.N, then the guest powers off and the next phase
# boots the same disk, through the kernel and initramfs the guest's /vmlinuz
# and /initrd.img name at the end of the phase before (update-initramfs in a
# phase counts from the next boot on). --state DIR keeps that disk (a qcow2
# over the cached base image) and the two NVMe controllers' backing files for
# a later run; without it they are temporary. --check runs PROGRAM RESULTS_DIR on the host
# after the last phase. --timeout bounds each boot (default 300 s;
# PASSTHRU_TESTBED_TIMEOUT): the guest never hangs the caller.
# --other-model-from N: from phase N on, the second slot (02:00.0) holds
# another storage controller, an AHCI one (ich9-ahci, 8086:2922, class 0106)
# with the same backing file as its SATA disk, as if the drive had been
# swapped for another model. --shell boots
# once with no phase and the console on stdio (log in as root, no password).
# Exit codes: the phase's or the checker's, 99 when a guest timed out or
# reported nothing.
set -eu

here=$(cd "$(dirname "$0")" && pwd)

die() { echo "run-debian: $*" >&2; exit 99; }

builddir= state= results= check= shell=0 phases= other_from=
limit=${PASSTHRU_TESTBED_TIMEOUT:-300}
while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$2; shift ;;
	--phase)
		[ -f "$2" ] || die "no such phase script: $2"
		phases="$phases $(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
		shift
		;;
	--state) state=$2; shift ;;
	--results) results=$2; shift ;;
	--check) check=$2; shift ;;
	--timeout) limit=$2; shift ;;
	--other-model-from) other_from=$2; shift ;;
	--shell) shell=1 ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ -n "$builddir" ] || die "--builddir is required"
[ -n "$phases" ] || [ "$shell" = 1 ] || die "give at least one --phase (or --shell)"

img=$("$here/build-image.sh" --builddir "$builddir") || die "cannot build the guest image"

# A results dir given by hand is emptied first if an earlier run made it
# (it has testbed.json): stale output must not pass for this run's.
if [ -n "$results" ] && [ -n "$(ls -A "$results" 2>/dev/null)" ]; then
	[ -f "$results/testbed.json" ] || die "$results is not empty and not a results directory"
	rm -rf "${results:?}"/* "${results:?}"/.[!.]* 2>/dev/null || true
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthru-debian-vm.XXXXXX")
keep_results=1
if [ -z "$results" ]; then
	results=$tmp/results
	keep_results=0
fi
mkdir -p "$results" "$tmp/in"
results=$(cd "$results" && pwd -P)
[ -n "$state" ] || state=$tmp/state
mkdir -p "$state"
state=$(cd "$state" && pwd -P)
cleanup() {
	[ "$keep_results" = 1 ] || rm -rf "$results"
	rm -rf "$tmp/in" "$tmp/state"
	rmdir "$tmp" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The disk: copy-on-write over the cached base, which stays as it was built.
# A kept state whose base is another image is started afresh.
if [ ! -f "$state/disk.qcow2" ] || [ "$(cat "$state/base" 2>/dev/null)" != "$img" ]; then
	rm -rf "$state/disk.qcow2" "$state/nvme0.img" "$state/nvme1.img" "${state:?}/boot"
	qemu-img create -q -f qcow2 -F raw -b "$img/base.ext4" "$state/disk.qcow2" ||
		die "cannot create the disk overlay"
	echo "$img" >"$state/base"
fi
for n in 0 1; do
	[ -f "$state/nvme$n.img" ] || truncate -s 256M "$state/nvme$n.img"
done

# The kernel and initramfs come from the image as built, or, once a phase
# changed them in the guest (update-initramfs), from the copy it handed back.
boot_files() {
	if [ -f "$state/boot/initrd.img" ]; then echo "$state/boot"; else echo "$img"; fi
}
rel=$(cat "$(boot_files)/release")
# no_timer_check: on a loaded host TCG is slow enough for the kernel's IO-APIC
# timer check to fail, which with interrupt remapping is a panic at boot.
append="root=/dev/vda rw console=ttyS0 panic=-1 quiet no_timer_check intel_iommu=on iommu=pt"
printf '{"profile": "debian", "release": "%s", "image": "%s", "cmdline": "%s"}\n' \
	"$rel" "$img" "$append" >"$results/testbed.json"

boot() { # PHASE-NUMBER (0: a shell)
	n=$1
	cmdline=$append
	[ "$n" = 0 ] || cmdline="$cmdline testbed.phase=$n"
	kdir=$(boot_files)
	slot2="-drive file=$state/nvme1.img,if=none,id=nv1,format=raw"
	if [ -n "$other_from" ] && [ "$n" -ge "$other_from" ]; then
		slot2="$slot2 -device ich9-ahci,id=ahci1,bus=rp1 -device ide-hd,drive=nv1,bus=ahci1.0"
	else
		slot2="$slot2 -device nvme,serial=passthru-guest,drive=nv1,bus=rp1"
	fi
	cat "$kdir/vmlinuz" "$kdir/initrd.img" | sha256sum | cut -d' ' -f1 >"$tmp/in/boot.sha256"
	# Layout: 00:02.0 virtio-blk root; 00:03.0 and 00:04.0 root ports with
	# an NVMe controller each (01:00.0 serial "passthru-host": the host's
	# data; 02:00.0 serial "passthru-guest": the one to pass through);
	# 00:05.0 and 00:06.0 the 9p shares (phase in, results out). The state
	# paths hold no spaces (mktemp, or the caller's --state): $slot2 splits.
	# shellcheck disable=SC2086
	timeout --foreground -k 10 "$limit" qemu-system-x86_64 \
		-accel tcg -cpu max -m 2048 -smp 2 -machine q35,kernel-irqchip=split \
		-nodefaults -display none -no-reboot \
		-device intel-iommu,intremap=on,caching-mode=on \
		-kernel "$kdir/vmlinuz" -initrd "$kdir/initrd.img" -append "$cmdline" \
		-chardev stdio,id=con0,mux=on,logfile="$results/console.$n.log" \
		-serial chardev:con0 -mon chardev=con0,mode=readline \
		-drive file="$state/disk.qcow2",if=none,id=root,format=qcow2,cache=unsafe \
		-device virtio-blk-pci,drive=root,addr=02.0 \
		-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,addr=03.0 \
		-drive file="$state/nvme0.img",if=none,id=nv0,format=raw \
		-device nvme,serial=passthru-host,drive=nv0,bus=rp0 \
		-device pcie-root-port,id=rp1,bus=pcie.0,chassis=2,addr=04.0 \
		$slot2 \
		-fsdev local,id=in,path="$tmp/in",security_model=none,readonly=on \
		-device virtio-9p-pci,fsdev=in,mount_tag=testbed,addr=05.0 \
		-fsdev local,id=res,path="$results",security_model=none \
		-device virtio-9p-pci,fsdev=res,mount_tag=results,addr=06.0
}

if [ "$shell" = 1 ]; then
	keep_results=1
	boot 0 || true
	exit 0
fi

echo "run-debian: kernel $rel, ${limit}s per boot, results $results, disk $state" >&2
n=0 rc=0
for p in $phases; do
	n=$((n + 1))
	cp "$p" "$tmp/in/phase"
	start=$(date +%s)
	set +e
	boot "$n"
	qemu_rc=$?
	set -e
	elapsed=$(($(date +%s) - start))
	if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		echo "run-debian: FAIL: phase $n: the guest did not power off within ${limit}s; console tail:" >&2
		tail -n 30 "$results/console.$n.log" >&2 2>/dev/null || true
		rc=99
		break
	fi
	[ "$qemu_rc" = 0 ] || echo "run-debian: phase $n: qemu exited with $qemu_rc" >&2
	if [ -f "$results/.boot/release" ]; then
		rm -rf "${state:?}/boot"
		mv "$results/.boot" "$state/boot"
		echo "run-debian: phase $n changed the kernel or initramfs ($(cat "$state/boot/release")): the next boot uses them" >&2
	fi
	prc=$(cat "$results/rc.$n" 2>/dev/null ||
		sed -n 's/^TESTBED-RC=\([0-9]*\).*/\1/p' "$results/console.$n.log" 2>/dev/null | tail -n 1)
	if [ -z "$prc" ]; then
		echo "run-debian: FAIL: phase $n reported nothing (after ${elapsed}s); console tail:" >&2
		tail -n 30 "$results/console.$n.log" >&2 2>/dev/null || true
		rc=99
		break
	fi
	# 77 would read as "skipped" to meson: a vm test never skips.
	[ "$prc" = 77 ] && prc=1
	echo "run-debian: phase $n ($(basename "$p")) exited with $prc after ${elapsed}s" >&2
	if [ "$prc" != 0 ]; then
		rc=$prc
		break
	fi
done

if [ "$rc" = 0 ] && [ -n "$check" ]; then
	set +e
	"$check" "$results"
	rc=$?
	set -e
	echo "run-debian: $(basename "$check") exited with $rc" >&2
fi
if [ "$rc" != 0 ]; then
	keep_results=1
	echo "run-debian: results kept in $results" >&2
fi
exit "$rc"
