#!/bin/sh
# ./run.sh's guest half (tools/main-job-in-guest.sh) as a newcomer sees it: the guest's
# inventory, each section once, naming the guest's devices.
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
for section in "### passthru list" "### passthru list pci --tree" "### passthru check"; do
	n=$(grep -cx "$section" "$out" || true)
	if [ "$n" != 1 ]; then
		echo "FAIL: '$section' printed $n times, expected once" >&2
		fails=1
	fi
done
# The e1000e of the guest, in the listing.
grep -q '0000:00:02.0' "$out" || { echo "FAIL: 0000:00:02.0 not listed" >&2; fails=1; }
exit "$fails"
