#!/usr/bin/env bash
# The performance suite (issue 6): build, boot each guest, run utrace_bench,
# write the results, gate them against bench/baseline/<arch>.json.
#
# usage: scripts/bench.sh [--quick] [--arch x86_64|ppc64le|all]
#                         [--no-gate | --update-baseline]
#
# Full run by default (both arches, about 13 minutes on a 2-core machine, B7
# on x86_64 about 7 of them);
# --quick is the short run CTest's bench-quick label gates in CI.  Results go
# to $UTRACE_BUILD/bench-results/ (default build/).  Exit status 1 when a
# ratio regressed beyond the gate's tolerance (bench/gate.py) or a benchmark
# failed.  Needs scripts/setup.sh to have run once (it does not run apt).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${UTRACE_BUILD:-$top/build}

cmake -S "$top" -B "$build" -G Ninja >/dev/null
cmake --build "$build" >/dev/null
exec python3 "$top/bench/bench.py" --build "$build" "$@"
