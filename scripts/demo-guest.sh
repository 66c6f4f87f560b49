#!/bin/sh
# Runs inside the x86_64 guest (see scripts/demo.sh).
# usage: demo-guest.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
step() { printf '\n$ %s\n' "$*"; "$@"; }

echo "utrace demo in $(uname -sr) ($(uname -m), qemu)"
step "$ctl" load --module "$ko"
step "$ctl" status

# A real workload under a count engine: every syscall, fork, exec and exit.
step "$ctl" attach --engine count --events syscall,lifecycle -- \
	sh -c 'find /usr/include -name "*.h" | head -200 | xargs cat | wc -l'

# A running process: stop it (it shows "t (tracing stop)"), resume it.
sh -c 'while :; do :; done' &
spin=$!
out=$("$ctl" attach --pid "$spin" --engine stopper --events quiesce)
echo "$out"
id=${out#engine }
id=${id%% *}
step "$ctl" control "$id" stop
sleep 1
printf '\n$ grep State /proc/%s/status\n' "$spin"
grep State "/proc/$spin/status"
step "$ctl" engines
step "$ctl" control "$id" resume
sleep 0.2
printf '\n$ grep State /proc/%s/status\n' "$spin"
grep State "/proc/$spin/status"
step "$ctl" detach "$id"
kill "$spin"
wait "$spin" 2>/dev/null || true

step "$ctl" unload
