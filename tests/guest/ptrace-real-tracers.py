#!/usr/bin/env python3
"""Real tracers give the same output under both ptrace backends (x86_64 guest).

usage: ptrace-real-tracers.py WORKLOAD [--only TOOL]... [--no-normalise] [--show]

With utrace.ko loaded (its parameter ptrace_backend present), runs
  - `strace -f -ff` of WORKLOAD (tests/guest/ptrace_workload.c: fork, exec,
    vfork, signals with handlers, waits), plainly (strace), with
    --seccomp-bpf (strace-seccomp) and with fault and signal injection at
    syscall stops (strace-inject);
  - `strace -p` attaching to WORKLOAD blocked in read(2) (strace-attach),
    and `gdb -p` doing the same (gdb-attach: backtrace, finish out of the
    read once it has its byte, print, detach);
  - gdb on its threads mode (gdb-threads: a breakpoint in a thread, both
    threads stopped, siginfo, an inferior call, thread switch, thread exit);
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
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PARAM = "/sys/module/utrace/parameters/ptrace_backend"
# Pids are made to start high so that they cannot be confused with the other
# small numbers of a trace (sizes, offsets, file descriptors).
PID_BASE = 3000000
PID_RE = re.compile(r"\b(3\d{6})\b")
TIMEOUT = 120

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


# gdb's notes on threads ending, in the run of them just before the process's
# exit: how many it prints (the leader's too, and "[New process N]" when it
# sees the leader go first) depends on the order its waits see the exits in,
# which varies natively from run to run.
EXIT_NOTE = re.compile(r"^\[(Thread 0x[0-9a-f]+ \(LWP \w+\) exited|New process \w+)\]$")
INFERIOR_EXIT = re.compile(r"^\[Inferior \d+ \(process \w+\) exited")


def normalise_gdb(text):
    lines = normalise_pids(text).split("\n")
    out = []
    for line in lines:
        if INFERIOR_EXIT.match(line):
            while out and EXIT_NOTE.match(out[-1]):
                out.pop()
        out.append(line)
    return "\n".join(out)


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


def strace_files(workdir):
    """The -o/-ff files of a run, one section each, by pid."""
    files = sorted((f for f in os.listdir(workdir) if f.startswith("trace")),
                   key=lambda f: int(f.split(".", 1)[1]) if "." in f else 0)
    parts = []
    for f in files:
        with open(os.path.join(workdir, f), encoding="utf-8", errors="replace") as t:
            parts += [f"== process {f.split('.', 1)[1]}" if "." in f else "== trace", t.read()]
    return parts


def status_line(tool, rc, timed_out):
    return f"== {tool} exit status {rc}" + (f" (timed out after {TIMEOUT} s)"
                                             if timed_out else "")


def fresh(workdir):
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)


def strace_transcript(workload, workdir, normalise, extra=()):
    """strace -f -ff of the workload: one section per process, by pid rank."""
    fresh(workdir)
    start_pids_high()
    rc, out, err, timed_out = run(
        ["strace", "-f", "-ff", *extra, "-o", os.path.join(workdir, "trace"), workload],
        workdir)
    parts = [status_line("strace", rc, timed_out), "== workload stdout", out,
             "== strace stderr", err] + strace_files(workdir)
    text = "\n".join(parts)
    return normalise_strace(text) if normalise else text


def strace_seccomp_transcript(workload, workdir, normalise):
    """The same with --seccomp-bpf: syscall stops come from SECCOMP_RET_TRACE
    (PTRACE_EVENT_SECCOMP), the others run untraced."""
    return strace_transcript(workload, workdir, normalise,
                             ["--seccomp-bpf", "-e", "trace=%process,%signal,getppid,write"])


def strace_inject_transcript(workload, workdir, normalise):
    """The same with fault injection, done at syscall stops: getppid and
    access are skipped at their entry stop (syscall number set to -1) and
    given a result at their exit stop (42; EACCES), and SIGUSR1 is sent to
    the tracee at getppid's exit stop."""
    return strace_transcript(workload, workdir, normalise,
                             ["-e", "inject=getppid:retval=42:signal=SIGUSR1",
                              "-e", "inject=access:error=EACCES"])


def wait_until(what, cond, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


def blocked_in_read(pid):
    """Whether pid sleeps in read(2) (x86_64 syscall 0)."""
    try:
        with open(f"/proc/{pid}/syscall", encoding="ascii") as f:
            nr = f.read().split()[0]
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return nr == "0" and state == "S"


def attach_transcript(workload, workdir, normalise, name, tracer_cmd, attached):
    """A tracer attaching to the workload in reader mode, blocked in read(2)
    (started without address randomisation, as gdb would): wait until
    attached(tracer, pid, lines, notes) returns (it may keep the tracer's
    first lines of output in lines), then until the reader is blocked in its
    read again, then give it its byte."""
    fresh(workdir)
    start_pids_high()
    r, w = os.pipe()
    target = subprocess.Popen(["setarch", "x86_64", "-R", workload, "reader"], stdin=r,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=workdir,
                              text=True, start_new_session=True)
    os.close(r)
    tracer = None
    notes = []
    lines = []
    try:
        wait_until("the reader to block in read", lambda: blocked_in_read(target.pid))
        tracer = subprocess.Popen(tracer_cmd(target.pid), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  cwd=workdir, text=True, start_new_session=True)
        attached(tracer, target.pid, lines, notes)
        # Running again, traced or detached: then it is given its byte.
        wait_until("the reader to block in read again", lambda: blocked_in_read(target.pid))
        os.write(w, b"x")
    except TimeoutError as e:
        notes.append(f"== timed out waiting for {e}")
    finally:
        os.close(w)
    rc, rest, timed_out = None, "", False
    if tracer:
        try:
            rest = tracer.communicate(timeout=TIMEOUT)[0]
        except subprocess.TimeoutExpired:
            os.killpg(tracer.pid, signal.SIGKILL)
            rest = tracer.communicate()[0]
            timed_out = True
        rc = tracer.returncode
    try:
        out = target.communicate(timeout=TIMEOUT)[0]
    except subprocess.TimeoutExpired:
        os.killpg(target.pid, signal.SIGKILL)
        out = target.communicate()[0] + "(reader killed: still running)\n"
    parts = [status_line(name, rc, timed_out), f"== reader exit status {target.returncode}",
             "== reader output", out, f"== {name} output", "".join(lines) + rest] + notes
    text = "\n".join(parts + strace_files(workdir))
    return normalise_strace(text) if normalise else text


def said_attached(tracer, pid, lines, notes):
    """Until the tracer's output has a line saying 'attached'."""
    deadline = time.monotonic() + TIMEOUT
    while not lines or "attached" not in lines[-1]:
        ready, _, _ = select.select([tracer.stdout], [], [],
                                    max(0.0, deadline - time.monotonic()))
        line = tracer.stdout.readline() if ready else ""
        if not line:
            notes.append("== the tracer ended or was silent before saying it had attached")
            return
        lines.append(line)


def tracing_stopped(tracer, pid, lines, notes):
    """Until the reader is in a tracing stop (gdb's output is not line-buffered)."""
    def stopped():
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "t"
        except OSError:
            return False
    wait_until("the reader to be in a tracing stop", stopped)


def strace_attach_transcript(workload, workdir, normalise):
    """strace -p: SEIZE + INTERRUPT of a task in an interruptible syscall, the
    restarted read, the rest of the process."""
    return attach_transcript(
        workload, workdir, normalise, "strace -p",
        lambda pid: ["strace", "-o", os.path.join(workdir, "trace"), "-p", str(pid)],
        said_attached)


GDB_ATTACH_SCRIPT = """\
set pagination off
set width 0
set height 0
set confirm off
backtrace
info registers rip
finish
print c
detach
"""


def gdb_attach_transcript(workload, workdir, normalise):
    """gdb -p: ATTACH (SIGSTOP) of a task in an interruptible syscall,
    registers and memory, a breakpoint and single steps (finish) after the
    restarted read returns, DETACH."""
    script = os.path.join(workdir + "-script", "attach.gdb")
    os.makedirs(os.path.dirname(script), exist_ok=True)
    with open(script, "w", encoding="utf-8") as f:
        f.write(GDB_ATTACH_SCRIPT)
    return attach_transcript(
        workload, workdir, normalise, "gdb -p",
        lambda pid: ["gdb", "-batch", "-nx", "-p", str(pid), "-x", script],
        tracing_stopped)


# The inferior call resumes only its thread (scheduler-locking): with every
# thread resumed, main would leave its stop, restart its futex wait and be
# stopped again wherever gdb's SIGSTOP found it -- inside the wait (pc after
# the syscall instruction) or on its way back into it (pc at a line start),
# a race of timing that showed as a one-off difference in "thread 1"'s frame.
GDB_THREADS_SCRIPT = """\
set startup-with-shell off
set pagination off
set width 0
set height 0
set confirm off
break square
run
info threads
backtrace
print x
print $_siginfo.si_signo
print $_siginfo.si_code
delete
set scheduler-locking on
print square(5)
set scheduler-locking off
thread 1
frame function threads
print r
continue
"""


def gdb_threads_transcript(workload, workdir, normalise):
    """gdb on the workload's threads mode: a breakpoint hit in a thread
    (TRACECLONE auto-attach, the other thread stopped too), siginfo, an
    inferior call in the thread, thread switch, exit of the thread."""
    return gdb_transcript(workload, workdir, normalise, GDB_THREADS_SCRIPT, ["threads"])


def gdb_transcript(workload, workdir, normalise, script_text=None, args=()):
    """The scripted gdb session: its stdout and stderr, and the inferior's output."""
    fresh(workdir)
    script = os.path.join(workdir, "session.gdb")
    with open(script, "w", encoding="utf-8") as f:
        f.write(script_text or GDB_SCRIPT)
    start_pids_high()
    rc, out, err, timed_out = run(
        ["gdb", "-batch", "-nx", "-x", script, "--args", workload, *args], workdir)
    text = "\n".join([status_line("gdb", rc, timed_out), "== stdout", out, "== stderr", err])
    return normalise_gdb(text) if normalise else text


TOOLS = {
    "strace": strace_transcript,
    "strace-seccomp": strace_seccomp_transcript,
    "strace-inject": strace_inject_transcript,
    "strace-attach": strace_attach_transcript,
    "gdb": gdb_transcript,
    "gdb-threads": gdb_threads_transcript,
    "gdb-attach": gdb_attach_transcript,
}


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
    differ = []
    for tool in tools:
        if args.show:
            for backend in ("native", "utrace"):
                print(f"---- {tool} under {backend} ----")
                print(transcripts[(tool, backend)])
        if not compare(tool, transcripts[(tool, "native")], transcripts[(tool, "utrace")]):
            differ.append(tool)
    shutil.rmtree(base, ignore_errors=True)
    print(f"real tracers: {len(tools) - len(differ)} matched, {len(differ)} differed"
          + (f" ({', '.join(differ)})" if differ else ""))
    ok = ok and not differ
    print("real tracers: " + ("same output under both backends" if ok else "DIFFERENCES"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
