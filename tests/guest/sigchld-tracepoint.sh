#!/bin/sh
# The SIGCHLD of a ptrace stop that the kernel would only drop (the tracer
# leaves SIGCHLD at SIG_DFL, as strace does) is not sent by the backend
# (kmod/signal.c, utrace_sig_dropped()), unless the kernel's signal_generate
# tracepoint is on: the drop's one visible effect is that event.  With the
# event enabled, strace -f of a command makes the same SIGCHLD events under
# native ptrace and under the backend (signal code, group, result: 1 is
# "ignored").
# usage: sigchld-tracepoint.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
fail() {
	echo "FAIL: $*"
	exit 1
}
t=/sys/kernel/tracing
[ -e $t/trace ] || mount -t tracefs nodev $t
ev=$t/events/signal/signal_generate

# strace's own SIGCHLD disposition: default, not blocked, not caught.  It
# is read while strace traces a sleep that ends only when killed: once the
# sleep is exec'd, strace has set up its signals, and it cannot be gone
# before its status is read (a timed sleep could be, on a slow host).
strace -o /dev/null sleep 1000 &
tr=$!
until pgrep -P $tr -x sleep >/dev/null; do
	kill -0 $tr 2>/dev/null || fail "strace ended before its sleep ran"
	sleep 0.1
done
bit=$((1 << 16))
for f in SigBlk SigIgn SigCgt; do
	m=$(sed -n "s/^$f:[[:space:]]*//p" /proc/$tr/status)
	[ $((0x$m & bit)) -eq 0 ] || fail "strace's SIGCHLD is in $f ($m): the test needs it default"
done
pkill -KILL -P $tr -x sleep
wait $tr || true

# events OUT: strace -f of a command that forks and waits, with the
# signal_generate event on for SIGCHLD; OUT gets "code grp res" per event
# strace's process was sent, sorted.
events() {
	echo 'sig == 17' >$ev/filter
	echo >$t/trace
	echo 1 >$ev/enable
	strace -f -qq -o /dev/null sh -c 'cat /proc/self/status >/dev/null; exit 3' &&
		fail "strace: no exit 3"
	echo 0 >$ev/enable
	grep 'comm=strace' $t/trace | sed -n 's/.* code=\([-0-9]*\) comm=[^ ]* pid=[0-9]* grp=\([0-9]\) res=\([0-9]\).*/\1 \2 \3/p' |
		sort >"$1"
	[ -s "$1" ] || fail "no SIGCHLD event for strace: $(grep -c . $t/trace) trace lines"
}

"$ctl" load --no-bpf --module "$ko"
events /tmp/sigchld.native
"$ctl" ptrace-backend on
events /tmp/sigchld.backend
"$ctl" ptrace-backend off
"$ctl" unload
echo 0 >$ev/filter
grep -q '^4 1 1$' /tmp/sigchld.native || fail "native: no ignored CLD_TRAPPED SIGCHLD: $(cat /tmp/sigchld.native)"
if ! cmp -s /tmp/sigchld.native /tmp/sigchld.backend; then
	diff /tmp/sigchld.native /tmp/sigchld.backend || true
	fail "the backend's SIGCHLD events differ from native ptrace's"
fi
echo "SIGCHLD events to strace, native and backend alike: $(wc -l </tmp/sigchld.native)" \
	"($(grep -c '^4 1 1$' /tmp/sigchld.native) ignored CLD_TRAPPED)"
