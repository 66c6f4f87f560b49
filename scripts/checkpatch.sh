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
	# Work next to the cache so that the final rename is atomic: an
	# interrupted fetch leaves no half-filled $cp_dir behind.
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/checkpatch.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "checkpatch: fetching linux-source-6.1 for checkpatch.pl" >&2
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root linux-source-6.1 >/dev/null)
	dpkg-deb --fsys-tarfile "$tmp"/linux-source-6.1_*.deb |
		tar -x -C "$tmp" --wildcards './usr/src/linux-source-6.1.tar.xz'
	mkdir "$tmp/out"
	tar -xJf "$tmp"/usr/src/linux-source-6.1.tar.xz -C "$tmp/out" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	rm -rf "$cp_dir"
	mv "$tmp/out" "$cp_dir"
	# The exec below would skip the EXIT trap: the ~265 MiB go now.
	rm -rf "$tmp"
	trap - EXIT
fi

cd "$top"
mapfile -t files < <(git ls-files -co --exclude-standard 'kmod/*.[ch]' 'tests/guest/warnmod/*.c' 'tests/guest/apimod/*.c' 'tests/guest/leakmod/*.c')
[ "${#files[@]}" -gt 0 ] || {
	echo "checkpatch: no files" >&2
	exit 1
}
exec perl "$cp_dir/scripts/checkpatch.pl" --strict --no-tree --terse --show-types --summary-file \
	--max-line-length=100 -f "${files[@]}"
