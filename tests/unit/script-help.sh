#!/usr/bin/env bash
# utracectl script: a --help or --version line prints what it prints on the
# command line and the script goes on, as on the command line, where they
# are no error.  Runs on the host (no module needed: the lines before the
# last one only print).  usage: script-help.sh BUILD/controller/utracectl
set -euo pipefail
ctl=$1
fail() {
	echo "script-help: FAIL: $*" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$ctl" --help >"$tmp/top.want"
"$ctl" status --help >"$tmp/status.want"
"$ctl" --version >"$tmp/version.want"
cat "$tmp/top.want" "$tmp/status.want" "$tmp/version.want" >"$tmp/want"
printf -- '--help\n# a comment\nstatus --help\n--version\n' |
	"$ctl" script - >"$tmp/out" 2>"$tmp/err" || fail "exit status $?: $(cat "$tmp/err")"
[ ! -s "$tmp/err" ] || fail "stderr: $(cat "$tmp/err")"
cmp -s "$tmp/want" "$tmp/out" || fail "output differs from the command line's: $(diff "$tmp/want" "$tmp/out" | head -20)"

# The line after a --help line still runs: a bad one fails, naming its line.
if printf -- 'status --help\nstatus --bogus\n' | "$ctl" script - >"$tmp/out" 2>"$tmp/err"; then
	fail "a bad line after --help did not fail the script"
fi
grep -q "script - line 2: " "$tmp/err" || fail "the bad line's error: $(cat "$tmp/err")"
echo "script-help: ok"
