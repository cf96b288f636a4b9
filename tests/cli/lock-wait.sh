#!/bin/sh
# passthru bind, sriov, attach --bind and apply (its SR-IOV step) while another process holds
# /run/passthru/lock: each says who holds it (pid and command line, as the running kernel's /proc/locks tells), gives up
# after --timeout, exit 1.
# The holder is flock(1) on the fixture root's lock file; the root's proc/locks and the
# holder's cmdline are copied from the real /proc once it holds the lock.
#     lock-wait.sh PASSTHRU MKSYSFS FIXTURE.json
set -u
passthru=$1 mksysfs=$2 fixture=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
tmp=$(mktemp -d)
holder=""
stop_holder() { # flock(1) and the sleep it runs
	[ -n "$holder" ] || return 0
	kill $(ps -o pid= --ppid "$holder") "$holder" 2>/dev/null
	holder=""
}
trap 'stop_holder; rm -rf "$tmp"' EXIT

fixture_root "$mksysfs" "$fixture" "$tmp/root" || exit 1
root=$tmp/root
mkdir -p "$root/run/passthru"
: >"$root/run/passthru/lock"

# Not on our stdout: the test's end must not wait for the holder.
flock "$root/run/passthru/lock" sleep 60 </dev/null >/dev/null 2>&1 &
holder=$!
# Held once flock(1) has it: a non-blocking attempt fails.
i=0
while flock -n "$root/run/passthru/lock" true; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "not ok - flock(1) never took the lock"; exit 1; }
	sleep 0.05
done
cp /proc/locks "$root/proc/locks"
mkdir -p "$root/proc/$holder"
cp "/proc/$holder/cmdline" "$root/proc/$holder/cmdline"

# expect_wait NAME ERROR_PREFIX HINT ARG...: passthru ARG... waits for the holder, says so,
# gives up after its --timeout 1 with "passthru: ERROR_PREFIXanother passthru is changing
# devices: ..." and HINT.
expect_wait() {
	name=$1 prefix=$2 hint=$3
	shift 3
	start=$(date +%s)
	"$passthru" --sysroot "$root" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	took=$(($(date +%s) - start))
	sed "s|$root|@ROOT@|g" "$tmp/err" >"$tmp/err.sed"

	check "$name: exit code" 1 "$rc"
	check "$name: nothing on stdout" "" "$(cat "$tmp/out")"
	check "$name: says who holds the lock while waiting" \
		"passthru: waiting for the lock held by pid $holder (flock @ROOT@/run/passthru/lock sleep 60)" \
		"$(sed -n 1p "$tmp/err.sed")"
	check "$name: gives up after --timeout, naming the holder" \
		"passthru: ${prefix}another passthru is changing devices: pid $holder (flock @ROOT@/run/passthru/lock sleep 60) holds /run/passthru/lock; gave up waiting after 1 s" \
		"$(sed -n 2p "$tmp/err.sed")"
	check "$name: hint" "hint: $hint" "$(sed -n 3p "$tmp/err.sed")"
	check "$name: three lines" 3 "$(wc -l <"$tmp/err")"
	if [ "$took" -le 5 ]; then
		echo "ok - $name: gave up after ${took}s"
	else
		echo "not ok - $name: gave up after ${took}s, not about 1"
		fails=$((fails + 1))
	fi
}

wait_hint="wait for the other passthru to finish, then try again"
expect_wait bind "" "$wait_hint" bind --timeout 1 06:00.0
# The PF keeps its 2 VFs (a change of count is refused: they are on ixgbevf).
expect_wait sriov "0000:02:00.0: " "$wait_hint" sriov 02:00.0 --autoprobe off --timeout 1
# The binding comes before QMP: the socket is never opened.
expect_wait "attach --bind" "" "$wait_hint" attach --qmp "$tmp/no-vm.sock" --bind --timeout 1 06:00.0
# Its SR-IOV settings persisted (as 'sriov 02:00.0 --autoprobe off --persist' saves them).
mkdir -p "$root/etc/passthru/vf.d"
printf 'device 8086:10fb:8086:000c\nvfs 2 autoprobe=off\n' >"$root/etc/passthru/vf.d/0000:02:00.0.conf"
expect_wait apply "0000:02:00.0: " \
	"'passthru sriov 0000:02:00.0' shows the PF now; 'passthru sriov 0000:02:00.0 ... --persist' saves its settings anew, removing /etc/passthru/vf.d/0000:02:00.0.conf forgets them" \
	apply --timeout 1
exit $((fails > 0))
