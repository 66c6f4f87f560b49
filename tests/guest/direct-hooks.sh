#!/bin/sh
# x86_64: the syscall hooks are ftrace direct calls (kmod/fhook.c,
# kmod/arch_x86_tramp.S), and they report the same when another ftrace user
# shares their sites (ftrace's regs caller then returns into the trampoline).
# So are the hooks every ptrace stop and request passes, whose trampolines
# call a filter: native ptrace (backend off) and the backend trace the same
# with and without the function tracer on those sites.
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
grep -A2 -E '^(syscall_user_dispatch|user_single_step_report|__x64_sys_ptrace|__x64_sys_wait4|__x64_sys_waitid|ptrace_notify|user_disable_single_step) ' $t/enabled_functions
# direct NAME...: each hooked function NAME is a direct call to its trampoline.
direct() {
	for f in "$@"; do
		grep -A2 "^$f " $t/enabled_functions | grep -q "direct-->utrace_x86_direct_${f#__x64_}" ||
			fail "$f is not a direct call to utrace_x86_direct_${f#__x64_}"
	done
}
# The wait entries too: a direct hook stays from load to unload, lazy or not
# (kmod/ptrace.c, pt_hook_lazy()).
direct syscall_user_dispatch user_single_step_report __x64_sys_ptrace ptrace_notify \
	user_disable_single_step __x64_sys_wait4 __x64_sys_waitid

# st OUT: strace -f of a command that forks, reads and waits; OUT gets the
# names of the system calls traced, sorted (the two processes' lines
# interleave as they are scheduled).
st() {
	strace -f -qq -o /tmp/st.raw sh -c 'cat /proc/self/status >/dev/null; exit 3' && fail "strace: no exit 3"
	sed -e 's/^[0-9]* *//' -e 's/(.*//' /tmp/st.raw | grep -v '^+++\|^---\|^<\.\.\.' | sort >"$1"
	[ -s "$1" ] || fail "strace traced nothing"
	grep -q '^execve$' "$1" || fail "strace saw no execve"
}
sites="__x64_sys_ptrace __x64_sys_wait4 ptrace_notify user_disable_single_step"
st /tmp/native.alone
echo $sites >$t/set_ftrace_filter
echo function >$t/current_tracer
st /tmp/native.shared
echo nop >$t/current_tracer
echo >$t/set_ftrace_filter
cmp /tmp/native.alone /tmp/native.shared ||
	fail "native ptrace traced differently with the function tracer on the hooks"
"$ctl" ptrace-backend on
st /tmp/backend.alone
# The backend's lazy hooks go a second after the last relationship ends;
# the direct ones stay.
sleep 2
direct __x64_sys_wait4 __x64_sys_waitid
echo $sites >$t/set_ftrace_filter
echo function >$t/current_tracer
st /tmp/backend.shared
echo nop >$t/current_tracer
echo >$t/set_ftrace_filter
"$ctl" ptrace-backend off
cmp /tmp/native.alone /tmp/backend.alone || fail "the backend traced differently from native ptrace"
cmp /tmp/backend.alone /tmp/backend.shared ||
	fail "the backend traced differently with the function tracer on the hooks"
echo "native ptrace and the backend trace the same, hooks shared or not: $(wc -l </tmp/native.alone) calls"

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
