#!/usr/bin/env bash
# Build the Debian packages of utrace:
#   utrace-dkms_<ver>_all.deb    utrace.ko's source under /usr/src/utrace-<ver>
#                                with its dkms.conf (packaging/dkms); installing
#                                it builds the module for each kernel whose
#                                headers are installed
#   utracectl_<ver>_<arch>.deb   /usr/bin/utracectl (static), the helper of
#                                `utracectl serve` (/usr/libexec/utracectl/
#                                utracectl-serve), the man page (help2man,
#                                from --help), serve's systemd unit
#                                (packaging/utracectl)
#
# usage: build-debs.sh [--utracectl PATH] [OUTDIR]    (OUTDIR: build/debs)
#
# utracectl is built for the package in OUTDIR/cmake (CMake, RelWithDebInfo,
# with Debian's hardening flags from dpkg-buildflags), or taken from PATH,
# its helper utracectl-serve from beside it.  The Depends come from
# dpkg-shlibdeps on the helper, utracectl being static (see
# prometheus_cpp_floor below).
# Needs dpkg-dev, help2man (scripts/setup.sh).  Run as any user.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
	echo "build-debs: $*" >&2
	exit 1
}

utracectl=
while [ $# -gt 0 ]; do
	case "$1" in
	--utracectl)
		[ $# -ge 2 ] || die "--utracectl needs a PATH"
		utracectl=$(realpath "$2")
		shift 2
		;;
	-h | --help)
		sed -n '2,17s/^# \{0,1\}//p' "$0"
		exit 0
		;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -le 1 ] || die "usage: build-debs.sh [--utracectl PATH] [OUTDIR]"
out=${1:-$top/build/debs}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for t in dpkg-deb dpkg-shlibdeps help2man; do
	command -v "$t" >/dev/null || die "$t missing: run scripts/setup.sh (dpkg-dev, help2man)"
done

version=$(sed -n 's/^project(utrace VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
[ -n "$version" ] || die "no project version in CMakeLists.txt"
deb_arch=$(dpkg --print-architecture)
maintainer='utrace maintainers <maintainers@users.noreply.h-seed-63fb98d0.example>'
# Reproducible: every file's time is the last commit's.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH
date_rfc2822=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" -R)

stage=$out/stage
rm -rf "$stage"
mkdir -p "$stage"

doc() { # doc ROOT PACKAGE: copyright and changelog
	local d=$1/usr/share/doc/$2
	install -d "$d"
	install -m 0644 "$top/packaging/debian/copyright" "$d/copyright"
	printf '%s (%s) unstable; urgency=medium\n\n  * Built from the utrace tree at %s.\n\n -- %s  %s\n' \
		"$2" "$version" "$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)" \
		"$maintainer" "$date_rfc2822" | gzip -9n >"$d/changelog.gz"
	chmod 0644 "$d/changelog.gz"
}

lintian_overrides() { # lintian_overrides ROOT PACKAGE
	local f=$top/packaging/lintian/$2
	[ -f "$f" ] || return 0
	install -d "$1/usr/share/lintian/overrides"
	install -m 0644 "$f" "$1/usr/share/lintian/overrides/$2"
}

finish() { # finish ROOT: modes, installed size, md5sums, times, .deb
	local root=$1 name
	name=$(sed -n 's/^Package: //p' "$root/DEBIAN/control")
	find "$root" -type d -exec chmod 0755 {} +
	echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)" >>"$root/DEBIAN/control"
	(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
		xargs -0r md5sum >DEBIAN/md5sums)
	chmod 0644 "$root/DEBIAN/md5sums" "$root/DEBIAN/control"
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	local arch
	arch=$(sed -n 's/^Architecture: //p' "$root/DEBIAN/control")
	dpkg-deb --root-owner-group -Zxz --build "$root" "$out/${name}_${version}_${arch}.deb" >/dev/null
	echo "$out/${name}_${version}_${arch}.deb"
}

# --- utrace-dkms -------------------------------------------------------------
root=$stage/utrace-dkms
src=$root/usr/src/utrace-$version
install -d "$src" "$root/DEBIAN"
# The module's tracked sources (Kbuild and kmod/), nothing built.
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z Kbuild kmod
else
	(cd "$top" && find Kbuild kmod -type f -print0)
fi | (cd "$top" && xargs -0 cp --parents -t "$src")
if [ ! -f "$src/Kbuild" ] || [ ! -f "$src/kmod/main.c" ]; then
	die "module sources not copied"
fi
find "$src" -type f -exec chmod 0644 {} +
find "$src" -type f -name '*.sh' -exec chmod 0755 {} +
sed "s/@VERSION@/$version/g" "$top/packaging/dkms/dkms.conf.in" >"$src/dkms.conf"
chmod 0644 "$src/dkms.conf"
for s in postinst prerm; do
	sed "s/@VERSION@/$version/g" "$top/packaging/dkms/$s" >"$root/DEBIAN/$s"
	chmod 0755 "$root/DEBIAN/$s"
done
doc "$root" utrace-dkms
lintian_overrides "$root" utrace-dkms
cat >"$root/DEBIAN/control" <<EOF
Package: utrace-dkms
Version: $version
Architecture: all
Maintainer: $maintainer
Depends: dkms (>= 3.0.10)
Recommends: utracectl
Section: kernel
Priority: optional
Description: utrace kernel module (DKMS source)
 utrace brings back the in-kernel API for tracing and controlling user
 threads through engines, as a loadable module, with ptrace(2) and wait(2)
 implemented on top of it (a backend switched at run time).
 .
 This package holds the module's source and its DKMS configuration: DKMS
 builds and installs utrace.ko for every kernel whose headers are
 installed (amd64 and ppc64el; Debian 12's 6.1 and Debian 13's 6.12).
EOF
finish "$root"

# --- utracectl ---------------------------------------------------------------
if [ -z "$utracectl" ]; then
	bdir=$out/cmake
	flags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS)"
	cflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CFLAGS)"
	nice cmake -S "$top" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DUTRACE_DEBUG_KERNEL=OFF -DUTRACE_CACHE="${UTRACE_CACHE:-$top/.cache}" \
		-DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$cflags" \
		-DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS) -Wl,-z,now" >/dev/null
	nice cmake --build "$bdir" --target utracectl >/dev/null
	utracectl=$bdir/controller/utracectl
fi
serve_helper=$(dirname "$utracectl")/utracectl-serve
for f in "$utracectl" "$serve_helper"; do
	[ -x "$f" ] || die "$f is not an executable"
	! readelf -d "$f" | grep -qE '\((RPATH|RUNPATH)\)' ||
		die "$f has an RPATH/RUNPATH (build it with this tree's controller/CMakeLists.txt)"
done
if ! readelf -h "$utracectl" | grep DYN >/dev/null || readelf -l "$utracectl" | grep INTERP >/dev/null; then
	die "$utracectl is not a static PIE (build it with this tree's controller/CMakeLists.txt)"
fi

root=$stage/utracectl
install -d "$root/DEBIAN" "$root/usr/bin" "$root/usr/libexec/utracectl" \
	"$root/usr/share/man/man8" "$root/lib/systemd/system"
install -m 0755 "$utracectl" "$root/usr/bin/utracectl"
install -m 0755 "$serve_helper" "$root/usr/libexec/utracectl/utracectl-serve"
for f in "$root/usr/bin/utracectl" "$root/usr/libexec/utracectl/utracectl-serve"; do
	strip --strip-unneeded --remove-section=.comment --remove-section=.note "$f"
done
install -m 0644 "$top/packaging/utracectl/utracectl.service" "$root/lib/systemd/system/utracectl.service"

# The man page: the top-level --help, then each subcommand's.
inc=$stage/utracectl.h2m
{
	echo '[COMMANDS]'
	"$root/usr/bin/utracectl" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }' |
		while read -r c; do
			printf '.SS "utracectl %s"\n.nf\n' "$c"
			"$root/usr/bin/utracectl" "$c" --help | sed 's/\\/\\e/g; s/^\./\\\&./'
			printf '.fi\n'
		done
	echo '[FILES]'
	echo '.TP'
	# shellcheck disable=SC2016 # $(uname -r) is for the reader
	echo '/lib/modules/$(uname -r)/updates/dkms/utrace.ko'
	echo 'the module as DKMS installs it (package utrace-dkms); utracectl load looks there first'
	echo '.TP'
	echo '/usr/libexec/utracectl/utracectl-serve'
	echo 'the program utracectl serve runs: the one that links prometheus-cpp (utracectl itself is static)'
	echo '.TP'
	echo '/lib/systemd/system/utracectl.service'
	echo 'utracectl serve on 127.0.0.1:9477 (systemctl enable \-\-now utracectl)'
} >"$inc"
help2man --no-info --section 8 --source "utrace $version" --version-string "$version" \
	--name 'control the utrace kernel module: engines, ptrace backend, metrics, system call tracing' \
	--include "$inc" "$root/usr/bin/utracectl" | gzip -9n >"$root/usr/share/man/man8/utracectl.8.gz"
chmod 0644 "$root/usr/share/man/man8/utracectl.8.gz"
doc "$root" utracectl
lintian_overrides "$root" utracectl

# Depends from the helper's NEEDED, through the installed libraries' shlibs
# (utracectl itself is static: it needs nothing at run time).
shl=$stage/shlibdeps
install -d "$shl/debian"
printf 'Source: utrace\n\nPackage: utracectl\nArchitecture: any\n' >"$shl/debian/control"
(cd "$shl" && dpkg-shlibdeps -O "$root/usr/libexec/utracectl/utracectl-serve" 2>/dev/null) >"$shl/substvars"
depends=$(sed -n 's/^shlibs:Depends=//p' "$shl/substvars")
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"
# prometheus-cpp: its shlibs ask for the version it was built from (trixie's
# 1.0.2 here); Debian 12 has 1.0.1, the same SONAME (1.0), and utracectl
# resolves every symbol against it and serves with it (`ldd -r` and `serve`
# against bookworm's 1.0.1-1 libraries; README "Install on your machine").
# Asking for 1.0.1 lets the package install on Debian 12 and 13.
prometheus_cpp_floor=1.0.1
depends=$(echo "$depends" | sed -E "s/(libprometheus-cpp-(core|pull)1\.0) \(>= [^)]*\)/\1 (>= $prometheus_cpp_floor)/g")
cat >"$root/DEBIAN/control" <<EOF
Package: utracectl
Version: $version
Architecture: $deb_arch
Maintainer: $maintainer
Depends: $depends
Recommends: utrace-dkms
Section: admin
Priority: optional
Description: controller of the utrace kernel module
 utracectl loads and unloads utrace.ko and its BPF metrics programs,
 attaches engines to threads through /dev/utrace and controls them,
 switches ptrace(2) between the kernel's own and utrace's backend, and
 serves the engines' metrics to Prometheus (a systemd unit is included,
 not enabled).
EOF
finish "$root"
