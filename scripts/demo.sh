#!/usr/bin/env bash
# The main job: build if needed, boot the x86_64 guest (Debian's 6.1 kernel in
# qemu), and in it load utrace.ko with utracectl and show it working.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${UTRACE_BUILD:-$top/build}

"$top/scripts/setup.sh"
cmake -S "$top" -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target utracectl kmod-x86_64 >/dev/null
exec python3 "$top/tests/guest/run-guest.py" --arch x86_64 --timeout 300 \
	-- "$top/scripts/demo-guest.sh" "$build/controller/utracectl" \
	"$build/kmod/x86_64/utrace.ko"
