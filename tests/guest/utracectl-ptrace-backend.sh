#!/bin/sh
# utracectl ptrace-backend on|off|status in the x86_64 guest: switching, the
# status and its tracee count, and the errors (module not loaded, not root,
# EBUSY while a tracee exists under the native and under the utrace backend).
# The tracer is a few lines of Python (ctypes PTRACE_SEIZE, no stop): it
# holds the relationship until killed, and its exit must end it.
# usage: utracectl-ptrace-backend.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
param=/sys/module/utrace/parameters/ptrace_backend
err=/tmp/utracectl.err
fail() {
	echo "FAIL: $*"
	exit 1
}
expect_fail() { # expect_fail "message fragment" command...
	want=$1
	shift
	if "$@" >/dev/null 2>"$err"; then fail "'$*' succeeded, expected an error"; fi
	grep -qF -- "$want" "$err" || fail "'$*' said: $(cat "$err"); expected: $want"
	echo "ok: '$*' -> $(cat "$err")"
}
expect_out() { # expect_out "line" command...
	want=$1
	shift
	out=$("$@") || fail "'$*' failed"
	printf '%s\n' "$out" | grep -qxF -- "$want" || fail "'$*' printed '$out', expected '$want'"
	echo "ok: '$*' -> $want"
}

# A process (sleep) seized by a tracer (python3); both pids in $victim, $tracer.
seize() {
	sleep 1000 &
	victim=$!
	rm -f /tmp/seized
	python3 -c '
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_SEIZE = 0x4206
if libc.ptrace(ctypes.c_long(PTRACE_SEIZE), ctypes.c_long(int(sys.argv[1])),
               ctypes.c_void_p(0), ctypes.c_void_p(0)) != 0:
    sys.exit("PTRACE_SEIZE: " + os.strerror(ctypes.get_errno()))
open("/tmp/seized", "w").close()
time.sleep(1000)
' "$victim" &
	tracer=$!
	i=0
	while [ ! -e /tmp/seized ]; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "the tracer did not seize $victim"
		kill -0 "$tracer" 2>/dev/null || fail "the tracer failed"
		sleep 0.02
	done
}
unseize() {
	kill -KILL "$tracer"
	wait "$tracer" || true
	kill "$victim"
	wait "$victim" || true
}

"$ctl" ptrace-backend --help | tee /tmp/help.out
for sub in on off status; do
	grep -qE "^ +$sub " /tmp/help.out || fail "--help does not list $sub"
done

expect_fail "utrace is not loaded (utracectl load)" "$ctl" ptrace-backend status
expect_fail "utrace is not loaded (utracectl load)" "$ctl" ptrace-backend on
"$ctl" load --no-bpf --module "$ko"

expect_out "backend  native" "$ctl" ptrace-backend status
expect_out "tracees  0" "$ctl" ptrace-backend status
expect_out "ptrace backend already native" "$ctl" ptrace-backend off
expect_fail "permission denied (writing the module parameter ptrace_backend needs root)" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" ptrace-backend on
[ "$(cat $param)" = N ] || fail "a refused switch changed the parameter"

# Native tracee: switching on is refused while it exists.
seize
expect_out "tracees  1" "$ctl" ptrace-backend status
"$ctl" ptrace-backend status --json | tee /tmp/status.json
grep -q '"backend": "native"' /tmp/status.json || fail "status --json backend"
grep -q '"tracees": 1' /tmp/status.json || fail "status --json tracees"
expect_fail "cannot switch the ptrace backend to utrace: tracees exist under the current backend (native, 1 traced thread); detach them first" \
	"$ctl" ptrace-backend on
[ "$(cat $param)" = N ] || fail "EBUSY changed the parameter"
unseize
expect_out "tracees  0" "$ctl" ptrace-backend status

expect_out "ptrace backend utrace (was native)" "$ctl" ptrace-backend on
[ "$(cat $param)" = Y ] || fail "on did not set the parameter"
expect_out "backend  utrace" "$ctl" ptrace-backend status
expect_out "tracees  0" "$ctl" ptrace-backend status
expect_out "ptrace backend already utrace" "$ctl" ptrace-backend on
expect_fail "permission denied" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" ptrace-backend off

# utrace tracee: switching off is refused while it exists; the tracer's
# exit ends the relationship.
seize
grep -q '^TracerPid:	0$' "/proc/$victim/status" || fail "seized natively with the backend on"
expect_out "tracees  1" "$ctl" ptrace-backend status
expect_fail "cannot switch the ptrace backend to native: tracees exist under the current backend (utrace, 1 traced thread); detach them first" \
	"$ctl" ptrace-backend off
expect_fail "utrace is in use" "$ctl" unload
unseize
i=0
until "$ctl" ptrace-backend status | grep -qx "tracees  0"; do
	i=$((i + 1))
	[ $i -lt 250 ] || fail "the relationship outlived its tracer: $("$ctl" ptrace-backend status)"
	sleep 0.02
done

expect_out "ptrace backend native (was utrace)" "$ctl" ptrace-backend off
expect_out "backend  native" "$ctl" ptrace-backend status
"$ctl" unload
echo "utracectl ptrace-backend: all checks passed"
