# Shared by the vm guest jobs (busybox sh): the takeover suite's checks that print PASS/FAIL
# and its command runs kept in $RESULTS (../takeover/lib.sh, put in the guest as
# /testbed/takeover-lib.sh), and the nested QEMU with its QMP socket. The job exits 1 when a
# check failed (finish, which also stops the nested QEMU); the host checkers judge the JSON
# the jobs keep.
. /testbed/takeover-lib.sh
qmp=/tmp/qmp.sock

group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }

# The nested QEMU: starts it with the arguments given (QMP on $qmp), sets $qpid.
start_qemu() {
	rm -f "$qmp" /tmp/qemu.pid
	qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none \
		-qmp "unix:$qmp,server=on,wait=off" -daemonize -pidfile /tmp/qemu.pid "$@" \
		2>"$RESULTS/qemu.err"
	qrc=$?
	qpid=$(cat /tmp/qemu.pid 2>/dev/null)
	if [ "$qrc" = 0 ] && [ -n "$qpid" ]; then pass "nested QEMU started (pid $qpid)"; else
		fail "nested QEMU did not start (exit $qrc): $(cat "$RESULTS/qemu.err")"; fi
}

stop_qemu() {
	[ -n "$qpid" ] || return 0
	kill "$qpid" 2>/dev/null
	for i in $(seq 1 20); do [ -d "/proc/$qpid" ] || break; sleep 0.5; done
	qpid=
}

# qmp_to FILE COMMAND [ARGS]: the command's return value, as JSON, into FILE.
qmp_to() {
	f=$1
	shift
	qmp-probe "$qmp" "$@" >"$f" 2>>"$RESULTS/qmp-probe.err"
}

# hmp_to FILE COMMAND-LINE: a human monitor command's output (a JSON string) into FILE.
hmp_to() {
	qmp_to "$1" human-monitor-command "{\"command-line\": \"$2\"}"
}

# wait_for SECONDS FILE PATTERN COMMAND...: repeats COMMAND (writing FILE) until FILE holds
# PATTERN (grep -E). Returns 1 when it never does.
wait_for() {
	limit=$1 file=$2 pattern=$3
	shift 3
	i=0
	while [ "$i" -lt "$limit" ]; do
		"$@"
		grep -qE "$pattern" "$file" 2>/dev/null && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

# The files the nested QEMU holds open, one per line ("/dev/vfio/8").
held_by_qemu() {
	ls -l "/proc/$qpid/fd" 2>/dev/null | sed -n 's/.* -> //p'
}

expect_held() { # PATH WHAT
	if held_by_qemu | grep -qx "$1"; then pass "$2: the nested QEMU holds $1"; else
		fail "$2: the nested QEMU does not hold $1"; fi
}

finish() {
	stop_qemu
	echo "$checks checks, $failures failed"
	[ "$failures" = 0 ]
	exit $?
}
