#!/usr/bin/env bash
# The main job: build if needed, boot the x86_64 guest (Debian's 6.1 kernel in
# qemu), and in it load utrace.ko and its BPF metrics with utracectl, attach
# engines to real workloads with a utracectl script, print utracectl stats,
# and serve the metrics; this machine scrapes them through qemu's port
# forwarding (127.0.0.1:$UTRACE_DEMO_PORT, default 9477) while the guest runs.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${UTRACE_BUILD:-$top/build}
port=${UTRACE_DEMO_PORT:-9477}

"$top/scripts/setup.sh"
cmake -S "$top" -B "$build" -G Ninja >/dev/null
cmake --build "$build" --target utracectl kmod-x86_64 >/dev/null

out=$(mktemp -d /tmp/utrace-demo.XXXXXX)
trap 'rm -rf "$out"' EXIT
python3 "$top/tests/guest/run-guest.py" --arch x86_64 --timeout 300 --out "$out" \
	--hostfwd "$port:9477" \
	-- "$top/scripts/demo-guest.sh" "$build/controller/utracectl" \
	"$build/kmod/x86_64/utrace.ko" &
guest=$!

# Scrape from this machine until the guest's endpoint has engine reports,
# then tell the guest (a file in the shared folder) that it may finish.
scraped=0
for _ in $(seq 1 480); do
	kill -0 "$guest" 2>/dev/null || break
	if curl -sf "http://127.0.0.1:$port/metrics" >"$out/host-scrape.txt" 2>/dev/null &&
		grep -q '^utrace_report_duration_seconds_count' "$out/host-scrape.txt"; then
		scraped=1
		break
	fi
	sleep 0.5
done
touch "$out/host-scraped"
rc=0
wait "$guest" || rc=$?

echo
if [ "$scraped" = 1 ]; then
	echo "From this machine, while the guest ran: curl http://127.0.0.1:$port/metrics"
	grep -E '^utrace_(build_info|bpf_loaded|engines_attached|report_duration_seconds_count|stops_total)' \
		"$out/host-scrape.txt"
else
	echo "demo: the guest's metrics endpoint was not reachable on 127.0.0.1:$port" >&2
	[ "$rc" != 0 ] || rc=1
fi
exit "$rc"
