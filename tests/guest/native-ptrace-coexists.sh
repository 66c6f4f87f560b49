#!/bin/sh
# A thread under native ptrace (strace) and a utrace syscall and signal
# engine at once: strace must still see every syscall exit (x86_64's exit
# hook takes the path that would otherwise skip ptrace's syscall-exit stop)
# and its signal-delivery stops (the kernel's get_signal() runs for a
# ptraced thread).
# usage: native-ptrace-coexists.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
"$ctl" load --module "$ko"
# The traced shell waits for /tmp/utrace-go, created once the engine is
# attached: no timing assumption, however slow the guest.
rm -f /tmp/utrace-go
strace -o /tmp/strace.out sh -c 'while [ ! -e /tmp/utrace-go ]; do sleep 0.05; done
	for i in 1 2 3; do cat /proc/self/stat >/dev/null; done; exit 4' &
strace_pid=$!
pid=
for _ in $(seq 200); do
	pid=$(pgrep -P "$strace_pid" || true)
	[ -n "$pid" ] && break
	sleep 0.05
done
[ -n "$pid" ] || { echo "FAIL: no traced sh"; exit 1; }
"$ctl" attach --pid "$pid" --engine count --events syscall,signal-all
touch /tmp/utrace-go
set +e
wait %1
rc=$?
set -e
"$ctl" engines | tee /tmp/engines.out
"$ctl" unload
cat /tmp/strace.out | tail -5
[ "$rc" = 4 ] || { echo "FAIL: traced command exited $rc"; exit 1; }
# A syscall whose exit stop was lost shows as "<unfinished ...>" or "= ?".
if grep -E 'unfinished|= \?' /tmp/strace.out | grep -v exit_group; then
	echo "FAIL: strace lost syscall exits"
	exit 1
fi
grep -q 'wait4(' /tmp/strace.out || { echo "FAIL: no wait4 in strace output"; exit 1; }
# Signal events wanted too: strace still gets its signal-delivery stops.
grep -q -- '--- SIGCHLD' /tmp/strace.out || { echo "FAIL: strace saw no SIGCHLD"; exit 1; }
entries=$(sed -n 's/.*syscall-entry=\([0-9]*\).*/\1/p' /tmp/engines.out)
exits=$(sed -n 's/.*syscall-exit=\([0-9]*\).*/\1/p' /tmp/engines.out)
[ "${entries:-0}" -gt 10 ] && [ $((entries - exits)) -le 2 ] ||
	{ echo "FAIL: utrace saw $entries entries and $exits exits"; exit 1; }
echo "native ptrace and utrace coexist: all checks passed"
