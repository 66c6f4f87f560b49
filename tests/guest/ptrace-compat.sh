#!/bin/sh
# ptrace(2) and wait(2) of a 32-bit process (x86's ia32 entries): the
# transcript of ptrace_compat (tests/guest/ptrace_compat.c, built -m32
# -static) under native ptrace and under the utrace backend must be the same,
# apart from its TRACERPID lines, which must say which backend served the
# calls: the tracer natively, 0 under the utrace backend (docs/PTRACE.md).
# usage: ptrace-compat.sh PTRACE_COMPAT  (utrace.ko loaded, as root)
set -eu
param=/sys/module/utrace/parameters/ptrace_backend
prog=$1
dir=$(mktemp -d /tmp/ptrace-compat.XXXXXX)
fail() {
	echo "FAIL: $*"
	echo N >"$param" || true
	exit 1
}
[ -x "$prog" ] || fail "$prog: not built (see tests/guest/CMakeLists.txt)"
for backend in N Y; do
	echo "$backend" >"$param"
	"$prog" >"$dir/out.$backend" 2>&1 || fail "ptrace_compat under backend $backend exited $?: $(cat "$dir/out.$backend")"
	echo "--- transcript, backend $backend"
	cat "$dir/out.$backend"
done
echo N >"$param"

# The walk must have been completed, with the layouts right, under both.
for backend in N Y; do
	out=$dir/out.$backend
	grep -q '^== done$' "$out" || fail "backend $backend: the walk stopped early"
	grep -q 'CLOBBERED\|WRITTEN\|CHANGED' "$out" && fail "backend $backend: a write past the 32-bit layout"
	grep -q '^  tracee.s checks: SETSIGINFO delivered yes, POKEDATA 32-bit yes, grandchild reaped yes$' "$out" ||
		fail "backend $backend: the tracee's own checks failed"
	grep -q '^wait4: tracee exited 23$' "$out" || fail "backend $backend: wrong exit status"
	for s in traceme attach seize; do
		grep -q "^TRACERPID $s " "$out" || fail "backend $backend: no TracerPid for $s"
	done
done
# Which backend answered: natively the tracer is in TracerPid, under the
# utrace backend it is not (no ->ptrace): if the ia32 entries were not
# redirected, the Y run would show the tracer too.
for s in traceme attach seize; do
	grep -qx "TRACERPID $s tracer" "$dir/out.N" || fail "native run: TracerPid of $s is not the tracer"
	grep -qx "TRACERPID $s 0" "$dir/out.Y" ||
		fail "utrace run: TracerPid of $s is not 0: the 32-bit calls did not go through the module"
done
grep -v '^TRACERPID ' "$dir/out.N" >"$dir/cmp.N"
grep -v '^TRACERPID ' "$dir/out.Y" >"$dir/cmp.Y"
if ! diff -u "$dir/cmp.N" "$dir/cmp.Y"; then
	fail "the transcripts differ (- native, + utrace)"
fi
echo "ok: ptrace_compat transcripts equal under both backends; TracerPid: native tracer, utrace 0"
rm -rf "$dir"
