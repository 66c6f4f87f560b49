#!/bin/sh
# utracectl load with a compressed module (utrace.ko.xz: what DKMS installs
# where the kernel's modules are compressed, as on Debian 13's 6.12).
# With CONFIG_MODULE_DECOMPRESS (6.12) the kernel decompresses and loads it;
# without (Debian 12's 6.1) utracectl says so in one line.
# usage: utracectl-load-compressed.sh UTRACECTL MODULE {loads|refused}
#   loads: the kernel has CONFIG_MODULE_DECOMPRESS; refused: it has not
set -eu
ctl=$1 ko=$2 expect=$3
fail() {
	echo "FAIL: $*"
	exit 1
}
xz -c "$ko" >/tmp/utrace.ko.xz
if [ "$expect" = loads ]; then
	"$ctl" load --no-bpf --module /tmp/utrace.ko.xz
	[ -d /sys/module/utrace ] || fail "no /sys/module/utrace after loading utrace.ko.xz"
	"$ctl" status
	"$ctl" unload
	echo "ok: utrace.ko.xz loaded (the kernel decompressed it) and unloaded"
else
	if "$ctl" load --no-bpf --module /tmp/utrace.ko.xz 2>/tmp/err; then
		fail "a compressed module loaded on a kernel without CONFIG_MODULE_DECOMPRESS"
	fi
	cat /tmp/err
	grep -q 'CONFIG_MODULE_DECOMPRESS is off' /tmp/err || fail "unclear error"
	[ ! -d /sys/module/utrace ] || fail "module loaded"
	echo "ok: refused in one line on a kernel without CONFIG_MODULE_DECOMPRESS"
fi
