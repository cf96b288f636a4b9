#!/bin/sh
# Guest: passthrud as the kubelet's device plugin on a real kernel (issue 12). The NVMe PF's
# first VF is on vfio-pci (guest-sriov.sh); kubernetes.d makes the NVMe functions a resource.
# A stand-in kubelet (kubelet-probe, on passthrud's own gRPC code) takes the registration,
# reads ListAndWatch (the VF Healthy), calls Allocate (PCI_RESOURCE_* and the /dev/vfio specs);
# a nested QEMU started with the env's address opens the VF; passthru unbind of it is refused
# (the kubelet's); then the VF is unbound from vfio-pci by hand and the open ListAndWatch stream
# must say Unhealthy within 1 s of the write's end (the uevent, not polling).
set -u
. /testbed/lib.sh

passthrud=$(find / -xdev -path '*/daemon/passthrud' -type f 2>/dev/null | head -n 1)
[ -n "$passthrud" ] || { echo "FAIL: no passthrud in the image"; exit 1; }
vf=0000:00:03.1
resource=passthru.io/nvme
kdir=/var/lib/kubelet/device-plugins

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

sh /testbed/guest-sriov.sh || fail "guest-sriov.sh"
d=$(basename "$(readlink /sys/bus/pci/devices/$vf/driver)")
if [ "$d" = vfio-pci ]; then pass "$vf on vfio-pci"; else fail "$vf on '$d', not vfio-pci"; fi
group=$(group_of $vf)

mkdir -p /etc/passthru/kubernetes.d "$kdir"
printf '# the NVMe PF and its VFs\n%s id=1b36:0010\n' "$resource" \
	>/etc/passthru/kubernetes.d/nvme.conf

kubelet-probe "$kdir" "$resource" 120 >"$RESULTS/kubelet.out" 2>"$RESULTS/kubelet.err" &
kpid=$!
log=$RESULTS/passthrud.log
"$passthrud" --state-dir /var/lib/passthru >"$log" 2>&1 &
spid=$!

# The probe's lines come as things happen: wait (bounded) for one.
wait_line() { # PATTERN SECONDS
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		grep -qE "$1" "$RESULTS/kubelet.out" && return 0
		kill -0 $kpid 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	grep -qE "$1" "$RESULTS/kubelet.out"
}

if wait_line '^(ALLOCATED|FAIL)' 90; then pass "the stand-in kubelet got to Allocate"; else
	fail "no Allocate within 90 s"; fi
k=$(cat "$RESULTS/kubelet.out")
sed 's/^/  kubelet: /' "$RESULTS/kubelet.out"
expect_in "REGISTER version=v1beta1 endpoint=passthru-passthru.io_nvme.sock resource=$resource preferred=1" "$k" "passthrud registers its plugin"
expect_in "OPTIONS preferred=1" "$k" "GetDevicePluginOptions"
first=$(sed -n '/^LIST /{p;q}' "$RESULTS/kubelet.out")
expect_in " $vf=Healthy" "$first" "the first ListAndWatch list: the VF on vfio-pci is Healthy"
expect_in " 0000:00:03.0=Unhealthy" "$first" "the PF, on nvme, is Unhealthy"
expect_in " 0000:00:03.2=Unhealthy" "$first" "a VF on no driver is Unhealthy"
expect_in "ENV PCI_RESOURCE_PASSTHRU_IO_NVME=$vf" "$k" "Allocate's env for KubeVirt"
expect_in "SPEC /dev/vfio/vfio /dev/vfio/vfio mrw" "$k" "Allocate's container spec"
expect_in "SPEC /dev/vfio/$group /dev/vfio/$group mrw" "$k" "Allocate's group spec"
expect_in "ALLOCATED $vf" "$k" "the VF allocated"

# The address comes from Allocate's env, as KubeVirt takes it.
addr=$(sed -n 's/^ENV PCI_RESOURCE_PASSTHRU_IO_NVME=//p' "$RESULTS/kubelet.out" | cut -d, -f1)
start_qemu -S -device "vfio-pci,host=${addr:-none}"
expect_held "/dev/vfio/$group" "the nested QEMU with the env's address"
expect_held /dev/vfio/vfio "the nested QEMU with the env's address"
stop_qemu

# The kubelet's device: the CLI refuses it, naming the resource and where it is defined.
run unbind passthru unbind $vf
expect_rc 1 "passthru unbind of the kubelet's VF"
expect_in "passthru: $vf belongs to the Kubernetes resource $resource of passthrud" "$err" "the refusal names the device and the resource"
expect_in "hint: take it out of $resource in /etc/passthru/kubernetes.d/nvme.conf:2" "$err" "the hint names the file and line"

# Unbound behind everyone's back: the stream says Unhealthy within a second.
echo $vf >/sys/bus/pci/drivers/vfio-pci/unbind
t0=$(now_ms)
if wait_line '^(UNHEALTHY|FAIL)' 30; then :; fi
sed 's/^/  kubelet: /' "$RESULTS/kubelet.out" | tail -n +$(($(echo "$k" | wc -l) + 1))
t1=$(sed -n 's/^UNHEALTHY \([0-9]*\) .*/\1/p' "$RESULTS/kubelet.out")
if [ -n "$t1" ] && [ $((t1 - t0)) -lt 1000 ]; then
	pass "ListAndWatch says $vf Unhealthy $((t1 - t0)) ms after the unbind"
else
	fail "no Unhealthy list within 1 s of the unbind (at ${t1:-never}, unbind done at $t0)"
fi
wait $kpid
krc=$?
if [ $krc = 0 ]; then pass "the stand-in kubelet exits 0"; else
	fail "the stand-in kubelet exits $krc: $(cat "$RESULTS/kubelet.err")"; fi

kill $spid
wait $spid
rc=$?
if [ $rc = 0 ]; then pass "passthrud exits 0 on SIGTERM"; else fail "passthrud exit $rc on SIGTERM"; fi
if [ ! -e "$kdir/passthru-passthru.io_nvme.sock" ]; then pass "passthrud removed its socket"; else
	fail "passthrud left its socket"; fi
sed 's/^/  log: /' "$log"
if grep -q 'Sanitizer\|runtime error:' "$log" "$RESULTS/kubelet.err"; then
	fail "a sanitizer report"; else pass "no sanitizer report"; fi
finish
