#!/usr/bin/env bash
# Install everything utrace needs on a Debian 12 (bookworm) amd64 machine, then
# fetch the Debian 6.1 kernels the guests boot.  Idempotent: safe to re-run; a
# second run installs nothing and downloads nothing.
#
# Only Debian's archive is used.  bookworm lacks prometheus-cpp, so trixie is
# added with a pin of -1 (never chosen) except for exactly the prometheus-cpp
# packages, which get 500; trixie's libc can never be pulled in.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	log "must run as root (it installs Debian packages with apt-get)"
	exit 1
fi
if ! grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
	log "warning: this is not Debian 12 (bookworm); package names may differ"
fi

export DEBIAN_FRONTEND=noninteractive

packages=(
	# host build
	build-essential cmake ninja-build pkg-config python3 git file
	# compiled objects kept across clones (CMake's compiler launcher)
	ccache
	# the 32-bit (ia32) ptrace test program, built -m32 -static (guest.x86_64.ptrace_compat).
	# Not gcc-multilib: it conflicts with the powerpc64le cross compiler (the
	# /usr/include/asm link it adds is made in the build tree instead).
	gcc-12-multilib libc6-dev-i386
	# module build: kbuild host tools come from the fetched linux-kbuild-6.1
	bc flex bison libelf-dev libssl-dev kmod
	# powerpc64le cross toolchain (static test binaries, module)
	gcc-powerpc64le-linux-gnu g++-powerpc64le-linux-gnu
	# BPF
	clang llvm bpftool libbpf-dev pahole zlib1g-dev
	# guests
	qemu-system-x86 qemu-system-ppc busybox-static cpio xz-utils zstd
	# userspace libraries (liblzma, libzstd, zlib: utracectl decompresses modules)
	liblzma-dev libzstd-dev
	libcli11-dev libgtest-dev libgmock-dev googletest libbenchmark-dev nlohmann-json3-dev
	libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0
	# tooling used by tests and lint
	clang-format clang-tidy strace gdb procps
	# AppArmor's parser and aa-exec: the exec-under-LSM guest test
	apparmor
	# metrics: a real Prometheus server (guest test) and promtool (rules tests)
	prometheus
	# the Debian packages (scripts/build-debs.sh) and their tests: DKMS builds,
	# lintian, the man page from --help (systemd-analyze: systemd, installed)
	dkms lintian help2man dpkg-dev
	# the fresh Debian 12 guest of tests/packaging/fresh-install.sh: its root
	# file system (bookworm, from Debian's archive) and its ext4 image
	debootstrap e2fsprogs
)

trixie_list=/etc/apt/sources.list.d/utrace-trixie.list
trixie_pin=/etc/apt/preferences.d/utrace-trixie
want_list='deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main'
want_pin='# utrace: trixie only for prometheus-cpp (bookworm lacks it); never its libc.
Package: *
Pin: release n=trixie
Pin-Priority: -1

Package: prometheus-cpp-dev libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0
Pin: release n=trixie
Pin-Priority: 500'

changed=0
if [ "$(cat "$trixie_pin" 2>/dev/null)" != "$want_pin" ]; then
	printf '%s\n' "$want_pin" >"$trixie_pin"
	changed=1
fi
if [ "$(cat "$trixie_list" 2>/dev/null)" != "$want_list" ]; then
	printf '%s\n' "$want_list" >"$trixie_list"
	changed=1
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ] || [ "$changed" -eq 1 ]; then
	log "apt-get update"
	apt-get update -q >/dev/null
fi
if [ "${#missing[@]}" -gt 0 ]; then
	log "installing: ${missing[*]}"
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# Trixie must never have supplied anything but prometheus-cpp.
libc_ver=$(dpkg-query -W -f='${Version}' libc6)
case "$libc_ver" in
2.36-*) ;;
*)
	log "libc6 is $libc_ver, not bookworm's 2.36: refusing to continue"
	exit 1
	;;
esac

prom_prefix=/opt/utrace-deps/prometheus-cpp
prom_ver=$(dpkg-query -W -f='${Version}' libprometheus-cpp-core1.0)
if [ "$(cat "$prom_prefix/VERSION" 2>/dev/null)" != "$prom_ver" ]; then
	log "unpacking prometheus-cpp-dev $prom_ver headers into $prom_prefix"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "prometheus-cpp-dev=$prom_ver" >/dev/null)
	rm -rf "$prom_prefix"
	mkdir -p "$prom_prefix/lib"
	dpkg-deb -x "$tmp"/prometheus-cpp-dev_*.deb "$tmp/x"
	mv "$tmp/x/usr/include" "$prom_prefix/include"
	for c in core pull; do
		ln -s "/usr/lib/$(gcc -print-multiarch)/libprometheus-cpp-$c.so.1.0" \
			"$prom_prefix/lib/libprometheus-cpp-$c.so"
	done
	rm -rf "$tmp"
	echo "$prom_ver" >"$prom_prefix/VERSION"
fi

# Debian's 6.12 only when its tests are asked for (scripts/test.sh: by
# default; the demo needs 6.1 only).
if [ "${UTRACE_KERNEL_6_12:-OFF}" = ON ]; then
	"$top/scripts/fetch-kernels.sh" 6.1 6.12
else
	"$top/scripts/fetch-kernels.sh" 6.1
fi
log "done"
