# Shared by the shell tests: sourced, never run.

# check NAME EXPECTED ACTUAL: one TAP-like line, and a count of the failures in $fails.
fails=0
check() {
	if [ "$2" = "$3" ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		echo "  expected: $2"
		echo "  actual:   $3"
		fails=$((fails + 1))
	fi
}

# fixture_root MKSYSFS SPEC.json DIR: builds a fixture root from a CLI case's host spec
# (without the keys only the CLI runner reads).
fixture_root() {
	python3 - "$1" "$2" "$3" <<'PY'
import json, os, sys
sys.path.insert(0, os.path.dirname(sys.argv[1]))
import mksysfs
spec = json.load(open(sys.argv[2]))
for key in ("description", "files_from", "captured"):
    spec.pop(key, None)
mksysfs.build(spec, sys.argv[3])
PY
}
