#!/bin/sh
# text-poke-stress.sh [N]: flip the sched_switch and sched_wakeup
# tracepoints N times (default 100) while both vCPUs schedule constantly.
# Each flip patches their static keys' sites in __schedule() and
# try_to_wake_up() with text_poke_bp() (int3, the rest, the first byte, an
# IPI to every CPU after each step), the kernel's way of patching code that
# other CPUs run.  A guest whose qemu executes a stale translation of a
# patched site dies of "Oops: int3" (run-guest.py: TCG_DEFAULT).
set -eu
N=${1:-100}
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs tracefs $T
spin() { while :; do /bin/true; done; }
spin &
p1=$!
spin &
p2=$!
i=0
while [ $i -lt "$N" ]; do
	for on in 1 0; do
		echo $on >$T/events/sched/sched_switch/enable
		echo $on >$T/events/sched/sched_wakeup/enable
	done
	i=$((i + 1))
	[ $((i % 50)) -ne 0 ] || echo "text-poke-stress: $i flips"
done
kill $p1 $p2
echo "text-poke-stress: $N flips, each tracepoint enabled and disabled"
