#!/bin/sh
# utracectl's engine commands in the x86_64 guest, on real workloads:
# attach -- COMMAND, attach --pid, engines, control, events, detach, errors.
# usage: utracectl-engines.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
err=/tmp/utracectl.err
fail() {
	echo "FAIL: $*"
	exit 1
}
expect_fail() { # expect_fail "message fragment" command...
	want=$1
	shift
	if "$@" 2>"$err"; then fail "'$*' succeeded, expected an error"; fi
	grep -q -- "$want" "$err" || fail "'$*' said: $(cat "$err"); expected: $want"
	echo "ok: '$*' -> $(cat "$err")"
}
state() { sed -n 's/^State:[[:space:]]*//p' "/proc/$1/status"; }

"$ctl" load --module "$ko"

# A command started under a count engine: its exit status passes through.
set +e
"$ctl" attach --engine count --events syscall,lifecycle --json -- \
	sh -c 'ls / >/dev/null; exit 3' >/tmp/attach.json
rc=$?
set -e
[ "$rc" = 3 ] || fail "attach -- COMMAND returned $rc, not the command's 3"
cat /tmp/attach.json
grep -q '"exec": 1' /tmp/attach.json || fail "no exec report"
grep -q '"exit": 1' /tmp/attach.json || fail "no exit report"
entries=$(sed -n 's/.*"syscall-entry": \([0-9]*\).*/\1/p' /tmp/attach.json)
exits=$(sed -n 's/.*"syscall-exit": \([0-9]*\).*/\1/p' /tmp/attach.json)
[ "${entries:-0}" -gt 20 ] || fail "too few syscall entries: ${entries:-none}"
# Every call but the first (entered before the attach) and the last (exit_group) pairs up.
[ $((exits - entries)) -le 2 ] && [ $((entries - exits)) -le 2 ] ||
	fail "syscall entries $entries and exits $exits differ: entry reports lost after exec?"

# A running process: stop it, see it in tracing stop, resume it.
sh -c 'while :; do :; done' &
spin=$!
id=$("$ctl" attach --pid "$spin" --engine stopper --events quiesce --json |
	sed -n 's/.*"id": \([0-9]*\).*/\1/p')
[ -n "$id" ] || fail "no engine id"
"$ctl" engines | grep -E "^$id +$spin +stopper" || fail "engines does not list $id"
"$ctl" control "$id" stop | grep -q 'in progress'
i=0
while [ "$(state "$spin")" != "t (tracing stop)" ]; do
	i=$((i + 1))
	[ $i -lt 500 ] || fail "not stopped: $(state "$spin")"
	sleep 0.02
done
echo "ok: $spin is $(state "$spin")"
"$ctl" control "$id" resume
"$ctl" events "$id" +exec -quiesce | grep -q 'events: exec$' || fail "events edit"
"$ctl" engines --json | grep -q '"events": "exec"' || fail "engines --json"
"$ctl" detach "$id"
kill "$spin"
wait "$spin" || true

expect_fail "no process 999999" "$ctl" attach --pid 999999
expect_fail "unknown event 'bogus'" "$ctl" attach --events exec,bogus -- true
expect_fail "unknown engine type 'tracer'" "$ctl" attach --engine tracer -- true
expect_fail "no engine 4242" "$ctl" detach 4242
expect_fail "unknown action 'halt'" "$ctl" control 1 halt
expect_fail "Operation not permitted" "$ctl" attach --tid 2
expect_fail "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$ctl" attach -- true

# Scripted attachment: runs line by line, stops at the first error, names it.
printf '%s\n' '# attach, list, then a bad line' \
	'attach --engine count --events exec,exit -- true' 'engines' \
	'attach --events exec,bogus -- true' 'status' >/tmp/attach.script
expect_fail "script /tmp/attach.script line 4: unknown event 'bogus'" \
	"$ctl" script /tmp/attach.script
printf 'ping\nstatus --json\n' | "$ctl" script - | grep -q '"loaded": true' ||
	fail "script from stdin"

"$ctl" unload
echo "utracectl engines: all checks passed"
