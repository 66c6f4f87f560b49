#!/bin/sh
# x86_64: the syscall hooks are ftrace direct calls (kmod/fhook.c,
# kmod/arch_x86_tramp.S), and they report the same when another ftrace user
# shares their sites (ftrace's regs caller then returns into the trampoline).
# usage: direct-hooks.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
fail() {
	echo "FAIL: $*"
	exit 1
}
t=/sys/kernel/tracing
[ -e $t/enabled_functions ] || mount -t tracefs nodev $t

"$ctl" load --no-bpf --module "$ko"
grep -A2 -E '^(syscall_user_dispatch|user_single_step_report) ' $t/enabled_functions
for f in syscall_user_dispatch user_single_step_report; do
	grep -A2 "^$f " $t/enabled_functions | grep -q "direct-->utrace_x86_direct_$f" ||
		fail "$f is not a direct call to utrace_x86_direct_$f"
done

# The syscall reports of one command, as "entries exits": 500 reads and 500
# writes, and the few calls around them (their number varies by a couple
# with the attach's timing, see utracectl-engines.sh).
counts() {
	"$ctl" attach --engine count --events syscall --json -- \
		dd if=/dev/zero of=/dev/null bs=1 count=500 status=none >/tmp/direct.json
	e=$(sed -n 's/.*"syscall-entry": \([0-9]*\).*/\1/p' /tmp/direct.json)
	x=$(sed -n 's/.*"syscall-exit": \([0-9]*\).*/\1/p' /tmp/direct.json)
	echo "${e:-0} ${x:-0}"
}
alone=$(counts)
echo "direct calls alone: entries, exits: $alone"
# Reports that differ by more than the attach's couple of calls are lost.
same() { # same "e x" "e x"
	[ $(($1 - $3)) -le 4 ] && [ $(($3 - $1)) -le 4 ] &&
		[ $(($2 - $4)) -le 4 ] && [ $(($4 - $2)) -le 4 ]
}
[ "${alone% *}" -ge 1000 ] && [ "${alone#* }" -ge 1000 ] || fail "too few syscall reports: $alone"

# The function tracer on both sites: they go through ftrace's regs caller.
echo syscall_user_dispatch user_single_step_report >$t/set_ftrace_filter
echo function >$t/current_tracer
echo >$t/trace
shared=$(counts)
hits=$(grep -c 'syscall_user_dispatch <-' $t/trace || true)
echo nop >$t/current_tracer
echo >$t/set_ftrace_filter
echo "sharing the sites with the function tracer: entries, exits: $shared"
same $shared $alone || fail "reports differ with the function tracer on the sites: $shared, alone $alone"
# The same run's reports: the count varies from run to run by the attach's
# couple of calls (1127 alone, 1126 shared and 1126 hits failed this).
[ "$hits" -ge "${shared% *}" ] || fail "the function tracer saw $hits calls, fewer than the engine's ${shared% *}"
echo "the function tracer saw syscall_user_dispatch $hits times"

after=$(counts)
same $after $alone || fail "reports differ after the function tracer left: $after"
"$ctl" unload
grep -qE '^(syscall_user_dispatch|user_single_step_report) ' $t/enabled_functions &&
	fail "a hook is left after unload"
echo "direct hooks: all checks passed"
