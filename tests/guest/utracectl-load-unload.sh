#!/bin/sh
# utracectl load/unload/status/ping in the x86_64 guest, and its errors:
# already loaded, not loaded, module for another kernel, not root.
# usage: utracectl-load-unload.sh UTRACECTL MODULE MODULE_FOR_OTHER_ARCH
set -eu
ctl=$1 ko=$2 other=$3
err=/tmp/utracectl.err

expect_fail() { # expect_fail "message fragment" command...
	want=$1
	shift
	if "$@" 2>"$err"; then
		echo "FAIL: '$*' succeeded, expected an error"
		exit 1
	fi
	if ! grep -q -- "$want" "$err"; then
		echo "FAIL: '$*' said: $(cat "$err"); expected: $want"
		exit 1
	fi
	echo "ok: '$*' -> $(cat "$err")"
}

"$ctl" status | grep -q 'not loaded'
expect_fail "not loaded" "$ctl" unload
expect_fail "module is not loaded" "$ctl" ping
expect_fail "was built for kernel 6.1.0-.*-powerpc64le, this kernel is $(uname -r)" \
	"$ctl" load --module "$other"
expect_fail "module file /nonexistent.ko not found" "$ctl" load --module /nonexistent.ko
expect_fail "needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$ctl" load --module "$ko"

"$ctl" load --module "$ko"
"$ctl" status
"$ctl" status --json | grep -q '"loaded": true'
"$ctl" ping
expect_fail "already loaded" "$ctl" load --module "$ko"
expect_fail "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" ping
"$ctl" unload
"$ctl" status | grep -q 'not loaded'
echo "utracectl load/unload: all checks passed"
