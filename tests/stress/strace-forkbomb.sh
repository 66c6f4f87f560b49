#!/bin/sh
# strace -f on a bounded fork bomb (a binary tree of forks DEPTH deep:
# 2^(DEPTH+1)-1 processes), under native ptrace and then under the utrace
# ptrace backend, ROUNDS times each.  Run in the x86_64 guest with utrace.ko
# loaded.  Each run's output must be complete: every process of the tree
# appears, every fork returned a pid, every process exited 0 and strace saw
# it; nothing is left behind (no zombie, no task in D/t/T state); the
# backend can be switched off again at the end (no relationship left).
#
#   strace-forkbomb.sh UTRACE_STRESS [DEPTH [ROUNDS]]
set -u
stress=$1
depth=${2:-6}
rounds=${3:-2}
param=/sys/module/utrace/parameters/ptrace_backend
procs=$(( (1 << (depth + 1)) - 1 ))
forks=$(( procs - 1 ))
dir=$(mktemp -d)
fail=0

problem() {
	echo "strace-forkbomb: FAIL: $*"
	fail=1
}

count() { # count PATTERN FILE
	grep -cE "$1" "$2" || true
}

started=$(date +%s)
for backend in N Y; do
	echo "$backend" > "$param" || problem "cannot set ptrace_backend=$backend"
	r=0
	while [ "$r" -lt "$rounds" ]; do
		out=$dir/strace.$backend.$r
		strace -f -q -o "$out" -e trace=fork,vfork,clone,clone3,exit_group \
			"$stress" --child fork-tree "$depth"
		status=$?
		[ "$status" -eq 0 ] || problem "backend $backend round $r: the tree exited $status"
		pids=$(awk '{print $1}' "$out" | sort -u | wc -l)
		exits=$(count '^[0-9]+ +\+\+\+ exited with 0 \+\+\+$' "$out")
		# exit_group(0) = ?, or "exit_group(0 <unfinished ...>" when interleaved.
		groups=$(count 'exit_group\(0(\)| <unfinished)' "$out")
		# A fork's return: on its line, or on its "resumed>" line.
		returned=$(count '(clone3?|v?fork)(\(| resumed>).* = [1-9][0-9]*$' "$out")
		other=$(count '\+\+\+ (killed|exited with [1-9])|= -1 E|<unavailable>|\?\?\?' "$out")
		echo "backend $backend round $r: $pids processes, $returned forks returned," \
			"$groups exit_group(0), $exits exits seen, $other odd lines"
		[ "$pids" -eq "$procs" ] || problem "backend $backend: $pids processes in the output, not $procs"
		[ "$returned" -eq "$forks" ] || problem "backend $backend: $returned forks returned a pid, not $forks"
		[ "$groups" -eq "$procs" ] || problem "backend $backend: $groups exit_group(0) calls, not $procs"
		[ "$exits" -eq "$procs" ] || problem "backend $backend: $exits exits seen, not $procs"
		[ "$other" -eq 0 ] || { problem "backend $backend: odd lines"; grep -E '\+\+\+ (killed|exited with [1-9])|= -1 E|<unavailable>|\?\?\?' "$out" | head; }
		if [ "$fail" -ne 0 ]; then
			echo "--- strace output (first 40 lines)"
			head -40 "$out"
		fi
		r=$((r + 1))
	done
done
# Nothing left behind: every task of the tree is gone.
left=$(ps -e -o stat=,pid=,comm= | awk '$1 ~ /^[ZDtT]/')
[ -z "$left" ] || problem "tasks left behind: $left"
echo N > "$param" || problem "ptrace_backend cannot be switched off: a relationship is left ($(cat /sys/module/utrace/parameters/ptrace_tracees) tracees)"
echo "strace-forkbomb: depth $depth ($procs processes), $rounds rounds per backend, $(( $(date +%s) - started )) s"
rm -rf "$dir"
[ "$fail" -eq 0 ] && echo "strace-forkbomb: all complete"
exit "$fail"
