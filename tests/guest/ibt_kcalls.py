#!/usr/bin/env python3
"""In the x86_64 guest: no call from utrace.ko reaches a kernel function
without ENDBR64 through a pointer, and utracectl load refuses a kernel where
one would.

usage: ibt_kcalls.py UTRACECTL MODULE

1. utracectl load: the module's own verdict on this kernel (kmod/kcall.c).
   /sys/module/utrace/parameters/kcalls lists each kernel function it calls,
   "NAME direct|indirect endbr|noendbr" (NAME: SYMBOL, or SYMBOL+OFFSET for
   a target past its start).  Each must be called directly, or
   begin with ENDBR64 in the running kernel (read here from /proc/kcore,
   after the boot's sealing): the module's endbr column must agree with it.
   How many targets have no ENDBR64 is printed: each would be a #CP on an
   IBT CPU if it were called through a pointer.
2. utracectl load ibt_assume_unsafe=1: the module judges as if the CPU
   enforced IBT and no call were direct; with the real targets' bytes it
   must refuse (a target without ENDBR64 exists on every kernel: 6.1's has
   none at all), and utracectl must say why on one line.
"""
import struct
import subprocess
import sys

ENDBR64 = b"\xf3\x0f\x1e\xfa"


def kcore_reader():
    kc = open("/proc/kcore", "rb")
    hdr = kc.read(64)
    phoff, = struct.unpack_from("<Q", hdr, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", hdr, 0x36)
    kc.seek(phoff)
    segs = []
    for _ in range(phnum):
        p = kc.read(phentsize)
        ptype, _flags, off, vaddr, _paddr, filesz = struct.unpack_from("<IIQQQQ", p)
        if ptype == 1:
            segs.append((vaddr, filesz, off))

    def read(addr, n):
        for vaddr, size, off in segs:
            if vaddr <= addr < vaddr + size:
                kc.seek(off + addr - vaddr)
                return kc.read(n)
        return None
    return read


def kallsyms():
    addr = {}
    for line in open("/proc/kallsyms"):
        a, t, n = line.split()[:3]
        if t in "tTwW" and n not in addr:
            addr[n] = int(a, 16)
    return addr


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def main():
    ctl, ko = sys.argv[1], sys.argv[2]
    subprocess.run([ctl, "load", "--no-bpf", "--module", ko], check=True)
    try:
        lines = open("/sys/module/utrace/parameters/kcalls").read().split("\n")
    finally:
        subprocess.run([ctl, "unload"], check=True)
    lines = [l.split() for l in lines if l]
    ibt = [l for l in lines if l[0] == "ibt"]
    calls = [l for l in lines if l[0] != "ibt"]
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
    cpu_ibt = " ibt " in flags + " "
    if ibt != [["ibt", "enforced" if cpu_ibt else "off"]]:
        fail(f"module says {ibt}, /proc/cpuinfo has ibt: {cpu_ibt}")
    if not calls:
        fail("the module lists no kernel function it calls")
    addr, read = kallsyms(), kcore_reader()
    bad, sealed = [], 0
    for name, how, endbr in calls:
        sym, _, off = name.partition("+")  # SYMBOL+OFFSET: a target past the start
        if sym not in addr:
            fail(f"{sym}: not in /proc/kallsyms")
        has = read(addr[sym] + int(off or "0", 16), 4) == ENDBR64
        sealed += not has
        if (endbr == "endbr") != has:
            fail(f"{name}: module says {endbr}, /proc/kcore says "
                 f"{'ENDBR64' if has else 'none'}")
        if how != "direct" and not has:
            bad.append(name)
        print(f"{name:34s} {how:8s} {'ENDBR64' if has else 'no ENDBR64'}")
    direct = sum(how == "direct" for _, how, _ in calls)
    print(f"{len(calls)} kernel functions called, {direct} directly; "
          f"{sealed} have no ENDBR64 in this kernel")
    if bad:
        fail(f"called through a pointer without ENDBR64: {' '.join(bad)}")

    r = subprocess.run([ctl, "load", "--no-bpf", "--module", ko, "ibt_assume_unsafe=1"],
                       capture_output=True, text=True)
    err = r.stderr.strip()
    print(f"utracectl load ibt_assume_unsafe=1 -> {r.returncode}: {err}")
    if r.returncode == 0:
        subprocess.run([ctl, "unload"], check=True)
        fail("the module loaded although it judged its calls unsafe")
    if "refused this kernel" not in err or "ENDBR64" not in err or "\n" in err:
        fail(f"expected a one-line refusal naming IBT, got: {err}")
    if subprocess.run(["grep", "-q", "^utrace ", "/proc/modules"]).returncode == 0:
        fail("the refused module is loaded")
    print("ibt kcalls: all checks passed")


main()
