#!/bin/sh
# Renders one page of man/ from the source tree, as a reader would with `man -l PAGE`, and fails
# on any warning or error of troff (a .so request it cannot open, an unknown macro, a bad
# escape) or an empty page. With groff only when man(1) is not installed.
set -u
page=$1
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

if command -v man >/dev/null 2>&1; then
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" >"$out" 2>"$err"
else
	LC_ALL=C.UTF-8 groff -man -Tutf8 -ww "$page" >"$out" 2>"$err"
fi
rc=$?
if [ "$rc" -ne 0 ] || [ -s "$err" ] || ! grep -q "NAME" "$out"; then
	echo "not ok - $page (exit $rc)"
	sed 's/^/  /' "$err"
	exit 1
fi
echo "ok - $page"
