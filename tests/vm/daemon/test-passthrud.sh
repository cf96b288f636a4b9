#!/bin/sh
# Guest: passthrud on a real kernel. The service starts, lists the guest's devices (USB and
# serial too: a USB device and a serial port are allocated by address and released), refuses the
# NIC while it carries the default route (422, the guard's reasons), allocates it once the
# route is gone (bound to vfio-pci through the takeover), sees an NVMe function removed and
# rescanned through uevents within a second, refuses the release while a nested QEMU holds the
# group (naming it), keeps the allocation across kill -9, adopts the QEMU after losing its
# state, and releases once QEMU is gone. The passthru CLI verbs talk to it too; unbind and reset
# of an allocated device are refused, and one unbound by hand shows as lost, then back.
set -u
. /testbed/lib.sh

# --bin put the service where the build has it, its libraries beside (rpath $ORIGIN/../lib).
passthrud=$(find / -xdev -path '*/daemon/passthrud' -type f 2>/dev/null | head -n 1)
[ -n "$passthrud" ] || { echo "FAIL: no passthrud in the image"; exit 1; }
S=/run/passthru/passthrud.sock
nic=0000:00:02.0
nvme=0000:00:03.0
state=/var/lib/passthru

# api NAME METHOD PATH [BODY]: status in $code, body in $body (and $RESULTS/NAME.json).
api() {
	name=$1 method=$2 path=$3
	if [ $# -ge 4 ]; then
		code=$(curl -s -m 60 -o "$RESULTS/$name.json" -w '%{http_code}' --unix-socket "$S" \
			-X "$method" -H 'Content-Type: application/json' -d "$4" "http://localhost$path")
	else
		code=$(curl -s -m 60 -o "$RESULTS/$name.json" -w '%{http_code}' --unix-socket "$S" \
			-X "$method" "http://localhost$path")
	fi
	body=$(cat "$RESULTS/$name.json" 2>/dev/null)
	echo "+ $method $path ${4:-} -> $code $body"
}

expect_code() { # CODE WHAT
	if [ "$code" = "$1" ]; then pass "$2: $code"; else fail "$2: $code, expected $1: $body"; fi
}

starts=0
start_service() {
	starts=$((starts + 1))
	log=$RESULTS/passthrud-$starts.log
	"$passthrud" --state-dir "$state" >"$log" 2>&1 &
	spid=$!
	i=0
	# It says so once it listens (curl in a loop costs too much under TCG).
	while [ $i -lt 600 ] && ! grep -q 'passthrud: listening' "$log"; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ $i -lt 600 ]; then pass "passthrud listens (pid $spid)"; else
		fail "passthrud does not listen: $(cat "$log")"; fi
}

# ms since boot, for the uevent timings.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

start_service

api list GET /v1/devices
expect_code 200 "GET /v1/devices"
expect_in "\"address\":\"$nic\",\"type\":\"NIC\",\"vendor_id\":\"8086\",\"device_id\":\"10d3\",\"driver\":\"e1000e\"" "$body" "the e1000e is listed"
expect_in '"state":"host"' "$body" "devices on host drivers are host"

# USB devices and serial ports: listed, allocated by address as a reservation (QEMU's usb-host
# and a serial chardev take them as they are: no driver changes), kept current from uevents,
# released. (Before the NIC is brought up: its refusal and allocation below follow each other
# closely, before the guest's IPv6 autoconfiguration gives it a route again.)
curl -sN -m 120 --unix-socket "$S" http://localhost/v1/events >"$RESULTS/events-usb.txt" 2>&1 &
upid=$!
sleep 0.3
api usb GET /v1/devices/1-2
expect_code 200 "GET /v1/devices/1-2 (the tablet)"
expect_in '"address":"1-2","type":"USB","vendor_id":"0627","device_id":"0001","driver":"usbhid","iommu_group":null,"numa_node":null,"state":"free","owner":null' "$body" "the tablet is a free USB device on usbhid"
expect_in '"busnum":1' "$body" "with the fields of passthru list"
api hub GET /v1/devices/1-3
expect_in '"hub":true' "$body" "1-3 is a hub"
expect_in '"state":"host"' "$body" "the hub stays the host's"
api tty GET /v1/devices/ttyS1
expect_code 200 "GET /v1/devices/ttyS1"
expect_in '"address":"/dev/ttyS1","type":"serial"' "$body" "ttyS1 is a serial port"
expect_in '"state":"free"' "$body" "ttyS1 is free"
api usbtty GET /v1/devices/ttyUSB0
expect_in '"usb":"1-3.1"' "$body" "ttyUSB0 is the FTDI port behind 1-3.1"
api list-usb GET /v1/devices
expect_in '"address":"1-3.1","type":"USB"' "$body" "the FTDI adapter is in the list"
expect_in '"address":"/dev/ttyS0","type":"serial"' "$body" "the console port is in the list"
api usb-alloc POST /v1/allocations '{"owner":"vm-usb","devices":["1-2","ttyS1"]}'
expect_code 201 "allocate the tablet and ttyS1 by address"
expect_in '"owner":"vm-usb","devices":["1-2","/dev/ttyS1"],"vfio":[]' "$body" "the allocation holds both, no VFIO file"
uid=$(echo "$body" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
api usb-taken POST /v1/allocations '{"owner":"vm-other","devices":["/dev/ttyS1"]}'
expect_code 409 "the taken serial port"
api usb-taken2 POST /v1/allocations '{"owner":"vm-other","devices":["1-2"]}'
expect_code 409 "the taken USB device"
expect_in "vm-usb" "$body" "the 409 names the owner"
api console POST /v1/allocations '{"owner":"vm-other","devices":["ttyS0"]}'
expect_code 422 "the console port"
expect_in "console" "$body" "refused as the host's console"
api usb-one GET /v1/devices/1-2
expect_in '"driver":"usbhid","iommu_group":null,"numa_node":null,"state":"allocated","owner":"vm-usb"' "$body" "the tablet is vm-usb's, still on usbhid"
# uevents: the tablet's interface leaves usbhid and comes back, seen within a second each way.
echo 1-2:1.0 >/sys/bus/usb/drivers/usbhid/unbind
t0=$(now_ms)
body=
while ! echo "$body" | grep -q '"driver":null' && [ $(($(now_ms) - t0)) -lt 1000 ]; do
	api usb-unbound GET /v1/devices/1-2 >/dev/null
done
expect_in '"driver":null' "$body" "the tablet off usbhid after $(($(now_ms) - t0)) ms"
echo 1-2:1.0 >/sys/bus/usb/drivers/usbhid/bind
t0=$(now_ms)
while ! echo "$body" | grep -q '"driver":"usbhid"' && [ $(($(now_ms) - t0)) -lt 1000 ]; do
	api usb-bound GET /v1/devices/1-2 >/dev/null
done
expect_in '"driver":"usbhid"' "$body" "the tablet back on usbhid after $(($(now_ms) - t0)) ms"
api usb-release DELETE /v1/allocations/$uid
expect_code 204 "release the tablet and ttyS1"
api usb-free GET /v1/devices/1-2
expect_in '"state":"free","owner":null' "$body" "the tablet is free again"
api tty-free GET /v1/devices//dev/ttyS1
expect_in '"state":"free","owner":null' "$body" "ttyS1 is free again"
kill $upid 2>/dev/null
expect_in '"action":"change","uevent":"unbind","address":"1-2"' "$(cat "$RESULTS/events-usb.txt")" "the stream tells the tablet's unbind"
expect_in '"owner":"vm-usb","devices":["1-2","/dev/ttyS1"]' "$(cat "$RESULTS/events-usb.txt")" "the stream tells the USB allocation"

# The NIC with the default route: a guard refuses it.
dev=$(ls /sys/bus/pci/devices/$nic/net/)
ip link set "$dev" up
ip addr add 10.0.2.15/24 dev "$dev"
ip route add default via 10.0.2.2 dev "$dev"
api refused POST /v1/allocations "{\"owner\":\"vm-nested\",\"devices\":[\"$nic\"]}"
expect_code 422 "the NIC with the default route"
expect_in "carries the default route" "$body" "the refusal gives the guard's reason"
expect_in '"kind":"guard"' "$body" "the refusal's kind"
expect_driver $nic e1000e "refused: still on its host driver"
ip route del default
ip addr flush dev "$dev"

curl -sN -m 120 --unix-socket "$S" http://localhost/v1/events >"$RESULTS/events.txt" 2>&1 &
epid=$!
sleep 0.3

api alloc POST /v1/allocations "{\"owner\":\"vm-nested\",\"devices\":[\"$nic\"]}"
expect_code 201 "allocate the NIC by address"
expect_driver $nic vfio-pci "allocated: bound through the takeover"
group=$(basename "$(readlink /sys/bus/pci/devices/$nic/iommu_group)")
expect_in "\"vfio\":[\"/dev/vfio/$group\"]" "$body" "the answer names the group's VFIO file"
id=$(echo "$body" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
api one GET /v1/devices/$nic
expect_in '"state":"allocated","owner":"vm-nested"' "$body" "the NIC is allocated to vm-nested"
api again POST /v1/allocations "{\"owner\":\"vm-other\",\"devices\":[\"$nic\"]}"
expect_code 409 "the taken NIC"

# uevents: the NVMe function goes and comes back, seen within a second each way (from the end
# of the write: under TCG the kernel takes its time to remove and probe).
echo 1 >/sys/bus/pci/devices/$nvme/remove
t0=$(now_ms)
code=200
while [ "$code" != 404 ] && [ $(($(now_ms) - t0)) -lt 1000 ]; do
	api gone GET /v1/devices/$nvme >/dev/null
done
if [ "$code" = 404 ]; then pass "removed NVMe gone from the inventory after $(($(now_ms) - t0)) ms"; else
	fail "removed NVMe still listed after 1 s"; fi
echo 1 >/sys/bus/pci/rescan
t0=$(now_ms)
code=404
while { [ "$code" != 200 ] || ! echo "$body" | grep -q '"driver":"nvme"'; } && [ $(($(now_ms) - t0)) -lt 1000 ]; do
	api back GET /v1/devices/$nvme >/dev/null
done
if [ "$code" = 200 ] && echo "$body" | grep -q '"driver":"nvme"'; then
	pass "rescanned NVMe back on nvme after $(($(now_ms) - t0)) ms"; else
	fail "rescanned NVMe not back within 1 s: $code $body"; fi
api metrics GET /metrics
uev=$(echo "$body" | sed -n 's/^passthrud_uevents_total \([0-9]*\)$/\1/p')
if [ "${uev:-0}" -gt 0 ]; then pass "metrics count $uev uevents"; else fail "no uevents counted"; fi

# A nested QEMU holds the group: release is refused and names it.
qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none -S \
	-name guest=vm-nested -device vfio-pci,host=$nic -daemonize -pidfile /tmp/qemu.pid ||
	fail "nested qemu did not start"
qpid=$(cat /tmp/qemu.pid)
api held DELETE /v1/allocations/$id
expect_code 409 "release while QEMU holds /dev/vfio/$group"
expect_in "/dev/vfio/$group is open by pid $qpid (qemu-system-x86" "$body" "the refusal names QEMU"
run cli-release passthru release "$id"
expect_rc 1 "passthru release while held"
expect_in "pid $qpid" "$err" "passthru release names QEMU"

# kill -9 and restart: the allocation is still there.
kill -9 $spid
wait $spid 2>/dev/null
start_service
api after-kill GET /v1/allocations
expect_in "\"id\":$id,\"owner\":\"vm-nested\",\"devices\":[\"$nic\"]" "$body" "the allocation survives kill -9"

# Lose the state altogether: the running QEMU is adopted under its -name.
kill -9 $spid
wait $spid 2>/dev/null
rm -rf "$state"
start_service
api adopted GET /v1/allocations
expect_in '"owner":"vm-nested","devices":["'$nic'"]' "$body" "QEMU's devices adopted under its -name"
expect_in '"adopted":true' "$body" "marked adopted"
aid=$(echo "$body" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')

kill "$qpid"
i=0
while kill -0 "$qpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
api released DELETE /v1/allocations/$aid
expect_code 204 "release once QEMU is gone"
api free GET /v1/devices/$nic
expect_in '"driver":"vfio-pci","iommu_group":'"$group"',"numa_node":null,"state":"free","owner":null' "$body" "the NIC is free again"

# The CLI verbs against the service.
run cli-allocate passthru allocate --owner vm-cli --type NIC
expect_rc 0 "passthru allocate --type NIC"
expect_in "vm-cli" "$out" "passthru allocate prints the owner"
expect_in "$nic /dev/vfio/$group" "$out" "passthru allocate prints the device and group"
cid=$(echo "$out" | cut -d' ' -f1)
run cli-list passthru allocations
expect_in "vm-cli" "$out" "passthru allocations lists it"
# bind, unbind and reset of an allocated device are refused while the service runs.
# (A stream of its own: the first ended with the service killed above.)
curl -sN -m 60 --unix-socket "$S" http://localhost/v1/events >"$RESULTS/events-lost.txt" 2>&1 &
lpid=$!
sleep 0.3
run cli-unbind passthru unbind $nic
expect_rc 1 "passthru unbind of the allocated NIC"
expect_in "passthru: $nic is allocated to vm-cli by passthrud (allocation $cid)" "$err" "the refusal names the device and its owner"
expect_in "hint: passthru release $cid" "$err" "the hint releases it"
run cli-unbind-force passthru unbind --force $nic
expect_rc 1 "passthru unbind --force of the allocated NIC"
run cli-reset passthru reset $nic
expect_rc 1 "passthru reset of the allocated NIC"
expect_driver $nic vfio-pci "refused: still on vfio-pci"
# Taken off vfio-pci behind the service's back: the service says it is lost, then back.
echo $nic >/sys/bus/pci/drivers/vfio-pci/unbind
t0=$(now_ms)
body=
while ! echo "$body" | grep -q '"state":"lost"' && [ $(($(now_ms) - t0)) -lt 1000 ]; do
	api lost GET /v1/devices/$nic >/dev/null
done
expect_in '"driver":null,"iommu_group":'"$group"',"numa_node":null,"state":"lost","owner":"vm-cli"' "$body" "the unbound allocated NIC is lost"
api lost-alloc GET /v1/allocations/$cid
expect_in "\"lost\":[\"$nic\"]" "$body" "its allocation lists it as lost"
echo $nic >/sys/bus/pci/drivers_probe
t0=$(now_ms)
while ! echo "$body" | grep -q '"state":"allocated"' && [ $(($(now_ms) - t0)) -lt 1000 ]; do
	api found GET /v1/devices/$nic >/dev/null
done
expect_in '"driver":"vfio-pci","iommu_group":'"$group"',"numa_node":null,"state":"allocated","owner":"vm-cli"' "$body" "back on vfio-pci: allocated again"
run cli-release-ok passthru release --to-host "$cid"
expect_rc 0 "passthru release --to-host"
expect_driver $nic e1000e "released to the host"
api host GET /v1/devices/$nic
expect_in '"driver":"e1000e","iommu_group":'"$group"',"numa_node":null,"state":"host","owner":null' "$body" "the NIC is host again"

kill $epid 2>/dev/null
for a in remove add; do
	if grep -q '"action":"'$a'","uevent":"[a-z]*","address":"'$nvme'"' "$RESULTS/events.txt"; then
		pass "the stream tells the $a of $nvme"
	else
		fail "the stream does not tell the $a of $nvme"
	fi
done
expect_in '"owner":"vm-nested"' "$(cat "$RESULTS/events.txt")" "the stream tells the allocation"
kill $lpid 2>/dev/null
expect_in '"owner":"vm-cli","lost":"'$nic'"' "$(cat "$RESULTS/events-lost.txt")" "the stream tells the lost NIC"

kill $spid
wait $spid
rc=$?
if [ $rc = 0 ]; then pass "passthrud exits 0 on SIGTERM"; else fail "passthrud exit $rc on SIGTERM"; fi
cat "$RESULTS"/passthrud-*.log | sed 's/^/  log: /'
finish
