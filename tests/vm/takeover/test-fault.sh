# Guest job: the process killed at every step of a group bind (PASSTHRU_FAULT), then
# `passthru repair`: every device ends on its original driver or, when all had made it, fully on
# vfio-pci. Also failures that roll back in the same run, a crash during a repair, and the
# repair that any state-changing passthru does first.
. /testbed/lib.sh
vga=0000:01:00.0
hda=0000:01:00.1
for v in /sys/class/vtconsole/vtcon*; do
	grep -q "frame buffer" "$v/name" && echo 0 >"$v/bind"
done
expect_driver $vga bochs-drm "setup"
expect_driver $hda snd_hda_intel "setup"

at_origin() { # WHAT
	expect_driver $vga bochs-drm "$1"
	expect_driver $hda snd_hda_intel "$1"
	expect_override $vga "(null)" "$1"
	expect_override $hda "(null)" "$1"
}

at_vfio() { # WHAT
	expect_driver $vga vfio-pci "$1"
	expect_driver $hda vfio-pci "$1"
	expect_override $vga vfio-pci "$1"
	expect_override $hda vfio-pci "$1"
}

give_back() {
	passthru unbind --group 01:00.0 >/dev/null 2>&1
	expect_driver $vga bochs-drm "reset for the next step"
}

# STEP:N and what repair must end on: the devices of the group are 1 (01:00.0) and 2 (01:00.1).
for case in after-journal:1:origin after-override:1:origin after-unbind:1:origin \
	after-probe:1:origin after-override:2:origin after-unbind:2:origin \
	after-probe:2:vfio before-commit:1:vfio; do
	step=${case%:*}
	want=${case##*:}
	run "crash-$step" env PASSTHRU_FAULT=bind:$step passthru bind --force --group 01:00.0
	expect_rc 137 "killed at bind:$step"
	[ -e /run/passthru/journal ] && pass "journal left by the crash at $step" ||
		fail "no journal after the crash at $step"
	run "repair-$step" passthru repair
	expect_rc 0 "repair after $step"
	[ -e /run/passthru/journal ] && fail "journal left after repairing $step" ||
		pass "journal gone after repairing $step"
	if [ "$want" = origin ]; then
		expect_in "Rolled back" "$out" "repair after $step"
		at_origin "repaired $step"
	else
		expect_in "had completed" "$out" "repair after $step"
		at_vfio "repaired $step"
		give_back
	fi
done

# Failures roll back in the same run.
for step in after-override:2 after-unbind:2 after-probe:1 before-commit:1; do
	run "fail-$step" env PASSTHRU_FAULT=bind:$step:fail passthru bind --force --group 01:00.0
	expect_rc 1 "failure at $step"
	expect_in "rolled back" "$err" "failure at $step"
	[ -e /run/passthru/journal ] && fail "journal left after failing at $step" ||
		pass "no journal after failing at $step"
	at_origin "failed at $step"
done

# Killed during the repair itself: the next repair finishes the job.
run crash-again env PASSTHRU_FAULT=bind:after-unbind:2 passthru bind --force --group 01:00.0
expect_rc 137 "killed at bind:after-unbind:2"
run crash-repair env PASSTHRU_FAULT=repair:after-unbind:1 passthru repair
expect_rc 137 "killed during the repair"
run repair-repair passthru repair
expect_rc 0 "second repair"
at_origin "repaired twice"

# Killed during an unbind: repair puts the group back on vfio-pci, whole.
passthru bind --force --group 01:00.0 >/dev/null 2>&1
run crash-unbind env PASSTHRU_FAULT=unbind:after-unbind:2 passthru unbind --group 01:00.0
expect_rc 137 "killed at unbind:after-unbind:2"
run repair-unbind passthru repair
expect_rc 0 "repair of the unbind"
at_vfio "repaired unbind"
give_back
at_origin "given back"

# The next state-changing command repairs first.
run crash-bind env PASSTHRU_FAULT=bind:after-unbind:1 passthru bind --force --group 01:00.0
expect_rc 137 "killed at bind:after-unbind:1"
run next passthru bind --force --group 01:00.0
expect_rc 0 "bind after a crash"
expect_in "rolled back an interrupted transaction first" "$err" "bind after a crash"
at_vfio "bind after a crash"
give_back
finish
