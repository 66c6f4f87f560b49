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

# Scripted attachment to running workloads: a busy shell under a count
# engine, a sleeping loop under a stopper that stops it at syscall entry.
sh -c 'while :; do ls /usr/include >/dev/null; sleep 0.1; done' &
busy=$!
sh -c 'while :; do sleep 0.2; done' &
sleeper=$!
cat >/tmp/demo.utrace <<SCRIPT
# utracectl script: one command per line
attach --pid $busy --engine count --events syscall,lifecycle
attach --pid $sleeper --engine stopper --events quiesce,syscall --stop-events syscall-entry
SCRIPT
printf '\n$ cat /tmp/demo.utrace\n'
cat /tmp/demo.utrace
step "$ctl" script /tmp/demo.utrace
stopper=$("$ctl" engines --json | python3 -c \
	'import json,sys; print([e["id"] for e in json.load(sys.stdin) if e["engine"] == "stopper"][0])')
sleep 1
printf '\n$ grep State /proc/%s/status\n' "$sleeper"
grep State "/proc/$sleeper/status"
step "$ctl" engines
step "$ctl" events "$stopper" -syscall-entry
step "$ctl" control "$stopper" resume
sleep 1

# The metrics: the table, and the Prometheus endpoint (forwarded to the host).
step "$ctl" stats
"$ctl" serve --listen 0.0.0.0:9477 &
serve=$!
echo "(utracectl serve: http://127.0.0.1:9477/metrics here and on the host)"
i=0
while [ ! -e "$UTRACE_OUT/host-scraped" ] && [ $i -lt 240 ]; do
	sleep 0.5
	i=$((i + 1))
done
step "$ctl" top --interval 1 --count 1

kill "$serve"
wait "$serve" 2>/dev/null || true
for id in $("$ctl" engines --json | python3 -c 'import json,sys; [print(e["id"]) for e in json.load(sys.stdin)]'); do
	"$ctl" detach "$id" >/dev/null 2>&1 || true
done
kill "$busy" "$sleeper"
wait "$busy" "$sleeper" 2>/dev/null || true
step "$ctl" unload
