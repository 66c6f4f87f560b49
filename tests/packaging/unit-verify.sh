#!/usr/bin/env bash
# systemd-analyze verify on the utracectl package's unit, as installed: the
# package is unpacked into a root that also holds this machine's systemd
# units (the targets the unit is ordered after), so ExecStart= and
# Documentation= (man utracectl(8)) are checked against the package's own
# files.  Any message fails: verify only warns about a bad directive.
#
# usage: unit-verify.sh UTRACECTL_DEB
set -euo pipefail
[ $# -eq 1 ] || {
	echo "usage: unit-verify.sh UTRACECTL_DEB" >&2
	exit 2
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/utrace-unit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
dpkg-deb -x "$1" "$root"
unit=lib/systemd/system/utracectl.service
[ -f "$root/$unit" ] || {
	echo "unit-verify: FAIL: no /$unit in $1"
	exit 1
}
cp -an /lib/systemd/system/. "$root/lib/systemd/system/"
set +e
out=$(MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" utracectl.service 2>&1)
rc=$?
set -e
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "$out"
	echo "unit-verify: FAIL: systemd-analyze verify (exit $rc)"
	exit 1
fi
echo "unit-verify: /$unit: systemd-analyze verify: clean"
# What the hardening amounts to, for the log (no threshold: informational).
systemd-analyze security --offline=yes --root="$root" utracectl.service 2>/dev/null | tail -1 || true
