#!/bin/sh
# Inside the fresh Debian 12 guest of tests/packaging/fresh-install.sh, as
# root, run by systemd: README's install block, then its uninstall block,
# each line as it stands in README (/root/readme-install,
# /root/readme-uninstall) in root's shell (bash) in /root, where the two
# packages are.  Every line must exit 0; what README says a line does is
# checked after it, and the machine's state after each block.
set -eu
fail() {
	echo "FAIL: $*"
	exit 1
}
kver=$(uname -r)
cd /root
[ "$(cat /proc/1/comm)" = systemd ] || fail "the guest's init is $(cat /proc/1/comm), not systemd"
version=$(dpkg-deb -f utrace-dkms_*.deb Version)
ko=/lib/modules/$kver/updates/dkms/utrace.ko
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
loaded() { grep -q '^utrace ' /proc/modules; }

# A fresh machine: none of it there before.
for p in "linux-headers-$kver" dkms gcc utrace-dkms utracectl; do
	! installed "$p" || fail "$p is installed before README's commands"
done
[ -d "/lib/modules/$kver/kernel" ] || fail "the running kernel's package is not installed"
echo "fresh Debian $(cat /etc/debian_version), kernel $kver, init systemd, apt source: $(cat /etc/apt/sources.list)"

# utracectl.service listens on 127.0.0.1:9477 (0100007F:2505 in
# /proc/net/tcp, state 0A) once it has started: systemctl returns when it
# was started (Type=simple), so this waits for the socket, 60 s at most.
wait_listen() {
	i=0
	until grep -q ' 0100007F:2505 00000000:0000 0A ' /proc/net/tcp; do
		i=$((i + 1))
		[ $i -le 600 ] || fail "utracectl.service not listening on 127.0.0.1:9477 after 60 s"
		sleep 0.1
	done
}
metrics() {
	bash -c 'exec 3<>/dev/tcp/127.0.0.1/9477 &&
		printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3'
}

# What README says each line does.
check_line() { # check_line LINE OUTPUT_FILE
	case $1 in
	"apt install linux-headers-"*)
		installed "linux-headers-$kver" || fail "linux-headers-$kver not installed"
		[ -f "/lib/modules/$kver/build/Makefile" ] || fail "/lib/modules/$kver/build has no kernel Makefile"
		;;
	"apt install ./utrace-dkms_"*)
		installed utrace-dkms || fail "utrace-dkms not installed"
		installed utracectl || fail "utracectl not installed"
		# DKMS compiled the module here, for this kernel (DKMS 3 keeps
		# the build's log beside the module it built).
		log=/var/lib/dkms/utrace/$version/$kver/x86_64/log/make.log
		[ -f "$log" ] || fail "no DKMS build log $log"
		grep -q 'CC \[M\].*utrace' "$log" || fail "DKMS's build log shows no compilation: $(tail -5 "$log")"
		[ -f "$ko" ] || fail "$ko not installed"
		vm=$(modinfo -F vermagic "$ko")
		[ "${vm%% *}" = "$kver" ] || fail "$ko has vermagic '$vm', not $kver"
		[ "$(modinfo -n utrace)" = "$ko" ] || fail "depmod does not know DKMS's utrace.ko"
		;;
	"dkms status utrace"*)
		grep -q "^utrace/$version, $kver, x86_64: installed" "$2" || fail "dkms status does not say installed"
		;;
	"utracectl load"*)
		loaded || fail "utrace is not in /proc/modules"
		;;
	"utracectl status"*)
		[ -s "$2" ] || fail "utracectl status printed nothing"
		;;
	"utracectl attach "*)
		[ -s "$2" ] || fail "utracectl attach printed nothing"
		grep -q 'bin' "$2" || fail "the command under the engine (ls /) printed no /bin"
		;;
	"systemctl enable --now utracectl"*)
		[ "$(systemctl is-enabled utracectl)" = enabled ] || fail "utracectl.service not enabled"
		[ "$(systemctl is-active utracectl)" = active ] || fail "utracectl.service not active"
		wait_listen
		metrics >/tmp/metrics
		grep -q '^utrace_module_loaded 1' /tmp/metrics ||
			fail "http://127.0.0.1:9477/metrics: no utrace_module_loaded 1: $(head -20 /tmp/metrics)"
		echo "(checked: http://127.0.0.1:9477/metrics serves utrace_module_loaded 1)"
		;;
	"systemctl disable --now utracectl"*)
		! systemctl -q is-active utracectl || fail "utracectl.service still active"
		! systemctl -q is-enabled utracectl || fail "utracectl.service still enabled"
		;;
	"utracectl unload"*)
		! loaded || fail "utrace still in /proc/modules"
		;;
	"apt remove "*)
		! installed utracectl || fail "utracectl still installed"
		! installed utrace-dkms || fail "utrace-dkms still installed"
		;;
	*) ;;
	esac
}

ran=0
run_block() { # run_block FILE
	n=0
	while IFS= read -r line; do
		case $line in "" | "#"*) continue ;; esac
		n=$((n + 1))
		echo "+ $line"
		rc=0
		bash -c "$line" </dev/null >/tmp/line.out 2>&1 || rc=$?
		cat /tmp/line.out
		[ $rc -eq 0 ] || fail "README line exited $rc: $line"
		check_line "$line" /tmp/line.out
		ran=$((ran + 1))
	done <"$1"
}

echo "==== README: install"
run_block /root/readme-install
loaded || fail "after README's install block utrace is not loaded"
systemctl -q is-active utracectl || fail "after README's install block utracectl.service is not active"

echo "==== README: uninstall"
run_block /root/readme-uninstall
! loaded || fail "after README's uninstall block utrace is still loaded"
[ ! -e "$ko" ] || fail "removal left $ko"
[ ! -e "/usr/src/utrace-$version" ] || fail "removal left /usr/src/utrace-$version"
[ -z "$(dkms status utrace)" ] || fail "dkms still knows utrace: $(dkms status utrace)"
[ ! -e /usr/bin/utracectl ] || fail "removal left /usr/bin/utracectl"
! systemctl cat utracectl >/dev/null 2>&1 || fail "utracectl.service still known to systemd"
echo "fresh-install: README's $ran lines ran word for word on fresh Debian $(cat /etc/debian_version): ok"
