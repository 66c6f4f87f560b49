#!/bin/sh
# The .deb packages installed in the x86_64 guest as a user installs them,
# then used: utrace.ko from DKMS loads and the packaged utracectl attaches an
# engine to a workload; removing the packages removes the module.
#
# usage: deb-install.sh UTRACE_DKMS_DEB UTRACECTL_DEB DKMS_TARBALL KERNEL_ENV
#
# The guest's root is this machine's, read-only over 9p: the install goes to
# an overlay (upper layer on the guest's tmpfs) chrooted into, so dpkg, the
# packages' maintainer scripts and DKMS run for real and nothing reaches the
# host.  The kernel's headers are linked at /lib/modules/$(uname -r)/build
# as linux-headers-* puts them.  DKMS_TARBALL is the module DKMS built from
# the same package on the host (tests/packaging/dkms-build.sh --tarball,
# `dkms mktarball --binaries-only`): a build under TCG costs minutes, so it
# stands at /utrace-<ver>.dkms.tar.gz, where the package's postinst
# (/usr/lib/dkms/common.postinst) loads it with `dkms ldtarball` instead of
# building.  Everything after that -- dkms install, depmod, the files in
# /lib/modules -- is the packages' own doing.
set -eu
[ $# -eq 4 ] || {
	echo "usage: deb-install.sh UTRACE_DKMS_DEB UTRACECTL_DEB DKMS_TARBALL KERNEL_ENV"
	exit 2
}
dkms_deb=$1 ctl_deb=$2 tarball=$3
# shellcheck disable=SC1090
. "$4"
kver=$(uname -r)
[ "$kver" = "$(basename "$MODROOT")" ] || {
	echo "FAIL: guest kernel $kver is not $(basename "$MODROOT") of $4"
	exit 1
}
version=$(dpkg-deb -f "$dkms_deb" Version)

# The overlay root.
grep -qw overlay /proc/filesystems || insmod "$MODROOT/kernel/fs/overlayfs/overlay.ko"
ov=/tmp/deb-install
mkdir -p $ov/upper $ov/work $ov/root
mount -t overlay overlay -o lowerdir=/,upperdir=$ov/upper,workdir=$ov/work $ov/root
for m in proc sys dev run; do
	mount --rbind /$m $ov/root/$m
done
mount -t tmpfs tmp $ov/root/tmp
# The guest's devtmpfs lacks udev's /dev/fd: bash's <(...), which dkms
# uses, needs it.
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mkdir -p "$ov/root/lib/modules/$kver" $ov/root/tmp/debs
for f in "$MODROOT"/modules.*; do
	cp "$f" "$ov/root/lib/modules/$kver/"
done
ln -s "$KDIR" "$ov/root/lib/modules/$kver/build"
cp "$tarball" "$ov/root/utrace-$version.dkms.tar.gz"
# man-db's trigger (a mandb run, long under TCG) is off, as debconf allows.
rm -f $ov/root/var/lib/man-db/auto-update
cp "$dkms_deb" "$ctl_deb" $ov/root/tmp/debs/

# Inside: install, use, remove.  (The host's /var/lib/dkms and dpkg database
# are those of the overlay: the packages are new to them.)
cat >$ov/root/tmp/inside.sh <<EOF
set -eu
fail() { echo "FAIL: \$*"; exit 1; }
cd /tmp/debs
echo "+ dpkg -i $(basename "$dkms_deb") $(basename "$ctl_deb")"
dpkg -i ./$(basename "$dkms_deb") ./$(basename "$ctl_deb")
dpkg -s utrace-dkms utracectl | grep -E '^(Package|Status|Version):'
dkms status utrace
dkms status utrace | grep -q "utrace/$version, $kver, x86_64: installed" || fail "dkms: not installed"
modinfo -n utrace
[ "\$(modinfo -n utrace)" = "/lib/modules/$kver/updates/dkms/utrace.ko" ] || fail "depmod does not know DKMS's utrace.ko"

# The packaged utracectl finds DKMS's module by itself.
echo "+ utracectl load"
/usr/bin/utracectl load
/usr/bin/utracectl status
echo "+ utracectl attach --engine count -- sh -c ..."
/usr/bin/utracectl attach --engine count --events syscall,lifecycle --json -- \
	sh -c 'ls / >/dev/null; exit 0' >/tmp/attach.json
cat /tmp/attach.json
grep -q '"exec": 1' /tmp/attach.json || fail "no exec report from the engine"
grep -q '"exit": 1' /tmp/attach.json || fail "no exit report from the engine"
/usr/bin/utracectl serve --once | grep -E '^utrace_module_loaded' | grep -q ' 1\$' ||
	fail "serve --once: module not loaded"
/usr/bin/utracectl unload
[ -f /usr/share/man/man8/utracectl.8.gz ] || fail "no man page"
[ -f /lib/systemd/system/utracectl.service ] || fail "no systemd unit"

echo "+ dpkg -r utracectl utrace-dkms"
dpkg -r utracectl utrace-dkms
[ ! -e /lib/modules/$kver/updates/dkms/utrace.ko ] || fail "removal left the module"
[ ! -e /usr/src/utrace-$version ] || fail "removal left /usr/src/utrace-$version"
[ -z "\$(dkms status utrace)" ] || fail "dkms still knows utrace: \$(dkms status utrace)"
[ ! -e /usr/bin/utracectl ] || fail "removal left /usr/bin/utracectl"
echo "deb-install: installed, loaded, engine attached, removed: ok"
EOF
rc=0
chroot $ov/root /bin/sh /tmp/inside.sh || rc=$?
umount -R $ov/root
exit $rc
