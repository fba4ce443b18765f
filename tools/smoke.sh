#!/bin/sh
# Smoke test of one release binary (`make dist`): `--version`, then pidone as
# PID 1 of a new PID namespace, run by qemu-user when it is not the host's
# architecture. The child is the host's /bin/sh (qemu-user hands an exec of a
# host binary to the kernel). Every run is bounded by `timeout`.
#
# Usage: smoke.sh BINARY VERSION_PREFIX TARGET [QEMU]
set -eu
bin=$1 want=$2 target=$3 qemu=${4:-}
name=$(basename "$bin")
fail() { echo "smoke $name: $*" >&2; exit 1; }

v=$(timeout 60 ${qemu:+"$qemu"} "$bin" --version) || fail "--version failed"
case $v in "$want"*", tiny build, $target)") ;; *) fail "--version said: $v" ;; esac

# pid1 CODE SCRIPT: pidone as PID 1 runs `sh -c SCRIPT`; its exit code must be CODE.
pid1() {
    rc=0
    PIDONE_ALLOW_ROOT=1 timeout 60 unshare --pid --fork --mount-proc ${qemu:+"$qemu"} "$bin" -q -- /bin/sh -c "$2" || rc=$?
    [ "$rc" = "$1" ] || fail "sh -c '$2' as PID 1: exit code $rc, not $1"
}
pid1 7 'exit 7'
# A signal that ends the main child: 128 + 15.
pid1 143 'kill -TERM $$'
# An orphan left behind (a daemonised sleep): pidone drains it when the main
# child exits, well before the sleep would end.
start=$(date +%s)
pid1 3 '(sleep 50 &); exit 3'
[ $(($(date +%s) - start)) -lt 30 ] || fail "the orphan was not drained"
# Reaping: a zombie from an exec'ing parent is reaped, and the child's code comes through.
pid1 0 'sleep 0.1 & exec sh -c "sleep 0.3; exit 0"'
echo "smoke $name: ok ($v${qemu:+, under $qemu})"
