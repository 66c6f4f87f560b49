#!/usr/bin/env python3
"""Real tracers give the same output under both ptrace backends (x86_64 guest).

usage: ptrace-real-tracers.py WORKLOAD [--only strace|gdb] [--no-normalise]

With utrace.ko loaded (its parameter ptrace_backend present), runs
  - `strace -f -ff` of WORKLOAD (tests/guest/ptrace_workload.c: fork, exec,
    vfork, signals with handlers, waits), and
  - a scripted gdb batch session on it (breakpoint, next, print, finish, a
    signal stop, a hardware watchpoint hit in the signal handler, a syscall
    catchpoint, stepi, continue to exit),
first under the kernel's own ptrace (ptrace_backend=N), then under utrace's
(ptrace_backend=Y).  Each transcript is normalised (pids, randomised
addresses, getrandom bytes, CPU times: what legitimately varies from run to
run) and the two are diffed; any difference fails the run, with the unified
diff printed.  The backend is switched back to N at the end, whatever
happened; if that is refused, tracees were left behind, which fails too.

--no-normalise compares the raw transcripts: that must fail (addresses are
randomised), which shows that a difference is caught.

Exit status: 0 all match, 1 a difference (or a tool timed out, or the switch
failed), 2 setup error.
"""
import argparse
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

PARAM = "/sys/module/utrace/parameters/ptrace_backend"
# Pids are made to start high so that they cannot be confused with the other
# small numbers of a trace (sizes, offsets, file descriptors).
PID_BASE = 3000000
PID_RE = re.compile(r"\b(3\d{6})\b")
TIMEOUT = 240

GDB_SCRIPT = """\
set startup-with-shell off
set pagination off
set width 0
set height 0
set confirm off
break square
run
info args
next
print y
print x * 2
finish
next
print value
continue
backtrace
break on_usr1
continue
print sig
watch got
continue
delete
catch syscall write
continue
continue
delete
stepi
info registers rip
x/2i $pc
continue
"""


def normalise_pids(text):
    """Pids by rank (P0 is the lowest), whatever the run's numbering."""
    pids = sorted(set(PID_RE.findall(text)), key=int)
    labels = {p: f"P{i}" for i, p in enumerate(pids)}
    return PID_RE.sub(lambda m: labels[m.group(1)], text)


def normalise_strace(text):
    text = normalise_pids(text)
    # Addresses: mmap results, brk, stack and handler pointers (ASLR).  Short
    # hex numbers (offsets, flags) stay.
    text = re.sub(r"\b0x[0-9a-f]{8,}\b", "0xADDR", text)
    # getrandom's bytes (glibc's malloc seeds its tcache with them).
    text = re.sub(r'getrandom\("(\\x[0-9a-f]{2})*"', 'getrandom("BYTES"', text)
    # CPU times in SIGCHLD's siginfo and in wait4's rusage.
    text = re.sub(r"\b(si_utime|si_stime)=\d+( /\* [0-9.]+ s \*/)?", r"\1=N", text)
    text = re.sub(r"\b(ru_utime|ru_stime)=\{tv_sec=\d+, tv_usec=\d+\}", r"\1=T", text)
    return text


def normalise_gdb(text):
    return normalise_pids(text)


def set_backend(value):
    with open(PARAM, "w", encoding="ascii") as f:
        f.write(value)


def get_backend():
    with open(PARAM, encoding="ascii") as f:
        return f.read().strip()


def start_pids_high():
    """Make the next pids PID_BASE+1, ... (raising pid_max if needed)."""
    with open("/proc/sys/kernel/pid_max", encoding="ascii") as f:
        if int(f.read()) <= PID_BASE + 100000:
            with open("/proc/sys/kernel/pid_max", "w", encoding="ascii") as w:
                w.write(str(4 * 1024 * 1024))
    with open("/proc/sys/kernel/ns_last_pid", "w", encoding="ascii") as f:
        f.write(str(PID_BASE))


def run(cmd, cwd):
    """Run cmd in its own process group: (status, stdout, stderr, timed_out)."""
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, start_new_session=True, text=True,
                         errors="replace")
    try:
        out, err = p.communicate(timeout=TIMEOUT)
        return p.returncode, out, err, False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return p.returncode, out, err, True


def strace_transcript(workload, workdir, normalise):
    """strace -f -ff of the workload: one section per process, by pid rank."""
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    start_pids_high()
    rc, out, err, timed_out = run(
        ["strace", "-f", "-ff", "-o", os.path.join(workdir, "trace"), workload], workdir)
    parts = [f"== strace exit status {rc}" + (f" (timed out after {TIMEOUT} s)"
                                                if timed_out else ""),
             "== workload stdout", out, "== strace stderr", err]
    files = sorted((f for f in os.listdir(workdir) if f.startswith("trace.")),
                   key=lambda f: int(f.split(".", 1)[1]))
    for f in files:
        with open(os.path.join(workdir, f), encoding="utf-8", errors="replace") as t:
            parts += [f"== process {f.split('.', 1)[1]}", t.read()]
    text = "\n".join(parts)
    return normalise_strace(text) if normalise else text


def gdb_transcript(workload, workdir, normalise):
    """The scripted gdb session: its stdout and stderr, and the inferior's output."""
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    script = os.path.join(workdir, "session.gdb")
    with open(script, "w", encoding="utf-8") as f:
        f.write(GDB_SCRIPT)
    start_pids_high()
    rc, out, err, timed_out = run(
        ["gdb", "-batch", "-nx", "-x", script, "--args", workload], workdir)
    text = "\n".join([f"== gdb exit status {rc}" + (f" (timed out after {TIMEOUT} s)"
                                                     if timed_out else ""),
                      "== stdout", out, "== stderr", err])
    return normalise_gdb(text) if normalise else text


TOOLS = {"strace": strace_transcript, "gdb": gdb_transcript}


def compare(name, native, utrace):
    """Print the diff; whether the transcripts are the same."""
    diff = list(difflib.unified_diff(native.splitlines(), utrace.splitlines(),
                                     f"{name} (native ptrace)", f"{name} (utrace backend)",
                                     lineterm="", n=4))
    if not diff:
        print(f"MATCH {name}: {len(native.splitlines())} lines the same under both backends")
        return True
    print(f"MISMATCH {name}: the transcripts differ under the utrace backend")
    print("\n".join(diff))
    return False


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", help="the ptrace_workload binary (built with -g)")
    ap.add_argument("--only", choices=sorted(TOOLS), action="append",
                    help="run only this tool (repeatable)")
    ap.add_argument("--no-normalise", action="store_true",
                    help="compare raw transcripts (must fail: shows differences are caught)")
    ap.add_argument("--show", action="store_true", help="print each normalised transcript")
    args = ap.parse_args()

    if not os.path.exists(PARAM):
        print(f"setup: {PARAM} missing (load a utrace.ko with the ptrace backend)")
        return 2
    for tool in ("strace", "gdb"):
        if not shutil.which(tool):
            print(f"setup: {tool} not installed")
            return 2
    workload = os.path.realpath(args.workload)
    tools = args.only or list(TOOLS)
    base = tempfile.mkdtemp(prefix="real-tracers-")
    transcripts = {}
    ok = True
    try:
        for backend, value in (("native", "N"), ("utrace", "Y")):
            set_backend(value)
            print(f"ptrace_backend={get_backend()}: running {', '.join(tools)}", flush=True)
            for tool in tools:
                transcripts[(tool, backend)] = TOOLS[tool](
                    workload, os.path.join(base, f"{tool}-{backend}"), not args.no_normalise)
    finally:
        try:
            set_backend("N")
        except OSError as e:
            print(f"FAIL: switching ptrace_backend back to N: {e} (tracees left behind?)")
            ok = False
    for tool in tools:
        if args.show:
            for backend in ("native", "utrace"):
                print(f"---- {tool} under {backend} ----")
                print(transcripts[(tool, backend)])
        ok = compare(tool, transcripts[(tool, "native")], transcripts[(tool, "utrace")]) and ok
    shutil.rmtree(base, ignore_errors=True)
    print("real tracers: " + ("same output under both backends" if ok else "DIFFERENCES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
