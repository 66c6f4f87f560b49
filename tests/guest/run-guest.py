#!/usr/bin/env python3
"""Boot a Debian guest kernel in qemu, run one command in it, check its dmesg.

usage: run-guest.py --arch {x86_64,ppc64le} [--kernel {debian,debug}] [--series {6.1,6.12}]
                    [options] -- COMMAND [ARG...]

--series (default: $UTRACE_KERNEL_SERIES, else 6.1) picks the Debian kernel
fetched by scripts/fetch-kernels.sh: 6.1 is Debian 12's, 6.12 the
bookworm-backports one (Debian 13's).  The modules given with --load must be
built for it (scripts/build-kmod.sh ARCH-6.12).

x86_64: the guest mounts this machine's / read-only over 9p and chroots into
it, so COMMAND and every path it names are this machine's own (the build tree,
strace, gdb, ...).  A writable 9p share is mounted at $UTRACE_OUT (see --out).

x86_64 --root-image IMG: the guest boots a Debian system of its own instead
(tests/packaging/fresh-install.sh makes one): IMG, a raw ext4 image, is its
root, writable (the run changes IMG), and the image's own init (systemd) runs;
COMMAND (a path inside the image) runs as a systemd service after
multi-user.target, its output on the console, and the guest powers off after
it.  No 9p share: --load, --out and --gcov are not available.

ppc64le: the guest runs from an initramfs holding a static busybox and the
files named with --file, each at the same absolute path as on this machine,
so the command line reads the same on both arches.

Before COMMAND, each --load module is inserted (insmod) in order; after it, they
are removed in reverse order, and a failed removal fails the run.  Then the
guest's dmesg is checked: WARNING:, BUG:, Oops, lockdep reports, scheduling
while atomic, hung tasks, RCU stalls, soft/hard lockups, KASAN, UBSAN, KFENCE
and kmemleak reports, a kernel general protection fault (a user program's
"traps: ... general protection fault ip:..." is a signal it got, not a kernel
fault, and passes), panics, or any taint other than out-of-tree (O) and
unsigned (E) fail the run.  A guest that panics (oops=panic; panic_on_warn=1
on the debug kernel) is checked on the kernel lines of its console instead.

--kernel debug (x86_64): boot the debug kernel of scripts/build-debug-kernel.sh
(KASAN, lockdep, UBSAN, KFENCE, kmemleak, ...; virtio and 9p built in) with
panic_on_warn=1; kmemleak is scanned after the modules are removed: any
block it suspects that was allocated after the run began (boot's are not the
run's) fails the run.  --gcov DIR copies the guest's /sys/kernel/debug/gcov data (.gcda of
modules built with GCOV_PROFILE, kept after rmmod) into DIR.

Exit status: COMMAND's status when the guest and dmesg are clean; otherwise
  2  usage or setup error (kernel not fetched, file missing)
  3  dmesg check failed         (prints "dmesg check failed: <line>")
  4  module load/unload failed
  5  guest timed out            (prints "guest timed out after N s")
  6  guest ended without reporting a result (crash, panic)
"""
import argparse
import bisect
import gzip
import lzma
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEB_ARCH = {"x86_64": "amd64", "ppc64le": "ppc64el"}
KERNELS = ("debian", "debug")
SERIES = ("6.1", "6.12")

EXIT_SETUP, EXIT_DMESG, EXIT_MODULE, EXIT_TIMEOUT, EXIT_NORESULT = 2, 3, 4, 5, 6

# Kernel log lines that fail a run.  Lockdep reports start with "WARNING:" in
# 6.1 but are listed on their own so a format change is still caught.
DMESG_BAD = [
    r"WARNING:",
    r"BUG:",
    r"Oops",
    r"possible circular locking dependency",
    r"possible recursive locking",
    r"inconsistent lock state",
    r"INFO: lockdep",
    r"scheduling while atomic",
    r"blocked for more than \d+ seconds",
    r"rcu: INFO: .* detected stalls",
    r"rcu_.*self-detected stall",
    r"Kernel panic",
    # A kernel GPF ("general protection fault, probably for non-canonical
    # address ...", "general protection fault: 0000 [#1] ..."), not a user
    # program's "traps: prog[pid] general protection fault ip:.. sp:.. error:0",
    # which is only the SIGSEGV it was sent.
    r"general protection fault(?! ip:)",
    r"kernel BUG at",
    r"list_add corruption|list_del corruption",
    r"refcount_t: ",
    # The debug kernel's detectors (most of them also say BUG: or WARNING:).
    r"BUG: KASAN",
    r"UBSAN:",
    r"KFENCE:",
    r"soft lockup",
    r"hard LOCKUP",
    r"suspicious RCU usage",
    r"ODEBUG:",
    r"DEBUG_LOCKS_WARN_ON",
]
# A kernel log line as the console shows it (PRINTK_TIME): "[   12.345678] ".
CONSOLE_KLOG = re.compile(r"^\[\s*\d+\.\d+\] ?(.*)$")
# Taint bits allowed: O (out-of-tree module, bit 12), E (unsigned, bit 13).
TAINT_ALLOWED = (1 << 12) | (1 << 13)
TAINT_LETTERS = "PFSRMBUDAWCIOELKXTN"

MARK = "@@UTRACE"
KMEMLEAK = "/sys/kernel/debug/kmemleak"
KMEMLEAK_SCAN = f"echo scan > {KMEMLEAK}"


def die(msg, code=EXIT_SETUP):
    print(f"run-guest: {msg}", file=sys.stderr)
    sys.exit(code)


def load_env(arch, kernel="debian", series="6.1"):
    cache = os.environ.get("UTRACE_CACHE", os.path.join(TOP, ".cache"))
    if kernel == "debug":
        path = os.path.join(cache, "kernels", DEB_ARCH[arch] + "-debug.env")
        if not os.path.exists(path):
            die(f"{path} missing: run scripts/build-debug-kernel.sh")
    else:
        path = os.path.join(cache, "kernels", f"{DEB_ARCH[arch]}-{series}.env")
        if series == "6.1" and not os.path.exists(path):
            # A cache filled before fetch-kernels.sh knew series.
            path = os.path.join(cache, "kernels", DEB_ARCH[arch] + ".env")
    if not os.path.exists(path):
        die(f"{path} missing: run scripts/setup.sh (or scripts/fetch-kernels.sh)")
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, val = line.strip().partition("=")
            if key:
                env[key] = val
    return env


def module_closure(modroot, names):
    """Module files (relative to modroot) needed for names, dependencies first.
    A name built into the kernel (modules.builtin; 6.12 has virtio_pci built
    in) needs none."""
    builtin = set()
    builtin_path = os.path.join(modroot, "modules.builtin")
    if os.path.exists(builtin_path):
        with open(builtin_path, encoding="utf-8") as f:
            builtin = {os.path.basename(line.strip()).split(".ko")[0].replace("-", "_")
                       for line in f}
    deps = {}
    with open(os.path.join(modroot, "modules.dep"), encoding="utf-8") as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()
    by_name = {}
    for mod in deps:
        base = os.path.basename(mod).split(".ko")[0].replace("-", "_")
        by_name[base] = mod
    order = []

    def visit(mod):
        if mod in order:
            return
        for dep in reversed(deps[mod]):
            visit(dep)
        order.append(mod)

    for name in names:
        if name in builtin:
            continue
        if name not in by_name:
            die(f"guest kernel has no module {name}")
        visit(by_name[name])
    return order


class Cpio:
    """A newc cpio archive, written in memory (the initramfs)."""

    def __init__(self):
        self.data = bytearray()
        self.ino = 1
        self.dirs = set()

    def _entry(self, name, mode, body=b"", nlink=1):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(
            f"{v:08x}"
            for v in (self.ino, mode, 0, 0, nlink, 0, len(body), 0, 0, 0, 0,
                      len(name_b), 0)
        )
        self.ino += 1
        self.data += hdr.encode() + name_b
        self.data += b"\0" * (-len(self.data) % 4)
        self.data += body
        self.data += b"\0" * (-len(self.data) % 4)

    def mkdir(self, path):
        path = path.strip("/")
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, 0o040755, nlink=2)

    def add_bytes(self, path, body, mode=0o100755):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, mode, body)

    def add_file(self, path, src):
        with open(src, "rb") as f:
            body = f.read()
        self.add_bytes(path, body, 0o100000 | (os.stat(src).st_mode & 0o777))

    def add_symlink(self, path, target):
        path = path.strip("/")
        self.mkdir(os.path.dirname(path))
        self._entry(path, 0o120777, target.encode())

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return gzip.compress(bytes(self.data), compresslevel=1)


def job_script(args):
    """Shell run as the guest's workload: load, run, unload, report."""
    q = shlex.quote
    lines = [
        "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "export HOME=/tmp TMPDIR=/tmp LC_ALL=C.UTF-8 GTEST_COLOR=no",
        f"export UTRACE_ARCH={q(args.arch)} UTRACE_GUEST=1",
        f"export UTRACE_MODULES={q(' '.join(args.load))}",
        # Tests must never block 120 s silently: report hung tasks early.
        "echo 30 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null",
        "modfail=0",
    ]
    if args.kernel == "debug":
        # What boot leaked is not the run's: the run's suspects are those
        # allocated from this jiffy on (a scan here instead would cost a
        # minute per run under TCG).
        lines.append(f"echo \"{MARK}-JIFFIES $(awk '/^jiffies:/ {{print $2; exit}}' "
                     f"/proc/timer_list)@@\"")
    for ko in args.load:
        lines.append(
            f"insmod {q(ko)} || {{ echo '{MARK}-MODFAIL insmod {ko}@@'; modfail=1; }}"
        )
    cmd = " ".join(q(a) for a in args.command)
    lines += [
        f"echo '{MARK}-BEGIN output@@'",
        'if [ "$modfail" = 0 ]; then',
        f"  ( cd {q(args.cwd)} 2>/dev/null || cd /; exec {cmd} ) </dev/null 2>&1",
        "  rc=$?",
        "else rc=255; fi",
        f"echo '{MARK}-END output@@'",
        f'echo "{MARK}-RC $rc@@"',
    ]
    for ko in reversed(args.load):
        name = os.path.basename(ko).split(".ko")[0].replace("-", "_")
        lines.append(
            f"grep -q '^{name} ' /proc/modules && "
            f"{{ rmmod {name} || echo '{MARK}-MODFAIL rmmod {name}@@'; }}"
        )
    if args.kernel == "debug":
        # Two scans: kmemleak reports a block only when it was unreferenced
        # and unchanged (same checksum) in two scans in a row; then the
        # report.
        lines += [
            "echo 'run-guest: kmemleak scans' > /dev/kmsg",
            f"{KMEMLEAK_SCAN}; {KMEMLEAK_SCAN}",
            "echo 'run-guest: kmemleak scans done' > /dev/kmsg",
            f"echo '{MARK}-BEGIN kmemleak@@'",
            f"cat {KMEMLEAK}",
            f"echo '{MARK}-END kmemleak@@'",
        ]
    if args.gcov:
        # gcov_persist=1 (the default) keeps an unloaded module's counters.
        lines.append(
            "( cd /sys/kernel/debug/gcov 2>/dev/null && "
            "find . -name '*.gcda' -exec cp --parents {} \"$UTRACE_OUT/.gcov/\" \\; ) "
            "|| echo 'run-guest: no gcov data in /sys/kernel/debug/gcov'")
        lines.insert(0, 'mkdir -p "$UTRACE_OUT/.gcov"')
    lines += [
        "sync",
        f"echo '{MARK}-BEGIN dmesg@@'",
        "dmesg | cat",  # not a tty: no colours
        f"echo '{MARK}-END dmesg@@'",
        f'echo "{MARK}-TAINT $(cat /proc/sys/kernel/tainted)@@"',
    ]
    return "\n".join(lines) + "\n"


# Both x86_64 inits start alike: busybox, the kernel's file systems, the
# modules of the initramfs (modules.list).
X86_INIT_START = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /host
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.list); do insmod /lib/modules/$m || echo "init: insmod $m failed"; done
"""

X86_INIT = X86_INIT_START + """if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host; then
  echo "@@UTRACE-NOROOT@@"; poweroff -f
fi
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
# The guest's /tmp is a fresh tmpfs; host paths under /tmp that the run needs
# (a build tree there, say) are bound back into it from the host's /tmp.
mkdir -p /hosttmp
mount --bind /host/tmp /hosttmp
mount -t tmpfs tmp /host/tmp
for p in $(cat /tmp-binds.list); do
  mkdir -p "/host/tmp/$p" && mount --bind "/hosttmp/$p" "/host/tmp/$p"
done
mount -t tmpfs run /host/run
mount -t debugfs debugfs /host/sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /host/sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /host/sys/fs/bpf 2>/dev/null
mkdir -p /host/run/utrace-out
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 out /host/run/utrace-out
# Loopback always; with --hostfwd, qemu's user network (10.0.2.0/24).
ip link set lo up
if [ -e /sys/class/net/eth0 ]; then
  ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.2.2
fi
export UTRACE_OUT=/run/utrace-out
cp /job.sh /host/run/job.sh
hostname utrace-guest
chroot /host /bin/sh /run/job.sh
poweroff -f
"""

# --root-image: the image's own systemd boots, and runs the job as a
# service after multi-user.target; no login prompt on the console the run
# reads.
X86_IMAGE_INIT = X86_INIT_START + """if ! mount -t ext4 -o rw /dev/vda /host || [ ! -x /host/lib/systemd/systemd ]; then
  echo "@@UTRACE-NOROOT@@"; poweroff -f
fi
cp /job.sh /host/utrace-job.sh
u=/host/etc/systemd/system
cat > $u/utrace-job.service <<'UNIT'
[Unit]
Description=run-guest.py's command
After=multi-user.target
[Service]
Type=oneshot
StandardInput=null
StandardOutput=tty
StandardError=inherit
TTYPath=/dev/ttyS0
ExecStart=/bin/sh -c '/bin/sh /utrace-job.sh; sync; systemctl poweroff --force --force'
UNIT
mkdir -p $u/multi-user.target.wants
ln -sf ../utrace-job.service $u/multi-user.target.wants/utrace-job.service
for g in serial-getty@ttyS0 getty@tty1; do ln -sf /dev/null $u/$g.service; done
umount /proc /sys /dev
exec switch_root /host /lib/systemd/systemd
"""

PPC_INIT = """#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp /run /sys/kernel/tracing /sys/fs/bpf
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
hostname utrace-guest
sh /job.sh
poweroff -f
"""


def tmp_binds(args):
    """Top folders under /tmp (relative to it) that the x86_64 run needs."""
    paths = [TOP, args.cwd] + args.load + [a for a in args.command if a.startswith("/")]
    if args.out:
        paths.append(os.path.abspath(args.out))
    tops = set()
    for p in paths:
        rel = os.path.relpath(os.path.realpath(p), "/tmp")
        if not rel.startswith(".."):
            tops.add(rel.split("/")[0])
    return sorted(t for t in tops if t != ".")


def build_initramfs(args, env, path):
    cpio = Cpio()
    for d in ("proc", "sys", "dev", "tmp", "run", "host", "sbin", "usr/bin", "usr/sbin"):
        cpio.mkdir(d)
    if args.arch == "x86_64":
        busybox = shutil.which("busybox") or "/bin/busybox"
        if not os.path.exists(busybox):
            die("busybox (static) not installed: run scripts/setup.sh")
        cpio.add_file("bin/busybox", busybox)
        modroot = env["MODROOT"]
        if args.kernel == "debug":
            mods = []  # virtio, 9p and virtio-net are built in
        else:
            if args.root_image:
                # ext4 asks the crypto API for crc32c at mount.
                wanted = ["virtio_pci", "virtio_blk", "crc32c_generic", "ext4"]
            else:
                wanted = ["virtio_pci", "9pnet_virtio", "9p"]
            wanted += (["virtio_net"] if args.hostfwd else []) + args.modprobe
            mods = module_closure(modroot, wanted)
        names = []
        for m in mods:
            src = os.path.join(modroot, m)
            if m.endswith(".xz"):
                # 6.12's modules are xz-compressed: busybox's insmod takes
                # them uncompressed.
                m = m[:-len(".xz")]
                with lzma.open(src) as f:
                    cpio.add_bytes("lib/modules/" + m, f.read(), 0o100644)
            else:
                cpio.add_file("lib/modules/" + m, src)
            names.append(m)
        cpio.add_bytes("modules.list", ("\n".join(names) + "\n").encode(), 0o100644)
        cpio.add_bytes("init", (X86_IMAGE_INIT if args.root_image else X86_INIT).encode())
        cpio.add_bytes("tmp-binds.list", ("\n".join(tmp_binds(args)) + "\n").encode(),
                       0o100644)
    else:
        cpio.add_file("bin/busybox", env["BUSYBOX"])
        cpio.add_bytes("init", PPC_INIT.encode())
        for spec in args.file + args.load:
            src = os.path.realpath(spec)
            if not os.path.isfile(src):
                die(f"--file {spec}: no such file")
            cpio.add_file(os.path.abspath(spec), src)
    cpio.add_bytes("job.sh", job_script(args).encode(), 0o100644)
    with open(path, "wb") as f:
        f.write(cpio.finish())


# The debug kernel's command line: a WARN (and every KASAN, UBSAN, KFENCE
# report) panics, and the panic replays the whole kernel log on the console
# (panic_print bit 5) so that the checker still sees the report's lines.
DEBUG_APPEND = "panic_on_warn=1 panic_print=0x20 kmemleak=on"


# Every guest: an oops panics, and so do the kernel's reports of a kernel
# that no longer progresses (a soft lockup, a task hung past 30 s, an RCU
# stall), each of which fails the run anyway.  The panic ends the guest at
# once (panic=-1 with qemu's -no-reboot) with the report on the console, where
# a livelocked guest would otherwise spin until the run's timeout (7680 s for
# the debug core group) with nothing to show for it.
COMMON_APPEND = "loglevel=4 panic=-1 oops=panic nokaslr softlockup_panic=1 " \
    "hung_task_panic=1 sysctl.kernel.panic_on_rcu_stall=1"


def qemu_command(args, env, initrd, outdir):
    common_append = COMMON_APPEND
    if args.kernel == "debug":
        common_append += " " + DEBUG_APPEND
    if args.arch == "x86_64":
        cmd = [
            "qemu-system-x86_64", "-machine", "q35", "-cpu", "max",
            "-accel", f"tcg,thread={args.tcg}",
            "-m", str(args.memory), "-smp", str(args.smp),
            "-kernel", env["KIMAGE"], "-initrd", initrd,
            "-append", f"console=ttyS0 {common_append} {args.append}",
        ]
        if args.root_image:
            # The image is the run's alone and thrown away after it: the
            # guest's flushes (dpkg syncs each file it unpacks) need not
            # reach the host's disk.
            cmd += ["-drive", f"file={args.root_image},format=raw,if=virtio,cache=unsafe"]
        else:
            cmd += [
                "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,"
                "readonly=on,multidevs=remap",
                "-virtfs", f"local,path={outdir},mount_tag=out,security_model=none",
            ]
        if args.hostfwd:
            fwds = "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}"
                           for h, g in (f.split(":") for f in args.hostfwd))
            cmd += ["-netdev", f"user,id=n0{fwds}", "-device", "virtio-net-pci,netdev=n0"]
    else:
        cmd = [
            "qemu-system-ppc64", "-machine", "pseries", "-cpu", "POWER9",
            "-accel", f"tcg,thread={args.tcg}",
            "-m", str(args.memory), "-smp", str(args.smp),
            "-kernel", env["KIMAGE"], "-initrd", initrd,
            "-append", f"console=hvc0 {common_append} {args.append}",
        ]
    if args.icount is not None:
        # The guest's clocks advance by executed instructions (2^N ns
        # each), not by host time: a loaded host cannot stretch them.
        cmd += ["-icount", f"shift={args.icount},align=off,sleep=off"]
    cmd += ["-nographic", "-no-reboot", "-nodefaults", "-serial", "mon:stdio"]
    # A second monitor, for vcpu_places() when the guest times out.
    cmd += ["-monitor", f"unix:{monitor_path(initrd)},server=on,wait=off"]
    if args.arch == "ppc64le":
        # pseries' console is the hypervisor console on the default vty.
        cmd = [c for c in cmd if c not in ("-nodefaults",)]
        cmd.remove("-serial")
        cmd.remove("mon:stdio")
    return cmd


def monitor_path(initrd):
    """The monitor socket: in the run's temporary folder, beside its
    initramfs (a short path, as a unix socket's must be)."""
    return os.path.join(os.path.dirname(initrd), "monitor.sock")


def hmp(path, command, timeout=10.0):
    """One human monitor command's reply, over qemu's monitor socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sk:
        sk.settimeout(timeout)
        sk.connect(path)
        buf = b""
        for send in (None, command):
            if send is not None:
                sk.sendall(send.encode() + b"\n")
                buf = b""
            while not buf.endswith(b"(qemu) "):
                chunk = sk.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return buf.decode("utf-8", "replace")


def kernel_symbols(env):
    """The guest kernel's text symbols, lines "ADDR TYPE NAME": the debug
    kernel's System.map, else nm of the image where it is an ELF file with
    symbols (ppc64le's vmlinux).  Debian's amd64 packages have neither (the
    System.map in /boot is a placeholder, vmlinuz is compressed): no names."""
    if env.get("SYSTEM_MAP"):
        try:
            with open(env["SYSTEM_MAP"], encoding="utf-8") as f:
                return f.read().splitlines()
        except OSError:
            return []
    try:
        return subprocess.run(["nm", env["KIMAGE"]], capture_output=True, text=True,
                              check=True).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return []


def symbolizer(lines):
    """address -> "symbol+0xoff" from kernel_symbols(), or None where they
    name nothing (a module, user space)."""
    syms = sorted((int(fld[0], 16), fld[2]) for fld in (line.split() for line in lines)
                  if len(fld) == 3 and fld[1] in "tTwW")
    addrs = [a for a, _ in syms]

    def sym(addr):
        i = bisect.bisect_right(addrs, addr) - 1
        if i < 0 or i + 1 >= len(addrs) or addr - addrs[i] > 0x100000:
            return None
        return f"{syms[i][1]}+{addr - addrs[i]:#x}"
    return sym


def vcpu_places(path, arch, env, samples=4):
    """Where each vCPU of a guest that timed out is, sampled a few times half
    a second apart: a guest spinning silently (no report on its console)
    shows the code it spins in.  Lines to print; empty if the monitor does
    not answer."""
    reg = re.compile(r"RIP=([0-9a-f]{16})" if arch == "x86_64" else r"NIP ([0-9a-f]{16})")
    seen = []
    for i in range(samples):
        try:
            seen.append([int(a, 16) for a in reg.findall(hmp(path, "info registers -a"))])
        except OSError:
            break
        if i + 1 < samples:
            time.sleep(0.5)
    if not seen:
        return []
    sym = symbolizer(kernel_symbols(env))
    lines = []
    for n, sample in enumerate(seen):
        where = ", ".join(f"vCPU {c}: {a:#x}" + (f" ({sym(a)})" if sym(a) else "")
                          for c, a in enumerate(sample))
        lines.append(f"sample {n + 1}: {where}")
    return lines


def sections(text):
    """Parse the framed output of job_script()."""
    out = {}
    for name in ("output", "dmesg"):
        m = re.search(rf"{MARK}-BEGIN {name}@@\r?\n(.*?){MARK}-END {name}@@", text, re.S)
        out[name] = m.group(1).replace("\r\n", "\n") if m else None
    # A command that never ended (a hang, a panic): what it printed so far.
    m = re.search(rf"{MARK}-BEGIN output@@\r?\n(.*)", text, re.S)
    out["partial"] = m.group(1).replace("\r\n", "\n") if m and out["output"] is None else None
    m = re.search(rf"{MARK}-RC (\d+)@@", text)
    out["rc"] = int(m.group(1)) if m else None
    m = re.search(rf"{MARK}-TAINT (\d+)@@", text)
    out["taint"] = int(m.group(1)) if m else None
    out["modfail"] = re.findall(rf"{MARK}-MODFAIL (.*?)@@", text)
    m = re.search(rf"{MARK}-BEGIN kmemleak@@\r?\n(.*?){MARK}-END kmemleak@@", text, re.S)
    out["kmemleak"] = m.group(1).replace("\r\n", "\n") if m else None
    m = re.search(rf"{MARK}-JIFFIES (\d+)@@", text)
    out["jiffies"] = int(m.group(1)) if m else None
    return out


def taint_letters(value):
    return "".join(TAINT_LETTERS[i] for i in range(len(TAINT_LETTERS)) if value >> i & 1)


def check_dmesg(dmesg, taint):
    bad = re.compile("|".join(DMESG_BAD))
    problems = [line for line in dmesg.splitlines() if bad.search(line)]
    if taint is not None and taint & ~TAINT_ALLOWED:
        problems.append(f"kernel tainted {taint} ({taint_letters(taint)}): "
                        f"only O and E are allowed")
    return problems


def check_kmemleak(report, since=None):
    """The suspects of /sys/kernel/debug/kmemleak allocated at jiffy `since`
    or later (all if None): one line per object, naming its allocator."""
    problems = []
    obj = None
    for line in (report or "").splitlines():
        if line.startswith("unreferenced object"):
            obj = line.strip()
            continue
        m = re.match(r'\s+comm "(.*)", pid (\d+), jiffies (\d+)', line)
        if obj and m:
            if since is None or int(m.group(3)) >= since:
                problems.append(f"kmemleak: {obj} comm {m.group(1)} pid {m.group(2)}")
            obj = None
    if obj:
        problems.append(f"kmemleak: {obj}")
    return problems


def check_console(text):
    """Bad kernel lines on the console: for a guest that gave no dmesg section
    (a panic; the debug kernel replays its log when it panics).  Only the
    kernel's own timestamped lines count, not the command's output."""
    bad = re.compile("|".join(DMESG_BAD))
    problems = []
    for line in text.replace("\r\n", "\n").splitlines():
        m = CONSOLE_KLOG.match(line)
        if m and bad.search(m.group(1)) and line not in problems:
            problems.append(line)
    return problems


# TCG_DEFAULT: qemu's TCG threading for every guest (--tcg): single-threaded.
#
# qemu 7.2's multi-threaded TCG (Debian 12's) has two faults our guests
# meet; on one host thread (thread=single) neither shows.
#
# ppc64le loses mutual exclusion in a multithreaded process while one of
# its threads forks: two threads hold one pthread mutex ("Assertion
# `mutex->__data.__owner == 0' failed"), the heap is freed twice ("double
# free or corruption"), or a lock is left taken by nobody and the process
# hangs.  Plain Debian kernels show it with no module loaded; the stress
# suite's ThreadedProcessThatForksKeepsMutualExclusion is the reproducer
# (3 of 8 runs failed on multi, 16 of 16 passed on single), and
# DeviceEnginesRaceTargetsThatExitExecCloneAndDie, whose spawner thread
# forks while three controller threads work, died of it about once in ten
# runs (6.1 and 6.12).
#
# x86_64 can keep executing a block it translated from code the guest has
# since rewritten.  The kernel patches its static keys, static calls and
# ftrace sites with text_poke_bp(): int3 first, then the rest, then the
# first byte, each step followed by an IPI to every CPU; a vCPU that runs a
# stale block with the int3 after the patch is complete dies of "Oops:
# int3" (nothing to handle it any more).  Flipping the sched_switch
# tracepoint 300 times (tests/guest/text-poke-stress.sh) kills a 6.12 guest
# that way, with the patching vCPU itself trapping at the new instruction;
# on one host thread the same runs are clean, on 6.1 and 6.12.  6.12
# patches more at boot and at our module's load and unload than 6.1, and
# about 1 in 20 of its ordinary x86_64 boots died of it.  On 6.1 the same
# fault soft-locks both vCPUs: once the module patched text at run time
# (its hooks enabled on demand), a stress run looped for good at
# __x64_sys_wait4+0 -> asm_exc_int3 -> __x64_sys_wait4+1 on both vCPUs,
# the int3 of the wait hook's removal, while its threads polled waitpid().
#
# The debug kernel was long left on multi-threaded TCG, thought twice as
# fast there, because it had never been seen to fault.  It hangs there
# too, silently: text-poke-stress.sh with 300 flips stopped after 50 to
# 150 of them and printed nothing more, no soft lockup report nor any
# other line; and a clean-clone run's debug core group (module load and
# unload, ptrace-backend switches) sat busy for over an hour at 100 % of a
# host core with no progress, its 720 s part timeout never firing.  The
# vCPU samples of a stress run that hung (vcpu_places()) show why nothing
# was printed: vCPU 0 at __schedule+0x3c2, a jump label's nop the flips
# patch, holding the runqueue lock; vCPU 1 in queued_spin_lock_slowpath,
# waiting for it; both with interrupts off.  Single-threaded, two
# clean-clone runs took core 707 and 750 s, attack 781 and 1100 s, ptrace
# 342 and 378 s (multi-threaded, 2026-12-04: 846, 553, 342): the attack
# group, whose fuzzer and stress suite run many threads, is slower, the
# whole run no longer (42 and 43 minutes).
TCG_DEFAULT = "single"


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        usage="%(prog)s --arch {x86_64,ppc64le} [options] -- COMMAND [ARG...]")
    ap.add_argument("--arch", required=True, choices=sorted(DEB_ARCH))
    ap.add_argument("--kernel", choices=KERNELS, default="debian",
                    help="debian: the fetched Debian kernel (default); debug: x86_64 only, "
                         "the debug kernel of scripts/build-debug-kernel.sh")
    ap.add_argument("--series", choices=SERIES,
                    help="--kernel debian: the Debian kernel series, 6.1 (Debian 12) or 6.12 "
                         "(bookworm-backports, Debian 13's) (default: $UTRACE_KERNEL_SERIES, "
                         "else 6.1)")
    ap.add_argument("--gcov", metavar="DIR",
                    help="x86_64: copy the guest's gcov data (.gcda) into DIR after the run")
    ap.add_argument("--timeout", type=int, default=300,
                    help="seconds from qemu start to result (default 300)")
    ap.add_argument("--load", action="append", default=[], metavar="KO",
                    help="insmod this module before COMMAND, rmmod after")
    ap.add_argument("--file", action="append", default=[], metavar="PATH",
                    help="ppc64le: put this file into the initramfs at the same path")
    ap.add_argument("--root-image", metavar="IMG",
                    help="x86_64, Debian kernel: boot this raw ext4 image as the guest's "
                         "writable root with its own systemd; COMMAND is a path in it")
    ap.add_argument("--out", metavar="DIR",
                    help="x86_64: host folder mounted writable at $UTRACE_OUT")
    ap.add_argument("--cwd", default="/", help="working directory of COMMAND")
    ap.add_argument("--memory", type=int,
                    help="MiB (default 1024; 2048 for --kernel debug: KASAN's shadow, kmemleak)")
    ap.add_argument("--smp", type=int, default=2)
    ap.add_argument("--append", default="", help="extra kernel command line")
    ap.add_argument("--icount", type=int, metavar="N",
                    help="qemu -icount shift=N: guest time counts instructions "
                         "(single-threaded TCG)")
    ap.add_argument("--tcg", choices=("multi", "single"), default=TCG_DEFAULT,
                    help="qemu's TCG threading: multi (one host thread per vCPU) or "
                         "single (default: %(default)s; see TCG_DEFAULT)")
    ap.add_argument("--log", metavar="FILE", help="write the whole console log here")
    ap.add_argument("--show-dmesg", action="store_true", help="print the guest dmesg")
    ap.add_argument("--modprobe", action="append", default=[], metavar="MODULE",
                    help="x86_64, Debian kernel: load this module of the kernel (and what it "
                         "needs) at boot, e.g. vhost_net")
    ap.add_argument("--hostfwd", action="append", default=[], metavar="HOSTPORT:GUESTPORT",
                    help="x86_64: give the guest a user-mode NIC (10.0.2.15) and forward "
                    "127.0.0.1:HOSTPORT on this machine to the guest's GUESTPORT (TCP)")
    ap.add_argument("command", nargs="+", help="command run in the guest")
    args = ap.parse_args()
    for fwd in args.hostfwd:
        if args.arch != "x86_64" or not re.fullmatch(r"\d+:\d+", fwd):
            die(f"--hostfwd {fwd}: expected HOSTPORT:GUESTPORT, x86_64 only")

    if args.root_image:
        if args.arch != "x86_64" or args.kernel != "debian":
            die("--root-image: x86_64's Debian kernels only")
        if args.load or args.out or args.gcov:
            die("--root-image: no --load, --out or --gcov (no 9p share)")
        if not os.path.isfile(args.root_image):
            die(f"--root-image {args.root_image}: no such file")
        args.root_image = os.path.abspath(args.root_image)
    if args.modprobe and (args.arch != "x86_64" or args.kernel != "debian"):
        die("--modprobe: x86_64's Debian kernels only")
    if args.kernel == "debug" and args.arch != "x86_64":
        die("--kernel debug: x86_64 only")
    if args.kernel == "debug":
        if args.series not in (None, "6.1"):
            die("--kernel debug: the debug kernel is a 6.1")
        args.series = "6.1"
    elif args.series is None:
        args.series = os.environ.get("UTRACE_KERNEL_SERIES") or "6.1"
        if args.series not in SERIES:
            die(f"UTRACE_KERNEL_SERIES={args.series}: expected one of {', '.join(SERIES)}")
    if args.gcov and args.arch != "x86_64":
        die("--gcov: x86_64 only")
    if args.memory is None:
        args.memory = 2048 if args.kernel == "debug" else 1024
    if args.tcg == "multi" and args.icount is not None:
        die("--icount: qemu runs it on single-threaded TCG only")
    env = load_env(args.arch, args.kernel, args.series)
    args.load = [os.path.abspath(k) for k in args.load]
    for ko in args.load:
        if not os.path.isfile(ko):
            die(f"--load {ko}: no such file")
    qemu = "qemu-system-x86_64" if args.arch == "x86_64" else "qemu-system-ppc64"
    if not shutil.which(qemu):
        die(f"{qemu} not installed: run scripts/setup.sh")

    with tempfile.TemporaryDirectory(prefix="utrace-guest-") as tmp:
        outdir = os.path.abspath(args.out) if args.out else os.path.join(tmp, "out")
        os.makedirs(outdir, exist_ok=True)
        initrd = os.path.join(tmp, "initramfs.cpio.gz")
        build_initramfs(args, env, initrd)
        cmd = qemu_command(args, env, initrd, outdir)
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = False
        places = []
        try:
            raw, _ = proc.communicate(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            places = vcpu_places(monitor_path(initrd), args.arch, env)
            os.killpg(proc.pid, signal.SIGKILL)
            raw, _ = proc.communicate()
        elapsed = time.monotonic() - start
        gcov_src = os.path.join(outdir, ".gcov")
        if args.gcov and os.path.isdir(gcov_src):
            shutil.rmtree(args.gcov, ignore_errors=True)
            shutil.copytree(gcov_src, args.gcov)
        shutil.rmtree(gcov_src, ignore_errors=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", raw.decode("utf-8", "replace"))
    if args.log:
        with open(args.log, "w", encoding="utf-8") as f:
            f.write(text)

    res = sections(text)
    label = f"[{args.arch}{'-debug' if args.kernel == 'debug' else ''}" \
        f"{'-' + args.series if args.series != '6.1' else ''}]"
    if res["output"] is not None:
        sys.stdout.write(res["output"])
    elif res["partial"] is not None:
        # All it printed, so that its own diagnostics (a watchdog's) are
        # not cut to the console's tail.
        print(f"{label} ---- the command's output so far (it did not end) ----")
        sys.stdout.write(res["partial"])
        print(f"{label} ---- end of the output so far ----")
    if args.show_dmesg and res["dmesg"] is not None:
        print(f"{label} ---- guest dmesg ----")
        sys.stdout.write(res["dmesg"])
    tail = "\n".join(text.replace("\r\n", "\n").splitlines()[-40:])
    if res["dmesg"] is None:
        # No dmesg section: a panic or a hang.  The kernel lines the console
        # shows still name what went wrong.
        problems = check_console(text)
        if problems:
            for p in problems:
                print(f"{label} dmesg check failed: {p}")
            why = f"timed out after {args.timeout} s" if timed_out else \
                f"ended without a result after {elapsed:.1f} s"
            print(f"{label} guest {why}; last console lines:\n{tail}")
            for line in places:
                print(f"{label} where the vCPUs were, {line}")
            return EXIT_DMESG
    if timed_out:
        print(f"{label} guest timed out after {args.timeout} s; last console lines:\n{tail}")
        for line in places:
            print(f"{label} where the vCPUs were, {line}")
        return EXIT_TIMEOUT
    if "@@UTRACE-NOROOT@@" in text:
        print(f"{label} guest could not mount the host root over 9p")
        return EXIT_NORESULT
    if res["rc"] is None or res["dmesg"] is None:
        print(f"{label} guest ended without a result after {elapsed:.1f} s; "
              f"last console lines:\n{tail}")
        return EXIT_NORESULT
    problems = check_dmesg(res["dmesg"], res["taint"]) + \
        check_kmemleak(res["kmemleak"], res["jiffies"])
    if problems:
        for p in problems:
            print(f"{label} dmesg check failed: {p}")
        if not args.show_dmesg:
            print(f"{label} ---- guest dmesg ----\n{res['dmesg']}")
        if res["kmemleak"]:
            print(f"{label} ---- guest kmemleak ----\n{res['kmemleak']}")
        return EXIT_DMESG
    if res["modfail"]:
        for m in res["modfail"]:
            print(f"{label} module step failed: {m}")
        return EXIT_MODULE
    print(f"{label} guest exit status {res['rc']}, dmesg clean, {elapsed:.1f} s")
    return res["rc"]


if __name__ == "__main__":
    sys.exit(main())
