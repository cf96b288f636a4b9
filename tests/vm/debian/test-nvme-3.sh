# debian-nvme, boot 3: given back, the drive is the host's again: on nvme from
# boot, its volume group active and its array assembled, with what boot 1
# wrote on them; check has nothing to say about it.
set -u
cd "$RESULTS" || exit 1
failed=0
expect() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >>expect.3.log 2>&1; then echo "ok   $what"; else echo "FAIL $what"; failed=1; fi
}
guest=0000:02:00.0
udevadm settle -t 60
# mdadm's incremental assembly and LVM's event activation run from udev.
for i in $(seq 30); do
	[ -e /dev/ptvg/ptlv ] && grep -q '^md' /proc/mdstat && break
	sleep 1
done
dmesg >dmesg.3
cat /proc/mdstat >mdstat.3
lvs --noheadings -o vg_name,lv_name,lv_active >lvs.3 2>&1
expect "on nvme again" test "$(basename "$(readlink /sys/bus/pci/devices/$guest/driver)")" = nvme
expect "nvme probed it (kernel log)" grep -q "pci function $guest" dmesg.3
expect "ptvg/ptlv active" test -b /dev/ptvg/ptlv
expect "its data" sh -c 'head -c 20 /dev/ptvg/ptlv | grep -q passthru-lv-marker'
expect "the array assembled" grep -Eq '^md[0-9]+ : active( \(auto-read-only\))? raid1 ' mdstat.3
expect "its data" sh -c 'head -c 20 /dev/md/ptmd | grep -q passthru-md-marker'
passthru check >check.3 2>&1
expect "check: nothing about persisted storage" sh -c '! grep -q "Persisted storage" check.3'
exit $failed
