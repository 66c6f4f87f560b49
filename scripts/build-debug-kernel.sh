#!/usr/bin/env bash
# Build the x86_64 debug guest kernel: Debian's own linux-source-6.1 at the
# version of the fetched guest kernel (UTRACE_KVER in $cache/kernels/amd64.env),
# configured small (allnoconfig + scripts/debug-kernel.config: KASAN, lockdep,
# UBSAN, KFENCE, kmemleak, ... and what the module and the tests need).
#
# usage: build-debug-kernel.sh [--print-env]
#
# The build is cached outside the clone, in $UTRACE_DEBUG_KCACHE (default
# /var/cache/utrace/debug-kernel), in a folder named after the source version
# and a hash of the config fragment, this script's version and the compiler:
# a second run with the same inputs costs nothing, a changed fragment builds a
# new kernel next to the old one.  The folder holds
#   bzImage  System.map  config  kernel.env
#   src/     the built tree: out-of-tree modules build against it
#            (Module.symvers, scripts, generated headers), vmlinux
# and $cache/kernels/amd64-debug.env is pointed at its kernel.env (KDIR,
# KIMAGE, ...), which scripts/build-kmod.sh x86_64-debug and
# tests/guest/run-guest.py --kernel debug read.
#
# --print-env: print the path of that kernel.env and exit 0 if the kernel is
# built, exit 1 otherwise (builds nothing).
#
# An interrupted build resumes where it stopped.  UTRACE_DEBUG_KJOBS: make's
# -j (default: nproc); UTRACE_DEBUG_KNICE: its niceness (default 19).
#
# Needs: the private apt configuration of scripts/fetch-kernels.sh (run by
# setup.sh), gcc-12, make, flex, bison, bc, libelf-dev, xz-utils.
set -euo pipefail

# Bump when a change of this script changes what it builds.
SCRIPT_VERSION=1

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${UTRACE_CACHE:-$top/.cache}
kcache=${UTRACE_DEBUG_KCACHE:-/var/cache/utrace/debug-kernel}
fragment=$top/scripts/debug-kernel.config

log() { printf 'build-debug-kernel: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

print_env=0
case "${1:-}" in
"") ;;
--print-env) print_env=1 ;;
*) die "usage: build-debug-kernel.sh [--print-env]" ;;
esac

env=$cache/kernels/amd64.env
[ -r "$env" ] || die "$env missing: run scripts/setup.sh (or scripts/fetch-kernels.sh)"
kver=$(sed -n 's/^UTRACE_KVER=//p' "$env")
[ -n "$kver" ] || die "$env names no UTRACE_KVER: run scripts/fetch-kernels.sh"

cc=gcc-12
command -v "$cc" >/dev/null || die "$cc not installed: run scripts/setup.sh"
key=$({
	echo "script $SCRIPT_VERSION"
	echo "source linux-source-6.1=$kver"
	"$cc" --version | head -n1
	cat "$fragment"
} | sha256sum | cut -c1-12)
dir=$kcache/$kver-$key

fetch_source() {
	# The source package, through fetch-kernels.sh's private apt configuration
	# (so the version is the guest's, from bookworm or bookworm-security).
	local aptconf=$cache/apt/amd64/etc/apt.conf deb
	[ -r "$aptconf" ] || die "$aptconf missing: run scripts/fetch-kernels.sh"
	(cd "$dir/deb" && APT_CONFIG=$aptconf apt-get download -q "linux-source-6.1=$kver" >/dev/null) ||
		die "apt-get download linux-source-6.1=$kver failed"
	deb=$(ls "$dir"/deb/linux-source-6.1_*_all.deb)
	log "unpacking $(basename "$deb")"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/linux-source-6.1.tar.xz | tar -xJ -C "$dir"
	mv "$dir/linux-source-6.1" "$src"
	rm -rf "$dir/deb"
}

link_env() {
	mkdir -p "$cache/kernels"
	ln -sfn "$dir/kernel.env" "$cache/kernels/amd64-debug.env"
}

if [ "$print_env" = 1 ]; then
	[ -f "$dir/.complete" ] || exit 1
	link_env
	echo "$dir/kernel.env"
	exit 0
fi

mkdir -p "$kcache"
# One build per key at a time (two test runs may start at once).
exec 9>"$dir.lock"
flock 9
if [ -f "$dir/.complete" ]; then
	link_env
	log "cached: $dir"
	exit 0
fi

start=$(date +%s)
src=$dir/src
if [ -f "$dir/.unpacked" ]; then
	# An interrupted build resumes: make is incremental.
	log "resuming linux-source-6.1 $kver (key $key) in $dir"
else
	log "building linux-source-6.1 $kver (key $key) in $dir"
	rm -rf "$dir"
	mkdir -p "$dir/deb"
	fetch_source
	touch "$dir/.unpacked"
fi
mk=(make -C "$src" ARCH=x86_64 CC="$cc" HOSTCC="$cc" -s)


# Small config: everything off except the fragment (and what it selects).
# (On a resumed build the same config again: make rebuilds nothing for it.)
KCONFIG_ALLCONFIG=$fragment "${mk[@]}" allnoconfig >/dev/null
# Every option the fragment names must have its value (a dependency that is
# not met silently drops an option otherwise).
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		opt=${line%%=*}
		if grep -q "^$opt=" "$src/.config"; then
			log "config: $opt is set, the fragment wants it off"
			bad=1
		fi
		;;
	CONFIG_*=*)
		grep -qxF "$line" "$src/.config" || {
			log "config: want $line, got: $(grep "^${line%%=*}=" "$src/.config" || echo unset)"
			bad=1
		}
		;;
	esac
done <"$fragment"
[ "$bad" = 0 ] || die "the config fragment does not apply (see above)"

jobs=${UTRACE_DEBUG_KJOBS:-$(nproc)}
nicety=${UTRACE_DEBUG_KNICE:-19}
log "make -j$jobs (nice $nicety)"
# vmlinux, bzImage and Module.symvers (the 'modules' part of 'all'; nothing
# is built as a module).
nice -n "$nicety" "${mk[@]}" -j"$jobs" all
cp "$src/arch/x86/boot/bzImage" "$dir/bzImage"
cp "$src/System.map" "$dir/System.map"
cp "$src/.config" "$dir/config"
[ -f "$src/Module.symvers" ] || die "no Module.symvers"
krel=$("${mk[@]}" kernelrelease)
cat >"$dir/kernel.env" <<EOF
UTRACE_KVER=$kver
UTRACE_KRELEASE=$krel
UTRACE_DEBUG_KEY=$key
KDIR=$src
KIMAGE=$dir/bzImage
VMLINUX=$src/vmlinux
SYSTEM_MAP=$dir/System.map
KCONFIG=$dir/config
BTF_BASE=
MODROOT=
EOF
touch "$dir/.complete"
link_env
secs=$(($(date +%s) - start))
# Wall time and the CPU time of the build (user and system, of this script's
# children): on a loaded machine the latter / nproc is the idle-machine figure.
# (times in this shell, not in a pipe: its second line is the children's.)
echo "wall $secs s, nproc $(nproc)" >"$dir/build-time"
times >>"$dir/build-time"
log "done in $secs s, CPU user/sys of the build: $(tail -n1 "$dir/build-time"): $dir"
