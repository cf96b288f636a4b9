# Shared by the takeover guest jobs (busybox sh). Each check prints PASS/FAIL with what it
# looked at; the job exits 1 when any failed (see finish).
failures=0
checks=0

pass() { checks=$((checks + 1)); echo "PASS: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }

# The driver of a PCI function ("none" when unbound).
driver_of() {
	l=/sys/bus/pci/devices/$1/driver
	if [ -L "$l" ]; then basename "$(readlink "$l")"; else echo none; fi
}

override_of() { cat "/sys/bus/pci/devices/$1/driver_override"; }

expect_driver() { # ADDRESS DRIVER WHAT
	d=$(driver_of "$1")
	if [ "$d" = "$2" ]; then pass "$3: $1 on $d"; else fail "$3: $1 on $d, expected $2"; fi
}

expect_override() { # ADDRESS VALUE WHAT
	o=$(override_of "$1")
	if [ "$o" = "$2" ]; then pass "$3: $1 driver_override $o"; else
		fail "$3: $1 driver_override $o, expected $2"; fi
}

# run NAME CMD...: runs CMD, keeps stdout/stderr/rc in $RESULTS/NAME.{out,err,rc} and in
# $out/$err/$rc for the checks that follow.
run() {
	name=$1
	shift
	echo "+ $*"
	"$@" >"$RESULTS/$name.out" 2>"$RESULTS/$name.err"
	rc=$?
	echo "$rc" >"$RESULTS/$name.rc"
	out=$(cat "$RESULTS/$name.out")
	err=$(cat "$RESULTS/$name.err")
	sed 's/^/  out: /' "$RESULTS/$name.out"
	sed 's/^/  err: /' "$RESULTS/$name.err"
	echo "  rc: $rc"
}

expect_rc() { # RC WHAT
	if [ "$rc" = "$1" ]; then pass "$2: exit $rc"; else fail "$2: exit $rc, expected $1"; fi
}

expect_in() { # TEXT HAYSTACK WHAT
	case $2 in
	*"$1"*) pass "$3: says '$1'" ;;
	*) fail "$3: does not say '$1'" ;;
	esac
}

expect_not_in() { # TEXT HAYSTACK WHAT
	case $2 in
	*"$1"*) fail "$3: says '$1'" ;;
	*) pass "$3: does not say '$1'" ;;
	esac
}

finish() {
	echo "$checks checks, $failures failed"
	[ "$failures" = 0 ]
	exit $?
}
