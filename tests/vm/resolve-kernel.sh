#!/bin/sh
# Lists the Debian packages that can give the guest kernel of one series, best first:
#   resolve-kernel.sh 6.1|6.12
# prints lines "<release> <package>", newest release first; for one release the signed
# image comes before the -unsigned one (same kernel and modules, signed or not).
#
# The archive moves every week: a name can be listed by `apt-cache search` (and even
# answer `apt-cache show`) while it has no version to download, as when only the -unsigned
# build of the newest 6.12 was published. So a package is listed only when
# `apt-cache policy` gives it a candidate version; fetch-kernels.sh then tries the lines in
# order and falls back to older builds when a download fails.
#
# APT_CACHE names the apt-cache to run (the tests replay recorded outputs through it).
set -eu

series=${1:?usage: resolve-kernel.sh 6.1|6.12}
apt_cache=${APT_CACHE:-apt-cache}

case $series in
6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64(-unsigned)?$' ;;
6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64(-unsigned)?$' ;;
*)
	echo "resolve-kernel: unknown series '$series' (6.1 or 6.12)" >&2
	exit 2
	;;
esac

names=$($apt_cache search --names-only "$pattern" 2>/dev/null | cut -d' ' -f1 | sort -u)
[ -n "$names" ] || exit 0

# shellcheck disable=SC2086
$apt_cache policy $names 2>/dev/null | awk '
	/^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1); next }
	/^  Candidate:/ { if (pkg != "" && $2 != "(none)") print pkg; pkg = "" }
' | sed -n 's/^linux-image-\(.*-amd64\)\(-unsigned\)\{0,1\}$/\1 &/p' |
	# "0" sorts the signed image before its "-unsigned" twin of the same release.
	awk '{ print $1, ($2 ~ /-unsigned$/ ? 1 : 0), $2 }' |
	sort -k1,1Vr -k2,2n | awk '{ print $1, $3 }'
