#!/usr/bin/env bash
# utracectl is a static PIE and its serve runs the helper utracectl-serve
# (controller/CMakeLists.txt, src/cmd_metrics.cpp): the helper is found
# beside utracectl or in ../libexec/utracectl, a missing one is named, the
# helper's exit status is utracectl's, a SIGTERM to utracectl reaches the
# helper, and a script goes on after its serve line.  Runs on the host (no
# module needed).  usage: serve-helper.sh BUILD/controller/utracectl
set -euo pipefail
ctl=$1
fail() {
	echo "serve-helper: FAIL: $*" >&2
	exit 1
}
tmp=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT

! readelf -l "$ctl" | grep INTERP >/dev/null || fail "$ctl has an interpreter: not static"
readelf -h "$ctl" | grep DYN >/dev/null || fail "$ctl is not position independent"

# Alone: the helper is missing, and said so.
mkdir -p "$tmp/alone" "$tmp/usr/bin" "$tmp/usr/libexec/utracectl"
cp "$ctl" "$tmp/alone/utracectl"
if "$tmp/alone/utracectl" serve --once >"$tmp/out" 2>"$tmp/err"; then
	fail "serve without its helper succeeded"
fi
grep -q "its helper utracectl-serve is in neither $tmp/alone nor" "$tmp/err" ||
	fail "serve without its helper: $(cat "$tmp/err")"

# Installed: ../libexec/utracectl.
cp "$ctl" "$tmp/usr/bin/utracectl"
cp "$(dirname "$ctl")/utracectl-serve" "$tmp/usr/libexec/utracectl/"
u=$tmp/usr/bin/utracectl
"$u" serve --once >"$tmp/out" || fail "serve --once: status $?"
grep -q '^utrace_build_info{' "$tmp/out" || fail "serve --once printed no utrace_build_info"

# A script goes on after serve.
printf 'serve --once\nstatus\n' | "$u" script - >"$tmp/out" || fail "script: status $?"
if ! grep -q '^utrace_build_info{' "$tmp/out" || ! grep -q '^module' "$tmp/out"; then
	fail "script with serve: $(cat "$tmp/out")"
fi

# Serving: the helper is utracectl's child; a second server on the same
# port fails with the helper's status; SIGTERM to utracectl ends both.
port=$((20000 + $$ % 20000))
"$u" serve --listen "127.0.0.1:$port" >"$tmp/serve.out" 2>&1 &
server=$!
for _ in $(seq 100); do
	grep -q '^serving utrace metrics' "$tmp/serve.out" && break
	kill -0 "$server" 2>/dev/null || fail "serve exited: $(cat "$tmp/serve.out")"
	sleep 0.1
done
grep -q '^serving utrace metrics' "$tmp/serve.out" || fail "serve did not start"
helper=$(pgrep -P "$server" -x utracectl-serve) || fail "no utracectl-serve child of $server"
if "$u" serve --listen "127.0.0.1:$port" 2>"$tmp/err"; then
	fail "a second server on port $port succeeded"
fi
grep -q "cannot listen on 127.0.0.1:$port" "$tmp/err" || fail "second server: $(cat "$tmp/err")"
kill -TERM "$server"
status=0
wait "$server" || status=$?
server=
[ "$status" = 0 ] || fail "serve ended with status $status after SIGTERM"
for _ in $(seq 50); do
	kill -0 "$helper" 2>/dev/null || break
	sleep 0.1
done
! kill -0 "$helper" 2>/dev/null || fail "utracectl-serve $helper outlived utracectl"
echo "serve-helper: ok"
