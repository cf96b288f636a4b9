#!/bin/bash
# The bash completion of data/bash-completion/passthru, called the way bash calls it (COMP_WORDS
# split at bash's word breaks, COMP_CWORD, COMP_LINE, COMP_POINT) against the passthru just built
# and a fixture root given with --sysroot: every verb's options, option values, and the devices
# each verb takes; the ids of a passthrud's allocations (run on DAEMON_FIXTURE.json) for release.
#     test-completion.sh PASSTHRU COMPLETION MKSYSFS FIXTURE.json PASSTHRUD DAEMON_FIXTURE.json
set -u
passthru=$1 completion=$2 mksysfs=$3 fixture=$4 passthrud=$5 daemon_fixture=$6
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC1091
. "$here/../lib.sh"
root=$(mktemp -d)
spid=
trap '[[ -n $spid ]] && kill "$spid" && wait "$spid"; rm -rf "$root"' EXIT

# A root from the CLI's host fixture (without the runner's own keys).
fixture_root "$mksysfs" "$fixture" "$root/host" || exit 1

if [[ ! -r /usr/share/bash-completion/bash_completion ]]; then
	echo "not ok - bash-completion is not installed (tools/install-deps.sh installs it)"
	exit 1
fi
# shellcheck disable=SC1091
source /usr/share/bash-completion/bash_completion
# shellcheck disable=SC1090
source "$completion"
# Outside a completion started by bash, compopt(1) refuses to run: what it sets is not tested.
compopt() { :; }

# Completes LINE (the cursor at its end) and prints the candidates sorted, one per line.
complete_line()
{
	local line="passthru --sysroot $root/host $1" w rest
	local -a split=()

	# Bash breaks words at blanks and at COMP_WORDBREAKS characters (':' and '=' here).
	read -ra split <<<"$line"
	[[ $line == *" " ]] && split+=("")
	COMP_WORDS=()
	for w in "${split[@]}"; do
		[[ -z $w ]] && COMP_WORDS+=("") && continue
		while [[ $w == *[:=]* ]]; do
			rest=${w%%[:=]*}
			[[ -n $rest ]] && COMP_WORDS+=("$rest")
			COMP_WORDS+=("${w:${#rest}:1}")
			w=${w:${#rest}+1}
		done
		[[ -n $w ]] && COMP_WORDS+=("$w")
	done
	COMP_WORDS[0]=$passthru
	COMP_LINE="$passthru ${line#passthru }"
	COMP_POINT=${#COMP_LINE}
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_passthru passthru "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	((${#COMPREPLY[@]})) && printf '%s\n' "${COMPREPLY[@]}" | sort
}

check() # LINE EXPECTED (candidates separated by spaces, sorted)
{
	local got
	got=$(complete_line "$1" | tr '\n' ' ')
	got=${got% }
	if [[ $got == "$2" ]]; then
		echo "ok - '$1'"
	else
		echo "not ok - '$1'"
		echo "  expected: $2"
		echo "  got:      $got"
		fails=$((fails + 1))
	fi
}

# Every candidate of EXPECTED is offered for LINE (others may be too).
check_has()
{
	local got missing="" x
	got=" $(complete_line "$1" | tr '\n' ' ') "
	for x in $2; do
		[[ $got == *" $x "* ]] || missing+=" $x"
	done
	if [[ -z $missing ]]; then
		echo "ok - '$1' offers $2"
	else
		echo "not ok - '$1' does not offer:$missing"
		echo "  got:$got"
		fails=$((fails + 1))
	fi
}

pci="0000:00:00.0 0000:00:01.0 0000:00:14.0 0000:00:16.0 0000:00:1b.0 0000:00:1c.0 0000:00:1c.4
0000:00:1d.0 0000:00:1e.0 0000:01:00.0 0000:01:00.1 0000:02:00.0 0000:02:10.0 0000:02:10.2
0000:03:00.0 0000:04:00.0 0000:05:00.0 0000:06:00.0"
pci=$(echo $pci)

# The verbs, then every verb's own options as its --help lists them, and the global ones.
verbs=$("$passthru" --help | sed -n '/^Verbs:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort | tr '\n' ' ')
check "" "${verbs% }"
[[ $(wc -w <<<"$verbs") -ge 16 ]] || { echo "not ok - only these verbs: $verbs"; fails=$((fails + 1)); }
for verb in $verbs; do
	opts=$("$passthru" "$verb" --help | sed -n 's/^  \{1,5\}\(-[a-zA-Z], \)\{0,1\}\(--[a-z-]*\).*/\2/p' | tr '\n' ' ')
	check_has "$verb -" "$opts --help --sysroot --verbose"
done

# Option values the help spells out, files for FILE and SOCKET, nothing for the rest.
check "qemu-args --format " "lines shell"
check "qemu-args -m " "pc q35"
check "sriov 0000:02:00.0 --autoprobe " "off on"
check "vf 0000:02:00.0 0 --spoofchk o" "off on"
check "bind --timeout " ""
check_has "attach --qmp $root/h" "$root/host"
check_has "list -o addr" "address"
check "list --type NV" "NVME"

# The devices each verb takes.
check "bind " "$pci"
check "bind 0000:04" "04:00.0"
check "bind -t 5 0000:04:00.0 0000:03" "03:00.0"
check "check 0000:05" "05:00.0"
check "reset 0000:04" "04:00.0"
check "reset 0000:04:00.0 " ""
check "reset --method flr 0000:04" "04:00.0"
check "unbind " "0000:04:00.0"
check "sriov " "0000:02:00.0"
check "vf " "0000:02:00.0"
check "sriov 0000:02:00.0 " ""
check "show 0000:03" "03:00.0"
check "show 0000:03:00.0 " ""
check "show /dev/ttyU" "/dev/ttyUSB0"
check_has "qemu-args " "0000:04:00.0 /dev/ttyS1 $("$passthru" --sysroot "$root/host" list usb -n -o port | head -1)"
check "qemu-args --romfile /nonexistent 0000:04" "04:00.0"
check "libvirt-xml 0000:04" "04:00.0"
check "attach --qmp /run/vm.qmp 0000:04" "04:00.0"
check "detach -q /run/vm.qmp 0000:04" "04:00.0"
check "apply " ""
check "repair " ""
check "kubernetes " ""
check "kubevirt-config " ""

# passthrud's verbs: devices and types for allocate, files for --socket, allocation ids for
# release (from the service on the socket the line names: its fixture has an adopted VM's).
check "allocate --owner vm-a 0000:04" "04:00.0"
check "allocate --owner vm-a --type NV" "NVME"
check_has "allocate --socket $root/h" "$root/host"
check "allocations " ""
python3 "$mksysfs" "$daemon_fixture" "$root/daemon" >/dev/null || exit 1
"$passthrud" --sysroot "$root/daemon" --socket "$root/d.sock" --state-dir "$root/state" \
	>"$root/d.log" 2>&1 &
spid=$!
for ((i = 0; i < 200; i++)); do
	grep -q 'passthrud: listening' "$root/d.log" && break
	sleep 0.05
done
check "release --socket $root/d.sock " "1"
check "release --to-host -s $root/d.sock " "1"
check "release --socket $root/nothing.sock " ""

# The verbs that were there before.
check "list " "pci serial usb"
check "type " "add list remove"

exit $((fails > 0))
