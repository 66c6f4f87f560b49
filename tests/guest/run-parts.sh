#!/usr/bin/env bash
# Several guest tests in one boot: the debug kernel's groups
# (tests/CMakeLists.txt, guest_debug_group()).  A debug boot costs a minute
# and more under TCG (KASAN, lockdep, kmemleak's scans), so its tests share
# boots; run-guest.py still checks the one dmesg for every report.
#
# usage: run-parts.sh NAME KO|- SECONDS CMD [ARG...] [:: NAME KO|- SECONDS CMD [ARG...]]...
#
# Each part, in order: a marker in the kernel log ("run-parts: NAME"), so a
# report in dmesg names the part that made it; its module KO inserted (- for
# none) with UTRACE_MODULES set, as run-guest.py --load does; CMD, killed
# after SECONDS; the module removed if it is still loaded (a failed rmmod
# fails the part).  Every part runs even after a failure.  Exit status 0 if
# all passed, else 1; one summary line per part at the end.
set -u

summary=()
failed=0

run_part() {
	local name=$1 ko=$2 secs=$3
	shift 3
	local t0 rc=0 mod=""
	t0=$(date +%s)
	echo "run-parts: $name" >/dev/kmsg
	echo "==== run-parts: $name: $*"
	if [ "$ko" != - ]; then
		mod=$(basename "$ko" .ko)
		mod=${mod//-/_}
		if ! insmod "$ko"; then
			echo "run-parts: $name: insmod $ko failed"
			rc=255
		fi
	fi
	if [ "$rc" = 0 ]; then
		if [ "$ko" != - ]; then
			export UTRACE_MODULES=$ko
		else
			export UTRACE_MODULES=
		fi
		timeout --kill-after=10 "$secs" "$@" </dev/null 2>&1
		rc=$?
		[ "$rc" = 124 ] && echo "run-parts: $name: killed after $secs s"
	fi
	if [ -n "$mod" ] && grep -q "^$mod " /proc/modules; then
		if ! rmmod "$mod"; then
			echo "run-parts: $name: rmmod $mod failed"
			[ "$rc" = 0 ] && rc=254
		fi
	fi
	local verdict=passed
	if [ "$rc" != 0 ]; then
		verdict="FAILED (exit status $rc)"
		failed=1
	fi
	summary+=("run-parts: $name $verdict, $(($(date +%s) - t0)) s")
	echo "run-parts: $name: $verdict" >/dev/kmsg
}

while [ $# -gt 0 ]; do
	if [ $# -lt 4 ]; then
		echo "run-parts: a part needs NAME KO SECONDS CMD, got: $*" >&2
		exit 2
	fi
	name=$1 ko=$2 secs=$3
	shift 3
	cmd=()
	while [ $# -gt 0 ] && [ "$1" != "::" ]; do
		cmd+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	run_part "$name" "$ko" "$secs" "${cmd[@]}"
done

printf '%s\n' "${summary[@]}"
exit "$failed"
