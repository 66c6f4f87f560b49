#!/usr/bin/env bash
# README's "Install on your machine", word for word, on a fresh Debian 12
# (bookworm) system: the x86_64 guest boots Debian's 6.1 kernel (the one
# run-guest.py boots) on a root file system of its own made by debootstrap,
# with its own systemd, and runs README's install and uninstall blocks as
# they stand there (tests/packaging/fresh-guest.sh), DKMS compiling
# utrace.ko inside the guest.
#
# usage: fresh-install.sh UTRACE_DKMS_DEB UTRACECTL_DEB KERNEL_ENV README
#
# Kept under $UTRACE_CACHE/fresh (outside the clone), each keyed by what
# makes it:
#   rootfs-KEY/  debootstrap --variant=minbase bookworm with systemd-sysv and
#                the guest kernel's linux-image-<release> installed from
#                bookworm(-updates, -security), as the machine that runs it
#                has it; no apt lists, no downloaded packages.
#   repo-KEY/    a flat apt repository of exactly the .debs README's two
#                `apt install` lines need on that root file system, resolved
#                by bookworm's apt in a copy of it (bookworm, -updates,
#                -security: never trixie): linux-headers-<release> and what
#                it needs (gcc-12, linux-kbuild), dkms and its dependencies
#                and recommends, utracectl's libbpf1 and prometheus-cpp
#                1.0.1.
# Each run copies the root file system, adds the repository (its only apt
# source: the guest has no network), the two packages in /root and the
# README's blocks, makes an ext4 image of it and boots it.
set -euo pipefail

fail() {
	echo "fresh-install: FAIL: $*" >&2
	exit 1
}
log() { echo "fresh-install: $*" >&2; }

[ $# -eq 4 ] || fail "usage: fresh-install.sh UTRACE_DKMS_DEB UTRACECTL_DEB KERNEL_ENV README"
dkms_deb=$(realpath "$1")
ctl_deb=$(realpath "$2")
[ -r "$3" ] || fail "$3 missing: scripts/fetch-kernels.sh"
readme=$(realpath "$4")
# shellcheck disable=SC1090
. "$3"
kver=$(basename "$MODROOT")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${UTRACE_CACHE:-$top/.cache}/fresh
[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot, files owned by the guest's users)"
command -v debootstrap >/dev/null || fail "debootstrap missing: run scripts/setup.sh"
command -v mkfs.ext4 >/dev/null || fail "mkfs.ext4 missing: run scripts/setup.sh"
mkdir -p "$cache"

mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
sources="deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-updates main
deb [signed-by=$keyring] $security bookworm-security main"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/utrace-fresh.XXXXXX")
mounted=()
cleanup() {
	local m
	for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# A chroot with /proc, /sys, /dev (apt and maintainer scripts want them)
# and the host's resolver.
in_root() { # in_root DIR COMMAND...
	local d=$1 m
	shift
	for m in proc sys dev; do
		mount --bind "/$m" "$d/$m"
		mounted+=("$d/$m")
	done
	local rc=0
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$d" "$@" || rc=$?
	for m in dev sys proc; do umount "$d/$m"; done
	mounted=()
	return $rc
}

# --- the root file system ------------------------------------------------
rootfs_recipe="bookworm minbase systemd-sysv linux-image-$kver $mirror $security v1"
rootfs=$cache/rootfs-$(echo "$rootfs_recipe" | sha256sum | cut -c1-16)
if [ ! -d "$rootfs" ]; then
	log "debootstrap bookworm into $rootfs ($rootfs_recipe)"
	t0=$SECONDS
	new=$cache/.rootfs.new
	rm -rf "$new"
	debootstrap --variant=minbase --include=systemd-sysv --keyring="$keyring" \
		bookworm "$new" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
		{ tail -20 "$tmp/debootstrap.log" >&2; fail "debootstrap"; }
	printf '%s\n' "$sources" >"$new/etc/apt/sources.list"
	cp /etc/resolv.conf "$new/etc/resolv.conf"
	# The kernel the guest runs, installed as on the machine that runs it
	# (/lib/modules/<release>, /boot): the modules come from the package.
	in_root "$new" sh -c "apt-get update -q && apt-get install -y -q linux-image-$kver" \
		>"$tmp/image.log" 2>&1 || { tail -20 "$tmp/image.log" >&2; fail "linux-image-$kver"; }
	in_root "$new" apt-get clean
	rm -rf "$new"/var/lib/apt/lists/* "$new/etc/resolv.conf"
	echo utrace-fresh >"$new/etc/hostname"
	mv "$new" "$rootfs"
	log "root file system made in $((SECONDS - t0)) s"
fi

# --- the local repository -------------------------------------------------
deps=$(for d in "$dkms_deb" "$ctl_deb"; do dpkg-deb -f "$d" Package Depends Pre-Depends Recommends; done)
repo_recipe="$rootfs $kver $deps v1"
repo=$cache/repo-$(echo "$repo_recipe" | sha256sum | cut -c1-16)
if [ ! -d "$repo" ]; then
	log "resolving README's apt install lines on bookworm into $repo"
	t0=$SECONDS
	work=$tmp/resolve
	cp -a "$rootfs" "$work"
	cp /etc/resolv.conf "$work/etc/resolv.conf"
	mkdir -p "$work/tmp/debs"
	cp "$dkms_deb" "$ctl_deb" "$work/tmp/debs/"
	# What `apt install linux-headers-$(uname -r)` and then `apt install
	# ./utrace-dkms_*.deb ./utracectl_*.deb` fetch: both in one request, so
	# the second is resolved with the headers already there.
	in_root "$work" sh -c "apt-get update -q && cd /tmp/debs &&
		apt-get install -y -q --download-only linux-headers-$kver ./*.deb" \
		>"$tmp/resolve.log" 2>&1 || { tail -30 "$tmp/resolve.log" >&2; fail "apt could not resolve the install on bookworm"; }
	new=$cache/.repo.new
	rm -rf "$new"
	mkdir -p "$new"
	mv "$work"/var/cache/apt/archives/*.deb "$new/"
	# bookworm's libc only: nothing of a later release may come in.
	for f in "$new"/libc6_*.deb; do
		[ ! -e "$f" ] || case $(dpkg-deb -f "$f" Version) in 2.36-*) ;; *) fail "$f is not bookworm's libc" ;; esac
	done
	ls "$new"/linux-headers-"$kver"_*.deb >/dev/null 2>&1 || fail "no linux-headers-$kver resolved"
	(cd "$new" && dpkg-scanpackages --multiversion . /dev/null >Packages 2>/dev/null)
	{
		echo "Origin: utrace-fresh-install"
		echo "Label: README's packages from bookworm"
		echo "Date: $(date -Ru)"
		echo "SHA256:"
		echo " $(sha256sum "$new/Packages" | cut -d' ' -f1) $(stat -c %s "$new/Packages") Packages"
	} >"$new/Release"
	rm -rf "$work"
	mv "$new" "$repo"
	log "repository of $(find "$repo" -name '*.deb' | wc -l) packages made in $((SECONDS - t0)) s"
fi

# --- README's blocks ---------------------------------------------------------
# The ```sh blocks of "## Install on your machine" that follow "On the
# machine, as root:" and "Uninstall:", as they stand (a line continued with
# a backslash is joined to the next).
readme_block() { # readme_block INTRO
	awk -v intro="$1" '
		/^## / { in_sec = ($0 == "## Install on your machine") }
		!in_sec { next }
		!inblk && $0 == intro { want = 1; next }
		want && /^```sh$/ { inblk = 1; want = 0; next }
		inblk && /^```$/ { inblk = 0; done = 1; exit }
		inblk { if (sub(/\\$/, "")) { cont = cont $0; next } print cont $0; cont = "" }
		END { if (!done) exit 1 }' "$readme"
}
readme_block "On the machine, as root:" >"$tmp/readme-install" ||
	fail "README: no \`\`\`sh block after 'On the machine, as root:' in 'Install on your machine'"
readme_block "Uninstall:" >"$tmp/readme-uninstall" ||
	fail "README: no \`\`\`sh block after 'Uninstall:' in 'Install on your machine'"
# shellcheck disable=SC2016 # README's text, not an expansion
grep -q 'apt install linux-headers-\$(uname -r)' "$tmp/readme-install" ||
	fail "README's install block no longer installs linux-headers-\$(uname -r)"

# --- this run's image --------------------------------------------------------
t0=$SECONDS
root=$tmp/root
cp -a "$rootfs" "$root"
mkdir -p "$root/srv/utrace-repo"
cp -a "$repo"/. "$root/srv/utrace-repo/"
echo "deb [trusted=yes] file:/srv/utrace-repo ./" >"$root/etc/apt/sources.list"
in_root "$root" apt-get update -q >"$tmp/update.log" 2>&1 ||
	{ cat "$tmp/update.log" >&2; fail "apt-get update of the local repository"; }
# apt asks "Do you want to continue? [Y/n]" and the guest's commands have no
# terminal: this answers Y, as the user does.
echo 'APT::Get::Assume-Yes "true";' >"$root/etc/apt/apt.conf.d/90utrace-fresh-install-yes"
cp "$dkms_deb" "$ctl_deb" "$root/root/"
cp "$tmp/readme-install" "$tmp/readme-uninstall" "$root/root/"
cp "$here/fresh-guest.sh" "$root/root/fresh-guest.sh"
img=$tmp/root.img
truncate -s 4G "$img"
mkfs.ext4 -q -F -L utrace-fresh -d "$root" "$img" >/dev/null
rm -rf "$root"
log "image made in $((SECONDS - t0)) s; booting"

"$top/tests/guest/run-guest.py" --arch x86_64 --series 6.1 --root-image "$img" \
	--timeout "${FRESH_INSTALL_TIMEOUT:-2300}" -- /bin/sh /root/fresh-guest.sh
