#!/usr/bin/env python3
"""Line coverage of kmod/ by the debug-kernel guest runs.

usage: kmod-coverage.py --gcno BUILD/kmod/x86_64-debug/src [--source TOP]
                        [--out FILE] [--min PERCENT] [--runs-in DIR] [RUNDIR...]

Each RUNDIR holds the .gcda files one guest run copied out of its
/sys/kernel/debug/gcov (tests/guest/run-guest.py --gcov RUNDIR; the paths
under it are the absolute paths of the module's objects at build time).
The .gcno files come from the module build (--gcno, the tree build-kmod.sh
built utrace.ko in).  gcov-12 (the compiler's own gcov) reads each run; a
line counts as covered when any run executed it.  Prints one row per
kmod/ source file (lines with code, lines executed, percent), the total, and
the total of each run; --out also writes the table to FILE.  Exits 1 when no
run had data (the runs did not happen or gcov collection is broken), or
when the total is below --min.
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

GCOV = "gcov-12"


def run_lines(rundir, gcno_root, tmp):
    """{source basename: {line: count}} of one run (kmod/ sources only)."""
    gcdas = glob.glob(os.path.join(rundir, "**", "*.gcda"), recursive=True)
    lines = {}
    for gcda in gcdas:
        base = os.path.splitext(os.path.basename(gcda))[0]
        if os.path.basename(os.path.dirname(gcda)) != "kmod":
            continue  # not one of kmod/*.o (a test module's, say)
        gcno = os.path.join(gcno_root, "kmod", base + ".gcno")
        if not os.path.exists(gcno):
            print(f"kmod-coverage: {gcno} missing for {gcda}", file=sys.stderr)
            continue
        work = os.path.join(tmp, base)
        os.makedirs(work, exist_ok=True)
        shutil.copy(gcda, os.path.join(work, base + ".gcda"))
        shutil.copy(gcno, os.path.join(work, base + ".gcno"))
        out = subprocess.run([GCOV, "--json-format", "--stdout", "-o", work,
                              os.path.join(work, base + ".gcno")],
                             capture_output=True, text=True, check=True, cwd=work).stdout
        for doc in out.splitlines():
            if not doc.strip():
                continue
            for f in json.loads(doc)["files"]:
                path = f["file"]
                # The build compiles through a symlink tree: .../src/kmod/x.c
                if os.path.basename(os.path.dirname(path)) != "kmod":
                    continue
                name = os.path.basename(path)
                per = lines.setdefault(name, {})
                for ln in f["lines"]:
                    n = ln["line_number"]
                    per[n] = per.get(n, 0) + ln["count"]
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gcno", required=True, help="the module's kbuild tree (…/src)")
    ap.add_argument("--source", default=None, help="repository top (files listed even if 0 %%)")
    ap.add_argument("--out", help="also write the table here")
    ap.add_argument("--min", type=float, default=0.0, help="fail below this total %%")
    ap.add_argument("--runs-in", action="append", default=[], metavar="DIR",
                    help="each folder in DIR is a RUNDIR (build/gcov: one per test)")
    ap.add_argument("rundirs", nargs="*")
    args = ap.parse_args()

    rundirs = list(args.rundirs)
    for parent in args.runs_in:
        rundirs += sorted(p for p in glob.glob(os.path.join(parent, "*")) if os.path.isdir(p))
    runs = {}
    with tempfile.TemporaryDirectory(prefix="kmod-cov-") as tmp:
        for run in rundirs:
            data = run_lines(run, args.gcno, os.path.join(tmp, str(len(runs))))
            if data:
                runs[os.path.basename(os.path.normpath(run))] = data
    if not runs:
        print("kmod-coverage: no gcov data for kmod/ in " + " ".join(rundirs + args.runs_in))
        return 1

    merged = {}
    for data in runs.values():
        for name, per in data.items():
            m = merged.setdefault(name, {})
            for n, c in per.items():
                m[n] = m.get(n, 0) + c
    if args.source:
        # Built files no run reached still count (0 %); another arch's do not.
        for src in glob.glob(os.path.join(args.source, "kmod", "*.c")):
            name = os.path.basename(src)
            if os.path.exists(os.path.join(args.gcno, "kmod", name[:-2] + ".gcno")):
                merged.setdefault(name, {})

    rows = []
    tot_l = tot_x = 0
    for name in sorted(merged, key=lambda n: (not n.endswith(".c"), n)):
        per = merged[name]
        nl = len(per)
        nx = sum(1 for c in per.values() if c > 0)
        tot_l += nl
        tot_x += nx
        pct = 100.0 * nx / nl if nl else 0.0
        rows.append(f"{'kmod/' + name:<28} {nl:>6} {nx:>8} {pct:>7.1f}%")
    total = 100.0 * tot_x / tot_l if tot_l else 0.0
    table = [f"{'file':<28} {'lines':>6} {'executed':>8} {'cover':>8}"] + rows
    table.append(f"{'total':<28} {tot_l:>6} {tot_x:>8} {total:>7.1f}%")
    table.append("")
    table.append(f"runs ({len(runs)}), each alone:")
    for run, data in sorted(runs.items()):
        nl = sum(len(p) for n, p in merged.items())
        nx = sum(1 for p in data.values() for c in p.values() if c > 0)
        table.append(f"  {run:<36} {100.0 * nx / nl if nl else 0:>6.1f}%")
    text = "\n".join(table) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(text)
    if total < args.min:
        print(f"kmod-coverage: total {total:.1f}% is below --min {args.min}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
