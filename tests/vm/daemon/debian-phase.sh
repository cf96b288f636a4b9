#!/bin/bash
# debian-passthrud (bash, in the Debian guest as the testbed-phase unit): passthrud as systemd
# runs it, from the installed units: socket activation, Type=notify with its STATUS, and a
# real binding and give-back under the service's hardening (ProtectSystem=strict, the
# capability bounding set, the system call filter). check-debian.py judges what it collects.
set -u
cd "$RESULTS" || exit 1
S=/run/passthru/passthrud.sock
nvme=0000:02:00.0 # serial passthru-guest: the one to pass through

driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver")" 2>/dev/null || echo none; }
# api NAME [curl arguments...] PATH: the body in NAME.json, the status in NAME.code.
api() {
	local name=$1
	shift
	curl -s -m 120 -o "$name.json" -w '%{http_code}' --unix-socket "$S" "$@" >"$name.code"
	echo $? >"$name.rc"
}

systemctl start passthrud.socket
echo $? >socket-start.rc
ls /usr/lib/sysusers.d/passthrud.conf /lib/sysusers.d/passthrud.conf >sysusers-file 2>&1
systemctl is-active passthrud.service >service-before 2>&1
ls -l "$S" >socket-ls 2>&1

# The first connection starts the service.
api devices http://localhost/v1/devices
systemctl show -p ActiveState,SubState,Type,StatusText,NRestarts,MainPID passthrud.service \
	>service-after
driver_of $nvme >driver-before
getent group passthru >group 2>&1
# A member of the group may read, nobody else may (setpriv: no login needed). nobody cannot
# write to $RESULTS: the bodies go through stdout.
gid=$(getent group passthru | cut -d: -f3)
for who in member:$gid stranger:nogroup; do
	setpriv --reuid nobody --regid "${who#*:}" --clear-groups \
		curl -s -w '\n%{http_code}' --unix-socket "$S" http://localhost/v1/devices \
		>"/tmp/${who%%:*}.out" 2>&1
	head -n -1 "/tmp/${who%%:*}.out" >"${who%%:*}.json"
	tail -n 1 "/tmp/${who%%:*}.out" >"${who%%:*}.code"
done

api alloc -H 'Content-Type: application/json' \
	-d "{\"owner\":\"vm-debian\",\"devices\":[\"$nvme\"]}" http://localhost/v1/allocations
driver_of $nvme >driver-allocated
id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' alloc.json)
api one "http://localhost/v1/devices/$nvme"
# The allocation is on disk, in the StateDirectory.
ls -l /var/lib/passthru >state-dir 2>&1
stat -c '%a %U' /var/lib/passthru >state-dir-mode 2>&1

api release -X DELETE "http://localhost/v1/allocations/$id?to=host"
driver_of $nvme >driver-released
api metrics http://localhost/metrics

# A restart through systemd keeps nothing but the database; stopping ends it cleanly.
systemctl restart passthrud.service
api after-restart http://localhost/v1/allocations
systemctl stop passthrud.service passthrud.socket
systemctl show -p ActiveState,Result,ExecMainStatus passthrud.service >service-stopped
journalctl -b -u passthrud.service -u passthrud.socket --no-pager -o cat >journal.txt 2>&1
systemd-analyze security passthrud.service --no-pager >security.txt 2>&1
exit 0
