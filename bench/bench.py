#!/usr/bin/env python3
"""Run the performance suite (utrace_bench) in the guests, write its results,
and gate them against the stored baseline.

usage: bench.py --build DIR [--quick] [--arch x86_64|ppc64le|all] [--series 6.1|6.12]
                [--no-gate | --update-baseline] [--out DIR] [--only B1,B7,...]

For each arch: boots the guest through tests/guest/run-guest.py, runs
utrace_bench (which loads and unloads utrace.ko itself), and writes
OUT/<kernel>-<mode>.json (the run's ratios plus the host it ran on) and
OUT/<kernel>-<mode>.md (the table).  Then, unless --no-gate, compares with
bench/baseline/<kernel>.json (see gate.py) and exits 1 on a regression;
--update-baseline stores the run as the new baseline for its mode instead.
<kernel> is the arch on Debian's 6.1 (x86_64, ppc64le: the module of
build/kmod/<arch>) and <arch>-6.12 on 6.12 (--series 6.12: the module of
build/kmod/<arch>-6.12, the guest booted with run-guest.py --series 6.12):
each kernel series has its own baselines, as their costs differ.
OUT defaults to DIR/bench-results.
"""
import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gate  # noqa: E402

ARCHES = ("x86_64", "ppc64le")
TIMEOUT = {"quick": 600, "full": 2400}


def host_description():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    qemu = ""
    try:
        out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                             text=True, check=False).stdout
        qemu = out.splitlines()[0] if out else ""
    except OSError:
        pass
    return {"host_cpu": model, "host_cores": os.cpu_count(), "host": platform.node(),
            "qemu": qemu, "accel": "TCG (no KVM)",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}


def kernel_name(arch, series):
    """The module's build folder, the baseline's and results' name."""
    return arch if series == "6.1" else f"{arch}-{series}"


def guest_command(arch, build, quick, clock, series="6.1", only=None, compare=None):
    run_guest = os.path.join(TOP, "tests", "guest", "run-guest.py")
    if arch == "x86_64":
        binary = os.path.join(build, "bench", "utrace_bench")
        utracectl = os.path.join(build, "controller", "utracectl")
    else:
        binary = os.path.join(build, "ppc64le", "bench", "utrace_bench")
        utracectl = os.path.join(build, "ppc64le", "controller", "utracectl")
    ko = os.path.join(build, "kmod", kernel_name(arch, series), "utrace.ko")
    for path in (binary, ko, utracectl):
        if not os.path.isfile(path):
            sys.exit(f"bench: {path} missing: build first (cmake --build {build})")
    mode = "quick" if quick else "full"
    # One vCPU: a tracer and its tracee take turns on it instead of waking
    # a halted second vCPU, whose host thread a loaded host may not run for
    # milliseconds.  icount: the guest clock counts executed instructions
    # (1 ns each), so the guest's timings no longer depend on the host.
    cmd = [sys.executable, run_guest, "--arch", arch, "--series", series, "--smp", "1",
           "--timeout", str(TIMEOUT[mode])]
    if clock == "icount":
        cmd += ["--icount", "0"]
    if arch == "ppc64le":
        cmd += ["--file", binary, "--file", ko, "--file", utracectl]
        cmd += ["--file", compare] if compare else []
    cmd += ["--", binary, "--module", ko, "--utracectl", utracectl, "--clock", clock]
    cmd += (["--quick"] if quick else []) + (["--only", only] if only else [])
    cmd += ["--compare-module", compare] if compare else []
    return cmd


def extract(output):
    m = re.search(r"@@BENCH-JSON-BEGIN@@\s*\n(.*?)\n\s*@@BENCH-JSON-END@@", output, re.S)
    if not m:
        return None
    # Kernel messages may interleave on the console: take the JSON line.
    for line in m.group(1).splitlines():
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    return None


def fmt(v, spec=".3f"):
    return "-" if v is None else format(v, spec)


def table(result):
    """The run as a Markdown table."""
    clock = result.get("clock", "host")
    rows = [f"| benchmark | ratio | target | basis | {clock} ratio [q1, q3] | PMU instructions "
            "| what |",
            "|---|---|---|---|---|---|---|"]
    for r in result["ratios"]:
        target = "-"
        if r.get("target") is not None:
            target = ("≤ " if r["better"] == "lower" else "≥ ") + format(r["target"], "g")
        if r["status"] == "measured":
            ratio = fmt(r["value"])
            wall = f"{fmt(r['wall'])} [{fmt(r['wall_q1'], '.2f')}, {fmt(r['wall_q3'], '.2f')}]"
            basis = r["basis"]
        else:
            ratio, wall, basis = r["status"], "-", "-"
        instr = fmt(r.get("instructions"))
        what = r.get("title", "")
        if r.get("note"):
            what += f" — {r['note']}"
        rows.append(f"| {r['id']} | {ratio} | {target} | {basis} | {wall} | {instr} | {what} |")
    return "\n".join(rows) + "\n"


def update_baseline(path, result, merge=None):
    """Store @result as its mode's baseline; @merge (--only's list, a run of
    some benchmarks): replace only the ratios it has, keep the others."""
    data = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    keep = ("value", "basis", "wall", "instructions", "better", "target", "status")
    data["arch"] = result["arch"]
    ratios = {r["id"]: {k: r.get(k) for k in keep} for r in result["ratios"]}
    section = {"recorded": result["host"], "ratios": ratios}
    if merge and result["mode"] in data:
        # The other ratios keep their run's "recorded"; this one's is
        # under "recorded_only", by the benchmarks it ran.
        section = data[result["mode"]]
        section["ratios"] = {**section.get("ratios", {}), **ratios}
        section.setdefault("recorded_only", {})[merge] = result["host"]
    data[result["mode"]] = section
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")


def run_arch(arch, args):
    mode = "quick" if args.quick else "full"
    if args.clock == "host":
        mode += "-host"
    cmd = guest_command(arch, args.build, args.quick, args.clock, args.series, args.only,
                        args.compare_module)
    kernel = kernel_name(arch, args.series)
    print(f"bench: {kernel} {mode}: {' '.join(cmd)}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    out = proc.stdout + proc.stderr
    sys.stdout.write("".join(line + "\n" for line in out.splitlines()
                             if not line.startswith("{")))
    result = extract(out)
    if result is None:
        print(f"bench: {arch}: no results (guest exit status {proc.returncode})")
        return False
    result["arch"] = arch  # uname says ppc64le / x86_64 already; be explicit
    result["mode"] = mode  # quick or full, "-host" without icount
    result["series"] = args.series
    result["host"] = host_description()
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"{kernel}-{mode}")
    with open(stem + ".json", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    with open(stem + ".md", "w", encoding="utf-8") as f:
        f.write(table(result))
    print(f"bench: wrote {stem}.json and {stem}.md")
    ok = proc.returncode == 0
    if not ok:
        print(f"bench: {arch}: the suite failed (guest exit status {proc.returncode})")
    baseline = os.path.join(args.baseline_dir, f"{kernel}.json")
    if args.update_baseline:
        if ok:
            update_baseline(baseline, result, merge=args.only)
            print(f"bench: baseline {baseline} ({mode}) updated")
        return ok
    if args.no_gate or args.only or args.compare_module:
        return ok
    if not os.path.exists(baseline):
        print(f"bench: {baseline} missing: nothing to gate against")
        return False
    passed, lines = gate.compare(gate.baseline_section(baseline, mode), result)
    for line in lines:
        print(f"gate[{arch}]: {line}")
    print(f"gate[{arch}]: {'pass' if passed else 'FAIL'} ({mode}, baseline {baseline})")
    return ok and passed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="the CMake build directory")
    ap.add_argument("--quick", action="store_true", help="the short run CI gates")
    ap.add_argument("--arch", default="all", choices=ARCHES + ("all",))
    ap.add_argument("--series", default="6.1", choices=("6.1", "6.12"),
                    help="the Debian kernel series: 6.1 (default) or 6.12, each with its "
                         "own baselines (bench/baseline/<arch>[-6.12].json)")
    ap.add_argument("--clock", choices=("icount", "host"), default="icount",
                    help="icount (default): guest time counts instructions, immune to host "
                         "load; host: real time, 2 vCPUs' worth of noise")
    ap.add_argument("--out", help="results directory (default BUILD/bench-results)")
    ap.add_argument("--only", metavar="B1,B7,...",
                    help="run only these benchmarks (no gate: the baseline has the others; "
                         "a benchmark run alone can read apart from the whole run that CI "
                         "gates, B7 by up to 10 %%)")
    ap.add_argument("--compare-module", metavar="KO",
                    help="B7 also runs utracectl on this build of utrace.ko, side by side "
                         "(before/after a change of the module); no gate")
    ap.add_argument("--baseline-dir", default=os.path.join(HERE, "baseline"))
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--no-gate", action="store_true", help="do not compare with the baseline")
    g.add_argument("--update-baseline", action="store_true",
                   help="store this run as the baseline for its mode")
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    args.out = os.path.abspath(args.out or os.path.join(args.build, "bench-results"))
    arches = ARCHES if args.arch == "all" else (args.arch,)
    ok = True
    for arch in arches:
        ok = run_arch(arch, args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
