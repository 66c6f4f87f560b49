#!/usr/bin/env bash
# Fetch Debian bookworm's 6.1 kernel image + headers for amd64 and ppc64el into
# the cache ($UTRACE_CACHE, default <repo>/.cache, ignored by git) and make the
# extracted headers usable for out-of-tree module builds.  Needs no root.
#
# Each architecture uses a private apt configuration (own sources list, lists
# directory and APT::Architecture); the machine's dpkg architectures are never
# touched.  The ABI (6.1.0-NN) is the newest one whose image and headers exist
# for BOTH architectures, so both guests run the same kernel release.
#
# Result: $cache/kernels/<arch>.env (sourceable) naming
#   UTRACE_ABI KDIR KIMAGE VMLINUX BTF_BASE (empty: kernel has no BTF) MODROOT
#   BUSYBOX (ppc64el only)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${UTRACE_CACHE:-$top/.cache}
kcache=$cache/kernels
mkdir -p "$kcache"

log() { printf 'fetch-kernels: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "$keyring missing (install debian-archive-keyring)"

# flavour per Debian architecture
declare -A flavour=([amd64]=amd64 [ppc64el]=powerpc64le)

apt_setup() {
	local arch=$1 d=$cache/apt/$1
	mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/etc/preferences.d" "$d/etc/sources.list.d"
	touch "$d/status"
	cat >"$d/etc/sources.list" <<EOF
deb [arch=$arch signed-by=$keyring] http://deb.debian.org/debian bookworm main
deb [arch=$arch signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main
deb [arch=$arch signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
EOF
	cat >"$d/etc/apt.conf" <<EOF
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
Dir::State "$d";
Dir::State::Lists "$d/lists";
Dir::State::status "$d/status";
Dir::Cache "$d";
Dir::Cache::archives "$d/archives";
Dir::Etc::SourceList "$d/etc/sources.list";
Dir::Etc::SourceParts "$d/etc/sources.list.d";
Dir::Etc::Preferences "$d/etc/preferences";
Dir::Etc::PreferencesParts "$d/etc/preferences.d";
Debug::NoLocking "true";
APT::Sandbox::User "root";
EOF
}

papt() { # papt ARCH apt-command args...
	local arch=$1
	shift
	APT_CONFIG=$cache/apt/$arch/etc/apt.conf "$@"
}

# Refresh the private lists at most once a day; an index that fails to
# download (a mirror mid-sync) is tolerated as long as bookworm main is there.
apt_refresh() {
	local arch=$1 d=$cache/apt/$1 stamp=$cache/apt/$1/updated
	if [ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		return
	fi
	log "apt-get update ($arch)"
	papt "$arch" apt-get update -q >"$d/update.log" 2>&1 || true
	grep -E '^(E|W): ' "$d/update.log" | sed "s/^/fetch-kernels: ($arch) /" >&2 || true
	ls "$d"/lists/*bookworm_main_binary-"${arch}"_Packages* >/dev/null 2>&1 ||
		die "no package list for $arch (see $d/update.log)"
	touch "$stamp"
}

abis_of() { # ABIs (NN) with both image and headers for ARCH
	local arch=$1 f=${flavour[$1]}
	papt "$arch" apt-cache pkgnames "linux-headers-6.1.0-" |
		sed -n "s/^linux-headers-6\.1\.0-\([0-9]*\)-$f\$/\1/p" | sort -n |
		while read -r n; do
			papt "$arch" apt-cache show "linux-image-6.1.0-$n-$f" >/dev/null 2>&1 &&
				echo "$n"
		done
}

for arch in amd64 ppc64el; do
	apt_setup "$arch"
	apt_refresh "$arch"
done

if [ -n "${UTRACE_ABI:-}" ]; then
	abi=$UTRACE_ABI
else
	abi=$(comm -12 <(abis_of amd64 | sort) <(abis_of ppc64el | sort) | sort -n | tail -n1)
	[ -n "$abi" ] || die "no 6.1 ABI has image and headers for both amd64 and ppc64el"
	abi=6.1.0-$abi
fi
log "kernel ABI $abi"


fetch_arch() {
	local arch=$1 f=${flavour[$1]}
	local dir=$kcache/$abi/$arch root=$kcache/$abi/$arch/root
	local env=$kcache/$arch.env
	if [ -f "$dir/.complete" ]; then
		ln -sfn "$dir/kernel.env" "$env"
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir/debs" "$root"
	local hver
	hver=$(papt "$arch" apt-cache show "linux-headers-$abi-$f" | sed -n 's/^Version: //p' | head -n1)
	[ -n "$hver" ] || die "linux-headers-$abi-$f not found for $arch"
	local pkgs=("linux-image-$abi-$f" "linux-headers-$abi-$f=$hver"
		"linux-headers-$abi-common=$hver")
	[ "$arch" = ppc64el ] && pkgs+=(busybox-static)
	log "downloading for $arch: ${pkgs[*]}"
	(cd "$dir/debs" && papt "$arch" apt-get download -q "${pkgs[@]}" >/dev/null)
	(cd "$dir/debs" && papt amd64 apt-get download -q "linux-kbuild-6.1=$hver" >/dev/null) ||
		die "linux-kbuild-6.1=$hver (amd64) not downloadable"
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done

	# The headers' Makefile includes the common headers by absolute path, and
	# scripts/ and tools/ are links into /usr/lib/linux-kbuild-6.1: point both
	# at the extracted copies (kbuild is amd64's, so its host tools run here).
	local kdir=$root/usr/src/linux-headers-$abi-$f
	local common=$root/usr/src/linux-headers-$abi-common
	local kbuild=$root/usr/lib/linux-kbuild-6.1
	[ -d "$kdir" ] && [ -d "$common" ] && [ -d "$kbuild" ] || die "unexpected package layout in $root"
	sed -i "s#/usr/src/linux-headers-$abi-common#$common#g" "$kdir/Makefile"
	for l in scripts tools; do
		if [ -L "$kdir/$l" ]; then
			rm "$kdir/$l"
			ln -s "$kbuild/$l" "$kdir/$l"
		fi
	done
	for l in "$common"/scripts "$common"/tools; do
		[ -L "$l" ] && ln -sfn "$kbuild/$(basename "$l")" "$l"
	done

	# modules.dep is made by the image's postinst, which never ran here.
	/sbin/depmod -b "$root" "$abi-$f"

	local kimage vmlinux=$dir/vmlinux
	if [ "$arch" = amd64 ]; then
		kimage=$root/boot/vmlinuz-$abi-$f
		python3 "$top/scripts/extract-vmlinux.py" "$kimage" "$vmlinux"
	else
		kimage=$root/boot/vmlinux-$abi-$f
		cp "$kimage" "$vmlinux"
	fi
	local objcopy=objcopy
	[ "$arch" = ppc64el ] && objcopy=powerpc64le-linux-gnu-objcopy
	# Debian builds amd64 with CONFIG_DEBUG_INFO_BTF but not ppc64el: there the
	# module gets no BTF and BPF uses raw tracepoints (see docs/DESIGN.md).
	local btf_base=
	if grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$root/boot/config-$abi-$f"; then
		btf_base=$dir/vmlinux.btf
		$objcopy -O binary --only-section=.BTF "$vmlinux" "$btf_base"
		[ -s "$btf_base" ] || die "$vmlinux has no .BTF section"
	fi

	cat >"$dir/kernel.env" <<EOF
UTRACE_ABI=$abi
UTRACE_KVER=$hver
KDIR=$kdir
KIMAGE=$kimage
VMLINUX=$vmlinux
BTF_BASE=$btf_base
MODROOT=$root/lib/modules/$abi-$f
EOF
	[ "$arch" = ppc64el ] && echo "BUSYBOX=$root/bin/busybox" >>"$dir/kernel.env"
	rm -rf "$dir/debs"
	touch "$dir/.complete"
	ln -sfn "$dir/kernel.env" "$env"
	log "$arch ready in $dir"
}

for arch in amd64 ppc64el; do
	fetch_arch "$arch"
done

# Static libraries for the ppc64le guest's test binaries (libbpf and what it
# links against), unpacked into a sysroot overlay; keyed by their versions.
fetch_ppc_sysroot() {
	local pkgs=(libbpf-dev libelf-dev zlib1g-dev libzstd-dev)
	local sysroot=$cache/sysroot-ppc64el key
	key=$(papt ppc64el apt-cache policy "${pkgs[@]}" | sed -n 's/^  Candidate: //p' | tr '\n' ' ')
	if [ "$(cat "$sysroot/.key" 2>/dev/null)" = "$key" ]; then
		return
	fi
	rm -rf "$sysroot"
	mkdir -p "$sysroot/debs"
	log "downloading for the ppc64el sysroot: ${pkgs[*]}"
	(cd "$sysroot/debs" && papt ppc64el apt-get download -q "${pkgs[@]}" >/dev/null)
	for deb in "$sysroot"/debs/*.deb; do
		dpkg-deb -x "$deb" "$sysroot"
	done
	rm -rf "$sysroot/debs"
	echo "$key" >"$sysroot/.key"
}
fetch_ppc_sysroot
