#!/usr/bin/env bash
# Run every test: install what is missing (scripts/setup.sh), build everything
# (module for x86_64 and ppc64le, BPF, controller, test binaries), then CTest:
# host unit tests, lint, and the guest tests on both arches.  The last lines
# are CTest's summary.  Extra arguments go to ctest (e.g. -L guest, -R smoke).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${UTRACE_BUILD:-$top/build}

t0=$(date +%s)
"$top/scripts/setup.sh"
t1=$(date +%s)
cmake -S "$top" -B "$build" -G Ninja >/dev/null
cmake --build "$build"
t2=$(date +%s)
echo "test.sh: setup $((t1 - t0)) s, build $((t2 - t1)) s"
exec ctest --test-dir "$build" --output-on-failure -j2 "$@"
