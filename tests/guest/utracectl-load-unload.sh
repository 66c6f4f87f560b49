#!/bin/sh
# utracectl load/unload/status/ping in the x86_64 guest, and its errors:
# already loaded, not loaded, module for another kernel, not root; the BPF
# metrics that load/unload pin and remove, and their errors.
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

expect_fail "BPF programs attach to its tracepoints" "$ctl" load --bpf-only
expect_fail "BPF metrics are not loaded" "$ctl" stats
expect_fail "expected auto, btf or raw" "$ctl" load --bpf-mode fast --module "$ko"

"$ctl" load --module "$ko"
# auto: BTF programs where the kernel (so the module) has BTF, as Debian's;
# raw tracepoints on a kernel without (the debug kernel).
if [ -e /sys/kernel/btf/vmlinux ]; then mode=btf link=tp_btf; else mode=raw link=raw_tp; fi
[ -e /sys/fs/bpf/utrace/links/${link}_report_end ] || { echo "FAIL: no pinned BPF link"; exit 1; }
"$ctl" stats | grep -q "no reports measured yet"
"$ctl" serve --once | grep -q "^utrace_bpf_loaded{mode=\"$mode\"} 1"
expect_fail "BPF programs are already loaded" "$ctl" load --bpf-only
expect_fail "needs root" setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" stats
expect_fail "expected HOST:PORT" "$ctl" serve --listen nonsense
"$ctl" unload --bpf-only
[ ! -e /sys/fs/bpf/utrace ] || { echo "FAIL: BPF pins left behind"; exit 1; }
"$ctl" load --bpf-only --bpf-mode raw
[ -e /sys/fs/bpf/utrace/links/raw_tp_report_end ] || { echo "FAIL: no raw_tp link"; exit 1; }
"$ctl" status
"$ctl" status --json | grep -q '"loaded": true'
"$ctl" ping
expect_fail "already loaded" "$ctl" load --module "$ko"
expect_fail "permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups "$ctl" ping
"$ctl" unload
"$ctl" status | grep -q 'not loaded'
[ ! -e /sys/fs/bpf/utrace ] || { echo "FAIL: unload left BPF pins"; exit 1; }
echo "utracectl load/unload: all checks passed"
