#!/bin/sh
# utracectl load with a compressed module (utrace.ko.xz: what DKMS installs
# where the kernel's modules are compressed, as on Debian 13's 6.12).
# utracectl decompresses it and checks its vermagic itself: the kernel's own
# decompression (6.12's CONFIG_MODULE_DECOMPRESS) refuses the CRC64 checks
# of DKMS 3.0.10's `xz -f` ("decompression failed with status 6"), and 6.1
# has none.  Each of xz (as DKMS 3.0.10 runs it), zstd and gzip must load.
# usage: utracectl-load-compressed.sh UTRACECTL MODULE
set -eu
ctl=$1 ko=$2
fail() {
	echo "FAIL: $*"
	exit 1
}
# Stripped of debug sections first, as DKMS does (and quicker to compress).
strip -g -o /tmp/utrace.ko "$ko"
for c in "xz:xz" "zst:zstd -q -20 --ultra" "gz:gzip -9"; do
	suffix=${c%%:*} cmd=${c#*:}
	$cmd -c </tmp/utrace.ko >/tmp/utrace.ko.$suffix
	"$ctl" load --no-bpf --module /tmp/utrace.ko.$suffix ||
		fail "utracectl load of utrace.ko.$suffix ($cmd)"
	[ -d /sys/module/utrace ] || fail "no /sys/module/utrace after loading utrace.ko.$suffix"
	"$ctl" status >/dev/null
	"$ctl" unload
	echo "ok: utrace.ko.$suffix ($cmd) loaded and unloaded"
done
# A compressed module for another kernel is refused before the kernel sees it.
sed 's/vermagic=/vermagic=9.9.9-x /' /tmp/utrace.ko | xz -c >/tmp/other.ko.xz
if "$ctl" load --no-bpf --module /tmp/other.ko.xz 2>/tmp/err; then
	fail "a compressed module built for another kernel loaded"
fi
cat /tmp/err
grep -q 'was built for kernel 9.9.9-x' /tmp/err || fail "unclear error"
[ ! -d /sys/module/utrace ] || fail "module loaded"
echo "ok: a compressed module for another kernel is refused, naming both kernels"
