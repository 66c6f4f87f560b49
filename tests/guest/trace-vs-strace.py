#!/usr/bin/env python3
"""utracectl trace against strace on one workload (x86_64 guest).

usage: trace-vs-strace.py UTRACECTL [--utrace-arg ARG]... [--show]

With utrace.ko loaded, runs tests/guest/trace-workload.sh (a shell that
makes and removes files and a directory, runs cat, ls, cp, rm, rmdir: opens
found and not, reads, writes, stats, forks and execs) under
  strace -f -o A -- sh trace-workload.sh
  utracectl trace -f -o B -- sh trace-workload.sh
and compares, process by process (pids numbered by first appearance), the
lines of the system calls both decode (COMPARED below) and the
`+++ exited with N +++` lines:
  - <unfinished ...> / <... NAME resumed> pairs are joined first;
  - an argument utracectl shows as an address (a buffer or struct strace
    prints the contents of: read's and write's data, stat's struct, the
    environment's /* N vars */) is masked in both, as is a hex return value
    (mmap, brk): those vary with ASLR;
  - the run's pids become P1, P2, ... in both.
Everything else must be equal: names, file descriptors, flags, paths, argv,
sizes, return values and errno names.  Any difference (or a lost record,
or a tracer that fails) fails the run and prints the diff.

--utrace-arg passes extra arguments to utracectl trace; `--utrace-arg=-s4`
cuts argv strings at 4 bytes where strace cuts at 32, which must be caught
(guest.x86_64.trace_vs_strace_detect_difference).

Exit status: 0 equal, 1 a difference, 2 setup error.
"""
import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "trace-workload.sh")
TIMEOUT = 60
# Pids start high (as in ptrace-real-tracers.py) so that a pid cannot be
# taken for a size or an fd: only 7-digit numbers from 3000000 on are
# renamed.
PID_BASE = 3000000

# What utracectl decodes by type (controller/trace/decode.cpp) and the
# workload makes; other calls (clone, wait4, rt_sigaction, ioctl, ...) are
# shown by utracectl with raw arguments and not compared.  Not getppid:
# the first process's parent is the tracer, not in the trace.
COMPARED = {
    "openat", "open", "close", "read", "write", "pread64", "mmap", "munmap", "mprotect",
    "brk", "newfstatat", "access", "faccessat", "faccessat2", "execve", "exit_group",
    "lseek", "dup", "dup2", "getcwd", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir",
    "chdir", "readlink", "getdents64", "getpid", "getuid", "geteuid", "getgid",
    "getegid", "fstatfs", "statfs", "fchdir", "ftruncate",
}

LINE_RE = re.compile(r"^(\d+)\s+(.*)$")
RESUMED_RE = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
CALL_RE = re.compile(r"^(\w+)\((.*)\)\s+= (.*)$")
ADDR_RE = re.compile(r"^0x[0-9a-f]+( /\* \d+ (vars?|entries) \*/)?$")
# Data buffers strace shows as strings: masked when utracectl shows the
# address.  Elsewhere a string or array of strings strace shows must be
# one utracectl shows too (the kernel captured it).
BUFFERS = {("read", 1), ("write", 1), ("pread64", 1), ("getcwd", 0), ("readlink", 1)}


def split_args(s):
    """Top-level comma split of an argument list (quotes, brackets)."""
    out, depth, cur, quoted, esc = [], 0, "", False, False
    for c in s:
        if quoted:
            cur += c
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                quoted = False
            continue
        if c == '"':
            quoted = True
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += c
    if cur.strip():
        out.append(cur.strip())
    return out


def parse(text):
    """{pid: [line]} with unfinished/resumed joined, signals dropped."""
    procs, pending, order = {}, {}, []
    for raw in text.splitlines():
        m = LINE_RE.match(raw)
        if not m:
            continue
        pid, body = m.group(1), m.group(2)
        if pid not in procs:
            procs[pid] = []
            order.append(pid)
        if body.endswith(" <unfinished ...>"):
            pending[pid] = body[: -len(" <unfinished ...>")]
            continue
        r = RESUMED_RE.match(body)
        if r:
            body = pending.pop(pid, r.group(1) + "(") + r.group(2)
        if body.startswith("---"):
            continue
        procs[pid].append(body)
    return procs, order


def calls(lines):
    """(name, [args], ret) of the compared calls, and the +++ lines."""
    out = []
    for body in lines:
        if body.startswith("+++"):
            out.append(("+++", [], body))
            continue
        m = CALL_RE.match(body)
        if not m or m.group(1) not in COMPARED:
            continue
        out.append((m.group(1), split_args(m.group(2)), m.group(3)))
    return out


def pid_map(order):
    return {pid: f"P{i + 1}" for i, pid in enumerate(order)}


def start_pids_high():
    """Make the next pids PID_BASE+1, ... (raising pid_max if needed)."""
    with open("/proc/sys/kernel/pid_max", encoding="ascii") as f:
        if int(f.read()) <= PID_BASE + 100000:
            with open("/proc/sys/kernel/pid_max", "w", encoding="ascii") as w:
                w.write(str(4 * 1024 * 1024))
    with open("/proc/sys/kernel/ns_last_pid", "w", encoding="ascii") as f:
        f.write(str(PID_BASE))


def render(name, args, ret, pids):
    def sub(s):
        return re.sub(r"\b(3\d{6})\b", lambda m: pids.get(m.group(1), m.group(1)), s)
    if name == "+++":
        return ret
    return f"{name}({', '.join(sub(a) for a in args)}) = {sub(ret)}"


def compare(strace_text, utrace_text):
    s_procs, s_order = parse(strace_text)
    u_procs, u_order = parse(utrace_text)
    s_pids, u_pids = pid_map(s_order), pid_map(u_order)
    left, right, compared = [], [], 0
    for i in range(max(len(s_order), len(u_order))):
        s_calls = calls(s_procs[s_order[i]]) if i < len(s_order) else []
        u_calls = calls(u_procs[u_order[i]]) if i < len(u_order) else []
        left.append(f"== process P{i + 1}")
        right.append(f"== process P{i + 1}")
        for j in range(max(len(s_calls), len(u_calls))):
            s = s_calls[j] if j < len(s_calls) else None
            u = u_calls[j] if j < len(u_calls) else None
            if s and u and s[0] == u[0] and len(s[1]) == len(u[1]):
                # Mask what utracectl shows as an address, in both.
                sa, ua = list(s[1]), list(u[1])
                for k, a in enumerate(ua):
                    if ADDR_RE.match(a) and ((s[0], k) in BUFFERS
                                             or not sa[k].startswith(('"', '['))):
                        sa[k] = ua[k] = "ADDR"
                sr, ur = s[2], u[2]
                if ADDR_RE.match(ur) and ADDR_RE.match(sr):
                    sr = ur = "ADDR"
                s, u = (s[0], sa, sr), (u[0], ua, ur)
                compared += 1
            if s:
                left.append(render(*s, s_pids))
            if u:
                right.append(render(*u, u_pids))
    return left, right, compared


def run(cmd):
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"TIMEOUT: {' '.join(cmd)}")
        return None
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("utracectl")
    ap.add_argument("--utrace-arg", action="append", default=[])
    ap.add_argument("--show", action="store_true")
    a = ap.parse_args()
    if not os.path.exists("/dev/utrace"):
        print("setup: /dev/utrace missing (load utrace.ko)")
        return 2
    work = tempfile.mkdtemp(prefix="trace-vs-strace.")
    a_file, b_file = os.path.join(work, "strace.out"), os.path.join(work, "utrace.out")
    cmd = ["sh", WORKLOAD]
    start_pids_high()
    s = run(["strace", "-f", "-o", a_file, "--"] + cmd)
    start_pids_high()
    u = run([a.utracectl, "trace", "-f", "-o", b_file] + a.utrace_arg + ["--"] + cmd)
    if s is None or u is None:
        return 1
    print(f"strace: exit {s.returncode}; utracectl trace: exit {u.returncode}")
    bad = False
    # The workload exits 3: both must pass its status on.
    if s.returncode != 3 or u.returncode != 3:
        print(f"MISMATCH exit status: strace {s.returncode}, utracectl {u.returncode}, "
              "workload 3")
        print(s.stderr[-2000:], u.stderr[-2000:])
        bad = True
    if "lost" in u.stderr:
        print(f"utracectl lost records: {u.stderr.strip()}")
        bad = True
    with open(a_file) as f:
        strace_text = f.read()
    with open(b_file) as f:
        utrace_text = f.read()
    if a.show:
        print("---- strace\n" + strace_text + "---- utracectl trace\n" + utrace_text)
    left, right, compared = compare(strace_text, utrace_text)
    lines = sum(1 for x in left if not x.startswith("=="))
    print(f"compared {compared} system call lines ({lines} strace lines kept) "
          f"in {sum(1 for x in left if x.startswith('=='))} processes")
    if compared < 50:
        print("MISMATCH: too few lines compared: the workload or the parser broke")
        bad = True
    if left != right:
        print("MISMATCH strace (-) vs utracectl trace (+):")
        sys.stdout.writelines(difflib.unified_diff(
            [x + "\n" for x in left], [x + "\n" for x in right], "strace", "utracectl",
            n=2))
        bad = True
    print("trace vs strace: " + ("DIFFERENCES" if bad else "equal"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
