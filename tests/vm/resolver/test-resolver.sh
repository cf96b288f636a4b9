#!/bin/sh
# The guest kernel resolver against recorded archive states, and fetch-kernels.sh's fall back
# to older builds, then to the cache, when downloads fail. Needs no network.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
vm=$(dirname "$here")
. "$here/../../lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

resolve() { # recording, series
	RECORDED=$here/recorded/$1 APT_CACHE=$here/fake-apt-cache.sh "$vm/resolve-kernel.sh" "$2"
}

# 2026-12-03: only the -unsigned image of 6.12.118 is published; it is the newest.
check "6.12 newest is the unsigned build when only it exists" \
	"6.12.118+deb12-amd64 linux-image-6.12.118+deb12-amd64-unsigned
6.12.117+deb12-amd64 linux-image-6.12.117+deb12-amd64
6.12.117+deb12-amd64 linux-image-6.12.117+deb12-amd64-unsigned" \
	"$(resolve 2026-12-03 6.12 | head -n 3)"
check "6.12 versions sorted as versions, oldest last" \
	"6.12.100+deb12-amd64 linux-image-6.12.100+deb12-amd64" \
	"$(resolve 2026-12-03 6.12 | tail -n 1)"
check "6.1 newest ABI first, signed before unsigned" \
	"6.1.0-57-amd64 linux-image-6.1.0-57-amd64
6.1.0-57-amd64 linux-image-6.1.0-57-amd64-unsigned" \
	"$(resolve 2026-12-03 6.1 | head -n 2)"

# The state the issue reported: the signed 6.12.118 name is listed (and `apt-cache show`
# answers for it) but it has no candidate version: it must never be chosen.
out=$(resolve 2026-12-03-signed-listed 6.12)
check "a listed name without a candidate is not offered" "" \
	"$(printf '%s\n' "$out" | grep -x '6.12.118+deb12-amd64 linux-image-6.12.118+deb12-amd64' || true)"
check "the unsigned twin of that release is offered first" \
	"6.12.118+deb12-amd64 linux-image-6.12.118+deb12-amd64-unsigned" \
	"$(printf '%s\n' "$out" | head -n 1)"
check "nothing downloadable gives no line" "" "$(resolve none 6.12)"

# fetch-kernels.sh: every download fails (the archive lost the files).
fetch() { # cache
	RECORDED=$here/recorded/2026-12-03 APT_CACHE=$here/fake-apt-cache.sh \
		APT_GET=$here/fake-apt-get.sh PASSTHRU_TESTBED_CACHE=$1 "$vm/fetch-kernels.sh" 2>"$tmp/err"
}
cache=$tmp/older
mkdir -p "$cache/kernels/6.12.117+deb12-amd64" "$cache/kernels/6.1.0-56-amd64"
touch "$cache/kernels/6.12.117+deb12-amd64/.complete" "$cache/kernels/6.1.0-56-amd64/.complete"
check "falls back to the newest older build already unpacked" \
	"6.1 $cache/kernels/6.1.0-56-amd64
6.12 $cache/kernels/6.12.117+deb12-amd64" "$(fetch "$cache")"
check "says which download failed" "1" \
	"$(grep -c 'apt-get download linux-image-6.12.118+deb12-amd64-unsigned failed' "$tmp/err")"

cache=$tmp/kept
mkdir -p "$cache/kernels/6.12.90+deb12-amd64" "$cache/kernels/6.1.0-40-amd64"
touch "$cache/kernels/6.12.90+deb12-amd64/.complete" "$cache/kernels/6.1.0-40-amd64/.complete"
ln -s 6.12.90+deb12-amd64 "$cache/kernels/6.12"
ln -s 6.1.0-40-amd64 "$cache/kernels/6.1"
check "keeps the cached kernels when nothing can be downloaded" \
	"6.1 $cache/kernels/6.1.0-40-amd64
6.12 $cache/kernels/6.12.90+deb12-amd64" "$(fetch "$cache")"

cache=$tmp/empty
status=0
fetch "$cache" >/dev/null || status=$?
check "fails with an empty cache and nothing to download" 1 "$status"
check "names the series it cannot get" 1 "$(grep -c 'cannot get a 6.1 kernel' "$tmp/err")"

if [ "$fails" -ne 0 ]; then
	echo "$fails failed"
	exit 1
fi
