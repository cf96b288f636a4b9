#!/bin/sh
# The bind benchmark: binding 64 devices to vfio-pci and giving them back, in a QEMU/TCG guest
# with an emulated IOMMU, with passthru, driverctl, dpdk-devbind.py and the floor (the bare
# sysfs writes, bench/bind/floor-bind.c). Two device sets:
#   nvme-vfs    64 SR-IOV VFs of an emulated NVMe controller (TESTBED.md's 64-VF line),
#               driverless when created; given back to no driver
#   virtio-net  64 virtio-net functions (8 slots x 8 functions) on virtio-pci; given back
#               to virtio-pci (dpdk-devbind.py knows only some device classes: NICs yes,
#               NVMe no)
#
#   run.sh [--kernel 6.1|6.12] [--rounds N] [--scenario nvme-vfs|virtio-net|all]
#          [--docs FILE | --no-docs] [--results DIR]
#
# Needs: qemu-system-x86, driverctl, dpdk (apt-get install driverctl dpdk), python3, bash, cc,
# and $PASSTHRU (default: build/cli/passthru). The guest kernel, initramfs builder and init
# are the vm test harness's (tests/vm). Prints a table; writes it into docs/BENCHMARKS.md
# between its markers unless --no-docs.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=$top/tests/vm
cache=${PASSTHRU_TESTBED_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/passthru-testbed}
die() { echo "bench/bind: $*" >&2; exit 1; }

series=6.1 rounds=5 scenarios=all docs=$top/docs/BENCHMARKS.md results=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) series=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--scenario) scenarios=$2; shift ;;
	--docs) docs=$2; shift ;;
	--no-docs) docs= ;;
	--results) results=$2; shift ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ "$scenarios" = all ] && scenarios="nvme-vfs virtio-net"
passthru=${PASSTHRU:-$top/build/cli/passthru}
[ -x "$passthru" ] || die "no passthru at $passthru (set PASSTHRU)"
for p in qemu-system-x86_64 /usr/bin/python3 bash cc /usr/sbin/driverctl /usr/bin/dpdk-devbind.py; do
	command -v "$p" >/dev/null || die "missing $p (apt-get install qemu-system-x86 driverctl dpdk)"
done

kdir=$cache/kernels/$series
[ -f "$kdir/.complete" ] || "$vm/fetch-kernels.sh" >&2 || die "cannot fetch the guest kernels"
rel=$(readlink "$kdir")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/passthru-bench-bind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[ -n "$results" ] || results=$tmp/results
mkdir -p "$results"
results=$(cd "$results" && pwd -P)

cc -O2 -Wall -o "$tmp/stopwatch" "$here/stopwatch.c"
cc -O2 -Wall -o "$tmp/floor-bind" "$here/floor-bind.c"

# dpdk-devbind.py's Python: the interpreter, and the modules it imports (found by running it)
# copied into a tree that becomes the guest's /usr/lib/python3.X.
# Debian's python3, the one dpdk-devbind.py's #! names (not a pyenv shim on PATH).
py=$(readlink -f /usr/bin/python3)
pylib=$($py -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
$py - "$pylib" "$tmp/py" >"$tmp/py-so" <<'PY'
import os, runpy, shutil, sys
stdlib, dest = sys.argv[1], sys.argv[2]
sys.argv = ["dpdk-devbind.py", "--help"]
try:
    import io, contextlib
    with contextlib.redirect_stdout(io.StringIO()):
        runpy.run_path("/usr/bin/dpdk-devbind.py", run_name="__main__")
except SystemExit:
    pass
import encodings.utf_8, encodings.ascii, encodings.latin_1, locale  # used at run time
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if not f or not f.startswith(stdlib):
        continue
    if f.endswith(".so"):
        print(f)
        continue
    rel = os.path.relpath(f, stdlib)
    os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
    shutil.copy(f, os.path.join(dest, rel))
PY
sobins=$(for f in $(cat "$tmp/py-so"); do printf ' --bin %s' "$f"; done)

boot() { # SCENARIO
	scenario=$1
	printf 'SCENARIO=%s\nROUNDS=%s\nPYTHON=%s\n' "$scenario" "$rounds" "$py" >"$tmp/bench.conf"
	# shellcheck disable=SC2086
	"$vm/mkinitrd.sh" --kernel "$kdir" --passthru "$passthru" \
		--bin "$py" --bin "$(command -v bash)" $sobins \
		--bin "$tmp/stopwatch" --file "$tmp/stopwatch:/usr/bin/stopwatch" \
		--bin "$tmp/floor-bind" --file "$tmp/floor-bind:/usr/bin/floor-bind" \
		--file "$tmp/py:$pylib" \
		--file /usr/sbin/driverctl:/usr/sbin/driverctl \
		--file /usr/bin/dpdk-devbind.py:/usr/bin/dpdk-devbind.py \
		--file "$tmp/bench.conf:/testbed/bench.conf" \
		--file "${BENCH_JOB:-$here/guest-bench.sh}:/testbed/job" ${BENCH_MKINITRD_EXTRA:-} \
		--output "$tmp/initrd.gz" >/dev/null || die "cannot build the initramfs"

	devices=
	case $scenario in
	nvme-vfs)
		truncate -s 64M "$tmp/nvme.img"
		devices="-device nvme-subsys,id=subsys0
			-drive file=$tmp/nvme.img,if=none,id=nv0,format=raw
			-device nvme,serial=bench,subsys=subsys0,sriov_max_vfs=64,sriov_vq_flexible=128,sriov_vi_flexible=64,msix_qsize=66,max_ioqpairs=130,addr=10.0
			-device nvme-ns,drive=nv0"
		;;
	virtio-net)
		for s in 8 9 a b c d e f; do
			for f in 0 1 2 3 4 5 6 7; do
				devices="$devices -device virtio-net-pci,addr=0x$s.$f,multifunction=on,romfile=,disable-legacy=on"
			done
		done
		;;
	*) die "unknown scenario $scenario" ;;
	esac
	dir=$results/$scenario
	mkdir -p "$dir"
	echo "bench/bind: $scenario, kernel $rel, $rounds rounds" >&2
	# shellcheck disable=SC2086
	timeout --foreground -k 10 1800 qemu-system-x86_64 \
		-accel tcg -cpu max -m 2048 -smp 2 -machine q35,kernel-irqchip=split \
		-nodefaults -display none -no-reboot \
		-device intel-iommu,intremap=on,caching-mode=on \
		-kernel "$kdir/boot/vmlinuz-$rel" -initrd "$tmp/initrd.gz" \
		-append "console=ttyS0 panic=-1 quiet testbed.results=9p intel_iommu=on iommu=pt" \
		-chardev stdio,id=con0,mux=on,logfile="$dir/console.log" \
		-serial chardev:con0 -mon chardev=con0,mode=readline \
		-fsdev local,id=res,path="$dir",security_model=none \
		-device virtio-9p-pci,fsdev=res,mount_tag=results,addr=05.0 \
		$devices 2>&1 >/dev/null | { grep -v 'has no peer' >&2 || true; }
	[ "$(cat "$dir/rc" 2>/dev/null)" = 0 ] || die "$scenario: the guest job failed (see $dir)"
}

for s in $scenarios; do
	boot "$s"
done

python3 "$here/report.py" "$results" "$rel" "$rounds" >"$results/report.md"
cat "$results/report.md"
if [ -n "$docs" ]; then
	python3 "$here/report.py" --update "$docs" "$results/report.md"
	echo "bench/bind: updated $docs" >&2
fi
