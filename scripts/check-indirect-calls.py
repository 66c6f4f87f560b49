#!/usr/bin/env python3
"""Every indirect call or jump in an x86_64 utrace.ko is accounted for.

usage: check-indirect-calls.py ALLOWLIST utrace.ko...

Under IBT a call through a pointer must land on an ENDBR64, which the kernel
removes at boot from every function whose address it never takes: the
module must reach the kernel functions it finds by name with direct calls
(kmod/kcall.h).  This check reads the module's code (objdump -dr) and counts,
per function, the indirect branches: retpoline thunk calls and jumps
(__x86_indirect_thunk_*, what the compiler emits under CONFIG_RETPOLINE) and
any "call *"/"jmp *".  Each function that has some must be named in
ALLOWLIST ("FUNCTION MAX  # why": the pointer is module-owned or one the
kernel hands out, whose target keeps its ENDBR64) with at most that many.
Compiler clones (.isra.0, .constprop.0, .part.0) count as their function.
Exit status 1, naming each site, if anything else branches indirectly.
"""
import collections
import re
import subprocess
import sys

FUNC = re.compile(r"^[0-9a-f]+ <([^>]+)>:$")
SITE = re.compile(r"__x86_indirect_thunk_\w+|\b(call|jmp)\s+\*")


def allowlist(path):
    allowed = {}
    for line in open(path):
        line = line.split("#", 1)[0].split()
        if line:
            allowed[line[0]] = int(line[1])
    return allowed


def sites(ko):
    out = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", ko], check=True,
                         capture_output=True, text=True).stdout
    found = collections.defaultdict(list)
    func = None
    for line in out.splitlines():
        m = FUNC.match(line)
        if m:
            func = m.group(1).split(".", 1)[0]
            continue
        if func and SITE.search(line):
            found[func].append(line.strip())
    return found


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    allowed = allowlist(sys.argv[1])
    bad = 0
    for ko in sys.argv[2:]:
        found = sites(ko)
        total = sum(len(v) for v in found.values())
        for func, lines in sorted(found.items()):
            limit = allowed.get(func, 0)
            if len(lines) > limit:
                bad += 1
                print(f"{ko}: {func}: {len(lines)} indirect branch(es), "
                      f"{limit} accounted for:")
                for l in lines:
                    print(f"    {l}")
        print(f"{ko}: {total} indirect branch sites in {len(found)} functions")
    if bad:
        print(f"FAIL: {bad} function(s) branch indirectly where nothing says why "
              f"(kmod/kcall.h: call kernel functions with utrace_kcall())")
        sys.exit(1)
    print("OK: every indirect branch is accounted for")


main()
