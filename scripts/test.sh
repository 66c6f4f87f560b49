#!/usr/bin/env bash
# Run every test: install what is missing (scripts/setup.sh), build everything
# (module for x86_64 and ppc64le on each kernel series, BPF, controller, test
# binaries), then CTest, two tests at a time: host unit tests, lint, the guest
# tests on both arches and the debug kernel's (label debug), and the module's
# line coverage by the latter (coverage.kmod).  The x86_64 debug kernel
# (scripts/build-debug-kernel.sh; cached outside the clone, so only the first
# run on a machine pays for it) and the module built against it are the test
# debug.kmod_build, which the debug tests wait for while the others run.  The
# last lines are CTest's summary.  Extra arguments go to ctest (e.g. -L
# guest, -R smoke, -LE debug).
#
# UTRACE_DEBUG_KERNEL=OFF leaves the debug kernel and its tests out;
# UTRACE_KERNEL_6_12=OFF leaves out Debian's 6.12 (its fetch, the module
# built for it, and its guest tests guest.<arch>-6.12.*: see README, "How
# the guests work", for what runs on which kernel); UTRACE_KERNEL_6_12_X86_GUESTS=OFF
# leaves out only the x86_64 6.12 guest tests.  UTRACE_FRESH_INSTALL=ON adds
# guest.x86_64.fresh_install (label fresh: README's install on a fresh Debian
# 12 guest; not run by default, see README "Install on your machine").
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${UTRACE_BUILD:-$top/build}
debug=${UTRACE_DEBUG_KERNEL:-ON}
k612=${UTRACE_KERNEL_6_12:-ON}
export UTRACE_KERNEL_6_12=$k612 # setup.sh fetches 6.12 too

t0=$(date +%s)
"$top/scripts/setup.sh"
t1=$(date +%s)
cmake -S "$top" -B "$build" -G Ninja -DUTRACE_DEBUG_KERNEL="$debug" \
	-DUTRACE_KERNEL_6_12="$k612" \
	-DUTRACE_KERNEL_6_12_X86_GUESTS="${UTRACE_KERNEL_6_12_X86_GUESTS:-ON}" \
	-DUTRACE_FRESH_INSTALL="${UTRACE_FRESH_INSTALL:-OFF}" >/dev/null
cmake --build "$build"
t2=$(date +%s)
echo "test.sh: setup $((t1 - t0)) s, build $((t2 - t1)) s"
exec ctest --test-dir "$build" --output-on-failure -j2 "$@"
