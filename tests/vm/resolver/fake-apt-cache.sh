#!/bin/sh
# Replays recorded `apt-cache` outputs from $RECORDED for resolve-kernel.sh:
#   search --names-only PATTERN  -> search-<series>.txt (the series read from the pattern)
#   policy NAME...               -> each NAME's block of policy-<series>.txt, as apt-cache prints it
set -eu
cmd=$1
shift
case $cmd in
search)
	case $2 in
	*6\\.12*) cat "$RECORDED/search-6.12.txt" ;;
	*6\\.1\\.0*) cat "$RECORDED/search-6.1.txt" ;;
	esac
	;;
policy)
	for name in "$@"; do
		for f in "$RECORDED"/policy-*.txt; do
			awk -v want="$name:" '
				/^[^ ]/ { on = ($0 == want) }
				on { print }
			' "$f"
		done
	done
	;;
*)
	echo "fake-apt-cache: unexpected '$cmd'" >&2
	exit 2
	;;
esac
