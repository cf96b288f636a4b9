#!/bin/sh
# /init of the vm test guests (busybox sh, PID 1). Brings up a normal-looking
# host (proc, sys, devtmpfs, run, modules loaded, USB settled), runs the job
# /testbed/job with its results directory on a 9p share of the host, and
# powers off. Kernel parameters read here:
#   testbed.results=9p   mount the host's results dir (tag "results") on /results
#   testbed.shell=1      give the console a shell after the job, power off on exit
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=${TERM:-linux}
umask 022

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=000 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
# /tmp stays on the initramfs: binaries built under the host's /tmp (a clean
# clone's build dir) are copied to the same path and must stay visible.
chmod 1777 /tmp
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname testbed
ip link set lo up 2>/dev/null

cmdline=$(cat /proc/cmdline)
param() {
	for w in $cmdline; do
		case $w in "$1="*) echo "${w#*=}" ;; esac
	done
}

usb_snapshot() {
	ls /sys/bus/usb/devices /sys/class/tty 2>/dev/null | tr '\n' ' '
}

while read -r m; do
	modprobe "$m" || echo "init: modprobe $m failed"
done </etc/testbed/modules

# USB devices enumerate seconds after xhci_pci loads under TCG: wait until
# the device list (and the USB serial ttys) has been still for 1 s, at least
# 2 s and at most 10 s after loading.
if [ -d /sys/bus/usb/devices ]; then
	waited=0 still=0 last=
	while [ "$waited" -lt 100 ]; do
		sleep 0.1
		waited=$((waited + 1))
		now=$(usb_snapshot)
		if [ "$now" = "$last" ]; then still=$((still + 1)); else still=0; fi
		last=$now
		[ "$waited" -ge 20 ] && [ "$still" -ge 10 ] && break
	done
fi

results=/results
mkdir -p "$results"
if [ "$(param testbed.results)" = 9p ]; then
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,access=any results "$results" ||
		echo "init: cannot mount the results share"
fi

rc=0
if [ -f /testbed/job ]; then
	echo "init: running job ($(uname -r))"
	export RESULTS=$results
	(
		cd /testbed
		sh /testbed/job
		echo $? >/tmp/job.rc
	) 2>&1 | tee "$results/job.log"
	rc=$(cat /tmp/job.rc 2>/dev/null || echo 125)
	echo "$rc" >"$results/rc"
fi
sync
# The host falls back on this line when the share is missing.
echo "TESTBED-RC=$rc"

if [ "$(param testbed.shell)" = 1 ]; then
	echo "init: shell; exit to power off"
	setsid cttyhack sh -l
fi
umount "$results" 2>/dev/null
poweroff -f
