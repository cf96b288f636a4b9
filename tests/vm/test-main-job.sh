#!/bin/sh
# ./run.sh's guest half (tools/main-job-in-guest.sh) as a newcomer sees it: the guest's
# inventory and the service's story (bind, passthrud, an allocation over its API, a nested
# QEMU holding the device, release refused then accepted), each section once.
# Usage: test-main-job.sh PASSTHRU
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out" "$out.raw"' EXIT
fails=0
"$here/../../tools/main-job-in-guest.sh" "$1" >"$out.raw" || fails=1
# The guest console ends its lines with CR LF: count a section however it is ended.
tr -d '\r' <"$out.raw" >"$out"
cat "$out"
for section in "### passthru list" "### passthru list pci --tree" "### passthru check" \
	"### passthru bind 0000:00:02.0" "### passthrud starts" \
	"### a VM is allocated the NIC over the API" \
	"### the VM (a nested QEMU from passthru qemu-args) owns it" \
	"### release refused while the VM runs" "### release accepted once the VM is gone"; do
	n=$(grep -cx "$section" "$out" || true)
	if [ "$n" != 1 ]; then
		echo "FAIL: '$section' printed $n times, expected once" >&2
		fails=1
	fi
done
# The e1000e of the guest, in the listing.
grep -q '0000:00:02.0' "$out" || { echo "FAIL: 0000:00:02.0 not listed" >&2; fails=1; }
# The story's turns: allocated over the API, held by QEMU, refused, then released.
expect() { # TEXT WHAT
	grep -qF -- "$1" "$out" || { echo "FAIL: $2: no '$1'" >&2; fails=1; }
}
expect '"owner":"vm-demo","devices":["0000:00:02.0"]' "the allocation over the API"
expect '(HTTP 201)' "the allocation's status"
expect 'passthru: 0000:00:02.0 is allocated to vm-demo by passthrud' "unbind refused"
expect '-device vfio-pci,host=0000:00:02.0' "passthru qemu-args"
grep -qE '^QEMU \(pid [0-9]+\) holds /dev/vfio/[0-9]+' "$out" ||
	{ echo "FAIL: the nested QEMU does not hold the NIC's group" >&2; fails=1; }
expect 'is open by pid' "the release refused names QEMU"
expect 'released allocation' "the release accepted"
expect '"state":"free","owner":null' "the NIC free again"
exit "$fails"
