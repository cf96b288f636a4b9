#!/bin/sh
# Guest job (tests/vm/run-guest.sh --script): passthrud on the guest's real kernel, then
# uevent-latency removes and rescans the NVMe function 100 times and
# times the kernel's uevent (its own netlink socket: what `udevadm monitor --kernel` sees)
# against passthrud's event on GET /v1/events. Results in $RESULTS/uevent-latency.txt.
set -u
passthrud=$(find / -xdev -path '*/daemon/passthrud' -type f 2>/dev/null | head -n 1)
helper=$(find / -xdev -name uevent-latency -type f 2>/dev/null | head -n 1)
[ -n "$passthrud" ] && [ -n "$helper" ] || { echo "FAIL: passthrud or uevent-latency missing"; exit 1; }
S=/run/passthrud-bench.sock
nvme=0000:00:03.0
log=$RESULTS/passthrud.log
"$passthrud" --socket "$S" --state-dir /var/lib/passthru-bench >"$log" 2>&1 &
spid=$!
i=0
while [ $i -lt 600 ] && ! grep -q 'passthrud: listening' "$log"; do
	sleep 0.1
	i=$((i + 1))
done
grep -q 'passthrud: listening' "$log" || { echo "FAIL: passthrud does not listen: $(cat "$log")"; exit 1; }
echo "kernel $(uname -r); $(nproc) CPUs (TCG)"
"$helper" "$S" "$nvme" 100 >"$RESULTS/uevent-latency.txt" 2>&1
rc=$?
cat "$RESULTS/uevent-latency.txt"
kill "$spid"
wait "$spid"
if [ $rc = 0 ]; then echo "PASS: uevent-latency"; else echo "FAIL: uevent-latency ($rc)"; fi
exit $rc
