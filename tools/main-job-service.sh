#!/bin/sh
# The rest of ./run.sh's story in the guest: bind the NIC to vfio-pci, start passthrud, let a
# VM be given the NIC over the service's API, start that VM (a nested QEMU from `passthru
# qemu-args`), see the release refused while it runs and accepted once it is gone.
# Usage: main-job-service.sh [PASSTHRU]
set -u
p=${1:-passthru}
nic=0000:00:02.0
sock=/run/passthru/passthrud.sock
section() { printf '\n### %s\n' "$*"; }
# `$ command` and what it printed.
show() {
    echo "\$ $*"
    "$@" 2>&1
    echo "(exit $?)"
}
api() { # METHOD PATH [BODY]
    if [ $# -ge 3 ]; then
        echo "\$ curl --unix-socket $sock -X $1 -d '$3' http://localhost$2"
        curl -s -m 60 -w '\n(HTTP %{http_code})\n' --unix-socket "$sock" -X "$1" \
            -H 'Content-Type: application/json' -d "$3" "http://localhost$2"
    else
        echo "\$ curl --unix-socket $sock -X $1 http://localhost$2"
        curl -s -m 60 -w '\n(HTTP %{http_code})\n' --unix-socket "$sock" -X "$1" \
            "http://localhost$2"
    fi
}
passthrud=$(command -v passthrud || find / -xdev -path '*/daemon/passthrud' -type f 2>/dev/null |
    head -n 1)
[ -n "$passthrud" ] || { echo "main-job-service: no passthrud"; exit 1; }

section "passthru bind $nic"
show "$p" bind "$nic"

section "passthrud starts"
log=$(mktemp)
"$passthrud" >"$log" 2>&1 &
spid=$!
i=0
while [ $i -lt 300 ] && ! grep -q 'passthrud: listening' "$log"; do
    sleep 0.1
    i=$((i + 1))
done
cat "$log"
api GET "/v1/devices/$nic"

section "a VM is allocated the NIC over the API"
api POST /v1/allocations "{\"owner\":\"vm-demo\",\"devices\":[\"$nic\"]}" | tee "$log.alloc"
id=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$log.alloc")
show "$p" allocations
show "$p" unbind "$nic"

section "the VM (a nested QEMU from passthru qemu-args) owns it"
show "$p" qemu-args "$nic"
args=$("$p" qemu-args --format shell "$nic")
echo "\$ qemu-system-x86_64 -name guest=vm-demo ... $args"
eval "qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none -S \
    -name guest=vm-demo -daemonize -pidfile /tmp/vm-demo.pid $args"
qpid=$(cat /tmp/vm-demo.pid 2>/dev/null)
for fd in /proc/"$qpid"/fd/*; do
    case $(readlink "$fd") in
    /dev/vfio/[0-9]*) echo "QEMU (pid $qpid) holds $(readlink "$fd")" && break ;;
    esac
done

section "release refused while the VM runs"
show "$p" release "$id"

section "release accepted once the VM is gone"
kill "$qpid" 2>/dev/null
i=0
while kill -0 "$qpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "\$ kill $qpid (QEMU stops)"
show "$p" release "$id"
api GET "/v1/devices/$nic"
kill "$spid"
wait "$spid"
rm -f "$log" "$log.alloc"
exit 0
