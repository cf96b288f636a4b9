#!/bin/sh
# Boot a vm test guest under QEMU/TCG, run a job script in it and return the
# job's exit code. See README.md in this directory.
#
#   run-guest.sh [--kernel 6.1|6.12] [--iommu intel|amd|none] [--intremap on|off]
#                [--cmdline-extra ARGS]
#                [--script FILE] [--check PROGRAM] [--results DIR] [--timeout SEC]
#                [--shell] [--passthru PATH] [--bin PATH]... [--file SRC[:DEST]]...
#                [--module NAME]... [--with-qemu]
#
# --script runs in the guest as /testbed/job with $RESULTS, a 9p share of the
# host's results directory. --check runs PROGRAM RESULTS_DIR on the host once
# the guest is off; its exit code counts too. The results directory holds
# testbed.json (the profile), console.log, job.log, rc and what the job wrote;
# without --results it is a temporary one, removed on success. --intremap off
# gives the emulated IOMMU no interrupt remapping (its ACPI table says so too).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cache=${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}

die() { echo "run-guest: $*" >&2; exit 99; }

series=6.1 iommu=intel intremap=on extra= script= check= results= shell=0
limit=${PASSTHRU_TESTBED_TIMEOUT:-240}
set --  "$@" --end
mkargs=
while [ "$1" != --end ]; do
	case $1 in
	--kernel) series=$2; shift ;;
	--iommu) iommu=$2; shift ;;
	--intremap) intremap=$2; shift ;;
	--cmdline-extra) extra="$extra $2"; shift ;;
	--script) script=$2; shift ;;
	--check) check=$2; shift ;;
	--results) results=$2; shift ;;
	--timeout) limit=$2; shift ;;
	--shell) shell=1 ;;
	--passthru | --bin | --file | --module) mkargs="$mkargs $1 $2"; shift ;;
	--with-qemu) mkargs="$mkargs $1" ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
case $series in 6.1 | 6.12) ;; *) die "--kernel must be 6.1 or 6.12" ;; esac
case $iommu in intel | amd | none) ;; *) die "--iommu must be intel, amd or none" ;; esac
case $intremap in on | off) ;; *) die "--intremap must be on or off" ;; esac

kdir=$cache/kernels/$series
if [ ! -f "$kdir/.complete" ]; then
	"$here/fetch-kernels.sh" >&2 || die "cannot fetch the guest kernels"
fi
rel=$(readlink "$kdir")

# A results dir given by hand is emptied first if an earlier run made it (it
# has testbed.json): stale output must not pass for this run's.
if [ -n "$results" ] && [ -n "$(ls -A "$results" 2>/dev/null)" ]; then
	[ -f "$results/testbed.json" ] || die "$results is not empty and not a results directory"
	rm -rf "${results:?}"/* "${results:?}"/.[!.]* 2>/dev/null || true
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthru-vm.XXXXXX")
keep_results=1
if [ -z "$results" ]; then
	results=$tmp/results
	keep_results=0
fi
mkdir -p "$results"
results=$(cd "$results" && pwd -P)
cleanup() {
	rm -f "$tmp/initrd.gz" "$tmp/nvme.img"
	rmdir "$tmp" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The helpers that go with the device layout below.
mkargs="$mkargs --file $here/guest-sriov.sh"
if [ -n "$script" ]; then
	[ -f "$script" ] || die "no such script: $script"
	mkargs="$mkargs --file $script:/testbed/job"
fi
# shellcheck disable=SC2086
"$here/mkinitrd.sh" --kernel "$kdir" $mkargs --output "$tmp/initrd.gz" >/dev/null ||
	die "cannot build the initramfs"
truncate -s 64M "$tmp/nvme.img"

# no_timer_check: on a loaded host TCG is slow enough for the kernel's IO-APIC
# timer check to fail, which with interrupt remapping is a panic at boot.
append="console=ttyS0 panic=-1 quiet no_timer_check testbed.results=9p"
case $iommu in
intel)
	iommu_dev="-device intel-iommu,intremap=$intremap,caching-mode=on"
	append="$append intel_iommu=on iommu=pt"
	;;
amd)
	iommu_dev="-device amd-iommu,intremap=$intremap"
	append="$append iommu=pt"
	;;
none) iommu_dev= ;;
esac
[ "$shell" = 1 ] && append="$append testbed.shell=1"
append="$append$extra"

printf '{"kernel": "%s", "release": "%s", "iommu": "%s", "intremap": "%s", "cmdline": "%s"}\n' \
	"$series" "$rel" "$iommu" "$intremap" "$append" >"$results/testbed.json"

echo "run-guest: kernel $rel, iommu $iommu, timeout ${limit}s, results $results" >&2
boot() {
	# PCI layout (fixed so tests can name addresses): 00:02.0 e1000e, 00:03.0
	# NVMe PF (VFs at 03.1-03.4), 00:04.0 xHCI, 00:05.0 9p share, 00:06.0 PCI
	# UART, 00:07.0 root port with a VGA + HD audio pair at 01:00.0/01:00.1.
	# USB: 1-1 keyboard, 1-2 tablet, 1-3 hub, 1-3.1 FTDI serial behind it.
	# ttyS0 is the console, ttyS1 a second real UART with nothing behind it.
	# shellcheck disable=SC2086
	timeout --foreground -k 10 "$limit" qemu-system-x86_64 \
		-accel tcg -cpu max -m 2048 -smp 2 -machine q35,kernel-irqchip=split \
		-nodefaults -display none -no-reboot \
		$iommu_dev \
		-kernel "$kdir/boot/vmlinuz-$rel" -initrd "$tmp/initrd.gz" -append "$append" \
		-chardev stdio,id=con0,mux=on,logfile="$results/console.log" \
		-serial chardev:con0 -mon chardev=con0,mode=readline \
		-serial null \
		-device e1000e,netdev=n0,addr=02.0 -netdev user,id=n0 \
		-device nvme-subsys,id=subsys0 \
		-drive file="$tmp/nvme.img",if=none,id=nv0,format=raw \
		-device nvme,serial=abc,subsys=subsys0,sriov_max_vfs=4,sriov_vq_flexible=8,sriov_vi_flexible=4,msix_qsize=8,addr=03.0 \
		-device nvme-ns,drive=nv0 \
		-device qemu-xhci,id=xhci,addr=04.0 \
		-device usb-kbd,bus=xhci.0,port=1 \
		-device usb-tablet,bus=xhci.0,port=2 \
		-device usb-hub,bus=xhci.0,port=3 \
		-chardev null,id=usbser0 -device usb-serial,bus=xhci.0,port=3.1,chardev=usbser0,always-plugged=on \
		-fsdev local,id=res,path="$results",security_model=none \
		-device virtio-9p-pci,fsdev=res,mount_tag=results,addr=05.0 \
		-chardev null,id=pciser0 -device pci-serial,chardev=pciser0,addr=06.0 \
		-device pcie-root-port,id=rp_gpu,bus=pcie.0,chassis=1,addr=07.0 \
		-device VGA,bus=rp_gpu,addr=00.0,multifunction=on \
		-device ich9-intel-hda,bus=rp_gpu,addr=00.1
}

# A kernel that dies while booting under TCG (seen: an int3 oops in the 6.12
# kernel's code patching across vCPUs) is the emulator's race, not a test
# result: such a boot, one that ended before the job started, is tried again,
# at most twice, and said so. A job that ran is never rerun.
start=$(date +%s)
attempt=1
while :; do
	set +e
	boot
	qemu_rc=$?
	set -e
	if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ] || [ -s "$results/rc" ] ||
		grep -q '^init: running job' "$results/console.log" 2>/dev/null ||
		[ "$attempt" -ge 3 ]; then
		break
	fi
	echo "run-guest: the guest died before its job started (attempt $attempt); console tail:" >&2
	tail -n 8 "$results/console.log" >&2 2>/dev/null || true
	rm -f "$results/console.log" "$results/job.log" "$results/rc"
	attempt=$((attempt + 1))
done
elapsed=$(($(date +%s) - start))

if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	echo "run-guest: FAIL: guest did not power off within ${limit}s, qemu killed" >&2
	echo "run-guest: results kept in $results" >&2
	keep_results=1
	exit 99
fi
[ "$qemu_rc" = 0 ] || echo "run-guest: qemu exited with $qemu_rc" >&2

rc=$(cat "$results/rc" 2>/dev/null ||
	sed -n 's/^TESTBED-RC=\([0-9]*\).*/\1/p' "$results/console.log" 2>/dev/null | tail -n 1)
if [ -z "$rc" ]; then
	echo "run-guest: FAIL: the guest reported no result (after ${elapsed}s); console tail:" >&2
	tail -n 30 "$results/console.log" >&2 2>/dev/null || true
	keep_results=1
	exit 99
fi
# 77 would read as "skipped" to meson: a vm test never skips.
[ "$rc" = 77 ] && rc=1
echo "run-guest: guest job exited with $rc after ${elapsed}s" >&2

if [ -n "$check" ]; then
	set +e
	"$check" "$results"
	check_rc=$?
	set -e
	echo "run-guest: $(basename "$check") exited with $check_rc" >&2
	[ "$rc" = 0 ] && rc=$check_rc
fi
if [ "$rc" != 0 ]; then
	keep_results=1
	echo "run-guest: results kept in $results" >&2
elif [ "$keep_results" = 0 ]; then
	rm -rf "$results"
fi
exit "$rc"
