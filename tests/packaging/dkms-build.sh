#!/usr/bin/env bash
# The utrace-dkms package's source, built and installed by DKMS against one
# fetched kernel's headers, in a private DKMS tree: the machine's
# /var/lib/dkms, /usr/src and /lib/modules are not touched.
#
# usage: dkms-build.sh [--tarball FILE] UTRACE_DKMS_DEB KERNEL_ENV
#   KERNEL_ENV: a .cache/kernels/*.env of scripts/fetch-kernels.sh (KDIR,
#   MODROOT); ppc64el headers are built for with the cross compiler.
#   --tarball FILE: also write DKMS's binaries-only tarball of the build
#   (dkms mktarball) to FILE, for tests/guest/deb-install.sh.
#
# Passes when `dkms add`, `dkms build` and `dkms install` succeed, dkms status
# says installed, the installed updates/dkms/utrace.ko is for that kernel
# (vermagic, arch) and depmod (on the private tree) lists it.
set -euo pipefail

die() {
	echo "dkms-build: FAIL: $*" >&2
	exit 1
}

tarball=
if [ "${1:-}" = --tarball ]; then
	tarball=$(realpath "$2")
	shift 2
fi
[ $# -eq 2 ] || die "usage: dkms-build.sh [--tarball FILE] UTRACE_DKMS_DEB KERNEL_ENV"
deb=$(realpath "$1")
[ -r "$2" ] || die "$2 missing: scripts/fetch-kernels.sh"
# shellcheck disable=SC1090
. "$2"
[ -d "$KDIR" ] || die "$KDIR missing: scripts/fetch-kernels.sh"
kver=$(basename "$MODROOT")
version=$(dpkg-deb -f "$deb" Version)

case "$kver" in
*-amd64)
	arch=x86_64
	machine="Advanced Micro Devices X86-64"
	;;
*-powerpc64le*)
	# Cross: kbuild takes ARCH and CROSS_COMPILE from the environment
	# (the headers' .kernelvariables name $(CROSS_COMPILE)gcc-12).
	arch=ppc64le
	machine="PowerPC64"
	export ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-
	;;
*) die "unknown kernel flavour $kver" ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/utrace-dkms.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb -x "$deb" "$tmp/pkg"
src=$tmp/pkg/usr/src
[ -f "$src/utrace-$version/dkms.conf" ] || die "no /usr/src/utrace-$version/dkms.conf in $deb"
base=$tmp/base
mkdir -p "$base/lib/modules/$kver" "$tmp/dkms"
# The kernel's own module lists, for depmod below.
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ ! -f "$MODROOT/$f" ] || cp "$MODROOT/$f" "$base/lib/modules/$kver/"
done

# No signing: dkms would otherwise make a key in /var/lib/dkms where it
# finds the kernel's sign-file.
export sign_file=/nonexistent mok_signing_key=$tmp/mok.key mok_certificate=$tmp/mok.pub
trees=(--dkmstree "$tmp/dkms" --sourcetree "$src" --installtree "$base/lib/modules")
dk() {
	echo "+ dkms $*" >&2
	dkms "$@" "${trees[@]}"
}
dk add -m utrace -v "$version"
if ! dk build -m utrace -v "$version" -k "$kver" -a "$arch" --kernelsourcedir "$KDIR"; then
	cat "$tmp/dkms/utrace/$version/build/make.log" >&2 || true
	die "dkms build for $kver ($arch)"
fi
dk install -m utrace -v "$version" -k "$kver" -a "$arch" --no-depmod ||
	die "dkms install for $kver ($arch)"
status=$(dk status -m utrace -v "$version" -k "$kver" -a "$arch")
echo "$status"
grep -q ': installed' <<<"$status" || die "dkms status does not say installed"

ko=$base/lib/modules/$kver/updates/dkms/utrace.ko
[ -f "$ko" ] || die "$ko not installed"
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$kver" ] || die "$ko has vermagic '$vermagic', not $kver"
readelf -h "$ko" | grep -q "Machine: *$machine" || die "$ko is not a $arch object"
depmod -b "$base" "$kver"
grep -q '^updates/dkms/utrace.ko:' "$base/lib/modules/$kver/modules.dep" ||
	die "depmod does not list updates/dkms/utrace.ko"
if [ -n "$tarball" ]; then
	dk mktarball -m utrace -v "$version" -k "$kver" -a "$arch" --binaries-only \
		--archive "$tmp/utrace.dkms.tar.gz" >/dev/null
	mv "$tmp/utrace.dkms.tar.gz" "$tarball"
	echo "dkms-build: binaries-only tarball: $tarball"
fi
dk remove -m utrace -v "$version" --all >/dev/null
[ ! -e "$ko" ] || die "dkms remove left $ko"
echo "dkms-build: $kver ($arch): add, build, install, remove: ok ($vermagic)"
