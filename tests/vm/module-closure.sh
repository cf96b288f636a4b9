#!/bin/sh
# Print "NAME FILE" for every module file that loading NAME needs (its
# dependencies and softdeps first), for each NAME given, from an unpacked
# kernel tree ROOT (ROOT/lib/modules/RELEASE, depmod'ed). A NAME the kernel
# lacks or has built in prints nothing.
#
#   module-closure.sh ROOT RELEASE NAME...
set -eu
export PATH="$PATH:/usr/sbin:/sbin"
root=$1 rel=$2
shift 2
for m in "$@"; do
	modprobe -d "$root" -S "$rel" --show-depends "$m" 2>/dev/null |
		sed -n "s|^insmod \([^ ]*\).*|$m \1|p" || true
done
