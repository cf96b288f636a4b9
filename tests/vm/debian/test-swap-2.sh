# debian-nvme-swap, boot 2: slot 02:00.0 now holds an AHCI controller (another
# model, another class 01xx device): nothing claims it, the host's ahci driver
# has it and its disk, and `check` says why it was not claimed.
set -u
cd "$RESULTS" || exit 1
failed=0
expect() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >>expect.2.log 2>&1; then echo "ok   $what"; else echo "FAIL $what"; failed=1; fi
}
guest=0000:02:00.0
udevadm settle -t 60
d=/sys/bus/pci/devices/$guest
cat $d/vendor $d/device $d/class >ids.2
expect "another model in the slot (8086:2922, AHCI)" grep -qx 0x2922 ids.2
expect "the early claim files are still there" test -s /etc/passthru/early-claim.sh
expect "not claimed: on ahci" test "$(basename "$(readlink $d/driver)")" = ahci
expect "no driver_override" grep -qx '(null)' $d/driver_override
ls /sys/class/block >block.2
expect "the host has its disk" sh -c "ls -l /sys/class/block/ | grep -q '/$guest/'"
passthru check >check.2 2>&1
expect "check says why" grep -q "warn .*Persisted storage .*persisted for 1b36:0010:1af4:1100, the slot now holds 8086:2922:.* (a different controller): not claimed, left to the host, on ahci" check.2
expect "check's fix" grep -q "fix: passthru unbind --persist $guest, or put the persisted drive back" check.2
passthru apply >apply.2 2>&1
echo $? >apply.rc
expect "apply refuses the other device" test "$(cat apply.rc)" != 0
expect "still on ahci after apply" test "$(basename "$(readlink $d/driver)")" = ahci
exit $failed
