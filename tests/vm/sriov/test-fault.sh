# Guest job: an SR-IOV change killed after each of its writes (PASSTHRU_FAULT=write:...), then
# repaired by 'passthru repair' or by the next change; a failure undone in the same run. The
# NVMe PF 00:03.0 goes 4 -> 2 VFs: "0" to sriov_numvfs, then "2".
. /testbed/lib.sh
pf=0000:00:03.0
sys=/sys/bus/pci/devices/$pf

expect_numvfs() { # N WHAT
	n=$(cat $sys/sriov_numvfs)
	if [ "$n" = "$1" ]; then pass "$2: $n VFs"; else fail "$2: $n VFs, expected $1"; fi
}

expect_journal() { # yes|no WHAT
	if [ -e /run/passthru/journal ]; then have=yes; else have=no; fi
	if [ "$have" = "$1" ]; then pass "$2: journal $have"; else
		fail "$2: journal $have, expected $1"; fi
}

four() {
	echo 0 >$sys/sriov_drivers_autoprobe
	echo 0 >$sys/sriov_numvfs
	echo 4 >$sys/sriov_numvfs
}

# Killed after "0": the PF has no VFs; repair puts the 4 back.
four
expect_numvfs 4 "setup"
run crash-1 env PASSTHRU_FAULT=write:after-write:1 passthru sriov 00:03.0 --vfs 2
expect_rc 137 "killed after the first write"
expect_numvfs 0 "killed after the first write"
expect_journal yes "killed after the first write"
grep -q "write $pf sriov_numvfs value=0 undo=4" /run/passthru/journal &&
	pass "the journal has the write and its undo" || fail "journal: $(cat /run/passthru/journal)"
run repair-1 passthru repair
expect_rc 0 "repair after the first write"
expect_in "Rolled back the interrupted transaction" "$out" "repair after the first write"
expect_in "$pf:" "$out" "repair names the PF"
expect_numvfs 4 "repair after the first write"
expect_journal no "repair after the first write"

# Killed after "2": the change had completed; the next change commits it and goes on.
run crash-2 env PASSTHRU_FAULT=write:after-write:2 passthru sriov 00:03.0 --vfs 2
expect_rc 137 "killed after the last write"
expect_numvfs 2 "killed after the last write"
expect_journal yes "killed after the last write"
run next passthru sriov 00:03.0 --vfs 2
expect_rc 0 "the next change"
expect_in "it already has 2 VFs" "$err$out" "the next change"
expect_journal no "the next change"
grep -q "repair: interrupted write of $pf sriov_numvfs had completed" /run/passthru/log &&
	pass "the repair is logged" || fail "log: $(tail -3 /run/passthru/log)"

# A failure after "0" is undone in the same run.
four
run fail-1 env PASSTHRU_FAULT=write:after-write:1:fail passthru sriov 00:03.0 --vfs 2
expect_rc 1 "failure after the first write"
expect_in "injected failure" "$err" "failure after the first write"
expect_numvfs 4 "failure after the first write"
expect_journal no "failure after the first write"

run cleanup passthru sriov 00:03.0 --vfs 0
expect_rc 0 "cleanup"
finish
