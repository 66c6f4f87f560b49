#!/usr/bin/env bash
# Run the kernel's checkpatch.pl --strict over the module's sources.
#
# checkpatch.pl is not in Debian's headers packages: it is taken from the
# kernel source package (linux-source-6.1) once and kept in the cache.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${UTRACE_CACHE:-$top/.cache}
cp_dir=$cache/checkpatch

if [ ! -x "$cp_dir/scripts/checkpatch.pl" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	echo "checkpatch: fetching linux-source-6.1 for checkpatch.pl" >&2
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root linux-source-6.1 >/dev/null)
	dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.1_*.deb |
		tar -x -C "$tmp" --wildcards './usr/src/linux-source-6.1.tar.xz'
	mkdir -p "$cp_dir"
	tar -xJf "$tmp"/usr/src/linux-source-6.1.tar.xz -C "$cp_dir" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

cd "$top"
mapfile -t files < <(git ls-files -co --exclude-standard 'kmod/*.[ch]' 'tests/guest/warnmod/*.c' 'tests/guest/apimod/*.c')
[ "${#files[@]}" -gt 0 ] || {
	echo "checkpatch: no files" >&2
	exit 1
}
exec perl "$cp_dir/scripts/checkpatch.pl" --strict --no-tree --terse --show-types --summary-file \
	--max-line-length=100 -f "${files[@]}"
