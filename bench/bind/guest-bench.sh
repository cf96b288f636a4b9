# Guest job of the bind benchmark (busybox sh). /testbed/bench.conf sets SCENARIO (nvme-vfs or
# virtio-net) and ROUNDS. For each round and tool: bind every device to vfio-pci, check, give
# every device back, check. Times (microseconds) go to $RESULTS/times.tsv:
#   scenario tool round phase usec ok
. /testbed/bench.conf
out=$RESULTS/times.tsv
: >"$out"

case $SCENARIO in
nvme-vfs)
	pf=/sys/bus/pci/devices/0000:00:10.0
	echo 0 >$pf/sriov_drivers_autoprobe
	stopwatch -o /tmp/usec sh -c "echo 64 >$pf/sriov_numvfs"
	echo "sriov_numvfs=64 took $(cat /tmp/usec) us"
	devs=$(for l in $pf/virtfn*; do basename "$(readlink "$l")"; done | sort)
	host=none
	;;
virtio-net)
	devs=$(for d in /sys/bus/pci/devices/*; do
		[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1041 ] && basename $d
	done | sort)
	host=virtio-pci
	;;
esac
devs=$(echo $devs)
n=$(echo $devs | wc -w)
echo "$SCENARIO: $n devices, host driver $host"
[ "$n" = 64 ] || { echo "expected 64 devices"; exit 1; }

all_on() { # DRIVER: every device on DRIVER ("none": no driver)
	for d in $devs; do
		l=/sys/bus/pci/devices/$d/driver
		if [ -L $l ]; then cur=$(basename "$(readlink $l)"); else cur=none; fi
		[ "$cur" = "$1" ] || { echo "  $d on $cur, expected $1"; return 1; }
	done
	return 0
}

# Puts every device back on its host driver whatever a tool left, between measurements.
reset_devices() {
	for d in $devs; do
		echo >/sys/bus/pci/devices/$d/driver_override
		[ -L /sys/bus/pci/devices/$d/driver ] &&
			echo $d >/sys/bus/pci/devices/$d/driver/unbind
		[ "$host" != none ] && echo $d >/sys/bus/pci/drivers/$host/bind
	done
	rm -rf /run/passthru /etc/driverctl.d
}

# measure TOOL PHASE CMD...: one timed run, its result checked.
measure() {
	tool=$1 phase=$2
	shift 2
	stopwatch -o /tmp/usec "$@" >/dev/null 2>"$RESULTS/$tool-$phase.err"
	rc=$?
	usec=$(cat /tmp/usec)
	if [ "$phase" = bind ]; then want=vfio-pci; else want=$host; fi
	ok=yes
	[ "$rc" = 0 ] || ok=no
	all_on $want >/dev/null || ok=no
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$SCENARIO" "$tool" "$round" "$phase" "$usec" "$ok" >>"$out"
	echo "$tool $phase round $round: $usec us, rc $rc, ok $ok"
	[ "$ok" = yes ] || sed 's/^/  stderr: /' "$RESULTS/$tool-$phase.err" | head -n 5
}

probe_flag=
[ "$host" != none ] && probe_flag=-p
round=0
while [ "$round" -lt "$ROUNDS" ]; do
	round=$((round + 1))
	reset_devices

	measure floor bind floor-bind bind $devs
	measure floor release floor-bind release $probe_flag $devs
	reset_devices

	measure passthru bind passthru bind $devs
	measure passthru release passthru unbind $devs
	reset_devices

	# driverctl takes one device per call; --nosave leaves /etc alone. Giving back a
	# device that had no driver, --noprobe keeps drivers_probe from handing it to one.
	noprobe=
	[ "$host" = none ] && noprobe=--noprobe
	measure driverctl bind sh -c "for d in $devs; do driverctl --nosave set-override \$d vfio-pci || exit 1; done"
	measure driverctl release sh -c "for d in $devs; do driverctl --nosave $noprobe unset-override \$d || exit 1; done"
	reset_devices

	measure dpdk-devbind bind $PYTHON /usr/bin/dpdk-devbind.py -b vfio-pci $devs
	if [ "$host" = none ]; then
		measure dpdk-devbind release $PYTHON /usr/bin/dpdk-devbind.py -u $devs
	else
		measure dpdk-devbind release $PYTHON /usr/bin/dpdk-devbind.py -b $host $devs
	fi
	reset_devices
done
exit 0
