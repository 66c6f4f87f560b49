#!/usr/bin/env bash
# Build utrace.ko (and the test-only utrace_test_warn.ko, utrace_test_api.ko;
# for x86_64-debug also utrace_test_leak.ko) for one guest kernel.
#
# usage: build-kmod.sh {x86_64|ppc64le|x86_64-debug|x86_64-6.12|ppc64le-6.12} OUTDIR
#
# x86_64, ppc64le: against Debian 12's 6.1 headers; x86_64-6.12,
# ppc64le-6.12: against the 6.12 headers (bookworm-backports, the kernel of
# Debian 13), both fetched by scripts/fetch-kernels.sh.
#
# x86_64-debug: against the debug kernel of scripts/build-debug-kernel.sh
# (built first if it is not in its cache; KASAN, UBSAN and the kernel's other
# instrumentation apply to the module too), and utrace.ko with gcov profiling
# (Kbuild's UTRACE_GCOV: its counters appear in the guest's
# /sys/kernel/debug/gcov, the .gcno files in OUTDIR/src/kmod).
#
# 6.1's kbuild builds external modules in place, so the sources are mirrored
# as a symlink tree into OUTDIR/src (and OUTDIR/warnmod), rebuilt each run so
# that added and removed files are seen, and make runs there.  The headers
# come from the cache filled by scripts/fetch-kernels.sh.  Where the guest
# kernel has BTF (amd64), the module gets BTF based on the guest's vmlinux.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${UTRACE_CACHE:-$top/.cache}

die() {
	echo "build-kmod: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: build-kmod.sh {x86_64|ppc64le|x86_64-debug|x86_64-6.12|ppc64le-6.12} OUTDIR"
arch=$1
mkdir -p "$2"
out=$(cd "$2" && pwd)

modargs=()
case "$arch" in
x86_64)
	env=$cache/kernels/amd64.env
	makeargs=()
	;;
x86_64-6.12)
	env=$cache/kernels/amd64-6.12.env
	makeargs=()
	;;
ppc64le)
	env=$cache/kernels/ppc64el.env
	makeargs=(ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-)
	;;
ppc64le-6.12)
	env=$cache/kernels/ppc64el-6.12.env
	makeargs=(ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-)
	;;
x86_64-debug)
	# The cached kernel's env, or a build of it (nothing to do when cached).
	env=$("$top/scripts/build-debug-kernel.sh" --print-env) ||
		{ "$top/scripts/build-debug-kernel.sh" && env=$("$top/scripts/build-debug-kernel.sh" --print-env); } ||
		die "no debug kernel"
	# The compiler the kernel was built with.
	makeargs=(CC=gcc-12 HOSTCC=gcc-12)
	modargs=(UTRACE_GCOV=y)
	;;
*) die "unknown arch '$arch' (x86_64, ppc64le, x86_64-debug, x86_64-6.12 or ppc64le-6.12)" ;;
esac
[ -r "$env" ] || die "$env missing: run scripts/setup.sh"
# shellcheck disable=SC1090
. "$env"
[ -d "$KDIR" ] || die "$KDIR missing: run scripts/fetch-kernels.sh"

if [ -n "${BTF_BASE:-}" ]; then
	# The headers have no vmlinux, so kbuild would skip module BTF: give
	# pahole the guest vmlinux's BTF as base instead.  No resolve_btfids
	# step: the module declares no BTF ID sets.
	makeargs+=("cmd_btf_ko=LLVM_OBJCOPY=\$(OBJCOPY) pahole -J --btf_gen_floats -j --lang_exclude=rust --btf_base $BTF_BASE \$@")
fi

mirror() { # mirror DEST SRC...: DEST becomes a fresh symlink tree of SRCs
	local dest=$1
	shift
	mkdir -p "$dest"
	# Drop links whose source vanished, then link everything anew.
	find "$dest" -type l ! -exec test -e {} \; -delete
	for s in "$@"; do
		cp -rs --remove-destination "$s" "$dest/"
	done
}

build() { # build DIR [MAKEARG...]: make the modules of the symlink tree DIR
	local dir=$1
	shift
	make -s -C "$KDIR" M="$dir" "${makeargs[@]}" "$@" -j"$(nproc)" modules
}

mirror "$out/src" "$top/Kbuild" "$top/kmod"
build "$out/src" "${modargs[@]}"
cp "$out/src/utrace.ko" "$out/utrace.ko"

mirror "$out/warnmod" "$top"/tests/guest/warnmod/*
build "$out/warnmod"
cp "$out/warnmod/utrace_test_warn.ko" "$out/utrace_test_warn.ko"

if [ "$arch" = x86_64-debug ]; then
	# Test-only: leaks a block at load (the runner's kmemleak check).
	mirror "$out/leakmod" "$top"/tests/guest/leakmod/*
	build "$out/leakmod"
	cp "$out/leakmod/utrace_test_leak.ko" "$out/utrace_test_leak.ko"
fi

# Test-only engine module: links against utrace.ko's exported API.
mirror "$out/apimod" "$top"/tests/guest/apimod/*
# kbuild does not relink a module when KBUILD_EXTRA_SYMBOLS changes: after
# utrace.ko's exported CRCs changed, the old engine module would be refused
# ("disagrees about version of symbol").  Build it afresh then.
if ! cmp -s "$out/src/Module.symvers" "$out/apimod/utrace.symvers.stamp"; then
	make -s -C "$KDIR" M="$out/apimod" "${makeargs[@]}" clean
	cp "$out/src/Module.symvers" "$out/apimod/utrace.symvers.stamp"
fi
make -s -C "$KDIR" M="$out/apimod" "${makeargs[@]}" -j"$(nproc)" \
	KBUILD_EXTRA_SYMBOLS="$out/src/Module.symvers" UTRACE_INCLUDE="$top/kmod/include" modules
cp "$out/apimod/utrace_test_api.ko" "$out/utrace_test_api.ko"
