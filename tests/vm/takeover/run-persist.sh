#!/bin/sh
# Host side of the persistence test: two boots. The first keeps its /etc/passthru and
# /etc/modprobe.d in its results (state/); the second gets them at the same paths of its root
# filesystem (the initramfs). Between the boots a wish is added for a card that is no longer
# at its address, as after a card swap.
#   run-persist.sh RUN_GUEST PASSTHRU KERNEL IOMMU
set -u
run_guest=$1 passthru=$2 kernel=$3 iommu=$4
here=$(cd "$(dirname "$0")" && pwd)
res=$(mktemp -d "${TMPDIR:-/tmp}/passthru-persist.XXXXXX")
mkdir -p "$res/boot1" "$res/boot2"

boot() { # SCRIPT [ARGS...]
	script=$1
	shift
	"$run_guest" --kernel "$kernel" --iommu "$iommu" --passthru "$passthru" \
		--file "$here/lib.sh:/testbed/lib.sh" --module bochs --module snd_hda_intel \
		--script "$here/$script" "$@"
}

if ! boot persist-boot1.sh --results "$res/boot1"; then
	echo "run-persist: first boot failed; results in $res" >&2
	exit 1
fi
state=$res/boot1/state
echo "0000:00:06.0 8086:1533 8086:0000 host=igb" >>"$state/etc-passthru/bindings.conf"
set -- --file "$state/etc-passthru:/etc/passthru"
if [ -f "$state/modprobe.d/passthru-vfio.conf" ]; then
	set -- "$@" --file "$state/modprobe.d/passthru-vfio.conf:/etc/modprobe.d/passthru-vfio.conf"
fi
boot persist-boot2.sh --results "$res/boot2" "$@"
rc=$?
if [ "$rc" = 0 ]; then
	rm -rf "$res"
else
	echo "run-persist: second boot failed; results in $res" >&2
fi
exit "$rc"
