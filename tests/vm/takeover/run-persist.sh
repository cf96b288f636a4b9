#!/bin/sh
# Host side of the persistence test: two boots sharing one results directory, whose state/
# is the guest's /etc/passthru and /etc/modprobe.d. Between the boots a wish is added for a
# card that is no longer at its address, as after a card swap.
#   run-persist.sh RUN_GUEST PASSTHRU KERNEL IOMMU
set -u
run_guest=$1 passthru=$2 kernel=$3 iommu=$4
here=$(cd "$(dirname "$0")" && pwd)
res=$(mktemp -d "${TMPDIR:-/tmp}/passthru-persist.XXXXXX")
mkdir -p "$res/state/etc-passthru" "$res/state/modprobe.d"

boot() { # SCRIPT [ARGS...]
	script=$1
	shift
	"$run_guest" --kernel "$kernel" --iommu "$iommu" --passthru "$passthru" \
		--file "$here/lib.sh:/testbed/lib.sh" --module bochs --module snd_hda_intel \
		--script "$here/$script" --results "$res" "$@"
	rc=$?
	cp "$res/job.log" "$res/${script%.sh}.log" 2>/dev/null
	return $rc
}

if ! boot persist-boot1.sh; then
	echo "run-persist: first boot failed; results in $res" >&2
	exit 1
fi
echo "0000:00:06.0 8086:1533 8086:0000 host=igb" >>"$res/state/etc-passthru/bindings.conf"
mp=$res/state/modprobe.d/passthru-vfio.conf
if [ -f "$mp" ]; then
	boot persist-boot2.sh --file "$mp:/etc/modprobe.d/passthru-vfio.conf"
else
	boot persist-boot2.sh
fi
rc=$?
if [ "$rc" = 0 ]; then
	rm -rf "$res"
else
	echo "run-persist: second boot failed; results in $res" >&2
fi
exit "$rc"
