#!/usr/bin/env bash
# Fetch Debian's kernel images + headers for amd64 and ppc64el into the cache
# ($UTRACE_CACHE, default <repo>/.cache, ignored by git) and make the
# extracted headers usable for out-of-tree module builds.  Needs no root.
#
# usage: fetch-kernels.sh [SERIES...]   (default: 6.1 6.12)
#
# Two kernel series, both of Debian 12 (bookworm):
#   6.1   bookworm's own kernel (6.1.0-NN, ABI in the package name)
#   6.12  bookworm-backports' kernel (6.12.NN+deb12, the same kernel as
#         Debian 13's), ppc64el flavour powerpc64le (4K pages)
# Each series and architecture uses a private apt configuration (own sources
# list, lists directory and APT::Architecture; 6.1 in apt/<arch>, 6.12 in
# apt/<arch>-6.12); the machine's dpkg architectures and sources are never
# touched.  Only kernel packages and bookworm's busybox-static are downloaded,
# never installed (so nothing of a newer libc comes in).  Per series, the ABI
# is the newest one whose image and headers exist for BOTH architectures, so
# both guests run the same kernel release.  UTRACE_ABI overrides the 6.1 ABI
# (6.1.0-NN), UTRACE_ABI_6_12 the 6.12 one (6.12.NN+deb12).
#
# Result, per ABI: $cache/kernels/<abi>/<arch>/kernel.env (sourceable) naming
#   UTRACE_ABI UTRACE_SERIES KDIR KIMAGE VMLINUX BTF_BASE (empty: kernel has
#   no BTF) MODROOT BUSYBOX (ppc64el only)
# linked as $cache/kernels/<arch>-<series>.env; <arch>.env is the 6.1 one
# (the default kernel of the builds and guests).
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

# The private apt directory of a series for an architecture.
apt_dir() { # apt_dir ARCH SERIES
	if [ "$2" = 6.1 ]; then
		echo "$cache/apt/$1"
	else
		echo "$cache/apt/$1-$2"
	fi
}

apt_setup() { # apt_setup ARCH SERIES
	local arch=$1 series=$2 d
	d=$(apt_dir "$arch" "$series")
	mkdir -p "$d/lists/partial" "$d/archives/partial" "$d/etc/preferences.d" "$d/etc/sources.list.d"
	touch "$d/status"
	{
		echo "deb [arch=$arch signed-by=$keyring] http://deb.debian.org/debian bookworm main"
		if [ "$series" = 6.1 ]; then
			echo "deb [arch=$arch signed-by=$keyring] http://deb.debian.org/debian bookworm-updates main"
			echo "deb [arch=$arch signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main"
		else
			echo "deb [arch=$arch signed-by=$keyring] http://deb.debian.org/debian bookworm-backports main"
		fi
	} >"$d/etc/sources.list"
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

papt() { # papt ARCH SERIES apt-command args...
	local d
	d=$(apt_dir "$1" "$2")
	shift 2
	APT_CONFIG=$d/etc/apt.conf "$@"
}

# Refresh the private lists at most once a day; an index that fails to
# download (a mirror mid-sync) is tolerated as long as bookworm main (and,
# for 6.12, bookworm-backports) is there.
apt_refresh() { # apt_refresh ARCH SERIES
	local arch=$1 series=$2 d
	d=$(apt_dir "$arch" "$series")
	local stamp=$d/updated
	if [ -n "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		return
	fi
	log "apt-get update ($arch, $series)"
	papt "$arch" "$series" apt-get update -q >"$d/update.log" 2>&1 || true
	grep -E '^(E|W): ' "$d/update.log" | sed "s/^/fetch-kernels: ($arch, $series) /" >&2 || true
	ls "$d"/lists/*bookworm_main_binary-"${arch}"_Packages* >/dev/null 2>&1 ||
		die "no package list for $arch (see $d/update.log)"
	if [ "$series" != 6.1 ]; then
		ls "$d"/lists/*bookworm-backports_main_binary-"${arch}"_Packages* >/dev/null 2>&1 ||
			die "no bookworm-backports package list for $arch (see $d/update.log)"
	fi
	touch "$stamp"
}

# The ABIs of a series (what stands between "linux-headers-" and the
# flavour) for which both the image and the headers exist for ARCH.
abis_of() { # abis_of ARCH SERIES
	local arch=$1 series=$2 f=${flavour[$1]} re
	case "$series" in
	6.1) re='6\.1\.0-[0-9]*' ;;
	6.12) re='6\.12\.[0-9]*+deb12' ;;
	esac
	papt "$arch" "$series" apt-cache pkgnames "linux-headers-$series." |
		sed -n "s/^linux-headers-\($re\)-$f\$/\1/p" |
		while read -r abi; do
			papt "$arch" "$series" apt-cache show "linux-image-$abi-$f" >/dev/null 2>&1 &&
				echo "$abi"
		done
}

# The newest ABI of SERIES that both architectures have.
newest_abi() { # newest_abi SERIES
	comm -12 <(abis_of amd64 "$1" | sort) <(abis_of ppc64el "$1" | sort) | sort -V | tail -n1
}

# Point the env links of SERIES for ARCH at DIR's kernel.env.
link_env() { # link_env ARCH SERIES DIR
	ln -sfn "$3/kernel.env" "$kcache/$1-$2.env"
	if [ "$2" = 6.1 ]; then
		ln -sfn "$3/kernel.env" "$kcache/$1.env"
	fi
}

fetch_arch() { # fetch_arch ARCH SERIES ABI
	local arch=$1 series=$2 abi=$3 f=${flavour[$1]}
	local dir=$kcache/$abi/$arch root=$kcache/$abi/$arch/root
	if [ -f "$dir/.complete" ]; then
		link_env "$arch" "$series" "$dir"
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir/debs" "$root"
	local hver
	hver=$(papt "$arch" "$series" apt-cache show "linux-headers-$abi-$f" | sed -n 's/^Version: //p' | head -n1)
	[ -n "$hver" ] || die "linux-headers-$abi-$f not found for $arch"
	# 6.1's kbuild package is named by the series, 6.12's by the ABI.
	local kbuild_pkg=linux-kbuild-$series
	[ "$series" = 6.1 ] || kbuild_pkg=linux-kbuild-$abi
	local pkgs=("linux-image-$abi-$f" "linux-headers-$abi-$f=$hver"
		"linux-headers-$abi-common=$hver")
	[ "$arch" = ppc64el ] && pkgs+=(busybox-static/bookworm)
	log "downloading for $arch: ${pkgs[*]}"
	(cd "$dir/debs" && papt "$arch" "$series" apt-get download -q "${pkgs[@]}" >/dev/null)
	(cd "$dir/debs" && papt amd64 "$series" apt-get download -q "$kbuild_pkg=$hver" >/dev/null) ||
		die "$kbuild_pkg=$hver (amd64) not downloadable"
	log "$arch $abi: $(du -sb "$dir/debs" | cut -f1) bytes of packages"
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$root"
	done

	# The headers' Makefile includes the common headers by absolute path, and
	# scripts/ and tools/ are links into /usr/lib/linux-kbuild-*: point both
	# at the extracted copies (kbuild is amd64's, so its host tools run here).
	local kdir=$root/usr/src/linux-headers-$abi-$f
	local common=$root/usr/src/linux-headers-$abi-common
	local kbuild=$root/usr/lib/$kbuild_pkg
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
	# Debian builds amd64 with CONFIG_DEBUG_INFO_BTF, ppc64el only from 6.12
	# on: without it the module gets no BTF and BPF uses raw tracepoints (see
	# docs/DESIGN.md).
	local btf_base=
	if grep -q '^CONFIG_DEBUG_INFO_BTF=y' "$root/boot/config-$abi-$f"; then
		btf_base=$dir/vmlinux.btf
		$objcopy -O binary --only-section=.BTF "$vmlinux" "$btf_base"
		[ -s "$btf_base" ] || die "$vmlinux has no .BTF section"
	fi

	cat >"$dir/kernel.env" <<EOF
UTRACE_ABI=$abi
UTRACE_SERIES=$series
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
	link_env "$arch" "$series" "$dir"
	log "$arch ready in $dir"
}

series_list=("$@")
[ ${#series_list[@]} -gt 0 ] || series_list=(6.1 6.12)
for series in "${series_list[@]}"; do
	case "$series" in
	6.1) abi=${UTRACE_ABI:-} ;;
	6.12) abi=${UTRACE_ABI_6_12:-} ;;
	*) die "unknown kernel series '$series' (6.1 or 6.12)" ;;
	esac
	for arch in amd64 ppc64el; do
		apt_setup "$arch" "$series"
		apt_refresh "$arch" "$series"
	done
	if [ -z "$abi" ]; then
		abi=$(newest_abi "$series")
		[ -n "$abi" ] || die "no $series ABI has image and headers for both amd64 and ppc64el"
	fi
	log "kernel ABI $abi (series $series)"
	for arch in amd64 ppc64el; do
		fetch_arch "$arch" "$series" "$abi"
	done
done

# Static libraries for the ppc64le guest's test binaries (libbpf and what it
# links against), unpacked into a sysroot overlay; keyed by their versions.
fetch_ppc_sysroot() {
	local pkgs=(libbpf-dev libelf-dev zlib1g-dev libzstd-dev)
	local sysroot=$cache/sysroot-ppc64el key
	key=$(papt ppc64el 6.1 apt-cache policy "${pkgs[@]}" | sed -n 's/^  Candidate: //p' | tr '\n' ' ')
	if [ "$(cat "$sysroot/.key" 2>/dev/null)" = "$key" ]; then
		return
	fi
	rm -rf "$sysroot"
	mkdir -p "$sysroot/debs"
	log "downloading for the ppc64el sysroot: ${pkgs[*]}"
	(cd "$sysroot/debs" && papt ppc64el 6.1 apt-get download -q "${pkgs[@]}" >/dev/null)
	for deb in "$sysroot"/debs/*.deb; do
		dpkg-deb -x "$deb" "$sysroot"
	done
	rm -rf "$sysroot/debs"
	echo "$key" >"$sysroot/.key"
}
fetch_ppc_sysroot
