#!/bin/sh
# A setuid exec under an unprivileged tracer must not gain privileges, under
# the native backend (check_unsafe_exec()) and under the utrace backend
# (security_bprm_creds_from_file() hook, docs/PTRACE.md): a setuid-root copy
# of id(1) run by uid 1000 prints euid 0 untraced, 1000 under uid 1000's
# strace.  Under root's strace (CAP_SYS_PTRACE, commoncap's
# ptracer_capable()) it gains them, natively and under the backend.
# usage: ptrace-setuid-exec.sh  (utrace.ko loaded, as root)
set -eu
param=/sys/module/utrace/parameters/ptrace_backend
fail() {
	echo "FAIL: $*"
	echo N >"$param" || true
	exit 1
}
dir=$(mktemp -d /tmp/suid.XXXXXX)
chmod 755 "$dir"
cp /usr/bin/id "$dir/id"
chmod 4755 "$dir/id"
as_user() { setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
euid=$(as_user "$dir/id" -u)
[ "$euid" = 0 ] || fail "untraced setuid exec gave euid $euid, expected 0 (setuid not working here)"
echo "ok: untraced: euid 0"
for backend in N Y; do
	echo "$backend" >"$param"
	euid=$(as_user strace -qq -e trace=none -o /dev/null "$dir/id" -u) ||
		fail "strace under backend $backend failed"
	[ "$euid" = 1000 ] || fail "traced setuid exec under backend $backend gave euid $euid, expected 1000"
	echo "ok: backend $backend: traced setuid exec keeps euid 1000"
	euid=$(strace -f -qq -e trace=none -o /dev/null \
		setpriv --reuid=1000 --regid=1000 --clear-groups "$dir/id" -u) ||
		fail "root's strace under backend $backend failed"
	[ "$euid" = 0 ] || fail "setuid exec under root's tracer, backend $backend, gave euid $euid, expected 0"
	echo "ok: backend $backend: under root's tracer the setuid exec gives euid 0"
done
echo N >"$param"
rm -rf "$dir"
